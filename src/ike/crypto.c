/* crypto.c - IKEv1 phase 1 key derivation, HASH_I/HASH_R, IVs, CBC message
 * protection and KEYMAT (RFC 2409 sections 5, 5.5 and appendix B) over
 * OpenSSL 3 libcrypto.
 *
 * Algorithm objects (EVP_MD, EVP_CIPHER, a keyless HMAC EVP_MAC_CTX per hash)
 * are fetched once by ike_crypto_init() and only read afterwards, so every
 * function here may run on any thread.  Each function computes into locals
 * and wipes them at its single exit. */
#include "ike/crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "lib/err.h"
#include "lib/mem.h"

/* prf chains never take more than this many parts. */
#define PRF_MAX_PARTS 8

static const char *const hash_names[KZ_HASH_COUNT] = {
	[KZ_HASH_MD5] = "MD5",           [KZ_HASH_SHA1] = "SHA1",
	[KZ_HASH_SHA2_256] = "SHA2-256", [KZ_HASH_SHA2_384] = "SHA2-384",
	[KZ_HASH_SHA2_512] = "SHA2-512",
};

static const size_t hash_lens[KZ_HASH_COUNT] = {
	[KZ_HASH_MD5] = 16,      [KZ_HASH_SHA1] = 20,     [KZ_HASH_SHA2_256] = 32,
	[KZ_HASH_SHA2_384] = 48, [KZ_HASH_SHA2_512] = 64,
};

/* IKEv1 phase 1 protects messages with CBC ciphers only; GCM and NULL exist
 * in enum kz_enc for ESP and have no name here. */
static const char *const cipher_names[KZ_ENC_COUNT] = {
	[KZ_ENC_AES_CBC_128] = "AES-128-CBC", [KZ_ENC_AES_CBC_192] = "AES-192-CBC",
	[KZ_ENC_AES_CBC_256] = "AES-256-CBC", [KZ_ENC_3DES_CBC] = "DES-EDE3-CBC",
	[KZ_ENC_DES_CBC] = "DES-CBC",
};

static struct {
	pthread_once_t once;
	int status;
	OSSL_PROVIDER *prov_default;
	OSSL_PROVIDER *prov_legacy;
	EVP_MD *md[KZ_HASH_COUNT];
	EVP_CIPHER *cipher[KZ_ENC_COUNT];
	EVP_MAC *hmac;
	/* HMAC contexts with the digest set and no key: duplicated per prf
	 * call so that no call fetches or parses algorithm names again. */
	EVP_MAC_CTX *hmac_tmpl[KZ_HASH_COUNT];
} ic = { .once = PTHREAD_ONCE_INIT };

static void crypto_load(void)
{
	OSSL_PARAM params[2];
	int i;

	ic.status = 0;
	/* Loading any provider by hand stops OpenSSL from loading "default"
	 * by itself, so both are loaded here.  DES-CBC lives only in "legacy"
	 * in OpenSSL 3 (Debian: ossl-modules/legacy.so in libssl3). */
	ic.prov_default = OSSL_PROVIDER_load(NULL, "default");
	ic.prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	if (!ic.prov_default || !ic.prov_legacy)
		ic.status = KZ_ENOTSUP;

	for (i = 0; i < KZ_HASH_COUNT; i++) {
		ic.md[i] = EVP_MD_fetch(NULL, hash_names[i], NULL);
		if (!ic.md[i])
			ic.status = KZ_ENOTSUP;
	}
	for (i = 0; i < KZ_ENC_COUNT; i++) {
		if (!cipher_names[i])
			continue;
		ic.cipher[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
		if (!ic.cipher[i])
			ic.status = KZ_ENOTSUP;
	}
	ic.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!ic.hmac) {
		ic.status = KZ_ENOTSUP;
		return;
	}
	for (i = 0; i < KZ_HASH_COUNT; i++) {
		if (!ic.md[i])
			continue;
		ic.hmac_tmpl[i] = EVP_MAC_CTX_new(ic.hmac);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							     (char *)hash_names[i], 0);
		params[1] = OSSL_PARAM_construct_end();
		if (!ic.hmac_tmpl[i] || !EVP_MAC_CTX_set_params(ic.hmac_tmpl[i], params)) {
			EVP_MAC_CTX_free(ic.hmac_tmpl[i]);
			ic.hmac_tmpl[i] = NULL;
			ic.status = KZ_ENOTSUP;
		}
	}
}

