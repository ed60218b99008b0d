#!/usr/bin/env bash
# The fault corpus of `diagnose ipsec`: the scenario x side table of
# tests/netns/diag_corpus.tsv, on one lab (aggressive mode, site A behind
# the carrier NAT with NAT-T, examples/site-a.conf and site-b.conf).  Each
# scenario is staged through the console (or the lab), each row waits for
# its side's first [NG] (or "no problem found", or "the tunnel is down"),
# in English and Japanese, with the exit status of `kizuna diagnose
# ipsec`; then the scenario is undone and the tunnel must come back.
#
# DC_ONLY=REGEX runs only the scenarios whose name matches; IC_PART=K/2
# (set by CTest for netns/t_diag_corpus/1 and /2) every other scenario.
set -u
# check_lib.sh sets KZ_BUILD from the first argument.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
# shellcheck source=tests/netns/strongswan.sh
. "$here/strongswan.sh"
kz_lab_begin ping:iputils-ping

KEY='"correct horse battery staple"'
right=0
total=0
table=""

# ---- one diagnosis ----

diag_run() { # site lang: output in $LAB_DIR/diag.out, status in diag_rc
	local site=$1 lang=$2
	lab_exec "gw-$site" env LC_ALL= LC_MESSAGES= LANG="$lang" \
		"$KZ_BUILD/kizuna" -s "$LAB_DIR/$site.sock" diagnose ipsec >"$LAB_DIR/diag.out" 2>&1
	diag_rc=$?
}

diag_first() { awk '/^\[NG\] / { print $2; exit }' "$LAB_DIR/diag.out"; }

# got: the row's verdict from the last run ("none", "down", an id, or
# "?" for anything else), checked against the summary and the status
diag_got() { # lang
	local id sum_ok sum_down
	if [ "$1" = C ]; then
		sum_ok='^HQ: no problem found$'
		sum_down='^HQ: the tunnel is down, cause not found: '
	else
		sum_ok='^HQ: 問題は見つかりませんでした$'
		sum_down='^HQ: トンネルは停止中、原因は見つかっていません: '
	fi
	id=$(diag_first)
	if [ -n "$id" ] && [ "$diag_rc" -eq 1 ]; then
		echo "$id"
	elif [ -z "$id" ] && [ "$diag_rc" -eq 0 ] && grep -q "$sum_ok" "$LAB_DIR/diag.out"; then
		echo none
	elif [ -z "$id" ] && [ "$diag_rc" -eq 2 ] && grep -q "$sum_down" "$LAB_DIR/diag.out"; then
		echo down
	else
		echo "?(rc=$diag_rc)"
	fi
}

verdict_is() { # site want lang
	diag_run "$1" "$3"
	[ "$(diag_got "$3")" = "$2" ]
}

row() { # scenario site want timeout what
	local sc=$1 site=$2 want=$3 t=$4 what=$5 got lang res=ok
	for lang in C ja_JP.UTF-8; do
		total=$((total + 1))
		lab_wait_for "$t" verdict_is "$site" "$want" "$lang"
		diag_run "$site" "$lang"
		got=$(diag_got "$lang")
		if [ "$got" = "$want" ]; then
			right=$((right + 1))
			echo "ok - $sc: $site ($lang) $got: $what"
		else
			res=FAIL
			echo "FAIL - $sc: $site ($lang) got $got, expected $want: $what"
			sed 's/^/    /' "$LAB_DIR/diag.out"
			tail -n 6 "$LAB_DIR/kizunad-$site.log" | sed 's/^/    # /'
		fi
		t=5
	done
	table="$table$(printf '%-14s %s  %-5s %-5s %s' "$sc" "$site" "$want" "$res" "$what")\n"
}

# ---- the scenarios: <name>_on stages the fault, <name>_off undoes it ----

healthy_on() { :; }
healthy_off() { :; }

psk_on() {
	kz_configure a "ike policy IKEPOL" 'pre-shared-key ascii "not the same key at all"'
	kz_clear_sas a b
}
psk_off() { kz_configure a "ike policy IKEPOL" "pre-shared-key ascii $KEY"; }

