/* dp_int.h - the data plane's state, shared by its parts: dp.c (control
 * side: workers, sockets, notifications, keepalives, counters),
 * dp_table.c (control side: the SA list, the tables the workers read and
 * their reclamation, TUN queues), dp_tx.c (a worker's outbound path: TUN
 * -> ESP) and dp_rx.c (a worker's inbound path: ESP -> TUN, the worker
 * loop).  See dp.c's header comment for the design. */
#ifndef KZ_DP_INT_H
#define KZ_DP_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "dp/dp.h"
#include "esp/esp.h"
#include "esp/vnet.h"

#define DP_MAX_PAIRS 1024
#define DP_BUF 65600 /* an IPv4 datagram and some slack */
#define DP_BATCH 32
#define DP_IKE_QUEUE_MAX 256     /* IKE datagrams waiting for the control thread */
#define DP_GSO_MAX 60000         /* bytes per UDP GSO send (under 64 KB of IPv4) */
#define DP_GSO_SEGS 64           /* datagrams per UDP GSO send (UDP_MAX_SEGMENTS) */
#define DP_TX_ARENA (512 * 1024) /* encrypted packets waiting for sendmmsg */
#define DP_TX_PKTS 512
#define DP_TX_MSGS 128
/* An SA sent on by several workers within this time counts as shared
 * (dp_tx.c: tx_shared). */
#define DP_SHARED_MS 1000
#define DP_SHARED_BURST 16 /* packets per send then */

/* epoll tags: TUN units are 0..KZ_MAX_IPSEC_IF-1. */
#define TAG_RAW 0x10000u
#define TAG_NATT 0x10001u
#define TAG_KICK 0x10002u

/* Notification bytes on the pipe to the control thread: what to look at
 * (the IKE queue, the on-demand flags, a stray SPI). */
#define NOTE_IKE 'i'
#define NOTE_ON_DEMAND 'd'
#define NOTE_STRAY 's'

/* ESP for no SA is reported at most this often (the engine sends fewer
 * notifies still); the rest is only counted. */
#define DP_STRAY_MS 100u

/* One SA pair.  Fields other than peer, warned and the inbound lock are
 * fixed once the pair is published. */
struct dp_sa {
	struct kz_child_sa in, out; /* keys wiped: only addresses and selectors kept */
	struct esp_sa *esp_in;
	/* One per worker: [0] holds the sequence number and counters, the
	 * others are esp_sa_new_shared() copies with their own contexts. */
	struct esp_sa *esp_out[DP_MAX_WORKERS];
	/* The replay window has one writer: the reuseport and socket
	 * filters steer each SPI to one worker, and this (uncontended)
	 * lock keeps it so when they cannot (UDP GRO joins datagrams of
	 * one peer address whatever their SPI, start-up, a filter that
	 * could not be attached). */
	pthread_mutex_t in_lock;
	_Atomic uint64_t peer; /* where to send: addr << 16 | port, network order */
	atomic_bool warned;    /* "can send no more" logged */
	/* The worker that sent on it last, until when it counts as sent on
	 * by several (dp_tx.c: tx_shared), and the lock a worker holds
	 * from taking numbers on it until it sent them (tx_hold). */
	atomic_uint tx_worker;
	_Atomic uint64_t shared_until_ms;
	pthread_mutex_t tx_lock;
	uint64_t keepalive_due_ms; /* control thread */
};

/* What the workers see: replaced, never changed, once published.  The
 * lookups are built here, not per packet: inbound SAs by SPI in an open
 * addressing hash, outbound ones by interface. */
struct dp_table {
	size_t n;
	int tun_fd[KZ_MAX_IPSEC_IF][DP_MAX_WORKERS]; /* queue per worker, -1: not open */
	bool vnet[KZ_MAX_IPSEC_IF];                  /* frames carry a virtio-net header */
	uint16_t mss[KZ_MAX_IPSEC_IF];               /* clamp limit, 0: off */
	/* IPsec<u>'s pairs are out[out_at[u] .. out_at[u + 1]), oldest first */
	uint32_t out_at[KZ_MAX_IPSEC_IF + 1];
	struct dp_sa **out;
	/* mask + 1 slots (a power of two, at most half full); NULL: empty */
	uint32_t spi_mask;
	struct dp_sa **by_spi;
	struct dp_sa *sa[]; /* newest last */
};

static inline uint32_t dp_spi_hash(uint32_t spi)
{
	uint32_t h = spi * 2654435761u; /* Knuth's multiplicative hash */

	return h ^ (h >> 16);
}

/* The pair whose inbound SPI is spi, or NULL. */
static inline struct dp_sa *dp_find_in(const struct dp_table *t, uint32_t spi)
{
	for (uint32_t i = dp_spi_hash(spi) & t->spi_mask;; i = (i + 1) & t->spi_mask) {
		struct dp_sa *p = t->by_spi[i];

		if (!p || p->in.spi == spi)
			return p;
	}
}

/* What a replaced table left to free once no worker can hold it: the
 * table, a pair gone with it, descriptors to close. */
