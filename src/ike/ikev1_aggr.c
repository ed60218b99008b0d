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
 * profile whose `peer` is the sender's address (its remote-id, if set,
 * checked next).  A `peer any` profile without a remote-id answers nobody
 * (`kizuna check` says A5.2): AM2 carries HASH_R, which lets whoever gets
 * it guess the key offline, so it goes only to an ID configured here.
 * When none fits, nothing is kept or answered, and every `peer any`
 * profile records "an initiator sent key-id X, no profile expects it" for
 * diagnosis (A5.1).  AM2 is sent once per AM1 (the row has no
 * retransmission); a repeated AM1 gets it again. 
 *
 * The initiator's AM1 carries one KE, so it offers only the transforms
 * whose group is that of its first proposal. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

static bool usable(struct ike_engine *e, const struct kz_ipsec_profile *p,
		   const struct kz_ike_policy **pol)
{
	return p1_usable(e, p, pol) && (*pol)->mode == KZ_MODE_AGGRESSIVE;
}

static const struct kz_ipsec_profile *am_select(struct ike_engine *e, struct in_addr peer,
						const uint8_t *id, size_t idlen)
{
	const struct kz_ike_policy *pol;
	const struct kz_ipsec_profile *byaddr = NULL;

	for (size_t i = 0; i < e->cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &e->cfg->profiles.v[i];

		if (!usable(e, p, &pol))
			continue;
		if (p->peer_type == KZ_PEER_ANY && pol->remote_id.type != KZ_ID_NONE &&
		    id_matches(&pol->remote_id, id, idlen))
			return p;
		if (p->peer_type == KZ_PEER_ADDR && p->peer_addr.s_addr == peer.s_addr && !byaddr)
			byaddr = p;
	}
	return byaddr;
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
		if (pol->remote_id.type == KZ_ID_NONE)
			kz_strlcpy(want, "a remote-id, and has none", sizeof(want));
		else
			ident_str(&pol->remote_id, want, sizeof(want));
		eng_fail(e, p->name, IKE_FAIL_ID_MISMATCH, 1, 0,
			 "ID mismatch: an initiator at %s sent %s, no profile expects it "
			 "(this profile expects %s)",
			 a, got, want);
		rt = eng_prof_rt(e, p->name);
		if (rt) {
			/* "" for no remote-id: diagnose words that in its language */
			kz_strlcpy(rt->st.id_received, got, sizeof(rt->st.id_received));
			kz_strlcpy(rt->st.id_expected,
				   pol->remote_id.type == KZ_ID_NONE ? "" : want,
				   sizeof(rt->st.id_expected));
		}
	}
}

/* ---- handlers, in the order of the exchange ---- */

/* AM1: the offer (only the transforms of the first proposal's group: one
 * KE), our KE, Ni and IDii, the NAT-T and DPD VIDs. */
int am_outI1(struct ike_engine *e, struct ike_sa *sa)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);
	int r;

	if (!pol)
		return KZ_ENOMEM;
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ike_proposal *kp = kz_find_ike_proposal(e->cfg, pol->proposals[i]);

		if (kp) {
			sa->p1.group = kp->group;
			break;
		}
	}
	r = p1_make_ke_nonce(e, sa);
	if (r)
		return r;
	sa->idi_len = id_body_local(e, pol, sa, sa->idi_b, sizeof(sa->idi_b));
	return p1_send_offer(e, sa, pol);
}

/* AM1 -> AM2: cheap checks first (the ID and by it the profile, then the
 * proposal), DH only once they passed; everything before p1_dh runs again
 * when the message comes back with g^xy from the pool. */
enum ike_res am_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ipsec_profile *p;
	const struct kz_ike_policy *pol;
	struct ike_out *o;
	enum ike_res res;
	uint8_t pnum;
	int r;

	if (p1_store_peer_id(e, sa, m))
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
	res = p1_choose(e, sa, m, pol, &pnum);
	if (res != IKE_DONE)
		return res;
	r = p1_take_ke_nonce(e, sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	if (r)
		return ike_res_of(r);
	o = malloc(sizeof(*o));
	if (!o)
		return IKE_IGNORE;
	out_begin(o, sa, ISAKMP_XCHG_AGGR, 0);
	r = p1_put_choice(sa, o, pnum);
	if (!r) {
		p1_put_ke_nonce(sa, &o->c);
		r = p1_put_auth(e, sa, pol, &o->c, true);
	}
	natt_add_vids(e, &o->c, sa->natt.on, pol->dpd);
	if (!r)
		r = natt_add_natd(sa, &o->c);
	/* sent once: a repeated AM1 gets it again (p1_pre), no timer */
	if (!r)
		r = out_send(e, sa, o, NULL, &sa->tx, m->t->retransmit);
	free(o);
	return ike_res_of(r);
}

/* AM2 -> AM3: the responder's choice, KE, Nr and IDir, g^xy and SKEYID,
 * HASH_R and remote-id, NAT-D; to port 4500 behind a NAT; HASH_I and
 * INITIAL-CONTACT (repeated in an Informational after the first Quick
 * Mode: ic_info_due). */
enum ike_res am_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol;
	struct ike_out *o;
	enum ike_res res;
	int r;

	res = p1_accept(e, sa, m, &pol);
	if (res != IKE_DONE)
		return res;
	r = p1_take_ke_nonce(e, sa, m);
	if (!r)
		r = p1_store_peer_id(e, sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	if (r)
		return ike_res_of(r);
	if (p1_verify_hash(e, sa, m, "message 2") || p1_check_peer_id(e, sa, pol, m))
		return IKE_FAIL;
	r = natt_check_natd(sa, m);
	if (r)
		return IKE_IGNORE;
	natt_float(sa);
	o = malloc(sizeof(*o));
	if (!o)
		return IKE_IGNORE;
	out_begin(o, sa, ISAKMP_XCHG_AGGR, 0);
	r = p1_put_auth(e, sa, pol, &o->c, false);
	if (!r)
		r = natt_add_natd(sa, &o->c);
	if (!r && p1_put_initial_contact(e, sa, &o->c))
		sa->ic_info_due = true;
	/* AM3 encrypted, as strongSwan sends it */
	if (!r)
		r = out_send(e, sa, o, sa->iv, &sa->tx, m->t->retransmit);
	free(o);
	return ike_res_of(r);
}

/* AM3: HASH_I checked, NAT-D, a peer's INITIAL-CONTACT acted on; phase 1
 * is complete. */
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
