/* records.c - what the engine remembers about each profile for people:
 * the last failure (class, details, counts, times) and its history, the
 * success that clears it, and what the peer last sent (offers, ID,
 * selectors, vendor IDs) for `show ipsec profile`, `detail` and the
 * troubleshooter. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/enum_name.h"
#include "lib/log.h"
#include "lib/mem.h"
/* ---- failures ---- */

const char *ike_fail_class_name(enum ike_fail_class c)
{
	static const char *const n[IKE_FAIL_COUNT] = {
		[IKE_FAIL_NONE] = "none",
		[IKE_FAIL_NO_PROPOSAL] = "no proposal chosen",
		[IKE_FAIL_ID_MISMATCH] = "ID mismatch",
		[IKE_FAIL_PSK_MISMATCH] = "pre-shared key mismatch",
		[IKE_FAIL_TS_MISMATCH] = "traffic selector mismatch",
		[IKE_FAIL_NO_ANSWER] = "no answer",
		[IKE_FAIL_PEER_NOTIFY] = "peer notify",
		[IKE_FAIL_MALFORMED] = "malformed message",
		[IKE_FAIL_NATT] = "NAT-Traversal mismatch",
		[IKE_FAIL_CONFIG] = "configuration",
	};
	return (unsigned)c < IKE_FAIL_COUNT ? n[c] : "?";
}

bool eng_profile_is_initiator(struct ike_engine *e, const char *name)
{
	const struct kz_ipsec_profile *p = eng_profile(e, name);

	return p && (p->peer_type == KZ_PEER_ADDR || p->peer_type == KZ_PEER_FQDN);
}

/* The failure history of `show ipsec profile NAME detail`: a repeat of the
 * newest run (same class and phase) counts there; anything else opens a run
 * in the ring, over the oldest once it is full. */
static void fail_history_add(struct ike_profile_detail *d, enum ike_fail_class cls, int phase,
			     int64_t now, const char *detail)
{
	struct ike_fail_run *r = d->hist_n
		? &d->hist[(d->hist_next + IKE_FAIL_HISTORY - 1) % IKE_FAIL_HISTORY]
		: NULL;

	if (!r || r->cls != cls || r->phase != phase) {
		r = &d->hist[d->hist_next];
		d->hist_next = (d->hist_next + 1) % IKE_FAIL_HISTORY;
		if (d->hist_n < IKE_FAIL_HISTORY)
			d->hist_n++;
		memset(r, 0, sizeof(*r));
		r->cls = cls;
		r->phase = phase;
		r->first_wall = now;
	}
	r->count++;
	r->last_wall = now;
	kz_strlcpy(r->detail, detail, sizeof(r->detail));
}

const struct ike_fail_run *ike_fail_run_get(const struct ike_profile_detail *d, unsigned n)
{
	if (!d || n >= d->hist_n)
		return NULL;
	return &d->hist[(d->hist_next + IKE_FAIL_HISTORY - 1 - n) % IKE_FAIL_HISTORY];
}

/* The profile's back-off in milliseconds: interval and ceiling, the
 * ceiling never below the interval (the grammar refuses that; a model
 * built some other way still gets a sane sequence). */
static void backoff_limits(const struct kz_ipsec_profile *p, uint64_t *ival, uint64_t *max)
{
	uint32_t i = p && p->retry_interval ? p->retry_interval : KZ_DEF_RETRY_INTERVAL;
	uint32_t m = p && p->retry_max ? p->retry_max : KZ_DEF_RETRY_MAX;

	*ival = (uint64_t)i * 1000u;
	*max = m < i ? *ival : (uint64_t)m * 1000u;
}

/* An initiator that failed tries again after the profile's interval, then
 * twice as long after each further failure up to the ceiling, so a site
 * that cannot get through (wrong key, peer down) costs a metered SIM a few
 * packets an hour, not a stream.  The limits are read at each step: a
 * changed `retry` line applies to the next one. */
