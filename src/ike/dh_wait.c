/* dh_wait.c - the engine's side of Diffie-Hellman off the control thread.
 *
 * A handler that needs g^xy (MM3/MM4, AM1/AM2, QM1/QM2 with PFS) calls
 * eng_dh_step().  Without io->dh_submit the work is done inline and the
 * handler simply goes on.  With it, the job goes to the pool, a copy of the
 * message is kept in the SA's (or the Quick Mode exchange's) struct
 * ike_dh_wait and the handler stops with KZ_EINCOMPLETE (IKE_SUSPEND),
 * changing nothing it cannot redo.  When ike_dh_done() brings the result,
 * the kept message goes on the SA's queue and is processed again from the
 * top: every check runs again, and this time eng_dh_step() hands out the
 * result.
 *
 * Safety: a job carries copies (the peer's value, its own key pair), never
 * pointers into the engine; a result finds its exchange by the IKE SA's
 * serial number, the Quick Mode message ID and the job number, so one
 * whose SA was deleted, reaped or replaced meanwhile is only freed.
 * Freeing an SA or an exchange cancels its job.  While a job is in flight,
 * other copies of the message are ignored (dispatch.c). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike/dh_pool.h"
#include "ike/exchange.h"
#include "lib/log.h"

static struct ike_dh_wait *wait_of(struct ike_sa *sa, struct ike_qm *q)
{
	return q ? &q->dhw : &sa->dhw;
}

void eng_dh_wait_clear(struct ike_engine *e, struct ike_dh_wait *w)
{
	if (w->job && e->io.dh_cancel)
		e->io.dh_cancel(e->io.arg, w->job);
	ike_dh_job_free(w->done);
	free(w->msg);
	memset(w, 0, sizeof(*w));
}

struct ike_dh *eng_dh_keypair(struct ike_engine *e, enum kz_group g)
{
	struct ike_dh *dh = e->io.dh_keypair ? e->io.dh_keypair(e->io.arg, g) : NULL;

	if (dh && ike_dh_group(dh) != g) {
		ike_dh_free(dh);
		dh = NULL;
	}
	return dh ? dh : ike_dh_new(g);
}

/* Hands out a finished job: its key pair to *dh, g^xy to out. */
static int take_result(struct ike_dh_job *j, struct ike_dh **dh, uint8_t *out, size_t *outlen)
{
	int r = j->rc;

	if (!r && *outlen < j->shared_len)
		r = KZ_ENOSPC;
	if (!r) {
		memcpy(out, j->shared, j->shared_len);
		*outlen = j->shared_len;
	}
	/* the key pair comes back either way: an initiator's is the one its
	 * KE already carried */
	if (j->dh) {
		ike_dh_free(*dh);
		*dh = j->dh;
		j->dh = NULL;
	}
	ike_dh_job_free(j);
	return r;
}

int eng_dh_step(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q, const struct ike_msg *m,
		enum kz_group g, struct ike_dh **dh, const uint8_t *peer, size_t plen, uint8_t *out,
		size_t *outlen)
{
	struct ike_dh_wait *w = wait_of(sa, q);
	struct ike_dh_job *j = w->done;
	int r;

	if (j) {
		w->done = NULL;
		/* the result of this very message (a repeat of it carries the
		 * same value); anything else is stale */
		if (j->group == g && j->peer_len == plen && !memcmp(j->peer, peer, plen))
			return take_result(j, dh, out, outlen);
		if (j->dh && !*dh && ike_dh_group(j->dh) == g) {
			/* an initiator's key pair (its KE went out) stays */
			*dh = j->dh;
			j->dh = NULL;
		}
		ike_dh_job_free(j);
	}
	if (w->job)
		return KZ_EINCOMPLETE;
	j = ike_dh_job_new(g, *dh, peer, plen);
	if (!j)
		return KZ_EINVAL;
	*dh = NULL;
	if (!e->io.dh_submit) {
		(void)ike_dh_job_run(j);
		return take_result(j, dh, out, outlen);
	}
	w->msg = malloc(m->raw_len);
	if (!w->msg) {
		r = KZ_ENOMEM;
		goto fail;
	}
	j->id = ++e->dh_next_id;
	j->owner = sa->serial;
	j->msgid = q ? q->msgid : 0;
	r = e->io.dh_submit(e->io.arg, j);
	if (r) {
		free(w->msg);
		w->msg = NULL;
		if (r == KZ_EBUSY) {
			e->ctr.drop_dh_busy++;
			log_debug("%s: Diffie-Hellman queue full, message dropped",
				  sa->profile[0] ? sa->profile : "ike");
		}
		goto fail;
	}
	e->ctr.dh_async++;
	w->job = j->id;
	memcpy(w->msg, m->raw, m->raw_len);
	w->msg_len = m->raw_len;
	w->local = m->local;
	w->peer = m->peer;
	w->natt = m->natt;
	return KZ_EINCOMPLETE;
fail:
	/* an initiator's key pair stays with the exchange */
	*dh = j->dh;
	j->dh = NULL;
	ike_dh_job_free(j);
	return r;
}

void ike_dh_done(struct ike_engine *e, struct ike_dh_job *j)
{
	struct ike_dh_wait *w = NULL;
	struct ike_sa *sa;

	for (sa = e->sas; sa; sa = sa->next)
		if (sa->serial == j->owner && !sa->dying)
			break;
	if (sa && !j->msgid) {
		w = &sa->dhw;
	} else if (sa) {
		for (struct ike_qm *q = sa->qm; q; q = q->next)
			if (q->msgid == j->msgid && !q->dying)
				w = &q->dhw;
	}
	if (!w || !w->job || w->job != j->id || !w->msg) {
		e->ctr.dh_stale++;
		ike_dh_job_free(j);
		return;
	}
	w->job = 0;
	ike_dh_job_free(w->done);
	w->done = j;
	/* the message goes through the dispatcher again, from the top */
	eng_queue(e, sa, w->msg, w->msg_len, &w->local, &w->peer, w->natt, false);
	w->msg = NULL;
	eng_drain(e);
}
