/* fuzz_ike_isakmp.c - the ISAKMP parser on arbitrary bytes.
 *
 * The input is parsed as a whole message (header, then the payload chain,
 * also when the encrypted flag is set, as if it were decrypted) and as a
 * bare payload chain whose first type is the first byte.  Every payload
 * body goes through the SA, ID, NOTIFY and DELETE parsers.  Whatever parses
 * is built again and must parse to the same values (SA) or the same bytes
 * (ID, NOTIFY, DELETE), so parser and builders cannot drift apart.  An ID
 * body also goes through the Quick Mode selector reader (selectors.c): a
 * prefix without host bits, or a refused range named as text. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "ike/isakmp.h"
#include "lib/err.h"

static uint8_t out[70000];

static bool within(const struct buf *b, const uint8_t *data, size_t size)
{
	return b->len == 0 || (b->data >= data && b->data + b->len <= data + size);
}

static bool sa_buildable(const struct isakmp_sa *sa)
{
	for (size_t i = 0; i < sa->np; i++)
		for (size_t j = 0; j < sa->p[i].nt; j++)
			for (size_t k = 0; k < sa->p[i].t[j].nattr; k++) {
				const struct isakmp_attr *a = &sa->p[i].t[j].attr[k];
				bool p1 = sa->p[i].proto == ISAKMP_PROTO_ISAKMP;
				uint16_t life =
					p1 ? IKE_ATTR_LIFE_DURATION : IPSEC_ATTR_LIFE_DURATION;

				if (a->opaque || (a->value > 0xffff && a->type != life))
					return false;
			}
	return true;
}

static void check_sa(const struct buf *body)
{
	static struct isakmp_sa sa, again;
	struct isakmp_chain c;
	struct isakmp_digest d;
	struct wbuf w;
	struct buf b;
	int r;

	if (isakmp_parse_sa(body, &sa) < 0)
		return;
	if (sa.np == 0 || sa.np > ISAKMP_MAX_PROPOSALS)
		abort();
	/* The proposals' transforms are consecutive runs of the pool. */
	for (size_t i = 0, at = 0; i < sa.np; at += sa.p[i].nt, i++)
		if (sa.p[i].t != sa.pool + at || sa.p[i].nt > ISAKMP_MAX_TRANSFORMS ||
		    at + sa.p[i].nt > sa.pool_len ||
		    (i + 1 == sa.np && at + sa.p[i].nt != sa.pool_len))
			abort();
	wbuf_init(&w, out, sizeof(out));
	isakmp_chain_init(&c, &w);
	r = isakmp_put_sa(&c, &sa);
	if (!sa_buildable(&sa)) {
		if (r == 0)
			abort();
		return;
	}
	if (r < 0)
		abort();
	buf_init(&b, out, w.len);
	if (isakmp_parse_payloads(&b, c.first, &d) < 0 || d.n != 1)
		abort();
	if (isakmp_parse_sa(&d.p[0].body, &again) < 0 || again.np != sa.np)
		abort();
	for (size_t i = 0; i < sa.np; i++) {
		const struct isakmp_proposal *p = &sa.p[i], *q = &again.p[i];

		if (p->num != q->num || p->proto != q->proto || p->spi_size != q->spi_size ||
		    memcmp(p->spi, q->spi, p->spi_size) != 0 || p->nt != q->nt)
			abort();
		for (size_t j = 0; j < p->nt; j++) {
			const struct isakmp_transform *t = &p->t[j], *u = &q->t[j];

			if (t->num != u->num || t->id != u->id || t->nattr != u->nattr)
				abort();
			for (size_t k = 0; k < t->nattr; k++)
				if (t->attr[k].type != u->attr[k].type ||
				    t->attr[k].value != u->attr[k].value ||
				    u->attr[k].basic != (t->attr[k].value < 65536))
					abort();
		}
	}
}

/* Rebuilds a payload with the builder and compares it with its body. */
static void same_body(struct wbuf *w, const struct isakmp_chain *c, const struct buf *body)
{
	if (w->overflow || w->len != ISAKMP_GENERIC_LEN + body->len ||
	    memcmp(w->data + ISAKMP_GENERIC_LEN, body->data, body->len) != 0 ||
	    w->data[0] != ISAKMP_NP_NONE || c->first == ISAKMP_NP_NONE)
		abort();
}

