# shellcheck shell=bash
# Variables are set here for the sourcing scripts (SC2034).
# shellcheck disable=SC2034
#
# tests/netns/interop_lib.sh - kizuna <-> strongSwan interoperability cases
# for t_ike_strongswan_main.sh and t_ike_strongswan_aggr.sh. Sourced after
# lib.sh, strongswan.sh and ike_lib.sh, with KZ_BUILD set.
#
# One case (ic_case) runs on the lab that is up: kizunad on one gateway,
# charon on the other, both started afresh; the kizuna side writes its config
# from the case's parameters (device wan0, NAT-T always on: charon's
# kernel-libipsec asks for UDP encapsulation even without a NAT). Then:
#   - both sides establish (kizuna: `show ipsec sa` established; charon:
#     IKE SA ESTABLISHED, CHILD_SA INSTALLED);
#   - `show ike sa`: IKE PH1 established, Exchange type, Direction, and the
#     encrypt/hash/dh_group lines of the configured proposal;
#   - `show ipsec sa`: "1 configured, 2 created", enc algorithm, key length,
#     auth algorithm;
#   - charon's IKE and ESP algorithms are the configured ones;
#   - SPIs crosswise: our Outbound spi (decimal on our side) is charon's
#     spi-in (hex), our Inbound is its spi-out;
#   - ping lan-a -> lan-b through the tunnel, and the packet counters of both
#     of our SAs move;
#   - on a capture of gw-b's wan0: tshark decodes every ISAKMP packet kizuna
#     sent without a malformed or expert warning or undecoded extra bytes
#     (_ws.malformed, _ws.expert.severity >= warning, isakmp.extradata in
#     tshark 4.0), there are such packets, and
#     the wire carries only UDP 500/4500 (IKE, ESP-in-UDP) or ESP: no
#     plaintext ICMP between the LANs.
# On a failure the case prints kizunad's and charon's logs.
#
#   ic_case <name> <kizuna-role> <mode> <ids> <ike> <esp> <pfs> [extras]
#     kizuna-role  init: kizuna on gw-a initiates, charon responds on gw-b
#                  resp: charon on gw-a initiates, kizuna responds on gw-b
#     mode         main | aggressive
#     ids          addr (IPV4_ADDR) | keyid (KEY_ID site-a) |
#                  fqdn (FQDN site-a.example): the identity of site A
#     ike          s256 {aes-cbc-256, sha2-256, modp2048}
#                  s128 {aes-cbc-128, sha1, modp1024}
#                  3des {3des-cbc, md5, modp768}
#     esp          aes256 (aes-cbc-256 + hmac-sha2-256), aes128 (aes-cbc-128 +
#                  hmac-sha1), 3des (3des-cbc + hmac-md5), gcm128 (aes-gcm-128)
#     pfs          none | modp2048 | ecp256 ... (kizuna's pfs group)
#     extras       optional, comma-separated:
#                  multi   the initiator offers first a proposal the other
#                          side is not configured for (IKE and ESP)
#                  dpd     kizuna announces DPD, charon probes every second
#                          and must get its R-U-THERE-ACKs
#                  rekey   charon rekeys the CHILD_SA (Quick Mode on the
#                          same IKE SA)
#                  reauth  charon (initiator) reauthenticates the IKE SA
#                  restart charon (responder) stops and starts again;
#                          kizuna must follow
#                  crash   (kizuna initiating) kizuna's IKE policy has
#                          `dpd interval 2 retry 2` (one DPD period, 6 s),
#                          charon no DPD; a ping runs from LAN A.  charon
#                          SIGKILLed (by the PID in its pid file): kizuna
#                          declares it dead 6 to 7 s after its last ping
#                          reply (kizunad's log line) and clears its SAs;
#                          charon started again at once: the tunnel is back
#                          within the back-off (5 s) + 3 s of the verdict.
#                          Then kizunad SIGKILLed and started again: charon
#                          logs its INITIAL-CONTACT, drops the stale IKE_SA
#                          and CHILD_SA, and a ping gets through within 6 s
#                          of the launch.  After each: one IKE SA and one
#                          IPsec SA pair on kizuna, one IKE_SA and one
#                          CHILD_SA on charon, SPIs crosswise.  The times
#                          are printed ("# crash: ..."); no traffic while
#                          kizunad is down (its IPsec0 and routes go with it)
#                  kzrekey kizuna's IPsec SA lives 60 s: kizuna renews it
#                          at its soft lifetime (make before break) and
#                          deletes the old pair; charon ends with one
#                          CHILD_SA, a ping during it all loses nothing
#                  wan     (kizuna initiating behind the carrier NAT, cgnat
#                          lab) gw-a's WAN address changes under the
#                          tunnel (GW_A_WAN -> 100.64.0.3: a new carrier NAT
#                          mapping; the default route put back): a ping
#                          from LAN A (every 0.1 s) gets a reply within 5 s
#                          of the change, kizunad logs that it starts over
#                          from the new address, charon logs its
#                          INITIAL-CONTACT and drops the stale IKE_SA and
#                          CHILD_SA; then one SA each, SPIs crosswise.  The
#                          time is printed ("# wan: ...").  The case ends on
#                          the new address (its end checks need only
#                          GW_A_PUBLIC); the old one is put back after the
#                          daemons stop, for the next case.  No case
#                          uses it yet: charon 5.9.8 (unique=no) keeps
#                          the stale IKE_SA and CHILD_SA after the move,
#                          although kizuna sends INITIAL-CONTACT both in
#                          Aggressive mode's third message and in an
#                          Informational after the first Quick Mode (the
#                          new SAs carry traffic within 0.35 s; the stale
#                          ones wait for charon's DPD or lifetime)
#   At the end of each case the side that ends sends its deletes: kizuna
#   (initiator) through `clear ipsec sa` and `clear ike sa`, charon
#   (initiator) through swanctl --terminate; the other side must drop the
#   SAs.
#   ic_summary     prints "interop: N passed, M failed"; status 1 on failure
#
# IKE sets also: e256 {aes-cbc-192, sha2-384, ecp256}, e384 {aes-cbc-256,
# sha2-512, ecp384}; ESP sets also: aes192 (aes-cbc-192 + hmac-sha2-384),
# sha512 (aes-cbc-256 + hmac-sha2-512), gcm256 (aes-gcm-256).
#
# Knobs: SS_LOGLEVEL (charon's log, default 2 here), IC_ONLY (a regular
# expression: run only the cases whose name matches), IC_PART (K/N: run only
# every Nth case from the Kth on, counting in the order of the script, so
# that N runs side by side cover all cases: tests/CMakeLists.txt splits the
# interop tests so), IC_ESP_LIFE (kizuna's IPsec SA lifetime, default 3600
# s).

SS_LOGLEVEL=${SS_LOGLEVEL:-2}
IC_PASSED=0
IC_FAILED=0
IC_CASE_FAILED=0
IC_INDEX=0
IC_PSK="kizuna-interop-$$"

