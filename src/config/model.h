/* model.h - the configuration model: what the config language describes.
 *
 * One struct kz_config holds a whole configuration (startup file, running
 * config, or a peer's file for `kizuna check`).  Objects keep the order in
 * which they were first defined; `show running-config` prints them in that
 * order.  References between objects are by name (as on the router of the
 * manual), so a profile may name a policy that does not exist: that is what
 * the config check (A4) reports.  The model holds no kernel state. */
#ifndef KZ_MODEL_H
#define KZ_MODEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipsec_types.h"

#define KZ_NAME_MAX 64   /* names: 1-63 chars of [A-Za-z0-9_.-] */
#define KZ_IDVAL_MAX 256 /* key-id / fqdn / user-fqdn text */
#define KZ_PSK_MAX 256   /* pre-shared key bytes */
/* what `show running-config` prints for a key (render.h); refused as a key */
#define KZ_PSK_HIDDEN "********"
#define KZ_IFNAME_MAX 16    /* Linux IFNAMSIZ */
#define KZ_MAX_REFS 8       /* proposals named by one policy */
#define KZ_MAX_OBJECTS 256  /* of each kind, in one config */
#define KZ_MAX_SELECTORS 16 /* `selector` lines of one IPsec policy */
/* selector pairs of one IPsec policy: local-id/remote-id and the lines */
#define KZ_MAX_PAIRS (KZ_MAX_SELECTORS + 1)

#define KZ_MOBILE_IFNAME "MobileEthernet0.0"

/* enum kz_enc, enum kz_auth, struct kz_prefix and KZ_MAX_IPSEC_IF:
 * lib/ipsec_types.h. */

enum kz_hash {
	KZ_HASH_MD5,
	KZ_HASH_SHA1,
	KZ_HASH_SHA2_256,
	KZ_HASH_SHA2_384,
	KZ_HASH_SHA2_512,
	KZ_HASH_COUNT
};

/* Diffie-Hellman groups; KZ_GROUP_NONE only for `pfs none`. */
enum kz_group {
	KZ_GROUP_NONE,
	KZ_GROUP_MODP768,  /* IKE group 1 */
	KZ_GROUP_MODP1024, /* 2 */
	KZ_GROUP_MODP1536, /* 5 */
	KZ_GROUP_MODP2048, /* 14 */
	KZ_GROUP_MODP3072, /* 15 */
	KZ_GROUP_MODP4096, /* 16 */
	KZ_GROUP_ECP256,   /* 19 */
	KZ_GROUP_ECP384,   /* 20 */
	KZ_GROUP_COUNT
};

enum kz_exchange_mode { KZ_MODE_MAIN, KZ_MODE_AGGRESSIVE };

enum kz_id_type {
	KZ_ID_NONE, /* not set */
	KZ_ID_KEY_ID,
	KZ_ID_FQDN,
	KZ_ID_USER_FQDN,
	KZ_ID_ADDRESS
};

struct kz_ident {
	enum kz_id_type type;
	char value[KZ_IDVAL_MAX]; /* key-id, fqdn, user-fqdn text */
	struct in_addr addr;      /* KZ_ID_ADDRESS */
};

/* Defaults, as config-language.md gives them. */
#define KZ_DEF_IKE_ENC KZ_ENC_AES_CBC_256
#define KZ_DEF_IKE_HASH KZ_HASH_SHA2_256
#define KZ_DEF_IKE_GROUP KZ_GROUP_MODP2048
#define KZ_DEF_IKE_LIFETIME 28800u
#define KZ_DEF_IPSEC_ENC KZ_ENC_AES_CBC_256
#define KZ_DEF_IPSEC_AUTH KZ_AUTH_HMAC_SHA2_256
#define KZ_DEF_IPSEC_LIFETIME 28800u
#define KZ_DEF_KEEPALIVE 20u
#define KZ_DEF_DPD_INTERVAL 30u
#define KZ_DEF_DPD_RETRY 3u
#define KZ_DEF_REPLAY_WINDOW 64u
/* Initiator back-off after a failed negotiation (`retry interval N max M`):
 * the first retry waits N s, each further failure doubles the wait up to
 * M s, so a site that cannot get through costs a metered SIM little. */
