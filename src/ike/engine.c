/* engine.c - the core of the IKEv1 engine: SA tables by cookies, datagram
 * dispatch through the transition tables, retransmission and repeats,
 * timers, profile selection helpers and the initiator's
 * back-off.
 *
 * Order of work for a datagram (cheap checks first, no DH before a profile
 * and a proposal matched): header -> SA by cookies (or a first message
 * with a zero responder cookie) -> repeat of the last request? answer again
 * -> decrypt into scratch memory -> payload digest -> transition row ->
 * payload rules -> handler.  The IV chain is committed only when the
 * handler accepted the message, so garbage cannot desynchronise an SA. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "exchange.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"

/* ---- small helpers ---- */

static bool profile_has_child(struct ike_engine *e, const char *name);

uint64_t eng_now(struct ike_engine *e)
{
	return e->io.now_ms(e->io.arg);
}

int eng_random(struct ike_engine *e, void *buf, size_t len)
{
	return e->io.random(e->io.arg, buf, len);
}

const struct kz_ipsec_profile *eng_profile(struct ike_engine *e, const char *name)
{
	return e->cfg ? kz_find_profile(e->cfg, name) : NULL;
}

const struct kz_ike_policy *eng_ike_policy(struct ike_engine *e, const struct kz_ipsec_profile *p)
{
	return p && e->cfg && p->ike_policy[0] ? kz_find_ike_policy(e->cfg, p->ike_policy) : NULL;
}

const struct kz_ipsec_policy *eng_ipsec_policy(struct ike_engine *e,
					       const struct kz_ipsec_profile *p)
{
	return p && e->cfg && p->ipsec_policy[0] ? kz_find_ipsec_policy(e->cfg, p->ipsec_policy)
						 : NULL;
}

struct ike_prof_rt *eng_prof_rt(struct ike_engine *e, const char *name)
{
	for (size_t i = 0; i < e->nprof; i++)
		if (!strcmp(e->prof[i].st.profile, name))
			return &e->prof[i];
	return NULL;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void msg_hash(const uint8_t *p, size_t len, uint8_t out[32])
{
	struct ike_chunk c = { p, len };

	if (ike_hash(KZ_HASH_SHA2_256, &c, 1, out))
		memset(out, 0, 32);
}

/* ---- identities ---- */

struct ike_sa *eng_sa_new(struct ike_engine *e, bool initiator, const char *profile)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->serial = ++e->next_serial;
	sa->initiator = initiator;
	kz_strlcpy(sa->profile, profile ? profile : "", sizeof(sa->profile));
	sa->created_ms = eng_now(e);
	/* an initiator gives up through its retransmissions ("no answer");
	 * a responder drops a half-open SA after a while */
	sa->deadline_ms = initiator ? 0 : sa->created_ms + IKE_HALF_OPEN_MS;
	sa->next = e->sas;
	e->sas = sa;
	return sa;
}

void tx_clear(struct ike_tx *tx)
{
	free(tx->buf);
	memset(tx, 0, sizeof(*tx));
}

static void qm_free(struct ike_engine *e, struct ike_qm *q)
{
	eng_dh_wait_clear(e, &q->dhw);
	ike_dh_free(q->dh);
	tx_clear(&q->tx);
	kz_wipe(q, sizeof(*q));
	free(q);
}

void eng_sa_kill(struct ike_engine *e, struct ike_sa *sa)
{
	(void)e;
	sa->dying = true;
}

static void sa_free(struct ike_engine *e, struct ike_sa *sa)
{
	struct ike_qm *q, *qn;

	if (sa->half_open && e->half_open)
		e->half_open--;
	for (q = sa->qm; q; q = qn) {
		qn = q->next;
		qm_free(e, q);
	}
	eng_dh_wait_clear(e, &sa->dhw);
	ike_dh_free(sa->dh);
	tx_clear(&sa->tx);
	free(sa->sai_b);
	free(sa->held);
	kz_wipe(sa, sizeof(*sa));
	free(sa);
}

