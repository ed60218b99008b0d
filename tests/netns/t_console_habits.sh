#!/usr/bin/env bash
# The console as router users type it, on a live tunnel (site-a.conf <->
# site-b.conf, A behind the carrier NAT).  A tmux session runs the
# interactive `kizuna` in gw-a; keys go in with send-keys, the screen is
# read back with capture-pane:
#
#  1. a two-line edit of the live profile's IPsec proposal (two `lifetime`
#     lines), `do show ipsec profile` says the change is pending, Ctrl-Z
#     leaves configuration mode (the console is not suspended): exactly
#     one renegotiation, the tunnel carries traffic again
#  2. `do sh ?` in config mode lists exec words; Ctrl-Z back
#  3. `sh run | inc peer`, `wr`, the ambiguous `sh i`
#  4. `ping 192.168.2.10 source IPsec0` goes from 192.168.1.1 (gw-a's
#     address inside the local selector) through the tunnel and is answered
#  5. an edit left alone in config mode takes effect after 3 s idle, once
#  6. `exit` with unsaved changes asks; `n` leaves
#  7. one-shot: the filter as one argument or a quoted bar; `clear ipsec sa
#     profile HQ` renews that profile's SAs (new SPIs, tunnel back)
#  8. configure replace: back to a saved version renegotiates the changed
#     profile once; replacing with the same version again renegotiates none
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping tmux:tmux

TM="tmux -L kzhabits$$"
trap '$TM kill-server 2>/dev/null || true; lab_down' EXIT

lab_up cgnat
kz_start b "$top/examples/site-b.conf"
kz_start a "$top/examples/site-a.conf"
expect_tunnel_up "tunnel up before the console"

renego() { kz_nlog a "HQ: settings changed: its SAs are negotiated again"; }
screen() { $TM capture-pane -p -J -S -300 -t habits; }
# text: typed literally (tmux would read "end" as the End key)
type_line() { $TM send-keys -t habits -l "$1"; $TM send-keys -t habits Enter; sleep 0.4; }
on_screen() { screen | grep -q -- "$1"; }
wait_screen() { lab_wait_for "${2:-10}" on_screen "$1"; }
lines_matching() { screen | grep -c -- "$1" || true; }

$TM new-session -d -s habits -x 160 -y 50 \
	"ip netns exec $NS_GW_A env TERM=xterm HOME=$LAB_DIR $KZ_BUILD/kizuna -s $LAB_DIR/a.sock; sleep 60"
wait_screen '^site-a# *$' || nok "console prompt"

# ---- 1: one renegotiation per edit, Ctrl-Z
before=$(renego)
type_line "configure terminal"
type_line "ipsec proposal ESPP"
type_line "lifetime time 7200"
type_line "lifetime time 3600"
type_line "do show ipsec profile HQ"
expect "edit: show ipsec profile says the change is pending" wait_screen '^  change pending: '
expect "edit: nothing renegotiated while editing" test "$(renego)" = "$before"
$TM send-keys -t habits C-z
expect "Ctrl-Z: ^Z and back to the exec prompt" wait_screen '^site-a(config-ipsec-proposal)# \^Z$'
expect "Ctrl-Z: exec prompt" wait_screen '^site-a# *$'
pane=$($TM display-message -p -t habits '#{pane_pid}')
expect "Ctrl-Z: the console runs on, not stopped" sh -c "ps -o stat= --ppid $pane | grep -q '^[SR]'"
expect "edit: renegotiated after Ctrl-Z" lab_wait_for 5 sh -c "test \$(grep -c 'HQ: settings changed: its SAs are negotiated again' $LAB_DIR/kizunad-a.log) -gt $before"
sleep 2
expect "edit: exactly one renegotiation for the two lines ($(($(renego) - before)))" test "$(($(renego) - before))" = 1
expect_tunnel_up "edit: tunnel carries traffic again" 20
rem=$(kz a show ipsec sa | awk '/^Remaining lifetime is/ { print $4; exit }')
expect "edit: the new lifetime is in use ($rem s left of 3600)" test -n "$rem" -a "${rem:-99999}" -le 3600

# ---- 2: do with help
type_line "configure terminal"
$TM send-keys -t habits -l "do sh ?"
expect "do sh ?: lists exec show words" wait_screen '^  running-config  *The running configuration'
expect "do sh ?: lists tech-support" on_screen '^  tech-support '
$TM send-keys -t habits C-u
$TM send-keys -t habits C-z
sleep 0.5

