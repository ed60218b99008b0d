#!/usr/bin/env python3
"""Sends hostile console traffic straight to kizunad's socket (no client
checks in between): binary junk lines, a 60 KB line, unknown keywords,
over-long names, out-of-range numbers, a malformed frame and an absurd frame
length.  Prints one line per case; exits 1 if the daemon misbehaved."""
import random
import socket
import struct
import sys

path = sys.argv[1]
random.seed(7)
EXEC, HELLO = 2, 1


def frame(t, payload):
    return struct.pack(">IB", len(payload) + 1, t) + payload


def recv_frame(s):
    hdr = b""
    while len(hdr) < 4:
        chunk = s.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    (n,) = struct.unpack(">I", hdr)
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    status = body[0]
    plen = struct.unpack(">H", body[1:3])[0]
    return status, body[3 + plen:].decode(errors="replace")


def session():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(frame(HELLO, b"lang=en"))
    recv_frame(s)
    return s


def run(s, line):
    s.sendall(frame(EXEC, line))
    return recv_frame(s)


bad = 0
s = session()
OK, ERR = 0, 1
cases = [
    ("binary junk", bytes(random.choice([x for x in range(1, 256) if x not in (10, 13)])
                          for _ in range(200)), ERR),
    ("60 KB line", b"a" * 60000, ERR),
    ("unknown keyword", b"frobnicate the widget", ERR),
    ("config mode", b"configure terminal", OK),
    ("over-long name", b"ike proposal " + b"N" * 200, ERR),
    ("number out of range", b"interface IPsec99999", ERR),
    ("back to exec", b"end", OK),
]
for name, line, want in cases:
    r = run(s, line)
    if r is None:
        print(f"FAIL {name}: connection dropped")
        bad += 1
        s = session()
        continue
    status, out = r
    last = out.strip().splitlines()[-1][:90] if out.strip() else "(no output)"
    if status != want:
        print(f"FAIL {name}: status {status}: {last!r}")
        bad += 1
    else:
        print(f"ok {name}: {last}")

# protocol abuse: the connection is dropped, the daemon stays
for name, raw in [("NUL in a line", frame(EXEC, b"show\x00ike sa")),
                  ("unknown request type", frame(9, b"x")),
                  ("absurd frame length", struct.pack(">I", 0x7fffffff) + b"\x02abc")]:
    s = session()
    s.sendall(raw)
    try:
        r = recv_frame(s)
    except (ConnectionResetError, socket.timeout):
        r = None
    print(f"ok {name}: {'dropped' if r is None else 'answered with status %d' % r[0]}")
    s.close()

s = session()
r = run(s, b"show ike sa")
if r is None or r[0] != 0:
    print("FAIL daemon does not answer after the abuse")
    bad += 1
else:
    print("ok daemon still answers")
sys.exit(1 if bad else 0)
