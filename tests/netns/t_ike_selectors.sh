#!/usr/bin/env bash
#
# t_ike_selectors.sh [build-dir] - selectors as the routers at other sites
# send them, against strongSwan (charon 5.9, kernel-libipsec) set up as
# each vendor behaves, and against kizuna itself; global lab, Main mode,
# address identities.  Cases (IC_PART K/2 runs every 2nd from the Kth):
#
#   two-i    kizuna initiates two selector pairs (LANs; 10.1.0.0/16 <->
#            10.2.0.0/16) under one IKE SA; charon has two children
#            (Cisco crypto ACL with two lines, FortiGate phase 2 per subnet)
#   range    charon initiates with local_ts 192.168.1.10-192.168.1.20 (an
#            ID_IPV4_ADDR_RANGE that is no prefix, FortiGate addr-type
#            range): kizuna refuses it with INVALID-ID-INFORMATION and
#            shows it (show ipsec profile detail, diagnose A5.3)
#   two-r    charon initiates both children, kizuna answers each
#   narrow   charon initiates for its host 192.168.1.10/32 inside kizuna's
#            192.168.1.0/24: kizuna takes the narrower selector
#   kz-kz    kizuna on both sites, two pairs
#   route    route-based: 0.0.0.0/0 selectors on both ends (AWS, VTI),
#            kizuna with `ip route 0.0.0.0/0 IPsec0`: IKE, NAT-T keepalives
#            and ESP to the peer stay on wan0 (a host route kizunad keeps),
#            everything else enters the tunnel
#
# Each case checks `show`, traffic where the pair carries it, and tshark's
# decoding of what kizuna sent (no malformed or expert warning, only UDP
# 500/4500 and ESP on the WAN, no plaintext between the networks).
# Exit 0 pass, 1 fail, 77 skip (no root or tools; a failure under CI=true).
# Knobs: IC_ONLY (regex of case names), IC_PART (K/N), LAB_KEEP=1.

set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/netns/strongswan.sh
. "$HERE/strongswan.sh"
# shellcheck source=tests/netns/ike_lib.sh
. "$HERE/ike_lib.sh"
# shellcheck source=tests/netns/interop_lib.sh
. "$HERE/interop_lib.sh"

ss_require
lab_require_cmd ping iputils-ping
lab_require_cmd tshark tshark
[ -x "$KZ_BUILD/kizunad" ] || { echo "FAIL: no $KZ_BUILD/kizunad"; exit 1; }

trap lab_down EXIT
trap 'exit 130' INT TERM HUP

PSK="kizuna-selectors-$$"
PASSED=0 FAILED=0 INDEX=0
NET_A2=10.1.0.0/16 NET_B2=10.2.0.0/16 HOST_A2=10.1.0.1 HOST_B2=10.2.0.1

# kizuna's config: site (a|b), peer (an address or any), the first pair,
# then more lines for `ipsec policy` and more `ip route` lines.
kz_conf() { # site peer lnet rnet "policy lines|..." "route lines|..." [keepalive]
	local site=$1 peer=$2 lnet=$3 rnet=$4 pol=$5 routes=$6 ka=${7:-20}
	{
		kz_conf_head "sel-$site" modp2048
		echo "ike policy IKEPOL"
		echo "  exchange-mode main"
		echo "  proposal IKEP"
		echo "  pre-shared-key ascii \"$PSK\""
		echo "  nat-traversal keepalive $ka"
		echo "ipsec proposal ESPP"
		echo "  protocol esp"
		echo "  encryption aes-cbc-256"
		echo "  authentication hmac-sha2-256"
		echo "ipsec policy IPSECPOL"
		echo "  proposal ESPP"
		echo "  local-id $lnet"
		echo "  remote-id $rnet"
		[ -z "$pol" ] || tr '|' '\n' <<<"$pol" | sed 's/^/  /'
		kz_conf_profile "$peer"
		tr '|' '\n' <<<"$routes"
	} >"$LAB_DIR/sel-$site.conf"
}

