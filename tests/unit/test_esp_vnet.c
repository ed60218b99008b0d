/* test_esp_vnet.c - the virtio-net header parser and the userspace TCP/UDP
 * segmenter (src/esp/vnet.c): every segment must be the packet the
 * kernel's own GSO would have sent, checked against a byte-by-byte
 * RFC 1071 checksum written independently here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "esp/vnet.h"
#include "lib/err.h"

#include "esp_fixture.h"

/* RFC 1071, the slow way: 16-bit big-endian words. */
#define ref_sum esp_fixture_sum
#define ref_fold esp_fixture_fold

/* vnet_parse() accepts the frame as kind, cut into nseg segments (a macro:
 * a failure names the caller's line). */
#define assert_parsed(buf, n, pp, k, ns)                           \
	do {                                                       \
		assert_int_equal(vnet_parse((buf), (n), (pp)), 0); \
		assert_int_equal((pp)->kind, (k));                 \
		assert_int_equal((pp)->nseg, (ns));                \
	} while (0)

static void put_ref_csum(uint8_t *at, uint32_t sum)
{
	uint16_t v = (uint16_t)~ref_fold(sum);

	at[0] = (uint8_t)(v >> 8);
	at[1] = (uint8_t)v;
}

/* A packet whose checksums are right sums to 0xffff. */
static void assert_ip_ok(const uint8_t *p, size_t len)
{
	size_t ihl = (size_t)(p[0] & 0x0f) * 4, l4len = len - ihl;
	uint8_t pseudo[4] = { 0, p[9], (uint8_t)(l4len >> 8), (uint8_t)l4len };
	uint32_t s;

	assert_int_equal(p[0] >> 4, 4);
	assert_int_equal(p[2] << 8 | p[3], len);
	assert_int_equal(ref_fold(ref_sum(0, p, ihl)), 0xffff);
	s = ref_sum(0, p + 12, 8);
	s = ref_sum(s, pseudo, 4);
	s = ref_sum(s, p + ihl, l4len);
	assert_int_equal(ref_fold(s), 0xffff);
}

static size_t put_vnet(uint8_t *f, uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
		       uint16_t cstart, uint16_t coff)
{
	uint16_t v[4] = { hdr_len, gso_size, cstart, coff };

	f[0] = flags;
	f[1] = gso;
	memcpy(f + 2, v, sizeof(v)); /* host order, as TUN uses it */
	return VNET_HDR_LEN;
}

/* IPv4 (with options when ihl > 20) + TCP header (doff bytes) + payload
 * 0, 1, 2, ...; checksum fields hold junk the segmenter must replace. */
static size_t put_tcp(uint8_t *p, size_t ihl, size_t doff, size_t payload, uint8_t flags)
{
	size_t len = ihl + doff + payload;

	memset(p, 0, ihl + doff);
	p[0] = (uint8_t)(0x40 | ihl / 4);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[4] = 0x12;
	p[5] = 0x34; /* id */
	p[6] = 0x40; /* DF */
	p[8] = 64;
	p[9] = 6;
	p[10] = 0xde;
	p[11] = 0xad;
	memcpy(p + 12, "\xc0\xa8\x01\x0a\xc0\xa8\x02\x0a", 8);
	for (size_t i = 20; i < ihl; i++)
		p[i] = 1; /* NOP options */
	p[ihl + 0] = 0x9c;
	p[ihl + 1] = 0x40;
	p[ihl + 2] = 0x14;
	p[ihl + 3] = 0x51;
	memcpy(p + ihl + 4, "\xff\xff\xff\xf0", 4); /* seq: wraps in segment 1 */
	memcpy(p + ihl + 8, "\x00\x00\x10\x00", 4);
	p[ihl + 12] = (uint8_t)(doff / 4 << 4);
	p[ihl + 13] = flags;
	p[ihl + 16] = 0xbe;
	p[ihl + 17] = 0xef;
	for (size_t i = 20; i < doff; i++)
		p[ihl + i] = 1;
	for (size_t i = 0; i < payload; i++)
		p[ihl + doff + i] = (uint8_t)(i * 7 + 3);
	return len;
}

