#!/usr/bin/env bash
# Download Debian's python3.11 source package into $1 without touching the
# system's apt configuration: a private sources list, lists and cache dir.
set -euo pipefail
dest=$1
mkdir -p "$dest"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
cat > "$state/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
SRC
opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
      -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
      -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
apt-get "${opts[@]}" update -qq
cd "$dest"
apt-get "${opts[@]}" source -qq --download-only python3.11
dpkg-source -x --no-copy python3.11_*.dsc src >/dev/null
