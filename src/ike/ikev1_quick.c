/* ikev1_quick.c - Quick Mode (RFC 2409 5.5), both roles:
 *
 *   QM1 HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
 *                    <--  QM2 HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]
 *   QM3 HDR*, HASH(3)                                -->
 *
 *   HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
 *   HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
 *   HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
 *
 * The IDs are ID_IPV4_ADDR_SUBNET, one selector pair of the IPsec policy
 * per Quick Mode (selectors.c); the responder requires them within one of
 * its pairs (else INVALID-ID-INFORMATION, A5.3).  KEYMAT per direction uses the SPI of the
 * receiver of that direction: our inbound keys come from our own SPI.  The
 * initiator installs the pair after QM2, the responder after QM3. */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

/* prf(SKEYID_a, [0 |] M-ID | parts...) */
static int qm_hash(const struct ike_sa *sa, bool zero, uint32_t msgid, const struct ike_chunk *x,
		   size_t nx, uint8_t *out)
{
	struct ike_chunk c[6];
	uint8_t z = 0, mid[4];
	size_t n = 0;

	mid[0] = (uint8_t)(msgid >> 24);
	mid[1] = (uint8_t)(msgid >> 16);
	mid[2] = (uint8_t)(msgid >> 8);
	mid[3] = (uint8_t)msgid;
	if (zero)
		c[n++] = (struct ike_chunk){ &z, 1 };
	c[n++] = (struct ike_chunk){ mid, 4 };
	for (size_t i = 0; i < nx && n < 6; i++)
		c[n++] = x[i];
	return ike_prf(sa->keys.hash, sa->keys.skeyid_a, sa->keys.hlen, c, n, out);
}

/* Verifies the HASH payload that starts m; extra is Ni_b for HASH(2). */
static int qm_verify(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
		     const uint8_t *extra, size_t extralen)
{
	const struct isakmp_payload *h = &m->d.p[0];
	uint8_t want[IKE_MAX_HASH];
	struct ike_chunk c[2];
	size_t n = 0, hl = ike_hash_len(sa->p1.hash);
	const uint8_t *rest;
	size_t restlen;

	if (m->d.n < 1 || h->type != ISAKMP_NP_HASH || h->body.len != hl)
		return KZ_EPROTO;
	msg_after_hash(m, &rest, &restlen);
	if (extra)
		c[n++] = (struct ike_chunk){ extra, extralen };
	c[n++] = (struct ike_chunk){ rest, restlen };
	if (qm_hash(sa, false, m->d.hdr.msgid, c, n, want))
		return KZ_EINVAL;
	if (CRYPTO_memcmp(want, h->body.data, hl)) {
		e->ctr.drop_hash++;
		log_debug("%s: Quick Mode HASH did not verify, dropped", sa->profile);
		return KZ_EPROTO;
	}
	return 0;
}

/* Builds HDR*, HASH(placeholder) ...; returns where the HASH body is, for
 * qm_seal. */
static long qm_begin(struct ike_out *o, const struct ike_sa *sa, uint32_t msgid)
{
	static const uint8_t zero[IKE_MAX_HASH];
	long at;

	out_begin(o, sa, ISAKMP_XCHG_QUICK, msgid);
	at = (long)o->w.len + ISAKMP_GENERIC_LEN;
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, zero, ike_hash_len(sa->p1.hash));
	return at;
}

static int qm_seal(const struct ike_sa *sa, struct ike_out *o, long at, uint32_t msgid,
		   const uint8_t *extra, size_t extralen)
{
	size_t hl = ike_hash_len(sa->p1.hash), from = (size_t)at + hl;
	struct ike_chunk c[2];
	size_t n = 0;

	if (o->w.overflow)
		return KZ_ENOSPC;
	if (extra)
		c[n++] = (struct ike_chunk){ extra, extralen };
	c[n++] = (struct ike_chunk){ o->buf + from, o->w.len - from };
	return qm_hash(sa, false, msgid, c, n, o->buf + at);
}

static uint32_t new_spi(struct ike_engine *e)
{
	uint32_t spi = 0;

	/* SPIs below 256 are reserved (RFC 4303 2.1) */
	while (spi < 256)
		if (eng_random(e, &spi, sizeof(spi)))
			return 0;
	return spi;
}

