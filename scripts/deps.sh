#!/usr/bin/env bash
# Installs the Debian packages harvester needs, only when missing.
set -euo pipefail
pkgs=(
  cmake gcc make pkg-config          # host build
  libcmocka-dev                      # unit tests
  libcjson-dev                       # WIT values <-> JSON
  libgpiod-dev zlib1g-dev            # GPIO on the Pi; PNG of the simulated OLED
  libmicrohttpd-dev libsqlite3-dev   # HTTP API and dashboard; reading history
  libcurl4-openssl-dev               # cluster: spokes push to the hub, buzzer forwarding
  wrk                                # bench/: HTTP load (readings, hub ingest)
  chromium                           # headless browser for tests/web/test_browser.mjs
  wabt                               # wasm2c: the AOT engine
  clang-16 lld-16 llvm-16 libclang-rt-16-dev-wasm32 wasi-libc  # CPython for wasm32-wasi
  python3.11 dpkg-dev xz-utils       # build python + `apt-get source`
  bc                                 # bench/run.sh arithmetic
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
