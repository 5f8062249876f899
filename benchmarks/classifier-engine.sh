#!/usr/bin/env bash
# Classifier engine benchmarks: BENCHMARKS.md, section "Classifier engine".
# Release build; inference (network alone, and from crops) at batch 1 and 256, on all cores and on one core,
# for the seed preset (the Keras comparison) and the bundled model; training steps on synthetic batches
# (the engine's share of training); real training epochs with their peak memory.
# Usage: benchmarks/classifier-engine.sh [DATASET]   (default: ../shared/data/nih-cells)
# Every timing line also gives CPU time per image (all threads): on a machine shared with other jobs, wall
# times vary with the load, CPU times much less. Run it on an otherwise idle machine for wall-clock figures.
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
  echo "== inference, bundled model, run $run"
  "$bin" evaluate --speed --batch-sizes 1,256 --repeats 50
  echo "== one thread, run $run"
  "$bin" evaluate --speed --arch seed --threads 1 --batch-sizes 256 --repeats 20 | grep '^batch'
  "$bin" evaluate --speed --threads 1 --batch-sizes 256 --repeats 30 | grep '^batch'
  echo "== training steps on synthetic batches (seed: batch 32; cells: batch 64), run $run"
  "$bin" evaluate --speed --arch seed --batch-sizes 1 --train-batch 32 --repeats 30 | grep '^training'
  "$bin" evaluate --speed --batch-sizes 1 --train-batch 64 --repeats 30 | grep '^training'
done

echo "== training, seed preset: batch 32, Adam, inputs 50×50 stretched, 3 epochs"
/usr/bin/time -v "$bin" train "$data" --arch seed --fit stretch --batch-size 32 --epochs 3 --average 0 --out "$out/seed.smnet" 2>&1 \
  | grep -E "^epoch|kept epoch|Maximum resident"
echo "== training, bundled architecture (cells preset): batch 64, 3 epochs"
/usr/bin/time -v "$bin" train "$data" --arch cells --epochs 3 --out "$out/cells.smnet" 2>&1 \
  | grep -E "^epoch|kept epoch|Maximum resident"
