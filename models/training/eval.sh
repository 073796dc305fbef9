#!/usr/bin/env bash
# Print the evaluation table of models/enricher.onnx (see models/README.md). Builds the held-out
# music, the speech clip and the classifier corpus under build/ on first use.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
exec /usr/bin/python3 eval.py "$@"
