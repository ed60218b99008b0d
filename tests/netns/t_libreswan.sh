#!/usr/bin/env bash
#
# t_libreswan.sh [build-dir] - kizuna against Debian's libreswan (pluto
# 4.10, unpacked by scripts/deps.sh: it conflicts with strongSwan), global
# lab, pre-shared key, address identities, both roles, Main and Aggressive
# mode.  This kernel has no ESP for XFRM, so pluto cannot install the SAs
# of a Quick Mode ("errno 93"): phase 1 is checked to the end, Quick Mode
# as far as it goes.
#   lsw-main-i   pluto initiates Main mode, kizuna responds
#   lsw-aggr-i   pluto initiates Aggressive mode, kizuna responds
#   lsw-main-r   kizuna initiates Main mode, pluto responds
#   lsw-aggr-r   kizuna initiates Aggressive mode, pluto responds
# Each case checks: `show ike sa` (IKE PH1 established, exchange type,
# direction, algorithms), pluto's log (IKE SA established, the same
# algorithms), `show ipsec profile HQ detail` (pluto's vendor IDs,
# accepted in every message: Cisco fragmentation, DPD, NAT-T), the Quick
# Mode as far as it goes (pluto sends or answers it and then fails at its
# kernel; kizuna records pluto's proposal and selectors), and that tshark
# decodes every ISAKMP packet of both sides without a malformed or expert
# warning.  No traffic: pluto cannot carry it here.
# Exit 0 pass, 1 fail, 77 skip (no root or pluto; a failure under CI=true).
# Knobs: LSW_ONLY (regex of case names), LAB_KEEP=1.

set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/netns/ike_lib.sh
. "$HERE/ike_lib.sh"
# shellcheck source=tests/netns/interop_lib.sh
. "$HERE/interop_lib.sh"
# shellcheck source=tests/netns/libreswan.sh
. "$HERE/libreswan.sh"

lsw_require
lab_require_cmd tshark tshark
[ -x "$KZ_BUILD/kizunad" ] || { echo "FAIL: no $KZ_BUILD/kizunad"; exit 1; }

trap lab_down EXIT
trap 'exit 130' INT TERM HUP

PSK="kizuna-libreswan-psk-$$"
IC_PASSED=0
IC_FAILED=0

# kz_conf site mode > config (site a initiates to gw-b; b answers anyone in
# Main mode, and in Aggressive mode the ID pluto sends: its address)
kz_conf() {
	local site=$1 mode=$2
	kz_conf_head "lsw-$site" modp2048
	cat <<CONF
ike policy IKEPOL
  exchange-mode $mode
  proposal IKEP
  pre-shared-key ascii "$PSK"
  nat-traversal
  dpd
$([ "$site" = b ] && [ "$mode" = aggressive ] && echo "  remote-id address $GW_A_WAN")
ipsec proposal ESPP
  protocol esp
  encryption aes-cbc-256
  authentication hmac-sha2-256
ipsec policy IPSECPOL
  proposal ESPP
CONF
	kz_conf_lan_ids "$site"
	if [ "$site" = a ]; then kz_conf_profile "$GW_B_WAN"; else kz_conf_profile any; fi
}

