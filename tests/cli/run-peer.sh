#!/usr/bin/env bash
# Golden cases of `kizuna peer-config` (offline, no root): each
# tests/cli/peer/*.out starts with `$ kizuna peer-config ARGS` (run in that
# folder), then the exact standard output, then `exit: N`.  Then the round
# trip: for each example site the generated peer config must load and pass
# `kizuna check SITE PEER` with no [NG] (the cross-site checks included).
#   usage: run-peer.sh BUILD_DIR PEER_DIR EXAMPLES_DIR
#   KZ_GOLDEN_UPDATE=1 rewrites the cases from what kizuna printed.
set -u
build=$(cd "$1" && pwd)
dir=$(cd "$2" && pwd)
examples=$(cd "$3" && pwd)
# shellcheck source=tests/cli/golden_cases.sh
. "$(dirname "$0")/golden_cases.sh"
golden_cases peer peer-config "$dir" "$dir"/*.out

# Round trip: SITE-FILE PROFILE [--address A] (main mode and `peer any`
# need this site's address for the other site's `peer`).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
roundtrip() {
	local site=$1 profile=$2 out
	shift 2
	if ! "$build/kizuna" peer-config "$examples/$site" "$profile" --format kizuna "$@" \
		>"$tmp/peer.conf" 2>"$tmp/err"; then
		echo "roundtrip $site: peer-config failed: $(cat "$tmp/err")"
		fail=$((fail + 1))
		return
	fi
	out=$("$build/kizuna" check "$examples/$site" "$tmp/peer.conf")
	local rc=$?
	if [ $rc -ne 0 ] || grep -q '\[NG\]' <<<"$out" ||
		! grep -q '\[OK\] A5 ' <<<"$out"; then
		echo "roundtrip $site $*: FAILED (check exit $rc)"
		echo "$out"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
roundtrip site-a.conf HQ
roundtrip site-b.conf HQ --address 203.0.113.2
roundtrip main-a.conf HQ --address 198.51.100.2
roundtrip main-b.conf HQ --address 203.0.113.2
echo "peer: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
