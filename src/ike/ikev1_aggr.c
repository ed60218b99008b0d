/* ikev1_aggr.c - Aggressive mode with pre-shared keys (RFC 2409 5, 5.4),
 * both roles:
 *
 *   Initiator                              Responder
 *   AM1 HDR, SA, KE, Ni, IDii (+VIDs)  -->
 *                                      <--  AM2 HDR, SA, KE, Nr, IDir, HASH_R
 *                                               (+VIDs, NAT-D x2)
 *   AM3 HDR*, HASH_I (+NAT-D x2,       -->  (UDP 4500 after a NAT was seen;
 *       N INITIAL-CONTACT)                   plain AM3 is accepted too)
 *
 * The responder picks the profile from the ID in AM1 (config-language.md,
 * "Identities"): a `peer any` profile whose remote-id matches; else a
 * profile whose `peer` is the sender's address; else the only `peer any`
 * profile whose IKE policy has no remote-id.  When none fits, nothing is
 * kept or answered, and every `peer any` profile records "an initiator sent
 * key-id X, no profile expects it" for diagnosis (A5.1).
 *
 * The initiator's AM1 carries one KE, so it offers only the transforms
 * whose group is that of its first proposal. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"

static bool usable(struct ike_engine *e, const struct kz_ipsec_profile *p,
		   const struct kz_ike_policy **pol)
{
	*pol = eng_ike_policy(e, p);
	return *pol && (*pol)->psk.set && (*pol)->nproposals && eng_ipsec_policy(e, p) &&
	       (*pol)->mode == KZ_MODE_AGGRESSIVE;
}

static const struct kz_ipsec_profile *am_select(struct ike_engine *e, struct in_addr peer,
						const uint8_t *id, size_t idlen)
{
	const struct kz_ike_policy *pol;
	const struct kz_ipsec_profile *byaddr = NULL, *wild = NULL;
	unsigned nwild = 0;

	for (size_t i = 0; i < e->cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &e->cfg->profiles.v[i];

		if (!usable(e, p, &pol))
			continue;
		if (p->peer_type == KZ_PEER_ANY && pol->remote_id.type != KZ_ID_NONE &&
		    id_matches(&pol->remote_id, id, idlen))
			return p;
		if (p->peer_type == KZ_PEER_ADDR && p->peer_addr.s_addr == peer.s_addr && !byaddr)
			byaddr = p;
		if (p->peer_type == KZ_PEER_ANY && pol->remote_id.type == KZ_ID_NONE) {
			wild = p;
			nwild++;
		}
	}
	if (byaddr)
		return byaddr;
	return nwild == 1 ? wild : NULL;
}

static void record_unmatched(struct ike_engine *e, const struct ike_msg *m, const uint8_t *id,
			     size_t idlen)
{
	char got[160], want[160], a[INET_ADDRSTRLEN];
	const struct kz_ike_policy *pol;

	id_body_str(id, idlen, got, sizeof(got));
	inet_ntop(AF_INET, &m->peer.sin_addr, a, sizeof(a));
	log_debug("ike: Aggressive mode from %s with %s matches no profile, ignored", a, got);
	for (size_t i = 0; i < e->cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &e->cfg->profiles.v[i];
		struct ike_prof_rt *rt;

		if (p->peer_type != KZ_PEER_ANY || !usable(e, p, &pol))
			continue;
		/* what it sent, shown by `show ipsec profile NAME detail` */
		ike_seen_id(e, p->name, id, idlen);
		ike_seen_vids(e, p->name, &m->d);
		ident_str(&pol->remote_id, want, sizeof(want));
		eng_fail(e, p->name, IKE_FAIL_ID_MISMATCH, 1, 0,
			 "ID mismatch: an initiator at %s sent %s, no profile expects it "
			 "(this profile expects %s)",
			 a, got, want);
		rt = eng_prof_rt(e, p->name);
		if (rt) {
			kz_strlcpy(rt->st.id_received, got, sizeof(rt->st.id_received));
			kz_strlcpy(rt->st.id_expected, want, sizeof(rt->st.id_expected));
		}
	}
}

