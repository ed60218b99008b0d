/* ikev1_rekey.c - make-before-break rekeying of IKE and IPsec SAs.
 *
 * Each SA gets a soft lifetime when it is made: a part of its lifetime
 * (90 % minus up to 5 % of random jitter: 85-90 %, so the two sites and many
 * tunnels do not all renegotiate at once) on the side that initiated it,
 * 95-97.5 % on the other side, which so renegotiates only when the
 * initiator did not.  Byte lifetimes (`lifetime bytes`) have the same
 * soft point, measured from the data plane's counters every second; at a
 * rate where those percentages leave less than a few seconds, the soft
 * point follows the rate instead (byte_soft()).
 *
 * At the soft point a successor is negotiated while the old SA keeps
 * working: for an IPsec SA pair a Quick Mode on the newest IKE SA (or a new
 * phase 1 when there is none), for an IKE SA a new phase 1 with no Quick
 * Mode (the IPsec SAs stay).  The data plane sends on the newest pair and
 * receives on both; IKE_REKEY_OVERLAP_MS after the successor is up, the
 * side that negotiated it sends Delete for the old SA and removes it
 * (RFC 2408 4.8: the peer removes its side on the Delete, or at the hard
 * lifetime if the Delete is lost). */
#include <arpa/inet.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"

/* part per mille of the lifetime at which to renegotiate */
static uint64_t soft_permille(struct ike_engine *e, bool initiator)
{
	uint16_t j = 0;

	if (eng_random(e, &j, sizeof(j)))
		j = 0;
	j %= 51u;
	return initiator ? 900u - j : 950u + j / 2u;
}

static bool same_selectors(const struct ike_child *a, const struct ike_child *b)
{
	return !strcmp(a->profile, b->profile) &&
		a->out.peer.sin_addr.s_addr == b->out.peer.sin_addr.s_addr &&
		kz_prefix_equal(&a->in.local_ts, &b->in.local_ts) &&
		kz_prefix_equal(&a->in.remote_ts, &b->in.remote_ts) &&
		a->in.ts_proto == b->in.ts_proto && a->in.ts_lport == b->in.ts_lport &&
		a->in.ts_rport == b->in.ts_rport;
}

/* A pair the peer started while our own pair for the same selectors is
 * live and not due for renewal is no rekey but a duplicate of both sites
 * initiating at once.  When our address is the lower one, dedup_children()
 * on the peer deletes it and ours is kept: sending on it, as the newest,
 * would lose what goes out before the peer's Delete arrives. */
static bool ours_not_due(uint64_t now, const struct ike_child *o, const struct ike_child *c)
{
	return o != c && o->initiator && !o->dying && !o->retire_ms && !o->rekey_started_ms &&
		now < o->soft_ms && (!o->hard_bytes || o->poll_bytes < o->soft_bytes) &&
		same_selectors(o, c);
}

static bool doomed_duplicate(struct ike_engine *e, const struct ike_child *c)
{
	uint64_t now = eng_now(e);

	if (c->initiator ||
	    ntohl(c->out.local.sin_addr.s_addr) >= ntohl(c->out.peer.sin_addr.s_addr))
		return false;
	for (const struct ike_child *o = e->children; o; o = o->next)
		if (ours_not_due(now, o, c))
			return true;
	return false;
}

/* The lower side's half of dedup_children().  The peer deletes its
 * duplicate pair with a Delete, but a Delete may be lost, or overtake the
 * QM3 that makes us install that pair (the peer deletes as soon as our
 * pair carries traffic, which may be before its QM3 arrived): the pair
 * then stayed here, never sent on, until its lifetime, and `show ipsec sa`
 * listed two.  So we remove it ourselves once the peer surely did:
 * IKE_DEDUP_GRACE_MS (the peer's rule) plus a QM3 resent once, after the
 * later of the two pairs was made.  Not a successor of a rekey: our own
 * pair must not be due for renewal (as for doomed_duplicate()) nor be a
 * successor itself (dedup_children() keeps both then). */
