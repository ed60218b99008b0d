/* esp_sa.c - setting up one ESP SA direction: algorithm tables, OpenSSL
 * contexts keyed once per SA, counters and teardown.  The per-packet code
 * is in esp.c. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "esp/esp_int.h"
#include "lib/err.h"
#include "lib/mem.h"

struct enc_alg {
	const char *name; /* OpenSSL cipher name, NULL for ESP NULL */
	enum esp_mode mode;
	size_t key_len; /* GCM: without the 4-byte salt */
	size_t iv_len;
	size_t block;
};

static const struct enc_alg enc_algs[KZ_ENC_COUNT] = {
	/* RFC 3602 AES-CBC: 16-byte IV and block. */
	[KZ_ENC_AES_CBC_128] = { "AES-128-CBC", ESP_MODE_CBC, 16, 16, 16 },
	[KZ_ENC_AES_CBC_192] = { "AES-192-CBC", ESP_MODE_CBC, 24, 16, 16 },
	[KZ_ENC_AES_CBC_256] = { "AES-256-CBC", ESP_MODE_CBC, 32, 16, 16 },
	/* RFC 4106: 8-byte explicit IV, payload aligned to 4 bytes. */
	[KZ_ENC_AES_GCM_128] = { "AES-128-GCM", ESP_MODE_GCM, 16, 8, 4 },
	[KZ_ENC_AES_GCM_256] = { "AES-256-GCM", ESP_MODE_GCM, 32, 8, 4 },
	/* RFC 2451 3DES-CBC: 8-byte IV and block; in OpenSSL's default
	 * provider. */
	[KZ_ENC_3DES_CBC] = { "DES-EDE3-CBC", ESP_MODE_CBC, 24, 8, 8 },
	/* Single DES is not offered for ESP by the config language. */
	[KZ_ENC_DES_CBC] = { NULL, ESP_MODE_NULL, 0, 0, 0 },
	/* RFC 2410 NULL: no IV, RFC 4303 2.4 aligns to 4 bytes. */
	[KZ_ENC_NULL] = { NULL, ESP_MODE_NULL, 0, 0, 4 },
};

struct auth_alg {
	const char *digest;
	size_t key_len; /* the digest length (RFC 2403, 2404, 4868) */
	size_t icv_len; /* truncated HMAC */
};

static const struct auth_alg auth_algs[KZ_AUTH_COUNT] = {
	[KZ_AUTH_NONE] = { NULL, 0, 0 },
	[KZ_AUTH_HMAC_MD5] = { "MD5", 16, 12 },           /* RFC 2403 */
	[KZ_AUTH_HMAC_SHA1] = { "SHA1", 20, 12 },         /* RFC 2404 */
	[KZ_AUTH_HMAC_SHA2_256] = { "SHA2-256", 32, 16 }, /* RFC 4868 */
	[KZ_AUTH_HMAC_SHA2_384] = { "SHA2-384", 48, 24 },
	[KZ_AUTH_HMAC_SHA2_512] = { "SHA2-512", 64, 32 },
};

static const char *const drop_names[ESP_DROP_COUNT] = {
#define ESP_DROP_NAME(name, text) [name] = text,
	ESP_DROPS(ESP_DROP_NAME)
#undef ESP_DROP_NAME
};

const char *esp_drop_name(enum esp_drop why)
{
	return (unsigned)why < ESP_DROP_COUNT ? drop_names[why] : "?";
}

static int sa_setup_cipher(struct esp_sa *sa, const struct enc_alg *ea, const uint8_t *key,
			   int encrypt)
{
	EVP_CIPHER *c = NULL;
	int err = KZ_EIO;

	c = EVP_CIPHER_fetch(NULL, ea->name, NULL);
	sa->cipher = EVP_CIPHER_CTX_new();
	if (!c || !sa->cipher)
		goto out;
	if (!EVP_CipherInit_ex(sa->cipher, c, NULL, key, NULL, encrypt))
		goto out;
	/* ESP pads itself (RFC 4303 2.4): CBC must not add PKCS#7.  Not for
	 * GCM, which never pads: with the no-padding flag set, OpenSSL 3
	 * passes it to the provider again at every EVP_EncryptInit_ex (a
	 * parameter lookup by name per packet). */
	if (ea->mode != ESP_MODE_GCM && !EVP_CIPHER_CTX_set_padding(sa->cipher, 0))
		goto out;
	/* RFC 4106's 12-byte nonce is GCM's default IV length; setting it
	 * anyway would make OpenSSL ask the provider for it at every
	 * EVP_EncryptInit_ex instead of using its cached value. */
	if (ea->mode == ESP_MODE_GCM &&
	    EVP_CIPHER_CTX_get_iv_length(sa->cipher) != ESP_GCM_NONCE_LEN)
		goto out;
	err = 0;
out:
	EVP_CIPHER_free(c);
	return err;
}