int ike_crypto_init(void)
{
	pthread_once(&ic.once, crypto_load);
	return ic.status;
}

/* Every entry point initialises on first use, so a caller that forgot
 * ike_crypto_init() still gets the providers it needs. */
static const EVP_MD *md_get(enum kz_hash h)
{
	if ((unsigned)h >= KZ_HASH_COUNT)
		return NULL;
	ike_crypto_init();
	return ic.md[h];
}

static const EVP_CIPHER *cipher_get(enum kz_enc e)
{
	if ((unsigned)e >= KZ_ENC_COUNT)
		return NULL;
	ike_crypto_init();
	return ic.cipher[e];
}

size_t ike_hash_len(enum kz_hash h)
{
	if ((unsigned)h >= KZ_HASH_COUNT)
		return 0;
	return hash_lens[h];
}

size_t ike_enc_block(enum kz_enc e)
{
	switch (e) {
	case KZ_ENC_AES_CBC_128:
	case KZ_ENC_AES_CBC_192:
	case KZ_ENC_AES_CBC_256:
		return 16;
	case KZ_ENC_3DES_CBC:
	case KZ_ENC_DES_CBC:
		return 8;
	default:
		return 0;
	}
}

size_t ike_enc_keylen(enum kz_enc e)
{
	switch (e) {
	case KZ_ENC_AES_CBC_128:
	case KZ_ENC_AES_GCM_128:
		return 16;
	case KZ_ENC_AES_CBC_192:
		return 24;
	case KZ_ENC_AES_CBC_256:
	case KZ_ENC_AES_GCM_256:
		return 32;
	case KZ_ENC_3DES_CBC:
		return 24;
	case KZ_ENC_DES_CBC:
		return 8;
	default:
		return 0;
	}
}

int ike_prf(enum kz_hash h, const void *key, size_t klen, const struct ike_chunk *parts,
	    size_t nparts, uint8_t *out)
{
	EVP_MAC_CTX *ctx = NULL;
	size_t i, outl = 0;
	int rc = KZ_ENOTSUP;

	if ((unsigned)h >= KZ_HASH_COUNT || !key || !klen || !out || (nparts && !parts))
		return KZ_EINVAL;
	ike_crypto_init();
	if (!ic.hmac_tmpl[h])
		goto out;
	rc = KZ_ENOMEM;
	ctx = EVP_MAC_CTX_dup(ic.hmac_tmpl[h]);
	if (!ctx)
		goto out;
	rc = KZ_EINVAL;
	if (!EVP_MAC_init(ctx, key, klen, NULL))
		goto out;
	for (i = 0; i < nparts; i++) {
		if (parts[i].len && !EVP_MAC_update(ctx, parts[i].p, parts[i].len))
			goto out;
	}
	if (!EVP_MAC_final(ctx, out, &outl, hash_lens[h]) || outl != hash_lens[h])
		goto out;
	rc = 0;
out:
	/* The context holds the HMAC key pads: freeing cleanses them. */
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int ike_hash(enum kz_hash h, const struct ike_chunk *parts, size_t nparts, uint8_t *out)
{
	const EVP_MD *md = md_get(h);
	EVP_MD_CTX *ctx = NULL;
	unsigned int outl = 0;
	size_t i;
	int rc = KZ_ENOTSUP;

	if (!out || (nparts && !parts))
		return KZ_EINVAL;
	if (!md)
		goto out;
	rc = KZ_ENOMEM;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		goto out;
	rc = KZ_EINVAL;
	if (!EVP_DigestInit_ex2(ctx, md, NULL))
		goto out;
	for (i = 0; i < nparts; i++) {
		if (parts[i].len && !EVP_DigestUpdate(ctx, parts[i].p, parts[i].len))
			goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, out, &outl) || outl != hash_lens[h])
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* DES weak and semi-weak keys (FIPS 74, RFC 2405 section 2.3), compared
 * with the parity bit (the low bit of each byte) masked off. */
static const uint8_t des_weak[16][8] = {
	{ 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 },
	{ 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe },
	{ 0xe0, 0xe0, 0xe0, 0xe0, 0xf1, 0xf1, 0xf1, 0xf1 },
	{ 0x1f, 0x1f, 0x1f, 0x1f, 0x0e, 0x0e, 0x0e, 0x0e },
	{ 0x01, 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e },
	{ 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e, 0x01 },
	{ 0x01, 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1 },
	{ 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1, 0x01 },
	{ 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe },
	{ 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01 },
	{ 0x1f, 0xe0, 0x1f, 0xe0, 0x0e, 0xf1, 0x0e, 0xf1 },
	{ 0xe0, 0x1f, 0xe0, 0x1f, 0xf1, 0x0e, 0xf1, 0x0e },
	{ 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e, 0xfe },
	{ 0xfe, 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e },
	{ 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe },
	{ 0xfe, 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1 },
};

static int des_key_eq(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	int i;

	for (i = 0; i < 8; i++)
		d |= (a[i] ^ b[i]) & 0xfe;
	return d == 0;
}

int ike_des_key_is_weak(enum kz_enc e, const uint8_t *key)
{
	size_t i, n;
	int j;

	if (e == KZ_ENC_DES_CBC)
		n = 1;
	else if (e == KZ_ENC_3DES_CBC)
		n = 3;
	else
		return 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < 16; j++) {
			if (des_key_eq(key + 8 * i, des_weak[j]))
				return 1;
		}
	}
	/* RFC 2451 section 2.3: K1 = K2 or K2 = K3 reduces 3DES to DES. */
	if (n == 3 && (des_key_eq(key, key + 8) || des_key_eq(key + 8, key + 16)))
		return 1;
	return 0;
}

