/* test_ike_responder.c - what an aggressive-mode responder gives a
 * stranger: an AM2 only to an ID it has configured, once per AM1 (again
 * only when that AM1 comes again), never on a timer of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ike/exchange.h"
#include "lib/log.h"
#include "ike_world.h"
#include "test_main.h"

static int setup(void **state)
{
	(void)state;
	world_setup(0);
	return 0;
}

/* A's first message again, as if the network repeated it. */
static void replay_first_a(void)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.src.sin_family = p.dst.sin_family = AF_INET;
	p.src.sin_addr = W.a.addr;
	p.src.sin_port = htons(500);
	p.dst.sin_addr = W.b.addr;
	p.dst.sin_port = htons(500);
	memcpy(p.data, W.first_a, W.first_a_len);
	p.len = W.first_a_len;
	deliver(&p);
}

static void test_one_am1_one_am2(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	(void)state;
	W.drop_next_to_a = 1000; /* A never sees AM2 */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.sent, 1);
	assert_int_equal(W.b.sent, 1);
	assert_int_equal(W.b.e->half_open, 1);
	/* nothing from A any more: B sends nothing on its own */
	W.drop_all = true;
	advance(IKE_HALF_OPEN_MS - 1000);
	assert_true(W.a.sent > 1); /* A did retransmit (all lost) */
	assert_int_equal(W.b.sent, 1);
	/* the same AM1 again: the same AM2 again, once */
	W.drop_all = false;
	replay_first_a();
	assert_int_equal(W.b.sent, 2);
	replay_first_a();
	assert_int_equal(W.b.sent, 3);
	assert_int_equal(W.b.e->half_open, 1);
}

/* The initiator's AM1 repeated (AM2 lost once) still completes. */
static void test_repeated_am1_completes(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	(void)state;
	W.drop_next_to_a = 1;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	advance(2500); /* A's first retransmission of AM1 */
	pump();
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_pair_matches(0);
}

static void test_unknown_id_no_am2(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	(void)state;
	a.local_id = "intruder";
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.sent, 1);
	assert_int_equal(W.b.sent, 0);
	assert_null(W.b.e->sas);
	assert_int_equal(W.b.e->half_open, 0);
}

/* `peer any` without remote-id: answers nobody (kizuna check: A5.2). */
static void test_no_remote_id_no_am2(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	(void)state;
	b.remote_id = NULL;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.sent, 1);
	assert_int_equal(W.b.sent, 0);
	assert_null(W.b.e->sas);
}

/* d (len bytes) to B's port 500 from src:500. */
static void send_from(const char *src, uint8_t *d, size_t len)
{
	struct sockaddr_in from, to;

	memset(&from, 0, sizeof(from));
	from.sin_family = to.sin_family = AF_INET;
	from.sin_addr = ip(src);
	from.sin_port = htons(500);
	to = from;
	to.sin_addr = W.b.addr;
	ike_input(W.b.e, &to, &from, d, len, false);
}

/* An AM1 as A's, from src with a fresh initiator cookie. */
static void spoof_am1(const char *src, uint64_t *rng)
{
	uint8_t d[4096];

	memcpy(d, W.first_a, W.first_a_len);
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(iw_xorshift(rng) >> 24);
	send_from(src, d, W.first_a_len);
}

/* Junk from src: random bytes behind a plausible first-message header. */
static void spoof_junk(const char *src, uint64_t *rng)
{
	uint8_t d[200];

	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(iw_xorshift(rng) >> 24);
	memcpy(d + 8, W.first_a + 8, 20);
	send_from(src, d, sizeof(d));
}

/* Issue 13's flood: 500 datagrams/s from 200 spoofed sources, half of
 * them AM1s naming the configured key-id; site A, which B has never seen,
 * starts 1 s into it.  It must establish during the flood, and B must
 * send no more AM2s than it got AM1s. */
