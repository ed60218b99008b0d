/* dataplane.c - moves packets: IPsec<N>'s TUN device <-> ESP (RFC 4303)
 * on the WAN, as plain ESP (IP protocol 50, raw socket) or ESP-in-UDP on
 * port 4500 (RFC 3948), with the SAs the IKE engine established.  This
 * file is the control thread's side (SA table, sockets, TUN queues, the
 * workers, show); dataplane_tx.c is a worker's outbound path and
 * dataplane_rx.c its inbound path and loop.
 *
 * Outbound: a packet routed into ipsec<N> is matched against the traffic
 * selectors of IPsec<N>'s outbound SAs (a packet outside them is dropped
 * and counted, never sent in clear), encrypted and sent to the peer.
 * Inbound: the SPI finds the SA, esp_decap() verifies, decrypts and checks
 * the selectors, and only then the inner packet is written to the TUN
 * device of the SA's interface.  The peer's translated address and port are
 * learnt from authenticated ESP-in-UDP only.
 *
 * Threads.  The packets move on N worker threads (kizunad --workers,
 * default one per online CPU, at most KZD_MAX_WORKERS), off the control
 * thread's event loop.  Each waits in epoll on its own descriptors, reads
 * a batch per wake-up (recvmmsg, up to DP_BATCH TUN reads) and sends a
 * batch (sendmmsg), with its own buffers: nothing is allocated per packet.
 *  - Outbound: with N > 1 every TUN device is opened with IFF_MULTI_QUEUE,
 *    one queue per worker; the kernel spreads flows over the queues by
 *    flow hash, so several workers may send on one SA at once.  Each
 *    uses its own copy of the outbound SA (esp_sa_new_shared: OpenSSL
 *    contexts made once per worker when the SA is added) and all share
 *    one sequence number, taken with an atomic fetch-add that never wraps.
 *    One flow stays on one queue, so a TCP connection is not reordered,
 *    and the kernel sends a flow out on the queue of the worker that
 *    wrote its packets in, so an SA's flows mostly stay on one worker.
 *    A worker holds an SA's tx_lock from taking numbers on it until it
 *    sent them (dataplane_tx.c: tx_hold), so that the numbers workers
 *    interleave leave in order, within the peer's replay window.
 *  - Inbound is steered per SA, so that each SA's replay window has one
 *    writer: each worker has its own raw ESP socket with a socket filter
 *    that accepts only SPI % N == its number (a raw socket otherwise gets
 *    a copy of every packet), and its own UDP socket on 0.0.0.0:4500 in a
 *    SO_REUSEPORT group whose program picks socket SPI % N (IKE behind the
 *    zero non-ESP marker and 1-byte keepalives go to socket 0, the IKE
 *    socket of ike_io.c).  A per-SA lock around esp_decap keeps one
 *    writer when steering cannot (UDP GRO joins one peer's datagrams of
 *    any SPI); it is not contended otherwise.  Decrypted packets are
 *    written to the SA's TUN device on the worker's own queue.
 * ESP-in-UDP leaves as UDP GSO runs (one SA, one datagram size: the stack
 * sees one packet per run) and comes in coalesced by UDP GRO.
 *
 * Offloads.  The TUN devices are opened with a virtio-net header and TSO
 * (apply.c, net/tun.c): the kernel hands over whole TCP bursts of up to
 * 64 KB, which are cut here (esp/vnet.c) straight into the place where
 * esp_encap encrypts them in place, and sent as UDP GSO runs: one read and
 * one send where there were ~40 of each.  The other way, decrypted TCP
 * segments of one connection that follow each other are joined again
 * (GRO in userspace, esp/vnet.c) and written to TUN as one super-packet
 * with a partial checksum; the batch's end writes what is still held.
 *
 * The control thread owns the list of SA pairs.  Each change publishes a
 * new immutable table (SA pointers, TUN queue fds, MSS limits per unit)
 * with one atomic pointer store; a worker loads the pointer once per
 * batch, inside a "section" marked by its odd section counter.  Before
 * freeing what an old table referenced, the control thread waits until
 * every worker is outside a section or has started a new one (a grace
 * period, as in RCU): no lock is taken on the hot path.  What the workers
 * write that the control thread reads is atomic: the learnt peer address,
 * the drop and per-worker packet counters, and the esp_sa counters read
 * for show (relaxed atomics; a value may be one packet old).
 *
 * What only the control thread may do is asked for through a pipe: IKE
 * datagrams that came to port 4500 (queued), on-demand initiation (one
 * pending flag per interface), and ESP for an SPI we have no SA for (one
 * slot, at most every DP_STRAY_MS per worker: the IKE engine may tell the
 * sender, which is how a peer learns that we restarted). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../ike/ike.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"
#include "../net/tun.h"
#include "dataplane_int.h"
#include "dataplane_io.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

#define NATT_PORT 4500

uint64_t dp_peer_pack(const struct sockaddr_in *a)
{
	return (uint64_t)a->sin_addr.s_addr << 16 | a->sin_port;
}

void dp_peer_unpack(uint64_t v, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = (uint32_t)(v >> 16);
	a->sin_port = (uint16_t)v;
}

void dp_note(struct kzd_dataplane *dp, uint8_t what)
{
	/* A full pipe already wakes the control thread. */
	if (write(dp->note_wr, &what, 1) < 0)
		return;
}

