#!/usr/bin/env bash
# Long fuzzing campaigns with libFuzzer (clang, ASan+UBSan), keeping the
# corpus in the tree: each target starts from tests/fuzz/corpus/<name>/ and
# what it found new is merged back there (minimised), so the next run and
# the CI replay (ctest -L fuzz) start where this one stopped.
#
#   scripts/fuzz.sh [-t SECONDS | -c CPU_SECONDS] [-n] [-j JOBS] [TARGET...]
#     -t  wall seconds per target (default 3600)
#     -c  run each target until the fuzzer itself has used this many CPU
#         seconds (for campaigns under `nice` on a shared machine, where a
#         wall hour is much less than a CPU hour): the fuzzer is restarted
#         from the corpus plus what it found so far, with a wall limit of
#         what is still missing, until the sum is reached
#     -n  do not merge the new inputs into the tree's corpus (keep them in
#         the printed directory; for the slow engine target, whose corpus
#         the CI replay runs in full)
#     -j  libFuzzer jobs per target (default 1; the machine's cores are
#         shared with everything else)
#     TARGET: fuzz_ike_engine, fuzz_dp_mss, ... (default: every target)
#
# Prints per target: executions, CPU seconds, corpus size before and after,
# and either "no finding" or the crash file, which is also copied into the
# corpus directory as crash-<sha1> so the replay keeps failing until fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=3600 jobs=1 cpubudget=0 merge=1
while getopts "t:c:nj:" o; do
	case $o in
	t) secs=$OPTARG ;;
	c) cpubudget=$OPTARG ;;
	n) merge=0 ;;
	j) jobs=$OPTARG ;;
	*) sed -n '2,24p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
CC=clang scripts/build.sh build-fuzz -DKZ_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for t in build-fuzz/fuzz/fuzz_*; do targets+=("$(basename "$t")"); done
fi
status=0
for name in "${targets[@]}"; do
	bin=$PWD/build-fuzz/fuzz/$name
	corpus=$PWD/tests/fuzz/corpus/${name#fuzz_}
	[ -x "$bin" ] || { echo "fuzz: no target $name"; status=2; continue; }
	mkdir -p "$corpus"
	work=$(mktemp -d)
	before=$(find "$corpus" -type f | wc -l)
	start=$(date +%s)
	rc=0 cpu=0 chunk=0
	# new inputs go to $work/new; the tree's corpus is only read; the
	# workers' fuzz-N.log land in $work (the fuzzer runs there)
	mkdir -p "$work/new"
	while :; do
		chunk=$((chunk + 1))
		limit=$secs
		if [ "$cpubudget" -gt 0 ]; then
			limit=$((cpubudget - cpu))
			[ "$limit" -lt 120 ] && limit=120
		fi
		(cd "$work" && /usr/bin/time -f "%U %S" -o "$work/cpu" "$bin" -max_total_time="$limit" \
			-jobs="$jobs" -workers="$jobs" -timeout=20 -rss_limit_mb=4096 \
			-print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$corpus" \
			>"$work/log.$chunk" 2>&1) || rc=$?
		cpu=$(awk -v c="$cpu" '{printf "%.0f", c + $1 + $2}' "$work/cpu" 2>/dev/null || echo "$cpu")
		for l in "$work"/fuzz-*.log; do [ -e "$l" ] && mv "$l" "$work/w$chunk.${l##*/}"; done
		[ "$rc" -eq 0 ] || break
		[ "$cpubudget" -gt 0 ] && [ "$cpu" -lt "$cpubudget" ] || break
		echo "fuzz $name: ${cpu}s CPU of ${cpubudget}s after $(($(date +%s) - start))s; going on" >&2
	done
	wall=$(($(date +%s) - start))
	# the workers' logs when there are any (the main log repeats their
	# final stats then), else the main logs
	logs=("$work"/w*.fuzz-*.log)
	[ -e "${logs[0]}" ] || logs=("$work"/log.*)
	runs=$(cat "${logs[@]}" 2>/dev/null |
		{ grep -o 'stat::number_of_executed_units: [0-9]*' || true; } |
		awk '{s += $2} END {print s + 0}')
	# merge what is new into the tree, minimised
	[ "$merge" -eq 1 ] && "$bin" -merge=1 "$corpus" "$work/new" >"$work/merge.log" 2>&1 || true
	after=$(find "$corpus" -type f | wc -l)
	crash=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
		-o -maxdepth 1 -name 'timeout-*' | head -n 1)
	if [ -n "$crash" ]; then
		cp "$crash" "$corpus/"
		echo "fuzz $name: FINDING $(basename "$crash") after ${wall}s (${cpu}s CPU, $runs runs); logs $work/log.*"
		status=1
	else
		echo "fuzz $name: no finding: ${wall}s wall, ${cpu}s CPU, $runs runs, corpus $before -> $after, $chunk run(s) (exit $rc)"
		if [ "$merge" -eq 1 ]; then
			rm -rf "$work"
		else
			echo "fuzz $name: $(find "$work/new" -type f | wc -l) new inputs kept in $work/new"
		fi
	fi
done
exit $status
