#!/usr/bin/env bash
# kizunad on a real WAN device in the lab (gw-a, carrier NAT mode):
#  - changes made outside kizuna (link down, address gone) are seen by
#    `show ip address` and the config check, and logged;
#  - IPsec<N> is a TUN device whose state follows `shutdown`; `ip route`
#    entries reach the kernel and leave it again;
#  - `write memory` saves atomically and keeps the previous file;
#  - SIGHUP reloads; a bad file is refused and the running config stays;
#  - a second instance is refused, a stale socket is replaced;
#  - a bad startup file stops the daemon with file:line:column.
set -eu
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin
lab_up cgnat

conf="$LAB_DIR/a.conf"
sock="$LAB_DIR/a.sock"
sed -e 's/device wwan0/device wan0/' "$(dirname "$0")/../cli/configs/site-a.conf" > "$conf"
chmod 644 "$conf" # others may read its key: warned at start-up
K() { lab_exec gw-a "$build/kizuna" -s "$sock" "$@"; }
start() {
	lab_bg gw-a kzd "$build/kizunad" -f -c "$conf" -s "$sock"
	# answers, not just a socket file (a stale one may be there)
	lab_wait_for 10 lab_exec gw-a "$build/kizuna" -s "$sock" show ike sa
}
has() { grep -qxF -- "$1"; }
cfg() { printf '%s\n' "configure terminal" "$@" end | K >/dev/null; } # lines...
ip_has() { # pattern ip-args...: ip's output on gw-a matches pattern
	local p=$1
	shift
	ip -n "$NS_GW_A" "$@" | grep -q -- "$p"
}
not() { ! "$@"; }
profile_says() { K show ipsec profile HQ | tail -n 1 | has "HQ : $1"; }

# kizuna without a daemon: clear message, exit status 3
set +e
out=$(lab_exec gw-a "$build/kizuna" -s "$LAB_DIR/none.sock" show ip address 2>&1); rc=$?
set -e
expect "console without daemon exits 3" test "$rc" = 3
expect "console without daemon says so" grep -q "is kizunad running" <<<"$out"

start
expect "TUN device ipsec0 exists and is up" ip_has ',UP' -o link show ipsec0
expect "route to LAN B via ipsec0 in the kernel" ip_has 'dev ipsec0 proto 200' route show 192.168.2.0/24
expect "config check ok at start" profile_says "config check ok"

# a change made outside kizuna is observed, not undone
lab_exec gw-a ip link set wan0 down
expect "link set down outside: administratively down" \
	lab_wait_for 3 sh -c "$build/kizuna -s $sock show ip address MobileEthernet0.0 >/dev/null; ip netns exec $NS_GW_A $build/kizuna -s $sock show ip address MobileEthernet0.0 | head -n1 | grep -qx 'Interface MobileEthernet0.0 is administratively down'"
expect "A4.1 when the link is down" profile_says "sourced I/F don't have valid address [MobileEthernet0.0]"
expect "the change is logged" lab_wait_for 3 grep -q "MobileEthernet0.0 (wan0) is administratively down" "$LAB_DIR/kzd.log"
sleep 0.5
expect "kizuna did not undo it" not ip_has ',UP' -o link show wan0
lab_exec gw-a ip link set wan0 up
expect "A4 ok again after link up" lab_wait_for 3 profile_says "config check ok"

# no address: up, but A4.1 ("no SIM, no coverage")
lab_exec gw-a ip addr flush dev wan0
out=$(K show ip address MobileEthernet0.0)
expect "up without address shows none" test "$out" = "$(printf 'Interface MobileEthernet0.0 is up\nIP address\nnone')"
expect "A4.1 without address" profile_says "sourced I/F don't have valid address [MobileEthernet0.0]"
lab_exec gw-a ip addr add 100.64.0.2/24 dev wan0
lab_exec gw-a ip route replace default via 100.64.0.1 2>/dev/null || true

# IPsec0 follows shutdown; its route leaves the kernel and comes back
cfg "interface IPsec0" shutdown
expect "IPsec0 shutdown sets ipsec0 down" not ip_has ',UP' -o link show ipsec0
expect "A4.2 mapped I/F is down" profile_says "mapped I/F is down [IPsec0]"
cfg "interface IPsec0" "no shutdown"
expect "no shutdown sets ipsec0 up" ip_has ',UP' -o link show ipsec0
expect "route back after no shutdown" ip_has 'dev ipsec0' route show 192.168.2.0/24

