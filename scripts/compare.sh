#!/usr/bin/env bash
# Speed of faultlock against `grep -rlE` for the lock model's identifiers and
# against Coccinelle (spatch) running scripts/use_after_unlock.cocci, side by
# side in one run on the kernel corpus, for three scopes: mm/, mm/ fs/ and
# the whole tree. Every command runs once untimed (warm cache), then
# COMPARE_RUNS times timed with /usr/bin/time; prints the median wall and
# CPU (user + system) time with their range, peak RSS and bytes read, and
# the ratios of the medians. On a shared machine the CPU ratio is the
# steadier figure.
#
#   FAULTLOCK_CACHE=/var/cache/faultlock KERNEL=6.12 scripts/compare.sh
#
# Environment:
#   FAULTLOCK_CACHE   corpus cache (see scripts/kernel-corpus.sh)
#   KERNEL            corpus release (see scripts/kernel-corpus.sh)
#   COMPARE_RUNS      timed runs per command (default 3)
#   COMPARE_SPATCH    0 to leave spatch out (default 1)
#   SPATCH_TIMEOUT    cap on one spatch run, seconds (default 900); a run
#                     that hits it is reported as "> N"
#   SPATCH_JOBS       spatch --jobs (default: number of CPUs)
#   COMPARE_SCOPES    scopes separated by ';' (default "mm;mm fs;.")
#
# Peak RSS is /usr/bin/time's %M: the largest single process (for spatch
# --jobs, the largest worker), not the sum.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tree="$("$root/scripts/kernel-corpus.sh")"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/faultlock"
cocci="$root/scripts/use_after_unlock.cocci"
spatch_timeout="${SPATCH_TIMEOUT:-900}"
spatch_jobs="${SPATCH_JOBS:-$(nproc)}"
IFS=';' read -r -a scopes <<<"${COMPARE_SCOPES:-mm;mm fs;.}"
runs="${COMPARE_RUNS:-3}"
with_spatch="${COMPARE_SPATCH:-1}"

if [ ! -x /usr/bin/time ]; then
    echo "compare.sh: /usr/bin/time is missing (apt-get install time)" >&2
    exit 2
fi
if [ "$with_spatch" != 0 ] && ! command -v spatch >/dev/null; then
    echo "compare.sh: installing coccinelle" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq coccinelle >&2 ||
        { apt-get update -qq >&2 && apt-get install -y -qq coccinelle >&2; }
fi

# The model's identifiers, as faultlock's prefilter has them
# (LockModel::identifiers): API names with an effect other than `uses`, the
# fault struct and its VMA-lock flag.
regex="$(python3 - "$root/lints/models/linux-mm.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    m = tomllib.load(f)
# An entry is a table or, when it has variants per kernel release
# (`[[api.NAME]]`), a list of tables.
def effects(api):
    for variant in api if isinstance(api, list) else [api]:
        yield from variant.get("effects", [])
ids = {
    name
    for name, api in m.get("api", {}).items()
    if any(k not in ("uses", "when") for e in effects(api) for k in e)
}
ids.add("faultlock")
fault = m.get("fault", {})
ids.add(fault.get("struct", "vm_fault"))
ids.add(fault.get("vma_lock_flag", "FAULT_FLAG_VMA_LOCK"))
print("|".join(sorted(ids)))
PY
)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$tree"

# median and range of numbers on stdin: "MEDIAN (MIN-MAX)"
spread() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f (%.2f-%.2f)\n", m, v[1], v[NR] }'
}

# run NAME CMD...: warm-up run, then $runs timed runs. Sets `secs` and
# `cpu` (medians), `secs_range` and `cpu_range` ("median (min-max)"),
# `rss_kb` (largest), `status` (of the last run); the command's stdout is
# in $work/NAME.out, stderr in $work/NAME.err.
run() {
    local name="$1" i
    shift
    status=0
    "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        # Timed out already while warming up: do not wait for it twice.
        secs=""
        cpu=""
        rss_kb=""
        return
    fi
    : >"$work/$name.times"
    for ((i = 0; i < runs; i++)); do
        status=0
        /usr/bin/time -f '%e %U %S %M' -o "$work/$name.time" "$@" \
            >"$work/$name.out" 2>"$work/$name.err" || status=$?
        # With a non-zero exit, time writes "Command exited with non-zero
        # status N" first; the figures are on the last line.
        tail -n 1 "$work/$name.time" >>"$work/$name.times"
    done
    secs_range="$(awk '{ print $1 }' "$work/$name.times" | spread)"
    cpu_range="$(awk '{ print $2 + $3 }' "$work/$name.times" | spread)"
    secs="${secs_range%% *}"
    cpu="${cpu_range%% *}"
    rss_kb="$(awk '$4 > m { m = $4 } END { print m + 0 }' "$work/$name.times")"
}

