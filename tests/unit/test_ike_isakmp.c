/* test_ike_isakmp.c - the ISAKMP codec: every builder through the parser,
 * every truncation, length fields off by one at each nesting level (message,
 * payload, proposal, transform, attribute), payload limits, attribute edge
 * cases, NOTIFY/DELETE sizes, names, and real Main and Aggressive mode
 * messages of strongSwan 5.9.8 (tests/fuzz/corpus/ike_isakmp/). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/isakmp.h"
#include "lib/err.h"

/* ---- helpers ---- */

static const uint8_t icookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

struct msg {
	uint8_t b[4096];
	size_t len;
	long sa_at, ke_at, nonce_at, vid_at; /* payload offsets */
};

static void phase1_sa(struct isakmp_sa *sa)
{
	isakmp_sa_release(sa);
	for (size_t i = 0; i < 2; i++) {
		struct isakmp_transform *t = isakmp_sa_add_transform(sa, 0);

		assert_non_null(t);
		t->num = (uint8_t)(i + 1);
		t->id = ISAKMP_KEY_IKE;
		t->attr[0] = (struct isakmp_attr){ IKE_ATTR_ENC, true, IKE_ENC_AES_CBC, false };
		t->attr[1] = (struct isakmp_attr){ IKE_ATTR_KEY_LEN, true, i ? 128 : 256, false };
		t->attr[2] = (struct isakmp_attr){ IKE_ATTR_HASH, true, IKE_HASH_SHA2_256, false };
		t->attr[3] = (struct isakmp_attr){ IKE_ATTR_AUTH, true, IKE_AUTH_PSK, false };
		t->attr[4] = (struct isakmp_attr){ IKE_ATTR_GROUP, true, i ? 2 : 14, false };
		t->attr[5] =
			(struct isakmp_attr){ IKE_ATTR_LIFE_TYPE, true, IKE_LIFE_SECONDS, false };
		/* 86400 does not fit 16 bits: a 4-byte TLV. */
		t->attr[6] = (struct isakmp_attr){ IKE_ATTR_LIFE_DURATION, false, i ? 28800 : 86400,
						   false };
		t->nattr = 7;
	}
	sa->p[0].num = 1;
	sa->p[0].proto = ISAKMP_PROTO_ISAKMP;
}

static void phase2_sa(struct isakmp_sa *sa)
{
	isakmp_sa_release(sa);
	for (size_t i = 0; i < 2; i++) {
		struct isakmp_transform *t = isakmp_sa_add_transform(sa, i);
		struct isakmp_proposal *p = &sa->p[i];

		assert_non_null(t);
		p->num = (uint8_t)(i + 1);
		p->proto = ISAKMP_PROTO_ESP;
		p->spi_size = 4;
		memcpy(p->spi, "\xc0\x01\xd0\x0d", 4);
		t->num = 1;
		t->id = i ? ESP_AES_GCM_16 : ESP_AES_CBC;
		t->attr[0] =
			(struct isakmp_attr){ IPSEC_ATTR_LIFE_TYPE, true, IKE_LIFE_SECONDS, false };
		t->attr[1] = (struct isakmp_attr){ IPSEC_ATTR_LIFE_DURATION, true, 3600, false };
		t->attr[2] = (struct isakmp_attr){ IPSEC_ATTR_LIFE_TYPE, true, IKE_LIFE_KILOBYTES,
						   false };
		t->attr[3] =
			(struct isakmp_attr){ IPSEC_ATTR_LIFE_DURATION, false, 4608000, false };
		t->attr[4] = (struct isakmp_attr){ IPSEC_ATTR_ENCAP, true, IPSEC_ENCAP_UDP_TUNNEL,
						   false };
		t->attr[5] = (struct isakmp_attr){ IPSEC_ATTR_KEY_LEN, true, 256, false };
		t->attr[6] = (struct isakmp_attr){ IPSEC_ATTR_GROUP, true, 14, false };
		t->nattr = 7;
		if (!i) {
			t->attr[7] = (struct isakmp_attr){ IPSEC_ATTR_AUTH, true,
							   IPSEC_AUTH_HMAC_SHA2_256, false };
			t->nattr = 8;
		}
	}
}

static void put_header(struct wbuf *w, uint8_t exch, uint32_t msgid)
{
	struct isakmp_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, icookie, 8);
	h.version = ISAKMP_VERSION;
	h.exch = exch;
	h.msgid = msgid;
	assert_int_equal(isakmp_put_hdr(w, &h), 0);
}

/* Main mode message 1 shape: SA KE NONCE VID. */
static void build_msg(struct msg *m)
{
	struct isakmp_chain c;
	static struct isakmp_sa sa;
	struct wbuf w;
	uint8_t ke[128], nonce[32];

	memset(ke, 0xab, sizeof(ke));
	memset(nonce, 0xcd, sizeof(nonce));
	phase1_sa(&sa);
	wbuf_init(&w, m->b, sizeof(m->b));
	put_header(&w, ISAKMP_XCHG_IDPROT, 0);
	isakmp_chain_init(&c, &w);
	m->sa_at = (long)w.len;
	assert_int_equal(isakmp_put_sa(&c, &sa), 0);
	m->ke_at = (long)w.len;
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_KE, ke, sizeof(ke)), 0);
	m->nonce_at = (long)w.len;
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_NONCE, nonce, sizeof(nonce)), 0);
	m->vid_at = (long)w.len;
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_VID, "kizuna-vid", 10), 0);
	assert_int_equal(isakmp_finish(&w, 0, &c), 0);
	m->len = w.len;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A message "fails" when the chain is refused or its SA body is. */
static int parse_all(const uint8_t *b, size_t len)
{
	struct isakmp_digest d;
	static struct isakmp_sa sa;
	int r = isakmp_parse_message(b, len, &d);

	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n; i++)
		if (d.p[i].type == ISAKMP_NP_SA && (r = isakmp_parse_sa(&d.p[i].body, &sa)) < 0)
			return r;
	return 0;
}

static int sa_bytes(const uint8_t *b, size_t len, struct isakmp_sa *sa)
{
	struct buf body;

	buf_init(&body, b, len);
	return isakmp_parse_sa(&body, sa);
}

static void assert_sa_equal(const struct isakmp_sa *a, const struct isakmp_sa *b)
{
	assert_int_equal(a->np, b->np);
	for (size_t i = 0; i < a->np; i++) {
		const struct isakmp_proposal *p = &a->p[i], *q = &b->p[i];

		assert_int_equal(p->num, q->num);
		assert_int_equal(p->proto, q->proto);
		assert_int_equal(p->spi_size, q->spi_size);
		assert_memory_equal(p->spi, q->spi, p->spi_size);
		assert_int_equal(p->nt, q->nt);
		for (size_t j = 0; j < p->nt; j++) {
			assert_int_equal(p->t[j].num, q->t[j].num);
			assert_int_equal(p->t[j].id, q->t[j].id);
			assert_int_equal(p->t[j].nattr, q->t[j].nattr);
			for (size_t k = 0; k < p->t[j].nattr; k++) {
				assert_int_equal(p->t[j].attr[k].type, q->t[j].attr[k].type);
				assert_int_equal(p->t[j].attr[k].value, q->t[j].attr[k].value);
				/* The encoding follows the value. */
				assert_int_equal(q->t[j].attr[k].basic,
						 p->t[j].attr[k].value < 65536);
			}
		}
	}
}

/* ---- header ---- */

