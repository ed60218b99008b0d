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
 * every datagram sent, lost and received. The fake world (a timed network,
 * both data planes) is the engine tests' tests/unit/ike_world.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_world.h"
#include "ike/exchange.h" /* the SA tables, to count and compare SAs */
#include "lib/log.h"

#define T0 IW_T0         /* the clock at the start of a test, ms */
#define SETTLE_MS 10000u /* the bound: one IKE SA and one pair each by then */
#define WATCH_MS 70000u  /* ... and still so this long after the trigger */

/* ---- configs ---- */

/* Both sites name each other (config-language.md allows it) and initiate. */
static struct site race_site_a(enum kz_exchange_mode mode)
{
	struct site s = site_a(mode);

	if (mode == KZ_MODE_AGGRESSIVE)
		s.remote_id = "site-b";
	return s;
}

static struct site race_site_b(enum kz_exchange_mode mode)
{
	struct site s = site_b(mode);

	s.peer = "198.51.100.2";
	s.initiate = KZ_INITIATE_AUTO;
	if (mode == KZ_MODE_AGGRESSIVE)
		s.local_id = "site-b";
	return s;
}

/* Loads (or changes) a site's settings, as kizunad does at start-up and
 * on a change: the engine keeps a pointer to the config. */
static void set_site(struct node *n, const struct site *s)
{
	struct kz_config *old = n->cfg;

	n->cfg = make_cfg(s);
	n->stopped = false;
	iw_trace(n, "settings");
	ike_engine_set_config(n->e, n->cfg);
	n->kick = true;
	kz_config_free(old);
}

/* KZ_TEST_DEBUG: the engines' log, with which side speaks and what
 * crosses the network */
static bool Debug;

/* Neither site runs yet; a timed network of 1 ms; the data planes count
 * what reaches each inbound SA. */
static int setup(void **state)
{
	(void)state;
	world_setup(IW_RX_STATS);
	W.a.stopped = W.b.stopped = true;
	W.lat_min = W.lat_max = 1;
	W.net_rng = 0x9e3779b97f4a7c15ull;
	W.trace = Debug;
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
		(void)iw_xorshift(&W.net_rng);
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
	return iw_pairs_up(&W.a) == 1 && iw_pairs_up(&W.b) == 1 &&
		W.a.in[sending_pair(&W.a)].spi == a.c->in.spi &&
		W.b.in[sending_pair(&W.b)].spi == b.c->in.spi;
}

