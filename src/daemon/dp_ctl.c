/* dp_ctl.c - the data plane (src/dp/) in kizunad: made with the worker
 * count asked for, fed from the running config (each interface's MSS
 * limit and NAT keepalive interval), woken by its notification pipe in the
 * event loop (IKE on port 4500 to the engine, on-demand initiation, ESP
 * for no SA), and a timer once a second that sends the keepalives and
 * frees what replaced tables left (dp_reclaim); `show ipsec statistics`
 * is written here from the data plane's counters. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "dp/dp.h"
#include "ike/ike.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "daemon/daemon.h"

#define RECLAIM_RETRY_MS 10 /* a worker left in a section: look again then */

static void on_ike(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		   const uint8_t *ike, size_t len)
{
	kzd_ike_natt_input(arg, local, peer, ike, len);
}

static void on_no_sa(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		     uint32_t spi)
{
	struct kzd *d = arg;

	if (d->ike)
		ike_esp_no_sa(d->ike, local, peer, spi);
}

/* A packet with no SA on IPsec<unit>: start its profile's IKE. */
static void on_demand(void *arg, unsigned unit)
{
	struct kzd *d = arg;
	const struct kz_if_ipsec *f = kz_find_ipsec_if(d->running, unit);
	const struct kz_ipsec_profile *p =
		f && f->map[0] ? kz_find_profile(d->running, f->map) : NULL;

	if (p && p->initiate == KZ_INITIATE_ON_DEMAND && d->ike) {
		ike_initiate(d->ike, p->name);
		kzd_ike_config_changed(d); /* reschedules the engine's timer */
	}
}

static struct dp *dp_get(struct kzd *d)
{
	struct dp_ops ops = {
		.arg = d, .ike_input = on_ike, .esp_no_sa = on_no_sa, .on_demand = on_demand
	};

	if (!d->dp)
		d->dp = dp_new(d->workers, &ops);
	return d->dp;
}

unsigned kzd_dataplane_workers(struct kzd *d)
{
	return dp_workers(dp_get(d));
}

/* The MSS limit of IPsec<unit> (auto: its MTU - 40, IPv4 20 + TCP 20). */
static uint16_t mss_limit(struct kzd *d, const struct kz_if_ipsec *f, unsigned unit)
{
	if (!f || !d->tun[unit].open || f->mss_mode == KZ_MSS_OFF)
		return 0;
	if (f->mss_mode == KZ_MSS_FIXED)
		return (uint16_t)f->mss;
	return d->tun[unit].mtu > 40 ? (uint16_t)(d->tun[unit].mtu - 40) : 0;
}

/* The NAT keepalive interval of the profile mapped to IPsec<unit>. */
static uint32_t keepalive_every(struct kzd *d, const struct kz_if_ipsec *f)
{
	const struct kz_ipsec_profile *prof = f ? kz_find_profile(d->running, f->map) : NULL;
	const struct kz_ike_policy *pol =
		prof ? kz_find_ike_policy(d->running, prof->ike_policy) : NULL;

	return pol && pol->natt ? pol->keepalive : KZ_DEF_KEEPALIVE;
}

static void if_settings(struct kzd *d, unsigned unit)
{
	const struct kz_if_ipsec *f = kz_find_ipsec_if(d->running, unit);

	dp_if_set(d->dp, unit, mss_limit(d, f, unit), keepalive_every(d, f));
}

static void reclaim_soon(struct kzd *d)
{
	struct timeval tv = { 0, RECLAIM_RETRY_MS * 1000 };

	if (d->ev_dp_reclaim && dp_reclaim(d->dp))
		evtimer_add(d->ev_dp_reclaim, &tv);
}

static void on_reclaim(evutil_socket_t fd, short what, void *arg)
{
	reclaim_soon(arg);
}

void kzd_dataplane_tun_open(struct kzd *d, unsigned unit)
{
	struct dp *dp = dp_get(d);

	if (!dp)
		return;
	if_settings(d, unit);
	dp_tun_attach(dp, unit, d->tun[unit].fd, d->tun[unit].ifname);
}

void kzd_dataplane_tun_close(struct kzd *d, unsigned unit)
{
	dp_tun_detach(d->dp, unit);
	reclaim_soon(d);
}

static void on_note(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;

	dp_notify(d->dp);
}

