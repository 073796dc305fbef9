#!/usr/bin/env bash
# Independent evaluation through the real app against real recordings (see models/EVALUATION.md).
#   npm run models:eval -- [--app /path/to/checkout] [--amount 0.5] [--write] [--cli]
# Fetches its Debian recordings into build/ on first use (apt-get download; nothing is installed).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
# 1 CPU thread: the machine is shared
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec /usr/bin/python3 eval.py "$@"
