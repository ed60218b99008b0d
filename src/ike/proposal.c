/* proposal.c - our offers built from the config, matching the peer's offers,
 * and text of both for diagnosis (a proposal mismatch names what each side
 * offered).
 *
 * Phase 1 (RFC 2409 5, appendix A): one ISAKMP proposal, one transform per
 * `ike proposal` of the policy in preference order.  Phase 2 (RFC 2407 4.5):
 * one ESP proposal with one transform per `ipsec proposal`, which is what
 * strongSwan reads best (it splits transforms into alternatives).
 *
 * Lifetimes (RFC 2407 4.5, 4.6.3.1): the responder answers with the
 * initiator's transform unchanged and uses the smaller of the two
 * lifetimes; when its own is the smaller it says so in a RESPONDER-LIFETIME
 * notify (as Cisco IOS does), which an initiator takes to shorten its SA.
 * The initiator accepts a reply with any lifetime up to its own.
 *
 * PFS: a responder whose policy says `pfs none` follows an initiator that
 * offers a PFS group kizuna implements (except the 768-bit group 1);
 * `pfs GROUP` requires that group. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/enum_name.h"
#include "lib/err.h"

const char *ike_life_src_name(enum ike_life_src s)
{
	static const char *const n[] = {
		[IKE_LIFE_OURS] = "ours",
		[IKE_LIFE_BOTH] = "ours, the same as the peer's",
		[IKE_LIFE_PEER] = "the peer's proposal, shorter than ours",
		[IKE_LIFE_SENT] = "ours, shorter: sent as RESPONDER-LIFETIME",
		[IKE_LIFE_RECEIVED] = "the peer's RESPONDER-LIFETIME",
		[IKE_LIFE_PEER_REPLY] = "the peer's reply, shorter than ours",
	};
	return KZ_ENUM_NAME(n, s, "?");
}

/* The peer's transform as we answer it: unchanged but for attributes we
 * could not represent (they cannot be sent back). */
static void echo_transform(struct isakmp_transform *t, const struct isakmp_transform *peer)
{
	*t = *peer;
	t->nattr = 0;
	for (size_t i = 0; i < peer->nattr; i++)
		if (!peer->attr[i].opaque)
			t->attr[t->nattr++] = peer->attr[i];
}

/* The responder's lifetime in force: the smaller of the initiator's and
 * ours, and where it came from. */
static uint32_t life_pick(uint32_t peer, uint32_t ours, uint8_t *src, bool *respond)
{
	*respond = ours < peer;
	*src = ours < peer ? IKE_LIFE_SENT : peer < ours ? IKE_LIFE_PEER : IKE_LIFE_BOTH;
	return ours < peer ? ours : peer;
}

/* ---- phase 1 numbers ---- */

static bool p1_enc_wire(enum kz_enc e, uint16_t *id, uint16_t *keylen)
{
	*keylen = 0;
	switch (e) {
	case KZ_ENC_AES_CBC_128:
		*id = IKE_ENC_AES_CBC, *keylen = 128;
		return true;
	case KZ_ENC_AES_CBC_192:
		*id = IKE_ENC_AES_CBC, *keylen = 192;
		return true;
	case KZ_ENC_AES_CBC_256:
		*id = IKE_ENC_AES_CBC, *keylen = 256;
		return true;
	case KZ_ENC_3DES_CBC:
		*id = IKE_ENC_3DES;
		return true;
	case KZ_ENC_DES_CBC:
		*id = IKE_ENC_DES;
		return true;
	default:
		return false;
	}
}

static int p1_enc_model(uint32_t id, uint32_t keylen, enum kz_enc *out)
{
	if (id == IKE_ENC_AES_CBC) {
		if (keylen == 128 || keylen == 0) /* RFC 3602: absent = 128 */
			*out = KZ_ENC_AES_CBC_128;
		else if (keylen == 192)
			*out = KZ_ENC_AES_CBC_192;
		else if (keylen == 256)
			*out = KZ_ENC_AES_CBC_256;
		else
			return KZ_ENOTSUP;
		return 0;
	}
	if (id == IKE_ENC_3DES) {
		*out = KZ_ENC_3DES_CBC;
		return 0;
	}
	if (id == IKE_ENC_DES) {
		*out = KZ_ENC_DES_CBC;
		return 0;
	}
	return KZ_ENOTSUP;
}

