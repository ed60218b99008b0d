/* dp.c - moves packets: IPsec<N>'s TUN device <-> ESP (RFC 4303)
 * on the WAN, as plain ESP (IP protocol 50, raw socket) or ESP-in-UDP on
 * port 4500 (RFC 3948), with the SAs the control side installs (dp.h).
 * This file is the control side's part (workers, sockets, notifications,
 * keepalives, counters); dp_table.c keeps the SA list and publishes the
 * tables the workers read, dp_tx.c is a worker's outbound path and
 * dp_rx.c its inbound path and loop.
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
 * default one per online CPU, at most DP_MAX_WORKERS), off the control
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
 *    sent them (dp_tx.c: tx_hold), so that the numbers workers
 *    interleave leave in order, within the peer's replay window.
 *  - Inbound is steered per SA, so that each SA's replay window has one
 *    writer: each worker has its own raw ESP socket with a socket filter
 *    that accepts only SPI % N == its number (a raw socket otherwise gets
 *    a copy of every packet), and its own UDP socket on 0.0.0.0:4500 in a
 *    SO_REUSEPORT group whose program picks socket SPI % N (IKE behind the
 *    zero non-ESP marker and 1-byte keepalives go to socket 0, the
 *    control side's IKE socket: dp_natt_attach).  A per-SA lock around
 *    esp_decap keeps one writer when steering cannot (UDP GRO joins one
 *    peer's datagrams of any SPI); it is not contended otherwise.  Decrypted packets are
 *    written to the SA's TUN device on the worker's own queue.
 * ESP-in-UDP leaves as UDP GSO runs (one SA, one datagram size: the stack
 * sees one packet per run) and comes in coalesced by UDP GRO.
 *
 * Offloads.  The TUN devices are opened with a virtio-net header and TSO
 * (by the control side, net/tun.c): the kernel hands over whole TCP
 * bursts of up to 64 KB, which are cut here (esp/vnet.c) straight into the place where
 * esp_encap encrypts them in place, and sent as UDP GSO runs: one read and
 * one send where there were ~40 of each.  The other way, decrypted TCP
 * segments of one connection that follow each other are joined again
 * (GRO in userspace, esp/vnet.c) and written to TUN as one super-packet
 * with a partial checksum; the batch's end writes what is still held.
 *
 * The control thread owns the list of SA pairs.  Each change publishes a
 * new immutable table (SA pointers and their lookups by SPI and by
 * interface, TUN queue fds, MSS limits per unit) with one atomic pointer
 * store; a worker loads the pointer once per batch, inside a section, and
 * what an old table referenced is freed after a grace period that the
 * control side checks without waiting (dp_table.c, dp_reclaim): no lock
 * is taken on the hot path.  What the workers write that the control
 * thread reads is atomic: the learnt peer address, the drop and
 * per-worker packet counters, and the esp_sa counters read for show
 * (relaxed atomics; a value may be one packet old).
 *
 * What only the control thread may do is asked for through a pipe: IKE
 * datagrams that came to port 4500 (queued), on-demand initiation (one
 * pending flag per interface), and ESP for an SPI we have no SA for (one
 * slot, at most every DP_STRAY_MS per worker: the IKE engine may tell the
 * sender, which is how a peer learns that we restarted): dp_notify() runs
 * the callbacks of struct dp_ops for them. */
#include <arpa/inet.h>
#include <errno.h>
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

#include "dp/dp_int.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "net/tun.h"

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

void dp_note(struct dp *dp, uint8_t what)
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

static struct dp_worker *worker_new(struct dp *dp, unsigned id)
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


/* How many workers: asked for (kizunad -w), else one per online CPU; at
 * most DP_MAX_WORKERS. */
static unsigned worker_count(unsigned asked)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = asked ? asked : cpus > 0 ? (unsigned)cpus : 1;

	return n > DP_MAX_WORKERS ? DP_MAX_WORKERS : n;
}

