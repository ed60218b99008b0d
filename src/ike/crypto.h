/* crypto.h - IKEv1 key derivation and message protection, written like
 * RFC 2409 (sections 5, 5.5 and appendix B), over OpenSSL's libcrypto.
 *
 * Everything is computed into caller memory; secrets are wiped by the
 * caller (struct ike_keys) with kz_wipe / OPENSSL_cleanse. */
#ifndef KZ_IKE_CRYPTO_H
#define KZ_IKE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "config/model.h"

#define IKE_MAX_HASH 64  /* SHA2-512 */
#define IKE_MAX_BLOCK 16 /* AES */
#define IKE_MAX_KEY 32   /* AES-256 */

struct ike_chunk {
	const void *p;
	size_t len;
};

/* Loads OpenSSL's default and legacy providers (DES lives in legacy) and
 * fetches every digest, cipher and HMAC once.  Call it at start-up, before
 * threads; every function below also calls it on first use (pthread_once),
 * and all of them are thread-safe afterwards.
 * Returns 0, or KZ_ENOTSUP when a provider or algorithm is missing; the
 * algorithms that were found still work (without "legacy": all but DES). */
int ike_crypto_init(void);

size_t ike_hash_len(enum kz_hash h);
/* Cipher block size, key length in bytes (AES: from the enc choice).
 * ike_enc_block is 0 for what IKEv1 phase 1 cannot use (AES-GCM, NULL);
 * ike_enc_keylen gives AES-GCM's key without the salt, 0 for NULL. */
size_t ike_enc_block(enum kz_enc e);
size_t ike_enc_keylen(enum kz_enc e);
/* 1 when a DES / 3DES key (8 / 24 bytes) contains a weak or semi-weak DES
 * key, or is 3DES with K1 = K2 or K2 = K3 (RFC 2405, RFC 2451); else 0. */
int ike_des_key_is_weak(enum kz_enc e, const uint8_t *key);

/* prf(key, part0 | part1 | ...) = HMAC with the negotiated hash. */
int ike_prf(enum kz_hash h, const void *key, size_t klen, const struct ike_chunk *parts,
	    size_t nparts, uint8_t *out);
/* hash(part0 | ...) (IV derivation). */
int ike_hash(enum kz_hash h, const struct ike_chunk *parts, size_t nparts, uint8_t *out);

/* Phase 1 keys of an IKE SA. */
struct ike_keys {
	enum kz_hash hash;
	enum kz_enc enc;
	size_t hlen;
	uint8_t skeyid[IKE_MAX_HASH];
	uint8_t skeyid_d[IKE_MAX_HASH];
	uint8_t skeyid_a[IKE_MAX_HASH];
	uint8_t skeyid_e[IKE_MAX_HASH];
	uint8_t enc_key[IKE_MAX_KEY]; /* from SKEYID_e, expanded per appendix B */
	size_t enc_key_len;
	size_t block;
};

/* Pre-shared key authentication (RFC 2409 5.4):
 *   SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)
 *   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the cipher key from SKEYID_e (appendix B: K = K1 | K2 | ...,
 * K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1) when SKEYID_e is short).
 * Cookies are 8 bytes each.  Returns KZ_EINVAL for a cipher IKEv1 phase 1
 * cannot use, and KZ_EPROTO when the DES / 3DES key comes out weak
 * (appendix B says to reject it; about 2^-52 per key): the caller fails
 * the exchange, and a new one derives fresh keys.  *k is written only on
 * success. */
int ike_derive_psk(enum kz_hash h, enum kz_enc e, const uint8_t *psk, size_t psklen,
		   const uint8_t *ni, size_t nilen, const uint8_t *nr, size_t nrlen,
		   const uint8_t *gxy, size_t gxylen, const uint8_t *cky_i, const uint8_t *cky_r,
		   struct ike_keys *k);

/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * (the caller passes the values in that order for either). */
int ike_hash_auth(const struct ike_keys *k, const uint8_t *g1, size_t g1len, const uint8_t *g2,
		  size_t g2len, const uint8_t *cky1, const uint8_t *cky2, const uint8_t *sa_b,
		  size_t salen, const uint8_t *id_b, size_t idlen, uint8_t *out);