static void worker_free(struct dp_worker *w)
{
	if (!w)
		return;
	free(w->inner);
	free(w->tx.arena);
	free(w->gro.buf);
	for (int i = 0; i < DP_BATCH; i++)
		free(w->rbuf[i]);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->raw_fd >= 0)
		close(w->raw_fd);
	free(w);
}

static struct dp_worker *worker_new(struct kzd_dataplane *dp, unsigned id)
{
	struct dp_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->dp = dp;
	w->id = id;
	w->raw_fd = w->natt_own = -1;
	atomic_init(&w->natt_fd, -1);
	w->tx.cur_fd = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->inner = malloc(DP_BUF);
	w->tx.arena = malloc(DP_TX_ARENA);
	w->gro.buf = malloc(VNET_GRO_BUF);
	for (int i = 0; i < DP_BATCH; i++)
		w->rbuf[i] = malloc(DP_BUF);
	for (int i = 0; i < DP_BATCH; i++)
		if (!w->rbuf[i])
			goto fail;
	if (w->epfd < 0 || !w->inner || !w->tx.arena || !w->gro.buf)
		goto fail;
	return w;
fail:
	worker_free(w);
	return NULL;
}

static struct dp_table *table_new(size_t n)
{
	struct dp_table *t = calloc(1, sizeof(*t) + n * sizeof(t->sa[0]));

	if (t)
		for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
			for (unsigned i = 0; i < KZD_MAX_WORKERS; i++)
				t->tun_fd[u][i] = -1;
	return t;
}

/* How many workers: asked for (kizunad -w), else one per online CPU; at
 * most KZD_MAX_WORKERS. */
static unsigned worker_count(const struct kzd *d)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = d->workers ? d->workers : cpus > 0 ? (unsigned)cpus : 1;

	return n > KZD_MAX_WORKERS ? KZD_MAX_WORKERS : n;
}

static struct kzd_dataplane *dp_get(struct kzd *d)
{
	struct kzd_dataplane *dp;
	int p[2];

	if (d->dp)
		return d->dp;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return NULL;
	dp->kick_fd = dp->note_rd = dp->note_wr = -1;
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		for (unsigned i = 0; i < KZD_MAX_WORKERS; i++)
			dp->tunq[u][i] = -1;
	atomic_init(&dp->table, table_new(0));
	dp->ike_tail = &dp->ike_head;
	pthread_mutex_init(&dp->ike_lock, NULL);
	dp->nw = worker_count(d);
	for (unsigned i = 0; i < dp->nw; i++)
		if (!(dp->w[i] = worker_new(dp, i)))
			goto fail;
	dp->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		dp->note_rd = p[0];
		dp->note_wr = p[1];
	}
	if (!atomic_load(&dp->table) || dp->kick_fd < 0 || dp->note_rd < 0)
		goto fail;
	d->dp = dp;
	return dp;
fail:
	log_err("data plane: cannot set up: %s", strerror(errno));
	for (unsigned i = 0; i < dp->nw; i++)
		worker_free(dp->w[i]);
	free(atomic_load(&dp->table));
	if (dp->kick_fd >= 0)
		close(dp->kick_fd);
	if (dp->note_rd >= 0) {
		close(dp->note_rd);
		close(dp->note_wr);
	}
	pthread_mutex_destroy(&dp->ike_lock);
	free(dp);
	return NULL;
}

