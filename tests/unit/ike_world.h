/* ike_world.h - the fake IKE world of the engine tests (ike_world.c): two
 * engines, A and B, in one process over a fake transport, with seeded
 * randomness and an injected clock.  A test calls world_setup() (from its
 * cmocka setup), builds configs with make_cfg() or its own, moves
 * datagrams with pump() and time with advance(), and looks at what the
 * fake data plane recorded in W.a and W.b.
 *
 * Or, with a timed network (W.lat_max set), it runs the world event by
 * event with world_run(): every datagram arrives after its own one-way
 * delay (so crossing ones reorder), some are lost by seed, an engine's
 * timers run when it got input or its deadline came, as in kizunad, and
 * with W.traffic the data planes send a packet each way every
 * IW_TICK_MS on the pair they would use. */
#ifndef KZ_TEST_IKE_WORLD_H
#define KZ_TEST_IKE_WORLD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/model.h"
#include "ike/ike.h"
#include "lib/childsa.h"

#define NAT_PUB "198.51.100.1" /* A's address seen from B behind the NAT */
#define MAXDH 64

#define MAXPKT 256
#define MAXCHILD 256
#define IW_T0 1000000u /* the clock at world_setup, ms */
#define IW_TICK_MS 20u /* W.traffic: a packet each way this often */

struct pkt {
	struct sockaddr_in src, dst;
	uint8_t data[4096];
	size_t len;
	uint64_t at;  /* timed network: when it arrives */
	uint64_t seq; /* sending order */
};

/* One engine and what its fake data plane saw: every IPsec SA pair brought
 * up, in order (up[i]: not taken down since). */
struct node {
	const char *name;
	struct ike_engine *e;
	struct in_addr addr;
	uint64_t rng;
	struct kz_config *cfg;
	struct kz_child_sa in[MAXCHILD], out[MAXCHILD];
	bool up[MAXCHILD];
	uint64_t rx[MAXCHILD]; /* W.traffic: packets its inbound SA got */
	int nchild, ndown;
	uint32_t last_down_in; /* spi_in of the last child_down */
	unsigned sent;
	unsigned info_sent; /* informational exchanges (R-U-THERE, ACK, Delete) */
	uint64_t down_at;   /* W.now of the last child_down */
	/* world_run() */
	bool stopped;      /* datagrams to it are lost (no daemon yet) */
	bool kick;         /* got input: its timers run after it */
	uint64_t timer_at; /* when ike_run_timers() asked to run again */
};

/* world_setup flags */
#define IW_DH_DEFERRED 1u /* Diffie-Hellman through the fake pool */
#define IW_NO_STATS 2u    /* no data-plane counters (io.child_stats NULL) */
#define IW_RX_STATS 4u    /* counters: inbound SAs report node.rx, no more */

struct world {
	unsigned flags;
	struct node a, b;
	struct pkt q[MAXPKT];
	int nq;
	uint64_t now;
	bool nat_a; /* A sits behind a NAT: 100.64.0.2 -> 198.51.100.1 */
	bool drop_all;
	bool drop_to_b;
	bool dup;          /* deliver every datagram twice */
	bool swap_am3_qm1; /* deliver QM1 before AM3 */
	bool in_traffic;   /* inbound SAs report packets */
	bool flowing;      /* ... and their counters grow with time */
	uint64_t in_count;
	uint32_t bytes_spi; /* this outbound SA reports extra bytes */
	uint64_t extra_bytes;
	uint64_t rate; /* A -> B bytes per ms on the pair A sends on, seen by both */
	int truncate_next_to_b;
	int drop_next_to_a;   /* drop this many datagrams to A */
	int fail_sends_a;     /* A's next sends fail here (no route yet) */
	int drop_qm_to_b;     /* lose this many of A's Quick Mode messages */
	int a_children_at_qm; /* A's IPsec SA count when it last sent Quick Mode */
	uint8_t first_a[4096];
	size_t first_a_len;
	/* the timed network (off while lat_max is 0) */
	uint64_t seq;
	uint64_t net_rng;          /* its delays and losses */
	unsigned lat_min, lat_max; /* one-way delay, ms */
	unsigned loss_pm;          /* loss per mille ... */
	uint64_t loss_until;       /* ... of datagrams sent before this time */
	unsigned max_drops, drops; /* ... at most this many */
	/* the timed data planes */
	bool traffic;
	uint64_t next_tick;
	unsigned lost_ticks; /* a packet sent on an SA the peer does not have */
	uint64_t last_lost;
	bool trace; /* print every datagram and timer run (iw_trace) */
};
extern struct world W;

