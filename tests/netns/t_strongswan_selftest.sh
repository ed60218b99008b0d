#!/usr/bin/env bash
#
# t_strongswan_selftest.sh [build-dir] - proves the strongSwan harness
# (strongswan.sh) with charon on both gateways, kernel-libipsec as the data
# plane:
#   1. global lab, Main mode, address identities, aes256-sha256-modp2048 for
#      IKE and ESP (PFS), 192.168.1.0/24 <-> 192.168.2.0/24: IKE and CHILD
#      SAs up on both sides with matching SPIs and algorithms, routes in
#      table 220 via ipsec0, ping LAN A -> LAN B through the tunnel;
#   2. cgnat lab, Aggressive mode, KEY_ID identities, gw-a behind the
#      carrier's NAT: NAT detected, NAT-T on 4500, ping through the tunnel;
#   3. in both, a capture on gw-b's wan0 holds only UDP 500/4500 (IKE and
#      ESP-in-UDP), no plaintext ICMP; a control capture of a plain ping shows
#      that the check does see plaintext.
# Also prints the time to establish and the iperf3 throughput LAN A -> LAN B
# (numbers only, no threshold; iperf3 is optional).
# Cleans up and checks that no namespace or charon of this run is left.
# Exit 0 pass, 1 fail, 77 skip (no root or tools; a failure under CI=true).
# Knobs: SS_LOGLEVEL (charon's log level), SS_IPERF_SECONDS (default 3),
# LAB_KEEP=1 (keep logs and captures).

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/netns/strongswan.sh
. "$HERE/strongswan.sh"

ss_require
lab_require_cmd ping iputils-ping
lab_require_cmd tshark tshark
lab_require_cmd python3 python3
lab_require_nat_tool
lab_traps