psk_fixed_on() {
	psk_on
	lab_wait_for 20 verdict_is a A5.5 C
	lab_wait_for 40 verdict_is b A5.5 C
	# fixed, no clear: the settings change renegotiates
	kz_configure a "ike policy IKEPOL" "pre-shared-key ascii $KEY"
}
psk_fixed_off() { :; }

policy_fixed_on() {
	kz_configure a "ipsec profile HQ" "ike policy NOPE"
	kz_clear_sas a b
	lab_wait_for 10 verdict_is a A4.5 C
	kz_clear_sas a b
	# the failure the profile recorded without its policy must not
	# outlive the fix
	kz_configure a "ipsec profile HQ" "ike policy IKEPOL"
}
policy_fixed_off() { :; }

two_faults_on() {
	kz_configure a "interface IPsec0" "shutdown"
	kz_configure a "ike policy IKEPOL" 'pre-shared-key ascii "not the same key at all"'
	kz_clear_sas a b
}
two_faults_off() {
	kz_configure a "interface IPsec0" "no shutdown"
	psk_off
}

peer_wan_down_on() {
	lab_exec gw-b ip link set wan0 down
	kz_clear_sas a b
	# a negotiating SA shows "-" for what it has not chosen, and its profile
	sleep 1
	if kz a show ike sa | grep -qx 'encrypt:-' && kz a show ike sa | grep -qx 'profile: HQ'; then
		ok "peer_wan_down: show ike sa of a negotiating SA: encrypt:- and profile: HQ"
	else
		nok "peer_wan_down: show ike sa of a negotiating SA"
		kz a show ike sa | sed 's/^/    /'
	fi
}
peer_wan_down_off() {
	lab_exec gw-b ip link set wan0 up
	lab_exec gw-b ip route replace default via "$CARRIER_B" dev wan0 2>/dev/null || true
}

wrong_peer_on() {
	kz_configure a "ipsec profile HQ" "peer 203.0.113.99"
	kz_clear_sas a b
}
wrong_peer_off() { kz_configure a "ipsec profile HQ" "peer $GW_B_WAN"; }

id_mismatch_on() {
	kz_configure a "ike policy IKEPOL" "local-id key-id site-x"
	kz_clear_sas a b
}
id_mismatch_off() { kz_configure a "ike policy IKEPOL" "local-id key-id site-a"; }

qm_proposal_on() {
	kz_configure a "ipsec proposal ESPP" "encryption aes-cbc-128"
	kz_clear_sas a b
}
qm_proposal_off() { kz_configure a "ipsec proposal ESPP" "encryption aes-cbc-256"; }

selectors_on() {
	kz_configure a "ipsec policy IPSECPOL" "remote-id 192.168.3.0/24"
	kz_clear_sas a b
}
selectors_off() { kz_configure a "ipsec policy IPSECPOL" "remote-id 192.168.2.0/24"; }

natt_off_both_on() {
	kz_configure a "ike policy IKEPOL" "no nat-traversal"
	kz_configure b "ike policy IKEPOL" "no nat-traversal"
	kz_clear_sas a b
	lab_wait_for 20 kz_ipsec_up a
	lab_exec lan-a ping -c 2 -i 0.3 -W 1 "$LAN_B_HOST" >/dev/null 2>&1 || true
}
natt_off_both_off() {
	kz_configure a "ike policy IKEPOL" "nat-traversal"
	kz_configure b "ike policy IKEPOL" "nat-traversal"
}

dpd_off_peer_on() {
	kz_configure a "ike policy IKEPOL" "dpd interval 5 retry 2"
	kz_configure b "ike policy IKEPOL" "no dpd"
	kz_clear_sas a b
}
dpd_off_peer_off() { kz_configure a "ike policy IKEPOL" "no dpd"; }