static const uint16_t hash_wire[KZ_HASH_COUNT] = {
	[KZ_HASH_MD5] = IKE_HASH_MD5,           [KZ_HASH_SHA1] = IKE_HASH_SHA1,
	[KZ_HASH_SHA2_256] = IKE_HASH_SHA2_256, [KZ_HASH_SHA2_384] = IKE_HASH_SHA2_384,
	[KZ_HASH_SHA2_512] = IKE_HASH_SHA2_512,
};

static int p1_hash_model(uint32_t id, enum kz_hash *out)
{
	for (int h = 0; h < KZ_HASH_COUNT; h++)
		if (hash_wire[h] == id) {
			*out = (enum kz_hash)h;
			return 0;
		}
	return KZ_ENOTSUP;
}

static void attr_add(struct isakmp_transform *t, uint16_t type, uint32_t v)
{
	if (t->nattr >= ISAKMP_MAX_ATTRS)
		return;
	t->attr[t->nattr].type = type;
	t->attr[t->nattr].basic = v <= 0xffff;
	t->attr[t->nattr].value = v;
	t->nattr++;
}

static void p1_transform(struct isakmp_transform *t, uint8_t num, const struct p1_choice *c)
{
	uint16_t id = 0, kl = 0;

	memset(t, 0, sizeof(*t));
	t->num = num;
	t->id = ISAKMP_KEY_IKE;
	(void)p1_enc_wire(c->enc, &id, &kl);
	attr_add(t, IKE_ATTR_ENC, id);
	if (kl)
		attr_add(t, IKE_ATTR_KEY_LEN, kl);
	attr_add(t, IKE_ATTR_HASH, hash_wire[c->hash]);
	attr_add(t, IKE_ATTR_AUTH, IKE_AUTH_PSK);
	attr_add(t, IKE_ATTR_GROUP, ike_group_id(c->group));
	attr_add(t, IKE_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS);
	attr_add(t, IKE_ATTR_LIFE_DURATION, c->lifetime);
}

/* An SA payload (IPsec DOI, identity only) with one proposal, no
 * transforms yet. */
static struct isakmp_sa *sa_new(uint8_t proto, uint8_t pnum)
{
	struct isakmp_sa *sa = isakmp_sa_new();

	if (!sa)
		return NULL;
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = ISAKMP_SIT_IDENTITY_ONLY;
	sa->np = 1;
	sa->p[0].num = pnum;
	sa->p[0].proto = proto;
	return sa;
}

/* An offer none of whose proposals we could put is none. */
static struct isakmp_sa *offer_done(struct isakmp_sa *sa)
{
	if (!sa->p[0].nt) {
		isakmp_sa_free(sa);
		return NULL;
	}
	return sa;
}

struct isakmp_sa *p1_offer(struct ike_engine *e, const struct kz_ike_policy *pol, bool aggressive)
{
	struct isakmp_sa *sa = sa_new(ISAKMP_PROTO_ISAKMP, 1);
	enum kz_group first = KZ_GROUP_NONE;
	struct isakmp_transform *t;

	if (!sa)
		return NULL;
	for (unsigned i = 0; i < pol->nproposals && sa->p[0].nt < ISAKMP_MAX_TRANSFORMS; i++) {
		const struct kz_ike_proposal *kp = kz_find_ike_proposal(e->cfg, pol->proposals[i]);
		struct p1_choice c;
		uint16_t id, kl;

		if (!kp || !p1_enc_wire(kp->enc, &id, &kl))
			continue;
		/* Aggressive mode sends one KE: every transform must use its
		 * group, so only those sharing the first one's are offered. */
		if (aggressive && first != KZ_GROUP_NONE && kp->group != first)
			continue;
		first = kp->group;
		c.enc = kp->enc;
		c.hash = kp->hash;
		c.group = kp->group;
		c.lifetime = kp->lifetime;
		if (!(t = isakmp_sa_add_transform(sa, 0)))
			break;
		p1_transform(t, (uint8_t)sa->p[0].nt, &c);
	}
	return offer_done(sa);
}

