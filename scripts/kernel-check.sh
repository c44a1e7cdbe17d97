#!/usr/bin/env bash
# Run faultlock over parts of the real kernel tree and print findings per
# lint and level, wall time and peak RSS.
#   scripts/kernel-check.sh [SUBPATH...]   (default: mm fs/userfaultfd.c)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tree="$("$root/scripts/kernel-corpus.sh")"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/faultlock"
[ $# -gt 0 ] || set -- mm fs/userfaultfd.c
out="$(mktemp)"
trap 'rm -f "$out" "$out.time"' EXIT
cd "$tree"
status=0
/usr/bin/time -f "%e %M" -o "$out.time" "$bin" check --no-ignore --format json "$@" >"$out" || status=$?
if [ "$status" -ge 2 ]; then
    echo "faultlock exited with $status" >&2
    exit "$status"
fi
read -r secs rss_kb < <(tail -n 1 "$out.time")
echo "paths: $*"
echo "findings by lint and level:"
python3 - "$out" <<'PY'
import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    counts[(d["lint"], d["level"])] += 1
for (lint, level), n in sorted(counts.items()):
    print(f"  {lint:30} {level:8} {n}")
print(f"  total {sum(counts.values())}")
PY
echo "wall time: ${secs}s   peak RSS: $((rss_kb / 1024)) MiB"
