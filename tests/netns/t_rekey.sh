#!/usr/bin/env bash
# Make-before-break rekeying, kizuna <-> kizuna, Main mode, global addresses
# (examples/main-a.conf, main-b.conf with `lifetime time 60` in the IPsec
# proposal and `lifetime 90` in the IKE proposal): a paced UDP stream with
# sequence numbers (1000 packets/s, 140 s, tests/netns/udp_seq.py) from LAN
# A to LAN B runs across at least two IPsec SA rekeys and one IKE SA rekey:
# no packet lost, none duplicated, no gap over 1 s; the old SAs are deleted
# after each rekey (one IKE SA and one IPsec SA pair each at the end).
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
. "$here/ike_lib.sh"
lab_require_root
lab_require_cmd python3 python3
trap lab_down EXIT
trap 'exit 130' INT TERM HUP

RATE=${KZ_REKEY_RATE:-1000} SECS=${KZ_REKEY_SECS:-140}
fails=0
ok() { echo "ok - $*"; }
nok() { echo "FAIL - $*"; fails=$((fails + 1)); }
expect() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }

short() { # in out
	sed -e 's/^  lifetime time 28800$/  lifetime time 60/' \
		-e 's/^  lifetime 28800$/  lifetime 90/' "$1" >"$2"
}
pairs() { kz "$1" show ipsec sa | grep -c '^Inbound:' || true; }
ike_sas() { kz "$1" show ike sa | grep -c '^IKE PH1 established' || true; }
one_each() {
	[ "$(pairs a)" = 1 ] && [ "$(pairs b)" = 1 ] && [ "$(ike_sas a)" = 1 ] &&
		[ "$(ike_sas b)" = 1 ]
}
ping_ok() { lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
nlog() { # site pattern: matching lines in its log
	grep -c -- "$2" "$LAB_DIR/kizunad-$1.log" || true
}

lab_up global
short "$top/examples/main-a.conf" "$LAB_DIR/rk-a.conf"
short "$top/examples/main-b.conf" "$LAB_DIR/rk-b.conf"
grep -q 'lifetime time 60' "$LAB_DIR/rk-a.conf" || { echo "FAIL - config edit"; exit 1; }
kz_start b "$LAB_DIR/rk-b.conf"
kz_start a "$LAB_DIR/rk-a.conf"
if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 ping_ok && lab_wait_for 15 one_each; then
	ok "tunnel up with one pair each"
else
	nok "tunnel up with one pair each"
	kz_logs a b
fi

lab_bg lan-b udp-recv python3 "$here/udp_seq.py" recv 5001 $((SECS + 30))
sleep 1
lab_exec lan-a python3 "$here/udp_seq.py" send "$LAN_B_HOST" 5001 "$RATE" "$SECS"
lab_wait_for 20 sh -c "grep -q '^received' $LAB_DIR/udp-recv.log" || true
res=$(grep '^received' "$LAB_DIR/udp-recv.log" || echo "received nothing")
echo "# $res"
# shellcheck disable=SC2086 # split the result line into fields
set -- $res
expect "stream: all $((RATE * ${SECS%.*})) packets arrived (unique $4)" test "${4:-0}" = $((RATE * ${SECS%.*}))
expect "stream: none lost (${8:-?})" test "${8:-1}" = 0
expect "stream: none duplicated (${6:-?})" test "${6:-1}" = 0
expect "stream: no gap over 1 s (${10:-?} ms)" test "${10:-9999}" -le 1000

rk_a=$(nlog a 'rekeying IPsec SA'); rk_b=$(nlog b 'rekeying IPsec SA')
old_a=$(nlog a 'deleted after rekey'); old_b=$(nlog b 'deleted after rekey')
ike_rk=$(($(nlog a 'rekeying the IKE SA') + $(nlog b 'rekeying the IKE SA')))
echo "# IPsec rekeys started: a $rk_a, b $rk_b; old SAs deleted: a $old_a, b $old_b; IKE rekeys: $ike_rk"
expect "at least two IPsec SA rekeys during the stream" test $((rk_a + rk_b)) -ge 2
expect "old SAs deleted after the rekeys" test $((old_a + old_b)) -ge 2
expect "at least one IKE SA rekey during the stream" test "$ike_rk" -ge 1
expect "no SA reached its hard lifetime" sh -c "! grep -Eq 'expired|hard lifetime' $LAB_DIR/kizunad-a.log $LAB_DIR/kizunad-b.log"
if lab_wait_for 10 one_each; then
	ok "one IKE SA and one IPsec SA pair each at the end"
else
	nok "one IKE SA and one IPsec SA pair each at the end (a: $(ike_sas a)/$(pairs a), b: $(ike_sas b)/$(pairs b))"
fi
[ "$fails" -eq 0 ] || kz_logs a b

echo "rekey: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
[ "$fails" -eq 0 ]
