/* test_ike_races.c - two sites that both initiate, in one process: two IKE
 * engines on a fake network with latency, jitter (so crossing messages
 * reorder) and seeded loss, an injected clock, and a model of each data
 * plane (which pair it sends on, which inbound SA gets the packets).
 *
 * Both sites name each other with `initiate auto`, so both start phase 1
 * when they come up and when their settings change.  Whatever the
 * interleaving, each must end with one IKE SA and one IPsec SA pair, the
 * same on both sides, within 10 s, stay so, and carry traffic both ways.
 * Cases: both start at the same instant; one starts while the other's
 * first message 1 went nowhere (its retransmission makes the second
 * phase 1, as in the lab where B starts first); both change a setting at
 * the same instant, or a few milliseconds apart; each with several seeds
 * of loss and reordering of the crossing exchanges.  And two such sites
 * rekeying for ten minutes: a rekey's second SA is no duplicate.
 *
 * KZ_RACE_SEEDS=N runs N seeds per case instead of 12 (1000 pass),
 * KZ_RACE_SEED=S only seed S; KZ_TEST_DEBUG=1 prints the engines' log with
 * every datagram sent, lost and received.
 *
 * The fake world here is a trimmed copy of test_ike_engine.c's with a
 * timed network instead of its immediate queue; it is meant to move to
 * the shared tests/unit/ike_world.{c,h}. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/model.h"
#include "ike/exchange.h" /* the SA tables, to count and compare SAs */
#include "ike/ike.h"
#include "ike/isakmp.h"
#include "lib/err.h"
#include "lib/log.h"

#define MAXPKT 512
#define MAXPAIR 64
#define T0 1000000u      /* the clock at the start of a test, ms */
#define SETTLE_MS 10000u /* the bound: one IKE SA and one pair each by then */
#define WATCH_MS 70000u  /* ... and still so this long after the trigger */
#define TICK_MS 20u      /* the data planes send a packet each way this often */

/* ---- the fake world ---- */

struct pkt {
	struct sockaddr_in src, dst;
	uint8_t data[4096];
	size_t len;
	uint64_t at, seq;
};

struct pair {
	struct kz_child_sa in, out;
	uint64_t rx; /* packets that arrived on its inbound SA */
};

struct node {
	const char *name;
	struct ike_engine *e;
	struct in_addr addr;
	uint64_t rng;
	struct kz_config *cfg;
	bool running;      /* off: datagrams to it are lost (no daemon yet) */
	bool kick;         /* got input: timers run after it, as in kizunad */
	uint64_t timer_at; /* when ike_run_timers() asked to run again */
	struct pair p[MAXPAIR];
	int np;
	unsigned ups; /* pairs handed to the data plane, ever */
};

static struct world {
	struct node a, b;
	struct pkt q[MAXPKT];
	int nq;
	uint64_t now, seq;
	uint64_t net_rng;
	unsigned lat_min, lat_max; /* one-way delay, ms */
	unsigned loss_pm;          /* loss per mille ... */
	uint64_t loss_until;       /* ... of datagrams sent before this time */
	unsigned max_drops, drops; /* ... at most this many */
	bool traffic;
	uint64_t next_tick;
	unsigned lost_ticks; /* a packet sent on an SA the peer does not have */
	uint64_t last_lost;
} W;

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* KZ_TEST_DEBUG: the engines' log, with which side speaks and what
 * crosses the network */
static bool Debug;

