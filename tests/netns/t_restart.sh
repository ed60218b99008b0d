#!/usr/bin/env bash
# Daemon restarts, kizuna <-> kizuna, Aggressive mode with site A behind the
# carrier NAT (examples/site-a.conf, site-b.conf; B answers `peer any`),
# `dpd interval 2 retry 2` on both sides: one DPD period (interval x
# (retry + 1), shared/spec/troubleshooting.md) is 6 s.
#
# A ping from LAN A to LAN B runs every 50 ms the whole time (ping -D: each
# reply carries its time).  Four rounds, each a restart of one kizunad:
#   A killed (SIGKILL) and started again, A stopped (SIGTERM) and started,
#   B killed and started, B stopped and started.
# For each round:
#  - the time from the restart (the new kizunad launched) to the first ping
#    reply is at most one DPD period + 1 s.  The second covers what the bound
#    leaves out: kizunad's own start-up (0.3-0.8 s under the sanitizers on a
#    loaded machine) and the 50 ms ping spacing;
#  - afterwards each side holds exactly one IKE SA and one IPsec SA pair (no
#    stale SAs left behind), and both daemons still run;
#  - A restarted: it started over with INITIAL-CONTACT and B logged that it
#    dropped the old SAs for it.
# B killed: A keeps sending ESP on the old SPIs to a B that knows none of
# them.  From a capture of B's WAN, between B's restart and A's new
# Aggressive mode message 1:
#  - B answered the stale ESP with at least one and at most one INVALID-SPI
#    notify per second (+1), unprotected and unauthenticated (RFC 2408 4.8),
#    and sent nothing else: no flood;
#  - A took the notify only as a reason to probe at once (R-U-THERE, logged),
#    and declared B dead on unanswered probes.
# A forged INVALID-SPI (ten copies) while B is alive, first: A probes once,
# B answers, A keeps its SAs.  Finally no sanitizer report in either log.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping tshark:tshark

IVL=2 RETRY=2
PERIOD=$((IVL * (RETRY + 1)))
BOUND_MS=$((PERIOD * 1000 + 1000))

now() { date +%s.%N; }
# The first ping reply after time $1 (epoch seconds), from ping -D's log.
first_reply_after() {
	awk -v t="$1" '/bytes from/ { v = $1; gsub(/[][]/, "", v); if (v + 0 > t + 0) { print v; exit } }' \
		"$LAB_DIR/ping.log"
}
# Waits (up to $2 s) for a ping reply after $1; prints the ms between.
recovered_in() { # t0 timeout_s
	local r
	if lab_wait_for "$2" sh -c "[ -n \"\$(awk -v t=$1 '/bytes from/ { v = \$1; gsub(/[][]/, \"\", v); if (v + 0 > t + 0) { print v; exit } }' $LAB_DIR/ping.log)\" ]"; then
		r=$(first_reply_after "$1")
		awk -v a="$1" -v b="$r" 'BEGIN { printf "%d\n", (b - a) * 1000 }'
	else
		echo never
		return 1
	fi
}
both_alive() { lab_alive kizunad-a && lab_alive kizunad-b; }
no_report() { ! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LAB_DIR"/kizunad-*.log* 2>/dev/null; }

lab_up cgnat
kz_with_dpd "$IVL" "$RETRY" "$top/examples/site-a.conf" "$LAB_DIR/r-a.conf"
kz_with_dpd "$IVL" "$RETRY" "$top/examples/site-b.conf" "$LAB_DIR/r-b.conf"
grep -q "dpd interval $IVL" "$LAB_DIR/r-a.conf" || { echo "FAIL - config edit"; exit 1; }
lab_capture_start gw-b "$WAN_IF" "$LAB_DIR/b-wan.pcap"
kz_pair_start "$LAB_DIR/r-b.conf" "$LAB_DIR/r-a.conf"
if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 kz_ping_ok && lab_wait_for 10 kz_one_sa_each; then
	ok "tunnel up through the carrier NAT, one pair each"
else
	nok "tunnel up through the carrier NAT, one pair each"
	kz_logs a b
fi
lab_bg lan-a ping ping -D -i 0.05 "$LAN_B_HOST"

declare -A t_start t_up
# round name site how: how = kill (SIGKILL) or stop (SIGTERM, waits for exit)
round() {
	local name=$1 site=$2 how=$3 t0 took
	sleep 2 # ping and DPD settle: the tunnel is in use when it goes
	lab_wait_for 5 kz_one_sa_each || true
	if [ "$how" = kill ]; then
		kill -KILL "$(lab_pid "kizunad-$site")"
		lab_kill "kizunad-$site" # reaps it
	else
		lab_kill "kizunad-$site"
	fi
	# the restart starts a new log: keep the old one
	cp "$LAB_DIR/kizunad-$site.log" "$LAB_DIR/kizunad-$site.log.$name"
	rm -f "$LAB_DIR/$site.sock"
	t0=$(now)
	t_start[$name]=$t0
	kz_start "$site" "$LAB_DIR/r-$site.conf" || true
	took=$(recovered_in "$t0" 30) || true
	t_up[$name]=$(now)
	echo "# $name: ping replies again ${took} ms after the restart (bound ${BOUND_MS} ms)"
	expect "$name: traffic flows again within one DPD period + 1 s (${took} ms)" \
		test "$took" != never -a "${took%never}" -le "$BOUND_MS" 2>/dev/null
	expect_one_sa_each 10 "$name: one IKE SA and one IPsec SA pair each" kz_dump_sas a b
	expect "$name: both daemons run" both_alive
}

# ---- a forged INVALID-SPI while B is alive: A probes, B answers, nothing
# else changes.  Ten copies, from B's address and port 4500 (a raw socket
# in gw-b, as an attacker on the path to A could send them).
forge_invalid_spi() { # dst-addr dst-port spi count
	lab_exec gw-b python3 - "$@" <<'PY'
import os, socket, struct, sys
dst, port, spi, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0), int(sys.argv[4])
# N payload (RFC 2408 3.14): DOI 1, protocol ESP, SPI size 4, INVALID-SPI
n_pl = struct.pack("!BBHIBBHI", 0, 0, 16, 1, 3, 4, 11, spi)
# ISAKMP header: fresh initiator cookie, no responder cookie, N first,
# version 1.0, informational, no flags, message ID 0
hdr = os.urandom(8) + bytes(8) + struct.pack("!BBBBII", 11, 0x10, 5, 0, 0, 28 + len(n_pl))
data = bytes(4) + hdr + n_pl  # non-ESP marker (RFC 3948)
udp = struct.pack("!HHHH", 4500, port, 8 + len(data), 0) + data
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for _ in range(n):
    s.sendto(udp, (dst, 0))
PY
}
sleep 2
hints0=$(grep -c "INVALID-SPI.*R-U-THERE" "$LAB_DIR/kizunad-a.log" || true)
dead0=$(grep -c "is dead" "$LAB_DIR/kizunad-a.log" || true)
spi_a=$(kz_spi a Outbound)
a_port=$(kz b show ike sa | sed -n 's/^remote: .* (UDP \[\([0-9]*\)\])$/\1/p' | head -n 1)
forge_invalid_spi "$GW_A_PUBLIC" "${a_port:-4500}" "$spi_a" 10 || nok "forged INVALID-SPI sent"
sleep $((IVL * (RETRY + 1)))
hints=$(($(grep -c "INVALID-SPI.*R-U-THERE" "$LAB_DIR/kizunad-a.log" || true) - hints0))
echo "# forged: 10 INVALID-SPI for A's spi $spi_a to $GW_A_PUBLIC:${a_port:-4500}: A acted on $hints"
expect "forged INVALID-SPI: A probed once for ten copies ($hints)" test "$hints" = 1
expect "forged INVALID-SPI: B answered, A did not declare it dead" \
	test "$(grep -c "is dead" "$LAB_DIR/kizunad-a.log" || true)" = "$dead0"
