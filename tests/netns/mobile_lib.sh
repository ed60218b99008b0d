# shellcheck shell=bash
# shellcheck disable=SC2154
#
# tests/netns/mobile_lib.sh - a private D-Bus "system bus" for the mobile
# tests, with the ModemManager stand-in (mm_mock.py, python3-dbusmock) or
# the real ModemManager on it.  Sourced after check_lib.sh.
#   mm_bus_addr               exports DBUS_SYSTEM_BUS_ADDRESS for what
#                             starts later: a socket in a directory of its
#                             own under /run (0755, removed at exit), which
#                             kizunad --privsep's user can reach as it
#                             reaches /run/dbus/system_bus_socket ($LAB_DIR
#                             is root's, 0700)
#   mm_bus_up                 dbus-daemon on that socket (session-like
#                             config: any user, no policy)
#   mm_mock_up [IFACE]        the stand-in; the bearer's device is IFACE
#   mm <scenario> [arg]       org.freedesktop.DBus.Mock.Scenario on it
#   kz_first_ng <site> [lang] the first [NG] line of `diagnose ipsec`
#   mm_bus_uid_ok <log>       kizunad's bus connection (the unique name it
#                             logged) is, by the bus's word, the uid its
#                             privsep child runs as (not 0), or 0 in one
#                             process

mm_bus_addr() {
	if [ -z "${MM_BUS_DIR:-}" ]; then
		MM_BUS_DIR=$(mktemp -d /run/kizuna-lab-bus.XXXXXX) || return 1
		chmod 0755 "$MM_BUS_DIR"
		# after lab_down (ike_lib.sh's trap) stopped the bus
		trap 'lab_down; rm -rf -- "$MM_BUS_DIR"' EXIT
	fi
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$MM_BUS_DIR/system_bus_socket"
}

mm_bus_up() {
	mm_bus_addr || return 1
	cat >"$LAB_DIR/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$MM_BUS_DIR/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOC
	lab_bg gw-a dbus-daemon dbus-daemon --nofork --nopidfile --config-file="$LAB_DIR/bus.conf"
	lab_wait_for 5 test -S "$MM_BUS_DIR/system_bus_socket"
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

mm_bus_uid_ok() { # kizunad's log
	local name want got
	name=$(sed -n 's/.*mobile: on the system bus as \(:[0-9.]*\) .*/\1/p' "$1" | tail -1)
	[ -n "$name" ] || return 1
	want=$(sed -n 's/.*privsep: running as .* (uid \([0-9]*\)).*/\1/p' "$1" | tail -1)
	want=${want:-0}
	got=$(dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixUser "string:$name" |
		awk '{ print $2 }')
	echo "bus connection $name: uid $got (want $want)"
	[ "$got" = "$want" ] || return 1
	# split: never root's
	if grep -q 'privsep: running as' "$1"; then [ "$got" != 0 ]; fi
}