/* RFC 2409 appendix B: the cipher key is the first bytes of SKEYID_e or,
 * when SKEYID_e is shorter than the key, of K1 | K2 | ... with
 * K1 = prf(SKEYID_e, 0) (one zero octet) and Kn = prf(SKEYID_e, Kn-1). */
static int enc_key_expand(enum kz_hash h, const uint8_t *skeyid_e, size_t hlen, uint8_t *key,
			  size_t keylen)
{
	static const uint8_t zero;
	uint8_t k[IKE_MAX_HASH];
	struct ike_chunk part;
	size_t off, n;
	int rc = 0;

	if (keylen <= hlen) {
		memcpy(key, skeyid_e, keylen);
		goto out;
	}
	part.p = &zero;
	part.len = 1;
	for (off = 0; off < keylen; off += n) {
		rc = ike_prf(h, skeyid_e, hlen, &part, 1, k);
		if (rc)
			goto out;
		n = keylen - off < hlen ? keylen - off : hlen;
		memcpy(key + off, k, n);
		part.p = k;
		part.len = hlen;
	}
out:
	kz_wipe(k, sizeof(k));
	return rc;
}

/* SKEYID_d, _a and _e (RFC 2409 5): prf(SKEYID, [prev |] g^xy | CKY-I |
 * CKY-R | n), prev the one before (none for SKEYID_d). */
static int skeyid_next(enum kz_hash h, const uint8_t *skeyid, size_t hlen, const uint8_t *prev,
		       const uint8_t *gxy, size_t gxylen, const uint8_t *cky_i,
		       const uint8_t *cky_r, uint8_t n, uint8_t *out)
{
	struct ike_chunk p[5];
	size_t i = 0;

	if (prev)
		p[i++] = (struct ike_chunk){ prev, hlen };
	p[i++] = (struct ike_chunk){ gxy, gxylen };
	p[i++] = (struct ike_chunk){ cky_i, 8 };
	p[i++] = (struct ike_chunk){ cky_r, 8 };
	p[i++] = (struct ike_chunk){ &n, 1 };
	return ike_prf(h, skeyid, hlen, p, i, out);
}

int ike_derive_psk(enum kz_hash h, enum kz_enc e, const uint8_t *psk, size_t psklen,
		   const uint8_t *ni, size_t nilen, const uint8_t *nr, size_t nrlen,
		   const uint8_t *gxy, size_t gxylen, const uint8_t *cky_i, const uint8_t *cky_r,
		   struct ike_keys *k)
{
	struct ike_keys t;
	struct ike_chunk p[2];
	size_t hlen = ike_hash_len(h), keylen = ike_enc_keylen(e), block = ike_enc_block(e);
	int rc;