static void backoff_step(struct ike_engine *e, const struct kz_ipsec_profile *p,
			 struct ike_prof_rt *rt)
{
	uint64_t ival, max, step;

	backoff_limits(p, &ival, &max);
	step = rt->backoff_ms ? rt->backoff_ms * 2 : ival;
	if (step < ival)
		step = ival;
	if (step > max)
		step = max;
	rt->backoff_ms = step;
	rt->retry_at = eng_now(e) + step;
}

/* When the next attempt is due, for `show ipsec profile`: only while one
 * is waiting (an on-demand profile past its back-off waits for a packet,
 * not for a time). */
static void backoff_status(struct ike_engine *e, const char *profile, struct ike_prof_rt *rt)
{
	uint64_t now = eng_now(e), ival, max;

	backoff_limits(eng_profile(e, profile), &ival, &max);
	rt->st.backoff_max_s = (uint32_t)(max / 1000u);
	rt->st.retry_scheduled = eng_profile_is_initiator(e, profile) && rt->retry_at &&
		(rt->retry_at > now || eng_profile(e, profile)->initiate == KZ_INITIATE_AUTO);
	rt->st.retry_in_s = rt->st.retry_scheduled && rt->retry_at > now
		? (uint32_t)((rt->retry_at - now + 999u) / 1000u)
		: 0;
	rt->st.backoff_s = rt->st.retry_scheduled ? (uint32_t)(rt->backoff_ms / 1000u) : 0;
}

/* ", peer ADDR:PORT, id ID" of the exchange being handled, for a log
 * line; "" when the failure has no peer (a config problem, no address). */
void eng_sa_who(const struct ike_sa *sa, char *out, size_t len)
{
	/* the ID as the peer sent it, verified or not yet */
	const uint8_t *b = sa->initiator ? sa->idr_b : sa->idi_b;
	size_t n = sa->initiator ? sa->idr_len : sa->idi_len;
	char a[INET_ADDRSTRLEN], id[160] = "-";

	if (sa->peer_id[0])
		kz_strlcpy(id, sa->peer_id, sizeof(id));
	else if (n)
		id_body_str(b, n, id, sizeof(id));
	inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a));
	snprintf(out, len, ", peer %s:%u, id %s", a, ntohs(sa->peer.sin_port), id);
}

/* The IKE SA that made the pair, else the newest with its peer under its
 * profile, else none: then the pair's own peer address. */
void eng_child_who(const struct ike_engine *e, const struct ike_child *c, char *out, size_t len)
{
	const struct ike_sa *best = NULL;
	char a[INET_ADDRSTRLEN];

	for (const struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->serial == c->in.ike_serial) {
			best = sa;
			break;
		}
		if (sa->state == IKE_ST_ESTABLISHED &&
		    sa->peer.sin_addr.s_addr == c->out.peer.sin_addr.s_addr &&
		    !strcmp(sa->profile, c->profile) &&
		    (!best || sa->established_ms >= best->established_ms))
			best = sa;
	}
	if (best) {
		eng_sa_who(best, out, len);
		return;
	}
	inet_ntop(AF_INET, &c->out.peer.sin_addr, a, sizeof(a));
	if (c->out.peer.sin_port)
		snprintf(out, len, ", peer %s:%u, id -", a, ntohs(c->out.peer.sin_port));
	else
		snprintf(out, len, ", peer %s, id -", a);
}

