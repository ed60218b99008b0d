/* ipsec_types.h - the few IPsec terms that every layer speaks: the ESP
 * and IKE ciphers, ESP integrity, an IPv4 prefix (a traffic selector, an
 * interface address, a route) and how many IPsec<N> interfaces there are.
 * config/model.h describes them in the config language; ike/, esp/ and dp/
 * use them without knowing the config. */
#ifndef KZ_IPSEC_TYPES_H
#define KZ_IPSEC_TYPES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define KZ_MAX_IPSEC_IF 256 /* IPsec0 .. IPsec255 */

/* Phase 1 and phase 2 ciphers share one enum; the parser allows each
 * node only its own subset. */
enum kz_enc {
	KZ_ENC_AES_CBC_128,
	KZ_ENC_AES_CBC_192,
	KZ_ENC_AES_CBC_256,
	KZ_ENC_AES_GCM_128,
	KZ_ENC_AES_GCM_256,
	KZ_ENC_3DES_CBC,
	KZ_ENC_DES_CBC,
	KZ_ENC_NULL,
	KZ_ENC_COUNT
};

/* ESP integrity; KZ_AUTH_NONE with AES-GCM (and only there). */
enum kz_auth {
	KZ_AUTH_NONE,
	KZ_AUTH_HMAC_MD5,
	KZ_AUTH_HMAC_SHA1,
	KZ_AUTH_HMAC_SHA2_256,
	KZ_AUTH_HMAC_SHA2_384,
	KZ_AUTH_HMAC_SHA2_512,
	KZ_AUTH_COUNT
};

struct kz_prefix {
	bool set;
	struct in_addr addr; /* network byte order */
	uint8_t len;         /* 0..32 */
};

/* One selector pair: the local and remote networks, and optionally an IP
 * protocol (0: any) and ports (0: any; host order).  Ports only mean
 * something with TCP or UDP. */
struct kz_selector {
	struct kz_prefix local, remote;
	uint8_t proto;
	uint16_t lport, rport;
};

#define KZ_IPPROTO_ANY 0

#endif