/* The initiator's PFS key pair and KE for QM1 (RFC 2409 5.5). */
static int qm_pfs_ke(struct ike_engine *e, struct ike_qm *q, uint8_t *pub, size_t *publen)
{
	*publen = 0;
	if (q->p2.pfs == KZ_GROUP_NONE)
		return 0;
	*publen = ike_dh_pub_len(q->p2.pfs);
	if (!*publen || *publen > IKE_MAX_DH)
		return KZ_ENOTSUP;
	ike_dh_free(q->dh);
	q->dh = eng_dh_keypair(e, q->p2.pfs);
	return q->dh ? ike_dh_public(q->dh, pub, *publen) : KZ_ENOMEM;
}

/* g(qm)^xy with the peer's KE; as responder our key pair is made with it
 * and its KE goes to pub (QM2).  KZ_EINCOMPLETE / KZ_EBUSY as
 * eng_dh_step: the handler stops and runs again with the result. */
static int qm_pfs_shared(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q,
			 const struct ike_msg *m, uint8_t *pub, size_t *publen)
{
	const struct isakmp_payload *ke = isakmp_find(&m->d, ISAKMP_NP_KE);
	size_t n = ike_dh_pub_len(q->p2.pfs);
	int r;

	if (publen)
		*publen = 0;
	if (q->p2.pfs == KZ_GROUP_NONE)
		return ke ? KZ_EPROTO : 0;
	if (!ke || !n || n > IKE_MAX_DH || ke->body.len != n ||
	    (q->initiator && !q->dh && !q->dhw.done))
		return KZ_EPROTO;
	q->gqmlen = sizeof(q->gqm);
	r = eng_dh_step(e, sa, q, m, q->p2.pfs, &q->dh, ke->body.data, ke->body.len, q->gqm,
			&q->gqmlen);
	if (r) {
		q->gqmlen = 0;
		return r;
	}
	if (!publen)
		return 0;
	*publen = n;
	return ike_dh_public(q->dh, pub, n);
}

static int take_nonce(const struct ike_msg *m, uint8_t *dst, size_t *len)
{
	const struct isakmp_payload *no = isakmp_find(&m->d, ISAKMP_NP_NONCE);

	if (!no || no->body.len < 8 || no->body.len > IKE_MAX_NONCE)
		return KZ_EPROTO;
	memcpy(dst, no->body.data, no->body.len);
	*len = no->body.len;
	return 0;
}

/* KEYMAT for both directions and the hand-over to the data plane. */
static int qm_install(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q)
{
	const struct kz_ipsec_profile *p = eng_profile(e, sa->profile);
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, p);
	const struct kz_if_ipsec *ifc = e->cfg ? kz_find_if_mapping(e->cfg, sa->profile) : NULL;
	size_t ek = esp_enc_keylen(q->p2.enc), ak = esp_auth_keylen(q->p2.auth);
	struct ike_child *c = kz_key_alloc(sizeof(*c)); /* holds the ESP keys */
	uint8_t km[KZ_CHILD_MAX_ENC_KEY + KZ_CHILD_MAX_AUTH_KEY];
	struct kz_child_sa *d[2];
	int r = KZ_ENOMEM;

	if (!c || !ipol)
		goto out;
	d[0] = &c->in;
	d[1] = &c->out;
	for (int i = 0; i < 2; i++) {
		struct kz_child_sa *s = d[i];
		uint32_t spi = i == 0 ? q->spi_in : q->spi_out;

		/* KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)...;
		 * the ESP cipher key comes first, the integrity key after it */
		r = ike_keymat(&sa->keys, q->gqmlen ? q->gqm : NULL, q->gqmlen, ISAKMP_PROTO_ESP,
			       spi, q->ni, q->nilen, q->nr, q->nrlen, km, ek + ak);
		if (r)
			goto out;
		s->dir = i == 0 ? KZ_CHILD_IN : KZ_CHILD_OUT;
		s->spi = spi;
		s->ipsec_unit = ifc ? ifc->unit : 0;
		s->ike_serial = sa->serial;
		s->enc = q->p2.enc;
		s->auth = q->p2.auth;
		memcpy(s->enc_key, km, ek);
		s->enc_key_len = ek;
		memcpy(s->auth_key, km + ek, ak);
		s->auth_key_len = ak;
		s->replay_window = ipol->replay_window;
		s->local = sa->local;
		s->peer = sa->peer;
		s->udp_encap = q->p2.encap != IPSEC_ENCAP_TUNNEL;
		if (!s->udp_encap)
			s->local.sin_port = s->peer.sin_port = 0;
		s->local_ts = q->lts;
		s->remote_ts = q->rts;
		s->ts_proto = q->ts_proto;
		s->ts_lport = q->ts_lport;
		s->ts_rport = q->ts_rport;
		s->life_seconds = q->p2.life_s;
		s->life_kbytes = q->p2.life_kb;
		s->created_ms = eng_now(e);
	}
	kz_strlcpy(c->profile, sa->profile, sizeof(c->profile));
	c->initiator = q->initiator;
	c->life_src = q->p2.life_src;
	c->expire_ms = eng_now(e) + (uint64_t)q->p2.life_s * 1000u;
	c->next = e->children;
	e->children = c;
	rekey_child_hold(e, c);
	if (e->io.child_up)
		e->io.child_up(e->io.arg, &c->in, &c->out);
	rekey_child_new(e, c);
	c = NULL;
	q->tx.armed = false;
	sa->phase2_count++;
	{
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a));
		log_notice("%s: IPsec SA established (in spi 0x%08x, out spi 0x%08x), peer %s:%u, "
			   "id %s",
			   sa->profile, q->spi_in, q->spi_out, a, ntohs(sa->peer.sin_port),
			   sa->peer_id[0] ? sa->peer_id : "-");
	}
	r = 0;
