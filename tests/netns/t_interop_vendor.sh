#!/usr/bin/env bash
#
# t_interop_vendor.sh [build-dir] - kizuna against strongSwan (charon 5.9,
# kernel-libipsec) set up as the routers at the other site behave, global
# lab, Main mode, address identities:
#   pfs-follow   charon initiates with PFS MODP-2048 (FortiGate, MikroTik,
#                Juniper "standard" do by default); kizuna responds with
#                `pfs none` and follows: up, charon's CHILD_SA has MODP_2048,
#                our detail shows the peer's pfs modp2048
#   pfs-require  kizuna responds with `pfs ecp256`, charon offers MODP-2048:
#                refused; diagnose ipsec says A5.4 naming PFS
#   long-list    charon initiates with 19 IKE and 18 ESP transforms, the one
#                kizuna has last (Cisco with several ISAKMP policies,
#                FortiGate lists): up; tshark counts the transforms
#   life-ours    charon initiates with 8 h lifetimes, kizuna responds with
#                3600 s / 1800 s: kizuna answers charon's transforms
#                unchanged (charon logs no lifetime mismatch), sends
#                RESPONDER-LIFETIME (phase 1 in an Informational, phase 2 in
#                QM2), shows its lifetimes in force with their source
#   life-theirs  kizuna initiates with 8 h lifetimes, charon responds with
#                3600 s / 1200 s: charon takes ours without a notify (it
#                logs so and rekeys on its own); kizuna shows ours
#   life-notify  the same against kizuna, which sends RESPONDER-LIFETIME
#                (as Cisco IOS): the initiator shortens both SAs and shows
#                the peer's notify as the source
#   dpd-off      kizuna (dpd) against kizuna (no dpd): show ipsec profile
#                and diagnose ipsec say the peer did not announce DPD and
#                what that means for recovery, with dpd on the initiator
#                (dpd-off) and on the responder (dpd-off-resp); against
#                charon without dpd_delay (it still sends the DPD vendor ID)
#                DPD is on (dpd-charon)
# Each case checks `show`, a ping through the tunnel where it is up, and
# that tshark decodes every ISAKMP packet kizuna sent without a malformed
# or expert warning.
# Exit 0 pass, 1 fail, 77 skip (no root or tools; a failure under CI=true).
# Knobs: VC_ONLY (regex of case names), IC_PART (K/N), LAB_KEEP=1.

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

VC_PSK="kizuna-vendor-$$"
VC_INDEX=0

# vc_conf site pfs ike_life esp_life dpd(yes|no) > config
vc_conf() {
	local site=$1 pfs=$2 ike_life=$3 esp_life=$4 dpd=$5
	kz_conf_head "vendor-$site" modp2048
	cat <<EOF
  lifetime $ike_life
ike policy IKEPOL
  exchange-mode main
  proposal IKEP
  pre-shared-key ascii "$VC_PSK"
  nat-traversal
EOF
	[ "$dpd" = no ] || echo "  dpd interval 10 retry 3"
	cat <<EOF
ipsec proposal ESPP
  protocol esp
  encryption aes-cbc-256
  authentication hmac-sha2-256
  lifetime time $esp_life
ipsec policy IPSECPOL
  proposal ESPP
EOF
	kz_conf_lan_ids "$site"
	[ "$pfs" = none ] || echo "  pfs $pfs"
	if [ "$site" = a ]; then kz_conf_profile "$GW_B_WAN"; else kz_conf_profile any; fi
	kz_conf_lan_route "$site"
}

# vc_begin name: whether the case runs (VC_ONLY, IC_PART); starts its capture
vc_begin() {
	VC_NAME=$1 IC_NAME=$1
	VC_INDEX=$((VC_INDEX + 1))
	ic_selected "$VC_NAME" "$VC_INDEX" "${VC_ONLY:-}" || return 1
	IC_CASE_FAILED=0
	VC_T0=$SECONDS
	VC_CAP=$LAB_DIR/$VC_NAME-gwb-wan0.pcap
	echo "# case $VC_NAME"
	lab_capture_start gw-b "$WAN_IF" "$VC_CAP"
	return 0
}

