/* prof_hash.c - the fingerprint of an ipsec profile's settings.
 *
 * The serialization is explicit and canonical: a version tag, then each
 * field in a fixed order as fixed-width big-endian integers, strings as a
 * 16-bit length and the bytes, and a presence byte before every object
 * followed by name (a profile may name a policy that does not exist yet).
 * Fields a setting makes irrelevant (the address of a `peer FQDN`) are left
 * out, so stale values in the model never count as a change.  Struct memory
 * is never hashed as it is: padding and unused array tails would make equal
 * configs differ.
 *
 * `peer FQDN` counts by its name, not by what it resolves to: a new DNS
 * answer is handled when the profile next negotiates, not as a change.
 * The pre-shared key's bytes go into the hash (a new key must renegotiate),
 * the way it was typed (ascii or hex) does not; the buffer holding them is
 * wiped before it is freed. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ike/prof_hash.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"

/* Far more than the largest profile needs: names 64, FQDN and identities
 * 256 each, the key 256, at most KZ_MAX_REFS proposals per policy. */
#define FP_BUF_MAX 8192u

static const char fp_tag[] = "kizuna profile settings v1";

static void put_str(struct wbuf *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	(void)wbuf_put_u16(w, (uint16_t)n);
	(void)wbuf_put_bytes(w, s, n);
}

static void put_addr(struct wbuf *w, struct in_addr a)
{
	/* s_addr is in network byte order already */
	(void)wbuf_put_bytes(w, &a.s_addr, sizeof(a.s_addr));
}

static void put_prefix(struct wbuf *w, const struct kz_prefix *p)
{
	(void)wbuf_put_u8(w, p->set);
	if (!p->set)
		return;
	put_addr(w, p->addr);
	(void)wbuf_put_u8(w, p->len);
}

static void put_ident(struct wbuf *w, const struct kz_ident *id)
{
	(void)wbuf_put_u8(w, (uint8_t)id->type);
	if (id->type == KZ_ID_ADDRESS)
		put_addr(w, id->addr);
	else if (id->type != KZ_ID_NONE)
		put_str(w, id->value, sizeof(id->value));
}

static void put_ike_proposal(struct wbuf *w, const struct kz_config *cfg, const char *name)
{
	const struct kz_ike_proposal *kp = kz_find_ike_proposal(cfg, name);

	put_str(w, name, KZ_NAME_MAX);
	(void)wbuf_put_u8(w, kp != NULL);
	if (!kp)
		return;
	(void)wbuf_put_u8(w, (uint8_t)kp->enc);
	(void)wbuf_put_u8(w, (uint8_t)kp->hash);
	(void)wbuf_put_u8(w, (uint8_t)kp->group);
	(void)wbuf_put_u32(w, kp->lifetime);
}