static void test_flood_leaves_room(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	uint64_t rng = 42, t_up = 0;
	unsigned good = 0, b_sent0;
	char src[32];

	(void)state;
	W.drop_all = true; /* A's first AM1 is only recorded as the template */
	start(&a, &b, "198.51.100.2");
	W.drop_all = false;
	assert_true(W.first_a_len > 0);
	b_sent0 = W.b.sent;
	for (unsigned step = 0; step < 40; step++) { /* 20 s, 500 ms steps */
		for (unsigned k = 0; k < 250; k++) {
			snprintf(src, sizeof(src), "198.51.100.%u",
				 10 + (unsigned)(iw_xorshift(&rng) % 200));
			if (k % 2) {
				spoof_am1(src, &rng);
				good++;
			} else {
				spoof_junk(src, &rng);
			}
			if (W.nq > MAXPKT / 2)
				pump();
		}
		pump();
		assert_true(W.b.e->half_open <= IKE_HALF_OPEN_MAX);
		if (!t_up && iw_pairs_up(&W.a) == 1)
			t_up = W.now;
		advance(500);
	}
	if (!t_up && iw_pairs_up(&W.a) == 1)
		t_up = W.now;
	assert_true(t_up > 0);
	/* A's AM1s go out at 0 (lost), 2 and 6 s: it is in by its second */
	assert_true(t_up - IW_T0 <= 8000);
	assert_int_equal(iw_pairs_up(&W.b), 1);
	/* one AM2 per AM1 at most (A's exchange: AM2 and QM2 and a few) */
	assert_true(W.b.sent - b_sent0 <= good + 10);
	assert_true(W.b.e->ctr.drop_half_open_limit > 0);
	print_message("flood: %u AM1s, B sent %u, half-open %u, dropped/given up %llu, "
		      "A up at %llu ms\n",
		      good, W.b.sent - b_sent0, W.b.e->half_open,
		      (unsigned long long)W.b.e->ctr.drop_half_open_limit,
		      (unsigned long long)(t_up - IW_T0));
}

/* One source holds at most IKE_HALF_OPEN_PER_SRC half-open SAs. */
static void test_per_source_cap(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	uint64_t rng = 7;

	(void)state;
	W.drop_all = true;
	start(&a, &b, "198.51.100.2");
	W.drop_all = false;
	for (int i = 0; i < 20; i++)
		spoof_am1("198.51.100.77", &rng);
	pump();
	assert_int_equal(W.b.e->half_open, IKE_HALF_OPEN_PER_SRC);
	assert_int_equal(W.b.e->ctr.drop_half_open_limit, 20 - IKE_HALF_OPEN_PER_SRC);
	/* another source is not affected */
	spoof_am1("198.51.100.78", &rng);
	assert_int_equal(W.b.e->half_open, IKE_HALF_OPEN_PER_SRC + 1);
}

/* Failure lines: a flood of unknown IDs from many sources writes at most
 * IKE_LOG_BURST lines per window, IKE_LOG_SRC_LINES per source. */
static void test_fail_lines_limited(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	struct in_addr s1 = ip("198.51.100.50"), s2 = ip("198.51.100.51");
	unsigned n, ok = 0;

	(void)state;
	start(&a, &b, "198.51.100.2");
	for (int i = 0; i < 10; i++)
		ok += eng_log_source_allowed(W.b.e, s1, &n);
	assert_int_equal(ok, IKE_LOG_SRC_LINES);
	for (int i = 0; i < 100; i++) {
		struct in_addr s = { htonl(0xc6336400u + 100 + (unsigned)i) };

		ok += eng_log_source_allowed(W.b.e, s, &n);
	}
	assert_int_equal(ok, IKE_LOG_BURST);
	assert_false(eng_log_source_allowed(W.b.e, s2, &n));
	advance(IKE_LOG_SRC_MS);
	assert_true(eng_log_source_allowed(W.b.e, s2, &n));
	/* held back since the last line written: the rest of the 100, s2 */
	assert_int_equal(n, 100 - (IKE_LOG_BURST - IKE_LOG_SRC_LINES) + 1);
}

struct ring_find {
	const char *want[4];
	unsigned found[4];
	bool leak;
};

static void ring_line(void *arg, long long when, enum kz_log_level lvl, const char *text)
{
	struct ring_find *f = arg;

	(void)when;
	(void)lvl;
	for (int i = 0; i < 4 && f->want[i]; i++)
		f->found[i] += strstr(text, f->want[i]) != NULL;
	f->leak |= strstr(text, "horse") != NULL;
}

/* Each of the first n lines of want stands in the log ring, and no line
 * holds the key. */
static void expect_log(const char *const want[4], int n)
{
	struct ring_find f;

	memset(&f, 0, sizeof(f));
	memcpy(f.want, want, sizeof(f.want));
	kz_log_ring_each(ring_line, &f);
	for (int i = 0; i < n; i++)
		if (!f.found[i])
			fail_msg("no log line with: %s", f.want[i]);
	assert_false(f.leak);
}