unsigned kzd_dataplane_workers(struct kzd *d)
{
	struct kzd_dataplane *dp = dp_get(d);

	return dp ? dp->nw : 1;
}

/* Bursts of ESP arrive faster than one wake-up reads them: room for a few
 * thousand packets (root may exceed the sysctl limits: *BUFFORCE). */
void kzd_socket_buffers(int fd)
{
	int rcv = 8 << 20, snd = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
}

/* ---- publishing the table (control thread) ---- */

/* The MSS limit of IPsec<unit> as kzd_mss_clamp() computes it. */
static uint16_t mss_limit(struct kzd *d, unsigned unit)
{
	const struct kz_if_ipsec *f = kz_find_ipsec_if(d->running, unit);

	if (!f || f->mss_mode == KZ_MSS_OFF)
		return 0;
	if (f->mss_mode == KZ_MSS_FIXED)
		return (uint16_t)f->mss;
	return d->tun[unit].mtu > 40 ? (uint16_t)(d->tun[unit].mtu - 40) : 0;
}

/* Waits until no worker holds a table older than the one just published:
 * each is outside a section, or left the one it was in. */
static bool grace_period(struct kzd_dataplane *dp)
{
	struct timespec ms = { 0, 1000000 };
	int waited = 0;

	if (!dp->threads_up)
		return true;
	for (unsigned i = 0; i < dp->nw; i++) {
		uint64_t s = atomic_load(&dp->w[i]->section);

		while ((s & 1) && atomic_load(&dp->w[i]->section) == s) {
			if (waited++ >= 5000)
				return false;
			nanosleep(&ms, NULL);
		}
	}
	return true;
}

static void pair_free(struct dp_sa *p)
{
	esp_sa_free(p->esp_in);
	/* The copies use [0]'s counters: they go first. */
	for (unsigned i = KZD_MAX_WORKERS; i-- > 0;)
		esp_sa_free(p->esp_out[i]);
	pthread_mutex_destroy(&p->in_lock);
	pthread_mutex_destroy(&p->tx_lock);
	free(p);
}

/* Builds and publishes a table from the control thread's list; frees the
 * old table and the pair gone after the grace period.  On no memory the
 * old table stays (and gone is freed later with the data plane). */
static int publish(struct kzd *d, struct dp_sa *gone)
{
	struct kzd_dataplane *dp = d->dp;
	struct dp_table *t = table_new(dp->n), *old;

	if (!t)
		return KZ_ENOMEM;
	t->n = dp->n;
	for (size_t i = 0; i < dp->n; i++)
		t->sa[i] = dp->v[i];
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++) {
		for (unsigned i = 0; i < dp->nw; i++)
			t->tun_fd[u][i] = d->tun[u].open && dp->tun_watched[u] ? dp->tunq[u][i] : -1;
		t->vnet[u] = dp->tun_vnet[u];
		t->mss[u] = dp->mss_now[u] = d->tun[u].open ? mss_limit(d, u) : 0;
	}
	old = atomic_exchange(&dp->table, t);
	if (!grace_period(dp)) {
		/* A worker stuck for 5 s: leak rather than free under it. */
		log_err("data plane: a worker does not answer; old SA table kept");
		return 0;
	}
	free(old);
	if (gone)
		pair_free(gone);
	return 0;
}

/* ---- SA table ---- */

