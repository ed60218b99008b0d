#!/usr/bin/env bash
# Config changes without collateral damage, kizuna <-> kizuna, two tunnels
# between gw-a and gw-b (global addresses, Aggressive mode: gw-b tells the
# two apart by gw-a's key-id):
#
#   tunnel 1  profile T1, IPsec0: 192.168.1.0/24  <-> 192.168.2.0/24
#   tunnel 2  profile T2, IPsec1: 192.168.11.0/24 <-> 192.168.12.0/24
#             (lan-a 192.168.11.10, lan-b 192.168.12.10, added here)
#
# 1. While a paced UDP stream with sequence numbers (tests/netns/udp_seq.py)
#    crosses tunnel 1, gw-a's config file gets another lifetime in T2's IPsec
#    proposal and kizunad gets SIGHUP (by its PID): the stream loses and
#    duplicates nothing, tunnel 1 keeps its SPIs, tunnel 2 gets new SPIs and
#    carries traffic again within seconds.
# 2. While a stream crosses tunnel 2, a console `configure terminal` changes
#    T1's IPsec proposal: the stream loses nothing, tunnel 2 keeps its SPIs,
#    tunnel 1 gets new ones and carries traffic again.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin python3:python3 ping:iputils-ping

RATE=${KZ_CC_RATE:-1000} SECS=${KZ_CC_SECS:-14}

# site: a (initiator, peer gw-b) or b (responder, peer any)
write_conf() { # site file
	local site=$1 out=$2 i
	{
		echo "hostname cc-$site"
		printf 'interface MobileEthernet0.0\n  device wwan0\n  no shutdown\n'
		printf 'ike proposal IKEP\n  encryption aes-cbc-256\n  hash sha2-256\n'
		printf '  group modp2048\n  lifetime 28800\n'
		for i in 1 2; do
			printf 'ike policy IKEPOL%s\n  exchange-mode aggressive\n  proposal IKEP\n' $i
			printf '  pre-shared-key ascii "key of tunnel %s"\n' $i
			if [ "$site" = a ]; then
				printf '  local-id key-id cc-site-a%s\n' $i
			else
				printf '  remote-id key-id cc-site-a%s\n' $i
			fi
		done
		for i in 1 2; do
			printf 'ipsec proposal ESPP%s\n  protocol esp\n  encryption aes-cbc-256\n' $i
			printf '  authentication hmac-sha2-256\n  lifetime time 28800\n'
		done
		for i in 1 2; do
			local l=192.168.$i.0/24 r=192.168.$((i + 1)).0/24
			[ $i = 1 ] || { l=192.168.11.0/24; r=192.168.12.0/24; }
			[ "$site" = a ] || { local t=$l; l=$r; r=$t; }
			printf 'ipsec policy IPSECPOL%s\n  proposal ESPP%s\n' $i $i
			printf '  local-id %s\n  remote-id %s\n' "$l" "$r"
		done
		for i in 1 2; do
			printf 'ipsec profile T%s\n' $i
			if [ "$site" = a ]; then
				printf '  peer %s\n' "$GW_B_WAN"
			else
				printf '  peer any\n'
			fi
			printf '  source-interface MobileEthernet0.0\n  ike policy IKEPOL%s\n' $i
			printf '  ipsec policy IPSECPOL%s\n' $i
		done
		for i in 0 1; do
			printf 'interface IPsec%s\n  ipsec map T%s\n  no shutdown\n' $i $((i + 1))
		done
		if [ "$site" = a ]; then
			printf 'ip route 192.168.2.0/24 IPsec0\nip route 192.168.12.0/24 IPsec1\n'
		else
			printf 'ip route 192.168.1.0/24 IPsec0\nip route 192.168.11.0/24 IPsec1\n'
		fi
	} >"$out"
}