/* `debug ike HQ`: a line per message each way naming the profile, the
 * peer's address and port, the message and its payloads and the ID; no
 * key; the established lines are notices with the peer and the ID. */
static void test_debug_trace(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	static const char *const want[4] = {
		"HQ: debug ike: <- 198.51.100.2:500 Aggressive mode AM1 msgid 0x00000000 "
		"[SA KE NONCE ID",
		"HQ: debug ike: -> 198.51.100.2:500 Aggressive mode msgid 0x00000000 "
		"[SA KE NONCE ID HASH",
		"HQ: IKE SA established (Aggressive mode, responder), peer 198.51.100.2:500, id "
		"key-id site-a",
		"HQ: debug ike: <- 198.51.100.2:500 Quick Mode QM1",
	};

	(void)state;
	W.b.cfg = make_cfg(&b);
	ike_engine_set_config(W.b.e, W.b.cfg);
	ike_debug_set(W.b.e, true, "HQ");
	W.a.cfg = make_cfg(&a);
	W.a.addr = ip("198.51.100.2");
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_int_equal(W.b.nchild, 1);
	expect_log(want, 4);
}

/* A failed phase 1 is a warning naming the profile, the peer's address
 * and port and the ID it sent (different keys: A cannot verify HASH_R),
 * and never the key. */
static void test_fail_line_names_peer(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	static const char *const want[4] = {
		"phase 1 failed: ",
		", peer 203.0.113.2:500, id address 203.0.113.2",
	};

	(void)state;
	a.psk = "a different key than B has";
	start(&a, &b, "198.51.100.2");
	advance(2000);
	assert_int_equal(W.a.nchild, 0);
	expect_log(want, 2);
}

/* Lines about an SA end with the peer's address and port and its ID:
 * the line of a lifetime in a rekey (an IPsec SA pair, through the IKE SA
 * that made it), the old pair's removal after it, and the peer's Delete
 * seen on the other side. */
struct ring_tail {
	const char *head[3], *tail[3];
	unsigned found[3];
};

static void ring_tail_line(void *arg, long long when, enum kz_log_level lvl, const char *text)
{
	struct ring_tail *f = arg;
	size_t n = strlen(text);

	(void)when;
	(void)lvl;
	for (int i = 0; i < 3; i++) {
		size_t t = strlen(f->tail[i]);

		if (strstr(text, f->head[i]) && n >= t && !strcmp(text + n - t, f->tail[i]))
			f->found[i]++;
	}
}

static void test_sa_lines_name_peer(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	struct ring_tail f = {
		.head = { "HQ: rekeying IPsec SA spi 0x", "HQ: old IPsec SA spi 0x",
			  "HQ: the peer deleted IPsec SA spi 0x" },
		.tail = { " (soft lifetime), peer 203.0.113.2:500, id address 203.0.113.2",
			  " deleted after rekey, peer 203.0.113.2:500, id address 203.0.113.2",
			  ", peer 198.51.100.2:500, id key-id site-a" },
	};
	uint64_t t0;

	(void)state;
	a.esp_life = b.esp_life = 600;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	t0 = W.now;
	while (W.a.nchild < 2 && W.now - t0 < 600000)
		advance(500);
	assert_int_equal(W.a.nchild, 2);
	advance(IKE_REKEY_OVERLAP_MS + 500);
	assert_int_equal(W.b.ndown, 1);
	kz_log_ring_each(ring_tail_line, &f);
	for (int i = 0; i < 3; i++)
		if (f.found[i] != 1)
			fail_msg("%u log lines with: %s...%s", f.found[i], f.head[i], f.tail[i]);
}

KZ_TEST_MAIN(NULL, NULL, WORLD_TEST(test_one_am1_one_am2), WORLD_TEST(test_repeated_am1_completes),
	     WORLD_TEST(test_unknown_id_no_am2), WORLD_TEST(test_no_remote_id_no_am2),
	     WORLD_TEST(test_flood_leaves_room), WORLD_TEST(test_per_source_cap),
	     WORLD_TEST(test_fail_lines_limited), WORLD_TEST(test_debug_trace),
	     WORLD_TEST(test_fail_line_names_peer), WORLD_TEST(test_sa_lines_name_peer))
