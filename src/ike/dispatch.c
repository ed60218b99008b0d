/* dispatch.c - a datagram through the engine: SA lookup, repeats,
 * decryption, the transition tables and the handlers.
 *
 * Order of work for a datagram (cheap checks first, no DH before a profile
 * and a proposal matched): header -> SA by cookies (or a first message
 * with a zero responder cookie) -> repeat of the last request? answer again
 * -> decrypt into scratch memory -> payload digest -> transition row ->
 * payload rules -> handler.  The IV chain is committed only when the
 * handler accepted the message, so garbage cannot desynchronise an SA. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"

static const struct ike_transition *find_transition(const struct ike_transition *t,
						    enum ike_state st)
{
	for (; t->handler; t++)
		if (t->from == st)
			return t;
	return NULL;
}

static int check_rules(struct ike_engine *e, const struct ike_transition *t,
		       const struct ike_msg *m)
{
	uint32_t seen = 0;

	if (t->encrypted && !m->encrypted) {
		log_debug("ike: %s: must be encrypted, dropped", t->name);
		return KZ_EPROTO;
	}
	for (size_t i = 0; i < m->d.n; i++) {
		uint8_t ty = m->d.p[i].type;
		uint32_t b = PBIT(ty);

		if (!b || !((t->required | t->allowed) & b)) {
			log_debug("ike: %s: unexpected %s payload, dropped", t->name,
				  isakmp_payload_name(ty));
			return KZ_EPROTO;
		}
		if ((seen & b) && (ty == ISAKMP_NP_SA || ty == ISAKMP_NP_KE ||
				   ty == ISAKMP_NP_NONCE || ty == ISAKMP_NP_HASH)) {
			log_debug("ike: %s: two %s payloads, dropped", t->name,
				  isakmp_payload_name(ty));
			return KZ_EPROTO;
		}
		seen |= b;
	}
	if ((seen & t->required) != t->required) {
		log_debug("ike: %s: a required payload is missing, dropped", t->name);
		return KZ_EPROTO;
	}
	(void)e;
	return 0;
}

static const struct ike_transition *table_for(uint8_t exch)
{
	return exch == ISAKMP_XCHG_IDPROT ? mm_transitions
	       : exch == ISAKMP_XCHG_AGGR ? am_transitions
					  : NULL;
}

static void hold_qm(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	if (sa->held) {
		e->ctr.drop_state++;
		return;
	}
	sa->held = malloc(m->raw_len);
	if (!sa->held)
		return;
	memcpy(sa->held, m->raw, m->raw_len);
	sa->held_len = m->raw_len;
	sa->held_local = m->local;
	sa->held_peer = m->peer;
	sa->held_natt = m->natt;
	sa->held_until = eng_now(e) + IKE_HOLD_QM_MS;
	log_debug("ike: Quick Mode message before phase 1 completed: held");
}

/* Decrypts the body into *plain with a scratch IV; *iv_out is the chain
 * value after it, to commit only if the message is accepted. */
static int decrypt_body(struct ike_sa *sa, const uint8_t *iv_in, const uint8_t *body,
			size_t len, uint8_t **plain, uint8_t *iv_out)
{
	if (!sa->have_keys || !sa->keys.block || len == 0 || len % sa->keys.block)
		return KZ_EPROTO;
	*plain = malloc(len);
	if (!*plain)
		return KZ_ENOMEM;
	memcpy(*plain, body, len);
	memcpy(iv_out, iv_in, sa->keys.block);
	return ike_decrypt(&sa->keys, iv_out, *plain, len);
}

/* Runs the handler of a first message on its new SA (again, when it
 * waited for Diffie-Hellman). */
static void first_run(struct ike_engine *e, struct ike_sa *sa, const struct ike_transition *t,
		      struct ike_msg *m)
{
	int r = t->handler(e, sa, m);

	if (r == KZ_EINCOMPLETE && !sa->dying) {
		/* waits for its g^xy: still half-open, so a flood stays
		 * bounded by the half-open limit while jobs are in flight */
		if (!sa->half_open) {
			sa->half_open = true;
			e->half_open++;
		}
		return;
	}
	if (r || sa->dying) {
		sa->dying = true;
		return;
	}
	sa->state = t->to;
	if (!sa->half_open) {
		sa->half_open = true;
		e->half_open++;
	}
	msg_hash(m->raw, m->raw_len, sa->tx.rx_hash);
	sa->tx.rx_set = true;
}