	memset(&t, 0, sizeof(t));
	rc = KZ_EINVAL;
	if (!hlen || !block || !psk || !psklen || !ni || !nilen || !nr || !nrlen || !gxy ||
	    !gxylen || !cky_i || !cky_r || !k)
		goto out;
	t.hash = h;
	t.enc = e;
	t.hlen = hlen;
	t.enc_key_len = keylen;
	t.block = block;

	/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b) */
	p[0] = (struct ike_chunk){ ni, nilen };
	p[1] = (struct ike_chunk){ nr, nrlen };
	rc = ike_prf(h, psk, psklen, p, 2, t.skeyid);
	if (rc)
		goto out;

	/* SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0),
	 * SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1),
	 * SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) */
	rc = skeyid_next(h, t.skeyid, hlen, NULL, gxy, gxylen, cky_i, cky_r, 0, t.skeyid_d);
	if (!rc)
		rc = skeyid_next(h, t.skeyid, hlen, t.skeyid_d, gxy, gxylen, cky_i, cky_r, 1,
				 t.skeyid_a);
	if (!rc)
		rc = skeyid_next(h, t.skeyid, hlen, t.skeyid_a, gxy, gxylen, cky_i, cky_r, 2,
				 t.skeyid_e);
	if (rc)
		goto out;

	rc = enc_key_expand(h, t.skeyid_e, hlen, t.enc_key, keylen);
	if (rc)
		goto out;

	/* RFC 2409 appendix B (and RFC 2405 / 2451): weak DES keys must be
	 * rejected.  The chance is about 2^-52 per key; the caller fails the
	 * exchange with this error and the next attempt derives fresh keys. */
	if (ike_des_key_is_weak(e, t.enc_key)) {
		rc = KZ_EPROTO;
		goto out;
	}
	memcpy(k, &t, sizeof(t));
	rc = 0;
out:
	kz_wipe(&t, sizeof(t));
	return rc;
}

int ike_hash_auth(const struct ike_keys *k, const uint8_t *g1, size_t g1len, const uint8_t *g2,
		  size_t g2len, const uint8_t *cky1, const uint8_t *cky2, const uint8_t *sa_b,
		  size_t salen, const uint8_t *id_b, size_t idlen, uint8_t *out)
{
	struct ike_chunk p[6];

	if (!k || !k->hlen || !g1 || !g2 || !cky1 || !cky2 || !sa_b || !id_b || !out)
		return KZ_EINVAL;
	/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b),
	 * HASH_R with the DH values and cookies swapped and IDir_b. */
	p[0] = (struct ike_chunk){ g1, g1len };
	p[1] = (struct ike_chunk){ g2, g2len };
	p[2] = (struct ike_chunk){ cky1, 8 };
	p[3] = (struct ike_chunk){ cky2, 8 };
	p[4] = (struct ike_chunk){ sa_b, salen };
	p[5] = (struct ike_chunk){ id_b, idlen };
	return ike_prf(k->hash, k->skeyid, k->hlen, p, 6, out);
}

/* Appendix B: an IV is hash(a | b) cut to the block size. */
static int iv_hash(const struct ike_keys *k, const uint8_t *a, size_t alen, const uint8_t *b,
		   size_t blen, uint8_t *iv)
{
	uint8_t h[IKE_MAX_HASH];
	struct ike_chunk p[2];
	int rc = KZ_EINVAL;

	if (!k || !k->block || k->block > k->hlen || !a || !b || !iv)
		goto out;
	p[0] = (struct ike_chunk){ a, alen };
	p[1] = (struct ike_chunk){ b, blen };
	rc = ike_hash(k->hash, p, 2, h);
	if (rc)
		goto out;
	memcpy(iv, h, k->block);
out:
	kz_wipe(h, sizeof(h));
	return rc;
}

int ike_iv_phase1(const struct ike_keys *k, const uint8_t *gxi, size_t gxilen, const uint8_t *gxr,
		  size_t gxrlen, uint8_t *iv)
{
	/* IV = hash(g^xi | g^xr) */
	return iv_hash(k, gxi, gxilen, gxr, gxrlen, iv);
}