# new interface and route from the console; removal
cfg "interface IPsec5" "ip address 10.255.0.1/30" "no shutdown" exit "ip route 10.77.0.0/16 IPsec5"
expect "IPsec5 creates ipsec5 with its address" ip_has '10.255.0.1/30' -o addr show ipsec5
expect "route via IPsec5" ip_has 'dev ipsec5' route show 10.77.0.0/16
expect "show ip route names it IPsec5" sh -c "ip netns exec $NS_GW_A $build/kizuna -s $sock show ip route | grep -q '10.77.0.0/16 is directly connected, IPsec5'"
expect "IPsec5 MTU derived from the WAN (1500 - 104)" ip_has 'mtu 1396' -o link show ipsec5
cfg "interface IPsec5" "ip address 10.255.0.5/30" "mtu 1300"
expect "a new address replaces the old one" sh -c "ip -n $NS_GW_A -o addr show ipsec5 | grep -q '10.255.0.5/30' && ! ip -n $NS_GW_A -o addr show ipsec5 | grep -q '10.255.0.1/'"
expect "mtu applied" ip_has 'mtu 1300' -o link show ipsec5
cfg "interface IPsec5" "no ip address" "no mtu"
expect "no ip address removes it" sh -c "test -z \"\$(ip -n $NS_GW_A -o addr show ipsec5)\""
expect "no mtu derives it again" ip_has 'mtu 1396' -o link show ipsec5
set +e
out=$(printf 'configure terminal\nno ip route 10.77.0.0/16 IPsec4\nno ipsec profile HQ\nike policy IKEPOL\npre ascii topsecret1\nPRE-SHARED-KEY ascii topsecret2\nend\n' | K 2>&1)
set -e
expect "no ip route with another target refused" grep -q "the route to 10.77.0.0/16 goes elsewhere" <<<"$out"
expect "no ipsec profile while mapped refused" grep -q "ipsec profile HQ is mapped to IPsec0" <<<"$out"
expect "abbreviated key lines are not logged" sh -c "! grep -q 'topsecret' '$LAB_DIR/kzd.log'"
cfg "ike policy IKEPOL" 'pre-shared-key ascii "correct horse battery staple"'
cfg "no ip route 10.77.0.0/16" "no interface IPsec5"
expect "route removed" sh -c "test -z \"\$(ip -n $NS_GW_A route show 10.77.0.0/16)\""
expect "ipsec5 removed" sh -c "! ip -n $NS_GW_A link show ipsec5 2>/dev/null"

# hostile console input straight on the socket: errors, nothing applied
before=$(K show running-config)
expect "console junk: clear errors, no crash" lab_exec gw-a python3 "$(dirname "$0")/console_junk.py" "$sock"
expect "console junk: nothing applied" test "$before" = "$(K show running-config)"

expect "a startup file others may read is warned about" \
	grep -q "a.conf holds pre-shared keys and its group and other users may read or change it (mode 0644): chmod 600" "$LAB_DIR/kzd.log"

# write memory: atomic, previous file kept
cp "$conf" "$LAB_DIR/orig.conf"
ln -s "$LAB_DIR/victim" "$conf.tmp" # a planted link: write memory must not follow it
printf 'configure terminal\nhostname site-x\nend\nwrite memory\n' | K >/dev/null
expect "write memory saved the new hostname" grep -qx "hostname site-x" "$conf"
expect "previous file kept as .bak" cmp -s "$conf.bak" "$LAB_DIR/orig.conf"
expect "no temp file left" test ! -e "$conf.tmp"
expect "the planted link was not followed" test ! -e "$LAB_DIR/victim"
expect "the saved file is 0600" test "$(stat -c %a "$conf")" = 600
expect "the .bak is 0600" test "$(stat -c %a "$conf.bak")" = 600
expect "the .bak is a copy, not a link" test "$(stat -c %h "$conf.bak")" = 1
expect "saved file keeps the key (running-config)" grep -q 'pre-shared-key ascii "correct horse battery staple"' "$conf"
expect "the log does not" sh -c "! grep -q 'correct horse' '$LAB_DIR/kzd.log'"

# SIGHUP: good file applied, bad file refused with its error
sed -i 's/^hostname site-x/hostname site-y/' "$conf"
kill -HUP "$(lab_pid kzd)"
expect "SIGHUP applied the file" lab_wait_for 3 sh -c "ip netns exec $NS_GW_A $build/kizuna -s $sock show running-config | grep -qx 'hostname site-y'"
cp "$conf" "$LAB_DIR/good.conf"
printf 'hostname site-z\nike proposal P\n  encryption rot13\n' > "$conf"
kill -HUP "$(lab_pid kzd)"
expect "bad reload logged with file:line:column" lab_wait_for 3 grep -q "a.conf:3:14: error: unexpected 'rot13'" "$LAB_DIR/kzd.log"
expect "bad reload refused" grep -q "reload of .* refused; the running config stays" "$LAB_DIR/kzd.log"
expect "running config unchanged" sh -c "ip netns exec $NS_GW_A $build/kizuna -s $sock show running-config | grep -qx 'hostname site-y'"
cp "$LAB_DIR/good.conf" "$conf"

# a second instance is refused while the first answers
set +e
out=$(lab_exec gw-a "$build/kizunad" -f -c "$conf" -s "$sock" 2>&1); rc=$?
set -e
expect "second instance refused" test "$rc" != 0
expect "second instance says why" grep -q "another instance is running" <<<"$out"
expect "first instance still answers" K show ike sa

# a crashed instance leaves a stale socket: replaced
kill -KILL "$(lab_pid kzd)"
sleep 0.3
expect "stale socket left behind" test -S "$sock"
start
expect "new instance replaced the stale socket" K show ip address
lab_kill kzd

# a bad startup file: refused with the error, exit status non-zero
printf 'hostname a\ninterface IPsec0\n  mtu 12\n' > "$LAB_DIR/bad.conf"
set +e
out=$(lab_exec gw-a "$build/kizunad" -f -c "$LAB_DIR/bad.conf" -s "$LAB_DIR/bad.sock" 2>&1); rc=$?
set -e
expect "bad startup file: non-zero exit" test "$rc" != 0
expect "bad startup file: file:line:column" grep -q "bad.conf:3:7: error: invalid BYTES '12': number out of range (576-9000)" <<<"$out"

check_summary daemon
