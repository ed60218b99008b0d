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

#include "exchange.h"
#include "../lib/err.h"
#include "../lib/log.h"

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
	       kz_prefix_equal(&a->in.remote_ts, &b->in.remote_ts);
}

/* A pair the peer started while our own pair for the same selectors is
 * live and not due for renewal is no rekey but a duplicate of both sites
 * initiating at once.  When our address is the lower one, dedup_children()
 * on the peer deletes it and ours is kept: sending on it, as the newest,
 * would lose what goes out before the peer's Delete arrives. */
static bool doomed_duplicate(struct ike_engine *e, const struct ike_child *c)
{
	uint64_t now = eng_now(e);

	if (c->initiator ||
	    ntohl(c->out.local.sin_addr.s_addr) >= ntohl(c->out.peer.sin_addr.s_addr))
		return false;
	for (const struct ike_child *o = e->children; o; o = o->next)
		if (o != c && o->initiator && !o->dying && !o->retire_ms &&
		    !o->rekey_started_ms && now < o->soft_ms &&
		    (!o->hard_bytes || o->poll_bytes < o->soft_bytes) && same_selectors(o, c))
			return true;
	return false;
}

void rekey_child_hold(struct ike_engine *e, struct ike_child *c)
{
	if (doomed_duplicate(e, c)) {
		/* received on until the Delete, never sent on */
		c->in.out_after_ms = c->out.out_after_ms = UINT64_MAX;
		log_info("%s: IPsec SA spi 0x%08x duplicates ours: not sent on", c->profile,
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
		log_info("%s: IPsec SA spi 0x%08x replaced by spi 0x%08x, deleted in %u s",
			 c->profile, o->in.spi, c->in.spi, IKE_REKEY_OVERLAP_MS / 1000u);
	}
}

void rekey_ike_new(struct ike_engine *e, struct ike_sa *sa)
{
	uint64_t now = eng_now(e), life = sa->expire_ms > now ? sa->expire_ms - now : 0;

	sa->soft_ms = now + life * soft_permille(e, sa->initiator) / 1000u;
	if (!sa->initiator || !sa->replaces)
		return;
	for (struct ike_sa *o = e->sas; o; o = o->next) {
		if (o == sa || o->dying || o->state != IKE_ST_ESTABLISHED || o->retire_ms ||
		    o->peer.sin_addr.s_addr != sa->peer.sin_addr.s_addr ||
		    strcmp(o->profile, sa->profile))
			continue;
		o->retire_ms = now + IKE_REKEY_OVERLAP_MS;
		log_info("%s: IKE SA replaced by a new one, deleted in %u s", o->profile,
			 IKE_REKEY_OVERLAP_MS / 1000u);
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

static bool qm_running(const struct ike_sa *sa)
{
	for (const struct ike_qm *q = sa->qm; q; q = q->next)
		if (!q->dying && q->initiator && q->state != QM_DONE)
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
		if (qm_running(sa))
			return;
		log_info("%s: rekeying IPsec SA spi 0x%08x (%s)", c->profile, c->in.spi, why);
		(void)qm_outI1(e, sa);
	} else if (eng_profile_is_initiator(e, c->profile) && !phase1_running(e, c->profile)) {
		log_info("%s: rekeying IPsec SA spi 0x%08x (%s) with a new IKE SA", c->profile,
			 c->in.spi, why);
		(void)eng_phase1_start(e, c->profile, false);
	}
}

static void ike_rekey(struct ike_engine *e, struct ike_sa *sa, uint64_t now, int64_t *next)
{
	if (sa->retire_ms) {
		if (now >= sa->retire_ms) {
			log_info("%s: old IKE SA deleted after rekey", sa->profile);
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
				log_info("%s: IKE SA superseded by a newer one", sa->profile);
			}
			return;
		}
	}
	sa->rekeyed = true;
	log_info("%s: rekeying the IKE SA", sa->profile);
	(void)eng_phase1_start(e, sa->profile, true);
}

void rekey_run(struct ike_engine *e, uint64_t now, int64_t *next)
{
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && sa->state == IKE_ST_ESTABLISHED)
			ike_rekey(e, sa, now, next);

	for (struct ike_child *c = e->children; c; c = c->next) {
		const char *why = NULL;

		if (c->dying)
			continue;
		if (c->retire_ms) {
			if (now >= c->retire_ms) {
				log_info("%s: old IPsec SA spi 0x%08x deleted after rekey",
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
				log_info("%s: IPsec SA spi 0x%08x reached its byte lifetime",
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