static void first_message(struct ike_engine *e, struct ike_msg *m, struct buf *body)
{
	const struct ike_transition *t = find_transition(table_for(m->d.hdr.exch), IKE_ST_NONE);
	struct ike_sa *sa;

	if (!t)
		return;
	if (e->half_open >= IKE_HALF_OPEN_MAX) {
		e->ctr.drop_half_open_limit++;
		log_debug("ike: half-open limit reached, first message dropped");
		return;
	}
	if (isakmp_parse_payloads(body, m->d.hdr.np, &m->d) || check_rules(e, t, m)) {
		e->ctr.drop_malformed++;
		return;
	}
	sa = eng_sa_new(e, false, NULL);
	if (!sa)
		return;
	memcpy(sa->icookie, m->d.hdr.icookie, 8);
	sa->local = m->local;
	sa->peer = m->peer;
	sa->mode = m->d.hdr.exch == ISAKMP_XCHG_AGGR ? KZ_MODE_AGGRESSIVE : KZ_MODE_MAIN;
	/* The handler picks the profile and the proposal before any DH work;
	 * on failure nothing of the message is kept. */
	first_run(e, sa, t, m);
}

static void first_again(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m,
			const uint8_t *body, size_t blen)
{
	const struct ike_transition *t = find_transition(table_for(m->d.hdr.exch), IKE_ST_NONE);
	struct buf b;

	if (!sa->dhw.done || !t) {
		e->ctr.drop_state++;
		return;
	}
	buf_init(&b, body, blen);
	if (isakmp_parse_payloads(&b, m->d.hdr.np, &m->d) || check_rules(e, t, m)) {
		e->ctr.drop_malformed++;
		sa->dying = true;
		return;
	}
	first_run(e, sa, t, m);
}