struct dp *dp_new(unsigned workers, const struct dp_ops *ops)
{
	struct dp *dp = calloc(1, sizeof(*dp));
	int p[2];

	if (!dp) {
		log_err("data plane: cannot set up: %s", strerror(errno));
		return NULL;
	}
	dp->ops = *ops;
	dp->kick_fd = dp->note_rd = dp->note_wr = dp->natt_fd = -1;
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++) {
		dp->keepalive_s[u] = DP_KEEPALIVE_DEFAULT;
		for (unsigned i = 0; i < DP_MAX_WORKERS; i++)
			dp->tunq[u][i] = -1;
	}
	atomic_init(&dp->table, dp_table_empty());
	dp->ike_tail = &dp->ike_head;
	pthread_mutex_init(&dp->ike_lock, NULL);
	dp->nw = worker_count(workers);
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

unsigned dp_workers(const struct dp *dp)
{
	return dp ? dp->nw : 1;
}

/* Bursts of ESP arrive faster than one wake-up reads them: room for a few
 * thousand packets (root may exceed the sysctl limits: *BUFFORCE). */
void dp_socket_buffers(int fd)
{
	int rcv = 8 << 20, snd = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
}

/* A socket asked of kizunad's privileged parent, which opens, sizes and
 * binds it (privsep.c); -1 with errno EACCES when it refuses. */
