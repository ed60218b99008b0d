/* ikev1_main.c - Main mode with pre-shared keys (RFC 2409 5, 5.4), both
 * roles, and the phase 1 pieces Aggressive mode shares:
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
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"

/* ---- shared phase 1 pieces ---- */

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
	if (!sa->initiator) {
		/* our KE (g^xr) and Nr, sent in MM4 / AM2 */
		r = ike_dh_public(sa->dh, sa->gxr, n);
		if (!r)
			r = eng_random(e, sa->nr, IKE_NONCE_LEN);
		if (r)
			goto out;
		sa->gxrlen = n;
		sa->nrlen = IKE_NONCE_LEN;
	}
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
	int r;

	if (!n || n > IKE_MAX_DH)
		return KZ_ENOTSUP;
	ike_dh_free(sa->dh);
	sa->dh = eng_dh_keypair(e, sa->p1.group);
	if (!sa->dh)
		return KZ_ENOMEM;
	r = ike_dh_public(sa->dh, sa->gxi, n);
	if (!r)
		r = eng_random(e, sa->ni, IKE_NONCE_LEN);
	if (r)
		return r;
	sa->gxilen = n;
	sa->nilen = IKE_NONCE_LEN;
	return 0;
}

int p1_put_id(struct isakmp_chain *c, const uint8_t *body, size_t len)
{
	if (len < 4)
		return KZ_EINVAL;
	return isakmp_put_id(c, body[0], body[1], (uint16_t)(body[2] << 8 | body[3]), body + 4,
			     len - 4);
}

/* ---- profile selection (responder) ---- */

static bool p1_usable(struct ike_engine *e, const struct kz_ipsec_profile *p,
		      const struct kz_ike_policy **pol)
{
	*pol = eng_ike_policy(e, p);
	return *pol && (*pol)->psk.set && (*pol)->nproposals && eng_ipsec_policy(e, p);
}

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

/* ---- handlers ---- */

static int send_sa_first(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
			 const struct isakmp_sa *offer, bool initiator, struct ike_out *o,
			 uint8_t exch)
{
	size_t start;

	out_begin(o, sa, exch, 0);
	start = o->w.len;
	if (isakmp_put_sa(&o->c, offer))
		return KZ_ENOSPC;
	if (initiator) {
		/* SAi_b: the body of the initiator's SA payload */
		free(sa->sai_b);
		sa->sai_len = o->w.len - start - ISAKMP_GENERIC_LEN;
		sa->sai_b = malloc(sa->sai_len);
		if (!sa->sai_b)
			return KZ_ENOMEM;
		memcpy(sa->sai_b, o->buf + start + ISAKMP_GENERIC_LEN, sa->sai_len);
	}
	(void)e;
	(void)pol;
	return 0;
}

int mm_outI1(struct ike_engine *e, struct ike_sa *sa)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct isakmp_sa *offer = pol ? p1_offer(e, pol, false) : NULL;
	struct ike_out *o = malloc(sizeof(*o));
	int r = KZ_ENOMEM;

	if (!offer || !o)
		goto out;
	r = send_sa_first(e, sa, pol, offer, true, o, ISAKMP_XCHG_IDPROT);
	if (r)
		goto out;
	natt_add_vids(e, &o->c, pol);
	r = out_send(e, sa, o, NULL, &sa->tx, true);
	if (!r)
		sa->state = MM_I1;
out:
	free(offer);
	free(o);
	return r;
}

