#!/usr/bin/env bash
# The kizuna demo: builds everything, then runs the two-site lab in network
# namespaces - site A behind the carrier's NAT (private SIM), site B with a
# global address - with kizunad on both gateways.  Site A initiates in
# Aggressive mode with NAT-Traversal; the tunnel comes up, LAN A pings and
# runs iperf3 to LAN B, and the console shows `show ike sa` and
# `show ipsec sa` (counters moving) on both gateways.  Then the manual's
# config check: `show ipsec profile` for a correct profile and broken ones,
# and `kizuna check` of the two sites' files.  Needs root; cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/deps.sh
echo "== building"
scripts/build.sh build >/dev/null
build="$top/build"

. tests/netns/lib.sh
lab_require_root
trap lab_down EXIT
trap 'exit 130' INT TERM HUP
lab_up cgnat

for site in a b; do
	# a file holding keys is 0600, or kizunad warns that others may read it
	(umask 077 && sed -e 's/device wwan0/device wan0/' "examples/site-$site.conf" \
		>"$LAB_DIR/site-$site.conf")
	lab_bg "gw-$site" "kizunad-$site" "$build/kizunad" -f -c "$LAB_DIR/site-$site.conf" \
		-s "$LAB_DIR/site-$site.sock"
	lab_wait_for 10 test -S "$LAB_DIR/site-$site.sock"
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# A console session on a gateway: each argument is one line typed at the
# prompt; the screen is shown as the router prints it.
console() {
	local site=$1
	shift
	printf '%s\n' "$@" |
		KIZUNA_ECHO=1 lab_exec "gw-$site" "$build/kizuna" -s "$LAB_DIR/site-$site.sock" || true
}

say "site A (behind the carrier's NAT): interfaces"
console a "show ip address"
say "site B (global address): interfaces"
console b "show ip address"
say "site A: running config"
console a "show running-config"

say "the tunnel: site A initiates (Aggressive mode, NAT-T)"
if ! lab_wait_for 30 sh -c "ip netns exec $NS_GW_A $build/kizuna -s $LAB_DIR/site-a.sock show ipsec sa | grep -q '^SA status is established'"; then
	echo "the tunnel did not come up; kizunad's logs:"
	tail -n 30 "$LAB_DIR"/kizunad-*.log
	exit 1
fi
console a "show ike sa"
console b "show ike sa"
say "LAN A (192.168.1.10) pings LAN B (192.168.2.10) through the tunnel"
lab_exec lan-a ping -c 3 -i 0.3 192.168.2.10
if command -v iperf3 >/dev/null; then
	say "iperf3 from LAN A to LAN B, 3 seconds"
	lab_bg lan-b iperf3-server iperf3 -s -1
	lab_wait_for 5 sh -c "ip netns exec $NS_LAN_B ss -ltn | grep -q ':5201'"
	lab_exec lan-a iperf3 -c 192.168.2.10 -t 3 | grep -E 'sender|receiver'
fi
say "the IPsec SAs on both gateways (counters moved)"
console a "show ipsec sa"
console b "show ipsec sa"
say "site A: a correct profile"
console a "show ipsec profile"
say "site A: the SIM loses its address (WAN shut down)"
console a "configure terminal" "interface MobileEthernet0.0" "shutdown" "end" \
	"show ip address MobileEthernet0.0" "show ipsec profile HQ"
say "site A: repaired as the check says"
console a "configure terminal" "interface MobileEthernet0.0" "no shutdown" "end" \
	"show ipsec profile HQ"
say "site B: a profile naming an IPsec policy that does not exist"
console b "configure terminal" "ipsec profile HQ" "ipsec policy IPSECPOL2" "end" \
	"show ipsec profile HQ"
console b "configure terminal" "ipsec profile HQ" "ipsec policy IPSECPOL" "end" \
	"show ipsec profile HQ"
say "offline: kizuna check of both sites' files"
install -m 600 examples/site-a.conf examples/site-b.conf "$LAB_DIR/"
(cd "$LAB_DIR" && "$build/kizuna" check site-a.conf site-b.conf) || true
say "offline: site B with a different pre-shared key"
(umask 077 && sed -e 's/correct horse battery staple/correct horse battery stapler/' \
	examples/site-b.conf >"$LAB_DIR/site-b-wrong-key.conf")
(cd "$LAB_DIR" && "$build/kizuna" check site-a.conf site-b-wrong-key.conf) || true
say "done: the lab is removed"
