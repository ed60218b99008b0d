/* dataplane.c - moves packets: IPsec<N>'s TUN device <-> ESP (RFC 4303)
 * on the WAN, as plain ESP (IP protocol 50, raw socket) or ESP-in-UDP on
 * port 4500 (RFC 3948), with the SAs the IKE engine established.
 *
 * Outbound: a packet routed into ipsec<N> is matched against the traffic
 * selectors of IPsec<N>'s outbound SAs (a packet outside them is dropped
 * and counted, never sent in clear), encrypted and sent to the peer.
 * Inbound: the SPI finds the SA, esp_decap() verifies, decrypts and checks
 * the selectors, and only then the inner packet is written to the TUN
 * device of the SA's interface.  The peer's translated address and port are
 * learnt from authenticated ESP-in-UDP only.
 *
 * Threads.  The packets move on one worker thread, off the control thread's
 * event loop: it waits in epoll on the TUN devices, the raw ESP socket and
 * the UDP 4500 socket, reads a batch per wake-up (recvmmsg, up to
 * DP_BATCH TUN reads) and sends a batch (sendmmsg).  ESP-in-UDP leaves as
 * UDP GSO runs (one SA, one datagram size: the stack sees one packet per
 * run) and comes in coalesced by UDP GRO.  One worker keeps each
 * SA's sequence numbers in order, so the peer's replay window never sees
 * reordering we made; every esp_sa is used by the worker alone, as esp.h
 * asks.  Buffers are allocated once, never per packet.
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
 * new immutable table (SA pointers, TUN fds, MSS limits per unit) with one
 * atomic pointer store; the worker loads the pointer once per batch, inside
 * a "section" marked by an odd section counter.  Before freeing what an
 * old table referenced, the control thread waits until the worker is
 * outside a section or has started a new one (a grace period, as in RCU):
 * no lock is taken on the hot path.  The only state the worker writes that
 * the control thread reads is atomic: the learnt peer address, the drop
 * counters, and the esp_sa counters read for show (relaxed atomics with
 * the worker as their one writer; a value may be one packet old).
 *
 * What only the control thread may do is asked for through a pipe: IKE
 * datagrams that came to port 4500 (queued), on-demand initiation (one
 * pending flag per interface), and ESP for an SPI we have no SA for (one
 * slot, at most every DP_STRAY_MS: the IKE engine may tell the sender,
 * which is how a peer learns that we restarted). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
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

#include "../esp/esp.h"
#include "../esp/vnet.h"
#include "../ike/ike.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"
#include "daemon.h"
#include "dataplane_io.h"
#include "mss.h"

#define DP_MAX_PAIRS 1024
#define DP_BUF 65600 /* an IPv4 datagram and some slack */
#define DP_BATCH 32
#define DP_IKE_QUEUE_MAX 256 /* IKE datagrams waiting for the control thread */
#define DP_TUN_TXQLEN 2000   /* TUN queue: room for a batch of TCP bursts */
#define DP_GSO_MAX 60000     /* bytes per UDP GSO send (under 64 KB of IPv4) */
#define DP_GSO_SEGS 64       /* datagrams per UDP GSO send (UDP_MAX_SEGMENTS) */
#define DP_TX_ARENA (512 * 1024) /* encrypted packets waiting for sendmmsg */
#define DP_TX_PKTS 512
#define DP_TX_MSGS 128

/* epoll tags: TUN units are 0..KZ_MAX_IPSEC_IF-1. */
#define TAG_RAW 0x10000u
#define TAG_NATT 0x10001u
#define TAG_KICK 0x10002u

/* Notification bytes on the pipe to the control thread: what to look at
 * (the IKE queue, the on-demand flags). */
#define NOTE_IKE 'i'
#define NOTE_ON_DEMAND 'd'
#define NOTE_STRAY 's'

/* ESP for no SA is reported at most this often (the engine sends fewer
 * notifies still); the rest is only counted. */
#define DP_STRAY_MS 100u


/* One SA pair.  Fields other than peer and warned are fixed once the pair
 * is published. */
struct dp_sa {
	struct kz_child_sa in, out; /* keys wiped: only addresses and selectors kept */
	struct esp_sa *esp_in, *esp_out;
	_Atomic uint64_t peer;     /* where to send: addr << 16 | port, network order */
	bool warned;               /* worker: "can send no more" logged */
	uint64_t keepalive_due_ms; /* control thread */
};

/* What the worker sees: replaced, never changed, once published. */
struct dp_table {
	size_t n;
	int tun_fd[KZ_MAX_IPSEC_IF];   /* -1: not open */
	bool vnet[KZ_MAX_IPSEC_IF];    /* frames carry a virtio-net header */
	uint16_t mss[KZ_MAX_IPSEC_IF]; /* clamp limit, 0: off */
	struct dp_sa *sa[];            /* newest last */
};

struct dp_ike_msg {
	struct dp_ike_msg *next;
	struct sockaddr_in local, peer;
	size_t len;
	uint8_t data[];
};

