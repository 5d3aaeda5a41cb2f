#!/usr/bin/env bash
# `harvester wit`, `harvester build` and `harvester invoke` from the command
# line: output, exit status and error messages.
set -u
. "$(dirname "$0")/../lib.sh"
hv=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


out=$("$hv" wit "$src/../../wit/plugin.wit"); check "wit status" 0 $?
contains "wit world" "world sensor-plugin" "$out"
contains "wit signature" "transfer: func(addr: u8, write-data: string, read-len: u32) -> result<string, string>" "$out"
printf 'package a:b;\ninterface i {\n  f: func(x: u9);\n}\n' > "$tmp/bad.wit"
err=$("$hv" wit "$tmp/bad.wit" 2>&1); check "bad wit status" 1 $?
contains "bad wit position" "bad.wit:3:14:" "$err"

out=$("$hv" build "$src/fixtures/hexbytes" -o "$tmp/hexbytes.wasm"); check "build status" 0 $?
contains "build output" "built $tmp/hexbytes.wasm" "$out"
out=$("$hv" invoke "$tmp/hexbytes.wasm" sensor-logic.poll); check "invoke status" 0 $?
contains "invoke result" '{"ok":[{"sensor":"chip","fields":[{"name":"hex","value":97' "$out"
err=$("$hv" invoke "$tmp/hexbytes.wasm" sensor-logic.nope 2>&1); check "unknown export" 1 $?
contains "unknown export message" "exports no function sensor-logic.nope" "$err"

"$hv" build "$src/fixtures/noi2c" -o "$tmp/noi2c.wasm" >/dev/null
out=$("$hv" invoke "$tmp/noi2c.wasm" dashboard-logic.render '"probe"' 2>"$tmp/log")
contains "refused" "refused: permission denied" "$out"
contains "refusal logged" "[noi2c] warn: permission denied" "$(cat "$tmp/log")"
err=$("$hv" invoke "$tmp/noi2c.wasm" dashboard-logic.render '[1, 2' 2>&1); check "bad json" 1 $?
contains "bad json message" "dashboard-logic.render: arguments:" "$err"

mkdir -p "$tmp/syntax" "$tmp/noclass" "$tmp/badtoml"
printf 'name = "syntax"\nworld = "sensor-plugin"\n' > "$tmp/syntax/plugin.toml"
printf 'class SensorLogic:\n    def poll(self) -> list:\n        return [\n' > "$tmp/syntax/app.py"
err=$("$hv" build "$tmp/syntax" 2>&1); check "syntax error status" 1 $?
contains "syntax error" "SyntaxError" "$err"
contains "syntax error file" "app.py" "$err"
printf 'name = "noclass"\nworld = "sensor-plugin"\n' > "$tmp/noclass/plugin.toml"
printf 'X = 1\n' > "$tmp/noclass/app.py"
err=$("$hv" build "$tmp/noclass" 2>&1); check "missing class status" 1 $?
contains "missing class" "SensorLogic" "$err"
printf 'name = "badtoml"\nworld = sensor-plugin\n' > "$tmp/badtoml/plugin.toml"
err=$("$hv" build "$tmp/badtoml" 2>&1); check "bad manifest status" 1 $?
contains "bad manifest position" "plugin.toml:2:9: expected a value, found 'sensor-plugin'" "$err"
printf 'name = "w"\nworld = 3\n' > "$tmp/badtoml/plugin.toml"
err=$("$hv" build "$tmp/badtoml" 2>&1)
contains "manifest type" 'plugin.toml:2:9: world: expected a "string" value' "$err"
printf 'name = "w"\nwrld = "x"\n' > "$tmp/badtoml/plugin.toml"
err=$("$hv" build "$tmp/badtoml" 2>&1)
contains "manifest unknown key" "plugin.toml:2:1: unknown key 'wrld'" "$err"
printf 'name = "w"\nworld = "no-such-world"\n' > "$tmp/badtoml/plugin.toml"
err=$("$hv" build "$tmp/badtoml" 2>&1)
contains "unknown world" "world 'no-such-world' is not in" "$err"

head -c 100 /dev/urandom > "$tmp/junk.wasm"
err=$("$hv" invoke "$tmp/junk.wasm" a.b 2>&1); check "junk status" 1 $?
contains "junk message" "junk.wasm: not a WebAssembly file" "$err"
printf '\0asm\1\0\0\0\1\4\1\140\0\0' > "$tmp/code.wasm"
err=$("$hv" invoke "$tmp/code.wasm" a.b 2>&1)
contains "code wasm message" "not a harvester plugin: it has code" "$err"

# The README's example plugin works as documented.
"$hv" build "$src/../../examples/bh1750" -o "$tmp/bh1750.wasm" >/dev/null
out=$("$hv" invoke "$tmp/bh1750.wasm" sensor-logic.poll)
check "readme example" '{"ok":[{"sensor":"bh1750","fields":[{"name":"lux","value":333.3,"unit":"lx"}],"extra":null}]}' "$out"

# --scenario sets the simulated truth; --record then --replay gives the same output.
printf '[environment]\nlux = 1000\n' > "$tmp/bright.toml"
out=$("$hv" invoke --scenario "$tmp/bright.toml" --record "$tmp/run.jsonl" "$tmp/bh1750.wasm" sensor-logic.poll)
contains "scenario" '"value":1000' "$out"
again=$("$hv" invoke --replay "$tmp/run.jsonl" "$tmp/bh1750.wasm" sensor-logic.poll)
check "replay" "$out" "$again"
printf '[environment]\nlux = "x"\n' > "$tmp/badscen.toml"
err=$("$hv" invoke --scenario "$tmp/badscen.toml" "$tmp/bh1750.wasm" sensor-logic.poll 2>&1); check "bad scenario status" 1 $?
contains "bad scenario message" "badscen.toml:2:7: lux: expected a number" "$err"

finish