static void test_header(void **state)
{
	struct msg m;
	struct isakmp_hdr h;
	struct buf b;
	uint8_t save;

	build_msg(&m);
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), 0);
	assert_memory_equal(h.icookie, icookie, 8);
	assert_int_equal(h.np, ISAKMP_NP_SA);
	assert_int_equal(h.exch, ISAKMP_XCHG_IDPROT);
	assert_int_equal(h.len, m.len);
	assert_int_equal(b.off, ISAKMP_HDR_LEN);

	/* Shorter than a header. */
	for (size_t cut = 0; cut < ISAKMP_HDR_LEN; cut++) {
		buf_init(&b, m.b, cut);
		assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_ETRUNC);
	}
	/* len: below 28, past the datagram, exactly the datagram. */
	put32(m.b + 24, 27);
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_EPROTO);
	put32(m.b + 24, 0);
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_EPROTO);
	put32(m.b + 24, (uint32_t)m.len + 1);
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_EPROTO);
	put32(m.b + 24, 0xffffffff);
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_EPROTO);
	put32(m.b + 24, ISAKMP_HDR_LEN);
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), 0);
	put32(m.b + 24, (uint32_t)m.len);

	/* Major version 2 (IKEv2) and 0 are refused, minor versions are not. */
	save = m.b[17];
	m.b[17] = 0x20;
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_ENOTSUP);
	m.b[17] = 0x00;
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), KZ_ENOTSUP);
	m.b[17] = 0x11;
	buf_init(&b, m.b, m.len);
	assert_int_equal(isakmp_parse_hdr(&b, &h), 0);
	m.b[17] = save;

	/* Bytes after len in the datagram are not part of the message. */
	{
		struct isakmp_digest d;
		uint8_t big[sizeof(m.b) + 8];

		memcpy(big, m.b, m.len);
		memset(big + m.len, 0x55, 8);
		assert_int_equal(isakmp_parse_message(big, m.len + 8, &d), 0);
		assert_int_equal(d.body.len, m.len - ISAKMP_HDR_LEN);
		assert_int_equal(d.n, 4);
	}
}

/* ---- round trips ---- */

static void test_roundtrip_message(void **state)
{
	struct msg m;
	struct isakmp_digest d;
	static struct isakmp_sa want, got;
	const struct isakmp_payload *p;

	build_msg(&m);
	assert_int_equal(isakmp_parse_message(m.b, m.len, &d), 0);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.p[0].type, ISAKMP_NP_SA);
	assert_int_equal(d.p[1].type, ISAKMP_NP_KE);
	assert_int_equal(d.p[2].type, ISAKMP_NP_NONCE);
	assert_int_equal(d.p[3].type, ISAKMP_NP_VID);
	assert_ptr_equal(d.p[0].raw, m.b + m.sa_at);
	assert_int_equal(d.p[0].raw_len, m.ke_at - m.sa_at);
	assert_int_equal(d.p[1].body.len, 128);
	assert_int_equal(d.p[2].body.len, 32);
	assert_int_equal(d.p[3].body.len, 10);
	assert_memory_equal(d.p[3].body.data, "kizuna-vid", 10);
	/* Back-patched next payload bytes. */
	assert_int_equal(m.b[16], ISAKMP_NP_SA);
	assert_int_equal(m.b[m.sa_at], ISAKMP_NP_KE);
	assert_int_equal(m.b[m.ke_at], ISAKMP_NP_NONCE);
	assert_int_equal(m.b[m.nonce_at], ISAKMP_NP_VID);
	assert_int_equal(m.b[m.vid_at], ISAKMP_NP_NONE);

	assert_int_equal(isakmp_count(&d, ISAKMP_NP_VID), 1);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_HASH), 0);
	assert_null(isakmp_find(&d, ISAKMP_NP_HASH));
	p = isakmp_find(&d, ISAKMP_NP_SA);
	assert_non_null(p);
	assert_int_equal(isakmp_parse_sa(&p->body, &got), 0);
	phase1_sa(&want);
	assert_int_equal(got.doi, ISAKMP_DOI_IPSEC);
	assert_int_equal(got.situation, ISAKMP_SIT_IDENTITY_ONLY);
	assert_sa_equal(&want, &got);
	/* The 4-byte TLV of 86400 on the wire (attribute 7 of transform 1). */
	{
		uint32_t v;

		assert_true(isakmp_attr_get(&got.p[0].t[0], IKE_ATTR_LIFE_DURATION, &v));
		assert_int_equal(v, 86400);
		assert_false(got.p[0].t[0].attr[6].basic);
		assert_true(got.p[0].t[1].attr[6].basic); /* 28800 fits */
		assert_false(isakmp_attr_get(&got.p[0].t[0], 99, &v));
	}
}

static void test_roundtrip_phase2_sa(void **state)
{
	uint8_t b[1024];
	struct isakmp_digest d;
	struct isakmp_chain c;
	static struct isakmp_sa want, got;
	struct wbuf w;
	struct buf body;

	phase2_sa(&want);
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, &want), 0);
	assert_int_equal(c.first, ISAKMP_NP_SA);
	buf_init(&body, b, w.len);
	assert_int_equal(isakmp_parse_payloads(&body, c.first, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(isakmp_parse_sa(&d.p[0].body, &got), 0);
	assert_sa_equal(&want, &got);
	assert_memory_equal(got.p[1].spi, "\xc0\x01\xd0\x0d", 4);
	/* Phase 2 numbering: attribute 2 is the life duration, sent as TLV. */
	assert_false(got.p[0].t[0].attr[3].basic);
	assert_int_equal(got.p[0].t[0].attr[3].value, 4608000);
	/* Proposal next payload bytes: 2 then 0. */
	assert_int_equal(b[4 + 8], ISAKMP_NP_P);
}

static void test_roundtrip_id_notify_delete(void **state)
{
	uint8_t b[1024], spis[8] = { 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78 };
	uint8_t cookies[16], seq[4] = { 0, 0, 0x30, 0x39 };
	struct isakmp_digest d;
	struct isakmp_chain c;
	struct isakmp_id id;
	struct isakmp_notify n;
	struct isakmp_delete del;
	struct wbuf w;
	struct buf body;

	memset(cookies, 0x77, sizeof(cookies));
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_HASH, "0123456789abcdef0123", 20), 0);
	assert_int_equal(isakmp_put_id(&c, ISAKMP_ID_KEY_ID, 0, 0, "site-a", 6), 0);
	assert_int_equal(isakmp_put_id(&c, ISAKMP_ID_IPV4_ADDR_SUBNET, 17, 500,
				       "\xc0\xa8\x01\x00\xff\xff\xff\x00", 8),
			 0);
	assert_int_equal(isakmp_put_notify(&c, ISAKMP_PROTO_ISAKMP, cookies, 16,
					   ISAKMP_N_DPD_R_U_THERE, seq, 4),
			 0);
	assert_int_equal(
		isakmp_put_notify(&c, ISAKMP_PROTO_ESP, spis, 4, ISAKMP_N_INITIAL_CONTACT, NULL, 0),
		0);
	assert_int_equal(isakmp_put_delete(&c, ISAKMP_PROTO_ESP, 4, spis, 2), 0);
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_NATD, "natd-hash", 9), 0);
	assert_int_equal(isakmp_put_payload(&c, 200, "x", 1), 0);
	buf_init(&body, b, w.len);
	assert_int_equal(isakmp_parse_payloads(&body, c.first, &d), 0);
	assert_int_equal(d.n, 8);
	assert_int_equal(c.first, ISAKMP_NP_HASH);
	assert_int_equal(d.p[0].body.len, 20);

	assert_int_equal(isakmp_parse_id(&d.p[1].body, &id), 0);
	assert_int_equal(id.type, ISAKMP_ID_KEY_ID);
	assert_int_equal(id.port, 0);
	assert_int_equal(id.data.len, 6);
	assert_memory_equal(id.data.data, "site-a", 6);
	assert_int_equal(isakmp_parse_id(&d.p[2].body, &id), 0);
	assert_int_equal(id.type, ISAKMP_ID_IPV4_ADDR_SUBNET);
	assert_int_equal(id.proto, 17);
	assert_int_equal(id.port, 500);
	assert_int_equal(id.data.len, 8);

	assert_int_equal(isakmp_parse_notify(&d.p[3].body, &n), 0);
	assert_int_equal(n.doi, ISAKMP_DOI_IPSEC);
	assert_int_equal(n.proto, ISAKMP_PROTO_ISAKMP);
	assert_int_equal(n.type, ISAKMP_N_DPD_R_U_THERE);
	assert_int_equal(n.spi_size, 16);
	assert_int_equal(n.spi.len, 16);
	assert_memory_equal(n.spi.data, cookies, 16);
	assert_int_equal(n.data.len, 4);
	assert_memory_equal(n.data.data, seq, 4);
	assert_int_equal(isakmp_parse_notify(&d.p[4].body, &n), 0);
	assert_int_equal(n.type, ISAKMP_N_INITIAL_CONTACT);
	assert_int_equal(n.spi.len, 4);
	assert_int_equal(n.data.len, 0);

	assert_int_equal(isakmp_parse_delete(&d.p[5].body, &del), 0);
	assert_int_equal(del.proto, ISAKMP_PROTO_ESP);
	assert_int_equal(del.spi_size, 4);
	assert_int_equal(del.nspi, 2);
	assert_int_equal(del.spis.len, 8);
	assert_memory_equal(del.spis.data, spis, 8);

	assert_int_equal(d.p[6].type, ISAKMP_NP_NATD);
	/* An unknown type is kept with its bounded body. */
	assert_int_equal(d.p[7].type, 200);
	assert_int_equal(d.p[7].body.len, 1);
}