void kzd_dataplane_add(struct kzd *d, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct kzd_dataplane *dp = dp_get(d);
	struct dp_sa *p;
	int e1 = 0, e2 = 0;

	if (!dp)
		return;
	if (dp->n == dp->cap) {
		size_t cap = dp->cap ? dp->cap * 2 : 8;
		void *v;

		if (cap > DP_MAX_PAIRS || !(v = realloc(dp->v, cap * sizeof(*dp->v)))) {
			log_err("data plane: no room for another IPsec SA pair");
			return;
		}
		dp->v = v;
		dp->cap = cap;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		log_err("data plane: no memory for the IPsec SA pair 0x%08x/0x%08x", in->spi,
			out->spi);
		return;
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
		pair_free(p);
		return;
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
	atomic_init(&p->tx_worker, KZD_MAX_WORKERS);
	dp->v[dp->n++] = p;
	if (publish(d, NULL) < 0) {
		dp->n--;
		pair_free(p);
		log_err("data plane: no memory to publish the IPsec SA pair 0x%08x/0x%08x",
			in->spi, out->spi);
		return;
	}
	log_info("IPsec SA up on IPsec%u: in spi 0x%08x, out spi 0x%08x%s", in->ipsec_unit,
		 in->spi, out->spi, out->udp_encap ? " (ESP in UDP)" : "");
}

void kzd_dataplane_del(struct kzd *d, uint32_t spi_in, uint32_t spi_out)
{
	struct kzd_dataplane *dp = d->dp;

	for (size_t i = 0; dp && i < dp->n; i++)
		if (dp->v[i]->in.spi == spi_in && dp->v[i]->out.spi == spi_out) {
			struct dp_sa *gone = dp->v[i];

			log_info("IPsec SA down: in spi 0x%08x, out spi 0x%08x", spi_in, spi_out);
			/* Keep the order: the newest pair is the last one. */
			memmove(&dp->v[i], &dp->v[i + 1], (dp->n - i - 1) * sizeof(dp->v[0]));
			dp->n--;
			if (publish(d, gone) < 0) {
				/* Still in the old table: keep it listed, it is freed
				 * with the data plane. */
				dp->v[dp->n++] = gone;
				log_err("data plane: no memory to remove spi 0x%08x", spi_in);
			}
			return;
		}
}

void kzd_dataplane_stats(struct kzd *d, uint32_t spi, enum kz_child_dir dir,
			 struct kz_child_stats *st)
{
	struct kzd_dataplane *dp = d->dp;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; dp && i < dp->n; i++) {
		if (dir == KZ_CHILD_IN && dp->v[i]->in.spi == spi)
			esp_sa_stats(dp->v[i]->esp_in, st);
		else if (dir == KZ_CHILD_OUT && dp->v[i]->out.spi == spi)
			esp_sa_stats(dp->v[i]->esp_out[0], st);
	}
}

static int ep_add(struct dp_worker *w, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? KZ_ESYS : 0;
}

/* ---- TUN devices (control thread) ---- */

void kzd_dataplane_tun_open(struct kzd *d, unsigned unit)
{
	struct kzd_tun *t = &d->tun[unit];
	struct kzd_dataplane *dp = dp_get(d);
	struct ifreq ifr;
	unsigned i;
	int s;

	if (!dp)
		return;
	/* The kernel drops what does not fit in the TUN queue while the
	 * worker encrypts a batch (counted as TX dropped on ipsec<N>): a
	 * longer queue than the default 500 keeps TCP bursts. */
	memset(&ifr, 0, sizeof(ifr));
	kz_strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	ifr.ifr_qlen = DP_TUN_TXQLEN;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		log_debug("data plane: cannot lengthen the queue of %s: %s", t->ifname,
			  strerror(errno));
	if (s >= 0)
		close(s);
	/* How apply.c opened it: with a virtio-net header or without, with
	 * queues for more workers or not. */
	memset(&ifr, 0, sizeof(ifr));
	dp->tun_vnet[unit] = ioctl(t->fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
	dp->tunq[unit][0] = t->fd;
	for (i = 1; i < dp->nw && (ifr.ifr_flags & IFF_MULTI_QUEUE); i++) {
		/* The same flags as the first queue: IFF_VNET_HDR is the
		 * device's, and a queue without it would turn it off. */
		unsigned fl = KZ_TUN_MULTI_QUEUE | (dp->tun_vnet[unit] ? KZ_TUN_OFFLOAD : 0);

		if (kz_tun_create(t->ifname, fl, &dp->tunq[unit][i]) < 0) {
			log_err("data plane: no queue %u on %s: worker %u sends none of its flows",
				i, t->ifname, i);
			break;
		}
	}
	/* A worker without a queue of its own writes on the first one. */
	for (; i < dp->nw; i++)
		dp->tunq[unit][i] = -1;
	for (i = 0; i < dp->nw; i++) {
		int fd = dp->tunq[unit][i];

		if (fd >= 0 && ep_add(dp->w[i], fd, unit) < 0) {
			log_err("data plane: cannot watch %s: %s", t->ifname, strerror(errno));
			return;
		}
		if (fd < 0)
			dp->tunq[unit][i] = t->fd;
	}
	dp->tun_watched[unit] = true;
	publish(d, NULL);
}

void kzd_dataplane_tun_close(struct kzd *d, unsigned unit)
{
	struct kzd_dataplane *dp = d->dp;

	if (!dp || !dp->tun_watched[unit])
		return;
	for (unsigned i = 0; i < dp->nw; i++)
		epoll_ctl(dp->w[i]->epfd, EPOLL_CTL_DEL, dp->tunq[unit][i], NULL);
	dp->tun_watched[unit] = false;
	/* After the grace period no worker writes to the fds closed next
	 * (the first queue by the caller). */
	publish(d, NULL);
	for (unsigned i = 1; i < dp->nw; i++)
		if (dp->tunq[unit][i] != d->tun[unit].fd)
			kz_tun_close(dp->tunq[unit][i]);
	for (unsigned i = 0; i < KZD_MAX_WORKERS; i++)
		dp->tunq[unit][i] = -1;
}

/* ---- steering inbound ESP to workers (control thread) ---- */

/* Raw socket filter of worker id of n: the IPv4 header comes first, the
 * SPI at its header length; accepts SPI % n == id.  A packet too short to
 * hold an SPI goes to worker 0 (which counts it), as every raw socket
 * would otherwise get it. */
static int attach_esp_filter(int fd, unsigned id, unsigned n)
{
	struct sock_filter code[] = {
		/* X = 4 * (ip[0] & 0xf): the IPv4 header length */
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0),
		/* len - X >= 4 (unsigned: a header longer than the packet
		 * fails the load below and is dropped) */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 4, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, id == 0 ? 0x40000 : 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, id, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? KZ_ESYS
										       : 0;
}

/* The program of the port 4500 reuseport group: the kernel runs it with
 * the data at the UDP payload (net/core/sock_reuseport.c pulls the UDP
 * header first) and takes its result as the index of the socket in the
 * group, in the order they were bound; an index past the end falls back
 * to the flow hash.  The first 4 bytes are the SPI, or the zero non-ESP
 * marker of IKE (0 % n: socket 0); a 1-byte keepalive fails the load,
 * which ends a classic BPF program with 0: socket 0 as well. */
static int attach_natt_program(int fd, unsigned n)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0
		       ? KZ_ESYS
		       : 0;
}