int am_outI1(struct ike_engine *e, struct ike_sa *sa)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct isakmp_sa *offer = pol ? p1_offer(e, pol, true) : NULL;
	struct ike_out *o = malloc(sizeof(*o));
	size_t start;
	int r = KZ_ENOMEM;

	if (!offer || !o)
		goto out;
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ike_proposal *kp = kz_find_ike_proposal(e->cfg, pol->proposals[i]);

		if (kp) {
			sa->p1.group = kp->group;
			break;
		}
	}
	r = p1_make_ke_nonce(e, sa);
	if (r)
		goto out;
	sa->idi_len = id_body_local(e, pol, sa, sa->idi_b, sizeof(sa->idi_b));
	out_begin(o, sa, ISAKMP_XCHG_AGGR, 0);
	start = o->w.len;
	r = isakmp_put_sa(&o->c, offer);
	if (r)
		goto out;
	sa->sai_len = o->w.len - start - ISAKMP_GENERIC_LEN;
	sa->sai_b = malloc(sa->sai_len);
	if (!sa->sai_b) {
		r = KZ_ENOMEM;
		goto out;
	}
	memcpy(sa->sai_b, o->buf + start + ISAKMP_GENERIC_LEN, sa->sai_len);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_KE, sa->gxi, sa->gxilen);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_NONCE, sa->ni, sa->nilen);
	(void)p1_put_id(&o->c, sa->idi_b, sa->idi_len);
	natt_add_vids(e, &o->c, pol);
	r = out_send(e, sa, o, NULL, &sa->tx, true);
out:
	free(offer);
	free(o);
	return r;
}

enum ike_res am_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	const struct isakmp_payload *ke = isakmp_find(&m->d, ISAKMP_NP_KE);
	const struct kz_ipsec_profile *p;
	const struct kz_ike_policy *pol;
	struct isakmp_sa *peer = NULL, *reply = NULL;
	struct ike_out *o = NULL;
	uint8_t pnum, hash[IKE_MAX_HASH];
	size_t start;
	int r;

	/* cheap checks first: the ID and the profile, then the proposal;
	 * DH only once both passed */
	r = p1_store_peer_id(e, sa, m);
	if (r)
		return IKE_IGNORE;
	p = am_select(e, m->peer.sin_addr, sa->idi_b, sa->idi_len);
	if (!p) {
		e->ctr.drop_no_profile++;
		record_unmatched(e, m, sa->idi_b, sa->idi_len);
		return IKE_IGNORE;
	}
	pol = eng_ike_policy(e, p);
	kz_strlcpy(sa->profile, p->name, sizeof(sa->profile));
	if (p1_check_peer_id(e, sa, pol, m))
		return IKE_IGNORE;
	peer = calloc(1, sizeof(*peer));
	o = malloc(sizeof(*o));
	if (!peer || !o) {
		r = KZ_ENOMEM;
		goto out;
	}
	/* before the proposal is judged: a mismatch shows them too */
	ike_seen_vids(e, p->name, &m->d);
	r = isakmp_parse_sa(&sp->body, peer);
	if (r == 0) {
		char offered[256];

		p1_peer_str(peer, offered, sizeof(offered));
		ike_seen_offer(e, p->name, 1, false, offered);
		r = p1_match(e, pol, peer, KZ_GROUP_NONE, &sa->p1, &pnum);
	}
	if (r == 0 && ke->body.len != ike_dh_pub_len(sa->p1.group))
		r = KZ_ENOENT; /* the KE is not of the chosen group */
	if (r) {
		char ours[256], theirs[256];

		p1_offer_str(e, pol, ours, sizeof(ours));
		p1_peer_str(peer, theirs, sizeof(theirs));
		eng_fail_proposal(e, p->name, 1, ours, theirs);
		m->notify = ISAKMP_N_NO_PROPOSAL_CHOSEN;
		goto out;
	}
	/* all of this runs again when the message comes back with g^xy
	 * from the pool: the cookie is drawn once */
	if (!sa->rcookie[0]) {
		r = eng_random(e, sa->rcookie, sizeof(sa->rcookie));
		if (r)
			goto out;
		sa->rcookie[0] |= 1;
	}
	free(sa->sai_b);
	sa->sai_len = sp->body.len;
	sa->sai_b = malloc(sa->sai_len);
	if (!sa->sai_b) {
		r = KZ_ENOMEM;
		goto out;
	}
	memcpy(sa->sai_b, sp->body.data, sa->sai_len);
	natt_read_vids(sa, m);
	sa->natt.on = pol->natt && (sa->natt.peer_rfc || sa->natt.peer_draft);
	r = p1_take_ke_nonce(e, sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	if (r)
		goto out;
	sa->idr_len = id_body_local(e, pol, sa, sa->idr_b, sizeof(sa->idr_b));
	r = p1_auth_hash(sa, false, hash);
	if (r)
		goto out;
	reply = p1_reply(&sa->p1, pnum);
	if (!reply) {
		r = KZ_ENOMEM;
		goto out;
	}
	out_begin(o, sa, ISAKMP_XCHG_AGGR, 0);
	start = o->w.len;
	(void)start;
	(void)isakmp_put_sa(&o->c, reply);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_KE, sa->gxr, sa->gxrlen);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_NONCE, sa->nr, sa->nrlen);
	(void)p1_put_id(&o->c, sa->idr_b, sa->idr_len);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, hash, ike_hash_len(sa->p1.hash));
	if (sa->natt.on || pol->dpd) {
		struct kz_ike_policy vp = *pol;

		vp.natt = sa->natt.on;
		natt_add_vids(e, &o->c, &vp);
		kz_wipe(&vp, sizeof(vp));
	}
	r = natt_add_natd(sa, &o->c);
	/* the initiator's AM3 ends the exchange: we repeat AM2 until it comes */
	if (!r)
		r = out_send(e, sa, o, NULL, &sa->tx, m->t->retransmit);
