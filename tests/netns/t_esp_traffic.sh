#!/usr/bin/env bash
# The ESP data plane end to end: kizuna <-> kizuna, LAN A <-> LAN B.
#  1. Main mode, global lab, plain ESP (examples/main-a.conf, main-b.conf as
#     they are: both sites initiate at once), then the rest with site B on
#     `initiate on-demand` (only A initiates) if the simultaneous start did
#     not end in one working pair on each side.
#  2. Aggressive mode, site A behind the carrier NAT, ESP-in-UDP
#     (examples/site-a.conf, site-b.conf).
# In each: pings both ways; a 20 MB TCP copy with its sha256 compared; a short
# iperf3 run; `show ipsec sa` counters moved (A's outbound ~ B's inbound);
# traffic routed into IPsec0 outside the selectors is dropped and counted,
# never sent; captures on the WAN (gw-b's wan0, the carrier's side towards
# gw-a) hold only ESP or UDP 500/4500 between the gateways, in the expected
# encapsulation, and no address of either LAN; too-large packets with DF get
# "frag needed" with the tunnel MTU, without DF they get through; with
# `tcp-mss auto` on IPsec0 a SYN reaches LAN B with MSS <= tunnel MTU - 40.
#
# Usage: t_esp_traffic.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin python3:python3 tshark:tshark dumpcap:tshark iperf3:iperf3 ping:iputils-ping

inj=$here/esp_inject.py
py() { python3 "$inj" "$@"; }

tun_pkts() { lab_exec "$1" cat "/sys/class/net/ipsec0/statistics/$2_packets"; } # ns rx|tx
sa_pkts() { kz "$1" show ipsec sa json | py sa-packets "$2"; } # site in|out
dp_stat() { kz "$1" show ipsec statistics json | py stat "$2"; } # site key|drop:why
ping_ok() { lab_exec "$1" ping -n -q -c "${3:-3}" -i 0.2 -W 2 "$2" >/dev/null 2>&1; }
ping_both() { ping_ok lan-a "$LAN_B_HOST" 1 && ping_ok lan-b "$LAN_A_HOST" 1; }
count() { tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l; } # pcap display-filter
# Bytes, not packets: a sender batching with UDP GSO puts several ESP
# packets in one frame on a veth.
bytes() { tshark -n -r "$1" -Y "$2" -T fields -e frame.len 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }

# Console config on a gateway: lines on stdin, in configure terminal.
kz_conf() { # site
	{ echo "configure terminal"; cat; echo "end"; } | kz "$1" >/dev/null
}

# The SYN of a connection from lan-a to LAN B's port, as captured on lan-b's
# eth0: prints its MSS option.
syn_mss() { # tag port
	local cap="$LAB_DIR/syn-$1.pcap"
	lab_capture_start lan-b "$HOST_IF" "$cap"
	lab_exec lan-a timeout 5 python3 "$inj" tcp-send "$LAN_B_HOST" "$2" /dev/null >/dev/null 2>&1 || true
	lab_capture_stop "$cap"
	tshark -n -r "$cap" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == $2" \
		-T fields -e tcp.options.mss_val 2>/dev/null | head -n 1
}

