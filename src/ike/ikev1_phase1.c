/* ikev1_phase1.c - the steps Main and Aggressive mode share (RFC 2409 5),
 * each handler in ikev1_main.c and ikev1_aggr.c being a list of them in
 * the order of its message:
 *
 *   responder  p1_choose (the proposal, from the initiator's SA payload,
 *              the responder's cookie, SAi_b, the NAT-T flags),
 *              p1_put_choice
 *   initiator  p1_put_offer (SAi_b kept as it is sent), p1_accept (the
 *              responder's choice, cookie and NAT-T flags)
 *   both       p1_take_ke_nonce / p1_make_ke_nonce, p1_put_ke_nonce, p1_dh
 *              (g^xy, SKEYID, the IV), p1_store_peer_id, p1_check_peer_id,
 *              p1_put_auth (our ID and HASH), p1_verify_hash,
 *              p1_put_initial_contact */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

/* The profile can answer a phase 1: its key, proposals and IPsec policy. */
bool p1_usable(struct ike_engine *e, const struct kz_ipsec_profile *p,
	       const struct kz_ike_policy **pol)
{
	*pol = eng_ike_policy(e, p);
	return *pol && (*pol)->psk.set && (*pol)->nproposals && eng_ipsec_policy(e, p);
}

/* Our public value (g^xi or g^xr by role, n bytes) of sa->dh and a
 * fresh nonce (Ni or Nr). */
static int p1_own_ke_nonce(struct ike_engine *e, struct ike_sa *sa, size_t n)
{
	bool i = sa->initiator;
	int r = ike_dh_public(sa->dh, i ? sa->gxi : sa->gxr, n);

	if (!r)
		r = eng_random(e, i ? sa->ni : sa->nr, IKE_NONCE_LEN);
	if (r)
		return r;
	*(i ? &sa->gxilen : &sa->gxrlen) = n;
	*(i ? &sa->nilen : &sa->nrlen) = IKE_NONCE_LEN;
	return 0;
}

int p1_dh(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
	  const struct kz_ike_policy *pol)
{
	const uint8_t *peer = sa->initiator ? sa->gxr : sa->gxi;
	size_t plen = sa->initiator ? sa->gxrlen : sa->gxilen;
	size_t n = ike_dh_pub_len(sa->p1.group);
	uint8_t gxy[IKE_MAX_DH];
	size_t glen = sizeof(gxy);
	int r;

	if (!n || n > IKE_MAX_DH)
		return KZ_ENOTSUP;
	/* g^xy; a responder's key pair is made with it (one job) */
	r = eng_dh_step(e, sa, NULL, m, sa->p1.group, &sa->dh, peer, plen, gxy, &glen);
	if (r)
		goto out;
	/* our KE (g^xr) and Nr, sent in MM4 / AM2 */
	if (!sa->initiator && (r = p1_own_ke_nonce(e, sa, n)))
		goto out;
	/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b); SKEYID_d/a/e follow */
	r = ike_derive_psk(sa->p1.hash, sa->p1.enc, pol->psk.key, pol->psk.len, sa->ni, sa->nilen,
			   sa->nr, sa->nrlen, gxy, glen, sa->icookie, sa->rcookie, &sa->keys);
	if (r)
		goto out;
	sa->have_keys = true;
	/* IV = hash(g^xi | g^xr) (appendix B) */
	r = ike_iv_phase1(&sa->keys, sa->gxi, sa->gxilen, sa->gxr, sa->gxrlen, sa->iv);
out:
	kz_wipe(gxy, sizeof(gxy));
	return r;
}

int p1_auth_hash(const struct ike_sa *sa, bool initiator, uint8_t *out)
{
	/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
	 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) */
	if (initiator)
		return ike_hash_auth(&sa->keys, sa->gxi, sa->gxilen, sa->gxr, sa->gxrlen,
				     sa->icookie, sa->rcookie, sa->sai_b, sa->sai_len, sa->idi_b,
				     sa->idi_len, out);
	return ike_hash_auth(&sa->keys, sa->gxr, sa->gxrlen, sa->gxi, sa->gxilen, sa->rcookie,
			     sa->icookie, sa->sai_b, sa->sai_len, sa->idr_b, sa->idr_len, out);
}