# A second child in charon's swanctl.conf (after ss_setup), before the end
# of the children block.
ss_add_child() { # name child local_ts remote_ts
	local f
	f=$(ss_dir "$1")/swanctl.conf
	awk -v c="$2" -v l="$3" -v r="$4" '
		/^    children \{$/ { inside = 1 }
		inside && /^    \}$/ {
			print "      " c " {"
			print "        mode = tunnel"
			print "        local_ts = " l
			print "        remote_ts = " r
			print "        esp_proposals = aes256-sha256"
			print "        start_action = none"
			print "      }"
			inside = 0
		}
		{ print }' "$f" >"$f.new" && mv "$f.new" "$f" && chmod 600 "$f"
}

# The numbers of `show ipsec sa`: "<created>" of the header.
kz_created() {
	kz "$1" show ipsec sa | sed -n 's/^IPsec SA - [0-9]* configured, \([0-9]*\) created$/\1/p'
}

# Outbound SPIs of kizuna (hex, one per line).
kz_out_spis() {
	kz "$1" show ipsec sa | awk '
		$0 == "Outbound:" { f = 1; next }
		f && /^satype: esp spi=/ { sub(/.*\(0x/, ""); sub(/\).*/, ""); print; f = 0 }'
}

created_is() { [ "$(kz_created "$1")" = "$2" ]; }

ike_sas_of() { ss_list_sas "$1" 2>/dev/null | grep -c ': #[0-9]*, ESTABLISHED' || true; }

# What kizuna sent, as tshark decodes it, and what else is on the wire.
check_capture() { # cap kizuna-address
	local cap=$1 src=$2 n bad other plain
	n=$(tshark -n -r "$cap" -Y "isakmp && ip.src == $src" 2>/dev/null | wc -l)
	ic_check "capture: kizuna sent ISAKMP packets ($n)" test "$n" -gt 0
	if bad=$(tshark -n -r "$cap" -Y "isakmp && ip.src == $src && (_ws.malformed || _ws.expert.severity >= warning || isakmp.extradata)" 2>/dev/null | wc -l); then
		ic_check "capture: tshark decodes kizuna's ISAKMP without malformed/expert warnings ($bad flagged)" test "$bad" -eq 0
	else
		ic_nok "capture: tshark rejects the display filter"
	fi
	other=$(tshark -n -r "$cap" -Y "not arp and not (udp.port == 500 or udp.port == 4500 or esp)" 2>/dev/null | wc -l)
	plain=$(tshark -n -r "$cap" -Y "icmp && (ip.addr == 192.168.0.0/16 || ip.addr == 10.0.0.0/8)" 2>/dev/null | wc -l)
	ic_check "capture: only UDP 500/4500 and ESP on the WAN ($other others), no plaintext between the networks ($plain)" \
		test "$other" -eq 0 -a "$plain" -eq 0
}

# Quick Mode messages kizuna sent (exchange type 32).
qm_from() { tshark -n -r "$1" -Y "isakmp.exchangetype == 32 && ip.src == $2" 2>/dev/null | wc -l; }

case_begin() {
	IC_NAME=$1
	INDEX=$((INDEX + 1))
	ic_selected "$IC_NAME" "$INDEX" "${IC_ONLY:-}" || return 1
	IC_CASE_FAILED=0
	CASE_T0=$SECONDS
	echo "# case $IC_NAME"
	return 0
}

case_end() { # kizuna sites... (for the logs on failure)
	local s
	if [ "$IC_CASE_FAILED" -ne 0 ]; then
		FAILED=$((FAILED + 1))
		for s in "$@"; do
			echo "# --- kizuna $s: show ike sa / show ipsec sa / log"
			kz "$s" show ike sa 2>&1 | head -n 20
			kz "$s" show ipsec sa 2>&1 | head -n 60
			grep -v 'console: session' "$LAB_DIR/kizunad-$s.log" | tail -n 30
		done
		for s in a b; do
			[ -f "$(ss_dir "$s")/charon.log" ] || continue
			echo "# --- charon $s"
			grep -E '\[(IKE|CFG|CHD|ENC)\]' "$(ss_log "$s")" | grep -vE 'vici|loaded' | tail -n 40
		done
	else
		PASSED=$((PASSED + 1))
		echo "ok - $IC_NAME ($((SECONDS - CASE_T0)) s)"
	fi
}