static void test_builder_errors(void **state)
{
	uint8_t b[64];
	struct isakmp_chain c;
	static struct isakmp_sa sa;
	struct wbuf w;
	uint8_t big[200] = { 0 };

	/* A basic-only attribute that does not fit 16 bits. */
	phase1_sa(&sa);
	sa.p[0].t[0].attr[0].value = 70000;
	wbuf_init(&w, big, sizeof(big));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, &sa), KZ_ERANGE);
	/* Opaque attributes and empty proposals are not sent. */
	phase1_sa(&sa);
	sa.p[0].t[1].attr[2].opaque = true;
	wbuf_init(&w, big, sizeof(big));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, &sa), KZ_EINVAL);
	phase1_sa(&sa);
	sa.p[0].nt = 0;
	assert_int_equal(isakmp_put_sa(&c, &sa), KZ_EINVAL);
	sa.np = 0;
	assert_int_equal(isakmp_put_sa(&c, &sa), KZ_EINVAL);
	phase2_sa(&sa);
	sa.p[0].spi_size = 9;
	assert_int_equal(isakmp_put_sa(&c, &sa), KZ_EINVAL);
	/* Too small a buffer: ENOSPC, never a partial success. */
	phase1_sa(&sa);
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, &sa), KZ_ENOSPC);
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_KE, big, 61), KZ_ENOSPC);
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_KE, big, 60), 0);
	assert_int_equal(isakmp_put_payload(&c, ISAKMP_NP_VID, big, 0), KZ_ENOSPC);
	/* Deletes our parser would refuse. */
	wbuf_init(&w, big, sizeof(big));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_delete(&c, ISAKMP_PROTO_ESP, 4, big, 0), KZ_EINVAL);
	assert_int_equal(isakmp_put_delete(&c, ISAKMP_PROTO_ESP, 0, big, 1), KZ_EINVAL);
	assert_int_equal(
		isakmp_put_delete(&c, ISAKMP_PROTO_ESP, 4, big, ISAKMP_MAX_DELETE_SPIS + 1),
		KZ_EINVAL);
	/* isakmp_finish on a buffer without a header. */
	wbuf_init(&w, b, sizeof(b));
	assert_int_equal(isakmp_finish(&w, 0, &c), KZ_EINVAL);
}

/* ---- truncation and length fields ---- */

/* Every prefix of a message is refused as a datagram; with the header's
 * length patched to the prefix, the chain (or its SA) is refused too. */
static void check_truncations(const uint8_t *msg, size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	for (size_t cut = 0; cut < len; cut++) {
		struct isakmp_digest d;

		memcpy(b, msg, cut);
		assert_true(isakmp_parse_message(b, cut, &d) < 0);
		if (cut < ISAKMP_HDR_LEN)
			continue;
		put32(b + 24, (uint32_t)cut);
		assert_true(parse_all(b, cut) < 0);
	}
	free(b);
}

static void test_truncations(void **state)
{
	struct msg m;
	struct isakmp_digest d;
	static struct isakmp_sa sa;
	struct buf body;

	build_msg(&m);
	assert_int_equal(parse_all(m.b, m.len), 0);
	check_truncations(m.b, m.len);

	/* Every truncation of the SA body alone. */
	assert_int_equal(isakmp_parse_message(m.b, m.len, &d), 0);
	for (size_t cut = 0; cut < d.p[0].body.len; cut++) {
		buf_init(&body, d.p[0].body.data, cut);
		assert_true(isakmp_parse_sa(&body, &sa) < 0);
	}
}

static void test_length_fields(void **state)
{
	static const int delta[] = { -4, -1, 1, 4 };
	struct msg m;
	size_t prop, t1, t2;

	build_msg(&m);
	prop = (size_t)m.sa_at + 12;
	t1 = prop + 8;
	t2 = t1 + get16(m.b + t1 + 2);
	assert_int_equal(m.b[t1], ISAKMP_NP_T);
	assert_int_equal(m.b[t2], ISAKMP_NP_NONE);

	/* Each length field: header, every payload, proposal, both
	 * transforms, the TLV life duration of transform 1. */
	size_t at[] = { (size_t)m.sa_at + 2,
			(size_t)m.ke_at + 2,
			(size_t)m.nonce_at + 2,
			(size_t)m.vid_at + 2,
			prop + 2,
			t1 + 2,
			t2 + 2,
			t1 + 8 + 6 * 4 + 2 /* 7th attribute's length */ };

	assert_int_equal(get16(m.b + at[7]), 4);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint16_t orig = get16(m.b + at[i]);

		for (size_t k = 0; k < sizeof(delta) / sizeof(delta[0]); k++) {
			put16(m.b + at[i], (uint16_t)(orig + delta[k]));
			/* The last payload shrinking leaves slack, which is
			 * allowed; everything else must be refused. */
			if (at[i] == (size_t)m.vid_at + 2 && delta[k] < 0)
				assert_int_equal(parse_all(m.b, m.len), 0);
			else
				assert_true(parse_all(m.b, m.len) < 0);
		}
		for (uint16_t v = 0; v < 4; v++) {
			put16(m.b + at[i], v);
			assert_true(parse_all(m.b, m.len) < 0);
		}
		put16(m.b + at[i], 0xffff);
		assert_true(parse_all(m.b, m.len) < 0);
		put16(m.b + at[i], orig);
	}
	assert_int_equal(parse_all(m.b, m.len), 0);

	/* The header's own length, one short and one long. */
	put32(m.b + 24, (uint32_t)m.len - 1);
	assert_true(parse_all(m.b, m.len) < 0);
	put32(m.b + 24, (uint32_t)m.len + 1);
	assert_true(parse_all(m.b, m.len) < 0);
}

