#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs, builds, then runs the
# quick tier (unit tests, golden console transcripts and checks, fuzz corpus
# replay) in a normal build, the Debian package (built, installed, checked,
# purged), everything again - now with the lab and soak
# tiers, the namespace tests where kizunad meets itself and strongSwan -
# under AddressSanitizer and UndefinedBehaviorSanitizer, and gives each
# libFuzzer target a short run.
# The namespace tests run side by side (KZ_TEST_JOBS, default twice the
# number of CPUs, at most 4): each has namespaces of its own and spends
# most of its time waiting on timers and peers, while those whose verdict
# depends on the machine's speed run alone or one heavy one at a time (their
# RUN_SERIAL and RESOURCE_LOCK in tests/CMakeLists.txt).
# Namespace tests need root; they skip without it, except under CI=true where
# a skip is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
fuzz_seconds=${KZ_FUZZ_SECONDS:-10}
ncpu=$(nproc 2>/dev/null || echo 1)
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
jobs=${KZ_TEST_JOBS:-$((ncpu < 2 ? 2 : 4))}
pass=0
fail=0
t_start=$SECONDS
t_phase=$SECONDS

took() { # what: how long the step before took, and the run so far
	echo "== $1: $((SECONDS - t_phase)) s (total $((SECONDS - t_start)) s)"
	t_phase=$SECONDS
}

run_ctest() { # name dir [ctest options]: adds the tests that passed and failed
	local name=$1 dir=$2 log total failed
	shift 2
	echo "== $name: ctest"
	log=$(mktemp)
	(cd "$dir" && ctest --output-on-failure --timeout 600 "$@") 2>&1 | tee "$log" || true
	total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
	failed=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
	if [ -z "$total" ]; then
		echo "$name: ctest did not finish"
		fail=$((fail + 1))
	else
		pass=$((pass + total - failed))
		fail=$((fail + failed))
	fi
	rm -f "$log"
}

echo "== build (gcc, -Wall -Wextra -Werror)"
scripts/build.sh build
took "gcc build"
run_ctest "gcc" build -L quick -j"$jobs"
took "gcc quick tier"

# The Debian package built, installed, checked and purged again
# (scripts/package-test.sh; its own copy of the tree, about 2 minutes).
echo "== Debian package: build, install, verify, purge"
pkg_rc=0
scripts/package-test.sh || pkg_rc=$?
if [ "$pkg_rc" -eq 0 ]; then
	pass=$((pass + 1))
elif [ "$pkg_rc" -eq 77 ] && [ "${CI:-}" != true ]; then
	echo "package: skipped"
else
	fail=$((fail + 1))
fi
took "Debian package"

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
scripts/build.sh build-asan -DKZ_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
took "ASan build"
# In this build the child's seccomp filter logs (SCMP_ACT_LOG, an audit
# record type=1326 in the kernel log) instead of killing: every system call
# the lab tier made outside the allow-list is caught by this follower.
kmsg=$(mktemp)
kmsg_pid=
if dmesg >/dev/null 2>&1; then
	dmesg --follow-new >"$kmsg" 2>/dev/null &
	kmsg_pid=$!
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_ctest "asan+ubsan" build-asan -j"$jobs"
took "asan+ubsan tests"
if [ -z "$kmsg_pid" ] || ! kill "$kmsg_pid" 2>/dev/null; then
	echo "seccomp: cannot read the kernel log (not root?): allow-list not checked"
	[ "${CI:-}" != true ] || fail=$((fail + 1))
else
	wait "$kmsg_pid" 2>/dev/null || true
	misses=$(grep 'type=1326' "$kmsg" | grep 'comm="kizunad"' || true)
	if [ -z "$misses" ]; then
		echo "seccomp: no system call of the lab tier's unprivileged kizunad was outside its allow-list"
		pass=$((pass + 1))
	else
		echo "seccomp: system calls outside the child's allow-list (src/daemon/privsep_child.c):"
		echo "$misses" | grep -o 'syscall=[0-9]*' | sort | uniq -c
		fail=$((fail + 1))
	fi
fi
rm -f "$kmsg"

# One target: its line on stdout ("ok" or "FAILED" with the log's tail);
# new inputs go to a work folder, the log stays out of it (libFuzzer
# rereads that folder and would take the log for an input).
fuzz_one() {
	local t=$1 name corpus work
	name=$(basename "$t")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	mkdir "$work/corpus"
	if "$t" -max_total_time="$fuzz_seconds" -max_len=65536 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" "$corpus" >"$work/log" 2>&1; then
		echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | tail -1 | awk '{print $2}') runs)"
		rm -rf "$work"
	else
		echo "fuzz $name: FAILED (log and crash input in $work)"
		tail -30 "$work/log"
	fi
}

# One target per CPU at a time: each is single-threaded, so the same
# fuzzing time per target takes half as long on two cores.
echo "== libFuzzer targets (clang), ${fuzz_seconds}s each, $ncpu at a time"
# Only the libFuzzer binaries and the layers they link: the unit tests,
# replay drivers, daemon and benchmarks ran in the builds above already.
if [ ! -f build-fuzz/CMakeCache.txt ]; then
	CC=clang cmake -S . -B build-fuzz "${gen[@]}" -DKZ_WERROR=ON -DKZ_FUZZ=ON >/dev/null
fi
fuzz_targets=()
for src in tests/fuzz/fuzz_*.c; do
	fuzz_targets+=("$(basename "$src" .c)")
done
cmake --build build-fuzz -j"$ncpu" --target "${fuzz_targets[@]}"
took "fuzz build"
fuzz_out=$(mktemp -d)
for t in build-fuzz/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$ncpu" ]; do
		wait -n || true
	done
	fuzz_one "$t" >"$fuzz_out/$(basename "$t")" 2>&1 &
done
wait
for f in "$fuzz_out"/*; do
	[ -e "$f" ] || continue
	cat "$f"
	if head -1 "$f" | grep -q ': ok ('; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
rm -rf "$fuzz_out"
took "fuzz runs"

echo "test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