# the wire: tshark decodes what kizuna (at $1) sent, without warnings
vc_wire() {
	local src=$1 n bad
	lab_capture_stop "$VC_CAP"
	n=$(_ic_cap_count "$VC_CAP" "isakmp && ip.src == $src")
	ic_check "capture: kizuna sent ISAKMP packets ($n)" test "$n" -gt 0
	if ! bad=$(tshark -n -r "$VC_CAP" -Y "isakmp && ip.src == $src && (_ws.malformed || _ws.expert.severity >= warning || isakmp.extradata)" 2>/dev/null | wc -l); then
		ic_nok "capture: tshark rejects the malformed/expert display filter"
	elif [ "$bad" -eq 0 ]; then
		ic_ok "capture: tshark decodes kizuna's ISAKMP packets without warnings"
	else
		ic_nok "capture: tshark flags $bad of kizuna's ISAKMP packets"
	fi
	n=$(_ic_cap_count "$VC_CAP" "icmp && (ip.addr == $LAN_A_NET || ip.addr == $LAN_B_NET)")
	ic_check "capture: no plaintext ICMP between the LANs ($n)" test "$n" -eq 0
}

# vc_end kz-site [ss-site]: the verdict, logs on failure, everything stopped
vc_end() {
	local kzs=$1 ss=${2:-}
	if [ "$IC_CASE_FAILED" -ne 0 ]; then
		IC_FAILED=$((IC_FAILED + 1))
		echo "# --- kizuna $kzs: show ike sa / show ipsec profile HQ detail"
		kz "$kzs" show ike sa 2>&1 || true
		kz "$kzs" show ipsec profile HQ detail 2>&1 || true
		echo "# --- kizunad-$kzs log"
		grep -v 'console: session' "$LAB_DIR/kizunad-$kzs.log" | tail -n 40
		if [ -n "$ss" ]; then
			echo "# --- charon's log"
			grep -E '\[(IKE|CFG|CHD|NET|ENC)\]' "$(ss_log "$ss")" |
				grep -vE 'vici|watcher|loaded' | tail -n 50
		fi
		echo "# capture: $VC_CAP"
		tshark -n -r "$VC_CAP" 2>/dev/null | head -n 30
	else
		IC_PASSED=$((IC_PASSED + 1))
		echo "ok - $VC_NAME ($((SECONDS - VC_T0)) s)"
	fi
	kz_stop a 2>/dev/null || true
	kz_stop b 2>/dev/null || true
	if [ -n "$ss" ]; then
		ss_stop "$ss" || true
		mv -f "$(ss_dir "$ss")/charon.log" "$LAB_DIR/$VC_NAME-charon.log" 2>/dev/null || true
	fi
	lab_capture_stop
	lab_wait_for 5 _ic_gw_clean gw-a || echo "# warning: gw-a not clean after $VC_NAME"
	lab_wait_for 5 _ic_gw_clean gw-b || echo "# warning: gw-b not clean after $VC_NAME"
	mv -f "$LAB_DIR/kizunad-a.log" "$LAB_DIR/$VC_NAME-kizunad-a.log" 2>/dev/null || true
	mv -f "$LAB_DIR/kizunad-b.log" "$LAB_DIR/$VC_NAME-kizunad-b.log" 2>/dev/null || true
}

_vc_up() { kz_ipsec_up "$1" && ss_child_installed "$2"; }

