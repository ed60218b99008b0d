# shellcheck shell=bash
# tests/cli/golden_cases.sh - offline golden cases of one kizuna subcommand,
# sourced by run-check.sh and run-peer.sh after they set build (the build
# directory).
#   golden_cases LABEL SUBCOMMAND DIR CASE.out...
# Each case starts with `$ kizuna SUBCOMMAND ARGS` (run in DIR), then the
# exact standard output, then `exit: N`.  Counts the cases in pass and fail;
# a failed case prints "LABEL NAME: FAILED" after the diff.
# KZ_GOLDEN_UPDATE=1 rewrites the cases from what kizuna printed.
# build is set by the sourcing script (SC2154).
# shellcheck disable=SC2154
pass=0
fail=0
golden_cases() {
	local label=$1 sub=$2 dir=$3 c name cmd got
	local -a args
	shift 3
	for c in "$@"; do
		name=$(basename "$c" .out)
		cmd=$(head -n 1 "$c")
		case "$cmd" in
		"\$ kizuna $sub "*) ;;
		*) echo "$label $name: first line must be '\$ kizuna $sub ARGS'"; fail=$((fail + 1)); continue ;;
		esac
		read -r -a args <<<"${cmd#\$ kizuna }"
		got=$(mktemp)
		{
			echo "$cmd"
			(cd "$dir" && "$build/kizuna" "${args[@]}" 2>/dev/null)
			echo "exit: $?"
		} >"$got"
		if [ "${KZ_GOLDEN_UPDATE:-0}" = 1 ]; then
			cp "$got" "$c"
		elif diff -u "$c" "$got"; then
			pass=$((pass + 1))
		else
			echo "$label $name: FAILED (expected - / got +)"
			fail=$((fail + 1))
		fi
		rm -f "$got"
	done
}
