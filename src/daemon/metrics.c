/* metrics.c - `metrics file PATH interval N`: every N seconds kizunad
 * writes its counters to PATH in the Prometheus text format (lib/metrics.c
 * renders them; docs/metrics.md lists them), for node_exporter's textfile
 * collector.  The file is replaced atomically (PATH.tmp, then rename), so
 * a reader sees the old or the new file, never a part; it is mode 0644
 * whatever the umask (it holds no secret, and node_exporter runs as
 * another user).  A 1 s timer picks up config changes; `no metrics`, a
 * new path and a clean stop remove the file this daemon wrote. */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dp/dp.h"
#include "esp/esp.h"
#include "ike/ike.h"
#include "lib/log.h"
#include "lib/privmsg.h"
#include "lib/mem.h"
#include "lib/metrics.h"
#include "lib/strbuf.h"
#include "daemon/daemon.h"

/* When each profile's tunnel came up, as this daemon saw it. */
struct up_since {
	char name[KZ_NAME_MAX];
	int64_t since; /* wall clock; 0: down */
};

static struct {
	struct event *ev;
	char written[KZ_METRICS_PATH_MAX]; /* the file we wrote, "" none */
	int64_t next_due;                  /* monotonic seconds */
	char last_err[160];                /* logged once until it changes */
	struct up_since *up;
	size_t nup;
} m;

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static const char *fail_slug(enum ike_fail_class c)
{
	switch (c) {
	case IKE_FAIL_NONE:
		return NULL;
	case IKE_FAIL_NO_PROPOSAL:
		return "no_proposal_chosen";
	case IKE_FAIL_ID_MISMATCH:
		return "id_mismatch";
	case IKE_FAIL_PSK_MISMATCH:
		return "psk_mismatch";
	case IKE_FAIL_TS_MISMATCH:
		return "selector_mismatch";
	case IKE_FAIL_NO_ANSWER:
		return "no_answer";
	case IKE_FAIL_PEER_NOTIFY:
		return "peer_notify";
	case IKE_FAIL_MALFORMED:
		return "malformed";
	case IKE_FAIL_NATT:
		return "nat_traversal";
	case IKE_FAIL_CONFIG:
		return "config";
	case IKE_FAIL_COUNT:
		break;
	}
	return NULL;
}

/* The up-since entry of a profile (made on first use); NULL on ENOMEM. */
static struct up_since *up_entry(const char *name)
{
	struct up_since *v;

