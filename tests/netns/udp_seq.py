#!/usr/bin/env python3
"""udp_seq.py - a paced UDP stream with sequence numbers, for the rekey
tests: `send HOST PORT RATE SECONDS` sends RATE packets/s (8-byte sequence
numbers, padded to 200 bytes) for SECONDS; `recv PORT SECONDS` counts what
arrives until SECONDS of total time or 3 s of silence after the first
packet, then prints `received N unique U duplicates D lost L max_gap_ms G`
where lost = (highest sequence + 1) - unique."""
import socket
import struct
import sys
import time


def send(host, port, rate, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = int(rate * seconds)
    t0 = time.monotonic()
    pad = b"\0" * 192
    for i in range(n):
        due = t0 + i / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        try:
            s.sendto(struct.pack("!Q", i) + pad, (host, port))
        except OSError:
            pass  # no SA for a moment: counted as lost by the receiver
    # the last sequence number, repeated, so the receiver knows the total
    for _ in range(5):
        try:
            s.sendto(struct.pack("!Q", 0xFFFFFFFF00000000 | (n - 1)), (host, port))
        except OSError:
            pass
        time.sleep(0.05)


def recv(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.5)
    seen = set()
    dup = 0
    total = None
    last = None
    first = None
    max_gap = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            if first is not None and time.monotonic() - last > 3 and total is not None:
                break
            continue
        now = time.monotonic()
        (v,) = struct.unpack("!Q", data[:8])
        if v >> 32 == 0xFFFFFFFF:
            total = (v & 0xFFFFFFFF) + 1
            continue
        if first is None:
            first = now
        if last is not None:
            max_gap = max(max_gap, now - last)
        last = now
        if v in seen:
            dup += 1
        else:
            seen.add(v)
    hi = total if total is not None else (max(seen) + 1 if seen else 0)
    print("received %d unique %d duplicates %d lost %d max_gap_ms %d" %
          (len(seen) + dup, len(seen), dup, hi - len(seen), int(max_gap * 1000)))
    sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        recv(int(sys.argv[2]), float(sys.argv[3]))