# lsw_case name kizuna-role(init|resp) mode(main|aggressive)
lsw_case() {
	local name=$1 role=$2 mode=$3 kzs lss lsite exch dir cap t0=$SECONDS ike d n bad
	IC_NAME=$name
	if [ -n "${LSW_ONLY:-}" ] && ! [[ $name =~ $LSW_ONLY ]]; then return 0; fi
	IC_CASE_FAILED=0
	echo "# case $name: kizuna $role, $mode"
	if [ "$role" = resp ]; then
		kzs=b lss=a lsite=gw-a dir=responder
	else
		kzs=a lss=b lsite=gw-b dir=initiator
	fi
	case "$mode" in main) exch="Main mode" ;; *) exch="Aggressive mode" ;; esac
	cap=$LAB_DIR/$name-gwb-wan0.pcap
	kz_conf "$kzs" "$mode" >"$LAB_DIR/$name-$kzs.conf"
	lsw_setup "$lsite" "$lss" "$([ "$role" = resp ] && echo initiator || echo responder)" \
		exchange="$mode" psk="$PSK"
	lab_capture_start gw-b "$WAN_IF" "$cap"
	if [ "$role" = resp ]; then
		ic_check "kizunad starts on gw-b" kz_start b "$LAB_DIR/$name-b.conf"
		ic_check "pluto starts on gw-a" lsw_start gw-a a
		ic_check "whack --initiate" lsw_initiate a
	else
		ic_check "pluto starts on gw-b" lsw_start gw-b b
		ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/$name-a.conf"
	fi
	if lab_wait_for 20 kz_ike_up "$kzs"; then ic_ok "phase 1 established on kizuna"; else ic_nok "phase 1 established on kizuna"; fi
	ic_check "pluto: IKE SA established (AES_CBC_256, HMAC_SHA2_256, MODP2048)" \
		lab_wait_for 10 grep -qE "IKE SA established \{auth=PRESHARED_KEY cipher=AES_CBC_256 integ=HMAC_SHA2_256 group=MODP2048\}" "$(lsw_log "$lss")"
	ike=$(kz "$kzs" show ike sa 2>&1) || true
	ic_check "show ike sa: Exchange type is $exch" grep -qx "Exchange type is $exch" <<<"$ike"
	ic_check "show ike sa: Direction is $dir" grep -qx "Direction is $dir" <<<"$ike"
	ic_check "show ike sa: encrypt:AES-CBC 256 bits" grep -qxF "encrypt:AES-CBC 256 bits" <<<"$ike"
	ic_check "show ike sa: dh_group:2048-bit MODP group" grep -qxF "dh_group:2048-bit MODP group" <<<"$ike"
	# Quick Mode as far as it goes
	if [ "$role" = resp ]; then
		ic_check "pluto sent its Quick Mode request" \
			lab_wait_for 10 grep -q "sent Quick Mode request" "$(lsw_log "$lss")"
		ic_check "kizuna recorded pluto's phase 2 proposal and selectors" \
			lab_wait_for 10 bash -c "$(declare -f kz); KZ_BUILD=$KZ_BUILD LAB_DIR=$LAB_DIR; $(declare -f lab_exec lab_ns _lab_err); kz b show ipsec profile HQ detail | grep -q 'phase 2 proposal (the peer offered.*esp aes-cbc-256/hmac-sha2-256 pfs none'"
	else
		ic_check "pluto got kizuna's Quick Mode" \
			lab_wait_for 10 grep -qE "Quick Mode|QUICK" "$(lsw_log "$lss")"
	fi
	ic_check "pluto fails at its kernel (no ESP here), as expected" \
		lab_wait_for 10 grep -q "errno 93" "$(lsw_log "$lss")"
	d=$(kz "$kzs" show ipsec profile HQ detail 2>&1) || true
	ic_check "detail: pluto's vendor IDs accepted (DPD, RFC 3947 NAT-T)" \
		grep -qE "vendor IDs .*DPD.*RFC 3947 NAT-T|vendor IDs .*RFC 3947 NAT-T.*DPD" <<<"$d"
	ic_check "detail: the peer's ID address" grep -qE "ID \(.*\): address " <<<"$d"
	ic_check "show ipsec profile: DPD on (pluto announces it)" \
		grep -qF '"dpd":"on"' <<<"$(kz "$kzs" show ipsec profile HQ json)"
	lab_capture_stop "$cap"
	n=$(_ic_cap_count "$cap" "isakmp")
	ic_check "capture: ISAKMP packets of both sides ($n)" test "$n" -gt 4
	if ! bad=$(tshark -n -r "$cap" -Y "isakmp && (_ws.malformed || _ws.expert.severity >= warning || isakmp.extradata)" 2>/dev/null | wc -l); then
		ic_nok "capture: tshark rejects the display filter"
	else
		ic_check "capture: tshark decodes every ISAKMP packet without warnings ($bad flagged)" test "$bad" -eq 0
	fi
	n=$(_ic_cap_count "$cap" "isakmp.exchangetype == $([ "$mode" = main ] && echo 2 || echo 4)")
	ic_check "capture: $exch messages on the wire ($n)" test "$n" -ge 3
	if [ "$IC_CASE_FAILED" -ne 0 ]; then
		IC_FAILED=$((IC_FAILED + 1))
		echo "$ike"
		echo "$d"
		grep -v 'console: session' "$LAB_DIR/kizunad-$kzs.log" | tail -n 30
		grep -vE "Test Case|testing|CAVP|RFC 2104|helper" "$(lsw_log "$lss")" | tail -n 30
		tshark -n -r "$cap" 2>/dev/null | head -n 20
	else
		IC_PASSED=$((IC_PASSED + 1))
		echo "ok - $name ($((SECONDS - t0)) s)"
	fi
	kz_stop "$kzs"
	lsw_stop "$lss"
	lab_capture_stop
	mv -f "$LAB_DIR/kizunad-$kzs.log" "$LAB_DIR/$name-kizunad.log" 2>/dev/null || true
	mv -f "$(lsw_dir "$lss")" "$LAB_DIR/$name-lsw" 2>/dev/null || true
}

lab_up global
lsw_case lsw-main-i resp main
lsw_case lsw-aggr-i resp aggressive
lsw_case lsw-main-r init main
lsw_case lsw-aggr-r init aggressive
echo "libreswan: $IC_PASSED passed, $IC_FAILED failed"
[ "$IC_FAILED" -eq 0 ]
