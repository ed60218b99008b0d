/* test_ike_crypto.c - IKEv1 key derivation, message protection and
 * Diffie-Hellman (src/ike/crypto.c, src/ike/dh.c).
 *
 * 1. Known answers from the RFC 2409 definitions: every value is computed
 *    again here, step by step, with OpenSSL's one-shot HMAC() and
 *    EVP_Digest(), including appendix B key expansion.
 * 2. Exchanges between two strongSwan charons (tests/unit/data/ike/): our
 *    derivation must give charon's SKEYID*, key, IVs, HASH_I/R and KEYMAT,
 *    and must decrypt the captured messages 5, 6 and Quick Mode 1.
 * 3. Diffie-Hellman: agreement in every group, lengths, bad peer values.
 * 4. CBC: a NIST vector, IV chaining, DES and 3DES (legacy provider). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ike/crypto.h"
#include "lib/buf.h"
#include "lib/err.h"

/* ---- helpers ---- */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (s[0] && s[1]) {
		assert_true(n < cap);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	assert_true(*s == '\0');
	return n;
}

static const EVP_MD *ref_md(enum kz_hash h)
{
	switch (h) {
	case KZ_HASH_MD5:
		return EVP_md5();
	case KZ_HASH_SHA1:
		return EVP_sha1();
	case KZ_HASH_SHA2_256:
		return EVP_sha256();
	case KZ_HASH_SHA2_384:
		return EVP_sha384();
	default:
		return EVP_sha512();
	}
}

/* A growing concatenation buffer for the reference computations. */
struct cat {
	uint8_t b[4096];
	size_t n;
};

static void cat_reset(struct cat *c)
{
	c->n = 0;
}

static void cat_add(struct cat *c, const void *p, size_t len)
{
	assert_true(c->n + len <= sizeof(c->b));
	memcpy(c->b + c->n, p, len);
	c->n += len;
}

static void cat_byte(struct cat *c, uint8_t v)
{
	cat_add(c, &v, 1);
}

/* c = the parts one after the other: CAT(&c, { p, len }, ...) */
static void cat_chunks(struct cat *c, const struct ike_chunk *parts, size_t n)
{
	size_t i;

	cat_reset(c);
	for (i = 0; i < n; i++)
		cat_add(c, parts[i].p, parts[i].len);
}

#define CAT(c, ...)                                                \
	cat_chunks((c), (const struct ike_chunk[]){ __VA_ARGS__ }, \
		   sizeof((const struct ike_chunk[]){ __VA_ARGS__ }) / sizeof(struct ike_chunk))

/* prf = HMAC, one shot, as the reference. */
static void ref_prf(enum kz_hash h, const void *key, size_t klen, const struct cat *c, uint8_t *out)
{
	unsigned int n = 0;

	assert_non_null(HMAC(ref_md(h), key, (int)klen, c->b, c->n, out, &n));
	assert_int_equal(n, ike_hash_len(h));
}

static void ref_hash(enum kz_hash h, const struct cat *c, uint8_t *out)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(c->b, c->n, out, &n, ref_md(h), NULL), 1);
	assert_int_equal(n, ike_hash_len(h));
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i + (i >> 3));
}

/* ---- 1. RFC 2409 known answers computed independently ---- */

