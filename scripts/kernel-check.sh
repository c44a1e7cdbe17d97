#!/usr/bin/env bash
# The measurement command: run faultlock over the real kernel tree (Debian's
# linux-source-6.12 or linux-source-7.3, unpacked by scripts/kernel-corpus.sh
# into a cache outside the repo) and print the kernel version the model was
# chosen for (from the tree's Makefile), files seen and parsed, functions
# lowered, parse health (share of functions lowered without an unparsed
# region) overall and per area, findings per lint and level, wall time and
# peak RSS.
#   KERNEL=7.3|6.12 scripts/kernel-check.sh [SUBPATH...]   (default: 7.3, the whole tree)
# A second, unfiltered run over mm/, fs/ and arch/*/mm measures parse health
# on every function there, not only in the files the prefilter keeps.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KERNEL="${KERNEL:-7.3}"
tree="$("$root/scripts/kernel-corpus.sh")"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/faultlock"
[ $# -gt 0 ] || set -- .
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tree"
# Warm the page cache so that the timed run measures faultlock, not the disk.
"$bin" check --no-ignore --format json "$@" >/dev/null 2>&1 || true
status=0
/usr/bin/time -f "%e %M" -o "$tmp/time" \
    "$bin" check --no-ignore --format json --stats "$tmp/stats.json" "$@" >"$tmp/out.json" 2>"$tmp/stderr" || status=$?
if [ "$status" -ge 2 ]; then
    cat "$tmp/stderr" >&2
    echo "faultlock exited with $status" >&2
    exit "$status"
fi
# /usr/bin/time prefixes a line when the exit status is non-zero.
read -r secs rss_kb < <(tail -n 1 "$tmp/time")
health_paths=(mm fs arch/*/mm)
"$bin" check --no-ignore --no-prefilter --format json --stats "$tmp/health.json" "${health_paths[@]}" >/dev/null 2>&1 || true
echo "tree: $tree"
echo "paths: $*"
python3 - "$tmp/stats.json" "$tmp/out.json" "$secs" "$rss_kb" "$tmp/health.json" <<'PY'
import collections, fnmatch, json, sys
stats = json.load(open(sys.argv[1]))
print(f"kernel model:      {stats['kernel']} (from {stats['kernel_source']})")
print(f"files seen:        {stats['files_seen']}")
print(f"files parsed:      {stats['files_parsed']} (after the prefilter)")
print(f"functions lowered: {stats['functions']}")
def norm(p):
    return p[2:] if p.startswith("./") else p
areas = [
    ("all parsed files", lambda p: True),
    ("mm/", lambda p: p.startswith("mm/")),
    ("fs/", lambda p: p.startswith("fs/")),
    ("arch/*/mm/", lambda p: fnmatch.fnmatch(p, "arch/*/mm/*")),
    ("mm/memory.c", lambda p: p == "mm/memory.c"),
    ("mm/hugetlb.c", lambda p: p == "mm/hugetlb.c"),
    ("mm/filemap.c", lambda p: p == "mm/filemap.c"),
    ("fs/userfaultfd.c", lambda p: p == "fs/userfaultfd.c"),
    ("mm/userfaultfd.c", lambda p: p == "mm/userfaultfd.c"),
    ("mm/mmap_lock.c", lambda p: p == "mm/mmap_lock.c"),
    ("arch/*/mm/fault.c", lambda p: fnmatch.fnmatch(p, "arch/*/mm/fault*.c")),
]
def health(title, st):
    print(title)
    for name, keep in areas:
        rows = [r for r in st["per_file"] if keep(norm(r["file"]))]
        n = sum(r["functions"] for r in rows)
        o = sum(r["opaque"] for r in rows)
        if n:
            print(f"  {name:20} {100.0 * (n - o) / n:7.2f}%  ({n - o}/{n})")
health("parse health, files parsed in this run (functions lowered with no unparsed region):", stats)
health("parse health, every file of mm/, fs/, arch/*/mm (unfiltered run):", json.load(open(sys.argv[5])))
counts = collections.Counter()
for line in open(sys.argv[2]):
    d = json.loads(line)
    counts[(d["lint"], d["level"])] += 1
print("findings by lint and level:")
for (lint, level), n in sorted(counts.items()):
    print(f"  {lint:30} {level:8} {n}")
print(f"  total {sum(counts.values())}")
print(f"wall time: {sys.argv[3]}s   peak RSS: {int(sys.argv[4]) // 1024} MiB")
PY