# both SIMs on the carrier's closed network: B renumbered into
# 100.64.1.0/24, the carrier routes 100.64/10 to 100.64/10 without NAT
closed_nat_exempt() { # add|del
	if [ "$LAB_NAT_BACKEND" = nft ]; then
		if [ "$1" = add ]; then
			lab_exec carrier nft insert rule ip kizuna_lab postrouting ip daddr 100.64.0.0/10 accept
			lab_exec carrier nft insert rule ip kizuna_lab forward ip saddr 100.64.0.0/10 ip daddr 100.64.0.0/10 accept
		else
			lab_exec carrier nft flush chain ip kizuna_lab postrouting
			lab_exec carrier nft add rule ip kizuna_lab postrouting oifname "$CARRIER_IF_B" ip saddr 100.64.0.0/10 snat to "$CARRIER_NAT_ADDR"
			local h
			h=$(lab_exec carrier nft -a list chain ip kizuna_lab forward | awk '/saddr 100.64.0.0\/10 ip daddr 100.64.0.0\/10 accept/ { print $NF }')
			[ -z "$h" ] || lab_exec carrier nft delete rule ip kizuna_lab forward handle "$h"
		fi
	else
		local op=-I
		[ "$1" = add ] || op=-D
		lab_exec carrier "$LAB_NAT_BACKEND" -w -t nat "$op" POSTROUTING -d 100.64.0.0/10 -j ACCEPT
		lab_exec carrier "$LAB_NAT_BACKEND" -w "$op" FORWARD -s 100.64.0.0/10 -d 100.64.0.0/10 -j ACCEPT
	fi
}
closed_net_on() {
	closed_nat_exempt add
	lab_exec carrier ip addr add 100.64.1.1/24 dev "$CARRIER_IF_B"
	lab_exec gw-b ip addr flush dev wan0
	lab_exec gw-b ip addr add 100.64.1.2/24 dev wan0
	lab_exec gw-b ip route replace default via 100.64.1.1 dev wan0
	kz_configure a "ipsec profile HQ" "peer 100.64.1.2"
	kz_clear_sas a b
	lab_wait_for 20 kz_ipsec_up a
	lab_exec lan-a ping -c 2 -i 0.3 -W 1 "$LAN_B_HOST" >/dev/null 2>&1 || true
	if kz a show ike sa | grep -qx 'remote: 100.64.1.2 (UDP \[500\])'; then
		ok "closed_net: IKE stays on UDP 500 (no NAT)"
	else
		nok "closed_net: IKE stays on UDP 500 (no NAT)"
		kz a show ike sa | sed 's/^/    /'
	fi
}
closed_net_off() {
	kz_configure a "ipsec profile HQ" "peer $GW_B_WAN"
	lab_exec gw-b ip addr flush dev wan0
	lab_exec gw-b ip addr add "$GW_B_WAN/$GW_B_WAN_PREFIX" dev wan0
	lab_exec gw-b ip route replace default via "$CARRIER_B" dev wan0
	lab_exec carrier ip addr del 100.64.1.1/24 dev "$CARRIER_IF_B"
	closed_nat_exempt del
}

psk_any_id_on() {
	kz_configure b "ike policy IKEPOL" "no remote-id"
	psk_on
}
psk_any_id_off() {
	kz_configure b "ike policy IKEPOL" "remote-id key-id site-a"
	psk_off
}
# An aggressive-mode responder answers only the ID its remote-id names:
# without one it answers nobody, and says what to type.
psk_any_id_check() {
	if grep -q 'remote-id key-id site-a' "$LAB_DIR/diag.out"; then
		ok "psk_any_id: B's remedy names the remote-id A sends"
	else
		nok "psk_any_id: B's remedy names the remote-id A sends"
	fi
}