static void dispatch(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct isakmp_hdr *h = &m->d.hdr;
	const uint8_t *body = m->raw + ISAKMP_HDR_LEN;
	size_t blen = h->len - ISAKMP_HDR_LEN;
	uint8_t *plain = NULL, iv_after[IKE_MAX_BLOCK], iv_in[IKE_MAX_BLOCK], rxh[32];
	const struct ike_transition *t;
	struct buf b;
	int r;

	msg_hash(m->raw, m->raw_len, rxh);
	m->encrypted = h->flags & ISAKMP_FLAG_ENC;

	if (h->exch == ISAKMP_XCHG_QUICK) {
		struct ike_qm *q;

		if (sa->state != IKE_ST_ESTABLISHED) {
			if ((sa->state == AM_R1 || sa->state == MM_R2) && !e->reentry)
				hold_qm(e, sa, m);
			else
				e->ctr.drop_state++;
			return;
		}
		for (q = sa->qm; q && q->msgid != h->msgid; q = q->next)
			;
		if (q && q->tx.rx_set && !memcmp(q->tx.rx_hash, rxh, 32)) {
			/* QM1 again: QM2 again; QM2 again (QM3 lost): QM3 again */
			tx_resend(e, sa, &q->tx);
			return;
		}
		if (q && q->dhw.job) {
			/* its g^xy is being computed: no answer to repeat yet */
			e->ctr.drop_dh_pending++;
			return;
		}
		if (q)
			memcpy(iv_in, q->iv, sa->keys.block);
		else if (h->msgid == 0 ||
			 ike_iv_phase2(&sa->keys, sa->p1_last, h->msgid, iv_in)) {
			e->ctr.drop_malformed++;
			return;
		}
		m->qm = q;
	} else if (h->exch == ISAKMP_XCHG_INFO) {
		if (!m->encrypted) {
			buf_init(&b, body, blen);
			if (isakmp_parse_payloads(&b, h->np, &m->d)) {
				e->ctr.drop_malformed++;
				return;
			}
			info_plain_input(e, sa, m);
			return;
		}
		if (ike_iv_phase2(&sa->keys, sa->p1_last, h->msgid, iv_in)) {
			e->ctr.drop_decrypt++;
			return;
		}
	} else {
		/* phase 1: a repeat of the last request gets the last answer */
		if (h->msgid != 0) {
			e->ctr.drop_malformed++;
			return;
		}
		if (sa->tx.rx_set && !memcmp(sa->tx.rx_hash, rxh, 32)) {
			/* the responder answers again; an aggressive initiator
			 * whose AM3 was lost sees AM2 again and repeats AM3 */
			if (sa->tx.buf && (!sa->initiator || (sa->mode == KZ_MODE_AGGRESSIVE &&
							      sa->state == IKE_ST_ESTABLISHED)))
				tx_resend(e, sa, &sa->tx);
			return;
		}
		if (sa->dhw.job) {
			/* waits for its g^xy: no answer to repeat yet */
			e->ctr.drop_dh_pending++;
			return;
		}
		if (sa->state == IKE_ST_NONE) {
			/* a first message (AM1) back with its g^xy */
			first_again(e, sa, m, body, blen);
			return;
		}
		if (!sa->initiator && memcmp(sa->rcookie, h->rcookie, 8)) {
			e->ctr.drop_state++;
			return;
		}
		if ((sa->mode == KZ_MODE_AGGRESSIVE) != (h->exch == ISAKMP_XCHG_AGGR)) {
			e->ctr.drop_state++;
			return;
		}
		if (m->encrypted)
			memcpy(iv_in, sa->iv, sizeof(iv_in));
	}

	if (m->encrypted) {
		r = decrypt_body(sa, iv_in, body, blen, &plain, iv_after);
		if (r) {
			e->ctr.drop_decrypt++;
			goto out;
		}
		buf_init(&b, plain, blen);
	} else {
		buf_init(&b, body, blen);
	}
	r = isakmp_parse_payloads(&b, h->np, &m->d);
	if (r) {
		if (m->encrypted && h->exch != ISAKMP_XCHG_QUICK && h->exch != ISAKMP_XCHG_INFO &&
		    sa->state != IKE_ST_ESTABLISHED) {
			/* RFC 2409 5: a phase 1 message that does not decrypt
			 * into a payload chain means the keys differ, which with
			 * pre-shared keys means the keys themselves (A5.5). */
			e->ctr.drop_decrypt++;
			eng_fail(e, sa->profile, IKE_FAIL_PSK_MISMATCH, 1, 0,
				 "%s: the peer's %s did not decrypt into a valid payload chain "
				 "(pre-shared keys differ?)",
				 ike_fail_class_name(IKE_FAIL_PSK_MISMATCH),
				 sa->mode == KZ_MODE_MAIN ? (sa->initiator ? "message 6" : "message 5")
							  : "message 3");
			if (!sa->initiator) {
				eng_notify_plain(e, m, ISAKMP_N_PAYLOAD_MALFORMED);
				eng_sa_kill(e, sa);
			}
		} else {
			e->ctr.drop_malformed++;
		}
		goto out;
	}

	if (h->exch == ISAKMP_XCHG_QUICK) {
		if (!m->qm) {
			m->qm = eng_qm_new(e, sa, h->msgid);
			if (!m->qm)
				goto out;
			memcpy(m->qm->iv, iv_in, sa->keys.block);
		}
		/* the reply is encrypted from this message's last block on */
		memcpy(m->qm->iv, iv_after, sa->keys.block);
		r = qm_input(e, sa, m);
		if (r == 0)
			dpd_activity(e, sa);
		if (r == 0 && !m->qm->dying) {
			msg_hash(m->raw, m->raw_len, m->qm->tx.rx_hash);
			m->qm->tx.rx_set = true;
		} else if (r == KZ_EINCOMPLETE && !m->qm->dying) {
			/* processed again from the top when g^xy is back */
			memcpy(m->qm->iv, iv_in, sa->keys.block);
		} else if (m->qm->state == QM_NONE) {
			m->qm->dying = true;
		} else {
			memcpy(m->qm->iv, iv_in, sa->keys.block);
		}
		goto out;
	}
	if (h->exch == ISAKMP_XCHG_INFO) {
		(void)info_input(e, sa, m);
		goto out;
	}

	t = find_transition(table_for(h->exch), sa->state);
	if (!t) {
		e->ctr.drop_state++;
		log_debug("ike: %s message in state %d matches no transition, dropped",
			  isakmp_exch_name(h->exch), sa->state);
		goto out;
	}
	if (check_rules(e, t, m)) {
		e->ctr.drop_malformed++;
		goto out;
	}
	if (m->encrypted)
		memcpy(sa->iv, iv_after, sa->keys.block);
	{
		enum ike_state from = sa->state;

		r = t->handler(e, sa, m);
		if (r == 0 && !sa->dying) {
			if (sa->state == from)
				sa->state = t->to;
			msg_hash(m->raw, m->raw_len, sa->tx.rx_hash);
			sa->tx.rx_set = true;
			if (sa->state == IKE_ST_ESTABLISHED && from != IKE_ST_ESTABLISHED)
				eng_phase1_done(e, sa);
		} else if (m->encrypted) {
			/* a rejected message must not advance the chain */
			memcpy(sa->iv, iv_in, sa->keys.block);
		}
	}
out:
	if (plain) {
		kz_wipe(plain, blen);
		free(plain);
	}
}