void eng_sa_log(enum kz_log_level lvl, const struct ike_sa *sa, const char *fmt, ...)
{
	char line[KZ_LOG_LINE], who[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	eng_sa_who(sa, who, sizeof(who));
	kz_log(lvl, "%s%s", line, who);
}

void eng_child_log(enum kz_log_level lvl, const struct ike_engine *e, const struct ike_child *c,
		   const char *fmt, ...)
{
	char line[KZ_LOG_LINE], who[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	eng_child_who(e, c, who, sizeof(who));
	kz_log(lvl, "%s%s", line, who);
}

static void fail_who(const struct ike_engine *e, char *out, size_t len)
{
	char a[INET_ADDRSTRLEN];

	out[0] = '\0';
	if (e->fail_sa) {
		eng_sa_who(e->fail_sa, out, len);
	} else if (e->fail_src.s_addr) {
		inet_ntop(AF_INET, &e->fail_src, a, sizeof(a));
		snprintf(out, len, ", peer %s, id -", a);
	}
}

void eng_fail(struct ike_engine *e, const char *profile, enum ike_fail_class cls, int phase,
	      uint16_t notify, const char *fmt, ...)
{
	struct ike_prof_rt *rt = profile ? eng_prof_rt(e, profile) : NULL;
	char detail[sizeof(rt->st.detail)], who[200];
	va_list ap;
	bool same;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	fail_who(e, who, sizeof(who));
	if (!rt) {
		log_warn("%s: phase %d failed: %s%s",
			 profile && *profile ? profile : "(no profile)", phase, detail, who);
		return;
	}
	same = rt->st.count && rt->st.last_class == cls && !strcmp(rt->st.detail, detail);
	if (rt->st.count && rt->st.last_class == cls) {
		rt->st.count++;
	} else {
		rt->st.count = 1;
		rt->st.first_wall = e->io.wall(e->io.arg);
	}
	rt->st.last_class = cls;
	rt->st.phase = phase;
	rt->st.peer_notify = notify;
	rt->st.last_wall = e->io.wall(e->io.arg);
	rt->st.failures_total++;
	if ((unsigned)cls < IKE_FAIL_COUNT)
		rt->st.fail_by_class[cls]++;
	rt->st.our_offer[0] = rt->st.their_offer[0] = 0;
	rt->st.id_received[0] = rt->st.id_expected[0] = 0;
	rt->st.pfs_mismatch = false;
	kz_strlcpy(rt->st.detail, detail, sizeof(rt->st.detail));
	fail_history_add(&rt->st.more, cls, phase, rt->st.last_wall, detail);
	/* One clear line per distinct failure; repeats only at debug level. */
	if (!same && eng_fail_line_allowed(e))
		log_warn("%s: phase %d failed: %s%s", profile, phase, detail, who);
	else
		log_debug("%s: phase %d failed again (%u times): %s%s", profile, phase,
			  rt->st.count, detail, who);
	if (eng_profile_is_initiator(e, profile))
		backoff_step(e, eng_profile(e, profile), rt);
}

void eng_fail_proposal(struct ike_engine *e, const char *profile, int phase, const char *ours,
		       const char *theirs)
{
	struct ike_prof_rt *rt;

	eng_fail(e, profile, IKE_FAIL_NO_PROPOSAL, phase, 0,
		 "no proposal chosen: we offered %s, the peer offered %s", ours, theirs);
	rt = eng_prof_rt(e, profile);
	if (rt) {
		kz_strlcpy(rt->st.our_offer, ours, sizeof(rt->st.our_offer));
		kz_strlcpy(rt->st.their_offer, theirs, sizeof(rt->st.their_offer));
	}
}

void eng_fail_pfs(struct ike_engine *e, const char *profile, const char *ours, const char *theirs,
		  enum kz_group our_pfs, enum kz_group their_pfs)
{
	struct ike_prof_rt *rt;

	eng_fail(e, profile, IKE_FAIL_NO_PROPOSAL, 2, 0,
		 "no proposal chosen: PFS differs: our IPsec policy has pfs %s, the peer "
		 "offered pfs %s",
		 kz_group_name(our_pfs), kz_group_name(their_pfs));
	rt = eng_prof_rt(e, profile);
	if (rt) {
		kz_strlcpy(rt->st.our_offer, ours, sizeof(rt->st.our_offer));
		kz_strlcpy(rt->st.their_offer, theirs, sizeof(rt->st.their_offer));
		rt->st.pfs_mismatch = true;
		rt->st.pfs_ours = our_pfs;
		rt->st.pfs_theirs = their_pfs;
	}
}

void eng_success(struct ike_engine *e, const char *profile, const struct ike_sa *sa)
{
	struct ike_prof_rt *rt = eng_prof_rt(e, profile);

	if (!rt)
		return;
	rt->st.count = 0;
	rt->st.established_wall = e->io.wall(e->io.arg);
	rt->st.nat_local = sa->natt.nat_local;
	rt->st.nat_peer = sa->natt.nat_peer;
	rt->st.nat_measured = sa->natt.on;
	rt->st.nat_detected = sa->natt.nat_local || sa->natt.nat_peer;
	rt->backoff_ms = 0;
	rt->retry_at = 0;
	/* a finished phase 1 is further than any half-open one before it */
	memset(&rt->st.halfopen, 0, sizeof(rt->st.halfopen));
}

/* ---- exchanges that started and did not finish ---- */

/* The number of the last message we sent in the exchange, by the state
 * it waits in (exchange.h: "sent MM1, waiting for MM2" is 1). */
static unsigned msg_sent_of(enum ike_state st)
{
	switch (st) {
	case MM_I1:
	case AM_I1:
		return 1;
	case MM_R1:
	case AM_R1:
		return 2;
	case MM_I2:
		return 3;
	case MM_R2:
		return 4;
	case MM_I3:
		return 5;
	default:
		return 0;
	}
}

static void exch_fill(struct ike_engine *e, const struct ike_sa *sa, const struct ike_qm *q,
		      struct ike_exch_rec *r)
{
	uint64_t now = eng_now(e), start = q ? q->started_ms : sa->created_ms;
	int64_t wall = e->io.wall(e->io.arg);
	const uint8_t *idb = sa->initiator ? sa->idr_b : sa->idi_b;
	size_t idn = sa->initiator ? sa->idr_len : sa->idi_len;

	r->set = true;
	r->initiator = q ? q->initiator : sa->initiator;
	r->aggressive = sa->mode == KZ_MODE_AGGRESSIVE;
	r->phase = q ? 2 : 1;
	r->msg_sent = q ? (q->state == QM_I1           ? 1u
				   : q->state == QM_R1 ? 2u
						       : 0u)
			: msg_sent_of(sa->state);
	r->tries = q ? q->tx.tries : sa->tx.tries;
	r->peer = sa->peer.sin_addr;
	r->peer_port = ntohs(sa->peer.sin_port);
	if (sa->peer_id[0])
		kz_strlcpy(r->peer_id, sa->peer_id, sizeof(r->peer_id));
	else if (idn)
		id_body_str(idb, idn, r->peer_id, sizeof(r->peer_id));
	else
		r->peer_id[0] = 0;
	r->last_wall = wall;
	r->first_wall = wall - (int64_t)((now > start ? now - start : 0) / 1000u);
}

void eng_halfopen_end(struct ike_engine *e, const struct ike_sa *sa, const struct ike_qm *q)
{
	struct ike_prof_rt *rt = sa->profile[0] ? eng_prof_rt(e, sa->profile) : NULL;
	struct ike_exch_rec r = { 0 }, *h;

	if (!rt)
		return;
	h = &rt->st.halfopen;
	exch_fill(e, sa, q, &r);
	r.count = h->set && h->phase == r.phase && h->msg_sent == r.msg_sent &&
			h->initiator == r.initiator
		? h->count + 1
		: 1;
	if (r.count > 1)
		r.first_wall = h->first_wall;
	*h = r;
}

void eng_records_superseded(struct ike_engine *e, const char *profile)
{
	struct ike_prof_rt *rt = eng_prof_rt(e, profile);

	if (!rt)
		return;
	rt->st.count = 0;
	memset(&rt->st.halfopen, 0, sizeof(rt->st.halfopen));
}

const struct ike_profile_status *ike_profile_status(struct ike_engine *e, const char *profile)
{
	struct ike_prof_rt *rt = eng_prof_rt(e, profile);

	if (!rt)
		return NULL;
	rt->st.established = false;
	rt->st.negotiating = false;
	rt->st.has_sas = false;
	rt->st.dpd = IKE_DPD_NO_SA;
	rt->st.dpd_off_ipsec_left_s = rt->st.dpd_off_ike_left_s = 0;
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || strcmp(sa->profile, profile))
			continue;
		rt->st.has_sas = true;
		if (sa->state == IKE_ST_ESTABLISHED && !rt->st.established) {
			const struct kz_ike_policy *pol = p1_policy(e, sa);
			uint64_t now = eng_now(e);

			rt->st.established = true;
			rt->st.dpd = !pol || !pol->dpd || !pol->dpd_interval ? IKE_DPD_OFF_OURS
				: !sa->natt.peer_dpd                         ? IKE_DPD_OFF_PEER
									     : IKE_DPD_ON;
			if (sa->expire_ms > now)
				rt->st.dpd_off_ike_left_s =
					(uint32_t)((sa->expire_ms - now) / 1000u);
		} else if (sa->state == IKE_ST_ESTABLISHED)
			rt->st.established = true;
		else
			rt->st.negotiating = true;
		for (struct ike_qm *q = sa->qm; q; q = q->next)
			rt->st.negotiating |= !q->dying && q->state != QM_DONE;
	}
	for (struct ike_child *c = e->children; c; c = c->next) {
		uint64_t now = eng_now(e);
		uint32_t left;

		if (c->dying || strcmp(c->profile, profile))
			continue;
		rt->st.has_sas = true;
		left = c->expire_ms > now ? (uint32_t)((c->expire_ms - now) / 1000u) : 0;
		if (left > rt->st.dpd_off_ipsec_left_s)
			rt->st.dpd_off_ipsec_left_s = left;
	}
	rt->st.wan_down = ike_wan_down(e);
	memset(&rt->st.inflight, 0, sizeof(rt->st.inflight));
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || strcmp(sa->profile, profile))
			continue;
		if (sa->state != IKE_ST_ESTABLISHED && sa->initiator && sa->tx.tries) {
			exch_fill(e, sa, NULL, &rt->st.inflight);
			break;
		}
		for (struct ike_qm *q = sa->qm; q; q = q->next)
			if (!q->dying && q->initiator && q->state == QM_I1 && q->tx.tries) {
				exch_fill(e, sa, q, &rt->st.inflight);
				break;
			}
	}
	backoff_status(e, profile, rt);
	return &rt->st;
}