case_cleanup() {
	local s
	for s in a b; do
		lab_kill "kizunad-$s" 2>/dev/null || true
		ss_stop "$s" 2>/dev/null || true
		mv -f "$LAB_DIR/kizunad-$s.log" "$LAB_DIR/$IC_NAME-kizunad-$s.log" 2>/dev/null || true
		mv -f "$(ss_dir "$s")/charon.log" "$LAB_DIR/$IC_NAME-charon-$s.log" 2>/dev/null || true
	done
	lab_capture_stop
	lab_exec gw-a ip addr flush dev lo scope global 2>/dev/null || true
	lab_exec gw-b ip addr flush dev lo scope global 2>/dev/null || true
	lab_exec gw-a ip route del "$NET_B2" 2>/dev/null || true
	lab_exec gw-b ip route del "$NET_A2" 2>/dev/null || true
	# kizunad's clean stop takes its routes, the default into the tunnel
	# included: the lab's own back
	lab_exec gw-a ip route replace default via "$CARRIER_A" dev "$WAN_IF"
	lab_exec gw-b ip route replace default via "$CARRIER_B" dev "$WAN_IF"
}

# The second pair's hosts: an address of each network on a gateway's lo.
second_hosts() {
	lab_exec gw-a ip addr replace "$HOST_A2/32" dev lo
	lab_exec gw-b ip addr replace "$HOST_B2/32" dev lo
}

two_pairs_checks() { # kizuna-site charon-name direction
	local k=$1 s=$2 dir=$3 ipsec ike outs spis ss_in
	ipsec=$(kz "$k" show ipsec sa)
	ike=$(kz "$k" show ike sa)
	ic_check "show ipsec sa: 1 configured, 4 created" grep -qxF "IPsec SA - 1 configured, 4 created" <<<"$ipsec"
	ic_check "show ike sa: one IKE SA, Direction is $dir" test "$(grep -c '^IKE PH1 established' <<<"$ike")" -eq 1 -a -n "$(grep -x "Direction is $dir" <<<"$ike")"
	ic_check "show ike sa: phase2 count=2" grep -qx 'phase2 count=2' <<<"$ike"
	if [ "$k" = a ]; then
		ic_check "show ipsec sa: selector line of pair 1" grep -qxF "selector: local $LAN_A_NET remote $LAN_B_NET" <<<"$ipsec"
		ic_check "show ipsec sa: selector line of pair 2" grep -qxF "selector: local $NET_A2 remote $NET_B2" <<<"$ipsec"
	else
		ic_check "show ipsec sa: selector line of pair 1" grep -qxF "selector: local $LAN_B_NET remote $LAN_A_NET" <<<"$ipsec"
		ic_check "show ipsec sa: selector line of pair 2" grep -qxF "selector: local $NET_B2 remote $NET_A2" <<<"$ipsec"
	fi
	if [ -n "$s" ]; then
		ic_check "charon: one IKE SA" test "$(ike_sas_of "$s")" -eq 1
		ic_check "charon: child net INSTALLED" ss_child_installed "$s" net
		ic_check "charon: child net2 INSTALLED" ss_child_installed "$s" net2
		outs=$(kz_out_spis "$k")
		for c in net net2; do
			spis=$(ss_child_spis "$s" "$c") || spis=""
			read -r ss_in _ <<<"$spis"
			ic_check "SPI: kizuna sends on charon's $c in-SPI 0x${ss_in:-}" grep -qx "${ss_in:-none}" <<<"$outs"
		done
	fi
	ic_check "ping lan-a -> lan-b (pair 1)" lab_exec lan-a ping -n -q -c 3 -i 0.2 -W 2 "$LAN_B_HOST"
	ic_check "ping $HOST_A2 -> $HOST_B2 (pair 2)" lab_exec gw-a ping -n -q -c 3 -i 0.2 -W 2 -I "$HOST_A2" "$HOST_B2"
	ic_check "ping $HOST_B2 -> $HOST_A2 (pair 2, the other way)" lab_exec gw-b ping -n -q -c 2 -i 0.2 -W 2 -I "$HOST_B2" "$HOST_A2"
	if [ -n "$s" ]; then
		local b
		b=$(ss_child_bytes "$s" net2) || b=""
		ic_check "charon: child net2 carried packets ($b)" test "$(awk '{ print $3 }' <<<"$b")" -ge 3
	fi
	# every pair's counters moved on kizuna: no Inbound block still at 0
	ic_check "show ipsec sa: every SA carried packets" test -z "$(kz "$k" show ipsec sa | grep '^0 \[packets\]')"
}

