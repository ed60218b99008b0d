/* diagnose.c - `diagnose ipsec [PROFILE] [json]`: builds the snapshot the
 * troubleshooter (src/diag/) judges from the live daemon - the running
 * config, MobileEthernet0.0 and the IPsec<N> devices as netlink sees them,
 * the kernel's routes into IPsec<N>, per profile what the IKE engine saw
 * and the data-plane counters of its SAs - and renders the report in the
 * console client's language. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "diag/diag.h"
#include "ike/ike.h"
#include "ike/isakmp.h"
#include "lib/emit.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/netlink.h"
#include "lib/mobile_view.h"
#include "daemon/daemon.h"

#ifndef KZ_LOCALEDIR
#define KZ_LOCALEDIR "/usr/local/share/locale"
#endif

/* ---- the Japanese catalogue, loaded once ---- */

static struct diag_lang *lang_ja;
static bool lang_ja_tried;

static void lang_free(void)
{
	diag_lang_free(lang_ja);
	lang_ja = NULL;
}

/* A build-tree daemon (build/kizunad) finds build/locale; an installed
 * one KZ_LOCALEDIR. */
static const struct diag_lang *lang_get(const char *code)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	char *slash;

	if (!code || strcmp(code, "ja"))
		return diag_lang_en();
	if (lang_ja_tried)
		return lang_ja ? lang_ja : diag_lang_en();
	lang_ja_tried = true;
	atexit(lang_free);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(path, sizeof(path), "%s/locale/ja/LC_MESSAGES/kizuna.mo", exe);
			if (diag_lang_load(path, "ja", &lang_ja) == 0)
				return lang_ja;
		}
	}
	snprintf(path, sizeof(path), "%s/ja/LC_MESSAGES/kizuna.mo", KZ_LOCALEDIR);
	if (diag_lang_load(path, "ja", &lang_ja) == 0)
		return lang_ja;
	log_warn("diagnose: no Japanese message catalogue (%s): English it is", path);
	return diag_lang_en();
}

void kzd_diagnose_preload(void)
{
	(void)lang_get("ja");
}

/* ---- outbound packets outside every selector ---- */

/* The data plane counts them globally ("outbound_no_sa" of `show ipsec
 * statistics`), from start-up on, including packets that arrived
 * before any SA existed.  Only growth while a pair is up says A8.2, so
 * the value is remembered per outbound SPI the first time diagnose sees
 * the pair, and the growth since is reported from the next run on. */
#define BASELINES 64
static struct {
	uint32_t spi_out;
	uint64_t value;
} baseline[BASELINES];
static unsigned nbaseline;

static bool outside_since(uint32_t spi_out, uint64_t now_value, uint64_t *since)
{
	for (unsigned i = 0; i < nbaseline; i++)
		if (baseline[i].spi_out == spi_out) {
			*since = now_value >= baseline[i].value ? now_value - baseline[i].value : 0;
			return true;
		}
	baseline[nbaseline % BASELINES].spi_out = spi_out;
	baseline[nbaseline % BASELINES].value = now_value;
	if (nbaseline < BASELINES)
		nbaseline++;
	return false;
}

/* ---- the snapshot ---- */

static enum diag_fail fail_of(enum ike_fail_class c)
{
	switch (c) {
	case IKE_FAIL_NO_PROPOSAL:
		return DIAG_FAIL_NO_PROPOSAL;
	case IKE_FAIL_ID_MISMATCH:
		return DIAG_FAIL_ID_MISMATCH;
	case IKE_FAIL_PSK_MISMATCH:
		return DIAG_FAIL_PSK_MISMATCH;
	case IKE_FAIL_TS_MISMATCH:
		return DIAG_FAIL_TS_MISMATCH;
	case IKE_FAIL_NO_ANSWER:
		return DIAG_FAIL_NO_ANSWER;
	case IKE_FAIL_PEER_NOTIFY:
		return DIAG_FAIL_PEER_NOTIFY;
	case IKE_FAIL_MALFORMED:
		return DIAG_FAIL_MALFORMED;
	case IKE_FAIL_NATT:
		return DIAG_FAIL_NATT;
	case IKE_FAIL_CONFIG:
		return DIAG_FAIL_CONFIG;
	default:
		return DIAG_FAIL_NONE;
	}
}