static uint8_t frame[70000], seg[70000];

static void test_tcp_segments(void **state)
{
	const size_t ihl = 24, doff = 32, payload = 3000, mss = 1000 + 7;
	size_t n = put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4 | VNET_GSO_ECN, 56, mss,
			    (uint16_t)ihl, 16);
	struct vnet_pkt p;
	size_t off = 0;

	/* FIN, PSH, CWR and ACK on the super-packet. */
	n += put_tcp(frame + n, ihl, doff, payload, 0x01 | 0x08 | 0x80 | 0x10);
	assert_parsed(frame, n, &p, VNET_TCP, 3);
	assert_int_equal(p.hlen, ihl + doff);
	for (size_t i = 0; i < p.nseg; i++) {
		size_t len = 0, plen = payload - off < mss ? payload - off : mss;
		uint32_t seq;

		assert_int_equal(vnet_seg_len(&p, i), ihl + doff + plen);
		assert_int_equal(vnet_segment(&p, i, seg, sizeof(seg), &len), 0);
		assert_int_equal(len, ihl + doff + plen);
		assert_ip_ok(seg, len);
		assert_int_equal(seg[4] << 8 | seg[5], 0x1234 + i);
		seq = (uint32_t)seg[ihl + 4] << 24 | (uint32_t)seg[ihl + 5] << 16 |
			(uint32_t)seg[ihl + 6] << 8 | seg[ihl + 7];
		assert_int_equal(seq, (uint32_t)(0xfffffff0u + off));
		/* ACK everywhere, CWR first only, FIN and PSH last only. */
		assert_int_equal(seg[ihl + 13],
				 0x10 | (i == 0 ? 0x80 : 0) | (i == p.nseg - 1 ? 0x09 : 0));
		/* The options of both headers come along. */
		assert_memory_equal(seg + 20, frame + VNET_HDR_LEN + 20, 4);
		assert_memory_equal(seg + ihl + 20, frame + VNET_HDR_LEN + ihl + 20, doff - 20);
		assert_memory_equal(seg + ihl + doff, frame + VNET_HDR_LEN + ihl + doff + off,
				    plen);
		off += plen;
	}
	assert_int_equal(off, payload);
	assert_int_equal(vnet_seg_len(&p, 3), 0);
	assert_int_equal(vnet_segment(&p, 3, seg, sizeof(seg), &off), KZ_EINVAL);
	assert_int_equal(vnet_segment(&p, 0, seg, ihl + doff + mss - 1, &off), KZ_ENOSPC);
}

static void test_udp_segments(void **state)
{
	size_t n = put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_UDP_L4, 28, 500, 20, 6);
	uint8_t *ip = frame + n;
	struct vnet_pkt p;
	size_t len;

	/* A UDP header, then 1201 payload bytes: 500 + 500 + 201. */
	n += put_tcp(ip, 20, 20, 1201 - 12, 0);
	ip[9] = 17;
	assert_parsed(frame, n, &p, VNET_UDP, 3);
	assert_int_equal(p.hlen, 28);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(vnet_segment(&p, i, seg, sizeof(seg), &len), 0);
		assert_int_equal(len, 28 + (i < 2 ? 500 : 201));
		assert_ip_ok(seg, len);
		assert_int_equal(seg[24] << 8 | seg[25], len - 20); /* UDP length */
		assert_true(seg[26] || seg[27]);                    /* never "no checksum" */
	}
}

/* No GSO, the UDP checksum left partial: the field holds the pseudo-header
 * sum (as the kernel leaves it), the segmenter adds the rest. */
