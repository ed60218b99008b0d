#!/usr/bin/env bash
# A flood of Aggressive mode first messages and junk against kizunad as the
# Aggressive mode responder (examples/site-b.conf on gw-b), in the global lab:
#
#   gw-a (raw socket: spoofed sources 198.51.100.10-250, random ports,
#         random cookies)  ===== carrier ===== gw-b (kizunad, 203.0.113.2)
#
#  1. FLOOD_S seconds (default 15) at FLOOD_PPS datagrams/s (default 500)
#     from FLOOD_SRCS spoofed sources (default 200), half of them AM1
#     messages that pass every check before DH (right ID key-id site-a, a
#     matching proposal, a KE of the right size, the RFC 3947 VID), half
#     junk; site A (kizunad with examples/site-a.conf on gw-a's own
#     198.51.100.2) starts 2 s into it.  Checked: kizunad lives, answers
#     the console during the flood (each command within 3 s), RSS grows
#     less than 64 MB, `show ike statistics` shows drops over the half-open
#     limit (global or per source), gw-b sent no more IKE messages than it
#     got AM1s (one AM2 per AM1, no reflection gain) plus site A's
#     exchange, and site A establishes its IPsec SA pair while the flood
#     still runs (the half-open table keeps room for a newcomer: admit.c).
#  2. JUNK_S seconds (default 5) of junk only to UDP 500 and 4500 while the
#     tunnel is up (truncated headers, length fields too long and too short,
#     unknown and overlong payloads, oversized datagrams, random non-ESP
#     and ESP-looking bytes on 4500): kizunad lives, the IKE SA and the
#     IPsec SA pair are the same as before, LAN A still reaches LAN B.
# Prints the numbers (RSS, CPU, counters, setup time) it checked.
set -eu
KZ_BUILD=$(cd "${1:-build}" && pwd)
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by
# default), which would read as growth here: keep it small so RSS measures
# what kizunad really holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
kz_lab_begin python3:python3

FLOOD_S=${FLOOD_S:-15}
FLOOD_PPS=${FLOOD_PPS:-500}
FLOOD_SRCS=${FLOOD_SRCS:-200}
JUNK_S=${JUNK_S:-5}
HALF_OPEN_WAIT_S=${HALF_OPEN_WAIT_S:-90}
RSS_MAX_GROWTH_KB=$((64 * 1024))

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
stat_of() { # site "counter name": a number of `show ike statistics`
	kz "$1" show ike statistics | awk -v k="IKE messages $2:" 'index($0, k) == 1 { print $NF }'
}
now_ms() { date +%s%3N; }

# The flooder: raw IPv4/UDP with spoofed sources (no replies come back to
# it; gw-b's answers go to addresses nobody holds).
write_flooder() {
	cat >"$LAB_DIR/flood.py" <<'EOF'
import os, random, socket, struct, sys, time

dst, secs, mix = sys.argv[1], float(sys.argv[2]), sys.argv[3]
pps = int(sys.argv[4]) if len(sys.argv) > 4 else 0    # 0: as fast as it goes
nsrc = int(sys.argv[5]) if len(sys.argv) > 5 else 241  # 198.51.100.10 on
rnd = random.Random(int.from_bytes(os.urandom(8), "big"))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
dst_b = socket.inet_aton(dst)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff

def ip_udp(src, sport, dport, data):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), rnd.getrandbits(16), 0, 64,
                    17, 0, socket.inet_aton(src), dst_b)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + udp

def payload(np, body):
    return struct.pack("!BBH", np, 0, 4 + len(body)) + body

def attr_tv(t, v):
    return struct.pack("!HH", 0x8000 | t, v)

def am1():
    # RFC 2409 5.4: HDR, SA, KE, Ni, IDii (+ RFC 3947 VID); the proposal of
    # site-b.conf: aes-cbc-256, sha2-256, pre-shared key, MODP-2048
    attrs = (attr_tv(1, 7) + attr_tv(14, 256) + attr_tv(2, 4) + attr_tv(3, 1) +
             attr_tv(4, 14) + attr_tv(11, 1) + struct.pack("!HHI", 12, 4, 28800))
    tr = struct.pack("!BBH", 0, 0, 8 + len(attrs)) + struct.pack("!BBH", 1, 1, 0) + attrs
    prop = struct.pack("!BBH", 0, 0, 8 + len(tr)) + struct.pack("!BBBB", 1, 1, 0, 1) + tr
    sa = struct.pack("!II", 1, 1) + prop
    body = (payload(4, sa) + payload(10, os.urandom(256)) + payload(5, os.urandom(32)) +
            payload(13, struct.pack("!BBH", 11, 0, 0) + b"site-a") +
            payload(0, bytes.fromhex("4a131c81070358455c5728f20e95452f")))
    hdr = os.urandom(8) + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 4, 0, 0,
                                                 28 + len(body))
    return hdr + body

