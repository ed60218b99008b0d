/* isakmp.h - ISAKMP (RFC 2408) and the IPsec DOI (RFC 2407) on the wire:
 * numbers with their RFC names, a pure parser (bytes -> digest of payloads,
 * no side effects) and builders over struct wbuf.
 *
 * Everything is read through struct buf: every length is checked against
 * the message, the payload header and the minimum of its type before use;
 * a payload parser only ever sees a bounded view of its own body. */
#ifndef KZ_ISAKMP_H
#define KZ_ISAKMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define ISAKMP_HDR_LEN 28
#define ISAKMP_GENERIC_LEN 4
#define ISAKMP_VERSION 0x10 /* major 1, minor 0 */
#define ISAKMP_MAX_MSG 65535
#define ISAKMP_COOKIE_LEN 8

/* Next payload types (RFC 2408 3.1, RFC 3947 for NAT-D/NAT-OA). */
enum isakmp_np {
	ISAKMP_NP_NONE = 0,
	ISAKMP_NP_SA = 1,
	ISAKMP_NP_P = 2,
	ISAKMP_NP_T = 3,
	ISAKMP_NP_KE = 4,
	ISAKMP_NP_ID = 5,
	ISAKMP_NP_CERT = 6,
	ISAKMP_NP_CR = 7,
	ISAKMP_NP_HASH = 8,
	ISAKMP_NP_SIG = 9,
	ISAKMP_NP_NONCE = 10,
	ISAKMP_NP_N = 11,
	ISAKMP_NP_D = 12,
	ISAKMP_NP_VID = 13,
	ISAKMP_NP_NATD = 20,
	ISAKMP_NP_NATOA = 21,
	ISAKMP_NP_NATD_DRAFT = 130, /* draft-ietf-ipsec-nat-t-ike-02/03 */
	ISAKMP_NP_NATOA_DRAFT = 131,
};

/* Exchange types. */
enum isakmp_exch {
	ISAKMP_XCHG_IDPROT = 2, /* Main mode */
	ISAKMP_XCHG_AGGR = 4,
	ISAKMP_XCHG_INFO = 5,
	ISAKMP_XCHG_QUICK = 32,
};

#define ISAKMP_FLAG_ENC 0x01
#define ISAKMP_FLAG_COMMIT 0x02
#define ISAKMP_FLAG_AUTH 0x04

#define ISAKMP_DOI_IPSEC 1
#define ISAKMP_SIT_IDENTITY_ONLY 1

/* Protocol ids (RFC 2407 4.4.1). */
enum { ISAKMP_PROTO_ISAKMP = 1, ISAKMP_PROTO_AH = 2, ISAKMP_PROTO_ESP = 3 };
/* Transform ids. */
#define ISAKMP_KEY_IKE 1
enum {
	ESP_DES = 2,
	ESP_3DES = 3,
	ESP_NULL = 11,
	ESP_AES_CBC = 12,
	ESP_AES_GCM_16 = 20, /* RFC 4106, 16-byte ICV */
};

/* Phase 1 attributes (RFC 2409 appendix A). */
enum {
	IKE_ATTR_ENC = 1,
	IKE_ATTR_HASH = 2,
	IKE_ATTR_AUTH = 3,
	IKE_ATTR_GROUP = 4,
	IKE_ATTR_LIFE_TYPE = 11,
	IKE_ATTR_LIFE_DURATION = 12,
	IKE_ATTR_KEY_LEN = 14,
};
enum { IKE_ENC_DES = 1, IKE_ENC_3DES = 5, IKE_ENC_AES_CBC = 7 };
enum {
	IKE_HASH_MD5 = 1,
	IKE_HASH_SHA1 = 2,
	IKE_HASH_SHA2_256 = 4,
	IKE_HASH_SHA2_384 = 5,
	IKE_HASH_SHA2_512 = 6
};
enum { IKE_AUTH_PSK = 1 };
enum { IKE_LIFE_SECONDS = 1, IKE_LIFE_KILOBYTES = 2 };

