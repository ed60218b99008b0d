#!/usr/bin/env bash
# The data plane with two workers (kizunad --workers 2) on both gateways,
# kizuna <-> kizuna:
#  1. Main mode, global lab, plain ESP (examples/main-a.conf, main-b.conf
#     with site B on `initiate on-demand`, so there is one SA pair);
#  2. Aggressive mode, site A behind the carrier NAT, ESP-in-UDP
#     (examples/site-a.conf, site-b.conf).
# In each:
#  - steering by SPI, through the kernel's filters (the raw sockets' socket
#    filter, the port 4500 reuseport program): ESP injected from gw-a with
#    SPIs no SA has, 5 with an even SPI and 7 with an odd one, is counted as
#    "for no SA" by gw-b's worker 0 exactly 5 times and worker 1 exactly 7;
#  - a 20 MB TCP copy LAN A -> LAN B, sha256 compared, and iperf3 with 4
#    streams each way;
#  - each gateway's inbound SA was decrypted by worker SPI % 2 alone (the
#    other worker decrypted none), the workers' outbound packets add up to
#    the outbound SA's counter, no replay drops, and on the WAN (gw-b's
#    wan0, tshark) no sequence number seen twice for one SPI;
#  - then new SAs (cleared) until on each gateway both workers have carried
#    packets in and out (a new pair's SPIs are random: each round a
#    gateway's inbound SA lands on worker 0 or 1), with traffic each round;
#    still no replay drops.
#
# Usage: t_workers.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin python3:python3 tshark:tshark dumpcap:tshark iperf3:iperf3 ping:iputils-ping
export KZ_DAEMON_OPTS="--workers 2" # read by kz_start (ike_lib.sh)

inj=$here/esp_inject.py
py() { python3 "$inj" "$@"; }
inject() { lab_exec gw-a python3 "$inj" "$@"; } # from gw-a, as the peer sends
wstat() { kz "$1" show ipsec statistics json | py worker "$2" "$3"; } # site worker key
dp_stat() { kz "$1" show ipsec statistics json | py stat "$2"; }      # site key|drop:why
sa_pkts() { kz "$1" show ipsec sa json | py sa-packets "$2"; }        # site in|out
ping_ok() { lab_exec "$1" ping -n -q -c "${3:-3}" -i 0.2 -W 2 "$2" >/dev/null 2>&1; }
ping_both() { ping_ok lan-a "$LAN_B_HOST" 1 && ping_ok lan-b "$LAN_A_HOST" 1; }

# iperf3 with 4 streams from LAN A to LAN B (reverse: B to A) for $2 s:
# prints Mbit/s, empty when it did not run.
iperf() { # tag seconds [-R]
	local out
	lab_bg lan-b "iperf-$1" iperf3 -s -1
	lab_wait_for 5 sh -c "ip netns exec $NS_LAN_B ss -ltn | grep -q ':5201 '" || true
	# shellcheck disable=SC2086 # ${3:-}: an option or nothing
	out=$(lab_exec lan-a timeout $(($2 + 15)) iperf3 -c "$LAN_B_HOST" -P 4 -t "$2" -f m ${3:-} 2>&1) || out=
	lab_kill "iperf-$1" 1
	printf '%s\n' "$out" | awk '/SUM.*receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print int($i) }'
}

# Both workers of a site decrypted (in) and encrypted (out) packets.
all_used() { # site
	local w k
	for w in 0 1; do
		for k in packets_in packets_out; do
			[ "$(wstat "$1" $w $k)" -gt 0 ] || return 1
		done
	done
}

no_replay_drops() { [ "$(dp_stat a drop:replay)" -eq 0 ] && [ "$(dp_stat b drop:replay)" -eq 0 ]; }

