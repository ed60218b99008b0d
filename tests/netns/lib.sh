# shellcheck shell=bash
# Variables are set here for the sourcing scripts (SC2034); lab_capture_stop
# takes an optional argument (SC2119/SC2120).
# shellcheck disable=SC2034,SC2119,SC2120
#
# tests/netns/lib.sh - the kizuna two-site lab in network namespaces.
# Sourced by the tests in tests/netns/ and by scripts/lab.sh (the demo uses
# the same lab).
#
#   lan-a --- gw-a ===== carrier ===== gw-b --- lan-b
#         lan0    wan0  gwa0    gwb0  wan0   lan0
#
# | namespace | interface: address                          | role                          |
# |-----------|---------------------------------------------|-------------------------------|
# | lan-a     | eth0: 192.168.1.10/24, default via gw-a      | host at site A                |
# | gw-a      | lan0: 192.168.1.1/24                         | site A gateway, initiator     |
# |           | wan0: 100.64.0.2/24    (cgnat)               |   default via carrier         |
# |           |       198.51.100.2/24  (global)              |                               |
# | carrier   | gwa0: 100.64.0.1/24    (cgnat, inside)       | carrier-grade NAT and         |
# |           |       198.51.100.1/24  (global)              | "the internet"                |
# |           | lo:   198.51.100.1/32  (cgnat: the public    |                               |
# |           |       address the NAT maps site A to)        |                               |
# |           | gwb0: 203.0.113.1/24                         |                               |
# | gw-b      | wan0: 203.0.113.2/24, default via carrier    | site B gateway, responder     |
# |           | lan0: 192.168.2.1/24                         |                               |
# | lan-b     | eth0: 192.168.2.10/24, default via gw-b      | host at site B                |
#
# Modes (lab_up cgnat|global):
#   cgnat   gw-a sits behind the carrier's source NAT: what leaves gwb0 from
#           100.64.0.0/10 is rewritten to 198.51.100.1 (source port kept when
#           free; LAB_NAT_PORTS=random remaps it). Unsolicited packets from the
#           gw-b side to 100.64.0.0/10 are dropped, as on a real CGN.
#   global  gw-a has the public 198.51.100.2, routed by the carrier, no NAT.
# In both modes the carrier forwards no private-range packet (10/8, 172.16/12,
# 192.168/16 as source or destination; counted, see lab_carrier_drops) and has
# no route to either LAN; the gateways have no route to the other LAN. So the
# only way from LAN A to LAN B is a tunnel between gw-a and gw-b, and any
# plaintext that tries another way dies at the carrier.
# IPv6 is disabled everywhere so captures carry only what the tests make.
#
# Every namespace name carries a per-run prefix (KZ_NS_PREFIX, default
# "kz<pid>-", e.g. kz1234-gw-a), so runs in parallel don't collide. Interface
# names are the same in every run: they live inside the namespaces.
#
# Usage in a test (bash, set -eu safe):
#
#   . "$(dirname "$0")/lib.sh"
#   lab_require_root
#   lab_require_cmd ping iputils-ping
#   trap lab_down EXIT              # always: tears down what this run made
#   trap 'exit 130' INT TERM HUP    # so an interrupt also runs lab_down
#   lab_up cgnat
#   lab_bg gw-b kizunad-b kizunad -f "$LAB_DIR/b.conf"
#   lab_wait_for 10 lab_exec gw-b test -S "$LAB_DIR/b.sock"
#   lab_exec lan-a ping -c 1 "$LAN_B_HOST"
#
# Functions (a namespace argument is a site name - lan-a gw-a carrier gw-b
# lan-b - or a full namespace name):
#   lab_up cgnat|global           build the lab; sets and exports the variables
#   lab_down                      stop what lab_bg started, delete the
#                                 namespaces lab_up made, remove $LAB_DIR;
#                                 idempotent, safe in an EXIT trap
#   lab_exec <ns> cmd...          run cmd in the namespace (ip netns exec)
#   lab_ns <site>                 print the namespace name of a site
#   lab_bg <ns> <name> cmd...     start cmd in the background in its own
#                                 process group; pid in $LAB_DIR/<name>.pid,
#                                 output in $LAB_DIR/<name>.log
#   lab_pid <name>                print the recorded pid of <name>
#   lab_alive <name>              true while <name> runs
#   lab_kill <name> [timeout_s]   SIGTERM, then SIGKILL after timeout (5 s),
#                                 also to whatever is left in its group
#   lab_wait_for <timeout_s> cmd...  poll (every 0.1 s, output discarded)
#                                 until cmd succeeds; 1 on timeout
#   lab_require_root              not root: "SKIP: needs root", exit 77
#   lab_require_cmd <cmd> <debian-package>   same for a missing tool
#                                 (under CI=true both are failures: exit 1)
#   lab_nat_timeouts <seconds>    carrier's conntrack UDP timeouts (NAT mapping
#                                 lifetime); applies to new and refreshed entries
#   lab_carrier_drops             print how many private-range packets the
#                                 carrier dropped
#   lab_capture_start <ns> <iface> <file>   capture to a pcap file (dumpcap/tshark,
#                                 else tcpdump); returns once capturing
#   lab_capture_stop [file]       stop that capture, or all of them
#   lab_load <dir>                load the state of a lab built by another
#                                 process (scripts/lab.sh) from <dir>/env
#
# Knobs read by lab_up: KZ_NS_PREFIX, LAB_NAT_TOOL (auto - the first that
# works of nft, iptables, iptables-legacy - or one of them), LAB_NAT_PORTS
# (keep, random), LAB_KEEP=1 (lab_down keeps $LAB_DIR with its logs and
# captures).
#
# Variables set by lab_up (exported):
#   LAB_DIR LAB_MODE KZ_NS_PREFIX LAB_NAT_PORTS
#   LAB_NAT_BACKEND  the tool that set up the carrier (nft, iptables, ...)
#   NS_LAN_A NS_GW_A NS_CARRIER NS_GW_B NS_LAN_B
#   WAN_IF=wan0 LAN_IF=lan0 HOST_IF=eth0 CARRIER_IF_A=gwa0 CARRIER_IF_B=gwb0
#   LAN_A_NET LAN_A_HOST GW_A_LAN GW_A_WAN GW_A_WAN_PREFIX
#   GW_A_PUBLIC   the address gw-b sees gw-a's packets come from
#   CARRIER_A     carrier's address on gw-a's side (gw-a's next hop)
#   CARRIER_B     carrier's address on gw-b's side (gw-b's next hop)
#   CARRIER_NAT_ADDR  198.51.100.1
#   GW_B_WAN GW_B_WAN_PREFIX GW_B_LAN LAN_B_NET LAN_B_HOST