static void exch_of(const struct ike_exch_rec *r, struct diag_exch *x)
{
	memset(x, 0, sizeof(*x));
	if (!r->set)
		return;
	x->set = true;
	x->initiator = r->initiator;
	x->aggressive = r->aggressive;
	x->phase = r->phase;
	x->msg_sent = r->msg_sent;
	x->tries = r->tries;
	x->peer = r->peer;
	x->peer_port = r->peer_port;
	kz_strlcpy(x->peer_id, r->peer_id, sizeof(x->peer_id));
	x->first_wall = r->first_wall;
	x->last_wall = r->last_wall;
	x->count = r->count;
}

static void profile_state(struct kzd *d, const char *name, bool have_outside, uint64_t outside,
			  struct diag_profile_state *ps)
{
	const struct ike_profile_status *st = d->ike ? ike_profile_status(d->ike, name) : NULL;
	struct ike_profile_sas sas;
	struct kz_child_stats cs;

	memset(ps, 0, sizeof(*ps));
	kz_strlcpy(ps->profile, name, sizeof(ps->profile));
	if (!d->ike)
		return;
	ike_profile_sas(d->ike, name, &sas);
	ps->known = st != NULL;
	ps->ike_up = sas.ike_up;
	ps->ike_negotiating = sas.ike_negotiating;
	ps->ike_natt_floated = sas.ike_natt;
	ps->sas_down = st && st->wan_down && st->has_sas;
	if (sas.ipsec_up) {
		ps->ipsec_up = true;
		ps->unit = sas.unit;
		ps->spi_in = sas.spi_in;
		ps->spi_out = sas.spi_out;
		ps->local_ts = sas.local_ts;
		ps->remote_ts = sas.remote_ts;
		ps->ipsec_up_since = sas.ipsec_up_wall;
		dp_sa_stats(d->dp, sas.spi_out, KZ_CHILD_OUT, &cs);
		ps->out_packets = cs.packets;
		ps->out_last = cs.last_unix;
		dp_sa_stats(d->dp, sas.spi_in, KZ_CHILD_IN, &cs);
		ps->in_packets = cs.packets;
		ps->in_last = cs.last_unix;
		if (have_outside)
			ps->outside_known = outside_since(sas.spi_out, outside, &ps->outside_drops);
	}
	if (!st)
		return;
	ps->ike_up_since = st->established_wall;
	/* NAT-D results belong to the last established exchange, and exist
	 * only when NAT-Traversal was agreed (no NAT-D without it); they
	 * describe the path only while that IKE SA is up (a new peer, a new
	 * WAN address, a restarted peer may have another) */
	ps->nat_known = st->established_wall != 0 && st->nat_measured && sas.ike_up;
	ps->nat_local = st->nat_local;
	ps->nat_peer = st->nat_peer;
	ps->dpd_off_peer = st->dpd == IKE_DPD_OFF_PEER;
	ps->dpd_recovery_s =
		st->dpd_off_ipsec_left_s ? st->dpd_off_ipsec_left_s : st->dpd_off_ike_left_s;
	exch_of(&st->halfopen, &ps->halfopen);
	exch_of(&st->inflight, &ps->inflight);
	if (st->count && st->last_class != IKE_FAIL_NONE) {
		ps->fail = fail_of(st->last_class);
		ps->phase = st->phase;
		ps->count = st->count;
		ps->first_wall = st->first_wall;
		ps->last_wall = st->last_wall;
		ps->peer_notify = st->peer_notify;
		if (st->peer_notify)
			kz_strlcpy(ps->notify_name, isakmp_notify_name(st->peer_notify),
				   sizeof(ps->notify_name));
		kz_strlcpy(ps->our_offer, st->our_offer, sizeof(ps->our_offer));
		kz_strlcpy(ps->their_offer, st->their_offer, sizeof(ps->their_offer));
		ps->pfs_mismatch = st->pfs_mismatch;
		ps->pfs_ours = st->pfs_ours;
		ps->pfs_theirs = st->pfs_theirs;
		kz_strlcpy(ps->id_received, st->id_received, sizeof(ps->id_received));
		kz_strlcpy(ps->id_expected, st->id_expected, sizeof(ps->id_expected));
		kz_strlcpy(ps->detail, st->detail, sizeof(ps->detail));
	}
}