static void dup_children_run(struct ike_engine *e, uint64_t now, int64_t *next)
{
	for (struct ike_child *d = e->children; d; d = d->next) {
		if (d->dying || d->initiator || d->retire_ms ||
		    ntohl(d->out.local.sin_addr.s_addr) >= ntohl(d->out.peer.sin_addr.s_addr))
			continue;
		for (const struct ike_child *c = e->children; c; c = c->next) {
			uint64_t at;

			if (c->successor || !ours_not_due(now, c, d))
				continue;
			at = c->in.created_ms > d->in.created_ms ? c->in.created_ms
								 : d->in.created_ms;
			at += IKE_DEDUP_GRACE_MS + IKE_RETRANS_FIRST_MS;
			if (now < at) {
				eng_next_min(next, at, now);
				continue;
			}
			eng_child_log(
				KZ_LOG_INFO, e, d,
				"%s: duplicate IPsec SA pair (spi 0x%08x) the peer started is "
				"deleted, ours is kept",
				d->profile, d->in.spi);
			child_remove(e, d, true);
			break;
		}
	}
}

void rekey_child_hold(struct ike_engine *e, struct ike_child *c)
{
	if (doomed_duplicate(e, c)) {
		/* received on until the Delete, never sent on */
		c->in.out_after_ms = c->out.out_after_ms = UINT64_MAX;
		eng_child_log(KZ_LOG_INFO, e, c,
			      "%s: IPsec SA spi 0x%08x duplicates ours: not sent on", c->profile,
			      c->in.spi);
		return;
	}
	if (!c->initiator)
		return;
	for (struct ike_child *o = e->children; o; o = o->next)
		if (o != c && !o->dying && same_selectors(o, c)) {
			/* the peer installs the pair on our QM3: the old pair
			 * carries our traffic until QM3 has had time to arrive */
			c->in.out_after_ms = c->out.out_after_ms = eng_now(e) + IKE_REKEY_SWITCH_MS;
			return;
		}
}

void rekey_child_new(struct ike_engine *e, struct ike_child *c)
{
	uint64_t now = eng_now(e), life = c->expire_ms > now ? c->expire_ms - now : 0;
	uint64_t pm = soft_permille(e, c->initiator);

	c->soft_ms = now + life * pm / 1000u;
	eng_metric_child_rekey(e, c);
	if (c->in.life_kbytes) {
		c->hard_bytes = c->in.life_kbytes * 1024u;
		c->soft_bytes = c->hard_bytes / 1000u * pm;
	}
	if (!c->initiator)
		return;
	/* the pairs this one was negotiated to replace go after the overlap */
	for (struct ike_child *o = e->children; o; o = o->next) {
		if (o == c || o->dying || !o->rekey_started_ms || o->retire_ms ||
		    !same_selectors(o, c))
			continue;
		o->retire_ms = now + IKE_REKEY_OVERLAP_MS;
		c->successor = true;
		eng_child_log(KZ_LOG_INFO, e, o,
			      "%s: IPsec SA spi 0x%08x replaced by spi 0x%08x, deleted in %u s",
			      c->profile, o->in.spi, c->in.spi, IKE_REKEY_OVERLAP_MS / 1000u);
	}
}

/* ---- both sites initiated at once ----
 *
 * Two sites that name each other both start phase 1 when they come up and
 * when their settings change (the change deletes the SAs on both sides).
 * When their messages cross, each also answers the other's: two IKE SAs,
 * and, from the Quick Mode each initiator starts after phase 1, two IPsec
 * SA pairs.  dedup_children() (engine.c) reduces the pairs; the IKE SAs
 * are reduced here, or not made at all (dup_phase1_done).  Before, the
 * second IKE SA lived until the soft lifetime (hours), so `show ike sa`
 * listed two on each side. */

/* The site with the lower WAN address: the SAs it initiated are kept. */
static bool local_is_lower(const struct ike_sa *sa)
{
	return ntohl(sa->local.sin_addr.s_addr) < ntohl(sa->peer.sin_addr.s_addr);
}

static bool same_peer_profile(const struct ike_sa *a, const struct ike_sa *b)
{
	return a->peer.sin_addr.s_addr == b->peer.sin_addr.s_addr &&
		!strcmp(a->profile, b->profile);
}

/* A phase 1 with the peer completed (either role).  Our own first
 * negotiation with it that has had no answer yet (message 1 sent, our
 * message 3 not) is dropped: its retransmission would only make a second
 * IKE SA.  In the lab B starts first, its message 1 finds no daemon at A,
 * A starts and negotiates, and B's retransmission 2 s later made a second
 * IKE SA and pair.  Only that early: without our message 3 the peer cannot
 * complete the exchange and holds at most a half-open SA, which expires;
 * one further on may complete on the peer, which would then keep an SA we
 * dropped. */