/* Decodes a phase 1 transform; KZ_ENOTSUP for what we cannot do. */
static int p1_decode(const struct isakmp_transform *t, struct p1_choice *c)
{
	uint32_t enc, kl = 0, hash, auth, group, ltype = IKE_LIFE_SECONDS, life = 28800;

	memset(c, 0, sizeof(*c));
	if (t->id != ISAKMP_KEY_IKE || !isakmp_attr_get(t, IKE_ATTR_ENC, &enc) ||
	    !isakmp_attr_get(t, IKE_ATTR_HASH, &hash) ||
	    !isakmp_attr_get(t, IKE_ATTR_AUTH, &auth) ||
	    !isakmp_attr_get(t, IKE_ATTR_GROUP, &group))
		return KZ_ENOTSUP;
	(void)isakmp_attr_get(t, IKE_ATTR_KEY_LEN, &kl);
	(void)isakmp_attr_get(t, IKE_ATTR_LIFE_TYPE, &ltype);
	if (ltype == IKE_LIFE_SECONDS)
		(void)isakmp_attr_get(t, IKE_ATTR_LIFE_DURATION, &life);
	if (auth != IKE_AUTH_PSK || p1_enc_model(enc, kl, &c->enc) ||
	    p1_hash_model(hash, &c->hash) || group > 0xffff)
		return KZ_ENOTSUP;
	c->group = ike_group_from_id((uint16_t)group);
	if (c->group == KZ_GROUP_NONE)
		return KZ_ENOTSUP;
	c->lifetime = life ? life : 28800;
	c->tnum = t->num;
	return 0;
}

/* The first of our proposals equal to c; its lifetime through *ours. */
static bool p1_ours(struct ike_engine *e, const struct kz_ike_policy *pol,
		    const struct p1_choice *c, uint32_t *ours)
{
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ike_proposal *kp = kz_find_ike_proposal(e->cfg, pol->proposals[i]);

		if (kp && kp->enc == c->enc && kp->hash == c->hash && kp->group == c->group) {
			*ours = kp->lifetime;
			return true;
		}
	}
	return false;
}

int p1_match(struct ike_engine *e, const struct kz_ike_policy *pol, const struct isakmp_sa *peer,
	     enum kz_group want_group, struct p1_choice *out, uint8_t *pnum)
{
	for (size_t i = 0; i < peer->np; i++) {
		const struct isakmp_proposal *p = &peer->p[i];

		if (p->proto != ISAKMP_PROTO_ISAKMP)
			continue;
		/* the peer's order is its preference: take its first we accept */
		for (size_t j = 0; j < p->nt; j++) {
			struct p1_choice c;
			uint32_t ours;

			if (p1_decode(&p->t[j], &c) || !p1_ours(e, pol, &c, &ours))
				continue;
			if (want_group != KZ_GROUP_NONE && c.group != want_group)
				continue;
			c.lifetime = life_pick(c.lifetime, ours, &c.life_src, &c.respond_life);
			c.peer_t = p->t[j];
			c.have_peer_t = true;
			*out = c;
			*pnum = p->num;
			return 0;
		}
	}
	return KZ_ENOENT;
}

int p1_from_reply(struct ike_engine *e, const struct kz_ike_policy *pol,
		  const struct isakmp_sa *reply, struct p1_choice *out)
{
	struct p1_choice c;
	uint32_t ours;

	if (reply->np != 1 || reply->p[0].nt != 1 || reply->p[0].proto != ISAKMP_PROTO_ISAKMP)
		return KZ_EPROTO;
	if (p1_decode(&reply->p[0].t[0], &c) || !p1_ours(e, pol, &c, &ours))
		return KZ_ENOENT;
	c.life_src = c.lifetime < ours ? IKE_LIFE_PEER_REPLY : IKE_LIFE_OURS;
	if (c.lifetime > ours)
		c.lifetime = ours;
	c.have_peer_t = false;
	c.respond_life = false;
	*out = c;
	return 0;
}

/* An answer's one transform, added to sa (freed and NULL when that
 * fails): the peer's echoed when it is known (*echoed), else for the
 * caller to fill in. */
static struct isakmp_transform *reply_transform(struct isakmp_sa *sa, bool have_peer_t,
						const struct isakmp_transform *peer_t, bool *echoed)
{
	struct isakmp_transform *t = sa ? isakmp_sa_add_transform(sa, 0) : NULL;

	*echoed = have_peer_t;
	if (!t)
		isakmp_sa_free(sa);
	else if (have_peer_t)
		echo_transform(t, peer_t);
	return t;
}

