#!/usr/bin/env bash
# The daemon end to end: `harvester run` polls its plugins, SIGHUP with a
# bad config keeps the old one, SIGHUP with a good one applies it, SIGTERM
# stops cleanly; `check-config`, `status` and `toml2json` behave.
set -u
. "$(dirname "$0")/../lib.sh"
hv=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

polls() { # polls of the bh1750 plugin in status.json
    grep -o '"name":"bh1750"[^}]*"polls":[0-9]*' "$tmp/data/status.json" 2>/dev/null |
        grep -o '[0-9]*$'
}

mkdir -p "$tmp/plugins"
"$hv" build "$src/examples/bh1750" -o "$tmp/plugins/bh1750.wasm" >/dev/null
cat > "$tmp/good.toml" <<TOML
[polling]
interval_seconds = 1
[cluster]
node_id = "t1"
[hardware]
backend = "sim"
[daemon]
data_dir = "data"
[plugins]
dir = "plugins"
auto_load = true
TOML
printf '[polling]\ninterval_seconds = "soon"\n' > "$tmp/bad.toml"
printf '[plugins.bh1750]\nallow_i2c = [0x23]\n' > "$tmp/permissions.toml"

"$hv" check-config "$tmp/good.toml" >/dev/null; check "check-config valid" 0 $?
err=$("$hv" check-config "$tmp/bad.toml" 2>&1); check "check-config invalid" 2 $?
contains "check-config message" "bad.toml:2:20: interval_seconds: expected an integer, found a string" "$err"

cd "$tmp"
cp good.toml host.toml
"$hv" run --config host.toml 2> "$tmp/log" &
pid=$!
polls_over() { local n; n=$(polls); [ -n "$n" ] && [ "$n" -gt "$1" ]; }
wait_for polls_over 0
check "polled" 0 $?
out=$("$hv" status --config host.toml)
contains "status table" "bh1750           sensor-plugin      running" "$out"

# A bad config on SIGHUP is rejected and the daemon carries on.
cp bad.toml host.toml
before=$(polls)
kill -HUP $pid
wait_for grep -q "new configuration rejected" "$tmp/log"; check "bad config rejected" 0 $?
wait_for polls_over "$before"
check "still polling after bad SIGHUP" 0 $?
kill -0 $pid; check "alive" 0 $?

# A good config that disables the plugin applies on SIGHUP.
cp good.toml host.toml
printf '[plugins.bh1750]\nenabled = false\n' >> host.toml
kill -HUP $pid
wait_for grep -q "configuration host.toml reloaded" "$tmp/log"; check "good config applied" 0 $?
wait_for grep -q "unloading plugin bh1750" "$tmp/log"; check "plugin disabled" 0 $?

kill -TERM $pid
wait $pid; check "SIGTERM exit status" 0 $?
pid=
contains "stopped cleanly" "<6>host: stopped" "$(cat "$tmp/log")"
cd - >/dev/null

out=$(printf 'a = 1\n[t]\nb = "x"\n' | "$hv" toml2json)
check "toml2json" '{"a":{"type":"integer","value":"1"},"t":{"b":{"type":"string","value":"x"}}}' "$(echo "$out" | tr -d ' \n')"
printf 'a = \n' | "$hv" toml2json >/dev/null 2>&1; check "toml2json invalid" 1 $?

finish