int p1_verify_hash(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
		   const char *msg)
{
	const struct isakmp_payload *h = isakmp_find(&m->d, ISAKMP_NP_HASH);
	uint8_t want[IKE_MAX_HASH];
	size_t n = ike_hash_len(sa->p1.hash);
	int r;

	/* the peer's HASH covers the peer's own role */
	r = p1_auth_hash(sa, !sa->initiator, want);
	if (r)
		return r;
	if (!h || h->body.len != n || CRYPTO_memcmp(h->body.data, want, n)) {
		e->ctr.drop_hash++;
		eng_fail(e, sa->profile, IKE_FAIL_PSK_MISMATCH, 1, 0,
			 "%s: the peer's %s in %s did not verify (the pre-shared keys differ)",
			 ike_fail_class_name(IKE_FAIL_PSK_MISMATCH),
			 sa->initiator ? "HASH_R" : "HASH_I", msg);
		return KZ_EPROTO;
	}
	return 0;
}

int p1_check_peer_id(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
		     const struct ike_msg *m)
{
	const uint8_t *b = sa->initiator ? sa->idr_b : sa->idi_b;
	size_t n = sa->initiator ? sa->idr_len : sa->idi_len;
	struct ike_prof_rt *rt;
	char got[160], want[160];

	(void)m;
	id_body_str(b, n, sa->peer_id, sizeof(sa->peer_id));
	ike_seen_id(e, sa->profile, b, n);
	if (pol->remote_id.type == KZ_ID_NONE || id_matches(&pol->remote_id, b, n))
		return 0;
	kz_strlcpy(got, sa->peer_id, sizeof(got));
	ident_str(&pol->remote_id, want, sizeof(want));
	eng_fail(e, sa->profile, IKE_FAIL_ID_MISMATCH, 1, 0,
		 "%s: the peer identified as %s, remote-id expects %s",
		 ike_fail_class_name(IKE_FAIL_ID_MISMATCH), got, want);
	rt = eng_prof_rt(e, sa->profile);
	if (rt) {
		kz_strlcpy(rt->st.id_received, got, sizeof(rt->st.id_received));
		kz_strlcpy(rt->st.id_expected, want, sizeof(rt->st.id_expected));
	}
	return KZ_EPROTO;
}

int p1_take_ke_nonce(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	const struct isakmp_payload *ke = isakmp_find(&m->d, ISAKMP_NP_KE);
	const struct isakmp_payload *no = isakmp_find(&m->d, ISAKMP_NP_NONCE);
	size_t want = ike_dh_pub_len(sa->p1.group);
	uint8_t *g = sa->initiator ? sa->gxr : sa->gxi;
	uint8_t *nn = sa->initiator ? sa->nr : sa->ni;

	if (!ke || !no || ke->body.len != want || want > IKE_MAX_DH || no->body.len < 8 ||
	    no->body.len > IKE_MAX_NONCE) {
		e->ctr.drop_malformed++;
		log_debug("%s: KE or nonce of the wrong size, dropped", sa->profile);
		return KZ_EPROTO;
	}
	memcpy(g, ke->body.data, want);
	memcpy(nn, no->body.data, no->body.len);
	if (sa->initiator) {
		sa->gxrlen = want;
		sa->nrlen = no->body.len;
	} else {
		sa->gxilen = want;
		sa->nilen = no->body.len;
	}
	return 0;
}

int p1_make_ke_nonce(struct ike_engine *e, struct ike_sa *sa)
{
	size_t n = ike_dh_pub_len(sa->p1.group);

	if (!n || n > IKE_MAX_DH)
		return KZ_ENOTSUP;
	ike_dh_free(sa->dh);
	sa->dh = eng_dh_keypair(e, sa->p1.group);
	if (!sa->dh)
		return KZ_ENOMEM;
	return p1_own_ke_nonce(e, sa, n);
}

