/* engine.c - the engine's public face and the runtime of each profile:
 * creation, configuration changes (fingerprints of a profile's settings,
 * WAN address changes), initiation and the first phase 1 message. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

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
	eng_records_superseded(e, name);
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
			 "configuration: the profile's IKE or IPsec policy is missing or "
			 "incomplete");
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
		if (!busy && profile_missing_pair(e, name))
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
	else
		eng_started(e, sa, NULL,
			    pol->mode == KZ_MODE_AGGRESSIVE ? ISAKMP_XCHG_AGGR
							    : ISAKMP_XCHG_IDPROT);
	return r;
}

void ike_get_counters(const struct ike_engine *e, struct ike_counters *c)
{
	*c = e->ctr;
}
