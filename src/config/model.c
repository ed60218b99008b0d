/* model.c - the configuration model: allocation, lookup, names. */
#include "config/model.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/enum_name.h"
#include "lib/mem.h"

/* Generic vector helpers over KZ_VEC members.  The IKE policies hold the
 * pre-shared keys: their vector lives in key memory (lib/mem.h: out of
 * core dumps, wiped when freed or moved). */
#define VEC_KEY(vec) _Generic((vec).v, struct kz_ike_policy * : true, default : false)

static void *vec_grow(void *vp, size_t *n, size_t *cap, size_t elem, bool key, int *err)
{
	void **v = vp;

	if (*n >= KZ_MAX_OBJECTS) {
		*err = KZ_ETOOBIG;
		return NULL;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *p = key ? kz_key_realloc(*v, *cap * elem, ncap * elem)
			      : realloc(*v, ncap * elem);

		if (!p) {
			*err = KZ_ENOMEM;
			return NULL;
		}
		*v = p;
		*cap = ncap;
	}
	(*n)++;
	return (char *)*v + (*n - 1) * elem;
}

static void vec_remove(void *base, size_t *n, size_t elem, size_t i)
{
	char *b = base;

	memmove(b + i * elem, b + (i + 1) * elem, (*n - i - 1) * elem);
	kz_wipe(b + (*n - 1) * elem, elem); /* the last one's old copy */
	(*n)--;
}

#define VEC_PUSH(vec, errp) \
	vec_grow(&(vec).v, &(vec).n, &(vec).cap, sizeof(*(vec).v), VEC_KEY(vec), (errp))

struct kz_config *kz_config_new(void)
{
	struct kz_config *c = calloc(1, sizeof(*c));

	if (c)
		kz_strlcpy(c->hostname, "kizuna", sizeof(c->hostname));
	return c;
}

static void wipe_policies(struct kz_config *c)
{
	for (size_t i = 0; i < c->ike_policies.n; i++)
		kz_wipe(&c->ike_policies.v[i].psk, sizeof(c->ike_policies.v[i].psk));
}

void kz_config_free(struct kz_config *c)
{
	if (!c)
		return;
	wipe_policies(c);
	free(c->ike_proposals.v);
	kz_key_free(c->ike_policies.v, c->ike_policies.cap * sizeof(*c->ike_policies.v));
	free(c->ipsec_proposals.v);
	free(c->ipsec_policies.v);
	free(c->profiles.v);
	free(c->ipsec_ifs.v);
	free(c->routes.v);
	kz_wipe(c, sizeof(*c));
	free(c);
}

#define VEC_DUP(dst, src, ok)                                                             \
	do {                                                                              \
		(dst).v = NULL;                                                           \
		(dst).cap = (dst).n = 0;                                                  \
		if ((src).n) {                                                            \
			(dst).v = VEC_KEY(src) ? kz_key_alloc((src).n * sizeof(*(src).v)) \
					       : malloc((src).n * sizeof(*(src).v));      \
			if (!(dst).v) {                                                   \
				ok = 0;                                                   \
				break;                                                    \
			}                                                                 \
			memcpy((dst).v, (src).v, (src).n * sizeof(*(src).v));             \
			(dst).n = (dst).cap = (src).n;                                    \
		}                                                                         \
	} while (0)

struct kz_config *kz_config_dup(const struct kz_config *s)
{
	struct kz_config *c = calloc(1, sizeof(*c));
	int ok = 1;

	if (!c)
		return NULL;
	memcpy(c->hostname, s->hostname, sizeof(c->hostname));
	c->mobile = s->mobile;
	c->metrics = s->metrics;
	VEC_DUP(c->ike_proposals, s->ike_proposals, ok);
	VEC_DUP(c->ike_policies, s->ike_policies, ok);
	VEC_DUP(c->ipsec_proposals, s->ipsec_proposals, ok);
	VEC_DUP(c->ipsec_policies, s->ipsec_policies, ok);
	VEC_DUP(c->profiles, s->profiles, ok);
	VEC_DUP(c->ipsec_ifs, s->ipsec_ifs, ok);
	VEC_DUP(c->routes, s->routes, ok);
	if (!ok) {
		kz_config_free(c);
		return NULL;
	}
	return c;
}