/* A payload chain from a list of (type, body length) with zero bodies. */
static size_t chain_of(uint8_t *b, size_t cap, const uint8_t *types, const uint16_t *lens, size_t n)
{
	struct isakmp_chain c;
	struct wbuf w;
	static const uint8_t zero[512];

	wbuf_init(&w, b, cap);
	isakmp_chain_init(&c, &w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(isakmp_put_payload(&c, types[i], zero, lens[i]), 0);
	return w.len;
}

static int parse_chain(const uint8_t *b, size_t len, uint8_t np)
{
	struct isakmp_digest d;
	struct buf body;

	buf_init(&body, b, len);
	return isakmp_parse_payloads(&body, np, &d);
}

static void test_zero_length_and_limits(void **state)
{
	uint8_t b[8192];
	struct isakmp_digest d;
	struct buf body;

	/* Generic header lengths 0..3 would loop or underflow. */
	for (uint16_t len = 0; len < 4; len++) {
		uint8_t z[8] = { ISAKMP_NP_VID, 0, 0, 0, ISAKMP_NP_NONE, 0, 0, 4 };

		put16(z + 2, len);
		assert_int_equal(parse_chain(z, sizeof(z), ISAKMP_NP_VID), KZ_EPROTO);
	}
	/* A chain that names a payload but has no bytes left. */
	assert_int_equal(parse_chain(b, 0, ISAKMP_NP_VID), KZ_EPROTO);
	assert_int_equal(parse_chain(b, 3, ISAKMP_NP_VID), KZ_EPROTO);
	/* No payload at all is a valid (empty) chain, trailing bytes too. */
	buf_init(&body, b, 5);
	assert_int_equal(isakmp_parse_payloads(&body, ISAKMP_NP_NONE, &d), 0);
	assert_int_equal(d.n, 0);

	/* 32 payloads are fine, 33 are not. */
	{
		uint8_t types[ISAKMP_MAX_PAYLOADS + 1];
		uint16_t lens[ISAKMP_MAX_PAYLOADS + 1];
		size_t len;

		memset(types, ISAKMP_NP_VID, sizeof(types));
		for (size_t i = 0; i < ISAKMP_MAX_PAYLOADS + 1; i++)
			lens[i] = 1;
		len = chain_of(b, sizeof(b), types, lens, ISAKMP_MAX_PAYLOADS);
		assert_int_equal(parse_chain(b, len, ISAKMP_NP_VID), 0);
		len = chain_of(b, sizeof(b), types, lens, ISAKMP_MAX_PAYLOADS + 1);
		assert_int_equal(parse_chain(b, len, ISAKMP_NP_VID), KZ_EPROTO);
	}
}

static void test_min_lengths(void **state)
{
	static const struct {
		uint8_t type;
		uint16_t bad, good;
	} cases[] = {
		{ ISAKMP_NP_KE, 0, 1 },    { ISAKMP_NP_HASH, 0, 1 },
		{ ISAKMP_NP_NATD, 0, 1 },  { ISAKMP_NP_NATD_DRAFT, 0, 1 },
		{ ISAKMP_NP_VID, 0, 1 },   { ISAKMP_NP_SIG, 0, 1 },
		{ ISAKMP_NP_NONCE, 7, 8 }, { ISAKMP_NP_NONCE, 257, 256 },
		{ ISAKMP_NP_ID, 4, 5 },    { ISAKMP_NP_N, 7, 8 },
		{ ISAKMP_NP_D, 7, 8 },     { ISAKMP_NP_SA, 7, 8 },
		{ ISAKMP_NP_NATOA, 7, 8 }, { 200, 0, 0 },
	};
	uint8_t b[600];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;

		len = chain_of(b, sizeof(b), &cases[i].type, &cases[i].good, 1);
		assert_int_equal(parse_chain(b, len, cases[i].type), 0);
		if (cases[i].bad == cases[i].good)
			continue;
		len = chain_of(b, sizeof(b), &cases[i].type, &cases[i].bad, 1);
		assert_int_equal(parse_chain(b, len, cases[i].type), KZ_EPROTO);
	}
	/* Proposal and transform payloads only exist inside an SA. */
	{
		uint8_t types[] = { ISAKMP_NP_P, ISAKMP_NP_T };
		uint16_t lens[] = { 8 };

		for (size_t i = 0; i < 2; i++) {
			size_t len = chain_of(b, sizeof(b), &types[i], lens, 1);

			assert_int_equal(parse_chain(b, len, types[i]), KZ_EPROTO);
		}
	}
}

/* ---- SA bodies written by hand ---- */

/* SA body: DOI 1, situation 1, one proposal (ISAKMP, no SPI, 1 transform),
 * whose transform carries the attribute bytes given. */
static size_t sa_with_attrs(uint8_t *b, const uint8_t *attrs, size_t alen)
{
	size_t tlen = 8 + alen, plen = 8 + tlen;

	memset(b, 0, 8 + plen);
	put32(b, 1);
	put32(b + 4, 1);
	b[8] = 0;
	put16(b + 10, (uint16_t)plen);
	b[12] = 1;
	b[13] = ISAKMP_PROTO_ISAKMP;
	b[14] = 0;
	b[15] = 1;
	b[16] = 0;
	put16(b + 18, (uint16_t)tlen);
	b[20] = 1;
	b[21] = ISAKMP_KEY_IKE;
	if (alen)
		memcpy(b + 24, attrs, alen);
	return 8 + plen;
}

/* Parses an SA body whose transform carries the attribute bytes given. */
static int attrs_parse(uint8_t *b, const uint8_t *attrs, size_t alen, struct isakmp_sa *sa)
{
	return sa_bytes(b, sa_with_attrs(b, attrs, alen), sa);
}

static void test_attributes(void **state)
{
	uint8_t b[256];
	static struct isakmp_sa sa;
	uint32_t v;

	/* TLV values of 1-4 bytes are numbers. */
	{
		static const uint8_t a[] = { 0x00, 0x0c, 0x00, 0x01, 0x7f, /* life 1 byte */
					     0x00, 0x0e, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x01,
					     0x00, 0x02, 0x00, 0x07, 0x80, 0x02, 0x00, 0x02 };

		assert_int_equal(attrs_parse(b, a, sizeof(a), &sa), 0);
		assert_int_equal(sa.p[0].t[0].nattr, 4);
		assert_true(isakmp_attr_get(&sa.p[0].t[0], IKE_ATTR_LIFE_DURATION, &v));
		assert_int_equal(v, 0x7f);
		assert_true(isakmp_attr_get(&sa.p[0].t[0], IKE_ATTR_KEY_LEN, &v));
		assert_int_equal(v, 0x10000);
		assert_true(isakmp_attr_get(&sa.p[0].t[0], IKE_ATTR_ENC, &v));
		assert_int_equal(v, 7);
		assert_false(sa.p[0].t[0].attr[2].basic);
		assert_true(sa.p[0].t[0].attr[3].basic);
	}
	/* An 8-byte life duration saturates; a small one keeps its value. */
	{
		uint8_t a[] = { 0x00, 0x0c, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 0 };

		assert_int_equal(attrs_parse(b, a, sizeof(a), &sa), 0);
		assert_int_equal(sa.p[0].t[0].attr[0].value, UINT32_MAX);
		a[7] = 0;
		a[11] = 60;
		assert_int_equal(attrs_parse(b, a, sizeof(a), &sa), 0);
		assert_int_equal(sa.p[0].t[0].attr[0].value, 60);
	}
	/* Life duration of 9 bytes, other used attributes of 5, and empty
	 * values of used attributes are refused. */
	{
		static const uint8_t life9[] = {
			0x00, 0x0c, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 1
		};
		static const uint8_t enc5[] = { 0x00, 0x01, 0x00, 0x05, 0, 0, 0, 0, 7 };
		static const uint8_t enc0[] = { 0x00, 0x01, 0x00, 0x00 };

		assert_int_equal(attrs_parse(b, life9, sizeof(life9), &sa), KZ_EPROTO);
		assert_int_equal(attrs_parse(b, enc5, sizeof(enc5), &sa), KZ_EPROTO);
		assert_int_equal(attrs_parse(b, enc0, sizeof(enc0), &sa), KZ_EPROTO);
	}
	/* An attribute we do not use (group prime, 6) may be long: kept
	 * opaque, not returned by isakmp_attr_get, not rebuilt. */
	{
		uint8_t a[4 + 96];
		struct isakmp_chain c;
		struct wbuf w;
		uint8_t out[256];

		memset(a, 0xff, sizeof(a));
		put16(a, 6);
		put16(a + 2, 96);
		assert_int_equal(attrs_parse(b, a, sizeof(a), &sa), 0);
		assert_true(sa.p[0].t[0].attr[0].opaque);
		assert_false(isakmp_attr_get(&sa.p[0].t[0], 6, &v));
		wbuf_init(&w, out, sizeof(out));
		isakmp_chain_init(&c, &w);
		assert_int_equal(isakmp_put_sa(&c, &sa), KZ_EINVAL);
	}
	/* A TLV length past the transform, or half an attribute header. */
	{
		static const uint8_t over[] = { 0x00, 0x0c, 0x00, 0x05, 0, 0, 0, 1 };
		static const uint8_t half[] = { 0x80, 0x01, 0x00, 0x07, 0x80, 0x02 };
		static const uint8_t three[] = { 0x80, 0x01, 0x00 };

		assert_int_equal(attrs_parse(b, over, sizeof(over), &sa), KZ_EPROTO);
		assert_int_equal(attrs_parse(b, half, sizeof(half), &sa), KZ_EPROTO);
		assert_int_equal(attrs_parse(b, three, sizeof(three), &sa), KZ_EPROTO);
	}
	/* 16 attributes fit, 17 do not. */
	{
		uint8_t a[17 * 4];

		for (size_t i = 0; i < 17; i++) {
			put16(a + 4 * i, (uint16_t)(0x8000 | (20 + i)));
			put16(a + 4 * i + 2, (uint16_t)i);
		}
		assert_int_equal(attrs_parse(b, a, 16 * 4, &sa), 0);
		assert_int_equal(sa.p[0].t[0].nattr, 16);
		assert_int_equal(attrs_parse(b, a, 17 * 4, &sa), KZ_ETOOBIG);
	}
	/* A transform without attributes is fine for the parser. */
	assert_int_equal(attrs_parse(b, NULL, 0, &sa), 0);
	assert_int_equal(sa.p[0].t[0].nattr, 0);
}