out:
	kz_wipe(km, sizeof(km));
	kz_key_free(c, sizeof(*c));
	/* KEYMAT is made: the exchange's secrets are no longer needed */
	kz_wipe(q->gqm, sizeof(q->gqm));
	ike_dh_free(q->dh);
	q->dh = NULL;
	return r;
}

int qm_outI1_sel(struct ike_engine *e, struct ike_sa *sa, const struct kz_selector *sel)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, sa->profile));
	struct isakmp_sa *offer = NULL;
	struct ike_out *o = malloc(sizeof(*o));
	uint8_t pub[IKE_MAX_DH];
	size_t publen;
	uint32_t msgid = 0;
	struct ike_qm *q;
	long at;
	int r = KZ_ENOMEM;

	if (!o || !ipol)
		goto out;
	while (msgid == 0)
		if ((r = eng_random(e, &msgid, sizeof(msgid))))
			goto out;
	q = eng_qm_new(e, sa, msgid);
	if (!q) {
		r = KZ_ENOMEM;
		goto out;
	}
	q->initiator = true;
	eng_started(e, sa, q, ISAKMP_XCHG_QUICK);
	q->p2.pfs = ipol->pfs;
	q->spi_in = new_spi(e);
	q->lts = sel->local;
	q->rts = sel->remote;
	q->ts_proto = sel->proto;
	q->ts_lport = sel->lport;
	q->ts_rport = sel->rport;
	r = ike_iv_phase2(&sa->keys, sa->p1_last, msgid, q->iv);
	if (!r)
		r = eng_random(e, q->ni, IKE_NONCE_LEN);
	if (!r)
		r = qm_pfs_ke(e, q, pub, &publen);
	if (r || !q->spi_in)
		goto fail;
	q->nilen = IKE_NONCE_LEN;
	offer = p2_offer(e, ipol, natt_encap_mode(sa), q->spi_in);
	if (!offer) {
		r = KZ_EINVAL;
		goto fail;
	}
	at = qm_begin(o, sa, msgid);
	(void)isakmp_put_sa(&o->c, offer);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_NONCE, q->ni, q->nilen);
	if (publen)
		(void)isakmp_put_payload(&o->c, ISAKMP_NP_KE, pub, publen);
	(void)ts_put(&o->c, &q->lts, q->ts_proto, q->ts_lport);
	(void)ts_put(&o->c, &q->rts, q->ts_proto, q->ts_rport);
	r = qm_seal(sa, o, at, msgid, NULL, 0);
	if (!r)
		r = out_send(e, sa, o, q->iv, &q->tx, true);
	if (!r)
		goto out;
fail:
	q->dying = true;
out:
	isakmp_sa_free(offer);
	free(o);
	return r;
}