/* Packets queued before the filter was attached may be another worker's:
 * they go (ESP is retransmitted by TCP above it; at start-up there are no
 * SAs yet). */
static void drain(int fd)
{
	uint8_t b[64];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
}

/* ---- the 4500 sockets ---- */

static void natt_gro(int fd)
{
	/* Coalesced ESP-in-UDP in one read; the worker splits it again.  Not
	 * fatal when the kernel has no UDP GRO. */
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int)) < 0)
		log_debug("data plane: no UDP GRO on port 4500: %s", strerror(errno));
}

/* fd is the IKE socket of ike_io.c, bound to 0.0.0.0:4500 with
 * SO_REUSEPORT: worker 0 reads it (and hands IKE back); with more workers
 * each of the others binds its own socket into the group, in order, and
 * the group's program picks one by SPI. */
int kzd_dataplane_take_natt(struct kzd *d, int fd)
{
	struct kzd_dataplane *dp = d->dp;
	unsigned i;

	if (!dp || !dp->threads_up)
		return KZ_EINVAL;
	natt_gro(fd);
	atomic_store(&dp->w[0]->natt_fd, fd);
	if (ep_add(dp->w[0], fd, TAG_NATT) < 0) {
		atomic_store(&dp->w[0]->natt_fd, -1);
		return KZ_ESYS;
	}
	for (i = 1; i < dp->nw; i++) {
		struct dp_worker *w = dp->w[i];
		int s = kzd_udp_open(NATT_PORT);

		if (s < 0) {
			log_err("data plane: worker %u: no socket on port 4500: %s", i,
				strerror(errno));
			break;
		}
		natt_gro(s);
		w->natt_own = s;
		atomic_store(&w->natt_fd, s);
		if (ep_add(w, s, TAG_NATT) < 0) {
			log_err("data plane: worker %u: epoll: %s", i, strerror(errno));
			break;
		}
	}
	/* i sockets in the group: a worker left without one sends on worker
	 * 0's and its SAs arrive at others (the per-SA lock keeps one
	 * writer). */
	if (i > 1 && attach_natt_program(fd, i) < 0)
		log_warn("data plane: cannot steer port 4500 by SPI (%s); the kernel spreads "
			 "it by address",
			 strerror(errno));
	return 0;
}

