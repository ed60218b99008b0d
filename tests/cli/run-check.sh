#!/usr/bin/env bash
# Golden cases of `kizuna check` (offline, no root): each tests/cli/check/*.out
# starts with `$ kizuna check ARGS` (run in that folder), then the exact
# standard output, then `exit: N`.
#   usage: run-check.sh BUILD_DIR CHECK_DIR [CASE.out...]
#   KZ_GOLDEN_UPDATE=1 rewrites the cases from what kizuna printed.
set -u
build=$(cd "$1" && pwd)
dir=$(cd "$2" && pwd)
shift 2
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("$dir"/*.out)
pass=0
fail=0
for c in "${cases[@]}"; do
	name=$(basename "$c" .out)
	cmd=$(head -n 1 "$c")
	case "$cmd" in
	'$ kizuna check '*) ;;
	*) echo "check $name: first line must be '\$ kizuna check ARGS'"; fail=$((fail + 1)); continue ;;
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
		echo "check $name: FAILED (expected - / got +)"
		fail=$((fail + 1))
	fi
	rm -f "$got"
done
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
