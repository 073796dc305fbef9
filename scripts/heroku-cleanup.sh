#!/usr/bin/env bash
# Heroku's nodejs buildpack runs this (npm run heroku-cleanup) after pruning dev dependencies and before it
# packs the slug. It removes what a linux-x64 dyno never runs, which is most of the slug's weight.
set -euo pipefail
cd "$(dirname "$0")/.."

before=$(du -sm . | cut -f1)

# onnxruntime-node ships its native library for every platform (~240 MB); the dyno needs linux/x64 only.
ort=node_modules/onnxruntime-node/bin
if [ -d "$ort" ]; then
  find "$ort" -mindepth 2 -maxdepth 2 -type d \( -name darwin -o -name win32 \) -exec rm -rf {} +
  find "$ort" -mindepth 3 -maxdepth 3 -type d -path '*/linux/*' ! -name x64 -exec rm -rf {} +
  # CUDA and TensorRT providers, in case the install script ran without ONNXRUNTIME_NODE_INSTALL=skip.
  find "$ort" -type f \( -iname '*cuda*' -o -iname '*tensorrt*' \) -delete
fi

# Nothing serves source maps, and TypeScript sources are not run.
find dist node_modules -type f -name '*.map' -delete
# Training code and data, should .slugignore not have caught them.
rm -rf models/training data

after=$(du -sm . | cut -f1)
echo "heroku-cleanup: ${before} MB -> ${after} MB"