struct ike_qm *eng_qm_new(struct ike_engine *e, struct ike_sa *sa, uint32_t msgid)
{
	struct ike_qm *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->msgid = msgid;
	q->deadline_ms = eng_now(e) + IKE_HALF_OPEN_MS;
	q->next = sa->qm;
	sa->qm = q;
	return q;
}

void eng_reap(struct ike_engine *e)
{
	struct ike_sa **pp = &e->sas, *sa;
	struct ike_child **cp = &e->children, *c;

	if (e->reentry)
		return;
	while ((sa = *pp)) {
		struct ike_qm **qp = &sa->qm, *q;

		while ((q = *qp)) {
			if (q->dying || sa->dying) {
				*qp = q->next;
				qm_free(e, q);
			} else {
				qp = &q->next;
			}
		}
		if (sa->dying) {
			*pp = sa->next;
			sa_free(e, sa);
		} else {
			pp = &sa->next;
		}
	}
	while ((c = *cp)) {
		if (c->dying) {
			*cp = c->next;
			kz_wipe(c, sizeof(*c));
			free(c);
		} else {
			cp = &c->next;
		}
	}
}

/* ---- building and sending ---- */

void out_begin(struct ike_out *o, const struct ike_sa *sa, uint8_t exch, uint32_t msgid)
{
	struct isakmp_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, ISAKMP_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, ISAKMP_COOKIE_LEN);
	h.version = ISAKMP_VERSION;
	h.exch = exch;
	h.msgid = msgid;
	wbuf_init(&o->w, o->buf, sizeof(o->buf));
	(void)isakmp_put_hdr(&o->w, &h);
	isakmp_chain_init(&o->c, &o->w);
}

static int io_send(struct ike_engine *e, const struct sockaddr_in *local,
		   const struct sockaddr_in *peer, const uint8_t *p, size_t len)
{
	e->ctr.tx++;
	return e->io.send(e->io.arg, local, peer, p, len, ntohs(local->sin_port) == 4500);
}

/* When the next transmission of tx is due.  A send that failed here (the
 * WAN has its new address but not yet its route: ENETUNREACH) never
 * reached the peer, so it is tried again soon and not counted against the
 * peer's retransmission limit; after IKE_RETRANS_LOCAL_MAX such failures
 * it counts, so a WAN that stays unusable still ends in "no answer". */
static void tx_schedule(struct ike_engine *e, struct ike_tx *tx, int sent)
{
	uint64_t now = eng_now(e);

	if (sent < 0 && tx->local_fails < IKE_RETRANS_LOCAL_MAX) {
		tx->local_fails++;
		tx->tries--;
		tx->next_ms = now + IKE_RETRANS_LOCAL_MS;
		return;
	}
	tx->next_ms = now + ((uint64_t)IKE_RETRANS_FIRST_MS << (tx->tries - 1));
}

int out_send(struct ike_engine *e, struct ike_sa *sa, struct ike_out *o, uint8_t *iv,
	     struct ike_tx *tx, bool await_reply)
{
	int sent;

	if (o->w.overflow || o->w.len < ISAKMP_HDR_LEN)
		return KZ_ENOSPC;
	o->buf[16] = o->c.first;
	if (iv) {
		/* RFC 2408 3.1: the body is padded to the cipher block with
		 * zeros and encrypted; the header stays in the clear. */
		size_t bl = sa->keys.block, body = o->w.len - ISAKMP_HDR_LEN;
		static const uint8_t zero[IKE_MAX_BLOCK];

		if (bl && body % bl)
			(void)wbuf_put_bytes(&o->w, zero, bl - body % bl);
		if (o->w.overflow)
			return KZ_ENOSPC;
		o->buf[19] |= ISAKMP_FLAG_ENC;
		if (ike_encrypt(&sa->keys, iv, o->buf + ISAKMP_HDR_LEN, o->w.len - ISAKMP_HDR_LEN))
			return KZ_EINVAL;
	}
	if (wbuf_patch_u32(&o->w, 24, (uint32_t)o->w.len))
		return KZ_ENOSPC;
	sent = io_send(e, &sa->local, &sa->peer, o->buf, o->w.len);
	if (tx) {
		uint8_t *copy = malloc(o->w.len);

		if (!copy)
			return KZ_ENOMEM;
		memcpy(copy, o->buf, o->w.len);
		free(tx->buf);
		tx->buf = copy;
		tx->len = o->w.len;
		tx->local = sa->local;
		tx->peer = sa->peer;
		tx->armed = await_reply;
		e->armed_in_timers |= await_reply;
		tx->tries = 1;
		tx->local_fails = 0;
		tx_schedule(e, tx, sent);
	}
	return 0;
}