static void dup_phase1_done(struct ike_engine *e, const struct ike_sa *sa)
{
	for (struct ike_sa *o = e->sas; o; o = o->next) {
		if (o == sa || o->dying || !o->initiator || o->replaces ||
		    (o->state != MM_I1 && o->state != AM_I1) || !same_peer_profile(o, sa))
			continue;
		eng_sa_log(KZ_LOG_INFO, o,
			   "%s: IKE SA up: our own negotiation with the peer, still unanswered, "
			   "dropped",
			   o->profile);
		o->dying = true; /* reaped by the caller's caller */
	}
}

/* Two established IKE SAs with the peer, one started by each site: both
 * sites keep the one the lower address started, as dedup_children() keeps
 * its pair, and delete the other (with a Delete).  Each side decides for
 * itself from what it holds, and both decide alike, so the result does not
 * hang on the other's Delete arriving, and no side deletes the SA the
 * other keeps.  A Quick Mode under way on the deleted one dies with it:
 * its pair would have been the duplicate that dedup_children() removes.
 *
 * A rekey is no duplicate: a successor we started has `replaces`; one the
 * peer started comes at its soft point for our SA, 95 % of the lifetime or
 * later, while ours here is younger than half its lifetime (the peer
 * started its duplicate before it knew of ours: within one phase 1's
 * retransmissions).  And a rekey's predecessor is retiring. */
/* The peer still holds mine, as far as we can tell: it completed phase 1
 * on it, or sent an authenticated message on it, after it started theirs.
 * A peer that restarted and did not send INITIAL-CONTACT makes a new IKE
 * SA while the old one here is stale: that old one must not win. */
static bool peer_holds(const struct ike_sa *mine, const struct ike_sa *theirs)
{
	return mine->established_ms >= theirs->created_ms || mine->rx_auth_ms >= theirs->created_ms;
}

static void dup_ike_run(struct ike_engine *e, uint64_t now)
{
	for (struct ike_sa *mine = e->sas; mine; mine = mine->next) {
		if (mine->dying || mine->state != IKE_ST_ESTABLISHED || !mine->initiator ||
		    mine->replaces || mine->rekeyed || mine->retire_ms ||
		    now - mine->established_ms >= (mine->expire_ms - mine->established_ms) / 2u)
			continue;
		for (struct ike_sa *theirs = e->sas; theirs; theirs = theirs->next) {
			struct ike_sa *loser;

			if (theirs->dying || theirs->state != IKE_ST_ESTABLISHED ||
			    theirs->initiator || theirs->retire_ms ||
			    !same_peer_profile(mine, theirs))
				continue;
			loser = local_is_lower(mine) ? theirs : mine;
			if (loser == theirs && !peer_holds(mine, theirs))
				continue;
			eng_sa_log(KZ_LOG_INFO, loser,
				   "%s: two IKE SAs with the peer (both sites initiated): the one "
				   "%s started is deleted",
				   loser->profile, loser == mine ? "we" : "the peer");
			(void)info_send_delete(e, loser, ISAKMP_PROTO_ISAKMP, NULL);
			loser->dying = true;
			if (loser == mine)
				break;
		}
	}
}

/* The peer deleted IKE SA sa.  A pair we made on it as the initiator of
 * its Quick Mode moments before may never have been installed by the
 * peer: we install on QM2, the peer on our QM3, and a peer that deleted
 * the IKE SA meanwhile (its settings changed while both sites were
 * negotiating) dropped that QM3.  We then sent on a pair the peer did not
 * have, and kept it as "ours" against the peer's good one.  So such a
 * pair, younger than IKE_DEDUP_GRACE_MS and with nothing received on it,
 * goes too (no Delete: the peer does not know it).  Were the peer to hold
 * it after all, its ESP would find no SA here and, with nothing left, we
 * negotiate again with INITIAL-CONTACT. */
void rekey_ike_deleted(struct ike_engine *e, const struct ike_sa *sa)
{
	uint64_t now = eng_now(e);

	for (struct ike_child *c = e->children; c; c = c->next) {
		struct kz_child_stats st = { 0 };

		if (c->dying || !c->initiator || c->in.ike_serial != sa->serial ||
		    now >= c->in.created_ms + IKE_DEDUP_GRACE_MS)
			continue;
		if (e->io.child_stats)
			e->io.child_stats(e->io.arg, c->in.spi, KZ_CHILD_IN, &st);
		if (st.packets)
			continue;
		eng_child_log(
			KZ_LOG_INFO, e, c,
			"%s: IPsec SA spi 0x%08x made just before the peer deleted its IKE SA, "
			"unconfirmed: removed",
			c->profile, c->in.spi);
		child_remove(e, c, false);
	}
}