static void test_plain_partial(void **state)
{
	size_t n = put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 6);
	uint8_t *ip = frame + n;
	uint8_t pseudo[4] = { 0, 17, 0, 8 + 37 };
	struct vnet_pkt p;
	size_t len;
	uint16_t ps;

	n += put_tcp(ip, 20, 20, 37 - 12, 0);
	ip[9] = 17;
	ip[24] = 0;
	ip[25] = 8 + 37;
	ps = ref_fold(ref_sum(ref_sum(0, ip + 12, 8), pseudo, 4));
	ip[26] = (uint8_t)(ps >> 8);
	ip[27] = (uint8_t)ps;
	ip[10] = ip[11] = 0;
	ps = (uint16_t)~ref_fold(ref_sum(0, ip, 20));
	ip[10] = (uint8_t)(ps >> 8);
	ip[11] = (uint8_t)ps;
	assert_parsed(frame, n, &p, VNET_PLAIN, 1);
	assert_true(p.csum);
	assert_int_equal(vnet_segment(&p, 0, seg, sizeof(seg), &len), 0);
	assert_int_equal(len, n - VNET_HDR_LEN);
	assert_ip_ok(seg, len);

	/* Without NEEDS_CSUM the packet passes untouched. */
	frame[0] = 0;
	assert_int_equal(vnet_parse(frame, n, &p), 0);
	assert_false(p.csum);
	assert_int_equal(vnet_segment(&p, 0, seg, sizeof(seg), &len), 0);
	assert_memory_equal(seg, frame + VNET_HDR_LEN, len);
}

static void test_bad(void **state)
{
	struct vnet_pkt p;
	size_t n;

	assert_int_equal(vnet_parse(frame, 9, &p), KZ_ETRUNC);
	memset(frame, 0, VNET_HDR_LEN);
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN, &p), KZ_ETRUNC); /* no packet */
	assert_int_equal(vnet_parse(NULL, 0, &p), KZ_ETRUNC);
	/* Partial checksum field past the end. */
	n = put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 20, 16);
	memset(frame + n, 0, 37);
	assert_int_equal(vnet_parse(frame, n + 37, &p), KZ_EPROTO);
	assert_int_equal(vnet_parse(frame, n + 38, &p), 0);
	put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 0, 0, 1);
	assert_int_equal(vnet_parse(frame, n + 38, &p), KZ_EPROTO);
	/* GSO types not asked for: IPv6 TCP, UFO. */
	put_vnet(frame, 0, 4, 0, 1000, 0, 0);
	assert_int_equal(vnet_parse(frame, n + 100, &p), KZ_ENOTSUP);
	put_vnet(frame, 0, 3, 0, 1000, 0, 0);
	assert_int_equal(vnet_parse(frame, n + 100, &p), KZ_ENOTSUP);

	n = put_vnet(frame, 0, VNET_GSO_TCPV4, 0, 1000, 0, 0);
	n += put_tcp(frame + n, 20, 20, 2000, 0x10);
	assert_int_equal(vnet_parse(frame, n, &p), 0);
	/* Not TCP. */
	frame[VNET_HDR_LEN + 9] = 17;
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	frame[VNET_HDR_LEN + 9] = 6;
	/* A fragment. */
	frame[VNET_HDR_LEN + 6] = 0x20;
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	frame[VNET_HDR_LEN + 6] = 0x40;
	frame[VNET_HDR_LEN + 7] = 0x01;
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	frame[VNET_HDR_LEN + 7] = 0;
	/* IPv6 in an IPv4 GSO frame; an IHL below 5. */
	frame[VNET_HDR_LEN] = 0x65;
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	frame[VNET_HDR_LEN] = 0x44;
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	frame[VNET_HDR_LEN] = 0x45;
	/* TCP data offset below 5 words, or past the end. */
	frame[VNET_HDR_LEN + 32] = 0x40;
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	frame[VNET_HDR_LEN + 32] = 0xf0;
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN + 20 + 59, &p), KZ_ETRUNC);
	frame[VNET_HDR_LEN + 32] = 0x50;
	/* Headers only, or gso_size 0. */
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN + 40, &p), KZ_EPROTO);
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN + 39, &p), KZ_ETRUNC);
	put_vnet(frame, 0, VNET_GSO_TCPV4, 0, 0, 0, 0);
	assert_int_equal(vnet_parse(frame, n, &p), KZ_EPROTO);
	/* Longer than an IPv4 packet can be. */
	put_vnet(frame, 0, VNET_GSO_TCPV4, 0, 1000, 0, 0);
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN + 65536, &p), KZ_EPROTO);
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN + 65535, &p), 0);
	put_vnet(frame, 0, VNET_GSO_NONE, 0, 0, 0, 0);
	assert_int_equal(vnet_parse(frame, VNET_HDR_LEN + 65536, &p), KZ_EPROTO);
}

