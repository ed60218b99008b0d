/* test_ike_dh_pool.c - the Diffie-Hellman worker pool (dh_pool.c): jobs
 * finish with the same g^xy as a synchronous computation, results arrive
 * through the eventfd, a full queue refuses, cancelled jobs never come
 * back, freeing the pool with jobs queued and running leaks nothing
 * (AddressSanitizer), and stocked key pairs are handed out once each. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <string.h>
#include <time.h>

#include "ike/crypto.h"
#include "ike/dh_pool.h"
#include "lib/err.h"

#define MAXJ 64

/* j (checked made) into the pool as job id. */
static void submit(struct dh_pool *p, struct ike_dh_job *j, uint64_t id)
{
	assert_non_null(j);
	j->id = id;
	assert_int_equal(dh_pool_submit(p, j), 0);
}

/* Waits up to rounds * 10 ms for want results of the pool's fd. */
static int collect_for(struct dh_pool *p, struct ike_dh_job **out, int want, int rounds)
{
	int n = 0;

	for (int r = 0; n < want && r < rounds; r++) {
		struct pollfd pf = { .fd = dh_pool_fd(p), .events = POLLIN };
		struct ike_dh_job *j;

		if (poll(&pf, 1, 10) < 0)
			break;
		while (n < want && (j = dh_pool_take(p)))
			out[n++] = j;
	}
	return n;
}

static int collect(struct dh_pool *p, struct ike_dh_job **out, int want)
{
	return collect_for(p, out, want, 1000); /* 10 s: a loaded machine */
}

static void pub_of(const struct ike_dh *dh, enum kz_group g, uint8_t *out)
{
	assert_int_equal(ike_dh_public(dh, out, ike_dh_pub_len(g)), 0);
}

/* Each job makes its own key pair and g^xy with our public value; we
 * compute g^xy with its public value: both must agree. */
static void check_group(enum kz_group g, unsigned threads)
{
	struct dh_pool *p = dh_pool_new(threads, MAXJ, 0);
	struct ike_dh *mine[16];
	struct ike_dh_job *done[16];
	uint8_t pub[IKE_DH_JOB_MAX_PUB], want[IKE_DH_JOB_MAX_PUB];
	size_t plen = ike_dh_pub_len(g);
	int n;

	assert_non_null(p);
	for (int i = 0; i < 16; i++) {
		struct ike_dh_job *j;

		mine[i] = ike_dh_new(g);
		assert_non_null(mine[i]);
		pub_of(mine[i], g, pub);
		/* half the jobs bring their key pair, half let the pool make it */
		j = ike_dh_job_new(g, i % 2 ? ike_dh_new(g) : NULL, pub, plen);
		submit(p, j, (uint64_t)i + 1);
	}
	n = collect(p, done, 16);
	assert_int_equal(n, 16);
	assert_null(dh_pool_take(p));
	for (int i = 0; i < n; i++) {
		struct ike_dh_job *j = done[i];
		size_t wlen = sizeof(want);

		assert_int_equal(j->rc, 0);
		assert_true(j->id >= 1 && j->id <= 16);
		assert_non_null(j->dh);
		pub_of(j->dh, g, pub);
		assert_int_equal(ike_dh_shared(mine[j->id - 1], pub, plen, want, &wlen), 0);
		assert_int_equal(j->shared_len, wlen);
		assert_memory_equal(j->shared, want, wlen);
		ike_dh_job_free(j);
	}
	for (int i = 0; i < 16; i++)
		ike_dh_free(mine[i]);
	dh_pool_free(p);
}

static void test_results_match_sync_modp2048(void **state)
{
	check_group(KZ_GROUP_MODP2048, 2);
}

static void test_results_match_sync_ecp256_one_thread(void **state)
{
	check_group(KZ_GROUP_ECP256, 1);
}

static void test_key_pair_only_and_bad_peer(void **state)
{
	struct dh_pool *p = dh_pool_new(2, 8, 0);
	struct ike_dh_job *j, *done[2];
	uint8_t one[256] = { 0 };

	assert_non_null(p);
	j = ike_dh_job_new(KZ_GROUP_MODP2048, NULL, NULL, 0);
	submit(p, j, 1);
	/* y = 1 forces g^xy = 1: refused (RFC 2409 leaves the check to us) */
	one[255] = 1;
	j = ike_dh_job_new(KZ_GROUP_MODP2048, NULL, one, sizeof(one));
	submit(p, j, 2);
	assert_int_equal(collect(p, done, 2), 2);
	for (int i = 0; i < 2; i++) {
		if (done[i]->id == 1) {
			assert_int_equal(done[i]->rc, 0);
			assert_non_null(done[i]->dh);
			assert_int_equal(done[i]->shared_len, 0);
		} else {
			assert_int_equal(done[i]->rc, KZ_EINVAL);
			assert_int_equal(done[i]->shared_len, 0);
		}
		ike_dh_job_free(done[i]);
	}
	/* lengths are checked when the job is made */
	assert_null(ike_dh_job_new(KZ_GROUP_MODP2048, NULL, one, 128));
	assert_null(ike_dh_job_new(KZ_GROUP_NONE, NULL, NULL, 0));
	dh_pool_free(p);
}

/* One worker, two waiting at most: a burst of slow jobs is refused beyond
 * that, and the refused job stays the caller's. */