static void test_prf_rfc_vectors(void **state)
{
	/* RFC 2202 / RFC 4231 test case 2: key "Jefe". */
	static const char data[] = "what do ya want for nothing?";
	static const struct {
		enum kz_hash h;
		const char *hex;
	} v[] = {
		{ KZ_HASH_MD5, "750c783e6ab0b503eaa86e310a5db738" },
		{ KZ_HASH_SHA1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		{ KZ_HASH_SHA2_256,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ KZ_HASH_SHA2_512,
		  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	};
	uint8_t want[IKE_MAX_HASH], got[IKE_MAX_HASH];
	struct ike_chunk parts[3];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = unhex(v[i].hex, want, sizeof(want));
		assert_int_equal(n, ike_hash_len(v[i].h));
		/* Split into parts, one of them empty: the prf sees the
		 * concatenation. */
		parts[0] = (struct ike_chunk){ data, 5 };
		parts[1] = (struct ike_chunk){ data + 5, 0 };
		parts[2] = (struct ike_chunk){ data + 5, strlen(data) - 5 };
		memset(got, 0, sizeof(got));
		assert_int_equal(ike_prf(v[i].h, "Jefe", 4, parts, 3, got), 0);
		assert_memory_equal(got, want, n);
	}
	assert_int_equal(ike_prf(KZ_HASH_SHA1, "", 0, parts, 1, got), KZ_EINVAL);
	assert_int_equal(ike_prf(KZ_HASH_COUNT, "k", 1, parts, 1, got), KZ_EINVAL);
}

static void test_lengths(void **state)
{
	assert_int_equal(ike_crypto_init(), 0);
	assert_int_equal(ike_hash_len(KZ_HASH_MD5), 16);
	assert_int_equal(ike_hash_len(KZ_HASH_SHA1), 20);
	assert_int_equal(ike_hash_len(KZ_HASH_SHA2_256), 32);
	assert_int_equal(ike_hash_len(KZ_HASH_SHA2_384), 48);
	assert_int_equal(ike_hash_len(KZ_HASH_SHA2_512), 64);
	assert_int_equal(ike_enc_keylen(KZ_ENC_AES_CBC_128), 16);
	assert_int_equal(ike_enc_keylen(KZ_ENC_AES_CBC_192), 24);
	assert_int_equal(ike_enc_keylen(KZ_ENC_AES_CBC_256), 32);
	assert_int_equal(ike_enc_keylen(KZ_ENC_3DES_CBC), 24);
	assert_int_equal(ike_enc_keylen(KZ_ENC_DES_CBC), 8);
	assert_int_equal(ike_enc_block(KZ_ENC_AES_CBC_192), 16);
	assert_int_equal(ike_enc_block(KZ_ENC_3DES_CBC), 8);
	assert_int_equal(ike_enc_block(KZ_ENC_DES_CBC), 8);
	assert_int_equal(ike_enc_block(KZ_ENC_AES_GCM_128), 0);
	assert_int_equal(ike_enc_block(KZ_ENC_NULL), 0);
}

struct kat_case {
	enum kz_hash h;
	enum kz_enc e;
	int expands; /* SKEYID_e shorter than the key: appendix B applies */
};

static void kat_one(const struct kat_case *tc)
{
	uint8_t psk[19], ni[16], nr[24], gxy[128], ck_i[8], ck_r[8], gxi[128], gxr[128];
	uint8_t sa_b[52], idi[8], idr[12], gqm[96], last[16];
	uint8_t skeyid[IKE_MAX_HASH], sd[IKE_MAX_HASH], sa[IKE_MAX_HASH], se[IKE_MAX_HASH];
	uint8_t key[IKE_MAX_HASH * 3], kn[IKE_MAX_HASH], ref[IKE_MAX_HASH], got[IKE_MAX_HASH];
	uint8_t km_ref[4 * IKE_MAX_HASH], km[4 * IKE_MAX_HASH],
		spib[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t iv[IKE_MAX_BLOCK];
	static struct cat c;
	struct ike_keys k;
	size_t hlen = ike_hash_len(tc->h), klen = ike_enc_keylen(tc->e);
	size_t blk = ike_enc_block(tc->e), off, need;
	int pfs, i;

	memcpy(psk, "kizuna test psk 123", sizeof(psk));
	fill(ni, sizeof(ni), 1);
	fill(nr, sizeof(nr), 2);
	fill(gxy, sizeof(gxy), 3);
	gxy[0] = 0; /* a leading zero byte stays part of g^xy */
	fill(ck_i, 8, 4);
	fill(ck_r, 8, 5);
	fill(gxi, sizeof(gxi), 6);
	fill(gxr, sizeof(gxr), 7);
	fill(sa_b, sizeof(sa_b), 8);
	fill(idi, sizeof(idi), 9);
	fill(idr, sizeof(idr), 10);
	fill(gqm, sizeof(gqm), 11);
	fill(last, sizeof(last), 12);

	assert_int_equal(ike_derive_psk(tc->h, tc->e, psk, sizeof(psk), ni, sizeof(ni), nr,
					sizeof(nr), gxy, sizeof(gxy), ck_i, ck_r, &k),
			 0);
	assert_int_equal(k.hlen, hlen);
	assert_int_equal(k.enc_key_len, klen);
	assert_int_equal(k.block, blk);
	assert_int_equal(k.hash, tc->h);
	assert_int_equal(k.enc, tc->e);

	/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b) */
	CAT(&c, { ni, sizeof(ni) }, { nr, sizeof(nr) });
	ref_prf(tc->h, psk, sizeof(psk), &c, skeyid);
	assert_memory_equal(k.skeyid, skeyid, hlen);

	/* SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0) */
	CAT(&c, { gxy, sizeof(gxy) }, { ck_i, 8 }, { ck_r, 8 }, { "\0", 1 });
	ref_prf(tc->h, skeyid, hlen, &c, sd);
	assert_memory_equal(k.skeyid_d, sd, hlen);

	/* SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1) */
	CAT(&c, { sd, hlen }, { gxy, sizeof(gxy) }, { ck_i, 8 }, { ck_r, 8 }, { "\1", 1 });
	ref_prf(tc->h, skeyid, hlen, &c, sa);
	assert_memory_equal(k.skeyid_a, sa, hlen);

	/* SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) */
	CAT(&c, { sa, hlen }, { gxy, sizeof(gxy) }, { ck_i, 8 }, { ck_r, 8 }, { "\2", 1 });
	ref_prf(tc->h, skeyid, hlen, &c, se);
	assert_memory_equal(k.skeyid_e, se, hlen);

	/* Appendix B: the key is SKEYID_e, or K1 | K2 | ... with
	 * K1 = prf(SKEYID_e, 0) and Kn = prf(SKEYID_e, Kn-1). */
	assert_int_equal(tc->expands, hlen < klen);
	if (hlen >= klen) {
		memcpy(key, se, klen);
	} else {
		cat_reset(&c);
		cat_byte(&c, 0);
		ref_prf(tc->h, se, hlen, &c, key);
		for (off = hlen; off < klen; off += hlen) {
			cat_reset(&c);
			cat_add(&c, key + off - hlen, hlen);
			ref_prf(tc->h, se, hlen, &c, key + off);
		}
		/* The expanded key is not a prefix of SKEYID_e. */
		assert_memory_not_equal(key, se, hlen);
	}
	assert_memory_equal(k.enc_key, key, klen);

	/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b),
	 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) */
	for (i = 0; i < 2; i++) {
		const uint8_t *g1 = i ? gxr : gxi, *g2 = i ? gxi : gxr;
		const uint8_t *ck1 = i ? ck_r : ck_i, *ck2 = i ? ck_i : ck_r, *id = i ? idr : idi;
		size_t id_len = i ? sizeof(idr) : sizeof(idi);

		CAT(&c, { g1, sizeof(gxi) }, { g2, sizeof(gxr) }, { ck1, 8 }, { ck2, 8 },
		    { sa_b, sizeof(sa_b) }, { id, id_len });
		ref_prf(tc->h, skeyid, hlen, &c, ref);
		assert_int_equal(ike_hash_auth(&k, g1, sizeof(gxi), g2, sizeof(gxr), ck1, ck2, sa_b,
					       sizeof(sa_b), id, id_len, got),
				 0);
		assert_memory_equal(got, ref, hlen);
	}

	/* Phase 1 IV = hash(g^xi | g^xr) cut to the block */
	CAT(&c, { gxi, sizeof(gxi) }, { gxr, sizeof(gxr) });
	ref_hash(tc->h, &c, ref);
	memset(iv, 0xee, sizeof(iv));
	assert_int_equal(ike_iv_phase1(&k, gxi, sizeof(gxi), gxr, sizeof(gxr), iv), 0);
	assert_memory_equal(iv, ref, blk);

	/* Phase 2 IV = hash(last phase 1 block | M-ID), M-ID big-endian */
	CAT(&c, { last, blk }, { "\xa1\xb2\xc3\xd4", 4 });
	ref_hash(tc->h, &c, ref);
	assert_int_equal(ike_iv_phase2(&k, last, 0xa1b2c3d4u, iv), 0);
	assert_memory_equal(iv, ref, blk);

	/* KEYMAT, without and with PFS, over more than three prf rounds:
	 * K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
	 * Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b) */
	need = 3 * hlen + 5;
	for (pfs = 0; pfs < 2; pfs++) {
		for (off = 0; off < need; off += hlen) {
			cat_reset(&c);
			if (off)
				cat_add(&c, kn, hlen);
			if (pfs)
				cat_add(&c, gqm, sizeof(gqm));
			cat_byte(&c, 3); /* PROTO_IPSEC_ESP */
			cat_add(&c, spib, 4);
			cat_add(&c, ni, sizeof(ni));
			cat_add(&c, nr, sizeof(nr));
			ref_prf(tc->h, sd, hlen, &c, kn);
			memcpy(km_ref + off, kn, hlen);
		}
		memset(km, 0, sizeof(km));
		assert_int_equal(ike_keymat(&k, pfs ? gqm : NULL, pfs ? sizeof(gqm) : 0, 3,
					    0x12345678u, ni, sizeof(ni), nr, sizeof(nr), km, need),
				 0);
		assert_memory_equal(km, km_ref, need);
		/* Nothing past what was asked for is written. */
		assert_int_equal(km[need], 0);
	}
}