static uint8_t gbuf[VNET_GRO_BUF];

/* Segments of one super-packet, joined again: one GSO frame that cuts
 * into exactly the same segments. */
static void test_gro_roundtrip(void **state)
{
	static uint8_t segs[8][2000];
	size_t slen[8], n, len;
	struct vnet_gro g = { .buf = gbuf };
	struct vnet_pkt p, q;

	n = put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 52, 1000, 20, 16);
	n += put_tcp(frame + n, 20, 32, 4500, 0x18); /* ACK | PSH */
	assert_int_equal(vnet_parse(frame, n, &p), 0);
	assert_int_equal(p.nseg, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(vnet_segment(&p, i, segs[i], sizeof(segs[i]), &slen[i]), 0);
		assert_int_equal(vnet_gro_add(&g, segs[i], slen[i]), 1);
		/* The short last segment (with PSH) closes it. */
		assert_int_equal(g.closed, i == 4);
	}
	assert_int_equal(g.count, 5);
	n = vnet_gro_finish(&g);
	assert_int_equal(g.len, 0);
	assert_int_equal(n, VNET_HDR_LEN + 52 + 4500);
	assert_int_equal(gbuf[0], VNET_F_NEEDS_CSUM);
	assert_int_equal(gbuf[1], VNET_GSO_TCPV4);
	assert_parsed(gbuf, n, &q, VNET_TCP, 5);
	assert_int_equal(q.gso_size, 1000);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(vnet_segment(&q, i, seg, sizeof(seg), &len), 0);
		assert_int_equal(len, slen[i]);
		assert_memory_equal(seg, segs[i], len);
	}
	assert_int_equal(vnet_gro_finish(&g), 0);
}

/* What must not be joined, and a lone segment written as it came. */
static void test_gro_refuse(void **state)
{
	static uint8_t a[2000], b[2000];
	size_t la, lb, n;
	struct vnet_gro g = { .buf = gbuf };
	struct vnet_pkt p;

	n = put_vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 40, 1000, 20, 16);
	n += put_tcp(frame + n, 20, 20, 3000, 0x10);
	assert_int_equal(vnet_parse(frame, n, &p), 0);
	assert_int_equal(vnet_segment(&p, 0, a, sizeof(a), &la), 0);
	assert_int_equal(vnet_segment(&p, 2, b, sizeof(b), &lb), 0);
	/* A gap in the sequence (segment 1 missing). */
	assert_int_equal(vnet_gro_add(&g, a, la), 1);
	assert_int_equal(vnet_gro_add(&g, b, lb), 0);
	n = vnet_gro_finish(&g);
	assert_int_equal(n, VNET_HDR_LEN + la);
	assert_int_equal(gbuf[1], VNET_GSO_NONE);
	assert_memory_equal(gbuf + VNET_HDR_LEN, a, la);
	/* The next IP id but not the next sequence number. */
	assert_int_equal(vnet_gro_add(&g, a, la), 1);
	b[5] = (uint8_t)(b[5] - 1);
	b[10] = b[11] = 0;
	put_ref_csum(b + 10, ref_sum(0, b, 20));
	assert_int_equal(vnet_gro_add(&g, b, lb), 0);
	/* A bad IP header checksum. */
	b[5] = (uint8_t)(b[5] + 1);
	b[10] ^= 0x40;
	assert_int_equal(vnet_gro_add(&g, b, lb), 0);
	vnet_gro_finish(&g);
	/* A bad TCP checksum, IP options, no payload, SYN: never taken. */
	a[30] ^= 1;
	assert_int_equal(vnet_gro_add(&g, a, la), 0);
	a[30] ^= 1;
	assert_int_equal(vnet_gro_add(&g, a, 40), 0);
	a[33] |= 0x02;
	assert_int_equal(vnet_gro_add(&g, a, la), 0);
	a[33] &= (uint8_t)~0x02;
	a[0] = 0x46;
	assert_int_equal(vnet_gro_add(&g, a, la), 0);
	a[0] = 0x45;
	assert_int_equal(g.len, 0);
	/* Another flow (port) does not continue it. */
	assert_int_equal(vnet_segment(&p, 1, b, sizeof(b), &lb), 0);
	assert_int_equal(vnet_gro_add(&g, a, la), 1);
	b[21] ^= 1;
	assert_int_equal(vnet_gro_add(&g, b, lb), 0);
	b[21] ^= 1;
	assert_int_equal(vnet_gro_add(&g, b, lb), 1);
	assert_int_equal(g.count, 2);
	vnet_gro_finish(&g);
}