enum ike_res qm_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, sa->profile));
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	struct ike_qm *q = m->qm;
	struct isakmp_sa *peer = isakmp_sa_new(), *reply = NULL;
	struct ike_out *o = malloc(sizeof(*o));
	const struct isakmp_payload *ids[2] = { NULL, NULL };
	struct ts_side ci = { 0 }, cr = { 0 };
	struct kz_selector asked = { 0 }, use = { 0 };
	char rci[40], rcr[40];
	int rci_r = 0, rcr_r = 0;
	uint8_t pub[IKE_MAX_DH], pnum, tnum;
	size_t publen, nid = 0;
	long at;
	int r = KZ_ENOMEM;

	if (!peer || !o || !ipol)
		goto out;
	r = qm_verify(e, sa, m, NULL, 0);
	if (r)
		goto out;
	q->initiator = false;
	for (size_t i = 0; i < m->d.n; i++)
		if (m->d.p[i].type == ISAKMP_NP_ID && nid < 2)
			ids[nid++] = &m->d.p[i];
	if (nid == 2) {
		rci_r = ts_parse(ids[0], &ci, rci, sizeof(rci));
		rcr_r = ts_parse(ids[1], &cr, rcr, sizeof(rcr));
	}
	if (isakmp_count(&m->d, ISAKMP_NP_ID) == 1 || take_nonce(m, q->ni, &q->nilen) ||
	    rci_r == KZ_EPROTO || rcr_r == KZ_EPROTO) {
		e->ctr.drop_malformed++;
		r = KZ_EPROTO;
		goto out;
	}
	if (rci_r || rcr_r) {
		/* an address range that is no prefix: refused, and said so */
		char asked_s[96];
		struct ike_prof_rt *rt;

		snprintf(asked_s, sizeof(asked_s), "IDci %s, IDcr %s", rci_r ? rci : "(prefix)",
			 rcr_r ? rcr : "(prefix)");
		eng_fail(e, sa->profile, IKE_FAIL_TS_MISMATCH, 2, 0,
			 "traffic selectors: the peer sent an address range that is not a "
			 "prefix (%s); only prefixes can be taken",
			 asked_s);
		ike_seen_ts_text(e, sa->profile, rci_r ? rci : NULL, rcr_r ? rcr : NULL);
		rt = eng_prof_rt(e, sa->profile);
		if (rt) {
			kz_strlcpy(rt->st.id_received, asked_s, sizeof(rt->st.id_received));
			ts_pairs_str(e, sa, rt->st.id_expected, sizeof(rt->st.id_expected));
		}
		m->notify = ISAKMP_N_INVALID_ID_INFORMATION;
		goto out;
	}
	/* the peer's IDci is our remote network, its IDcr our local one */
	if (nid == 2) {
		ike_seen_ts(e, sa->profile, &ci.net, &cr.net);
		asked.local = cr.net;
		asked.remote = ci.net;
		asked.proto = ci.proto;
		asked.lport = cr.port;
		asked.rport = ci.port;
	} else {
		/* no IDs: the gateways themselves, as the first pair */
		struct kz_selector pairs[KZ_MAX_PAIRS];

		if (!ts_pairs(e, sa, pairs)) {
			r = KZ_EINVAL;
			goto out;
		}
		asked = pairs[0];
	}
	if ((nid == 2 && ci.proto != cr.proto) || ts_choose(e, sa, &asked, &use)) {
		char asked_s[96], ours[160];
		struct ike_prof_rt *rt;

		kz_selector_str(&asked, asked_s, sizeof(asked_s));
		ts_pairs_str(e, sa, ours, sizeof(ours));
		eng_fail(e, sa->profile, IKE_FAIL_TS_MISMATCH, 2, 0,
			 "traffic selectors not mirrored: the peer asked for local %s "
			 "(seen from here), our IPsec policy has %s",
			 asked_s, ours);
		rt = eng_prof_rt(e, sa->profile);
		if (rt) {
			kz_strlcpy(rt->st.id_received, asked_s, sizeof(rt->st.id_received));
			kz_strlcpy(rt->st.id_expected, ours, sizeof(rt->st.id_expected));
		}
		m->notify = ISAKMP_N_INVALID_ID_INFORMATION;
		goto out;
	}
	q->lts = use.local;
	q->rts = use.remote;
	q->ts_proto = use.proto;
	q->ts_lport = use.lport;
	q->ts_rport = use.rport;
	r = isakmp_parse_sa(&sp->body, peer);
	if (r == 0) {
		char offered[256];

		p2_peer_str(peer, offered, sizeof(offered));
		ike_seen_offer(e, sa->profile, 2, false, offered);
		r = p2_match(e, ipol, peer, sa, &q->p2, &q->spi_out, &pnum, &tnum);
	}
	if (r) {
		char ours[256], theirs[256];
		enum kz_group tg;

		p2_offer_str(e, ipol, ours, sizeof(ours));
		p2_peer_str(peer, theirs, sizeof(theirs));
		if (r == KZ_ENOENT && p2_pfs_only(e, ipol, peer, sa, &tg))
			eng_fail_pfs(e, sa->profile, ours, theirs, ipol->pfs, tg);
		else
			eng_fail_proposal(e, sa->profile, 2, ours, theirs);
		m->notify = ISAKMP_N_NO_PROPOSAL_CHOSEN;
		goto out;
	}
	/* everything above runs again when the message comes back with
	 * g(qm)^xy from the pool; the SPI and Nr are drawn after it, once */
	r = qm_pfs_shared(e, sa, q, m, pub, &publen);
	if (r) {
		if (!eng_dh_later(r))
			e->ctr.drop_malformed++;
		goto out;
	}
	q->spi_in = new_spi(e);
	r = eng_random(e, q->nr, IKE_NONCE_LEN);
	if (r || !q->spi_in)
		goto out;
	q->nrlen = IKE_NONCE_LEN;
	reply = p2_reply(&q->p2, q->spi_in, pnum, tnum);
	if (!reply) {
		r = KZ_ENOMEM;
		goto out;
	}
	at = qm_begin(o, sa, q->msgid);
	(void)isakmp_put_sa(&o->c, reply);
	if (q->p2.respond_life) /* ours is shorter than the initiator's */
		(void)p_put_responder_life(&o->c, sa, false, q->spi_in, q->p2.life_s,
					   q->p2.life_kb);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_NONCE, q->nr, q->nrlen);
	if (publen)
		(void)isakmp_put_payload(&o->c, ISAKMP_NP_KE, pub, publen);
	if (nid == 2) {
		/* the selectors in force, as IDci / IDcr */
		(void)ts_put(&o->c, &q->rts, q->ts_proto, q->ts_rport);
		(void)ts_put(&o->c, &q->lts, q->ts_proto, q->ts_lport);
	}
	r = qm_seal(sa, o, at, q->msgid, q->ni, q->nilen);
	if (!r)
		r = out_send(e, sa, o, q->iv, &q->tx, m->t->retransmit);