static void test_sa_structure(void **state)
{
	uint8_t b[2048];
	static struct isakmp_sa sa;
	size_t len;
	const uint8_t attr[] = { 0x80, 0x01, 0x00, 0x07 };

	/* DOI and situation. */
	len = sa_with_attrs(b, attr, sizeof(attr));
	assert_int_equal(sa_bytes(b, len, &sa), 0);
	put32(b, 2);
	assert_int_equal(sa_bytes(b, len, &sa), KZ_ENOTSUP);
	put32(b, 1);
	put32(b + 4, 2);
	assert_int_equal(sa_bytes(b, len, &sa), KZ_ENOTSUP);
	put32(b + 4, 1);
	/* Proposal next payload must be 0 or 2, transform's 0 or 3. */
	b[8] = ISAKMP_NP_T;
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[8] = ISAKMP_NP_P; /* says more, but nothing follows */
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[8] = 0;
	b[16] = ISAKMP_NP_P;
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[16] = ISAKMP_NP_T; /* more than the declared one */
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[16] = 0;
	/* Declared transform count: 0, 2 (only one present). */
	b[15] = 0;
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[15] = 2;
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[15] = 17; /* the count, not the limit, is what is wrong */
	assert_int_equal(sa_bytes(b, len, &sa), KZ_EPROTO);
	b[15] = 1;
	/* Trailing bytes after the last proposal. */
	b[len] = 0;
	assert_int_equal(sa_bytes(b, len + 1, &sa), KZ_EPROTO);
	assert_int_equal(sa_bytes(b, len, &sa), 0);

	/* Proposal SPI sizes: 9 on ESP refused; 16 on ISAKMP (cookies)
	 * skipped. */
	{
		uint8_t s[64];
		size_t n = sa_with_attrs(s, attr, sizeof(attr));
		uint8_t big[96];

		memcpy(big, s, 16);
		memset(big + 16, 0x42, 16);
		memcpy(big + 32, s + 16, n - 16);
		put16(big + 10, (uint16_t)(get16(s + 10) + 16));
		big[14] = 16;
		assert_int_equal(sa_bytes(big, n + 16, &sa), 0);
		assert_int_equal(sa.p[0].spi_size, 0);
		big[13] = ISAKMP_PROTO_ESP;
		assert_int_equal(sa_bytes(big, n + 16, &sa), KZ_EPROTO);
		big[14] = 9; /* and the SPI would swallow the transform */
		assert_int_equal(sa_bytes(big, n + 16, &sa), KZ_EPROTO);
	}
}

/* 16 proposals of 64 transforms are kept; a 17th proposal and a 65th
 * transform are checked, counted in `dropped` and not kept: the SA never
 * fails for its length. */
static void test_sa_limits(void **state)
{
	static uint8_t b[20000], big[20000];
	static struct isakmp_sa sa, want;
	struct isakmp_chain c;
	struct wbuf w;
	struct buf body;
	const size_t plen = 8 + 4 + ISAKMP_MAX_TRANSFORMS * 8;
	uint8_t *last;
	size_t n;

	(void)state;
	isakmp_sa_release(&want);
	for (size_t i = 0; i < ISAKMP_MAX_PROPOSALS; i++) {
		for (size_t j = 0; j < ISAKMP_MAX_TRANSFORMS; j++) {
			struct isakmp_transform *t = isakmp_sa_add_transform(&want, i);

			assert_non_null(t);
			t->num = (uint8_t)(j + 1);
			t->id = ESP_AES_CBC;
		}
		/* Full: a 65th transform and an earlier proposal are refused. */
		assert_null(isakmp_sa_add_transform(&want, i));
		if (i)
			assert_null(isakmp_sa_add_transform(&want, i - 1));
		want.p[i].num = (uint8_t)(i + 1);
		want.p[i].proto = ISAKMP_PROTO_ESP;
		want.p[i].spi_size = 4;
	}
	assert_null(isakmp_sa_add_transform(&want, ISAKMP_MAX_PROPOSALS));
	assert_int_equal(want.np, ISAKMP_MAX_PROPOSALS);
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, &want), 0);
	buf_init(&body, b + 4, w.len - 4);
	assert_int_equal(isakmp_parse_sa(&body, &sa), 0);
	assert_sa_equal(&want, &sa);
	assert_int_equal(sa.dropped, 0);

	/* The last proposal says "more" and a 17th follows: dropped. */
	last = b + w.len - plen;
	assert_int_equal(last[0], 0);
	assert_int_equal(get16(last + 2), plen);
	last[0] = ISAKMP_NP_P;
	memcpy(big, b + 4, w.len - 4);
	memcpy(big + w.len - 4, last, plen);
	big[w.len - 4] = 0;
	n = w.len - 4 + plen;
	buf_init(&body, big, n);
	assert_int_equal(isakmp_parse_sa(&body, &sa), 0);
	assert_int_equal(sa.np, ISAKMP_MAX_PROPOSALS);
	assert_int_equal(sa.dropped, ISAKMP_MAX_TRANSFORMS);
	/* ... but a malformed 17th still fails the payload */
	big[w.len - 4 + 7] = 3; /* its transform count: 3 of 64 */
	assert_int_equal(isakmp_parse_sa(&body, &sa), KZ_EPROTO);

	/* One proposal of 65 transforms: the 65th is dropped. */
	isakmp_sa_release(&want);
	for (size_t j = 0; j < ISAKMP_MAX_TRANSFORMS; j++) {
		struct isakmp_transform *t = isakmp_sa_add_transform(&want, 0);

		assert_non_null(t);
		t->num = (uint8_t)(j + 1);
		t->id = ESP_3DES;
	}
	want.p[0].num = 1;
	want.p[0].proto = ISAKMP_PROTO_ESP;
	want.p[0].spi_size = 4;
	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, &want), 0);
	/* SA body: DOI, situation, proposal header (4 + 8), SPI 4, then the
	 * transforms of 8 bytes each: add one more after the last */
	memcpy(big, b + 4, w.len - 4);
	n = w.len - 4;
	big[n - 8] = ISAKMP_NP_T;
	memcpy(big + n, b + w.len - 8, 8);
	big[n] = 0;
	big[n + 4] = 65;
	n += 8;
	big[8 + 7] = 65;
	put16(big + 8 + 2, (uint16_t)(get16(big + 8 + 2) + 8));
	buf_init(&body, big, n);
	isakmp_sa_release(&sa); /* a fresh pool, sized by what is parsed */
	assert_int_equal(isakmp_parse_sa(&body, &sa), 0);
	assert_int_equal(sa.np, 1);
	assert_int_equal(sa.p[0].nt, ISAKMP_MAX_TRANSFORMS);
	assert_int_equal(sa.dropped, 1);
	assert_int_equal(sa.p[0].t[63].num, 64);
	/* The pool holds what was received, not the limits. */
	assert_true(sa.pool_len == ISAKMP_MAX_TRANSFORMS &&
		    sa.pool_cap <= 2 * ISAKMP_MAX_TRANSFORMS);
	isakmp_sa_release(&sa);
	isakmp_sa_release(&want);
	assert_null(sa.pool);
	assert_int_equal(sa.np, 0);
}