int ike_iv_phase2(const struct ike_keys *k, const uint8_t *last_block, uint32_t msgid, uint8_t *iv)
{
	/* IV = hash(last phase 1 CBC block | M-ID), M-ID in network order
	 * as on the wire */
	const uint8_t mid[4] = { (uint8_t)(msgid >> 24), (uint8_t)(msgid >> 16),
				 (uint8_t)(msgid >> 8), (uint8_t)msgid };

	if (!k)
		return KZ_EINVAL;
	return iv_hash(k, last_block, k->block, mid, sizeof(mid), iv);
}

static int cbc_run(const struct ike_keys *k, uint8_t *iv, uint8_t *data, size_t len, int enc)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t next_iv[IKE_MAX_BLOCK];
	int outl = 0, rc = KZ_EINVAL;

	if (!k || !iv || (len && !data) || !k->block || k->block > IKE_MAX_BLOCK ||
	    k->block != ike_enc_block(k->enc) || k->enc_key_len != ike_enc_keylen(k->enc) ||
	    len % k->block || len > INT32_MAX)
		goto out;
	rc = KZ_ENOTSUP;
	c = cipher_get(k->enc);
	if (!c)
		goto out;
	if (len == 0) {
		rc = 0;
		goto out;
	}
	/* The next message chains from the last ciphertext block: after
	 * encrypting it is in data, before decrypting it must be saved. */
	if (!enc)
		memcpy(next_iv, data + len - k->block, k->block);
	rc = KZ_ENOMEM;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	rc = KZ_EINVAL;
	if (!EVP_CipherInit_ex2(ctx, c, k->enc_key, iv, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0))
		goto out;
	/* IKE pads the payloads itself; in-place CBC is allowed with out == in. */
	if (!EVP_CipherUpdate(ctx, data, &outl, data, (int)len) || (size_t)outl != len)
		goto out;
	if (enc)
		memcpy(next_iv, data + len - k->block, k->block);
	memcpy(iv, next_iv, k->block);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	kz_wipe(next_iv, sizeof(next_iv));
	return rc;
}

int ike_encrypt(const struct ike_keys *k, uint8_t *iv, uint8_t *data, size_t len)
{
	return cbc_run(k, iv, data, len, 1);
}

int ike_decrypt(const struct ike_keys *k, uint8_t *iv, uint8_t *data, size_t len)
{
	return cbc_run(k, iv, data, len, 0);
}

int ike_keymat(const struct ike_keys *k, const uint8_t *gqm, size_t gqmlen, uint8_t protocol,
	       uint32_t spi, const uint8_t *ni, size_t nilen, const uint8_t *nr, size_t nrlen,
	       uint8_t *out, size_t need)
{
	uint8_t kn[IKE_MAX_HASH], spib[4];
	struct ike_chunk p[PRF_MAX_PARTS];
	size_t np, first, off, n;
	int rc = KZ_EINVAL;

	if (!k || !k->hlen || !ni || !nilen || !nr || !nrlen || (need && !out) || (gqmlen && !gqm))
		goto out;
	spib[0] = (uint8_t)(spi >> 24);
	spib[1] = (uint8_t)(spi >> 16);
	spib[2] = (uint8_t)(spi >> 8);
	spib[3] = (uint8_t)spi;

	/* RFC 2409 5.5: K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
	 * Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b).
	 * p[0] is Kn-1, left out of the first round. */
	np = 1;
	if (gqm && gqmlen)
		p[np++] = (struct ike_chunk){ gqm, gqmlen };
	p[np++] = (struct ike_chunk){ &protocol, 1 };
	p[np++] = (struct ike_chunk){ spib, sizeof(spib) };
	p[np++] = (struct ike_chunk){ ni, nilen };
	p[np++] = (struct ike_chunk){ nr, nrlen };
	first = 1;
	for (off = 0; off < need; off += n) {
		p[0] = (struct ike_chunk){ kn, k->hlen };
		rc = ike_prf(k->hash, k->skeyid_d, k->hlen, p + first, np - first, kn);
		if (rc)
			goto out;
		n = need - off < k->hlen ? need - off : k->hlen;
		memcpy(out + off, kn, n);
		first = 0;
	}
	rc = 0;
out:
	kz_wipe(kn, sizeof(kn));
	return rc;
}
