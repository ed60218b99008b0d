/* isakmp_parse.c - the ISAKMP parser (RFC 2408 section 3, the IPsec DOI of
 * RFC 2407 and the NAT-T payloads of RFC 3947): bytes -> digest of payloads,
 * and the bodies of SA, ID, NOTIFY and DELETE payloads.
 *
 * Pure: no state, no allocation, no logging.  Every length is checked
 * against its parent's remaining bytes before a bounded view is taken, so
 * a nested parser can never read outside the payload that contains it. */
#include "ike/isakmp.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

/* Wire errors inside a payload are protocol errors (PAYLOAD-MALFORMED),
 * whatever the buffer layer called them. */
static int proto_err(int r)
{
	return r == KZ_ETRUNC ? KZ_EPROTO : r;
}

int isakmp_parse_hdr(struct buf *b, struct isakmp_hdr *h)
{
	size_t avail = buf_left(b);
	struct isakmp_hdr t;
	int r;

	if (avail < ISAKMP_HDR_LEN)
		return KZ_ETRUNC;
	if ((r = buf_get_bytes(b, t.icookie, ISAKMP_COOKIE_LEN)) < 0 ||
	    (r = buf_get_bytes(b, t.rcookie, ISAKMP_COOKIE_LEN)) < 0 ||
	    (r = buf_get_u8(b, &t.np)) < 0 || (r = buf_get_u8(b, &t.version)) < 0 ||
	    (r = buf_get_u8(b, &t.exch)) < 0 || (r = buf_get_u8(b, &t.flags)) < 0 ||
	    (r = buf_get_u32(b, &t.msgid)) < 0 || (r = buf_get_u32(b, &t.len)) < 0)
		return r;
	/* RFC 2408 3.1: a major version we do not speak is dropped (IKEv2
	 * messages have major 2); the minor version is not checked. */
	if ((t.version >> 4) != (ISAKMP_VERSION >> 4))
		return KZ_ENOTSUP;
	/* The length covers the header and must be within the datagram. */
	if (t.len < ISAKMP_HDR_LEN || t.len > avail)
		return KZ_EPROTO;
	*h = t;
	return 0;
}

/* Smallest and largest payload body (after the generic header) per type. */
static int body_limits(uint8_t type, size_t *min, size_t *max)
{
	*min = 0;
	*max = ISAKMP_MAX_MSG;
	switch (type) {
	case ISAKMP_NP_SA:
		*min = 8; /* DOI, situation */
		break;
	case ISAKMP_NP_P:
	case ISAKMP_NP_T:
		/* Only inside an SA payload (RFC 2408 3.5, 3.6). */
		return KZ_EPROTO;
	case ISAKMP_NP_ID:
		*min = 5; /* type, protocol, port, at least one byte of data */
		break;
	case ISAKMP_NP_NONCE:
		/* RFC 2409 5: nonces are 8 to 256 bytes. */
		*min = 8;
		*max = 256;
		break;
	case ISAKMP_NP_N:
	case ISAKMP_NP_D:
		*min = 8; /* DOI, protocol, SPI size, type or count */
		break;
	case ISAKMP_NP_NATOA:
	case ISAKMP_NP_NATOA_DRAFT:
		*min = 8; /* ID type, reserved, an IPv4 address (RFC 3947 5.2) */
		break;
	case ISAKMP_NP_KE:
	case ISAKMP_NP_CERT:
	case ISAKMP_NP_CR:
	case ISAKMP_NP_HASH:
	case ISAKMP_NP_SIG:
	case ISAKMP_NP_VID:
	case ISAKMP_NP_NATD:
	case ISAKMP_NP_NATD_DRAFT:
		*min = 1;
		break;
	default:
		/* Unknown types are kept; the exchange rules decide. */
		break;
	}
	return 0;
}