static void test_hdr_plain(void **state)
{
	uint8_t h[VNET_HDR_LEN];

	memset(h, 0xaa, sizeof(h));
	vnet_hdr_plain(h);
	for (size_t i = 0; i < sizeof(h); i++)
		assert_int_equal(h[i], 0);
}

/* The checksum field for reference sum r, as vnet_csum_store writes it
 * (0 goes out as 0xffff, its other form). */
static void ref_store(uint32_t r, uint8_t want[2])
{
	uint16_t v = (uint16_t)~ref_fold(r);

	if (v == 0)
		v = 0xffff;
	want[0] = (uint8_t)(v >> 8);
	want[1] = (uint8_t)v;
}

/* vnet_csum_add against the byte-by-byte reference: every length from 0
 * to 300 and packet sizes up to 64 KB, at even and odd addresses, random
 * bytes and all-ones bytes (the most carries), also chained onto a large
 * running sum as the segmenter does with the pseudo-header. */
static void test_csum_reference(void **state)
{
	static uint8_t data[65536 + 8];
	static const size_t big[] = { 1400, 1448, 1500, 4096, 9000, 65535, 65536 };
	uint32_t x = 0x12345678;
	uint8_t got[2], want[2];
	int fill, off;

	(void)state;
	for (fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(data); i++) {
			x = x * 1103515245u + 12345u;
			data[i] = fill ? 0xff : (uint8_t)(x >> 16);
		}
		for (off = 0; off < 3; off++) {
			for (size_t n = 0; n <= 300 + sizeof(big) / sizeof(big[0]); n++) {
				size_t len = n <= 300 ? n : big[n - 301];
				uint64_t s = vnet_csum_add(0, data + off, len);
				uint32_t r = ref_sum(0, data + off, len);

				vnet_csum_store(s, got);
				ref_store(r, want);
				assert_memory_equal(got, want, 2);
				/* Chained: a running sum near the top of
				 * its range, as after a header. */
				s = vnet_csum_add(vnet_csum_add(0, data, 8), data + 8 + off,
						  len > 8 ? len - 8 : 0);
				r = ref_fold(ref_sum(0, data, 8));
				r = ref_sum(r, data + 8 + off, len > 8 ? len - 8 : 0);
				vnet_csum_store(s, got);
				ref_store(r, want);
				assert_memory_equal(got, want, 2);
			}
		}
	}
	/* All-ones words onto a small running sum: the one case where the
	 * carries added back overflow 64 bits once more. */
	memset(data, 0xff, 64);
	for (uint16_t s0 = 1; s0 < 4; s0++) {
		/* s0 is a sum of host-order words: the same bytes for the
		 * reference. */
		uint8_t b[2];

		memcpy(b, &s0, sizeof(b));
		vnet_csum_store(vnet_csum_add(s0, data, 64), got);
		ref_store(ref_sum(ref_sum(0, b, 2), data, 64), want);
		assert_memory_equal(got, want, 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_reference),
		cmocka_unit_test(test_tcp_segments),
		cmocka_unit_test(test_udp_segments),
		cmocka_unit_test(test_plain_partial),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_gro_roundtrip),
		cmocka_unit_test(test_gro_refuse),
		cmocka_unit_test(test_hdr_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