static int tx_resend(struct ike_engine *e, struct ike_sa *sa, struct ike_tx *tx)
{
	if (!tx->buf)
		return 0;
	e->ctr.retransmits++;
	/* follow the peer if NAT-T moved it */
	return io_send(e, &sa->local, &sa->peer, tx->buf, tx->len);
}

void msg_after_hash(const struct ike_msg *m, const uint8_t **p, size_t *len)
{
	const struct isakmp_payload *last;

	if (m->d.n < 2) {
		*p = NULL;
		*len = 0;
		return;
	}
	last = &m->d.p[m->d.n - 1];
	*p = m->d.p[1].raw;
	*len = (size_t)(last->raw + last->raw_len - m->d.p[1].raw);
}

/* At most one unprotected notify per IKE_NOTIFY_RATE_MS, whatever made
 * it: a flood of bad first messages or of stale ESP must not make us a
 * reflector. */
bool eng_plain_notify_allowed(struct ike_engine *e)
{
	return !e->notify_sent || eng_now(e) - e->last_notify_ms >= IKE_NOTIFY_RATE_MS;
}

/* An unprotected Informational notify with the cookies and addresses of
 * tmp; the caller asked eng_plain_notify_allowed() first. */
void eng_plain_notify_send(struct ike_engine *e, struct ike_sa *tmp, uint8_t proto,
			   const void *spi, uint8_t spilen, uint16_t type)
{
	struct ike_out *o = malloc(sizeof(*o));

	if (!o)
		return;
	e->notify_sent = true;
	e->last_notify_ms = eng_now(e);
	out_begin(o, tmp, ISAKMP_XCHG_INFO, 0);
	(void)isakmp_put_notify(&o->c, proto, spi, spilen, type, NULL, 0);
	(void)out_send(e, tmp, o, NULL, NULL, false);
	free(o);
}

void eng_notify_plain(struct ike_engine *e, const struct ike_msg *m, uint16_t type)
{
	struct ike_sa tmp;
	uint8_t spi[16];

	if (!eng_plain_notify_allowed(e))
		return;
	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.icookie, m->d.hdr.icookie, 8);
	memcpy(tmp.rcookie, m->d.hdr.rcookie, 8);
	tmp.local = m->local;
	tmp.peer = m->peer;
	memcpy(spi, tmp.icookie, 8);
	memcpy(spi + 8, tmp.rcookie, 8);
	eng_plain_notify_send(e, &tmp, ISAKMP_PROTO_ISAKMP, spi, 16, type);
}

/* ---- dispatch ---- */

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

