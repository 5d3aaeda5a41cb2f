#!/usr/bin/env bash
# `harvester py` behaves like CPython's command line: output, exit status,
# tracebacks on stderr, scripts with arguments, sandboxed file access.
set -u
. "$(dirname "$0")/../lib.sh"
hv=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


out=$("$hv" py -c 'print(6 * 7)'); check "print" "42" "$out"
"$hv" py -c 'import sys; sys.exit(3)'; check "exit status" 3 $?
err=$("$hv" py -c 'raise KeyError("k")' 2>&1 >/dev/null); rc=$?
check "exception status" 1 $rc
case "$err" in *"Traceback (most recent call last)"*"KeyError: 'k'"*) r=ok ;; *) r="$err" ;; esac
check "traceback on stderr" ok "$r"

printf 'import sys\nprint(sys.argv[1:], open(__file__).readline().strip())\n' > "$tmp/s.py"
out=$("$hv" py "$tmp/s.py" a b); check "script args" "['a', 'b'] import sys" "$out"
out=$(echo "from stdin" | "$hv" py -c 'import sys; print(sys.stdin.read().strip())')
check "stdin" "from stdin" "$out"
"$hv" py -c "open('$tmp/s.py')" 2>/dev/null; check "host path invisible" 1 $?
"$hv" py -c "open('/app/new.txt', 'w')" 2>/dev/null; check "no writes" 1 $?
"$hv" py /nonexistent.py 2>/dev/null; check "missing script" 2 $?
err=$(HARVESTER_DEADLINE_MS=200 "$hv" py -c 'while True: pass' 2>&1); rc=$?
check "deadline status" 1 $rc
check "deadline message" "harvester: py: trap: deadline exceeded" "$err"

finish
