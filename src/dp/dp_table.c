/* dp_table.c - the control side's SA list and the tables the workers read.
 *
 * Every change (an SA pair added or removed, a TUN device attached or
 * detached, an MSS limit) builds a new immutable table, lookups included
 * (inbound SAs by SPI in a hash, outbound ones grouped by interface), and
 * publishes it with one atomic pointer store.  A worker loads the pointer
 * once per batch, inside a "section" marked by its odd section counter.
 * What the old table referenced is not freed then: it goes on a list with
 * each worker's counter at that moment, and dp_reclaim() (the control
 * side's timer, and each publish) frees it once every worker was outside
 * a section then or has left that one (a grace period, as in RCU).
 * Nothing waits: no lock on the hot path, no sleep on the control side. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp/dp_int.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "net/tun.h"

/* A table for n pairs, its lookups in the same allocation. */
static struct dp_table *table_alloc(size_t n)
{
	uint32_t slots = 2;
	struct dp_table *t;
	size_t head;

	while (slots < 2 * n)
		slots *= 2;
	head = sizeof(*t) + n * sizeof(t->sa[0]);
	t = calloc(1, head + (n + slots) * sizeof(struct dp_sa *));
	if (!t)
		return NULL;
	t->n = n;
	t->out = (struct dp_sa **)((uint8_t *)t + head);
	t->by_spi = t->out + n;
	t->spi_mask = slots - 1;
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
			t->tun_fd[u][i] = -1;
	return t;
}

struct dp_table *dp_table_empty(void)
{
	return table_alloc(0);
}

/* The lookups of t's pairs: per interface in the list's order (a counting
 * sort), and by inbound SPI, the older pair first when two share one. */
static void table_index(struct dp_table *t)
{
	uint32_t at[KZ_MAX_IPSEC_IF + 1] = { 0 };

	for (size_t i = 0; i < t->n; i++)
		at[t->sa[i]->out.ipsec_unit % KZ_MAX_IPSEC_IF + 1]++;
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		at[u + 1] += at[u];
	memcpy(t->out_at, at, sizeof(at));
	for (size_t i = 0; i < t->n; i++)
		t->out[at[t->sa[i]->out.ipsec_unit % KZ_MAX_IPSEC_IF]++] = t->sa[i];
	for (size_t i = 0; i < t->n; i++) {
		struct dp_sa *p = t->sa[i];
		uint32_t k = dp_spi_hash(p->in.spi) & t->spi_mask;

		while (t->by_spi[k] && t->by_spi[k]->in.spi != p->in.spi)
			k = (k + 1) & t->spi_mask;
		if (!t->by_spi[k])
			t->by_spi[k] = p;
	}
}

void dp_pair_free(struct dp_sa *p)
{
	esp_sa_free(p->esp_in);
	/* The copies use [0]'s counters: they go first. */
	for (unsigned i = DP_MAX_WORKERS; i-- > 0;)
		esp_sa_free(p->esp_out[i]);
	pthread_mutex_destroy(&p->in_lock);
	pthread_mutex_destroy(&p->tx_lock);
	free(p);
}

static void retired_free(struct dp_retired *r)
{
	free(r->table);
	if (r->gone)
		dp_pair_free(r->gone);
	for (unsigned i = 0; i < r->nfd; i++)
		close(r->fd[i]);
	free(r);
}

/* True once no worker can still hold what r holds. */
static bool grace_over(const struct dp *dp, const struct dp_retired *r)
{
	if (!dp->threads_up)
		return true;
	for (unsigned i = 0; i < dp->nw; i++) {
		uint64_t s = r->section[i];

		if ((s & 1) && atomic_load(&dp->w[i]->section) == s)
			return false;
	}
	return true;
}

bool dp_reclaim(struct dp *dp)
{
	struct dp_retired **pp;

	if (!dp)
		return false;
	for (pp = &dp->retired; *pp;) {
		struct dp_retired *r = *pp;

		if (grace_over(dp, r)) {
			*pp = r->next;
			retired_free(r);
		} else {
			pp = &r->next;
		}
	}
	return dp->retired != NULL;
}

void dp_retired_free(struct dp *dp)
{
	while (dp->retired) {
		struct dp_retired *r = dp->retired;

		dp->retired = r->next;
		retired_free(r);
	}
}

