/* ikev1_main.c - Main mode with pre-shared keys (RFC 2409 5, 5.4), both
 * roles (the steps it shares with Aggressive mode: ikev1_phase1.c):
 *
 *   Initiator                         Responder
 *   MM1 HDR, SA (+VIDs)          -->
 *                                <--  MM2 HDR, SA (+VIDs)
 *   MM3 HDR, KE, Ni (+NAT-D x2)  -->
 *                                <--  MM4 HDR, KE, Nr (+NAT-D x2)
 *   MM5 HDR*, IDii, HASH_I       -->  (UDP 4500 after a NAT was seen)
 *       (+N INITIAL-CONTACT)
 *                                <--  MM6 HDR*, IDir, HASH_R
 *
 * The responder picks the profile (and so the pre-shared key) by the
 * initiator's address: the profile whose `peer` is that address; failing
 * that, the only `peer any` profile with a Main-mode IKE policy (a second
 * one would make the key ambiguous, so then none is taken). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

/* ---- profile selection (responder) ---- */

static const struct kz_ipsec_profile *mm_select(struct ike_engine *e, struct in_addr peer)
{
	const struct kz_ipsec_profile *any = NULL;
	const struct kz_ike_policy *pol;
	unsigned nany = 0;

	for (size_t i = 0; i < e->cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &e->cfg->profiles.v[i];

		if (!p1_usable(e, p, &pol))
			continue;
		if (p->peer_type == KZ_PEER_ADDR && p->peer_addr.s_addr == peer.s_addr) {
			if (pol->mode == KZ_MODE_MAIN)
				return p;
			eng_fail(e, p->name, IKE_FAIL_NO_PROPOSAL, 1, 0,
				 "%s: the peer uses Main mode, this profile is set to aggressive "
				 "mode",
				 ike_fail_class_name(IKE_FAIL_NO_PROPOSAL));
			return NULL;
		}
		if (p->peer_type == KZ_PEER_ANY && pol->mode == KZ_MODE_MAIN) {
			any = p;
			nany++;
		}
	}
	return nany == 1 ? any : NULL;
}

/* ---- handlers, in the order of the exchange ---- */

/* MM1: the offer, the NAT-T and DPD VIDs. */
int mm_outI1(struct ike_engine *e, struct ike_sa *sa)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);

	return pol ? p1_send_offer(e, sa, pol) : KZ_ENOMEM;
}

/* MM1 -> MM2: the profile by the initiator's address, our choice of its
 * proposals, SAi_b, the NAT-T and DPD VIDs. */
enum ike_res mm_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ipsec_profile *p = mm_select(e, m->peer.sin_addr);
	const struct kz_ike_policy *pol;
	struct ike_out *o;
	enum ike_res res;
	uint8_t pnum;
	int r;

	if (!p) {
		char a[INET_ADDRSTRLEN];

		/* no state and no answer for an unknown peer */
		e->ctr.drop_no_profile++;
		inet_ntop(AF_INET, &m->peer.sin_addr, a, sizeof(a));
		log_debug("ike: Main mode from %s matches no profile, ignored", a);
		return IKE_IGNORE;
	}
	pol = eng_ike_policy(e, p);
	kz_strlcpy(sa->profile, p->name, sizeof(sa->profile));
	res = p1_choose(e, sa, m, pol, &pnum);
	if (res != IKE_DONE)
		return res;
	o = malloc(sizeof(*o));
	if (!o)
		return IKE_IGNORE;
	out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
	r = p1_put_choice(sa, o, pnum);
	natt_add_vids(e, &o->c, sa->natt.on, pol->dpd);
	if (!r)
		r = out_send(e, sa, o, NULL, &sa->tx, m->t->retransmit);
	free(o);
	return ike_res_of(r);
}

/* The peer's KE, nonce and NAT-D, then g^xy and SKEYID (MM3, MM4).  It
 * only reads the message: it runs again when the message comes back with
 * g^xy from the pool. */
static int mm_take_ke(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);
	int r = pol ? p1_take_ke_nonce(e, sa, m) : KZ_ENOENT;

	if (!r)
		r = natt_check_natd(sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	return r;
}

/* Our KE, nonce and NAT-D (MM3, MM4). */
static enum ike_res mm_send_ke(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	struct ike_out *o = malloc(sizeof(*o));
	int r = KZ_ENOMEM;

	if (o) {
		out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
		p1_put_ke_nonce(sa, &o->c);
		r = natt_add_natd(sa, &o->c);
		if (!r)
			r = out_send(e, sa, o, NULL, &sa->tx, m->t->retransmit);
	}
	free(o);
	return ike_res_of(r);
}

/* Our ID and HASH, encrypted; the initiator's MM5 with INITIAL-CONTACT. */
static enum ike_res mm_send_auth(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);
	struct ike_out *o = malloc(sizeof(*o));
	int r = KZ_ENOMEM;

	if (o && pol) {
		out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
		r = p1_put_auth(e, sa, pol, &o->c, true);
		if (!r && sa->initiator)
			(void)p1_put_initial_contact(e, sa, &o->c);
		if (!r)
			r = out_send(e, sa, o, sa->iv, &sa->tx, m->t->retransmit);
	}
	free(o);
	return ike_res_of(r);
}

/* MM2 -> MM3: the responder's choice, our KE and Ni, NAT-D. */
enum ike_res mm_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol;
	enum ike_res res;
	int r;

	res = p1_accept(e, sa, m, &pol);
	if (res != IKE_DONE)
		return res;
	r = p1_make_ke_nonce(e, sa);
	if (r)
		return ike_res_of(r);
	return mm_send_ke(e, sa, m);
}

/* MM3 -> MM4: the initiator's KE and Ni, NAT-D, g^xy and SKEYID; our KE
 * and Nr. */
enum ike_res mm_inI2_outR2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	int r = mm_take_ke(e, sa, m);

	return r ? ike_res_of(r) : mm_send_ke(e, sa, m);
}

/* MM4 -> MM5: the responder's KE and Nr, NAT-D, g^xy and SKEYID; to port
 * 4500 behind a NAT (RFC 3947 4); IDii, HASH_I, INITIAL-CONTACT. */
enum ike_res mm_inR2_outI3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	int r = mm_take_ke(e, sa, m);

	if (r)
		return ike_res_of(r);
	natt_float(sa);
	return mm_send_auth(e, sa, m);
}

/* MM5 -> MM6: IDii and HASH_I checked (the key, then remote-id), a peer's
 * INITIAL-CONTACT acted on; IDir, HASH_R. */
enum ike_res mm_inI3_outR3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);

	if (!pol || p1_store_peer_id(e, sa, m))
		return IKE_IGNORE;
	if (p1_verify_hash(e, sa, m, "message 5")) {
		m->notify = ISAKMP_N_INVALID_HASH_INFORMATION;
		return IKE_FAIL;
	}
	if (p1_check_peer_id(e, sa, pol, m)) {
		m->notify = ISAKMP_N_INVALID_ID_INFORMATION;
		return IKE_FAIL;
	}
	natt_update_peer(sa, m);
	if (p1_has_initial_contact(m))
		info_initial_contact(e, sa);
	return mm_send_auth(e, sa, m);
}

/* MM6: IDir and HASH_R checked; phase 1 is complete. */
enum ike_res mm_inR3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol = p1_policy(e, sa);

	if (!pol || p1_store_peer_id(e, sa, m))
		return IKE_IGNORE;
	if (p1_verify_hash(e, sa, m, "message 6") || p1_check_peer_id(e, sa, pol, m))
		return IKE_FAIL;
	natt_update_peer(sa, m);
	return IKE_DONE;
}