static void trace(const struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void trace(const struct node *n, const char *fmt, ...)
{
	va_list ap;

	if (!Debug)
		return;
	fprintf(stderr, "+%llu %s: ", (unsigned long long)(W.now - T0), n ? n->name : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *exch_name(const uint8_t *d, size_t len)
{
	if (len < 20)
		return "?";
	switch (d[18]) {
	case ISAKMP_XCHG_IDPROT:
		return "MM";
	case ISAKMP_XCHG_AGGR:
		return "AM";
	case ISAKMP_XCHG_QUICK:
		return "QM";
	case ISAKMP_XCHG_INFO:
		return "INFO";
	default:
		return "?";
	}
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct node *node_at(struct in_addr a)
{
	if (a.s_addr == W.a.addr.s_addr)
		return &W.a;
	if (a.s_addr == W.b.addr.s_addr)
		return &W.b;
	return NULL;
}

static int io_send(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		   const void *data, size_t len, bool marker)
{
	struct pkt *p;
	unsigned span = W.lat_max - W.lat_min + 1;

	(void)marker;
	assert_true(len <= sizeof(p->data));
	if (W.now < W.loss_until && W.drops < W.max_drops &&
	    xorshift(&W.net_rng) % 1000u < W.loss_pm) {
		W.drops++;
		trace(arg, "sends %s %02x%02x.. (lost)", exch_name(data, len),
		      ((const uint8_t *)data)[0], ((const uint8_t *)data)[1]);
		return 0;
	}
	assert_true(W.nq < MAXPKT);
	p = &W.q[W.nq++];
	p->src = *local;
	p->dst = *peer;
	memcpy(p->data, data, len);
	p->len = len;
	p->at = W.now + W.lat_min + xorshift(&W.net_rng) % span;
	p->seq = W.seq++;
	trace(arg, "sends %s %02x%02x.. #%llu, arrives +%llu", exch_name(data, len), p->data[0],
	      p->data[1], (unsigned long long)p->seq, (unsigned long long)(p->at - T0));
	return 0;
}

static uint64_t io_now(void *arg)
{
	(void)arg;
	return W.now;
}

static int64_t io_wall(void *arg)
{
	(void)arg;
	return 1700000000 + (int64_t)(W.now / 1000);
}

static int io_random(void *arg, void *buf, size_t len)
{
	struct node *n = arg;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(xorshift(&n->rng) >> 24);
	return 0;
}

static void io_child_up(void *arg, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct node *n = arg;

	assert_true(n->np < MAXPAIR);
	memset(&n->p[n->np], 0, sizeof(n->p[0]));
	n->p[n->np].in = *in;
	n->p[n->np].out = *out;
	n->np++;
	n->ups++;
}

static void io_child_down(void *arg, uint32_t spi_in, uint32_t spi_out)
{
	struct node *n = arg;

	for (int i = 0; i < n->np; i++)
		if (n->p[i].in.spi == spi_in && n->p[i].out.spi == spi_out) {
			memmove(&n->p[i], &n->p[i + 1], (size_t)(n->np - i - 1) * sizeof(n->p[0]));
			n->np--;
			return;
		}
	fail_msg("%s: child_down for a pair it does not have (0x%08x)", n->name, spi_in);
}

static void io_child_stats(void *arg, uint32_t spi, enum kz_child_dir dir,
			   struct kz_child_stats *st)
{
	struct node *n = arg;

	for (int i = 0; dir == KZ_CHILD_IN && i < n->np; i++)
		if (n->p[i].in.spi == spi)
			st->packets = n->p[i].rx;
}

static struct in_addr io_local(void *arg)
{
	return ((struct node *)arg)->addr;
}

static void node_init(struct node *n, const char *name, const char *addr, uint64_t seed)
{
	struct ike_io io = {
		.arg = n,
		.send = io_send,
		.now_ms = io_now,
		.wall = io_wall,
		.random = io_random,
		.child_up = io_child_up,
		.child_down = io_child_down,
		.child_stats = io_child_stats,
		.local_addr = io_local,
	};

	memset(n, 0, sizeof(*n));
	n->name = name;
	n->addr = ip(addr);
	n->rng = seed;
	n->timer_at = UINT64_MAX;
	n->e = ike_engine_new(&io);
	assert_non_null(n->e);
}

/* The pair the data plane sends on (dataplane_tx.c find_out): the newest
 * one not held back, else the newest held one. */
static const struct pair *sending_pair(const struct node *n)
{
	const struct pair *held = NULL;

	for (int i = n->np; i-- > 0;) {
		if (W.now >= n->p[i].out.out_after_ms)
			return &n->p[i];
		if (!held)
			held = &n->p[i];
	}
	return held;
}

/* Each side sends one packet on the pair it would use; the other side's
 * inbound SA of that SPI counts it, or it is lost. */
static void traffic_tick(void)
{
	struct node *ns[2] = { &W.a, &W.b };

	for (int k = 0; k < 2; k++) {
		const struct pair *s = sending_pair(ns[k]);
		struct node *o = ns[1 - k];
		bool got = false;

		if (!s)
			continue;
		for (int i = 0; i < o->np && !got; i++)
			if (o->p[i].in.spi == s->out.spi) {
				o->p[i].rx++;
				got = true;
			}
		if (!got) {
			W.lost_ticks++;
			W.last_lost = W.now;
		}
	}
}

static void run_timers(struct node *n)
{
	int64_t ms;

	n->kick = false;
	trace(n, "timers");
	ms = ike_run_timers(n->e);
	n->timer_at = ms < 0 ? UINT64_MAX : W.now + (uint64_t)ms;
}

static uint64_t next_event(void)
{
	uint64_t t = W.a.timer_at < W.b.timer_at ? W.a.timer_at : W.b.timer_at;

	if (W.a.kick || W.b.kick)
		return W.now;
	for (int i = 0; i < W.nq; i++)
		if (W.q[i].at < t)
			t = W.q[i].at;
	if (W.traffic && W.next_tick < t)
		t = W.next_tick;
	return t;
}

/* The datagram due first (by time, then by sending order), or -1. */
static int due_pkt(void)
{
	int best = -1;

	for (int i = 0; i < W.nq; i++)
		if (W.q[i].at <= W.now &&
		    (best < 0 || W.q[i].at < W.q[best].at ||
		     (W.q[i].at == W.q[best].at && W.q[i].seq < W.q[best].seq)))
			best = i;
	return best;
}

/* One step of the world at W.now: datagrams due, then the timers of the
 * engines that got input or whose deadline came. */
static void step(void)
{
	int i;

	while ((i = due_pkt()) >= 0) {
		struct pkt p = W.q[i];
		struct node *n;

		W.q[i] = W.q[--W.nq];
		n = node_at(p.dst.sin_addr);
		if (!n || !n->running)
			continue;
		trace(n, "gets #%llu", (unsigned long long)p.seq);
		ike_input(n->e, &p.dst, &p.src, p.data, p.len, ntohs(p.dst.sin_port) == 4500);
		n->kick = true;
	}
	if (W.a.kick || W.a.timer_at <= W.now)
		run_timers(&W.a);
	if (W.b.kick || W.b.timer_at <= W.now)
		run_timers(&W.b);
	if (W.traffic && W.next_tick <= W.now) {
		traffic_tick();
		W.next_tick = W.now + TICK_MS;
	}
}

/* ---- configs ---- */

struct site {
	const char *peer;
	enum kz_exchange_mode mode;
	const char *local_id, *remote_id; /* key-id (Aggressive mode), or NULL */
	enum kz_group pfs;
	const char *lnet, *rnet;
	uint32_t esp_life, ike_life; /* 0: defaults */
};

static struct kz_prefix pfx(const char *a)
{
	struct kz_prefix p = { .set = true, .len = 24 };

	p.addr = ip(a);
	return p;
}

static struct kz_config *make_cfg(const struct site *s)
{
	struct kz_config *c = kz_config_new();
	struct kz_ike_proposal *ikp;
	struct kz_ike_policy *pol;
	struct kz_ipsec_proposal *ep;
	struct kz_ipsec_policy *ipol;
	struct kz_ipsec_profile *pr;
	struct kz_if_ipsec *ifc;
	static const char psk[] = "correct horse battery staple";
	int err;

	assert_non_null(c);
	ikp = kz_add_ike_proposal(c, "IKEP", &err);
	ikp->enc = KZ_ENC_AES_CBC_256;
	ikp->group = KZ_GROUP_ECP256;
	if (s->ike_life)
		ikp->lifetime = s->ike_life;
	pol = kz_add_ike_policy(c, "IKEPOL", &err);
	pol->mode = s->mode;
	strcpy(pol->proposals[0], "IKEP");
	pol->nproposals = 1;
	pol->psk.set = true;
	pol->psk.len = strlen(psk);
	memcpy(pol->psk.key, psk, pol->psk.len);
	if (s->local_id) {
		pol->local_id.type = KZ_ID_KEY_ID;
		strcpy(pol->local_id.value, s->local_id);
	}
	if (s->remote_id) {
		pol->remote_id.type = KZ_ID_KEY_ID;
		strcpy(pol->remote_id.value, s->remote_id);
	}
	ep = kz_add_ipsec_proposal(c, "ESPP", &err);
	if (s->esp_life)
		ep->lifetime_time = s->esp_life;
	ipol = kz_add_ipsec_policy(c, "IPSECPOL", &err);
	strcpy(ipol->proposals[0], "ESPP");
	ipol->nproposals = 1;
	ipol->local_ts = pfx(s->lnet);
	ipol->remote_ts = pfx(s->rnet);
	ipol->pfs = s->pfs;
	pr = kz_add_profile(c, "HQ", &err);
	pr->peer_type = KZ_PEER_ADDR;
	pr->peer_addr = ip(s->peer);
	pr->source_set = true;
	strcpy(pr->ike_policy, "IKEPOL");
	strcpy(pr->ipsec_policy, "IPSECPOL");
	pr->initiate = KZ_INITIATE_AUTO;
	ifc = kz_add_ipsec_if(c, 0, &err);
	strcpy(ifc->map, "HQ");
	ifc->shutdown = false;
	return c;
}

/* Both sites name each other (config-language.md allows it). */
static struct site site_a(enum kz_exchange_mode mode)
{
	struct site s = {
		.peer = "203.0.113.2", .mode = mode, .pfs = KZ_GROUP_NONE,
		.lnet = "192.168.1.0", .rnet = "192.168.2.0",
	};

	if (mode == KZ_MODE_AGGRESSIVE) {
		s.local_id = "site-a";
		s.remote_id = "site-b";
	}
	return s;
}

static struct site site_b(enum kz_exchange_mode mode)
{
	struct site s = {
		.peer = "198.51.100.2", .mode = mode, .pfs = KZ_GROUP_NONE,
		.lnet = "192.168.2.0", .rnet = "192.168.1.0",
	};

	if (mode == KZ_MODE_AGGRESSIVE) {
		s.local_id = "site-b";
		s.remote_id = "site-a";
	}
	return s;
}

/* Loads (or changes) a site's settings, as kizunad does at start-up and
 * on a change: the engine keeps a pointer to the config. */
static void set_site(struct node *n, const struct site *s)
{
	struct kz_config *old = n->cfg;

	n->cfg = make_cfg(s);
	n->running = true;
	trace(n, "settings");
	ike_engine_set_config(n->e, n->cfg);
	n->kick = true;
	kz_config_free(old);
}

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	node_init(&W.a, "a", "198.51.100.2", 0x1234567887654321ull);
	node_init(&W.b, "b", "203.0.113.2", 0x0fedcba987654321ull);
	W.now = T0;
	W.lat_min = W.lat_max = 1;
	W.net_rng = 0x9e3779b97f4a7c15ull;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ike_engine_free(W.a.e);
	ike_engine_free(W.b.e);
	kz_config_free(W.a.cfg);
	kz_config_free(W.b.cfg);
	return 0;
}

/* A new seed for the network (loss, delay) and both engines' randomness:
 * the SPIs and cookies, and so the order of every tie, change with it. */
static void reseed(unsigned seed)
{
	uint64_t s = 0x2545f4914f6cdd1dull * (seed + 1u);

	W.net_rng = s | 1u;
	W.a.rng = (s ^ 0x1234567887654321ull) | 1u;
	W.b.rng = (s ^ 0x0fedcba987654321ull) | 1u;
	for (int i = 0; i < 8; i++)
		(void)xorshift(&W.net_rng);
}

/* ---- what converged means ---- */

struct count {
	int ike, ike_other, pairs;
	const struct ike_sa *sa;
	const struct ike_child *c;
};

static struct count count_of(const struct node *n)
{
	struct count k = { 0 };

	for (const struct ike_sa *sa = n->e->sas; sa; sa = sa->next) {
		if (sa->dying)
			continue;
		if (sa->state == IKE_ST_ESTABLISHED) {
			k.ike++;
			k.sa = sa;
		} else {
			k.ike_other++;
		}
	}
	for (const struct ike_child *c = n->e->children; c; c = c->next)
		if (!c->dying) {
			k.pairs++;
			k.c = c;
		}
	return k;
}

/* One IKE SA and one IPsec SA pair on each side (what `show ike sa` and
 * `show ipsec sa` count, kz_one_sa_each in the lab), and they are the same
 * SAs on both sides: cookies, SPIs and keys; the data planes hold that
 * pair and nothing else. */
static bool converged(void)
{
	struct count a = count_of(&W.a), b = count_of(&W.b);

	if (a.ike != 1 || b.ike != 1 || a.pairs != 1 || b.pairs != 1)
		return false;
	if (memcmp(a.sa->icookie, b.sa->icookie, 8) || memcmp(a.sa->rcookie, b.sa->rcookie, 8))
		return false;
	if (a.c->in.spi != b.c->out.spi || a.c->out.spi != b.c->in.spi ||
	    memcmp(a.c->in.enc_key, b.c->out.enc_key, a.c->in.enc_key_len) ||
	    memcmp(a.c->out.enc_key, b.c->in.enc_key, a.c->out.enc_key_len))
		return false;
	return W.a.np == 1 && W.b.np == 1 && W.a.p[0].in.spi == a.c->in.spi &&
	       W.b.p[0].in.spi == b.c->in.spi;
}

static void dump(const char *what)
{
	const struct node *ns[2] = { &W.a, &W.b };

	fprintf(stderr, "# %s at +%llu ms\n", what, (unsigned long long)(W.now - T0));
	for (int k = 0; k < 2; k++) {
		const struct node *n = ns[k];

		for (const struct ike_sa *sa = n->e->sas; sa; sa = sa->next)
			fprintf(stderr, "#   %s: IKE SA %02x%02x.. %s state %d%s\n", n->name,
				sa->icookie[0], sa->icookie[1], sa->initiator ? "initiator" : "responder",
				sa->state, sa->dying ? " dying" : "");
		for (const struct ike_child *c = n->e->children; c; c = c->next)
			fprintf(stderr, "#   %s: pair in 0x%08x out 0x%08x %s%s\n", n->name, c->in.spi,
				c->out.spi, c->initiator ? "initiator" : "responder",
				c->dying ? " dying" : "");
	}
}

struct outcome {
	uint64_t settled_ms; /* since the trigger: converged from then on */
	unsigned ups_after;  /* pairs made after that */
	unsigned lost_after; /* packets sent on an SA the peer did not have */
};

/* Runs the world until WATCH_MS after the trigger at t0; when it last
 * became converged and what happened after. */
static struct outcome watch(uint64_t t0)
{
	uint64_t end = t0 + WATCH_MS, since = UINT64_MAX;
	unsigned ups = 0, lost = 0;
	int same = 0;

	W.next_tick = W.now;
	while (W.now < end) {
		uint64_t t = next_event();
		bool c;

		if (t > end)
			t = end;
		if (t == W.now) {
			assert_true(++same < 10000); /* the engines must not spin */
		} else {
			same = 0;
			W.now = t;
		}
		step();
		c = converged();
		if (c && since == UINT64_MAX) {
			since = W.now;
			ups = W.a.ups + W.b.ups;
			lost = W.lost_ticks;
		} else if (!c) {
			since = UINT64_MAX;
		}
	}
	if (since == UINT64_MAX) {
		dump("not converged");
		return (struct outcome){ UINT64_MAX, 0, 0 };
	}
	return (struct outcome){ since - t0, W.a.ups + W.b.ups - ups, W.lost_ticks - lost };
}

static void check(const char *what, unsigned seed, struct outcome o)
{
	struct count a = count_of(&W.a), b = count_of(&W.b);

	if (o.settled_ms > SETTLE_MS || o.ups_after || o.lost_after || a.ike_other ||
	    b.ike_other)
		dump(what);
	if (o.settled_ms > SETTLE_MS)
		fail_msg("%s, seed %u: no single IKE SA and pair each within %u ms (%s)", what,
			 seed, SETTLE_MS,
			 o.settled_ms == UINT64_MAX ? "never" : "later");
	/* nothing renegotiated once settled, and traffic got through */
	assert_int_equal(o.ups_after, 0);
	assert_int_equal(o.lost_after, 0);
	/* no half-open or stuck negotiation left behind either */
	assert_int_equal(a.ike_other, 0);
	assert_int_equal(b.ike_other, 0);
}

/* ---- the races ---- */

/* How each case disturbs the network: the first seed none, the others
 * reorder the crossing exchanges (one-way delay 1-40 ms, so two messages
 * sent a few ms apart arrive in either order) and drop up to two of the
 * datagrams sent in the first second. */
static void network(unsigned seed)
{
	W.lat_min = 1;
	W.lat_max = seed ? 40 : 1;
	W.loss_pm = seed % 3 ? 150 : 0;
	W.max_drops = seed % 3 == 2 ? 2 : 1;
	W.drops = 0;
	W.loss_until = W.now + 1000;
}

/* 12 seeds each; KZ_RACE_SEEDS=N runs N, KZ_RACE_SEED=S only seed S */
static unsigned seed_first, seed_end = 12u;

static void both_start(enum kz_exchange_mode mode, enum kz_group pfs, uint64_t b_later_ms,
		       bool traffic, const char *what)
{
	for (unsigned seed = seed_first; seed < seed_end; seed++) {
		struct site a = site_a(mode), b = site_b(mode);
		struct outcome o;
		uint64_t t0;

		teardown(NULL);
		setup(NULL);
		reseed(seed);
		a.pfs = b.pfs = pfs;
		W.traffic = traffic;
		t0 = W.now;
		network(seed);
		set_site(&W.a, &a);
		if (b_later_ms) {
			/* B is not running yet: A's first message 1 is lost */
			while (W.now < t0 + b_later_ms) {
				uint64_t t = next_event();

				W.now = t < t0 + b_later_ms ? t : t0 + b_later_ms;
				step();
			}
		}
		set_site(&W.b, &b);
		/* from the moment both run */
		o = watch(b_later_ms ? W.now : t0);
		check(what, seed, o);
	}
}

static void test_both_start_same_instant(void **state)
{
	(void)state;
	both_start(KZ_MODE_MAIN, KZ_GROUP_NONE, 0, false, "both start at once");
}

static void test_both_start_same_instant_traffic_pfs(void **state)
{
	(void)state;
	both_start(KZ_MODE_MAIN, KZ_GROUP_MODP2048, 0, true, "both start at once, PFS, traffic");
}

static void test_both_start_aggressive(void **state)
{
	(void)state;
	both_start(KZ_MODE_AGGRESSIVE, KZ_GROUP_NONE, 0, true, "both start at once, Aggressive");
}

/* The lab's start-up (t_rekey_growth): one site starts, its message 1 goes
 * nowhere, the other starts 0.5 s later and negotiates; the first one's
 * retransmission 2 s after its start then reaches a running peer. */
static void test_one_starts_first(void **state)
{
	(void)state;
	both_start(KZ_MODE_MAIN, KZ_GROUP_NONE, 500, true, "A starts 0.5 s before B");
	both_start(KZ_MODE_MAIN, KZ_GROUP_NONE, 1900, false, "A starts 1.9 s before B");
	both_start(KZ_MODE_AGGRESSIVE, KZ_GROUP_NONE, 500, true,
		   "A starts 0.5 s before B, Aggressive");
}

/* Up with one pair each, then both sites change the IPsec proposal's
 * lifetime (a settings change: both renegotiate) b_later_ms apart. */
static void both_change(enum kz_exchange_mode mode, uint64_t b_later_ms, bool traffic,
			const char *what)
{
	for (unsigned seed = seed_first; seed < seed_end; seed++) {
		struct site a = site_a(mode), b = site_b(mode);
		struct outcome o;
		uint64_t t0;

		teardown(NULL);
		setup(NULL);
		reseed(seed);
		W.traffic = traffic;
		network(0);
		set_site(&W.a, &a);
		set_site(&W.b, &b);
		o = watch(W.now);
		check("before the change", seed, o);
		t0 = W.now;
		network(seed);
		a.esp_life = b.esp_life = 7200;
		set_site(&W.a, &a);
		while (W.now < t0 + b_later_ms) {
			uint64_t t = next_event();

			W.now = t < t0 + b_later_ms ? t : t0 + b_later_ms;
			step();
		}
		set_site(&W.b, &b);
		o = watch(t0);
		check(what, seed, o);
		/* the new pair has the new lifetime */
		assert_int_equal(count_of(&W.a).c->in.life_seconds, 7200);
	}
}

static void test_both_change_same_instant(void **state)
{
	(void)state;
	both_change(KZ_MODE_MAIN, 0, false, "both change at once");
	both_change(KZ_MODE_MAIN, 0, true, "both change at once, traffic");
}

static void test_both_change_ms_apart(void **state)
{
	(void)state;
	for (uint64_t d = 1; d <= 64; d *= 2)
		both_change(KZ_MODE_MAIN, d, true, "both change a few ms apart");
}

static void test_both_change_aggressive(void **state)
{
	(void)state;
	both_change(KZ_MODE_AGGRESSIVE, 0, true, "both change at once, Aggressive");
}

/* Runs the world until converged() or the time end; whether it did. */
static bool run_until_converged(uint64_t end)
{
	while (W.now < end && !converged()) {
		uint64_t t = next_event();

		W.now = t < end ? t : end;
		step();
	}
	return converged();
}

/* Both sites initiators, rekeying: the IKE SA every ~90 s, the pairs
 * every ~55 s, for 10 minutes.  A rekey makes a second IKE SA or pair for
 * a while (make before break); the duplicate reduction must not take it
 * for one of simultaneous initiation: nothing is lost, and after the last
 * rekey it is one IKE SA and one pair each again. */
static void test_rekeys_are_no_duplicates(void **state)
{
	(void)state;
	for (unsigned seed = seed_first; seed < seed_end; seed++) {
		struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
		unsigned lost, ups;
		uint64_t end;

		teardown(NULL);
		setup(NULL);
		reseed(seed);
		W.traffic = true;
		network(0);
		a.ike_life = b.ike_life = 100;
		a.esp_life = b.esp_life = 60;
		set_site(&W.a, &a);
		set_site(&W.b, &b);
		W.next_tick = W.now;
		assert_true(run_until_converged(W.now + SETTLE_MS));
		lost = W.lost_ticks;
		ups = W.a.ups;
		W.lat_max = seed ? 40 : 1; /* reordering, no loss */
		end = W.now + 600000;
		while (W.now < end) {
			uint64_t t = next_event();

			W.now = t < end ? t : end;
			step();
		}
		/* at least ten IPsec rekeys happened, none lost a packet */
		assert_true(W.a.ups - ups >= 10);
		assert_int_equal(W.lost_ticks, lost);
		/* a rekey may be under way at the end: settled 10 s after */
		if (!run_until_converged(W.now + SETTLE_MS)) {
			dump("rekeys");
			fail_msg("seed %u: not one IKE SA and one pair each after the rekeys", seed);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_start_same_instant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_start_same_instant_traffic_pfs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_both_start_aggressive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_starts_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_change_same_instant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_change_ms_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_change_aggressive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekeys_are_no_duplicates, setup, teardown),
	};

	if (getenv("KZ_RACE_SEEDS"))
		seed_end = (unsigned)atoi(getenv("KZ_RACE_SEEDS"));
	if (getenv("KZ_RACE_SEED")) {
		seed_first = (unsigned)atoi(getenv("KZ_RACE_SEED"));
		seed_end = seed_first + 1;
	}
	/* the engines' log only when asked: KZ_TEST_DEBUG=1 */
	Debug = getenv("KZ_TEST_DEBUG") != NULL;
	kz_log_open("test_ike_races", 1, Debug ? KZ_LOG_DEBUG : KZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