#define FIND_BY_NAME(vec, nm)                                    \
	do {                                                     \
		for (size_t i_ = 0; i_ < (vec).n; i_++)          \
			if (strcmp((vec).v[i_].name, (nm)) == 0) \
				return &(vec).v[i_];             \
		return NULL;                                     \
	} while (0)

struct kz_ike_proposal *kz_find_ike_proposal(const struct kz_config *c, const char *name)
{
	FIND_BY_NAME(c->ike_proposals, name);
}

struct kz_ike_policy *kz_find_ike_policy(const struct kz_config *c, const char *name)
{
	FIND_BY_NAME(c->ike_policies, name);
}

struct kz_ipsec_proposal *kz_find_ipsec_proposal(const struct kz_config *c, const char *name)
{
	FIND_BY_NAME(c->ipsec_proposals, name);
}

struct kz_ipsec_policy *kz_find_ipsec_policy(const struct kz_config *c, const char *name)
{
	FIND_BY_NAME(c->ipsec_policies, name);
}

struct kz_ipsec_profile *kz_find_profile(const struct kz_config *c, const char *name)
{
	FIND_BY_NAME(c->profiles, name);
}

struct kz_if_ipsec *kz_find_ipsec_if(const struct kz_config *c, unsigned unit)
{
	for (size_t i = 0; i < c->ipsec_ifs.n; i++)
		if (c->ipsec_ifs.v[i].unit == unit)
			return &c->ipsec_ifs.v[i];
	return NULL;
}

struct kz_if_ipsec *kz_find_if_mapping(const struct kz_config *c, const char *name)
{
	for (size_t i = 0; i < c->ipsec_ifs.n; i++)
		if (strcmp(c->ipsec_ifs.v[i].map, name) == 0)
			return &c->ipsec_ifs.v[i];
	return NULL;
}

/* A new object at the end of vec, zeroed but for its name, which every
 * named object keeps as its first member; NULL (and *err) when full. */
static void *vec_push_named(void *vp, size_t *n, size_t *cap, size_t elem, bool key,
			    const char *name, int *err)
{
	char *p = vec_grow(vp, n, cap, elem, key, err);

	if (p) {
		memset(p, 0, elem);
		kz_strlcpy(p, name, KZ_NAME_MAX);
	}
	return p;
}

#define VEC_PUSH_NAMED(vec, nm, errp) \
	vec_push_named(&(vec).v, &(vec).n, &(vec).cap, sizeof(*(vec).v), VEC_KEY(vec), (nm), (errp))

struct kz_ike_proposal *kz_add_ike_proposal(struct kz_config *c, const char *name, int *err)
{
	struct kz_ike_proposal *p = kz_find_ike_proposal(c, name);

	if (p || !(p = VEC_PUSH_NAMED(c->ike_proposals, name, err)))
		return p;
	p->enc = KZ_DEF_IKE_ENC;
	p->hash = KZ_DEF_IKE_HASH;
	p->group = KZ_DEF_IKE_GROUP;
	p->lifetime = KZ_DEF_IKE_LIFETIME;
	return p;
}

struct kz_ike_policy *kz_add_ike_policy(struct kz_config *c, const char *name, int *err)
{
	struct kz_ike_policy *p = kz_find_ike_policy(c, name);

	if (p || !(p = VEC_PUSH_NAMED(c->ike_policies, name, err)))
		return p;
	p->mode = KZ_MODE_MAIN;
	p->keepalive = KZ_DEF_KEEPALIVE;
	p->dpd_interval = KZ_DEF_DPD_INTERVAL;
	p->dpd_retry = KZ_DEF_DPD_RETRY;
	return p;
}

struct kz_ipsec_proposal *kz_add_ipsec_proposal(struct kz_config *c, const char *name, int *err)
{
	struct kz_ipsec_proposal *p = kz_find_ipsec_proposal(c, name);

	if (p || !(p = VEC_PUSH_NAMED(c->ipsec_proposals, name, err)))
		return p;
	p->enc = KZ_DEF_IPSEC_ENC;
	p->auth = KZ_DEF_IPSEC_AUTH;
	p->lifetime_time = KZ_DEF_IPSEC_LIFETIME;
	return p;
}

struct kz_ipsec_policy *kz_add_ipsec_policy(struct kz_config *c, const char *name, int *err)
{
	struct kz_ipsec_policy *p = kz_find_ipsec_policy(c, name);

