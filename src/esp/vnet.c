/* vnet.c - virtio-net header parsing and TCP/UDP segmentation of TUN
 * super-packets in userspace; see vnet.h for what a segment gets. */
#include "esp/vnet.h"

#include <string.h>

#include "lib/err.h"

#define IPV4_MIN_HDR 20
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define TCP_MIN_HDR 20
#define UDP_HDR 8
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* A 16-bit field of the virtio-net header, in the host's order. */
static int get_host16(struct buf *b, uint16_t *v)
{
	uint8_t x[2];
	int err = buf_get_bytes(b, x, sizeof(x));

	if (err < 0)
		return err;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	*v = (uint16_t)(x[0] << 8 | x[1]);
#else
	*v = (uint16_t)(x[1] << 8 | x[0]);
#endif
	return 0;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint64_t vnet_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;
	uint16_t h;

#ifdef __SIZEOF_INT128__
	/* RFC 1071 2(C): the ones' complement sum may be taken over 64-bit
	 * words and folded afterwards.  A 128-bit accumulator keeps every
	 * carry (the compiler makes it add-with-carry), and since
	 * 2^64 = 1 (mod 0xffff) the carries are added back as ones.  This
	 * loop checks and makes every TCP segment the data plane cuts or
	 * joins: four times fewer additions than 32-bit words. */
	unsigned __int128 acc = sum;
	uint64_t q[4], lo, hi;

	while (len >= sizeof(q)) {
		memcpy(q, p, sizeof(q));
		acc += q[0];
		acc += q[1];
		acc += q[2];
		acc += q[3];
		p += sizeof(q);
		len -= sizeof(q);
	}
	while (len >= sizeof(q[0])) {
		memcpy(&q[0], p, sizeof(q[0]));
		acc += q[0];
		p += sizeof(q[0]);
		len -= sizeof(q[0]);
	}
	lo = (uint64_t)acc;
	hi = (uint64_t)(acc >> 64);
	sum = lo + hi;
	if (sum < lo)
		sum++;
	/* Down to 33 bits, so the additions below and a caller's further
	 * sums cannot overflow. */
	sum = (sum & 0xffffffffu) + (sum >> 32);
#endif
	/* 32-bit words in a 64-bit accumulator: no carry is lost for any
	 * length a packet can have, and 2^16 = 1 (mod 0xffff) makes the
	 * fold below equal to the sum of 16-bit words. */
	while (len >= 4) {
		memcpy(&w, p, sizeof(w));
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, sizeof(h));
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* RFC 1071: an odd byte is padded with a zero byte. */
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, sizeof(h));
		sum += h;
	}
	return sum;
}

void vnet_csum_store(uint64_t sum, uint8_t out[2])
{
	uint16_t v;

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	v = (uint16_t)~sum;
	/* As the kernel does (CSUM_MANGLED_0): 0 means "no checksum" in
	 * UDP (RFC 768), and 0xffff is the same value in ones' complement. */
	if (v == 0)
		v = 0xffff;
	memcpy(out, &v, sizeof(v));
}

/* The IPv4 and TCP/UDP headers of a GSO packet. */
static int parse_gso(struct vnet_pkt *p, uint8_t gso)
{
	struct buf b, l4;
	uint8_t vihl, proto, doff;
	uint16_t frag;
	size_t l4len;

	buf_init(&b, p->ip, p->len);
	if (buf_get_u8(&b, &vihl) < 0 || buf_skip(&b, 5) < 0 || buf_get_u16(&b, &frag) < 0 ||
	    buf_skip(&b, 1) < 0 || buf_get_u8(&b, &proto) < 0)
		return KZ_ETRUNC;
	p->ihl = (size_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || p->ihl < IPV4_MIN_HDR)
		return KZ_EPROTO;
	/* A fragment cannot be cut again (MF set or an offset). */
	if (frag & 0x3fff)
		return KZ_EPROTO;
	buf_init(&b, p->ip, p->len);
	if (buf_skip(&b, p->ihl) < 0)
		return KZ_ETRUNC;
	if (gso == VNET_GSO_TCPV4) {
		if (proto != IP_PROTO_TCP)
			return KZ_EPROTO;
		/* TCP data offset: byte 12, high nibble, in 32-bit words. */
		if (buf_peek_u8(&b, 12, &doff) < 0)
			return KZ_ETRUNC;
		l4len = (size_t)(doff >> 4) * 4;
		if (l4len < TCP_MIN_HDR)
			return KZ_EPROTO;
		p->kind = VNET_TCP;
	} else {
		if (proto != IP_PROTO_UDP)
			return KZ_EPROTO;
		l4len = UDP_HDR;
		p->kind = VNET_UDP;
	}
	if (buf_get_sub(&b, l4len, &l4) < 0)
		return KZ_ETRUNC;
	p->hlen = p->ihl + l4len;
	/* What follows the headers is cut into gso_size pieces. */
	if (p->gso_size == 0 || buf_left(&b) == 0)
		return KZ_EPROTO;
	p->nseg = (buf_left(&b) + p->gso_size - 1) / p->gso_size;
	return 0;
}

