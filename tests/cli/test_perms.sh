#!/usr/bin/env bash
# Permissions under the daemon: no file denies everything (and says so in
# the audit log and /api/plugins); a new file applies on file change with
# no plugin restart; an invalid one is rejected with file:line:col and the
# old grants stay; SIGHUP applies the config's new permissions file;
# `harvester plugins` and `check-config` show it all.
set -u
. "$(dirname "$0")/../lib.sh"
hv=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

port=$(free_port)
get() { python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "http://127.0.0.1:$port$1"; }
# A field of bh1750's entry in /api/plugins, as JSON.
plugin_field() {
    get /api/plugins | python3 -c 'import json, sys
for p in json.load(sys.stdin):
    if p["name"] == "bh1750": print(json.dumps(p[sys.argv[1]]))' "$1"
}
polls() { plugin_field polls; }
polls_over() { local n; n=$(polls 2>/dev/null); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
last_error_has() { plugin_field last_error | grep -q "$1"; }
# The timestamp of bh1750's latest reading (0: none yet): a newer one
# means a poll went through.
reading_ts() {
    get /api/readings | python3 -c 'import json, sys
print(max([r["timestamp"] for r in json.load(sys.stdin) if r["plugin"] == "bh1750"] or [0]))'
}
reading_after() { [ "$(reading_ts)" -gt "$1" ]; }
reading_ok() { reading_after 0; }

mkdir -p "$tmp/plugins"
"$hv" build "$src/examples/bh1750" -o "$tmp/plugins/bh1750.wasm" >/dev/null
cat > "$tmp/host.toml" <<TOML
[polling]
interval_seconds = 1
[cluster]
node_id = "p1"
[http]
port = $port
bind = "127.0.0.1"
[hardware]
backend = "sim"
[daemon]
data_dir = "data"
[plugins]
dir = "plugins"
auto_load = true
TOML

cd "$tmp"
# No permissions file: the daemon runs, and denies everything.
out=$("$hv" check-config host.toml 2>&1); check "check-config without permissions" 2 $?
contains "check-config names the missing file" "permissions.toml: No such file or directory" "$out"
"$hv" run --config host.toml 2> "$tmp/log" &
pid=$!
wait_for polls_over 0; check "polled" 0 $?
contains "missing file logged" "every plugin is denied all hardware until it exists" "$(cat log)"
wait_for last_error_has "permission denied: i2c 0x23 not allowed for plugin bh1750"
check "denied by default" 0 $?
check "no grants" "null" "$(plugin_field grants)"
denials=$(plugin_field denials)
[ "$denials" -ge 1 ]; check "denials counted" 0 $?
contains "audit line" "<4>audit: denied: plugin bh1750: i2c 0x23 (denials so far: 1)" "$(cat log)"
check "audit once a minute" 1 "$(grep -c 'audit: denied: plugin bh1750: i2c 0x23' log)"

# A permissions file appears: applied on the file change, no restart.
printf '[plugins.bh1750]\nallow_i2c = [0x23]\n' > permissions.toml
wait_for reading_ok; check "granted on file change" 0 $?
check "grants shown" '["0x23"]' "$(plugin_field grants | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["i2c"]))')"
check "not restarted" 0 "$(plugin_field reloads)"
check "no restarts" 0 "$(plugin_field restarts)"
contains "load logged" "permissions permissions.toml loaded" "$(cat log)"

# An invalid file: rejected with its position, the grant stays.
printf '[plugins.bh1750]\nallow_i2c = [0x23]\nallow_buzzer = "yes"\n' > permissions.toml
wait_for grep -q "permissions rejected, the old grants stay" log; check "invalid rejected" 0 $?
contains "invalid position" "permissions.toml:3:16: allow_buzzer: expected true or false, found a string" "$(cat log)"
t=$(reading_ts); wait_for reading_after "$t"; check "still granted" 0 $?
out=$("$hv" check-config host.toml 2>&1); check "check-config invalid permissions" 2 $?
contains "check-config position" "permissions.toml:3:16: allow_buzzer" "$out"

# SIGHUP: the config now names another permissions file (which the file
# watch knows nothing of until then).
printf '[plugins.bh1750]\nallow_i2c = [0x23]\n' > permissions.toml
wait_for test "$(grep -c 'permissions permissions.toml loaded' log)" -ge 2
check "fixed file loaded" 0 $?
printf '[plugins.bh1750]\nallow_i2c = [0x24]\n' > other.toml
echo 'permissions = "other.toml"' >> host.toml
t=$(reading_ts); wait_for reading_after "$t"; check "not applied before SIGHUP" 0 $?
before=$(plugin_field denials)
kill -HUP $pid
denied_more() { [ "$(plugin_field denials)" -gt "$before" ]; }
wait_for denied_more; check "SIGHUP applies it" 0 $?
contains "SIGHUP denial" "permission denied: i2c 0x23" "$(plugin_field last_error)"
check "still not restarted" 0 "$(plugin_field reloads)"

out=$("$hv" plugins --config host.toml); check "plugins exit" 0 $?
contains "plugins table" "bh1750         sensor-plugin      running" "$out"
contains "plugins grants" "i2c 0x24" "$out"
contains "plugins last denied" "last denied: i2c 0x23" "$out"
out=$("$hv" status --config host.toml)
contains "status denials column" "DENIED" "$out"

kill -TERM $pid
wait $pid; check "SIGTERM exit status" 0 $?
pid=
cd - >/dev/null

# invoke under a permissions file: the plugin file's stem is its name.
printf '[plugins.bh1750]\nallow_i2c = [0x23]\n' > "$tmp/ok.toml"
out=$("$hv" invoke --permissions "$tmp/ok.toml" "$tmp/plugins/bh1750.wasm" sensor-logic.poll)
check "invoke granted" 0 $?
contains "invoke reading" '"lux"' "$out"
printf '[plugins.other]\nallow_i2c = [0x23]\n' > "$tmp/no.toml"
out=$("$hv" invoke --permissions "$tmp/no.toml" "$tmp/plugins/bh1750.wasm" sensor-logic.poll 2>/dev/null)
contains "invoke denied" "permission denied: i2c 0x23 not allowed for plugin bh1750" "$out"

finish