struct isakmp_sa *p1_reply(const struct p1_choice *c, uint8_t pnum)
{
	struct isakmp_sa *sa = sa_new(ISAKMP_PROTO_ISAKMP, pnum);
	bool echoed;
	struct isakmp_transform *t = reply_transform(sa, c->have_peer_t, &c->peer_t, &echoed);

	if (!t)
		return NULL;
	if (!echoed)
		p1_transform(t, c->tnum, c);
	return sa;
}

/* Appends s to the list in out, after ", " when it is not the first. */
static void list_add(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);

	if (n && n + 2 < cap) {
		memcpy(out + n, ", ", 3);
		n += 2;
	}
	snprintf(out + n, cap - n, "%s", s);
}

void p1_offer_str(struct ike_engine *e, const struct kz_ike_policy *pol, char *out, size_t cap)
{
	out[0] = 0;
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ike_proposal *kp = kz_find_ike_proposal(e->cfg, pol->proposals[i]);
		char one[96];

		if (!kp)
			continue;
		snprintf(one, sizeof(one), "%s/%s/%s", kz_enc_name(kp->enc), kz_hash_name(kp->hash),
			 kz_group_name(kp->group));
		list_add(out, cap, one);
	}
}

void p1_peer_str(const struct isakmp_sa *sa, char *out, size_t cap)
{
	out[0] = 0;
	for (size_t i = 0; i < sa->np; i++)
		for (size_t j = 0; j < sa->p[i].nt; j++) {
			const struct isakmp_transform *t = &sa->p[i].t[j];
			uint32_t enc = 0, kl = 0, hash = 0, auth = 0, group = 0;
			enum kz_enc ke;
			enum kz_hash kh;
			char es[24], hs[24], one[96];

			(void)isakmp_attr_get(t, IKE_ATTR_ENC, &enc);
			(void)isakmp_attr_get(t, IKE_ATTR_KEY_LEN, &kl);
			(void)isakmp_attr_get(t, IKE_ATTR_HASH, &hash);
			(void)isakmp_attr_get(t, IKE_ATTR_AUTH, &auth);
			(void)isakmp_attr_get(t, IKE_ATTR_GROUP, &group);
			if (!p1_enc_model(enc, kl, &ke))
				snprintf(es, sizeof(es), "%s", kz_enc_name(ke));
			else
				snprintf(es, sizeof(es), "enc#%u", enc);
			if (!p1_hash_model(hash, &kh))
				snprintf(hs, sizeof(hs), "%s", kz_hash_name(kh));
			else
				snprintf(hs, sizeof(hs), "hash#%u", hash);
			snprintf(one, sizeof(one), "%s/%s/%s%s", es, hs,
				 group <= 0xffff &&
						 ike_group_from_id((uint16_t)group) != KZ_GROUP_NONE
					 ? kz_group_name(ike_group_from_id((uint16_t)group))
					 : "group?",
				 auth == IKE_AUTH_PSK ? "" : "/not-psk");
			list_add(out, cap, one);
		}
}

/* ---- phase 2 ---- */

static bool gcm(enum kz_enc e)
{
	return e == KZ_ENC_AES_GCM_128 || e == KZ_ENC_AES_GCM_256;
}

/* The cipher's key, and for GCM the 4-byte salt after it (RFC 4106 8.1). */
size_t esp_enc_keylen(enum kz_enc enc)
{
	size_t kl = ike_enc_keylen(enc);

	return kl && gcm(enc) ? kl + 4 : kl;
}

size_t esp_auth_keylen(enum kz_auth a)
{
	static const size_t n[KZ_AUTH_COUNT] = {
		[KZ_AUTH_HMAC_MD5] = 16,      [KZ_AUTH_HMAC_SHA1] = 20,
		[KZ_AUTH_HMAC_SHA2_256] = 32, [KZ_AUTH_HMAC_SHA2_384] = 48,
		[KZ_AUTH_HMAC_SHA2_512] = 64,
	};
	return (unsigned)a < KZ_AUTH_COUNT ? n[a] : 0;
}