	if (p || !(p = VEC_PUSH_NAMED(c->ipsec_policies, name, err)))
		return p;
	p->pfs = KZ_GROUP_NONE;
	p->replay_window = KZ_DEF_REPLAY_WINDOW;
	return p;
}

struct kz_ipsec_profile *kz_add_profile(struct kz_config *c, const char *name, int *err)
{
	struct kz_ipsec_profile *p = kz_find_profile(c, name);

	if (p || !(p = VEC_PUSH_NAMED(c->profiles, name, err)))
		return p;
	p->peer_type = KZ_PEER_UNSET;
	p->initiate = KZ_INITIATE_AUTO;
	p->retry_interval = KZ_DEF_RETRY_INTERVAL;
	p->retry_max = KZ_DEF_RETRY_MAX;
	return p;
}

struct kz_if_ipsec *kz_add_ipsec_if(struct kz_config *c, unsigned unit, int *err)
{
	struct kz_if_ipsec *p = kz_find_ipsec_if(c, unit);

	if (p)
		return p;
	if (unit >= KZ_MAX_IPSEC_IF) {
		*err = KZ_ERANGE;
		return NULL;
	}
	p = VEC_PUSH(c->ipsec_ifs, err);
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->unit = unit;
	p->shutdown = true;
	return p;
}

#define DEL_BY_NAME(vec, nm)                                                         \
	do {                                                                         \
		for (size_t i_ = 0; i_ < (vec).n; i_++)                              \
			if (strcmp((vec).v[i_].name, (nm)) == 0) {                   \
				kz_wipe(&(vec).v[i_], sizeof((vec).v[i_]));          \
				vec_remove((vec).v, &(vec).n, sizeof(*(vec).v), i_); \
				return 0;                                            \
			}                                                            \
		return KZ_ENOENT;                                                    \
	} while (0)

int kz_del_ike_proposal(struct kz_config *c, const char *name)
{
	DEL_BY_NAME(c->ike_proposals, name);
}

int kz_del_ike_policy(struct kz_config *c, const char *name)
{
	DEL_BY_NAME(c->ike_policies, name);
}

int kz_del_ipsec_proposal(struct kz_config *c, const char *name)
{
	DEL_BY_NAME(c->ipsec_proposals, name);
}

int kz_del_ipsec_policy(struct kz_config *c, const char *name)
{
	DEL_BY_NAME(c->ipsec_policies, name);
}

int kz_del_profile(struct kz_config *c, const char *name)
{
	DEL_BY_NAME(c->profiles, name);
}

int kz_del_ipsec_if(struct kz_config *c, unsigned unit)
{
	for (size_t i = 0; i < c->ipsec_ifs.n; i++)
		if (c->ipsec_ifs.v[i].unit == unit) {
			vec_remove(c->ipsec_ifs.v, &c->ipsec_ifs.n, sizeof(*c->ipsec_ifs.v), i);
			return 0;
		}
	return KZ_ENOENT;
}

int kz_route_add(struct kz_config *c, const struct kz_route *r)
{
	struct kz_route *slot = NULL;
	int err = 0;

	for (size_t i = 0; i < c->routes.n; i++)
		if (kz_prefix_equal(&c->routes.v[i].dest, &r->dest))
			slot = &c->routes.v[i];
	if (!slot)
		slot = VEC_PUSH(c->routes, &err);
	if (!slot)
		return err;
	*slot = *r;
	return 0;
}

int kz_route_del(struct kz_config *c, const struct kz_prefix *dest)
{
	for (size_t i = 0; i < c->routes.n; i++)
		if (kz_prefix_equal(&c->routes.v[i].dest, dest)) {
			vec_remove(c->routes.v, &c->routes.n, sizeof(*c->routes.v), i);
			return 0;
		}
	return KZ_ENOENT;
}