# Everything but the tunnel set-up: $1 is the tag (main, aggr), $2 the
# expected encapsulation (esp, udp).
traffic() {
	local tag=$1 encap=$2 mtu a_out b_in b_out a_in n out cap_b cap_c f
	local err mss1 mss2 sum1 sum2

	cap_b="$LAB_DIR/$tag-gwb-wan.pcap"
	cap_c="$LAB_DIR/$tag-carrier-a.pcap"
	lab_capture_start gw-b "$WAN_IF" "$cap_b"
	lab_capture_start carrier "$CARRIER_IF_A" "$cap_c"

	expect "$tag: ping LAN A -> LAN B" ping_ok lan-a "$LAN_B_HOST"
	expect "$tag: ping LAN B -> LAN A" ping_ok lan-b "$LAN_A_HOST"

	mtu=$(lab_exec gw-a cat /sys/class/net/ipsec0/mtu)
	# MSS clamping, before any large packet: lan-a would learn the path
	# MTU (frag needed) and lower its MSS by itself.  Without tcp-mss the
	# SYN keeps lan-a's MSS (1460, the control); with `tcp-mss auto` on A's
	# IPsec0 it is clamped (and stays on for the rest).
	mss1=$(syn_mss "$tag-off" 5002)
	expect "$tag: without tcp-mss the SYN's MSS is unclamped (${mss1:-none})" test "${mss1:-0}" -eq 1460
	kz_conf a <<EOF
interface IPsec0
tcp-mss auto
EOF
	# A config change may reach the packet path a moment later (the
	# data plane picks it up within about a second): up to 3 tries.
	for n in 1 2 3; do
		mss2=$(syn_mss "$tag-auto-$n" $((5002 + n)))
		[ "${mss2:-99999}" -gt $((mtu - 40)) ] || break
		sleep 1
	done
	expect "$tag: tcp-mss auto: SYN's MSS ${mss2:-none} <= MTU - 40 ($((mtu - 40)))" \
		test "${mss2:-99999}" -le $((mtu - 40)) -a "${mss2:-0}" -ge $((mtu - 80))

	# 20 MB of random bytes over TCP, checksum compared.
	head -c 20000000 /dev/urandom >"$LAB_DIR/bulk"
	sum1=$(sha256sum <"$LAB_DIR/bulk" | cut -d' ' -f1)
	rm -f "$LAB_DIR/sink.out"
	lab_bg lan-b "sink-$tag" python3 "$inj" tcp-sink 5001 "$LAB_DIR/sink.out"
	lab_wait_for 5 sh -c "ip netns exec $NS_LAN_B ss -ltn | grep -q ':5001 '" || true
	tun0=$(tun_pkts gw-a tx) esp0=$(sa_pkts a out) tunb0=$(tun_pkts gw-b rx) espb0=$(sa_pkts b in)
	if lab_exec lan-a timeout 30 python3 "$inj" tcp-send "$LAN_B_HOST" 5001 "$LAB_DIR/bulk" &&
		lab_wait_for 10 test -s "$LAB_DIR/sink.out"; then
		sum2=$(cut -d' ' -f2 "$LAB_DIR/sink.out")
		expect "$tag: 20 MB TCP copy LAN A -> LAN B, sha256 equal" test "$sum1" = "$sum2"
		# TUN offloads: A reads TCP bursts, each cut into several ESP
		# packets; B joins the decrypted segments into fewer writes.
		tun1=$(tun_pkts gw-a tx) esp1=$(sa_pkts a out) tunb1=$(tun_pkts gw-b rx) espb1=$(sa_pkts b in)
		expect "$tag: A read TCP bursts from ipsec0 ($((tun1 - tun0)) frames, $((esp1 - esp0)) ESP packets)" \
			test $((esp1 - esp0)) -ge $((2 * (tun1 - tun0)))
		expect "$tag: B joined TCP segments into ipsec0 writes ($((espb1 - espb0)) ESP packets, $((tunb1 - tunb0)) writes)" \
			test $((espb1 - espb0)) -ge $((2 * (tunb1 - tunb0)))
	else
		nok "$tag: 20 MB TCP copy LAN A -> LAN B did not complete"
	fi
	lab_kill "sink-$tag" 1

	# Routed into IPsec0 but outside every selector: dropped, counted,
	# and no ESP leaves for it.
	kz_conf a <<<"ip route 10.99.0.0/16 IPsec0"
	n=$(dp_stat a outbound_no_sa)
	a_out=$(sa_pkts a out)
	expect "$tag: ping to 10.99.0.1 (outside the selectors) fails" \
		sh -c "! ip netns exec $NS_LAN_A ping -n -q -c 3 -i 0.2 -W 1 10.99.0.1 >/dev/null 2>&1"
	out=$(dp_stat a outbound_no_sa)
	expect "$tag: outbound outside every selector counted (+$((out - n)), want +3)" \
		test "$((out - n))" -ge 3
	expect "$tag: no ESP sent for the packets outside the selectors" \
		test "$(sa_pkts a out)" -eq "$a_out"
	kz_conf a <<<"no ip route 10.99.0.0/16 IPsec0" || true

	# Path MTU: DF set and too big -> frag needed with the tunnel's MTU;
	# without DF the packet gets through (fragmented); the largest DF
	# packet that fits gets through.
	expect "$tag: tunnel MTU sane ($mtu)" test "$mtu" -ge 1280 -a "$mtu" -le 1500
	expect "$tag: ping -s 1600 -M dont crosses" \
		sh -c "ip netns exec $NS_LAN_A ping -n -q -c 2 -i 0.2 -W 2 -s 1600 -M dont $LAN_B_HOST >/dev/null"
	err=$(lab_exec lan-a ping -n -c 2 -i 0.2 -W 1 -s "$mtu" -M "do" "$LAN_B_HOST" 2>&1 || true)
	if printf '%s\n' "$err" | grep -Eq "mtu ?= ?$mtu"; then
		ok "$tag: ping -M do above the tunnel MTU gets frag needed (mtu = $mtu)"
	else
		nok "$tag: ping -M do above the tunnel MTU gets frag needed (mtu = $mtu): $err"
	fi
	expect "$tag: ping -M do of exactly the tunnel MTU crosses" \
		sh -c "ip netns exec $NS_LAN_A ping -n -q -c 2 -i 0.2 -W 2 -s $((mtu - 28)) -M do $LAN_B_HOST >/dev/null"

	lab_capture_stop "$cap_b"
	lab_capture_stop "$cap_c"

	# Counters: A's outbound ~ B's inbound and the other way round (read
	# while nothing else flows).
	sleep 0.5
	a_out=$(sa_pkts a out)
	b_in=$(sa_pkts b in)
	b_out=$(sa_pkts b out)
	a_in=$(sa_pkts a in)
	expect "$tag: A's outbound counter moved ($a_out packets, 20 MB is > 13000)" test "$a_out" -gt 13000
	expect "$tag: B's inbound ($b_in) = A's outbound ($a_out) within 1%" \
		test "$b_in" -le "$a_out" -a "$((b_in * 100))" -ge "$((a_out * 99))"
	expect "$tag: A's inbound ($a_in) = B's outbound ($b_out) within 1%" \
		test "$a_in" -le "$b_out" -a "$b_out" -gt 0 -a "$((a_in * 100))" -ge "$((b_out * 99))"

	# The WAN: only IKE and ESP between the gateways, nothing from the LANs.
	for f in "$cap_b" "$cap_c"; do
		n=$(count "$f" 'ip and not (ip.proto == 50 or udp.port == 500 or udp.port == 4500)')
		expect "$tag: ${f##*/}: only ESP / UDP 500 / UDP 4500 ($n other IP packets)" test "$n" -eq 0
		n=$(count "$f" 'ip.addr == 192.168.0.0/16 or ip.addr == 10.99.0.0/16 or icmp or tcp')
		expect "$tag: ${f##*/}: no plaintext ICMP/TCP and no LAN address ($n)" test "$n" -eq 0
		if [ "$encap" = esp ]; then
			n=$(bytes "$f" 'ip.proto == 50')
			expect "$tag: ${f##*/}: the 20 MB copy went as plain ESP ($n bytes)" test "$n" -gt 20000000
			n=$(count "$f" 'udp.port == 4500')
			expect "$tag: ${f##*/}: no UDP 4500 ($n)" test "$n" -eq 0
		else
			n=$(bytes "$f" 'udp.port == 4500 and esp')
			expect "$tag: ${f##*/}: the 20 MB copy went as ESP in UDP 4500 ($n bytes)" test "$n" -gt 20000000
			n=$(count "$f" 'ip.proto == 50')
			expect "$tag: ${f##*/}: no plain ESP ($n)" test "$n" -eq 0
		fi
	done
	expect "$tag: the carrier dropped no private-range packet" test "$(lab_carrier_drops)" -eq 0

	# iperf3, after the captures (they would cost more than the run).
	lab_bg lan-b "iperf-$tag" iperf3 -s -1
	lab_wait_for 5 sh -c "ip netns exec $NS_LAN_B ss -ltn | grep -q ':5201 '" || true
	out=$(lab_exec lan-a timeout 20 iperf3 -c "$LAN_B_HOST" -t 2 -f m 2>&1) || out=
	n=$(printf '%s\n' "$out" | awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print int($i) }')
	expect "$tag: iperf3 LAN A -> LAN B for 2 s (${n:-no result} Mbit/s)" test "${n:-0}" -gt 1
	lab_kill "iperf-$tag" 1

	expect "$tag: the SA pair still passes traffic both ways" ping_both
	expect "$tag: kizunad on gw-a still runs" lab_alive kizunad-a
	expect "$tag: kizunad on gw-b still runs" lab_alive kizunad-b
}

