#!/usr/bin/env bash
# Privilege separation (kizunad's default as root, --privsep said here
# anyway), kizuna <-> kizuna through the carrier NAT (examples/site-*.conf),
# both daemons split in two.
#
# Checked on gw-a:
#  - the process holding UDP port 500 (ss -lunp) is not the one the test
#    started: its uid is not 0, CapEff and CapBnd are 0, NoNewPrivs 1,
#    Seccomp 2 (filter), its root is /run/kizuna/root.<parent pid>, which
#    holds only etc/ with read-only copies of the resolver's files;
#  - the parent (the PID the test started) holds no UDP, raw or TUN
#    descriptor: none of its socket inodes is in /proc/net/udp or raw of
#    gw-a's namespace, no /dev/net/tun open;
#  - with a ping running LAN A -> LAN B, the child SIGKILLed: ipsec0 goes,
#    the parent logs the restart, the tunnel carries traffic again within
#    20 s, and a capture of gw-a's WAN has not one packet to LAN B in clear;
#  - gw-b's parent SIGKILLed: its child goes, its root stays until the next
#    daemon starts;
#  - a clean stop (SIGTERM to the parent) removes every route of ours and
#    the child's root.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping tshark:tshark ss:iproute2
id kizuna >/dev/null 2>&1 || _lab_unmet "needs the user kizuna" "scripts/deps.sh creates it"