int isakmp_parse_payloads(struct buf *body, uint8_t np, struct isakmp_digest *d)
{
	d->n = 0;
	/* Every payload consumes at least its 4-byte generic header, so the
	 * loop ends: by np 0, the end of the body, or the payload limit. */
	while (np != ISAKMP_NP_NONE) {
		struct isakmp_payload *p;
		const uint8_t *raw = buf_cur(body);
		uint8_t next, reserved;
		uint16_t len;
		size_t min, max, blen;
		int r;

		if (d->n == ISAKMP_MAX_PAYLOADS)
			return KZ_EPROTO;
		if ((r = body_limits(np, &min, &max)) < 0)
			return r;
		if (buf_left(body) < ISAKMP_GENERIC_LEN)
			return KZ_EPROTO;
		if ((r = buf_get_u8(body, &next)) < 0 || (r = buf_get_u8(body, &reserved)) < 0 ||
		    (r = buf_get_u16(body, &len)) < 0)
			return proto_err(r);
		if (len < ISAKMP_GENERIC_LEN)
			return KZ_EPROTO;
		blen = (size_t)len - ISAKMP_GENERIC_LEN;
		if (blen > buf_left(body) || blen < min || blen > max)
			return KZ_EPROTO;
		p = &d->p[d->n];
		p->type = np;
		p->raw = raw;
		p->raw_len = len;
		if ((r = buf_get_sub(body, blen, &p->body)) < 0)
			return proto_err(r);
		d->n++;
		np = next;
	}
	/* What follows the last payload is CBC padding or slack: allowed. */
	return 0;
}

int isakmp_parse_message(const void *data, size_t len, struct isakmp_digest *d)
{
	struct buf b;
	int r;

	memset(d, 0, sizeof(*d));
	buf_init(&b, data, len);
	if ((r = isakmp_parse_hdr(&b, &d->hdr)) < 0)
		return r;
	if ((r = buf_get_sub(&b, d->hdr.len - ISAKMP_HDR_LEN, &d->body)) < 0)
		return proto_err(r);
	if (d->hdr.flags & ISAKMP_FLAG_ENC)
		return 0;
	{
		struct buf pl = d->body;

		return isakmp_parse_payloads(&pl, d->hdr.np, d);
	}
}

const struct isakmp_payload *isakmp_find(const struct isakmp_digest *d, uint8_t type)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->p[i].type == type)
			return &d->p[i];
	return NULL;
}

size_t isakmp_count(const struct isakmp_digest *d, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->p[i].type == type)
			n++;
	return n;
}

/* ---- SA payload (RFC 2408 3.4-3.6, attributes 3.3) ---- */

/* Attributes whose values we interpret (RFC 2409 appendix A for phase 1,
 * RFC 2407 4.5 for phase 2). */
static bool attr_is_used(bool phase1, uint16_t type)
{
	if (phase1)
		return (type >= IKE_ATTR_ENC && type <= IKE_ATTR_GROUP) ||
			type == IKE_ATTR_LIFE_TYPE || type == IKE_ATTR_LIFE_DURATION ||
			type == IKE_ATTR_KEY_LEN;
	return type >= IPSEC_ATTR_LIFE_TYPE && type <= IPSEC_ATTR_KEY_LEN;
}

static bool attr_is_life(bool phase1, uint16_t type)
{
	return type == (phase1 ? IKE_ATTR_LIFE_DURATION : IPSEC_ATTR_LIFE_DURATION);
}

static int parse_attr(struct buf *b, bool phase1, struct isakmp_attr *a)
{
	uint16_t af_type, v16;
	const uint8_t *v;
	uint64_t value = 0;
	int r;

	if ((r = buf_get_u16(b, &af_type)) < 0 || (r = buf_get_u16(b, &v16)) < 0)
		return proto_err(r);
	memset(a, 0, sizeof(*a));
	a->type = af_type & 0x7fff;
	if (af_type & 0x8000) {
		/* TV: the second half-word is the value. */
		a->basic = true;
		a->value = v16;
		return 0;
	}
	/* TLV: the second half-word is the length of the value. */
	if ((r = buf_get_ptr(b, v16, &v)) < 0)
		return KZ_EPROTO;
	if (v16 > 4) {
		if (attr_is_life(phase1, a->type) && v16 <= 8) {
			/* Some peers send 8-byte lifetimes: saturate. */
			for (size_t i = 0; i < v16; i++)
				value = (value << 8) | v[i];
			a->value = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
			return 0;
		}
		if (attr_is_used(phase1, a->type))
			return KZ_EPROTO;
		a->opaque = true;
		return 0;
	}
	if (v16 == 0 && attr_is_used(phase1, a->type))
		return KZ_EPROTO;
	for (size_t i = 0; i < v16; i++)
		value = (value << 8) | v[i];
	a->value = (uint32_t)value;
	return 0;
}