/* Once a second: an MTU or tcp-mss change reaches the workers, the NAT
 * keepalives that are due leave, and what old tables held is freed. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;

	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if_settings(d, u);
	dp_keepalive(d->dp);
	reclaim_soon(d);
}

int kzd_dataplane_start(struct kzd *d)
{
	struct dp *dp = dp_get(d);
	struct timeval one = { 1, 0 };
	int e;

	if (!dp)
		return KZ_ENOMEM;
	e = dp_start(dp);
	if (e < 0)
		return e;
	d->ev_dp_tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->ev_dp_note = event_new(d->base, dp_notify_fd(dp), EV_READ | EV_PERSIST, on_note, d);
	d->ev_dp_reclaim = evtimer_new(d->base, on_reclaim, d);
	if (!d->ev_dp_tick || !d->ev_dp_note || !d->ev_dp_reclaim ||
	    event_add(d->ev_dp_tick, &one) < 0 || event_add(d->ev_dp_note, NULL) < 0)
		return KZ_ENOMEM;
	return 0;
}

void kzd_dataplane_free(struct kzd *d)
{
	kzd_event_free(&d->ev_dp_tick);
	kzd_event_free(&d->ev_dp_note);
	kzd_event_free(&d->ev_dp_reclaim);
	dp_free(d->dp);
	d->dp = NULL;
}

/* `show ipsec statistics`: the global drop counters, ESP packets each
 * worker decrypted (in) and encrypted (out) and the ESP for no SA it got,
 * and the drop counters of each inbound SA. */
void kzd_dataplane_show_stats(struct kzd *d, struct emit *e)
{
	struct dp_stats st;

	dp_stats_get(d->dp, &st);
	emit_obj_begin(e, NULL);
	emit_u64(e, "no_sa", st.no_sa, "inbound ESP for no SA: %llu\n",
		 (unsigned long long)st.no_sa);
	emit_u64(e, "outbound_no_sa", st.tx_no_sa,
		 "outbound packets outside every SA's selectors (not sent): %llu\n",
		 (unsigned long long)st.tx_no_sa);
	emit_u64(e, "not_ipv4", st.not_ipv4, "outbound packets not IPv4: %llu\n",
		 (unsigned long long)st.not_ipv4);
	emit_u64(e, "send_errors", st.send_errors, "send errors: %llu\n",
		 (unsigned long long)st.send_errors);
	emit_u64(e, "ike_queue_full", st.ike_queue_full,
		 "IKE datagrams on 4500 dropped (queue full): %llu\n",
		 (unsigned long long)st.ike_queue_full);
	emit_u64(e, "malformed", st.malformed,
		 "malformed datagrams on 4500 (not keepalive, IKE or ESP): %llu\n",
		 (unsigned long long)st.malformed);
	emit_list_begin(e, "workers");
	for (unsigned i = 0; i < st.nworkers; i++) {
		unsigned long long pin = st.worker[i].pkts_in;
		unsigned long long pout = st.worker[i].pkts_out;
		unsigned long long nosa = st.worker[i].no_sa;

		emit_obj_begin(e, NULL);
		emit_u64(e, "worker", i, "worker %u: ", i);
		emit_u64(e, "packets_in", pin, "ESP packets in %llu, ", pin);
		emit_u64(e, "packets_out", pout, "out %llu, ", pout);
		emit_u64(e, "no_sa", nosa, "for no SA %llu\n", nosa);
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_list_begin(e, "sas");
	for (size_t i = 0; i < st.nsa; i++) {
		const struct dp_sa_drops *sa = &st.sa[i];
		char ifname[16];

		snprintf(ifname, sizeof(ifname), "IPsec%u", sa->unit);
		emit_obj_begin(e, NULL);
		emit_u64(e, "spi", sa->spi, "Inbound SA spi=%u(0x%08x) ", sa->spi, sa->spi);
		emit_str(e, "interface", ifname, "on %s drops:", ifname);
		emit_obj_begin(e, "drops");
		for (int w = ESP_DROP_NONE + 1; w < ESP_DROP_COUNT; w++) {
			const char *name = esp_drop_name((enum esp_drop)w);

			emit_u64(e, name, sa->drops[w], " %s %llu", name,
				 (unsigned long long)sa->drops[w]);
		}
		emit_obj_end(e);
		emit_text(e, "\n");
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_obj_end(e);
	dp_stats_clear(&st);
}

/* The global count of outbound packets outside every SA's selectors. */
uint64_t kzd_dataplane_outside_count(struct kzd *d)
{
	struct dp_stats st;
	uint64_t v;

	dp_stats_get(d->dp, &st);
	v = st.tx_no_sa;
	dp_stats_clear(&st);
	return v;
}
