/* ike_io.c - the IKE engine's connection to the world: the UDP sockets on
 * ports 500 and 4500, the clock, randomness, the engine's timer in the
 * event loop, and the IPsec SAs it hands over.
 *
 * Port 4500 carries IKE behind the 4-byte non-ESP marker, ESP-in-UDP
 * (RFC 3948) and one-byte NAT keepalives; the socket never has UDP_ENCAP
 * set, so the kernel hands us all of it (it has no ESP of its own). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ike/dh_pool.h"
#include "ike/ike.h"
#include "lib/err.h"
#include "lib/ikemsg.h"
#include "lib/log.h"
#include "net/netlink.h"
#include "daemon/daemon.h"

#define IKE_PORT 500
#define NATT_PORT 4500
#define RX_MAX 65536
/* Diffie-Hellman jobs that may wait for a worker: with 2 workers at about
 * 1 ms per MODP-2048 job, a quarter of a second of work.  Beyond it a new
 * exchange's message is dropped (counted) and its retransmission retried,
 * so a flood of first messages cannot queue work without bound. */
#define DH_QUEUE_MAX 256u
#define DH_STOCK 8u /* key pairs made ahead per group while workers idle */

static int io_send(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		   const void *data, size_t len, bool natt_marker)
{
	struct kzd *d = arg;
	struct iovec iov[2];
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	struct in_pktinfo *pi;
	int fd = ntohs(local->sin_port) == NATT_PORT ? d->ike_fd4500 : d->ike_fd500;

	kz_ike_msg(&msg, iov, peer, data, len, natt_marker);
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in_pktinfo *)CMSG_DATA(cm);
	pi->ipi_spec_dst = local->sin_addr;
	if (sendmsg(fd, &msg, 0) < 0) {
		log_debug("ike: send to %s:%u: %s", inet_ntoa(peer->sin_addr),
			  ntohs(peer->sin_port), strerror(errno));
		return KZ_ESYS;
	}
	return 0;
}

