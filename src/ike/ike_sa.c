/* ike_sa.c - the table of IKE SAs (by cookies), their Quick Mode
 * exchanges and the IPsec SA pairs: creation, lookup, and reaping of what
 * a handler marked dying once the message is done. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

struct ike_sa *eng_sa_new(struct ike_engine *e, bool initiator, const char *profile)
{
	/* Key memory (lib/mem.h): the SA holds SKEYID* and g^xy. */
	struct ike_sa *sa = kz_key_alloc(sizeof(*sa));

	if (!sa)
		return NULL;
	sa->serial = ++e->next_serial;
	sa->initiator = initiator;
	kz_strlcpy(sa->profile, profile ? profile : "", sizeof(sa->profile));
	/* its deadline comes from the state table (ikev1_states.c) */
	sa->created_ms = eng_now(e);
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
	kz_key_free(q, sizeof(*q)); /* wipes KEYMAT and the PFS secret */
}

void eng_sa_kill(struct ike_engine *e, struct ike_sa *sa)
{
	(void)e;
	sa->dying = true;
}

static void sa_free(struct ike_engine *e, struct ike_sa *sa)
{
	struct ike_qm *q, *qn;

	eng_half_open_drop(e, sa);
	for (q = sa->qm; q; q = qn) {
		qn = q->next;
		qm_free(e, q);
	}
	eng_dh_wait_clear(e, &sa->dhw);
	ike_dh_free(sa->dh);
	tx_clear(&sa->tx);
	free(sa->sai_b);
	while (sa->inq) {
		struct ike_queued *qd = sa->inq;

		sa->inq = qd->next;
		eng_queued_free(qd);
	}
	kz_key_free(sa, sizeof(*sa)); /* wipes SKEYID* and g^xy */
}

struct ike_qm *eng_qm_new(struct ike_engine *e, struct ike_sa *sa, uint32_t msgid)
{
	struct ike_qm *q = kz_key_alloc(sizeof(*q));

	if (!q)
		return NULL;
	q->msgid = msgid;
	q->started_ms = eng_now(e);
	q->next = sa->qm;
	sa->qm = q;
	return q;
}

void eng_reap(struct ike_engine *e)
{
	struct ike_sa **pp = &e->sas, *sa;
	struct ike_child **cp = &e->children, *c;

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
			kz_key_free(c, sizeof(*c));
		} else {
			cp = &c->next;
		}
	}
}

struct ike_sa *sa_lookup(struct ike_engine *e, const struct isakmp_hdr *h)
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

bool profile_has_sa(struct ike_engine *e, const char *name)
{
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && !strcmp(sa->profile, name))
			return true;
	return false;
}

bool profile_has_child(struct ike_engine *e, const char *name)
{
	for (struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && !strcmp(c->profile, name))
			return true;
	return false;
}

/* Something of the profile is being negotiated. */
bool profile_busy(struct ike_engine *e, const char *name)
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