/* The fake pool's jobs in flight; Dh_cap: jobs it takes (KZ_EBUSY
 * beyond); Dh_nocancel: a job is running, a cancel comes too late. */
struct dh_slot {
	struct node *n;
	struct ike_dh_job *j;
};
extern struct dh_slot Dh[MAXDH];
extern int Ndh, Dh_cap;
extern bool Dh_nocancel;
/* Runs the newest job and hands its result to its engine; false: none. */
bool dh_finish_one(void);

void world_setup(unsigned flags);
/* Frees both engines and configs; no DH job may be left (unless
 * Dh_nocancel). */
void world_teardown(void);
/* cmocka's teardown for a world test: world_teardown(). */
int world_test_teardown(void **state);
/* A row of a test table: the file's own setup(), the shared teardown. */
#define WORLD_TEST(f) cmocka_unit_test_setup_teardown(f, setup, world_test_teardown)
/* The SA pairs node n's data plane holds (installed, not yet removed). */
int iw_pairs_up(const struct node *n);
/* One step of the seeded xorshift64 the engines' and network's randomness use. */
uint64_t iw_xorshift(uint64_t *s);
/* With W.trace, a line on stderr: the time since IW_T0 and who speaks. */
void iw_trace(const struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new engine at addr for node n (world_setup makes A and B). */
void node_init(struct node *n, const char *name, const char *addr, uint64_t seed);
/* The fake data plane's counters of an SA. */
void io_child_stats(void *arg, uint32_t spi, enum kz_child_dir dir, struct kz_child_stats *st);
struct in_addr ip(const char *s);
struct kz_prefix pfx(const char *a, unsigned len);
struct node *node_at(struct in_addr a);
/* One datagram to its node, through the impairments. */
void deliver(struct pkt *p);
/* Delivers until the queue is empty (finishing DH jobs when it is). */
void pump(void);
/* Advances the clock by ms in 500 ms steps, running both engines' timers. */
void advance(uint64_t ms);

/* The timed world: when something happens next (now: an engine got
 * input); one step at W.now (datagrams due, then the timers of the engines
 * that got input or whose deadline came, then the traffic tick); and
 * steps until the time end. */
uint64_t world_next_event(void);
void world_step(void);
void world_run(uint64_t end);
/* The pair a node's data plane sends on (dataplane_tx.c find_out): the
 * newest one up not held back, else the newest held one; -1: none. */
int sending_pair(const struct node *n);

/* The configs of the two sites: one profile HQ on IPsec0. */
struct site {
	const char *peer; /* NULL: peer any */
	enum kz_exchange_mode mode;
	const char *psk;
	const char *local_id, *remote_id; /* key-id, or NULL */
	bool natt;
	enum kz_enc ike_enc;
	enum kz_group group, pfs;
	const char *lnet, *rnet;
	enum kz_initiate initiate;
	unsigned dpd_interval, dpd_retry; /* 0: no dpd */
	uint32_t ike_life, esp_life;      /* 0: defaults */
	uint64_t esp_kbytes;
	uint32_t retry_interval, retry_max; /* 0: defaults */
};

struct kz_config *make_cfg(const struct site *s);
struct site site_a(enum kz_exchange_mode mode);
struct site site_b(enum kz_exchange_mode mode);
/* Configs to B, then to A (at a_addr), and the first exchanges. */
void start(const struct site *a, const struct site *b, const char *a_addr);
/* The same with the configs already in W.b.cfg and W.a.cfg. */
void start_cfg(const char *a_addr);

/* Pair i agrees on both sides: SPIs, keys, selectors. */
void assert_pair_matches(int i);
/* How many child SAs A and B have made so far (a macro: a failure names
 * the caller's line). */
#define assert_children(na, nb)                     \
	do {                                        \
		assert_int_equal(W.a.nchild, (na)); \
		assert_int_equal(W.b.nchild, (nb)); \
	} while (0)
const struct ike_profile_status *status(struct node *n);
char *show_ike(struct node *n);
/* ike_show_ipsec_sa() on n, text or JSON (a static buffer). */
char *show_ipsec(struct node *n, bool json);
/* ike_show_profile_status() of profile HQ on n (a static buffer). */
char *show_status(struct node *n);
/* ike_show_profile_detail() of profile HQ on n, text or JSON. */
char *show_detail(struct node *n, bool json);

#endif