ic_ok() {
	echo "ok - $IC_NAME: $*"
}
ic_nok() {
	echo "FAIL - $IC_NAME: $*"
	IC_CASE_FAILED=1
}
# ic_selected name index only-regex: whether the case name, the index-th of
# its script, runs under the regex (empty: all) and IC_PART (K/N)
ic_selected() {
	if [ -n "$3" ] && ! [[ $1 =~ $3 ]]; then
		return 1
	fi
	[ -z "${IC_PART:-}" ] || [ $((($2 - 1) % ${IC_PART#*/})) -eq $((${IC_PART%/*} - 1)) ]
}
ic_check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ic_ok "$what"; else ic_nok "$what"; fi
}
ic_eq() { # what expected actual
	if [ "$2" = "$3" ]; then ic_ok "$1"; else ic_nok "$1 (expected '$2', got '$3')"; fi
}

# kizuna's config words and the strings both sides show, per proposal set.
_ic_ike() {
	case "$1" in
	s256) IC_KZ_IKE="aes-cbc-256 sha2-256 modp2048" IC_SS_IKE=aes256-sha256-modp2048
		IC_SHOW_IKE="AES-CBC 256 bits|SHA256|2048-bit MODP group"
		IC_SS_IKE_ALGS="AES_CBC-256 HMAC_SHA2_256_128 PRF_HMAC_SHA2_256 MODP_2048" ;;
	s128) IC_KZ_IKE="aes-cbc-128 sha1 modp1024" IC_SS_IKE=aes128-sha1-modp1024
		IC_SHOW_IKE="AES-CBC 128 bits|SHA1|1024-bit MODP group"
		IC_SS_IKE_ALGS="AES_CBC-128 HMAC_SHA1_96 PRF_HMAC_SHA1 MODP_1024" ;;
	3des) IC_KZ_IKE="3des-cbc md5 modp768" IC_SS_IKE=3des-md5-modp768
		IC_SHOW_IKE="3DES-CBC|MD5|768-bit MODP group"
		IC_SS_IKE_ALGS="3DES_CBC HMAC_MD5_96 PRF_HMAC_MD5 MODP_768" ;;
	e256) IC_KZ_IKE="aes-cbc-192 sha2-384 ecp256" IC_SS_IKE=aes192-sha384-ecp256
		IC_SHOW_IKE="AES-CBC 192 bits|SHA384|256-bit ECP group"
		IC_SS_IKE_ALGS="AES_CBC-192 HMAC_SHA2_384_192 PRF_HMAC_SHA2_384 ECP_256" ;;
	e384) IC_KZ_IKE="aes-cbc-256 sha2-512 ecp384" IC_SS_IKE=aes256-sha512-ecp384
		IC_SHOW_IKE="AES-CBC 256 bits|SHA512|384-bit ECP group"
		IC_SS_IKE_ALGS="AES_CBC-256 HMAC_SHA2_512_256 PRF_HMAC_SHA2_512 ECP_384" ;;
	*) echo "interop: unknown IKE set $1" >&2; return 1 ;;
	esac
}

_ic_esp() {
	case "$1" in
	aes256) IC_KZ_ESP="encryption aes-cbc-256|authentication hmac-sha2-256"
		IC_SS_ESP=aes256-sha256 IC_SHOW_ESP="aes-cbc|256|hmac-sha2-256"
		IC_SS_ESP_ALGS="AES_CBC-256 HMAC_SHA2_256_128" ;;
	aes128) IC_KZ_ESP="encryption aes-cbc-128|authentication hmac-sha1"
		IC_SS_ESP=aes128-sha1 IC_SHOW_ESP="aes-cbc|128|hmac-sha1"
		IC_SS_ESP_ALGS="AES_CBC-128 HMAC_SHA1_96" ;;
	3des) IC_KZ_ESP="encryption 3des-cbc|authentication hmac-md5"
		IC_SS_ESP=3des-md5 IC_SHOW_ESP="3des-cbc|192|hmac-md5"
		IC_SS_ESP_ALGS="3DES_CBC HMAC_MD5_96" ;;
	gcm128) IC_KZ_ESP="encryption aes-gcm-128"
		IC_SS_ESP=aes128gcm16 IC_SHOW_ESP="aes-gcm|128|none"
		IC_SS_ESP_ALGS="AES_GCM_16-128" ;;
	aes192) IC_KZ_ESP="encryption aes-cbc-192|authentication hmac-sha2-384"
		IC_SS_ESP=aes192-sha384 IC_SHOW_ESP="aes-cbc|192|hmac-sha2-384"
		IC_SS_ESP_ALGS="AES_CBC-192 HMAC_SHA2_384_192" ;;
	sha512) IC_KZ_ESP="encryption aes-cbc-256|authentication hmac-sha2-512"
		IC_SS_ESP=aes256-sha512 IC_SHOW_ESP="aes-cbc|256|hmac-sha2-512"
		IC_SS_ESP_ALGS="AES_CBC-256 HMAC_SHA2_512_256" ;;
	gcm256) IC_KZ_ESP="encryption aes-gcm-256"
		IC_SS_ESP=aes256gcm16 IC_SHOW_ESP="aes-gcm|256|none"
		IC_SS_ESP_ALGS="AES_GCM_16-256" ;;
	*) echo "interop: unknown ESP set $1" >&2; return 1 ;;
	esac
}

# kizuna's config for the case; $1 = a (initiator on gw-a) or b (responder
# on gw-b). Uses the IC_* variables ic_case set.
_ic_kz_conf() {
	local site=$1 enc hash group line
	read -r enc hash group <<<"$IC_KZ_IKE"
	{
		echo "hostname interop-$site"
		echo "interface MobileEthernet0.0"
		echo "  device wan0"
		echo "  no shutdown"
		echo "ike proposal IKEP"
		echo "  encryption $enc"
		echo "  hash $hash"
		echo "  group $group"
		echo "  lifetime 28800"
		if [[ $IC_EXTRA == *,multi,* ]] && [ "$site" = a ]; then
			echo "ike proposal IKEX"
			echo "  encryption aes-cbc-192"
			echo "  hash sha2-512"
			echo "  group modp1536"
			echo "ipsec proposal ESPX"
			echo "  protocol esp"
			echo "  encryption aes-cbc-192"
			echo "  authentication hmac-sha2-512"
		fi
		echo "ike policy IKEPOL"
		echo "  exchange-mode $IC_MODE"
		if [[ $IC_EXTRA == *,multi,* ]] && [ "$site" = a ]; then
			# a first choice charon is not configured for
			echo "  proposal IKEX IKEP"
		else
			echo "  proposal IKEP"
		fi
		echo "  pre-shared-key ascii \"$IC_PSK\""
		if [ "$site" = a ]; then
			[ -z "$IC_KZ_ID" ] || echo "  local-id $IC_KZ_ID"
		else
			[ -z "$IC_KZ_ID" ] || echo "  remote-id $IC_KZ_ID"
		fi
		echo "  nat-traversal"
		if [[ $IC_EXTRA == *,crash,* ]]; then
			echo "  dpd interval $IC_CRASH_IVL retry $IC_CRASH_RETRY"
		elif [[ $IC_EXTRA == *,dpd,* ]]; then
			echo "  dpd"
		fi
		echo "ipsec proposal ESPP"
		echo "  protocol esp"
		tr '|' '\n' <<<"$IC_KZ_ESP" | sed 's/^/  /'
		if [[ $IC_EXTRA == *,kzrekey,* ]]; then
			echo "  lifetime time 60"
		else
			echo "  lifetime time ${IC_ESP_LIFE:-3600}"
		fi
		echo "ipsec policy IPSECPOL"
		if [[ $IC_EXTRA == *,multi,* ]] && [ "$site" = a ]; then
			echo "  proposal ESPX ESPP"
		else
			echo "  proposal ESPP"
		fi
		kz_conf_lan_ids "$site"
		[ "$IC_PFS" = none ] || echo "  pfs $IC_PFS"
		if [ "$site" = a ]; then kz_conf_profile "$GW_B_WAN"; else kz_conf_profile any; fi
		kz_conf_lan_route "$site"
	} >"$LAB_DIR/case-$site.conf"
}