LAB_SITES="lan-a gw-a carrier gw-b lan-b"

LAB_VARS="LAB_DIR LAB_MODE KZ_NS_PREFIX LAB_NAT_BACKEND LAB_NAT_PORTS
NS_LAN_A NS_GW_A NS_CARRIER NS_GW_B NS_LAN_B
WAN_IF LAN_IF HOST_IF CARRIER_IF_A CARRIER_IF_B
LAN_A_NET LAN_A_HOST GW_A_LAN GW_A_WAN GW_A_WAN_PREFIX GW_A_PUBLIC
CARRIER_A CARRIER_B CARRIER_NAT_ADDR
GW_B_WAN GW_B_WAN_PREFIX GW_B_LAN LAN_B_NET LAN_B_HOST"

_lab_err() { echo "lab: $*" >&2; }

_lab_ci() {
	case "${CI:-}" in
	true | TRUE | True | 1 | yes) return 0 ;;
	*) return 1 ;;
	esac
}

# Missing prerequisite: skip (77), or fail under CI where a skip hides a gap.
_lab_unmet() {
	if _lab_ci; then
		echo "FAIL: $1 under CI${2:+ ($2)}"
		exit 1
	fi
	echo "SKIP: $1${2:+ ($2)}"
	exit 77
}

lab_require_root() {
	[ "$(id -u)" -eq 0 ] || _lab_unmet "needs root"
}