static void check_ts(const struct buf *body)
{
	struct isakmp_payload pl = { .type = ISAKMP_NP_ID, .body = *body };
	struct ts_side ts;
	char text[40];
	uint32_t a, m;
	int r = ts_parse(&pl, &ts, text, sizeof(text));

	if (r == 0) {
		a = ntohl(ts.net.addr.s_addr);
		m = ts.net.len ? 0xffffffffu << (32 - ts.net.len) : 0;
		if (!ts.net.set || ts.net.len > 32 || (a & ~m))
			abort();
	} else if (r == KZ_ERANGE) {
		if (!text[0])
			abort();
	} else if (r != KZ_EPROTO) {
		abort();
	}
}

static void check_bodies(const struct buf *body)
{
	struct isakmp_id id;
	struct isakmp_notify n;
	struct isakmp_delete del;
	struct isakmp_chain c;
	struct wbuf w;

	check_sa(body);
	if (isakmp_parse_id(body, &id) == 0) {
		if (id.data.len == 0 || id.data.len + 4 != body->len)
			abort();
		wbuf_init(&w, out, sizeof(out));
		isakmp_chain_init(&c, &w);
		if (isakmp_put_id(&c, id.type, id.proto, id.port, id.data.data, id.data.len) < 0)
			abort();
		same_body(&w, &c, body);
		check_ts(body);
	}
	if (isakmp_parse_notify(body, &n) == 0) {
		if (n.spi.len != n.spi_size || 8 + n.spi.len + n.data.len != body->len)
			abort();
		if (n.doi == ISAKMP_DOI_IPSEC) {
			wbuf_init(&w, out, sizeof(out));
			isakmp_chain_init(&c, &w);
			if (isakmp_put_notify(&c, n.proto, n.spi.data, n.spi_size, n.type,
					      n.data.data, n.data.len) < 0)
				abort();
			same_body(&w, &c, body);
		}
	}
	if (isakmp_parse_delete(body, &del) == 0) {
		if (del.nspi == 0 || del.nspi > ISAKMP_MAX_DELETE_SPIS ||
		    del.spis.len != (size_t)del.nspi * del.spi_size)
			abort();
		if (del.doi == ISAKMP_DOI_IPSEC) {
			wbuf_init(&w, out, sizeof(out));
			isakmp_chain_init(&c, &w);
			if (isakmp_put_delete(&c, del.proto, del.spi_size, del.spis.data,
					      del.nspi) < 0)
				abort();
			same_body(&w, &c, body);
		}
	}
}

static void check_digest(const struct isakmp_digest *d, const uint8_t *data, size_t size)
{
	if (d->n > ISAKMP_MAX_PAYLOADS)
		abort();
	for (size_t i = 0; i < d->n; i++) {
		const struct isakmp_payload *p = &d->p[i];

		if (!within(&p->body, data, size) || p->raw_len != p->body.len + 4 ||
		    (p->body.len && p->body.data != p->raw + 4))
			abort();
		if (p->type == ISAKMP_NP_P || p->type == ISAKMP_NP_T)
			abort();
		if (p->type == ISAKMP_NP_NONCE && (p->body.len < 8 || p->body.len > 256))
			abort();
		check_bodies(&p->body);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct isakmp_digest d;
	struct buf b;
	int r;

	r = isakmp_parse_message(data, size, &d);
	if (r == 0) {
		if (d.hdr.len < ISAKMP_HDR_LEN || d.hdr.len > size ||
		    d.body.len != d.hdr.len - ISAKMP_HDR_LEN)
			abort();
		if (d.hdr.flags & ISAKMP_FLAG_ENC) {
			struct buf body = d.body;

			if (d.n != 0)
				abort();
			/* As if decrypted: the same chain parser runs. */
			if (isakmp_parse_payloads(&body, d.hdr.np, &d) == 0)
				check_digest(&d, data, size);
		} else {
			check_digest(&d, data, size);
		}
	} else if (r != KZ_ETRUNC && r != KZ_EPROTO && r != KZ_ENOTSUP) {
		abort();
	}

	if (size > 0) {
		buf_init(&b, data + 1, size - 1);
		if (isakmp_parse_payloads(&b, data[0], &d) == 0)
			check_digest(&d, data, size);
		/* The whole input as one body of every kind - as long as it
		 * fits a payload (16-bit length), or the rebuild cannot match. */
		if (size <= ISAKMP_MAX_MSG - ISAKMP_HDR_LEN - ISAKMP_GENERIC_LEN) {
			buf_init(&b, data, size);
			check_bodies(&b);
		}
	}
	return 0;
}