int vnet_parse(const uint8_t *frame, size_t len, struct vnet_pkt *p)
{
	struct buf b;
	uint8_t flags, gso;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;

	memset(p, 0, sizeof(*p));
	buf_init(&b, frame, len);
	if (buf_get_u8(&b, &flags) < 0 || buf_get_u8(&b, &gso) < 0 ||
	    get_host16(&b, &hdr_len) < 0 || get_host16(&b, &gso_size) < 0 ||
	    get_host16(&b, &csum_start) < 0 || get_host16(&b, &csum_offset) < 0)
		return KZ_ETRUNC;
	p->ip = buf_cur(&b);
	p->len = buf_left(&b);
	if (p->len == 0)
		return KZ_ETRUNC;
	/* No IPv4 packet, and so no segment, is longer. */
	if (p->len > 0xffff)
		return KZ_EPROTO;
	p->kind = VNET_PLAIN;
	p->nseg = 1;
	/* ECN only says the kernel left CWR to the segmenter; the segmenter
	 * keeps CWR on the first segment in any case. */
	gso &= (uint8_t)~VNET_GSO_ECN;
	if (gso == VNET_GSO_TCPV4 || gso == VNET_GSO_UDP_L4) {
		/* hdr_len is a hint; the headers themselves say how long
		 * they are.  Every checksum is recomputed. */
		p->gso_size = gso_size;
		return parse_gso(p, gso);
	}
	if (gso != VNET_GSO_NONE)
		return KZ_ENOTSUP;
	if (flags & VNET_F_NEEDS_CSUM) {
		/* The field (two bytes at start + offset) lies inside what
		 * is summed. */
		if ((size_t)csum_start + csum_offset + 2 > p->len)
			return KZ_EPROTO;
		/* A checksum field on an odd offset from where the sum
		 * starts straddles two 16-bit words: no transport has one
		 * (TCP 16, UDP 6). */
		if (csum_offset & 1)
			return KZ_EPROTO;
		p->csum = true;
		p->csum_start = csum_start;
		p->csum_offset = csum_offset;
	}
	return 0;
}

size_t vnet_seg_len(const struct vnet_pkt *p, size_t i)
{
	size_t payload, off;

	if (p->kind == VNET_PLAIN)
		return p->len;
	payload = p->len - p->hlen;
	off = i * p->gso_size;
	if (off >= payload)
		return 0;
	return p->hlen + (payload - off < p->gso_size ? payload - off : p->gso_size);
}