void kzd_dataplane_release_natt(struct kzd *d)
{
	struct kzd_dataplane *dp = d->dp;

	if (!dp)
		return;
	for (unsigned i = 0; i < dp->nw; i++) {
		struct dp_worker *w = dp->w[i];
		int fd = atomic_exchange(&w->natt_fd, -1);

		if (fd >= 0)
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	}
	grace_period(dp);
	/* The IKE socket is ike_io.c's to close; the others leave the
	 * group now, so a restarted daemon builds a group of its own. */
	for (unsigned i = 1; i < dp->nw; i++)
		if (dp->w[i]->natt_own >= 0) {
			close(dp->w[i]->natt_own);
			dp->w[i]->natt_own = -1;
		}
}

/* ESP-in-UDP read on the control thread (when no worker reads the 4500
 * socket): handled here with worker 0's buffers, under the same rules as
 * the workers'.  Only reached while no worker runs. */
void kzd_dataplane_udp_esp(struct kzd *d, const struct sockaddr_in *local,
			   const struct sockaddr_in *peer, const uint8_t *pkt, size_t len)
{
	struct kzd_dataplane *dp = dp_get(d);

	if (dp && !dp->threads_up) {
		dp_inbound(dp->w[0], atomic_load(&dp->table), local, peer, pkt, len, true);
		dp_gro_flush(dp->w[0], atomic_load(&dp->table));
	}
}

/* ---- notifications from the workers (control thread) ---- */

static void on_demand(struct kzd *d, unsigned unit)
{
	const struct kz_if_ipsec *f = kz_find_ipsec_if(d->running, unit);
	const struct kz_ipsec_profile *p = f && f->map[0] ? kz_find_profile(d->running, f->map)
							    : NULL;

	if (p && p->initiate == KZ_INITIATE_ON_DEMAND && d->ike) {
		ike_initiate(d->ike, p->name);
		kzd_ike_config_changed(d); /* reschedules the engine's timer */
	}
}

static void on_note(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct kzd_dataplane *dp = d->dp;
	uint8_t b[64];
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0)
		;
	/* A packet with no SA on IPsec<u>: start its profile's IKE. */
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if (atomic_load_explicit(&dp->od_pending[u], memory_order_relaxed) &&
		    atomic_exchange(&dp->od_pending[u], false))
			on_demand(d, u);
	{
		struct sockaddr_in local, peer;
		uint32_t spi = 0;
		bool set;

		pthread_mutex_lock(&dp->ike_lock);
		set = dp->stray_set;
		if (set) {
			local = dp->stray_local;
			peer = dp->stray_peer;
			spi = dp->stray_spi;
			dp->stray_set = false;
		}
		pthread_mutex_unlock(&dp->ike_lock);
		if (set && d->ike)
			ike_esp_no_sa(d->ike, &local, &peer, spi);
	}
	for (;;) {
		struct dp_ike_msg *m;

		pthread_mutex_lock(&dp->ike_lock);
		m = dp->ike_head;
		if (m) {
			dp->ike_head = m->next;
			if (!dp->ike_head)
				dp->ike_tail = &dp->ike_head;
			dp->ike_n--;
		}
		pthread_mutex_unlock(&dp->ike_lock);
		if (!m)
			break;
		kzd_ike_natt_input(d, &m->local, &m->peer, m->data, m->len);
		free(m);
	}
}

/* ---- NAT keepalives (RFC 3948 2.3), MSS settings (control thread) ---- */

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct kzd_dataplane *dp = d->dp;
	int natt = d->ike_fd4500;
	uint64_t now;

	/* An MTU or tcp-mss change reaches the worker within a second. */
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if ((d->tun[u].open ? mss_limit(d, u) : 0) != dp->mss_now[u]) {
			publish(d, NULL);
			break;
		}
	now = dp_now_ms();
	for (size_t i = 0; i < dp->n; i++) {
		struct dp_sa *p = dp->v[i];
		uint8_t ka[ESP_UDP_KEEPALIVE_LEN];
		const struct kz_ike_policy *pol;
		const struct kz_if_ipsec *f;
		const struct kz_ipsec_profile *prof;
		uint32_t every = KZ_DEF_KEEPALIVE;
		struct sockaddr_in to;

		if (!p->out.udp_encap || now < p->keepalive_due_ms)
			continue;
		f = kz_find_ipsec_if(d->running, p->out.ipsec_unit);
		prof = f ? kz_find_profile(d->running, f->map) : NULL;
		pol = prof ? kz_find_ike_policy(d->running, prof->ike_policy) : NULL;
		if (pol && pol->natt)
			every = pol->keepalive;
		p->keepalive_due_ms = now + (uint64_t)every * 1000u;
		dp_peer_unpack(atomic_load(&p->peer), &to);
		if (esp_udp_keepalive(ka, sizeof(ka)) > 0 && natt >= 0) {
			union {
				char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
				struct cmsghdr align;
			} ctl;
			struct in_pktinfo pi = { .ipi_spec_dst = p->out.local.sin_addr };
			struct iovec iov = { ka, sizeof(ka) };
			struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to),
					      .msg_iov = &iov, .msg_iovlen = 1,
					      .msg_control = ctl.buf,
					      .msg_controllen = sizeof(ctl.buf) };
			struct cmsghdr *cm;

			memset(&ctl, 0, sizeof(ctl));
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			if (sendmsg(natt, &msg, MSG_DONTWAIT) < 0)
				dp_count(&dp->drop_send);
		}
	}
}