lab_require_cmd() {
	[ $# -ge 1 ] || { _lab_err "usage: lab_require_cmd <cmd> [debian-package]"; return 2; }
	type -P "$1" >/dev/null 2>&1 ||
		_lab_unmet "needs $1" "${2:+apt-get install $2}"
}

# Names and addresses. Names depend only on the prefix; the WAN of gw-a and
# the carrier's side towards it on the mode.
_lab_set_vars() {
	local mode=$1
	KZ_NS_PREFIX=${KZ_NS_PREFIX-kz$$-}
	NS_LAN_A=${KZ_NS_PREFIX}lan-a
	NS_GW_A=${KZ_NS_PREFIX}gw-a
	NS_CARRIER=${KZ_NS_PREFIX}carrier
	NS_GW_B=${KZ_NS_PREFIX}gw-b
	NS_LAN_B=${KZ_NS_PREFIX}lan-b
	WAN_IF=wan0
	LAN_IF=lan0
	HOST_IF=eth0
	CARRIER_IF_A=gwa0
	CARRIER_IF_B=gwb0
	LAN_A_NET=192.168.1.0/24
	LAN_A_HOST=192.168.1.10
	GW_A_LAN=192.168.1.1
	GW_A_WAN_PREFIX=24
	CARRIER_NAT_ADDR=198.51.100.1
	CARRIER_B=203.0.113.1
	GW_B_WAN=203.0.113.2
	GW_B_WAN_PREFIX=24
	GW_B_LAN=192.168.2.1
	LAN_B_NET=192.168.2.0/24
	LAN_B_HOST=192.168.2.10
	case "$mode" in
	cgnat)
		GW_A_WAN=100.64.0.2
		CARRIER_A=100.64.0.1
		GW_A_PUBLIC=$CARRIER_NAT_ADDR
		;;
	global)
		GW_A_WAN=198.51.100.2
		CARRIER_A=198.51.100.1
		GW_A_PUBLIC=$GW_A_WAN
		;;
	*)
		_lab_err "unknown mode '$mode' (cgnat or global)"
		return 1
		;;
	esac
	LAB_MODE=$mode
}

_lab_export() {
	local v
	for v in $LAB_VARS; do
		# shellcheck disable=SC2163
		export "$v"
	done
}

# The carrier's NAT (LAB_NAT_PORTS=random) maps UDP 500 to a port below 512
# (Linux keeps a privileged source port privileged) and 4500 to one above
# 1023, where tshark would pick the dissector of that port (PTP on 319/320,
# NTP on 123, ...) for IKE and ESP-in-UDP.  Every tshark of the tests decodes
# those ranges as what the lab sends there.
tshark() {
	command tshark -d 'udp.port==1-511,isakmp' -d 'udp.port==1024-4499,udpencap' "$@"
}

lab_ns() {
	case "${1:-}" in
	lan-a) echo "${NS_LAN_A:-${KZ_NS_PREFIX-kz$$-}lan-a}" ;;
	gw-a) echo "${NS_GW_A:-${KZ_NS_PREFIX-kz$$-}gw-a}" ;;
	carrier) echo "${NS_CARRIER:-${KZ_NS_PREFIX-kz$$-}carrier}" ;;
	gw-b) echo "${NS_GW_B:-${KZ_NS_PREFIX-kz$$-}gw-b}" ;;
	lan-b) echo "${NS_LAN_B:-${KZ_NS_PREFIX-kz$$-}lan-b}" ;;
	"") _lab_err "lab_ns: no site given"; return 1 ;;
	*) echo "$1" ;;
	esac
}