static void put_ike_policy(struct wbuf *w, const struct kz_config *cfg, const char *name)
{
	const struct kz_ike_policy *pol = name[0] ? kz_find_ike_policy(cfg, name) : NULL;
	unsigned n;

	(void)wbuf_put_u8(w, pol != NULL);
	if (!pol)
		return;
	(void)wbuf_put_u8(w, (uint8_t)pol->mode);
	n = pol->nproposals < KZ_MAX_REFS ? pol->nproposals : KZ_MAX_REFS;
	(void)wbuf_put_u8(w, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		put_ike_proposal(w, cfg, pol->proposals[i]);
	(void)wbuf_put_u8(w, pol->psk.set);
	if (pol->psk.set) {
		size_t kl = pol->psk.len < KZ_PSK_MAX ? pol->psk.len : KZ_PSK_MAX;

		(void)wbuf_put_u16(w, (uint16_t)kl);
		(void)wbuf_put_bytes(w, pol->psk.key, kl);
	}
	put_ident(w, &pol->local_id);
	put_ident(w, &pol->remote_id);
	(void)wbuf_put_u8(w, pol->natt);
	(void)wbuf_put_u32(w, pol->keepalive);
	(void)wbuf_put_u8(w, pol->dpd);
	(void)wbuf_put_u32(w, pol->dpd_interval);
	(void)wbuf_put_u32(w, pol->dpd_retry);
}

static void put_ipsec_proposal(struct wbuf *w, const struct kz_config *cfg, const char *name)
{
	const struct kz_ipsec_proposal *ep = kz_find_ipsec_proposal(cfg, name);

	put_str(w, name, KZ_NAME_MAX);
	(void)wbuf_put_u8(w, ep != NULL);
	if (!ep)
		return;
	(void)wbuf_put_u8(w, (uint8_t)ep->enc);
	(void)wbuf_put_u8(w, (uint8_t)ep->auth);
	(void)wbuf_put_u32(w, ep->lifetime_time);
	(void)wbuf_put_u32(w, (uint32_t)(ep->lifetime_kbytes >> 32));
	(void)wbuf_put_u32(w, (uint32_t)ep->lifetime_kbytes);
}

static void put_ipsec_policy(struct wbuf *w, const struct kz_config *cfg, const char *name)
{
	const struct kz_ipsec_policy *pol = name[0] ? kz_find_ipsec_policy(cfg, name) : NULL;
	unsigned n;

	(void)wbuf_put_u8(w, pol != NULL);
	if (!pol)
		return;
	n = pol->nproposals < KZ_MAX_REFS ? pol->nproposals : KZ_MAX_REFS;
	(void)wbuf_put_u8(w, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		put_ipsec_proposal(w, cfg, pol->proposals[i]);
	put_prefix(w, &pol->local_ts);
	put_prefix(w, &pol->remote_ts);
	(void)wbuf_put_u8(w, (uint8_t)pol->nsel);
	for (unsigned i = 0; i < pol->nsel && i < KZ_MAX_SELECTORS; i++) {
		put_prefix(w, &pol->sel[i].local);
		put_prefix(w, &pol->sel[i].remote);
		(void)wbuf_put_u8(w, pol->sel[i].proto);
		(void)wbuf_put_u16(w, pol->sel[i].lport);
		(void)wbuf_put_u16(w, pol->sel[i].rport);
	}
	(void)wbuf_put_u8(w, (uint8_t)pol->pfs);
	(void)wbuf_put_u32(w, pol->replay_window);
}

static void put_profile(struct wbuf *w, const struct kz_config *cfg,
			const struct kz_ipsec_profile *p)
{
	const struct kz_if_ipsec *ifc = kz_find_if_mapping(cfg, p->name);

	(void)wbuf_put_bytes(w, fp_tag, sizeof(fp_tag) - 1);
	put_str(w, p->name, sizeof(p->name));
	(void)wbuf_put_u8(w, (uint8_t)p->peer_type);
	if (p->peer_type == KZ_PEER_ADDR)
		put_addr(w, p->peer_addr);
	else if (p->peer_type == KZ_PEER_FQDN)
		put_str(w, p->peer_fqdn, sizeof(p->peer_fqdn));
	(void)wbuf_put_u8(w, p->source_set);
	put_str(w, p->ike_policy, sizeof(p->ike_policy));
	put_str(w, p->ipsec_policy, sizeof(p->ipsec_policy));
	(void)wbuf_put_u8(w, (uint8_t)p->initiate);
	put_ike_policy(w, cfg, p->ike_policy);
	put_ipsec_policy(w, cfg, p->ipsec_policy);
	/* the IPsec<N> its SAs are handed to the data plane with */
	(void)wbuf_put_u8(w, ifc != NULL);
	if (ifc)
		(void)wbuf_put_u32(w, ifc->unit);
}

int ike_prof_fingerprint(const struct kz_config *cfg, const char *name,
			 uint8_t out[IKE_PROF_FP_LEN])
{
	const struct kz_ipsec_profile *p = cfg ? kz_find_profile(cfg, name) : NULL;
	unsigned int mdlen = 0;
	uint8_t *mem = NULL;
	struct wbuf w;
	int r;

	if (!p)
		return KZ_ENOENT;
	mem = malloc(FP_BUF_MAX);
	if (!mem)
		return KZ_ENOMEM;
	wbuf_init(&w, mem, FP_BUF_MAX);
	put_profile(&w, cfg, p);
	if (w.overflow) {
		r = KZ_ENOSPC;
		goto out;
	}
	if (!EVP_Digest(w.data, w.len, out, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != IKE_PROF_FP_LEN) {
		r = KZ_EINVAL;
		goto out;
	}
	r = 0;
out:
	/* the serialization holds the pre-shared key */
	kz_wipe(mem, FP_BUF_MAX);
	free(mem);
	return r;
}