struct dp_retired {
	struct dp_retired *next;
	uint64_t section[DP_MAX_WORKERS]; /* each worker's counter then */
	struct dp_table *table;
	struct dp_sa *gone;
	int fd[DP_MAX_WORKERS + 1];
	unsigned nfd;
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
	int k, m;                /* iov and msg entries in use */
	int start, cur_fd;       /* messages from start on go to cur_fd */
	const struct dp_sa *run; /* SA of message m - 1 while it can grow */
	size_t run_bytes;
	struct mmsghdr msg[DP_TX_MSGS];
	struct iovec iov[DP_TX_PKTS];
	struct sockaddr_in addr[DP_TX_MSGS];
	union dp_ctl ctl[DP_TX_MSGS];
};

struct dp;

/* One worker thread and everything it alone uses. */
struct dp_worker {
	struct dp *dp;
	unsigned id;
	pthread_t thread;
	bool up;
	int epfd;
	int raw_fd;                   /* its plain ESP socket */
	_Atomic int natt_fd;          /* its 4500 socket (worker 0: IKE's) */
	int natt_own;                 /* the 4500 socket it opened, -1: none */
	atomic_uint_fast64_t section; /* odd while it holds a table */
	uint8_t *inner;               /* a TUN frame, or a decrypted packet
					    * behind room for the virtio-net header */
	uint8_t *rbuf[DP_BATCH];      /* received ESP */
	struct mmsghdr msg[DP_BATCH];
	struct iovec iov[DP_BATCH];
	struct sockaddr_in addr[DP_BATCH];
	union dp_ctl ctl[DP_BATCH];
	struct dp_tx tx;
	struct dp_sa *held[DP_BATCH]; /* SAs whose tx_lock it holds */
	unsigned nheld;
	struct vnet_gro gro; /* decrypted TCP segments being joined */
	unsigned gro_unit;   /* for IPsec<gro_unit> */
	uint64_t stray_last_ms;
	/* ESP packets it decrypted and sent, and ESP for no SA it got (which
	 * shows where the filters steered an SPI), for show */
	atomic_uint_fast64_t pkts_in, pkts_out, no_sa;
};

struct dp {
	/* control thread */
	struct dp_ops ops;
	struct dp_sa **v;
	size_t n, cap;
	uint16_t mss_now[KZ_MAX_IPSEC_IF];
	uint32_t keepalive_s[KZ_MAX_IPSEC_IF];
	bool tun_watched[KZ_MAX_IPSEC_IF];
	bool tun_vnet[KZ_MAX_IPSEC_IF];
	int tunq[KZ_MAX_IPSEC_IF][DP_MAX_WORKERS]; /* [0]: a copy of the caller's fd */
	int natt_fd;                               /* a copy of the IKE 4500 socket, -1: none */
	struct dp_retired *retired;                /* waiting for dp_reclaim() */
	bool threads_up;
	/* shared */
	unsigned nw; /* workers */
	struct dp_worker *w[DP_MAX_WORKERS];
	_Atomic(struct dp_table *) table;
	atomic_bool stop;
	int kick_fd;
	int note_rd, note_wr;
	atomic_bool od_pending[KZ_MAX_IPSEC_IF];
	pthread_mutex_t ike_lock;
	struct dp_ike_msg *ike_head, **ike_tail;
	size_t ike_n;
	/* ESP for no SA, for the control thread; under ike_lock */
	bool stray_set;
	struct sockaddr_in stray_local, stray_peer;
	uint32_t stray_spi;
	/* drop counters, written by the workers */
	atomic_uint_fast64_t drop_no_sa, drop_selector, drop_not_ipv4, drop_send, tx_no_sa;
	atomic_uint_fast64_t drop_ike_queue, drop_malformed;
};

static inline void dp_count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static inline uint64_t dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t dp_peer_pack(const struct sockaddr_in *a);
void dp_peer_unpack(uint64_t v, struct sockaddr_in *a);
/* Wakes the control thread to look at what the byte names. */
void dp_note(struct dp *dp, uint8_t what);
int dp_ep_add(struct dp_worker *w, int fd, uint32_t tag);

/* dp_table.c: publishes a table built from the control thread's list and
 * settings; what it replaced (the old table, the pair gone, the
 * descriptors fd[0..nfd)) is freed once no worker can hold it. */
int dp_publish(struct dp *dp, struct dp_sa *gone, const int *fd, unsigned nfd);
struct dp_table *dp_table_empty(void);
void dp_pair_free(struct dp_sa *p);
/* Frees everything waiting, whatever the workers (they stopped). */
void dp_retired_free(struct dp *dp);

/* dp_tx.c: up to DP_BATCH frames from IPsec<unit>'s TUN queue of
 * worker w, encrypted and sent. */
void dp_worker_tun(struct dp_worker *w, const struct dp_table *t, unsigned unit);

/* dp_rx.c */
void *dp_worker_main(void *arg);
/* One ESP packet (from the SPI on); local is NULL for plain ESP. */
void dp_inbound(struct dp_worker *w, const struct dp_table *t, const struct sockaddr_in *local,
		const struct sockaddr_in *from, const uint8_t *esp, size_t len, bool udp);
/* Writes the TCP segments joined so far to their TUN device. */
void dp_gro_flush(struct dp_worker *w, const struct dp_table *t);

#endif