/* Phase 1 IV = hash(g^xi | g^xr) cut to the block size (appendix B). */
int ike_iv_phase1(const struct ike_keys *k, const uint8_t *gxi, size_t gxilen, const uint8_t *gxr,
		  size_t gxrlen, uint8_t *iv);
/* IV of a phase 2 / informational exchange =
 * hash(last phase 1 CBC block | M-ID) cut to the block size. */
int ike_iv_phase2(const struct ike_keys *k, const uint8_t *last_block, uint32_t msgid, uint8_t *iv);

/* CBC in place over len bytes (a multiple of the block, 0 is a no-op); iv
 * (k->block bytes) is updated to the last ciphertext block, which chains
 * the next message.  Uses k->enc, k->enc_key, k->enc_key_len and k->block
 * only.  KZ_EINVAL for a length that is not a multiple of the block. */
int ike_encrypt(const struct ike_keys *k, uint8_t *iv, uint8_t *data, size_t len);
int ike_decrypt(const struct ike_keys *k, uint8_t *iv, uint8_t *data, size_t len);

/* KEYMAT (RFC 2409 5.5): K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI |
 * Ni_b | Nr_b), Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI |
 * Ni_b | Nr_b), out = K1 | K2 | ... cut to need bytes.  gqm NULL without
 * PFS; spi in network order. */
int ike_keymat(const struct ike_keys *k, const uint8_t *gqm, size_t gqmlen, uint8_t protocol,
	       uint32_t spi, const uint8_t *ni, size_t nilen, const uint8_t *nr, size_t nrlen,
	       uint8_t *out, size_t need);

/* ---- Diffie-Hellman ---- */

struct ike_dh;

/* IKE group number <-> model; 0 / KZ_GROUP_NONE when unknown. */
uint16_t ike_group_id(enum kz_group g);
enum kz_group ike_group_from_id(uint16_t id);
/* Bytes of the public value (MODP: the prime's length; ECP: x | y). */
size_t ike_dh_pub_len(enum kz_group g);
/* Bytes of the shared secret (MODP: the prime's length; ECP: x only). */
size_t ike_dh_shared_len(enum kz_group g);
/* Bits of the private exponent ike_dh_new() uses for a MODP group: 160
 * (groups 1, 2), 224 (5), 256 (14), 320 (15), 384 (16); 0 for ECP. */
int ike_dh_priv_bits(enum kz_group g);

/* A fresh key pair, NULL on failure.  MODP private exponents are sized as
 * RFC 3526 advises (twice the group's strength) rather than full length. */
struct ike_dh *ike_dh_new(enum kz_group g);
/* The same with a chosen exponent length (MODP; 0 = the default), for
 * benchmarks and tests; OpenSSL refuses fewer than twice the strength it
 * estimates for the prime and more than the bits of (p - 1) / 2. */
struct ike_dh *ike_dh_new_bits(enum kz_group g, int priv_bits);
/* Another handle on the same key pair (shares the private value).  Only
 * for load generators that may reuse a key pair across exchanges; the
 * engine never does.  NULL on failure. */
struct ike_dh *ike_dh_dup(const struct ike_dh *dh);
enum kz_group ike_dh_group(const struct ike_dh *dh);
/* Bits of this key pair's private exponent (MODP; 0 for ECP), for tests. */
int ike_dh_key_bits(const struct ike_dh *dh);
int ike_dh_public(const struct ike_dh *dh, uint8_t *out, size_t len); /* len = pub_len */
/* The shared secret g^xy (MODP: left-padded to the prime's length; ECP:
 * the x coordinate, RFC 5903).  *outlen: in, the room in out (at least
 * ike_dh_shared_len); out, the bytes written.  KZ_EINVAL for a public value
 * of the wrong length, out of range (MODP: not 1 < y < p - 1) or not on the
 * curve; KZ_ENOSPC when out is too small.  The key pair may be used again
 * (and from one thread at a time). */
int ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peerlen, uint8_t *out,
		  size_t *outlen);
void ike_dh_free(struct ike_dh *dh);

#endif
