#!/usr/bin/env bash
# MobileEthernet0.0 with `modem auto` against the real ModemManager from
# Debian, on a private bus (tests/netns/mobile_lib.sh) and without udev
# (--test-no-udev): there is no modem on this machine, so `show mobile`
# and diagnose's first [NG] say "no modem found" with ModemManager's word
# that it has none; before it starts and after it stops, that it is not
# running; before the bus itself is there, that the bus cannot be reached
# (kizunad tries it again every 10 s).
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
. "$here/mobile_lib.sh"
kz_lab_begin dbus-daemon:dbus-daemon dbus-send:dbus-bin ModemManager:modemmanager

lab_up cgnat
lab_exec gw-a ip addr flush dev "$WAN_IF"
sed -e 's/^  device wwan0$/  modem auto\n  apn internet.example/' \
	"$top/examples/site-a.conf" >"$LAB_DIR/a-modem.conf"
# kizunad first, the bus later: it tries the bus again every 10 s
mm_bus_addr
kz_start a "$LAB_DIR/a-modem.conf"

mobile_has() { kz a show mobile | grep -q -- "$1"; }
ng_has() { kz_first_ng a "${2:-C}" | grep -q -- "$1"; }

expect "no bus: show mobile says so" mobile_has "the system bus cannot be reached"
expect "no bus: first [NG] no modem found" ng_has "no modem found (the system bus cannot be reached)"
mm_bus_up

expect "bus up, no ModemManager: show mobile says it is not running (retry within 12 s)" \
	lab_wait_for 12 mobile_has "no modem found: ModemManager is not running"
expect "before ModemManager: first [NG] no modem found" ng_has "no modem found"
expect "bus: kizunad's connection has its child's uid (0 in one process)" \
	mm_bus_uid_ok "$LAB_DIR/kizunad-a.log"

lab_bg gw-a modemmanager ModemManager --test-no-udev --debug --log-level=INFO
expect "ModemManager owns its name on the private bus" lab_wait_for 15 \
	dbus-send --system --print-reply --dest=org.freedesktop.ModemManager1 \
	/org/freedesktop/ModemManager1 org.freedesktop.DBus.ObjectManager.GetManagedObjects
expect "with ModemManager: show mobile says no modem found" \
	lab_wait_for 10 mobile_has "^no modem found$"
expect "with ModemManager: first [NG] no modem found" ng_has "no modem found (ModemManager shows no modem)"
expect "with ModemManager: first [NG] (ja)" ng_has "モデムが見つかりません" ja_JP.UTF-8
expect "with ModemManager: show ip address has the modem line" \
	sh -c "ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' show ip address MobileEthernet0.0 | grep -q '^Modem: no modem found'"
expect "with ModemManager: show mobile json" sh -c "ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' show mobile json | grep -q '\"found\": *false'"

lab_kill modemmanager
expect "ModemManager stopped: kizuna noticed" lab_wait_for 10 mobile_has "ModemManager is not running"
expect "kizunad still serves the console" kz a show ip address
# a clean stop: the bus is closed, and under ASan nothing leaks or breaks
kz_stop a
expect "clean stop: no sanitizer report in kizunad's log" sh -c \
	"! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$LAB_DIR/kizunad-a.log'"
if [ "$fails" -gt 0 ]; then
	kz_logs a
	tail -20 "$LAB_DIR/modemmanager.log"
fi
check_tally mobile_mm