union dp_ctl {
	char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* Encrypted packets on their way out: written one after the other into
 * the arena, grouped into messages (a UDP GSO run, or one plain ESP
 * packet), sent with sendmmsg when the arena or the arrays fill up and at
 * the end of each TUN batch. */
struct dp_tx {
	uint8_t *arena;
	size_t used;
	int k, m;                   /* iov and msg entries in use */
	int start, cur_fd;          /* messages from start on go to cur_fd */
	const struct dp_sa *run;    /* SA of message m - 1 while it can grow */
	size_t run_bytes;
	struct mmsghdr msg[DP_TX_MSGS];
	struct iovec iov[DP_TX_PKTS];
	struct sockaddr_in addr[DP_TX_MSGS];
	union dp_ctl ctl[DP_TX_MSGS];
};

/* The worker's own buffers. */
struct dp_worker {
	uint8_t *inner;                    /* a TUN frame, or a decrypted packet
					    * behind room for the virtio-net header */
	uint8_t *rbuf[DP_BATCH];           /* received ESP */
	struct mmsghdr msg[DP_BATCH];
	struct iovec iov[DP_BATCH];
	struct sockaddr_in addr[DP_BATCH];
	union dp_ctl ctl[DP_BATCH];
	struct dp_tx tx;
	struct vnet_gro gro;               /* decrypted TCP segments being joined */
	unsigned gro_unit;                 /* for IPsec<gro_unit> */
};

struct kzd_dataplane {
	/* control thread */
	struct dp_sa **v;
	size_t n, cap;
	struct event *ev_keepalive, *ev_note;
	uint16_t mss_now[KZ_MAX_IPSEC_IF];
	bool tun_watched[KZ_MAX_IPSEC_IF];
	bool tun_vnet[KZ_MAX_IPSEC_IF];
	/* shared */
	_Atomic(struct dp_table *) table;
	atomic_uint_fast64_t section; /* odd while the worker holds a table */
	atomic_bool stop;
	_Atomic int natt_fd;
	int raw_fd, epfd, kick_fd;
	int note_rd, note_wr;
	atomic_bool od_pending[KZ_MAX_IPSEC_IF];
	pthread_mutex_t ike_lock;
	struct dp_ike_msg *ike_head, **ike_tail;
	size_t ike_n;
	/* ESP for no SA, for the control thread; under ike_lock */
	bool stray_set;
	struct sockaddr_in stray_local, stray_peer;
	uint32_t stray_spi;
	uint64_t stray_last_ms; /* whoever runs inbound() */
	bool thread_up;
	pthread_t thread;
	struct dp_worker w;
	/* drop counters, written by the worker */
	atomic_uint_fast64_t drop_no_sa, drop_selector, drop_not_ipv4, drop_send, tx_no_sa;
	atomic_uint_fast64_t drop_ike_queue, drop_malformed;
};

static void count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t peer_pack(const struct sockaddr_in *a)
{
	return (uint64_t)a->sin_addr.s_addr << 16 | a->sin_port;
}

static void peer_unpack(uint64_t v, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = (uint32_t)(v >> 16);
	a->sin_port = (uint16_t)v;
}

static void dp_buffers_free(struct kzd_dataplane *dp)
{
	free(dp->w.inner);
	free(dp->w.tx.arena);
	free(dp->w.gro.buf);
	for (int i = 0; i < DP_BATCH; i++)
		free(dp->w.rbuf[i]);
}

static struct dp_table *table_new(size_t n)
{
	struct dp_table *t = calloc(1, sizeof(*t) + n * sizeof(t->sa[0]));

