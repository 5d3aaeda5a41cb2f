#!/usr/bin/env bash
# Ensures the CPython wasm32-wasi runtime exists in the cache, keyed by the
# hash of everything that goes into it, and links it at $1 (build/runtime).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
link=$1
key=$(cat "$here"/runtime/python/* | sha256sum | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/harvester/runtime/$key"
if [ ! -f "$cache/python.wasm" ]; then
  echo "runtime: building CPython 3.11 for wasm32-wasi (about 2-3 minutes, once)"
  mkdir -p "$(dirname "$cache")"
  "$here/runtime/python/build.sh" "$cache"
fi
mkdir -p "$(dirname "$link")"
ln -sfn "$cache" "$link"