# The key's strength (zxcvbn) on both sites, the tunnel up either way: a
# strong key gets no weak-key warning, a guessable one does, in both
# languages.
STRONG_KEY='"Vq7tRz2LwX9pK4mN8sJ3"'
key_both() { # key
	kz_configure a "ike policy IKEPOL" "pre-shared-key ascii $1"
	kz_configure b "ike policy IKEPOL" "pre-shared-key ascii $1"
	kz_clear_sas a b
}
key_warned() { # site lang: the weak-key warning is in the report
	diag_run "$1" "$2"
	grep -qE '^\[WARN\] .*(pre-shared key|事前共有鍵)' "$LAB_DIR/diag.out"
}
strong_key_on() { key_both "$STRONG_KEY"; }
strong_key_off() { key_both "$KEY"; }
strong_key_check() {
	local lang
	for lang in C ja_JP.UTF-8; do
		if key_warned "$site" "$lang"; then
			nok "strong_key: $site ($lang) warns of a weak key"
		else
			ok "strong_key: $site ($lang) gives no weak-key warning"
		fi
	done
}
weak_key_on() { key_both '"passwordpassword"'; }
weak_key_off() { key_both "$KEY"; }
weak_key_check() {
	local lang
	for lang in C ja_JP.UTF-8; do
		if key_warned "$site" "$lang"; then
			ok "weak_key: $site ($lang) warns of the weak key"
		else
			nok "weak_key: $site ($lang) gives no weak-key warning"
		fi
	done
}

natt_off_a_on() {
	kz_configure a "ike policy IKEPOL" "no nat-traversal"
	kz_clear_sas a b
	lab_wait_for 20 kz_ipsec_up a
	lab_exec lan-a ping -c 2 -i 0.3 -W 1 "$LAN_B_HOST" >/dev/null 2>&1 || true
}
natt_off_a_off() { kz_configure a "ike policy IKEPOL" "nat-traversal"; }

# PFS required by the responder only: a mismatch.  Offered by the
# initiator only: the responder (pfs none) follows it, nothing is wrong.
pfs_one_on() {
	kz_configure b "ipsec policy IPSECPOL" "pfs modp2048"
	kz_clear_sas a b
}
pfs_one_off() { kz_configure b "ipsec policy IPSECPOL" "no pfs"; }
pfs_follow_on() {
	kz_configure a "ipsec policy IPSECPOL" "pfs modp2048"
	kz_clear_sas a b
}
pfs_follow_off() { kz_configure a "ipsec policy IPSECPOL" "no pfs"; }

selector_size_on() {
	kz_configure a "ipsec policy IPSECPOL" "remote-id 192.168.0.0/16"
	kz_clear_sas a b
}
selector_size_off() { selectors_off; }

peer_restart_on() {
	kz_configure a "ike policy IKEPOL" "dpd interval 3 retry 2"
	kz_configure b "ike policy IKEPOL" "dpd interval 3 retry 2"
	kz_back_up
	kz b write memory >/dev/null
	cp "$LAB_DIR/b.conf" "$LAB_DIR/b-saved.conf"
	kz_stop b
	kz_start b "$LAB_DIR/b-saved.conf"
	# while B is back without SAs, A must not claim the tunnel is fine
	# once it noticed; traffic makes both notice
	lab_exec lan-a ping -c 3 -i 0.5 -W 1 "$LAN_B_HOST" >/dev/null 2>&1 || true
}
peer_restart_off() {
	kz_configure a "ike policy IKEPOL" "no dpd"
	kz_configure b "ike policy IKEPOL" "no dpd"
}

# ---- strongSwan peers: charon initiates to kizuna B (ss_i_*) or
# answers kizuna A (ss_r_*); the lab is switched by lab_mode ----

PSK="correct horse battery staple"
SS_COMMON=(exchange=aggressive ike=aes256-sha256-modp2048 esp=aes256-sha256)
mode=kk

ss_a_conf() { ss_setup gw-a a initiator "$@" psk="$PSK" local_id=keyid:site-a "${SS_COMMON[@]}"; }
ss_b_conf() { ss_setup gw-b b responder "$@" psk="$PSK" remote_id=keyid:site-a "${SS_COMMON[@]}"; }
ss_a() { # charon on gw-a initiating to kizuna B, changed keys first
	ss_a_conf "$@"
	ss_reload a >/dev/null
	ss_terminate a >/dev/null 2>&1 || true
	kz_clear_sas b
	ss_initiate a net 10 >/dev/null 2>&1 || true
}
ss_b() { # charon on gw-b answering kizuna A, changed keys first
	ss_b_conf "$@"
	ss_reload b >/dev/null
	ss_terminate b >/dev/null 2>&1 || true
	kz_clear_sas a
}