static struct ike_sa *sa_lookup(struct ike_engine *e, const struct isakmp_hdr *h)
{
	bool rzero = is_zero(h->rcookie, 8);

	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || memcmp(sa->icookie, h->icookie, 8))
			continue;
		if (!memcmp(sa->rcookie, h->rcookie, 8))
			return sa;
		/* a repeated first message: the responder answers it again */
		if (!sa->initiator && rzero)
			return sa;
		/* our first message is answered with the responder's cookie;
		 * a phase 1 notify may still carry zero */
		if (sa->initiator && (is_zero(sa->rcookie, 8) || rzero))
			return sa;
	}
	return NULL;
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
	log_debug("ike: %s message before phase 1 completed: held",
		  isakmp_exch_name(m->d.hdr.exch));
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
		if (sa->state != IKE_ST_ESTABLISHED) {
			/* The peer's end of phase 1 came before ours (Main mode:
			 * our MM6 or its MM5 still on the way; Aggressive: its
			 * AM3), and a protected Delete it sent since, say for a
			 * settings change, overtook it.  Dropped, it left us an
			 * IKE SA the peer had deleted: both sites initiating at
			 * once then each kept a different one.  Held as a QM1
			 * that overtook AM3 is, and read once phase 1 is done. */
			if ((sa->state == MM_I3 || sa->state == MM_R2 || sa->state == AM_R1) &&
			    !e->reentry)
				hold_qm(e, sa, m);
			else
				e->ctr.drop_state++;
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

/* ---- timers ---- */

static void next_min(int64_t *next, uint64_t at, uint64_t now)
{
	int64_t d = at > now ? (int64_t)(at - now) : 0;

	if (*next < 0 || d < *next)
		*next = d;
}

void eng_next_min(int64_t *next, uint64_t at, uint64_t now)
{
	next_min(next, at, now);
}

static bool tx_due(struct ike_engine *e, struct ike_sa *sa, struct ike_tx *tx, uint64_t now,
		   int64_t *next)
{
	if (!tx->armed)
		return false;
	if (now >= tx->next_ms) {
		if (tx->tries >= IKE_RETRANS_TRIES) {
			tx->armed = false;
			return true; /* no answer */
		}
		tx->tries++;
		tx_schedule(e, tx, tx_resend(e, sa, tx));
	}
	next_min(next, tx->next_ms, now);
	return false;
}

static const char *state_msg_name(const struct ike_sa *sa)
{
	switch (sa->state) {
	case MM_I1:
		return "Main mode message 1";
	case MM_I2:
		return "Main mode message 3";
	case MM_I3:
		return "Main mode message 5";
	case MM_R1:
		return "Main mode message 2";
	case MM_R2:
		return "Main mode message 4";
	case AM_I1:
		return "Aggressive mode message 1";
	case AM_R1:
		return "Aggressive mode message 2";
	default:
		return "the last message";
	}
}

static bool profile_wants_auto(struct ike_engine *e, const struct kz_ipsec_profile *p)
{
	const struct kz_if_ipsec *ifc;

	if ((p->peer_type != KZ_PEER_ADDR && p->peer_type != KZ_PEER_FQDN) ||
	    p->initiate != KZ_INITIATE_AUTO)
		return false;
	ifc = kz_find_if_mapping(e->cfg, p->name);
	return ifc && !ifc->shutdown;
}

static bool profile_has_sa(struct ike_engine *e, const char *name)
{
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && !strcmp(sa->profile, name))
			return true;
	return false;
}

static bool profile_has_child(struct ike_engine *e, const char *name)
{
	for (struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && !strcmp(c->profile, name))
			return true;
	return false;
}

/* Something of the profile is being negotiated. */
static bool profile_busy(struct ike_engine *e, const char *name)
{
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || strcmp(sa->profile, name))
			continue;
		if (sa->state != IKE_ST_ESTABLISHED)
			return true;
		for (struct ike_qm *q = sa->qm; q; q = q->next)
			if (!q->dying && q->state != QM_DONE)
				return true;
	}
	return false;
}

/* Simultaneous initiation leaves two IPsec SA pairs for the same
 * selectors (config-language.md): the pair whose initiator has the lower
 * WAN address survives; the other one's initiator deletes its pair once
 * the survivor carries traffic, or IKE_DEDUP_GRACE_MS after the survivor
 * was made (the peer installed it before it sent the QM3 that made it
 * here; waiting for traffic alone can wait forever when the peer sends on
 * the newer, doomed pair). */
static void dedup_children(struct ike_engine *e, uint64_t now, int64_t *next)
{
	for (struct ike_child *c = e->children; c; c = c->next) {
		/* a rekey's successor, or a pair already being replaced, is
		 * no duplicate */
		if (c->dying || !c->initiator || c->successor || c->retire_ms ||
		    ntohl(c->out.local.sin_addr.s_addr) < ntohl(c->out.peer.sin_addr.s_addr))
			continue;
		for (struct ike_child *d = e->children; d; d = d->next) {
			struct kz_child_stats st = { 0 };
			uint64_t grace = d->in.created_ms + IKE_DEDUP_GRACE_MS;

			if (d == c || d->dying || d->initiator || d->retire_ms ||
			    strcmp(d->profile, c->profile) ||
			    !kz_prefix_equal(&d->in.local_ts, &c->in.local_ts) ||
			    !kz_prefix_equal(&d->in.remote_ts, &c->in.remote_ts))
				continue;
			if (e->io.child_stats)
				e->io.child_stats(e->io.arg, d->in.spi, KZ_CHILD_IN, &st);
			else
				st.packets = 1;
			if (st.packets || now >= grace) {
				log_info("%s: duplicate IPsec SA pair (spi 0x%08x) deleted, the "
					 "pair the peer started is kept",
					 c->profile, c->in.spi);
				child_remove(e, c, true);
				break;
			}
			next_min(next, grace, now);
		}
	}
}