expect "forged INVALID-SPI: A still sends on the same SA" test "$(kz_spi a Outbound)" = "$spi_a"
expect "forged INVALID-SPI: one IKE SA and one IPsec SA pair each" kz_one_sa_each

round a-kill a kill
expect "a-kill: B dropped the stale SAs on INITIAL-CONTACT" \
	grep -q "INITIAL-CONTACT.*stale" "$LAB_DIR/kizunad-b.log"
round a-stop a stop
round b-kill b kill
expect "b-kill: A probed at once on B's INVALID-SPI" \
	grep -q "INVALID-SPI.*R-U-THERE" "$LAB_DIR/kizunad-a.log"
grep -m1 "INVALID-SPI.*R-U-THERE" "$LAB_DIR/kizunad-a.log" | sed 's/^/# a: /' || true
grep -m1 "DPD: peer .* is dead" "$LAB_DIR/kizunad-a.log" | sed 's/^/# a: /' || true
round b-stop b stop
lab_kill ping
lab_capture_stop

# ---- what B sent while A's ESP was stale (b-kill round)
cap=$LAB_DIR/b-wan.pcap
# packets of the capture matching a display filter; "error" when tshark
# refuses the filter (a broken filter must not count as zero)
cap_count() {
	local out
	out=$(tshark -n -r "$cap" -Y "$1" 2>/dev/null) || { echo error; return 0; }
	[ -n "$out" ] || { echo 0; return 0; }
	printf '%s\n' "$out" | wc -l
}
ts=${t_start[b-kill]} te=${t_up[b-kill]}
am1=$(tshark -n -r "$cap" -Y "frame.time_epoch > $ts && frame.time_epoch < $te && ip.dst == $GW_B_WAN && isakmp.exchangetype == 4" \
	-T fields -e frame.time_epoch 2>/dev/null | head -n 1) || true
if [ -z "$am1" ]; then
	nok "b-kill: A's new Aggressive mode message 1 is in B's capture"
	am1=$te
fi
win=$(awk -v a="$ts" -v b="$am1" 'BEGIN { printf "%.2f", b - a }')
in_win="frame.time_epoch > $ts && frame.time_epoch < $am1"
stale_in=$(cap_count "$in_win && ip.dst == $GW_B_WAN && esp")
sent=$(cap_count "$in_win && ip.src == $GW_B_WAN && udp && !icmp")
icmp=$(cap_count "$in_win && ip.src == $GW_B_WAN && icmp")
inv=$(cap_count "$in_win && ip.src == $GW_B_WAN && isakmp.notify.msgtype == 11 && isakmp.notify.protoid == 3")
max_inv=$(awk -v w="$win" 'BEGIN { printf "%d", w + 1 }')
echo "# b-kill: ${win} s from B's restart to A's new AM1: B got $stale_in stale ESP packets and sent $sent UDP datagrams, $inv of them INVALID-SPI (at most $max_inv); $icmp ICMP from B's kernel (port 4500 not open yet)"
expect "b-kill: B answered stale ESP with INVALID-SPI ($inv)" test "$inv" -ge 1
expect "b-kill: at most one INVALID-SPI per second ($inv in ${win} s)" test "$inv" -le "$max_inv"
expect "b-kill: B sent nothing but those notifies ($sent datagrams)" test "$sent" = "$inv"
expect "b-kill: A kept sending stale ESP meanwhile ($stale_in)" test "$stale_in" -ge 10
expect "no sanitizer report in the logs" no_report
[ "$fails" -eq 0 ] || kz_logs a b

echo "restart: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
[ "$fails" -eq 0 ]
