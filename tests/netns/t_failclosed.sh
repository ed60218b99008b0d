#!/usr/bin/env bash
# Fail closed: traffic for a prefix routed to IPsec<N> never leaves the WAN
# in the clear, even while kizunad is not running after a crash.
#
#   lan-a --- gw-a ===== carrier ===== gw-b --- lan-b     (lab_up cgnat,
#                                                         examples/site-*.conf)
# kizunad installs, beneath `ip route 192.168.2.0/24 IPsec0`, an unreachable
# route of the same prefix at metric 65520 (protocol 200).  Checked:
#  - with the tunnel up both routes are in gw-a's table, the one through
#    ipsec0 wins, `show ip route` marks the other as fail-closed for IPsec0;
#  - `shutdown` on IPsec0 refuses the prefix; `no shutdown` brings traffic
#    back; `no ip route` removes both routes, `ip route` puts both back;
#  - kizunad on gw-a SIGKILLed: ipsec0 is gone, `ip route get 192.168.2.10
#    from 192.168.1.10 iif lan0` on gw-a says No route to host (not wan0),
#    a ping from lan-a gets Destination Host Unreachable from gw-a;
#  - kizunad started again: the unreachable route was never deleted in
#    between (ip monitor), the tunnel comes back and traffic flows;
#  - from start to here, not one packet to 192.168.2.0/24 on gw-a's wan0
#    (a capture of wan0);
#  - a clean stop (SIGTERM) removes every route of protocol 200.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping tshark:tshark


