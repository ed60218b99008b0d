/* test_ike_metrics.c - what the engine counts for the metrics file, in
 * the fake IKE world (ike_world.h): a first tunnel is no rekey; IPsec and
 * IKE rekeys are counted once on both sides; SA counts during and after
 * the overlap; DPD verdicts alive and dead; failures by class add up to
 * the total; the SA pairs listed oldest first. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ike_world.h"

static int setup(void **state)
{
	world_setup(0);
	return 0;
}

static void counts(struct node *n, unsigned ike, unsigned ipsec)
{
	unsigned i = 99, s = 99;

	ike_profile_sa_counts(n->e, "HQ", &i, &s);
	assert_int_equal(i, ike);
	assert_int_equal(s, ipsec);
}

struct seen {
	uint32_t in[8], out[8];
	int n;
};

static void on_child(void *arg, const char *profile, unsigned unit, uint32_t spi_in,
		     uint32_t spi_out)
{
	struct seen *s = arg;

	assert_string_equal(profile, "HQ");
	assert_int_equal(unit, 0);
	if (s->n < 8) {
		s->in[s->n] = spi_in;
		s->out[s->n] = spi_out;
	}
	s->n++;
}

static void test_first_tunnel_is_no_rekey(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	counts(&W.a, 1, 2);
	counts(&W.b, 1, 2);
	assert_int_equal(status(&W.a)->ipsec_rekeys, 0);
	assert_int_equal(status(&W.a)->ike_rekeys, 0);
	assert_int_equal(status(&W.b)->ipsec_rekeys, 0);
	assert_int_equal(status(&W.b)->ike_rekeys, 0);
}

static void test_ipsec_rekey_counted(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct seen s = { 0 };
	uint64_t t0;

	a.esp_life = b.esp_life = 600;
	start(&a, &b, "198.51.100.2");
	t0 = W.now;
	while (W.a.nchild < 2 && W.now - t0 < 600000)
		advance(500);
	assert_int_equal(W.a.nchild, 2);
	/* the overlap: both pairs, listed oldest first */
	counts(&W.a, 1, 4);
	ike_each_child(W.a.e, on_child, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.in[0], W.a.in[0].spi);
	assert_int_equal(s.out[0], W.a.out[0].spi);
	assert_int_equal(s.in[1], W.a.in[1].spi);
	assert_int_equal(status(&W.a)->ipsec_rekeys, 1);
	assert_int_equal(status(&W.b)->ipsec_rekeys, 1);
	advance(5500);
	counts(&W.a, 1, 2);
	counts(&W.b, 1, 2);
	assert_int_equal(status(&W.a)->ipsec_rekeys, 1);
	assert_int_equal(status(&W.a)->ike_rekeys, 0);
}

static void test_ike_rekey_counted(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	uint64_t t0;
	unsigned ike = 0, ipsec = 0;

	a.ike_life = b.ike_life = 600;
	a.esp_life = b.esp_life = 3600;
	start(&a, &b, "198.51.100.2");
	t0 = W.now;
	while (ike < 2 && W.now - t0 < 600000) {
		advance(500);
		ike_profile_sa_counts(W.a.e, "HQ", &ike, &ipsec);
	}
	assert_int_equal(ike, 2);
	assert_int_equal(status(&W.a)->ike_rekeys, 1);
	assert_int_equal(status(&W.b)->ike_rekeys, 1);
	assert_int_equal(status(&W.a)->ipsec_rekeys, 0);
	advance(5500);
	counts(&W.a, 1, 2);
}

static void test_dpd_verdicts(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.dpd_interval = 10;
	a.dpd_retry = 3;
	b.dpd_interval = 3600; /* B answers, does not probe here */
	b.dpd_retry = 3;
	start(&a, &b, "198.51.100.2");
	advance(20000); /* a probe after 10 s of silence, answered */
	assert_true(status(&W.a)->dpd_alive >= 1);
	assert_int_equal(status(&W.a)->dpd_dead, 0);
	W.drop_all = true;
	for (uint64_t t = 0; t < 120000 && !W.a.ndown; t += 500)
		advance(500);
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(status(&W.a)->dpd_dead, 1);
	assert_int_equal(status(&W.a)->fail_by_class[IKE_FAIL_NO_ANSWER], 1);
	counts(&W.a, 0, 0);
}

static void test_failures_by_class(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	const struct ike_profile_status *st;
	uint64_t sum = 0;

	b.psk = "another key";
	start(&a, &b, "198.51.100.2");
	advance(30000); /* a retry after the back-off fails again */
	st = status(&W.a);
	assert_true(st->fail_by_class[IKE_FAIL_PSK_MISMATCH] >= 1);
	for (int k = 0; k < IKE_FAIL_COUNT; k++)
		sum += st->fail_by_class[k];
	assert_int_equal(sum, st->failures_total);
	assert_int_equal(st->fail_by_class[IKE_FAIL_PSK_MISMATCH], st->failures_total);
	counts(&W.a, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_tunnel_is_no_rekey, setup,
						world_test_teardown),
		cmocka_unit_test_setup_teardown(test_ipsec_rekey_counted, setup,
						world_test_teardown),
		cmocka_unit_test_setup_teardown(test_ike_rekey_counted, setup, world_test_teardown),
		cmocka_unit_test_setup_teardown(test_dpd_verdicts, setup, world_test_teardown),
		cmocka_unit_test_setup_teardown(test_failures_by_class, setup, world_test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