int vnet_segment(const struct vnet_pkt *p, size_t i, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t tot = vnet_seg_len(p, i), l4len;
	uint8_t pseudo[4];
	uint64_t sum;
	uint8_t *l4, *field;

	*outlen = 0;
	if (i >= p->nseg || tot == 0)
		return KZ_EINVAL;
	if (cap < tot)
		return KZ_ENOSPC;
	if (p->kind == VNET_PLAIN) {
		memcpy(out, p->ip, tot);
		if (p->csum) {
			/* The field holds the pseudo-header sum; the rest
			 * from csum_start on is added to it. */
			field = out + p->csum_start + p->csum_offset;
			sum = vnet_csum_add(0, out + p->csum_start, tot - p->csum_start);
			vnet_csum_store(sum, field);
		}
		*outlen = tot;
		return 0;
	}
	memcpy(out, p->ip, p->hlen);
	memcpy(out + p->hlen, p->ip + p->hlen + i * p->gso_size, tot - p->hlen);

	/* IPv4: this segment's length and id, and a fresh header checksum
	 * (RFC 791). */
	put_be16(out + 2, (uint16_t)tot);
	put_be16(out + 4, (uint16_t)(be16_at(p->ip + 4) + i));
	out[10] = out[11] = 0;
	vnet_csum_store(vnet_csum_add(0, out, p->ihl), out + 10);

	l4 = out + p->ihl;
	l4len = tot - p->ihl;
	if (p->kind == VNET_TCP) {
		/* The bytes of segment i start i * gso_size further on;
		 * FIN and PSH belong to the last byte, CWR to the first
		 * segment (as the kernel's tcp_gso_segment). */
		put_be32(l4 + 4, be32_at(p->ip + p->ihl + 4) + (uint32_t)(i * p->gso_size));
		if (i + 1 < p->nseg)
			l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		field = l4 + 16;
	} else {
		put_be16(l4 + 4, (uint16_t)l4len);
		field = l4 + 6;
	}
	field[0] = field[1] = 0;
	/* Pseudo-header: source, destination, zero, protocol, length. */
	pseudo[0] = 0;
	pseudo[1] = out[9];
	put_be16(pseudo + 2, (uint16_t)l4len);
	sum = vnet_csum_add(0, out + 12, 8);
	sum = vnet_csum_add(sum, pseudo, sizeof(pseudo));
	sum = vnet_csum_add(sum, l4, l4len);
	vnet_csum_store(sum, field);
	*outlen = tot;
	return 0;
}

void vnet_hdr_plain(uint8_t hdr[VNET_HDR_LEN])
{
	memset(hdr, 0, VNET_HDR_LEN);
}

/* ---- receive coalescing ---- */

#define TCP_ACK 0x10

/* What vnet_gro_add needs of one inner packet. */
struct gro_seg {
	size_t hlen, plen;
	uint16_t id;
	uint32_t seq;
	uint8_t flags;
};

/* A segment that may be joined: see vnet.h for the rules. */
static int gro_parse(const uint8_t *pkt, size_t len, struct gro_seg *s)
{
	struct buf b, tcp;
	uint8_t vihl, proto, doff;
	uint16_t tot, frag;
	uint8_t pseudo[4];
	uint64_t sum;
	size_t thl;

	buf_init(&b, pkt, len);
	if (buf_get_u8(&b, &vihl) < 0 || buf_skip(&b, 1) < 0 || buf_get_u16(&b, &tot) < 0 ||
	    buf_get_u16(&b, &s->id) < 0 || buf_get_u16(&b, &frag) < 0 || buf_skip(&b, 1) < 0 ||
	    buf_get_u8(&b, &proto) < 0 || buf_skip(&b, 10) < 0)
		return KZ_ETRUNC;
	/* No IP options: every segment's header is then the first one's
	 * but for length, id and checksum. */
	if (vihl != 0x45 || tot != len || (frag & 0x3fff) || proto != IP_PROTO_TCP)
		return KZ_EPROTO;
	/* Joining rewrites the header; a bad one must not be repaired. */
	sum = vnet_csum_add(0, pkt, IPV4_MIN_HDR);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (sum != 0xffff)
		return KZ_EPROTO;
	if (buf_peek_u8(&b, 12, &doff) < 0 || buf_peek_u8(&b, 13, &s->flags) < 0)
		return KZ_ETRUNC;
	thl = (size_t)(doff >> 4) * 4;
	if (thl < TCP_MIN_HDR)
		return KZ_EPROTO;
	if (buf_get_sub(&b, thl, &tcp) < 0 || buf_skip(&tcp, 4) < 0 ||
	    buf_get_u32(&tcp, &s->seq) < 0)
		return KZ_ETRUNC;
	s->hlen = IPV4_MIN_HDR + thl;
	s->plen = buf_left(&b);
	if (s->plen == 0 || (s->flags & ~(TCP_ACK | TCP_PSH)) || !(s->flags & TCP_ACK))
		return KZ_EPROTO;
	/* RFC 9293 3.1: the checksum over the pseudo-header and the
	 * segment.  The joined packet's checksum is left partial for the
	 * kernel, so a bad segment must not hide in it. */
	pseudo[0] = 0;
	pseudo[1] = IP_PROTO_TCP;
	put_be16(pseudo + 2, (uint16_t)(len - IPV4_MIN_HDR));
	sum = vnet_csum_add(0, pkt + 12, 8);
	sum = vnet_csum_add(sum, pseudo, sizeof(pseudo));
	sum = vnet_csum_add(sum, pkt + IPV4_MIN_HDR, len - IPV4_MIN_HDR);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? 0 : KZ_EPROTO;
}

