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
# shellcheck source=tests/cli/golden_cases.sh
. "$(dirname "$0")/golden_cases.sh"
golden_cases check check "$dir" "${cases[@]}"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
