/* esp_int.h - the esp_sa structure, shared by esp_sa.c (set-up) and
 * esp.c (packets); nothing outside src/esp/ includes it. */
#ifndef KZ_ESP_INT_H
#define KZ_ESP_INT_H

#include <openssl/evp.h>
#include <stdatomic.h>

#include "esp/esp.h"
#include "esp/replay.h"

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
	_Atomic enum esp_sa_state state; /* of ctr: see esp_sa_new_shared() */
	size_t iv_len;
	size_t block; /* payload alignment: cipher block, 4 for GCM/NULL */
	size_t icv_len;

	EVP_CIPHER_CTX *cipher; /* keyed once; per packet only the IV */
	EVP_MAC_CTX *mac;       /* HMAC keyed once; re-initialised per packet */
	EVP_CIPHER_CTX *ivgen;  /* CBC out: AES-ECB under a random key over
				 * the sequence number gives unpredictable IVs */
	uint8_t salt[ESP_GCM_SALT_LEN];

	/* Outbound: the next number, taken with one fetch-add by whichever
	 * thread sends; >= 2^32 means exhausted (never more than one past
	 * it per sender: the check before the fetch-add stops them). */
	_Atomic uint64_t seq_next;
	struct kz_replay replay;
	/* The SA whose sequence number, state and counters this one uses:
	 * itself, or for a copy made by esp_sa_new_shared() (its own OpenSSL
	 * contexts, one per sending thread) the SA it was made for. */
	struct esp_sa *ctr;

	struct kz_prefix local_ts;
	struct kz_prefix remote_ts;
	uint8_t ts_proto;            /* 0: any protocol */
	uint16_t ts_lport, ts_rport; /* 0: any port */
	uint64_t life_bytes;         /* 0 = no byte lifetime */

	/* Written by the threads that use the SA (an outbound SA and its
	 * copies may send on several at once), read by show on the control
	 * thread: relaxed atomic adds, so no count is lost and a reader never
	 * sees a torn value (a count may be a packet old). */
	_Atomic uint64_t packets;
	_Atomic uint64_t bytes;
	_Atomic int64_t last_unix;
	_Atomic uint64_t drops[ESP_DROP_COUNT];
};

static inline uint64_t esp_stat_get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void esp_stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static inline void esp_stat_time(_Atomic int64_t *t, int64_t now)
{
	atomic_store_explicit(t, now, memory_order_relaxed);
}

#endif
