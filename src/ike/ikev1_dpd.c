/* ikev1_dpd.c - Dead Peer Detection (RFC 3706) for established IKE SAs.
 *
 * Both sides announce the DPD vendor ID in phase 1 (ikev1_natt.c); only
 * when the peer announced it and our IKE policy has `dpd interval N retry
 * M` do we probe.  A probe is a HASH-protected informational notify
 * R-U-THERE carrying a 32-bit sequence number (RFC 3706 5.3); the peer
 * answers R-U-THERE-ACK with the same number (ikev1_info.c).
 *
 * RFC 3706 5.3 leaves the schedule to the implementation; ours:
 *  - a sign of life is any authenticated IKE message of the peer or a rise
 *    of the inbound packet counter of one of its IPsec SAs (looked at every
 *    IKE_DPD_POLL_MS);
 *  - after N seconds without one, the first R-U-THERE goes out, then one
 *    every N * M / (M + 1) seconds;
 *  - when M + 1 probes went unanswered the peer is dead, exactly
 *    N * (M + 1) seconds after its last sign of life: its IKE and IPsec SAs
 *    are cleared, and an initiator negotiates again after its back-off.
 * Only the newest established IKE SA of a profile and peer probes, so a
 * rekey overlap does not double the probes. */
#include <arpa/inet.h>
#include <string.h>

#include "exchange.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"

static bool same_peer(const struct ike_sa *a, const struct ike_sa *b)
{
	return a->peer.sin_addr.s_addr == b->peer.sin_addr.s_addr &&
	       !strcmp(a->profile, b->profile);
}

static bool child_of(const struct ike_child *c, const struct ike_sa *sa)
{
	return !c->dying && c->out.peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr &&
	       !strcmp(c->profile, sa->profile);
}

/* The peer answered: every IKE SA with it learns it. */
static void alive(struct ike_engine *e, struct ike_sa *sa, uint64_t now)
{
	for (struct ike_sa *o = e->sas; o; o = o->next) {
		if (o->dying || o->state != IKE_ST_ESTABLISHED || !same_peer(o, sa))
			continue;
		o->dpd.last_rx_ms = now;
		o->dpd.unanswered = 0;
		o->dpd.next_probe_ms = 0;
	}
}

void dpd_activity(struct ike_engine *e, struct ike_sa *sa)
{
	if (sa->state == IKE_ST_ESTABLISHED)
		alive(e, sa, eng_now(e));
}

void dpd_ack_input(struct ike_engine *e, struct ike_sa *sa, uint32_t seq)
{
	/* RFC 3706 5.3: the ACK must carry the number of an R-U-THERE we
	 * sent; any of the probes still unanswered will do */
	if (!sa->dpd.seq_set || !sa->dpd.unanswered || sa->dpd.seq - seq >= sa->dpd.unanswered) {
		log_debug("%s: R-U-THERE-ACK with sequence number %u not expected, ignored",
			  sa->profile, seq);
		return;
	}
	log_debug("%s: R-U-THERE-ACK %u", sa->profile, seq);
	alive(e, sa, eng_now(e));
}

/* The newest established IKE SA of this profile and peer. */
static bool newest(struct ike_engine *e, const struct ike_sa *sa)
{
	for (struct ike_sa *o = e->sas; o; o = o->next)
		if (o != sa && !o->dying && o->state == IKE_ST_ESTABLISHED && same_peer(o, sa) &&
		    (o->established_ms > sa->established_ms ||
		     (o->established_ms == sa->established_ms && o->serial > sa->serial)))
			return false;
	return true;
}

static bool esp_traffic(struct ike_engine *e, const struct ike_sa *sa)
{
	bool any = false;

	if (!e->io.child_stats)
		return false;
	for (struct ike_child *c = e->children; c; c = c->next) {
		struct kz_child_stats st = { 0 };

		if (!child_of(c, sa))
			continue;
		e->io.child_stats(e->io.arg, c->in.spi, KZ_CHILD_IN, &st);
		if (st.packets != c->dpd_in_packets) {
			c->dpd_in_packets = st.packets;
			any = true;
		}
	}
	return any;
}

static void declare_dead(struct ike_engine *e, struct ike_sa *sa, uint64_t now)
{
	char a[INET_ADDRSTRLEN];
	uint64_t quiet = now - sa->dpd.last_rx_ms;
	unsigned probes = sa->dpd.unanswered;
	char profile[KZ_NAME_MAX];

	inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a));
	kz_strlcpy(profile, sa->profile, sizeof(profile));
	log_warn("%s: DPD: peer %s is dead: %u R-U-THERE unanswered, nothing heard for "
		 "%llu.%03llu s; its SAs are cleared",
		 profile, a, probes, (unsigned long long)(quiet / 1000),
		 (unsigned long long)(quiet % 1000));
	/* no Delete: nobody would read it */
	for (struct ike_child *c = e->children; c; c = c->next)
		if (child_of(c, sa))
			child_remove(e, c, false);
	for (struct ike_sa *o = e->sas; o; o = o->next)
		if (o != sa && !o->dying && same_peer(o, sa))
			o->dying = true;
	sa->dying = true;
	/* recorded as a failure: the initiator's back-off schedules the
	 * next attempt */
	eng_fail(e, profile, IKE_FAIL_NO_ANSWER, 1, 0,
		 "no answer: dead peer detection: %u R-U-THERE to %s unanswered", probes, a);
}

void dpd_run(struct ike_engine *e, struct ike_sa *sa, uint64_t now, int64_t *next)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));
	uint64_t ivl, step;

	if (!pol || !pol->dpd || !pol->dpd_interval || !sa->natt.peer_dpd ||
	    sa->state != IKE_ST_ESTABLISHED || sa->dying || !sa->have_keys || !newest(e, sa))
		return;
	if (!sa->dpd.last_rx_ms || sa->dpd.last_rx_ms < sa->established_ms)
		sa->dpd.last_rx_ms = sa->established_ms;
	if (esp_traffic(e, sa))
		alive(e, sa, now);
	ivl = (uint64_t)pol->dpd_interval * 1000u;
	step = ivl * pol->dpd_retry / ((uint64_t)pol->dpd_retry + 1u);
	if (step < IKE_DPD_POLL_MS)
		step = IKE_DPD_POLL_MS;
	if (!sa->dpd.unanswered)
		sa->dpd.next_probe_ms = sa->dpd.last_rx_ms + ivl;
	if (now >= sa->dpd.next_probe_ms) {
		if (sa->dpd.unanswered > pol->dpd_retry) {
			declare_dead(e, sa, now);
			return;
		}
		if (!sa->dpd.seq_set) {
			/* RFC 3706 7: start from a random number */
			if (eng_random(e, &sa->dpd.seq, sizeof(sa->dpd.seq)))
				sa->dpd.seq = 0;
			sa->dpd.seq &= 0x7fffffffu;
			sa->dpd.seq_set = true;
		}
		sa->dpd.seq++;
		sa->dpd.unanswered++;
		log_debug("%s: R-U-THERE %u (%u of %u)", sa->profile, sa->dpd.seq,
			  sa->dpd.unanswered, pol->dpd_retry + 1u);
		(void)info_send_dpd(e, sa, ISAKMP_N_DPD_R_U_THERE, sa->dpd.seq);
		/* the next one, or the verdict, one step later */
		sa->dpd.next_probe_ms = now + step;
	}
	eng_next_min(next, sa->dpd.next_probe_ms, now);
	/* inbound ESP counters are polled so traffic defers probes */
	eng_next_min(next, now + IKE_DPD_POLL_MS, now);
}