const char *ike_dpd_state_name(enum ike_dpd_state s)
{
	static const char *const n[] = {
		[IKE_DPD_NO_SA] = "no-sa",
		[IKE_DPD_ON] = "on",
		[IKE_DPD_OFF_OURS] = "off",
		[IKE_DPD_OFF_PEER] = "off-peer",
	};
	return KZ_ENUM_NAME(n, s, "no-sa");
}

const struct ike_profile_detail *ike_profile_detail(struct ike_engine *e, const char *profile)
{
	struct ike_prof_rt *rt = eng_prof_rt(e, profile);

	return rt ? &rt->st.more : NULL;
}

/* ---- what the peer sent, for `show ipsec profile NAME detail` ---- */

static struct ike_peer_seen *seen_of(struct ike_engine *e, const char *profile)
{
	struct ike_prof_rt *rt = profile && *profile ? eng_prof_rt(e, profile) : NULL;

	return rt ? &rt->st.more.peer : NULL;
}

void ike_seen_offer(struct ike_engine *e, const char *profile, int phase, bool chosen,
		    const char *text)
{
	struct ike_peer_seen *ps = seen_of(e, profile);

	if (!ps)
		return;
	if (phase == 1) {
		kz_strlcpy(ps->p1_offer, text, sizeof(ps->p1_offer));
		ps->p1_chosen = chosen;
		ps->p1_wall = e->io.wall(e->io.arg);
	} else {
		kz_strlcpy(ps->p2_offer, text, sizeof(ps->p2_offer));
		ps->p2_chosen = chosen;
		ps->p2_wall = e->io.wall(e->io.arg);
	}
}