/* ---- ID, NOTIFY, DELETE bodies ---- */

static void test_id(void **state)
{
	static const struct {
		uint8_t type;
		size_t good, bad1, bad2;
	} cases[] = {
		{ ISAKMP_ID_IPV4_ADDR, 4, 3, 5 },
		{ ISAKMP_ID_IPV4_ADDR_SUBNET, 8, 7, 9 },
		{ 5, 16, 15, 4 },
		{ 6, 32, 31, 16 },
		{ ISAKMP_ID_FQDN, 1, 0, 0 },
		{ ISAKMP_ID_KEY_ID, 6, 0, 0 },
	};
	uint8_t b[64] = { 0 };
	struct isakmp_id id;
	struct buf body;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b[0] = cases[i].type;
		buf_init(&body, b, 4 + cases[i].good);
		assert_int_equal(isakmp_parse_id(&body, &id), 0);
		assert_int_equal(id.data.len, cases[i].good);
		buf_init(&body, b, 4 + cases[i].bad1);
		assert_int_equal(isakmp_parse_id(&body, &id), KZ_EPROTO);
		buf_init(&body, b, 4 + cases[i].bad2);
		assert_int_equal(isakmp_parse_id(&body, &id), KZ_EPROTO);
	}
	for (size_t cut = 0; cut < 4; cut++) {
		buf_init(&body, b, cut);
		assert_true(isakmp_parse_id(&body, &id) < 0);
	}
}

static void test_notify_sizes(void **state)
{
	/* DOI 1, ISAKMP, SPI size 16, R-U-THERE, cookies, sequence. */
	uint8_t b[8 + 16 + 4] = { 0, 0, 0, 1, 1, 16, 0x8d, 0x28 };
	struct isakmp_notify n;
	struct buf body;

	buf_init(&body, b, sizeof(b));
	assert_int_equal(isakmp_parse_notify(&body, &n), 0);
	assert_int_equal(n.type, ISAKMP_N_DPD_R_U_THERE);
	/* Every truncation: the SPI or the 4-byte sequence is short. */
	for (size_t cut = 0; cut < sizeof(b); cut++) {
		buf_init(&body, b, cut);
		assert_true(isakmp_parse_notify(&body, &n) < 0);
	}
	/* An SPI size past the payload. */
	b[5] = 25;
	buf_init(&body, b, sizeof(b));
	assert_int_equal(isakmp_parse_notify(&body, &n), KZ_EPROTO);
	b[5] = 255;
	assert_int_equal(isakmp_parse_notify(&body, &n), KZ_EPROTO);
	/* SPI size 20: the DPD data would be empty. */
	b[5] = 20;
	assert_int_equal(isakmp_parse_notify(&body, &n), KZ_EPROTO);
	/* Another type with the same layout takes any data. */
	put16(b + 6, ISAKMP_N_INITIAL_CONTACT);
	assert_int_equal(isakmp_parse_notify(&body, &n), 0);
	assert_int_equal(n.spi.len, 20);
	assert_int_equal(n.data.len, 0);
	b[5] = 0;
	assert_int_equal(isakmp_parse_notify(&body, &n), 0);
	assert_int_equal(n.data.len, 20);
}

static void test_delete_sizes(void **state)
{
	uint8_t b[8 + 16 * 17] = { 0, 0, 0, 1, ISAKMP_PROTO_ESP, 4, 0, 3 };
	struct isakmp_delete d;
	struct buf body;

	buf_init(&body, b, 8 + 12);
	assert_int_equal(isakmp_parse_delete(&body, &d), 0);
	assert_int_equal(d.nspi, 3);
	assert_int_equal(d.spis.len, 12);
	/* One byte short, one too many, every truncation. */
	buf_init(&body, b, 8 + 13);
	assert_int_equal(isakmp_parse_delete(&body, &d), KZ_EPROTO);
	for (size_t cut = 0; cut < 8 + 12; cut++) {
		buf_init(&body, b, cut);
		assert_true(isakmp_parse_delete(&body, &d) < 0);
	}
	/* nspi 0, spi size 0. */
	b[7] = 0;
	buf_init(&body, b, 8);
	assert_int_equal(isakmp_parse_delete(&body, &d), KZ_EPROTO);
	b[7] = 3;
	b[5] = 0;
	assert_int_equal(isakmp_parse_delete(&body, &d), KZ_EPROTO);
	/* nspi * spi_size would overflow 16 bits: computed wide. */
	b[5] = 255;
	b[6] = 0xff;
	b[7] = 0xff;
	buf_init(&body, b, sizeof(b));
	assert_int_equal(isakmp_parse_delete(&body, &d), KZ_EPROTO);
	/* ISAKMP SA delete: 16 bytes of cookies; 17 SPIs is past our limit. */
	b[4] = ISAKMP_PROTO_ISAKMP;
	b[5] = 16;
	b[6] = 0;
	b[7] = 1;
	buf_init(&body, b, 8 + 16);
	assert_int_equal(isakmp_parse_delete(&body, &d), 0);
	b[5] = 16;
	b[7] = 17;
	buf_init(&body, b, 8 + 16 * 17);
	assert_int_equal(isakmp_parse_delete(&body, &d), KZ_ETOOBIG);
}

static void test_names(void **state)
{
	assert_string_equal(isakmp_notify_name(ISAKMP_N_NO_PROPOSAL_CHOSEN), "NO-PROPOSAL-CHOSEN");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_INVALID_ID_INFORMATION),
			    "INVALID-ID-INFORMATION");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_INVALID_HASH_INFORMATION),
			    "INVALID-HASH-INFORMATION");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_AUTHENTICATION_FAILED),
			    "AUTHENTICATION-FAILED");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_PAYLOAD_MALFORMED), "PAYLOAD-MALFORMED");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_INVALID_PAYLOAD_TYPE),
			    "INVALID-PAYLOAD-TYPE");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_INITIAL_CONTACT), "INITIAL-CONTACT");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_DPD_R_U_THERE), "R-U-THERE");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_DPD_R_U_THERE_ACK), "R-U-THERE-ACK");
	assert_string_equal(isakmp_notify_name(ISAKMP_N_RESPONDER_LIFETIME), "RESPONDER-LIFETIME");
	assert_string_equal(isakmp_notify_name(30), "UNEQUAL-PAYLOAD-LENGTHS");
	assert_string_equal(isakmp_notify_name(0), "NOTIFY-0");
	assert_string_equal(isakmp_notify_name(31), "NOTIFY-31");
	/* Two unnamed numbers in one log line keep their own text. */
	{
		const char *a = isakmp_notify_name(40000), *b = isakmp_payload_name(99);

		assert_string_equal(a, "NOTIFY-40000");
		assert_string_equal(b, "PAYLOAD-99");
	}
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_SA), "SA");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_KE), "KE");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_ID), "ID");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_HASH), "HASH");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_NONCE), "NONCE");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_N), "N");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_D), "D");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_VID), "VID");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_NATD), "NAT-D");
	assert_string_equal(isakmp_payload_name(ISAKMP_NP_NATOA), "NAT-OA");
	assert_string_equal(isakmp_exch_name(ISAKMP_XCHG_IDPROT), "Main mode");
	assert_string_equal(isakmp_exch_name(ISAKMP_XCHG_AGGR), "Aggressive mode");
	assert_string_equal(isakmp_exch_name(ISAKMP_XCHG_QUICK), "Quick Mode");
	assert_string_equal(isakmp_exch_name(ISAKMP_XCHG_INFO), "Informational");
	assert_string_equal(isakmp_exch_name(200), "EXCHANGE-200");
}

