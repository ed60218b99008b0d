#!/usr/bin/env bash
#
# t_lab_selftest.sh <build-dir> - builds the two-site lab in each mode and
# checks what lib.sh promises: reachability over the carrier, the address the
# carrier's NAT gives site A, that the LANs cannot reach each other and that
# nothing private crosses the carrier, the helpers for background processes,
# captures and NAT timeouts, and that lab_down leaves nothing behind.
# Exit 0 pass, 1 fail, 77 skip (no root or tools; a failure under CI=true).

set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"

BUILD_DIR=${1:-}

lab_require_root
lab_require_cmd ip iproute2
lab_require_cmd ping iputils-ping
lab_require_cmd python3 python3
lab_require_cmd setsid util-linux
lab_require_cmd sysctl procps
lab_require_nat_tool
lab_traps

ALL_PIDS=""

ping_ok() { lab_exec "$1" ping -n -q -c 1 -W 2 "$2"; }
ping_once() { lab_exec "$1" ping -n -q -c 1 -W 1 "$2"; }

# UDP listener: prints "from <addr> <port> <payload>" per datagram, echoes it.
UDP_LISTENER='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(2048)
    print("from %s %d %s" % (a[0], a[1], d.decode(errors="replace")), flush=True)
    s.sendto(d, a)
'
# UDP sender: from a fixed source port, waits for the echo.
UDP_SENDER='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[3])))
s.settimeout(1.0)
msg = sys.argv[4].encode()
for _ in range(3):
    s.sendto(msg, (sys.argv[1], int(sys.argv[2])))
    try:
        d, a = s.recvfrom(2048)
    except socket.timeout:
        continue
    if d == msg:
        sys.exit(0)
sys.exit(1)
'

# Source "addr port" of the datagram carrying <tag> in the listener's log.
seen_from() {
	sed -n "s/^from \([0-9.]*\) \([0-9]*\) $2\$/\1 \2/p" "$LAB_DIR/$1.log" | head -n 1
}

# Read a capture: source addresses of UDP packets to <port>.
pcap_udp_sources() {
	if command -v tshark >/dev/null 2>&1; then
		tshark -n -r "$1" -Y "udp.dstport == $2" -T fields -e ip.src 2>/dev/null
	else
		tcpdump -n -r "$1" "udp dst port $2" 2>/dev/null | awk '{ sub(/\.[0-9]+$/, "", $3); print $3 }'
	fi
}

remember_pid() {
	local p
	p=$(lab_pid "$1") && ALL_PIDS="$ALL_PIDS $p"
}

# After lab_down: no namespace with our prefix, no recorded pid alive, no
# state directory.
check_clean() {
	local mode=$1 dir=$2 left p alive=""
	left=$(ip netns list | awk '{ print $1 }' | grep -F -- "$KZ_NS_PREFIX" || true)
	if [ -z "$left" ]; then
		lab_pass "$mode: lab_down removed every $KZ_NS_PREFIX* namespace"
	else
		lab_fail "$mode: namespaces left behind: $(echo "$left" | tr '\n' ' ')"
	fi
	for p in $ALL_PIDS; do
		[ ! -d "/proc/$p" ] || [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] ||
			alive="$alive $p"
	done
	if [ -z "$alive" ]; then
		lab_pass "$mode: no recorded pid alive after lab_down"
	else
		lab_fail "$mode: recorded pids still alive:$alive"
	fi
	lab_check_not "$mode: lab_down removed the state directory" test -e "$dir"
}

