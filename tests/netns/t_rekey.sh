#!/usr/bin/env bash
# Make-before-break rekeying, kizuna <-> kizuna, Main mode, global addresses
# (examples/main-a.conf, main-b.conf with `lifetime 60` in the IKE proposal
# and `lifetime time 60` in the IPsec proposal): a paced UDP stream with
# sequence numbers (2000 packets/s for 120 s, tests/netns/udp_seq.py) from
# LAN A to LAN B runs across IPsec SA rekeys of both kinds and IKE SA rekeys.
#
# Byte lifetime: the data plane counts the inner IP packets (esp.c adds the
# packet's length, no ESP header, padding or ICV), and the rekey looks at
# the larger of the pair's two directions.  The stream's packets are 200
# bytes of UDP payload + 8 (UDP) + 20 (IP) = 228 bytes, so 2000 packets/s
# are 456,000 bytes/s.  `lifetime bytes 7000` (7,168,000 bytes, 15.7 s of
# the stream) puts the initiator's soft point (85-90 %) 13.4-14.1 s after a
# pair starts to carry the stream; with the byte poll (1 s), Quick Mode and
# the 1 s switch-over a byte-triggered rekey comes every ~16 s, 7 or so in
# the stream.
#
# The byte lifetime is set on both sites from the console once the tunnel
# is up: a changed setting renegotiates the profile's SAs at once (before the
# stream starts), so every pair that carries the stream has it and is renewed
# by bytes; time-triggered IPsec rekeys are covered by the strongSwan
# interop cases (`kzrekey`) and the unit tests, and so is the timing of
# every soft point (the engine tests, with their injected clock).  The IKE
# SA (60 s) is renewed about every 52 s, with no Quick Mode: twice in the
# stream, the second ~100 s after the first SA came up.
#
# Asserted: every packet arrived once (0 lost, 0 duplicated) and no two
# arrivals were more than 1 s apart; at least 5 IPsec SA rekeys, at least
# 3 triggered by bytes; at least 2 IKE SA rekeys; at least 5
# old pairs deleted after their successors; no SA reached its hard lifetime
# (time or bytes) and the data plane never found an SA it could not send on;
# one IKE SA and one IPsec SA pair on each site at the end.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin python3:python3

RATE=${KZ_REKEY_RATE:-2000} SECS=${KZ_REKEY_SECS:-120} KB=${KZ_REKEY_KB:-7000}

short() { # in out: IKE and IPsec lifetimes of 60 s, the IPsec byte lifetime KB
	sed -e "s/^  lifetime time 28800\$/  lifetime time 60\n  lifetime bytes $KB/" \
		-e 's/^  lifetime 28800$/  lifetime 60/' "$1" >"$2"
}
nlog() { # pattern: matching lines in both logs
	cat "$LAB_DIR/kizunad-a.log" "$LAB_DIR/kizunad-b.log" | grep -c -- "$1" || true
}

lab_up global
short "$top/examples/main-a.conf" "$LAB_DIR/rk-a.conf"
short "$top/examples/main-b.conf" "$LAB_DIR/rk-b.conf"
grep -q 'lifetime time 60' "$LAB_DIR/rk-a.conf" || { echo "FAIL - config edit"; exit 1; }
kz_start b "$LAB_DIR/rk-b.conf"
kz_start a "$LAB_DIR/rk-a.conf"
# The byte lifetime is in the files from the start: set from the console
# it would be a settings change that renegotiates (t_config_change).
expect_tunnel_up "tunnel up with one pair each"
has_bytes() { kz "$1" show running-config | grep -qx "  lifetime bytes $KB"; }
both_bytes() { has_bytes a && has_bytes b; }
expect "lifetime bytes $KB on both sites" both_bytes

lab_bg lan-b udp-recv python3 "$here/udp_seq.py" recv 5001 $((SECS + 30)) 100
sleep 1
t0=$(date +%s)
lab_exec lan-a python3 "$here/udp_seq.py" send "$LAN_B_HOST" 5001 "$RATE" "$SECS"
echo "# stream sent in $(($(date +%s) - t0)) s"
lab_wait_for 20 sh -c "grep -q '^received' $LAB_DIR/udp-recv.log" || true
res=$(grep '^received' "$LAB_DIR/udp-recv.log" || echo "received nothing")
echo "# $res"
grep -E '^(lost|gap) ' "$LAB_DIR/udp-recv.log" | head -n 20 | sed 's/^/# /'
# shellcheck disable=SC2086 # split the result line into fields
set -- $res
expect "stream: all $((RATE * ${SECS%.*})) packets arrived (unique ${4:-0})" test "${4:-0}" = $((RATE * ${SECS%.*}))
expect "stream: none lost (${8:-?})" test "${8:-1}" = 0
expect "stream: none duplicated (${6:-?})" test "${6:-1}" = 0
expect "stream: no gap over 1 s (${10:-?} ms)" test "${10:-9999}" -le 1000

# give the last successor's overlap time to end before counting deletions
expect_one_sa_each 15 "one IKE SA and one IPsec SA pair each at the end"
rk=$(nlog 'rekeying IPsec SA') rk_t=$(nlog 'rekeying IPsec SA .*(soft lifetime)')
rk_b=$(nlog 'rekeying IPsec SA .*(soft byte lifetime)')
old=$(nlog 'old IPsec SA .* deleted after rekey') ike_rk=$(nlog 'rekeying the IKE SA')
echo "# IPsec rekeys started: $rk ($rk_t by time, $rk_b by bytes); old pairs deleted: $old; IKE rekeys: $ike_rk"
grep -h -E 'rekeying|deleted after rekey|IPsec SA established' "$LAB_DIR/kizunad-a.log" "$LAB_DIR/kizunad-b.log" |
	sort | sed 's/^/# /'
expect "at least 5 IPsec SA rekeys during the stream ($rk)" test "$rk" -ge 5
expect "at least 3 of them at the soft byte lifetime ($rk_b)" test "$rk_b" -ge 3
expect "at least 5 old pairs deleted after their successors ($old)" test "$old" -ge 5
expect "at least 2 IKE SA rekeys during the stream ($ike_rk)" test "$ike_rk" -ge 2
expect "no SA reached its hard lifetime or its last byte" \
	sh -c "! grep -Eq 'expired|hard lifetime|reached its byte lifetime|can send no more' $LAB_DIR/kizunad-a.log $LAB_DIR/kizunad-b.log"
[ "$fails" -eq 0 ] || kz_logs a b

check_summary rekey