	if (t)
		for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
			t->tun_fd[u] = -1;
	return t;
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
	dp->raw_fd = dp->epfd = dp->kick_fd = dp->note_rd = dp->note_wr = -1;
	atomic_init(&dp->natt_fd, -1);
	atomic_init(&dp->table, table_new(0));
	dp->ike_tail = &dp->ike_head;
	pthread_mutex_init(&dp->ike_lock, NULL);
	dp->w.inner = malloc(DP_BUF);
	dp->w.tx.arena = malloc(DP_TX_ARENA);
	dp->w.gro.buf = malloc(VNET_GRO_BUF);
	for (int i = 0; i < DP_BATCH; i++)
		dp->w.rbuf[i] = malloc(DP_BUF);
	dp->epfd = epoll_create1(EPOLL_CLOEXEC);
	dp->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		dp->note_rd = p[0];
		dp->note_wr = p[1];
	}
	if (!atomic_load(&dp->table) || !dp->w.inner || !dp->w.tx.arena || !dp->w.gro.buf ||
	    dp->epfd < 0 || dp->kick_fd < 0 || dp->note_rd < 0) {
		log_err("data plane: cannot set up: %s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < DP_BATCH; i++)
		if (!dp->w.rbuf[i])
			goto fail;
	d->dp = dp;
	return dp;
fail:
	dp_buffers_free(dp);
	free(atomic_load(&dp->table));
	if (dp->epfd >= 0)
		close(dp->epfd);
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

static bool in_prefix(uint32_t addr_n, const struct kz_prefix *p)
{
	uint32_t mask = p->len ? 0xffffffffu << (32 - p->len) : 0;

	return p->set && (ntohl(addr_n) & mask) == (ntohl(p->addr.s_addr) & mask);
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

/* Waits until the worker no longer holds a table older than the one just
 * published: it is outside a section, or left the one it was in. */
static bool grace_period(struct kzd_dataplane *dp)
{
	uint64_t s = atomic_load(&dp->section);
	struct timespec ms = { 0, 1000000 };

	if (!dp->thread_up || !(s & 1))
		return true;
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(&dp->section) != s)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

/* Builds and publishes a table from the control thread's list; frees the
 * old table and the pairs in gone[] after the grace period.  On no memory
 * the old table stays (and gone[] is freed later with the data plane). */
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
		t->tun_fd[u] = d->tun[u].open && dp->tun_watched[u] ? d->tun[u].fd : -1;
		t->vnet[u] = dp->tun_vnet[u];
		t->mss[u] = dp->mss_now[u] = d->tun[u].open ? mss_limit(d, u) : 0;
	}
	old = atomic_exchange(&dp->table, t);
	if (!grace_period(dp)) {
		/* A worker stuck for 5 s: leak rather than free under it. */
		log_err("data plane: the worker does not answer; old SA table kept");
		return 0;
	}
	free(old);
	if (gone) {
		esp_sa_free(gone->esp_in);
		esp_sa_free(gone->esp_out);
		free(gone);
	}
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
	p->esp_in = esp_sa_new(in, &e1);
	p->esp_out = esp_sa_new(out, &e2);
	if (!p->esp_in || !p->esp_out) {
		log_err("data plane: cannot prepare the IPsec SA pair 0x%08x/0x%08x: %s", in->spi,
			out->spi, kz_strerror(e1 ? e1 : e2));
		esp_sa_free(p->esp_in);
		esp_sa_free(p->esp_out);
		free(p);
		return;
	}
	p->in = *in;
	p->out = *out;
	/* The esp_sa objects hold the keys now. */
	kz_wipe(p->in.enc_key, sizeof(p->in.enc_key));
	kz_wipe(p->in.auth_key, sizeof(p->in.auth_key));
	kz_wipe(p->out.enc_key, sizeof(p->out.enc_key));
	kz_wipe(p->out.auth_key, sizeof(p->out.auth_key));
	atomic_init(&p->peer, peer_pack(&out->peer));
	dp->v[dp->n++] = p;
	if (publish(d, NULL) < 0) {
		dp->n--;
		esp_sa_free(p->esp_in);
		esp_sa_free(p->esp_out);
		free(p);
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
			esp_sa_stats(dp->v[i]->esp_out, st);
	}
}

/* ---- worker: outbound ---- */

/* Starts message m of x with iov[i] (len bytes at pkt) to the SA's peer
 * from its local address (IP_PKTINFO). */
static void msg_start(struct dp_tx *x, int m, int i, const struct dp_sa *p, uint8_t *pkt,
		      size_t len)
{
	struct msghdr *h = &x->msg[m].msg_hdr;
	struct in_pktinfo pi = { .ipi_spec_dst = p->out.local.sin_addr };
	struct cmsghdr *cm;

	peer_unpack(atomic_load_explicit(&p->peer, memory_order_relaxed), &x->addr[m]);
	x->iov[i].iov_base = pkt;
	x->iov[i].iov_len = len;
	memset(h, 0, sizeof(*h));
	h->msg_name = &x->addr[m];
	h->msg_namelen = sizeof(x->addr[m]);
	h->msg_iov = &x->iov[i];
	h->msg_iovlen = 1;
	memset(&x->ctl[m], 0, sizeof(x->ctl[m]));
	h->msg_control = x->ctl[m].buf;
	h->msg_controllen = CMSG_SPACE(sizeof(pi));
	cm = CMSG_FIRSTHDR(h);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
}

/* Message m carries several ESP-in-UDP packets back to back: the kernel
 * cuts them into datagrams of the first one's size (UDP GSO), so the whole
 * run crosses the stack as one packet. */
static void msg_gso(struct dp_tx *x, int m)
{
	struct msghdr *h = &x->msg[m].msg_hdr;
	struct cmsghdr *cm;
	uint16_t seg = (uint16_t)h->msg_iov[0].iov_len;

	if (h->msg_iovlen < 2)
		return;
	h->msg_controllen = sizeof(x->ctl[m].buf);
	cm = CMSG_NXTHDR(h, CMSG_FIRSTHDR(h));
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
}

/* Sends msg[from..to) on fd with as few system calls as the socket
 * takes; what it refuses is counted. */
static void flush(struct kzd_dataplane *dp, struct mmsghdr *msg, int fd, int from, int to)
{
	while (from < to) {
		int r = fd >= 0 ? sendmmsg(fd, &msg[from], (unsigned)(to - from), MSG_DONTWAIT)
				: -1;

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			/* Skip the one that failed (unreachable, no buffer). */
			count(&dp->drop_send);
			r = 1;
		}
		from += r;
	}
}

/* Sends everything queued and empties the arena. */
static void tx_flush(struct kzd_dataplane *dp, struct dp_tx *x)
{
	if (x->m > 0) {
		msg_gso(x, x->m - 1);
		flush(dp, x->msg, x->cur_fd, x->start, x->m);
	}
	x->used = 0;
	x->k = x->m = x->start = 0;
	x->cur_fd = -1;
	x->run = NULL;
	x->run_bytes = 0;
}

/* Room for one more packet of up to need bytes (and a message for it). */
static uint8_t *tx_room(struct kzd_dataplane *dp, struct dp_tx *x, size_t need)
{
	if (x->used + need > DP_TX_ARENA || x->k >= DP_TX_PKTS || x->m >= DP_TX_MSGS)
		tx_flush(dp, x);
	return x->arena + x->used;
}

/* Queues the olen bytes just encrypted at the arena's end for p's peer on
 * ofd: they join the previous message when that is a UDP GSO run of the
 * same SA that can take them, else they start a message. */
static void tx_queue(struct kzd_dataplane *dp, struct dp_tx *x, const struct dp_sa *p, int ofd,
		     size_t olen)
{
	uint8_t *pkt = x->arena + x->used;
	struct msghdr *h = x->m > 0 ? &x->msg[x->m - 1].msg_hdr : NULL;

	/* Keep the next packet 16-byte aligned for the cipher. */
	x->used += (olen + 15) & ~(size_t)15;
	if (x->run == p && olen <= h->msg_iov[0].iov_len && x->run_bytes + olen <= DP_GSO_MAX &&
	    h->msg_iovlen < DP_GSO_SEGS) {
		/* Only the last datagram of a GSO message may be shorter: a
		 * short one closes the run. */
		x->iov[x->k].iov_base = pkt;
		x->iov[x->k].iov_len = olen;
		if (olen < h->msg_iov[0].iov_len)
			x->run = NULL;
		h->msg_iovlen++;
		x->run_bytes += olen;
		x->k++;
		return;
	}
	if (x->m > 0)
		msg_gso(x, x->m - 1);
	if (x->m > x->start && ofd != x->cur_fd) {
		flush(dp, x->msg, x->cur_fd, x->start, x->m);
		x->start = x->m;
	}
	x->cur_fd = ofd;
	msg_start(x, x->m++, x->k++, p, pkt, olen);
	x->run = p->out.udp_encap ? p : NULL;
	x->run_bytes = olen;
}

/* The outbound SA of IPsec<unit> whose selectors hold the packet; the
 * newest pair wins (make-before-break rekeys add the new pair last), unless
 * it is still held back (out_after_ms) and an older pair can carry it. */
static struct dp_sa *find_out(const struct dp_table *t, unsigned unit, uint32_t src,
			      uint32_t dst, uint64_t now)
{
	struct dp_sa *held = NULL;

	for (size_t i = t->n; i-- > 0;) {
		struct dp_sa *p = t->sa[i];

		if (p->out.ipsec_unit == unit && esp_sa_state(p->esp_out) == ESP_SA_ACTIVE &&
		    in_prefix(src, &p->out.local_ts) && in_prefix(dst, &p->out.remote_ts)) {
			if (now < p->out.out_after_ms) {
				if (!held)
					held = p;
				continue;
			}
			return p;
		}
	}
	return held;
}

static void note(struct kzd_dataplane *dp, uint8_t what)
{
	/* A full pipe already wakes the control thread. */
	if (write(dp->note_wr, &what, 1) < 0)
		return;
}

static void on_demand_note(struct kzd_dataplane *dp, unsigned unit)
{
	if (!atomic_exchange(&dp->od_pending[unit], true))
		note(dp, NOTE_ON_DEMAND);
}

/* Up to DP_BATCH frames from IPsec<unit>'s TUN device.  With offloads a
 * frame may be a TCP (or UDP) super-packet of up to 64 KB: it is cut into
 * segments (esp/vnet.c) that are written straight to where esp_encap
 * puts the payload, encrypted in place and queued; ESP-in-UDP packets of
 * one SA and one size join one UDP GSO message.  So one read and one send
 * carry what took some 40 of each. */
static void worker_tun(struct kzd_dataplane *dp, const struct dp_table *t, unsigned unit)
{
	struct dp_worker *w = &dp->w;
	struct dp_tx *x = &w->tx;
	int fd = t->tun_fd[unit];
	int natt = atomic_load_explicit(&dp->natt_fd, memory_order_acquire);
	struct timespec ts;
	uint64_t now;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (int n = 0; n < DP_BATCH; n++) {
		ssize_t len = read(fd, w->inner, DP_BUF);
		struct vnet_pkt vp;
		struct dp_sa *p;
		uint32_t src, dst;
		size_t hdr, off;
		int ofd;

		if (len <= 0)
			break;
		if (t->vnet[unit]) {
			/* A frame the kernel built that we cannot cut: not
			 * IPv4 (GSO types we did not ask for) or broken. */
			if (vnet_parse(w->inner, (size_t)len, &vp) < 0) {
				count(&dp->drop_not_ipv4);
				continue;
			}
		} else {
			memset(&vp, 0, sizeof(vp));
			vp.ip = w->inner;
			vp.len = (size_t)len;
			vp.kind = VNET_PLAIN;
			vp.nseg = 1;
		}
		if (vp.len < 20 || (vp.ip[0] >> 4) != 4) {
			count(&dp->drop_not_ipv4);
			continue;
		}
		memcpy(&src, vp.ip + 12, 4);
		memcpy(&dst, vp.ip + 16, 4);
		p = find_out(t, unit, src, dst, now);
		if (!p) {
			/* Outside every selector, or no SA yet: never in clear. */
			count(&dp->tx_no_sa);
			on_demand_note(dp, unit);
			continue;
		}
		ofd = p->out.udp_encap ? natt : dp->raw_fd;
		hdr = ESP_HDR_LEN + esp_sa_iv_len(p->esp_out);
		for (size_t i = 0; i < vp.nseg; i++) {
			size_t slen = vnet_seg_len(&vp, i), olen;
			size_t need = esp_sa_encap_len(p->esp_out, slen);
			uint8_t *out = tx_room(dp, x, need);
			int r;

			/* The segment goes where esp_encap puts the inner
			 * packet: no copy in between. */
			off = DP_TX_ARENA - x->used;
			if (vnet_segment(&vp, i, out + hdr, off - hdr, &slen) < 0) {
				count(&dp->drop_not_ipv4);
				break;
			}
			if (t->mss[unit])
				kz_mss_clamp_packet(out + hdr, slen, t->mss[unit]);
			r = esp_encap(p->esp_out, out + hdr, slen, out, off, &olen);
			if (r < 0) {
				if (r == KZ_ERANGE && !p->warned) {
					p->warned = true;
					log_info("IPsec SA 0x%08x can send no more (%s); rekey needed",
						 p->out.spi,
						 esp_sa_state(p->esp_out) == ESP_SA_SEQ_EXHAUSTED
							 ? "sequence numbers used up"
							 : "lifetime bytes reached");
				}
				break;
			}
			tx_queue(dp, x, p, ofd, olen);
		}
	}
	tx_flush(dp, x);
}

/* ---- worker: inbound ---- */

/* ESP for an SPI we do not know: hand one now and then to the control
 * thread.  local is NULL for plain ESP (the raw socket does not say). */
static void stray(struct kzd_dataplane *dp, const struct sockaddr_in *local,
		  const struct sockaddr_in *from, uint32_t spi)
{
	struct timespec ts;
	uint64_t now;
	bool wake = false;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	if (dp->stray_last_ms && now - dp->stray_last_ms < DP_STRAY_MS)
		return;
	dp->stray_last_ms = now;
	pthread_mutex_lock(&dp->ike_lock);
	if (!dp->stray_set) {
		dp->stray_set = wake = true;
		dp->stray_peer = *from;
		dp->stray_spi = spi;
		memset(&dp->stray_local, 0, sizeof(dp->stray_local));
		dp->stray_local.sin_family = AF_INET;
		if (local) {
			dp->stray_local = *local;
		} else {
			/* plain ESP: IKE answers from port 500 to port 500 */
			dp->stray_local.sin_port = htons(500);
			dp->stray_peer.sin_port = htons(500);
		}
	}
	pthread_mutex_unlock(&dp->ike_lock);
	if (wake)
		note(dp, NOTE_STRAY);
}

/* Writes the packet of len bytes at buf + VNET_HDR_LEN to IPsec<unit>,
 * behind a virtio-net header when the device takes one (a complete packet:
 * no GSO, checksums as they came). */
static int tun_write(const struct dp_table *t, unsigned unit, uint8_t *buf, size_t len)
{
	if (!t->vnet[unit])
		return write(t->tun_fd[unit], buf + VNET_HDR_LEN, len) < 0 ? KZ_ESYS : 0;
	vnet_hdr_plain(buf);
	return write(t->tun_fd[unit], buf, len + VNET_HDR_LEN) < 0 ? KZ_ESYS : 0;
}

/* Writes the TCP segments joined so far (if any) to their TUN device. */
static void gro_flush(struct kzd_dataplane *dp, const struct dp_table *t)
{
	struct dp_worker *w = &dp->w;
	size_t n = vnet_gro_finish(&w->gro);
	int fd = t->tun_fd[w->gro_unit];

	if (n && (fd < 0 || write(fd, w->gro.buf, n) < 0))
		count(&dp->drop_send);
}

/* An authentic inner packet (len bytes at buf + VNET_HDR_LEN) for
 * IPsec<unit>: joined to the TCP segments before it when it continues them
 * (esp/vnet.h: GRO in userspace, one write for a whole burst), else
 * written after them.  The batch's end writes what is still held. */
static void tun_deliver(struct kzd_dataplane *dp, const struct dp_table *t, unsigned unit,
			uint8_t *buf, size_t len)
{
	struct dp_worker *w = &dp->w;
	const uint8_t *pkt = buf + VNET_HDR_LEN;
	int taken;

	if (t->vnet[unit]) {
		if (w->gro.len && w->gro_unit != unit)
			gro_flush(dp, t);
		w->gro_unit = unit;
		taken = vnet_gro_add(&w->gro, pkt, len);
		if (!taken && w->gro.len) {
			gro_flush(dp, t);
			taken = vnet_gro_add(&w->gro, pkt, len);
		}
		if (taken) {
			if (w->gro.closed)
				gro_flush(dp, t);
			return;
		}
	}
	if (t->tun_fd[unit] < 0 || tun_write(t, unit, buf, len) < 0)
		count(&dp->drop_send);
}

static void inbound(struct kzd_dataplane *dp, const struct dp_table *t,
		    const struct sockaddr_in *local, const struct sockaddr_in *from,
		    const uint8_t *esp, size_t len, bool udp)
{
	struct dp_sa *p = NULL;
	enum esp_drop why;
	size_t ilen;
	uint32_t spi;

	if (esp_packet_spi(esp, len, &spi) < 0) {
		count(&dp->drop_no_sa);
		return;
	}
	for (size_t i = 0; i < t->n && !p; i++)
		if (t->sa[i]->in.spi == spi)
			p = t->sa[i];
	if (!p) {
		count(&dp->drop_no_sa);
		stray(dp, udp ? local : NULL, from, spi);
		return;
	}
	/* The SA was negotiated for one encapsulation (RFC 3948 UDP or plain
	 * IP protocol 50); the other one is not how the peer sends it. */
	if (p->in.udp_encap != udp) {
		esp_sa_count_drop(p->esp_in, ESP_DROP_WRONG_ENCAP);
		return;
	}
	if (esp_decap(p->esp_in, esp, len, dp->w.inner + VNET_HDR_LEN, DP_BUF - VNET_HDR_LEN,
		      &ilen, &why) < 0) {
		log_debug("ESP spi 0x%08x from %s dropped: %s", spi, inet_ntoa(from->sin_addr),
			  esp_drop_name(why));
		return;
	}
	/* Authenticated: the peer may have moved behind its NAT. */
	if (udp) {
		uint64_t now = peer_pack(from);

		if (atomic_load_explicit(&p->peer, memory_order_relaxed) != now) {
			atomic_store_explicit(&p->peer, now, memory_order_relaxed);
			log_info("IPsec SA 0x%08x: the peer is now at %s:%u", p->out.spi,
				 inet_ntoa(from->sin_addr), ntohs(from->sin_port));
		}
	}
	if (t->mss[p->in.ipsec_unit])
		kz_mss_clamp_packet(dp->w.inner + VNET_HDR_LEN, ilen, t->mss[p->in.ipsec_unit]);
	tun_deliver(dp, t, p->in.ipsec_unit, dp->w.inner, ilen);
}

static void prep_recv(struct dp_worker *w, bool pktinfo)
{
	for (int i = 0; i < DP_BATCH; i++) {
		struct msghdr *m = &w->msg[i].msg_hdr;

		w->iov[i].iov_base = w->rbuf[i];
		w->iov[i].iov_len = DP_BUF;
		memset(m, 0, sizeof(*m));
		m->msg_name = &w->addr[i];
		m->msg_namelen = sizeof(w->addr[i]);
		m->msg_iov = &w->iov[i];
		m->msg_iovlen = 1;
		if (pktinfo) {
			m->msg_control = w->ctl[i].buf;
			m->msg_controllen = sizeof(w->ctl[i].buf);
		}
	}
}

static void worker_raw(struct kzd_dataplane *dp, const struct dp_table *t)
{
	struct dp_worker *w = &dp->w;
	int n;

	prep_recv(w, false);
	n = recvmmsg(dp->raw_fd, w->msg, DP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const uint8_t *b = w->rbuf[i];
		size_t len = w->msg[i].msg_len, ihl;

		/* A raw socket hands over the IPv4 header too. */
		if (len < 20 || (b[0] >> 4) != 4)
			continue;
		ihl = (size_t)(b[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl)
			continue;
		inbound(dp, t, NULL, &w->addr[i], b + ihl, len - ihl, false);
	}
	gro_flush(dp, t);
}

/* An IKE datagram for the control thread (copied: IKE is not the hot
 * path; the queue is bounded against floods). */
static void queue_ike(struct kzd_dataplane *dp, const struct sockaddr_in *local,
		      const struct sockaddr_in *peer, const uint8_t *ike, size_t len)
{
	struct dp_ike_msg *m = NULL;
	bool wake = false;

	pthread_mutex_lock(&dp->ike_lock);
	if (dp->ike_n < DP_IKE_QUEUE_MAX && (m = malloc(sizeof(*m) + len))) {
		m->next = NULL;
		m->local = *local;
		m->peer = *peer;
		m->len = len;
		memcpy(m->data, ike, len);
		*dp->ike_tail = m;
		dp->ike_tail = &m->next;
		wake = dp->ike_n++ == 0;
	}
	pthread_mutex_unlock(&dp->ike_lock);
	if (!m)
		count(&dp->drop_ike_queue);
	if (wake)
		note(dp, NOTE_IKE);
}

/* One datagram from port 4500.  RFC 3948 2.2/2.3: keepalive, non-ESP
 * marker (IKE), or ESP. */
static void natt_one(struct kzd_dataplane *dp, const struct dp_table *t,
		     const struct sockaddr_in *local, const struct sockaddr_in *from,
		     const uint8_t *b, size_t len)
{
	switch (esp_udp_classify(b, len)) {
	case ESP_UDP_ESP:
		inbound(dp, t, local, from, b, len, true);
		break;
	case ESP_UDP_IKE:
		queue_ike(dp, local, from, b + ESP_UDP_MARKER_LEN, len - ESP_UDP_MARKER_LEN);
		break;
	case ESP_UDP_KEEPALIVE:
		break;
	case ESP_UDP_INVALID:
		/* Neither keepalive, IKE nor ESP (empty, 1-7 bytes, or a
		 * short one with a non-zero "SPI"). */
		count(&dp->drop_malformed);
		break;
	}
}

static void worker_natt(struct kzd_dataplane *dp, const struct dp_table *t, int fd)
{
	struct dp_worker *w = &dp->w;
	int n;

	prep_recv(w, true);
	n = recvmmsg(fd, w->msg, DP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &w->msg[i].msg_hdr;
		struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(4500) };
		const uint8_t *b = w->rbuf[i];
		size_t len = w->msg[i].msg_len, seg = len;

		for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				local.sin_addr = pi.ipi_addr;
			} else if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
				int g;

				/* UDP GRO: datagrams of g bytes back to back,
				 * the last one possibly shorter. */
				memcpy(&g, CMSG_DATA(cm), sizeof(g));
				if (g > 0)
					seg = (size_t)g;
			}
		}
		if (len == 0) /* an empty datagram is malformed too */
			natt_one(dp, t, &local, &w->addr[i], b, 0);
		for (size_t off = 0; off < len; off += seg)
			natt_one(dp, t, &local, &w->addr[i], b + off,
				 len - off < seg ? len - off : seg);
	}
	gro_flush(dp, t);
}