	for (size_t i = 0; i < m.nup; i++)
		if (!strcmp(m.up[i].name, name))
			return &m.up[i];
	v = realloc(m.up, (m.nup + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m.up = v;
	memset(&v[m.nup], 0, sizeof(v[m.nup]));
	kz_strlcpy(v[m.nup].name, name, sizeof(v[m.nup].name));
	return &v[m.nup++];
}

struct sa_list {
	struct kzd *d;
	struct kzm_sa *v;
	size_t n, cap;
	bool oom;
};

static void add_sa(struct sa_list *l, const char *profile, unsigned unit, uint32_t spi, bool out)
{
	struct kz_child_stats st = { 0 };
	struct kzm_sa *sa;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct kzm_sa *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	sa = &l->v[l->n++];
	memset(sa, 0, sizeof(*sa));
	kz_strlcpy(sa->profile, profile, sizeof(sa->profile));
	sa->unit = unit;
	sa->spi = spi;
	sa->out = out;
	dp_sa_stats(l->d->dp, spi, out ? KZ_CHILD_OUT : KZ_CHILD_IN, &st);
	sa->packets = st.packets;
	sa->bytes = st.bytes;
}

/* Outbound first, then inbound, as `show ipsec sa` lists a pair. */
static void on_child(void *arg, const char *profile, unsigned unit, uint32_t spi_in,
		     uint32_t spi_out)
{
	add_sa(arg, profile, unit, spi_out, true);
	add_sa(arg, profile, unit, spi_in, false);
}

/* The snapshot of now, rendered into out. */
static void collect(struct kzd *d, struct strbuf *out)
{
	const struct kz_config *c = d->running;
	struct kzm_snapshot s = { 0 };
	struct kzm_profile *profiles = calloc(c->profiles.n ? c->profiles.n : 1, sizeof(*profiles));
	struct sa_list sas = { .d = d };
	struct ike_counters ic = { 0 };
	struct dp_stats ds;
	int64_t now = (int64_t)time(NULL);
	unsigned cls_of[IKE_FAIL_COUNT];

	s.version = KZ_VERSION;
	s.hostname = c->hostname;
	for (int k = 0; k < IKE_FAIL_COUNT; k++) {
		const char *slug = fail_slug((enum ike_fail_class)k);

		cls_of[k] = s.nfail_classes;
		if (slug && s.nfail_classes < KZM_MAX_CLASSES)
			s.fail_classes[s.nfail_classes++] = slug;
	}
	for (int w = ESP_DROP_NONE + 1; w < ESP_DROP_COUNT && s.nsa_drop_reasons < KZM_MAX_REASONS;
	     w++)
		s.sa_drop_reasons[s.nsa_drop_reasons++] = esp_drop_name((enum esp_drop)w);

	for (size_t i = 0; profiles && i < c->profiles.n; i++) {
		const char *name = c->profiles.v[i].name;
		struct kzm_profile *p = &profiles[s.nprofiles++];
		const struct ike_profile_status *st =
			d->ike ? ike_profile_status(d->ike, name) : NULL;
		struct ike_profile_sas ps = { 0 };
		struct up_since *u = up_entry(name);

		kz_strlcpy(p->name, name, sizeof(p->name));
		if (d->ike) {
			ike_profile_sas(d->ike, name, &ps);
			ike_profile_sa_counts(d->ike, name, &p->ike_sas, &p->ipsec_sas);
		}
		p->up = ps.ipsec_up && !(st && st->wan_down);
		if (u) {
			if (!p->up)
				u->since = 0;
			else if (!u->since)
				u->since = ps.ipsec_up_wall > 0 && ps.ipsec_up_wall <= now
					? ps.ipsec_up_wall
					: now;
			p->uptime_s = p->up ? (uint64_t)(now - u->since) : 0;
		}
		if (st) {
			p->ike_rekeys = st->ike_rekeys;
			p->ipsec_rekeys = st->ipsec_rekeys;
			p->dpd_alive = st->dpd_alive;
			p->dpd_dead = st->dpd_dead;
			for (int k = 0; k < IKE_FAIL_COUNT; k++)
				if (fail_slug((enum ike_fail_class)k) &&
				    cls_of[k] < KZM_MAX_CLASSES)
					p->failures[cls_of[k]] = st->fail_by_class[k];
		}
	}
	s.profiles = profiles;
	if (d->ike)
		ike_each_child(d->ike, on_child, &sas);
	s.sas = sas.v;
	s.nsas = sas.n;

	dp_stats_get(d->dp, &ds);
	for (size_t i = 0; i < ds.nsa; i++)
		for (size_t k = 0; k < sas.n; k++)
			if (!sas.v[k].out && sas.v[k].spi == ds.sa[i].spi)
				for (int w = ESP_DROP_NONE + 1;
				     w < ESP_DROP_COUNT && w - 1 < KZM_MAX_REASONS; w++)
					sas.v[k].drops[w - 1] = ds.sa[i].drops[w];
#define DP_DROP(n, field) s.dp_drops[s.ndp_drops++] = (struct kzm_count){ n, ds.field }
	DP_DROP("no_sa", no_sa);
	DP_DROP("outbound_no_sa", tx_no_sa);
	DP_DROP("not_ipv4", not_ipv4);
	DP_DROP("send_error", send_errors);
	DP_DROP("ike_queue_full", ike_queue_full);
	DP_DROP("malformed", malformed);
#undef DP_DROP
	s.nworkers = ds.nworkers < KZM_MAX_WORKERS ? ds.nworkers : KZM_MAX_WORKERS;
	for (unsigned w = 0; w < s.nworkers; w++) {
		s.worker_in[w] = ds.worker[w].pkts_in;
		s.worker_out[w] = ds.worker[w].pkts_out;
	}
	dp_stats_clear(&ds);

	if (d->ike)
		ike_get_counters(d->ike, &ic);
	s.ike_rx = ic.rx;
	s.ike_tx = ic.tx;
	s.ike_retransmits = ic.retransmits;
#define IKE_DROP(n, field) s.ike_drops[s.nike_drops++] = (struct kzm_count){ n, ic.field }
	IKE_DROP("malformed", drop_malformed);
	IKE_DROP("unknown_sa", drop_unknown_sa);
	IKE_DROP("decrypt", drop_decrypt);
	IKE_DROP("hash", drop_hash);
	IKE_DROP("state", drop_state);
	IKE_DROP("half_open_limit", drop_half_open_limit);
	IKE_DROP("no_profile", drop_no_profile);
	IKE_DROP("dh_busy", drop_dh_busy);
#undef IKE_DROP

	if (profiles && !sas.oom)
		kz_metrics_render(&s, out);
	free(profiles);
	free(sas.v);
}

static void report(const char *what, const char *path)
{
	char msg[sizeof(m.last_err)];

	/* a long path is cut short in the message, which is fine */
	if (snprintf(msg, sizeof(msg), "metrics: cannot %s %s: %s", what, path, strerror(errno)) <
	    0)
		msg[0] = '\0';
	if (strcmp(msg, m.last_err))
		log_warn("%s", msg);
	kz_strlcpy(m.last_err, msg, sizeof(m.last_err));
}

static void unlink_written(void)
{
	if (m.written[0] && privmsg_broker) {
		kzd_privsep_metrics(m.written, NULL, 0);
		m.written[0] = 0;
		return;
	}
	if (m.written[0] && unlink(m.written) < 0 && errno != ENOENT)
		log_warn("metrics: cannot remove %s: %s", m.written, strerror(errno));
	m.written[0] = 0;
}

/* PATH.tmp written whole, then renamed over PATH. */
static void write_file(struct kzd *d, const char *path)
{
	struct strbuf sb;

	sb_init(&sb);
	collect(d, &sb);
	if (!sb.len || sb.truncated) {
		errno = ENOMEM;
		report("write", path);
		goto out;
	}
	if (privmsg_broker) { /* kizunad's child: the parent writes it */
		if (kzd_privsep_metrics(path, sb.s, sb.len) < 0) {
			report("write", path);
			goto out;
		}
		goto done;
	}
	if (kzd_file_replace(path, sb.s, sb.len, 0644, false) < 0) {
		report("replace", path);
		goto out;
	}
done:
	if (m.last_err[0])
		log_info("metrics: writing %s again", path);
	m.last_err[0] = 0;
	kz_strlcpy(m.written, path, sizeof(m.written));
out:
	sb_free(&sb);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	const struct kz_metrics *cfg = &d->running->metrics;
	int64_t now = mono_s();

	if (!cfg->set || (m.written[0] && strcmp(m.written, cfg->path))) {
		unlink_written();
		m.next_due = 0;
		m.last_err[0] = 0;
	}
	if (!cfg->set)
		return;
	if (m.next_due && now < m.next_due && now + (int64_t)cfg->interval >= m.next_due)
		return;
	m.next_due = now + (int64_t)cfg->interval;
	write_file(d, cfg->path);
}

int kzd_metrics_start(struct kzd *d)
{
	static const struct timeval one_s = { 1, 0 };

	m.ev = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (!m.ev || event_add(m.ev, &one_s) < 0) {
		log_err("metrics: cannot start the timer");
		return -1;
	}
	on_tick(-1, 0, d); /* the first file at once */
	return 0;
}

void kzd_metrics_stop(struct kzd *d)
{
	kzd_event_free(&m.ev);
	unlink_written();
	free(m.up);
	m.up = NULL;
	m.nup = 0;
}