/* Phase 2 attributes (RFC 2407 4.5). */
enum {
	IPSEC_ATTR_LIFE_TYPE = 1,
	IPSEC_ATTR_LIFE_DURATION = 2,
	IPSEC_ATTR_GROUP = 3,
	IPSEC_ATTR_ENCAP = 4,
	IPSEC_ATTR_AUTH = 5,
	IPSEC_ATTR_KEY_LEN = 6,
};
enum {
	IPSEC_ENCAP_TUNNEL = 1,
	IPSEC_ENCAP_UDP_TUNNEL = 3, /* RFC 3947 */
	IPSEC_ENCAP_UDP_TUNNEL_DRAFT = 61443
};
enum {
	IPSEC_AUTH_HMAC_MD5 = 1,
	IPSEC_AUTH_HMAC_SHA1 = 2,
	IPSEC_AUTH_HMAC_SHA2_256 = 5,
	IPSEC_AUTH_HMAC_SHA2_384 = 6,
	IPSEC_AUTH_HMAC_SHA2_512 = 7
};

/* ID types (RFC 2407 4.6.2.1). */
enum {
	ISAKMP_ID_IPV4_ADDR = 1,
	ISAKMP_ID_FQDN = 2,
	ISAKMP_ID_USER_FQDN = 3,
	ISAKMP_ID_IPV4_ADDR_SUBNET = 4,
	ISAKMP_ID_KEY_ID = 11
};

/* Notify message types (RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706). */
enum {
	ISAKMP_N_INVALID_PAYLOAD_TYPE = 1,
	ISAKMP_N_INVALID_EXCHANGE_TYPE = 7,
	ISAKMP_N_INVALID_FLAGS = 8,
	ISAKMP_N_INVALID_MESSAGE_ID = 9,
	ISAKMP_N_INVALID_SPI = 11,
	ISAKMP_N_PAYLOAD_MALFORMED = 16,
	ISAKMP_N_INVALID_KEY_INFORMATION = 17,
	ISAKMP_N_INVALID_ID_INFORMATION = 18,
	ISAKMP_N_INVALID_HASH_INFORMATION = 23,
	ISAKMP_N_AUTHENTICATION_FAILED = 24,
	ISAKMP_N_NO_PROPOSAL_CHOSEN = 14,
	ISAKMP_N_INITIAL_CONTACT = 24578,
	ISAKMP_N_RESPONDER_LIFETIME = 24576,
	ISAKMP_N_DPD_R_U_THERE = 36136,
	ISAKMP_N_DPD_R_U_THERE_ACK = 36137,
};

struct isakmp_hdr {
	uint8_t icookie[ISAKMP_COOKIE_LEN];
	uint8_t rcookie[ISAKMP_COOKIE_LEN];
	uint8_t np;
	uint8_t version;
	uint8_t exch;
	uint8_t flags;
	uint32_t msgid;
	uint32_t len;
};

/* One payload of a message: its type, its body (after the 4-byte generic
 * header) as a bounded view, and the raw bytes including that header
 * (HASH(1..3) of Quick Mode are computed over raw payloads). */
struct isakmp_payload {
	uint8_t type;
	struct buf body;
	const uint8_t *raw;
	size_t raw_len;
};

#define ISAKMP_MAX_PAYLOADS 32

/* A message taken apart: the payload chain in order.  Bodies point into the
 * buffer that was parsed, which must outlive the digest. */
struct isakmp_digest {
	struct isakmp_hdr hdr;
	struct isakmp_payload p[ISAKMP_MAX_PAYLOADS];
	size_t n;
	/* Set by isakmp_parse_message(): the hdr.len - 28 bytes after the
	 * header (ciphertext when ISAKMP_FLAG_ENC is set). */
	struct buf body;
};

/* The 28-byte header.  Checks the version's major number, that len covers
 * the header and does not exceed the datagram; does not look at cookies.
 * KZ_ETRUNC under 28 bytes, KZ_ENOTSUP for a major version other than 1,
 * KZ_EPROTO for a bad len; the cursor is left after the header. */
int isakmp_parse_hdr(struct buf *b, struct isakmp_hdr *h) KZ_MUST_CHECK;
/* The payload chain starting with type np in body (the message after the
 * header, decrypted if it was encrypted).  Trailing bytes after the last
 * payload are allowed (CBC padding).  KZ_EPROTO for a payload that is too
 * short for its type, a length past the end, a zero-length loop, or more
 * than ISAKMP_MAX_PAYLOADS payloads; unknown payload types are kept (the
 * exchange rules decide).  Minimum bodies: SA 8, KE/ID data/HASH/SIG/VID/
 * NAT-D/CERT/CR 1 (ID 5 with its fixed part), NONCE 8..256 (RFC 2409 5),
 * N and D 8, NAT-OA 8.  Proposal and Transform payloads outside an SA are
 * KZ_EPROTO.  The reserved byte is not checked (peers reuse it). */