/* ---- strongSwan 5.9.8 captures ---- */

struct capture {
	uint8_t b[2048];
	size_t len;
};

static void load_file(const char *file, struct capture *c);

static void load_capture(const char *name, struct capture *c)
{
	char file[64];

	snprintf(file, sizeof(file), "%s-strongswan.bin", name);
	load_file(file, c);
}

static void load_file(const char *file, struct capture *c)
{
	const char *src = getenv("KZ_SOURCE_DIR");
	char path[4096];
	FILE *f;

	if (!src || !*src)
		src = KZ_SOURCE_DIR;
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/ike_isakmp/%s", src, file);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	c->len = fread(c->b, 1, sizeof(c->b), f);
	fclose(f);
	assert_true(c->len >= ISAKMP_HDR_LEN);
}

static const uint8_t vid_rfc3947[16] = { 0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
					 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f };
static const uint8_t vid_dpd[16] = { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
				     0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 };

static bool has_vid(const struct isakmp_digest *d, const uint8_t *vid, size_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->p[i].type == ISAKMP_NP_VID && d->p[i].body.len == len &&
		    memcmp(d->p[i].body.data, vid, len) == 0)
			return true;
	return false;
}

/* The phase 1 transform strongSwan sends for aes256-sha256-modp2048. */
static void check_p1_transform(const struct isakmp_transform *t, uint32_t keylen, uint32_t hash,
			       uint32_t group)
{
	/* attribute type, value */
	const uint32_t want[][2] = {
		{ IKE_ATTR_ENC, IKE_ENC_AES_CBC }, { IKE_ATTR_KEY_LEN, keylen },
		{ IKE_ATTR_HASH, hash },           { IKE_ATTR_GROUP, group },
		{ IKE_ATTR_AUTH, IKE_AUTH_PSK },   { IKE_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS },
		{ IKE_ATTR_LIFE_DURATION, 15840 },
	};
	uint32_t v;

	assert_int_equal(t->id, ISAKMP_KEY_IKE);
	assert_int_equal(t->nattr, 7);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(isakmp_attr_get(t, (uint16_t)want[i][0], &v));
		assert_int_equal(v, want[i][1]);
	}
}

/* Rebuilding a parsed SA gives strongSwan's bytes back. */
static void check_sa_rebuild(const struct isakmp_payload *p, const struct isakmp_sa *sa)
{
	uint8_t b[1024];
	struct isakmp_chain c;
	struct wbuf w;

	wbuf_init(&w, b, sizeof(b));
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_sa(&c, sa), 0);
	assert_int_equal(w.len, p->raw_len);
	assert_memory_equal(b + 1, p->raw + 1, w.len - 1); /* next payload differs */
}

static void test_strongswan_main_mode(void **state)
{
	struct capture c;
	struct isakmp_digest d;
	static struct isakmp_sa sa;
	uint8_t icky[8];

	/* MM1: SA (2 transforms), 5 VIDs. */
	load_capture("mm1", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(d.hdr.exch, ISAKMP_XCHG_IDPROT);
	assert_int_equal(d.hdr.flags, 0);
	assert_int_equal(d.hdr.msgid, 0);
	assert_int_equal(d.hdr.len, 216);
	memcpy(icky, d.hdr.icookie, 8);
	assert_memory_equal(d.hdr.rcookie, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(d.n, 6);
	assert_int_equal(d.p[0].type, ISAKMP_NP_SA);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_VID), 5);
	assert_true(has_vid(&d, vid_rfc3947, 16));
	assert_true(has_vid(&d, vid_dpd, 16));
	assert_int_equal(isakmp_parse_sa(&d.p[0].body, &sa), 0);
	assert_int_equal(sa.np, 1);
	assert_int_equal(sa.p[0].num, 1);
	assert_int_equal(sa.p[0].proto, ISAKMP_PROTO_ISAKMP);
	assert_int_equal(sa.p[0].spi_size, 0);
	assert_int_equal(sa.p[0].nt, 2);
	assert_int_equal(sa.p[0].t[0].num, 1);
	assert_int_equal(sa.p[0].t[1].num, 2);
	check_p1_transform(&sa.p[0].t[0], 256, IKE_HASH_SHA2_256, 14);
	check_p1_transform(&sa.p[0].t[1], 128, IKE_HASH_SHA1, 2);
	check_sa_rebuild(&d.p[0], &sa);
	check_truncations(c.b, c.len);

	/* MM2: the chosen transform, the responder cookie. */
	load_capture("mm2", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_memory_equal(d.hdr.icookie, icky, 8);
	assert_memory_not_equal(d.hdr.rcookie, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(d.n, 5);
	assert_int_equal(isakmp_parse_sa(&d.p[0].body, &sa), 0);
	assert_int_equal(sa.p[0].nt, 1);
	check_p1_transform(&sa.p[0].t[0], 256, IKE_HASH_SHA2_256, 14);
	check_sa_rebuild(&d.p[0], &sa);
	assert_true(has_vid(&d, vid_rfc3947, 16));
	check_truncations(c.b, c.len);

	/* MM3 and MM4: KE (MODP-2048), NONCE, two RFC 3947 NAT-D. */
	for (int i = 3; i <= 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "mm%d", i);
		load_capture(name, &c);
		assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
		assert_int_equal(d.hdr.len, 396);
		assert_int_equal(d.n, 4);
		assert_int_equal(d.p[0].type, ISAKMP_NP_KE);
		assert_int_equal(d.p[0].body.len, 256);
		assert_int_equal(d.p[1].type, ISAKMP_NP_NONCE);
		assert_int_equal(d.p[1].body.len, 32);
		assert_int_equal(isakmp_count(&d, ISAKMP_NP_NATD), 2);
		assert_int_equal(isakmp_find(&d, ISAKMP_NP_NATD)->body.len, 32); /* SHA2-256 */
		check_truncations(c.b, c.len);
	}

	/* MM5, MM6: encrypted (ID HASH inside), body opaque. */
	load_capture("mm5", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_true(d.hdr.flags & ISAKMP_FLAG_ENC);
	assert_int_equal(d.hdr.np, ISAKMP_NP_ID);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.body.len, c.len - ISAKMP_HDR_LEN);
	assert_int_equal(d.body.len % 16, 0); /* AES-CBC blocks */
	load_capture("mm6", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(d.hdr.exch, ISAKMP_XCHG_IDPROT);
	assert_int_equal(d.body.len, 64);

	/* Quick Mode and informational: HASH first, a message id. */
	{
		static const char *const names[] = { "mm-qm1", "mm-qm2", "mm-qm3",
						     "mm-info-delete-esp", "mm-info-delete-ike" };

		for (size_t i = 0; i < 5; i++) {
			load_capture(names[i], &c);
			assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
			assert_true(d.hdr.flags & ISAKMP_FLAG_ENC);
			assert_int_equal(d.hdr.np, ISAKMP_NP_HASH);
			assert_int_equal(d.hdr.exch, i < 3 ? ISAKMP_XCHG_QUICK : ISAKMP_XCHG_INFO);
			assert_int_not_equal(d.hdr.msgid, 0);
			assert_memory_equal(d.hdr.icookie, icky, 8);
		}
	}
}

static void test_strongswan_aggressive_mode(void **state)
{
	struct capture c;
	struct isakmp_digest d;
	static struct isakmp_sa sa;
	struct isakmp_id id;
	const struct isakmp_payload *p;

	/* AM1: SA KE NONCE ID(KEY_ID site-a) and 5 VIDs. */
	load_capture("am1", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(d.hdr.exch, ISAKMP_XCHG_AGGR);
	assert_int_equal(d.hdr.len, 526);
	assert_int_equal(d.n, 9);
	assert_int_equal(d.p[0].type, ISAKMP_NP_SA);
	assert_int_equal(d.p[1].type, ISAKMP_NP_KE);
	assert_int_equal(d.p[2].type, ISAKMP_NP_NONCE);
	assert_int_equal(d.p[3].type, ISAKMP_NP_ID);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_VID), 5);
	assert_int_equal(isakmp_parse_sa(&d.p[0].body, &sa), 0);
	assert_int_equal(sa.p[0].nt, 2);
	check_p1_transform(&sa.p[0].t[0], 256, IKE_HASH_SHA2_256, 14);
	check_sa_rebuild(&d.p[0], &sa);
	assert_int_equal(isakmp_parse_id(&d.p[3].body, &id), 0);
	assert_int_equal(id.type, ISAKMP_ID_KEY_ID);
	assert_int_equal(id.proto, 0);
	assert_int_equal(id.port, 0);
	assert_int_equal(id.data.len, 6);
	assert_memory_equal(id.data.data, "site-a", 6);
	check_truncations(c.b, c.len);

	/* AM2: SA KE NONCE ID(site-b) 4 VIDs, NAT-D NAT-D, HASH_R. */
	load_capture("am2", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(d.n, 11);
	assert_int_equal(d.p[10].type, ISAKMP_NP_HASH);
	assert_int_equal(d.p[10].body.len, 32);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_NATD), 2);
	assert_true(has_vid(&d, vid_rfc3947, 16));
	p = isakmp_find(&d, ISAKMP_NP_ID);
	assert_non_null(p);
	assert_int_equal(isakmp_parse_id(&p->body, &id), 0);
	assert_int_equal(id.data.len, 6);
	assert_memory_equal(id.data.data, "site-b", 6);
	assert_int_equal(isakmp_parse_sa(&d.p[0].body, &sa), 0);
	assert_int_equal(sa.p[0].nt, 1);
	check_sa_rebuild(&d.p[0], &sa);
	check_truncations(c.b, c.len);

	/* AM3 floated to 4500: encrypted HASH_I (and NAT-D). */
	load_capture("am3", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_true(d.hdr.flags & ISAKMP_FLAG_ENC);
	assert_int_equal(d.hdr.exch, ISAKMP_XCHG_AGGR);
	assert_int_equal(d.hdr.np, ISAKMP_NP_HASH);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.body.len, 112);
}

