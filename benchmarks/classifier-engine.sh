#!/usr/bin/env bash
# Classifier engine benchmarks: BENCHMARKS.md, section "Classifier engine".
# Release build; inference (network alone, and from crops) at batch 1 and 256 on all cores, for the
# seed preset (the Keras comparison) and the bundled model; training images/s and peak memory.
# Usage: benchmarks/classifier-engine.sh [DATASET]   (default: ../shared/data/nih-cells)
# Run it on an otherwise idle machine: other processes on the two cores skew every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/nih-cells}
scratch=${SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --product smear >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/smear"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for run in 1 2 3; do
  echo "== inference, seed preset (untrained weights), run $run"
  "$bin" evaluate --speed --arch seed --batch-sizes 1,256 --repeats 50
done
for run in 1 2 3; do
  echo "== inference, bundled model, run $run"
  "$bin" evaluate --speed --batch-sizes 1,256 --repeats 50
done

echo "== training, seed preset: batch 32, Adam, inputs 50×50 stretched, 3 epochs"
/usr/bin/time -v "$bin" train "$data" --arch seed --fit stretch --batch-size 32 --epochs 3 --average 0 --out "$out/seed.smnet" 2>&1 \
  | grep -E "^epoch|kept epoch|Maximum resident"
echo "== training, bundled architecture (cells preset): batch 64, 3 epochs"
/usr/bin/time -v "$bin" train "$data" --arch cells --epochs 3 --out "$out/cells.smnet" 2>&1 \
  | grep -E "^epoch|kept epoch|Maximum resident"