out:
	isakmp_sa_free(peer);
	isakmp_sa_free(reply);
	free(o);
	return m->notify ? IKE_FAIL : ike_res_of(r);
}

/* The responder's IDci / IDcr in QM2: equal to ours, or narrower (taken);
 * anything else fails the exchange (recorded).  None: ours stand. */
static int qm_reply_ids(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q,
			const struct ike_msg *m)
{
	const struct isakmp_payload *ids[2] = { NULL, NULL };
	struct ts_side ci, cr;
	struct kz_selector ours = { q->lts, q->rts, q->ts_proto, q->ts_lport, q->ts_rport };
	struct kz_selector got = { 0 };
	char a[128], b[128];
	size_t nid = 0;

	for (size_t i = 0; i < m->d.n; i++)
		if (m->d.p[i].type == ISAKMP_NP_ID && nid < 2)
			ids[nid++] = &m->d.p[i];
	if (nid != 2)
		return 0;
	if (ts_parse(ids[0], &ci, NULL, 0) || ts_parse(ids[1], &cr, NULL, 0) ||
	    ci.proto != cr.proto)
		goto bad;
	got.local = ci.net;
	got.remote = cr.net;
	got.proto = ci.proto;
	got.lport = ci.port;
	got.rport = cr.port;
	if (kz_selector_equal(&got, &ours))
		return 0;
	if (kz_prefix_within(&got.local, &ours.local) &&
	    kz_prefix_within(&got.remote, &ours.remote) &&
	    (!ours.proto || got.proto == ours.proto) && (!ours.lport || got.lport == ours.lport) &&
	    (!ours.rport || got.rport == ours.rport)) {
		eng_sa_log(KZ_LOG_INFO, sa, "%s: the peer narrowed the selectors of the Quick Mode",
			   sa->profile);
		q->lts = got.local;
		q->rts = got.remote;
		q->ts_proto = got.proto;
		q->ts_lport = got.lport;
		q->ts_rport = got.rport;
		return 0;
	}
bad:
	kz_selector_str(&got, a, sizeof(a));
	kz_selector_str(&ours, b, sizeof(b));
	eng_fail(e, sa->profile, IKE_FAIL_TS_MISMATCH, 2, 0,
		 "traffic selectors: the peer answered with %s, which is not within ours (%s)", a,
		 b);
	return KZ_EPROTO;
}