/* Hand-made seeds of the corpus: what strongSwan did not send in clear. */
static void test_corpus_seeds(void **state)
{
	struct capture c;
	struct isakmp_digest d;
	static struct isakmp_sa sa;
	struct isakmp_id id;
	struct isakmp_notify n;
	struct isakmp_delete del;
	uint32_t v;

	/* Quick Mode 1 in clear: HASH SA NONCE KE ID ID NAT-OA. */
	load_file("qm1-plain.bin", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(d.hdr.exch, ISAKMP_XCHG_QUICK);
	assert_int_equal(d.n, 7);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_ID), 2);
	assert_int_equal(d.p[6].type, ISAKMP_NP_NATOA);
	assert_int_equal(isakmp_parse_sa(&isakmp_find(&d, ISAKMP_NP_SA)->body, &sa), 0);
	assert_int_equal(sa.np, 2);
	assert_int_equal(sa.p[0].proto, ISAKMP_PROTO_ESP);
	assert_memory_equal(sa.p[0].spi, "\xc0\x01\xd0\x0d", 4);
	assert_int_equal(sa.p[0].nt, 2);
	assert_int_equal(sa.p[0].t[0].id, ESP_AES_CBC);
	assert_int_equal(sa.p[0].t[0].attr[1].value, 86400);
	assert_int_equal(sa.p[0].t[0].attr[3].value, 4608000); /* 8-byte TLV */
	assert_true(isakmp_attr_get(&sa.p[0].t[0], IPSEC_ATTR_AUTH, &v));
	assert_int_equal(v, IPSEC_AUTH_HMAC_SHA2_256);
	assert_true(isakmp_attr_get(&sa.p[0].t[1], IPSEC_ATTR_ENCAP, &v));
	assert_int_equal(v, IPSEC_ENCAP_UDP_TUNNEL_DRAFT);
	assert_int_equal(isakmp_parse_id(&d.p[5].body, &id), 0);
	assert_int_equal(id.type, ISAKMP_ID_IPV4_ADDR_SUBNET);
	assert_int_equal(id.port, 500);
	check_truncations(c.b, c.len);

	/* DPD R-U-THERE. */
	load_file("info-dpd-plain.bin", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(isakmp_parse_notify(&isakmp_find(&d, ISAKMP_NP_N)->body, &n), 0);
	assert_int_equal(n.type, ISAKMP_N_DPD_R_U_THERE);
	assert_int_equal(n.spi.len, 16);
	assert_int_equal(n.data.len, 4);
	check_truncations(c.b, c.len);

	/* Delete of 3 ESP SPIs, NO-PROPOSAL-CHOSEN, Delete of an ISAKMP SA. */
	load_file("info-delete-plain.bin", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_D), 2);
	assert_int_equal(isakmp_parse_delete(&d.p[1].body, &del), 0);
	assert_int_equal(del.nspi, 3);
	assert_int_equal(isakmp_parse_notify(&d.p[2].body, &n), 0);
	assert_int_equal(n.type, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(isakmp_parse_delete(&d.p[3].body, &del), 0);
	assert_int_equal(del.spi_size, 16);
	check_truncations(c.b, c.len);

	/* Aggressive mode with the draft NAT-T payloads, cookies as the SPI,
	 * an opaque attribute and an unknown empty payload. */
	load_file("am1-draft-natt.bin", &c);
	assert_int_equal(isakmp_parse_message(c.b, c.len, &d), 0);
	assert_int_equal(d.n, 9);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_NATD_DRAFT), 2);
	assert_int_equal(isakmp_count(&d, ISAKMP_NP_NATOA_DRAFT), 1);
	assert_int_equal(d.p[8].type, 200);
	assert_int_equal(d.p[8].body.len, 0);
	assert_int_equal(isakmp_parse_sa(&d.p[0].body, &sa), 0);
	assert_int_equal(sa.p[0].spi_size, 0);
	assert_int_equal(sa.p[0].t[0].nattr, 8);
	assert_true(sa.p[0].t[0].attr[7].opaque);
	assert_true(isakmp_attr_get(&sa.p[0].t[0], IKE_ATTR_LIFE_DURATION, &v));
	assert_int_equal(v, 86400);
	check_truncations(c.b, c.len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_roundtrip_message),
		cmocka_unit_test(test_roundtrip_phase2_sa),
		cmocka_unit_test(test_roundtrip_id_notify_delete),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_length_fields),
		cmocka_unit_test(test_zero_length_and_limits),
		cmocka_unit_test(test_min_lengths),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_sa_structure),
		cmocka_unit_test(test_sa_limits),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_notify_sizes),
		cmocka_unit_test(test_delete_sizes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_strongswan_main_mode),
		cmocka_unit_test(test_strongswan_aggressive_mode),
		cmocka_unit_test(test_corpus_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
