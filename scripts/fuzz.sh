#!/usr/bin/env bash
# Run faultlock's cargo-fuzz targets (fuzz/) for a fixed time each.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 300; TARGET defaults to every target
# (c_frontend, check_pipeline, fault_grammar, rust_frontend). Targets run one after the
# other. Per target it prints the runs executed, the time and the crash,
# timeout and OOM artifacts found (fuzz/artifacts/TARGET/).
#
# Needs only the stable toolchain: cargo-fuzz is installed if missing, and
# RUSTC_BOOTSTRAP=1 lets stable rustc take cargo-fuzz's -Z flags (ASan and
# sanitizer coverage). If the ASan build fails, the script falls back to
# `--sanitizer none`. Set FUZZ_SANITIZER=none|address to choose.
#
# The seed corpus is made at run time from fixtures/c/**/*.c (in
# fuzz/seeds/, not committed); the working corpus grows in fuzz/corpus/.
# libFuzzer runs in fork mode and goes on after a crash, so one run can
# report several. Extra libFuzzer flags: FUZZ_ARGS="-max_len=8192 ...".
#
# To triage an artifact:
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a TARGET ARTIFACT
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin -O -a TARGET ARTIFACT
#   FAULTLOCK_FUZZ_PRINT=1 RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a fault_grammar ARTIFACT
#     (prints the C text a fault_grammar input stands for)
set -euo pipefail

secs=${1:-300}
shift || true
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
	exit 2
	;;
esac
all_targets=(c_frontend check_pipeline fault_grammar rust_frontend)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
cd "$fuzz"

export RUSTC_BOOTSTRAP=1
export PATH="$HOME/.cargo/bin:$PATH"

if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz.sh: installing cargo-fuzz" >&2
	cargo install cargo-fuzz --locked
fi

# -O: optimised; -a: with debug assertions (overflow checks, debug_assert!).
build_flags=(-O -a)
log_dir="$fuzz/logs"
mkdir -p "$log_dir"
sanitizer=${FUZZ_SANITIZER:-}
if [ -z "$sanitizer" ]; then
	if cargo fuzz build "${build_flags[@]}" --sanitizer address >"$log_dir/build.log" 2>&1; then
		sanitizer=address
	else
		echo "fuzz.sh: ASan build failed (see $log_dir/build.log); using --sanitizer none" >&2
		sanitizer=none
	fi
fi
build_flags+=(--sanitizer "$sanitizer")
cargo fuzz build "${build_flags[@]}" >>"$log_dir/build.log" 2>&1 || {
	tail -30 "$log_dir/build.log" >&2
	exit 1
}
echo "fuzz.sh: sanitizer $sanitizer, ${secs}s per target: ${targets[*]}"

# Seeds from the fixtures, rebuilt each run.
seeds="$fuzz/seeds"
for t in "${targets[@]}"; do
	rm -rf "${seeds:?}/$t"
	mkdir -p "$seeds/$t"
done
if [ -d "$seeds/rust_frontend" ]; then
	for f in $(find "$root/fixtures/rust" -name '*.rs' | sort); do
		cp "$f" "$seeds/rust_frontend/$(basename "$(dirname "$f")")_$(basename "$f" .rs)"
	done
fi
mapfile -t fixtures < <(find "$root/fixtures/c" -name '*.c' | sort)
prev=""
for f in "${fixtures[@]}"; do
	name=$(basename "$(dirname "$f")")_$(basename "$f" .c)
	[ -d "$seeds/c_frontend" ] && cp "$f" "$seeds/c_frontend/$name"
	[ -d "$seeds/fault_grammar" ] && cp "$f" "$seeds/fault_grammar/$name"
	[ -d "$seeds/check_pipeline" ] || continue
	# check_pipeline: first byte is options (0: no prefilter, 1: prefilter),
	# then one file, or two split at the first "\0\0".
	{
		printf '\0'
		cat "$f"
	} >"$seeds/check_pipeline/$name"
	{ printf '\1'; cat "$f"; } >"$seeds/check_pipeline/${name}_pf"
	if [ -n "$prev" ]; then
		{ printf '\0'; cat "$prev"; printf '\0\0'; cat "$f"; } >"$seeds/check_pipeline/${name}_pair"
	fi
	prev=$f
done

summary=()
status=0
for t in "${targets[@]}"; do
	corpus="$fuzz/corpus/$t"
	artifacts="$fuzz/artifacts/$t"
	mkdir -p "$corpus" "$artifacts"
	before=$(mktemp)
	ls "$artifacts" | sort >"$before"
	dict=()
	if [ "$t" != fault_grammar ]; then dict=(-dict="$fuzz/c.dict"); fi
	log="$log_dir/$t.log"
	echo "fuzz.sh: running $t for ${secs}s (log: $log)"
	start=$(date +%s)
	# shellcheck disable=SC2086
	cargo fuzz run "${build_flags[@]}" "$t" "$corpus" "$seeds/$t" -- \
		-max_total_time="$secs" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
		-ignore_ooms=1 -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
		-artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_ARGS:-} >"$log" 2>&1 || true
	elapsed=$(($(date +%s) - start))
	# Fork mode prints "#RUNS: cov: ... exec/s ... oom/timeout/crash: O/T/C time: Ns".
	runs=$(grep -aoE '^#[0-9]+: cov' "$log" | tail -1 | tr -dc '0-9')
	oct=$(grep -aoE 'oom/timeout/crash: [0-9/]+' "$log" | tail -1 | awk '{print $2}')
	new=$(comm -13 "$before" <(ls "$artifacts" | sort))
	rm -f "$before"
	line="$t: ${runs:-?} runs in ${elapsed}s, oom/timeout/crash ${oct:-0/0/0}"
	if [ -n "$new" ]; then
		status=1
		line+=", new artifacts:"
		while read -r a; do line+=$'\n'"    $artifacts/$a"; done <<<"$new"
	else
		line+=", no new artifacts"
	fi
	echo "$line"
	summary+=("$line")
done

echo
echo "fuzz.sh summary (sanitizer $sanitizer, ${secs}s per target):"
printf '  %s\n' "${summary[@]}"
exit $status