/* The payloads inside an SA have the generic header too; their next
 * payload is restricted to the kind that follows (RFC 2408 3.5, 3.6). */
static int parse_sub_hdr(struct buf *parent, uint8_t want_next, size_t min_body, uint8_t *next,
			 struct buf *body)
{
	uint8_t reserved;
	uint16_t len;
	int r;

	if ((r = buf_get_u8(parent, next)) < 0 || (r = buf_get_u8(parent, &reserved)) < 0 ||
	    (r = buf_get_u16(parent, &len)) < 0)
		return proto_err(r);
	if (*next != ISAKMP_NP_NONE && *next != want_next)
		return KZ_EPROTO;
	if (len < ISAKMP_GENERIC_LEN + min_body)
		return KZ_EPROTO;
	if ((r = buf_get_sub(parent, (size_t)len - ISAKMP_GENERIC_LEN, body)) < 0)
		return proto_err(r);
	return 0;
}

static int parse_transform(struct buf *pb, bool phase1, bool last, struct isakmp_transform *t)
{
	struct buf tb;
	uint8_t next;
	uint16_t reserved;
	int r;

	/* Transform number, id, 2 reserved bytes. */
	if ((r = parse_sub_hdr(pb, ISAKMP_NP_T, 4, &next, &tb)) < 0)
		return r;
	/* The declared transform count and the chain must agree. */
	if ((next == ISAKMP_NP_NONE) != last)
		return KZ_EPROTO;
	if ((r = buf_get_u8(&tb, &t->num)) < 0 || (r = buf_get_u8(&tb, &t->id)) < 0 ||
	    (r = buf_get_u16(&tb, &reserved)) < 0)
		return proto_err(r);
	t->nattr = 0;
	while (buf_left(&tb) > 0) {
		if (t->nattr == ISAKMP_MAX_ATTRS)
			return KZ_ETOOBIG;
		if ((r = parse_attr(&tb, phase1, &t->attr[t->nattr])) < 0)
			return r;
		t->nattr++;
	}
	return 0;
}

struct isakmp_transform *isakmp_sa_add_transform(struct isakmp_sa *sa, size_t pi)
{
	struct isakmp_proposal *p;
	struct isakmp_transform *t;

	if (pi >= ISAKMP_MAX_PROPOSALS || pi + 1 < sa->np)
		return NULL;
	if (pi >= sa->np) {
		/* A new proposal starts at the end of the pool. */
		for (size_t i = sa->np; i <= pi; i++) {
			memset(&sa->p[i], 0, sizeof(sa->p[i]));
			sa->p[i].t = sa->pool ? sa->pool + sa->pool_len : NULL;
		}
		sa->np = pi + 1;
	}
	p = &sa->p[pi];
	if (p->nt >= ISAKMP_MAX_TRANSFORMS)
		return NULL;
	if (sa->pool_len == sa->pool_cap) {
		size_t cap = sa->pool_cap ? 2 * sa->pool_cap : 8, at[ISAKMP_MAX_PROPOSALS];
		struct isakmp_transform *pool;

		/* Every proposal's transforms are a run of the pool. */
		for (size_t i = 0; i < sa->np; i++)
			at[i] = sa->pool ? (size_t)(sa->p[i].t - sa->pool) : 0;
		if (!(pool = realloc(sa->pool, cap * sizeof(*pool))))
			return NULL;
		for (size_t i = 0; i < sa->np; i++)
			sa->p[i].t = pool + at[i];
		sa->pool = pool;
		sa->pool_cap = cap;
	}
	t = &sa->pool[sa->pool_len++];
	memset(t, 0, sizeof(*t));
	p->nt++;
	return t;
}