static uint64_t io_now_ms(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t io_wall(void *arg)
{
	return (int64_t)time(NULL);
}

static int io_random(void *arg, void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : KZ_ESYS;
}

static void io_child_up(void *arg, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct kzd *d = arg;

	dp_sa_add(d->dp, in, out);
}

static void io_child_down(void *arg, uint32_t spi_in, uint32_t spi_out)
{
	struct kzd *d = arg;

	dp_sa_del(d->dp, spi_in, spi_out);
}

static void io_child_stats(void *arg, uint32_t spi, enum kz_child_dir dir,
			   struct kz_child_stats *st)
{
	struct kzd *d = arg;

	dp_sa_stats(d->dp, spi, dir, st);
}

static struct in_addr io_local_addr(void *arg)
{
	struct kzd *d = arg;
	struct kz_link_state st;
	struct in_addr none = { 0 };

	if (!d->running->mobile.device[0] || kz_net_link_get(d->running->mobile.device, &st) < 0 ||
	    !st.admin_up || st.naddr == 0)
		return none;
	return st.addr[0].addr;
}

/* `peer FQDN`: resolved at each initiation (dynamic DNS names move).
 * getaddrinfo blocks; names come from the operator's own config. */
static int io_resolve(void *arg, const char *name, struct in_addr *out)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res = NULL;
	int r = getaddrinfo(name, NULL, &hints, &res);

	if (r != 0 || !res) {
		log_warn("peer %s does not resolve: %s", name, gai_strerror(r));
		return KZ_ENOENT;
	}
	*out = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

static void schedule(struct kzd *d)
{
	int64_t ms = ike_run_timers(d->ike);
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(d->ev_ike_timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(d->ev_ike_timer, &tv);
}

/* The engine's timers run once per turn of the event loop after input:
 * the zero timeout fires after this turn's other events, so a burst of
 * datagrams and DH results costs one ike_run_timers() (which walks every
 * SA), not one each. */
static void schedule_soon(struct kzd *d)
{
	struct timeval zero = { 0, 0 };

	evtimer_add(d->ev_ike_timer, &zero);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	schedule(arg);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	bool natt = fd == d->ike_fd4500;

	for (int budget = 64; budget > 0; budget--) {
		union {
			char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} ctl;
		struct sockaddr_in peer, local = { .sin_family = AF_INET };
		struct iovec iov = { d->rx, RX_MAX };
		struct msghdr msg = { .msg_name = &peer,
				      .msg_namelen = sizeof(peer),
				      .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = ctl.buf,
				      .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(fd, &msg, 0);

		if (n < 0)
			break;
		local.sin_port = htons(natt ? NATT_PORT : IKE_PORT);
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				local.sin_addr = pi.ipi_addr;
			}
		if (!natt) {
			ike_input(d->ike, &local, &peer, d->rx, (size_t)n, false);
			continue;
		}
		/* RFC 3948 2.2/2.3: keepalive, non-ESP marker (IKE), or ESP. */
		if (n == 1 && d->rx[0] == 0xff)
			continue;
		if (n >= 4 && !d->rx[0] && !d->rx[1] && !d->rx[2] && !d->rx[3]) {
			ike_input(d->ike, &local, &peer, d->rx + 4, (size_t)n - 4, true);
			continue;
		}
		dp_udp_esp(d->dp, &local, &peer, d->rx, (size_t)n);
	}
	schedule_soon(d);
}

/* IKE that came to 4500 and was read by the data-plane worker. */
void kzd_ike_natt_input(struct kzd *d, const struct sockaddr_in *local,
			const struct sockaddr_in *peer, const uint8_t *ike, size_t len)
{
	if (!d->ike)
		return;
	ike_input(d->ike, local, peer, ike, len, true);
	schedule_soon(d);
}

static int io_dh_submit(void *arg, struct ike_dh_job *job)
{
	struct kzd *d = arg;

	return dh_pool_submit(d->dh_pool, job);
}

static void io_dh_cancel(void *arg, uint64_t id)
{
	struct kzd *d = arg;

	dh_pool_cancel(d->dh_pool, id);
}

static struct ike_dh *io_dh_keypair(void *arg, enum kz_group g)
{
	struct kzd *d = arg;

	return dh_pool_keypair(d->dh_pool, g);
}

/* Results of the pool: each exchange goes on where it stopped.  At most
 * 64 per wake-up so packets are read in between; the eventfd stays
 * readable while more wait. */
static void on_dh_done(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct ike_dh_job *j;

	for (int budget = 64; budget > 0 && (j = dh_pool_take(d->dh_pool)); budget--)
		ike_dh_done(d->ike, j);
	schedule_soon(d);
}

/* Workers, one per online CPU, so that both cores serve handshakes while
 * this thread reads packets; without them DH runs inline. */
static void dh_start(struct kzd *d, struct ike_io *io)
{
	struct dh_pool_stats st;

	d->dh_pool = dh_pool_new(0, DH_QUEUE_MAX, DH_STOCK);
	if (d->dh_pool) {
		d->ev_dh = event_new(d->base, dh_pool_fd(d->dh_pool), EV_READ | EV_PERSIST,
				     on_dh_done, d);
		if (!d->ev_dh || event_add(d->ev_dh, NULL)) {
			kzd_event_free(&d->ev_dh);
			dh_pool_free(d->dh_pool);
			d->dh_pool = NULL;
		}
	}
	if (!d->dh_pool) {
		log_warn("ike: no Diffie-Hellman workers, computing on the event loop");
		return;
	}
	io->dh_submit = io_dh_submit;
	io->dh_cancel = io_dh_cancel;
	io->dh_keypair = io_dh_keypair;
	dh_pool_get_stats(d->dh_pool, &st);
	log_info("ike: %u Diffie-Hellman worker%s", st.threads, st.threads == 1 ? "" : "s");
}

static const struct ike_io kzd_ike_io = {
	.send = io_send,
	.now_ms = io_now_ms,
	.wall = io_wall,
	.random = io_random,
	.child_up = io_child_up,
	.child_down = io_child_down,
	.child_stats = io_child_stats,
	.local_addr = io_local_addr,
	.resolve = io_resolve,
};

int kzd_ike_start(struct kzd *d)
{
	struct ike_io io = kzd_ike_io;

	io.arg = d;
	d->rx = malloc(RX_MAX);
	d->ike_fd500 = dp_udp_open(IKE_PORT);
	d->ike_fd4500 = dp_udp_open(NATT_PORT);
	if (!d->rx || d->ike_fd500 < 0 || d->ike_fd4500 < 0) {
		log_err("cannot open the IKE ports 500 and 4500: %s", strerror(errno));
		return KZ_ESYS;
	}
	dh_start(d, &io);
	d->ike = ike_engine_new(&io);
	d->ev_ike500 = event_new(d->base, d->ike_fd500, EV_READ | EV_PERSIST, on_readable, d);
	d->ev_ike_timer = evtimer_new(d->base, on_timer, d);
	if (!d->ike || !d->ev_ike500 || !d->ev_ike_timer || event_add(d->ev_ike500, NULL))
		return KZ_ENOMEM;
	/* Port 4500 is mostly ESP: the data-plane worker reads it and hands
	 * IKE back (kzd_ike_natt_input); without a worker it is read here. */
	if (dp_natt_attach(d->dp, d->ike_fd4500) < 0) {
		d->ev_ike4500 =
			event_new(d->base, d->ike_fd4500, EV_READ | EV_PERSIST, on_readable, d);
		if (!d->ev_ike4500 || event_add(d->ev_ike4500, NULL))
			return KZ_ENOMEM;
	}
	ike_engine_set_config(d->ike, d->running);
	schedule(d);
	return 0;
}

void kzd_ike_config_changed(struct kzd *d)
{
	if (!d->ike)
		return;
	/* during a console edit, the config of before it (edit.c) */
	ike_engine_set_config(d->ike, d->ike_cfg ? d->ike_cfg : d->running);
	schedule(d);
}

void kzd_ike_stop(struct kzd *d)
{
	/* A clean stop tells the peers, so they drop their SAs now rather
	 * than black-holing traffic until DPD or the lifetimes notice. */
	if (d->ike) {
		ike_clear_ipsec(d->ike);
		ike_clear_ike(d->ike, NULL);
	}
	kzd_event_free(&d->ev_ike500);
	kzd_event_free(&d->ev_ike4500);
	kzd_event_free(&d->ev_ike_timer);
	dp_natt_detach(d->dp);
	/* the engine cancels the jobs of its SAs; the pool then finishes
	 * the running ones and wipes everything left */
	ike_engine_free(d->ike);
	d->ike = NULL;
	kzd_event_free(&d->ev_dh);
	if (d->dh_pool) {
		struct dh_pool_stats st;

		dh_pool_get_stats(d->dh_pool, &st);
		log_info("ike: Diffie-Hellman jobs: %llu done, %llu refused (queue full), "
			 "%llu cancelled; key pairs made ahead %llu, used %llu",
			 (unsigned long long)st.done, (unsigned long long)st.refused,
			 (unsigned long long)st.cancelled, (unsigned long long)st.stock_made,
			 (unsigned long long)st.stock_used);
	}
	dh_pool_free(d->dh_pool);
	d->dh_pool = NULL;
	if (d->ike_fd500 >= 0)
		close(d->ike_fd500);
	if (d->ike_fd4500 >= 0)
		close(d->ike_fd4500);
	free(d->rx);
}