#define KZ_DEF_RETRY_INTERVAL 5u
#define KZ_DEF_RETRY_MAX 600u
#define KZ_RETRY_INTERVAL_MAX 3600u
#define KZ_RETRY_MAX_MAX 86400u

struct kz_ike_proposal {
	char name[KZ_NAME_MAX];
	enum kz_enc enc;
	enum kz_hash hash;
	enum kz_group group;
	uint32_t lifetime; /* seconds */
};

struct kz_psk {
	bool set;
	bool hex;                      /* entered as `hex`: text holds the hex digits */
	char text[2 * KZ_PSK_MAX + 1]; /* as typed (for running-config only) */
	uint8_t key[KZ_PSK_MAX];       /* the key bytes */
	size_t len;
};

struct kz_ike_policy {
	char name[KZ_NAME_MAX];
	enum kz_exchange_mode mode;
	char proposals[KZ_MAX_REFS][KZ_NAME_MAX];
	unsigned nproposals;
	struct kz_psk psk;
	struct kz_ident local_id;
	struct kz_ident remote_id;
	bool natt;
	uint32_t keepalive; /* seconds */
	bool dpd;
	uint32_t dpd_interval;
	uint32_t dpd_retry;
};

struct kz_ipsec_proposal {
	char name[KZ_NAME_MAX];
	enum kz_enc enc;
	enum kz_auth auth;
	uint32_t lifetime_time;   /* seconds */
	uint64_t lifetime_kbytes; /* 0 = none ("-") */
};

struct kz_ipsec_policy {
	char name[KZ_NAME_MAX];
	char proposals[KZ_MAX_REFS][KZ_NAME_MAX];
	unsigned nproposals;
	struct kz_prefix local_ts;
	struct kz_prefix remote_ts;
	/* further pairs (`selector local .. remote ..`), each its own
	 * Quick Mode and SA pair; local_ts/remote_ts stay the first */
	struct kz_selector sel[KZ_MAX_SELECTORS];
	unsigned nsel;
	enum kz_group pfs;
	uint32_t replay_window; /* bits; 0 = off */
};

enum kz_peer_type { KZ_PEER_UNSET, KZ_PEER_ANY, KZ_PEER_ADDR, KZ_PEER_FQDN };
enum kz_initiate { KZ_INITIATE_AUTO, KZ_INITIATE_ON_DEMAND };

struct kz_ipsec_profile {
	char name[KZ_NAME_MAX];
	enum kz_peer_type peer_type;
	struct in_addr peer_addr;
	char peer_fqdn[KZ_IDVAL_MAX];
	bool source_set;                /* source-interface MobileEthernet0.0 */
	char ike_policy[KZ_NAME_MAX];   /* "" = not set */
	char ipsec_policy[KZ_NAME_MAX]; /* "" = not set */
	enum kz_initiate initiate;
	uint32_t retry_interval; /* seconds, 1 .. KZ_RETRY_INTERVAL_MAX */
	uint32_t retry_max;      /* seconds, retry_interval .. KZ_RETRY_MAX_MAX */
};

enum kz_apn_auth { KZ_APN_AUTH_NONE, KZ_APN_AUTH_PAP, KZ_APN_AUTH_CHAP };

#define KZ_MODEM_MAX 24 /* "auto" or an IMEI (15 digits) */
#define KZ_APN_MAX 101  /* 3GPP TS 23.003: an APN is at most 100 octets */
#define KZ_APN_CRED_MAX 65
#define KZ_PIN_MAX 9 /* a SIM PIN is 4-8 digits */

struct kz_if_mobile {
	bool present; /* an `interface MobileEthernet0.0` block exists */
	/* With a modem bound the daemon writes the bearer's interface here
	 * (a `device` line is then not rendered). */
	char device[KZ_IFNAME_MAX];
	bool shutdown; /* default false (up) */
	/* modem (ModemManager): "" none (default), "auto" or an IMEI */
	char modem[KZ_MODEM_MAX];
	char apn[KZ_APN_MAX]; /* "" not set */
	bool apn_ipv4;        /* ip-type ipv4 written */
	enum kz_apn_auth apn_auth;
	char apn_user[KZ_APN_CRED_MAX];
	char apn_password[KZ_APN_CRED_MAX]; /* a secret */
	char pin[KZ_PIN_MAX];               /* a secret; "" not set */
};

