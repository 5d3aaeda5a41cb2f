#!/usr/bin/env bash
# Engine benchmarks; figures go to the README and closing notes, not tests.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
best() { # best wall time of 3 runs of "$@"
  local best=999999
  for _ in 1 2 3; do
    local s e t
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  printf '%.3f' "$best"
}
echo "== pure-Python CPU work (bench/cpu.py), best of 3 =="
native=$(best /usr/bin/python3.11 -E -S "$here/cpu.py")
sandbox=$(best "$build/harvester" py "$here/cpu.py")
printf 'native python3.11 -E -S   %s s\nsandbox (harvester py)    %s s\nratio                     %.2fx\n' \
  "$native" "$sandbox" "$(echo "$sandbox / $native" | bc -l)"
echo "== start-up: -c pass, best of 3 =="
printf 'native %s s, sandbox %s s\n' "$(best /usr/bin/python3.11 -E -S -c pass)" \
  "$(best "$build/harvester" py -c pass)"
echo "== engine =="
"$build/bench/bench_engine" "$build/runtime"
echo "== plugins (canonical ABI) =="
"$build/bench/bench_plugin" "$build/runtime"
echo "== seed plugins: sandbox vs the same app.py under native python3.11 + stub SDK =="
# bench/native/compare.py: every plugins/*/ and examples/*/ with a plugin.toml,
# on the same simulated board (libhv_native.so via ctypes); skips what is missing.
if cmake --build "$build" --target bench_seed hv_native >/dev/null; then
  /usr/bin/python3.11 -E "$here/native/compare.py" --build "$build" || echo "(compare.py failed)"
else
  echo "(skipped: cannot build bench_seed and hv_native in $build)"
fi
echo "== HTTP: GET /api/readings (50 sensors), server pinned to one core =="
if command -v wrk >/dev/null; then
  fifo=$(mktemp -u); mkfifo "$fifo"
  taskset -c 0 "$build/bench/bench_http" serve < "$fifo" > "$fifo.port" & srv=$!
  exec 9> "$fifo"
  for _ in $(seq 50); do [ -s "$fifo.port" ] && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c50 -d8s "http://127.0.0.1:$(cat "$fifo.port")/api/readings" | grep -E "Requests/sec|Latency"
  exec 9>&-; wait $srv; rm -f "$fifo" "$fifo.port"
else
  echo "wrk not installed (apt-get install wrk)"
fi
echo "== HTTP: SSE fan-out =="
"$build/bench/bench_http" sse 100 50
echo "== cluster: hub ingest from 1000 spokes; Pi Zero profile memory =="
if command -v wrk >/dev/null; then
  "$here/cluster/run.sh" "$build"
else
  echo "wrk not installed (apt-get install wrk)"
fi