int64_t ike_run_timers(struct ike_engine *e)
{
	uint64_t now = eng_now(e);
	int64_t next = -1;

	e->armed_in_timers = false;
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		uint64_t at;

		if (sa->dying)
			continue;
		if (tx_due(e, sa, &sa->tx, now, &next)) {
			if (sa->initiator)
				eng_fail(e, sa->profile, IKE_FAIL_NO_ANSWER, 1, sa->peer_notify,
					 "no answer: %s retransmitted %u times without a reply",
					 state_msg_name(sa), IKE_RETRANS_TRIES);
			else
				log_debug("%s: no answer to %s, half-open SA removed",
					  sa->profile, state_msg_name(sa));
			eng_sa_kill(e, sa);
			continue;
		}
		if (sa->state != IKE_ST_ESTABLISHED && sa->deadline_ms) {
			if (now >= sa->deadline_ms) {
				eng_sa_kill(e, sa);
				continue;
			}
			next_min(&next, sa->deadline_ms, now);
		}
		if (sa->state == IKE_ST_ESTABLISHED && sa->expire_ms) {
			if (now >= sa->expire_ms) {
				log_info("%s: IKE SA expired", sa->profile);
				(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
				eng_sa_kill(e, sa);
				continue;
			}
			next_min(&next, sa->expire_ms, now);
		}
		if (sa->state == IKE_ST_ESTABLISHED) {
			dpd_run(e, sa, now, &next);
			if (sa->dying)
				continue;
		}
		if (sa->held) {
			if (now >= sa->held_until) {
				free(sa->held);
				sa->held = NULL;
				e->ctr.drop_state++;
			} else {
				next_min(&next, sa->held_until, now);
			}
		}
		for (struct ike_qm *q = sa->qm; q; q = q->next) {
			if (q->dying)
				continue;
			if (tx_due(e, sa, &q->tx, now, &next)) {
				if (q->initiator)
					eng_fail(e, sa->profile, IKE_FAIL_NO_ANSWER, 2, 0,
						 "no answer: Quick Mode message 1 retransmitted %u "
						 "times without a reply",
						 IKE_RETRANS_TRIES);
				q->dying = true;
				continue;
			}
			/* A finished exchange stays only to answer the peer's
			 * retransmissions; an IKE SA living for hours with
			 * frequent IPsec rekeys would otherwise pile them up. */
			at = q->deadline_ms + (q->state == QM_DONE ? IKE_QM_DONE_KEEP_MS : 0u);
			if (now >= at)
				q->dying = true;
			else
				next_min(&next, at, now);
		}
	}
	rekey_run(e, now, &next);
	for (struct ike_child *c = e->children; c; c = c->next) {
		if (c->dying)
			continue;
		if (now >= c->expire_ms) {
			/* a pair already replaced may reach its hard lifetime
			 * inside the overlap (the rekey came late) */
			if (c->retire_ms)
				log_info("%s: old IPsec SA spi 0x%08x deleted after rekey "
					 "(hard lifetime)", c->profile, c->in.spi);
			else
				log_info("%s: IPsec SA spi 0x%08x expired", c->profile, c->in.spi);
			child_remove(e, c, true);
		} else {
			next_min(&next, c->expire_ms, now);
		}
	}
	eng_reap(e);
	dedup_children(e, now, &next);
	if (e->cfg) {
		for (size_t i = 0; i < e->cfg->profiles.n; i++) {
			const struct kz_ipsec_profile *p = &e->cfg->profiles.v[i];
			struct ike_prof_rt *rt = eng_prof_rt(e, p->name);

			if (!rt || !profile_wants_auto(e, p))
				continue;
			/* an auto profile with nothing up and nothing under way
			 * comes back by itself (SA expired, deleted, or only a
			 * responder SA without IPsec SAs) */
			if (!rt->retry_at && !profile_busy(e, p->name) &&
			    !profile_has_child(e, p->name))
				rt->retry_at = rt->last_try_ms + 1000 > now ? rt->last_try_ms + 1000
									   : now;
			if (!rt->retry_at)
				continue;
			if (now >= rt->retry_at) {
				rt->retry_at = 0;
				rt->last_try_ms = now;
				if (!profile_busy(e, p->name))
					(void)ike_initiate(e, p->name);
			}
			if (rt->retry_at)
				next_min(&next, rt->retry_at, now);
		}
		eng_reap(e);
	}
	/* An exchange started here (a retry, a rekey, a renegotiation after
	 * DPD) armed a retransmission the SA walk above did not see: run
	 * again at once so its deadline counts; the daemon arms its timer
	 * from the value returned only. */
	if (e->armed_in_timers)
		next_min(&next, now, now);
	return next;
}