# The counter line ("<n> [packets] ...") of our Outbound or Inbound SA.
_ic_kz_packets() { # site Outbound|Inbound
	kz "$1" show ipsec sa | awk -v dir="$2:" '
		$0 == dir { f = 1; next }
		f && / \[packets\] / { print $1; exit }'
}

# Hex (8 digits) of a decimal SPI; empty stays empty.
_ic_hex() { [ -z "$1" ] || printf '%08x' "$1"; }

_ic_both_up() {
	kz_ipsec_up "$IC_KZ" && ss_ike_established "$IC_SS" && ss_child_installed "$IC_SS"
}

# Nothing of the previous case left on a gateway: no TUN ipsec0 (ours or
# kernel-libipsec's), nothing listening on UDP 500.
_ic_gw_clean() {
	! lab_exec "$1" ip link show ipsec0 >/dev/null 2>&1 &&
		! lab_exec "$1" ss -Hlun 'sport = :500' | grep -q .
}

_ic_ss_lacks() { # name string: swanctl --list-sas does not show it
	local l
	l=$(ss_list_sas "$1" 2>&1) || return 1
	! grep -qF -- "$2" <<<"$l"
}

_ic_kz_empty() {
	[ -z "$(kz "$1" show ike sa)" ] &&
		kz "$1" show ipsec sa | grep -q '^IPsec SA - 1 configured, 0 created$'
}

# DPD (RFC 3706): charon sends R-U-THERE every second and closes after 4 s
# without an ACK; kizuna announced DPD and answers.
_ic_dpd() {
	local log n
	sleep 5
	log=$(ss_log "$IC_SS")
	n=$(grep -c 'N(DPD_ACK)' "$log" || true)
	ic_check "DPD: charon got R-U-THERE-ACKs ($n) and keeps the IKE SA" \
		test "$n" -ge 2 -a "$(ss_ike_state "$IC_SS")" = ESTABLISHED
	ic_check "DPD: the tunnel still carries traffic" \
		lab_exec lan-a ping -n -q -c 1 -W 2 "$LAN_B_HOST"
}

