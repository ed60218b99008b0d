#!/usr/bin/env bash
# The metrics file (`metrics file PATH interval N`, docs/metrics.md),
# kizuna <-> kizuna, examples/site-*.conf behind the carrier's NAT:
#  1. gw-a's kizunad runs with only the unit's capabilities (its
#     CapabilityBoundingSet: NET_ADMIN NET_RAW NET_BIND_SERVICE, and KILL
#     SETUID SETGID SYS_CHROOT SETPCAP for the child: 0x435e0;
#     NoNewPrivileges) and umask 077, as
#     kizunad.service starts it; the tunnel comes up and carries a ping;
#  2. the file appears, mode 0644, passes `promtool check metrics`, says the
#     tunnel is up with 1 IKE SA and 2 IPsec SAs, and `show running-config`
#     has the line;
#  3. after 30 pings of 1000 bytes, once the next file is written, every
#     SA direction's packets and bytes equal those of `show ipsec sa json`,
#     at least 30 packets each way, and the workers' ESP packets add up to
#     at least the SAs';
#  4. `no metrics` removes the file, the line brings it back; a clean stop
#     removes it.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin ping:iputils-ping python3:python3 promtool:prometheus setpriv:util-linux

prom=
file_ok() { [ -s "$prom" ]; }
ping_ok() { lab_exec lan-a ping -c 1 -W 1 "$LAN_B_HOST" >/dev/null 2>&1; }
value() { # metric{labels} as written: its value
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { exit !f }' "$prom"
}
is_value() { [ "$(value "$1" 2>/dev/null)" = "$2" ]; }
newer() { [ "$(stat -c %Y.%N "$prom" 2>/dev/null)" != "$1" ]; }
stamp() { stat -c %Y.%N "$prom" 2>/dev/null || echo none; }

lab_up cgnat
prom=$LAB_DIR/metrics/kizuna.prom
mkdir -p "$LAB_DIR/metrics"
sed -e 's/device wwan0/device wan0/' "$top/examples/site-a.conf" >"$LAB_DIR/a.conf"
printf 'metrics file %s interval 1\n' "$prom" >>"$LAB_DIR/a.conf"

# gw-a as kizunad.service runs it: the unit's bounding set, no new
# privileges, umask 077.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$KZ_BUILD/kizunad.service" |
	tr '[:upper:]' '[:lower:]' | sed 's/cap_//g; s/ /,+/g')
echo "# gw-a: capabilities +$caps"
lab_bg gw-a kizunad-a sh -c "umask 077 && exec setpriv --bounding-set=-all,+$caps \
	--inh-caps=-all --no-new-privs $KZ_BUILD/kizunad -f -v -c $LAB_DIR/a.conf -s $LAB_DIR/a.sock"
kz_start b "$top/examples/site-b.conf"
lab_wait_for 10 lab_exec gw-a "$KZ_BUILD/kizuna" -s "$LAB_DIR/a.sock" show ike sa || true
pid=$(lab_pid kizunad-a)
echo "# gw-a kizunad: $(grep -E '^(CapBnd|CapEff|NoNewPrivs)' "/proc/$pid/status" | tr '\n\t' '  ')"
expect "gw-a's kizunad holds only the unit's capabilities" \
	sh -c "grep -q '^CapBnd:.*00000000000435e0\$' /proc/$pid/status && grep -q '^NoNewPrivs:.*1' /proc/$pid/status"
if lab_wait_for 20 kz_ipsec_up a && lab_wait_for 10 ping_ok; then
	ok "tunnel up under the unit's capabilities, LAN A reaches LAN B"
else
	nok "tunnel up under the unit's capabilities, LAN A reaches LAN B"
	kz_logs a b
fi

# ---- 2. the file
expect "the metrics file is written" lab_wait_for 5 file_ok
expect "mode 0644 despite umask 077" sh -c "[ \"\$(stat -c %a '$prom')\" = 644 ]"
expect "no temporary file left beside it" sh -c "[ ! -e '$prom.tmp' ]"
expect "show running-config has the metrics line" \
	sh -c "ip netns exec $NS_GW_A $KZ_BUILD/kizuna -s $LAB_DIR/a.sock show running-config | grep -qx 'metrics file $prom interval 1'"