# ---- 1: Main mode, global addresses, plain ESP
lab_up global
kz_pair_start "$top/examples/main-b.conf" "$top/examples/main-a.conf"
expect_ipsec_up "main: IPsec SAs established on both sites"
# Both sites name each other and start at once: the duplicates must be
# reduced to one working pair (shared/spec/config-language.md): B's
# retransmission reaches A about 2 s after start; the duplicate is deleted
# once the survivor carries traffic.
one_pair() { test "$(kz "$1" show ipsec sa | grep -c '^satype: esp spi=')" -eq 2; }
one_pair_each() { one_pair a && one_pair b; }
sleep 4
ping_both || true
if lab_wait_for 10 one_pair_each &&
	ping_both && sleep 2 && ping_both; then
	ok "main: both initiated at once, traffic passes both ways afterwards"
else
	nok "main: both initiated at once, traffic passes both ways afterwards"
	echo "# A: $(kz a show ipsec sa | grep -c 'spi=') SAs, B: $(kz b show ipsec sa | grep -c 'spi=') SAs;" \
		"B's inbound ESP for no SA: $(dp_stat b no_sa), A's: $(dp_stat a no_sa);" \
		"ping A->B: $(ping_ok lan-a "$LAN_B_HOST" 1 && echo ok || echo lost)," \
		"B->A: $(ping_ok lan-b "$LAN_A_HOST" 1 && echo ok || echo lost)"
	echo "# continuing with site B on 'initiate on-demand' (only A initiates)"
	kz_pair_stop
	kz_ondemand "$top/examples/main-b.conf" "$LAB_DIR/main-b-ondemand.conf"
	kz_pair_start "$LAB_DIR/main-b-ondemand.conf" "$top/examples/main-a.conf"
	lab_wait_for 20 kz_ipsec_up a || true
	lab_wait_for 5 kz_ipsec_up b || true
	lab_wait_for 10 ping_both || true
fi
traffic main esp
kz_pair_stop
lab_down

# ---- 2: Aggressive mode, A behind the carrier NAT, ESP in UDP
lab_up cgnat
kz_pair_start "$top/examples/site-b.conf" "$top/examples/site-a.conf"
expect_ipsec_up "aggr: IPsec SAs established on both sites"
traffic aggr udp
kz_pair_stop

check_tally esp-traffic