lab_exec() {
	[ $# -ge 2 ] || { _lab_err "usage: lab_exec <ns> cmd..."; return 2; }
	local ns
	ns=$(lab_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# Milliseconds since the epoch (bash 5 EPOCHREALTIME, else date).
_lab_now_ms() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME/[.,]/}
		echo $((t / 1000))
	else
		echo $(($(date +%s%N) / 1000000))
	fi
}

lab_wait_for() {
	[ $# -ge 2 ] || { _lab_err "usage: lab_wait_for <timeout_s> cmd..."; return 2; }
	local timeout=$1 deadline
	shift
	case "$timeout" in
	'' | *[!0-9]*) _lab_err "lab_wait_for: timeout must be whole seconds"; return 2 ;;
	esac
	deadline=$(($(_lab_now_ms) + timeout * 1000))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(_lab_now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# --- processes --------------------------------------------------------------

_lab_need_dir() {
	[ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] && return 0
	_lab_err "no lab state directory (call lab_up first)"
	return 1
}

_lab_check_name() {
	case "$1" in
	'' | *[!A-Za-z0-9_.@+-]* | .*)
		_lab_err "bad process name '$1' (letters, digits, _ . @ + -)"
		return 1
		;;
	esac
}

# Field 22 of /proc/<pid>/stat (start time), after the "(comm)" field.
_lab_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo "${20}"
}

# True when <pid> runs (not a zombie) and, if given, started at <start>:
# a recycled pid is not ours.
_lab_pid_alive() {
	local pid=$1 start=${2:-} s
	s=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	case "$1" in Z | X | x) return 1 ;; esac
	[ -z "$start" ] || [ "${20}" = "$start" ]
}

lab_bg() {
	[ $# -ge 3 ] || { _lab_err "usage: lab_bg <ns> <name> cmd..."; return 2; }
	_lab_need_dir || return 1
	local ns name pid monitor=
	ns=$(lab_ns "$1") || return 1
	name=$2
	shift 2
	_lab_check_name "$name" || return 1
	if lab_alive "$name"; then
		_lab_err "lab_bg: '$name' already runs (pid $(lab_pid "$name"))"
		return 1
	fi
	# setsid makes the process the leader of a new group (so lab_kill can
	# also stop its children) without forking, so $! is its pid. It forks
	# when the caller is a group leader, as with job control on: turn it off.
	case $- in *m*) monitor=1; set +m ;; esac
	setsid ip netns exec "$ns" "$@" </dev/null >"$LAB_DIR/$name.log" 2>&1 &
	pid=$!
	disown "$pid" 2>/dev/null || true
	[ -z "$monitor" ] || set -m
	echo "$pid" >"$LAB_DIR/$name.pid"
	_lab_starttime "$pid" >"$LAB_DIR/$name.start" 2>/dev/null || : >"$LAB_DIR/$name.start"
}

lab_pid() {
	[ -n "${LAB_DIR:-}" ] && [ -s "$LAB_DIR/$1.pid" ] || return 1
	cat "$LAB_DIR/$1.pid"
}

lab_alive() {
	local pid start=
	pid=$(lab_pid "$1") || return 1
	[ ! -s "$LAB_DIR/$1.start" ] || start=$(cat "$LAB_DIR/$1.start")
	_lab_pid_alive "$pid" "$start"
}

_lab_group_alive() { kill -0 -- "-$1" 2>/dev/null; }

