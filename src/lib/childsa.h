/* childsa.h - what the IKE engine hands the data plane for one IPsec SA
 * (one direction), and what the data plane reports back.  Shared by ike/
 * (producer) and dp/ (consumer); the daemon wires them (daemon/ike_io.c). */
#ifndef KZ_CHILDSA_H
#define KZ_CHILDSA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/ipsec_types.h"

#define KZ_CHILD_MAX_ENC_KEY 36  /* AES-256 + 4-byte GCM salt */
#define KZ_CHILD_MAX_AUTH_KEY 64 /* HMAC-SHA2-512 */

enum kz_child_dir { KZ_CHILD_IN, KZ_CHILD_OUT };

struct kz_child_sa {
	enum kz_child_dir dir;
	uint32_t spi;        /* host order */
	unsigned ipsec_unit; /* IPsec<N> it belongs to */
	uint64_t ike_serial; /* the IKE SA that made it */
	enum kz_enc enc;     /* ESP cipher (KZ_ENC_AES_GCM_* has no auth) */
	enum kz_auth auth;
	uint8_t enc_key[KZ_CHILD_MAX_ENC_KEY];
	size_t enc_key_len; /* GCM: key + 4-byte salt (RFC 4106) */
	uint8_t auth_key[KZ_CHILD_MAX_AUTH_KEY];
	size_t auth_key_len;
	uint32_t replay_window;   /* bits, 0 = off */
	struct sockaddr_in local; /* outer addresses (port set with UDP encap) */
	struct sockaddr_in peer;
	bool udp_encap;            /* RFC 3948 ESP-in-UDP on port 4500 */
	struct kz_prefix local_ts; /* traffic selectors */
	struct kz_prefix remote_ts;
	/* selector protocol (0: any) and ports (0: any; host order), the
	 * same in both directions: local is this site's side */
	uint8_t ts_proto;
	uint16_t ts_lport, ts_rport;
	uint32_t life_seconds;
	uint64_t life_kbytes; /* 0 = none */
	uint64_t created_ms;  /* monotonic */
	/* monotonic: until then an older pair for the same selectors keeps
	 * the outbound traffic (0: at once).  The initiator of a rekey's
	 * Quick Mode sets it so its first packets on the new SA do not
	 * overtake the QM3 that makes the peer install it. */
	uint64_t out_after_ms;
};

/* Counters the data plane keeps per SA, for `show ipsec sa`. */
struct kz_child_stats {
	uint64_t packets;
	uint64_t bytes;    /* inner (plaintext) bytes */
	int64_t last_unix; /* wall-clock time of the last packet, 0 none */
	uint64_t drops;    /* all reasons */
};

#endif