static void *worker(void *arg)
{
	struct kzd_dataplane *dp = arg;
	struct epoll_event ev[16];

	while (!atomic_load(&dp->stop)) {
		int n = epoll_wait(dp->epfd, ev, 16, -1);
		const struct dp_table *t;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("data plane: epoll: %s", strerror(errno));
			break;
		}
		/* Section: the table loaded here stays valid until it ends. */
		atomic_fetch_add(&dp->section, 1);
		t = atomic_load(&dp->table);
		for (int i = 0; i < n; i++) {
			uint32_t tag = ev[i].data.u32;
			int fd;

			if (tag < KZ_MAX_IPSEC_IF)
				worker_tun(dp, t, tag);
			else if (tag == TAG_RAW)
				worker_raw(dp, t);
			else if (tag == TAG_NATT && (fd = atomic_load(&dp->natt_fd)) >= 0)
				worker_natt(dp, t, fd);
		}
		atomic_fetch_add(&dp->section, 1);
	}
	return NULL;
}

static int ep_add(struct kzd_dataplane *dp, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(dp->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? KZ_ESYS : 0;
}

/* ---- TUN devices (control thread) ---- */

void kzd_dataplane_tun_open(struct kzd *d, unsigned unit)
{
	struct kzd_tun *t = &d->tun[unit];
	struct kzd_dataplane *dp = dp_get(d);
	struct ifreq ifr;
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
	/* How apply.c opened it: with a virtio-net header or without. */
	memset(&ifr, 0, sizeof(ifr));
	dp->tun_vnet[unit] = ioctl(t->fd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_VNET_HDR);
	if (ep_add(dp, t->fd, unit) < 0) {
		log_err("data plane: cannot watch %s: %s", t->ifname, strerror(errno));
		return;
	}
	dp->tun_watched[unit] = true;
	publish(d, NULL);
}

void kzd_dataplane_tun_close(struct kzd *d, unsigned unit)
{
	struct kzd_tun *t = &d->tun[unit];
	struct kzd_dataplane *dp = d->dp;

	if (!dp || !dp->tun_watched[unit])
		return;
	epoll_ctl(dp->epfd, EPOLL_CTL_DEL, t->fd, NULL);
	dp->tun_watched[unit] = false;
	/* After the grace period the worker no longer writes to the fd the
	 * caller closes next. */
	publish(d, NULL);
}

/* ---- the 4500 socket ---- */

int kzd_dataplane_take_natt(struct kzd *d, int fd)
{
	struct kzd_dataplane *dp = d->dp;

	if (!dp || !dp->thread_up)
		return KZ_EINVAL;
	/* Coalesced ESP-in-UDP in one read; the worker splits it again.  Not
	 * fatal when the kernel has no UDP GRO. */
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int)) < 0)
		log_debug("data plane: no UDP GRO on port 4500: %s", strerror(errno));
	atomic_store(&dp->natt_fd, fd);
	if (ep_add(dp, fd, TAG_NATT) < 0) {
		atomic_store(&dp->natt_fd, -1);
		return KZ_ESYS;
	}
	return 0;
}