lab_kill() {
	[ $# -ge 1 ] || { _lab_err "usage: lab_kill <name> [timeout_s]"; return 2; }
	local name=$1 timeout=${2:-5} pid start="" i
	pid=$(lab_pid "$name") || return 0
	[ ! -s "$LAB_DIR/$name.start" ] || start=$(cat "$LAB_DIR/$name.start")
	if _lab_pid_alive "$pid" "$start"; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while _lab_pid_alive "$pid" "$start" && [ "$i" -lt $((timeout * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if _lab_pid_alive "$pid" "$start"; then
			_lab_err "$name (pid $pid) ignored SIGTERM for ${timeout}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
		# The group lab_bg made is still ours while any member is left:
		# its id is not reused before the last member is gone.
		if _lab_group_alive "$pid"; then
			kill -TERM -- "-$pid" 2>/dev/null || true
			i=0
			while _lab_group_alive "$pid" && [ "$i" -lt 20 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -KILL -- "-$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$LAB_DIR/$name.pid" "$LAB_DIR/$name.start"
}

# --- captures ---------------------------------------------------------------

lab_capture_start() {
	[ $# -eq 3 ] || { _lab_err "usage: lab_capture_start <ns> <iface> <file>"; return 2; }
	_lab_need_dir || return 1
	local ns iface=$2 file=$3 name n=0 tool
	ns=$(lab_ns "$1") || return 1
	name=cap-${ns#"$KZ_NS_PREFIX"}-$iface
	while [ -e "$LAB_DIR/$name.pid" ]; do
		n=$((n + 1))
		name=cap-${ns#"$KZ_NS_PREFIX"}-$iface-$n
	done
	rm -f "$file"
	# dumpcap is what tshark runs underneath; one process, stops cleanly.
	if command -v dumpcap >/dev/null 2>&1; then
		tool=dumpcap
		lab_bg "$ns" "$name" dumpcap -q -i "$iface" -P -w "$file" || return 1
	elif type -P tshark >/dev/null 2>&1; then
		tool=tshark
		lab_bg "$ns" "$name" tshark -n -i "$iface" -F pcap -w "$file" || return 1
	elif command -v tcpdump >/dev/null 2>&1; then
		tool=tcpdump
		lab_bg "$ns" "$name" tcpdump -n -U --immediate-mode -i "$iface" -w "$file" || return 1
	else
		_lab_err "lab_capture_start: needs tshark or tcpdump"
		return 1
	fi
	printf '%s %s %s\n' "$name" "$tool" "$file" >>"$LAB_DIR/captures"
	if ! lab_wait_for 15 grep -qE "Capturing on|listening on" "$LAB_DIR/$name.log"; then
		_lab_err "capture on $ns/$iface did not start:"
		cat "$LAB_DIR/$name.log" >&2 || true
		lab_kill "$name"
		return 1
	fi
}

lab_capture_stop() {
	[ -n "${LAB_DIR:-}" ] && [ -s "$LAB_DIR/captures" ] || return 0
	local want=${1:-} name tool file keep="" stop="" settle=""
	while read -r name tool file; do
		if [ -z "$want" ] || [ "$file" = "$want" ]; then
			stop="$stop $name"
			[ "$tool" = tcpdump ] || settle=1
		else
			keep="$keep$name $tool $file
"
		fi
	done <"$LAB_DIR/captures"
	# dumpcap (libpcap without immediate mode) hands packets over in blocks
	# retired every 250 ms and drops the unfinished block when stopped: give
	# the last packets time to reach the file.
	[ -z "$settle" ] || [ -z "$stop" ] || sleep 0.6
	for name in $stop; do
		lab_kill "$name"
	done
	printf '%s' "$keep" >"$LAB_DIR/captures"
}

# --- the carrier's NAT and filter ---------------------------------------------

_lab_nat_nft() {
	local nat="" inbound="" random=""
	[ "$LAB_NAT_PORTS" != random ] || random=" random"
	if [ "$LAB_MODE" = cgnat ]; then
		nat="oifname \"$CARRIER_IF_B\" ip saddr 100.64.0.0/10 snat to $CARRIER_NAT_ADDR$random"
		inbound="iifname \"$CARRIER_IF_B\" ip daddr 100.64.0.0/10 ct state new drop"
	fi
	lab_exec carrier nft -f - <<EOF
table ip kizuna_lab {
	counter private_leak {
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip saddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } counter name "private_leak" drop
		ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } counter name "private_leak" drop
		$inbound
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		$nat
	}
}
EOF
}

_lab_nat_ipt() {
	local ipt=$1 net random=""
	[ "$LAB_NAT_PORTS" != random ] || random=--random
	lab_exec carrier "$ipt" -w -N KZ_LEAK || return 1
	lab_exec carrier "$ipt" -w -A KZ_LEAK -j DROP || return 1
	for net in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16; do
		lab_exec carrier "$ipt" -w -A FORWARD -s "$net" -j KZ_LEAK || return 1
		lab_exec carrier "$ipt" -w -A FORWARD -d "$net" -j KZ_LEAK || return 1
	done
	if [ "$LAB_MODE" = cgnat ]; then
		lab_exec carrier "$ipt" -w -A FORWARD -i "$CARRIER_IF_B" -d 100.64.0.0/10 \
			-m conntrack --ctstate NEW -j DROP || return 1
		# shellcheck disable=SC2086
		lab_exec carrier "$ipt" -w -t nat -A POSTROUTING -o "$CARRIER_IF_B" -s 100.64.0.0/10 \
			-j SNAT --to-source "$CARRIER_NAT_ADDR" $random || return 1
	fi
}

_lab_nat_setup() {
	local want=${LAB_NAT_TOOL:-auto} b
	case "$want" in
	auto) set -- nft iptables iptables-legacy ;;
	nft | iptables | iptables-nft | iptables-legacy) set -- "$want" ;;
	*) _lab_err "LAB_NAT_TOOL: unknown '$want'"; return 1 ;;
	esac
	for b in "$@"; do
		command -v "$b" >/dev/null 2>&1 || continue
		if [ "$b" = nft ]; then
			_lab_nat_nft && { LAB_NAT_BACKEND=nft; return 0; }
			lab_exec carrier nft delete table ip kizuna_lab 2>/dev/null || true
		else
			_lab_nat_ipt "$b" && { LAB_NAT_BACKEND=$b; return 0; }
			lab_exec carrier "$b" -w -F FORWARD 2>/dev/null || true
			lab_exec carrier "$b" -w -F KZ_LEAK 2>/dev/null || true
			lab_exec carrier "$b" -w -X KZ_LEAK 2>/dev/null || true
			lab_exec carrier "$b" -w -t nat -F POSTROUTING 2>/dev/null || true
		fi
		_lab_err "carrier NAT/filter with $b failed; trying the next tool"
	done
	_lab_err "no working nft or iptables for the carrier (apt-get install nftables)"
	return 1
}

lab_carrier_drops() {
	case "${LAB_NAT_BACKEND:-}" in
	nft)
		lab_exec carrier nft list counter ip kizuna_lab private_leak |
			sed -n 's/.*packets \([0-9]*\).*/\1/p'
		;;
	iptables | iptables-nft | iptables-legacy)
		lab_exec carrier "$LAB_NAT_BACKEND" -w -vxnL FORWARD |
			awk '$3 == "KZ_LEAK" { s += $1 } END { print s + 0 }'
		;;
	*)
		_lab_err "lab_carrier_drops: lab is not up"
		return 1
		;;
	esac
}