# charon rekeys the CHILD_SA with a Quick Mode on the same IKE SA: kizuna
# installs the new pair, traffic moves onto it.
_ic_rekey() {
	local old new ss_in ss_out kouts
	old=$(ss_child_spis "$IC_SS") || old=""
	ic_check "rekey: swanctl --rekey --child net" \
		ss_swanctl "$IC_SS" --rekey --child net
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		new=$(ss_child_spis "$IC_SS") || new=""
		[ "$new" = "$old" ] || break
		sleep 0.5
	done
	read -r ss_in ss_out <<<"$new"
	ic_check "rekey: charon has new SPIs ($old -> $new)" test -n "$new" -a "$new" != "$old"
	kouts=$(kz "$IC_KZ" show ipsec sa | awk '
		$0 == "Outbound:" { f = 1; next }
		f && /^satype: esp spi=/ { sub(/.*\(0x/, ""); sub(/\).*/, ""); print; f = 0 }')
	ic_check "rekey: kizuna has an Outbound SA to charon's new in-SPI ${ss_in:-}" \
		grep -qx "${ss_in:-none}" <<<"$kouts"
	ic_check "rekey: ping lan-a -> lan-b after the rekey" \
		lab_exec lan-a ping -n -q -c 2 -i 0.2 -W 2 "$LAN_B_HOST"
	ic_eq "rekey: show ike sa: phase2 count" "phase2 count=2" \
		"$(kz "$IC_KZ" show ike sa | grep '^phase2 count=')"
}

# kizuna's IPsec SA lives 60 s: kizuna renews it at its soft lifetime
# (85-90 % as initiator; 95-97.5 % as responder, when charon did not renew
# it first) and deletes the old pair, or charon renews it and deletes the
# old one.  A paced ping across it loses nothing, charon ends with one
# CHILD_SA whose in-SPI is kizuna's outbound SPI.
_ic_kzrekey() {
	local old out loss
	old=$(kz_spi "$IC_KZ" Outbound)
	lab_bg lan-a "$IC_NAME-kzping" ping -n -i 0.1 -c 700 -W 1 "$LAN_B_HOST"
	if [ "$IC_ROLE" = init ]; then
		ic_check "kzrekey: kizuna renews the IPsec SA and deletes the old pair" \
			lab_wait_for 75 grep -q 'deleted after rekey' "$LAB_DIR/kizunad-$IC_KZ.log"
	else
		ic_check "kzrekey: the IPsec SA is renewed and the old pair deleted" \
			lab_wait_for 75 grep -Eq 'deleted after rekey|the peer deleted IPsec SA' "$LAB_DIR/kizunad-$IC_KZ.log"
	fi
	while lab_alive "$IC_NAME-kzping"; do sleep 0.5; done
	out=$(cat "$LAB_DIR/$IC_NAME-kzping.log")
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
	ic_check "kzrekey: no ping lost across the rekey (${loss:-?}% loss)" test "${loss:-x}" = 0
	ic_check "kzrekey: kizuna has a new Outbound SA ($old -> $(kz_spi "$IC_KZ" Outbound))" \
		test "$(kz_spi "$IC_KZ" Outbound)" != "$old"
	ic_eq "kzrekey: charon's CHILD_SA count" "1" "$(ss_child_count "$IC_SS")"
	ic_eq "kzrekey: our Outbound SPI is charon's in-SPI" \
		"$(ss_child_spis "$IC_SS" | cut -d' ' -f1)" "$(_ic_hex "$(kz_spi "$IC_KZ" Outbound)")"
}

# charon reauthenticates (IKEv1: a new phase 1 and Quick Mode, then deletes
# the old IKE SA and its IPsec SAs): kizuna ends with the new ones only.
_ic_reauth() {
	local old new
	old=$(ss_ike_spis "$IC_SS") || old=""
	ic_check "reauth: swanctl --rekey --ike --reauth" \
		ss_swanctl "$IC_SS" --rekey --ike "$(cat "$(ss_dir "$IC_SS")/conn")" --reauth
	for _ in $(seq 1 20); do
		new=$(ss_ike_spis "$IC_SS") || new=""
		[ -z "$new" ] || [ "$new" = "$old" ] || ! ss_child_installed "$IC_SS" || break
		sleep 0.5
	done
	ic_check "reauth: charon has a new established IKE SA ($old -> $new)" \
		test -n "$new" -a "$new" != "$old"
	# charon keeps the old IKE SA (REKEYING) until it ends the connection
	ic_check "reauth: kizuna has the new IKE SA index:$(tr -d ' ' <<<"$new")" \
		lab_wait_for 3 sh -c "ip netns exec '$(lab_ns "gw-$IC_KZ")' '$KZ_BUILD/kizuna' -s '$LAB_DIR/$IC_KZ.sock' show ike sa | grep -qx 'index:$(tr -d ' ' <<<"$new")'"
	ic_check "reauth: all of kizuna's IKE SAs are established" \
		test "$(kz "$IC_KZ" show ike sa | grep -c '^IKE PH1 ')" = "$(kz "$IC_KZ" show ike sa | grep -c '^IKE PH1 established$')"
	ic_eq "reauth: kizuna shows one IPsec SA pair" "IPsec SA - 1 configured, 2 created" \
		"$(kz "$IC_KZ" show ipsec sa | head -n 1)"
	ic_check "reauth: ping lan-a -> lan-b after the reauthentication" \
		lab_exec lan-a ping -n -q -c 2 -i 0.2 -W 2 "$LAN_B_HOST"
	ic_eq "reauth: our Outbound SPI is charon's in-SPI" \
		"$(ss_child_spis "$IC_SS" | cut -d' ' -f1)" "$(_ic_hex "$(kz_spi "$IC_KZ" Outbound)")"
}

# charon stops (sending its deletes) and comes back: kizuna, initiating
# automatically, drops its SAs and sets up new ones with the new charon.
_ic_restart() {
	ss_stop "$IC_SS"
	ic_check "restart: charon's deletes remove kizuna's SAs" \
		lab_wait_for 5 sh -c "! ip netns exec '$(lab_ns "gw-$IC_KZ")' '$KZ_BUILD/kizuna' -s '$LAB_DIR/$IC_KZ.sock' show ipsec sa | grep -q '^SA status is established'"
	mv -f "$(ss_log "$IC_SS")" "$LAB_DIR/$IC_NAME-charon-before-restart.log" 2>/dev/null || true
	ic_check "restart: charon starts again" ss_start gw-b "$IC_SS"
	ic_check "restart: kizuna sets up new SAs with the new charon" \
		lab_wait_for 15 _ic_both_up
	ic_check "restart: ping lan-a -> lan-b" \
		lab_exec lan-a ping -n -q -c 2 -i 0.2 -W 2 "$LAN_B_HOST"
}

# --- crash: SIGKILL of either side (no Delete), DPD on kizuna's side
IC_CRASH_IVL=2 IC_CRASH_RETRY=2

_ic_now() { date +%s.%N; }
# Seconds from epoch time $1 to the log time $2 (HH:MM:SS.mmm, local, as
# kizunad stamps its lines), across midnight too.
_ic_log_delta() {
	awk -v a="$(date -d "@$1" +%H:%M:%S.%N)" -v b="$2" 'BEGIN {
		split(a, x, ":"); split(b, y, ":")
		d = (y[1] * 3600 + y[2] * 60 + y[3]) - (x[1] * 3600 + x[2] * 60 + x[3])
		if (d < -43200) d += 86400
		printf "%.3f\n", d }'
}
# ping -D's replies (epoch) in the log of lab_bg process $1: the last one
# not after $2, or the first one after $2.
_ic_reply_before() {
	awk -v t="$2" '/bytes from/ { v = $1; gsub(/[][]/, "", v); if (v + 0 <= t + 0) r = v } END { print r }' \
		"$LAB_DIR/$1.log"
}
_ic_reply_after() {
	awk -v t="$2" '/bytes from/ { v = $1; gsub(/[][]/, "", v); if (v + 0 > t + 0) { print v; exit } }' \
		"$LAB_DIR/$1.log"
}
_ic_has_reply_after() { [ -n "$(_ic_reply_after "$1" "$2")" ]; }
_ic_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d\n", (b - a) * 1000 }'; }

# SAs of both sides, "kizuna IKE/established IKE/pairs, charon IKE/CHILD"
_ic_sa_counts() {
	local ike ipsec conn
	ike=$(kz "$IC_KZ" show ike sa 2>/dev/null) || ike=""
	ipsec=$(kz "$IC_KZ" show ipsec sa 2>/dev/null) || ipsec=""
	conn=$(cat "$(ss_dir "$IC_SS")/conn")
	echo "$(grep -c '^IKE PH1 ' <<<"$ike")/$(grep -c '^IKE PH1 established$' <<<"$ike")/$(grep -c '^Inbound:' <<<"$ipsec")," \
		"$( (ss_list_sas "$IC_SS" 2>/dev/null || true) | grep -c "^$conn: #")/$(ss_child_count "$IC_SS")"
}
_ic_one_each() { [ "$(_ic_sa_counts)" = "1/1/1, 1/1" ]; }
# kizuna holds no established SA with the peer
_ic_kz_none_up() {
	! kz "$IC_KZ" show ike sa | grep -qx 'IKE PH1 established' &&
		kz "$IC_KZ" show ipsec sa | grep -qxF 'IPsec SA - 1 configured, 0 created'
}
# exactly one SA each side, the same SPIs crosswise
_ic_crash_final() { # label
	local spis ss_in ss_out kout kin
	if lab_wait_for 10 _ic_one_each; then
		ic_ok "$1: kizuna one IKE SA and one IPsec SA pair, charon one IKE_SA and one CHILD_SA"
	else
		ic_nok "$1: one SA each (kizuna IKE/established/pairs, charon IKE_SAs/CHILD_SAs: $(_ic_sa_counts))"
		kz "$IC_KZ" show ike sa | sed 's/^/# kizuna: /'
		ss_list_sas "$IC_SS" 2>&1 | sed 's/^/# charon: /'
	fi
	spis=$(ss_child_spis "$IC_SS") || spis=""
	read -r ss_in ss_out <<<"$spis"
	kout=$(_ic_hex "$(kz_spi "$IC_KZ" Outbound)") kin=$(_ic_hex "$(kz_spi "$IC_KZ" Inbound)")
	ic_check "$1: our Outbound 0x$kout / Inbound 0x$kin are charon's in 0x${ss_in:-} / out 0x${ss_out:-}" \
		test -n "$kout" -a "$kout" = "${ss_in:-}" -a -n "$kin" -a "$kin" = "${ss_out:-}"
}