/* One row per algorithm, for every place that names it. */
static const struct kz_alg_names enc_names[KZ_ENC_COUNT] = {
	[KZ_ENC_AES_CBC_128] = { "aes-cbc-128", "aes128", "AES-CBC 128 bits" },
	[KZ_ENC_AES_CBC_192] = { "aes-cbc-192", "aes192", "AES-CBC 192 bits" },
	[KZ_ENC_AES_CBC_256] = { "aes-cbc-256", "aes256", "AES-CBC 256 bits" },
	[KZ_ENC_AES_GCM_128] = { "aes-gcm-128", "aes128gcm16", NULL },
	[KZ_ENC_AES_GCM_256] = { "aes-gcm-256", "aes256gcm16", NULL },
	[KZ_ENC_3DES_CBC] = { "3des-cbc", "3des", "3DES-CBC" },
	[KZ_ENC_DES_CBC] = { "des-cbc", "des", "DES-CBC" },
	[KZ_ENC_NULL] = { "null", "null", NULL },
};

static const struct kz_alg_names hash_names[KZ_HASH_COUNT] = {
	[KZ_HASH_MD5] = { "md5", "md5", "MD5" },
	[KZ_HASH_SHA1] = { "sha1", "sha1", "SHA1" },
	[KZ_HASH_SHA2_256] = { "sha2-256", "sha256", "SHA256" },
	[KZ_HASH_SHA2_384] = { "sha2-384", "sha384", "SHA384" },
	[KZ_HASH_SHA2_512] = { "sha2-512", "sha512", "SHA512" },
};

/* strongSwan's sha256/384/512 in ESP are the RFC 4868 truncations
 * (128/192/256 bits), as ours. */
static const struct kz_alg_names auth_names[KZ_AUTH_COUNT] = {
	[KZ_AUTH_NONE] = { "none", NULL, NULL },
	[KZ_AUTH_HMAC_MD5] = { "hmac-md5", "md5", NULL },
	[KZ_AUTH_HMAC_SHA1] = { "hmac-sha1", "sha1", NULL },
	[KZ_AUTH_HMAC_SHA2_256] = { "hmac-sha2-256", "sha256", NULL },
	[KZ_AUTH_HMAC_SHA2_384] = { "hmac-sha2-384", "sha384", NULL },
	[KZ_AUTH_HMAC_SHA2_512] = { "hmac-sha2-512", "sha512", NULL },
};

/* strongSwan's words for the groups are ours (modp2048, ecp256). */
static const struct kz_alg_names group_names[KZ_GROUP_COUNT] = {
	[KZ_GROUP_NONE] = { "none", NULL, "none" },
	[KZ_GROUP_MODP768] = { "modp768", "modp768", "768-bit MODP group" },
	[KZ_GROUP_MODP1024] = { "modp1024", "modp1024", "1024-bit MODP group" },
	[KZ_GROUP_MODP1536] = { "modp1536", "modp1536", "1536-bit MODP group" },
	[KZ_GROUP_MODP2048] = { "modp2048", "modp2048", "2048-bit MODP group" },
	[KZ_GROUP_MODP3072] = { "modp3072", "modp3072", "3072-bit MODP group" },
	[KZ_GROUP_MODP4096] = { "modp4096", "modp4096", "4096-bit MODP group" },
	[KZ_GROUP_ECP256] = { "ecp256", "ecp256", "256-bit ECP group" },
	[KZ_GROUP_ECP384] = { "ecp384", "ecp384", "384-bit ECP group" },
};

/* Out of range: "?" in the config and show, nothing for strongSwan. */
static const struct kz_alg_names no_names = { "?", NULL, NULL };

const struct kz_alg_names *kz_enc_names(enum kz_enc e)
{
	return (unsigned)e < KZ_ENC_COUNT ? &enc_names[e] : &no_names;
}

const struct kz_alg_names *kz_hash_names(enum kz_hash h)
{
	return (unsigned)h < KZ_HASH_COUNT ? &hash_names[h] : &no_names;
}

const struct kz_alg_names *kz_auth_names(enum kz_auth a)
{
	return (unsigned)a < KZ_AUTH_COUNT ? &auth_names[a] : &no_names;
}

const struct kz_alg_names *kz_group_names(enum kz_group g)
{
	return (unsigned)g < KZ_GROUP_COUNT ? &group_names[g] : &no_names;
}

const char *kz_enc_name(enum kz_enc e)
{
	return kz_enc_names(e)->conf;
}

const char *kz_hash_name(enum kz_hash h)
{
	return kz_hash_names(h)->conf;
}

const char *kz_auth_name(enum kz_auth a)
{
	return kz_auth_names(a)->conf;
}

const char *kz_group_name(enum kz_group g)
{
	return kz_group_names(g)->conf;
}

