/* test_ike_dh_deferred.c - Diffie-Hellman off the engine's thread
 * (dh_wait.c), through the fake pool of ike_world.c: the work is used,
 * repeats while a job is in flight are ignored, a job whose SA goes is
 * cancelled or its late result only freed, a full pool drops the message.
 * (test_ike_engine.c runs every engine scenario with the fake pool too.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ike_world.h"
#include "ike/isakmp.h"

static int setup(void **state)
{
	world_setup(IW_DH_DEFERRED);
	return 0;
}

/* Delivers queued datagrams, without finishing any DH job, until node n
 * has one in flight; false if the queue ran dry first. */
static bool deliver_until_job(struct node *n)
{
	while (W.nq > 0) {
		struct pkt p = W.q[0];

		memmove(&W.q[0], &W.q[1], (size_t)(W.nq - 1) * sizeof(W.q[0]));
		W.nq--;
		deliver(&p);
		for (int i = 0; i < Ndh; i++)
			if (Dh[i].n == n)
				return true;
	}
	return false;
}

/* One IPsec SA pair on each side, and the two agree. */
static void assert_one_pair(void)
{
	assert_children(1, 1);
	assert_pair_matches(0);
}

static void test_dh_deferred_used(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters ca, cb;

	a.pfs = b.pfs = KZ_GROUP_ECP256;
	start(&a, &b, "198.51.100.2");
	assert_one_pair();
	ike_get_counters(W.a.e, &ca);
	ike_get_counters(W.b.e, &cb);
	/* MM4 and QM2 on the initiator, MM3 and QM1 on the responder */
	assert_int_equal(ca.dh_async, 2);
	assert_int_equal(cb.dh_async, 2);
	assert_int_equal(ca.dh_stale + cb.dh_stale, 0);
	assert_int_equal(Ndh, 0);
}

static void test_dh_deferred_aggressive(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	struct ike_counters cb;

	a.pfs = b.pfs = KZ_GROUP_MODP2048;
	a.group = b.group = KZ_GROUP_MODP2048;
	start(&a, &b, "198.51.100.2");
	assert_one_pair();
	ike_get_counters(W.b.e, &cb);
	assert_int_equal(cb.dh_async, 2); /* AM1 (a first message) and QM1 */
	assert_int_equal(cb.drop_dh_busy, 0);
}

/* Every datagram twice: the copy that comes while its exchange waits for
 * g^xy is ignored (there is no answer to repeat yet), later repeats are
 * answered, and one pair results. */
static void test_dh_deferred_repeat_while_waiting(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters cb;

	a.pfs = b.pfs = KZ_GROUP_ECP256;
	W.dup = true;
	start(&a, &b, "198.51.100.2");
	W.dup = false;
	pump();
	assert_one_pair();
	ike_get_counters(W.b.e, &cb);
	assert_true(cb.drop_dh_pending >= 2); /* MM3 and QM1 */
	assert_int_equal(cb.dh_async, 2);
}

/* Both sites configured; B's IKE SA is cleared as soon as it has queued
 * a DH job. */
static void clear_b_at_its_job(const struct site *a, const struct site *b)
{
	W.b.cfg = make_cfg(b);
	W.a.cfg = make_cfg(a);
	ike_engine_set_config(W.b.e, W.b.cfg);
	ike_engine_set_config(W.a.e, W.a.cfg);
	assert_true(deliver_until_job(&W.b));
	assert_int_equal(ike_clear_ike(W.b.e, NULL), 0);
}

/* The SA goes while its job is queued: the job is cancelled. */
static void test_dh_deferred_sa_cleared_cancels(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	clear_b_at_its_job(&a, &b);
	for (int i = 0; i < Ndh; i++)
		assert_ptr_not_equal(Dh[i].n, &W.b);
	assert_int_equal(W.b.nchild, 0);
}

/* The job was already running when its SA went (no cancel): the result
 * finds no SA and is only freed (AddressSanitizer checks the rest); the
 * initiator then negotiates again and succeeds. */
static void test_dh_deferred_result_for_gone_sa(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters cb;

	Dh_nocancel = true;
	clear_b_at_its_job(&a, &b);
	W.nq = 0;
	while (dh_finish_one())
		;
	ike_get_counters(W.b.e, &cb);
	assert_int_equal(cb.dh_stale, 1);
	assert_int_equal(W.b.nchild, 0);
	Dh_nocancel = false;
	/* the initiator's MM3 now meets no SA: it gives up after its
	 * retransmissions and starts again after its back-off */
	advance(130000);
	assert_children(1, 1);
}

/* The pool is full: the responder drops MM3 (counted) and keeps its
 * half-open SA; the initiator's retransmission gets through once there
 * is room. */
static void test_dh_deferred_queue_full(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters cb;

	Dh_cap = 0;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.b.nchild, 0);
	ike_get_counters(W.b.e, &cb);
	assert_int_equal(cb.drop_dh_busy, 1);
	assert_int_equal(cb.dh_async, 0);
	Dh_cap = MAXDH;
	advance(2500);
	assert_one_pair();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_dh_deferred_used),
		WORLD_TEST(test_dh_deferred_aggressive),
		WORLD_TEST(test_dh_deferred_repeat_while_waiting),
		WORLD_TEST(test_dh_deferred_sa_cleared_cancels),
		WORLD_TEST(test_dh_deferred_result_for_gone_sa),
		WORLD_TEST(test_dh_deferred_queue_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