int dp_publish(struct dp *dp, struct dp_sa *gone, const int *fd, unsigned nfd)
{
	struct dp_retired *r = calloc(1, sizeof(*r));
	struct dp_table *t = table_alloc(dp->n);

	if (!t || !r) {
		free(t);
		free(r);
		return KZ_ENOMEM;
	}
	for (size_t i = 0; i < dp->n; i++)
		t->sa[i] = dp->v[i];
	table_index(t);
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++) {
		for (unsigned i = 0; i < dp->nw; i++)
			t->tun_fd[u][i] = dp->tun_watched[u] ? dp->tunq[u][i] : -1;
		t->vnet[u] = dp->tun_vnet[u];
		t->mss[u] = dp->mss_now[u];
	}
	r->table = atomic_exchange(&dp->table, t);
	/* Each worker's counter after the store: one outside a section now
	 * loads the new table when it enters the next. */
	for (unsigned i = 0; i < dp->nw; i++)
		r->section[i] = atomic_load(&dp->w[i]->section);
	r->gone = gone;
	for (unsigned i = 0; i < nfd && i < DP_MAX_WORKERS + 1; i++)
		r->fd[r->nfd++] = fd[i];
	r->next = dp->retired;
	dp->retired = r;
	/* Workers mostly wait in epoll: then it all goes at once. */
	dp_reclaim(dp);
	return 0;
}

/* ---- SAs ---- */

int dp_sa_add(struct dp *dp, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct dp_sa *p;
	int e1 = 0, e2 = 0;

	if (!dp)
		return KZ_EINVAL;
	if (dp->n == dp->cap) {
		size_t cap = dp->cap ? dp->cap * 2 : 8;
		void *v;

		if (cap > DP_MAX_PAIRS || !(v = realloc(dp->v, cap * sizeof(*dp->v)))) {
			log_err("data plane: no room for another IPsec SA pair");
			return KZ_ENOMEM;
		}
		dp->v = v;
		dp->cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		log_err("data plane: no memory for the IPsec SA pair 0x%08x/0x%08x", in->spi,
			out->spi);
		return KZ_ENOMEM;
	}
	pthread_mutex_init(&p->in_lock, NULL);
	pthread_mutex_init(&p->tx_lock, NULL);
	p->esp_in = esp_sa_new(in, &e1);
	p->esp_out[0] = esp_sa_new(out, &e2);
	/* Every worker's contexts are made now, never per packet. */
	for (unsigned i = 1; i < dp->nw && p->esp_out[0] && !e2; i++)
		p->esp_out[i] = esp_sa_new_shared(out, p->esp_out[0], &e2);
	if (!p->esp_in || e2) {
		log_err("data plane: cannot prepare the IPsec SA pair 0x%08x/0x%08x: %s", in->spi,
			out->spi, kz_strerror(e1 ? e1 : e2));
		dp_pair_free(p);
		return e1 ? e1 : e2 ? e2 : KZ_ENOMEM;
	}
	p->in = *in;
	p->out = *out;
	/* The esp_sa objects hold the keys now. */
	kz_wipe(p->in.enc_key, sizeof(p->in.enc_key));
	kz_wipe(p->in.auth_key, sizeof(p->in.auth_key));
	kz_wipe(p->out.enc_key, sizeof(p->out.enc_key));
	kz_wipe(p->out.auth_key, sizeof(p->out.auth_key));
	atomic_init(&p->peer, dp_peer_pack(&out->peer));
	/* No worker yet: its first second counts as shared (short sends),
	 * as flows from every worker's queue move to a new SA at once. */
	atomic_init(&p->tx_worker, DP_MAX_WORKERS);
	dp->v[dp->n++] = p;
	if (dp_publish(dp, NULL, NULL, 0) < 0) {
		dp->n--;
		dp_pair_free(p);
		log_err("data plane: no memory to publish the IPsec SA pair 0x%08x/0x%08x", in->spi,
			out->spi);
		return KZ_ENOMEM;
	}
	log_info("IPsec SA up on IPsec%u: in spi 0x%08x, out spi 0x%08x%s", in->ipsec_unit, in->spi,
		 out->spi, out->udp_encap ? " (ESP in UDP)" : "");
	return 0;
}

void dp_sa_del(struct dp *dp, uint32_t spi_in, uint32_t spi_out)
{
	for (size_t i = 0; dp && i < dp->n; i++)
		if (dp->v[i]->in.spi == spi_in && dp->v[i]->out.spi == spi_out) {
			struct dp_sa *gone = dp->v[i];

			log_info("IPsec SA down: in spi 0x%08x, out spi 0x%08x", spi_in, spi_out);
			/* Keep the order: the newest pair is the last one. */
			memmove(&dp->v[i], &dp->v[i + 1], (dp->n - i - 1) * sizeof(dp->v[0]));
			dp->n--;
			if (dp_publish(dp, gone, NULL, 0) < 0) {
				/* Still in the old table: keep it listed, it is freed
				 * with the data plane. */
				dp->v[dp->n++] = gone;
				log_err("data plane: no memory to remove spi 0x%08x", spi_in);
			}
			return;
		}
}

