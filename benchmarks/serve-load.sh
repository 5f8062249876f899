#!/usr/bin/env bash
# Load and start-up figures of `smear serve` (issue 11; BENCHMARKS.md, "Web app"):
#  - start-up: time from launching the server to its first page answered, median of 5 starts;
#  - load: 4 clients on loopback each queue 5 analyses of two fixture fields (create the sample,
#    upload both fields, start), all at once: 20 analyses. Every analysis must finish (none lost,
#    none failed); reports the wall time until the last is done, the server's peak resident memory
#    (VmHWM) and the analyses running at once (at most --workers, default 1).
# Usage: benchmarks/serve-load.sh [BINARY]   (default: .build/release/smear, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release/smear}
[ -x "$bin" ] || swift build -c release --product smear >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
fields=(fixtures/fields/iml-malaria/images/PA171690.JPG fixtures/fields/iml-malaria/images/PA171834.JPG)

# Start-up: launch → first page, 5 times.
starts=()
for i in 1 2 3 4 5; do
  port=$((18500 + i))
  t0=$(date +%s%N)
  "$bin" serve --port $port --data "$work/startup-$i" >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.01; done
  t1=$(date +%s%N)
  starts+=($(( (t1 - t0) / 1000000 )))
  kill $pid; wait $pid 2>/dev/null || true
done
median=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 3p)
echo "start-up to first page: median ${median} ms (runs: ${starts[*]} ms)"

# Load: 20 analyses from 4 clients.
port=18599
"$bin" serve --port $port --data "$work/load" > "$work/serve.log" 2>&1 &
server=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.05; done
base="http://127.0.0.1:$port"
csrf=$(curl -s "$base/" | grep -o 'name="csrf-token" content="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
client() {
  local c=$1
  for s in 1 2 3 4 5; do
    local id
    id=$(curl -sf -X POST -H "X-CSRF-Token: $csrf" "$base/api/samples" -d "{\"name\":\"client $c sample $s\"}" | grep -o '[0-9]\+')
    for f in "${fields[@]}"; do
      curl -sf -o /dev/null -X PUT -H "X-CSRF-Token: $csrf" --data-binary @"$f" "$base/api/samples/$id/files/$(basename "$f")"
    done
    curl -sf -o /dev/null -X POST -H "X-CSRF-Token: $csrf" "$base/api/samples/$id/analyses"
  done
}
t0=$(date +%s%N)
clients=()
for c in 1 2 3 4; do client $c & clients+=($!); done
wait "${clients[@]}"
queued=$(curl -s "$base/api/samples" | grep -o '"status":"[a-z]*"' | wc -l || true)
peak_running=0
for _ in $(seq 1 3000); do   # at most 10 minutes
  list=$(curl -s "$base/api/samples")
  done_count=$(grep -o '"status":"done"' <<<"$list" | wc -l || true)
  failed=$(grep -o '"status":"failed"' <<<"$list" | wc -l || true)
  running=$(grep -o '"status":"running"' <<<"$list" | wc -l || true)
  [ "$running" -gt "$peak_running" ] && peak_running=$running
  [ $((done_count + failed)) -ge 20 ] && break
  sleep 0.2
done
t1=$(date +%s%N)
hwm=$(grep VmHWM /proc/$server/status | awk '{print $2}')
echo "load: $queued samples queued by 4 clients; $done_count done, $failed failed, in $(( (t1 - t0) / 1000000 )) ms;" \
     "at most $peak_running running at once; server peak memory $((hwm / 1024)) MB"
kill $server
[ "$done_count" -eq 20 ] && [ "$queued" -eq 20 ]