void ike_seen_id(struct ike_engine *e, const char *profile, const uint8_t *body, size_t len)
{
	struct ike_peer_seen *ps = seen_of(e, profile);
	char text[sizeof(ps->id_type) + sizeof(ps->id_value)];
	const char *sp;

	if (!ps)
		return;
	/* id_body_str says "<type> <value>" ("ID type N" for the others) */
	id_body_str(body, len, text, sizeof(text));
	if (!strncmp(text, "ID type ", 8)) {
		snprintf(ps->id_type, sizeof(ps->id_type), "type %.3s", text + 8);
		ps->id_value[0] = 0;
	} else if ((sp = strchr(text, ' ')) != NULL) {
		size_t tl = (size_t)(sp - text);

		if (tl >= sizeof(ps->id_type))
			tl = sizeof(ps->id_type) - 1;
		memcpy(ps->id_type, text, tl);
		ps->id_type[tl] = 0;
		kz_strlcpy(ps->id_value, sp + 1, sizeof(ps->id_value));
	} else {
		kz_strlcpy(ps->id_type, text, sizeof(ps->id_type));
		ps->id_value[0] = 0;
	}
	ps->id_wall = e->io.wall(e->io.arg);
}

void ike_seen_ts(struct ike_engine *e, const char *profile, const struct kz_prefix *ci,
		 const struct kz_prefix *cr)
{
	struct ike_peer_seen *ps = seen_of(e, profile);

	if (!ps)
		return;
	ps->ts_ci = *ci;
	ps->ts_cr = *cr;
	ps->ts_ci_text[0] = ps->ts_cr_text[0] = '\0';
	ps->ts_set = true;
	ps->ts_wall = e->io.wall(e->io.arg);
}