static void test_kat_rfc2409(void **state)
{
	static const struct kat_case cases[] = {
		{ KZ_HASH_SHA2_256, KZ_ENC_AES_CBC_256, 0 },
		{ KZ_HASH_SHA1, KZ_ENC_AES_CBC_256, 1 }, /* 20 < 32: K1 | K2 */
		{ KZ_HASH_MD5, KZ_ENC_AES_CBC_256, 1 },  /* 16 < 32: K1 | K2 */
		{ KZ_HASH_MD5, KZ_ENC_AES_CBC_192, 1 },
		{ KZ_HASH_MD5, KZ_ENC_3DES_CBC, 1 },  /* 16 < 24 */
		{ KZ_HASH_SHA1, KZ_ENC_3DES_CBC, 1 }, /* 20 < 24 */
		{ KZ_HASH_SHA1, KZ_ENC_AES_CBC_128, 0 },
		{ KZ_HASH_SHA2_384, KZ_ENC_AES_CBC_128, 0 },
		{ KZ_HASH_SHA2_512, KZ_ENC_AES_CBC_192, 0 },
		{ KZ_HASH_SHA1, KZ_ENC_DES_CBC, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu: hash %d enc %d\n", i, cases[i].h, cases[i].e);
		kat_one(&cases[i]);
	}
}

static void test_derive_rejects(void **state)
{
	uint8_t n[16] = { 1 }, g[96] = { 2 }, ck[8] = { 3 };
	struct ike_keys k;

	memset(&k, 0x5a, sizeof(k));
	/* Phase 1 has no GCM or NULL cipher. */
	assert_int_equal(ike_derive_psk(KZ_HASH_SHA1, KZ_ENC_AES_GCM_128, (const uint8_t *)"k", 1,
					n, 16, n, 16, g, 96, ck, ck, &k),
			 KZ_EINVAL);
	assert_int_equal(ike_derive_psk(KZ_HASH_SHA1, KZ_ENC_AES_CBC_128, (const uint8_t *)"k", 0,
					n, 16, n, 16, g, 96, ck, ck, &k),
			 KZ_EINVAL);
	assert_int_equal(ike_derive_psk(KZ_HASH_COUNT, KZ_ENC_AES_CBC_128, (const uint8_t *)"k", 1,
					n, 16, n, 16, g, 96, ck, ck, &k),
			 KZ_EINVAL);
	/* *k untouched on failure */
	assert_int_equal(k.skeyid[0], 0x5a);
}

static void test_des_weak_keys(void **state)
{
	/* The four weak keys and a semi-weak pair, also with flipped
	 * parity bits (parity is ignored); then an ordinary key, and one
	 * bit away from a weak key. */
	static const struct {
		const char *key;
		int weak;
	} des[] = {
		{ "\x01\x01\x01\x01\x01\x01\x01\x01", 1 },
		{ "\x00\x00\x00\x00\x00\x00\x00\x00", 1 },
		{ "\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe", 1 },
		{ "\xe1\xe0\xe0\xe0\xf0\xf1\xf1\xf1", 1 },
		{ "\x1f\x1f\x1f\x1f\x0e\x0e\x0e\x0e", 1 },
		{ "\x01\xfe\x01\xfe\x01\xfe\x01\xfe", 1 },
		{ "\xfe\xe0\xfe\xe0\xfe\xf1\xfe\xf1", 1 },
		{ "\x13\x34\x57\x79\x9b\xbc\xdf\xf1", 0 },
		{ "\x01\x01\x01\x01\x01\x01\x01\x03", 0 },
	};
	uint8_t k3[24];
	uint8_t k1[8];
	size_t i;

	for (i = 0; i < sizeof(des) / sizeof(des[0]); i++) {
		memcpy(k1, des[i].key, 8);
		assert_int_equal(ike_des_key_is_weak(KZ_ENC_DES_CBC, k1) != 0, des[i].weak);
	}

	/* 3DES: a weak third key; K1 = K2; K2 = K3; K1 = K3 is allowed
	 * (two-key 3DES). */
	fill(k3, 24, 0x40);
	assert_false(ike_des_key_is_weak(KZ_ENC_3DES_CBC, k3));
	memcpy(k3 + 16, "\x1f\xe0\x1f\xe0\x0e\xf1\x0e\xf1", 8);
	assert_true(ike_des_key_is_weak(KZ_ENC_3DES_CBC, k3));
	fill(k3, 24, 0x40);
	memcpy(k3 + 8, k3, 8);
	assert_true(ike_des_key_is_weak(KZ_ENC_3DES_CBC, k3));
	fill(k3, 24, 0x40);
	memcpy(k3 + 16, k3 + 8, 8);
	k3[23] ^= 1; /* parity only */
	assert_true(ike_des_key_is_weak(KZ_ENC_3DES_CBC, k3));
	fill(k3, 24, 0x40);
	memcpy(k3 + 16, k3, 8);
	assert_false(ike_des_key_is_weak(KZ_ENC_3DES_CBC, k3));
	/* Not DES: never weak. */
	memset(k3, 1, sizeof(k3));
	assert_false(ike_des_key_is_weak(KZ_ENC_AES_CBC_128, k3));
}

/* ---- 2. strongSwan exchanges ---- */

#define VEC_MAX 64

struct vec {
	int n;
	char name[VEC_MAX][24];
	char text[VEC_MAX][24];
	uint8_t *val[VEC_MAX];
	size_t len[VEC_MAX];
};

static const char *data_dir(void)
{
	const char *d = getenv("KZ_SOURCE_DIR");

	return d ? d : KZ_SOURCE_DIR;
}

static void vec_load(struct vec *v, const char *file)
{
	char path[1024], line[8192], *eq, *val;
	FILE *f;
	size_t vl;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "%s/tests/unit/data/ike/%s", data_dir(), file);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strstr(line, " = ");
		assert_non_null(eq);
		*eq = '\0';
		val = eq + 3;
		assert_true(v->n < VEC_MAX);
		assert_true(strlen(line) < sizeof(v->name[0]));
		strcpy(v->name[v->n], line);
		if (strlen(val) < sizeof(v->text[0]))
			strcpy(v->text[v->n], val);
		vl = strlen(val) / 2;
		v->val[v->n] = calloc(1, vl + 1);
		assert_non_null(v->val[v->n]);
		/* Text fields (prf, enc, group) are not hex; only hex is decoded. */
		if (strspn(val, "0123456789abcdef") == strlen(val) && strlen(val) % 2 == 0)
			v->len[v->n] = unhex(val, v->val[v->n], vl + 1);
		v->n++;
	}
	fclose(f);
}

