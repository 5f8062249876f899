#!/usr/bin/env bash
# Segmentation and end-to-end benchmarks: BENCHMARKS.md, sections "Segmentation" and "End to end".
# Release build. Segmentation: decode + segment of every IML field on one thread (median over fields of
# the per-field median of 5 runs). End to end: `smear analyze --sample` on IML fields until 5,000 red
# cells are counted — decode, segment, classify, write report.json, cells.csv, report.html, overlays and
# the parasitized-cell gallery — 5 runs, median wall time, and peak resident memory.
# Usage: benchmarks/pipeline.sh [IML_IMAGES]   (default: ../shared/data/smears/iml-malaria/images)
# Run it on an otherwise idle machine: other processes on the two cores skew every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
images=${1:-../shared/data/smears/iml-malaria/images}
swift build -c release --product smear >&2
swift build -c release --product smear-bench >&2
bin=$(swift build -c release --show-bin-path)

echo "== segmentation (one thread): decode + segment per 1280×960 field"
"$bin/smear-bench" segment "$images" --runs 5

echo "== end to end: smear analyze --sample, 5,000 red cells, both cores"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
times=()
for run in 1 2 3 4 5; do
  rm -rf "$out/r"
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/rss" "$bin/smear" analyze --sample BENCH "$images" --out "$out/r" 2> "$out/log"
  end=$(date +%s.%N)
  t=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
  times+=("$t")
  echo "run $run: $(printf '%.2f' "$t") s, peak RSS $(( $(cat "$out/rss") / 1024 )) MB; $(grep '^BENCH:' "$out/log")"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median %.2f s over %d runs\n", a[int((NR+1)/2)], NR}'