static void mobile_state(struct kzd *d, struct diag_mobile *m)
{
	struct kz_link_state st;
	const char *dev = d->running->mobile.device;

	memset(m, 0, sizeof(*m));
	if (!dev[0] || kz_net_link_get(dev, &st) < 0 || !st.exists)
		return;
	m->exists = true;
	m->admin_up = st.admin_up;
	m->lower_up = st.lower_up;
	if (st.naddr) {
		m->has_addr = true;
		m->addr = st.addr[0].addr;
		m->plen = st.addr[0].plen;
	}
}

int kzd_diagnose(struct kzd *d, const char *profile, const char *lang, struct emit *e, int *verdict)
{
	const struct kz_config *c = d->running;
	const struct diag_lang *L = lang_get(lang);
	struct diag_snapshot s = { .cfg = c, .only_profile = profile, .now = time(NULL) };
	struct diag_ipsec_if *ifs = NULL;
	struct diag_route *routes = NULL;
	struct diag_profile_state *states = NULL;
	struct kz_net_route *rt = NULL;
	struct diag_report rep = { 0 };
	size_t nrt = 0;
	uint64_t outside = 0;
	bool have_outside;
	int r = KZ_ENOMEM;

	mobile_state(d, &s.mobile);
	kzd_mobile_view(d, &s.modem);
	ifs = calloc(c->ipsec_ifs.n + 1, sizeof(*ifs));
	states = calloc(c->profiles.n + 1, sizeof(*states));
	if (!ifs || !states)
		goto out;
	for (size_t i = 0; i < c->ipsec_ifs.n; i++) {
		unsigned u = c->ipsec_ifs.v[i].unit;
		struct kz_link_state st;

		ifs[i].unit = u;
		ifs[i].exists = u < KZ_MAX_IPSEC_IF && d->tun[u].open;
		ifs[i].admin_up =
			ifs[i].exists && kz_net_link_get(d->tun[u].ifname, &st) == 0 && st.admin_up;
	}
	s.ifs = ifs;
	s.nifs = c->ipsec_ifs.n;
	if (kz_net_route_list(&rt, &nrt) == 0) {
		s.routes_known = true;
		routes = calloc(nrt + 1, sizeof(*routes));
		if (!routes)
			goto out;
		for (size_t i = 0; i < nrt; i++) {
			unsigned long unit;
			char *end;

			if (strncmp(rt[i].oif_name, "ipsec", 5) || rt[i].has_gw)
				continue;
			unit = strtoul(rt[i].oif_name + 5, &end, 10);
			if (*end || end == rt[i].oif_name + 5 || unit >= KZ_MAX_IPSEC_IF)
				continue;
			routes[s.nroutes].dest.set = true;
			routes[s.nroutes].dest.addr = rt[i].dst;
			routes[s.nroutes].dest.len = rt[i].plen;
			routes[s.nroutes].unit = (unsigned)unit;
			s.nroutes++;
		}
		s.routes = routes;
	}
	have_outside = d->dp != NULL;
	outside = have_outside ? kzd_dataplane_outside_count(d) : 0;
	for (size_t i = 0; i < c->profiles.n; i++)
		profile_state(d, c->profiles.v[i].name, have_outside, outside, &states[i]);
	s.states = states;
	s.nstates = c->profiles.n;

	r = diag_run(&s, L, &rep);
	if (r == KZ_ENOENT) {
		emit_error(e, "%s\n", rep.error);
		goto out;
	}
	if (r < 0) {
		emit_error(e, "%% diagnose failed: %s\n", kz_strerror(r));
		goto out;
	}
	diag_render(&rep, L, e);
	if (verdict)
		*verdict = (int)diag_verdict(&rep);
out:
	diag_report_free(&rep);
	free(rt);
	free(routes);
	free(ifs);
	free(states);
	return r;
}