# Both sides crash in turn (kizuna initiates; kizuna's IKE policy has
# `dpd interval 2 retry 2`, charon no DPD of its own).  One DPD period is
# 6 s.  A ping -D from LAN A (every 0.1 s) gives the times.
#  charon SIGKILLed: kizuna declares it dead no earlier than one DPD period
#   after charon's last ping reply and at most 1 s later, and its SAs are
#   gone; charon started again at once: kizuna's back-off after the verdict
#   (the profile's retry interval, 5 s) lets it set the tunnel up again
#   within interval + 3 s of the verdict, the ping flows, one SA each.
#  kizunad SIGKILLed and started again: its Main mode carries
#   INITIAL-CONTACT, so charon logs it and destroys the stale IKE_SA (and
#   its CHILD_SA); the ping flows again within one DPD period of the
#   restart, one SA each and the old ones gone from charon.
_ic_crash() {
	local period=$((IC_CRASH_IVL * (IC_CRASH_RETRY + 1))) ping=$IC_NAME-crashping
	local d pid t_kill t_last dead_line t_dead dt t_ss t_up up_ms log_n old_ike old_in
	local t_launch t_ready first ms
	# the profile's retry interval (the case sets none: the default)
	local backoff=5
	if [ "$IC_ROLE" != init ]; then
		ic_nok "crash: only with kizuna as initiator"
		return 0
	fi
	d=$(ss_dir "$IC_SS")

	# ---- charon killed
	lab_bg lan-a "$ping" ping -n -D -i 0.1 "$LAN_B_HOST"
	ic_check "crash: ping runs through the tunnel" lab_wait_for 5 _ic_has_reply_after "$ping" 0
	sleep 1
	pid=$(cat "$d/run/charon.pid" 2>/dev/null) || pid=""
	ic_eq "crash: charon's pid file names the charon we started" "$(lab_pid "ss-$IC_SS")" "$pid"
	t_kill=$(_ic_now)
	[ -z "$pid" ] || kill -KILL "$pid"
	lab_kill "ss-$IC_SS"
	if lab_wait_for $((period + 5)) grep -q 'DPD: peer .* is dead' "$LAB_DIR/kizunad-$IC_KZ.log"; then
		dead_line=$(grep -m1 'DPD: peer .* is dead' "$LAB_DIR/kizunad-$IC_KZ.log")
		# charon's last answer: the last reply so far (one in flight at
		# the kill may still have come after it)
		t_last=$(_ic_reply_before "$ping" "$(_ic_now)")
		dt=$(_ic_log_delta "${t_last:-$t_kill}" "${dead_line%% *}")
		t_dead=$(awk -v a="${t_last:-$t_kill}" -v d="$dt" 'BEGIN { printf "%.3f", a + d }')
		echo "# crash: kizuna declared charon dead ${dt} s after its last ping reply" \
			"(the SIGKILL came $(awk -v a="$t_kill" -v b="$t_last" 'BEGIN { printf "%.3f", a - b }') s after it):"
		echo "# ${dead_line}"
		ic_check "crash: charon killed: kizuna declares it dead ${dt} s after its last answer (${period}..$((period + 1)) s)" \
			awk -v d="$dt" -v p="$period" 'BEGIN { exit !(d >= p - 0.5 && d <= p + 1) }'
	else
		ic_nok "crash: charon killed: kizuna declares it dead (no verdict in $((period + 5)) s)"
		t_dead=$(_ic_now)
	fi
	ic_check "crash: kizuna's SAs with the dead charon are cleared" lab_wait_for 2 _ic_kz_none_up
	mv -f "$(ss_log "$IC_SS")" "$LAB_DIR/$IC_NAME-charon-before-crash.log" 2>/dev/null || true
	ic_check "crash: charon starts again" ss_start gw-b "$IC_SS"
	t_ss=$(_ic_now)
	if lab_wait_for 20 _ic_both_up; then
		t_up=$(_ic_now)
		up_ms=$(_ic_ms "$t_dead" "$t_up")
		echo "# crash: tunnel up again $up_ms ms after the verdict (kizunad's log line), $(_ic_ms "$t_ss" "$t_up") ms after charon answered"
		ic_check "crash: kizuna sets the tunnel up again within its back-off + 3 s of the verdict ($up_ms ms)" \
			test "$up_ms" -le $(((backoff + 3) * 1000))
	else
		ic_nok "crash: kizuna sets the tunnel up again with the new charon"
	fi
	ic_check "crash: ping replies again" lab_wait_for 5 _ic_has_reply_after "$ping" "$t_ss"
	lab_kill "$ping"
	_ic_crash_final "crash, charon restarted"

	# ---- kizunad killed.  No ping meanwhile: with kizunad gone, so are
	# IPsec0 and its routes, and gw-a would route LAN B's traffic in clear
	# to the carrier.
	old_ike=$(ss_ike_spis "$IC_SS") || old_ike=""
	old_in=$(ss_child_spis "$IC_SS") || old_in=""
	log_n=$(wc -l <"$(ss_log "$IC_SS")")
	pid=$(lab_pid "kizunad-$IC_KZ") || pid=""
	[ -z "$pid" ] || kill -KILL "$pid"
	lab_kill "kizunad-$IC_KZ"
	mv -f "$LAB_DIR/kizunad-$IC_KZ.log" "$LAB_DIR/$IC_NAME-kizunad-before-crash.log"
	rm -f "$LAB_DIR/$IC_KZ.sock"
	t_launch=$(_ic_now)
	ic_check "crash: kizunad starts again" kz_start "$IC_KZ" "$LAB_DIR/case-$IC_KZ.conf"
	t_ready=$(_ic_now)
	lab_bg lan-a "$ping-2" ping -n -D -i 0.1 "$LAN_B_HOST"
	if lab_wait_for $((period + 10)) _ic_has_reply_after "$ping-2" "$t_ready"; then
		first=$(_ic_reply_after "$ping-2" "$t_ready")
		ms=$(_ic_ms "$t_launch" "$first")
		echo "# crash: first ping reply $ms ms after kizunad was launched ($(_ic_ms "$t_launch" "$t_ready") ms to answer its console)"
		ic_check "crash: kizunad restarted: ping flows within one DPD period ($ms ms <= ${period}000)" \
			test "$ms" -le $((period * 1000))
	else
		ic_nok "crash: kizunad restarted: ping flows again"
	fi
	lab_kill "$ping-2"
	ic_check "crash: charon logs kizuna's INITIAL-CONTACT" \
		lab_wait_for 2 sh -c "tail -n +$((log_n + 1)) '$(ss_log "$IC_SS")' | grep -q 'INITIAL_CONTACT'"
	tail -n +$((log_n + 1)) "$(ss_log "$IC_SS")" | grep -E 'INITIAL_CONTACT|duplicate' | sed 's/^/# charon: /'
	ic_check "crash: charon dropped the stale IKE_SA ${old_ike%% *} and CHILD_SA in-SPI ${old_in%% *}" \
		lab_wait_for 5 sh -c "! STRONGSWAN_CONF='$d/strongswan.conf' swanctl --list-sas --uri 'unix://$d/charon.vici' | grep -qE '${old_ike%% *}_i|in  ${old_in%% *}'"
	_ic_crash_final "crash, kizunad restarted"
}

# --- wan: gw-a's WAN address changes under the tunnel (as t_wan.sh's
# "new address" part): a new address behind the carrier is a new NAT
# mapping, the old SAs are of no use.  kizuna, the initiator, drops them
# without Delete and negotiates again at once from the new address with
# INITIAL-CONTACT, so charon replaces the stale ones.
IC_WAN_NEW=100.64.0.3

