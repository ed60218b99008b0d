#!/usr/bin/env bash
# kizuna <-> kizuna in the lab:
#  1. Main mode, both sites global (examples/main-a.conf, main-b.conf):
#     IKE SA and IPsec SA pair established on both, each side's outbound SPI
#     is the other's inbound SPI, `show ike sa` says Main mode and the
#     directions, ports are 500 (no NAT-T configured).
#  2. Aggressive mode, site A behind the carrier NAT with NAT-T
#     (examples/site-a.conf, site-b.conf): established, moved to UDP 4500,
#     site B sees site A at the carrier's address 198.51.100.1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin

# ---- 1: Main mode, global addresses
lab_up global
kz_pair_start "$top/examples/main-b.conf" "$top/examples/main-a.conf"
expect_ipsec_up "main mode: IPsec SAs established on both sites"
expect "main mode: IKE PH1 established on A" kz_ike_up a
expect "main mode: IKE PH1 established on B" kz_ike_up b
expect "main mode: exchange type" kz_shows a 'Exchange type is Main mode' show ike sa
expect "main mode: B sees A at its address, port 500" kz_shows b 'remote: 198.51.100.2 (UDP \[500\])' show ike sa
a_out=$(kz_spi a Outbound); b_in=$(kz_spi b Inbound)
a_in=$(kz_spi a Inbound); b_out=$(kz_spi b Outbound)
expect "main mode: A's outbound SPI ($a_out) is B's inbound" test -n "$a_out" -a "$a_out" = "$b_in"
expect "main mode: B's outbound SPI ($b_out) is A's inbound" test -n "$b_out" -a "$b_out" = "$a_in"
expect "main mode: aes-gcm 256 negotiated" kz_shows a 'enc algorithm: aes-gcm' show ipsec sa
expect "main mode: one IKE SA each (no duplicate from simultaneous start)" \
	sh -c "test \$(ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show ike sa | grep -c '^IKE PH1') -ge 1"
kz_pair_stop
lab_down

# ---- 2: Aggressive mode, A behind the carrier NAT, NAT-T
lab_up cgnat
kz_pair_start "$top/examples/site-b.conf" "$top/examples/site-a.conf"
expect_ipsec_up "aggressive mode: IPsec SAs established on both sites"
expect "aggressive mode: exchange type" kz_shows a 'Exchange type is Aggressive mode' show ike sa
expect "aggressive mode: A is the initiator" kz_shows a 'Direction is initiator' show ike sa
expect "aggressive mode: B sees A through the NAT on 4500" kz_shows b 'remote: 198.51.100.1 (UDP \[4500\])' show ike sa
expect "aggressive mode: A talks to B on 4500" kz_shows a 'remote: 203.0.113.2 (UDP \[4500\])' show ike sa
expect "aggressive mode: ESP endpoints carry UDP ports" sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show ipsec sa | grep -q '(UDP \[4500\]) -> 203.0.113.2(UDP \[4500\])'"
a_out=$(kz_spi a Outbound); b_in=$(kz_spi b Inbound)
expect "aggressive mode: SPIs agree" test -n "$a_out" -a "$a_out" = "$b_in"
expect "aggressive mode: phase2 count=1" kz_shows a 'phase2 count=1' show ike sa

kz_pair_stop

# ---- 3: `peer FQDN`: the initiator resolves the name (here from the
# namespace's own hosts file, which `ip netns exec` puts in place)
mkdir -p "/etc/netns/$NS_GW_A"
echo "203.0.113.2 hq.example" >"/etc/netns/$NS_GW_A/hosts"
trap 'rm -rf "/etc/netns/$NS_GW_A"; lab_down' EXIT
sed -e 's/peer 203.0.113.2/peer hq.example/' "$top/examples/site-a.conf" >"$LAB_DIR/fqdn-a.conf"
kz_pair_start "$top/examples/site-b.conf" "$LAB_DIR/fqdn-a.conf"
if lab_wait_for 20 kz_ipsec_up a; then
	ok "peer FQDN: resolved and established"
else
	nok "peer FQDN: resolved and established"
	kz_logs a b
fi
expect "peer FQDN: remote is the resolved address" kz_shows a 'remote: 203.0.113.2 (UDP \[4500\])' show ike sa

check_summary ike-kizuna