void rekey_ike_new(struct ike_engine *e, struct ike_sa *sa)
{
	uint64_t now = eng_now(e), life = sa->expire_ms > now ? sa->expire_ms - now : 0;

	dup_phase1_done(e, sa);
	eng_metric_ike_rekey(e, sa);
	sa->soft_ms = now + life * soft_permille(e, sa->initiator) / 1000u;
	if (!sa->initiator || !sa->replaces)
		return;
	for (struct ike_sa *o = e->sas; o; o = o->next) {
		if (o == sa || o->dying || o->state != IKE_ST_ESTABLISHED || o->retire_ms ||
		    o->peer.sin_addr.s_addr != sa->peer.sin_addr.s_addr ||
		    strcmp(o->profile, sa->profile))
			continue;
		o->retire_ms = now + IKE_REKEY_OVERLAP_MS;
		eng_sa_log(KZ_LOG_INFO, o, "%s: IKE SA replaced by a new one, deleted in %u s",
			   o->profile, IKE_REKEY_OVERLAP_MS / 1000u);
	}
}

/* The byte count from which to renegotiate a pair that holds b bytes now.
 * The fixed soft point (85-90 % / 95-97.5 %) is a share of the lifetime; at
 * a high rate the 10-15 % left after it may last less than a second, less
 * than the poll, the Quick Mode and the initiator's switch-over take: the
 * old pair would run out of bytes and drop packets before the new one is
 * used.  And the two sides' points, 5 % apart, could fall within one poll:
 * both would rekey at once, making two successors.  So, at the rate seen
 * between the last two polls, the initiator goes no later than IKE_REKEY_LEAD_MS
 * before the end, and the other side no earlier than
 * IKE_REKEY_LEAD_LATE_MS before it. */
static uint64_t byte_soft(struct ike_child *c, uint64_t b, uint64_t now)
{
	uint64_t lead, soft = c->soft_bytes;

	/* the rate over a whole poll period: the timer may run more often */
	if (!c->poll_ms || now >= c->poll_ms + IKE_REKEY_POLL_MS) {
		if (c->poll_ms && b >= c->poll_bytes)
			c->rate = (b - c->poll_bytes) / (now - c->poll_ms);
		c->poll_bytes = b;
		c->poll_ms = now;
	}
	lead = c->rate * (c->initiator ? IKE_REKEY_LEAD_MS : IKE_REKEY_LEAD_LATE_MS);
	if (lead >= c->hard_bytes)
		return c->initiator ? 0 : soft;
	if (c->initiator)
		return soft < c->hard_bytes - lead ? soft : c->hard_bytes - lead;
	return soft > c->hard_bytes - lead ? soft : c->hard_bytes - lead;
}

/* The newest established IKE SA with the pair's peer. */
static struct ike_sa *ike_for(struct ike_engine *e, const struct ike_child *c)
{
	struct ike_sa *best = NULL;

	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && sa->state == IKE_ST_ESTABLISHED && !sa->retire_ms &&
		    sa->peer.sin_addr.s_addr == c->out.peer.sin_addr.s_addr &&
		    !strcmp(sa->profile, c->profile) &&
		    (!best || sa->established_ms >= best->established_ms))
			best = sa;
	return best;
}

static bool phase1_running(struct ike_engine *e, const char *profile)
{
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && sa->state != IKE_ST_ESTABLISHED && !strcmp(sa->profile, profile))
			return true;
	return false;
}

/* A live pair for the same selectors made after c (the list is newest
 * first): the peer already replaced c. */
static bool has_newer(struct ike_engine *e, const struct ike_child *c)
{
	for (const struct ike_child *d = e->children; d && d != c; d = d->next)
		if (!d->dying && !d->retire_ms && same_selectors(d, c))
			return true;
	return false;
}

static void child_rekey(struct ike_engine *e, struct ike_child *c, uint64_t now, const char *why)
{
	struct ike_sa *sa = ike_for(e, c);

	c->rekey_started_ms = now;
	if (sa) {
		struct kz_selector sel;

		ts_of_child(c, &sel);
		if (qm_running_sel(sa, &sel))
			return;
		eng_sa_log(KZ_LOG_INFO, sa, "%s: rekeying IPsec SA spi 0x%08x (%s)", c->profile,
			   c->in.spi, why);
		(void)qm_outI1_sel(e, sa, &sel);
	} else if (eng_profile_is_initiator(e, c->profile) && !phase1_running(e, c->profile)) {
		eng_child_log(KZ_LOG_INFO, e, c,
			      "%s: rekeying IPsec SA spi 0x%08x (%s) with a new IKE SA", c->profile,
			      c->in.spi, why);
		(void)eng_phase1_start(e, c->profile, false);
	}
}