/* ---- the public API ---- */

struct ike_engine *ike_engine_new(const struct ike_io *io)
{
	struct ike_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->io = *io;
	return e;
}

void ike_engine_free(struct ike_engine *e)
{
	if (!e)
		return;
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		sa->dying = true;
	for (struct ike_child *c = e->children; c; c = c->next)
		c->dying = true;
	e->reentry = 0;
	eng_reap(e);
	free(e->prof);
	free(e);
}

/* The WAN address came, went or changed (the daemon calls
 * ike_engine_set_config on every link event).  SAs made from another
 * address, or before the link went away, are of no use: a carrier that
 * hands out a new address also gives a new NAT mapping, and after a link
 * loss the peer may have moved on.  A profile that can initiate drops its
 * SAs without Delete (the old address cannot send it) and negotiates again
 * at once, with INITIAL-CONTACT, so the peer replaces the stale SAs now
 * rather than after DPD.  A responder only drops what the new address made
 * useless. */
static void wan_check(struct ike_engine *e)
{
	struct in_addr la = e->io.local_addr ? e->io.local_addr(e->io.arg) : (struct in_addr){ 0 };
	bool back = e->wan_known && e->wan.s_addr == 0;
	char a[INET_ADDRSTRLEN];

	if (!e->wan_known || la.s_addr == e->wan.s_addr) {
		e->wan = la;
		e->wan_known = true;
		return;
	}
	e->wan = la;
	if (la.s_addr == 0) {
		log_warn("%s has no usable address: its SAs are down until it comes back",
			 KZ_MOBILE_IFNAME);
		return;
	}
	inet_ntop(AF_INET, &la, a, sizeof(a));
	log_info("%s: %s %s: SAs are made again from it", KZ_MOBILE_IFNAME,
		 back ? "back with address" : "new address", a);
	for (size_t i = 0; e->cfg && i < e->cfg->profiles.n; i++) {
		const char *name = e->cfg->profiles.v[i].name;
		bool init = eng_profile_is_initiator(e, name), had = false;
		struct ike_prof_rt *rt = eng_prof_rt(e, name);

		for (struct ike_child *c = e->children; c; c = c->next)
			if (!c->dying && !strcmp(c->profile, name) &&
			    (init || c->out.local.sin_addr.s_addr != la.s_addr)) {
				had = true;
				child_remove(e, c, false);
			}
		for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
			if (!sa->dying && !strcmp(sa->profile, name) &&
			    (init || sa->local.sin_addr.s_addr != la.s_addr)) {
				had = true;
				sa->dying = true;
			}
		if (!init || !rt)
			continue;
		/* no back-off left over from the time without a WAN */
		rt->backoff_ms = 0;
		rt->retry_at = 0;
		if (had)
			rt->wan_restart = true;
	}
	eng_reap(e);
}

/* The settings of a profile (prof_hash.c) against those its SAs were made
 * with.  A first look only records them; a failure to compute leaves the
 * old fingerprint, so an allocation failure never tears a tunnel down. */