static int mm_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	const struct kz_ipsec_profile *p = mm_select(e, m->peer.sin_addr);
	const struct kz_ike_policy *pol;
	struct isakmp_sa *peer = NULL, *reply = NULL;
	struct ike_out *o = NULL;
	uint8_t pnum;
	int r = KZ_ENOENT;

	if (!p) {
		char a[INET_ADDRSTRLEN];

		/* no state and no answer for an unknown peer */
		e->ctr.drop_no_profile++;
		inet_ntop(AF_INET, &m->peer.sin_addr, a, sizeof(a));
		log_debug("ike: Main mode from %s matches no profile, ignored", a);
		return KZ_ENOENT;
	}
	pol = eng_ike_policy(e, p);
	kz_strlcpy(sa->profile, p->name, sizeof(sa->profile));
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
	if (r) {
		char ours[256], theirs[256];

		p1_offer_str(e, pol, ours, sizeof(ours));
		p1_peer_str(peer, theirs, sizeof(theirs));
		eng_fail_proposal(e, p->name, 1, ours, theirs);
		eng_notify_plain(e, m, ISAKMP_N_NO_PROPOSAL_CHOSEN);
		goto out;
	}
	r = eng_random(e, sa->rcookie, sizeof(sa->rcookie));
	if (r)
		goto out;
	sa->rcookie[0] |= 1; /* never all zero */
	sa->sai_len = sp->body.len;
	sa->sai_b = malloc(sa->sai_len);
	if (!sa->sai_b) {
		r = KZ_ENOMEM;
		goto out;
	}
	memcpy(sa->sai_b, sp->body.data, sa->sai_len);
	natt_read_vids(sa, m);
	sa->natt.on = pol->natt && (sa->natt.peer_rfc || sa->natt.peer_draft);

	reply = p1_reply(&sa->p1, pnum);
	r = reply ? send_sa_first(e, sa, pol, reply, false, o, ISAKMP_XCHG_IDPROT) : KZ_ENOMEM;
	if (r)
		goto out;
	if (sa->natt.on || pol->dpd) {
		struct kz_ike_policy vp = *pol;

		vp.natt = sa->natt.on;
		natt_add_vids(e, &o->c, &vp);
		kz_wipe(&vp, sizeof(vp));
	}
	r = out_send(e, sa, o, NULL, &sa->tx, false);
out:
	free(peer);
	free(reply);
	free(o);
	return r;
}

static int mm_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct isakmp_sa *reply = calloc(1, sizeof(*reply));
	struct ike_out *o = malloc(sizeof(*o));
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
	if (r) {
		char theirs[256];

		p1_peer_str(reply, theirs, sizeof(theirs));
		eng_fail(e, sa->profile, IKE_FAIL_NO_PROPOSAL, 1, 0,
			 "no proposal chosen: the peer chose %s, which we did not offer", theirs);
		eng_sa_kill(e, sa);
		goto out;
	}
	memcpy(sa->rcookie, m->d.hdr.rcookie, 8);
	natt_read_vids(sa, m);
	sa->natt.on = pol->natt && (sa->natt.peer_rfc || sa->natt.peer_draft);
	r = p1_make_ke_nonce(e, sa);
	if (r)
		goto out;
	out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_KE, sa->gxi, sa->gxilen);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_NONCE, sa->ni, sa->nilen);
	r = natt_add_natd(sa, &o->c);
	if (!r)
		r = out_send(e, sa, o, NULL, &sa->tx, true);
out:
	free(reply);
	free(o);
	return r;
}

static int mm_inI2_outR2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct ike_out *o = malloc(sizeof(*o));
	int r = KZ_ENOMEM;

	if (!o || !pol)
		goto out;
	/* everything before p1_dh runs again when the message comes back
	 * with g^xy from the pool, so it only reads the message */
	r = p1_take_ke_nonce(e, sa, m);
	if (!r)
		r = natt_check_natd(sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	if (r)
		goto out;
	out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_KE, sa->gxr, sa->gxrlen);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_NONCE, sa->nr, sa->nrlen);
	r = natt_add_natd(sa, &o->c);
	if (!r)
		r = out_send(e, sa, o, NULL, &sa->tx, false);
out:
	free(o);
	return r;
}

static int mm_inR2_outI3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct ike_out *o = malloc(sizeof(*o));
	uint8_t hash[IKE_MAX_HASH], spi[16];
	int r = KZ_ENOMEM;

	if (!o || !pol)
		goto out;
	r = p1_take_ke_nonce(e, sa, m);
	if (!r)
		r = natt_check_natd(sa, m);
	if (!r)
		r = p1_dh(e, sa, m, pol);
	if (r)
		goto out;
	/* RFC 3947 4: with a NAT in the path, MM5 goes to port 4500 */
	natt_float(sa);
	sa->idi_len = id_body_local(e, pol, sa, sa->idi_b, sizeof(sa->idi_b));
	r = p1_auth_hash(sa, true, hash);
	if (r)
		goto out;
	out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
	(void)p1_put_id(&o->c, sa->idi_b, sa->idi_len);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, hash, ike_hash_len(sa->p1.hash));
	if (p1_want_initial_contact(e, sa)) {
		memcpy(spi, sa->icookie, 8);
		memcpy(spi + 8, sa->rcookie, 8);
		(void)isakmp_put_notify(&o->c, ISAKMP_PROTO_ISAKMP, spi, 16,
					ISAKMP_N_INITIAL_CONTACT, NULL, 0);
	}
	r = out_send(e, sa, o, sa->iv, &sa->tx, true);