# charon_a_init cap [ss_setup options...]: charon on gw-a to initiate (a
# second child net2 too under SEL_SS_CHILD2=1), kizuna on gw-b answering
# with sel-b.conf; the capture on gw-b's WAN runs from the start.
charon_a_init() {
	local cap=$1
	shift
	ss_setup gw-a a initiator psk="$PSK" ike=aes256-sha256-modp2048 esp=aes256-sha256 "$@"
	[ -z "${SEL_SS_CHILD2:-}" ] || ss_add_child a net2 "$NET_A2" "$NET_B2"
	lab_capture_start gw-b "$WAN_IF" "$cap"
	ic_check "kizunad starts on gw-b" kz_start b "$LAB_DIR/sel-b.conf"
	ic_check "charon starts on gw-a" ss_start gw-a a
}

lab_up global

# ---- two-i: kizuna initiates two pairs, charon answers with two children
if case_begin two-i; then
	cap=$LAB_DIR/two-i.pcap
	second_hosts
	kz_conf a "$GW_B_WAN" "$LAN_A_NET" "$LAN_B_NET" "selector local $NET_A2 remote $NET_B2" \
		"ip route $LAN_B_NET IPsec0|ip route $NET_B2 IPsec0"
	ss_setup gw-b b responder psk="$PSK" ike=aes256-sha256-modp2048 esp=aes256-sha256
	ss_add_child b net2 "$NET_B2" "$NET_A2"
	lab_capture_start gw-b "$WAN_IF" "$cap"
	ic_check "charon starts on gw-b" ss_start gw-b b
	ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/sel-a.conf"
	if lab_wait_for 25 created_is a 4; then
		ic_ok "both pairs established"
	else
		ic_nok "both pairs established ($(kz_created a) SAs)"
	fi
	lab_wait_for 5 ss_child_installed b net2 || true
	two_pairs_checks a b initiator
	lab_capture_stop "$cap"
	check_capture "$cap" "$GW_A_PUBLIC"
	n=$(qm_from "$cap" "$GW_A_PUBLIC")
	ic_check "capture: kizuna sent two Quick Modes ($n QM messages >= 4)" test "$n" -ge 4
	case_end a
	case_cleanup
fi

# ---- range: charon sends an address range that is not a prefix
if case_begin range; then
	cap=$LAB_DIR/range.pcap
	kz_conf b any "$LAN_B_NET" "$LAN_A_NET" "" "ip route $LAN_A_NET IPsec0"
	charon_a_init "$cap" local_ts=192.168.1.10-192.168.1.20 lo_addr=192.168.1.10
	ss_initiate a net 10 >/dev/null 2>&1 || true
	ic_check "kizuna: IKE SA up, no IPsec SA" test "$(kz_created b)" = 0 -a -n "$(kz b show ike sa | grep -x 'IKE PH1 established')"
	ic_check "charon: got INVALID-ID-INFORMATION" grep -q 'INVALID_ID_INFORMATION' "$(ss_log a)"
	detail=$(kz b show ipsec profile HQ detail)
	ic_check "show ipsec profile HQ detail: the range as sent" grep -qF 'IDci 192.168.1.10-192.168.1.20' <<<"$detail"
	ic_check "show ipsec profile HQ detail: traffic selector mismatch" grep -qi 'traffic selector' <<<"$detail"
	diag=$(kz b diagnose ipsec HQ) || true
	ic_check "diagnose: [NG] A5.3 names the address range" grep -qE 'NG.*A5\.3.*address range' <<<"$diag"
	ic_check "diagnose: the range as sent" grep -qF '192.168.1.10-192.168.1.20' <<<"$diag"
	lab_capture_stop "$cap"
	check_capture "$cap" "$GW_B_WAN"
	n=$(tshark -n -r "$cap" -Y "isakmp.exchangetype == 5 && ip.src == $GW_B_WAN" 2>/dev/null | wc -l)
	ic_check "capture: kizuna answered with an Informational ($n)" test "$n" -ge 1
	case_end b
	case_cleanup
