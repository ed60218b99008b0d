#!/usr/bin/env bash
# tests/netns/t_diagnose_more.sh [build-dir] - more live scenarios for
# `kizuna diagnose ipsec` (spec: shared/spec/troubleshooting.md), beside
# t_diagnose.sh.  Each scenario breaks the lab one way, and on each side that
# can know it the first [NG] line must name the expected check id; then the
# change is undone.
#
# Part 1, kizuna on both gateways (cgnat lab, examples/site-a.conf and
# site-b.conf: A initiates from behind the carrier NAT, B answers):
#   scenario                                side  first [NG]
#   ipsec policy missing (profile names X)  A     A4.4
#   ike policy missing                      A     A4.5
#   ipsec proposal missing                  A     A4.6
#   ike proposal missing                    A     A4.7
#   key-ids swapped between the sites       A, B  none (kizuna still
#                                                 establishes; see below)
#   initiator's ids on the wrong side       A     A5.2
#                                           B     A5.1 (it got an address ID)
#   both SIMs private: A's peer is shared   A     A1.1
#   both SIMs private: B renumbered into
#     100.64.1.0/24, still `peer any`       B     A1.2
# Part 2, roles swapped (same lab): site A behind the CGN is the responder
# (`peer any`), site B initiates to the NAT's public address 198.51.100.1
# (profile HQ) and, in a second profile, to A's own shared address
# 100.64.0.2 (profile HQ2):
#   responder behind the CGN                A     A1.2
#   initiator, peer global, no answer       B/HQ  A6.2 (text names A6.1's cause)
#   initiator, peer shared, no answer       B/HQ2 A6.1
# Part 3, kizuna initiates on gw-a against strongSwan's charon on gw-b
# (aggressive mode, keyid:site-a, NAT-T), charon's side broken:
#   healthy                                 A     none
#   different pre-shared keys               A     A5.5
#   key-id mismatch (charon expects site-x) A     A5.1 (charon answers
#                                                 message 1 with
#                                                 AUTHENTICATION-FAILED)
#   proposals with no common choice         A     A5.4
#   selectors not mirrored                  A     A5.3
# Prints a scenario x side -> expected / got table and
# "diagnose-more: N passed, M failed".  Exit 0 pass, 1 fail, 77 skip.
# Knobs: DM_NO_SS=1 skips part 3; DM_PARTS (default "1 2 3") picks parts; LAB_KEEP=1 keeps the lab directory.
set -u
# check_lib.sh sets KZ_BUILD from the first argument.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/check_lib.sh
. "$here/check_lib.sh"
# shellcheck source=tests/netns/strongswan.sh
. "$here/strongswan.sh"
kz_lab_begin ping:iputils-ping
part() { case " ${DM_PARTS:-1 2 3} " in *" $1 "*) return 0 ;; esac; return 1; }
trap 'lab_down; [ -z "${p2pid:-}" ] || kill "$p2pid" 2>/dev/null; rm -rf "${p2dir:-/nonexistent}"' EXIT

passed=0
failed=0
table=""
PSK="correct horse battery staple"

# first_ng <site> [profile]: the id of the first [NG] line (of that
# profile's block when named)
first_ng() {
	kz "$1" diagnose ipsec | awk -v p="${2:-}" '
		/^profile / { inp = (p == "" || $2 == p ":") }
		inp && /^\[NG\] / { print $2; exit }'
}

ng_is() { # site profile id
	local got
	got=$(first_ng "$1" "$2")
	[ "$got" = "$3" ] || { [ "$3" = none ] && [ -z "$got" ]; }
}

# expect_ng <scenario> <site> <profile|""> <id|none> <timeout>
expect_ng() {
	local name=$1 site=$2 prof=$3 want=$4 t=$5 got side
	lab_wait_for "$t" ng_is "$site" "$prof" "$want"
	got=$(first_ng "$site" "$prof")
	[ -z "$got" ] && got=none
	side=$(echo "$site" | tr "[:lower:]" "[:upper:]")
	[ -z "$prof" ] || side="$side/$prof"
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
		echo "ok - $name: $side first NG $got"
	else
		failed=$((failed + 1))
		echo "FAIL - $name: $side first NG $got, expected $want"
		kz "$site" diagnose ipsec | sed 's/^/    /'
		tail -n 12 "$LAB_DIR/kizunad-$site.log" | sed 's/^/    # /'
	fi
	table="$table$(printf '%-46s %-6s %-5s %-5s' "$name" "$side" "$want" "$got")\n"
}

skip_row() { # scenario side why
	echo "skip - $1: $2: $3"
	table="$table$(printf '%-46s %-6s %-5s %-5s' "$1" "$2" - skip)\n"
}


