#!/usr/bin/env bash
# MobileEthernet0.0 backed by a modem (`modem auto`): kizunad follows a
# ModemManager stand-in (tests/netns/mm_mock.py, python3-dbusmock, on a
# private bus) whose bearer's device is gw-a's wan0.  Site A starts with no
# address on wan0 and no default route: only what kizuna puts there from
# the bearer (Ip4Config method static) carries the tunnel.  Each scenario
# checks `show mobile`, the first [NG] of `diagnose ipsec` (English and
# Japanese) and the config check (`show ipsec profile`):
#   scenario                       first [NG] (A2.2 cause)
#   no modem yet                   no modem found
#   modem, no SIM                  modem failed: SIM missing
#   PIN required, wrong PIN        SIM refused the configured PIN (sent once)
#   right PIN, searching           not registered: searching
#   registered, poor signal        no or very weak signal
#   good signal, APN refused       bearer not connected (MissingOrUnknownApn)
#   connected, shared 100.64.0.2   none up to the tunnel; A1 names apn+address
#   drop, reconnect 100.64.0.3     tunnel back as after any WAN change
#   roaming                        show mobile: roaming yes
#   apn changed on the console     bearer made again with the new apn
#   global 198.51.100.2, private 10.20.0.2: the address class shown
#   method dhcp, no lease yet      connected but the device has no address
#   the lease's address added      tunnel up
#   shutdown                       bearer disconnected
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
. "$here/mobile_lib.sh"
kz_lab_begin ping:iputils-ping dbus-daemon:dbus-daemon dbus-send:dbus-bin \
	python3:python3-dbusmock