enum kz_mss_mode { KZ_MSS_OFF, KZ_MSS_AUTO, KZ_MSS_FIXED };

struct kz_if_ipsec {
	unsigned unit;            /* N of IPsec<N> */
	char map[KZ_NAME_MAX];    /* profile; "" = none */
	struct kz_prefix address; /* ip address A.B.C.D/M (host bits allowed) */
	uint32_t mtu;             /* 0 = derived */
	enum kz_mss_mode mss_mode;
	uint32_t mss;
	bool shutdown; /* default true (down until `no shutdown`) */
};

enum kz_route_via { KZ_VIA_IPSEC, KZ_VIA_GATEWAY, KZ_VIA_MOBILE };

struct kz_route {
	struct kz_prefix dest;
	enum kz_route_via via;
	unsigned ipsec_unit;    /* KZ_VIA_IPSEC */
	struct in_addr gateway; /* KZ_VIA_GATEWAY */
};

/* Every named object keeps its name as the first member, so code that
 * only needs the name (lookup, creation, listing names) serves all kinds. */
_Static_assert(offsetof(struct kz_ike_proposal, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ike_policy, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ipsec_proposal, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ipsec_policy, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ipsec_profile, name) == 0, "name first");

/* A growable array of objects in definition order. */
#define KZ_VEC(type)        \
	struct {            \
		type *v;    \
		size_t n;   \
		size_t cap; \
	}

/* `metrics file PATH [interval SECONDS]`: kizunad writes its counters as a
 * Prometheus text file (docs/metrics.md). */
#define KZ_METRICS_PATH_MAX 256 /* an absolute path of 2-255 characters */
#define KZ_DEF_METRICS_INTERVAL 15
struct kz_metrics {
	bool set;
	char path[KZ_METRICS_PATH_MAX];
	uint32_t interval; /* seconds, 1-3600 */
};

struct kz_config {
	char hostname[KZ_NAME_MAX];
	struct kz_if_mobile mobile;
	KZ_VEC(struct kz_ike_proposal) ike_proposals;
	KZ_VEC(struct kz_ike_policy) ike_policies;
	KZ_VEC(struct kz_ipsec_proposal) ipsec_proposals;
	KZ_VEC(struct kz_ipsec_policy) ipsec_policies;
	KZ_VEC(struct kz_ipsec_profile) profiles;
	KZ_VEC(struct kz_if_ipsec) ipsec_ifs;
	KZ_VEC(struct kz_route) routes;
	struct kz_metrics metrics;
};

/* A new empty config (hostname "kizuna", no objects). NULL on ENOMEM. */
struct kz_config *kz_config_new(void);
/* Frees the config, wiping every pre-shared key first. NULL is fine. */
void kz_config_free(struct kz_config *c);
/* A deep copy, NULL on ENOMEM. */
struct kz_config *kz_config_dup(const struct kz_config *c);

/* Lookups by name (case-sensitive); NULL when absent. */
struct kz_ike_proposal *kz_find_ike_proposal(const struct kz_config *c, const char *name);
struct kz_ike_policy *kz_find_ike_policy(const struct kz_config *c, const char *name);
struct kz_ipsec_proposal *kz_find_ipsec_proposal(const struct kz_config *c, const char *name);
struct kz_ipsec_policy *kz_find_ipsec_policy(const struct kz_config *c, const char *name);
struct kz_ipsec_profile *kz_find_profile(const struct kz_config *c, const char *name);
struct kz_if_ipsec *kz_find_ipsec_if(const struct kz_config *c, unsigned unit);
/* The IPsec interface that maps profile `name`, or NULL. */
struct kz_if_ipsec *kz_find_if_mapping(const struct kz_config *c, const char *name);

/* Get-or-create with defaults; NULL on ENOMEM or when KZ_MAX_OBJECTS is
 * reached (*err says which). */
