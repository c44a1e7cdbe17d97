#!/usr/bin/env bash
# Install one of Debian's kernel source packages and unpack it into a cache
# outside the repository (idempotent). Prints the tree's path on stdout.
#   KERNEL           6.12 | 7.3 (default 7.3)
#   FAULTLOCK_CACHE  cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/faultlock)
#
# 6.12 comes from the machine's own apt sources (apt-get install). 7.3 lives
# in Debian's trixie-backports suite, which this machine's sources do not
# list: the suite is added only in a private apt state directory under the
# cache, with the mirror read from /etc/apt/sources.list.d/*.sources, and the
# package is fetched with `apt-get download` and unpacked with `dpkg -x`. The
# system's apt configuration is never changed.
#
# Nothing this script did not create is ever deleted: it unpacks into a fresh
# temporary directory and renames it into place, and refuses when the target
# exists without its marker.
set -euo pipefail
kernel="${KERNEL:-7.3}"
case "$kernel" in
6.12 | 7.3) ;;
*)
	echo "kernel-corpus: KERNEL must be 6.12 or 7.3, not '$kernel'" >&2
	exit 2
	;;
esac
cache="${FAULTLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/faultlock}"
tree="$cache/linux-source-$kernel"
marker=.faultlock-unpacked
if [ -f "$tree/Makefile" ] && [ -f "$tree/$marker" ]; then
	echo "$tree"
	exit 0
fi
if [ -e "$tree" ]; then
	echo "kernel-corpus: $tree exists but was not unpacked by this script (no $marker);" >&2
	echo "kernel-corpus: refusing to touch it. Move it away or set FAULTLOCK_CACHE." >&2
	exit 2
fi
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive

# Leaves the path of the source tarball in $tarball.
fetch_6_12() {
	tarball=/usr/src/linux-source-6.12.tar.xz
	if [ ! -f "$tarball" ]; then
		apt-get update -qq >&2
		apt-get install -y -qq linux-source-6.12 >&2
	fi
}

fetch_7_3() {
	local apt="$cache/apt-trixie-backports"
	local mirror
	mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr ' ' '\n' | grep -v -- '-security' | grep -m1 . || true)
	if [ -z "$mirror" ]; then
		echo "kernel-corpus: no mirror URI found in /etc/apt/sources.list.d/*.sources" >&2
		exit 2
	fi
	mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/sources.list.d" "$apt/debs"
	: >"$apt/status"
	cat >"$apt/sources.list.d/trixie-backports.sources" <<EOF
Types: deb
URIs: $mirror
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	local opts=(
		-o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
		-o "Dir::Cache=$apt" -o "Dir::Cache::archives=$apt/archives"
		-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
		-o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=/dev/null"
		-o "APT::Sandbox::User=root"
	)
	local deb
	deb=$(ls "$apt/debs"/linux-source-7.3_*.deb 2>/dev/null | tail -1 || true)
	if [ -z "$deb" ]; then
		apt-get "${opts[@]}" update -qq >&2
		(cd "$apt/debs" && apt-get "${opts[@]}" download linux-source-7.3 >&2)
		deb=$(ls "$apt/debs"/linux-source-7.3_*.deb | tail -1)
	fi
	local x="$cache/.deb-7.3"
	if [ ! -f "$x/usr/src/linux-source-7.3.tar.xz" ]; then
		[ -e "$x" ] && { echo "kernel-corpus: $x exists, incomplete; remove it" >&2; exit 2; }
		dpkg -x "$deb" "$x"
	fi
	tarball="$x/usr/src/linux-source-7.3.tar.xz"
}

case "$kernel" in
6.12) fetch_6_12 ;;
7.3) fetch_7_3 ;;
esac

tmp=$(mktemp -d "$cache/.unpack-$kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT # our own temporary directory, nothing else
tar -xJf "$tarball" -C "$tmp"
if [ ! -f "$tmp/linux-source-$kernel/Makefile" ]; then
	echo "kernel-corpus: $tarball did not unpack to linux-source-$kernel/" >&2
	exit 2
fi
touch "$tmp/linux-source-$kernel/$marker"
mv -T "$tmp/linux-source-$kernel" "$tree"
echo "$tree"
