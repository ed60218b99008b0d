#!/usr/bin/env bash
# `diagnose ipsec` on the live lab: one lab (aggressive mode, site A behind
# the carrier NAT with NAT-T, examples/site-a.conf and site-b.conf), broken
# one way at a time through the console, and on each side that can know it
# the first [NG] line must name the expected check id.  Between scenarios
# the change is undone and the tunnel must come back up.
#
#   scenario                          side  first [NG]
#   healthy                           A, B  none (no problem found)
#   IPsec0 shut down                  A     A4.2
#   profile not mapped                A     A4.3
#   key-ids different                 B     A5.1
#   selectors not mirrored            A, B  A5.3
#   proposals with no common choice   A, B  A5.4
#   different pre-shared keys         A     A5.5
#   NAT-T off on A (behind the CGN)   A     none (no NAT-D, nothing
#                                           measured; the lab's NAT
#                                           passes ESP)
#   SAs up, route missing             A     A8.1
#   main mode with peer any           B     M1.2
#   peer down (B's WAN down)          A     A6.2
#   WAN without address               A     A2.2
#   WAN shut down                     A     A2.1
# The summary line counts scenario x side diagnosed right.
set -u
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping

right=0
total=0
table=""

first_ng() { # site
	kz "$1" diagnose ipsec | awk '/^\[NG\] / { print $2; exit }'
}

no_problem() {
	kz "$1" diagnose ipsec | grep -q '^HQ: no problem found$'
}

ng_is() { # site id
	[ "$(first_ng "$1")" = "$2" ]
}

# expect <scenario> <site> <id|none> <timeout>: polls until it matches
expect_ng() {
	local name=$1 site=$2 want=$3 t=$4 got
	total=$((total + 1))
	if [ "$want" = none ]; then
		lab_wait_for "$t" no_problem "$site"
	else
		lab_wait_for "$t" ng_is "$site" "$want"
	fi
	got=$(first_ng "$site")
	[ -z "$got" ] && got=none
	if [ "$got" = "$want" ]; then
		right=$((right + 1))
		echo "ok - $name: $site first NG $got"
	else
		echo "FAIL - $name: $site first NG $got, expected $want"
		kz "$site" diagnose ipsec | sed 's/^/    /'
		kz "$site" show ipsec profile | grep ' : ' | sed 's/^/    # /'
		tail -n 8 "$LAB_DIR/kizunad-$site.log" | sed 's/^/    # /'
	fi
	table="$table$(printf '%-34s %s  %-5s %-5s' "$name" "$site" "$want" "$got")\n"
}

# Both tables: an initiator whose IPsec SAs survive does not start again.

kz_sites_up

expect_ng "healthy" a none 5
expect_ng "healthy" b none 5

kz_configure a "interface IPsec0" "shutdown"
expect_ng "IPsec0 shut down" a A4.2 5
kz_configure a "interface IPsec0" "no shutdown"
kz_back_up

kz_configure a "interface IPsec0" "no ipsec map HQ"
expect_ng "profile not mapped" a A4.3 5
kz_configure a "interface IPsec0" "ipsec map HQ"
kz_back_up

kz_configure a "ike policy IKEPOL" "local-id key-id site-x"
kz_clear_sas a b
expect_ng "key-ids different" b A5.1 15
kz_configure a "ike policy IKEPOL" "local-id key-id site-a"
kz_back_up

kz_configure a "ipsec policy IPSECPOL" "remote-id 192.168.3.0/24"
kz_clear_sas a b
expect_ng "selectors not mirrored" a A5.3 15
expect_ng "selectors not mirrored" b A5.3 5
kz_configure a "ipsec policy IPSECPOL" "remote-id 192.168.2.0/24"
kz_back_up

kz_configure a "ike proposal IKEP" "encryption aes-cbc-128"
kz_clear_sas a b
expect_ng "proposals with no common choice" a A5.4 15
expect_ng "proposals with no common choice" b A5.4 5
kz_configure a "ike proposal IKEP" "encryption aes-cbc-256"
kz_back_up

kz_configure a "ike policy IKEPOL" 'pre-shared-key ascii "not the same key at all"'
kz_clear_sas a b
# Only A can know: it checks HASH_R in message 2 and never sends message 3,
# so the responder sees a half-open exchange and nothing more.
expect_ng "different pre-shared keys" a A5.5 15
kz_configure a "ike policy IKEPOL" 'pre-shared-key ascii "correct horse battery staple"'
kz_back_up

kz_configure a "ike policy IKEPOL" "no nat-traversal"
kz_clear_sas a b
expect_ng "NAT-T off on A behind the CGN" a none 15
kz_configure a "ike policy IKEPOL" "nat-traversal"
kz_back_up

kz_configure a "no ip route 192.168.2.0/24 IPsec0"
expect_ng "SAs up, route missing" a A8.1 10
kz_configure a "ip route 192.168.2.0/24 IPsec0"
kz_back_up

kz_configure b "ike policy IKEPOL" "exchange-mode main"
expect_ng "main mode with peer any" b M1.2 5
kz_configure b "ike policy IKEPOL" "exchange-mode aggressive"
kz_back_up

# The peer's WAN down: 5 transmissions over ~62 s before "no answer".
lab_exec gw-b ip link set wan0 down
kz_clear_sas a b
expect_ng "peer down (B's WAN down)" a A6.2 80
lab_exec gw-b ip link set wan0 up
lab_exec gw-b ip route replace default via 203.0.113.1 dev wan0 2>/dev/null || true

# Last, as they take site A's default route with them.
lab_exec gw-a ip addr flush dev wan0
expect_ng "WAN without address" a A2.2 10
kz_configure a "interface MobileEthernet0.0" "shutdown"
expect_ng "WAN shut down" a A2.1 10

printf '\n%-34s %s  %-5s %-5s\n' scenario side want got
printf "%b" "$table"
echo "diagnosed right: $right of $total"
[ "$right" -eq "$total" ]