int isakmp_parse_payloads(struct buf *body, uint8_t np, struct isakmp_digest *d) KZ_MUST_CHECK;
/* Addition: header, then the payload chain unless the message is encrypted
 * (ISAKMP_FLAG_ENC: d->n is 0 and d->body is the ciphertext, to be
 * decrypted and given to isakmp_parse_payloads() with d->hdr.np).  Bytes of
 * the datagram after hdr.len are ignored. */
int isakmp_parse_message(const void *data, size_t len, struct isakmp_digest *d) KZ_MUST_CHECK;
/* First payload of a type and how many there are. */
const struct isakmp_payload *isakmp_find(const struct isakmp_digest *d, uint8_t type);
size_t isakmp_count(const struct isakmp_digest *d, uint8_t type);

/* ---- SA payloads ---- */

/* What is kept of a peer's SA payload: Cisco with several ISAKMP policies,
 * FortiGate and Palo Alto lists and strongSwan's default proposal list run
 * past 16 transforms.  Proposals and transforms beyond these are checked
 * for their structure but not kept (counted in `dropped`): an offer is
 * never refused only for its length, and its search stays bounded. */
#define ISAKMP_MAX_PROPOSALS 16
#define ISAKMP_MAX_TRANSFORMS 64
#define ISAKMP_MAX_ATTRS 16

/* Attribute values as parsed: a TLV value of 1-4 bytes is a number; the
 * life duration (phase 1 type 12, phase 2 type 2) may have up to 8 bytes and
 * saturates at UINT32_MAX; any other attribute we use (phase 1: 1-4, 11, 12,
 * 14; phase 2: 1-6) with an empty or longer value is KZ_EPROTO.  Attributes
 * we do not use with a longer value (group prime, curve, ...) are kept with
 * value 0 and `opaque` set, so the exchange can refuse the transform. */
struct isakmp_attr {
	uint16_t type;  /* without the AF bit */
	bool basic;     /* TV (16-bit value) or TLV */
	uint32_t value; /* basic, or a variable value of up to 4 bytes */
	bool opaque;    /* addition: TLV value we cannot represent (see above) */
};

struct isakmp_transform {
	uint8_t num;
	uint8_t id;
	struct isakmp_attr attr[ISAKMP_MAX_ATTRS];
	size_t nattr;
};

/* A proposal's transforms are nt consecutive entries of its SA's pool. */
struct isakmp_proposal {
	uint8_t num;
	uint8_t proto;
	uint8_t spi_size;
	uint8_t spi[8];
	struct isakmp_transform *t;
	size_t nt;
};

/* An SA payload.  The transforms of all proposals live in one pool sized
 * by what was received or built (a typical offer: a few kB), not by the
 * limits (16 x 64 transforms inline would be about 213 kB per SA payload,
 * allocated and zeroed several times per negotiation).  Zero it (or parse
 * into it) before use; isakmp_sa_release() frees the pool. */
struct isakmp_sa {
	uint32_t doi;
	uint32_t situation;
	struct isakmp_proposal p[ISAKMP_MAX_PROPOSALS];
	size_t np;
	size_t dropped; /* addition: transforms past the limits, not kept */
	struct isakmp_transform *pool;
	size_t pool_len, pool_cap;
};

/* A zeroed transform appended to proposal pi, which must be the last one
 * (pi == np - 1) or the next (pi == np: np grows to pi + 1; the caller
 * fills in the proposal's fields).  NULL past ISAKMP_MAX_PROPOSALS or
 * ISAKMP_MAX_TRANSFORMS, for an earlier proposal, or out of memory.  The
 * pool may move: pointers into it from before the call are stale (p[].t
 * are updated). */
struct isakmp_transform *isakmp_sa_add_transform(struct isakmp_sa *sa, size_t pi);
/* Frees the pool and zeroes *sa. */
void isakmp_sa_release(struct isakmp_sa *sa);
/* A zeroed SA on the heap, and its release with the pool (NULL is fine). */
struct isakmp_sa *isakmp_sa_new(void);
void isakmp_sa_free(struct isakmp_sa *sa);

/* The body of an SA payload, into *sa, which must be zeroed or hold an SA
 * (its pool is reused).  KZ_EPROTO on malformed nesting, KZ_ENOTSUP
 * for a DOI other than IPsec or a situation other than identity-only,
 * KZ_ETOOBIG past ISAKMP_MAX_ATTRS in a transform.  Proposals past
 * ISAKMP_MAX_PROPOSALS and transforms past ISAKMP_MAX_TRANSFORMS are
 * parsed (so a malformed one still fails the payload) but not kept: the
 * count of transforms left out is `dropped`.  KZ_ENOMEM when the pool
 * cannot grow.  On failure *sa may hold a part of the payload (release it
 * all the same). */
