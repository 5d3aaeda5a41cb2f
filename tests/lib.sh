# Shared by the shell tests: assertions that count, a wait for a condition
# (never a bare sleep), a free loopback port. Source it after `set -u`;
# end the test with `finish`.
pass=0 fail=0

check() { # name expected actual
    if [ "$2" == "$3" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $1: expected [$2] got [$3]"; fi
}
contains() { # name needle haystack
    case "$3" in *"$2"*) pass=$((pass + 1)) ;; *)
        fail=$((fail + 1)); echo "FAIL: $1: [$2] not in [$3]" ;; esac
}
# Runs a command every 0.1 s until it succeeds, for up to WAIT_S seconds
# (default 30): waiting for a condition, never for a time.
wait_for() {
    for _ in $(seq $((${WAIT_S:-30} * 10))); do "$@" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The summary line ctest's log shows, and the exit status.
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