/* Does segment s of pkt continue the packet in g? */
static bool gro_match(const struct vnet_gro *g, const uint8_t *pkt, const struct gro_seg *s)
{
	const uint8_t *h = g->buf + VNET_HDR_LEN, *th = h + IPV4_MIN_HDR;
	const uint8_t *pt = pkt + IPV4_MIN_HDR;

	if (g->closed || s->hlen != g->hlen || s->seq != g->next_seq || s->id != g->next_id ||
	    s->plen > g->gso_size || g->len + s->plen > 0xffff)
		return false;
	/* IP: TOS, DF, TTL, addresses. */
	if (h[1] != pkt[1] || (h[6] & 0x40) != (pkt[6] & 0x40) || h[8] != pkt[8] ||
	    memcmp(h + 12, pkt + 12, 8) != 0)
		return false;
	/* TCP: ports, ack, data offset, window, urgent pointer, options. */
	return memcmp(th, pt, 4) == 0 && memcmp(th + 8, pt + 8, 5) == 0 &&
		memcmp(th + 14, pt + 14, 2) == 0 && memcmp(th + 18, pt + 18, 2) == 0 &&
		memcmp(th + TCP_MIN_HDR, pt + TCP_MIN_HDR, g->hlen - IPV4_MIN_HDR - TCP_MIN_HDR) ==
		0;
}

int vnet_gro_add(struct vnet_gro *g, const uint8_t *pkt, size_t len)
{
	struct gro_seg s;

	if (gro_parse(pkt, len, &s) < 0)
		return 0;
	if (g->len == 0) {
		memcpy(g->buf + VNET_HDR_LEN, pkt, len);
		g->len = len;
		g->count = 1;
		g->hlen = s.hlen;
		g->gso_size = s.plen;
	} else if (gro_match(g, pkt, &s)) {
		memcpy(g->buf + VNET_HDR_LEN + g->len, pkt + s.hlen, s.plen);
		g->len += s.plen;
		g->count++;
	} else {
		return 0;
	}
	g->next_seq = s.seq + (uint32_t)s.plen;
	g->next_id = (uint16_t)(s.id + 1);
	g->psh = s.flags & TCP_PSH;
	/* A short segment or PSH ends what the sender sent as one: the
	 * kernel's GRO flushes there too. */
	g->closed = g->psh || s.plen < g->gso_size;
	return 1;
}

static void put_host16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

size_t vnet_gro_finish(struct vnet_gro *g)
{
	uint8_t *ip = g->buf + VNET_HDR_LEN, *th = ip + IPV4_MIN_HDR, pseudo[4];
	size_t n = g->len, l4len = n - IPV4_MIN_HDR;
	uint64_t sum;
	uint16_t seed;

	if (n == 0)
		return 0;
	g->len = 0;
	if (g->count == 1) {
		/* Written as it came, checksums and all. */
		vnet_hdr_plain(g->buf);
		return VNET_HDR_LEN + n;
	}
	put_be16(ip + 2, (uint16_t)n);
	ip[10] = ip[11] = 0;
	vnet_csum_store(vnet_csum_add(0, ip, IPV4_MIN_HDR), ip + 10);
	if (g->psh)
		th[13] |= TCP_PSH;
	/* Partial checksum: the pseudo-header sum over the whole TCP
	 * length, not complemented, as the kernel's GRO leaves it; the
	 * kernel completes it per segment. */
	pseudo[0] = 0;
	pseudo[1] = IP_PROTO_TCP;
	put_be16(pseudo + 2, (uint16_t)l4len);
	sum = vnet_csum_add(vnet_csum_add(0, ip + 12, 8), pseudo, sizeof(pseudo));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	seed = (uint16_t)sum;
	memcpy(th + 16, &seed, sizeof(seed));
	g->buf[0] = VNET_F_NEEDS_CSUM;
	g->buf[1] = VNET_GSO_TCPV4;
	put_host16(g->buf + 2, (uint16_t)g->hlen);
	put_host16(g->buf + 4, (uint16_t)g->gso_size);
	put_host16(g->buf + 6, IPV4_MIN_HDR);
	put_host16(g->buf + 8, 16);
	return VNET_HDR_LEN + n;
}