void dp_sa_stats(struct dp *dp, uint32_t spi, enum kz_child_dir dir, struct kz_child_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; dp && i < dp->n; i++) {
		if (dir == KZ_CHILD_IN && dp->v[i]->in.spi == spi)
			esp_sa_stats(dp->v[i]->esp_in, st);
		else if (dir == KZ_CHILD_OUT && dp->v[i]->out.spi == spi)
			esp_sa_stats(dp->v[i]->esp_out[0], st);
	}
}

/* ---- TUN devices and per-interface settings ---- */

void dp_if_set(struct dp *dp, unsigned unit, uint16_t mss, uint32_t keepalive_s)
{
	if (!dp || unit >= KZ_MAX_IPSEC_IF)
		return;
	dp->keepalive_s[unit] = keepalive_s;
	if (dp->mss_now[unit] != mss) {
		dp->mss_now[unit] = mss;
		dp_publish(dp, NULL, NULL, 0);
	}
}

int dp_tun_attach(struct dp *dp, unsigned unit, int tun_fd, const char *ifname)
{
	struct ifreq ifr;
	unsigned i;

	if (!dp || unit >= KZ_MAX_IPSEC_IF)
		return KZ_EINVAL;
	if (dp->tun_watched[unit])
		dp_tun_detach(dp, unit);
	/* The TUN queue's length is set where the device is made
	 * (kz_tun_create). */
	/* How the caller opened it: with a virtio-net header or without,
	 * with queues for more workers or not. */
	memset(&ifr, 0, sizeof(ifr));
	dp->tun_vnet[unit] = ioctl(tun_fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
	/* A copy of the caller's descriptor: it closes its own when it
	 * likes, this one closes when no worker can be using it. */
	dp->tunq[unit][0] = fcntl(tun_fd, F_DUPFD_CLOEXEC, 0);
	if (dp->tunq[unit][0] < 0) {
		log_err("data plane: cannot watch %s: %s", ifname, strerror(errno));
		return KZ_ESYS;
	}
	for (i = 1; i < dp->nw && (ifr.ifr_flags & IFF_MULTI_QUEUE); i++) {
		/* The same flags as the first queue: IFF_VNET_HDR is the
		 * device's, and a queue without it would turn it off. */
		unsigned fl = KZ_TUN_MULTI_QUEUE | (dp->tun_vnet[unit] ? KZ_TUN_OFFLOAD : 0);

		if (kz_tun_create(ifname, fl, &dp->tunq[unit][i]) < 0) {
			log_err("data plane: no queue %u on %s: worker %u sends none of its flows",
				i, ifname, i);
			break;
		}
	}
	/* A worker without a queue of its own writes on the first one. */
	for (; i < dp->nw; i++)
		dp->tunq[unit][i] = -1;
	for (i = 0; i < dp->nw; i++) {
		int fd = dp->tunq[unit][i];

		if (fd >= 0 && dp_ep_add(dp->w[i], fd, unit) < 0) {
			log_err("data plane: cannot watch %s: %s", ifname, strerror(errno));
			break;
		}
		if (fd < 0)
			dp->tunq[unit][i] = dp->tunq[unit][0];
	}
	dp->tun_watched[unit] = true;
	if (i < dp->nw) {
		dp_tun_detach(dp, unit);
		return KZ_ESYS;
	}
	dp_publish(dp, NULL, NULL, 0);
	return 0;
}

void dp_tun_detach(struct dp *dp, unsigned unit)
{
	int fd[DP_MAX_WORKERS + 1];
	unsigned nfd = 0;

	if (!dp || unit >= KZ_MAX_IPSEC_IF || !dp->tun_watched[unit])
		return;
	for (unsigned i = 0; i < dp->nw; i++)
		epoll_ctl(dp->w[i]->epfd, EPOLL_CTL_DEL, dp->tunq[unit][i], NULL);
	dp->tun_watched[unit] = false;
	/* The queues close once no worker holds a table that names them. */
	for (unsigned i = 0; i < dp->nw; i++)
		if (dp->tunq[unit][i] >= 0 && (i == 0 || dp->tunq[unit][i] != dp->tunq[unit][0]))
			fd[nfd++] = dp->tunq[unit][i];
	if (dp_publish(dp, NULL, fd, nfd) < 0) {
		/* No memory: the old table still names them; they stay
		 * open (and the device with them) rather than close under
		 * a worker. */
		log_err("data plane: no memory to detach IPsec%u; its queues stay open", unit);
	}
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
		dp->tunq[unit][i] = -1;
}