export KZ_DAEMON_OPTS="--privsep"
ping_ok() { lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
tun_gone() { ! ip -n "$NS_GW_A" link show ipsec0 >/dev/null 2>&1; }
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
holder500() { # pid of the process with UDP port 500 open in gw-a
	lab_exec gw-a ss -lunpH 'sport = :500' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}
# socket inodes of pid $1 that are UDP or raw sockets of gw-a's namespace
net_inodes() {
	local ino
	for ino in $(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'); do
		lab_exec gw-a cat /proc/net/udp /proc/net/raw | awk -v i="$ino" '$10 == i { print i }'
	done
}

lab_up cgnat
lab_capture_start gw-a "$WAN_IF" "$LAB_DIR/a-wan.pcap"
kz_start b "$top/examples/site-b.conf"
kz_start a "$top/examples/site-a.conf"
if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 ping_ok; then
	ok "tunnel up with both daemons split, LAN A reaches LAN B"
else
	nok "tunnel up with both daemons split, LAN A reaches LAN B"
	kz_logs a b
fi

parent=$(lab_pid kizunad-a)
child=$(holder500)
echo "# gw-a: parent $parent, UDP 500 held by ${child:-nobody}"
expect "UDP 500 is held by the child, not the parent" test -n "$child" -a "$child" != "$parent"
if [ -n "$child" ]; then
	uid=$(status "$child" Uid)
	expect "child: uid $uid, not 0" test "${uid:-0}" != 0
	expect "child: uid is kizuna's" test "$uid" = "$(id -u kizuna)"
	expect "child: CapEff 0 ($(status "$child" CapEff))" test "$(status "$child" CapEff)" = 0000000000000000
	expect "child: CapBnd 0 ($(status "$child" CapBnd))" test "$(status "$child" CapBnd)" = 0000000000000000
	expect "child: NoNewPrivs 1" test "$(status "$child" NoNewPrivs)" = 1
	expect "child: Seccomp 2 (filter)" test "$(status "$child" Seccomp)" = 2
	expect "child: root is the empty directory ($(readlink "/proc/$child/root"))" \
		test "$(readlink "/proc/$child/root")" = "/run/kizuna/root.$parent"
	expect "child: its parent is the daemon the test started" test "$(status "$child" PPid)" = "$parent"
	root=/run/kizuna/root.$parent
	echo "# in $root: $(cd "$root" && find . -mindepth 1 -printf '%p %m %u; ')"
	expect "child's root: only etc/ with read-only copies of resolver files, root's" \
		sh -c "cd '$root' && [ -z \"\$(find . -mindepth 1 ! -path ./etc ! -path './etc/*')\" ] &&
			[ -z \"\$(find . ! -user root -o -perm /0222 ! -path ./etc -o -path ./etc -perm /0022)\" ] &&
			[ -z \"\$(find ./etc -type f ! -name hosts ! -name resolv.conf ! -name nsswitch.conf ! -name host.conf ! -name gai.conf)\" ] &&
			cmp -s ./etc/hosts /etc/hosts"
fi
expect "parent: uid 0" test "$(status "$parent" Uid)" = 0
pn=$(net_inodes "$parent" | wc -l)
cn=$(net_inodes "$child" | wc -l)
echo "# UDP/raw sockets: parent $pn, child $cn"
expect "parent holds no UDP or raw socket ($pn)" test "$pn" = 0
expect "the child holds them ($cn)" test "$cn" -ge 2
expect "parent holds no TUN queue" sh -c "! ls -l /proc/$parent/fd | grep -q /dev/net/tun"
expect "the child holds the TUN queues" sh -c "ls -l /proc/$child/fd | grep -q /dev/net/tun"

# ---- files through the parent: the child cannot reach them itself
out=$(kz a write memory 2>&1 || true)
expect "write memory: [OK] ($(echo "$out" | tail -n 1))" grep -q '^\[OK\]$' <<<"$out"
expect "write memory: archive version 1 kept, 0600, saved by root" \
	sh -c "test \$(stat -c %a $LAB_DIR/a.conf.1) = 600 && head -n 1 $LAB_DIR/a.conf.1 | grep -q 'by root (uid 0)'"
expect "write memory: the startup file is 0600, owned by root" \
	test "$(stat -c '%a %U' "$LAB_DIR/a.conf")" = "600 root"
expect "show startup-config reads it" sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show startup-config | grep -q '^hostname '"
expect "show archive lists version 1" sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show archive | grep -q '^  1  .* by root (uid 0)'"
expect "configure replace 1" sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock configure replace 1 | grep -q '^Running config replaced by version 1 '"
kill -HUP "$parent"
expect "SIGHUP to the parent: the child reloads" lab_wait_for 5 grep -q "reloaded $LAB_DIR/a.conf" "$LAB_DIR/kizunad-a.log"
out=$(kz a ping "$LAN_B_HOST" source IPsec0 count 2 2>&1 || true)
expect "console ping (started by the parent, read by the child)" \
	grep -q '2 packets transmitted, 2 received' <<<"$out"
out=$(kz a traceroute "$GW_B_WAN" 2>&1 || true)
expect "console traceroute" grep -q "^ 1 " <<<"$out"
expect "still the same child after all that" test "$(holder500)" = "$child"

# ---- the child killed while traffic runs
lab_bg lan-a ping ping -D -i 0.1 "$LAN_B_HOST"
sleep 1
t0=$(date +%s)
kill -KILL "$child"
expect "killed: ipsec0 went with the child" lab_wait_for 5 tun_gone
expect "killed: the parent logged it and restarts" \
	lab_wait_for 5 grep -q 'the unprivileged process was killed by signal 9; fail-closed routes stay; restart in' "$LAB_DIR/kizunad-a.log"
if lab_wait_for 20 ping_ok; then
	ok "restarted: traffic flows again after $(($(date +%s) - t0)) s"
else
	nok "restarted: traffic flows again"
	kz_logs a b
fi
new=$(holder500)
expect "a new child holds UDP 500 ($child -> ${new:-none})" test -n "$new" -a "$new" != "$child" -a "$new" != "$parent"
expect "the parent is the same process" lab_alive kizunad-a
out=$(kz a show ipsec sa 2>&1 || true); echo "$out" | head -n 5 | sed "s/^/# console: /"
expect "the new child serves the console (show ipsec sa)" grep -q "^Interface IPsec0" <<<"$out"
[ -n "$new" ] && expect "new child: uid not 0, Seccomp 2" \
	test "$(status "$new" Uid)" != 0 -a "$(status "$new" Seccomp)" = 2
lab_kill ping
lab_capture_stop
leaked=$(tshark -n -r "$LAB_DIR/a-wan.pcap" -Y "ip.dst == 192.168.2.0/24 || ip.src == 192.168.1.0/24" 2>/dev/null | wc -l) || leaked=error
total=$(tshark -n -r "$LAB_DIR/a-wan.pcap" 2>/dev/null | wc -l) || total=error
echo "# gw-a $WAN_IF: $total packets captured, $leaked between the LANs in clear"
expect "capture of gw-a's $WAN_IF is not empty ($total)" test "$total" != error -a "${total%error}" -gt 0 2>/dev/null
expect "no packet between the LANs in clear on gw-a's $WAN_IF ($leaked)" test "$leaked" = 0

# ---- the parent killed: the child goes with it (parent-death signal)
bchild=$(lab_exec gw-b ss -lunpH 'sport = :500' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
broot=/run/kizuna/root.$(lab_pid kizunad-b)
kill -KILL "$(lab_pid kizunad-b)"
expect "b's parent SIGKILLed: its child ${bchild:-?} is gone too" \
	lab_wait_for 3 sh -c "[ -n '$bchild' ] && ! kill -0 '$bchild' 2>/dev/null"
lab_kill kizunad-b
expect "b's root stays behind its SIGKILLed parent" test -d "$broot"
kz_start b "$top/examples/site-b.conf"
expect "the next daemon to start removes it" test ! -e "$broot"
lab_kill kizunad-b

# ---- clean stop
lab_kill kizunad-a
expect "clean stop: no route of protocol 200 left on gw-a" \
	sh -c "[ -z \"\$(ip -n $NS_GW_A -4 route show table all proto 200)\" ]"
expect "clean stop: the parent logged it" grep -q 'removed [0-9]* routes of kizuna' "$LAB_DIR/kizunad-a.log"
expect "clean stop: the child's root is removed" test ! -e "/run/kizuna/root.$parent"
expect "no sanitizer report in the logs" sh -c "! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $LAB_DIR/kizunad-*.log"
[ "$fails" -eq 0 ] || kz_logs a b

echo "privsep: $((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed ($fails checks failed)"
[ "$fails" -eq 0 ]