void kzd_dataplane_release_natt(struct kzd *d)
{
	struct kzd_dataplane *dp = d->dp;
	int fd;

	if (!dp || (fd = atomic_exchange(&dp->natt_fd, -1)) < 0)
		return;
	epoll_ctl(dp->epfd, EPOLL_CTL_DEL, fd, NULL);
	grace_period(dp);
}

/* ESP-in-UDP read on the control thread (when the worker does not read
 * the 4500 socket): handled here, under the same rules as the worker's.
 * Only reached while no worker runs. */
void kzd_dataplane_udp_esp(struct kzd *d, const struct sockaddr_in *local,
			   const struct sockaddr_in *peer, const uint8_t *pkt, size_t len)
{
	struct kzd_dataplane *dp = dp_get(d);

	if (dp && !dp->thread_up) {
		inbound(dp, atomic_load(&dp->table), local, peer, pkt, len, true);
		gro_flush(dp, atomic_load(&dp->table));
	}
}

/* ---- notifications from the worker (control thread) ---- */

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
	int natt = atomic_load(&dp->natt_fd) >= 0 ? atomic_load(&dp->natt_fd) : d->ike_fd4500;
	struct timespec ts;
	uint64_t now;

	/* An MTU or tcp-mss change reaches the worker within a second. */
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if ((d->tun[u].open ? mss_limit(d, u) : 0) != dp->mss_now[u]) {
			publish(d, NULL);
			break;
		}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
		peer_unpack(atomic_load(&p->peer), &to);
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
				count(&dp->drop_send);
		}
	}
}

