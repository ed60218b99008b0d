#!/usr/bin/env bash
# `kizunad --check-config` (no root, no socket): the packaged sample loads
# as it is and with every command uncommented; a broken file gives
# FILE:LINE:COLUMN and exit 1; a missing file exit 1; a profile the config
# check finds NG exit 1.
#   usage: run-check-config.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
kizunad=$build/kizunad
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

expect() { # name want-status want-regex -- command...
	local name=$1 want=$2 re=$3 out st
	shift 4
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" -eq "$want" ] && echo "$out" | grep -Eq -- "$re"; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: exit $st (want $want), output:"
		echo "$out" | sed 's/^/  | /'
		echo "  (wanted a line matching: $re)"
		fail=$((fail + 1))
	fi
}

sample=$src/packaging/kizuna.conf
expect sample 0 "^$sample: ok\$" -- "$kizunad" --check-config "$sample"
expect sample-c 0 "^$sample: ok\$" -- "$kizunad" -t -c "$sample"
sed 's/^# \{0,1\}//; /^!/d' "$sample" >"$tmp/uncommented.conf"
expect uncommented 0 "^$tmp/uncommented.conf: \[OK\] A4 HQ : config check ok\$" \
	-- "$kizunad" --check-config "$tmp/uncommented.conf"
# The placeholder key is weak, and said to be.
expect placeholder-key 0 "\[WARN\] ike policy IKEPOL: aggressive mode with a pre-shared key" \
	-- "$kizunad" --check-config "$tmp/uncommented.conf"
printf 'hostname x\ninterface IPsec0\n  ipsec map\n' >"$tmp/broken.conf"
expect broken 1 "^$tmp/broken.conf:3:12: error: incomplete command" \
	-- "$kizunad" --check-config "$tmp/broken.conf"
expect missing 1 "^$tmp/nope.conf: cannot be read: No such file or directory\$" \
	-- "$kizunad" --check-config "$tmp/nope.conf"
grep -v '^  source-interface' "$src/examples/site-a.conf" >"$tmp/nosource.conf"
expect ng 1 "\[NG\] A4.1 sourced I/F don't have valid address" \
	-- "$kizunad" --check-config "$tmp/nosource.conf"
expect two-files 2 "usage: kizunad" -- "$kizunad" --check-config "$sample" "$sample"

echo "check-config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