static const uint16_t auth_wire[KZ_AUTH_COUNT] = {
	[KZ_AUTH_HMAC_MD5] = IPSEC_AUTH_HMAC_MD5,
	[KZ_AUTH_HMAC_SHA1] = IPSEC_AUTH_HMAC_SHA1,
	[KZ_AUTH_HMAC_SHA2_256] = IPSEC_AUTH_HMAC_SHA2_256,
	[KZ_AUTH_HMAC_SHA2_384] = IPSEC_AUTH_HMAC_SHA2_384,
	[KZ_AUTH_HMAC_SHA2_512] = IPSEC_AUTH_HMAC_SHA2_512,
};

static void p2_enc_wire(enum kz_enc e, uint8_t *id, uint16_t *kl)
{
	*kl = 0;
	switch (e) {
	case KZ_ENC_AES_CBC_128:
	case KZ_ENC_AES_CBC_192:
	case KZ_ENC_AES_CBC_256:
		*id = ESP_AES_CBC, *kl = (uint16_t)(esp_enc_keylen(e) * 8);
		break;
	case KZ_ENC_AES_GCM_128:
	case KZ_ENC_AES_GCM_256:
		*id = ESP_AES_GCM_16, *kl = (uint16_t)((esp_enc_keylen(e) - 4) * 8);
		break;
	case KZ_ENC_3DES_CBC:
		*id = ESP_3DES;
		break;
	case KZ_ENC_DES_CBC:
		*id = ESP_DES;
		break;
	default:
		*id = ESP_NULL;
	}
}

static int p2_enc_model(uint8_t id, uint32_t kl, enum kz_enc *out)
{
	switch (id) {
	case ESP_AES_CBC:
		return p1_enc_model(IKE_ENC_AES_CBC, kl, out);
	case ESP_AES_GCM_16:
		if (kl == 128)
			*out = KZ_ENC_AES_GCM_128;
		else if (kl == 256)
			*out = KZ_ENC_AES_GCM_256;
		else
			return KZ_ENOTSUP;
		return 0;
	case ESP_3DES:
		*out = KZ_ENC_3DES_CBC;
		return 0;
	case ESP_DES:
		*out = KZ_ENC_DES_CBC;
		return 0;
	case ESP_NULL:
		*out = KZ_ENC_NULL;
		return 0;
	default:
		return KZ_ENOTSUP;
	}
}

static void p2_transform(struct isakmp_transform *t, uint8_t num, const struct p2_choice *c)
{
	uint16_t kl;

	memset(t, 0, sizeof(*t));
	t->num = num;
	p2_enc_wire(c->enc, &t->id, &kl);
	attr_add(t, IPSEC_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS);
	attr_add(t, IPSEC_ATTR_LIFE_DURATION, c->life_s);
	if (c->life_kb) {
		attr_add(t, IPSEC_ATTR_LIFE_TYPE, IKE_LIFE_KILOBYTES);
		attr_add(t, IPSEC_ATTR_LIFE_DURATION,
			 c->life_kb > 0xffffffffu ? 0xffffffffu : (uint32_t)c->life_kb);
	}
	if (c->pfs != KZ_GROUP_NONE)
		attr_add(t, IPSEC_ATTR_GROUP, ike_group_id(c->pfs));
	attr_add(t, IPSEC_ATTR_ENCAP, c->encap);
	if (!gcm(c->enc) && c->auth != KZ_AUTH_NONE)
		attr_add(t, IPSEC_ATTR_AUTH, auth_wire[c->auth]);
	if (kl)
		attr_add(t, IPSEC_ATTR_KEY_LEN, kl);
}

static struct isakmp_sa *p2_sa_new(uint32_t spi, uint8_t pnum)
{
	struct isakmp_sa *sa = sa_new(ISAKMP_PROTO_ESP, pnum);
	uint32_t nspi = htonl(spi);

	if (!sa)
		return NULL;
	sa->p[0].spi_size = 4;
	memcpy(sa->p[0].spi, &nspi, 4);
	return sa;
}