static void test_queue_bounded(void **state)
{
	struct dh_pool *p = dh_pool_new(1, 2, 0);
	struct ike_dh_job *done[MAXJ];
	struct dh_pool_stats st;
	int accepted = 0, refused = 0;

	assert_non_null(p);
	for (int i = 0; i < 12; i++) {
		struct ike_dh_job *j = ike_dh_job_new(KZ_GROUP_MODP4096, NULL, NULL, 0);

		assert_non_null(j);
		j->id = (uint64_t)i + 1;
		if (dh_pool_submit(p, j) == 0) {
			accepted++;
		} else {
			refused++;
			ike_dh_job_free(j);
		}
	}
	/* at most 2 waiting and 1 running when the burst ends */
	assert_true(accepted <= 3 + 1);
	assert_true(refused >= 8);
	dh_pool_get_stats(p, &st);
	assert_int_equal(st.refused, (uint64_t)refused);
	assert_int_equal(collect(p, done, accepted), accepted);
	for (int i = 0; i < accepted; i++)
		ike_dh_job_free(done[i]);
	/* room again */
	done[0] = ike_dh_job_new(KZ_GROUP_ECP256, NULL, NULL, 0);
	assert_int_equal(dh_pool_submit(p, done[0]), 0);
	assert_int_equal(collect(p, done, 1), 1);
	ike_dh_job_free(done[0]);
	dh_pool_free(p);
}

/* Cancelled jobs, queued or running or finished, never come back. */
static void test_cancel(void **state)
{
	struct dh_pool *p = dh_pool_new(1, MAXJ, 0);
	struct ike_dh_job *done[MAXJ];
	struct dh_pool_stats st;
	int n;

	assert_non_null(p);
	for (int i = 0; i < 20; i++)
		submit(p, ike_dh_job_new(KZ_GROUP_MODP3072, NULL, NULL, 0), (uint64_t)i + 1);
	/* the odd ones go, wherever they are by now */
	for (int i = 1; i <= 20; i += 2)
		dh_pool_cancel(p, (uint64_t)i);
	dh_pool_cancel(p, 999); /* unknown: ignored */
	n = collect(p, done, 10);
	assert_int_equal(n, 10);
	for (int i = 0; i < n; i++) {
		assert_int_equal(done[i]->id % 2, 0);
		ike_dh_job_free(done[i]);
	}
	/* nothing more: poll a little longer than a job takes */
	assert_int_equal(collect_for(p, done, 1, 30), 0);
	dh_pool_get_stats(p, &st);
	assert_int_equal(st.cancelled, 10);
	assert_int_equal(st.submitted, 20);
	dh_pool_free(p);
}

/* Freed with jobs waiting, running and finished: the workers stop after
 * the job in hand and everything is freed (LeakSanitizer checks). */
static void test_free_with_jobs_in_flight(void **state)
{
	for (int round = 0; round < 3; round++) {
		struct dh_pool *p = dh_pool_new(2, MAXJ, 4);

		assert_non_null(p);
		for (int i = 0; i < 30; i++)
			submit(p, ike_dh_job_new(KZ_GROUP_MODP2048, NULL, NULL, 0),
			       (uint64_t)i + 1);
		if (round) {
			struct timespec ts = { 0, 3000000 * round };

			nanosleep(&ts, NULL);
		}
		dh_pool_free(p);
	}
	dh_pool_free(NULL);
}

/* Stocked key pairs: made while idle, handed out once, never twice. */
static void test_stock_once(void **state)
{
	struct dh_pool *p = dh_pool_new(2, MAXJ, 4);
	struct ike_dh *got[12];
	uint8_t pubs[12][256];
	struct dh_pool_stats st;
	int n = 0;

	assert_non_null(p);
	/* the first ask starts the group's stock */
	got[n] = dh_pool_keypair(p, KZ_GROUP_MODP2048);
	assert_null(got[n]);
	for (int t = 0; t < 2000 && n < 12; t++) {
		struct timespec ts = { 0, 2000000 };

		got[n] = dh_pool_keypair(p, KZ_GROUP_MODP2048);
		if (got[n]) {
			assert_int_equal(ike_dh_group(got[n]), KZ_GROUP_MODP2048);
			pub_of(got[n], KZ_GROUP_MODP2048, pubs[n]);
			n++;
		} else {
			nanosleep(&ts, NULL);
		}
	}
	assert_int_equal(n, 12);
	for (int i = 0; i < n; i++)
		for (int k = i + 1; k < n; k++)
			assert_memory_not_equal(pubs[i], pubs[k], 256);
	dh_pool_get_stats(p, &st);
	assert_int_equal(st.stock_used, 12);
	assert_true(st.stock_made >= 12);
	for (int i = 0; i < n; i++)
		ike_dh_free(got[i]);
	dh_pool_free(p);
}

static void test_bad_arguments(void **state)
{
	struct dh_pool *p = dh_pool_new(0, 4, 0); /* 0: the online CPUs */
	struct dh_pool_stats st;

	assert_non_null(p);
	dh_pool_get_stats(p, &st);
	assert_true(st.threads >= 1);
	dh_pool_free(p);
	assert_null(dh_pool_new(1, 0, 0));   /* no queue */
	assert_null(dh_pool_new(1, 4, 999)); /* stock too large */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_match_sync_modp2048),
		cmocka_unit_test(test_results_match_sync_ecp256_one_thread),
		cmocka_unit_test(test_key_pair_only_and_bad_peer),
		cmocka_unit_test(test_queue_bounded),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_with_jobs_in_flight),
		cmocka_unit_test(test_stock_once),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