int p1_put_id(struct isakmp_chain *c, const uint8_t *body, size_t len)
{
	if (len < 4)
		return KZ_EINVAL;
	return isakmp_put_id(c, body[0], body[1], (uint16_t)(body[2] << 8 | body[3]), body + 4,
			     len - 4);
}

int p1_store_peer_id(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	const struct isakmp_payload *id = isakmp_find(&m->d, ISAKMP_NP_ID);
	uint8_t *dst = sa->initiator ? sa->idr_b : sa->idi_b;
	struct isakmp_id parsed;

	if (!id || id->body.len > IKE_MAX_ID || isakmp_parse_id(&id->body, &parsed)) {
		e->ctr.drop_malformed++;
		return KZ_EPROTO;
	}
	memcpy(dst, id->body.data, id->body.len);
	if (sa->initiator)
		sa->idr_len = id->body.len;
	else
		sa->idi_len = id->body.len;
	return 0;
}

/* INITIAL-CONTACT (RFC 2407 4.6.3.3) tells the peer we hold no other SA
 * with it.  When both sites initiate at once, the second exchange must not
 * say so: the peer would drop the pair the first one made.  Nor while the
 * peer's own exchange with us is still under way here: in Aggressive mode
 * the peer (its initiator) counts that IKE SA as established from our AM2
 * on, before we do, and would drop it as stale on our INITIAL-CONTACT,
 * while we keep it once its AM3 arrives (each side then held a different
 * IKE SA, and each deleted the one the other kept). */
bool p1_want_initial_contact(const struct ike_engine *e, const struct ike_sa *sa)
{
	for (const struct ike_sa *o = e->sas; o; o = o->next)
		if (o != sa && !o->dying && o->peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr &&
		    !strcmp(o->profile, sa->profile))
			return false;
	/* IPsec SAs with the peer still in use (a phase 1 made again to
	 * rekey them) are not stale: the peer must keep its side */
	for (const struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && c->out.peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr &&
		    !strcmp(c->profile, sa->profile))
			return false;
	return true;
}

bool p1_has_initial_contact(const struct ike_msg *m)
{
	for (size_t i = 0; i < m->d.n; i++) {
		struct isakmp_notify n;

		if (m->d.p[i].type == ISAKMP_NP_N && !isakmp_parse_notify(&m->d.p[i].body, &n) &&
		    n.type == ISAKMP_N_INITIAL_CONTACT)
			return true;
	}
	return false;
}

/* INITIAL-CONTACT in our last phase 1 message, when we hold nothing else
 * with the peer.  true: it went in. */
bool p1_put_initial_contact(const struct ike_engine *e, const struct ike_sa *sa,
			    struct isakmp_chain *c)
{
	uint8_t spi[16];

	if (!p1_want_initial_contact(e, sa))
		return false;
	memcpy(spi, sa->icookie, 8);
	memcpy(spi + 8, sa->rcookie, 8);
	(void)isakmp_put_notify(c, ISAKMP_PROTO_ISAKMP, spi, 16, ISAKMP_N_INITIAL_CONTACT, NULL, 0);
	return true;
}

/* SAi_b: the body of the initiator's SA payload, which HASH_I and HASH_R
 * cover (RFC 2409 5). */
int p1_keep_sai(struct ike_sa *sa, const uint8_t *body, size_t len)
{
	free(sa->sai_b);
	sa->sai_len = len;
	sa->sai_b = malloc(len ? len : 1);
	if (!sa->sai_b)
		return KZ_ENOMEM;
	memcpy(sa->sai_b, body, len);
	return 0;
}

/* Our offer as the initiator's first SA payload, its body kept as SAi_b. */
int p1_put_offer(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
		 struct ike_out *o)
{
	struct isakmp_sa *offer = p1_offer(e, pol, sa->mode == KZ_MODE_AGGRESSIVE);
	size_t start = o->w.len;
	int r;