void isakmp_sa_release(struct isakmp_sa *sa)
{
	free(sa->pool);
	memset(sa, 0, sizeof(*sa));
}

struct isakmp_sa *isakmp_sa_new(void)
{
	return calloc(1, sizeof(struct isakmp_sa));
}

void isakmp_sa_free(struct isakmp_sa *sa)
{
	if (sa) {
		free(sa->pool);
		free(sa);
	}
}

/* One proposal, kept as sa's next one when keep; else (past
 * ISAKMP_MAX_PROPOSALS) only checked.  Transforms past
 * ISAKMP_MAX_TRANSFORMS (or of a proposal not kept) are checked in a
 * scratch transform and counted in sa->dropped. */
static int parse_proposal(struct buf *sb, bool *more, struct isakmp_sa *sa, bool keep_p)
{
	struct isakmp_proposal head;
	struct isakmp_transform scratch;
	struct buf pb;
	uint8_t next, ntrans, spi[8];
	size_t pi = sa->np;
	bool phase1;
	int r;

	/* Proposal number, protocol, SPI size, number of transforms. */
	if ((r = parse_sub_hdr(sb, ISAKMP_NP_P, 4, &next, &pb)) < 0)
		return r;
	*more = next == ISAKMP_NP_P;
	if ((r = buf_get_u8(&pb, &head.num)) < 0 || (r = buf_get_u8(&pb, &head.proto)) < 0 ||
	    (r = buf_get_u8(&pb, &head.spi_size)) < 0 || (r = buf_get_u8(&pb, &ntrans)) < 0)
		return proto_err(r);
	memset(spi, 0, sizeof(spi));
	if (head.spi_size <= sizeof(spi)) {
		if ((r = buf_get_bytes(&pb, spi, head.spi_size)) < 0)
			return proto_err(r);
	} else if (head.proto == ISAKMP_PROTO_ISAKMP && head.spi_size == 2 * ISAKMP_COOKIE_LEN) {
		/* RFC 2408 2.5.3: the cookies may stand in for the phase 1
		 * SPI; they are in the header already. */
		if ((r = buf_skip(&pb, head.spi_size)) < 0)
			return proto_err(r);
		head.spi_size = 0;
	} else {
		return KZ_EPROTO;
	}
	if (ntrans == 0)
		return KZ_EPROTO;
	phase1 = head.proto == ISAKMP_PROTO_ISAKMP;
	for (size_t i = 0; i < ntrans; i++) {
		struct isakmp_transform *t = &scratch;

		if (keep_p && i < ISAKMP_MAX_TRANSFORMS) {
			if (!(t = isakmp_sa_add_transform(sa, pi)))
				return KZ_ENOMEM;
		} else {
			sa->dropped++;
		}
		r = parse_transform(&pb, phase1, i + 1 == ntrans, t);
		if (r < 0)
			return r;
	}
	if (keep_p) {
		struct isakmp_proposal *p = &sa->p[pi];

		p->num = head.num;
		p->proto = head.proto;
		p->spi_size = head.spi_size;
		memcpy(p->spi, spi, sizeof(p->spi));
	}
	/* The transforms must fill the proposal exactly. */
	if (buf_left(&pb) != 0)
		return KZ_EPROTO;
	return 0;
}

int isakmp_parse_sa(const struct buf *body, struct isakmp_sa *sa)
{
	struct buf b = *body;
	bool more = true;
	int r;

	/* The pool is kept for reuse; nothing of the last SA is. */
	sa->np = 0;
	sa->dropped = 0;
	sa->pool_len = 0;
	if ((r = buf_get_u32(&b, &sa->doi)) < 0 || (r = buf_get_u32(&b, &sa->situation)) < 0)
		return proto_err(r);
	if (sa->doi != ISAKMP_DOI_IPSEC || sa->situation != ISAKMP_SIT_IDENTITY_ONLY)
		return KZ_ENOTSUP;
	while (more)
		if ((r = parse_proposal(&b, &more, sa, sa->np < ISAKMP_MAX_PROPOSALS)) < 0)
			return r;
	/* The proposals must fill the SA payload exactly. */
	if (buf_left(&b) != 0)
		return KZ_EPROTO;
	return 0;
}

