#!/usr/bin/env bash
# `show ipsec profile NAME detail`: what the peer offered, kizuna <-> kizuna.
#
#   gw-a (198.51.100.2) ===== carrier ===== gw-b (203.0.113.2)
#   initiator, Aggressive mode              responder, peer any
#
#  1. Site A sends the wrong key-id (site-x): on site B the detail of HQ shows
#     the key-id received and a failure history with an ID mismatch counted
#     more than once (AM1 is sent again); the plain `show ipsec profile HQ`
#     stays as it was (no detail lines); `show ipsec profile detail` (no
#     name) takes `detail` as the keyword; the JSON form has the same.
#  2. Site A fixed (key-id site-a): established; site B's detail now shows
#     key-id site-a, the phase 1 and 2 proposals A offered, the selectors A
#     asked for and A's NAT-T vendor IDs, and still the old failure.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin

# out_has "what" pattern: the last captured output has a line matching it
out_has() { if grep -qE -- "$2" <<<"$out"; then ok "$1"; else nok "$1"; echo "$out"; fi; }
out_lacks() { if grep -qE -- "$2" <<<"$out"; then nok "$1"; echo "$out"; else ok "$1"; fi; }

# the ID mismatch on B counted at least twice
b_mismatch_twice() {
	kz b show ipsec profile HQ detail |
		grep -qE '^    1\. phase 1 ID mismatch: ([2-9]|[1-9][0-9]+) time\(s\), first '
}

lab_up global
sed -e 's/local-id key-id site-a/local-id key-id site-x/' "$top/examples/site-a.conf" \
	>"$LAB_DIR/wrong-a.conf"
kz_start b "$top/examples/site-b.conf"
kz_start a "$LAB_DIR/wrong-a.conf"

# ---- 1: the wrong key-id
if lab_wait_for 20 b_mismatch_twice; then
	ok "wrong key-id: B counts the ID mismatch"
else
	nok "wrong key-id: B counts the ID mismatch"
	kz b show ipsec profile HQ detail || true
	kz_logs a b
fi
out=$(kz b show ipsec profile HQ detail)
echo "$out" | sed 's/^/# /'
out_has "wrong key-id: the key-id received" '^    ID \([0-9/: ]+\): key-id site-x$'
out_has "wrong key-id: the failure detail" '^       ID mismatch: an initiator at 198\.51\.100\.2 sent key-id site-x'
out_has "wrong key-id: A's vendor IDs seen" '^    vendor IDs \([0-9/: ]+\): RFC 3947 NAT-T, '
out_has "wrong key-id: no proposal judged yet" '^    phase 1 proposal: -$'
out=$(kz b show ipsec profile HQ)
out_lacks "plain show has no detail lines" 'received from the peer|failures \(newest'
out_has "plain show keeps its status line" '^HQ : phase 1 failed [0-9]+ time\(s\), last at '
out=$(kz b show ipsec profile detail)
out_has "'show ipsec profile detail' takes detail as the keyword" '^IPsec profile HQ$'
out_has "'show ipsec profile detail' shows the detail" '^  received from the peer:$'
out=$(kz b show ipsec profile HQ detail json)
out_has "json: the key-id" '"id":\{"type":"key-id","value":"site-x","at":"'
out_has "json: the failure history" '"failures":\[\{"class":"ID mismatch","phase":1,"count":[0-9]+,'
if python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out" 2>/dev/null; then
	ok "json: parses"
else
	nok "json: parses"
	echo "$out"
fi

# ---- 2: fixed
kz_stop a
kz_start a "$top/examples/site-a.conf"
if lab_wait_for 30 kz_ipsec_up a && lab_wait_for 5 kz_ipsec_up b; then
	ok "fixed: IPsec SAs established"
else
	nok "fixed: IPsec SAs established"
	kz_logs a b
fi
out=$(kz b show ipsec profile HQ detail)
echo "$out" | sed 's/^/# /'
out_has "fixed: the key-id received" '^    ID \([0-9/: ]+\): key-id site-a$'
out_has "fixed: A's phase 1 offer" '^    phase 1 proposal \(the peer offered, [0-9/: ]+\): aes-cbc-256/sha2-256/modp2048'
out_has "fixed: A's phase 2 offer" '^    phase 2 proposal \(the peer offered, [0-9/: ]+\): .+'
out_has "fixed: the selectors A asked for" '^    selectors \([0-9/: ]+\): IDci 192\.168\.1\.0/24, IDcr 192\.168\.2\.0/24$'
out_has "fixed: the failure history kept" '^    1\. phase 1 ID mismatch: [0-9]+ time\(s\), first '
out=$(kz a show ipsec profile HQ detail)
out_has "fixed: A saw B's choice" '^    phase 1 proposal \(the peer chose, [0-9/: ]+\): aes-cbc-256/sha2-256/modp2048'
out_has "fixed: A has no failures" '^  failures \(newest first, last 8 kept\): none$'

kz_stop a
kz_stop b
echo "# $fails failure(s)"
[ "$fails" -eq 0 ]