_ic_wan() {
	local ping=$IC_NAME-wanping d old_ike old_in log_n t0 first ms
	if [ "$IC_ROLE" != init ] || [ "$GW_A_WAN" = "$GW_A_PUBLIC" ]; then
		ic_nok "wan: only with kizuna initiating behind the carrier NAT"
		return 0
	fi
	d=$(ss_dir "$IC_SS")
	old_ike=$(ss_ike_spis "$IC_SS") || old_ike=""
	old_in=$(ss_child_spis "$IC_SS") || old_in=""
	log_n=$(wc -l <"$(ss_log "$IC_SS")")
	t0=$(_ic_now)
	lab_exec gw-a ip addr del "$GW_A_WAN/$GW_A_WAN_PREFIX" dev "$WAN_IF"
	lab_exec gw-a ip addr add "$IC_WAN_NEW/$GW_A_WAN_PREFIX" dev "$WAN_IF"
	lab_exec gw-a ip route replace default via "$CARRIER_A"
	IC_WAN_MOVED=1
	lab_bg lan-a "$ping" ping -n -D -i 0.1 "$LAN_B_HOST"
	if lab_wait_for 10 _ic_has_reply_after "$ping" "$t0"; then
		first=$(_ic_reply_after "$ping" "$t0")
		ms=$(_ic_ms "$t0" "$first")
		echo "# wan: first ping reply $ms ms after the WAN address changed"
		ic_check "wan: new WAN address: ping flows again within 5 s ($ms ms)" \
			test "$ms" -le 5000
	else
		ic_nok "wan: new WAN address: ping flows again (no reply in 10 s)"
	fi
	lab_kill "$ping"
	# the old address goes before the new one comes: "back with address"
	ic_check "wan: kizunad started over from $IC_WAN_NEW" \
		grep -qE "(new|back with) address ${IC_WAN_NEW//./\\.}: SAs are made again from it" "$LAB_DIR/kizunad-$IC_KZ.log"
	ic_check "wan: charon logs kizuna's INITIAL-CONTACT" \
		lab_wait_for 2 sh -c "tail -n +$((log_n + 1)) '$(ss_log "$IC_SS")' | grep -q 'INITIAL_CONTACT'"
	ic_check "wan: charon dropped the stale IKE_SA ${old_ike%% *} and CHILD_SA in-SPI ${old_in%% *}" \
		lab_wait_for 5 sh -c "! STRONGSWAN_CONF='$d/strongswan.conf' swanctl --list-sas --uri 'unix://$d/charon.vici' | grep -qE '${old_ike%% *}_i|in  ${old_in%% *}'"
	_ic_crash_final "wan, new address"
}

# gw-a's original WAN address back (the daemons are stopped), for the
# cases that follow
_ic_wan_restore() {
	[ -n "${IC_WAN_MOVED:-}" ] || return 0
	lab_exec gw-a ip addr del "$IC_WAN_NEW/$GW_A_WAN_PREFIX" dev "$WAN_IF" 2>/dev/null || true
	lab_exec gw-a ip addr add "$GW_A_WAN/$GW_A_WAN_PREFIX" dev "$WAN_IF"
	lab_exec gw-a ip route replace default via "$CARRIER_A"
	IC_WAN_MOVED=
}

# Packets of capture $1 matching display filter $2; "error" when tshark
# refuses (every numeric test on it then fails).
_ic_cap_count() {
	local out
	out=$(tshark -n -r "$1" -Y "$2" 2>/dev/null) || { echo error; return 0; }
	if [ -z "$out" ]; then echo 0; else wc -l <<<"$out"; fi
}
# The same for several filters $2...: the counts in IC_CAP, in order, from
# one pass of tshark (each filter a column of io,stat; no commas in them),
# as tshark's start-up costs about a second of CPU; "error" for all when
# tshark refuses one.
_ic_cap_counts() {
	local cap=$1 out f
	shift
	IC_CAP=()
	if ! out=$(tshark -n -q -r "$cap" -z "io,stat,0,$(IFS=,; echo "$*")" 2>/dev/null); then
		for f in "$@"; do IC_CAP+=(error); done
		return 0
	fi
	read -ra IC_CAP <<<"$(awk -F'|' -v n=$# '
		/<>/ { for (i = 1; i <= n; i++) { v = $(2 * i + 1); gsub(/ /, "", v); printf "%s ", v }; d = 1 }
		END { if (!d) for (i = 1; i <= n; i++) printf "0 " }' <<<"$out")"
}