struct isakmp_sa *p2_offer(struct ike_engine *e, const struct kz_ipsec_policy *pol, uint16_t encap,
			   uint32_t spi)
{
	struct isakmp_sa *sa = p2_sa_new(spi, 1);
	struct isakmp_transform *t;

	if (!sa)
		return NULL;
	for (unsigned i = 0; i < pol->nproposals && sa->p[0].nt < ISAKMP_MAX_TRANSFORMS; i++) {
		const struct kz_ipsec_proposal *ip =
			kz_find_ipsec_proposal(e->cfg, pol->proposals[i]);
		struct p2_choice c;

		if (!ip)
			continue;
		c.enc = ip->enc;
		c.auth = gcm(ip->enc) ? KZ_AUTH_NONE : ip->auth;
		c.pfs = pol->pfs;
		c.life_s = ip->lifetime_time;
		c.life_kb = ip->lifetime_kbytes;
		c.encap = encap;
		if (!(t = isakmp_sa_add_transform(sa, 0)))
			break;
		p2_transform(t, (uint8_t)sa->p[0].nt, &c);
	}
	return offer_done(sa);
}

static int p2_decode(const struct isakmp_transform *t, struct p2_choice *c)
{
	uint32_t kl = 0, v;
	uint32_t ltype = 0;

	memset(c, 0, sizeof(*c));
	c->life_s = 28800;
	c->encap = IPSEC_ENCAP_TUNNEL;
	/* life type/duration come in pairs, in order (RFC 2407 4.5) */
	for (size_t i = 0; i < t->nattr; i++) {
		const struct isakmp_attr *a = &t->attr[i];

		if (a->type == IPSEC_ATTR_LIFE_TYPE)
			ltype = a->value;
		else if (a->type == IPSEC_ATTR_LIFE_DURATION && ltype == IKE_LIFE_SECONDS)
			c->life_s = a->value;
		else if (a->type == IPSEC_ATTR_LIFE_DURATION && ltype == IKE_LIFE_KILOBYTES)
			c->life_kb = a->value;
	}
	(void)isakmp_attr_get(t, IPSEC_ATTR_KEY_LEN, &kl);
	if (p2_enc_model(t->id, kl, &c->enc))
		return KZ_ENOTSUP;
	if (isakmp_attr_get(t, IPSEC_ATTR_AUTH, &v)) {
		int a;

		for (a = 1; a < KZ_AUTH_COUNT && auth_wire[a] != v; a++)
			;
		if (a == KZ_AUTH_COUNT)
			return KZ_ENOTSUP;
		c->auth = (enum kz_auth)a;
	}
	if (gcm(c->enc) != (c->auth == KZ_AUTH_NONE))
		return KZ_ENOTSUP;
	if (isakmp_attr_get(t, IPSEC_ATTR_GROUP, &v)) {
		c->pfs = v <= 0xffff ? ike_group_from_id((uint16_t)v) : KZ_GROUP_NONE;
		if (c->pfs == KZ_GROUP_NONE)
			return KZ_ENOTSUP;
	}
	if (isakmp_attr_get(t, IPSEC_ATTR_ENCAP, &v))
		c->encap = (uint16_t)v;
	if (!c->life_s)
		c->life_s = 28800;
	return 0;
}

/* A group a responder with `pfs none` follows: one we implement, but not
 * the 768-bit group 1. */
static bool pfs_followable(enum kz_group g)
{
	return g != KZ_GROUP_NONE && g != KZ_GROUP_MODP768 && ike_dh_pub_len(g) != 0;
}

/* c (decoded from the peer) against our proposals; the lifetime in force
 * and its source into c.  responder: we choose from the peer's offer (PFS
 * may follow it); else c is the peer's choice of our offer. */
static bool p2_ours(struct ike_engine *e, const struct kz_ipsec_policy *pol, struct p2_choice *c,
		    bool responder, bool ignore_pfs)
{
	if (c->pfs != pol->pfs && !ignore_pfs &&
	    !(responder && pol->pfs == KZ_GROUP_NONE && pfs_followable(c->pfs)))
		return false;
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ipsec_proposal *ip =
			kz_find_ipsec_proposal(e->cfg, pol->proposals[i]);
		enum kz_auth want;

		if (!ip)
			continue;
		want = gcm(ip->enc) ? KZ_AUTH_NONE : ip->auth;
		if (ip->enc != c->enc || want != c->auth)
			continue;
		if (responder) {
			bool kb_shorter = ip->lifetime_kbytes &&
				(!c->life_kb || c->life_kb > ip->lifetime_kbytes);

			c->life_s = life_pick(c->life_s, ip->lifetime_time, &c->life_src,
					      &c->respond_life);
			if (kb_shorter) {
				c->life_kb = ip->lifetime_kbytes;
				c->respond_life = true;
			}
			return true;
		}
		c->life_src = c->life_s < ip->lifetime_time ? IKE_LIFE_PEER_REPLY : IKE_LIFE_OURS;
		if (c->life_s > ip->lifetime_time)
			c->life_s = ip->lifetime_time;
		if (ip->lifetime_kbytes && (!c->life_kb || c->life_kb > ip->lifetime_kbytes))
			c->life_kb = ip->lifetime_kbytes;
		return true;
	}
	return false;
}

