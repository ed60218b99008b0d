/* crypto.h - IKEv1 key derivation and message protection, written like
 * RFC 2409 (sections 5, 5.5 and appendix B), over OpenSSL's libcrypto.
 *
 * Everything is computed into caller memory; secrets are wiped by the
 * caller (struct ike_keys) with kz_wipe / OPENSSL_cleanse. */
#ifndef KZ_IKE_CRYPTO_H
#define KZ_IKE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "../config/model.h"

#define IKE_MAX_HASH 64  /* SHA2-512 */
#define IKE_MAX_BLOCK 16 /* AES */
#define IKE_MAX_KEY 32   /* AES-256 */

struct ike_chunk {
	const void *p;
	size_t len;
};

/* Loads OpenSSL's default and legacy providers (DES lives in legacy).
 * Returns 0, or KZ_ENOTSUP when a provider is missing. */
int ike_crypto_init(void);

size_t ike_hash_len(enum kz_hash h);
/* Cipher block size, key length in bytes (AES: from the enc choice). */
size_t ike_enc_block(enum kz_enc e);
size_t ike_enc_keylen(enum kz_enc e);

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
 * K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1) when SKEYID_e is short). */
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
int ike_iv_phase1(const struct ike_keys *k, const uint8_t *gxi, size_t gxilen,
		  const uint8_t *gxr, size_t gxrlen, uint8_t *iv);
/* IV of a phase 2 / informational exchange =
 * hash(last phase 1 CBC block | M-ID) cut to the block size. */
int ike_iv_phase2(const struct ike_keys *k, const uint8_t *last_block, uint32_t msgid,
		  uint8_t *iv);

/* CBC in place over len bytes (a multiple of the block); iv is updated to
 * the last ciphertext block, which chains the next message. */
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

/* A fresh key pair.  MODP private exponents are sized as RFC 3526 advises
 * (twice the group's strength) rather than full length. */
struct ike_dh *ike_dh_new(enum kz_group g);
int ike_dh_public(const struct ike_dh *dh, uint8_t *out, size_t len); /* len = pub_len */
/* The shared secret g^xy (MODP: left-padded to the prime's length; ECP:
 * the x coordinate, RFC 5903).  KZ_EINVAL for a public value that is out of
 * range or not on the curve. */
int ike_dh_shared(struct ike_dh *dh, const uint8_t *peer, size_t peerlen, uint8_t *out,
		  size_t *outlen);
void ike_dh_free(struct ike_dh *dh);

#endif
