#!/usr/bin/env bash
# Whole-slide benchmark: BENCHMARKS.md, section "Analysing a slide". Release build. Builds test slides
# of 0.5, 1 and 2 gigapixels from the IML-Malaria fields (`smear-bench make-slide`, reused once made),
# then analyses each with `smear analyze SLIDE` (every tile; all outputs: cells.csv, GeoJSON, quality
# map, overlay pyramid, viewer, report), and prints wall time, CPU time, peak resident memory, the
# cells counted and the output sizes. Time should grow linearly with the area, memory stay flat.
# Usage: benchmarks/slides.sh [WORK_DIR] [GIGAPIXELS...]   (default: /tmp/smear-slides, 0.5 1 2)
# Needs about 3 GB of disk for the three slides and their outputs. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/smear-slides}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0.5 1 2)
data=../shared/data/smears/iml-malaria
swift build -c release --product smear >&2
swift build -c release --product smear-bench >&2
bin=$(swift build -c release --show-bin-path)
mkdir -p "$work"
for g in "${sizes[@]}"; do
  slide="$work/gp$g/slide.tiff"
  if [ ! -f "$slide" ]; then
    "$bin/smear-bench" make-slide "$data/images" --truth "$data/cells.csv" --gigapixels "$g" --out "$slide" >&2
  fi
  rm -rf "$work/gp$g/out"
  /usr/bin/time -f "%e %U %S %M" -o "$work/gp$g/time" "$bin/smear" analyze "$slide" --out "$work/gp$g/out" > "$work/gp$g/log" 2>&1
  read -r wall user sys rss < "$work/gp$g/time"
  echo "$g GP: $(grep -m1 'red cells counted' "$work/gp$g/log"); wall ${wall} s, CPU $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') s, peak RSS $(( rss / 1024 )) MB; outputs $(du -sh "$work/gp$g/out" | cut -f1) ($(du -sh "$work/gp$g/out"/slides/*/cells.geojson | cut -f1) GeoJSON)"
done