lab_nat_timeouts() {
	[ $# -eq 1 ] || { _lab_err "usage: lab_nat_timeouts <seconds>"; return 2; }
	lab_exec carrier sysctl -qw \
		"net.netfilter.nf_conntrack_udp_timeout=$1" \
		"net.netfilter.nf_conntrack_udp_timeout_stream=$1"
}

# --- up and down ----------------------------------------------------------------

_lab_sysctl() {
	local ns=$1
	shift
	lab_exec "$ns" sysctl -qw "$@" || {
		_lab_err "sysctl in $ns failed: $*"
		return 1
	}
}

_lab_batch() {
	local ns=$1
	ip -n "$ns" -batch - || {
		_lab_err "ip -n $ns -batch failed"
		return 1
	}
}

# _lab_host_up NS ADDR GW: a LAN host, its one address and default route.
_lab_host_up() {
	_lab_batch "$1" <<EOF
link set lo up
addr add $2/24 dev $HOST_IF
link set $HOST_IF up
route add default via $3 dev $HOST_IF
EOF
}

# _lab_gw_up NS LAN-ADDR WAN-ADDR/PREFIX CARRIER: a gateway, LAN and WAN
# addressed and up, default route to its carrier.
_lab_gw_up() {
	_lab_batch "$1" <<EOF
link set lo up
addr add $2/24 dev $LAN_IF
addr add $3 dev $WAN_IF
link set $LAN_IF up
link set $WAN_IF up
route add default via $4 dev $WAN_IF
EOF
}

_lab_build() {
	local ns site carrier_a_addr
	for site in $LAB_SITES; do
		ns=$(lab_ns "$site")
		if [ -e "/run/netns/$ns" ] || [ -e "/var/run/netns/$ns" ]; then
			_lab_err "namespace $ns exists already (another run with prefix '$KZ_NS_PREFIX'?)"
			return 1
		fi
		ip netns add "$ns" || { _lab_err "ip netns add $ns failed"; return 1; }
		echo "$ns" >>"$LAB_DIR/netns"
	done

	# Links: created from one side with the peer put straight into the other
	# namespace, so no name ever appears in the caller's namespace.
	ip -n "$NS_LAN_A" link add "$HOST_IF" type veth peer name "$LAN_IF" netns "$NS_GW_A" || return 1
	ip -n "$NS_GW_A" link add "$WAN_IF" type veth peer name "$CARRIER_IF_A" netns "$NS_CARRIER" || return 1
	ip -n "$NS_CARRIER" link add "$CARRIER_IF_B" type veth peer name "$WAN_IF" netns "$NS_GW_B" || return 1
	ip -n "$NS_GW_B" link add "$LAN_IF" type veth peer name "$HOST_IF" netns "$NS_LAN_B" || return 1

	for site in $LAB_SITES; do
		_lab_sysctl "$site" net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	for site in gw-a carrier gw-b; do
		_lab_sysctl "$site" net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 || return 1
	done

	_lab_host_up "$NS_LAN_A" "$LAN_A_HOST" "$GW_A_LAN" || return 1
	_lab_gw_up "$NS_GW_A" "$GW_A_LAN" "$GW_A_WAN/$GW_A_WAN_PREFIX" "$CARRIER_A" || return 1
	carrier_a_addr="addr add $CARRIER_A/24 dev $CARRIER_IF_A"
	if [ "$LAB_MODE" = cgnat ]; then
		# The NAT's public address: local, so replies and packets to an
		# expired mapping land on the carrier, like on a real CGN.
		carrier_a_addr="$carrier_a_addr
addr add $CARRIER_NAT_ADDR/32 dev lo"
	fi
	_lab_batch "$NS_CARRIER" <<EOF || return 1
link set lo up
$carrier_a_addr
addr add $CARRIER_B/24 dev $CARRIER_IF_B
link set $CARRIER_IF_A up
link set $CARRIER_IF_B up
EOF
	_lab_gw_up "$NS_GW_B" "$GW_B_LAN" "$GW_B_WAN/$GW_B_WAN_PREFIX" "$CARRIER_B" || return 1
	_lab_host_up "$NS_LAN_B" "$LAN_B_HOST" "$GW_B_LAN" || return 1
	_lab_nat_setup || return 1
	for site in $LAB_SITES; do
		if ! lab_wait_for 5 _lab_links_up "$(lab_ns "$site")"; then
			_lab_err "links in $(lab_ns "$site") did not come up:"
			ip -n "$(lab_ns "$site")" -br link >&2 || true
			return 1
		fi
	done
}

# True when no link of the namespace (lo aside) is still down: veth carrier
# comes up asynchronously after both ends are set up.
_lab_links_up() {
	local out
	out=$(ip -n "$1" -br link show up) || return 1
	! printf '%s\n' "$out" | awk '$1 != "lo" && $2 != "UP" { bad = 1 } END { exit !bad }'
}

_lab_write_env() {
	local v
	{
		echo "# kizuna lab state: source it, or lab_load $LAB_DIR"
		for v in $LAB_VARS; do
			printf '%s=%q\n' "$v" "${!v}"
		done
	} >"$LAB_DIR/env"
}

lab_load() {
	if [ $# -ne 1 ] || [ ! -f "$1/env" ]; then
		_lab_err "lab_load: no lab state in '${1:-}'"
		return 1
	fi
	# shellcheck disable=SC1091
	. "$1/env" || return 1
	LAB_DIR=$1
	_lab_export
}

lab_up() {
	local mode=${1:-cgnat}
	if [ -n "${LAB_DIR:-}" ] && [ -s "$LAB_DIR/netns" ]; then
		_lab_err "lab_up: a lab is up already (LAB_DIR=$LAB_DIR); lab_down first"
		return 1
	fi
	case "${KZ_NS_PREFIX-}" in
	*[!A-Za-z0-9_.-]*) _lab_err "KZ_NS_PREFIX: only letters, digits, _ . -"; return 1 ;;
	esac
	case "${LAB_NAT_PORTS:=keep}" in
	keep | random) ;;
	*) _lab_err "LAB_NAT_PORTS: keep or random"; return 1 ;;
	esac
	_lab_set_vars "$mode" || return 1
	if [ -z "${LAB_DIR:-}" ] || [ ! -d "$LAB_DIR" ]; then
		LAB_DIR=$(mktemp -d /tmp/kizuna-lab.XXXXXX) || return 1
		: >"$LAB_DIR/.owned"
	fi
	: >"$LAB_DIR/netns"
	_lab_python
	_lab_export
	if ! _lab_build; then
		_lab_err "building the $mode lab failed"
		return 1
	fi
	_lab_write_env
}

