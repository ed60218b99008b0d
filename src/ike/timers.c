/* timers.c - everything the engine does on time: retransmissions and
 * their "no answer", half-open and lifetime expiry, DPD and rekeying
 * (their own files), the deletion of duplicate IPsec SA pairs after a
 * simultaneous initiation, and the retries of auto profiles. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

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

bool profile_wants_auto(struct ike_engine *e, const struct kz_ipsec_profile *p)
{
	const struct kz_if_ipsec *ifc;

	if ((p->peer_type != KZ_PEER_ADDR && p->peer_type != KZ_PEER_FQDN) ||
	    p->initiate != KZ_INITIATE_AUTO)
		return false;
	ifc = kz_find_if_mapping(e->cfg, p->name);
	return ifc && !ifc->shutdown;
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
			    !kz_prefix_equal(&d->in.remote_ts, &c->in.remote_ts) ||
			    d->in.ts_proto != c->in.ts_proto || d->in.ts_lport != c->in.ts_lport ||
			    d->in.ts_rport != c->in.ts_rport)
				continue;
			if (e->io.child_stats)
				e->io.child_stats(e->io.arg, d->in.spi, KZ_CHILD_IN, &st);
			else
				st.packets = 1;
			if (st.packets || now >= grace) {
				eng_child_log(
					KZ_LOG_INFO, e, c,
					"%s: duplicate IPsec SA pair (spi 0x%08x) deleted, the "
					"pair the peer started is kept",
					c->profile, c->in.spi);
				child_remove(e, c, true);
				break;
			}
			eng_next_min(next, grace, now);
		}
	}
}

int64_t ike_run_timers(struct ike_engine *e)
{
	uint64_t now = eng_now(e);
	int64_t next = -1;

	e->armed_in_timers = false;
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying)
			continue;
		if (tx_due(e, sa, &sa->tx, now, &next)) {
			if (sa->state != IKE_ST_ESTABLISHED)
				eng_halfopen_end(e, sa, NULL);
			e->fail_sa = sa;
			if (sa->initiator)
				eng_fail(e, sa->profile, IKE_FAIL_NO_ANSWER, 1, sa->peer_notify,
					 "no answer: %s retransmitted %u times without a reply",
					 state_msg_name(sa), IKE_RETRANS_TRIES);
			e->fail_sa = NULL;
			if (!sa->initiator)
				log_debug("%s: no answer to %s, half-open SA removed", sa->profile,
					  state_msg_name(sa));
			eng_sa_kill(e, sa);
			continue;
		}
		if (sa->state != IKE_ST_ESTABLISHED && sa->deadline_ms) {
			if (now >= sa->deadline_ms) {
				eng_halfopen_end(e, sa, NULL);
				eng_sa_kill(e, sa);
				continue;
			}
			eng_next_min(&next, sa->deadline_ms, now);
		}
		if (sa->state == IKE_ST_ESTABLISHED && sa->expire_ms) {
			if (now >= sa->expire_ms) {
				eng_sa_log(KZ_LOG_INFO, sa, "%s: IKE SA expired", sa->profile);
				(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
				eng_sa_kill(e, sa);
				continue;
			}
			eng_next_min(&next, sa->expire_ms, now);
		}
		if (sa->state == IKE_ST_ESTABLISHED) {
			dpd_run(e, sa, now, &next);
			if (sa->dying)
				continue;
		}
		for (struct ike_queued **pp = &sa->inq, *qd; (qd = *pp);) {
			if (qd->held && now >= qd->until) {
				*pp = qd->next;
				eng_queued_free(qd);
				e->ctr.drop_state++;
				continue;
			}
			if (qd->held)
				eng_next_min(&next, qd->until, now);
			pp = &qd->next;
		}
		for (struct ike_qm *q = sa->qm; q; q = q->next) {
			if (q->dying)
				continue;
			if (tx_due(e, sa, &q->tx, now, &next)) {
				eng_halfopen_end(e, sa, q);
				e->fail_sa = sa;
				if (q->initiator)
					eng_fail(e, sa->profile, IKE_FAIL_NO_ANSWER, 2, 0,
						 "no answer: Quick Mode message 1 retransmitted %u "
						 "times without a reply",
						 IKE_RETRANS_TRIES);
				e->fail_sa = NULL;
				q->dying = true;
				continue;
			}
			/* Given up by its row's deadline; a finished exchange
			 * stays only to answer the peer's retransmissions: an
			 * IKE SA living for hours with frequent IPsec rekeys
			 * would otherwise pile them up. */
			if (now >= q->deadline_ms) {
				if (q->state != QM_DONE)
					eng_halfopen_end(e, sa, q);
				q->dying = true;
			} else
				eng_next_min(&next, q->deadline_ms, now);
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
				eng_child_log(KZ_LOG_INFO, e, c,
					      "%s: old IPsec SA spi 0x%08x deleted after rekey "
					      "(hard lifetime)",
					      c->profile, c->in.spi);
			else
				eng_child_log(KZ_LOG_INFO, e, c, "%s: IPsec SA spi 0x%08x expired",
					      c->profile, c->in.spi);
			child_remove(e, c, true);
		} else {
			eng_next_min(&next, c->expire_ms, now);
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
			    profile_missing_pair(e, p->name))
				rt->retry_at =
					rt->last_try_ms + 1000 > now ? rt->last_try_ms + 1000 : now;
			if (!rt->retry_at)
				continue;
			if (now >= rt->retry_at) {
				rt->retry_at = 0;
				rt->last_try_ms = now;
				if (!profile_busy(e, p->name))
					(void)ike_initiate(e, p->name);
			}
			if (rt->retry_at)
				eng_next_min(&next, rt->retry_at, now);
		}
		eng_reap(e);
	}
	/* An exchange started here (a retry, a rekey, a renegotiation after
	 * DPD) armed a retransmission the SA walk above did not see: run
	 * again at once so its deadline counts; the daemon arms its timer
	 * from the value returned only. */
	if (e->armed_in_timers)
		eng_next_min(&next, now, now);
	return next;
}
