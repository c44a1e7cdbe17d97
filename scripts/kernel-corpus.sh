#!/usr/bin/env bash
# Install Debian's linux-source-6.12 and unpack it into a cache outside the
# repository (idempotent). Prints the tree's path on stdout.
#   FAULTLOCK_CACHE  cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/faultlock)
set -euo pipefail
cache="${FAULTLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/faultlock}"
tree="$cache/linux-source-6.12"
if [ -f "$tree/Makefile" ] && [ -f "$tree/.faultlock-unpacked" ]; then
    echo "$tree"
    exit 0
fi
tarball=/usr/src/linux-source-6.12.tar.xz
if [ ! -f "$tarball" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq linux-source-6.12 >&2
fi
mkdir -p "$cache"
rm -rf "$tree"
tar -xJf "$tarball" -C "$cache"
touch "$tree/.faultlock-unpacked"
echo "$tree"