static void prof_fp_update(struct ike_engine *e, struct ike_prof_rt *rt, const char *name)
{
	uint8_t fp[IKE_PROF_FP_LEN];

	if (ike_prof_fingerprint(e->cfg, name, fp) < 0)
		return;
	if (rt->fp_set && CRYPTO_memcmp(rt->fp, fp, sizeof(fp)))
		rt->fp_changed = true;
	memcpy(rt->fp, fp, sizeof(fp));
	rt->fp_set = true;
}

/* A reload or a console change gave the profile other settings: SAs made
 * with the old ones go now, as `clear` does it (Delete for each IPsec SA
 * while the IKE SA that protects the Deletes is still up, then Delete for
 * the IKE SA, RFC 2408 4.8), and an initiator negotiates at once with the
 * new ones, without back-off left from the old settings.  Other profiles
 * are not touched. */
static void prof_settings_changed(struct ike_engine *e, struct ike_prof_rt *rt)
{
	const char *name = rt->st.profile;
	bool had = false;

	rt->fp_changed = false;
	for (struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && !strcmp(c->profile, name)) {
			had = true;
			child_remove(e, c, true);
		}
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && !strcmp(sa->profile, name)) {
			had = true;
			if (sa->state == IKE_ST_ESTABLISHED)
				(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
			sa->dying = true;
		}
	if (had)
		log_info("%s: settings changed: its SAs are negotiated again", name);
	else
		log_debug("%s: settings changed", name);
	rt->backoff_ms = 0;
	rt->retry_at = 0;
	rt->last_try_ms = 0;
	/* on-demand profiles too, when they had SAs: traffic was flowing */
	if (had && eng_profile_is_initiator(e, name))
		rt->wan_restart = true;
}

bool ike_wan_down(const struct ike_engine *e)
{
	return e->wan_known && e->wan.s_addr == 0;
}

void ike_engine_set_config(struct ike_engine *e, const struct kz_config *cfg)
{
	size_t n = 0;

	e->cfg = cfg;
	for (size_t i = 0; i < e->nprof; i++)
		e->prof[i].seen = false;
	for (size_t i = 0; cfg && i < cfg->profiles.n; i++) {
		const char *name = cfg->profiles.v[i].name;
		struct ike_prof_rt *rt = eng_prof_rt(e, name);

		if (!rt) {
			struct ike_prof_rt *np = realloc(e->prof, (e->nprof + 1) * sizeof(*np));

			if (!np)
				continue;
			e->prof = np;
			rt = &e->prof[e->nprof++];
			memset(rt, 0, sizeof(*rt));
			kz_strlcpy(rt->st.profile, name, sizeof(rt->st.profile));
		}
		rt->seen = true;
		/* the same settings (a WAN event, a reload of the same file)
		 * leave its SAs alone */
		prof_fp_update(e, rt, name);
	}
	for (size_t i = 0; i < e->nprof; i++)
		if (e->prof[i].seen)
			e->prof[n++] = e->prof[i];
	e->nprof = n;
	/* SAs of a profile that is gone go with it */
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (sa->profile[0] && !eng_profile(e, sa->profile)) {
			(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
			sa->dying = true;
		}
	for (struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && !eng_profile(e, c->profile))
			child_remove(e, c, false);
	for (size_t i = 0; i < e->nprof; i++)
		if (e->prof[i].fp_changed)
			prof_settings_changed(e, &e->prof[i]);
	eng_reap(e);
	wan_check(e);
	for (size_t i = 0; cfg && i < cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &cfg->profiles.v[i];
		struct ike_prof_rt *rt = eng_prof_rt(e, p->name);
		bool again = rt && rt->wan_restart;

		if (rt)
			rt->wan_restart = false;
		/* on-demand profiles too, when the WAN change took their SAs */
		if ((profile_wants_auto(e, p) || again) && !profile_has_sa(e, p->name))
			(void)ike_initiate(e, p->name);
	}
	eng_reap(e);
}

int ike_initiate(struct ike_engine *e, const char *name)
{
	const struct kz_ipsec_profile *p = eng_profile(e, name);
	const struct kz_ike_policy *pol = eng_ike_policy(e, p);
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, p);
	struct ike_prof_rt *rt;
	struct ike_sa *sa;

	if (!p)
		return KZ_ENOENT;
	if (p->peer_type != KZ_PEER_ADDR && p->peer_type != KZ_PEER_FQDN)
		return KZ_EINVAL;
	/* a packet does not cut the back-off short: on a metered link an
	 * on-demand site that keeps failing would otherwise try at every
	 * packet (an auto profile is retried by ike_run_timers) */
	if (p->initiate == KZ_INITIATE_ON_DEMAND && (rt = eng_prof_rt(e, name)) &&
	    rt->retry_at > eng_now(e))
		return 0;
	if (!pol || !ipol || !pol->nproposals || !pol->psk.set || !ipol->nproposals) {
		eng_fail(e, name, IKE_FAIL_CONFIG, 1, 0,
			 "configuration: the profile's IKE or IPsec policy is missing or incomplete");
		return KZ_EINVAL;
	}
	for (sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || strcmp(sa->profile, name))
			continue;
		if (sa->state != IKE_ST_ESTABLISHED)
			return 0; /* already negotiating */
		bool busy = false;

		for (struct ike_qm *q = sa->qm; q; q = q->next)
			busy |= !q->dying && q->state != QM_DONE;
		/* The peer that just made this IKE SA with us starts its Quick
		 * Mode right after phase 1: ours would cross it and make a
		 * second pair (both sites initiating, ikev1_rekey.c).  Give it
		 * the time of a QM1 resent once; the auto retry comes back. */
		if (!sa->initiator && eng_now(e) < sa->established_ms + IKE_DEDUP_GRACE_MS)
			return 0;
		if (!busy && !profile_has_child(e, name))
			return qm_outI1(e, sa);
		return 0;
	}
	return eng_phase1_start(e, name, false);
}

