#!/usr/bin/env bash
# The modem under privilege separation (kizunad --privsep): the child, in
# an empty chroot without a bus socket, gets the system bus from the
# parent, connected by a process that became the child's user first.  On
# a private bus (tests/netns/mobile_lib.sh) with the ModemManager stand-in
# and Debian's polkitd (in a mount namespace of its own whose
# /etc/polkit-1/rules.d holds packaging/kizuna-polkit.rules; the distro's
# rules in /usr/share stay as they are).  Checked:
#  - the bus says kizunad's connection (the unique name it logs) is user
#    kizuna's, uid != 0, and its groups are kizuna's group alone;
#  - over it the stand-in gets the PIN (SIM unlocked), Simple.Connect
#    (bearer up) and Signal.Setup;
#  - polkit, asked as ModemManager asks (subject: that bus name), grants
#    org.freedesktop.ModemManager1.Device.Control and nothing else tried
#    (Messaging, Control); without the rules file it refuses Device.Control;
#  - site b, `modem` typed at the console: the parent refuses the bus until
#    `write memory` puts it in the startup file, then b is on the bus.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
. "$here/mobile_lib.sh"
kz_lab_begin dbus-daemon:dbus-daemon dbus-send:dbus-bin busctl:systemd \
	python3:python3-dbusmock unshare:util-linux
id kizuna >/dev/null 2>&1 || _lab_unmet "needs the user kizuna" "scripts/deps.sh creates it"
polkitd=/usr/lib/polkit-1/polkitd
[ -x "$polkitd" ] || _lab_unmet "needs $polkitd" "scripts/deps.sh installs polkitd"

export KZ_DAEMON_OPTS="--privsep"
lab_up cgnat
python3 -c 'import dbusmock' 2>/dev/null || _lab_unmet "python3-dbusmock is missing"
mm_bus_up
mm_mock_up wan0
lab_exec gw-a ip addr flush dev "$WAN_IF"
sed -e 's/^  device wwan0$/  modem auto\n  apn internet.example\n  pin 1234/' \
	"$top/examples/site-a.conf" >"$LAB_DIR/a-modem.conf"
kz_start a "$LAB_DIR/a-modem.conf"
log=$LAB_DIR/kizunad-a.log
mobile_has() { kz a show mobile | grep -q -- "$1"; }

expect "split: the child runs as kizuna" grep -q "privsep: running as kizuna (uid $(id -u kizuna))" "$log"
expect "bus: kizunad's connection is kizuna's, not root's" \
	lab_wait_for 10 mm_bus_uid_ok "$log"
name=$(sed -n 's/.*mobile: on the system bus as \(:[0-9.]*\) .*/\1/p' "$log" | tail -1)
creds=$(busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
	GetConnectionCredentials s "$name" 2>&1 || true)
echo "credentials of $name: $creds"
expect "bus: its groups are kizuna's group alone (SO_PEERGROUPS)" \
	sh -c "echo '$creds' | grep -q '\"UnixGroupIDs\" au 1 $(id -g kizuna)'"
parent=$(lab_pid kizunad-a)
expect "bus: its process is not the root parent ($parent)" \
	sh -c "! echo '$creds' | grep -q '\"ProcessID\" u $parent '"

# calls over the child's connection
mm add 356938035643809 >/dev/null
mm pin >/dev/null
expect "PIN: sent over the child's connection, SIM unlocked" lab_wait_for 10 mobile_has "lock none"
mm good >/dev/null
expect "connect: bearer up" lab_wait_for 15 mobile_has "connected, device wan0, 100.64.0.2/24 (shared)"
expect "signal: Signal.Setup went through" lab_wait_for 5 sh -c \
	"dbus-send --system --print-reply=literal --dest=org.freedesktop.ModemManager1 \
	/org/freedesktop/ModemManager1/Modem/0 org.freedesktop.DBus.Properties.Get \
	string:org.freedesktop.ModemManager1.Modem.Signal string:Rate | grep -q 'uint32 10'"

# polkit: ModemManager's question about that connection
mkdir -p "$MM_BUS_DIR/rules.d"
chmod 0755 "$MM_BUS_DIR/rules.d"
polkit_up() {
	lab_bg gw-a polkitd unshare -m sh -c \
		"mount --bind '$MM_BUS_DIR/rules.d' /etc/polkit-1/rules.d && exec $polkitd --no-debug"
	lab_wait_for 10 busctl status org.freedesktop.PolicyKit1 >/dev/null 2>&1
}
allowed() { # action: "true" if polkit authorizes kizunad's bus name
	busctl call org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority \
		org.freedesktop.PolicyKit1.Authority CheckAuthorization \
		'(sa{sv})sa{ss}us' system-bus-name 1 name s "$name" \
		"org.freedesktop.ModemManager1.$1" 0 0 "" | awk '{ print $2 }'
}
polkit_up
expect "polkit, no rules file: Device.Control refused" test "$(allowed Device.Control)" = false
lab_kill polkitd
cp "$top/packaging/kizuna-polkit.rules" "$MM_BUS_DIR/rules.d/kizuna.rules"
polkit_up
expect "polkit, kizuna.rules: Device.Control granted" test "$(allowed Device.Control)" = true
expect "polkit, kizuna.rules: Messaging still refused" test "$(allowed Messaging)" = false
expect "polkit, kizuna.rules: Control still refused" test "$(allowed Control)" = false
expect "polkit: the host's rules directory is untouched" test ! -e /etc/polkit-1/rules.d/kizuna.rules

# site b: `modem` typed at the console only; the parent connects the bus
# only for a modem of the startup file, so: refused until write memory
kz_start b "$top/examples/site-b.conf"
printf 'configure terminal\ninterface MobileEthernet0.0\nmodem auto\nend\n' |
	lab_exec gw-b "$KZ_BUILD/kizuna" -s "$LAB_DIR/b.sock" >/dev/null
expect "console modem, not saved: the parent refuses the bus" lab_wait_for 5 \
	grep -q "privsep: no system bus for the unprivileged process: the startup file has no modem" \
	"$LAB_DIR/kizunad-b.log"
b_mobile_has() { kz b show mobile | grep -q -- "$1"; }
expect "console modem, not saved: show mobile says the bus cannot be reached" \
	b_mobile_has "the system bus cannot be reached"
kz b write memory >/dev/null
expect "console modem, write memory: on the bus within 12 s (retry 10 s)" lab_wait_for 12 \
	grep -q "mobile: on the system bus as" "$LAB_DIR/kizunad-b.log"

kz_stop a
kz_stop b
expect "clean stop: no sanitizer report in kizunad's log" sh -c \
	"! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$log' '$LAB_DIR/kizunad-b.log'"
if [ "$fails" -gt 0 ]; then
	kz_logs a
	tail -20 "$LAB_DIR/polkitd.log"
fi
check_tally privsep_bus