out:
	kz_wipe(hash, sizeof(hash));
	free(o);
	return r;
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
		if (o != sa && !o->dying &&
		    o->peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr &&
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

static int mm_inI3_outR3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	struct ike_out *o = malloc(sizeof(*o));
	uint8_t hash[IKE_MAX_HASH];
	int r = KZ_ENOMEM;

	if (!o || !pol)
		goto out;
	r = p1_store_peer_id(e, sa, m);
	if (r)
		goto out;
	r = p1_verify_hash(e, sa, m, "message 5");
	if (r) {
		eng_notify_plain(e, m, ISAKMP_N_INVALID_HASH_INFORMATION);
		eng_sa_kill(e, sa);
		goto out;
	}
	r = p1_check_peer_id(e, sa, pol, m);
	if (r) {
		eng_notify_plain(e, m, ISAKMP_N_INVALID_ID_INFORMATION);
		eng_sa_kill(e, sa);
		goto out;
	}
	natt_update_peer(sa, m);
	if (p1_has_initial_contact(m))
		info_initial_contact(e, sa);
	sa->idr_len = id_body_local(e, pol, sa, sa->idr_b, sizeof(sa->idr_b));
	r = p1_auth_hash(sa, false, hash);
	if (r)
		goto out;
	out_begin(o, sa, ISAKMP_XCHG_IDPROT, 0);
	(void)p1_put_id(&o->c, sa->idr_b, sa->idr_len);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, hash, ike_hash_len(sa->p1.hash));
	r = out_send(e, sa, o, sa->iv, &sa->tx, false);
	if (!r)
		sa->state = IKE_ST_ESTABLISHED;
out:
	kz_wipe(hash, sizeof(hash));
	free(o);
	return r;
}

static int mm_inR3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	int r;

	if (!pol)
		return KZ_ENOENT;
	r = p1_store_peer_id(e, sa, m);
	if (r)
		return r;
	r = p1_verify_hash(e, sa, m, "message 6");
	if (!r)
		r = p1_check_peer_id(e, sa, pol, m);
	if (r) {
		eng_sa_kill(e, sa);
		return r;
	}
	natt_update_peer(sa, m);
	sa->state = IKE_ST_ESTABLISHED;
	return 0;
}

const struct ike_transition mm_transitions[] = {
	{ IKE_ST_NONE, ISAKMP_XCHG_IDPROT, MM_R1, PBIT(ISAKMP_NP_SA), PBIT(ISAKMP_NP_VID), false,
	  mm_inI1_outR1, "MM1" },
	{ MM_I1, ISAKMP_XCHG_IDPROT, MM_I2, PBIT(ISAKMP_NP_SA), PBIT(ISAKMP_NP_VID), false,
	  mm_inR1_outI2, "MM2" },
	{ MM_R1, ISAKMP_XCHG_IDPROT, MM_R2, PBIT(ISAKMP_NP_KE) | PBIT(ISAKMP_NP_NONCE),
	  P_NATD | PBIT(ISAKMP_NP_VID), false, mm_inI2_outR2, "MM3" },
	{ MM_I2, ISAKMP_XCHG_IDPROT, MM_I3, PBIT(ISAKMP_NP_KE) | PBIT(ISAKMP_NP_NONCE),
	  P_NATD | PBIT(ISAKMP_NP_VID), false, mm_inR2_outI3, "MM4" },
	{ MM_R2, ISAKMP_XCHG_IDPROT, IKE_ST_ESTABLISHED, PBIT(ISAKMP_NP_ID) | PBIT(ISAKMP_NP_HASH),
	  PBIT(ISAKMP_NP_N) | PBIT(ISAKMP_NP_VID), true, mm_inI3_outR3, "MM5" },
	{ MM_I3, ISAKMP_XCHG_IDPROT, IKE_ST_ESTABLISHED, PBIT(ISAKMP_NP_ID) | PBIT(ISAKMP_NP_HASH),
	  PBIT(ISAKMP_NP_N) | PBIT(ISAKMP_NP_VID), true, mm_inR3, "MM6" },
	{ 0 },
};