int eng_phase1_start(struct ike_engine *e, const char *name, bool replaces)
{
	const struct kz_ipsec_profile *p = eng_profile(e, name);
	const struct kz_ike_policy *pol = eng_ike_policy(e, p);
	struct in_addr la, peer_addr;
	struct ike_sa *sa;
	int r;

	if (!p || !pol)
		return KZ_EINVAL;
	/* `peer FQDN` is resolved at each start: dynamic DNS names move */
	if (p->peer_type == KZ_PEER_FQDN) {
		if (!e->io.resolve || e->io.resolve(e->io.arg, p->peer_fqdn, &peer_addr) < 0) {
			eng_fail(e, name, IKE_FAIL_CONFIG, 1, 0,
				 "configuration: peer %s does not resolve to an IPv4 address",
				 p->peer_fqdn);
			return KZ_ENOENT;
		}
	} else if (p->peer_type == KZ_PEER_ADDR) {
		peer_addr = p->peer_addr;
	} else {
		return KZ_EINVAL;
	}
	la = e->io.local_addr(e->io.arg);
	if (la.s_addr == 0) {
		eng_fail(e, name, IKE_FAIL_CONFIG, 1, 0,
			 "configuration: sourced I/F don't have valid address [%s]",
			 KZ_MOBILE_IFNAME);
		return KZ_EINVAL;
	}
	sa = eng_sa_new(e, true, name);
	if (!sa)
		return KZ_ENOMEM;
	sa->replaces = replaces;
	sa->local.sin_family = AF_INET;
	sa->local.sin_addr = la;
	sa->local.sin_port = htons(500);
	sa->peer.sin_family = AF_INET;
	sa->peer.sin_addr = peer_addr;
	sa->peer.sin_port = htons(500);
	sa->mode = pol->mode;
	r = eng_random(e, sa->icookie, sizeof(sa->icookie));
	if (!r && is_zero(sa->icookie, 8))
		sa->icookie[0] = 1;
	if (!r)
		r = pol->mode == KZ_MODE_AGGRESSIVE ? am_outI1(e, sa) : mm_outI1(e, sa);
	if (r)
		sa->dying = true;
	return r;
}

void ike_get_counters(const struct ike_engine *e, struct ike_counters *c)
{
	*c = e->ctr;
}