def junk():
    k = rnd.randrange(9)
    ck = os.urandom(8)
    if k == 0:   # truncated header
        return os.urandom(rnd.randrange(1, 28))
    if k == 1:   # length field longer than the datagram
        return ck + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 4, 0, 0, 60000) + os.urandom(40)
    if k == 2:   # length field shorter than a header
        return ck + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 2, 0, 0, 5) + os.urandom(40)
    if k == 3:   # unknown payload type, then a chain running off the end
        b = struct.pack("!BBH", 200, 0, 8) + os.urandom(4) + struct.pack("!BBH", 1, 0, 900)
        return ck + bytes(8) + struct.pack("!BBBBII", 200, 0x10, 4, 0, 0, 28 + len(b)) + b
    if k == 4:   # payload length 0 (would loop) and below the generic header
        b = struct.pack("!BBH", 5, 0, 0) + struct.pack("!BBH", 0, 0, 2)
        return ck + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 2, 0, 0, 28 + len(b)) + b
    if k == 5:   # oversized datagram, plausible header
        b = os.urandom(rnd.randrange(2000, 9000))
        return ck + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 4, 0, 0, 28 + len(b)) + b
    if k == 6:   # "encrypted" first message, bad version, huge message ID
        return ck + os.urandom(8) + struct.pack("!BBBBII", 8, 0x20, 32, 1, 0xffffffff, 76) + \
            os.urandom(48)
    if k == 7:   # a valid AM1 cut in the middle of the KE payload
        return am1()[:rnd.randrange(40, 300)]
    return os.urandom(rnd.randrange(1, 1500))

sent = am1s = 0
start = time.time()
end = start + secs
while time.time() < end:
    if pps:
        ahead = start + sent / pps - time.time()
        if ahead > 0:
            time.sleep(ahead)
    for _ in range(8 if pps else 64):
        src = "198.51.100.%d" % (10 + rnd.randrange(nsrc))
        sport = rnd.randrange(1024, 65535)
        if mix == "am1" and rnd.random() < (0.5 if pps else 0.6):
            d, dport = am1(), 500
            am1s += 1
        else:
            d = junk()
            dport = rnd.choice((500, 4500))
            if dport == 4500 and rnd.random() < 0.6:
                d = bytes(4) + d  # non-ESP marker: IKE on 4500
        try:
            s.sendto(ip_udp(src, sport, dport, d), (dst, 0))
            sent += 1
        except OSError:
            pass
print("sent %d datagrams (%d AM1) in %.1f s" % (sent, am1s, secs))
EOF
}

lab_up global
write_flooder
kz_start b "$top/examples/site-b.conf"
pid_b=$(kz_pid b)
rss0=$(kz_rss_kb "$pid_b")
cpu0=$(cpu_ticks "$pid_b")
hz=$(getconf CLK_TCK)

# ---- 1: AM1 flood with junk; site A starts during it
t0=$(now_ms)
lab_bg gw-a flood python3 "$LAB_DIR/flood.py" "$GW_B_WAN" "$FLOOD_S" am1 "$FLOOD_PPS" \
	"$FLOOD_SRCS"
sleep 2
kz_start a "$top/examples/site-a.conf"
max_ms=0 console_fail=0 t_up_flood=
while lab_alive flood; do
	if [ -z "$t_up_flood" ] && kz_ipsec_up a; then
		t_up_flood=$(now_ms)
	fi
	c0=$(now_ms)
	if ! timeout 3 ip netns exec "$NS_GW_B" "$KZ_BUILD/kizuna" -s "$LAB_DIR/b.sock" \
		show ike statistics >/dev/null 2>&1; then
		console_fail=$((console_fail + 1))
	fi
	c1=$(now_ms)
	[ $((c1 - c0)) -le "$max_ms" ] || max_ms=$((c1 - c0))
	sleep 0.5
done
t_flood_end=$(now_ms)
cat "$LAB_DIR/flood.log"
if [ -n "$t_up_flood" ]; then
	ok "site A established during the flood ($(((t_up_flood - t0) / 1000)) s after the flood began, A started at 2 s)"
