#!/usr/bin/env bash
# Crafted and replayed ESP against an established kizuna <-> kizuna tunnel:
# gw-b must drop each packet for the right reason, count it in
# `show ipsec statistics`, write nothing to its ipsec0 (the device's
# rx_packets, which counts what the daemon writes, stays put), keep running
# and keep passing real traffic.  Packets are sent from gw-a's namespace
# (esp_inject.py), so they reach gw-b the way the peer's do.
#  1. cgnat lab, Aggressive mode, ESP in UDP 4500 (examples/site-*.conf).
#  2. global lab, Main mode, plain ESP (examples/main-*.conf; site B on
#     `initiate on-demand` so only A initiates: t_esp_traffic.sh tests the
#     simultaneous start).
# Forged packets carry 96 random bytes after SPI and sequence number: a
# whole number of blocks between IV and ICV for aes-cbc + hmac-sha2-256 and
# aes-gcm alike, so they reach the ICV check.
# Cases: too short to hold an SPI (protocol 50 and UDP); truncated ESP with the right SPI; unknown
# SPI (UDP and protocol 50); the SA's SPI in the encapsulation it was not
# negotiated for (wrong-encapsulation); 1, 3 and 5-byte junk on 4500
# (malformed); right SPI with random bytes for IV, payload and
# ICV ahead of the window (icv: and the window must not move, real traffic
# goes on); with aes-cbc, a payload of no whole blocks; a captured packet sent again (replay); the first captured packet
# sent after more than a window's worth of newer ones (replay, although its
# ICV is good); a forged packet with sequence number 1 (replay, before the
# ICV is even computed); on 4500 a bare non-ESP marker, a marker with junk,
# a keepalive, an empty datagram (none of them is ESP: nothing counted per
# SA); a burst of 2000 forged packets.
# Not covered: an authentic ESP packet whose inner packet is outside the
# selectors needs the SA's keys (kizunad on gw-a never sends one: it checks
# the selectors before encrypting); the unit tests of src/esp cover it.
#
# Usage: t_esp_badinput.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin python3:python3 dumpcap:tshark ping:iputils-ping

inj=$here/esp_inject.py
py() { python3 "$inj" "$@"; }

sa_pkts() { kz "$1" show ipsec sa json | py sa-packets "$2"; } # site in|out
dp_stat() { kz "$1" show ipsec statistics json | py stat "$2"; } # site key|drop:why
b_tun_rx() { lab_exec gw-b cat "/sys/class/net/ipsec0/statistics/rx_packets"; }
ping_ok() { lab_exec "$1" ping -n -q -c "${3:-2}" -i 0.2 -W 2 "$2" >/dev/null 2>&1; }
inject() { lab_exec gw-a python3 "$inj" "$@"; } # esp_inject.py in gw-a

# One case: counter KEY (global key or drop:REASON) of gw-b must rise by
# exactly WANT (">=N" for at least N) while the command runs; gw-b's ipsec0
# gets nothing and its inbound SA counts no packet.
case_() { # tag name key want cmd...
	local tag=$1 name=$2 key=$3 want=$4 c0 c1 r0 r1 p0 p1 d
	shift 4
	c0=$(dp_stat b "$key")
	r0=$(b_tun_rx)
	p0=$(sa_pkts b in)
	if ! "$@" >/dev/null; then
		nok "$tag: $name: sending failed"
		return
	fi
	sleep 0.3
	c1=$(dp_stat b "$key")
	r1=$(b_tun_rx)
	p1=$(sa_pkts b in)
	d=$((c1 - c0))
	case "$want" in
	'>='*) expect "$tag: $name: $key +$d (want $want)" test "$d" -ge "${want#>=}" ;;
	'<='*) expect "$tag: $name: $key +$d (want $want)" test "$d" -ge 0 -a "$d" -le "${want#<=}" ;;
	*) expect "$tag: $name: $key +$d (want +$want)" test "$d" -eq "$want" ;;
	esac
	expect "$tag: $name: nothing written to gw-b's ipsec0 (rx $r0 -> $r1)" test "$r0" -eq "$r1"
	expect "$tag: $name: B's inbound SA counted no packet ($p0 -> $p1)" test "$p0" -eq "$p1"
}

per_sa_total() { # all per-SA drops on gw-b
	kz b show ipsec statistics json | python3 -c 'import json,sys; print(sum(sum(s["drops"].values()) for s in json.load(sys.stdin)["sas"]))'
}