	if (!offer)
		return KZ_ENOMEM;
	r = isakmp_put_sa(&o->c, offer);
	isakmp_sa_free(offer);
	if (r)
		return KZ_ENOSPC;
	return p1_keep_sai(sa, o->buf + start + ISAKMP_GENERIC_LEN,
			   o->w.len - start - ISAKMP_GENERIC_LEN);
}

/* Our first message (MM1, AM1), retransmitted until answered: the
 * offer; in Aggressive mode the KE, Ni and IDii made before; the NAT-T
 * and DPD VIDs. */
int p1_send_offer(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol)
{
	bool aggr = sa->mode == KZ_MODE_AGGRESSIVE;
	struct ike_out *o = malloc(sizeof(*o));
	int r = KZ_ENOMEM;

	if (!o)
		return r;
	out_begin(o, sa, aggr ? ISAKMP_XCHG_AGGR : ISAKMP_XCHG_IDPROT, 0);
	r = p1_put_offer(e, sa, pol, o);
	if (!r) {
		if (aggr) {
			p1_put_ke_nonce(sa, &o->c);
			(void)p1_put_id(&o->c, sa->idi_b, sa->idi_len);
		}
		natt_add_vids(e, &o->c, pol->natt, pol->dpd);
		r = out_send(e, sa, o, NULL, &sa->tx, true);
	}
	free(o);
	return r;
}

/* NAT-Traversal is on when the peer announced it and our policy allows it. */
void p1_natt_flags(struct ike_sa *sa, const struct ike_msg *m, const struct kz_ike_policy *pol)
{
	natt_read_vids(sa, m);
	sa->natt.on = pol->natt && (sa->natt.peer_rfc || sa->natt.peer_draft);
}

/* The responder's cookie, drawn once (a message back from the DH pool
 * runs the handler again). */
static int p1_new_rcookie(struct ike_engine *e, struct ike_sa *sa)
{
	int r;

	if (sa->rcookie[0])
		return 0;
	r = eng_random(e, sa->rcookie, sizeof(sa->rcookie));
	sa->rcookie[0] |= 1; /* never all zero */
	return r;
}

/* The responder's proposal choice: the first of the initiator's
 * transforms our policy has; a KE in the same message (AM1) must be of its
 * group.  IKE_FAIL (NO-PROPOSAL-CHOSEN) records both sides' offers.  Then
 * the responder's cookie, SAi_b and the NAT-T flags. */
/* The peer's SA payload (its offer, or its choice of ours), recorded with
 * its VIDs for `show ipsec profile NAME detail` before it is judged, so a
 * mismatch shows them too.  *r: 0, or why it did not parse. */
static struct isakmp_sa *p1_peer_sa(struct ike_engine *e, struct ike_sa *sa,
				    const struct ike_msg *m, bool chosen, int *r)
{
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	struct isakmp_sa *peer = isakmp_sa_new();
	char text[256];

	if (!peer)
		return NULL;
	ike_seen_vids(e, sa->profile, &m->d);
	*r = isakmp_parse_sa(&sp->body, peer);
	if (*r == 0) {
		p1_peer_str(peer, text, sizeof(text));
		ike_seen_offer(e, sa->profile, 1, chosen, text);
	}
	return peer;
}

enum ike_res p1_choose(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m,
		       const struct kz_ike_policy *pol, uint8_t *pnum)
{
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	const struct isakmp_payload *ke = isakmp_find(&m->d, ISAKMP_NP_KE);
	char ours[256], theirs[256];
	int r;
	struct isakmp_sa *peer = p1_peer_sa(e, sa, m, false, &r);

	if (!peer)
		return IKE_IGNORE;
	if (r == 0)
		r = p1_match(e, pol, peer, KZ_GROUP_NONE, &sa->p1, pnum);
	if (r == 0 && ke && ke->body.len != ike_dh_pub_len(sa->p1.group))
		r = KZ_ENOENT; /* the KE is not of the chosen group */
	if (r) {
		p1_offer_str(e, pol, ours, sizeof(ours));
		p1_peer_str(peer, theirs, sizeof(theirs));
		eng_fail_proposal(e, sa->profile, 1, ours, theirs);
		m->notify = ISAKMP_N_NO_PROPOSAL_CHOSEN;
		isakmp_sa_free(peer);
		return IKE_FAIL;
	}
	isakmp_sa_free(peer);
	if (p1_new_rcookie(e, sa) || p1_keep_sai(sa, sp->body.data, sp->body.len))
		return IKE_IGNORE;
	p1_natt_flags(sa, m, pol);
	return IKE_DONE;
}

