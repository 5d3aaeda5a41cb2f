#!/usr/bin/env bash
# Hub ingest: a hub daemon (no plugins, history on) takes POST /push from
# 1000 simulated spokes through wrk (bench/cluster/push.lua), 64
# connections; pushes/s and latency percentiles. Then the Pi Zero
# profile's memory: config/pizero.toml run for 30 cycles against that hub.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
hv="$(cd "$build" && pwd)/harvester"
. "$src/tests/lib.sh" # free_port
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(free_port)
mkdir -p "$tmp/plugins" "$tmp/hub"
cat > "$tmp/hub.toml" <<TOML
[cluster]
role = "hub"
node_id = "hub"
[http]
port = $port
bind = "127.0.0.1"
token = "bench"
[hardware]
backend = "sim"
[daemon]
data_dir = "$tmp/hub"
[plugins]
dir = "$tmp/plugins"
[logging]
level = "warn"
TOML
"$hv" run --config "$tmp/hub.toml" 2> "$tmp/hub.log" &
hub=$!
for _ in $(seq 100); do python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$port/health" 2>/dev/null && break; sleep 0.1; done
echo "== hub ingest: 1000 spokes, wrk -t1 -c64, 10 s (4 readings, 17 values per push) =="
SPOKES=1000 TOKEN=bench wrk -t1 -c64 -d10s -s "$here/push.lua" "http://127.0.0.1:$port" | tail -1
rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from raw').fetchone()[0])" "$tmp/hub/history.db")
echo "values stored on the hub: $rows"
grep -E "VmHWM" /proc/$hub/status | sed 's/^/hub /'
echo "== Pi Zero profile (config/pizero.toml): RSS after 30 cycles =="
zport=$(free_port)
mkdir -p "$tmp/zero"
for p in bme680 pi-monitor; do "$hv" build "$src/plugins/$p" -o "$tmp/plugins/$p.wasm" >/dev/null; done
sed -e "s|^hub_url = .*|hub_url = \"http://127.0.0.1:$port\"|" -e "s|^interval_seconds = .*|interval_seconds = 1|" \
    -e "s|^port = .*|port = $zport\nbind = \"127.0.0.1\"\ntoken = \"bench\"|" "$src/config/pizero.toml" > "$tmp/zero.toml"
printf '[hardware]\nbackend = "sim"\n[daemon]\ndata_dir = "%s/zero"\n' "$tmp" >> "$tmp/zero.toml"
sed -i "s|^\[plugins\]|[plugins]\ndir = \"$tmp/plugins\"\npermissions = \"$src/config/permissions.toml\"|" "$tmp/zero.toml"
"$hv" run --config "$tmp/zero.toml" 2> "$tmp/zero.log" &
zero=$!
for _ in $(seq 300); do
  n=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=1).read().decode())" "http://127.0.0.1:$zport/api/plugins" 2>/dev/null | grep -o '"polls":[0-9]*' | head -1 | cut -d: -f2 || true)
  [ -n "$n" ] && [ "$n" -ge 30 ] && break; sleep 0.2
done
grep -E "VmRSS|VmHWM" /proc/$zero/status | tr -s ' \t' ' ' | tr '\n' ' '; echo "(goal: under 64 MB)"
kill -TERM $zero $hub; wait $zero $hub 2>/dev/null || true