# ---- 3: filters, write, ambiguity
n=$(lines_matching '^  peer 203.0.113.2$')
type_line "sh run | inc peer"
expect "sh run | inc peer: the peer line" wait_screen '^site-a# sh run | inc peer$'
expect "sh run | inc peer: only matching lines" test "$(lines_matching '^  peer 203.0.113.2$')" -gt "$n"
expect "sh run | inc peer: no other config line" sh -c "! $TM capture-pane -p -t habits | grep -q '^  proposal ESPP'"
type_line "wr"
expect "wr: written" wait_screen '^\[OK\]$'
expect "wr: archive version 1 kept, 0600" sh -c "test \$(stat -c %a $LAB_DIR/a.conf.1) = 600"
type_line "sh i"
expect "sh i: ambiguous" wait_screen '^% Ambiguous command: "sh i"$'
expect "sh i: candidates" on_screen '^  ike ip ipsec$'

# ---- 4: ping from the gateway's LAN address through the tunnel
type_line "ping 192.168.2.10 source IPsec0"
expect "ping source IPsec0: from 192.168.1.1" wait_screen 'PING 192.168.2.10 (192.168.2.10) from 192.168.1.1 '
expect "ping source IPsec0: answered" wait_screen '5 packets transmitted, [1-5] received' 15
expect "ping: prompt back" wait_screen '^site-a# *$'

# ---- 5: an edit left alone takes effect after 3 s without input
before=$(renego)
type_line "configure terminal"
type_line "ipsec proposal ESPP"
type_line "lifetime time 1800"
sleep 1
expect "idle: not yet after 1 s" test "$(renego)" = "$before"
expect "idle: renegotiated after 3 s without input" lab_wait_for 6 sh -c "test \$(grep -c 'HQ: settings changed: its SAs are negotiated again' $LAB_DIR/kizunad-a.log) -gt $before"
sleep 1
expect "idle: once" test "$(($(renego) - before))" = 1
type_line "end"
sleep 1
expect "idle: end after the idle commit renegotiates nothing more" test "$(($(renego) - before))" = 1

# ---- 6: leaving with unsaved changes asks
type_line "exit"
expect "exit: asks to save" wait_screen 'unsaved changes. Save them to the startup file? \[yes/no/cancel\]: $'
type_line "n"
expect "exit: left" wait_screen '^site-a# exit$'
expect "exit: unsaved change not written" sh -c "! grep -q 'lifetime time 1800' $LAB_DIR/a.conf"

# ---- 7: one-shot filters, per-profile clear
expect "one-shot: 'show run | inc peer'" sh -c "test \"\$(ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock 'show run | inc peer')\" = '  peer 203.0.113.2'"
expect "one-shot: show run '|' inc peer" sh -c "test \"\$(ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show run '|' inc peer)\" = '  peer 203.0.113.2'"
expect_tunnel_up "clear profile: tunnel up before" 20
old=$(kz_spi a Outbound)
expect "clear ipsec sa profile HQ: accepted" kz a clear ipsec sa profile HQ
expect "clear ipsec sa profile NOPE: refused" sh -c "! ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock clear ipsec sa profile NOPE 2>/dev/null"
expect_tunnel_up "clear profile: tunnel back" 20
new=$(kz_spi a Outbound)
expect "clear profile: new SPI ($old -> $new)" test -n "$new" -a "$new" != "$old"

# ---- 8: configure replace
kz a write memory >/dev/null
kz_configure a "ipsec proposal ESPP" "lifetime time 900"
sleep 1
before=$(renego)
expect "replace 1: accepted" sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock configure replace 1 | grep -q '^Running config replaced by version 1 '"
expect "replace 1: lifetime back" sh -c "! ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock 'show run | inc lifetime time 900' | grep -q ."
sleep 1
expect "replace 1: the changed profile renegotiated once" test "$(($(renego) - before))" = 1
kz a configure replace 1 >/dev/null
sleep 1
expect "replace 1 again: nothing renegotiated" test "$(($(renego) - before))" = 1
expect_tunnel_up "replace: tunnel up" 20

if [ "$fails" -gt 0 ]; then
	echo "---- screen"
	screen | tail -80
	kz_logs a b
fi
check_summary console-habits
