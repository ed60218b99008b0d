/* dh.c - Diffie-Hellman for IKEv1 over OpenSSL 3: the MODP groups 1, 2
 * (RFC 2409 section 6), 5, 14, 15, 16 (RFC 3526) and the ECP groups 19, 20
 * (RFC 5903).
 *
 * The domain parameters of every group are built once and only read
 * afterwards, so key pairs can be made and used on worker threads.
 * Wire formats: a MODP public value is exactly the prime's length,
 * big-endian and left-padded; an ECP public value is x | y with no point
 * format octet (RFC 5903 section 7) and its shared secret is the x
 * coordinate alone (section 9). */
#include "ike/crypto.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "lib/err.h"
#include "lib/mem.h"

#define DH_MAX_PUB 512 /* MODP-4096 */

enum dh_kind { DH_MODP, DH_ECP };

struct dh_group {
	uint16_t id; /* IKE group number */
	enum dh_kind kind;
	/* MODP: the RFC prime from OpenSSL's tables (checked against the
	 * named group's, and the only source for groups 1 and 2). */
	BIGNUM *(*prime)(BIGNUM *bn);
	const char *name; /* OpenSSL group name; NULL: not a named group */
	size_t pub_len;
	/* Private exponent bits: twice the group's strength (RFC 3526
	 * section 8, NIST SP 800-57), never below what OpenSSL's FIPS 186-4
	 * key generation accepts for the prime (2 * its strength estimate). */
	int priv_bits;
};

static const struct dh_group groups[KZ_GROUP_COUNT] = {
	[KZ_GROUP_MODP768] = { 1, DH_MODP, BN_get_rfc2409_prime_768, NULL, 96, 160 },
	[KZ_GROUP_MODP1024] = { 2, DH_MODP, BN_get_rfc2409_prime_1024, NULL, 128, 160 },
	[KZ_GROUP_MODP1536] = { 5, DH_MODP, BN_get_rfc3526_prime_1536, "modp_1536", 192, 224 },
	[KZ_GROUP_MODP2048] = { 14, DH_MODP, BN_get_rfc3526_prime_2048, "modp_2048", 256, 256 },
	[KZ_GROUP_MODP3072] = { 15, DH_MODP, BN_get_rfc3526_prime_3072, "modp_3072", 384, 320 },
	[KZ_GROUP_MODP4096] = { 16, DH_MODP, BN_get_rfc3526_prime_4096, "modp_4096", 512, 384 },
	[KZ_GROUP_ECP256] = { 19, DH_ECP, NULL, "P-256", 64, 0 },
	[KZ_GROUP_ECP384] = { 20, DH_ECP, NULL, "P-384", 96, 0 },
};

static struct {
	pthread_once_t once;
	EVP_PKEY *params[KZ_GROUP_COUNT];
	/* MODP: p - 1, big-endian at the prime's length, for the range check
	 * of peer values. */
	uint8_t pm1[KZ_GROUP_COUNT][DH_MAX_PUB];
} dg = { .once = PTHREAD_ONCE_INIT };

struct ike_dh {
	enum kz_group group;
	EVP_PKEY *key;
	size_t pub_len;
	uint8_t pub[DH_MAX_PUB];
};

static const struct dh_group *group_get(enum kz_group g)
{
	if ((unsigned)g >= KZ_GROUP_COUNT || !groups[g].id)
		return NULL;
	return &groups[g];
}

/* RFC 2409 groups 1 and 2 are not named groups in OpenSSL: built from p
 * and g alone.  Without q OpenSSL draws a private value of exactly
 * priv_len bits; with q, on a group it does not know by name, it would
 * ignore priv_len and draw a full-length one. */
static EVP_PKEY *modp_params_pg(const struct dh_group *gr)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *p = NULL, *g = NULL;

	p = gr->prime(NULL);
	g = BN_new();
	if (!p || !g || !BN_set_word(g, 2))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(g);
	return pkey;
}

/* Groups OpenSSL knows by name ("modp_2048", "P-256"): it then also knows
 * q and the strength, and honours priv_len as FIPS 186-4 allows. */
static EVP_PKEY *params_named(const char *type, const char *name)
{
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0);
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* p - 1 of the group, for the range check of peer values; the prime must
 * be exactly the group's length and, for the named groups, the one the
 * RFC gives. */
static int modp_pm1(EVP_PKEY *pkey, const struct dh_group *gr, uint8_t *pm1)
{
	BIGNUM *p = NULL, *rfc = NULL;
	int ok = 0;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p))
		goto out;
	rfc = gr->prime(NULL);
	if (!rfc || BN_cmp(p, rfc) || BN_num_bytes(p) != (int)gr->pub_len || !BN_sub_word(p, 1) ||
	    BN_bn2binpad(p, pm1, (int)gr->pub_len) != (int)gr->pub_len)
		goto out;
	ok = 1;