# The tests start python3 hundreds of times (the console's JSON, packet
# crafting), standard library only: the distribution's (deps.sh installs
# it), first on PATH through $LAB_DIR/bin.  A version manager's python3 in
# front of it (a pyenv shim, then that interpreter's site-packages) costs
# 0.4-2 s per start on a busy machine instead of 0.05.
_lab_python() {
	local sys=/usr/bin/python3
	[ -x "$sys" ] && [ "$(command -v python3)" != "$sys" ] || return 0
	mkdir -p "$LAB_DIR/bin" && ln -sf "$sys" "$LAB_DIR/bin/python3" || return 0
	case ":$PATH:" in
	*":$LAB_DIR/bin:"*) ;;
	*) PATH=$LAB_DIR/bin:$PATH ;;
	esac
	export PATH
}

lab_down() {
	[ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] || return 0
	local f name ns left nslist=""
	lab_capture_stop || true
	for f in "$LAB_DIR"/*.pid; do
		[ -e "$f" ] || continue
		name=${f##*/}
		name=${name%.pid}
		lab_kill "$name" || true
	done
	if [ -s "$LAB_DIR/netns" ]; then
		while read -r ns; do
			[ -n "$ns" ] && nslist="$ns $nslist"
		done <"$LAB_DIR/netns"
	fi
	for ns in $nslist; do
		left=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ') || true
		[ -z "$left" ] || _lab_err "warning: processes not started by lab_bg still in $ns: $left"
		ip netns del "$ns" 2>/dev/null || _lab_err "warning: ip netns del $ns failed"
	done
	: >"$LAB_DIR/netns"
	if [ -e "$LAB_DIR/.owned" ] && [ "${LAB_KEEP:-0}" != 1 ]; then
		rm -rf -- "$LAB_DIR"
	elif [ "${LAB_KEEP:-0}" = 1 ]; then
		echo "lab: kept $LAB_DIR" >&2
	fi
	LAB_DIR=
	return 0
}