static void vec_free(struct vec *v)
{
	int i;

	for (i = 0; i < v->n; i++)
		free(v->val[i]);
}

static int vec_find(const struct vec *v, const char *name)
{
	int i;

	for (i = 0; i < v->n; i++) {
		if (!strcmp(v->name[i], name))
			return i;
	}
	return -1;
}

static const uint8_t *vget(const struct vec *v, const char *name, size_t *len)
{
	int i = vec_find(v, name);

	if (i < 0)
		fail_msg("vector has no %s", name);
	*len = v->len[i];
	return v->val[i];
}

static const char *vtext(const struct vec *v, const char *name)
{
	int i = vec_find(v, name);

	if (i < 0)
		fail_msg("vector has no %s", name);
	return v->text[i];
}

#define VGET(name) const uint8_t *name = vget(&v, #name, &name##_len)

struct name_val {
	const char *name;
	int val;
};

/* The value named s in a table; an unknown name fails the test. */
static int by_name(const struct name_val *t, size_t n, const char *what, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(s, t[i].name))
			return t[i].val;
	}
	fail_msg("unknown %s %s", what, s);
	return -1;
}

static const struct name_val prfs[] = {
	{ "md5", KZ_HASH_MD5 },           { "sha1", KZ_HASH_SHA1 },
	{ "sha2-256", KZ_HASH_SHA2_256 }, { "sha2-384", KZ_HASH_SHA2_384 },
	{ "sha2-512", KZ_HASH_SHA2_512 },
};
static const struct name_val encs[] = {
	{ "aes-cbc-128", KZ_ENC_AES_CBC_128 },
	{ "aes-cbc-192", KZ_ENC_AES_CBC_192 },
	{ "aes-cbc-256", KZ_ENC_AES_CBC_256 },
	{ "3des", KZ_ENC_3DES_CBC },
	{ "des", KZ_ENC_DES_CBC },
};

/* Walks decrypted Main mode / Quick Mode payloads (generic header: next
 * payload, reserved, length) and returns the body of the n-th one. */
static void payload_body(const uint8_t *p, size_t len, int nth, const uint8_t **body, size_t *blen)
{
	struct buf b, sub;
	uint8_t next, res;
	uint16_t plen;
	int i;

	buf_init(&b, p, len);
	for (i = 0; i <= nth; i++) {
		assert_int_equal(buf_get_u8(&b, &next), 0);
		assert_int_equal(buf_get_u8(&b, &res), 0);
		assert_int_equal(buf_get_u16(&b, &plen), 0);
		assert_true(plen >= 4);
		assert_int_equal(buf_get_sub(&b, plen - 4u, &sub), 0);
		if (i < nth)
			assert_true(next != 0);
	}
	*body = sub.data;
	*blen = sub.len;
}