ic_case() {
	IC_NAME=$1 IC_ROLE=$2 IC_MODE=$3 IC_IDS=$4 IC_PFS=$7 IC_EXTRA=",${8:-},"
	IC_INDEX=$((IC_INDEX + 1))
	ic_selected "$IC_NAME" "$IC_INDEX" "${IC_ONLY:-}" || return 0
	_ic_ike "$5" || return 1
	_ic_esp "$6" || return 1
	IC_CASE_FAILED=0
	echo "# case $IC_NAME: kizuna $IC_ROLE, $IC_MODE, ids $IC_IDS, IKE $5, ESP $6, PFS $IC_PFS ($LAB_MODE lab)"
	local ss_id exch_show dir_show kz_src kz_peer id_type="" ss_esp=$IC_SS_ESP
	case "$IC_IDS" in
	addr) IC_KZ_ID="" ss_id="" ;;
	keyid) IC_KZ_ID="key-id site-a" ss_id=keyid:site-a id_type=11 ;;
	fqdn) IC_KZ_ID="fqdn site-a.example" ss_id=@site-a.example id_type=2 ;;
	*) echo "interop: unknown ids $IC_IDS" >&2; return 1 ;;
	esac
	[ "$IC_PFS" = none ] || ss_esp="$ss_esp-$IC_PFS"
	local ss_ike=$IC_SS_IKE
	if [[ $IC_EXTRA == *,multi,* ]] && [ "$IC_ROLE" = resp ]; then
		# charon offers first what kizuna is not configured for
		# (same DH group: Aggressive mode's KE is for the first one)
		ss_ike="aes192-sha512-${ss_ike##*-},$ss_ike"
		if [ "$IC_PFS" = none ]; then
			ss_esp="aes192-sha512,$ss_esp"
		else
			ss_esp="aes192-sha512-$IC_PFS,$ss_esp"
		fi
	fi
	case "$IC_MODE" in
	main) exch_show="Main mode" ;;
	aggressive) exch_show="Aggressive mode" ;;
	esac
	local cap=$LAB_DIR/$IC_NAME-gwb-wan0.pcap ss_more=() drops0
	drops0=$(lab_carrier_drops)
	# charon checks the peer every second and gives up after 4 s of silence
	[[ $IC_EXTRA != *,dpd,* ]] || ss_more=(dpd_delay=1 dpd_timeout=4)
	local t0=$SECONDS
	if [ "$IC_ROLE" = init ]; then
		IC_KZ=a IC_SS=b dir_show=initiator kz_src=$GW_A_PUBLIC kz_peer=$GW_B_WAN
		_ic_kz_conf a
		[ -z "$ss_id" ] || ss_more+=(remote_id="$ss_id")
		ss_setup gw-b b responder exchange="$IC_MODE" psk="$IC_PSK" \
			ike="$ss_ike" esp="$ss_esp" "${ss_more[@]}"
		lab_capture_start gw-b "$WAN_IF" "$cap"
		ic_check "charon starts on gw-b" ss_start gw-b b
		ic_check "kizunad starts on gw-a" kz_start a "$LAB_DIR/case-a.conf"
	else
		IC_KZ=b IC_SS=a dir_show=responder kz_src=$GW_B_WAN kz_peer=$GW_A_PUBLIC
		_ic_kz_conf b
		[ -z "$ss_id" ] || ss_more+=(local_id="$ss_id")
		ss_setup gw-a a initiator exchange="$IC_MODE" psk="$IC_PSK" \
			ike="$ss_ike" esp="$ss_esp" "${ss_more[@]}"
		lab_capture_start gw-b "$WAN_IF" "$cap"
		ic_check "kizunad starts on gw-b" kz_start b "$LAB_DIR/case-b.conf"
		ic_check "charon starts on gw-a" ss_start gw-a a
		ic_check "swanctl --initiate on gw-a" ss_initiate a net 20
	fi

	if lab_wait_for 25 _ic_both_up; then
		ic_ok "established in $((SECONDS - t0)) s"
	else
		ic_nok "established (kizuna: $(kz_ipsec_up "$IC_KZ" && echo ipsec-up || echo no-ipsec-sa)," \
			"charon: $(ss_ike_state "$IC_SS")/$(ss_child_state "$IC_SS"))"
	fi

	# our side
	local ike ipsec enc hash group e_enc e_len e_auth
	ike=$(kz "$IC_KZ" show ike sa 2>&1) || true
	ipsec=$(kz "$IC_KZ" show ipsec sa 2>&1) || true
	IFS='|' read -r enc hash group <<<"$IC_SHOW_IKE"
	IFS='|' read -r e_enc e_len e_auth <<<"$IC_SHOW_ESP"
	ic_check "show ike sa: IKE PH1 established" grep -qx 'IKE PH1 established' <<<"$ike"
	ic_check "show ike sa: Exchange type is $exch_show" grep -qx "Exchange type is $exch_show" <<<"$ike"
	ic_check "show ike sa: Direction is $dir_show" grep -qx "Direction is $dir_show" <<<"$ike"
	ic_check "show ike sa: encrypt:$enc" grep -qxF "encrypt:$enc" <<<"$ike"
	ic_check "show ike sa: hash:$hash" grep -qxF "hash:$hash" <<<"$ike"
	ic_check "show ike sa: dh_group:$group" grep -qxF "dh_group:$group" <<<"$ike"
	ic_check "show ike sa: authentication method:pre-shared key" \
		grep -qxF "authentication method:pre-shared key" <<<"$ike"
	# charon's kernel-libipsec always asks for UDP encapsulation: 4500,
	# or what the carrier mapped 4500 to when it remaps ports
	if [ "$IC_ROLE" = resp ] && [ "${LAB_NAT_PORTS:-keep}" = random ]; then
		ic_check "show ike sa: remote: $kz_peer (UDP [<mapped port>])" \
			grep -qxE "remote: ${kz_peer//./\\.} \(UDP \[[0-9]+\]\)" <<<"$(grep -v '\[500\]' <<<"$ike")"
	else
		ic_check "show ike sa: remote: $kz_peer (UDP [4500])" \
			grep -qxF "remote: $kz_peer (UDP [4500])" <<<"$ike"
	fi
	ic_check "show ipsec sa: 1 configured, 2 created" \
		grep -qxF "IPsec SA - 1 configured, 2 created" <<<"$ipsec"
	ic_eq "show ipsec sa: enc algorithm (both SAs)" "$e_enc $e_enc" \
		"$(sed -n 's/^enc algorithm: //p' <<<"$ipsec" | xargs)"
	ic_eq "show ipsec sa: key length (both SAs)" "$e_len $e_len" \
		"$(sed -n 's/^key length: //p' <<<"$ipsec" | xargs)"
	ic_eq "show ipsec sa: auth algorithm (both SAs)" "$e_auth $e_auth" \
		"$(sed -n 's/^auth algorithm: //p' <<<"$ipsec" | xargs)"

	# their side
	ic_eq "charon: IKE SA state" ESTABLISHED "$(ss_ike_state "$IC_SS")"
	ic_eq "charon: CHILD_SA state" INSTALLED "$(ss_child_state "$IC_SS")"
	ic_eq "charon: IKE algorithms" "$IC_SS_IKE_ALGS" "$(ss_ike_algs "$IC_SS")"
	local want_child=$IC_SS_ESP_ALGS
	case "$IC_PFS" in
	modp*) want_child="$want_child MODP_${IC_PFS#modp}" ;;
	ecp*) want_child="$want_child ECP_${IC_PFS#ecp}" ;;
	esac
	ic_eq "charon: ESP algorithms" "$want_child" "$(ss_child_algs "$IC_SS")"

	# the identity kizuna sent, as charon took it
	local kz_id
	if [ "$IC_ROLE" = resp ]; then
		kz_id=$GW_B_WAN
	else
		case "$IC_IDS" in
		addr) kz_id=$GW_A_WAN ;;
		keyid) kz_id="site-a" ;;
		fqdn) kz_id="site-a.example" ;;
		esac
	fi
	ic_check "charon: kizuna's identity is '$kz_id'" \
		grep -qF "remote '$kz_id' @" <<<"$(ss_list_sas "$IC_SS" 2>&1)"

	# SPIs crosswise
	local kout kin ss_in ss_out spis
	kout=$(_ic_hex "$(kz_spi "$IC_KZ" Outbound)")
	kin=$(_ic_hex "$(kz_spi "$IC_KZ" Inbound)")
	spis=$(ss_child_spis "$IC_SS") || spis=""
	read -r ss_in ss_out <<<"$spis"
	ic_check "SPI: our Outbound 0x$kout is charon's in-SPI 0x${ss_in:-}" \
		test -n "$kout" -a "$kout" = "${ss_in:-}"
	ic_check "SPI: our Inbound 0x$kin is charon's out-SPI 0x${ss_out:-}" \
		test -n "$kin" -a "$kin" = "${ss_out:-}"

	# traffic
	local out0 in0 out1 in1
	out0=$(_ic_kz_packets "$IC_KZ" Outbound) in0=$(_ic_kz_packets "$IC_KZ" Inbound)
	ic_check "ping lan-a -> lan-b through the tunnel" \
		lab_exec lan-a ping -n -q -c 3 -i 0.2 -W 2 "$LAN_B_HOST"
	out1=$(_ic_kz_packets "$IC_KZ" Outbound) in1=$(_ic_kz_packets "$IC_KZ" Inbound)
	ic_check "counters: Outbound packets ${out0:-?} -> ${out1:-?}, Inbound ${in0:-?} -> ${in1:-?}" \
		test "${out1:-0}" -ge $((${out0:-0} + 3)) -a "${in1:-0}" -ge $((${in0:-0} + 3))

	ic_check "ping lan-b -> lan-a through the tunnel" \
		lab_exec lan-b ping -n -q -c 2 -i 0.2 -W 2 "$LAN_A_HOST"
	ic_check "ping lan-a -> lan-b with 1400-byte packets" \
		lab_exec lan-a ping -n -q -c 2 -i 0.2 -W 2 -s 1372 "$LAN_B_HOST"

	[[ $IC_EXTRA != *,dpd,* ]] || _ic_dpd
	[[ $IC_EXTRA != *,rekey,* ]] || _ic_rekey
	[[ $IC_EXTRA != *,reauth,* ]] || _ic_reauth
	[[ $IC_EXTRA != *,restart,* ]] || _ic_restart
	[[ $IC_EXTRA != *,crash,* ]] || _ic_crash
	[[ $IC_EXTRA != *,kzrekey,* ]] || _ic_kzrekey
	[[ $IC_EXTRA != *,wan,* ]] || _ic_wan

	# deletes (RFC 2408 5.15): the side that ends tells the other
	if [ "$IC_ROLE" = init ]; then
		# our deletes, through the console; kizuna may set up new SAs
		# right after (initiate auto), so look for the old SPIs/cookies
		spis=$(ss_child_spis "$IC_SS") || spis=""
		read -r ss_in ss_out <<<"$spis"
		ic_check "clear ipsec sa" kz "$IC_KZ" clear ipsec sa
		ic_check "clear ipsec sa: charon deleted CHILD_SA in-SPI ${ss_in:-}" \
			lab_wait_for 5 _ic_ss_lacks "$IC_SS" "in  ${ss_in:-none}"
		spis=$(ss_ike_spis "$IC_SS") || spis=""
		ic_check "clear ike sa" kz "$IC_KZ" clear ike sa
		ic_check "clear ike sa: charon deleted IKE SA ${spis%% *}" \
			lab_wait_for 5 _ic_ss_lacks "$IC_SS" "${spis%% *}_i"
	else
		ic_check "swanctl --terminate on gw-a" ss_terminate "$IC_SS"
		ic_check "charon's delete: kizuna has no IPsec SA and no IKE SA left" \
			lab_wait_for 5 _ic_kz_empty "$IC_KZ"
	fi

	lab_capture_stop "$cap"
	# the wire: every count from one tshark pass
	local n bad other icmp esp_n id_n=""
	local f_bad="isakmp && ip.src == $kz_src && (_ws.malformed || _ws.expert.severity >= warning || isakmp.extradata)"
	local filters=("isakmp && ip.src == $kz_src" "$f_bad" "_ws.malformed || _ws.expert.severity >= warning"
		"not arp and not (udp.port == 500 or udp.port == 4500 or esp)"
		"icmp && (ip.addr == $LAN_A_NET || ip.addr == $LAN_B_NET)" "udp.port == 4500 && esp")
	# Aggressive mode shows site A's identity in clear
	[ "$IC_MODE" != aggressive ] || [ -z "$id_type" ] ||
		filters+=("isakmp.id.type == $id_type && ip.src == $GW_A_PUBLIC")
	_ic_cap_counts "$cap" "${filters[@]}"
	n=${IC_CAP[0]} bad=${IC_CAP[1]} other=${IC_CAP[3]} icmp=${IC_CAP[4]} esp_n=${IC_CAP[5]} id_n=${IC_CAP[6]:-}
	ic_check "capture: kizuna sent ISAKMP packets ($n)" test "$n" -gt 0
	# tshark must take the filter (a rejected one would count nothing)
	if [ "$bad" = error ]; then
		ic_nok "capture: tshark rejects the malformed/expert display filter"
	elif [ "$bad" -eq 0 ]; then
		ic_ok "capture: tshark decodes kizuna's ISAKMP packets without malformed/expert warnings"
	else
		ic_nok "capture: tshark flags $bad of kizuna's ISAKMP packets:"
		tshark -n -r "$cap" -Y "$f_bad" \
			-T fields -e frame.number -e _ws.col.Info -e _ws.expert.message 2>/dev/null | head -n 10
	fi
	if [ "$IC_MODE" = aggressive ] && [ -n "$id_type" ]; then
		ic_check "capture: site A's identity is ID type $id_type on the wire ($id_n)" test "$id_n" -gt 0
	fi
	ic_check "capture: only UDP 500/4500 and ESP on the WAN ($other others), no plaintext ICMP between the LANs ($icmp)" \
		test "$other" -eq 0 -a "$icmp" -eq 0
	# what leaks on gw-a's side dies at the carrier: it counts private ones
	ic_eq "no private-range packet reached the carrier" "$drops0" "$(lab_carrier_drops)"
	ic_check "capture: ESP-in-UDP on 4500 ($esp_n packets)" test "$esp_n" -gt 0

	if [ "$IC_CASE_FAILED" -ne 0 ]; then
		IC_FAILED=$((IC_FAILED + 1))
		echo "# --- kizuna $IC_KZ: show ike sa / show ipsec sa"
		echo "$ike"
		echo "$ipsec"
		echo "# --- kizunad-$IC_KZ log (without console sessions)"
		grep -v 'console: session' "$LAB_DIR/kizunad-$IC_KZ.log" | tail -n 40
		SS_TAIL_LINES=0 ss_dump_on_failure "$IC_SS" 2>&1
		echo "# --- charon's log, IKE/CFG/CHD/NET lines"
		grep -E '\[(IKE|CFG|CHD|NET|KNL|ESP)\]' "$(ss_log "$IC_SS")" |
			grep -vE 'vici|watcher|loaded|   ' | tail -n 60
		[ "$IC_ROLE" = init ] || tail -n 20 "$(ss_dir "$IC_SS")/initiate.log"
		echo "# capture: $cap"
		tshark -n -r "$cap" 2>/dev/null | head -n 30
	else
		IC_PASSED=$((IC_PASSED + 1))
		echo "ok - $IC_NAME ($((SECONDS - t0)) s)"
	fi
	kz_stop "$IC_KZ"
	ss_stop "$IC_SS"
	lab_capture_stop
	lab_wait_for 5 _ic_gw_clean gw-a || echo "# warning: gw-a not clean after $IC_NAME"
	lab_wait_for 5 _ic_gw_clean gw-b || echo "# warning: gw-b not clean after $IC_NAME"
	_ic_wan_restore
	# a fresh log per case; the old ones stay in $LAB_DIR (LAB_KEEP=1)
	mv -f "$(ss_dir "$IC_SS")/charon.log" "$LAB_DIR/$IC_NAME-charon.log" 2>/dev/null || true
	mv -f "$LAB_DIR/kizunad-$IC_KZ.log" "$LAB_DIR/$IC_NAME-kizunad.log" 2>/dev/null || true
	return 0
}

ic_summary() {
	echo "interop: $IC_PASSED passed, $IC_FAILED failed"
	[ "$IC_FAILED" -eq 0 ]
}