enum ike_res qm_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, sa->profile));
	const struct isakmp_payload *sp = isakmp_find(&m->d, ISAKMP_NP_SA);
	struct ike_qm *q = m->qm;
	struct isakmp_sa *reply = isakmp_sa_new();
	struct ike_out *o = malloc(sizeof(*o));
	uint8_t h3[IKE_MAX_HASH];
	struct ike_chunk c[2];
	enum ike_res res = IKE_IGNORE;
	int r = KZ_ENOMEM;

	if (!reply || !o || !ipol)
		goto out;
	r = qm_verify(e, sa, m, q->ni, q->nilen);
	if (r)
		goto out;
	r = take_nonce(m, q->nr, &q->nrlen);
	if (r)
		goto out;
	if (qm_reply_ids(e, sa, q, m)) {
		res = IKE_FAIL;
		goto out;
	}
	r = isakmp_parse_sa(&sp->body, reply);
	if (!r) {
		char chosen[256];

		p2_peer_str(reply, chosen, sizeof(chosen));
		ike_seen_offer(e, sa->profile, 2, true, chosen);
		r = p2_from_reply(e, ipol, reply, sa, &q->p2, &q->spi_out);
		if (!r)
			p2_peer_life(e, sa, q, m);
	}
	if (r) {
		char theirs[256];

		p2_peer_str(reply, theirs, sizeof(theirs));
		eng_fail(e, sa->profile, IKE_FAIL_NO_PROPOSAL, 2, 0,
			 "no proposal chosen: the peer chose %s, which we did not offer", theirs);
		res = IKE_FAIL;
		goto out;
	}
	q->p2.pfs = ipol->pfs;
	r = qm_pfs_shared(e, sa, q, m, NULL, NULL);
	if (r) {
		if (!eng_dh_later(r))
			e->ctr.drop_malformed++;
		goto out;
	}
	/* HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) */
	c[0] = (struct ike_chunk){ q->ni, q->nilen };
	c[1] = (struct ike_chunk){ q->nr, q->nrlen };
	r = qm_hash(sa, true, q->msgid, c, 2, h3);
	if (r)
		goto out;
	/* Install before QM3 leaves: the responder installs on QM3 and may
	 * send on the new pair at once; its first packets must find our
	 * inbound SA in the data plane, not race its publication. */
	r = qm_install(e, sa, q);
	if (r)
		goto out;
	/* installed: the exchange is done, whatever becomes of QM3 */
	res = IKE_DONE;
	out_begin(o, sa, ISAKMP_XCHG_QUICK, q->msgid);
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, h3, ike_hash_len(sa->p1.hash));
	r = out_send(e, sa, o, q->iv, &q->tx, m->t->retransmit);
	/* The peer has finished phase 1 (it answered QM1), so an
	 * Informational cannot overtake AM3 any more */
	if (!r && sa->ic_info_due) {
		sa->ic_info_due = false;
		(void)info_send_initial_contact(e, sa);
	}
out:
	isakmp_sa_free(reply);
	free(o);
	return res != IKE_IGNORE ? res : ike_res_of(r);
}

enum ike_res qm_inI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	struct ike_qm *q = m->qm;
	const struct isakmp_payload *h = &m->d.p[0];
	uint8_t want[IKE_MAX_HASH];
	struct ike_chunk c[2] = { { q->ni, q->nilen }, { q->nr, q->nrlen } };
	size_t hl = ike_hash_len(sa->p1.hash);

	if (qm_hash(sa, true, q->msgid, c, 2, want))
		return IKE_IGNORE;
	if (h->body.len != hl || CRYPTO_memcmp(want, h->body.data, hl)) {
		e->ctr.drop_hash++;
		return IKE_IGNORE;
	}
	return qm_install(e, sa, q) ? IKE_IGNORE : IKE_DONE;
}