/* The initiator's acceptance of the responder's choice: one of the
 * transforms we offered (in Aggressive mode of the group our KE already
 * has); then the responder's cookie and the NAT-T flags. */
enum ike_res p1_accept(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
		       const struct kz_ike_policy **polp)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);
	enum kz_group group = sa->p1.group;
	struct isakmp_sa *reply;
	char chosen[256];
	int r;

	*polp = pol;
	if (!pol || !(reply = p1_peer_sa(e, sa, m, true, &r)))
		return IKE_IGNORE;
	if (r == 0)
		r = p1_from_reply(e, pol, reply, &sa->p1);
	if (r == 0 && sa->mode == KZ_MODE_AGGRESSIVE && sa->p1.group != group)
		r = KZ_ENOENT;
	if (r) {
		p1_peer_str(reply, chosen, sizeof(chosen));
		eng_fail(e, sa->profile, IKE_FAIL_NO_PROPOSAL, 1, 0,
			 "no proposal chosen: the peer chose %s, which we did not offer", chosen);
		isakmp_sa_free(reply);
		return IKE_FAIL;
	}
	isakmp_sa_free(reply);
	memcpy(sa->rcookie, m->d.hdr.rcookie, 8);
	p1_natt_flags(sa, m, pol);
	return IKE_DONE;
}

/* Our SA payload answering the initiator's: the one transform chosen. */
int p1_put_choice(struct ike_sa *sa, struct ike_out *o, uint8_t pnum)
{
	struct isakmp_sa *reply = p1_reply(&sa->p1, pnum);
	int r;

	if (!reply)
		return KZ_ENOMEM;
	r = isakmp_put_sa(&o->c, reply);
	isakmp_sa_free(reply);
	return r;
}

const struct kz_ike_policy *p1_policy(struct ike_engine *e, const struct ike_sa *sa)
{
	return eng_ike_policy(e, eng_profile(e, sa->profile));
}

/* Our KE and nonce: g^xi and Ni as initiator, g^xr and Nr as responder. */
void p1_put_ke_nonce(const struct ike_sa *sa, struct isakmp_chain *c)
{
	if (sa->initiator) {
		(void)isakmp_put_payload(c, ISAKMP_NP_KE, sa->gxi, sa->gxilen);
		(void)isakmp_put_payload(c, ISAKMP_NP_NONCE, sa->ni, sa->nilen);
	} else {
		(void)isakmp_put_payload(c, ISAKMP_NP_KE, sa->gxr, sa->gxrlen);
		(void)isakmp_put_payload(c, ISAKMP_NP_NONCE, sa->nr, sa->nrlen);
	}
}

/* Our ID (made now: HASH_I / HASH_R cover it) and HASH; without the ID
 * when it went in an earlier message (AM3). */
int p1_put_auth(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
		struct isakmp_chain *c, bool with_id)
{
	uint8_t *id = sa->initiator ? sa->idi_b : sa->idr_b;
	size_t *idlen = sa->initiator ? &sa->idi_len : &sa->idr_len;
	uint8_t hash[IKE_MAX_HASH];
	int r;

	if (with_id)
		*idlen = id_body_local(e, pol, sa, id, IKE_MAX_ID);
	r = p1_auth_hash(sa, sa->initiator, hash);
	if (!r) {
		if (with_id)
			(void)p1_put_id(c, id, *idlen);
		(void)isakmp_put_payload(c, ISAKMP_NP_HASH, hash, ike_hash_len(sa->p1.hash));
	}
	kz_wipe(hash, sizeof(hash));
	return r;
}
