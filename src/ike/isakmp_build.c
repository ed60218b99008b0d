/* isakmp_build.c - ISAKMP message builders (RFC 2408 section 3) over
 * struct wbuf: the header, a payload chain whose next-payload bytes and
 * lengths are back-patched, and the SA, ID, NOTIFY and DELETE bodies.
 *
 * Writes that do not fit set the wbuf's sticky overflow flag; every
 * builder reports KZ_ENOSPC then, so a message is never sent half-built. */
#include "ike/isakmp.h"

#include <string.h>

#include "lib/err.h"

int isakmp_put_hdr(struct wbuf *w, const struct isakmp_hdr *h)
{
	wbuf_put_bytes(w, h->icookie, ISAKMP_COOKIE_LEN);
	wbuf_put_bytes(w, h->rcookie, ISAKMP_COOKIE_LEN);
	wbuf_put_u8(w, h->np);
	wbuf_put_u8(w, h->version);
	wbuf_put_u8(w, h->exch);
	wbuf_put_u8(w, h->flags);
	wbuf_put_u32(w, h->msgid);
	wbuf_put_u32(w, h->len);
	return w->overflow ? KZ_ENOSPC : 0;
}

int isakmp_finish(struct wbuf *w, size_t hdr_at, const struct isakmp_chain *c)
{
	size_t len;

	if (w->overflow)
		return KZ_ENOSPC;
	if (hdr_at > w->len || w->len - hdr_at < ISAKMP_HDR_LEN)
		return KZ_EINVAL;
	len = w->len - hdr_at;
	if (len > ISAKMP_MAX_MSG)
		return KZ_ETOOBIG;
	w->data[hdr_at + 16] = c->first;
	return wbuf_patch_u32(w, hdr_at + 24, (uint32_t)len);
}

void isakmp_chain_init(struct isakmp_chain *c, struct wbuf *w)
{
	c->w = w;
	c->first = ISAKMP_NP_NONE;
	c->last_np_at = -1;
}

long isakmp_payload_begin(struct isakmp_chain *c, uint8_t type)
{
	struct wbuf *w = c->w;
	long at = wbuf_reserve(w, ISAKMP_GENERIC_LEN);

	if (at < 0)
		return -1;
	/* Chain it: the previous payload (or the header) names this one. */
	if (c->last_np_at < 0)
		c->first = type;
	else
		w->data[c->last_np_at] = type;
	c->last_np_at = at;
	return at;
}

int isakmp_payload_end(struct isakmp_chain *c, long at)
{
	struct wbuf *w = c->w;
	size_t len;

	if (w->overflow)
		return KZ_ENOSPC;
	if (at < 0 || (size_t)at > w->len || w->len - (size_t)at < ISAKMP_GENERIC_LEN)
		return KZ_EINVAL;
	len = w->len - (size_t)at;
	if (len > 0xffff)
		return KZ_ETOOBIG;
	return wbuf_patch_u16(w, (size_t)at + 2, (uint16_t)len);
}

int isakmp_put_payload(struct isakmp_chain *c, uint8_t type, const void *body, size_t len)
{
	long at = isakmp_payload_begin(c, type);

	if (at < 0)
		return KZ_ENOSPC;
	if (wbuf_put_bytes(c->w, body, len) < 0)
		return KZ_ENOSPC;
	return isakmp_payload_end(c, at);
}

/* Attributes that are variable-length by definition (RFC 2409 appendix A,
 * RFC 2407 4.5) and may therefore exceed 16 bits. */
static bool attr_is_variable(bool phase1, uint16_t type)
{
	return type == (phase1 ? IKE_ATTR_LIFE_DURATION : IPSEC_ATTR_LIFE_DURATION);
}

static int put_attr(struct wbuf *w, bool phase1, const struct isakmp_attr *a)
{
	if (a->opaque || a->type > 0x7fff)
		return KZ_EINVAL;
	if (a->value < 65536) {
		wbuf_put_u16(w, (uint16_t)(0x8000 | a->type));
		wbuf_put_u16(w, (uint16_t)a->value);
	} else if (attr_is_variable(phase1, a->type)) {
		wbuf_put_u16(w, a->type);
		wbuf_put_u16(w, 4);
		wbuf_put_u32(w, a->value);
	} else {
		return KZ_ERANGE;
	}
	return w->overflow ? KZ_ENOSPC : 0;
}

/* A proposal or transform inside the SA: generic header with its next
 * payload fixed by position, length patched at the end. */
static long sub_begin(struct wbuf *w, uint8_t next)
{
	long at = wbuf_reserve(w, ISAKMP_GENERIC_LEN);

	if (at >= 0)
		w->data[at] = next;
	return at;
}

static int sub_end(struct wbuf *w, long at)
{
	size_t len;

	if (w->overflow || at < 0)
		return KZ_ENOSPC;
	len = w->len - (size_t)at;
	if (len > 0xffff)
		return KZ_ETOOBIG;
	return wbuf_patch_u16(w, (size_t)at + 2, (uint16_t)len);
}