/* Worker w's raw ESP socket: with more than one worker, filtered to its
 * share of the SPIs. */
static int raw_socket(struct kzd_dataplane *dp, struct dp_worker *w)
{
	int one = 1;

	w->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	if (w->raw_fd < 0)
		return KZ_ESYS;
	kzd_socket_buffers(w->raw_fd);
	if (setsockopt(w->raw_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		return KZ_ESYS;
	if (dp->nw > 1) {
		if (attach_esp_filter(w->raw_fd, w->id, dp->nw) < 0)
			return KZ_ESYS;
		drain(w->raw_fd);
	}
	return 0;
}

int kzd_dataplane_start(struct kzd *d)
{
	struct kzd_dataplane *dp = dp_get(d);
	struct timeval one = { 1, 0 };
	int e;

	if (!dp)
		return KZ_ENOMEM;
	for (unsigned i = 0; i < dp->nw; i++) {
		struct dp_worker *w = dp->w[i];

		if (raw_socket(dp, w) < 0) {
			log_err("data plane: cannot open the ESP socket: %s", strerror(errno));
			return KZ_ESYS;
		}
		if (ep_add(w, w->raw_fd, TAG_RAW) < 0 || ep_add(w, dp->kick_fd, TAG_KICK) < 0) {
			log_err("data plane: epoll: %s", strerror(errno));
			return KZ_ESYS;
		}
	}
	dp->ev_keepalive = event_new(d->base, -1, EV_PERSIST, on_keepalive, d);
	dp->ev_note = event_new(d->base, dp->note_rd, EV_READ | EV_PERSIST, on_note, d);
	if (!dp->ev_keepalive || !dp->ev_note || event_add(dp->ev_keepalive, &one) < 0 ||
	    event_add(dp->ev_note, NULL) < 0)
		return KZ_ENOMEM;
	for (unsigned i = 0; i < dp->nw; i++) {
		e = pthread_create(&dp->w[i]->thread, NULL, dp_worker_main, dp->w[i]);
		if (e) {
			log_err("data plane: cannot start worker %u: %s", i, strerror(e));
			return KZ_ESYS;
		}
		dp->w[i]->up = true;
		dp->threads_up = true;
	}
	log_info("data plane: %u worker%s", dp->nw, dp->nw == 1 ? "" : "s");
	return 0;
}

void kzd_dataplane_show_stats(struct kzd *d, bool json, struct strbuf *out)
{
	struct kzd_dataplane *dp = d->dp;
	unsigned long long no_sa = 0, tx_no_sa = 0, not4 = 0, send = 0, ikeq = 0, bad = 0;

	if (dp) {
		no_sa = atomic_load(&dp->drop_no_sa);
		tx_no_sa = atomic_load(&dp->tx_no_sa);
		not4 = atomic_load(&dp->drop_not_ipv4);
		send = atomic_load(&dp->drop_send);
		ikeq = atomic_load(&dp->drop_ike_queue);
		bad = atomic_load(&dp->drop_malformed);
	}
	if (json)
		sb_printf(out, "{\"no_sa\":%llu,\"outbound_no_sa\":%llu,\"not_ipv4\":%llu,"
			       "\"send_errors\":%llu,\"ike_queue_full\":%llu,\"malformed\":%llu,"
			       "\"workers\":[",
			  no_sa, tx_no_sa, not4, send, ikeq, bad);
	else
		sb_printf(out,
			  "inbound ESP for no SA: %llu\n"
			  "outbound packets outside every SA's selectors (not sent): %llu\n"
			  "outbound packets not IPv4: %llu\n"
			  "send errors: %llu\n"
			  "IKE datagrams on 4500 dropped (queue full): %llu\n"
			  "malformed datagrams on 4500 (not keepalive, IKE or ESP): %llu\n",
			  no_sa, tx_no_sa, not4, send, ikeq, bad);
	/* ESP packets each worker decrypted (in) and encrypted (out), and
	 * the ESP for no SA it got. */
	for (unsigned i = 0; dp && i < dp->nw; i++) {
		unsigned long long pin = atomic_load(&dp->w[i]->pkts_in);
		unsigned long long pout = atomic_load(&dp->w[i]->pkts_out);
		unsigned long long nosa = atomic_load(&dp->w[i]->no_sa);

		if (json)
			sb_printf(out,
				  "%s{\"worker\":%u,\"packets_in\":%llu,\"packets_out\":%llu,"
				  "\"no_sa\":%llu}",
				  i ? "," : "", i, pin, pout, nosa);
		else
			sb_printf(out, "worker %u: ESP packets in %llu, out %llu, for no SA %llu\n", i,
				  pin, pout, nosa);
	}
	if (json)
		sb_puts(out, "],\"sas\":[");
	for (size_t i = 0; dp && i < dp->n; i++) {
		const struct esp_sa *sa = dp->v[i]->esp_in;

		if (json)
			sb_printf(out, "%s{\"spi\":%u,\"interface\":\"IPsec%u\",\"drops\":{", i ? "," : "",
				  dp->v[i]->in.spi, dp->v[i]->in.ipsec_unit);
		else
			sb_printf(out, "Inbound SA spi=%u(0x%08x) on IPsec%u drops:", dp->v[i]->in.spi,
				  dp->v[i]->in.spi, dp->v[i]->in.ipsec_unit);
		for (int w = ESP_DROP_NONE + 1, k = 0; w < ESP_DROP_COUNT; w++) {
			uint64_t c = esp_sa_drops(sa, (enum esp_drop)w);

			if (json)
				sb_printf(out, "%s\"%s\":%llu", k++ ? "," : "",
					  esp_drop_name((enum esp_drop)w), (unsigned long long)c);
			else
				sb_printf(out, " %s %llu", esp_drop_name((enum esp_drop)w),
					  (unsigned long long)c);
		}
		sb_puts(out, json ? "}}" : "\n");
	}
	if (json)
		sb_puts(out, "]}\n");
}

void kzd_dataplane_free(struct kzd *d)
{
	struct kzd_dataplane *dp = d->dp;
	uint64_t one = 1;

	if (!dp)
		return;
	if (dp->threads_up) {
		atomic_store(&dp->stop, true);
		/* Never read: it stays readable and wakes every worker. */
		if (write(dp->kick_fd, &one, sizeof(one)) < 0)
			log_err("data plane: cannot wake the workers: %s", strerror(errno));
		for (unsigned i = 0; i < dp->nw; i++)
			if (dp->w[i]->up)
				pthread_join(dp->w[i]->thread, NULL);
		dp->threads_up = false;
	}
	for (size_t i = 0; i < dp->n; i++)
		pair_free(dp->v[i]);
	while (dp->ike_head) {
		struct dp_ike_msg *m = dp->ike_head;

		dp->ike_head = m->next;
		free(m);
	}
	if (dp->ev_keepalive)
		event_free(dp->ev_keepalive);
	if (dp->ev_note)
		event_free(dp->ev_note);
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		for (unsigned i = 1; i < dp->nw; i++)
			if (dp->tunq[u][i] >= 0 && dp->tunq[u][i] != d->tun[u].fd)
				kz_tun_close(dp->tunq[u][i]);
	for (unsigned i = 0; i < dp->nw; i++) {
		if (dp->w[i]->natt_own >= 0)
			close(dp->w[i]->natt_own);
		worker_free(dp->w[i]);
	}
	close(dp->kick_fd);
	close(dp->note_rd);
	close(dp->note_wr);
	pthread_mutex_destroy(&dp->ike_lock);
	free(atomic_load(&dp->table));
	free(dp->v);
	free(dp);
	d->dp = NULL;
}
