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
 * rekey overlap does not double the probes.
 *
 * A peer that restarted knows none of our SAs; kizuna then answers our
 * ESP with an unprotected INVALID-SPI notify (ikev1_info.c).  Anybody can
 * forge that, so it is only a hint: the first R-U-THERE goes out at once
 * and the next ones IKE_DPD_HINT_STEP_MS apart (when that is shorter than
 * the usual step); the peer is still declared dead only when M + 1 probes
 * went unanswered, and one answer ends it.  At most one hint per interval
 * is acted on, so a forger gets at most one probe per interval out of us.
 * A peer found dead after a hint is up but without our SAs: the initiator
 * tries again at once, and the back-off applies from the attempt after
 * that. */
#include <arpa/inet.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

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
	bool probing = false;

	for (struct ike_sa *o = e->sas; o; o = o->next) {
		if (o->dying || o->state != IKE_ST_ESTABLISHED || !same_peer(o, sa))
			continue;
		probing |= o->dpd.unanswered > 0;
		o->dpd.last_rx_ms = now;
		o->dpd.unanswered = 0;
		o->dpd.next_probe_ms = 0;
		o->dpd.hinted = false;
	}
	if (probing) /* an answer while our R-U-THEREs were out: alive */
		eng_metric_dpd(e, sa->profile, true);
}

void dpd_activity(struct ike_engine *e, struct ike_sa *sa)
{
	/* this very SA, not all with the peer (ikev1_rekey.c peer_holds) */
	sa->rx_auth_ms = eng_now(e);
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
	bool hinted = sa->dpd.hinted;
	char profile[KZ_NAME_MAX];
	struct ike_prof_rt *rt;

	inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a));
	kz_strlcpy(profile, sa->profile, sizeof(profile));
	eng_sa_log(KZ_LOG_WARN, sa,
		   "%s: DPD: peer %s is dead: %u R-U-THERE unanswered, nothing heard for "
		   "%llu.%03llu s; its SAs are cleared",
		   profile, a, probes, (unsigned long long)(quiet / 1000),
		   (unsigned long long)(quiet % 1000));
	eng_metric_dpd(e, profile, false);
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
	/* After an INVALID-SPI hint the peer is up and lost its SAs (it
	 * restarted): it answers a new phase 1 now, so the first attempt goes
	 * at once; eng_fail() already doubled the back-off for the next.  A
	 * peer that went silent gets the back-off. */
	rt = eng_prof_rt(e, profile);
	if (hinted && rt && rt->retry_at > now)
		rt->retry_at = now;
}

/* The IKE policy when sa is the one that probes its peer, else NULL. */
static const struct kz_ike_policy *dpd_policy(struct ike_engine *e, const struct ike_sa *sa)
{
	const struct kz_ike_policy *pol = eng_ike_policy(e, eng_profile(e, sa->profile));

	if (!pol || !pol->dpd || !pol->dpd_interval || !sa->natt.peer_dpd ||
	    sa->state != IKE_ST_ESTABLISHED || sa->dying || !sa->have_keys || !newest(e, sa))
		return NULL;
	return pol;
}

static void probe(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol)
{
	if (!sa->dpd.seq_set) {
		/* RFC 3706 7: start from a random number */
		if (eng_random(e, &sa->dpd.seq, sizeof(sa->dpd.seq)))
			sa->dpd.seq = 0;
		sa->dpd.seq &= 0x7fffffffu;
		sa->dpd.seq_set = true;
	}
	sa->dpd.seq++;
	sa->dpd.unanswered++;
	log_debug("%s: R-U-THERE %u (%u of %u)", sa->profile, sa->dpd.seq, sa->dpd.unanswered,
		  pol->dpd_retry + 1u);
	(void)info_send_dpd(e, sa, ISAKMP_N_DPD_R_U_THERE, sa->dpd.seq);
}

/* Time between R-U-THEREs: N * M / (M + 1), shorter after a hint. */
static uint64_t probe_step(const struct ike_sa *sa, const struct kz_ike_policy *pol)
{
	uint64_t ivl = (uint64_t)pol->dpd_interval * 1000u;
	uint64_t step = ivl * pol->dpd_retry / ((uint64_t)pol->dpd_retry + 1u);

	if (sa->dpd.hinted && step > IKE_DPD_HINT_STEP_MS)
		step = IKE_DPD_HINT_STEP_MS;
	return step < IKE_DPD_POLL_MS ? IKE_DPD_POLL_MS : step;
}

void dpd_hint(struct ike_engine *e, struct ike_sa *sa, uint32_t spi)
{
	const struct kz_ike_policy *pol;
	uint64_t now = eng_now(e);

	/* the SA that probes this peer, if any */
	for (struct ike_sa *o = e->sas; o; o = o->next)
		if (o->state == IKE_ST_ESTABLISHED && !o->dying && same_peer(o, sa) && newest(e, o))
			sa = o;
	pol = dpd_policy(e, sa);
	if (!pol) {
		log_debug("%s: INVALID-SPI for spi 0x%08x ignored: no DPD with this peer",
			  sa->profile, spi);
		return;
	}
	if (sa->dpd.hinted ||
	    (sa->dpd.hint_ms && now - sa->dpd.hint_ms < (uint64_t)pol->dpd_interval * 1000u))
		return;
	/* ESP counted since the last poll came before the hint: take it in
	 * now, or the next poll would take it as an answer and end the
	 * probing the hint started */
	if (esp_traffic(e, sa))
		alive(e, sa, now);
	sa->dpd.hint_ms = now;
	sa->dpd.hinted = true;
	eng_sa_log(KZ_LOG_INFO, sa,
		   "%s: the peer says it has no IPsec SA spi 0x%08x (INVALID-SPI, "
		   "unauthenticated): R-U-THERE now",
		   sa->profile, spi);
	if (!sa->dpd.unanswered)
		probe(e, sa, pol);
	if (!sa->dpd.next_probe_ms || sa->dpd.next_probe_ms > now + probe_step(sa, pol))
		sa->dpd.next_probe_ms = now + probe_step(sa, pol);
}

void dpd_run(struct ike_engine *e, struct ike_sa *sa, uint64_t now, int64_t *next)
{
	const struct kz_ike_policy *pol = dpd_policy(e, sa);
	uint64_t ivl;

	if (!pol)
		return;
	if (!sa->dpd.last_rx_ms || sa->dpd.last_rx_ms < sa->established_ms)
		sa->dpd.last_rx_ms = sa->established_ms;
	if (esp_traffic(e, sa))
		alive(e, sa, now);
	ivl = (uint64_t)pol->dpd_interval * 1000u;
	if (!sa->dpd.unanswered)
		sa->dpd.next_probe_ms = sa->dpd.last_rx_ms + ivl;
	if (now >= sa->dpd.next_probe_ms) {
		if (sa->dpd.unanswered > pol->dpd_retry) {
			declare_dead(e, sa, now);
			return;
		}
		probe(e, sa, pol);
		/* the next one, or the verdict, one step later */
		sa->dpd.next_probe_ms = now + probe_step(sa, pol);
	}
	eng_next_min(next, sa->dpd.next_probe_ms, now);
	/* inbound ESP counters are polled so traffic defers probes */
	eng_next_min(next, now + IKE_DPD_POLL_MS, now);
}