int isakmp_parse_sa(const struct buf *body, struct isakmp_sa *sa) KZ_MUST_CHECK;
/* Proposal SPIs: up to 8 bytes are kept; a phase 1 (ISAKMP) proposal may
 * carry the 16 bytes of the cookies (RFC 2408 2.5.3), which are skipped and
 * reported as spi_size 0.  Any other SPI longer than 8 bytes is KZ_EPROTO. */
/* Value of attribute type in a transform; false when absent. */
bool isakmp_attr_get(const struct isakmp_transform *t, uint16_t type, uint32_t *value);

/* ---- other payload bodies ---- */

struct isakmp_id {
	uint8_t type;
	uint8_t proto;
	uint16_t port;
	struct buf data; /* identification data, bounded */
};

struct isakmp_notify {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_size;
	uint16_t type;
	struct buf spi;
	struct buf data;
};

#define ISAKMP_MAX_DELETE_SPIS 16
struct isakmp_delete {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_size;
	uint16_t nspi;
	struct buf spis; /* nspi * spi_size bytes, checked */
};

int isakmp_parse_id(const struct buf *body, struct isakmp_id *id) KZ_MUST_CHECK;
int isakmp_parse_notify(const struct buf *body, struct isakmp_notify *n) KZ_MUST_CHECK;
int isakmp_parse_delete(const struct buf *body, struct isakmp_delete *d) KZ_MUST_CHECK;

/* ---- building ---- */

/* A payload chain under construction in w: each payload's next-payload
 * byte is patched when the next one is added. */
struct isakmp_chain {
	struct wbuf *w;
	uint8_t first;   /* type of the first payload (for the header's np) */
	long last_np_at; /* offset of the previous payload's np byte, -1 none */
};

void isakmp_chain_init(struct isakmp_chain *c, struct wbuf *w);
/* Starts a payload of type; returns the offset of its generic header for
 * isakmp_payload_end(), or -1 when w is full. */
long isakmp_payload_begin(struct isakmp_chain *c, uint8_t type);
/* Back-patches the payload's length. */
int isakmp_payload_end(struct isakmp_chain *c, long at);
/* A whole payload with an opaque body (KE, NONCE, HASH, VID, NAT-D, ...). */
int isakmp_put_payload(struct isakmp_chain *c, uint8_t type, const void *body, size_t len);

int isakmp_put_hdr(struct wbuf *w, const struct isakmp_hdr *h); /* len back-patched by caller */
/* Addition: patches the header written at hdr_at with the chain's first
 * payload type and the message length (w->len - hdr_at). */
int isakmp_finish(struct wbuf *w, size_t hdr_at, const struct isakmp_chain *c);
/* SA builder: DOI IPsec, situation identity-only, proposals and transforms
 * with the numbers given; an attribute is sent basic (TV) when its value is
 * below 65536, else as a 4-byte TLV if it is a variable one (life duration),
 * else KZ_ERANGE.  Phase 1 or 2 attribute numbering follows the proposal's
 * protocol (ISAKMP: phase 1).  KZ_EINVAL for no proposal, a proposal with no
 * transform, an SPI longer than 8 bytes or an opaque attribute. */
int isakmp_put_sa(struct isakmp_chain *c, const struct isakmp_sa *sa);
int isakmp_put_id(struct isakmp_chain *c, uint8_t type, uint8_t proto, uint16_t port,
		  const void *data, size_t len);
/* Notify and delete are sent with DOI IPsec (1). */
int isakmp_put_notify(struct isakmp_chain *c, uint8_t proto, const void *spi, uint8_t spi_size,
		      uint16_t type, const void *data, size_t len);
int isakmp_put_delete(struct isakmp_chain *c, uint8_t proto, uint8_t spi_size, const void *spis,
		      uint16_t nspi);

/* Names for logs and show: "NO-PROPOSAL-CHOSEN", "SA", "Main mode"...
 * Numbers without a name give "NOTIFY-<n>", "PAYLOAD-<n>", "EXCHANGE-<n>"
 * from a small per-thread ring of buffers (valid for the next 7 calls). */
const char *isakmp_notify_name(uint16_t type);
const char *isakmp_payload_name(uint8_t type);
const char *isakmp_exch_name(uint8_t exch);

#endif