int p2_match(struct ike_engine *e, const struct kz_ipsec_policy *pol, const struct isakmp_sa *peer,
	     const struct ike_sa *sa, struct p2_choice *out, uint32_t *peer_spi, uint8_t *pnum,
	     uint8_t *tnum)
{
	for (size_t i = 0; i < peer->np; i++) {
		const struct isakmp_proposal *p = &peer->p[i];
		bool bundle = (i + 1 < peer->np && peer->p[i + 1].num == p->num) ||
			(i > 0 && peer->p[i - 1].num == p->num);

		/* ESP alone: an AH+ESP bundle shares its proposal number */
		if (p->proto != ISAKMP_PROTO_ESP || p->spi_size != 4 || bundle)
			continue;
		for (size_t j = 0; j < p->nt; j++) {
			struct p2_choice c;
			uint32_t spi;

			if (p2_decode(&p->t[j], &c) || !natt_encap_ok(sa, c.encap) ||
			    !p2_ours(e, pol, &c, true, false))
				continue;
			memcpy(&spi, p->spi, 4);
			*peer_spi = ntohl(spi);
			c.peer_t = p->t[j];
			c.have_peer_t = true;
			*out = c;
			*pnum = p->num;
			*tnum = p->t[j].num;
			return 0;
		}
	}
	return KZ_ENOENT;
}

int p2_from_reply(struct ike_engine *e, const struct kz_ipsec_policy *pol,
		  const struct isakmp_sa *reply, const struct ike_sa *sa, struct p2_choice *out,
		  uint32_t *peer_spi)
{
	struct p2_choice c;
	uint32_t spi;

	if (reply->np != 1 || reply->p[0].nt != 1 || reply->p[0].proto != ISAKMP_PROTO_ESP ||
	    reply->p[0].spi_size != 4)
		return KZ_EPROTO;
	if (p2_decode(&reply->p[0].t[0], &c) || !natt_encap_ok(sa, c.encap) ||
	    !p2_ours(e, pol, &c, false, false))
		return KZ_ENOENT;
	memcpy(&spi, reply->p[0].spi, 4);
	*peer_spi = ntohl(spi);
	*out = c;
	return 0;
}

struct isakmp_sa *p2_reply(const struct p2_choice *c, uint32_t spi, uint8_t pnum, uint8_t tnum)
{
	struct isakmp_sa *sa = p2_sa_new(spi, pnum);
	bool echoed;
	struct isakmp_transform *t = reply_transform(sa, c->have_peer_t, &c->peer_t, &echoed);

	if (!t)
		return NULL;
	if (!echoed)
		p2_transform(t, tnum, c);
	return sa;
}

static void p2_str(const struct p2_choice *c, char *one, size_t cap)
{
	snprintf(one, cap, "esp %s%s%s pfs %s", kz_enc_name(c->enc), gcm(c->enc) ? "" : "/",
		 gcm(c->enc) ? "" : kz_auth_name(c->auth), kz_group_name(c->pfs));
}

void p2_offer_str(struct ike_engine *e, const struct kz_ipsec_policy *pol, char *out, size_t cap)
{
	out[0] = 0;
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ipsec_proposal *ip =
			kz_find_ipsec_proposal(e->cfg, pol->proposals[i]);
		struct p2_choice c = { 0 };
		char one[96];

		if (!ip)
			continue;
		c.enc = ip->enc;
		c.auth = gcm(ip->enc) ? KZ_AUTH_NONE : ip->auth;
		c.pfs = pol->pfs;
		p2_str(&c, one, sizeof(one));
		list_add(out, cap, one);
	}
}

