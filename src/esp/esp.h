/* esp.h - the ESP packet core of the data plane: one SA direction in,
 * packets out.  Userspace ESP (RFC 4303), tunnel mode, IPv4 inner packets,
 * 32-bit sequence numbers (no ESN), with the UDP encapsulation helpers of
 * RFC 3948.  No sockets, no threads, no allocation per packet.
 *
 * Outbound packet (esp_encap), as RFC 4303 section 2 draws it:
 *
 *	SPI(4) | sequence(4) | IV | E(inner | padding | pad length | next
 *	header = 4) | ICV
 *
 * Inbound (esp_decap) follows RFC 4303 3.4 in strongSwan's esp_packet.c
 * order: bounds-parse (ICV taken from the tail) -> block alignment ->
 * cheap replay pre-check -> verify the ICV (constant time) -> advance the
 * replay window -> decrypt -> padding and next header -> inner IPv4 header
 * -> traffic selectors.  AES-GCM (RFC 4106) verifies and decrypts in one
 * step; its plaintext is handed out only after the tag verified.
 *
 * Thread safety: an esp_sa is one direction of one SA.  It may be used by
 * one thread at a time: its prepared OpenSSL contexts and the replay
 * window are unlocked.  Threads that send on one outbound SA at once each
 * use their own copy made by esp_sa_new_shared(): the copies have their
 * own contexts and share the first one's sequence number (an atomic
 * fetch-add: no number twice, never a wrap), state and counters.  The
 * counters (packets, bytes, last packet time, drops) are relaxed atomic
 * adds, so esp_sa_stats() and esp_sa_drops() may run on another thread at
 * any time.  An inbound SA has one replay window: one thread at a time. */
#ifndef KZ_ESP_H
#define KZ_ESP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/childsa.h"

#define ESP_HDR_LEN 8 /* SPI + sequence number */
#define ESP_MAX_IV 16
#define ESP_MAX_ICV 32
#define ESP_MAX_BLOCK 16
/* Bytes esp_encap adds to an inner packet at most: header, IV, up to a
 * block of padding, pad length, next header, ICV. */
#define ESP_MAX_OVERHEAD (ESP_HDR_LEN + ESP_MAX_IV + ESP_MAX_BLOCK + 1 + ESP_MAX_ICV)

/* Largest ESP packet taken in: what one IPv4 datagram can carry. */
#define ESP_MAX_PACKET 65535

#define ESP_NH_IPV4 4   /* next header: IP-in-IP (tunnel mode) */
#define ESP_NH_DUMMY 59 /* RFC 4303 2.6: dummy packet, discarded */

/* Why an inbound packet was dropped.  Each has a per-SA counter. */
#define ESP_DROPS(X)                             \
	X(ESP_DROP_NONE, "none")                 \
	X(ESP_DROP_TRUNCATED, "truncated")       \
	X(ESP_DROP_BAD_SPI, "bad-spi")           \
	X(ESP_DROP_MISALIGNED, "misaligned")     \
	X(ESP_DROP_REPLAY, "replay")             \
	X(ESP_DROP_ICV, "icv")                   \
	X(ESP_DROP_PADDING, "padding")           \
	X(ESP_DROP_NEXT_HEADER, "next-header")   \
	X(ESP_DROP_DUMMY, "dummy")               \
	X(ESP_DROP_INNER_HEADER, "inner-header") \
	X(ESP_DROP_SELECTOR, "selector")         \
	X(ESP_DROP_EXPIRED, "expired")           \
	X(ESP_DROP_NO_SPACE, "no-space")         \
	X(ESP_DROP_OVERSIZE, "oversize")         \
	X(ESP_DROP_CRYPTO, "crypto-error")       \
	X(ESP_DROP_WRONG_ENCAP, "wrong-encapsulation")

enum esp_drop {
#define ESP_DROP_ENUM(name, text) name,
	ESP_DROPS(ESP_DROP_ENUM)
#undef ESP_DROP_ENUM
		ESP_DROP_COUNT
};

/* "icv", "replay", ...; "?" for an unknown value. */
const char *esp_drop_name(enum esp_drop why);

/* Why an SA can no longer send (SA status is expired in show ipsec sa). */
enum esp_sa_state {
	ESP_SA_ACTIVE,
	ESP_SA_EXPIRED_BYTES, /* lifetime bytes reached */
	ESP_SA_SEQ_EXHAUSTED, /* outbound: sequence number 2^32 - 1 used */
};

struct esp_sa;

/* Prepares one SA direction: fetches the cipher and MAC, keys the OpenSSL
 * contexts once, copies the keys (the caller wipes its own copy).  Returns
 * NULL for an unsupported or inconsistent algorithm/key length (DES-CBC,
 * GCM with an auth algorithm, CBC/NULL without one, a replay window above
 * 1024) or when out of memory; *err, when not NULL, says which. */