run_mode() {
	local mode=$1 ports=${2:-keep} tag src port dir cap_a cap_b before after
	local label="$mode"
	[ "$ports" = keep ] || label="$mode/ports=$ports"
	ALL_PIDS=""
	echo "# lab: $label (prefix $KZ_NS_PREFIX)"
	if ! LAB_NAT_PORTS=$ports lab_up "$mode"; then
		lab_fail "$label: lab_up"
		lab_down
		return
	fi
	lab_pass "$label: lab_up (carrier uses $LAB_NAT_BACKEND)"
	dir=$LAB_DIR

	local site
	for site in lan-a gw-a carrier gw-b lan-b; do
		lab_check "$label: namespace $(lab_ns "$site") exists" test -e "/run/netns/$(lab_ns "$site")"
	done
	lab_check "$label: gw-a has $WAN_IF with $GW_A_WAN" \
		sh -c "ip -n '$NS_GW_A' -4 -o addr show dev '$WAN_IF' | grep -qF ' $GW_A_WAN/'"
	lab_check "$label: gw-b has $WAN_IF with $GW_B_WAN" \
		sh -c "ip -n '$NS_GW_B' -4 -o addr show dev '$WAN_IF' | grep -qF ' $GW_B_WAN/'"

	# Over the carrier.
	lab_check "$label: gw-a pings the carrier ($CARRIER_A)" ping_ok gw-a "$CARRIER_A"
	lab_check "$label: gw-a pings gw-b's WAN ($GW_B_WAN)" ping_ok gw-a "$GW_B_WAN"
	lab_check "$label: gw-b pings the carrier ($CARRIER_B)" ping_ok gw-b "$CARRIER_B"
	if [ "$mode" = global ]; then
		lab_check "$label: gw-b pings gw-a's public $GW_A_WAN" ping_ok gw-b "$GW_A_WAN"
	else
		lab_check "$label: gw-b reaches the NAT address $CARRIER_NAT_ADDR" ping_ok gw-b "$CARRIER_NAT_ADDR"
		lab_check_not "$label: gw-b cannot reach $GW_A_WAN behind the NAT unsolicited" ping_once gw-b "$GW_A_WAN"
	fi

	# The address gw-b sees, with a capture on both WANs.
	local have_cap=0
	if command -v tshark >/dev/null 2>&1 || command -v tcpdump >/dev/null 2>&1; then
		have_cap=1
		cap_a=$LAB_DIR/gw-a-wan.pcap
		cap_b=$LAB_DIR/gw-b-wan.pcap
		lab_check "$label: capture starts on gw-a $WAN_IF" lab_capture_start gw-a "$WAN_IF" "$cap_a"
		lab_check "$label: capture starts on gw-b $WAN_IF" lab_capture_start gw-b "$WAN_IF" "$cap_b"
		remember_pid "cap-gw-a-$WAN_IF"
		remember_pid "cap-gw-b-$WAN_IF"
	fi
	lab_bg gw-b udp-listener python3 -u -c "$UDP_LISTENER" 4500
	remember_pid udp-listener
	lab_check "$label: UDP listener ready in gw-b" lab_wait_for 10 grep -qx ready "$LAB_DIR/udp-listener.log"
	lab_check "$label: lab_alive sees the listener" lab_alive udp-listener
	tag=hello-$mode-$$
	lab_check "$label: UDP 4500 from gw-a gets its echo back from gw-b" \
		lab_exec gw-a python3 -c "$UDP_SENDER" "$GW_B_WAN" 4500 4500 "$tag"
	read -r src port _ <<<"$(seen_from udp-listener "$tag") -"
	if [ "$src" = "$GW_A_PUBLIC" ]; then
		lab_pass "$label: gw-b sees gw-a's traffic from $src"
	else
		lab_fail "$label: gw-b sees gw-a's traffic from '$src', expected $GW_A_PUBLIC"
		cat "$LAB_DIR/udp-listener.log" >&2 || true
	fi
	if [ "$ports" = keep ]; then
		lab_check "$label: source port 4500 kept ($port)" test "$port" = 4500
	else
		# Two datagrams from 4500 and 500: both kept by chance ~1e-9.
		local tag2=hello2-$mode-$$ port2
		lab_exec gw-a python3 -c "$UDP_SENDER" "$GW_B_WAN" 4500 500 "$tag2" || true
		read -r _ port2 _ <<<"$(seen_from udp-listener "$tag2") -"
		if [ "$port" != 4500 ] || [ "$port2" != 500 ]; then
			lab_pass "$label: source ports remapped (4500->$port, 500->$port2)"
		else
			lab_fail "$label: source ports not remapped (4500->$port, 500->$port2)"
		fi
	fi
	if [ "$have_cap" = 1 ]; then
		lab_capture_stop
		lab_check_not "$label: lab_capture_stop stopped the captures" lab_alive "cap-gw-b-$WAN_IF"
		lab_check "$label: gw-a's capture shows $GW_A_WAN as source" \
			sh -c "$(declare -f pcap_udp_sources); pcap_udp_sources '$cap_a' 4500 | grep -qx '$GW_A_WAN'"
		lab_check "$label: gw-b's capture shows $GW_A_PUBLIC as source" \
			sh -c "$(declare -f pcap_udp_sources); pcap_udp_sources '$cap_b' 4500 | grep -qx '$GW_A_PUBLIC'"
	fi

	# The LANs: each reaches its gateway and nothing beyond.
	lab_check "$label: lan-a pings gw-a ($GW_A_LAN)" ping_ok lan-a "$GW_A_LAN"
	lab_check "$label: lan-b pings gw-b ($GW_B_LAN)" ping_ok lan-b "$GW_B_LAN"
	lab_check_not "$label: lan-a cannot reach lan-b ($LAN_B_HOST)" ping_once lan-a "$LAN_B_HOST"
	lab_check_not "$label: lan-b cannot reach lan-a ($LAN_A_HOST)" ping_once lan-b "$LAN_A_HOST"
	lab_check_not "$label: lan-a cannot reach gw-b's WAN in plaintext" ping_once lan-a "$GW_B_WAN"
	lab_check "$label: gw-a has no route to $LAN_B_NET" \
		test -z "$(ip -n "$NS_GW_A" route show "$LAN_B_NET")"
	lab_check "$label: gw-b has no route to $LAN_A_NET" \
		test -z "$(ip -n "$NS_GW_B" route show "$LAN_A_NET")"
	lab_check "$label: the carrier has no route to 192.168.0.0/16" \
		test -z "$(ip -n "$NS_CARRIER" route show 192.168.0.0/16 root 192.168.0.0/16)"

	# Even with a route, the carrier's filter drops private ranges.
	before=$(lab_carrier_drops)
	ip -n "$NS_CARRIER" route add "$LAN_B_NET" via "$GW_B_WAN"
	lab_check_not "$label: with a carrier route to LAN B, lan-a still cannot reach lan-b" \
		ping_once lan-a "$LAN_B_HOST"
	ip -n "$NS_CARRIER" route del "$LAN_B_NET" via "$GW_B_WAN"
	after=$(lab_carrier_drops)
	lab_check "$label: the carrier counted the private packets it dropped ($before -> $after)" \
		test "$after" -gt "$before"

	# Conntrack timeouts are per namespace.
	local host_udp
	host_udp=$(sysctl -n net.netfilter.nf_conntrack_udp_timeout 2>/dev/null || echo none)
	lab_check "$label: lab_nat_timeouts 7" lab_nat_timeouts 7
	lab_check "$label: carrier's UDP timeout is 7" \
		test "$(lab_exec carrier sysctl -n net.netfilter.nf_conntrack_udp_timeout)" = 7
	lab_check "$label: carrier's UDP stream timeout is 7" \
		test "$(lab_exec carrier sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)" = 7
	lab_check "$label: the caller's UDP timeout is unchanged" \
		test "$(sysctl -n net.netfilter.nf_conntrack_udp_timeout 2>/dev/null || echo none)" = "$host_udp"

	# Background processes: lab_kill stops a process and its children.
	lab_bg carrier sleeper sleep 1000
	remember_pid sleeper
	lab_check "$label: lab_bg starts a process in the namespace" lab_wait_for 5 lab_alive sleeper
	lab_check "$label: it runs in the carrier's namespace" test \
		"$(readlink "/proc/$(lab_pid sleeper)/ns/net")" = \
		"$(ip netns exec "$NS_CARRIER" readlink /proc/self/ns/net)"
	local spid
	spid=$(lab_pid sleeper)
	lab_kill sleeper
	lab_check_not "$label: lab_kill stopped it" test -d "/proc/$spid"
	lab_bg gw-a family sh -c 'sleep 1000 & sleep 1000 & wait'
	remember_pid family
	local fpid
	fpid=$(lab_pid family)
	lab_check "$label: a process with children starts" lab_wait_for 5 sh -c "[ \$(pgrep -g $fpid | wc -l) -ge 3 ]"
	lab_bg gw-b stays sleep 1000 # left for lab_down
	remember_pid stays

	lab_down
	check_clean "$label" "$dir"
	lab_check_not "$label: the children of a killed process are gone too" pgrep -g "$fpid"
}

export KZ_NS_PREFIX=${KZ_NS_PREFIX:-kz$$-}
echo "# t_lab_selftest: build dir ${BUILD_DIR:-none}, prefix $KZ_NS_PREFIX"
run_mode cgnat keep
run_mode global keep
run_mode cgnat random

echo "$LAB_PASSED passed, $LAB_FAILED failed"
[ "$LAB_FAILED" -eq 0 ]