const char *kz_mode_name(enum kz_exchange_mode m)
{
	return m == KZ_MODE_AGGRESSIVE ? "aggressive" : "main";
}

enum kz_addr_class kz_addr_classify(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if ((h & 0xff000000u) == 0x0a000000u || /* 10/8 */
	    (h & 0xfff00000u) == 0xac100000u || /* 172.16/12 */
	    (h & 0xffff0000u) == 0xc0a80000u)   /* 192.168/16 */
		return KZ_ADDR_PRIVATE;
	if ((h & 0xffc00000u) == 0x64400000u) /* 100.64/10 */
		return KZ_ADDR_SHARED;
	return KZ_ADDR_GLOBAL;
}

const char *kz_addr_class_name(enum kz_addr_class k)
{
	static const char *const n[] = {
		[KZ_ADDR_GLOBAL] = "global",
		[KZ_ADDR_PRIVATE] = "private",
		[KZ_ADDR_SHARED] = "shared",
	};
	return KZ_ENUM_NAME(n, k, "global");
}

void kz_prefix_str(const struct kz_prefix *p, char *out, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &p->addr, a, sizeof(a));
	snprintf(out, len, "%s/%u", a, p->len);
}

bool kz_prefix_equal(const struct kz_prefix *a, const struct kz_prefix *b)
{
	return a->set == b->set && a->len == b->len && a->addr.s_addr == b->addr.s_addr;
}

void kz_profile_peer_str(const struct kz_ipsec_profile *p, char *out, size_t len)
{
	if (p->peer_type == KZ_PEER_ADDR && inet_ntop(AF_INET, &p->peer_addr, out, (socklen_t)len))
		return;
	kz_strlcpy(out,
		   p->peer_type == KZ_PEER_ADDR           ? "?"
			   : p->peer_type == KZ_PEER_ANY  ? "any"
			   : p->peer_type == KZ_PEER_FQDN ? p->peer_fqdn
							  : "-",
		   len);
}

bool kz_prefix_within(const struct kz_prefix *inner, const struct kz_prefix *outer)
{
	uint32_t m = outer->len ? 0xffffffffu << (32 - outer->len) : 0;

	return inner->set && outer->set && inner->len >= outer->len &&
		((ntohl(inner->addr.s_addr) ^ ntohl(outer->addr.s_addr)) & m) == 0;
}

bool kz_selector_equal(const struct kz_selector *a, const struct kz_selector *b)
{
	return kz_prefix_equal(&a->local, &b->local) && kz_prefix_equal(&a->remote, &b->remote) &&
		a->proto == b->proto && a->lport == b->lport && a->rport == b->rport;
}

unsigned kz_policy_pairs(const struct kz_ipsec_policy *p, struct kz_selector *out)
{
	unsigned n = 0;

	memset(&out[0], 0, sizeof(out[0]));
	out[n].local = p->local_ts;
	out[n++].remote = p->remote_ts;
	for (unsigned i = 0; i < p->nsel && i < KZ_MAX_SELECTORS; i++)
		out[n++] = p->sel[i];
	return n;
}

void kz_proto_str(uint8_t proto, char *out, size_t len)
{
	switch (proto) {
	case 0:
		kz_strlcpy(out, "any", len);
		break;
	case 1:
		kz_strlcpy(out, "icmp", len);
		break;
	case 6:
		kz_strlcpy(out, "tcp", len);
		break;
	case 17:
		kz_strlcpy(out, "udp", len);
		break;
	default:
		snprintf(out, len, "%u", proto);
	}
}

void kz_selector_str(const struct kz_selector *s, char *out, size_t len)
{
	char l[24], r[24], pr[8], lp[20] = "", rp[20] = "";

	kz_prefix_str(&s->local, l, sizeof(l));
	kz_prefix_str(&s->remote, r, sizeof(r));
	if (!s->proto && !s->lport && !s->rport) {
		snprintf(out, len, "%s -> %s", l, r);
		return;
	}
	kz_proto_str(s->proto, pr, sizeof(pr));
	if (s->lport)
		snprintf(lp, sizeof(lp), " local-port %u", s->lport);
	if (s->rport)
		snprintf(rp, sizeof(rp), " remote-port %u", s->rport);
	snprintf(out, len, "%s -> %s protocol %s%s%s", l, r, pr, lp, rp);
}