lab_mode() { # kk | ssi | ssr
	[ "$mode" != "$1" ] || return 0
	case "$mode" in
	ssi) ss_stop a; kz_start a "$top/examples/site-a.conf" ;;
	ssr) ss_stop b; kz_start b "$top/examples/site-b.conf" ;;
	esac
	case "$1" in
	ssi) kz_stop a; ss_a_conf; ss_start gw-a a ;;
	ssr) kz_stop b; ss_b_conf; ss_start gw-b b ;;
	esac
	mode=$1
	case "$mode" in
	ssi) ss_a; lab_wait_for 20 kz_ipsec_up b || echo "# kizuna B <- charon did not come up" ;;
	ssr) ss_b; lab_wait_for 20 kz_ipsec_up a || echo "# kizuna A -> charon did not come up" ;;
	esac
}

# After a scenario.  With charon each scenario reconfigures it whole and
# stages its own fault, so the next one follows at once: its newer record
# must win over the one before (no stale verdicts).
back_up() {
	[ "$mode" != kk ] || kz_back_up
}

ss_i_psk_on() { ss_a psk="not the same key at all"; }
ss_i_id_on() { ss_a local_id=keyid:site-x; }
ss_i_proposal_on() { ss_a ike=aes128-sha256-modp2048; }
ss_i_selector_on() { ss_a local_ts=192.168.3.0/24; }
ss_r_psk_on() { ss_b psk="not the same key at all"; }
ss_r_id_on() { ss_b remote_id=keyid:site-x; }
ss_r_proposal_on() { ss_b ike=aes128-sha256-modp2048; }
ss_r_selector_on() { ss_b remote_ts=192.168.3.0/24; }
for s in ss_i_psk ss_i_id ss_i_proposal ss_i_selector ss_r_psk ss_r_id ss_r_proposal \
	ss_r_selector; do
	eval "${s}_off() { :; }"
done

ss_ok=1
if ! command -v swanctl >/dev/null 2>&1 || [ ! -x "$SS_CHARON" ] ||
	[ ! -e "$SS_PLUGIN_DIR/libstrongswan-kernel-libipsec.so" ]; then
	ss_ok=0
fi

# ---- the run ----

kz_sites_up

start=$SECONDS
idx=0
prev=""
while IFS=$'\t' read -r sc site want t what; do
	case "$sc" in '#'* | '') continue ;; esac
	if [ "$sc" != "$prev" ]; then
		[ -z "$prev" ] || { "${prev}_off"; back_up; }
		prev=""
		idx=$((idx + 1))
		if [ -n "${DC_ONLY:-}" ] && ! [[ $sc =~ $DC_ONLY ]]; then continue; fi
		if [ -n "${IC_PART:-}" ] && [ $(((idx - 1) % ${IC_PART#*/})) -ne $((${IC_PART%/*} - 1)) ]; then
			continue
		fi
		case "$sc" in
		ss_*)
			if [ "$ss_ok" = 0 ]; then
				nok "$sc: strongSwan (charon, swanctl, kernel-libipsec) not installed"
				continue
			fi
			;;
		esac
		case "$sc" in
		ss_i_*) lab_mode ssi ;;
		ss_r_*) lab_mode ssr ;;
		*) lab_mode kk ;;
		esac
		echo "# scenario $sc ($((SECONDS - start)) s)"
		"${sc}_on"
		prev=$sc
	fi
	[ "$prev" = "$sc" ] || continue
	row "$sc" "$site" "$want" "$t" "$what"
	! declare -F "${sc}_check" >/dev/null || "${sc}_check"
done <"$here/diag_corpus.tsv"
[ -z "$prev" ] || { "${prev}_off"; back_up; }

printf '\n%-14s %s  %-5s %-5s %s\n' scenario side want res what
printf "%b" "$table"
echo "diagnosed right: $right of $total (scenario x side x language) in $((SECONDS - start)) s"
[ "$right" -eq "$total" ] && [ "$fails" -eq 0 ]