int kzd_dataplane_start(struct kzd *d)
{
	struct kzd_dataplane *dp = dp_get(d);
	struct timeval one = { 1, 0 };
	int one_i = 1, e;

	if (!dp)
		return KZ_ENOMEM;
	dp->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	if (dp->raw_fd >= 0)
		kzd_socket_buffers(dp->raw_fd);
	if (dp->raw_fd < 0 ||
	    setsockopt(dp->raw_fd, IPPROTO_IP, IP_PKTINFO, &one_i, sizeof(one_i)) < 0) {
		log_err("data plane: cannot open the ESP socket: %s", strerror(errno));
		return KZ_ESYS;
	}
	if (ep_add(dp, dp->raw_fd, TAG_RAW) < 0 || ep_add(dp, dp->kick_fd, TAG_KICK) < 0) {
		log_err("data plane: epoll: %s", strerror(errno));
		return KZ_ESYS;
	}
	dp->ev_keepalive = event_new(d->base, -1, EV_PERSIST, on_keepalive, d);
	dp->ev_note = event_new(d->base, dp->note_rd, EV_READ | EV_PERSIST, on_note, d);
	if (!dp->ev_keepalive || !dp->ev_note || event_add(dp->ev_keepalive, &one) < 0 ||
	    event_add(dp->ev_note, NULL) < 0)
		return KZ_ENOMEM;
	e = pthread_create(&dp->thread, NULL, worker, dp);
	if (e) {
		log_err("data plane: cannot start the worker thread: %s", strerror(e));
		return KZ_ESYS;
	}
	dp->thread_up = true;
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
			       "\"sas\":[",
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
	if (dp->thread_up) {
		atomic_store(&dp->stop, true);
		if (write(dp->kick_fd, &one, sizeof(one)) < 0)
			log_err("data plane: cannot wake the worker: %s", strerror(errno));
		pthread_join(dp->thread, NULL);
		dp->thread_up = false;
	}
	for (size_t i = 0; i < dp->n; i++) {
		esp_sa_free(dp->v[i]->esp_in);
		esp_sa_free(dp->v[i]->esp_out);
		free(dp->v[i]);
	}
	while (dp->ike_head) {
		struct dp_ike_msg *m = dp->ike_head;

		dp->ike_head = m->next;
		free(m);
	}
	if (dp->ev_keepalive)
		event_free(dp->ev_keepalive);
	if (dp->ev_note)
		event_free(dp->ev_note);
	if (dp->raw_fd >= 0)
		close(dp->raw_fd);
	close(dp->epfd);
	close(dp->kick_fd);
	close(dp->note_rd);
	close(dp->note_wr);
	pthread_mutex_destroy(&dp->ike_lock);
	free(atomic_load(&dp->table));
	free(dp->v);
	dp_buffers_free(dp);
	free(dp);
	d->dp = NULL;
}