static int sa_setup_mac(struct esp_sa *sa, const struct auth_alg *aa, const uint8_t *key)
{
	EVP_MAC *m = NULL;
	OSSL_PARAM params[2];
	int err = KZ_EIO;

	m = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!m)
		goto out;
	sa->mac = EVP_MAC_CTX_new(m);
	if (!sa->mac)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)aa->digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(sa->mac, key, aa->key_len, params))
		goto out;
	err = 0;
out:
	EVP_MAC_free(m);
	return err;
}

/* Outbound CBC IVs must be unpredictable (RFC 3602 2.4).  AES under a key
 * nobody else knows, over the never-repeating sequence number, gives that
 * for one block of AES per packet instead of a DRBG call. */
static int sa_setup_ivgen(struct esp_sa *sa)
{
	uint8_t key[16];
	int err = KZ_EIO;

	sa->ivgen = EVP_CIPHER_CTX_new();
	if (!sa->ivgen || RAND_bytes(key, sizeof(key)) != 1)
		goto out;
	if (!EVP_EncryptInit_ex(sa->ivgen, EVP_aes_128_ecb(), NULL, key, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(sa->ivgen, 0))
		goto out;
	err = 0;
out:
	kz_wipe(key, sizeof(key));
	return err;
}

struct esp_sa *esp_sa_new(const struct kz_child_sa *p, int *errp)
{
	const struct enc_alg *ea;
	const struct auth_alg *aa;
	struct esp_sa *sa = NULL;
	int err = KZ_EINVAL;

	if ((unsigned)p->enc >= KZ_ENC_COUNT || (unsigned)p->auth >= KZ_AUTH_COUNT)
		goto out;
	ea = &enc_algs[p->enc];
	aa = &auth_algs[p->auth];
	if (ea->block == 0) {
		err = KZ_ENOTSUP;
		goto out;
	}
	/* GCM carries its own ICV; everything else needs an HMAC (ESP
	 * without integrity is not offered). */
	if ((ea->mode == ESP_MODE_GCM) != (p->auth == KZ_AUTH_NONE))
		goto out;
	if (ea->mode == ESP_MODE_GCM) {
		if (p->enc_key_len != ea->key_len + ESP_GCM_SALT_LEN)
			goto out;
	} else if (p->enc_key_len != ea->key_len) {
		goto out;
	}
	if (p->auth != KZ_AUTH_NONE && p->auth_key_len != aa->key_len)
		goto out;
	if (p->spi == 0 || (p->dir != KZ_CHILD_IN && p->dir != KZ_CHILD_OUT))
		goto out;

	err = KZ_ENOMEM;
	sa = kz_key_alloc(sizeof(*sa)); /* key memory: the salt, the SA's state */
	if (!sa)
		goto out;
	sa->dir = p->dir;
	sa->spi = p->spi;
	sa->mode = ea->mode;
	sa->state = ESP_SA_ACTIVE;
	sa->iv_len = ea->iv_len;
	sa->block = ea->block;
	sa->icv_len = ea->mode == ESP_MODE_GCM ? 16 : aa->icv_len;
	sa->seq_next = 1; /* RFC 4303 3.3.3: the first packet is number 1 */
	sa->ctr = sa;
	sa->local_ts = p->local_ts;
	sa->remote_ts = p->remote_ts;
	sa->ts_proto = p->ts_proto;
	sa->ts_lport = p->ts_lport;
	sa->ts_rport = p->ts_rport;
	sa->life_bytes = p->life_kbytes > UINT64_MAX / 1024 ? UINT64_MAX : p->life_kbytes * 1024;
	err = replay_init(&sa->replay, p->dir == KZ_CHILD_IN ? p->replay_window : 0);
	if (err < 0)
		goto out;

	if (ea->name) {
		err = sa_setup_cipher(sa, ea, p->enc_key, p->dir == KZ_CHILD_OUT);
		if (err < 0)
			goto out;
	}
	if (ea->mode == ESP_MODE_GCM)
		memcpy(sa->salt, p->enc_key + ea->key_len, ESP_GCM_SALT_LEN);
	if (aa->digest) {
		err = sa_setup_mac(sa, aa, p->auth_key);
		if (err < 0)
			goto out;
	}
	if (ea->mode == ESP_MODE_CBC && p->dir == KZ_CHILD_OUT) {
		err = sa_setup_ivgen(sa);
		if (err < 0)
			goto out;
	}
	err = 0;
out:
	if (err < 0) {
		esp_sa_free(sa);
		sa = NULL;
	}
	if (errp)
		*errp = err;
	return sa;
}

struct esp_sa *esp_sa_new_shared(const struct kz_child_sa *p, struct esp_sa *first, int *errp)
{
	struct esp_sa *sa;

	if (!first || first->ctr != first || first->dir != KZ_CHILD_OUT || p->dir != KZ_CHILD_OUT ||
	    p->spi != first->spi) {
		if (errp)
			*errp = KZ_EINVAL;
		return NULL;
	}
	sa = esp_sa_new(p, errp);
	if (sa)
		sa->ctr = first;
	return sa;
}

void esp_sa_free(struct esp_sa *sa)
{
	if (!sa)
		return;
	/* The contexts hold the expanded keys: OpenSSL cleanses them on
	 * free. */
	EVP_CIPHER_CTX_free(sa->cipher);
	EVP_CIPHER_CTX_free(sa->ivgen);
	EVP_MAC_CTX_free(sa->mac);
	kz_key_free(sa, sizeof(*sa));
}

uint32_t esp_sa_spi(const struct esp_sa *sa)
{
	return sa->spi;
}

enum kz_child_dir esp_sa_dir(const struct esp_sa *sa)
{
	return sa->dir;
}

size_t esp_sa_icv_len(const struct esp_sa *sa)
{
	return sa->icv_len;
}

size_t esp_sa_iv_len(const struct esp_sa *sa)
{
	return sa->iv_len;
}

size_t esp_sa_block_len(const struct esp_sa *sa)
{
	return sa->block;
}

enum esp_sa_state esp_sa_state(const struct esp_sa *sa)
{
	return sa->ctr->state;
}

size_t esp_sa_encap_len(const struct esp_sa *sa, size_t len)
{
	/* RFC 4303 2.4: inner | padding | pad length | next header fills
	 * whole blocks. */
	size_t body = (len + 2 + sa->block - 1) / sa->block * sa->block;

	return ESP_HDR_LEN + sa->iv_len + body + sa->icv_len;
}

void esp_sa_stats(const struct esp_sa *sa, struct kz_child_stats *st)
{
	unsigned i;

	sa = sa->ctr;
	st->packets = esp_stat_get(&sa->packets);
	st->bytes = esp_stat_get(&sa->bytes);
	st->last_unix = atomic_load_explicit(&sa->last_unix, memory_order_relaxed);
	st->drops = 0;
	for (i = 0; i < ESP_DROP_COUNT; i++)
		st->drops += esp_stat_get(&sa->drops[i]);
}

uint64_t esp_sa_drops(const struct esp_sa *sa, enum esp_drop why)
{
	return (unsigned)why < ESP_DROP_COUNT ? esp_stat_get(&sa->ctr->drops[why]) : 0;
}

void esp_sa_count_drop(struct esp_sa *sa, enum esp_drop why)
{
	if ((unsigned)why < ESP_DROP_COUNT && why != ESP_DROP_NONE)
		esp_stat_add(&sa->ctr->drops[why], 1);
}

int esp_sa_impair_seq(struct esp_sa *sa, uint32_t next)
{
	if (sa->dir != KZ_CHILD_OUT || next == 0)
		return KZ_EINVAL;
	sa = sa->ctr;
	sa->seq_next = next;
	if (sa->state == ESP_SA_SEQ_EXHAUSTED)
		sa->state = ESP_SA_ACTIVE;
	return 0;
}