CHARON_PIDS=""
PSK="kizuna-selftest-$$"
SECS=${SS_IPERF_SECONDS:-3}
# check_eq <description> <expected> <actual>
check_eq() {
	if [ "$2" = "$3" ]; then
		lab_pass "$1"
	else
		lab_fail "$1 (expected '$2', got '$3')"
	fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

ping_through() { lab_exec lan-a ping -n -q -c 3 -i 0.2 -W 2 "$LAN_B_HOST" >/dev/null; }

# Packets in a capture matching a display filter.
cap_count() { tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l; }

# The wire check: nothing but IKE/NAT-T on UDP 500 or 4500 (ARP aside) and no
# ICMP visible. Prints what is wrong; status 0 when the capture is clean.
cap_clean() {
	local cap=$1 other icmp
	other=$(cap_count "$cap" "not arp and not (udp.port == 500 or udp.port == 4500)")
	icmp=$(cap_count "$cap" "icmp")
	[ "$other" -eq 0 ] && [ "$icmp" -eq 0 ] && return 0
	echo "$other packets not UDP 500/4500, $icmp ICMP:"
	tshark -n -r "$cap" -Y "not arp and not (udp.port == 500 or udp.port == 4500) or icmp" 2>/dev/null | head -n 5
	return 1
}

no_child() { [ "$(ss_child_count "$1")" = 0 ]; }

# Both sides up: IKE SA established, CHILD_SA installed.
both_up() {
	ss_ike_established a && ss_ike_established b &&
		ss_child_installed a && ss_child_installed b
}

# SPIs and algorithms agree: a's inbound is b's outbound and back.
check_sa_pair() {
	local ia ib ca cb sa sb
	ia=$(ss_ike_spis a) || ia=none
	ib=$(ss_ike_spis b) || ib=none
	check_eq "IKE SPIs (cookies) agree on both sides" "$ia" "$ib"
	check_eq "IKE algorithms on gw-a" "AES_CBC-256 HMAC_SHA2_256_128 PRF_HMAC_SHA2_256 MODP_2048" \
		"$(ss_ike_algs a)"
	check_eq "IKE algorithms on gw-b" "$(ss_ike_algs a)" "$(ss_ike_algs b)"
	ca=$(ss_child_algs a) || ca=none
	cb=$(ss_child_algs b) || cb=none
	check_eq "ESP algorithms on gw-a (PFS MODP-2048)" "AES_CBC-256 HMAC_SHA2_256_128 MODP_2048" "$ca"
	check_eq "ESP algorithms on gw-b" "$ca" "$cb"
	sa=$(ss_child_spis a) || sa="none none"
	sb=$(ss_child_spis b) || sb="none none"
	lab_check "ESP SPIs are 8 hex digits" grep -Eq '^[0-9a-f]{8} [0-9a-f]{8}$' <<<"$sa"
	check_eq "gw-a's SPIs in/out are gw-b's out/in" "$sa" "${sb#* } ${sb% *}"
	check_eq "gw-a's CHILD_SA is ESP-in-UDP (kernel-libipsec)" yes "$(ss_child_encap a)"
	check_eq "one CHILD_SA on gw-a" 1 "$(ss_child_count a)"
	check_eq "one CHILD_SA on gw-b" 1 "$(ss_child_count b)"
}

# The data plane as kernel-libipsec sets it up: ipsec0, route in table 220.
check_routes() {
	lab_check "gw-a has the TUN device ipsec0" lab_exec gw-a ip link show ipsec0
	lab_check "gw-b has the TUN device ipsec0" lab_exec gw-b ip link show ipsec0
	lab_check "gw-a routes LAN B via ipsec0 in table 220" \
		sh -c "ip -n '$NS_GW_A' route show table 220 '$LAN_B_NET' | grep -q 'dev ipsec0'"
	lab_check "gw-b routes LAN A via ipsec0 in table 220" \
		sh -c "ip -n '$NS_GW_B' route show table 220 '$LAN_A_NET' | grep -q 'dev ipsec0'"
}

# Establish a -> b, measure, check both sides. Sets SETUP_MS.
establish() {
	local t0 t1
	t0=$(now_ms)
	if ss_initiate a net 20; then
		lab_pass "swanctl --initiate on gw-a completed"
	else
		lab_fail "swanctl --initiate on gw-a completed"
	fi
	t1=$(now_ms)
	if lab_wait_for 10 both_up; then
		lab_pass "IKE SA established and CHILD_SA installed on both sides"
	else
		lab_fail "IKE SA established and CHILD_SA installed on both sides" \
			"(a: $(ss_ike_state a)/$(ss_child_state a), b: $(ss_ike_state b)/$(ss_child_state b))"
	fi
	SETUP_MS="$(ss_log_setup_ms a) ms in charon's log from 'initiating' to the CHILD_SA, $((t1 - t0)) ms for swanctl --initiate"
	echo "# time to establish: $SETUP_MS"
}

# iperf3 LAN A -> LAN B through the tunnel, a few seconds; prints the numbers.
measure_throughput() {
	local label=$1 json bps
	if ! command -v iperf3 >/dev/null 2>&1; then
		echo "# $label: no iperf3 (apt-get install iperf3), no throughput"
		return 0
	fi
	lab_bg lan-b iperf3-srv iperf3 -s -B "$LAN_B_HOST" -p 5201
	if ! lab_wait_for 10 sh -c "ip netns exec '$NS_LAN_B' ss -Hltn 'sport = :5201' | grep -q ."; then
		lab_fail "$label: iperf3 server listens"
		lab_kill iperf3-srv
		return 0
	fi
	# bounded: with no tunnel, connect() would wait minutes
	json=$(lab_exec lan-a timeout $((SECS + 20)) iperf3 -c "$LAN_B_HOST" -p 5201 \
		-t "$SECS" --connect-timeout 3000 -J 2>/dev/null) || json=""
	lab_kill iperf3-srv
	bps=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(int(d["end"]["sum_received"]["bits_per_second"]))' \
		<<<"$json" 2>/dev/null) || bps=""
	if [ -n "$bps" ] && [ "$bps" -gt 0 ]; then
		lab_pass "$label: iperf3 LAN A -> LAN B through the tunnel"
		echo "# $label: iperf3 LAN A -> LAN B: $((bps / 1000000)) Mbit/s (${SECS}s, TCP, 1 stream)"
	else
		lab_fail "$label: iperf3 LAN A -> LAN B through the tunnel"
	fi
}

start_charon() {
	if ss_start "$1" "$2"; then
		lab_pass "charon on $1 answers, configuration loaded"
	else
		lab_fail "charon on $1 answers, configuration loaded"
	fi
}

# Record charon's pids with their start times (field 22 of /proc/<pid>/stat)
# so the end can check that none is left: a zombie not yet reaped or a pid
# used again by another process is not a charon of this run.
note_pids() {
	local n pid st
	for n in a b; do
		pid=$(lab_pid "ss-$n" 2>/dev/null) || continue
		st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		st=${st##*) }
		# shellcheck disable=SC2086
		set -- $st
		CHARON_PIDS="$CHARON_PIDS $pid:${20}"
	done
}

# Prints the recorded charons still running.
charons_left() {
	local e pid st
	for e in $CHARON_PIDS; do
		pid=${e%%:*}
		st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		st=${st##*) }
		# shellcheck disable=SC2086
		set -- $st
		case "$1" in Z | X | x) continue ;; esac
		[ "${20}" != "${e#*:}" ] || echo "$pid"
	done
}

# start_part <capture>: both charons started (their pids noted), the
# carrier's drops so far in drops0, a capture of gw-b's WAN into the file
# given, then establish.
start_part() {
	start_charon gw-b b
	start_charon gw-a a
	note_pids
	drops0=$(lab_carrier_drops)
	lab_capture_start gw-b "$WAN_IF" "$1"
	establish
}

# check_capture <capture>: stops it; no private-range packet reached the
# carrier since start_part, and the capture holds only UDP 500/4500.
check_capture() {
	lab_capture_stop "$1"
	check_eq "no private-range packet reached the carrier" "$drops0" "$(lab_carrier_drops)"
	if out=$(cap_clean "$1"); then
		lab_pass "capture on gw-b wan0: only UDP 500/4500, no plaintext ICMP"
	else
		lab_fail "capture on gw-b wan0: only UDP 500/4500, no plaintext ICMP: $out"
	fi
}

end_part() {
	if [ "$LAB_PART_FAILED" -ne 0 ]; then
		ss_dump_on_failure a b
		echo "# initiator's swanctl --initiate output:" >&2
		tail -n 30 "$(ss_dir a)/initiate.log" >&2 2>/dev/null || true
	fi
	LAB_PART_FAILED=0
	lab_down
}

# --- 1. Main mode, address identities, global lab --------------------------

echo "# 1. Main mode, address identities, no NAT"
lab_up global
ss_setup gw-a a initiator exchange=main psk="$PSK"
ss_setup gw-b b responder exchange=main psk="$PSK" remote_id="$GW_A_WAN"
lab_check "no /32 needed on lo of gw-a: lan0's address is inside local_ts" \
	test ! -e "$(ss_dir a)/lo_addr"
CAP1=$LAB_DIR/main-gwb-wan0.pcap
start_part "$CAP1"
SETUP1=$SETUP_MS
check_eq "gw-a's IKE SA runs to gw-b on 4500 (NAT-T float)" "$GW_B_WAN 4500" "$(ss_ike_remote a)"
check_eq "gw-b sees gw-a at its own address (no NAT)" "$GW_A_WAN 4500" "$(ss_ike_remote b)"
check_sa_pair
check_routes
if ping_through; then lab_pass "ping LAN A -> LAN B through the tunnel"; else lab_fail "ping LAN A -> LAN B through the tunnel"; fi
lab_check "ping LAN B -> LAN A through the tunnel" lab_exec lan-b ping -n -q -c 2 -i 0.2 -W 2 "$LAN_A_HOST"
pk=$(ss_child_bytes a) || pk="0 0 0 0"
read -r _ _ pkin pkout <<<"$pk"
lab_check "gw-a's CHILD_SA counted the pings (in $pkin, out $pkout packets)" \
	test "$pkin" -ge 3 -a "$pkout" -ge 3
measure_throughput "main mode"
check_capture "$CAP1"
lab_check "capture: Main mode (exchange type 2) on UDP 500" \
	test "$(cap_count "$CAP1" 'isakmp.exchangetype == 2 and udp.port == 500')" -gt 0
lab_check "capture: ESP-in-UDP on 4500 (non-ESP marker absent: ESP)" \
	test "$(cap_count "$CAP1" 'udp.port == 4500 and esp')" -gt 0

# The check above must be able to fail: a plain ping between the WANs is
# plaintext ICMP on the same wire.
CAP0=$LAB_DIR/control-gwb-wan0.pcap
lab_capture_start gw-b "$WAN_IF" "$CAP0"
lab_exec gw-a ping -n -q -c 2 -i 0.2 -W 2 "$GW_B_WAN" >/dev/null 2>&1 || true
lab_capture_stop "$CAP0"
if cap_clean "$CAP0" >/dev/null; then
	lab_fail "control: the wire check sees a plaintext ping"
else
	lab_pass "control: the wire check sees a plaintext ping"
fi

lab_check "ss_terminate deletes the IKE SA on gw-a" ss_terminate a
lab_check "gw-b sees the delete (no CHILD_SA left)" lab_wait_for 10 no_child b
end_part
check_eq "lab_down stopped both charons" "" \
	"$(charons_left)"

# --- 2. Aggressive mode, KEY_ID identities, gw-a behind the carrier NAT -----

echo "# 2. Aggressive mode, KEY_ID identities, behind carrier-grade NAT"
lab_up cgnat
ss_setup gw-a a initiator exchange=aggressive psk="$PSK" \
	local_id=keyid:site-a remote_id=keyid:site-b
ss_setup gw-b b responder exchange=aggressive psk="$PSK" \
	local_id=keyid:site-b remote_id=keyid:site-a
CAP2=$LAB_DIR/aggr-gwb-wan0.pcap
start_part "$CAP2"
SETUP2=$SETUP_MS
check_eq "gw-b sees gw-a at the carrier's NAT address, port 4500" \
	"$CARRIER_NAT_ADDR 4500" "$(ss_ike_remote b)"
lab_check "gw-a detected the NAT in front of itself" grep -qw nat-local <<<"$(ss_ike_nat a)"
check_sa_pair
check_routes
if ping_through; then lab_pass "ping LAN A -> LAN B through the tunnel"; else lab_fail "ping LAN A -> LAN B through the tunnel"; fi
measure_throughput "aggressive mode behind NAT"
check_capture "$CAP2"
lab_check "capture: Aggressive mode (exchange type 4) from the NAT address" \
	test "$(cap_count "$CAP2" "isakmp.exchangetype == 4 and ip.src == $CARRIER_NAT_ADDR")" -gt 0
lab_check "capture: ID payload of type KEY_ID (11) holding 'site-a'" \
	test "$(cap_count "$CAP2" 'isakmp.id.type == 11 and isakmp.id.data.key_id == 73:69:74:65:2d:61')" -gt 0
lab_check "capture: ESP-in-UDP on 4500" test "$(cap_count "$CAP2" 'udp.port == 4500 and esp')" -gt 0
end_part

# --- cleanup ---------------------------------------------------------------

check_eq "no charon of this run is left" "" \
	"$(charons_left)"
check_eq "no namespace of this run is left" "" \
	"$(ip netns list | awk '{ print $1 }' | grep -F "$KZ_NS_PREFIX" || true)"

echo "# main mode: $SETUP1"
echo "# aggressive mode behind NAT: $SETUP2"
echo "# $LAB_PASSED passed, $LAB_FAILED failed"
[ "$LAB_FAILED" -eq 0 ]