static void strongswan_one(const char *file)
{
	struct vec v;
	size_t psk_len, cky_i_len, cky_r_len, sai_b_len, gxi_len, gxr_len, ni_len, nr_len;
	size_t idii_b_len, idir_b_len, gxy_len, skeyid_len, skeyid_d_len, skeyid_a_len;
	size_t skeyid_e_len, enc_key_len, iv_p1_len, hash_i_len, hash_r_len, msg5_enc_len;
	size_t msg6_enc_len, qm_msgid_len, qm_iv_len, qm1_enc_len, qm_hash1_len, blen, outl;
	uint8_t out[IKE_MAX_HASH], iv[IKE_MAX_BLOCK], buf[1024], km[256], sec[512];
	const uint8_t *body, *gqm = NULL;
	struct ike_keys k;
	struct ike_dh *dh;
	enum kz_hash h;
	enum kz_enc e;
	enum kz_group g;
	uint32_t mid;
	char nm[32];
	size_t gqm_len = 0, l1, l2, l3, l4, l5;
	int s, i;

	print_message("%s\n", file);
	vec_load(&v, file);
	h = (enum kz_hash)by_name(prfs, sizeof(prfs) / sizeof(prfs[0]), "prf", vtext(&v, "prf"));
	e = (enum kz_enc)by_name(encs, sizeof(encs) / sizeof(encs[0]), "enc", vtext(&v, "enc"));
	g = ike_group_from_id((uint16_t)atoi(vtext(&v, "group")));
	assert_int_not_equal(g, KZ_GROUP_NONE);
	VGET(psk);
	VGET(cky_i);
	VGET(cky_r);
	VGET(sai_b);
	VGET(gxi);
	VGET(gxr);
	VGET(ni);
	VGET(nr);
	VGET(idii_b);
	VGET(idir_b);
	VGET(gxy);
	VGET(skeyid);
	VGET(skeyid_d);
	VGET(skeyid_a);
	VGET(skeyid_e);
	VGET(enc_key);
	VGET(iv_p1);
	VGET(hash_i);
	VGET(hash_r);
	VGET(msg5_enc);
	VGET(msg6_enc);
	VGET(qm_msgid);
	VGET(qm_iv);
	VGET(qm1_enc);
	VGET(qm_hash1);
	if (vec_find(&v, "qm_gxy") >= 0)
		gqm = vget(&v, "qm_gxy", &gqm_len);

	/* The wire lengths are what our DH produces for the group. */
	assert_int_equal(gxi_len, ike_dh_pub_len(g));
	assert_int_equal(gxr_len, ike_dh_pub_len(g));
	assert_int_equal(gxy_len, ike_dh_shared_len(g));
	assert_int_equal(cky_i_len, 8);
	assert_int_equal(cky_r_len, 8);

	/* Our range check accepts charon's public value. */
	dh = ike_dh_new(g);
	assert_non_null(dh);
	outl = sizeof(sec);
	assert_int_equal(ike_dh_shared(dh, gxr, gxr_len, sec, &outl), 0);
	assert_int_equal(outl, gxy_len);
	ike_dh_free(dh);

	/* SKEYID, SKEYID_d/a/e and the cipher key */
	assert_int_equal(ike_derive_psk(h, e, psk, psk_len, ni, ni_len, nr, nr_len, gxy, gxy_len,
					cky_i, cky_r, &k),
			 0);
	assert_int_equal(skeyid_len, k.hlen);
	assert_memory_equal(k.skeyid, skeyid, skeyid_len);
	assert_memory_equal(k.skeyid_d, skeyid_d, skeyid_d_len);
	assert_memory_equal(k.skeyid_a, skeyid_a, skeyid_a_len);
	assert_memory_equal(k.skeyid_e, skeyid_e, skeyid_e_len);
	assert_int_equal(enc_key_len, k.enc_key_len);
	assert_memory_equal(k.enc_key, enc_key, enc_key_len);

	/* HASH_I and HASH_R */
	assert_int_equal(ike_hash_auth(&k, gxi, gxi_len, gxr, gxr_len, cky_i, cky_r, sai_b,
				       sai_b_len, idii_b, idii_b_len, out),
			 0);
	assert_int_equal(hash_i_len, k.hlen);
	assert_memory_equal(out, hash_i, hash_i_len);
	assert_int_equal(ike_hash_auth(&k, gxr, gxr_len, gxi, gxi_len, cky_r, cky_i, sai_b,
				       sai_b_len, idir_b, idir_b_len, out),
			 0);
	assert_memory_equal(out, hash_r, hash_r_len);

	/* Message 5 decrypts with the phase 1 IV to ID | HASH_I ... */
	assert_int_equal(ike_iv_phase1(&k, gxi, gxi_len, gxr, gxr_len, iv), 0);
	assert_int_equal(iv_p1_len, k.block);
	assert_memory_equal(iv, iv_p1, iv_p1_len);
	assert_true(msg5_enc_len <= sizeof(buf));
	memcpy(buf, msg5_enc, msg5_enc_len);
	assert_int_equal(ike_decrypt(&k, iv, buf, msg5_enc_len), 0);
	assert_memory_equal(iv, msg5_enc + msg5_enc_len - k.block, k.block);
	payload_body(buf, msg5_enc_len, 0, &body, &blen);
	assert_int_equal(blen, idii_b_len);
	assert_memory_equal(body, idii_b, blen);
	payload_body(buf, msg5_enc_len, 1, &body, &blen);
	assert_int_equal(blen, hash_i_len);
	assert_memory_equal(body, hash_i, blen);
	/* ... and encrypting that plaintext gives the wire bytes again. */
	memcpy(iv, iv_p1, iv_p1_len);
	assert_int_equal(ike_encrypt(&k, iv, buf, msg5_enc_len), 0);
	assert_memory_equal(buf, msg5_enc, msg5_enc_len);

	/* Message 6 chains from message 5's last block: ID | HASH_R. */
	assert_true(msg6_enc_len <= sizeof(buf));
	memcpy(buf, msg6_enc, msg6_enc_len);
	assert_int_equal(ike_decrypt(&k, iv, buf, msg6_enc_len), 0);
	payload_body(buf, msg6_enc_len, 0, &body, &blen);
	assert_memory_equal(body, idir_b, idir_b_len);
	payload_body(buf, msg6_enc_len, 1, &body, &blen);
	assert_int_equal(blen, hash_r_len);
	assert_memory_equal(body, hash_r, blen);

	/* Quick Mode: IV = hash(last phase 1 block | M-ID); message 1 starts
	 * with HASH(1). */
	assert_int_equal(qm_msgid_len, 4);
	mid = (uint32_t)qm_msgid[0] << 24 | (uint32_t)qm_msgid[1] << 16 |
		(uint32_t)qm_msgid[2] << 8 | qm_msgid[3];
	assert_int_equal(ike_iv_phase2(&k, msg6_enc + msg6_enc_len - k.block, mid, iv), 0);
	assert_memory_equal(iv, qm_iv, qm_iv_len);
	assert_true(qm1_enc_len <= sizeof(buf));
	memcpy(buf, qm1_enc, qm1_enc_len);
	assert_int_equal(ike_decrypt(&k, iv, buf, qm1_enc_len), 0);
	payload_body(buf, qm1_enc_len, 0, &body, &blen);
	assert_int_equal(blen, qm_hash1_len);
	assert_memory_equal(body, qm_hash1, blen);

	/* KEYMAT of both ESP SAs: encryption key | integrity key */
	for (s = 1; s <= 2; s++) {
		const uint8_t *proto, *spi, *sni, *snr, *want;
		uint32_t spiv = 0;

		snprintf(nm, sizeof(nm), "sa%d_protocol", s);
		proto = vget(&v, nm, &l1);
		snprintf(nm, sizeof(nm), "sa%d_spi", s);
		spi = vget(&v, nm, &l2);
		snprintf(nm, sizeof(nm), "sa%d_ni", s);
		sni = vget(&v, nm, &l3);
		snprintf(nm, sizeof(nm), "sa%d_nr", s);
		snr = vget(&v, nm, &l4);
		snprintf(nm, sizeof(nm), "sa%d_keymat", s);
		want = vget(&v, nm, &l5);
		assert_int_equal(l1, 1);
		assert_int_equal(l2, 4);
		assert_true(l5 <= sizeof(km));
		for (i = 0; i < 4; i++)
			spiv = spiv << 8 | spi[i];
		memset(km, 0, sizeof(km));
		assert_int_equal(
			ike_keymat(&k, gqm, gqm_len, proto[0], spiv, sni, l3, snr, l4, km, l5), 0);
		assert_memory_equal(km, want, l5);
	}
	vec_free(&v);
}