expect "tunnel up: kizuna_tunnel_up{profile=\"HQ\"} 1" \
	lab_wait_for 5 is_value 'kizuna_tunnel_up{profile="HQ"}' 1
expect "1 IKE SA, 2 IPsec SAs" sh -c "grep -qx 'kizuna_ike_sas{profile=\"HQ\"} 1' '$prom' && grep -qx 'kizuna_ipsec_sas{profile=\"HQ\"} 2' '$prom'"

# ---- 3. traffic, then the file against show ipsec sa
lab_exec lan-a ping -c 30 -i 0.05 -s 1000 -W 1 "$LAN_B_HOST" >/dev/null 2>&1 || true
sleep 0.5
s=$(stamp)
lab_wait_for 5 newer "$s" || true
cp "$prom" "$LAB_DIR/snap.prom"
kz a show ipsec sa json >"$LAB_DIR/sa.json"
if out=$(promtool check metrics <"$LAB_DIR/snap.prom" 2>&1); then
	ok "promtool check metrics: no problem"
else
	nok "promtool check metrics: $out"
fi
sed -n '/^kizuna_tunnel\|^kizuna_ipsec_sa_\(packets\|bytes\)/p' "$LAB_DIR/snap.prom" | sed 's/^/# /'
if out=$(python3 - "$LAB_DIR/snap.prom" "$LAB_DIR/sa.json" <<'EOF'
import json, re, sys
prom, show = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
vals = {}
for line in prom.splitlines():
    m = re.match(r'(kizuna_ipsec_sa_(?:packets|bytes)_total)\{(.*)\} (\d+)$', line)
    if m:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        vals[(m.group(1), labels['spi'], labels['direction'])] = int(m.group(3))
ok, n = True, 0
for itf in show['interfaces']:
    for sa in itf['sas']:
        d = 'out' if sa['direction'] == 'outbound' else 'in'
        spi = '0x%08x' % sa['spi']
        for what in ('packets', 'bytes'):
            got = vals.get(('kizuna_ipsec_sa_%s_total' % what, spi, d))
            n += 1
            if got != sa[what]:
                ok = False
                print('%s %s %s: file %s, show %s' % (spi, d, what, got, sa[what]))
        if sa['packets'] < 30:
            ok = False
            print('%s %s: only %d packets' % (spi, d, sa['packets']))
print('%d values compared' % n)
sys.exit(0 if ok and n >= 4 and len(vals) == n else 1)
EOF
); then
	ok "packets and bytes per SA direction equal show ipsec sa ($out)"
else
	nok "packets and bytes per SA direction equal show ipsec sa: $out"
fi
workers=$(awk '/^kizuna_worker_esp_packets_total/ { s += $2 } END { print s + 0 }' "$LAB_DIR/snap.prom")
sas=$(awk '/^kizuna_ipsec_sa_packets_total/ { s += $2 } END { print s + 0 }' "$LAB_DIR/snap.prom")
expect "workers' ESP packets ($workers) cover the SAs' ($sas)" sh -c "[ $workers -ge $sas ] && [ $sas -ge 60 ]"
expect "uptime counts" sh -c "[ \"\$(awk '/^kizuna_tunnel_uptime_seconds{profile=\"HQ\"}/ { print \$2 }' '$prom')\" -ge 1 ]"

# ---- 4. off, on, stop
kz_configure a "no metrics"
expect "no metrics: the file is removed" lab_wait_for 3 sh -c "[ ! -e '$prom' ]"
kz_configure a "metrics file $prom interval 1"
expect "metrics file again: the file is back" lab_wait_for 3 file_ok
kz_stop a
expect "a clean stop removes the file" sh -c "[ ! -e '$prom' ]"
check_summary metrics
