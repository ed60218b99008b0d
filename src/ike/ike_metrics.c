/* ike_metrics.c - what the engine counts for kizunad's metrics file:
 * rekeys and DPD verdicts per profile (failures by class are counted by
 * eng_fail), the SAs of a profile now, and the list of IPsec SA pairs. */
#include <string.h>

#include "ike/exchange.h"

void eng_metric_dpd(struct ike_engine *e, const char *profile, bool alive)
{
	struct ike_prof_rt *rt = eng_prof_rt(e, profile);

	if (!rt)
		return;
	if (alive)
		rt->st.dpd_alive++;
	else
		rt->st.dpd_dead++;
}

/* Past half its lifetime: an SA replaced then is a rekey, not the twin
 * both sites made when they initiated at once (ikev1_rekey.c). */
static bool half_gone(uint64_t made, uint64_t expire, uint64_t now)
{
	return made && expire > made && now - made >= (expire - made) / 2u;
}

/* A new pair while an older pair of the same profile and selectors is up
 * and past half its life (or was asked to be replaced): a rekey, whichever
 * side negotiated it. */
void eng_metric_child_rekey(struct ike_engine *e, struct ike_child *c)
{
	uint64_t now = eng_now(e);
	struct ike_prof_rt *rt;

	for (const struct ike_child *o = e->children; o; o = o->next) {
		if (o == c || o->dying || strcmp(o->profile, c->profile) ||
		    !kz_prefix_equal(&o->in.local_ts, &c->in.local_ts) ||
		    !kz_prefix_equal(&o->in.remote_ts, &c->in.remote_ts))
			continue;
		if (o->rekey_started_ms || half_gone(o->in.created_ms, o->expire_ms, now) ||
		    (o->hard_bytes && o->poll_bytes >= o->hard_bytes / 2u)) {
			rt = eng_prof_rt(e, c->profile);
			if (rt)
				rt->st.ipsec_rekeys++;
			return;
		}
	}
}

void eng_metric_ike_rekey(struct ike_engine *e, const struct ike_sa *sa)
{
	uint64_t now = eng_now(e);
	struct ike_prof_rt *rt;

	if (sa->dying) /* a twin dup_phase1_done() just dropped */
		return;
	for (const struct ike_sa *o = e->sas; o; o = o->next) {
		if (o == sa || o->dying || o->state != IKE_ST_ESTABLISHED ||
		    strcmp(o->profile, sa->profile) ||
		    o->peer.sin_addr.s_addr != sa->peer.sin_addr.s_addr)
			continue;
		if (sa->replaces || o->rekeyed || half_gone(o->established_ms, o->expire_ms, now)) {
			rt = eng_prof_rt(e, sa->profile);
			if (rt)
				rt->st.ike_rekeys++;
			return;
		}
	}
}

void ike_profile_sa_counts(struct ike_engine *e, const char *profile, unsigned *ike_sas,
			   unsigned *ipsec_sas)
{
	*ike_sas = *ipsec_sas = 0;
	for (const struct ike_sa *sa = e->sas; sa; sa = sa->next)
		*ike_sas += !sa->dying && sa->state == IKE_ST_ESTABLISHED &&
			!strcmp(sa->profile, profile);
	for (const struct ike_child *c = e->children; c; c = c->next)
		*ipsec_sas += !c->dying && !strcmp(c->profile, profile) ? 2u : 0u;
}

void ike_each_child(struct ike_engine *e,
		    void (*fn)(void *arg, const char *profile, unsigned unit, uint32_t spi_in,
			       uint32_t spi_out),
		    void *arg)
{
	const struct ike_child *v[256];
	size_t n = 0;

	/* the list is newest first: oldest first, as `show ipsec sa` */
	for (const struct ike_child *c = e->children; c; c = c->next) {
		if (c->dying)
			continue;
		if (n == sizeof(v) / sizeof(v[0]))
			break;
		v[n++] = c;
	}
	while (n--)
		fn(arg, v[n]->profile, v[n]->in.ipsec_unit, v[n]->in.spi, v[n]->out.spi);
}