conf() { # site lines...
	local site=$1
	shift
	{
		echo "configure terminal"
		printf '%s\n' "$@"
		echo "end"
	} | lab_exec "gw-$site" "$KZ_BUILD/kizuna" -s "$LAB_DIR/$site.sock" >/dev/null
}
ping_ok() { lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
routes_b() { ip -n "$NS_GW_A" -4 route show 192.168.2.0/24; }
has_tun_route() { routes_b | grep -q '^192.168.2.0/24 dev ipsec0 proto 200'; }
has_fc_route() { routes_b | grep -q '^unreachable 192.168.2.0/24 proto 200 .*metric 65520'; }
no_lan_b_route() { [ -z "$(routes_b)" ]; }
route_get() { ip -n "$NS_GW_A" route get "$LAN_B_HOST" from "$LAN_A_HOST" iif "$LAN_IF" 2>&1 || true; }
refused() { local g; g=$(route_get); [[ $g == *"No route to host"* && $g != *"$WAN_IF"* ]]; }
tun_gone() { ! ip -n "$NS_GW_A" link show ipsec0 >/dev/null 2>&1; }
no_report() { ! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LAB_DIR"/kizunad-*.log* 2>/dev/null; }
# The ping from lan-a is answered by gw-a with ICMP host unreachable (the
# kernel's answer for an unreachable route) and gets no reply from LAN B.
ping_refused() {
	local out
	out=$(lab_exec lan-a ping -c 3 -i 0.3 -W 1 "$LAN_B_HOST" 2>&1 || true)
	printf '%s\n' "$out" | sed 's/^/# ping: /' | tail -n 3
	[[ $out == *"From $GW_A_LAN"*"Destination Host Unreachable"* && $out != *"bytes from $LAN_B_HOST"* ]]
}

lab_up cgnat
lab_capture_start gw-a "$WAN_IF" "$LAB_DIR/a-wan.pcap"
kz_start b "$top/examples/site-b.conf"
kz_start a "$top/examples/site-a.conf"
if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 ping_ok; then
	ok "tunnel up, LAN A reaches LAN B"
else
	nok "tunnel up, LAN A reaches LAN B"
	kz_logs a b
fi
expect "route through ipsec0 installed" has_tun_route
expect "fail-closed unreachable route beneath it (metric 65520)" has_fc_route
routes_b | sed 's/^/# gw-a: /'
expect "the route through ipsec0 wins" sh -c "ip -n $NS_GW_A route get $LAN_B_HOST from $LAN_A_HOST iif $LAN_IF | grep -q 'dev ipsec0'"
expect "show ip route marks it fail-closed for IPsec0" \
	sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show ip route | grep -q '192.168.2.0/24 is unreachable, metric 65520 (fail-closed for IPsec0)'"
expect "show ip route still shows the config route through IPsec0" \
	sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show ip route | grep -q '192.168.2.0/24 is directly connected, IPsec0'"

# ---- shutdown on IPsec0: administratively off, still closed
conf a "interface IPsec0" "shutdown"
expect "shutdown IPsec0: the route through it is gone" lab_wait_for 5 sh -c "! ip -n $NS_GW_A -4 route show 192.168.2.0/24 | grep -q ipsec0"
expect "shutdown IPsec0: the prefix is refused" refused
expect "shutdown IPsec0: a ping gets Destination Host Unreachable" ping_refused
conf a "interface IPsec0" "no shutdown"
expect "no shutdown IPsec0: traffic flows again" lab_wait_for 15 ping_ok

# ---- the config route removed and added again: both go, both come back
conf a "no ip route 192.168.2.0/24 IPsec0"
expect "no ip route: neither route is left" lab_wait_for 5 no_lan_b_route
conf a "ip route 192.168.2.0/24 IPsec0"
expect "ip route: both routes back" lab_wait_for 5 sh -c "ip -n $NS_GW_A -4 route show 192.168.2.0/24 | grep -c 'proto 200' | grep -qx 2"
expect "ip route: traffic flows again" lab_wait_for 15 ping_ok

# ---- kizunad on gw-a killed: nothing leaks while it is gone
lab_bg gw-a ipmon ip -4 monitor route
sleep 0.5
kill -KILL "$(lab_pid kizunad-a)"
lab_kill kizunad-a # reaps it
cp "$LAB_DIR/kizunad-a.log" "$LAB_DIR/kizunad-a.log.killed"
expect "killed: ipsec0 went with kizunad" lab_wait_for 5 tun_gone
expect "killed: only the unreachable route is left" sh -c "[ \"\$(ip -n $NS_GW_A -4 route show 192.168.2.0/24 | grep -c .)\" = 1 ]"
expect "killed: fail-closed route in place" has_fc_route
echo "# gw-a: ip route get $LAN_B_HOST from $LAN_A_HOST iif $LAN_IF: $(route_get)"
expect "killed: route get from LAN A says No route to host, not $WAN_IF" refused
expect "killed: a ping from lan-a gets Destination Host Unreachable" ping_refused

# ---- started again: the tunnel comes back without a gap in the refusal
rm -f "$LAB_DIR/a.sock"
kz_start a "$top/examples/site-a.conf" || true
if lab_wait_for 30 ping_ok; then
	ok "restarted: traffic flows again"
else
	nok "restarted: traffic flows again"
	kz_logs a b
fi
expect "restarted: both routes installed" sh -c "ip -n $NS_GW_A -4 route show 192.168.2.0/24 | grep -c 'proto 200' | grep -qx 2"
lab_kill ipmon
sed 's/^/# monitor: /' "$LAB_DIR/ipmon.log" | grep '192.168.2.0/24' || true
expect "restarted: the unreachable route was never deleted" \
	sh -c "! grep -q '^Deleted unreachable 192.168.2.0/24' $LAB_DIR/ipmon.log"
expect "restarted: the monitor saw the route through ipsec0 come back" \
	grep -q '^192.168.2.0/24 dev ipsec0' "$LAB_DIR/ipmon.log"

# ---- nothing for LAN B crossed wan0 in the clear, from start to here
lab_capture_stop
leaked=$(tshark -n -r "$LAB_DIR/a-wan.pcap" -Y "ip.dst == 192.168.2.0/24" 2>/dev/null | wc -l) || leaked=error
total=$(tshark -n -r "$LAB_DIR/a-wan.pcap" 2>/dev/null | wc -l) || total=error
echo "# gw-a $WAN_IF: $total packets captured, $leaked to 192.168.2.0/24"
expect "capture of gw-a's $WAN_IF is not empty ($total packets)" test "$total" != error -a "${total%error}" -gt 0 2>/dev/null
expect "no packet to 192.168.2.0/24 on gw-a's $WAN_IF ($leaked)" test "$leaked" = 0

# ---- clean stop: every route of ours goes
lab_kill kizunad-a
expect "clean stop: no route of protocol 200 left on gw-a" \
	sh -c "[ -z \"\$(ip -n $NS_GW_A -4 route show table all proto 200)\" ]"
expect "clean stop: kizunad logged it" grep -q 'removed [0-9]* routes of kizuna' "$LAB_DIR/kizunad-a.log"
expect "no sanitizer report in the logs" no_report
[ "$fails" -eq 0 ] || kz_logs a b

echo "failclosed: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
[ "$fails" -eq 0 ]
