#!/usr/bin/env python3
"""esp_inject.py - packet tools for the data-plane namespace tests.

Run inside a lab namespace (ip netns exec ...).  Subcommands:

  esp DST SPI SEQ LEN [--udp PORT] [--count N]
        send N ESP packets: SPI and sequence number (hex or decimal), then
        LEN random bytes (no valid IV/ICV), as IP protocol 50 through a raw
        socket or, with --udp, as the payload of a UDP datagram to PORT
        (ESP-in-UDP, RFC 3948) from an ephemeral port.
  raw DST HEX [--udp PORT]
        send exactly the given bytes as the ESP payload (proto 50 or UDP).
  replay PCAP DST SPI [--udp PORT] [--nth K] [--count N]
        find the K-th (default: last) ESP packet with SPI in a pcap file
        (Ethernet link type, as dumpcap writes on a veth), plain or
        ESP-in-UDP, and send its ESP part verbatim, N times.
  maxseq PCAP SPI
        print the highest sequence number seen with SPI in a pcap file.
  tcp-sink PORT OUT
        accept one TCP connection, read to EOF, write "<bytes> <sha256>"
        to OUT.
  tcp-send HOST PORT FILE
        connect and send FILE.
  sa-packets in|out
        read `show ipsec sa json` on stdin, print the sum of the packet
        counters of all inbound or outbound SAs.
  stat KEY | stat drop:REASON
        read `show ipsec statistics json` on stdin, print a global counter,
        or the sum over all inbound SAs of the drops for REASON.
  worker N KEY
        read `show ipsec statistics json` on stdin, print data-plane worker
        N's counter KEY (packets_in, packets_out, no_sa).

Exit status 0 on success, 1 on error (message on stderr).
"""
import hashlib
import json
import os
import socket
import struct
import sys


def num(s):
    return int(s, 0)


def send_esp(dst, payload, udp_port, count=1):
    if udp_port:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(count):
            s.sendto(payload, (dst, udp_port))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
        for _ in range(count):
            s.sendto(payload, (dst, 0))
    s.close()


def opt(args, name, default=None, conv=num):
    if name in args:
        i = args.index(name)
        v = conv(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def pcap_esp(path):
    """Yield (spi, seq, esp_bytes, is_udp) for each ESP packet in a pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("not a pcap file (pcapng? use dumpcap -P)")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
                continue
            ip = pkt[14:]
        elif linktype in (101, 12):
            ip = pkt
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        ip = ip[:tot]
        proto = ip[9]
        body = ip[ihl:]
        udp = False
        if proto == 17:
            if len(body) < 8:
                continue
            ports = struct.unpack(">HH", body[:4])
            if 4500 not in ports:
                continue
            body = body[8:struct.unpack(">H", body[4:6])[0]]
            udp = True
        elif proto != 50:
            continue
        if len(body) < 8:
            continue
        spi, seq = struct.unpack(">II", body[:8])
        if spi == 0:
            continue  # non-ESP marker: IKE
        yield spi, seq, body, udp


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 1
    cmd, args = argv[0], list(argv[1:])
    udp_port = opt(args, "--udp", 0)
    count = opt(args, "--count", 1)
    nth = opt(args, "--nth", -1)
    if cmd == "esp" and len(args) == 4:
        dst, spi, seq, length = args[0], num(args[1]), num(args[2]), num(args[3])
        for _ in range(count):
            send_esp(dst, struct.pack(">II", spi, seq) + os.urandom(length), udp_port)
        return 0
    if cmd == "raw" and len(args) == 2:
        send_esp(args[0], bytes.fromhex(args[1]), udp_port, count)
        return 0
    if cmd == "replay" and len(args) == 3:
        path, dst, spi = args[0], args[1], num(args[2])
        found = [p for p in pcap_esp(path) if p[0] == spi]
        if not found:
            print("no ESP packet with spi 0x%08x in %s" % (spi, path), file=sys.stderr)
            return 1
        pkt = found[nth]
        send_esp(dst, pkt[2], udp_port, count)
        print("%d" % pkt[1])
        return 0
    if cmd == "maxseq" and len(args) == 2:
        seqs = [p[1] for p in pcap_esp(args[0]) if p[0] == num(args[1])]
        print(max(seqs) if seqs else 0)
        return 0
    if cmd == "tcp-sink" and len(args) == 2:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("0.0.0.0", num(args[0])))
        srv.listen(1)
        srv.settimeout(60)
        c, _ = srv.accept()
        c.settimeout(60)
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
        c.close()
        with open(args[1] + ".tmp", "w") as f:
            f.write("%d %s\n" % (n, h.hexdigest()))
        os.rename(args[1] + ".tmp", args[1])
        return 0
    if cmd == "tcp-send" and len(args) == 3:
        c = socket.create_connection((args[0], num(args[1])), timeout=60)
        with open(args[2], "rb") as f:
            while True:
                b = f.read(1 << 16)
                if not b:
                    break
                c.sendall(b)
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
        c.close()
        return 0
    if cmd == "sa-packets" and len(args) == 1:
        want = {"in": "inbound", "out": "outbound"}[args[0]]
        doc = json.load(sys.stdin)
        print(sum(sa.get("packets", 0) for i in doc.get("interfaces", [])
                  for sa in i.get("sas", []) if sa.get("direction") == want))
        return 0
    if cmd == "stat" and len(args) == 1:
        doc = json.load(sys.stdin)
        if args[0].startswith("drop:"):
            why = args[0][5:]
            print(sum(sa.get("drops", {}).get(why, 0) for sa in doc.get("sas", [])))
        else:
            print(doc[args[0]])
        return 0
    if cmd == "worker" and len(args) == 2:
        doc = json.load(sys.stdin)
        ws = [w for w in doc.get("workers", []) if w.get("worker") == num(args[0])]
        if not ws:
            print("no worker %s" % args[0], file=sys.stderr)
            return 1
        print(ws[0][args[1]])
        return 0
    print(__doc__, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
