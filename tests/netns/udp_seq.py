#!/usr/bin/env python3
"""udp_seq.py - a paced UDP stream with sequence numbers, for the rekey
tests.

`send HOST PORT RATE SECONDS` sends RATE packets/s for SECONDS: each packet
holds an 8-byte sequence number and the 8-byte send time (wall clock, ns),
padded to 200 bytes of UDP payload.  A sender that falls behind (a busy
machine) catches up at once, so the average rate holds.

`recv PORT SECONDS [GAP_MS]` counts what arrives until SECONDS of total
time or 3 s of silence after the first packet, then prints
    received N unique U duplicates D lost L max_gap_ms G late_ms S
where lost = (highest sequence + 1) - unique, G is the longest time between
two arrivals and S the longest a packet took from its send to its arrival
(both ends read the machine's one clock).  Then, so that a test
can tell a loss at a rekey from congestion elsewhere:
    lost FIRST COUNT AT      each run of missing sequence numbers, AT the
                             send time of the first packet that came
                             after it (in sequence)
    gap MS AT                each silence of at least GAP_MS (default 50)
                             between two arrivals, AT the first arrival
                             before it
Times are seconds since local midnight, as in kizunad's log lines."""
import socket
import struct
import sys
import time

PAYLOAD = 200
LAST = 0xFFFFFFFF00000000


def tod(wall):
    """Seconds since local midnight of a time.time() value."""
    t = time.localtime(wall)
    return t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec + (wall % 1.0)


def send(host, port, rate, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = int(rate * seconds)
    t0 = time.monotonic()
    pad = b"\0" * (PAYLOAD - 16)
    for i in range(n):
        due = t0 + i / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        try:
            s.sendto(struct.pack("!QQ", i, time.time_ns()) + pad, (host, port))
        except OSError:
            pass  # no SA for a moment: counted as lost by the receiver
    # the last sequence number, repeated, so the receiver knows the total
    for _ in range(5):
        try:
            s.sendto(struct.pack("!QQ", LAST | (n - 1), 0), (host, port))
        except OSError:
            pass
        time.sleep(0.05)


def recv(port, seconds, gap_ms):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.5)
    seen = set()
    sent_at = {}  # sequence -> send time, for the packets before a hole
    holes = []  # (first missing, packet before it) as they appear
    gaps = []
    dup = 0
    total = None
    last = None
    first = None
    expect = 0
    prev_sent = None
    max_gap = 0.0
    late = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            if first is not None and time.monotonic() - last > 3 and total is not None:
                break
            continue
        now = time.monotonic()
        wall = time.time()
        v, ns = struct.unpack("!QQ", data[:16])
        if v >> 32 == 0xFFFFFFFF:
            total = (v & 0xFFFFFFFF) + 1
            continue
        sent = ns / 1e9
        late = max(late, wall - sent)
        if first is None:
            first = now
        if last is not None:
            g = now - last
            max_gap = max(max_gap, g)
            if g * 1000 >= gap_ms:
                gaps.append((g, prev_sent))
        last = now
        prev_sent = sent
        if v in seen:
            dup += 1
            continue
        seen.add(v)
        if v > expect:
            holes.append((expect, v))
            sent_at[expect] = sent
        if v >= expect:
            expect = v + 1
    hi = total if total is not None else (max(seen) + 1 if seen else 0)
    print("received %d unique %d duplicates %d lost %d max_gap_ms %d late_ms %d" %
          (len(seen) + dup, len(seen), dup, hi - len(seen), int(max_gap * 1000),
           int(late * 1000)))
    if total is not None and expect < total:
        holes.append((expect, total))
        sent_at[expect] = prev_sent or 0.0
    # a hole may have been filled later by packets that came out of order:
    # report the runs still missing
    for a, b in holes:
        i = a
        while i < b:
            if i in seen:
                i += 1
                continue
            j = i
            while j < b and j not in seen:
                j += 1
            print("lost %d %d %.3f" % (i, j - i, tod(sent_at.get(a, 0.0))))
            i = j
    for g, at in gaps:
        print("gap %d %.3f" % (int(g * 1000), tod(at)))
    sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        recv(int(sys.argv[2]), float(sys.argv[3]),
             float(sys.argv[4]) if len(sys.argv) > 4 else 50.0)