fi

# ---- two-r: charon initiates both children, kizuna answers each
if case_begin two-r; then
	cap=$LAB_DIR/two-r.pcap
	second_hosts
	kz_conf b any "$LAN_B_NET" "$LAN_A_NET" "selector local $NET_B2 remote $NET_A2" \
		"ip route $LAN_A_NET IPsec0|ip route $NET_A2 IPsec0"
	SEL_SS_CHILD2=1 charon_a_init "$cap"
	ic_check "swanctl --initiate net" ss_initiate a net 20
	ic_check "swanctl --initiate net2 (same IKE SA)" ss_initiate a net2 20
	lab_wait_for 5 created_is b 4 || true
	two_pairs_checks b a responder
	lab_capture_stop "$cap"
	check_capture "$cap" "$GW_B_WAN"
	case_end b
	case_cleanup
fi

# ---- narrow: charon asks for one host inside kizuna's /24
if case_begin narrow; then
	cap=$LAB_DIR/narrow.pcap
	kz_conf b any "$LAN_B_NET" "$LAN_A_NET" "" "ip route $LAN_A_NET IPsec0"
	charon_a_init "$cap" local_ts=192.168.1.10/32 lo_addr=192.168.1.10
	ic_check "swanctl --initiate net" ss_initiate a net 20
	ic_check "kizuna: one pair" test "$(kz_created b)" = 2
	json=$(kz b show ipsec sa json)
	ic_check "show ipsec sa json: kizuna uses the narrower 192.168.1.10/32" \
		grep -qF '"selector":{"local":"192.168.2.0/24","remote":"192.168.1.10/32"' <<<"$json"
	ic_check "charon: CHILD_SA INSTALLED" ss_child_installed a net
	ic_check "ping 192.168.1.10 -> lan-b through the narrowed pair" \
		lab_exec gw-a ping -n -q -c 3 -i 0.2 -W 2 -I 192.168.1.10 "$LAN_B_HOST"
	ic_check "show ipsec sa: both SAs carried the ping" test -z "$(kz b show ipsec sa | grep '^0 \[packets\]')"
	lab_capture_stop "$cap"
	check_capture "$cap" "$GW_B_WAN"
	case_end b
	case_cleanup
fi

# ---- kz-kz: kizuna on both sites, two pairs
if case_begin kz-kz; then
	cap=$LAB_DIR/kz-kz.pcap
	second_hosts
	kz_conf a "$GW_B_WAN" "$LAN_A_NET" "$LAN_B_NET" "selector local $NET_A2 remote $NET_B2" \
		"ip route $LAN_B_NET IPsec0|ip route $NET_B2 IPsec0"
	kz_conf b "$GW_A_PUBLIC" "$LAN_B_NET" "$LAN_A_NET" "selector local $NET_B2 remote $NET_A2" \
		"ip route $LAN_A_NET IPsec0|ip route $NET_A2 IPsec0"
	# B answers (and would start on traffic): no crossing first exchanges
	sed -i 's/^  ipsec policy IPSECPOL$/&\n  initiate on-demand/' "$LAB_DIR/sel-b.conf"
	lab_capture_start gw-b "$WAN_IF" "$cap"
	ic_check "kizunad starts on gw-b" kz_start b "$LAB_DIR/sel-b.conf"
	ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/sel-a.conf"
	lab_wait_for 25 created_is a 4 || true
	lab_wait_for 5 created_is b 4 || true
	ipa=$(kz a show ike sa | grep -c '^IKE PH1 established' || true)
	two_pairs_checks a "" initiator
	ic_check "site B: 4 SAs too" test "$(kz_created b)" = 4
	ic_check "site A: one IKE SA ($ipa)" test "$ipa" -eq 1
	lab_capture_stop "$cap"
	check_capture "$cap" "$GW_A_PUBLIC"
	case_end a b
	case_cleanup