static void test_strongswan_aes256_sha256_modp2048(void **state)
{
	strongswan_one("strongswan-mm-aes256-sha256-modp2048.txt");
}

static void test_strongswan_aes128_sha1_modp1024_pfs(void **state)
{
	strongswan_one("strongswan-mm-aes128-sha1-modp1024.txt");
}

static void test_strongswan_3des_md5_modp768(void **state)
{
	strongswan_one("strongswan-mm-3des-md5-modp768.txt");
}

static void test_strongswan_aes256_sha1_modp1536(void **state)
{
	strongswan_one("strongswan-mm-aes256-sha1-modp1536.txt");
}

/* ---- 3. Diffie-Hellman ---- */

static const struct {
	enum kz_group g;
	uint16_t id;
	size_t pub, shared;
} groups[] = {
	{ KZ_GROUP_MODP768, 1, 96, 96 },     { KZ_GROUP_MODP1024, 2, 128, 128 },
	{ KZ_GROUP_MODP1536, 5, 192, 192 },  { KZ_GROUP_MODP2048, 14, 256, 256 },
	{ KZ_GROUP_MODP3072, 15, 384, 384 }, { KZ_GROUP_MODP4096, 16, 512, 512 },
	{ KZ_GROUP_ECP256, 19, 64, 32 },     { KZ_GROUP_ECP384, 20, 96, 48 },
};

static void test_dh_group_ids(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		assert_int_equal(ike_group_id(groups[i].g), groups[i].id);
		assert_int_equal(ike_group_from_id(groups[i].id), groups[i].g);
		assert_int_equal(ike_dh_pub_len(groups[i].g), groups[i].pub);
		assert_int_equal(ike_dh_shared_len(groups[i].g), groups[i].shared);
	}
	assert_int_equal(ike_group_id(KZ_GROUP_NONE), 0);
	assert_int_equal(ike_group_from_id(0), KZ_GROUP_NONE);
	assert_int_equal(ike_group_from_id(3), KZ_GROUP_NONE); /* EC2N: not supported */
	assert_int_equal(ike_group_from_id(21), KZ_GROUP_NONE);
	assert_int_equal(ike_dh_pub_len(KZ_GROUP_NONE), 0);
	assert_null(ike_dh_new(KZ_GROUP_NONE));
	assert_null(ike_dh_new(KZ_GROUP_COUNT));
	assert_int_equal(ike_dh_priv_bits(KZ_GROUP_MODP2048), 256);
	assert_int_equal(ike_dh_priv_bits(KZ_GROUP_ECP256), 0);
}

static void test_dh_agree(void **state)
{
	uint8_t pa[512], pb[512], sa[512], sb[512];
	size_t i, la, lb, pl;
	struct ike_dh *a, *b, *c;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		pl = groups[i].pub;
		a = ike_dh_new(groups[i].g);
		b = ike_dh_new(groups[i].g);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(ike_dh_group(a), groups[i].g);
		assert_int_equal(ike_dh_public(a, pa, pl), 0);
		assert_int_equal(ike_dh_public(b, pb, pl), 0);
		assert_int_equal(ike_dh_public(a, pa, pl - 1), KZ_EINVAL);
		assert_memory_not_equal(pa, pb, pl);
		la = sizeof(sa);
		lb = sizeof(sb);
		assert_int_equal(ike_dh_shared(a, pb, pl, sa, &la), 0);
		assert_int_equal(ike_dh_shared(b, pa, pl, sb, &lb), 0);
		assert_int_equal(la, groups[i].shared);
		assert_int_equal(lb, groups[i].shared);
		assert_memory_equal(sa, sb, la);
		/* A third party gets something else. */
		c = ike_dh_new(groups[i].g);
		assert_non_null(c);
		lb = sizeof(sb);
		assert_int_equal(ike_dh_shared(c, pa, pl, sb, &lb), 0);
		assert_memory_not_equal(sa, sb, la);
		/* Too little room. */
		lb = groups[i].shared - 1;
		assert_int_equal(ike_dh_shared(c, pa, pl, sb, &lb), KZ_ENOSPC);
		ike_dh_free(a);
		ike_dh_free(b);
		ike_dh_free(c);
	}
}

/* MODP private exponents have the size RFC 3526 advises, not the prime's:
 * groups 1 and 2 exactly (OpenSSL sets the top bit without q), the named
 * groups at most that and, over eight keys, close to it. */
static void test_dh_exponent_size(void **state)
{
	static const int want[] = { 160, 160, 224, 256, 320, 384 };
	struct ike_dh *dh;
	int i, j, bits, max;

	for (i = 0; i < 6; i++) {
		assert_int_equal(ike_dh_priv_bits(groups[i].g), want[i]);
		max = 0;
		for (j = 0; j < 8; j++) {
			dh = ike_dh_new(groups[i].g);
			assert_non_null(dh);
			bits = ike_dh_key_bits(dh);
			assert_true(bits <= want[i]);
			if (i < 2)
				assert_int_equal(bits, want[i]);
			if (bits > max)
				max = bits;
			ike_dh_free(dh);
		}
		assert_true(max > want[i] - 8);
	}
	/* full length on request, for the benchmark */
	dh = ike_dh_new_bits(KZ_GROUP_MODP2048, 2047);
	assert_non_null(dh);
	assert_true(ike_dh_key_bits(dh) > 2000);
	ike_dh_free(dh);
	/* below twice the strength OpenSSL estimates (112 bits for 2048) */
	assert_null(ike_dh_new_bits(KZ_GROUP_MODP2048, 200));
	dh = ike_dh_new(KZ_GROUP_ECP256);
	assert_int_equal(ike_dh_key_bits(dh), 0);
	ike_dh_free(dh);
}