out:
	BN_free(p);
	BN_free(rfc);
	return ok;
}

static void dh_load(void)
{
	int i;

	/* The providers must be loaded before anything is fetched. */
	ike_crypto_init();
	for (i = 0; i < KZ_GROUP_COUNT; i++) {
		const struct dh_group *gr = group_get((enum kz_group)i);

		if (!gr)
			continue;
		if (gr->kind == DH_ECP) {
			dg.params[i] = params_named("EC", gr->name);
			continue;
		}
		dg.params[i] = gr->name ? params_named("DH", gr->name) : modp_params_pg(gr);
		if (dg.params[i] && !modp_pm1(dg.params[i], gr, dg.pm1[i])) {
			EVP_PKEY_free(dg.params[i]);
			dg.params[i] = NULL;
		}
	}
}

static EVP_PKEY *params_get(enum kz_group g)
{
	if (!group_get(g))
		return NULL;
	pthread_once(&dg.once, dh_load);
	return dg.params[g];
}

uint16_t ike_group_id(enum kz_group g)
{
	const struct dh_group *gr = group_get(g);

	return gr ? gr->id : 0;
}

enum kz_group ike_group_from_id(uint16_t id)
{
	int i;

	if (!id)
		return KZ_GROUP_NONE;
	for (i = 0; i < KZ_GROUP_COUNT; i++) {
		if (groups[i].id == id)
			return (enum kz_group)i;
	}
	return KZ_GROUP_NONE;
}

size_t ike_dh_pub_len(enum kz_group g)
{
	const struct dh_group *gr = group_get(g);

	return gr ? gr->pub_len : 0;
}

size_t ike_dh_shared_len(enum kz_group g)
{
	const struct dh_group *gr = group_get(g);

	if (!gr)
		return 0;
	return gr->kind == DH_MODP ? gr->pub_len : gr->pub_len / 2;
}

int ike_dh_priv_bits(enum kz_group g)
{
	const struct dh_group *gr = group_get(g);

	return gr ? gr->priv_bits : 0;
}

static int dh_export_pub(struct ike_dh *dh, const struct dh_group *gr)
{
	uint8_t enc[1 + DH_MAX_PUB];
	BIGNUM *y = NULL;
	size_t n = 0;
	int rc = KZ_EINVAL;

	if (gr->kind == DH_MODP) {
		if (!EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PUB_KEY, &y) ||
		    BN_bn2binpad(y, dh->pub, (int)gr->pub_len) != (int)gr->pub_len)
			goto out;
	} else {
		/* Uncompressed point 0x04 | x | y; the wire drops the 0x04. */
		if (!EVP_PKEY_get_octet_string_param(dh->key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
						     enc, sizeof(enc), &n) ||
		    n != 1 + gr->pub_len || enc[0] != 0x04)
			goto out;
		memcpy(dh->pub, enc + 1, gr->pub_len);
	}
	dh->pub_len = gr->pub_len;
	rc = 0;
out:
	BN_free(y);
	return rc;
}

/* Sets one parameter on ctx for a MODP group (ECP groups take none);
 * 0 when OpenSSL refused it. */
static int modp_ctx_param(EVP_PKEY_CTX *ctx, const struct dh_group *gr, OSSL_PARAM p)
{
	OSSL_PARAM op[2] = { p, OSSL_PARAM_construct_end() };

	return gr->kind != DH_MODP || EVP_PKEY_CTX_set_params(ctx, op);
}

struct ike_dh *ike_dh_new_bits(enum kz_group g, int priv_bits)
{
	const struct dh_group *gr = group_get(g);
	EVP_PKEY *params = params_get(g);
	EVP_PKEY_CTX *ctx = NULL;
	struct ike_dh *dh = NULL;
	int bits = priv_bits ? priv_bits : gr ? gr->priv_bits : 0;

	if (!gr || !params || bits < 0)
		return NULL;
	dh = OPENSSL_zalloc(sizeof(*dh));
	if (!dh)
		goto fail;
	dh->group = g;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0)
		goto fail;
	/* RFC 3526 section 8: an exponent of twice the strength is enough,
	 * and costs a fraction of a full-length one. */
	if (!modp_ctx_param(ctx, gr, OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &bits)))
		goto fail;
	if (EVP_PKEY_generate(ctx, &dh->key) <= 0 || dh_export_pub(dh, gr))
		goto fail;
	EVP_PKEY_CTX_free(ctx);
	return dh;
fail:
	EVP_PKEY_CTX_free(ctx);
	ike_dh_free(dh);
	return NULL;
}

struct ike_dh *ike_dh_new(enum kz_group g)
{
	return ike_dh_new_bits(g, 0);
}

