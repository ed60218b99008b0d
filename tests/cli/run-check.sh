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
# kizuna check warns about a config file with keys that others may read:
# the cases run on copies whose mode does not depend on the checkout's
# umask, 0600, except *-exposed.conf (0644).
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
cp "$dir"/*.conf "$run"/
chmod 600 "$run"/*.conf
for f in "$run"/*-exposed.conf; do [ -e "$f" ] && chmod 644 "$f"; done
golden_cases check check "$run" "${cases[@]}"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