suite() { # tag udp|esp
	local tag=$1 encap=$2 spi u="" cap seq n t0 t1 d
	[ "$encap" = esp ] || u="--udp 4500"
	spi=$(kz_spi b Inbound)
	expect "$tag: B's inbound SPI known (${spi:-none})" test -n "$spi"
	[ -n "$spi" ] || return 0
	expect "$tag: tunnel passes traffic before" ping_ok lan-a "$LAN_B_HOST"

	# A real packet to replay: capture a few pings on gw-b's WAN.
	cap="$LAB_DIR/$tag-real.pcap"
	lab_capture_start gw-b "$WAN_IF" "$cap"
	ping_ok lan-a "$LAN_B_HOST" 3 || true
	lab_capture_stop "$cap"
	seq=$(py maxseq "$cap" "$spi")
	expect "$tag: captured real ESP with spi $spi (last seq $seq)" test "$seq" -gt 0

	# shellcheck disable=SC2086
	{
		# Too short for an SPI: as protocol 50 "ESP for no SA"; on 4500
		# it is neither keepalive, ESP nor IKE: malformed.
		if [ -n "$u" ]; then
			case_ "$tag" "3-byte datagram on 4500" malformed 1 inject raw "$GW_B_WAN" 000001 $u
			case_ "$tag" "1-byte datagram on 4500, not 0xff" malformed 1 \
				inject raw "$GW_B_WAN" fe $u
			case_ "$tag" "5 bytes on 4500, no marker" malformed 1 \
				inject raw "$GW_B_WAN" 0102030405 $u
		fi
		case_ "$tag" "3-byte ESP (no SPI)" no_sa 1 inject raw "$GW_B_WAN" 000001
		case_ "$tag" "right SPI, 12 bytes" drop:truncated 1 inject esp "$GW_B_WAN" "$spi" $((seq + 1)) 4 $u
		case_ "$tag" "unknown SPI" no_sa 1 inject esp "$GW_B_WAN" 0xdeadbeef 1 100 $u
		case_ "$tag" "unknown SPI as protocol 50" no_sa 1 inject esp "$GW_B_WAN" 0xdeadbef0 1 100
		# The SA's SPI in the other encapsulation than negotiated.
		if [ -n "$u" ]; then
			case_ "$tag" "right SPI as plain protocol 50" drop:wrong-encapsulation 1 \
				inject esp "$GW_B_WAN" "$spi" $((seq + 1000)) 96
		else
			case_ "$tag" "right SPI in UDP 4500" drop:wrong-encapsulation 1 \
				inject esp "$GW_B_WAN" "$spi" $((seq + 1000)) 96 --udp 4500
		fi
		case_ "$tag" "right SPI, random IV/payload/ICV, seq ahead" drop:icv 1 \
			inject esp "$GW_B_WAN" "$spi" $((seq + 1000)) 96 $u
		# site-*.conf use aes-cbc: 100 bytes after the header is no
		# whole number of blocks between the IV and the ICV.
		[ "$encap" = esp ] ||
			case_ "$tag" "right SPI, aes-cbc payload not whole blocks" drop:misaligned 1 \
				inject esp "$GW_B_WAN" "$spi" $((seq + 1000)) 100 $u
		case_ "$tag" "captured packet again" drop:replay 1 inject replay "$cap" "$GW_B_WAN" "$spi" $u
	}
	# The forged packet ahead of the window did not move it: the next real
	# packets (seq+1...) are accepted.
	expect "$tag: the window did not move for the forged seq $((seq + 1000)): traffic passes" \
		ping_ok lan-a "$LAN_B_HOST"
	# Push the window past the captured packets, then the oldest again.
	lab_exec lan-a ping -n -q -c 100 -i 0.01 -W 1 "$LAN_B_HOST" >/dev/null 2>&1 || true
	# shellcheck disable=SC2086
	{
		case_ "$tag" "captured packet, now older than the window" drop:replay 1 \
			inject replay "$cap" "$GW_B_WAN" "$spi" --nth 0 $u
		case_ "$tag" "forged seq 1 (behind the window)" drop:replay 1 \
			inject esp "$GW_B_WAN" "$spi" 1 96 $u
	}
	# UDP 4500 datagrams that are no ESP: the non-ESP marker hands them
	# to IKE, a 1-byte 0xff is a keepalive; none is an SA's drop.
	t0=$(per_sa_total)
	case_ "$tag" "4500: bare non-ESP marker (zero SPI)" drop:icv 0 inject raw "$GW_B_WAN" 00000000 --udp 4500
	case_ "$tag" "4500: marker and junk" drop:icv 0 inject raw "$GW_B_WAN" 00000000deadbeefcafe0102 --udp 4500
	case_ "$tag" "4500: keepalive" drop:icv 0 inject raw "$GW_B_WAN" ff --udp 4500
	case_ "$tag" "4500: empty datagram" drop:icv 0 inject raw "$GW_B_WAN" "" --udp 4500
	case_ "$tag" "4500: empty datagram is malformed" malformed 1 inject raw "$GW_B_WAN" "" --udp 4500
	t1=$(per_sa_total)
	expect "$tag: 4500 non-ESP: no per-SA drop counted ($t0 -> $t1)" test "$t0" -eq "$t1"
	# shellcheck disable=SC2086
	case_ "$tag" "2000 forged packets" drop:icv ">=1000" \
		inject esp "$GW_B_WAN" "$spi" $((seq + 5000)) 96 --count 2000 $u

	expect "$tag: kizunad on gw-b still runs" lab_alive kizunad-b
	expect "$tag: kizunad on gw-a still runs" lab_alive kizunad-a
	expect "$tag: tunnel still passes LAN A -> LAN B" ping_ok lan-a "$LAN_B_HOST"
	expect "$tag: tunnel still passes LAN B -> LAN A" ping_ok lan-b "$LAN_A_HOST"
	n=$(dp_stat b drop:bad-spi)
	expect "$tag: nothing counted as bad-spi on the SA ($n)" test "$n" -eq 0
}

# ---- 1: ESP in UDP (cgnat lab)
lab_up cgnat
kz_pair_start "$top/examples/site-b.conf" "$top/examples/site-a.conf"
expect_ipsec_up "udp: IPsec SAs established"
suite udp udp
kz_pair_stop
lab_down

# ---- 2: plain ESP (global lab)
lab_up global
kz_ondemand "$top/examples/main-b.conf" "$LAB_DIR/main-b-ondemand.conf"
kz_pair_start "$LAB_DIR/main-b-ondemand.conf" "$top/examples/main-a.conf"
expect_ipsec_up "esp: IPsec SAs established"
suite esp esp
kz_pair_stop

check_tally esp-badinput