# ---- part 2: roles swapped, the responder behind the CGN ----
# Its own lab, run in the background beside part 1 (the no-answer cases
# take ~62 s): also so that the carrier holds no NAT mapping left from
# part 1 (B's packets to 198.51.100.1 would follow it to gw-a, as on a real
# CGN within the mapping's lifetime).  Results come back through $p2dir.
part2() {
trap lab_down EXIT
trap 'exit 130' INT TERM HUP
export KZ_NS_PREFIX=kz$$p2-
lab_up cgnat
sed -e "s/^  peer .*/  peer any/" -e '/local-id key-id/s/local-id/remote-id/' \
	-e "s/^hostname .*/hostname site-a-resp/" "$top/examples/site-a.conf" >"$LAB_DIR/swap-a.conf"
{
	sed -e "s/^  peer .*/  peer $CARRIER_NAT_ADDR/" -e '/remote-id key-id/s/remote-id/local-id/' \
		-e "s/^hostname .*/hostname site-b-init/" "$top/examples/site-b.conf"
	cat <<EOF
ipsec policy IPSECPOL2
  proposal ESPP
  local-id 192.168.2.0/24
  remote-id 192.168.4.0/24
ipsec profile HQ2
  peer $GW_A_WAN
  source-interface MobileEthernet0.0
  ike policy IKEPOL
  ipsec policy IPSECPOL2
interface IPsec1
  ipsec map HQ2
  no shutdown
ip route 192.168.4.0/24 IPsec1
EOF
} >"$LAB_DIR/swap-b.conf"
kz_start a "$LAB_DIR/swap-a.conf"
kz_start b "$LAB_DIR/swap-b.conf"
expect_ng "responder behind the CGN" a "" A1.2 5
# Five transmissions over ~62 s before "no answer".
expect_ng "initiator to 198.51.100.1 (CGN), no answer" b HQ A6.2 80
expect_ng "initiator to 100.64.0.2 (shared), no answer" b HQ2 A6.1 10
kz_stop a
kz_stop b
echo "$passed $failed" >"$p2dir/counts"
printf "%b" "$table" >"$p2dir/table"
}
p2dir=$(mktemp -d /tmp/kz-diagmore.XXXXXX)
if part 2; then
	(part2) >"$p2dir/out" 2>&1 &
	p2pid=$!
fi


lab_up cgnat

# ---- part 1: kizuna <-> kizuna ----
if part 1; then
kz_start b "$top/examples/site-b.conf"
kz_start a "$top/examples/site-a.conf"
lab_wait_for 20 kz_ipsec_up a || kz_logs a b

# A4.4-A4.7: a reference to something that does not exist.  The config
# check is local: no traffic needed, so no SA reset.
# ref_missing <context> <bad line> <good line> <what> <first NG id>
ref_missing() {
	kz_configure a "$1" "$2"
	expect_ng "$4" a "" "$5" 5
	kz_configure a "$1" "$3"
	expect_ng "$4, fixed" a "" none 10
}
ref_missing "ipsec profile HQ" "ipsec policy NOPOL" "ipsec policy IPSECPOL" "ipsec policy missing" A4.4
ref_missing "ipsec profile HQ" "ike policy NOPOL" "ike policy IKEPOL" "ike policy missing" A4.5
ref_missing "ipsec policy IPSECPOL" "proposal NOPROP" "proposal ESPP" "ipsec proposal missing" A4.6
ref_missing "ike policy IKEPOL" "proposal NOPROP" "proposal IKEP" "ike proposal missing" A4.7
kz_back_up

# A5.2, swapped between two kizunas: the initiator sets remote-id, the
# responder local-id.  An aggressive-mode responder without a remote-id
# answers nobody (its AM2 would let any sender guess the key offline), so
# B's own check says A5.2 at once.
kz_configure a "ike policy IKEPOL" "no local-id" "remote-id key-id site-a"
kz_configure b "ike policy IKEPOL" "no remote-id" "local-id key-id site-a"
kz_clear_sas a b
expect_ng "responder without remote-id" b "" A5.2 10
kz_configure b "ike policy IKEPOL" "no local-id" "remote-id key-id site-a"
# A5.2 where it fails: the initiator has only a remote-id (so it sends its
# address as ID) and the responder expects key-id site-a.
kz_clear_sas a b
# kizuna's responder ignores the unknown ID silently, so A waits out five
# transmissions (~62 s) before it concludes anything.
expect_ng "initiator's ids on the wrong side" a "" A5.2 "${A52_T:-75}"
expect_ng "initiator's ids on the wrong side" b "" "${A52_B_WANT:-A5.1}" 5
kz_configure a "ike policy IKEPOL" "no remote-id" "local-id key-id site-a"
kz_back_up
expect_ng "key-ids put back" a "" none 10

