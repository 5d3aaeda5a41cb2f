#!/usr/bin/env bash
# One hub and two spokes on loopback ports (the second with the Pi Zero
# profile): readings from both reach the hub; the hub is killed for 20 s
# (and a spoke restarted meanwhile) and afterwards every reading is on the
# hub exactly once; the buzzer is forwarded to the spoke named; the
# spokes' logs are on the hub; latencies are measured; a wrong token gets
# 401 and changes nothing; the Pi Zero profile stays under 64 MB RSS.
set -u
. "$(dirname "$0")/../lib.sh"
hv=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
declare -A pid
cleanup() {
    for n in "${!pid[@]}"; do kill -9 "${pid[$n]}" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# http METHOD PORT PATH [TOKEN] [BODY]: prints "STATUS BODY".
http() {
    python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, port, path = sys.argv[1:4]
token = sys.argv[4] if len(sys.argv) > 4 else ""
body = sys.argv[5].encode() if len(sys.argv) > 5 else None
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
if token:
    req.add_header("Authorization", f"Bearer {token}")
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
get() { http GET "$1" "$2" | cut -d' ' -f2-; }

hub_port=$(free_port) a_port=$(free_port) z_port=$(free_port)
mkdir -p "$tmp/plugins"
for p in dht22 bme680 pi-monitor; do
    "$hv" build "$src/plugins/$p" -o "$tmp/plugins/$p.wasm" >/dev/null || exit 1
done
cp "$src/config/permissions.toml" "$tmp/"

common() { # node port role
    cat <<TOML
[polling]
interval_seconds = 1
[http]
port = $2
bind = "127.0.0.1"
token = "s3cret"
[hardware]
backend = "sim"
[daemon]
data_dir = "$1"
TOML
}
{ common hub "$hub_port"; cat <<TOML
[cluster]
role = "hub"
node_id = "hub"
ping_interval_seconds = 1
[plugins]
dir = "plugins"
[plugins.pi-monitor]
role = "revpi"
led = 0
TOML
} > "$tmp/hub.toml"
{ common pi-a "$a_port"; cat <<TOML
[cluster]
role = "spoke"
node_id = "pi-a"
hub_url = "http://127.0.0.1:$hub_port"
ping_interval_seconds = 1
[plugins]
dir = "plugins"
dht22.enabled = true
bme680.enabled = true
[plugins.pi-monitor]
role = "pi4"
led = 3
TOML
} > "$tmp/pi-a.toml"
# The shipped Pi Zero profile, pointed at this test's hub and ports.
sed -e "s|^hub_url = .*|hub_url = \"http://127.0.0.1:$hub_port/push\"\nping_interval_seconds = 1|" \
    -e "s|^node_id = .*|node_id = \"pizero\"|" \
    -e "s|^interval_seconds = .*|interval_seconds = 1|" \
    -e "s|^port = .*|port = $z_port\nbind = \"127.0.0.1\"\ntoken = \"s3cret\"|" \
    "$src/config/pizero.toml" > "$tmp/pizero.toml"
printf '[hardware]\nbackend = "sim"\n[daemon]\ndata_dir = "pizero"\n' >> "$tmp/pizero.toml"
sed -i "s|^\[plugins\]|[plugins]\ndir = \"plugins\"|" "$tmp/pizero.toml"

cd "$tmp"
start() { "$hv" run --config "$1.toml" 2>> "$1.log" & pid[$1]=$!; }
start hub
start pi-a
start pizero

# ---- readings from both spokes reach the hub ---------------------------------
has_reading() { get "$hub_port" /api/readings | grep -q "\"sensor_id\":\"$1\""; }
wait_for has_reading "pi-a:dht22"; check "pi-a's readings on the hub" 0 $?
wait_for has_reading "pizero:bme680"; check "pizero's readings on the hub" 0 $?
wait_for has_reading "pizero:pi-monitor"; check "pizero's pi-monitor on the hub" 0 $?
has_reading "pizero:dht22"; check "pizero has no dht22" 1 $?

# ---- node health: latency measured both ways ---------------------------------
latency_known() { # port node peer: a number for node's latency to peer
    get "$1" /api/readings | python3 -c 'import json, sys
r = [x for x in json.load(sys.stdin) if x["sensor_id"] == sys.argv[1] + ":network"]
v = r[0]["data"]["latency"].get(sys.argv[2]) if r else None
sys.exit(0 if isinstance(v, (int, float)) else 1)' "$2" "$3"
}
wait_for latency_known "$hub_port" hub pi-a; check "hub -> pi-a latency" 0 $?
wait_for latency_known "$hub_port" pi-a hub; check "pi-a -> hub latency (pushed)" 0 $?
wait_for latency_known "$hub_port" pi-a pizero; check "pi-a -> pizero latency (peer)" 0 $?
nodes=$(get "$hub_port" /api/nodes)
contains "nodes: pi-a's address" "\"node\":\"pi-a\",\"role\":\"spoke\",\"url\":\"http://127.0.0.1:$a_port\"" "$nodes"
contains "nodes: push latency" '"push_ms":' "$nodes"

# ---- logs across nodes ---------------------------------------------------------
logs_have() { get "$hub_port" "/api/logs?node=$1&limit=1000" | grep -q "$2"; }
wait_for logs_have pizero "started plugins/bme680.wasm"; check "pizero's log on the hub" 0 $?
logs_have pi-a "started plugins/dht22.wasm"; check "pi-a's log on the hub" 0 $?
logs_have pi-a "plugins/bme680.wasm (world bme680-plugin)"; check "pi-a's bme680 start" 0 $?
get "$hub_port" "/api/logs?node=pizero&limit=1000" | grep -q "dht22.wasm"
check "pi-a's lines not under pizero" 1 $?

# ---- buzzer forwarding ---------------------------------------------------------
beeps() { get "$1" "/api/logs?source=buzzer&limit=1000" | grep -o '"text":"[^"]*' | grep -c "3 x 100 ms"; }
a0=$(beeps "$a_port") z0=$(beeps "$z_port")
out=$(http POST "$hub_port" /api/buzzer s3cret '{"pattern":"triple","node":"pi-a"}')
check "buzzer forwarded" '200 {"ok":true}' "$out"
check "pi-a buzzed" $((a0 + 1)) "$(beeps "$a_port")"
check "pizero did not" "$z0" "$(beeps "$z_port")"
out=$(http POST "$hub_port" /api/buzzer s3cret '{"pattern":"triple","node":"nobody"}')
contains "unknown node" "404 " "$out"
out=$(http POST "$hub_port" /api/buzzer wrong '{"pattern":"triple","node":"pi-a"}')
contains "buzzer wrong token" "401 " "$out"
check "wrong token did not buzz" $((a0 + 1)) "$(beeps "$a_port")"

# ---- a wrong token gets 401 and changes nothing --------------------------------
body='{"node_id":"intruder","http_port":1,"readings":[{"sensor_id":"intruder:x","plugin":"p","timestamp":1,"data":{"t":1}}]}'
out=$(http POST "$hub_port" /push wrong "$body"); contains "push wrong token" "401 " "$out"
out=$(http POST "$hub_port" /push "" "$body"); contains "push no token" "401 " "$out"
get "$hub_port" /api/nodes | grep -q intruder; check "no intruder node" 1 $?
get "$hub_port" /api/series | grep -q intruder; check "no intruder history" 1 $?
# A spoke speaks only for itself.
out=$(http POST "$hub_port" /push s3cret '{"node_id":"pi-a","readings":[{"sensor_id":"pizero:bme680","timestamp":1,"data":{"t":1}}]}')
contains "foreign sensor refused" '400 {"error":"readings[0].sensor_id: expected \"pi-a:<sensor>\""}' "$out"

# ---- the hub dies for 20 s; a spoke restarts meanwhile -------------------------
kill -9 "${pid[hub]}"; wait "${pid[hub]}" 2>/dev/null
down_at=$(date +%s%3N)
outage_logged() { grep -q "hub unreachable" "$1.log"; }
wait_for outage_logged pi-a; check "pi-a notices" 0 $?
queued() { get "$a_port" /api/readings | python3 -c 'import json, sys
r = [x for x in json.load(sys.stdin) if x["sensor_id"] == "pi-a:network"]
sys.exit(0 if r and r[0]["data"]["queued"] >= int(sys.argv[1]) else 1)' "$1"; }
wait_for queued 3; check "pi-a queues on disk" 0 $?
kill -TERM "${pid[pi-a]}"; wait "${pid[pi-a]}"; check "pi-a stops cleanly" 0 $?
start pi-a
contains "pi-a resumes its queue" "cycles queued from before" "$(wait_for grep -q 'queued from before' pi-a.log; cat pi-a.log)"
sleep_left=$(( 20000 - ($(date +%s%3N) - down_at) ))
[ "$sleep_left" -gt 0 ] && sleep "$(echo "$sleep_left / 1000" | bc -l)" # the outage itself
start hub
back() { grep -q "hub back" "$1.log"; }
wait_for back pi-a; check "pi-a sees the hub back" 0 $?
wait_for back pizero; check "pizero sees the hub back" 0 $?
drained() { get "$hub_port" /api/nodes | python3 -c 'import json, sys
n = {x["node"]: x for x in json.load(sys.stdin)}
sys.exit(0 if all(k in n and n[k]["queued"] == 0 for k in ("pi-a", "pizero")) else 1)'; }
wait_for drained; check "queues drained" 0 $?
# The Pi Zero's peak memory over the whole run, outage and replay included.
rss_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/${pid[pizero]}/status")
# Stop the spokes, then compare every series point by point: each reading
# a spoke took (its own history, read from its database) is on the hub
# once, through the outage and the restart.
for n in pi-a pizero; do kill -TERM "${pid[$n]}"; wait "${pid[$n]}"; unset "pid[$n]"; done
now=$(date +%s%3N)
compare() { # node sensor field
    local hubs
    hubs=$(get "$hub_port" "/api/history?sensor=$1:$2&field=$3&from=0&to=$now")
    python3 - "$1/history.db" "$1:$2" "$3" "$hubs" "$down_at" <<'PY'
import json, sqlite3, sys
db, sensor, field, hubs, down = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
mine = [t for (t,) in sqlite3.connect(db).execute(
    "SELECT ts_ms FROM raw JOIN series ON id = series_id WHERE sensor_id = ? AND field = ? "
    "ORDER BY ts_ms", (sensor, field))]
hubs = json.loads(hubs)["t"]
if len(hubs) != len(set(hubs)):
    sys.exit("duplicates on the hub")
during = [t for t in mine if t > down]
if len(during) < 15:
    sys.exit(f"only {len(during)} readings after the outage began")
if mine != hubs:
    sys.exit(f"spoke {len(mine)} vs hub {len(hubs)}: missing {sorted(set(mine) - set(hubs))[:5]},"
             f" extra {sorted(set(hubs) - set(mine))[:5]}")
PY
}
for s in pi-a:dht22:temperature pi-a:bme680:pressure pi-a:pi-monitor:cpu-temp \
         pizero:bme680:humidity pizero:pi-monitor:uptime-seconds pi-a:network:queued; do
    IFS=: read -r node sensor field <<< "$s"
    out=$(compare "$node" "$sensor" "$field" 2>&1); check "exactly once: $s" "" "$out"
done

# ---- the Pi Zero profile's memory ------------------------------------------------
# (Not under AddressSanitizer, whose shadow memory multiplies the RSS.)
if ldd "$hv" | grep -q libasan; then
    echo "pizero VmHWM ${rss_kb} kB under ASan: the 64 MB check is for the release build"
else
    [ "$rss_kb" -gt 0 ] && [ "$rss_kb" -lt $((64 * 1024)) ]
    check "pizero under 64 MB (VmHWM ${rss_kb} kB)" 0 $?
fi

kill -TERM "${pid[hub]}"; wait "${pid[hub]}"; check "hub stops cleanly" 0 $?
unset "pid[hub]"
finish