static void ike_rekey(struct ike_engine *e, struct ike_sa *sa, uint64_t now, int64_t *next)
{
	if (sa->retire_ms) {
		if (now >= sa->retire_ms) {
			eng_sa_log(KZ_LOG_INFO, sa, "%s: old IKE SA deleted after rekey",
				   sa->profile);
			(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
			sa->dying = true;
		} else {
			eng_next_min(next, sa->retire_ms, now);
		}
		return;
	}
	if (!sa->soft_ms || sa->rekeyed || !eng_profile_is_initiator(e, sa->profile))
		return;
	if (now < sa->soft_ms) {
		eng_next_min(next, sa->soft_ms, now);
		return;
	}
	/* only the newest SA with the peer is renewed, once */
	for (struct ike_sa *o = e->sas; o; o = o->next) {
		if (o == sa || o->dying || strcmp(o->profile, sa->profile) ||
		    o->peer.sin_addr.s_addr != sa->peer.sin_addr.s_addr)
			continue;
		if (o->state != IKE_ST_ESTABLISHED)
			return;
		if (o->established_ms > sa->established_ms) {
			/* Both sites initiated at once: a newer SA took over.
			 * Nothing is negotiated on this one any more; delete it
			 * now rather than let it reach its hard lifetime (the
			 * newer one's rekey, which would retire it, may come
			 * after that, as the other side's soft point is later). */
			if (!o->retire_ms) {
				sa->rekeyed = true;
				sa->retire_ms = now;
				eng_next_min(next, now, now);
				eng_sa_log(KZ_LOG_INFO, sa, "%s: IKE SA superseded by a newer one",
					   sa->profile);
			}
			return;
		}
	}
	sa->rekeyed = true;
	eng_sa_log(KZ_LOG_INFO, sa, "%s: rekeying the IKE SA", sa->profile);
	(void)eng_phase1_start(e, sa->profile, true);
}

void rekey_run(struct ike_engine *e, uint64_t now, int64_t *next)
{
	dup_ike_run(e, now);
	dup_children_run(e, now, next);
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && sa->state == IKE_ST_ESTABLISHED)
			ike_rekey(e, sa, now, next);

	for (struct ike_child *c = e->children; c; c = c->next) {
		const char *why = NULL;

		if (c->dying)
			continue;
		if (c->retire_ms) {
			if (now >= c->retire_ms) {
				eng_child_log(KZ_LOG_INFO, e, c,
					      "%s: old IPsec SA spi 0x%08x deleted after rekey",
					      c->profile, c->in.spi);
				child_remove(e, c, true);
			} else {
				eng_next_min(next, c->retire_ms, now);
			}
			continue;
		}
		if (c->hard_bytes && e->io.child_stats) {
			struct kz_child_stats si = { 0 }, so = { 0 };
			uint64_t b;

			e->io.child_stats(e->io.arg, c->in.spi, KZ_CHILD_IN, &si);
			e->io.child_stats(e->io.arg, c->out.spi, KZ_CHILD_OUT, &so);
			b = si.bytes > so.bytes ? si.bytes : so.bytes;
			if (b >= c->hard_bytes) {
				eng_child_log(KZ_LOG_INFO, e, c,
					      "%s: IPsec SA spi 0x%08x reached its byte lifetime",
					      c->profile, c->in.spi);
				child_remove(e, c, true);
				continue;
			}
			if (b >= byte_soft(c, b, now))
				why = "soft byte lifetime";
			eng_next_min(next, now + IKE_REKEY_POLL_MS, now);
		}
		if (now >= c->soft_ms)
			why = "soft lifetime";
		else
			eng_next_min(next, c->soft_ms, now);
		if (!why || has_newer(e, c))
			continue;
		if (c->rekey_started_ms && now < c->rekey_started_ms + IKE_REKEY_RETRY_MS) {
			eng_next_min(next, c->rekey_started_ms + IKE_REKEY_RETRY_MS, now);
			continue;
		}
		child_rekey(e, c, now, why);
		eng_next_min(next, now + IKE_REKEY_RETRY_MS, now);
	}
}