run_spatch() {
    local p
    for p in "$@"; do
        timeout --kill-after=10 "$spatch_timeout" \
            spatch --sp-file "$cocci" --no-includes --include-headers \
            --jobs "$spatch_jobs" --timeout 120 --very-quiet --dir "$p" || return $?
    done
}
export -f run_spatch
export cocci spatch_timeout spatch_jobs

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
rate() { awk -v bytes="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", bytes / 1048576 / s; else print "-" }'; }

# Align '|'-separated rows (empty cells kept).
table() {
    awk -F'|' '{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
                 if (NF > nf) nf = NF; n = NR }
         END { for (r = 1; r <= n; r++) { line = ""
                 for (i = 1; i <= nf; i++) line = line (i < nf ? sprintf("%-" w[i] "s  ", cell[r, i]) : cell[r, i])
                 sub(/ +$/, "", line); print line } }'
}

rows=()
ratios=()
for scope in "${scopes[@]}"; do
    read -r -a paths <<<"$scope"
    label="$(printf '%s/ ' "${paths[@]}" | sed 's#\./ #whole tree #; s# $##')"
    bytes="$(find "${paths[@]}" -type f \( -name '*.c' -o -name '*.h' \) -printf '%s\n' |
        awk '{ s += $1 } END { print s + 0 }')"
    mb="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
    echo "== $label ($mb MiB of .c/.h)" >&2

    run grep grep -rlE --include='*.c' --include='*.h' --include='*.rs' "$regex" "${paths[@]}"
    if [ "$status" -ge 2 ]; then
        echo "grep exited with $status" >&2
        cat "$work/grep.err" >&2
        exit 2
    fi
    g_secs="$secs" g_rss="$rss_kb" g_cpu="$cpu" g_range="$secs_range" g_cpu_range="$cpu_range"
    g_what="$(wc -l <"$work/grep.out") files match"

    # --stats only adds a small JSON file (files parsed after the prefilter).
    run faultlock "$bin" check --no-ignore --format json --stats "$work/stats.json" "${paths[@]}"
    if [ "$status" -ge 2 ]; then
        echo "faultlock exited with $status" >&2
        cat "$work/faultlock.err" >&2
        exit 2
    fi
    f_secs="$secs" f_rss="$rss_kb" f_cpu="$cpu" f_range="$secs_range" f_cpu_range="$cpu_range"
    stat_of() { grep -oE "\"$1\": ?[0-9]+" "$work/stats.json" | sed -n '1s/.*: *//p'; }
    f_what="$(stat_of files_parsed) of $(stat_of files_seen) files parsed, $(stat_of functions) functions, $(wc -l <"$work/faultlock.out") findings"

    if [ "$with_spatch" = 0 ]; then
        s_secs="-" s_rss="-" s_what="not run (COMPARE_SPATCH=0)"
    else
        run spatch bash -c 'run_spatch "$@"' run_spatch "${paths[@]}"
    fi
    if [ "$with_spatch" = 0 ]; then
        :
    elif [ -z "$secs" ] || [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        s_secs="> $spatch_timeout" s_rss="-"
        s_what="timed out"
    elif [ "$status" -ne 0 ]; then
        echo "spatch exited with $status" >&2
        tail -n 20 "$work/spatch.err" >&2
        exit 2
    else
        s_secs="$secs" s_rss="$(mib "$rss_kb")"
        s_what="$(wc -l <"$work/spatch.out") reports"
    fi

    rows+=("$label|$mb|grep -rlE|$g_range|$g_cpu_range|$(mib "$g_rss")|$(rate "$bytes" "$g_secs")|$g_what")
    rows+=("||faultlock|$f_range|$f_cpu_range|$(mib "$f_rss")|$(rate "$bytes" "$f_secs")|$f_what")
    if [ "$with_spatch" = 0 ]; then
        rows+=("||spatch|-|-|-|-|$s_what")
        s_ratio="-"
    elif [[ "$s_secs" == ">"* ]]; then
        rows+=("||spatch|$s_secs|-|-|-|$s_what")
        s_ratio="< $(ratio "$f_secs" "$spatch_timeout")"
    else
        rows+=("||spatch|$secs_range|$cpu_range|$s_rss|$(rate "$bytes" "$s_secs")|$s_what")
        s_ratio="$(ratio "$f_secs" "$s_secs")"
    fi
    ratios+=("$label|$(ratio "$f_secs" "$g_secs")|$(ratio "$f_cpu" "$g_cpu")|$s_ratio")
done

echo
spatch_version="not run"
if [ "$with_spatch" != 0 ]; then
    spatch_version="$(spatch --version | head -n 1 | cut -d' ' -f1-3)"
fi
echo "faultlock $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(grep --version | head -n 1), $spatch_version"
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $runs timed runs each, spatch --jobs $spatch_jobs"
echo
{
    echo "scope|MiB .c/.h|tool|wall s, median (range)|CPU s, median (range)|peak RSS MiB|MiB/s|result"
    for r in "${rows[@]}"; do
        echo "$r"
    done
} | table
echo
{
    echo "scope|faultlock/grep wall|faultlock/grep CPU|faultlock/spatch wall"
    printf '%s\n' "${ratios[@]}"
} | table