# lab_require_nat_tool: nft, or else iptables, for the carrier's NAT of the
# cgnat lab (lab_require_cmd's skip when neither is there).
lab_require_nat_tool() {
	if ! command -v nft >/dev/null 2>&1 && ! command -v iptables >/dev/null 2>&1; then
		lab_require_cmd nft nftables
	fi
}

# A test's tally, TAP-style: lab_pass/lab_fail print "ok - ..." or
# "not ok - ..." and count in LAB_PASSED/LAB_FAILED (lab_fail also sets
# LAB_PART_FAILED, for a test that reports per part and resets it);
# lab_check what cmd...: passes when cmd succeeds, lab_check_not when it
# fails (cmd's output is dropped).
LAB_PASSED=0
LAB_FAILED=0
LAB_PART_FAILED=0
lab_pass() {
	LAB_PASSED=$((LAB_PASSED + 1))
	echo "ok - $*"
}
lab_fail() {
	LAB_FAILED=$((LAB_FAILED + 1))
	LAB_PART_FAILED=1
	echo "not ok - $*"
}
lab_check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then lab_pass "$what"; else lab_fail "$what"; fi
}
lab_check_not() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then lab_fail "$what"; else lab_pass "$what"; fi
}

# lab_traps: lab_down at exit, exit status 130 on INT, TERM and HUP.
lab_traps() {
	trap lab_down EXIT
	trap 'exit 130' INT TERM HUP
}