fi

# ---- route: 0/0 selectors, the default route into IPsec0
if case_begin route; then
	cap=$LAB_DIR/route.pcap
	kz_conf a "$GW_B_WAN" 0.0.0.0/0 0.0.0.0/0 "" "ip route 0.0.0.0/0 IPsec0" 2
	ic_check "kizuna check: no warning about the peer" \
		sh -c "! '$KZ_BUILD/kizuna' check '$LAB_DIR/sel-a.conf' | grep -q 'peer $GW_B_WAN'"
	ss_setup gw-b b responder psk="$PSK" ike=aes256-sha256-modp2048 esp=aes256-sha256 \
		local_ts=0.0.0.0/0 remote_ts=0.0.0.0/0
	lab_capture_start gw-b "$WAN_IF" "$cap"
	ic_check "charon starts on gw-b" ss_start gw-b b
	# charon routes 0/0 into its tunnel (table 220, the peer thrown out);
	# its own LAN stays local, as a cloud gateway's does
	lab_exec gw-b ip route replace throw "$LAN_B_NET" table 220
	ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/sel-a.conf"
	if lab_wait_for 25 kz_ipsec_up a && lab_wait_for 10 ss_child_installed b net; then
		ic_ok "established"
	else
		ic_nok "established"
	fi
	ic_check "gw-a: the default route is into ipsec0" \
		sh -c "ip -n '$(lab_ns gw-a)' route show default | grep -q 'dev ipsec0'"
	r=$(lab_exec gw-a ip route get "$GW_B_WAN" | head -n 1)
	ic_check "gw-a: the peer $GW_B_WAN is reached by $WAN_IF via $CARRIER_A ($r)" \
		grep -qE "via ${CARRIER_A//./\\.} dev $WAN_IF" <<<"$r"
	ic_check "gw-a: kizunad's host route to the peer (proto 200)" \
		sh -c "ip -n '$(lab_ns gw-a)' route show '$GW_B_WAN/32' | grep -q 'proto 200'"
	r=$(lab_exec gw-a ip route get 198.18.0.1 | head -n 1)
	ic_check "gw-a: the rest (198.18.0.1) enters the tunnel ($r)" grep -q 'dev ipsec0' <<<"$r"
	ic_check "ping lan-a -> lan-b through the tunnel" lab_exec lan-a ping -n -q -c 3 -i 0.2 -W 2 "$LAN_B_HOST"
	ic_check "ping lan-b -> lan-a through the tunnel" lab_exec lan-b ping -n -q -c 2 -i 0.2 -W 2 "$LAN_A_HOST"
	ic_check "show ipsec sa: both SAs carried packets" test -z "$(kz a show ipsec sa | grep '^0 \[packets\]')"
	sleep 3 # two NAT-T keepalives (keepalive 2)
	lab_capture_stop "$cap"
	check_capture "$cap" "$GW_A_PUBLIC"
	n=$(tshark -n -r "$cap" -Y "ip.src == $GW_A_PUBLIC && udp.dstport == 4500 && udp.length == 9" 2>/dev/null | wc -l)
	ic_check "capture: NAT-T keepalives left by the WAN ($n)" test "$n" -ge 1
	n=$(tshark -n -r "$cap" -Y "ip.src == $GW_A_PUBLIC && esp" 2>/dev/null | wc -l)
	ic_check "capture: ESP from kizuna on the WAN ($n)" test "$n" -ge 3
	case_end a
	case_cleanup
fi

echo "selectors: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