/* The shared secret keeps its leading zero bytes: over many exchanges
 * in the smallest group, one in 256 secrets starts with 0x00. */
static void test_dh_shared_padding(void **state)
{
	uint8_t pa[96], pb[96], s1[96], s2[96];
	size_t l1, l2;
	int i, zero = 0;
	struct ike_dh *a = ike_dh_new(KZ_GROUP_MODP768), *b;

	assert_non_null(a);
	assert_int_equal(ike_dh_public(a, pa, 96), 0);
	for (i = 0; i < 2000 && zero < 1; i++) {
		b = ike_dh_new(KZ_GROUP_MODP768);
		assert_non_null(b);
		assert_int_equal(ike_dh_public(b, pb, 96), 0);
		l1 = l2 = 96;
		assert_int_equal(ike_dh_shared(a, pb, 96, s1, &l1), 0);
		assert_int_equal(ike_dh_shared(b, pa, 96, s2, &l2), 0);
		assert_int_equal(l1, 96);
		assert_memory_equal(s1, s2, 96);
		if (s1[0] == 0)
			zero++;
		ike_dh_free(b);
	}
	ike_dh_free(a);
	assert_true(zero > 0);
}

static void test_dh_modp_invalid(void **state)
{
	static BIGNUM *(*const primes[])(BIGNUM *) = {
		BN_get_rfc2409_prime_768,  BN_get_rfc2409_prime_1024, BN_get_rfc3526_prime_1536,
		BN_get_rfc3526_prime_2048, BN_get_rfc3526_prime_3072, BN_get_rfc3526_prime_4096,
	};
	uint8_t p[513], bad[513], sec[512];
	size_t i, pl, outl;
	struct ike_dh *dh;
	BIGNUM *bn;

	for (i = 0; i < 6; i++) {
		pl = groups[i].pub;
		dh = ike_dh_new(groups[i].g);
		assert_non_null(dh);
		bn = primes[i](NULL);
		assert_non_null(bn);
		assert_int_equal(BN_bn2binpad(bn, p, (int)pl), (int)pl);
		BN_free(bn);

		memset(bad, 0, pl); /* 0 */
		outl = sizeof(sec);
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), KZ_EINVAL);
		bad[pl - 1] = 1; /* 1 */
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), KZ_EINVAL);
		bad[pl - 1] = 2; /* 2 is fine */
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), 0);
		outl = sizeof(sec);
		memcpy(bad, p, pl); /* p */
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), KZ_EINVAL);
		bad[pl - 1] = (uint8_t)(p[pl - 1] - 1); /* p - 1 (p ends in 0xff) */
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), KZ_EINVAL);
		bad[pl - 1] = (uint8_t)(p[pl - 1] - 2); /* p - 2 is fine */
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), 0);
		outl = sizeof(sec);
		memset(bad, 0xff, pl); /* > p */
		assert_int_equal(ike_dh_shared(dh, bad, pl, sec, &outl), KZ_EINVAL);
		/* wrong lengths, also a valid value with a leading zero added
		 * or dropped */
		memset(bad, 0, sizeof(bad));
		bad[pl] = 5;
		assert_int_equal(ike_dh_shared(dh, bad, pl + 1, sec, &outl), KZ_EINVAL);
		assert_int_equal(ike_dh_shared(dh, bad + 2, pl - 1, sec, &outl), KZ_EINVAL);
		assert_int_equal(ike_dh_shared(dh, bad, 0, sec, &outl), KZ_EINVAL);
		ike_dh_free(dh);
	}
}

static void test_dh_ecp_invalid(void **state)
{
	uint8_t pub[96], bad[97], sec[48];
	size_t i, pl, outl;
	struct ike_dh *a, *b;

	for (i = 6; i < 8; i++) {
		pl = groups[i].pub;
		a = ike_dh_new(groups[i].g);
		b = ike_dh_new(groups[i].g);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(ike_dh_public(b, pub, pl), 0);

		/* (0, 0), which also stands for the point at infinity */
		memset(bad, 0, pl);
		outl = sizeof(sec);
		assert_int_equal(ike_dh_shared(a, bad, pl, sec, &outl), KZ_EINVAL);
		/* y changed in its last bit: not on the curve */
		memcpy(bad, pub, pl);
		bad[pl - 1] ^= 1;
		assert_int_equal(ike_dh_shared(a, bad, pl, sec, &outl), KZ_EINVAL);
		/* x changed */
		memcpy(bad, pub, pl);
		bad[0] ^= 0x80;
		assert_int_equal(ike_dh_shared(a, bad, pl, sec, &outl), KZ_EINVAL);
		/* all ones: coordinates beyond the field */
		memset(bad, 0xff, pl);
		assert_int_equal(ike_dh_shared(a, bad, pl, sec, &outl), KZ_EINVAL);
		/* the SEC1 form with its 0x04 is not the IKE wire form */
		bad[0] = 0x04;
		memcpy(bad + 1, pub, pl);
		assert_int_equal(ike_dh_shared(a, bad, pl + 1, sec, &outl), KZ_EINVAL);
		/* x alone */
		assert_int_equal(ike_dh_shared(a, pub, pl / 2, sec, &outl), KZ_EINVAL);
		/* and the real one still works */
		assert_int_equal(ike_dh_shared(a, pub, pl, sec, &outl), 0);
		assert_int_equal(outl, pl / 2);
		ike_dh_free(a);
		ike_dh_free(b);
	}
}

/* ---- 4. CBC ---- */

static struct ike_keys keys_for(enum kz_enc e, const uint8_t *key)
{
	struct ike_keys k;

	memset(&k, 0, sizeof(k));
	k.hash = KZ_HASH_SHA1;
	k.hlen = 20;
	k.enc = e;
	k.enc_key_len = ike_enc_keylen(e);
	k.block = ike_enc_block(e);
	memcpy(k.enc_key, key, k.enc_key_len);
	return k;
}

