/* test_ike_responder.c - what an aggressive-mode responder gives a
 * stranger: an AM2 only to an ID it has configured, once per AM1 (again
 * only when that AM1 comes again), never on a timer of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ike/exchange.h"
#include "ike_world.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_one_am1_one_am2),
		WORLD_TEST(test_repeated_am1_completes),
		WORLD_TEST(test_unknown_id_no_am2),
		WORLD_TEST(test_no_remote_id_no_am2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