else
	nok "site A established during the flood"
fi
expect "flood: kizunad on gw-b still runs" lab_alive kizunad-b
expect "flood: the console answered every command within 3 s (slowest ${max_ms} ms)" \
	test "$console_fail" -eq 0
rss1=$(kz_rss_kb "$pid_b")
cpu1=$(cpu_ticks "$pid_b")
echo "kizunad RSS: ${rss0} kB before, ${rss1} kB after the flood (+$((rss1 - rss0)) kB)"
echo "kizunad CPU during the flood: $(awk -v c=$((cpu1 - cpu0)) -v hz="$hz" \
	-v ms=$((t_flood_end - t0)) 'BEGIN { printf "%.2f s in %.1f s (%.0f%% of one core)", c / hz, ms / 1000, 100 * c / hz / (ms / 1000) }')"
expect "flood: RSS grew less than 64 MB" test $((rss1 - rss0)) -lt "$RSS_MAX_GROWTH_KB"
kz b show ike statistics | sed 's/^/  /'
half=$(stat_of b "dropped over the half-open limit")
# one AM2 per AM1 at most: whatever gw-b sent is bounded by the AM1s it got
# plus site A's exchange (AM2, QM2, DPD and the like: 50 is plenty)
am1s=$(sed -n 's/.*(\([0-9]*\) AM1).*/\1/p' "$LAB_DIR/flood.log")
tx=$(stat_of b "sent")
expect "flood: gw-b sent ${tx:-?} IKE messages for ${am1s:-?} AM1s (no more than one each)" \
	test "${tx:-999999}" -le $((${am1s:-0} + 50))
expect "flood: first messages dropped over the half-open limit ($half)" test "${half:-0}" -gt 0
# DH leaves the event loop: the flood's AM1s that got a slot ran theirs on
# the worker pool (the console stayed responsive meanwhile, checked above)
dhp=$(stat_of b "handled with DH on the worker pool")
expect "flood: DH ran on the worker pool ($dhp)" test "${dhp:-0}" -gt 0
# the half-open SAs: AM2 sent, no AM3
halfopen=$(kz b show ike sa | grep -c '^IKE PH1' || true)
echo "IKE SAs listed on gw-b after the flood: $halfopen"
if lab_wait_for "$HALF_OPEN_WAIT_S" kz_ipsec_up a; then
	t_up=$(now_ms)
	ok "site A established after the flood began ($(((t_up - t0) / 1000)) s after its start," \
		"$(((t_up - t_flood_end) / 1000)) s after its end)"
else
	nok "site A established within ${HALF_OPEN_WAIT_S} s of the flood's start"
	kz_logs a b
fi

# ---- 2: junk only, tunnel up
if kz_ipsec_up a; then
	spi_a=$(kz_spi a Outbound)
	ike_before=$(kz a show ike sa | grep -A3 '^IKE PH1 established' | head -4)
	rss2=$(kz_rss_kb "$pid_b")
	lab_bg gw-a junk python3 "$LAB_DIR/flood.py" "$GW_B_WAN" "$JUNK_S" junk
	while lab_alive junk; do sleep 0.5; done
	cat "$LAB_DIR/junk.log"
	rss3=$(kz_rss_kb "$pid_b")
	echo "kizunad RSS: ${rss2} kB before, ${rss3} kB after the junk (+$((rss3 - rss2)) kB)"
	kz b show ike statistics | sed 's/^/  /'
	expect "junk: kizunad on gw-b still runs" lab_alive kizunad-b
	expect "junk: the console answers" sh -c "ip netns exec $NS_GW_B $KZ_BUILD/kizuna -s $LAB_DIR/b.sock show ike sa >/dev/null"
	expect "junk: RSS grew less than 64 MB" test $((rss3 - rss2)) -lt "$RSS_MAX_GROWTH_KB"
	expect "junk: site A's IPsec SA pair is the same (spi $spi_a)" \
		test "$(kz_spi a Outbound)" = "$spi_a"
	expect "junk: site B's IPsec SA pair is up" kz_ipsec_up b
	expect "junk: site A's IKE SA is the same" \
		test "$(kz a show ike sa | grep -A3 '^IKE PH1 established' | head -4)" = "$ike_before"
	expect "junk: LAN A reaches LAN B through the tunnel" \
		lab_exec lan-a ping -c 3 -i 0.2 -W 2 "$LAN_B_HOST"
else
	nok "junk: no tunnel to test with"
fi

check_summary ike-flood