static int brokered_fd(const struct privmsg *m)
{
	struct privmsg reply;
	int fd = -1;

	if (privmsg_broker(m, &reply, &fd) < 0 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		errno = EACCES;
	return fd;
}

int dp_udp_open(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	/* kizunad's unprivileged child: the parent opens, sizes and binds
	 * it (privsep.c), here it is the same call. */
	if (privmsg_broker)
		return brokered_fd(&(struct privmsg){ .type = PRIVMSG_UDP_OPEN, .port = port });
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	dp_socket_buffers(fd);
	/* Which local address a datagram came to: replies leave from it.
	 * Port 4500 is shared by the control side's IKE socket and the
	 * workers' sockets (which are opened here too): a SO_REUSEPORT
	 * group, in which the IKE socket, bound first, is socket 0, the one
	 * IKE and keepalives are steered to. */
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (port == NATT_PORT &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int dp_ep_add(struct dp_worker *w, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? KZ_ESYS : 0;
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

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? KZ_ESYS : 0;
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

/* fd is the control side's IKE socket, bound to 0.0.0.0:4500 with
 * SO_REUSEPORT: worker 0 reads it (and hands IKE back); with more workers
 * each of the others binds its own socket into the group, in order, and
 * the group's program picks one by SPI. */
int dp_natt_attach(struct dp *dp, int fd)
{
	unsigned i;
	int own;

	if (!dp)
		return KZ_EINVAL;
	/* A copy: the caller closes its own when it likes, this one closes
	 * when no worker can be using it. */
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return KZ_ESYS;
	dp->natt_fd = own;
	if (!dp->threads_up)
		return KZ_EINVAL;
	natt_gro(own);
	atomic_store(&dp->w[0]->natt_fd, own);
	if (dp_ep_add(dp->w[0], own, TAG_NATT) < 0) {
		atomic_store(&dp->w[0]->natt_fd, -1);
		return KZ_ESYS;
	}
	for (i = 1; i < dp->nw; i++) {
		struct dp_worker *w = dp->w[i];
		int s = dp_udp_open(NATT_PORT);

		if (s < 0) {
			log_err("data plane: worker %u: no socket on port 4500: %s", i,
				strerror(errno));
			break;
		}
		natt_gro(s);
		w->natt_own = s;
		atomic_store(&w->natt_fd, s);
		if (dp_ep_add(w, s, TAG_NATT) < 0) {
			log_err("data plane: worker %u: epoll: %s", i, strerror(errno));
			break;
		}
	}
	/* i sockets in the group: a worker left without one sends on worker
	 * 0's and its SAs arrive at others (the per-SA lock keeps one
	 * writer). */
	if (i > 1 && attach_natt_program(own, i) < 0)
		log_warn("data plane: cannot steer port 4500 by SPI (%s); the kernel spreads "
			 "it by address",
			 strerror(errno));
	return 0;
}

void dp_natt_detach(struct dp *dp)
{
	int fd[DP_MAX_WORKERS + 1];
	unsigned nfd = 0;

	if (!dp)
		return;
	for (unsigned i = 0; i < dp->nw; i++) {
		struct dp_worker *w = dp->w[i];
		int f = atomic_exchange(&w->natt_fd, -1);

		if (f >= 0)
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, f, NULL);
	}
	/* The copy of the IKE socket and the workers' own sockets close
	 * once no worker can hold them; the latter leave the group then, so
	 * a restarted daemon builds a group of its own. */
	if (dp->natt_fd >= 0)
		fd[nfd++] = dp->natt_fd;
	dp->natt_fd = -1;
	for (unsigned i = 1; i < dp->nw; i++)
		if (dp->w[i]->natt_own >= 0) {
			fd[nfd++] = dp->w[i]->natt_own;
			dp->w[i]->natt_own = -1;
		}
	if (dp_publish(dp, NULL, fd, nfd) < 0) {
		log_err("data plane: no memory to let go of port 4500; its sockets stay open");
		return;
	}
}

/* ESP-in-UDP read by the control side (when no worker reads the 4500
 * socket): handled here with worker 0's buffers, under the same rules as
 * the workers'.  Only reached while no worker runs. */
void dp_udp_esp(struct dp *dp, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		const uint8_t *pkt, size_t len)
{
	if (dp && !dp->threads_up) {
		dp_inbound(dp->w[0], atomic_load(&dp->table), local, peer, pkt, len, true);
		dp_gro_flush(dp->w[0], atomic_load(&dp->table));
	}
}

/* ---- notifications from the workers (control thread) ---- */

int dp_notify_fd(const struct dp *dp)
{
	return dp->note_rd;
}

void dp_notify(struct dp *dp)
{
	uint8_t b[64];
	ssize_t n;

	while ((n = read(dp->note_rd, b, sizeof(b))) > 0)
		;
	/* A packet with no SA on IPsec<u>: its profile's IKE may start. */
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if (atomic_load_explicit(&dp->od_pending[u], memory_order_relaxed) &&
		    atomic_exchange(&dp->od_pending[u], false) && dp->ops.on_demand)
			dp->ops.on_demand(dp->ops.arg, u);
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
		if (set && dp->ops.esp_no_sa)
			dp->ops.esp_no_sa(dp->ops.arg, &local, &peer, spi);
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
		if (dp->ops.ike_input)
			dp->ops.ike_input(dp->ops.arg, &m->local, &m->peer, m->data, m->len);
		free(m);
	}
}

/* ---- NAT keepalives (RFC 3948 2.3) (control thread) ---- */

void dp_keepalive(struct dp *dp)
{
	int natt = dp->natt_fd;
	uint64_t now = dp_now_ms();

	for (size_t i = 0; i < dp->n; i++) {
		struct dp_sa *p = dp->v[i];
		uint8_t ka[ESP_UDP_KEEPALIVE_LEN];
		uint32_t every = dp->keepalive_s[p->out.ipsec_unit % KZ_MAX_IPSEC_IF];
		struct sockaddr_in to;

		if (!p->out.udp_encap || now < p->keepalive_due_ms)
			continue;
		p->keepalive_due_ms = now + (uint64_t)every * 1000u;
		dp_peer_unpack(atomic_load(&p->peer), &to);
		if (esp_udp_keepalive(ka, sizeof(ka)) > 0 && natt >= 0) {
			union {
				char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
				struct cmsghdr align;
			} ctl;
			struct in_pktinfo pi = { .ipi_spec_dst = p->out.local.sin_addr };
			struct iovec iov = { ka, sizeof(ka) };
			struct msghdr msg = { .msg_name = &to,
					      .msg_namelen = sizeof(to),
					      .msg_iov = &iov,
					      .msg_iovlen = 1,
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

int dp_esp_open(void)
{
	int fd, one = 1;

	if (privmsg_broker)
		return brokered_fd(&(struct privmsg){ .type = PRIVMSG_ESP_OPEN });
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	if (fd < 0)
		return -1;
	dp_socket_buffers(fd);
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Worker w's raw ESP socket: with more than one worker, filtered to its
 * share of the SPIs. */
static int raw_socket(struct dp *dp, struct dp_worker *w)
{
	w->raw_fd = dp_esp_open();
	if (w->raw_fd < 0)
		return KZ_ESYS;
	if (dp->nw > 1) {
		if (attach_esp_filter(w->raw_fd, w->id, dp->nw) < 0)
			return KZ_ESYS;
		drain(w->raw_fd);
	}
	return 0;
}

int dp_start(struct dp *dp)
{
	int e;

	if (!dp)
		return KZ_ENOMEM;
	for (unsigned i = 0; i < dp->nw; i++) {
		struct dp_worker *w = dp->w[i];

		if (raw_socket(dp, w) < 0) {
			log_err("data plane: cannot open the ESP socket: %s", strerror(errno));
			return KZ_ESYS;
		}
		if (dp_ep_add(w, w->raw_fd, TAG_RAW) < 0 ||
		    dp_ep_add(w, dp->kick_fd, TAG_KICK) < 0) {
			log_err("data plane: epoll: %s", strerror(errno));
			return KZ_ESYS;
		}
	}
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

/* ---- counters ---- */

int dp_stats_get(struct dp *dp, struct dp_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!dp)
		return 0;
	st->no_sa = atomic_load(&dp->drop_no_sa);
	st->tx_no_sa = atomic_load(&dp->tx_no_sa);
	st->not_ipv4 = atomic_load(&dp->drop_not_ipv4);
	st->send_errors = atomic_load(&dp->drop_send);
	st->ike_queue_full = atomic_load(&dp->drop_ike_queue);
	st->malformed = atomic_load(&dp->drop_malformed);
	st->nworkers = dp->nw;
	for (unsigned i = 0; i < dp->nw; i++) {
		st->worker[i].pkts_in = atomic_load(&dp->w[i]->pkts_in);
		st->worker[i].pkts_out = atomic_load(&dp->w[i]->pkts_out);
		st->worker[i].no_sa = atomic_load(&dp->w[i]->no_sa);
	}
	if (dp->n == 0)
		return 0;
	st->sa = calloc(dp->n, sizeof(*st->sa));
	if (!st->sa)
		return KZ_ENOMEM;
	st->nsa = dp->n;
	for (size_t i = 0; i < dp->n; i++) {
		struct dp_sa_drops *s = &st->sa[i];

		s->spi = dp->v[i]->in.spi;
		s->unit = dp->v[i]->in.ipsec_unit;
		for (int w = ESP_DROP_NONE + 1; w < ESP_DROP_COUNT; w++)
			s->drops[w] = esp_sa_drops(dp->v[i]->esp_in, (enum esp_drop)w);
	}
	return 0;
}

void dp_stats_clear(struct dp_stats *st)
{
	free(st->sa);
	st->sa = NULL;
	st->nsa = 0;
}

void dp_free(struct dp *dp)
{
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
	dp_retired_free(dp);
	for (size_t i = 0; i < dp->n; i++)
		dp_pair_free(dp->v[i]);
	while (dp->ike_head) {
		struct dp_ike_msg *m = dp->ike_head;

		dp->ike_head = m->next;
		free(m);
	}
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		for (unsigned i = 0; i < dp->nw; i++)
			if (dp->tunq[u][i] >= 0 && (i == 0 || dp->tunq[u][i] != dp->tunq[u][0]))
				kz_tun_close(dp->tunq[u][i]);
	if (dp->natt_fd >= 0)
		close(dp->natt_fd);
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
}
