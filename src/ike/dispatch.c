/* dispatch.c - a datagram through the engine: one path for every exchange.
 *
 * Order of work (cheap checks first, no DH before a profile and a proposal
 * matched): header -> SA by cookies (or a first message with a zero
 * responder cookie) -> the exchange's own checks: a repeat of the last
 * request is answered again, a message while its g^xy is computed is
 * dropped -> decrypt into scratch memory -> payload digest -> the row of
 * the state table (ikev1_states.c) by exchange, state and role -> the
 * row's payload rules -> handler -> commit: the next state and its
 * deadline (the row's timeout rule), the hash that recognises a repeat,
 * the IV chain.  The chain advances only when the
 * handler accepted the message, so garbage cannot desynchronise an SA.
 *
 * Nothing here runs inside a handler: a message that must wait (a Quick
 * Mode message that overtook the end of phase 1, one whose Diffie-Hellman
 * result came back from the pool) goes on its SA's queue, which is drained
 * after the current message. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

#define IKE_DRAIN_MAX 64u /* queued messages processed at one time */

static const struct ike_transition *find_transition(uint8_t exch, int state, bool initiator,
						    bool encrypted)
{
	for (const struct ike_transition *t = ike_transitions; t->name; t++) {
		if (t->from == IKE_ST_START)
			continue;
		if (t->exch != exch || (t->from != IKE_ST_ANY && t->from != state))
			continue;
		if ((t->role == IKE_ROLE_I && !initiator) || (t->role == IKE_ROLE_R && initiator))
			continue;
		if (t->enc == IKE_ENC_PLAIN && encrypted)
			continue;
		return t;
	}
	return NULL;
}

/* The deadline the row's timeout rule gives what started at start. */
static uint64_t row_deadline(const struct ike_transition *t, uint64_t deadline, uint64_t start)
{
	switch (t->tmo) {
	case IKE_TMO_NONE:
		return 0;
	case IKE_TMO_START:
		return start + t->tmo_ms;
	case IKE_TMO_SAME:
	default:
		return deadline;
	}
}

void eng_started(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q, uint8_t exch)
{
	const struct ike_transition *t;

	(void)e;
	for (t = ike_transitions; t->name; t++)
		if (t->from == IKE_ST_START && t->exch == exch)
			break;
	if (!t->name)
		return;
	if (q) {
		q->state = (enum qm_state)t->to;
		q->deadline_ms = row_deadline(t, q->deadline_ms, q->started_ms);
	} else {
		sa->state = (enum ike_state)t->to;
		sa->deadline_ms = row_deadline(t, sa->deadline_ms, sa->created_ms);
	}
}