struct ike_dh *ike_dh_dup(const struct ike_dh *dh)
{
	struct ike_dh *d;

	if (!dh)
		return NULL;
	d = OPENSSL_zalloc(sizeof(*d));
	if (!d)
		return NULL;
	if (!EVP_PKEY_up_ref(dh->key)) {
		OPENSSL_free(d);
		return NULL;
	}
	*d = *dh;
	return d;
}

enum kz_group ike_dh_group(const struct ike_dh *dh)
{
	return dh ? dh->group : KZ_GROUP_NONE;
}

int ike_dh_key_bits(const struct ike_dh *dh)
{
	BIGNUM *x = NULL;
	int bits = 0;

	if (dh && ike_dh_priv_bits(dh->group) &&
	    EVP_PKEY_get_bn_param(dh->key, OSSL_PKEY_PARAM_PRIV_KEY, &x))
		bits = BN_num_bits(x);
	BN_clear_free(x);
	return bits;
}

int ike_dh_public(const struct ike_dh *dh, uint8_t *out, size_t len)
{
	if (!dh || !out || len != dh->pub_len)
		return KZ_EINVAL;
	memcpy(out, dh->pub, len);
	return 0;
}

/* RFC 2409 leaves the check to the implementation; 1 < y < p - 1 rules out
 * the values that force the secret into {0, 1, p - 1} (a confinement to a
 * subgroup of order 1 or 2).  Both sides are big-endian at the prime's
 * length, so byte order is numeric order. */
static int modp_peer_ok(enum kz_group g, const uint8_t *y, size_t len)
{
	const uint8_t *pm1 = dg.pm1[g];
	uint8_t hi = 0;
	size_t i;

	for (i = 0; i + 1 < len; i++)
		hi |= y[i];
	if (!hi && y[len - 1] <= 1)
		return 0;
	return memcmp(y, pm1, len) < 0;
}

static EVP_PKEY *peer_key(const struct ike_dh *dh, const struct dh_group *gr, const uint8_t *peer,
			  size_t peerlen)
{
	uint8_t enc[1 + DH_MAX_PUB];
	EVP_PKEY *pk;
	EVP_PKEY_CTX *chk = NULL;
	int ok;

	/* A copy of the group's parameters with the peer's public value. */
	pk = EVP_PKEY_dup(dg.params[dh->group]);
	if (!pk)
		return NULL;
	if (gr->kind == DH_MODP) {
		ok = EVP_PKEY_set1_encoded_public_key(pk, peer, peerlen);
	} else {
		/* RFC 5903: x | y on the wire; OpenSSL wants the SEC1 form.
		 * Decoding fails for a point not on the curve; the quick
		 * check also refuses the point at infinity.  Both curves have
		 * cofactor 1, so no subgroup check is needed. */
		enc[0] = 0x04;
		memcpy(enc + 1, peer, peerlen);
		ok = EVP_PKEY_set1_encoded_public_key(pk, enc, 1 + peerlen);
		if (ok) {
			chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
			ok = chk && EVP_PKEY_public_check_quick(chk) == 1;
			EVP_PKEY_CTX_free(chk);
		}
	}
	if (!ok) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

int ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peerlen, uint8_t *out,
		  size_t *outlen)
{
	const struct dh_group *gr;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	unsigned int pad = 1;
	size_t need, n;
	int rc = KZ_EINVAL;

	if (!dh || !peer || !out || !outlen)
		return KZ_EINVAL;
	gr = group_get(dh->group);
	need = ike_dh_shared_len(dh->group);
	if (!gr || peerlen != gr->pub_len)
		goto out;
	rc = KZ_ENOSPC;
	if (*outlen < need)
		goto out;
	rc = KZ_EINVAL;
	if (gr->kind == DH_MODP && !modp_peer_ok(dh->group, peer, peerlen))
		goto out;
	pk = peer_key(dh, gr, peer, peerlen);
	if (!pk)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->key, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0)
		goto out;
	/* g^xy left-padded to the prime's length (RFC 2409 treats it as a
	 * fixed-length string in SKEYID_*); OpenSSL strips zeros without it. */
	if (!modp_ctx_param(ctx, gr, OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD, &pad)))
		goto out;
	/* The range was checked above (DH) or at decoding (ECP); OpenSSL's
	 * full DH check would cost one more full-length exponentiation. */
	if (EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) <= 0)
		goto out;
	n = *outlen;
	if (EVP_PKEY_derive(ctx, out, &n) <= 0 || n != need) {
		OPENSSL_cleanse(out, *outlen);
		goto out;
	}
	*outlen = n;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}

void ike_dh_free(struct ike_dh *dh)
{
	if (!dh)
		return;
	/* EVP_PKEY_free clears the private value. */
	EVP_PKEY_free(dh->key);
	OPENSSL_clear_free(dh, sizeof(*dh));
}
