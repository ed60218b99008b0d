# shellcheck shell=bash
# shellcheck disable=SC2154
#
# tests/netns/mobile_lib.sh - a private D-Bus "system bus" for the mobile
# tests, with the ModemManager stand-in (mm_mock.py, python3-dbusmock) or
# the real ModemManager on it.  Sourced after check_lib.sh.
#   mm_bus_up                 dbus-daemon on $LAB_DIR/bus (session-like
#                             config: one user, no policy), exports
#                             DBUS_SYSTEM_BUS_ADDRESS for what starts later
#   mm_mock_up [IFACE]        the stand-in; the bearer's device is IFACE
#   mm <scenario> [arg]       org.freedesktop.DBus.Mock.Scenario on it
#   kz_first_ng <site> [lang] the first [NG] line of `diagnose ipsec`

mm_bus_up() {
	cat >"$LAB_DIR/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$LAB_DIR/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOC
	lab_bg gw-a dbus-daemon dbus-daemon --nofork --nopidfile --config-file="$LAB_DIR/bus.conf"
	lab_wait_for 5 test -S "$LAB_DIR/bus" || return 1
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$LAB_DIR/bus"
}

mm_mock_up() {
	lab_bg gw-a mm-mock python3 -m dbusmock --system --template "$here/mm_mock.py" \
		-p "{\"iface\": \"${1:-wan0}\", \"pin\": \"1234\"}"
	lab_wait_for 10 dbus-send --system --print-reply --dest=org.freedesktop.ModemManager1 \
		/org/freedesktop/ModemManager1 org.freedesktop.DBus.ObjectManager.GetManagedObjects
}

mm() {
	dbus-send --system --print-reply=literal --dest=org.freedesktop.ModemManager1 \
		/org/freedesktop/ModemManager1 org.freedesktop.DBus.Mock.Scenario \
		"string:$1" "string:${2:-}"
}

kz_first_ng() { # site [LC_ALL]: the first [NG] and the line after it (the cause)
	lab_exec "gw-$1" env LC_ALL="${2:-C}" "$KZ_BUILD/kizuna" -s "$LAB_DIR/$1.sock" \
		diagnose ipsec | awk '/\[NG\]/ { p = 2 } p > 0 { print; p-- }'
}