out:
	kz_wipe(hash, sizeof(hash));
	free(peer);
	free(reply);
	free(o);
	return m->notify ? IKE_FAIL : ike_res_of(r);
}

enum ike_res am_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct isakmp_sa *reply = calloc(1, sizeof(*reply));
	struct ike_out *o = malloc(sizeof(*o));
	enum kz_group group = sa->p1.group;
	uint8_t hash[IKE_MAX_HASH], spi[16];
	bool fail = false;
	int r = KZ_ENOMEM;

	if (!reply || !o || !pol)
		goto out;
	/* before the proposal is judged: a mismatch shows them too */
	ike_seen_vids(e, sa->profile, &m->d);
	r = isakmp_parse_sa(&sp->body, reply);
	if (r == 0) {
		char chosen[256];

		p1_peer_str(reply, chosen, sizeof(chosen));
		ike_seen_offer(e, sa->profile, 1, true, chosen);
		r = p1_from_reply(e, pol, reply, &sa->p1);
	}
	if (r == 0 && sa->p1.group != group)
		r = KZ_ENOENT;
	if (r) {
		char theirs[256];

		p1_peer_str(reply, theirs, sizeof(theirs));
		eng_fail(e, sa->profile, IKE_FAIL_NO_PROPOSAL, 1, 0,
			 "no proposal chosen: the peer chose %s, which we did not offer", theirs);
		fail = true;
		goto out;
	}
	memcpy(sa->rcookie, m->d.hdr.rcookie, 8);
	natt_read_vids(sa, m);
	sa->natt.on = pol->natt && (sa->natt.peer_rfc || sa->natt.peer_draft);
	r = p1_take_ke_nonce(e, sa, m);
	if (!r)
		r = p1_store_peer_id(e, sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	if (r)
		goto out;
	r = p1_verify_hash(e, sa, m, "message 2");
	if (!r)
		r = p1_check_peer_id(e, sa, pol, m);
	if (r) {
		fail = true;
		goto out;
	}
	r = natt_check_natd(sa, m);
	if (r)
		goto out;
	natt_float(sa);
	r = p1_auth_hash(sa, true, hash);
	if (r)
		goto out;
	out_begin(o, sa, ISAKMP_XCHG_AGGR, 0);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, hash, ike_hash_len(sa->p1.hash));
	r = natt_add_natd(sa, &o->c);
	if (p1_want_initial_contact(e, sa)) {
		memcpy(spi, sa->icookie, 8);
		memcpy(spi + 8, sa->rcookie, 8);
		(void)isakmp_put_notify(&o->c, ISAKMP_PROTO_ISAKMP, spi, 16,
					ISAKMP_N_INITIAL_CONTACT, NULL, 0);
		sa->ic_info_due = true;
	}
	/* AM3 encrypted, as strongSwan sends it */
	if (!r)
		r = out_send(e, sa, o, sa->iv, &sa->tx, m->t->retransmit);
out:
	kz_wipe(hash, sizeof(hash));
	free(reply);
	free(o);
	return fail ? IKE_FAIL : ike_res_of(r);
}

enum ike_res am_inI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	if (p1_verify_hash(e, sa, m, "message 3")) {
		m->notify = ISAKMP_N_INVALID_HASH_INFORMATION;
		return IKE_FAIL;
	}
	if (natt_check_natd(sa, m))
		return IKE_IGNORE;
	natt_update_peer(sa, m);
	if (p1_has_initial_contact(m))
		info_initial_contact(e, sa);
	return IKE_DONE;
}