static void dump(const char *what)
{
	const struct node *ns[2] = { &W.a, &W.b };

	fprintf(stderr, "# %s at +%llu ms\n", what, (unsigned long long)(W.now - T0));
	for (int k = 0; k < 2; k++) {
		const struct node *n = ns[k];

		for (const struct ike_sa *sa = n->e->sas; sa; sa = sa->next)
			fprintf(stderr, "#   %s: IKE SA %02x%02x.. %s state %d%s\n", n->name,
				sa->icookie[0], sa->icookie[1],
				sa->initiator ? "initiator" : "responder", sa->state,
				sa->dying ? " dying" : "");
		for (const struct ike_child *c = n->e->children; c; c = c->next)
			fprintf(stderr, "#   %s: pair in 0x%08x out 0x%08x %s%s\n", n->name,
				c->in.spi, c->out.spi, c->initiator ? "initiator" : "responder",
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
		uint64_t t = world_next_event();
		bool c;

		if (t > end)
			t = end;
		if (t == W.now) {
			assert_true(++same < 10000); /* the engines must not spin */
		} else {
			same = 0;
			W.now = t;
		}
		world_step();
		c = converged();
		if (c && since == UINT64_MAX) {
			since = W.now;
			ups = (unsigned)(W.a.nchild + W.b.nchild);
			lost = W.lost_ticks;
		} else if (!c) {
			since = UINT64_MAX;
		}
	}
	if (since == UINT64_MAX) {
		dump("not converged");
		return (struct outcome){ UINT64_MAX, 0, 0 };
	}
	return (struct outcome){ since - t0, (unsigned)(W.a.nchild + W.b.nchild) - ups,
				 W.lost_ticks - lost };
}

static void check(const char *what, unsigned seed, struct outcome o)
{
	struct count a = count_of(&W.a), b = count_of(&W.b);

	if (o.settled_ms > SETTLE_MS || o.ups_after || o.lost_after || a.ike_other || b.ike_other)
		dump(what);
	if (o.settled_ms > SETTLE_MS)
		fail_msg("%s, seed %u: no single IKE SA and pair each within %u ms (%s)", what,
			 seed, SETTLE_MS, o.settled_ms == UINT64_MAX ? "never" : "later");
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

/* A new world for one seed's run. */
static void fresh_world(unsigned seed, bool traffic)
{
	world_teardown();
	setup(NULL);
	reseed(seed);
	W.traffic = traffic;
}

static void both_start(enum kz_exchange_mode mode, enum kz_group pfs, uint64_t b_later_ms,
		       bool traffic, const char *what)
{
	for (unsigned seed = seed_first; seed < seed_end; seed++) {
		struct site a = race_site_a(mode), b = race_site_b(mode);
		struct outcome o;
		uint64_t t0;

		fresh_world(seed, traffic);
		a.pfs = b.pfs = pfs;
		t0 = W.now;
		network(seed);
		set_site(&W.a, &a);
		if (b_later_ms) {
			/* B is not running yet: A's first message 1 is lost */
			world_run(t0 + b_later_ms);
		}
		set_site(&W.b, &b);
		/* from the moment both run */
		o = watch(b_later_ms ? W.now : t0);
		check(what, seed, o);
	}
}

/* Both sites start at the same instant: Main mode, with PFS and
 * traffic, and Aggressive mode. */
static void test_both_start_same_instant(void **state)
{
	static const struct {
		enum kz_exchange_mode mode;
		enum kz_group pfs;
		bool traffic;
		const char *what;
	} cases[] = {
		{ KZ_MODE_MAIN, KZ_GROUP_NONE, false, "both start at once" },
		{ KZ_MODE_MAIN, KZ_GROUP_MODP2048, true, "both start at once, PFS, traffic" },
		{ KZ_MODE_AGGRESSIVE, KZ_GROUP_NONE, true, "both start at once, Aggressive" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		both_start(cases[i].mode, cases[i].pfs, 0, cases[i].traffic, cases[i].what);
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
		struct site a = race_site_a(mode), b = race_site_b(mode);
		struct outcome o;

		fresh_world(seed, traffic);
		network(0);
		set_site(&W.a, &a);
		set_site(&W.b, &b);
		o = watch(W.now);
		check("before the change", seed, o);
		uint64_t t0 = W.now;
		network(seed);
		a.esp_life = b.esp_life = 7200;
		set_site(&W.a, &a);
		world_run(t0 + b_later_ms);
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
		uint64_t t = world_next_event();

		W.now = t < end ? t : end;
		world_step();
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
		struct site a = race_site_a(KZ_MODE_MAIN), b = race_site_b(KZ_MODE_MAIN);
		unsigned lost, ups;
		uint64_t end;

		fresh_world(seed, true);
		network(0);
		a.ike_life = b.ike_life = 100;
		a.esp_life = b.esp_life = 60;
		set_site(&W.a, &a);
		set_site(&W.b, &b);
		W.next_tick = W.now;
		assert_true(run_until_converged(W.now + SETTLE_MS));
		lost = W.lost_ticks;
		ups = (unsigned)W.a.nchild;
		W.lat_max = seed ? 40 : 1; /* reordering, no loss */
		end = W.now + 600000;
		world_run(end);
		/* at least ten IPsec rekeys happened, none lost a packet */
		assert_true((unsigned)W.a.nchild - ups >= 10);
		assert_int_equal(W.lost_ticks, lost);
		/* a rekey may be under way at the end: settled 10 s after */
		if (!run_until_converged(W.now + SETTLE_MS)) {
			dump("rekeys");
			fail_msg("seed %u: not one IKE SA and one pair each after the rekeys",
				 seed);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_both_start_same_instant),
		WORLD_TEST(test_one_starts_first),
		WORLD_TEST(test_both_change_same_instant),
		WORLD_TEST(test_both_change_ms_apart),
		WORLD_TEST(test_both_change_aggressive),
		WORLD_TEST(test_rekeys_are_no_duplicates),
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
