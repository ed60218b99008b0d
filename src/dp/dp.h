/* dp.h - the data plane: moves packets between the IPsec<N> TUN devices
 * and ESP on the WAN on its own worker threads, with the SAs the control
 * side gives it.  dp.c's header comment describes the design.
 *
 * The control side (kizunad's event loop) holds a struct dp and talks to
 * it only through these calls, with plain values: SAs (lib/childsa.h),
 * TUN descriptors, per-interface settings, counters.  It never sees the
 * workers' state and the data plane never sees the daemon's, so the data
 * plane could move to a process of its own behind the same calls.
 *
 * Every call is made on one thread, the control side's; what the workers
 * report comes back through the callbacks of struct dp_ops, which run in
 * dp_notify() when dp_notify_fd() is readable. */
#ifndef KZ_DP_H
#define KZ_DP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/esp.h"
#include "lib/childsa.h"
#include "lib/ipsec_types.h"

#define DP_MAX_WORKERS 8         /* worker threads at most */
#define DP_KEEPALIVE_DEFAULT 20u /* NAT keepalive interval, s (RFC 3948 4) */

struct dp;

/* What the workers hand the control side (called from dp_notify()). */
struct dp_ops {
	void *arg;
	/* An IKE message that came to port 4500, the non-ESP marker
	 * already removed. */
	void (*ike_input)(void *arg, const struct sockaddr_in *local,
			  const struct sockaddr_in *peer, const uint8_t *ike, size_t len);
	/* ESP for an SPI with no SA (at most every 100 ms per worker). */
	void (*esp_no_sa)(void *arg, const struct sockaddr_in *local,
			  const struct sockaddr_in *peer, uint32_t spi);
	/* A packet routed into IPsec<unit> found no SA. */
	void (*on_demand)(void *arg, unsigned unit);
};

/* A data plane of workers threads (0: one per online CPU; at most
 * DP_MAX_WORKERS), not yet running.  NULL on failure (logged). */
struct dp *dp_new(unsigned workers, const struct dp_ops *ops);
/* Opens the raw ESP sockets and starts the workers. */
int dp_start(struct dp *dp);
/* Stops the workers and frees everything (the TUN queues it opened and
 * the descriptors it holds included). */
void dp_free(struct dp *dp);
unsigned dp_workers(const struct dp *dp);

/* ---- the SAs ---- */

/* Installs a pair (keys copied into the ESP contexts, then wiped here);
 * 0 or a negative KZ_E* (logged). */
int dp_sa_add(struct dp *dp, const struct kz_child_sa *in, const struct kz_child_sa *out);
void dp_sa_del(struct dp *dp, uint32_t spi_in, uint32_t spi_out);
/* Counters of one SA; zero when there is none. */
void dp_sa_stats(struct dp *dp, uint32_t spi, enum kz_child_dir dir, struct kz_child_stats *st);

/* ---- the TUN devices and their settings ---- */

/* IPsec<unit>'s TUN device fd (opened by the caller, who keeps and closes
 * it): the data plane holds a copy of it, and of the other queues it opens
 * for more workers when the device has IFF_MULTI_QUEUE; ifname is its
 * Linux name. */
int dp_tun_attach(struct dp *dp, unsigned unit, int fd, const char *ifname);
/* Stops using IPsec<unit>'s device; its descriptors close once no worker
 * can hold them (dp_reclaim()). */
void dp_tun_detach(struct dp *dp, unsigned unit);
/* IPsec<unit>'s TCP MSS clamp (0: off) and NAT keepalive interval in
 * seconds; a changed MSS reaches the workers at once. */
void dp_if_set(struct dp *dp, unsigned unit, uint16_t mss, uint32_t keepalive_s);

/* ---- the shared port 4500 socket ---- */

/* The data plane takes over reading fd (the IKE socket on 4500, bound
 * with SO_REUSEPORT: the workers' own 4500 sockets join its group) and
 * hands IKE back through ops->ike_input; 0 when it did, a negative KZ_E*
 * when the caller must keep reading it itself (no worker runs).  Outbound
 * ESP-in-UDP and keepalives are sent on it (on a copy: the caller keeps
 * and closes fd). */
int dp_natt_attach(struct dp *dp, int fd);
/* The 4500 socket is about to be closed: the workers stop using it. */
void dp_natt_detach(struct dp *dp);
/* ESP-in-UDP that the caller read itself (while no worker runs). */
void dp_udp_esp(struct dp *dp, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		const uint8_t *pkt, size_t len);

/* A UDP socket on 0.0.0.0:port, non-blocking, with IP_PKTINFO and large
 * buffers; on port 4500 with SO_REUSEPORT (see dp_natt_attach).  -1 with
 * errno set on failure. */
int dp_udp_open(uint16_t port);
/* A raw IPPROTO_ESP socket with IP_PKTINFO and the big buffers; -1 and
 * errno.  Both go through privmsg_broker when it is set. */
int dp_esp_open(void);
/* Large socket buffers for the WAN sockets. */
void dp_socket_buffers(int fd);

/* ---- the control side's clock and wake-ups ---- */

/* Readable when the workers have something for dp_notify(). */
int dp_notify_fd(const struct dp *dp);
/* Runs the callbacks of struct dp_ops for what the workers reported. */
void dp_notify(struct dp *dp);
/* Sends the NAT keepalives (RFC 3948 2.3) that are due; once a second. */
void dp_keepalive(struct dp *dp);
/* Frees the tables, SAs and descriptors that no worker can hold any more
 * (each worker left the section it was in when they were replaced); true
 * while some still wait.  Never blocks: the caller calls it from a timer. */
bool dp_reclaim(struct dp *dp);

/* ---- counters (`show ipsec statistics`) ---- */

struct dp_worker_stats {
	uint64_t pkts_in, pkts_out; /* ESP packets decrypted, encrypted */
	uint64_t no_sa;             /* ESP for no SA it got */
};

struct dp_sa_drops {
	uint32_t spi; /* inbound */
	unsigned unit;
	uint64_t drops[ESP_DROP_COUNT];
};

struct dp_stats {
	uint64_t no_sa;    /* inbound ESP for no SA */
	uint64_t tx_no_sa; /* outbound outside every SA's selectors */
	uint64_t not_ipv4; /* outbound not IPv4 */
	uint64_t send_errors;
	uint64_t ike_queue_full; /* IKE on 4500 dropped */
	uint64_t malformed;      /* on 4500: not keepalive, IKE or ESP */
	unsigned nworkers;
	struct dp_worker_stats worker[DP_MAX_WORKERS];
	size_t nsa;
	struct dp_sa_drops *sa; /* inbound SAs, oldest first */
};

/* Fills st (dp may be NULL: all zero); dp_stats_clear() frees st->sa. */
int dp_stats_get(struct dp *dp, struct dp_stats *st);
void dp_stats_clear(struct dp_stats *st);

#endif
