#!/usr/bin/env bash
# NAT keepalives (RFC 3948 2.3) keep the carrier's NAT mapping of site A
# alive, so site B can reach LAN A after an idle period.
#  1. cgnat lab, the carrier's UDP mappings live 5 s (lab_nat_timeouts, set
#     before the tunnel so every mapping gets it), site A with
#     `nat-traversal keepalive 2`: after 15 s without traffic, LAN B pings
#     LAN A first (only works through a live mapping), then LAN A pings LAN
#     B; gw-b's wan0 saw 1-byte 0xff keepalives from the NAT's address on
#     4500 every ~2 s.
#  2. The control: keepalive 3600 (effectively off), same 5 s mappings: after
#     15 s idle LAN B cannot reach LAN A (the mapping is gone); traffic from
#     LAN A makes a new mapping and LAN B gets through again.
#
# Usage: t_esp_natt.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin tshark:tshark dumpcap:tshark ping:iputils-ping

IDLE=15
ping_ok() { lab_exec "$1" ping -n -q -c "${3:-2}" -i 0.3 -W 2 "$2" >/dev/null 2>&1; }
ping_fails() { ! lab_exec "$1" ping -n -q -c "${3:-3}" -i 0.5 -W 1 "$2" >/dev/null 2>&1; }

# Site A's config with the given keepalive interval (set in the startup
# config: the interval in force when the SA comes up decides the first
# keepalive after the immediate one).
start_pair() { # keepalive_seconds
	sed -e "s/^  nat-traversal\$/  nat-traversal keepalive $1/" "$top/examples/site-a.conf" \
		>"$LAB_DIR/site-a-ka$1.conf"
	grep -q "nat-traversal keepalive $1" "$LAB_DIR/site-a-ka$1.conf" ||
		nok "site-a.conf has no plain 'nat-traversal' line to edit"
	kz_pair_start "$top/examples/site-b.conf" "$LAB_DIR/site-a-ka$1.conf"
	expect_ipsec_up "keepalive $1: IPsec SAs established"
	expect "keepalive $1: running config on A says keepalive $1" \
		sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show running-config | grep -q 'nat-traversal keepalive $1'"
}

lab_up cgnat
lab_nat_timeouts 5

# ---- 1: keepalive 2 s
start_pair 2
expect "keepalive 2: LAN A -> LAN B" ping_ok lan-a "$LAN_B_HOST"
expect "keepalive 2: LAN B -> LAN A" ping_ok lan-b "$LAN_A_HOST"
cap="$LAB_DIR/ka2.pcap"
lab_capture_start gw-b "$WAN_IF" "$cap"
sleep "$IDLE"
expect "keepalive 2: after ${IDLE}s idle, LAN B -> LAN A (through the NAT mapping)" \
	ping_ok lan-b "$LAN_A_HOST"
expect "keepalive 2: after ${IDLE}s idle, LAN A -> LAN B" ping_ok lan-a "$LAN_B_HOST"
lab_capture_stop "$cap"
# Keepalives: UDP 4500 -> 4500 from the NAT's address, one byte 0xff.
ka=$(tshark -n -r "$cap" -Y "ip.src == $GW_A_PUBLIC && ip.dst == $GW_B_WAN && udp.dstport == 4500 && udp.length == 9" \
	-T fields -e udp.payload -e data.data 2>/dev/null | grep -c 'ff' || true)
expect "keepalive 2: gw-b saw 0xff keepalives from gw-a ($ka in ${IDLE}s, want >= $((IDLE / 2 - 2)))" \
	test "$ka" -ge $((IDLE / 2 - 2))
n=$(tshark -n -r "$cap" -Y "ip.src == $GW_A_PUBLIC && udp.length == 9" 2>/dev/null | wc -l)
expect "keepalive 2: every 1-byte datagram from gw-a is 0xff ($ka of $n)" test "$n" -eq "$ka"
n=$(tshark -n -r "$cap" -Y "ip.src == $GW_A_PUBLIC && udp.length == 9" -T fields -e frame.time_relative 2>/dev/null |
	awk 'NR > 1 { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "%d", m * 10 }')
expect "keepalive 2: no gap above 3.5 s between keepalives (max $((${n:-0} / 10)).$((${n:-0} % 10)) s)" \
	test "${n:-999}" -le 35
expect "keepalive 2: kizunad on gw-a still runs" lab_alive kizunad-a
expect "keepalive 2: kizunad on gw-b still runs" lab_alive kizunad-b
kz_pair_stop
# Let the old mappings die before the control.
sleep 6

# ---- 2: the control: keepalives effectively off
start_pair 3600
expect "keepalive 3600: LAN A -> LAN B" ping_ok lan-a "$LAN_B_HOST"
expect "keepalive 3600: LAN B -> LAN A" ping_ok lan-b "$LAN_A_HOST"
sleep "$IDLE"
expect "keepalive 3600: after ${IDLE}s idle, LAN B cannot reach LAN A (mapping expired)" \
	ping_fails lan-b "$LAN_A_HOST"
expect "keepalive 3600: LAN A -> LAN B makes a new mapping" ping_ok lan-a "$LAN_B_HOST"
expect "keepalive 3600: then LAN B -> LAN A works again" ping_ok lan-b "$LAN_A_HOST"
expect "keepalive 3600: kizunad on gw-a still runs" lab_alive kizunad-a
expect "keepalive 3600: kizunad on gw-b still runs" lab_alive kizunad-b
kz_pair_stop

check_tally esp-natt