static int put_transform(struct wbuf *w, bool phase1, bool last, const struct isakmp_transform *t)
{
	long at = sub_begin(w, last ? ISAKMP_NP_NONE : ISAKMP_NP_T);
	int r;

	if (t->nattr > ISAKMP_MAX_ATTRS)
		return KZ_EINVAL;
	wbuf_put_u8(w, t->num);
	wbuf_put_u8(w, t->id);
	wbuf_put_u16(w, 0);
	for (size_t i = 0; i < t->nattr; i++)
		if ((r = put_attr(w, phase1, &t->attr[i])) < 0)
			return r;
	return sub_end(w, at);
}

static int put_proposal(struct wbuf *w, bool last, const struct isakmp_proposal *p)
{
	long at;
	int r;

	if (p->nt == 0 || p->nt > ISAKMP_MAX_TRANSFORMS || p->spi_size > sizeof(p->spi))
		return KZ_EINVAL;
	at = sub_begin(w, last ? ISAKMP_NP_NONE : ISAKMP_NP_P);
	wbuf_put_u8(w, p->num);
	wbuf_put_u8(w, p->proto);
	wbuf_put_u8(w, p->spi_size);
	wbuf_put_u8(w, (uint8_t)p->nt);
	wbuf_put_bytes(w, p->spi, p->spi_size);
	for (size_t i = 0; i < p->nt; i++) {
		r = put_transform(w, p->proto == ISAKMP_PROTO_ISAKMP, i + 1 == p->nt, &p->t[i]);
		if (r < 0)
			return r;
	}
	return sub_end(w, at);
}

int isakmp_put_sa(struct isakmp_chain *c, const struct isakmp_sa *sa)
{
	struct wbuf *w = c->w;
	long at;
	int r;

	if (sa->np == 0 || sa->np > ISAKMP_MAX_PROPOSALS)
		return KZ_EINVAL;
	if ((at = isakmp_payload_begin(c, ISAKMP_NP_SA)) < 0)
		return KZ_ENOSPC;
	/* RFC 2407 4.2, 4.6.1: IPsec DOI, identity-only situation. */
	wbuf_put_u32(w, ISAKMP_DOI_IPSEC);
	wbuf_put_u32(w, ISAKMP_SIT_IDENTITY_ONLY);
	for (size_t i = 0; i < sa->np; i++)
		if ((r = put_proposal(w, i + 1 == sa->np, &sa->p[i])) < 0)
			return r;
	return isakmp_payload_end(c, at);
}

/* The word that opens an ID, Notification and Delete body after the DOI:
 * two octets and a 16-bit field (RFC 2407 4.6.2, RFC 2408 3.14, 3.15). */
static void put_word(struct wbuf *w, uint8_t a, uint8_t b, uint16_t c)
{
	wbuf_put_u8(w, a);
	wbuf_put_u8(w, b);
	wbuf_put_u16(w, c);
}

int isakmp_put_id(struct isakmp_chain *c, uint8_t type, uint8_t proto, uint16_t port,
		  const void *data, size_t len)
{
	struct wbuf *w = c->w;
	long at = isakmp_payload_begin(c, ISAKMP_NP_ID);

	if (at < 0)
		return KZ_ENOSPC;
	put_word(w, type, proto, port);
	wbuf_put_bytes(w, data, len);
	return isakmp_payload_end(c, at);
}

int isakmp_put_notify(struct isakmp_chain *c, uint8_t proto, const void *spi, uint8_t spi_size,
		      uint16_t type, const void *data, size_t len)
{
	struct wbuf *w = c->w;
	long at = isakmp_payload_begin(c, ISAKMP_NP_N);

	if (at < 0)
		return KZ_ENOSPC;
	wbuf_put_u32(w, ISAKMP_DOI_IPSEC);
	put_word(w, proto, spi_size, type);
	wbuf_put_bytes(w, spi, spi_size);
	wbuf_put_bytes(w, data, len);
	return isakmp_payload_end(c, at);
}

int isakmp_put_delete(struct isakmp_chain *c, uint8_t proto, uint8_t spi_size, const void *spis,
		      uint16_t nspi)
{
	struct wbuf *w = c->w;
	long at;

	/* What our own parser would refuse is never sent. */
	if (spi_size == 0 || nspi == 0 || nspi > ISAKMP_MAX_DELETE_SPIS)
		return KZ_EINVAL;
	if ((at = isakmp_payload_begin(c, ISAKMP_NP_D)) < 0)
		return KZ_ENOSPC;
	wbuf_put_u32(w, ISAKMP_DOI_IPSEC);
	put_word(w, proto, spi_size, nspi);
	wbuf_put_bytes(w, spis, (size_t)nspi * spi_size);
	return isakmp_payload_end(c, at);
}