void p2_peer_str(const struct isakmp_sa *sa, char *out, size_t cap)
{
	out[0] = 0;
	for (size_t i = 0; i < sa->np; i++)
		for (size_t j = 0; j < sa->p[i].nt; j++) {
			struct p2_choice c;
			char one[96];

			if (sa->p[i].proto != ISAKMP_PROTO_ESP)
				snprintf(one, sizeof(one), "protocol %u", sa->p[i].proto);
			else if (p2_decode(&sa->p[i].t[j], &c))
				snprintf(one, sizeof(one), "esp transform %u (unsupported)",
					 sa->p[i].t[j].id);
			else
				p2_str(&c, one, sizeof(one));
			list_add(out, cap, one);
		}
}

bool p2_pfs_only(struct ike_engine *e, const struct kz_ipsec_policy *pol,
		 const struct isakmp_sa *peer, const struct ike_sa *sa, enum kz_group *theirs)
{
	for (size_t i = 0; i < peer->np; i++)
		for (size_t j = 0; j < peer->p[i].nt; j++) {
			struct p2_choice c;

			if (peer->p[i].proto == ISAKMP_PROTO_ESP &&
			    !p2_decode(&peer->p[i].t[j], &c) && natt_encap_ok(sa, c.encap) &&
			    p2_ours(e, pol, &c, true, true)) {
				*theirs = c.pfs;
				return true;
			}
		}
	return false;
}

/* ---- RESPONDER-LIFETIME (RFC 2407 4.6.3.1) ---- */

static size_t life_attr(uint8_t *out, size_t cap, size_t n, uint16_t type, uint32_t v)
{
	if (v <= 0xffff) {
		if (n + 4 > cap)
			return n;
		out[n] = (uint8_t)(0x80 | type >> 8);
		out[n + 1] = (uint8_t)type;
		out[n + 2] = (uint8_t)(v >> 8);
		out[n + 3] = (uint8_t)v;
		return n + 4;
	}
	if (n + 8 > cap)
		return n;
	out[n] = (uint8_t)(type >> 8);
	out[n + 1] = (uint8_t)type;
	out[n + 2] = 0;
	out[n + 3] = 4;
	out[n + 4] = (uint8_t)(v >> 24);
	out[n + 5] = (uint8_t)(v >> 16);
	out[n + 6] = (uint8_t)(v >> 8);
	out[n + 7] = (uint8_t)v;
	return n + 8;
}

size_t life_notify_data(bool phase1, uint32_t secs, uint64_t kb, uint8_t *out, size_t cap)
{
	uint16_t lt = phase1 ? IKE_ATTR_LIFE_TYPE : IPSEC_ATTR_LIFE_TYPE;
	uint16_t ld = phase1 ? IKE_ATTR_LIFE_DURATION : IPSEC_ATTR_LIFE_DURATION;
	size_t n = 0;

	if (secs) {
		n = life_attr(out, cap, n, lt, IKE_LIFE_SECONDS);
		n = life_attr(out, cap, n, ld, secs);
	}
	if (kb) {
		n = life_attr(out, cap, n, lt, IKE_LIFE_KILOBYTES);
		n = life_attr(out, cap, n, ld, kb > 0xffffffffu ? 0xffffffffu : (uint32_t)kb);
	}
	return n;
}

void life_notify_read(bool phase1, const struct buf *data, uint32_t *secs, uint64_t *kb)
{
	uint16_t lt = phase1 ? IKE_ATTR_LIFE_TYPE : IPSEC_ATTR_LIFE_TYPE;
	uint16_t ld = phase1 ? IKE_ATTR_LIFE_DURATION : IPSEC_ATTR_LIFE_DURATION;
	struct buf b = *data;
	uint32_t type = 0;

	*secs = 0;
	*kb = 0;
	while (buf_left(&b) >= 4) {
		uint16_t t, v;
		uint64_t val = 0;

		if (buf_get_u16(&b, &t) || buf_get_u16(&b, &v))
			return;
		if (t & 0x8000) {
			val = v;
		} else {
			const uint8_t *p;

			if (v > 8 || buf_get_ptr(&b, v, &p))
				return; /* a value we cannot read: stop here */
			for (size_t i = 0; i < v; i++)
				val = val << 8 | p[i];
		}
		t &= 0x7fff;
		if (t == lt)
			type = (uint32_t)val;
		else if (t == ld && type == IKE_LIFE_SECONDS)
			*secs = val > 0xffffffffu ? 0xffffffffu : (uint32_t)val;
		else if (t == ld && type == IKE_LIFE_KILOBYTES)
			*kb = val;
	}
}