# A1.1 on the initiator: A (100.64.0.2, behind the CGN) is configured for a
# peer with a shared address too.
kz_configure a "ipsec profile HQ" "peer 100.64.1.2"
kz_clear_sas a
expect_ng "both SIMs private (A's peer 100.64.1.2)" a "" A1.1 5
kz_configure a "ipsec profile HQ" "peer $GW_B_WAN"

# The responder side of it: renumber gw-b's WAN into the shared range by
# hand (the carrier gets an address there, but no NAT: B's contract is
# "private", nobody can reach it).  B is `peer any`: A1.2.
lab_exec carrier ip addr add 100.64.1.1/24 dev "$CARRIER_IF_B"
lab_exec gw-b ip addr flush dev "$WAN_IF"
lab_exec gw-b ip addr add 100.64.1.2/24 dev "$WAN_IF"
lab_exec gw-b ip route replace default via 100.64.1.1 dev "$WAN_IF"
expect_ng "both SIMs private (B renumbered 100.64.1.2)" b "" A1.2 10
lab_exec gw-b ip addr flush dev "$WAN_IF"
lab_exec gw-b ip addr add "$GW_B_WAN/$GW_B_WAN_PREFIX" dev "$WAN_IF"
lab_exec gw-b ip route replace default via "$CARRIER_B" dev "$WAN_IF"
lab_exec carrier ip addr del 100.64.1.1/24 dev "$CARRIER_IF_B"
kz_back_up
expect_ng "B's WAN back" b "" none 10
kz_stop a
kz_stop b
fi

# ---- part 3: kizuna initiates against charon ----
ss_ok=1
if ! part 3 || [ -n "${DM_NO_SS:-}" ]; then
	ss_ok=0
	why="DM_NO_SS set or part 3 not chosen"
elif ! command -v swanctl >/dev/null 2>&1 || [ ! -x "$SS_CHARON" ] ||
	[ ! -e "$SS_PLUGIN_DIR/libstrongswan-kernel-libipsec.so" ]; then
	ss_ok=0
	why="strongSwan (charon, swanctl, kernel-libipsec) not installed"
fi

# ss_b key=value...: charon on gw-b, responder for keyid:site-a, the
# examples' proposals; the changed keys come first (ss_setup takes the
# first of a key)
ss_b() {
	ss_setup gw-b b responder "$@" exchange=aggressive psk="$PSK" \
		remote_id=keyid:site-a ike=aes256-sha256-modp2048 esp=aes256-sha256
}
ss_scenario() { # name want key=value...
	local name=$1 want=$2
	shift 2
	ss_b "$@"
	ss_reload b >/dev/null
	ss_terminate b >/dev/null 2>&1 || true
	kz_clear_sas a
	expect_ng "charon: $name" a "" "$want" 30
}

if [ "$ss_ok" = 1 ]; then
	ss_b
	ss_start gw-b b
	kz_start a "$top/examples/site-a.conf"
	if ! lab_wait_for 25 kz_ipsec_up a; then
		echo "# kizuna <-> charon did not come up"
		kz_logs a
		ss_log_tail b 30
	fi
	expect_ng "charon: healthy" a "" none 5
	ss_scenario "different pre-shared keys" A5.5 psk="not the same key at all"
	# charon finds no connection for keyid:site-a and answers message 1
	# with an unprotected AUTHENTICATION-FAILED, before any HASH has been
	# exchanged: the peer rejected our ID, A5.1 (KEYID_WANT overrides).
	ss_scenario "key-id mismatch (charon wants site-x)" "${KEYID_WANT:-A5.1}" remote_id=keyid:site-x
	ss_scenario "proposals with no common choice" A5.4 ike=aes128-sha256-modp2048
	ss_scenario "selectors not mirrored" A5.3 remote_ts=192.168.3.0/24
	ss_scenario "healthy again" none
else
	for s in healthy "different pre-shared keys" "key-id mismatch" \
		"proposals with no common choice" "selectors not mirrored"; do
		skip_row "charon: $s" A "$why"
	done
fi

if [ -n "${p2pid:-}" ]; then
	wait "$p2pid"
	p2pid=
	echo "# part 2 (own lab, run beside part 1):"
	cat "$p2dir/out"
	if [ -s "$p2dir/counts" ]; then
		read -r p f <"$p2dir/counts"
		passed=$((passed + p))
		failed=$((failed + f))
		table="$table$(cat "$p2dir/table")\n"
	else
		echo "FAIL - part 2 did not finish"
		failed=$((failed + 1))
	fi
fi

printf '\n%-46s %-6s %-5s %-5s\n' scenario side want got
printf "%b" "$table"
echo "diagnose-more: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