traffic() { # tag encap (esp|udp)
	local tag=$1 u="" n0 n1 sum1 sum2 cap n s site spi mine other out sum round
	# A UDP GSO run of up to 64 ESP packets crosses the veth as one frame.
	local min_seen=10000
	[ "$2" = udp ] && u="--udp 4500" min_seen=200

	expect "$tag: A runs 2 data-plane workers" \
		sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show ipsec statistics | grep -q '^worker 1:'"
	expect "$tag: B runs 2 data-plane workers" \
		sh -c "ip netns exec $NS_GW_B $KZ_BUILD/kizuna -s $LAB_DIR/b.sock show ipsec statistics | grep -q '^worker 1:'"

	# Steering by SPI: worker SPI % 2 gets it, nobody else.
	n0=$(wstat b 0 no_sa) n1=$(wstat b 1 no_sa)
	# shellcheck disable=SC2086 # $u: options
	inject esp "$GW_B_WAN" 0x4b5a0002 1 64 --count 5 $u
	# shellcheck disable=SC2086
	inject esp "$GW_B_WAN" 0x4b5a0003 1 64 --count 7 $u
	sleep 0.5
	n0=$(($(wstat b 0 no_sa) - n0)) n1=$(($(wstat b 1 no_sa) - n1))
	expect "$tag: ESP for no SA with an even SPI went to worker 0 only (5 sent: +$n0)" test "$n0" -eq 5
	expect "$tag: ESP for no SA with an odd SPI went to worker 1 only (7 sent: +$n1)" test "$n1" -eq 7

	# 20 MB of random bytes over TCP, checksum compared, captured on the WAN.
	cap="$LAB_DIR/$tag-gwb-wan.pcap"
	lab_capture_start gw-b "$WAN_IF" "$cap"
	head -c 20000000 /dev/urandom >"$LAB_DIR/bulk"
	sum1=$(sha256sum <"$LAB_DIR/bulk" | cut -d' ' -f1)
	rm -f "$LAB_DIR/sink.out"
	lab_bg lan-b "sink-$tag" python3 "$inj" tcp-sink 5001 "$LAB_DIR/sink.out"
	lab_wait_for 5 sh -c "ip netns exec $NS_LAN_B ss -ltn | grep -q ':5001 '" || true
	if lab_exec lan-a timeout 30 python3 "$inj" tcp-send "$LAN_B_HOST" 5001 "$LAB_DIR/bulk" &&
		lab_wait_for 10 test -s "$LAB_DIR/sink.out"; then
		sum2=$(cut -d' ' -f2 "$LAB_DIR/sink.out")
		expect "$tag: 20 MB TCP copy LAN A -> LAN B, sha256 equal" test "$sum1" = "$sum2"
	else
		nok "$tag: 20 MB TCP copy LAN A -> LAN B did not complete"
	fi
	lab_kill "sink-$tag" 1
	lab_capture_stop "$cap"
	# Sequence numbers per SPI on the WAN: none twice.  (Of a UDP GSO run
	# tshark sees the first ESP packet.)
	out=$(tshark -n -r "$cap" -Y esp -T fields -e esp.spi -e esp.sequence 2>/dev/null)
	n=$(printf '%s\n' "$out" | grep -c . || true)
	s=$(printf '%s\n' "$out" | grep . | sort | uniq -d | wc -l)
	expect "$tag: WAN: ESP sequence numbers seen ($n) have no duplicate per SPI ($s)" \
		test "$n" -gt "$min_seen" -a "$s" -eq 0

	n=$(iperf "$tag" 3)
	expect "$tag: iperf3 -P 4 LAN A -> LAN B (${n:-no result} Mbit/s)" test "${n:-0}" -gt 1
	n=$(iperf "$tag-r" 3 -R)
	expect "$tag: iperf3 -P 4 LAN B -> LAN A (${n:-no result} Mbit/s)" test "${n:-0}" -gt 1

	# One SA pair: each gateway's inbound SA is steered to worker SPI % 2.
	sleep 0.5
	for site in a b; do
		spi=$(kz_spi "$site" Inbound)
		mine=$((spi % 2)) other=$((1 - spi % 2))
		n=$(wstat "$site" "$mine" packets_in)
		expect "$tag: $site: inbound spi $spi decrypted by worker $mine ($n packets)" \
			test "$n" -gt 10000
		n=$(wstat "$site" "$other" packets_in)
		expect "$tag: $site: worker $other decrypted nothing ($n)" test "$n" -eq 0
		sum=$(($(wstat "$site" 0 packets_out) + $(wstat "$site" 1 packets_out)))
		n=$(sa_pkts "$site" out)
		expect "$tag: $site: the workers' outbound packets ($sum) are the SA's ($n)" \
			test "$sum" -eq "$n"
	done
	expect "$tag: no replay drops on A ($(dp_stat a drop:replay)) or B ($(dp_stat b drop:replay))" \
		no_replay_drops

	# New SA pairs until both workers carried packets both ways on both
	# gateways.
	for round in 1 2 3 4 5 6 7 8 9 10 11 12; do
		all_used a && all_used b && break
		kz_back_up
		lab_wait_for 10 ping_both || true
		iperf "$tag-$round" 1 >/dev/null
		iperf "$tag-$round-r" 1 -R >/dev/null
	done
	for site in a b; do
		expect "$tag: $site: both workers carried packets in and out (worker 0: $(wstat $site 0 packets_in)/$(wstat $site 0 packets_out), worker 1: $(wstat $site 1 packets_in)/$(wstat $site 1 packets_out))" \
			all_used "$site"
	done
	expect "$tag: still no replay drops on A ($(dp_stat a drop:replay)) or B ($(dp_stat b drop:replay))" \
		no_replay_drops
	expect "$tag: the SA pair passes traffic both ways" lab_wait_for 10 ping_both
	expect "$tag: kizunad on gw-a still runs" lab_alive kizunad-a
	expect "$tag: kizunad on gw-b still runs" lab_alive kizunad-b
}

# ---- 1: Main mode, global addresses, plain ESP; only A initiates
lab_up global
kz_ondemand "$top/examples/main-b.conf" "$LAB_DIR/main-b-ondemand.conf"
kz_pair_start "$LAB_DIR/main-b-ondemand.conf" "$top/examples/main-a.conf"
expect_tunnel_up "main: IPsec SAs established, ping LAN A -> LAN B"
traffic main esp
kz_pair_stop
lab_down

# ---- 2: Aggressive mode, A behind the carrier NAT, ESP in UDP
lab_up cgnat
kz_pair_start "$top/examples/site-b.conf" "$top/examples/site-a.conf"
expect_tunnel_up "aggr: IPsec SAs established, ping LAN A -> LAN B"
traffic aggr udp
kz_pair_stop

check_tally workers
