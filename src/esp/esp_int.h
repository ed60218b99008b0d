/* esp_int.h - the esp_sa structure, shared by esp_sa.c (set-up) and
 * esp.c (packets); nothing outside src/esp/ includes it. */
#ifndef KZ_ESP_INT_H
#define KZ_ESP_INT_H

#include <openssl/evp.h>
#include <stdatomic.h>

#include "esp.h"
#include "replay.h"

enum esp_mode {
	ESP_MODE_CBC,  /* AES-CBC or 3DES-CBC + HMAC */
	ESP_MODE_GCM,  /* AES-GCM, RFC 4106 */
	ESP_MODE_NULL, /* NULL encryption (RFC 2410) + HMAC */
};

#define ESP_GCM_SALT_LEN 4
#define ESP_GCM_NONCE_LEN 12

struct esp_sa {
	enum kz_child_dir dir;
	uint32_t spi;
	enum esp_mode mode;
	enum esp_sa_state state;
	size_t iv_len;
	size_t block;   /* payload alignment: cipher block, 4 for GCM/NULL */
	size_t icv_len;

	EVP_CIPHER_CTX *cipher; /* keyed once; per packet only the IV */
	EVP_MAC_CTX *mac;       /* HMAC keyed once; re-initialised per packet */
	EVP_CIPHER_CTX *ivgen;  /* CBC out: AES-ECB under a random key over
				 * the sequence number gives unpredictable IVs */
	uint8_t salt[ESP_GCM_SALT_LEN];

	uint64_t seq_next; /* outbound: next number; 2^32 = exhausted */
	struct kz_replay replay;

	struct kz_prefix local_ts;
	struct kz_prefix remote_ts;
	uint64_t life_bytes; /* 0 = no byte lifetime */

	/* Written by the one thread that uses the SA, read by show on the
	 * control thread: relaxed atomics, so a reader never sees a torn
	 * value (a count may be a packet old).  One writer, so an add is a
	 * load and a store, not a locked read-modify-write. */
	_Atomic uint64_t packets;
	_Atomic uint64_t bytes;
	_Atomic int64_t last_unix;
	_Atomic uint64_t drops[ESP_DROP_COUNT];
};

static inline uint64_t esp_stat_get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Only the SA's own thread adds. */
static inline void esp_stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline void esp_stat_time(_Atomic int64_t *t, int64_t now)
{
	atomic_store_explicit(t, now, memory_order_relaxed);
}

#endif