static int check_rules(const struct ike_transition *t, const struct ike_msg *m)
{
	uint32_t seen = 0;

	if (t->enc == IKE_ENC_MUST && !m->encrypted) {
		log_debug("ike: %s: must be encrypted, dropped", t->name);
		return KZ_EPROTO;
	}
	if (t->hash_first && (m->d.n == 0 || m->d.p[0].type != ISAKMP_NP_HASH)) {
		log_debug("ike: %s: HASH is not the first payload, dropped", t->name);
		return KZ_EPROTO;
	}
	for (size_t i = 0; i < m->d.n; i++) {
		uint8_t ty = m->d.p[i].type;
		uint32_t b = PBIT(ty);

		if (t->allowed != P_ANY && (!b || !((t->required | t->allowed) & b))) {
			log_debug("ike: %s: unexpected %s payload, dropped", t->name,
				  isakmp_payload_name(ty));
			return KZ_EPROTO;
		}
		if (seen & b & t->once) {
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
	return 0;
}

static bool is_phase1(uint8_t exch)
{
	return exch != ISAKMP_XCHG_QUICK && exch != ISAKMP_XCHG_INFO;
}

/* A first message back with its g^xy that is no longer accepted. */
static void first_again_failed(struct ike_sa *sa, const struct ike_msg *m)
{
	if (sa && sa->state == IKE_ST_NONE && is_phase1(m->d.hdr.exch))
		sa->dying = true;
}

/* ---- the per-SA queue ---- */

void eng_queued_free(struct ike_queued *qd)
{
	free(qd->msg);
	free(qd);
}

void eng_queue(struct ike_engine *e, struct ike_sa *sa, uint8_t *msg, size_t len,
	       const struct sockaddr_in *local, const struct sockaddr_in *peer, bool natt,
	       bool held)
{
	struct ike_queued *qd = calloc(1, sizeof(*qd)), **pp;

	if (!qd) {
		free(msg);
		return;
	}
	qd->msg = msg;
	qd->len = len;
	qd->local = *local;
	qd->peer = *peer;
	qd->natt = natt;
	qd->held = held;
	qd->until = held ? eng_now(e) + IKE_HOLD_QM_MS : 0;
	for (pp = &sa->inq; *pp; pp = &(*pp)->next)
		;
	*pp = qd;
}

static void hold_qm(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t *copy;

	for (struct ike_queued *qd = sa->inq; qd; qd = qd->next)
		if (qd->held) {
			e->ctr.drop_state++;
			return;
		}
	copy = malloc(m->raw_len);
	if (!copy)
		return;
	memcpy(copy, m->raw, m->raw_len);
	eng_queue(e, sa, copy, m->raw_len, &m->local, &m->peer, m->natt, true);
	log_debug("ike: %s message before phase 1 completed: held",
		  isakmp_exch_name(m->d.hdr.exch));
}

/* ---- the checks of each exchange before decryption ---- */

/* Quick Mode: on an established SA (a QM1 that overtook the last phase 1
 * message waits for it), repeats answered again, the IV of the exchange
 * or of a new one.  0: go on with iv_in; 1: m is done with. */
static int qm_pre(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m, uint8_t *iv_in)
{
	const struct isakmp_hdr *h = &m->d.hdr;
	struct ike_qm *q;

	if (sa->state != IKE_ST_ESTABLISHED) {
		if (sa->state == AM_R1 || sa->state == MM_R2)
			hold_qm(e, sa, m);
		else
			e->ctr.drop_state++;
		return 1;
	}
	for (q = sa->qm; q && q->msgid != h->msgid; q = q->next)
		;
	if (q && q->tx.rx_set && !memcmp(q->tx.rx_hash, m->hash, 32)) {
		/* QM1 again: QM2 again; QM2 again (QM3 lost): QM3 again */
		tx_resend(e, sa, &q->tx);
		return 1;
	}
	if (q && q->dhw.job) {
		/* its g(qm)^xy is being computed: no answer to repeat yet */
		e->ctr.drop_dh_pending++;
		return 1;
	}
	if (q) {
		memcpy(iv_in, q->iv, sa->keys.block);
	} else if (h->msgid == 0 || ike_iv_phase2(&sa->keys, sa->p1_last, h->msgid, iv_in)) {
		e->ctr.drop_malformed++;
		return 1;
	}
	m->qm = q;
	return 0;
}

/* Phase 1: message ID 0, a repeat of the last request gets the last
 * answer, nothing while g^xy is computed, the cookies and the mode. */
static int p1_pre(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m, uint8_t *iv_in)
{
	const struct isakmp_hdr *h = &m->d.hdr;

	if (h->msgid != 0) {
		e->ctr.drop_malformed++;
		return 1;
	}
	if (sa->tx.rx_set && !memcmp(sa->tx.rx_hash, m->hash, 32)) {
		/* the responder answers again; an aggressive initiator whose
		 * AM3 was lost sees AM2 again and repeats AM3 */
		if (sa->tx.buf &&
		    (!sa->initiator ||
		     (sa->mode == KZ_MODE_AGGRESSIVE && sa->state == IKE_ST_ESTABLISHED)))
			tx_resend(e, sa, &sa->tx);
		return 1;
	}
	if (sa->dhw.job) {
		/* waits for its g^xy: no answer to repeat yet */
		e->ctr.drop_dh_pending++;
		return 1;
	}
	if (sa->state == IKE_ST_NONE) {
		/* only a first message (AM1) back with its g^xy */
		if (!sa->dhw.done) {
			e->ctr.drop_state++;
			return 1;
		}
		return 0;
	}
	if (!sa->initiator && memcmp(sa->rcookie, h->rcookie, 8)) {
		e->ctr.drop_state++;
		return 1;
	}
	if ((sa->mode == KZ_MODE_AGGRESSIVE) != (h->exch == ISAKMP_XCHG_AGGR)) {
		e->ctr.drop_state++;
		return 1;
	}
	if (m->encrypted)
		memcpy(iv_in, sa->iv, sizeof(sa->iv));
	return 0;
}

static int pre_checks(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m, uint8_t *iv_in)
{
	switch (m->d.hdr.exch) {
	case ISAKMP_XCHG_QUICK:
		return qm_pre(e, sa, m, iv_in);
	case ISAKMP_XCHG_INFO:
		if (m->encrypted && sa->state != IKE_ST_ESTABLISHED) {
			/* The peer's end of phase 1 came before ours (Main
			 * mode: our MM6 or its MM5 still on the way;
			 * Aggressive: its AM3), and a protected Delete it sent
			 * since, say for a settings change, overtook it.
			 * Dropped, it left us an IKE SA the peer had deleted:
			 * both sites initiating at once then each kept a
			 * different one.  Held as a QM1 that overtook AM3 is,
			 * and read once phase 1 is done. */
			if (sa->state == MM_I3 || sa->state == MM_R2 || sa->state == AM_R1)
				hold_qm(e, sa, m);
			else
				e->ctr.drop_state++;
			return 1;
		}
		/* an Informational has an IV of its own and no state */
		if (m->encrypted && ike_iv_phase2(&sa->keys, sa->p1_last, m->d.hdr.msgid, iv_in)) {
			e->ctr.drop_decrypt++;
			return 1;
		}
		return 0;
	default:
		return p1_pre(e, sa, m, iv_in);
	}
}

/* Decrypts the body into *plain with a scratch IV; *iv_out is the chain
 * value after it, to commit only if the message is accepted. */
static int decrypt_body(struct ike_sa *sa, const uint8_t *iv_in, const uint8_t *body, size_t len,
			uint8_t **plain, uint8_t *iv_out)
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

/* The body did not parse. */
static void parse_failed(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	if (sa && m->encrypted && is_phase1(m->d.hdr.exch) && sa->state != IKE_ST_ESTABLISHED) {
		/* RFC 2409 5: a phase 1 message that does not decrypt into a
		 * payload chain means the keys differ, which with pre-shared
		 * keys means the keys themselves (A5.5). */
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
		return;
	}
	e->ctr.drop_malformed++;
	first_again_failed(sa, m);
}

/* A responder SA for a first message that passed its row's rules. */
static struct ike_sa *first_sa(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_sa *sa = eng_sa_new(e, false, NULL);

	if (!sa)
		return NULL;
	memcpy(sa->icookie, m->d.hdr.icookie, 8);
	sa->local = m->local;
	sa->peer = m->peer;
	sa->mode = m->d.hdr.exch == ISAKMP_XCHG_AGGR ? KZ_MODE_AGGRESSIVE : KZ_MODE_MAIN;
	return sa;
}

static void half_open_count(struct ike_engine *e, struct ike_sa *sa)
{
	eng_half_open_add(e, sa);
}

/* What the handler's result does to a Quick Mode exchange. */
static void qm_commit(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m, enum ike_res res,
		      const uint8_t *iv_in)
{
	struct ike_qm *q = m->qm;

	if (res == IKE_DONE) {
		dpd_activity(e, sa);
		if (!q->dying) {
			q->state = (enum qm_state)m->t->to;
			q->deadline_ms = row_deadline(m->t, q->deadline_ms, q->started_ms);
			memcpy(q->tx.rx_hash, m->hash, 32);
			q->tx.rx_set = true;
		}
		return;
	}
	if (res == IKE_SUSPEND && q->state == QM_NONE) {
		/* a new exchange waits for its Diffie-Hellman: it goes by the
		 * row's deadline if the result never comes */
		q->deadline_ms = row_deadline(m->t, q->deadline_ms, q->started_ms);
	} else if (res == IKE_FAIL) {
		if (m->notify)
			(void)info_send_notify(e, sa, ISAKMP_PROTO_ESP, 0, m->notify);
		q->dying = true;
	} else if (res == IKE_IGNORE && q->state == QM_NONE) {
		q->dying = true; /* a new exchange that failed is not kept */
	}
	/* a rejected message must not advance the chain */
	memcpy(q->iv, iv_in, sa->keys.block);
}

/* What the handler's result does to phase 1. */
static void p1_commit(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m, enum ike_res res,
		      int from, const uint8_t *iv_in)
{
	if (res == IKE_DONE && !sa->dying) {
		if (m->t->to != IKE_ST_SAME)
			sa->state = (enum ike_state)m->t->to;
		sa->deadline_ms = row_deadline(m->t, sa->deadline_ms, sa->created_ms);
		memcpy(sa->tx.rx_hash, m->hash, 32);
		sa->tx.rx_set = true;
		if (from == IKE_ST_NONE)
			half_open_count(e, sa);
		else if (sa->state == IKE_ST_ESTABLISHED && from != IKE_ST_ESTABLISHED)
			eng_phase1_done(e, sa);
		return;
	}
	if (res == IKE_SUSPEND && !sa->dying && from == IKE_ST_NONE) {
		/* waits for its g^xy: still half-open, so a flood stays
		 * bounded by the half-open limit while jobs are in flight,
		 * and given up by the row's deadline if it never comes */
		half_open_count(e, sa);
		sa->deadline_ms = row_deadline(m->t, sa->deadline_ms, sa->created_ms);
		return;
	}
	if (res == IKE_FAIL && m->notify)
		eng_notify_plain(e, m, m->notify);
	if (res == IKE_FAIL || from == IKE_ST_NONE)
		sa->dying = true; /* a first message that failed leaves nothing */
	if (m->encrypted && res != IKE_DONE)
		memcpy(sa->iv, iv_in, sa->keys.block);
}

/* The state the row is looked up by: of the Quick Mode exchange, or of
 * phase 1 (none yet for a first message). */
static int state_of(const struct ike_sa *sa, const struct ike_msg *m)
{
	if (m->d.hdr.exch == ISAKMP_XCHG_QUICK)
		return m->qm ? (int)m->qm->state : QM_NONE;
	return sa ? (int)sa->state : IKE_ST_NONE;
}

/* Our role in the exchange m belongs to (a new Quick Mode: the peer's). */
static bool we_initiated(const struct ike_sa *sa, const struct ike_msg *m)
{
	if (m->d.hdr.exch == ISAKMP_XCHG_QUICK)
		return m->qm && m->qm->initiator;
	return sa && sa->initiator;
}

/* m on sa; sa is NULL for a first message (a new responder SA is made
 * once the message passed its row's rules). */
static void dispatch(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	const struct isakmp_hdr *h = &m->d.hdr;
	const uint8_t *body = m->raw + ISAKMP_HDR_LEN;
	size_t blen = h->len - ISAKMP_HDR_LEN;
	uint8_t *plain = NULL, iv_after[IKE_MAX_BLOCK], iv_in[IKE_MAX_BLOCK];
	uint8_t *chain = NULL;
	const struct ike_transition *t;
	enum ike_res res;
	struct buf b;
	int from;

	msg_hash(m->raw, m->raw_len, m->hash);
	m->encrypted = h->flags & ISAKMP_FLAG_ENC;
	if (sa && pre_checks(e, sa, m, iv_in))
		return;
	if (m->encrypted) {
		if (decrypt_body(sa, iv_in, body, blen, &plain, iv_after)) {
			e->ctr.drop_decrypt++;
			goto out;
		}
		buf_init(&b, plain, blen);
	} else {
		buf_init(&b, body, blen);
	}
	if (isakmp_parse_payloads(&b, h->np, &m->d)) {
		parse_failed(e, sa, m);
		goto out;
	}

	from = state_of(sa, m);
	t = find_transition(h->exch, from, we_initiated(sa, m), m->encrypted);
	if (!t) {
		e->ctr.drop_state++;
		log_debug("ike: %s message in state %d matches no transition, dropped",
			  isakmp_exch_name(h->exch), from);
		first_again_failed(sa, m);
		goto out;
	}
	if (check_rules(t, m)) {
		e->ctr.drop_malformed++;
		first_again_failed(sa, m);
		goto out;
	}
	if (!sa && !(sa = first_sa(e, m)))
		goto out;
	if (h->exch == ISAKMP_XCHG_QUICK) {
		if (!m->qm && !(m->qm = eng_qm_new(e, sa, h->msgid)))
			goto out;
		chain = m->qm->iv;
	} else if (is_phase1(h->exch)) {
		chain = sa->iv;
	}
	/* the answer is encrypted from this message's last block on */
	if (m->encrypted && chain)
		memcpy(chain, iv_after, sa->keys.block);
	m->t = t;
	e->fail_src = m->peer.sin_addr;
	e->fail_sa = sa;
	e->fail_decided = false;
	res = t->handler(e, sa, m);
	if (res == IKE_DONE && h->exch != ISAKMP_XCHG_INFO)
		eng_peer_notes(e, sa, m);
	e->fail_src.s_addr = 0;
	e->fail_sa = NULL;
	eng_trace_in(e, sa, m,
		     res == IKE_DONE              ? "accepted"
			     : res == IKE_SUSPEND ? "waits for DH"
			     : res == IKE_FAIL    ? "failed"
						  : "ignored");
	if (h->exch == ISAKMP_XCHG_QUICK)
		qm_commit(e, sa, m, res, iv_in);
	else if (h->exch == ISAKMP_XCHG_INFO)
		sa->dying |= res == IKE_FAIL; /* the peer's error ends phase 1 */
	else
		p1_commit(e, sa, m, res, from, iv_in);
out:
	if (plain) {
		kz_wipe(plain, blen);
		free(plain);
	}
}

static bool first_message_hdr(const struct isakmp_hdr *h)
{
	return is_zero(h->rcookie, 8) && h->msgid == 0 && !(h->flags & ISAKMP_FLAG_ENC) &&
		(h->exch == ISAKMP_XCHG_IDPROT || h->exch == ISAKMP_XCHG_AGGR) &&
		!is_zero(h->icookie, 8);
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

	sa = sa_lookup(e, &m->d.hdr);
	if (sa) {
		dispatch(e, sa, m);
	} else if (first_message_hdr(&m->d.hdr)) {
		if (!eng_admit_first(e, m->peer.sin_addr)) {
			log_debug("ike: half-open limit reached, first message dropped");
		} else {
			/* the handler picks the profile and the proposal before
			 * any DH work; on failure nothing of the message is kept */
			dispatch(e, NULL, m);
		}
	} else if (m->d.hdr.exch == ISAKMP_XCHG_INFO && m->d.hdr.msgid == 0 &&
		   !(m->d.hdr.flags & ISAKMP_FLAG_ENC)) {
		/* a peer that lost its SAs (ikev1_info.c) */
		buf_init(&b, data + ISAKMP_HDR_LEN, m->d.hdr.len - ISAKMP_HDR_LEN);
		info_stray_input(e, m, &b);
	} else {
		e->ctr.drop_unknown_sa++;
		log_debug("ike: %s message for no known SA, dropped",
			  isakmp_exch_name(m->d.hdr.exch));
	}
out:
	free(m);
	eng_reap(e);
}

/* The first message of an SA's queue that may go now. */
static struct ike_queued *queue_take(struct ike_sa *sa)
{
	for (struct ike_queued **pp = &sa->inq, *qd; (qd = *pp); pp = &qd->next)
		if (!qd->held || sa->state == IKE_ST_ESTABLISHED) {
			*pp = qd->next;
			return qd;
		}
	return NULL;
}

void eng_drain(struct ike_engine *e)
{
	for (unsigned n = 0; n < IKE_DRAIN_MAX; n++) {
		struct ike_queued *qd = NULL;

		for (struct ike_sa *sa = e->sas; sa && !qd; sa = sa->next)
			if (!sa->dying)
				qd = queue_take(sa);
		if (!qd)
			return;
		/* a held message counts as received again when it is processed */
		if (qd->held)
			e->ctr.rx++;
		input(e, &qd->local, &qd->peer, qd->msg, qd->len, qd->natt);
		eng_queued_free(qd);
	}
}

void ike_input(struct ike_engine *e, const struct sockaddr_in *local,
	       const struct sockaddr_in *peer, const uint8_t *data, size_t len, bool natt)
{
	e->ctr.rx++;
	input(e, local, peer, data, len, natt);
	eng_drain(e);
}

void eng_phase1_done(struct ike_engine *e, struct ike_sa *sa)
{
	uint64_t now = eng_now(e);
	char a[INET_ADDRSTRLEN];

	eng_half_open_drop(e, sa);
	eng_known_peer(e, sa->peer.sin_addr);
	sa->established_ms = now;
	sa->expire_ms = now + (uint64_t)sa->p1.lifetime * 1000u;
	sa->tx.armed = false;
	/* the last phase 1 CBC block seeds every phase 2 IV (appendix B) */
	memcpy(sa->p1_last, sa->iv, sizeof(sa->p1_last));
	ike_dh_free(sa->dh);
	sa->dh = NULL;
	eng_success(e, sa->profile, sa);
	/* ours is shorter than the initiator's: said under the new SA's
	 * protection, as Cisco IOS does (RFC 2407 4.6.3.1) */
	if (!sa->initiator && sa->p1.respond_life)
		(void)info_send_responder_life(e, sa);
	inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a));
	log_notice("%s: IKE SA established (%s, %s)%s, peer %s:%u, id %s", sa->profile,
		   sa->mode == KZ_MODE_MAIN ? "Main mode" : "Aggressive mode",
		   sa->initiator ? "initiator" : "responder", sa->replaces ? ", rekey" : "", a,
		   ntohs(sa->peer.sin_port), sa->peer_id[0] ? sa->peer_id : "-");
	rekey_ike_new(e, sa);
	/* a rekey of phase 1 starts only pairs that have no IPsec SA */
	if (sa->initiator && (sa->replaces ? qm_outI1(e, sa) : qm_outI1_all(e, sa)) == 0 &&
	    sa->mode == KZ_MODE_AGGRESSIVE) {
		/* QM1 left right behind AM3: a responder that takes them
		 * out of order drops QM1 (strongSwan does, "phase 1 is
		 * incomplete"), so the first retransmission comes early */
		for (struct ike_qm *q = sa->qm; q; q = q->next)
			if (q->tx.armed && q->tx.tries == 1 &&
			    q->tx.next_ms > now + IKE_QM_AFTER_AM3_MS)
				q->tx.next_ms = now + IKE_QM_AFTER_AM3_MS;
	}
	/* a held Quick Mode message goes once this message is done */
}