# The SPI (decimal) of the first Outbound or Inbound SA of IPsec<unit>.
spi_of() { # site unit Outbound|Inbound
	kz "$1" show ipsec sa | awk -v ifc="Interface IPsec$2" -v dir="$3:" '
		/^Interface / { f = ($0 == ifc); g = 0; next }
		f && $0 == dir { g = 1; next }
		f && g && /^satype: esp spi=/ { sub(/^satype: esp spi=/, ""); sub(/\(.*/, ""); print; exit }'
}
spis() { # site unit: "out in"
	echo "$(spi_of "$1" "$2" Outbound) $(spi_of "$1" "$2" Inbound)"
}
life_of() { # site unit: remaining lifetime (s) of IPsec<unit>'s first SA
	kz "$1" show ipsec sa | awk -v ifc="Interface IPsec$2" '
		/^Interface / { f = ($0 == ifc); next }
		f && /^Remaining lifetime is / { print $4; exit }'
}
pairs_of() { # site unit: IPsec SA pairs shown for IPsec<unit>
	kz "$1" show ipsec sa | awk -v ifc="Interface IPsec$2" '
		/^Interface / { f = ($0 == ifc); next } f && /^Inbound:/ { n++ } END { print n + 0 }'
}
ping1() { lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
ping2() { lab_exec lan-a ping -c 1 -W 1 192.168.12.10 >/dev/null 2>&1; }
one_pair() { [ "$(pairs_of a "$1")" = 1 ] && [ "$(pairs_of b "$1")" = 1 ]; }

# stream: name port dest-host; runs in the background for $SECS s
stream_start() {
	lab_bg lan-b "recv-$1" python3 "$here/udp_seq.py" recv "$2" $((SECS + 20))
	sleep 0.5
	lab_bg lan-a "send-$1" python3 "$here/udp_seq.py" send "$3" "$2" "$RATE" "$SECS"
}
stream_check() { # name what
	local res what=$2
	lab_wait_for $((SECS + 25)) sh -c "grep -q '^received' $LAB_DIR/recv-$1.log" || true
	res=$(grep '^received' "$LAB_DIR/recv-$1.log" || echo "received nothing")
	echo "# $what: $res"
	# shellcheck disable=SC2086 # split the result line into fields
	set -- $res
	expect "$what: all $((RATE * SECS)) packets arrived (unique ${4:-?})" test "${4:-0}" = $((RATE * SECS))
	expect "$what: none lost (${8:-?})" test "${8:-1}" = 0
	expect "$what: none duplicated (${6:-?})" test "${6:-1}" = 0
}

lab_up global
# the second pair of networks, with routes that make it the source of
# traffic to the other one
lab_exec lan-a ip addr add 192.168.11.10/24 dev "$HOST_IF"
lab_exec lan-a ip route add 192.168.12.0/24 via "$GW_A_LAN" src 192.168.11.10
lab_exec gw-a ip addr add 192.168.11.1/24 dev "$LAN_IF"
lab_exec lan-b ip addr add 192.168.12.10/24 dev "$HOST_IF"
lab_exec lan-b ip route add 192.168.11.0/24 via "$GW_B_LAN" src 192.168.12.10
lab_exec gw-b ip addr add 192.168.12.1/24 dev "$LAN_IF"

write_conf a "$LAB_DIR/cc-a.conf"
write_conf b "$LAB_DIR/cc-b.conf"
expect "both configs pass kizuna check" \
	"$KZ_BUILD/kizuna" check "$LAB_DIR/cc-a.conf" "$LAB_DIR/cc-b.conf"
kz_start b "$LAB_DIR/cc-b.conf"
kz_start a "$LAB_DIR/cc-a.conf"
conf_a="$LAB_DIR/a.conf" # the file kizunad-a runs from (ike_lib.sh kz_start)
if lab_wait_for 30 ping1 && lab_wait_for 30 ping2 && lab_wait_for 10 one_pair 0 &&
	lab_wait_for 10 one_pair 1; then
	ok "both tunnels up, one pair each"
else
	nok "both tunnels up, one pair each"
	kz_logs a b
	exit 1
fi

# ---- 1. SIGHUP after a change to T2 only, a stream on tunnel 1 ----
t1_a=$(spis a 0) t1_b=$(spis b 0) t2_a=$(spis a 1) t2_b=$(spis b 1)
echo "# before: T1 a=($t1_a) b=($t1_b); T2 a=($t2_a) b=($t2_b)"
stream_start t1 5001 "$LAN_B_HOST"
sleep 3
awk '/^ipsec proposal / { blk = $3 } blk == "ESPP2" && $0 == "  lifetime time 28800" {
	$0 = "  lifetime time 3600" } { print }' "$conf_a" >"$conf_a.new"
mv "$conf_a.new" "$conf_a"
expect "the file changes T2's proposal only" test "$(grep -c 'lifetime time 3600' "$conf_a")" = 1
kill -HUP "$(lab_pid kizunad-a)"
expect "gw-a logs the reload" lab_wait_for 5 grep -q "reloaded $conf_a" "$LAB_DIR/kizunad-a.log"
expect "gw-a: T2 is negotiated again" \
	lab_wait_for 5 grep -q 'T2: settings changed: its SAs are negotiated again' "$LAB_DIR/kizunad-a.log"
expect "tunnel 2 carries traffic again within 10 s" lab_wait_for 10 ping2
stream_check t1 "tunnel 1 during the reload"
expect "tunnel 2 settles to one pair" lab_wait_for 10 one_pair 1
n2_a=$(spis a 1) n2_b=$(spis b 1)
echo "# after SIGHUP: T1 a=($(spis a 0)) b=($(spis b 0)); T2 a=($n2_a) b=($n2_b)"
expect "tunnel 1 keeps its SPIs on gw-a" test "$(spis a 0)" = "$t1_a"
expect "tunnel 1 keeps its SPIs on gw-b" test "$(spis b 0)" = "$t1_b"
expect "tunnel 2 has new SPIs on gw-a" sh -c "[ -n '${n2_a% *}' ] && [ '${n2_a% *}' != '${t2_a% *}' ] && [ '${n2_a#* }' != '${t2_a#* }' ]"
expect "tunnel 2 has new SPIs on gw-b" sh -c "[ -n '${n2_b% *}' ] && [ '${n2_b% *}' != '${t2_b% *}' ]"
life2=$(life_of a 1)
expect "tunnel 2's new SAs have the new lifetime on gw-a ($life2 s left)" \
	test "${life2:-99999}" -le 3600
expect "T1 was not touched (no settings change, no rekey, no delete)" \
	test "$(kz_nlog a 'T1: settings changed')$(kz_nlog a 'T1: rekeying')$(kz_nlog b 'T1: the peer deleted')" = 000
expect "gw-b saw T2's Deletes" lab_wait_for 2 grep -q 'T2: the peer deleted the IKE SA' "$LAB_DIR/kizunad-b.log"

# ---- 2. the console changes T1 only, a stream on tunnel 2 ----
t1_a=$(spis a 0) t1_b=$(spis b 0)
stream_start t2 5002 192.168.12.10
sleep 3
printf 'configure terminal\nipsec proposal ESPP1\nlifetime time 7200\nend\n' |
	lab_exec gw-a "$KZ_BUILD/kizuna" -s "$LAB_DIR/a.sock" >"$LAB_DIR/console.out" 2>&1 ||
	nok "console change ($(cat "$LAB_DIR/console.out"))"
expect "gw-a: T1 is negotiated again" \
	lab_wait_for 5 grep -q 'T1: settings changed: its SAs are negotiated again' "$LAB_DIR/kizunad-a.log"
expect "tunnel 1 carries traffic again within 10 s" lab_wait_for 10 ping1
stream_check t2 "tunnel 2 during the console change"
expect "tunnel 1 settles to one pair" lab_wait_for 10 one_pair 0
m1_a=$(spis a 0)
echo "# after the console: T1 a=($m1_a) b=($(spis b 0)); T2 a=($(spis a 1)) b=($(spis b 1))"
expect "tunnel 2 keeps its SPIs on gw-a" test "$(spis a 1)" = "$n2_a"
expect "tunnel 2 keeps its SPIs on gw-b" test "$(spis b 1)" = "$n2_b"
expect "tunnel 1 has new SPIs on gw-a" sh -c "[ -n '${m1_a% *}' ] && [ '${m1_a% *}' != '${t1_a% *}' ]"
expect "tunnel 1 has new SPIs on gw-b" test "$(spis b 0)" != "$t1_b"
expect "T2 was changed once only" test "$(kz_nlog a 'T2: settings changed')" = 1

# ---- 3. `write memory`, then SIGHUP: the file now says what runs, so
# the reload changes nothing ----
kz a write memory >/dev/null || nok "write memory"
kill -HUP "$(lab_pid kizunad-a)"
expect "gw-a reloads again" lab_wait_for 5 sh -c "[ \$(grep -c 'reloaded $conf_a' $LAB_DIR/kizunad-a.log) -ge 2 ]"
sleep 2
expect "a reload of what runs keeps both tunnels' SPIs" \
	test "$(spis a 0)/$(spis a 1)" = "$m1_a/$n2_a"
expect "... and negotiates nothing" \
	test "$(kz_nlog a 'settings changed')" = 2

[ "$fails" -eq 0 ] || kz_logs a b
check_summary config_change