static void test_cbc_nist(void **state)
{
	/* NIST SP 800-38A F.2.1 / F.2.2, CBC-AES128 */
	uint8_t key[16], iv[16], pt[64], ct[64], buf[64];
	struct ike_keys k;

	unhex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
	unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	      pt, sizeof(pt));
	unhex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	      "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
	      ct, sizeof(ct));
	k = keys_for(KZ_ENC_AES_CBC_128, key);

	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	memcpy(buf, pt, 64);
	assert_int_equal(ike_encrypt(&k, iv, buf, 64), 0);
	assert_memory_equal(buf, ct, 64);
	assert_memory_equal(iv, ct + 48, 16);

	/* The same in two messages: the IV carries the chain. */
	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	memcpy(buf, pt, 64);
	assert_int_equal(ike_encrypt(&k, iv, buf, 16), 0);
	assert_memory_equal(iv, ct, 16);
	assert_int_equal(ike_encrypt(&k, iv, buf + 16, 48), 0);
	assert_memory_equal(buf, ct, 64);

	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	assert_int_equal(ike_decrypt(&k, iv, buf, 32), 0);
	assert_memory_equal(iv, ct + 16, 16);
	assert_int_equal(ike_decrypt(&k, iv, buf + 32, 32), 0);
	assert_memory_equal(buf, pt, 64);
	assert_memory_equal(iv, ct + 48, 16);
}

static void cbc_against_evp(enum kz_enc e, const EVP_CIPHER *ref)
{
	uint8_t key[32], iv[16], iv0[16], pt[160], buf[160], want[160];
	size_t blk = ike_enc_block(e), len = 10 * blk;
	struct ike_keys k;
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0;

	assert_non_null(ref);
	fill(key, sizeof(key), 0x31);
	fill(iv0, sizeof(iv0), 0x77);
	fill(pt, sizeof(pt), 0x05);
	k = keys_for(e, key);
	assert_false(ike_des_key_is_weak(e, key));

	ctx = EVP_CIPHER_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, ref, NULL, key, iv0), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, want, &n, pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, want + n, &fin), 1);
	assert_int_equal((size_t)(n + fin), len);
	EVP_CIPHER_CTX_free(ctx);

	/* three messages chained through iv */
	memcpy(iv, iv0, blk);
	memcpy(buf, pt, len);
	assert_int_equal(ike_encrypt(&k, iv, buf, blk), 0);
	assert_int_equal(ike_encrypt(&k, iv, buf + blk, 4 * blk), 0);
	assert_int_equal(ike_encrypt(&k, iv, buf + 5 * blk, 5 * blk), 0);
	assert_memory_equal(buf, want, len);
	assert_memory_equal(iv, want + len - blk, blk);

	memcpy(iv, iv0, blk);
	assert_int_equal(ike_decrypt(&k, iv, buf, 3 * blk), 0);
	assert_int_equal(ike_decrypt(&k, iv, buf + 3 * blk, 7 * blk), 0);
	assert_memory_equal(buf, pt, len);
	assert_memory_equal(iv, want + len - blk, blk);

	/* Partial blocks are refused and leave data and IV alone. */
	memcpy(iv, iv0, blk);
	assert_int_equal(ike_encrypt(&k, iv, buf, blk + 1), KZ_EINVAL);
	assert_int_equal(ike_decrypt(&k, iv, buf, blk - 1), KZ_EINVAL);
	assert_memory_equal(buf, pt, len);
	assert_memory_equal(iv, iv0, blk);
	/* Zero bytes: nothing to do. */
	assert_int_equal(ike_encrypt(&k, iv, buf, 0), 0);
	assert_memory_equal(iv, iv0, blk);
}

static void test_cbc_all(void **state)
{
	EVP_CIPHER *des;

	cbc_against_evp(KZ_ENC_AES_CBC_128, EVP_aes_128_cbc());
	cbc_against_evp(KZ_ENC_AES_CBC_192, EVP_aes_192_cbc());
	cbc_against_evp(KZ_ENC_AES_CBC_256, EVP_aes_256_cbc());
	cbc_against_evp(KZ_ENC_3DES_CBC, EVP_des_ede3_cbc());
	/* DES-CBC comes from the legacy provider, which ike_crypto_init
	 * loaded. */
	des = EVP_CIPHER_fetch(NULL, "DES-CBC", NULL);
	assert_non_null(des);
	cbc_against_evp(KZ_ENC_DES_CBC, des);
	EVP_CIPHER_free(des);
}

static void test_cbc_rejects(void **state)
{
	uint8_t key[32] = { 1 }, iv[16] = { 0 }, buf[32] = { 0 };
	struct ike_keys k = keys_for(KZ_ENC_AES_CBC_128, key);

	k.block = 8; /* inconsistent with the cipher */
	assert_int_equal(ike_encrypt(&k, iv, buf, 16), KZ_EINVAL);
	k = keys_for(KZ_ENC_AES_GCM_128, key);
	assert_int_equal(ike_encrypt(&k, iv, buf, 16), KZ_EINVAL);
	k = keys_for(KZ_ENC_AES_CBC_256, key);
	k.enc_key_len = 16;
	assert_int_equal(ike_decrypt(&k, iv, buf, 16), KZ_EINVAL);
}

static int setup(void **state)
{
	return ike_crypto_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_prf_rfc_vectors),
		cmocka_unit_test(test_kat_rfc2409),
		cmocka_unit_test(test_derive_rejects),
		cmocka_unit_test(test_des_weak_keys),
		cmocka_unit_test(test_strongswan_aes256_sha256_modp2048),
		cmocka_unit_test(test_strongswan_aes128_sha1_modp1024_pfs),
		cmocka_unit_test(test_strongswan_3des_md5_modp768),
		cmocka_unit_test(test_strongswan_aes256_sha1_modp1536),
		cmocka_unit_test(test_dh_group_ids),
		cmocka_unit_test(test_dh_agree),
		cmocka_unit_test(test_dh_exponent_size),
		cmocka_unit_test(test_dh_shared_padding),
		cmocka_unit_test(test_dh_modp_invalid),
		cmocka_unit_test(test_dh_ecp_invalid),
		cmocka_unit_test(test_cbc_nist),
		cmocka_unit_test(test_cbc_all),
		cmocka_unit_test(test_cbc_rejects),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