void ike_seen_ts_text(struct ike_engine *e, const char *profile, const char *ci, const char *cr)
{
	struct ike_peer_seen *ps = seen_of(e, profile);

	if (!ps)
		return;
	memset(&ps->ts_ci, 0, sizeof(ps->ts_ci));
	memset(&ps->ts_cr, 0, sizeof(ps->ts_cr));
	snprintf(ps->ts_ci_text, sizeof(ps->ts_ci_text), "%s", ci ? ci : "(prefix)");
	snprintf(ps->ts_cr_text, sizeof(ps->ts_cr_text), "%s", cr ? cr : "(prefix)");
	ps->ts_set = true;
	ps->ts_wall = e->io.wall(e->io.arg);
}

void ike_seen_note(struct ike_engine *e, const char *profile, const char *text)
{
	struct ike_peer_seen *ps = seen_of(e, profile);

	if (!ps)
		return;
	if (ps->nnotes == IKE_PEER_NOTES) {
		memmove(ps->notes[0], ps->notes[1], sizeof(ps->notes[0]) * (IKE_PEER_NOTES - 1));
		ps->nnotes--;
	}
	kz_strlcpy(ps->notes[ps->nnotes++], text, sizeof(ps->notes[0]));
	ps->notes_wall = e->io.wall(e->io.arg);
}

void ike_seen_vid(struct ike_engine *e, const char *profile, const uint8_t *vid, size_t len,
		  bool first)
{
	struct ike_peer_seen *ps = seen_of(e, profile);

	if (!ps)
		return;
	if (first)
		ps->nvids = 0;
	ps->vid_wall = e->io.wall(e->io.arg);
	if (vid && ps->nvids < IKE_PEER_VIDS)
		ike_vid_name(vid, len, ps->vids[ps->nvids++], sizeof(ps->vids[0]));
}