struct kz_ike_proposal *kz_add_ike_proposal(struct kz_config *c, const char *name, int *err);
struct kz_ike_policy *kz_add_ike_policy(struct kz_config *c, const char *name, int *err);
struct kz_ipsec_proposal *kz_add_ipsec_proposal(struct kz_config *c, const char *name, int *err);
struct kz_ipsec_policy *kz_add_ipsec_policy(struct kz_config *c, const char *name, int *err);
struct kz_ipsec_profile *kz_add_profile(struct kz_config *c, const char *name, int *err);
struct kz_if_ipsec *kz_add_ipsec_if(struct kz_config *c, unsigned unit, int *err);

/* Removal by name/unit; KZ_ENOENT when absent. */
int kz_del_ike_proposal(struct kz_config *c, const char *name);
int kz_del_ike_policy(struct kz_config *c, const char *name);
int kz_del_ipsec_proposal(struct kz_config *c, const char *name);
int kz_del_ipsec_policy(struct kz_config *c, const char *name);
int kz_del_profile(struct kz_config *c, const char *name);
int kz_del_ipsec_if(struct kz_config *c, unsigned unit);

/* Routes: add replaces a route with the same destination. */
int kz_route_add(struct kz_config *c, const struct kz_route *r);
int kz_route_del(struct kz_config *c, const struct kz_prefix *dest);

/* Keyword names, as the config language spells them. */
const char *kz_enc_name(enum kz_enc e);
const char *kz_hash_name(enum kz_hash h);
const char *kz_auth_name(enum kz_auth a);
const char *kz_group_name(enum kz_group g); /* "none" for KZ_GROUP_NONE */
/* Every name of one algorithm: the config word (as above), strongSwan's
 * swanctl.conf word (NULL: none) and `show ike sa`'s words (NULL: not
 * shown there).  Out of range: conf "?", the others NULL. */
struct kz_alg_names {
	const char *conf, *swan, *show;
};
const struct kz_alg_names *kz_enc_names(enum kz_enc e);
const struct kz_alg_names *kz_hash_names(enum kz_hash h);
const struct kz_alg_names *kz_auth_names(enum kz_auth a);
const struct kz_alg_names *kz_group_names(enum kz_group g);
const char *kz_mode_name(enum kz_exchange_mode m);

/* Address helpers. */
enum kz_addr_class {
	KZ_ADDR_GLOBAL,
	KZ_ADDR_PRIVATE, /* RFC 1918 */
	KZ_ADDR_SHARED   /* RFC 6598, carrier-grade NAT */
};
enum kz_addr_class kz_addr_classify(struct in_addr a);
const char *kz_addr_class_name(enum kz_addr_class k); /* "global" ... */
/* "192.168.1.0/24" into out (at least 19 bytes). */
void kz_prefix_str(const struct kz_prefix *p, char *out, size_t len);
bool kz_prefix_equal(const struct kz_prefix *a, const struct kz_prefix *b);
/* Whether inner lies within outer (both set). */
bool kz_prefix_within(const struct kz_prefix *inner, const struct kz_prefix *outer);
bool kz_selector_equal(const struct kz_selector *a, const struct kz_selector *b);
/* The selector pairs of a policy in order: local-id/remote-id first (as
 * configured: either may be unset, meaning the gateways' own addresses),
 * then each `selector` line.  Returns how many (1..KZ_MAX_PAIRS). */
unsigned kz_policy_pairs(const struct kz_ipsec_policy *p, struct kz_selector *out);
/* "tcp", "udp", "icmp", "any" or the number, into out (at least 4 bytes). */
void kz_proto_str(uint8_t proto, char *out, size_t len);
/* "192.168.1.0/24 -> 10.0.0.0/24", then " protocol tcp local-port 22
 * remote-port 80" as far as set. */
void kz_selector_str(const struct kz_selector *s, char *out, size_t len);
/* The profile's peer as shown: its address, FQDN, "any", or "-" unset. */
void kz_profile_peer_str(const struct kz_ipsec_profile *p, char *out, size_t len);

#endif
