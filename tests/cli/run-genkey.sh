#!/usr/bin/env bash
# kizuna genkey (offline): 24 characters of [A-Za-z0-9] (142.9 bits), a new
# one each run, taken by the config unquoted and rated strong (no weak-key
# warning from kizuna check, which rates keys with zxcvbn).
#   usage: run-genkey.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for i in $(seq 20); do "$build/kizuna" genkey; done >"$tmp/keys"
[ "$(grep -cxE '[A-Za-z0-9]{24}' "$tmp/keys")" = 20 ] || { echo "FAIL: form"; cat "$tmp/keys"; fail=1; }
[ "$(sort -u "$tmp/keys" | wc -l)" = 20 ] || { echo "FAIL: repeated keys"; fail=1; }
key=$(head -n 1 "$tmp/keys")
sed "s/pre-shared-key ascii .*/pre-shared-key ascii $key/" \
	"$(dirname "$0")/check/site-b.conf" >"$tmp/k.conf"
chmod 600 "$tmp/k.conf"
out=$("$build/kizuna" check "$tmp/k.conf")
rc=$?
echo "$out" | grep -q "config check ok" || { echo "FAIL: the key did not load"; echo "$out"; fail=1; }
if echo "$out" | grep -q "pre-shared key"; then echo "FAIL: rated weak"; echo "$out"; fail=1; fi
[ $rc = 0 ] || { echo "FAIL: kizuna check exit $rc"; fail=1; }
"$build/kizuna" genkey extra >/dev/null 2>&1 && { echo "FAIL: genkey took an argument"; fail=1; }
[ $fail = 0 ] && echo "genkey: ok"
exit $fail