bool isakmp_attr_get(const struct isakmp_transform *t, uint16_t type, uint32_t *value)
{
	for (size_t i = 0; i < t->nattr; i++) {
		if (t->attr[i].type == type && !t->attr[i].opaque) {
			*value = t->attr[i].value;
			return true;
		}
	}
	return false;
}

/* ---- ID, NOTIFY, DELETE ---- */

/* RFC 2407 4.6.2.1: address types have fixed sizes. */
static bool id_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case ISAKMP_ID_IPV4_ADDR:
		return len == 4;
	case ISAKMP_ID_IPV4_ADDR_SUBNET:
	case 7: /* ID_IPV4_ADDR_RANGE */
		return len == 8;
	case 5: /* ID_IPV6_ADDR */
		return len == 16;
	case 6: /* ID_IPV6_ADDR_SUBNET */
	case 8: /* ID_IPV6_ADDR_RANGE */
		return len == 32;
	default:
		return len >= 1;
	}
}

int isakmp_parse_id(const struct buf *body, struct isakmp_id *id)
{
	struct buf b = *body;
	int r;

	if ((r = buf_get_u8(&b, &id->type)) < 0 || (r = buf_get_u8(&b, &id->proto)) < 0 ||
	    (r = buf_get_u16(&b, &id->port)) < 0)
		return proto_err(r);
	if (!id_len_ok(id->type, buf_left(&b)))
		return KZ_EPROTO;
	return proto_err(buf_get_sub(&b, buf_left(&b), &id->data));
}

/* The head Notification and Delete payloads share (RFC 2408 3.14,
 * 3.15): DOI, protocol, SPI size, then the notify type or SPI count. */
static int doi_head(struct buf *b, uint32_t *doi, uint8_t *proto, uint8_t *spi_size, uint16_t *v)
{
	int r;

	if ((r = buf_get_u32(b, doi)) < 0 || (r = buf_get_u8(b, proto)) < 0 ||
	    (r = buf_get_u8(b, spi_size)) < 0 || (r = buf_get_u16(b, v)) < 0)
		return proto_err(r);
	return 0;
}

int isakmp_parse_notify(const struct buf *body, struct isakmp_notify *n)
{
	struct buf b = *body;
	int r;

	if ((r = doi_head(&b, &n->doi, &n->proto, &n->spi_size, &n->type)))
		return r;
	if ((r = buf_get_sub(&b, n->spi_size, &n->spi)) < 0)
		return KZ_EPROTO;
	if ((r = buf_get_sub(&b, buf_left(&b), &n->data)) < 0)
		return proto_err(r);
	/* RFC 3706 4: the DPD sequence number is 32 bits. */
	if ((n->type == ISAKMP_N_DPD_R_U_THERE || n->type == ISAKMP_N_DPD_R_U_THERE_ACK) &&
	    n->data.len != 4)
		return KZ_EPROTO;
	return 0;
}

int isakmp_parse_delete(const struct buf *body, struct isakmp_delete *d)
{
	struct buf b = *body;
	int r;

	if ((r = doi_head(&b, &d->doi, &d->proto, &d->spi_size, &d->nspi)))
		return r;
	/* RFC 2408 3.15: the SPIs fill the payload exactly; a Delete that
	 * names nothing is malformed. */
	if (d->spi_size == 0 || d->nspi == 0)
		return KZ_EPROTO;
	if ((size_t)d->nspi * d->spi_size != buf_left(&b))
		return KZ_EPROTO;
	if (d->nspi > ISAKMP_MAX_DELETE_SPIS)
		return KZ_ETOOBIG;
	return proto_err(buf_get_sub(&b, buf_left(&b), &d->spis));
}