lab_up cgnat
python3 -c 'import dbusmock' 2>/dev/null || {
	echo "SKIP: python3-dbusmock is missing"
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
mm_bus_up
mm_mock_up wan0
# the carrier gives the address: none until the bearer is up
lab_exec gw-a ip addr flush dev "$WAN_IF"
sed -e 's/^  device wwan0$/  modem auto\n  apn internet.example\n  pin 9999/' \
	"$top/examples/site-a.conf" >"$LAB_DIR/a-modem.conf"
kz_start b "$top/examples/site-b.conf"
kz_start a "$LAB_DIR/a-modem.conf"
# split (kizunad --privsep): the parent connected the bus as the child's
# user, so the bus (and ModemManager, polkit) see kizuna, not root
expect "bus: kizunad's connection has its child's uid (0 in one process)" \
	lab_wait_for 10 mm_bus_uid_ok "$LAB_DIR/kizunad-a.log"

mobile_has() { kz a show mobile | grep -q -- "$1"; }
ng_has() { kz_first_ng a "${2:-C}" | grep -q -- "$1"; }
scenario() { # what mobile-text ng-en ng-ja
	expect "$1: show mobile says '$2'" lab_wait_for 10 mobile_has "$2"
	if ng_has "$3"; then ok "$1: first [NG] '$3'"; else
		nok "$1: first [NG] '$3', got: $(kz_first_ng a)"; fi
	if ng_has "$4" ja_JP.UTF-8; then ok "$1: first [NG] (ja) '$4'"; else
		nok "$1: first [NG] (ja) '$4', got: $(kz_first_ng a ja_JP.UTF-8)"; fi
	expect "$1: config check: no valid address" check_has "valid address"
}
check_has() { kz a show ipsec profile | grep -q -- "$1"; }

# ---- no modem yet
scenario "no modem" "no modem found" "no modem found" "モデムが見つかりません"
ipaddr_has() { kz a show ip address MobileEthernet0.0 | grep -q -- "$1"; }
expect "no modem: show ip address has the modem line" ipaddr_has "^Modem: no modem found"

# ---- a modem without SIM
mm add 356938035643809 >/dev/null
mm nosim >/dev/null
scenario "no SIM" "state: failed (sim-missing)" "modem failed: SIM missing" "SIM がありません"

# ---- PIN: the configured 9999 is wrong, sent once
mm pin >/dev/null
scenario "wrong PIN" "configured PIN refused" "refused the configured PIN" "設定された PIN"
sleep 2
expect "wrong PIN: sent exactly once" test "$(mm count | awk '{print $2}')" = 1
expect "wrong PIN: the log does not carry the PIN" sh -c "! grep -Eq '(^|[^0-9])9999([^0-9]|$)' '$LAB_DIR/kizunad-a.log'"
kz a configure terminal >/dev/null 2>&1 || true
printf 'configure terminal\ninterface MobileEthernet0.0\npin 1234\nend\n' |
	lab_exec gw-a "$KZ_BUILD/kizuna" -s "$LAB_DIR/a.sock" >/dev/null
expect "right PIN: unlocked" lab_wait_for 10 mobile_has "lock none"
expect "right PIN: sent once more (2 in all)" test "$(mm count | awk '{print $2}')" = 2
expect "right PIN: the console log hides it" sh -c "grep -q 'console: uid [0-9]* ([a-z0-9]*): pin (changed, not shown)' '$LAB_DIR/kizunad-a.log' && ! grep -Eq '(^|[^0-9])1234([^0-9]|$)' '$LAB_DIR/kizunad-a.log'"

# ---- searching
mm searching >/dev/null
scenario "searching" "Registration: searching" "searching for a network" "ネットワークを探しています"

# ---- registered, poor signal; the APN is refused meanwhile
mm refuse yes >/dev/null
mm poor >/dev/null
scenario "poor signal" "Signal: poor" "no or very weak signal" "電波が"
expect "poor signal: RSRP shown" mobile_has "RSRP -117.0 dBm"

# ---- good signal, the APN refused
mm good >/dev/null
scenario "APN refused" "MissingOrUnknownApn" "bearer not connected (apn internet.example)" "ベアラ"
expect "APN refused: the remedy names apn" sh -c "LC_ALL=C ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' diagnose ipsec | grep -q 'apn <the APN'"
expect "APN refused: back-off shown" mobile_has "next attempt:"

# ---- connected: shared address, tunnel up
mm refuse no >/dev/null
expect "connected: bearer up within 15 s (back-off)" lab_wait_for 15 mobile_has "connected, device wan0, 100.64.0.2/24 (shared)"
expect "connected: kizuna put the address on wan0" lab_wait_for 5 sh -c "ip -n $(lab_ns gw-a) -4 addr show dev wan0 | grep -q 100.64.0.2/24"
expect_tunnel_up "connected: tunnel up over the bearer" 20
expect "connected: config check ok" check_has "config check ok"
signal_rate() {
	dbus-send --system --print-reply=literal --dest=org.freedesktop.ModemManager1 \
		/org/freedesktop/ModemManager1/Modem/0 org.freedesktop.DBus.Properties.Get \
		string:org.freedesktop.ModemManager1.Modem.Signal string:Rate | grep -q 'uint32 10'
}
expect "connected: kizuna asked for extended signal values (Signal.Setup 10 s)" signal_rate
expect "connected: A1 names the apn and the bearer address" sh -c "LC_ALL=C ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' diagnose ipsec | grep -q 'apn internet.example, bearer address 100.64.0.2/24'"
expect "connected: show ip address has the modem line" sh -c "ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' show ip address MobileEthernet0.0 | grep -q '^Modem: .*bearer connected, apn internet.example, 100.64.0.2/24'"
expect "connected: show mobile json" sh -c "ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' show mobile json | python3 -c 'import json,sys; d=json.load(sys.stdin); b=d[\"bearer\"]; assert b[\"connected\"] and b[\"address_class\"]==\"shared\" and d[\"signal\"][\"rsrp\"]==-75.0, d'"

# ---- drop, reconnect with a new address: the tunnel comes back
spi_before=$(kz_spi b Inbound)
mm address 100.64.0.3/24 >/dev/null
mm drop >/dev/null
expect "drop: kizuna logged it" lab_wait_for 5 grep -q "the bearer dropped" "$LAB_DIR/kizunad-a.log"
expect "drop: reconnected with 100.64.0.3 within 15 s" lab_wait_for 15 mobile_has "100.64.0.3/24 (shared)"
expect "drop: the old address is gone from wan0" lab_wait_for 5 sh -c "! ip -n $(lab_ns gw-a) -4 addr show dev wan0 | grep -q 100.64.0.2/"
expect_tunnel_up "drop: tunnel back after the WAN change" 20
expect "drop: B's inbound SA is a new one" test "$(kz_spi b Inbound)" != "$spi_before"

# ---- roaming
mm roaming >/dev/null
expect "roaming: show mobile says so" lab_wait_for 5 mobile_has "roaming yes"

# ---- a new apn: the bearer is made again with it
printf 'configure terminal\ninterface MobileEthernet0.0\napn other.example\nend\n' |
	lab_exec gw-a "$KZ_BUILD/kizuna" -s "$LAB_DIR/a.sock" >/dev/null
expect "apn changed: reconnected with the new apn" lab_wait_for 10 mobile_has "Bearer: apn other.example, connected"

# ---- address classes: global and private contracts
mm address 198.51.100.2/24 >/dev/null
mm drop >/dev/null
expect "global: shown as global" lab_wait_for 15 mobile_has "198.51.100.2/24 (global)"
mm address 10.20.0.2/24 >/dev/null
mm drop >/dev/null
expect "private: shown as private" lab_wait_for 15 mobile_has "10.20.0.2/24 (private)"

# ---- method dhcp: kizuna follows the address a DHCP client sets
mm method dhcp >/dev/null
mm drop >/dev/null
expect "dhcp: reconnected, method dhcp" lab_wait_for 15 mobile_has "connected, device wan0, method dhcp"
if ng_has "connected but the device has no address"; then ok "dhcp: first [NG] 'connected but the device has no address'"; else
	nok "dhcp: first [NG] 'connected but the device has no address', got: $(kz_first_ng a)"; fi
if ng_has "デバイスにアドレスがありません" ja_JP.UTF-8; then ok "dhcp: first [NG] (ja)"; else
	nok "dhcp: first [NG] (ja), got: $(kz_first_ng a ja_JP.UTF-8)"; fi
lab_exec gw-a ip addr add "100.64.0.4/24" dev "$WAN_IF"
lab_exec gw-a ip route replace default via "$CARRIER_A"
expect_tunnel_up "dhcp: tunnel up from the DHCP address" 20
expect "dhcp: A1 names the apn and the device's address" sh -c "LC_ALL=C ip netns exec $(lab_ns gw-a) '$KZ_BUILD/kizuna' -s '$LAB_DIR/a.sock' diagnose ipsec | grep -q 'apn other.example, bearer address 100.64.0.4/24'"

# ---- shutdown disconnects the bearer
printf 'configure terminal\ninterface MobileEthernet0.0\nshutdown\nend\n' |
	lab_exec gw-a "$KZ_BUILD/kizuna" -s "$LAB_DIR/a.sock" >/dev/null
expect "shutdown: bearer disconnected" lab_wait_for 5 mobile_has "not connected"
# a clean stop: the bus is closed, and under ASan nothing leaks or breaks
kz_stop a
expect "clean stop: no sanitizer report in kizunad's log" sh -c \
	"! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$LAB_DIR/kizunad-a.log'"
if [ "$fails" -gt 0 ]; then kz_logs a; fi
check_tally mobile