# charon on gw-a initiates, kizuna on gw-b responds
vc_charon_init() { # kz-conf-args... -- ss_setup options...
	local kzargs=() a
	while [ $# -gt 0 ] && [ "$1" != -- ]; do kzargs+=("$1"); shift; done
	shift
	vc_conf b "${kzargs[@]}" >"$LAB_DIR/$VC_NAME-b.conf"
	ss_setup gw-a a initiator exchange=main psk="$VC_PSK" "$@"
	ic_check "kizunad starts on gw-b" kz_start b "$LAB_DIR/$VC_NAME-b.conf"
	ic_check "charon starts on gw-a" ss_start gw-a a
	ss_initiate a net 20 >/dev/null 2>&1 || true
}

# vc_remaining_le site ike|ipsec max: `show ike|ipsec sa` on site gives a
# remaining lifetime of at most max seconds.
vc_remaining_le() {
	local rem
	rem=$(kz "$1" show "$2" sa | sed -n 's/^Remaining lifetime is \([0-9]*\) seconds$/\1/p' | head -n 1)
	ic_check "show $2 sa: remaining lifetime ${rem:-?} <= $3" test "${rem:-99999}" -le "$3"
}

# vc_lifetimes site ike_s ipsec_s source: `show ipsec profile HQ detail` on
# site gives the IKE SA and the IPsec SA those lifetimes from that source,
# and `show ike|ipsec sa` count down from them; the detail is left in d.
vc_lifetimes() {
	d=$(kz "$1" show ipsec profile HQ detail)
	ic_check "detail: IKE SA $2 s ($4)" grep -qxF "    IKE SA: $2 s ($4)" <<<"$d"
	ic_check "detail: IPsec SA $3 s ($4)" \
		grep -qE "^    IPsec SA \(in spi 0x[0-9a-f]{8}\): $3 s \($4\)$" <<<"$d"
	vc_remaining_le "$1" ipsec "$3"
	vc_remaining_le "$1" ike "$2"
}

vc_ping() {
	ic_check "ping lan-a -> lan-b through the tunnel" \
		lab_exec lan-a ping -n -q -c 3 -i 0.2 -W 2 "$LAN_B_HOST"
}

lab_up global
IC_PASSED=0
IC_FAILED=0

if vc_begin pfs-follow; then
	vc_charon_init none 28800 3600 no -- ike=aes256-sha256-modp2048 esp=aes256-sha256-modp2048
	if lab_wait_for 25 _vc_up b a; then ic_ok "established"; else ic_nok "established"; fi
	ic_check "show ipsec sa: 1 configured, 2 created" \
		grep -qxF "IPsec SA - 1 configured, 2 created" <<<"$(kz b show ipsec sa)"
	ic_eq "charon: ESP algorithms (PFS MODP-2048)" "AES_CBC-256 HMAC_SHA2_256_128 MODP_2048" \
		"$(ss_child_algs a)"
	ic_check "show ipsec profile HQ detail: the peer offered pfs modp2048" \
		grep -qF "pfs modp2048" <<<"$(kz b show ipsec profile HQ detail)"
	vc_ping
	vc_wire "$GW_B_WAN"
	vc_end b a
fi

if vc_begin pfs-require; then
	vc_charon_init ecp256 28800 3600 no -- ike=aes256-sha256-modp2048 esp=aes256-sha256-modp2048
	ic_check "kizuna records the PFS mismatch" \
		lab_wait_for 20 grep -q "PFS differs" "$LAB_DIR/kizunad-b.log"
	d=$(kz b diagnose ipsec HQ 2>&1) || true
	ic_check "diagnose ipsec: A5.4 names PFS" \
		grep -qF "A5.4 PFS differs from the peer: this site has pfs ecp256, the peer offered pfs modp2048" <<<"$d"
	ic_check "no IPsec SA on kizuna" \
		grep -qxF "IPsec SA - 1 configured, 0 created" <<<"$(kz b show ipsec sa)"
	vc_wire "$GW_B_WAN"
	[ "$IC_CASE_FAILED" -eq 0 ] || echo "$d"
	vc_end b a
fi

if vc_begin long-list; then
	# 18 IKE proposals kizuna lacks, then its own; ESP likewise (17 + 1)
	ike="" esp=""
	for e in aes128 aes192 3des; do
		for h in sha1 sha384 sha512; do
			for g in modp1024 modp1536; do ike="$ike$e-$h-$g,"; done
		done
		for h in sha1 sha384 sha512 md5 sha256; do esp="$esp$e-$h,"; done
	done
	ike="${ike}aes256-sha256-modp2048"
	esp="${esp}aes128gcm16,aes256gcm16,aes256-sha256"
	vc_charon_init none 28800 3600 no -- ike="$ike" esp="$esp"
	if lab_wait_for 25 _vc_up b a; then ic_ok "established"; else ic_nok "established"; fi
	ic_eq "charon: IKE algorithms" "AES_CBC-256 HMAC_SHA2_256_128 PRF_HMAC_SHA2_256 MODP_2048" \
		"$(ss_ike_algs a)"
	ic_eq "charon: ESP algorithms" "AES_CBC-256 HMAC_SHA2_256_128" "$(ss_child_algs a)"
	vc_ping
	vc_wire "$GW_B_WAN"
	t=$(tshark -n -r "$VC_CAP" -Y "isakmp.exchangetype == 2 && ip.src == $GW_A_PUBLIC && isakmp.prop.transforms" \
		-T fields -e isakmp.prop.transforms 2>/dev/null | head -n 1)
	ic_check "capture: charon's MM1 carries ${t:-?} transforms (more than 16)" test "${t:-0}" -gt 16
	vc_end b a
fi

if vc_begin life-ours; then
	vc_charon_init none 3600 1800 no -- ike=aes256-sha256-modp2048 esp=aes256-sha256 \
		ike_lifetime=28800 child_lifetime=28800
	if lab_wait_for 25 _vc_up b a; then ic_ok "established"; else ic_nok "established"; fi
	vc_lifetimes b 3600 1800 "ours, shorter: sent as RESPONDER-LIFETIME"
	ic_check "charon: no lifetime mismatch on our unchanged transforms" \
		bash -c "! grep -q 'does not match configured lifetime' '$(ss_log a)'"
	vc_ping
	vc_wire "$GW_B_WAN"
	vc_end b a
fi

if vc_begin life-theirs; then
	vc_conf a none 28800 28800 no >"$LAB_DIR/$VC_NAME-a.conf"
	ss_setup gw-b b responder exchange=main psk="$VC_PSK" ike=aes256-sha256-modp2048 \
		esp=aes256-sha256 ike_lifetime=3600 child_lifetime=1200
	ic_check "charon starts on gw-b" ss_start gw-b b
	ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/$VC_NAME-a.conf"
	if lab_wait_for 25 _vc_up a b; then ic_ok "established"; else ic_nok "established"; fi
	# charon answers with our lifetime and sends no RESPONDER-LIFETIME: it
	# rekeys on its own shorter one, and kizuna shows what it was told
	ic_check "charon: took our 28800 s, keeps its 1200 s (no notify)" \
		grep -q "received 28800s lifetime, configured 1200s" "$(ss_log b)"
	ic_check "detail: the IPsec SA's lifetime is ours, as the peer answered" \
		grep -qE "^    IPsec SA \(in spi 0x[0-9a-f]{8}\): 28800 s \(ours\)$" \
		<<<"$(kz a show ipsec profile HQ detail)"
	vc_ping
	vc_wire "$GW_A_PUBLIC"
	vc_end a b
fi

# a peer that sends RESPONDER-LIFETIME (as Cisco IOS does): kizuna on gw-b
# with the shorter lifetimes; the initiator on gw-a shortens its SAs
if vc_begin life-notify; then
	vc_conf a none 28800 28800 no >"$LAB_DIR/$VC_NAME-a.conf"
	vc_conf b none 3600 1200 no >"$LAB_DIR/$VC_NAME-b.conf"
	ic_check "kizunad starts on gw-b (3600 s / 1200 s)" kz_start b "$LAB_DIR/$VC_NAME-b.conf"
	ic_check "kizunad starts on gw-a (28800 s)" kz_start a "$LAB_DIR/$VC_NAME-a.conf"
	if lab_wait_for 25 kz_ipsec_up a; then ic_ok "established"; else ic_nok "established"; fi
	lab_wait_for 5 bash -c "grep -q 'RESPONDER-LIFETIME shortens the IKE SA' '$LAB_DIR/kizunad-a.log'" || true
	vc_lifetimes a 3600 1200 "the peer's RESPONDER-LIFETIME"
	ic_check "detail: the status notifies received" \
		grep -qE "status notifies .*RESPONDER-LIFETIME phase 2 1200 s.*RESPONDER-LIFETIME phase 1 3600 s|status notifies .*RESPONDER-LIFETIME phase 1 3600 s.*RESPONDER-LIFETIME phase 2 1200 s" <<<"$d"
	vc_ping
	vc_wire "$GW_B_WAN"
	vc_end a
fi

if vc_begin dpd-off; then
	vc_conf a none 28800 3600 yes >"$LAB_DIR/$VC_NAME-a.conf"
	vc_conf b none 28800 3600 no >"$LAB_DIR/$VC_NAME-b.conf"
	ic_check "kizunad starts on gw-b (no dpd)" kz_start b "$LAB_DIR/$VC_NAME-b.conf"
	ic_check "kizunad starts on gw-a (dpd)" kz_start a "$LAB_DIR/$VC_NAME-a.conf"
	if lab_wait_for 25 kz_ipsec_up a; then ic_ok "established"; else ic_nok "established"; fi
	p=$(kz a show ipsec profile HQ)
	ic_check "show ipsec profile: the peer did not announce DPD" \
		grep -qF "  DPD off: the peer did not announce DPD (RFC 3706), so a dead peer is not noticed:" <<<"$p"
	ic_check "show ipsec profile: until the lifetime ends" \
		grep -qE "^    its SAs are kept until their lifetime ends \(in [0-9]+ s\) or the peer starts over with INITIAL-CONTACT$" <<<"$p"
	ic_check "show ipsec profile json: state.dpd off-peer" \
		grep -qF '"dpd":"off-peer"' <<<"$(kz a show ipsec profile HQ json)"
	ic_check "diagnose ipsec: the DPD warning" \
		grep -qF "DPD off: the peer did not announce DPD" <<<"$(kz a diagnose ipsec HQ 2>&1)"
	ic_check "site B (no dpd of its own) shows no such line" \
		bash -c "! grep -q 'DPD off' <<<\"\$1\"" _ "$(kz b show ipsec profile HQ)"
	vc_ping
	vc_wire "$GW_B_WAN"
	vc_end a
fi

# the other role: the responder has dpd, the initiator does not
if vc_begin dpd-off-resp; then
	vc_conf a none 28800 3600 no >"$LAB_DIR/$VC_NAME-a.conf"
	vc_conf b none 28800 3600 yes >"$LAB_DIR/$VC_NAME-b.conf"
	ic_check "kizunad starts on gw-b (dpd)" kz_start b "$LAB_DIR/$VC_NAME-b.conf"
	ic_check "kizunad starts on gw-a (no dpd)" kz_start a "$LAB_DIR/$VC_NAME-a.conf"
	if lab_wait_for 25 kz_ipsec_up b; then ic_ok "established"; else ic_nok "established"; fi
	ic_check "responder: show ipsec profile says the peer did not announce DPD" \
		grep -qF "  DPD off: the peer did not announce DPD (RFC 3706), so a dead peer is not noticed:" \
		<<<"$(kz b show ipsec profile HQ)"
	ic_check "responder: show ipsec profile json: state.dpd off-peer" \
		grep -qF '"dpd":"off-peer"' <<<"$(kz b show ipsec profile HQ json)"
	vc_ping
	vc_wire "$GW_B_WAN"
	vc_end b
fi

# charon without dpd_delay still announces DPD: kizuna probes it
if vc_begin dpd-charon; then
	vc_conf a none 28800 3600 yes >"$LAB_DIR/$VC_NAME-a.conf"
	ss_setup gw-b b responder exchange=main psk="$VC_PSK" ike=aes256-sha256-modp2048 \
		esp=aes256-sha256
	ic_check "charon starts on gw-b" ss_start gw-b b
	ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/$VC_NAME-a.conf"
	if lab_wait_for 25 _vc_up a b; then ic_ok "established"; else ic_nok "established"; fi
	ic_check "show ipsec profile json: state.dpd on" \
		grep -qF '"dpd":"on"' <<<"$(kz a show ipsec profile HQ json)"
	ic_check "show ipsec profile: no DPD-off line" \
		bash -c "! grep -q 'DPD off' <<<\"\$1\"" _ "$(kz a show ipsec profile HQ)"
	vc_ping
	vc_wire "$GW_A_PUBLIC"
	vc_end a b
fi

echo "interop-vendor: $IC_PASSED passed, $IC_FAILED failed"
[ "$IC_FAILED" -eq 0 ]