static void input(struct ike_engine *e, const struct sockaddr_in *local,
		  const struct sockaddr_in *peer, const uint8_t *data, size_t len, bool natt)
{
	struct ike_msg *m;
	struct ike_sa *sa;
	struct buf b;

	if (!e->cfg) {
		e->ctr.drop_no_profile++;
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return;
	buf_init(&b, data, len);
	if (isakmp_parse_hdr(&b, &m->d.hdr) || m->d.hdr.len < ISAKMP_HDR_LEN ||
	    m->d.hdr.len > len) {
		e->ctr.drop_malformed++;
		log_debug("ike: malformed ISAKMP header, dropped");
		goto out;
	}
	m->raw = data;
	m->raw_len = m->d.hdr.len;
	m->local = *local;
	m->peer = *peer;
	m->natt = natt;
	buf_init(&b, data + ISAKMP_HDR_LEN, m->d.hdr.len - ISAKMP_HDR_LEN);

	sa = sa_lookup(e, &m->d.hdr);
	if (!sa) {
		if (is_zero(m->d.hdr.rcookie, 8) && m->d.hdr.msgid == 0 &&
		    !(m->d.hdr.flags & ISAKMP_FLAG_ENC) &&
		    (m->d.hdr.exch == ISAKMP_XCHG_IDPROT || m->d.hdr.exch == ISAKMP_XCHG_AGGR) &&
		    !is_zero(m->d.hdr.icookie, 8)) {
			first_message(e, m, &b);
		} else if (m->d.hdr.exch == ISAKMP_XCHG_INFO && m->d.hdr.msgid == 0 &&
			   !(m->d.hdr.flags & ISAKMP_FLAG_ENC)) {
			/* a peer that lost its SAs (ikev1_info.c) */
			info_stray_input(e, m, &b);
		} else {
			e->ctr.drop_unknown_sa++;
			log_debug("ike: %s message for no known SA, dropped",
				  isakmp_exch_name(m->d.hdr.exch));
		}
		goto out;
	}
	dispatch(e, sa, m);
out:
	free(m);
	eng_reap(e);
}

void ike_input(struct ike_engine *e, const struct sockaddr_in *local,
	       const struct sockaddr_in *peer, const uint8_t *data, size_t len, bool natt)
{
	e->ctr.rx++;
	input(e, local, peer, data, len, natt);
}

void eng_input_again(struct ike_engine *e, const struct sockaddr_in *local,
		     const struct sockaddr_in *peer, const uint8_t *data, size_t len, bool natt)
{
	input(e, local, peer, data, len, natt);
}

void eng_phase1_done(struct ike_engine *e, struct ike_sa *sa)
{
	uint64_t now = eng_now(e);

	if (sa->half_open) {
		sa->half_open = false;
		if (e->half_open)
			e->half_open--;
	}
	sa->established_ms = now;
	sa->expire_ms = now + (uint64_t)sa->p1.lifetime * 1000u;
	sa->deadline_ms = 0;
	sa->tx.armed = false;
	/* the last phase 1 CBC block seeds every phase 2 IV (appendix B) */
	memcpy(sa->p1_last, sa->iv, sizeof(sa->p1_last));
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	eng_success(e, sa->profile, sa);
	log_info("%s: IKE SA established (%s, %s)%s", sa->profile,
		 sa->mode == KZ_MODE_MAIN ? "Main mode" : "Aggressive mode",
		 sa->initiator ? "initiator" : "responder", sa->replaces ? ", rekey" : "");
	rekey_ike_new(e, sa);
	/* a rekey of phase 1 leaves the IPsec SAs as they are */
	if (sa->initiator && (!sa->replaces || !profile_has_child(e, sa->profile)) &&
	    qm_outI1(e, sa) == 0 && sa->mode == KZ_MODE_AGGRESSIVE) {
		/* QM1 left right behind AM3: a responder that takes them
		 * out of order drops QM1 (strongSwan does, "phase 1 is
		 * incomplete"), so the first retransmission comes early */
		for (struct ike_qm *q = sa->qm; q; q = q->next)
			if (q->tx.armed && q->tx.tries == 1 && q->tx.next_ms > now + IKE_QM_AFTER_AM3_MS)
				q->tx.next_ms = now + IKE_QM_AFTER_AM3_MS;
	}
	if (sa->held) {
		uint8_t *held = sa->held;
		size_t n = sa->held_len;
		struct sockaddr_in l = sa->held_local, p = sa->held_peer;
		bool natt = sa->held_natt;

		sa->held = NULL;
		e->reentry++;
		ike_input(e, &l, &p, held, n, natt);
		e->reentry--;
		free(held);
	}
}
