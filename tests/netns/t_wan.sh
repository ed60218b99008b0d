#!/usr/bin/env bash
# WAN events, kizuna <-> kizuna, Aggressive mode with site A behind the
# carrier NAT (examples/site-a.conf, site-b.conf; B answers `peer any`):
#  1. gw-a's WAN address changes (100.64.0.2 -> 100.64.0.3: a new carrier
#     NAT mapping): ping from LAN A to LAN B works again within 5 s, A
#     started over from the new address with INITIAL-CONTACT, and B replaced
#     the stale SAs (one IKE SA and one IPsec SA pair each);
#  2. gw-a's WAN link is down for 10 s and up again: meanwhile `show ipsec
#     sa`, `show ike sa`, `show ipsec profile` and `diagnose ipsec` say the
#     SAs are down; after it, the same as 1 within 5 s of the link being
#     usable.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping

ms() { date +%s%3N; }
# waits until ping works again; prints the milliseconds it took from $1
recovered_in() { # t0_ms timeout_s
	local end=$(($(ms) + $2 * 1000))
	while [ "$(ms)" -lt "$end" ]; do
		if lab_exec lan-a ping -c 1 -W 0.3 "$LAN_B_HOST" >/dev/null 2>&1; then
			echo $(($(ms) - $1))
			return 0
		fi
	done
	echo "never"
	return 1
}

lab_up cgnat
kz_start b "$top/examples/site-b.conf"
kz_start a "$top/examples/site-a.conf"
expect_tunnel_up "tunnel up through the carrier NAT" 10
spi_before=$(kz_spi b Inbound)

# ---- 1: new address
t0=$(ms)
lab_exec gw-a ip addr del "$GW_A_WAN/$GW_A_WAN_PREFIX" dev "$WAN_IF"
lab_exec gw-a ip addr add "100.64.0.3/$GW_A_WAN_PREFIX" dev "$WAN_IF"
lab_exec gw-a ip route replace default via "$CARRIER_A"
took=$(recovered_in "$t0" 15) || true
echo "# new WAN address: ping through the tunnel again after $took ms"
expect "new address: traffic flows again within 5 s ($took ms)" test "$took" != never -a "${took%never}" -le 5000 2>/dev/null
expect "new address: A noticed 100.64.0.3 and started over from it" \
	grep -q "new address 100.64.0.3\|back with address 100.64.0.3" "$LAB_DIR/kizunad-a.log"
if lab_wait_for 10 kz_one_sa_each; then
	ok "new address: one IKE SA and one IPsec SA pair each (stale SAs replaced)"
else
	nok "new address: one IKE SA and one IPsec SA pair each ($(kz_sa_counts))"
	kz_logs a b
fi
expect "new address: B's inbound SA is a new one" test "$(kz_spi b Inbound)" != "$spi_before"
spi_before=$(kz_spi b Inbound)

# ---- 2: link down 10 s, up again
lab_exec gw-a ip link set "$WAN_IF" down
# while it is down, the SAs A keeps are said to be down
sas_down() {
	[ "$(kz a show ipsec sa | grep -c '^SA is down: MobileEthernet0.0 has no usable address$')" = 2 ] &&
		[ "$(kz a show ike sa | grep -c '^SA is down: MobileEthernet0.0 has no usable address$')" -ge 1 ]
}
t_down=$(ms)
if lab_wait_for 5 sas_down; then
	ok "link down: show ipsec sa and show ike sa say the SAs are down"
else
	nok "link down: show ipsec sa and show ike sa say the SAs are down"
	kz a show ipsec sa
fi
prof_down() { kz a show ipsec profile HQ | grep -qx '  SA is down: MobileEthernet0.0 has no usable address'; }
json_down() { kz a show ipsec sa json | grep -q '"down":true'; }
diag_down() { kz a diagnose ipsec HQ | grep -q 'SAs kept but down'; }
expect "link down: show ipsec profile says so" prof_down
expect "link down: show ipsec sa json marks them down" json_down
expect "link down: diagnose ipsec reports the SAs kept but down" diag_down
left=$((10000 - ($(ms) - t_down)))
if [ "$left" -gt 0 ]; then sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"; fi
t0=$(ms)
lab_exec gw-a ip link set "$WAN_IF" up
lab_exec gw-a ip route replace default via "$CARRIER_A"
took=$(recovered_in "$t0" 15) || true
echo "# WAN link back after 10 s down: ping through the tunnel again after $took ms"
expect "link back: traffic flows again within 5 s ($took ms)" test "$took" != never -a "${took%never}" -le 5000 2>/dev/null
expect_one_sa_each 10 "link back: one IKE SA and one IPsec SA pair each" kz_logs a b
expect "link back: B's inbound SA is a new one" test "$(kz_spi b Inbound)" != "$spi_before"

check_summary wan