struct esp_sa *esp_sa_new(const struct kz_child_sa *p, int *err);
/* Another sender for the outbound SA first (made by esp_sa_new from the
 * same p): own OpenSSL contexts, keyed once here, and first's sequence
 * number, state and counters.  first must outlive it: free the copies
 * before it.  NULL with *err KZ_EINVAL when p is not first's SA. */
struct esp_sa *esp_sa_new_shared(const struct kz_child_sa *p, struct esp_sa *first, int *err);
/* Wipes the keys and frees.  NULL is fine. */
void esp_sa_free(struct esp_sa *sa);

uint32_t esp_sa_spi(const struct esp_sa *sa);
enum kz_child_dir esp_sa_dir(const struct esp_sa *sa);
size_t esp_sa_icv_len(const struct esp_sa *sa);
size_t esp_sa_iv_len(const struct esp_sa *sa);
size_t esp_sa_block_len(const struct esp_sa *sa);
enum esp_sa_state esp_sa_state(const struct esp_sa *sa);
/* The exact length esp_encap produces for an inner packet of len bytes. */
size_t esp_sa_encap_len(const struct esp_sa *sa, size_t len);

/* Packets, inner bytes, last packet time and all drops, for show. */
void esp_sa_stats(const struct esp_sa *sa, struct kz_child_stats *st);
/* Drops of one reason. */
uint64_t esp_sa_drops(const struct esp_sa *sa, enum esp_drop why);
/* Counts a drop decided outside (ESP_DROP_BAD_SPI: the caller looks the
 * SPI up, and may charge the SA it expected; ESP_DROP_WRONG_ENCAP: plain
 * ESP for an SA negotiated as ESP-in-UDP, or the other way round). */
void esp_sa_count_drop(struct esp_sa *sa, enum esp_drop why);

/* Next outbound sequence number to use; for impairments and tests only
 * (exhaustion is otherwise 4 billion packets away).  0 is refused. */
int esp_sa_impair_seq(struct esp_sa *sa, uint32_t next);

/* Outbound: inner (an IPv4 packet) into out, *outlen set.  inner may
 * overlap out; placed at out + ESP_HDR_LEN + esp_sa_iv_len() it is
 * encrypted in place without a copy.
 * KZ_ENOSPC: cap < esp_sa_encap_len().  KZ_ERANGE: the SA cannot send
 * any more (sequence numbers exhausted or lifetime bytes reached;
 * esp_sa_state() says which) - rekey.  KZ_EINVAL: not an outbound SA or an
 * empty packet.  KZ_EIO: OpenSSL failed. */
int esp_encap(struct esp_sa *sa, const uint8_t *inner, size_t len, uint8_t *out, size_t cap,
	      size_t *outlen);

/* Inbound: pkt is the ESP packet (from the SPI on, UDP/IP headers already
 * removed) for this SA.  On 0 the inner IPv4 packet is in inner_out and
 * *inner_len set.  On a drop, a negative KZ_E* (KZ_EPROTO for a bad packet,
 * KZ_ENOSPC when cap is smaller than the ciphertext, KZ_EINVAL for an
 * outbound SA) with *why set and the reason counted.  inner_out must not
 * overlap pkt; cap >= len is always enough. */
int esp_decap(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *inner_out, size_t cap,
	      size_t *inner_len, enum esp_drop *why);

/* SPI of an ESP packet (host order): KZ_ETRUNC when shorter than the ESP
 * header, KZ_EPROTO for SPI 0 (reserved, RFC 4303 2.1). */
int esp_packet_spi(const uint8_t *pkt, size_t len, uint32_t *spi);
/* Sequence number of an ESP packet (host order). */
int esp_packet_seq(const uint8_t *pkt, size_t len, uint32_t *seq);

/* UDP port 4500 demultiplexing (RFC 3948 section 2). */
enum esp_udp_kind {
	ESP_UDP_INVALID,   /* too short or a zero SPI without marker: drop */
	ESP_UDP_KEEPALIVE, /* the one byte 0xFF */
	ESP_UDP_IKE,       /* non-ESP marker: IKE starts at offset 4 */
	ESP_UDP_ESP,       /* ESP starts at offset 0 */
};

#define ESP_UDP_MARKER_LEN 4
#define ESP_UDP_KEEPALIVE_LEN 1

enum esp_udp_kind esp_udp_classify(const uint8_t *dgram, size_t len);
const char *esp_udp_kind_name(enum esp_udp_kind k);
/* Writes the NAT-keepalive payload (0xFF); returns its length or
 * KZ_ENOSPC. */
int esp_udp_keepalive(uint8_t *out, size_t cap);

#endif
