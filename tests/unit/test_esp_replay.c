/* test_esp_replay.c - the ESP anti-replay window (src/esp/replay.c): a
 * numbered table of cases in the manner of WireGuard's selftest/counter.c,
 * then a comparison against a naive model on random sequences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esp/replay.h"
#include "lib/err.h"

struct rcase {
	uint32_t seq;
	int want; /* 0, KZ_EEXIST (seen) or KZ_ERANGE (zero / too old) */
};

#define W 64u
#define J (W + 2000u) /* a far jump, more than the ring */
#define R KZ_REPLAY_RING_BITS

/* Run in order on one window of W bits; each line checks, then commits. */
static const struct rcase table[] = {
	/*  1 */ { 0, KZ_ERANGE }, /* sequence 0 is never valid */
	/*  2 */ { 1, 0 },         /* first packet */
	/*  3 */ { 1, KZ_EEXIST }, /* duplicate */
	/*  4 */ { 9, 0 },         /* jump ahead inside the window */
	/*  5 */ { 8, 0 },         /* out of order, inside */
	/*  6 */ { 7, 0 },
	/*  7 */ { 7, KZ_EEXIST },
	/*  8 */ { 2, 0 },
	/*  9 */ { W, 0 },             /* top = W: 1 is the left edge */
	/* 10 */ { 1, KZ_EEXIST },     /* left edge, seen */
	/* 11 */ { 3, 0 },             /* inside, not seen */
	/* 12 */ { W + 1, 0 },         /* 1 falls off the left */
	/* 13 */ { 1, KZ_ERANGE },     /* too old now */
	/* 14 */ { 2, KZ_EEXIST },     /* left edge, seen */
	/* 15 */ { 4, 0 },             /* near the left edge, new */
	/* 16 */ { W + 1, KZ_EEXIST }, /* top itself again */
	/* 17 */ { J, 0 },             /* far jump */
	/* 18 */ { J - W + 1, 0 },     /* left edge after the jump */
	/* 19 */ { J - W, KZ_ERANGE }, /* one past the left edge */
	/* 20 */ { J - 1, 0 },
	/* 21 */ { J - 1, KZ_EEXIST },
	/* 22 */ { W + 1, KZ_ERANGE }, /* the old top is far behind */
	/* 23 */ { J + R, 0 },         /* jump of exactly one ring */
	/* 24 */ { J + R - 1, 0 },     /* same ring slot as before: cleared */
	/* 25 */ { J + R - W + 1, 0 }, /* left edge */
	/* 26 */ { J, KZ_ERANGE },     /* same slot as the top, long gone */
	/* 27 */ { J + R + 63, 0 },    /* into the next word */
	/* 28 */ { J + R + 64, 0 },    /* and the one after */
	/* 29 */ { J + R + 1, 0 },     /* skipped numbers are new */
	/* 30 */ { J + R + 1, KZ_EEXIST },
	/* 31 */ { UINT32_MAX - 1, 0 }, /* wrap region: top near 2^32 */
	/* 32 */ { UINT32_MAX, 0 },
	/* 33 */ { UINT32_MAX, KZ_EEXIST }, /* no way past the last number */
	/* 34 */ { 0, KZ_ERANGE },          /* wrapped: refused */
	/* 35 */ { 1, KZ_ERANGE },          /* wrapped: too old */
	/* 36 */ { UINT32_MAX - W + 1, 0 }, /* left edge at the very top */
	/* 37 */ { UINT32_MAX - W, KZ_ERANGE },
};

static void test_table(void **state)
{
	struct kz_replay r;
	size_t i;

	assert_int_equal(replay_init(&r, W), 0);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int c = replay_check(&r, table[i].seq);
		int m;

		if (c != table[i].want)
			fail_msg("case %zu: seq %u check %d, want %d", i + 1, table[i].seq, c,
				 table[i].want);
		m = replay_commit(&r, table[i].seq);
		if (m != table[i].want)
			fail_msg("case %zu: seq %u commit %d, want %d", i + 1, table[i].seq, m,
				 table[i].want);
	}
}

/* The pre-check alone never changes the window. */
static void test_check_is_pure(void **state)
{
	struct kz_replay r, before;

	assert_int_equal(replay_init(&r, W), 0);
	assert_int_equal(replay_commit(&r, 5), 0);
	before = r;
	assert_int_equal(replay_check(&r, 1000), 0);
	assert_int_equal(replay_check(&r, 4), 0);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(replay_check(&r, 4), 0);
	assert_int_equal(replay_commit(&r, 4), 0);
	/* Two packets with one number passing the pre-check: only the first
	 * commit wins. */
	assert_int_equal(replay_check(&r, 6), 0);
	assert_int_equal(replay_check(&r, 6), 0);
	assert_int_equal(replay_commit(&r, 6), 0);
	assert_int_equal(replay_commit(&r, 6), KZ_EEXIST);
}

static void test_off(void **state)
{
	struct kz_replay r;

	assert_int_equal(replay_init(&r, 0), 0);
	assert_int_equal(replay_commit(&r, 0), 0);
	assert_int_equal(replay_commit(&r, 10), 0);
	assert_int_equal(replay_commit(&r, 10), 0);
	assert_int_equal(replay_commit(&r, 1), 0);
}

static void test_limits(void **state)
{
	struct kz_replay r;

	assert_int_equal(replay_init(&r, KZ_REPLAY_MAX), 0);
	assert_int_equal(replay_init(&r, KZ_REPLAY_MAX + 1), KZ_ERANGE);
	/* The largest window: both edges. */
	assert_int_equal(replay_init(&r, KZ_REPLAY_MAX), 0);
	assert_int_equal(replay_commit(&r, 5000), 0);
	assert_int_equal(replay_commit(&r, 5000 - KZ_REPLAY_MAX + 1), 0);
	assert_int_equal(replay_check(&r, 5000 - KZ_REPLAY_MAX), KZ_ERANGE);
	/* A window of one bit accepts only new highs. */
	assert_int_equal(replay_init(&r, 1), 0);
	assert_int_equal(replay_commit(&r, 3), 0);
	assert_int_equal(replay_commit(&r, 2), KZ_ERANGE);
	assert_int_equal(replay_commit(&r, 3), KZ_EEXIST);
	assert_int_equal(replay_commit(&r, 4), 0);
}

/* Sequential arrival through many ring turns: every number once, then
 * each is a duplicate. */
static void test_sequential(void **state)
{
	struct kz_replay r;
	uint32_t s;

	assert_int_equal(replay_init(&r, 1024), 0);
	for (s = 1; s < 20000; s++) {
		assert_int_equal(replay_commit(&r, s), 0);
		assert_int_equal(replay_check(&r, s), KZ_EEXIST);
		if (s > 1024)
			assert_int_equal(replay_check(&r, s - 1024), KZ_ERANGE);
	}
}

/* The reference: the set of accepted numbers and the top, no bitmap. */
struct model {
	uint32_t size, top;
	bool *seen;
};

static int model_commit(struct model *m, uint32_t seq)
{
	if (seq == 0)
		return KZ_ERANGE;
	if (seq <= m->top && m->top - seq >= m->size)
		return KZ_ERANGE;
	if (m->seen[seq])
		return KZ_EEXIST;
	m->seen[seq] = true;
	if (seq > m->top)
		m->top = seq;
	return 0;
}

static void test_against_model(void **state)
{
	static const uint32_t sizes[] = { 1, 32, 63, 64, 65, 100, 512, 1024 };
	const uint32_t space = 60000;
	size_t k;

	srand(4303);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct kz_replay r;
		struct model m = { sizes[k], 0, calloc(space + 4200, 1) };
		uint32_t base = 1, i;

		assert_non_null(m.seen);
		assert_int_equal(replay_init(&r, sizes[k]), 0);
		for (i = 0; i < 200000; i++) {
			uint32_t seq;
			int pick = rand() % 100;

			/* Mostly near the top, some behind, some far ahead. */
			if (pick < 60)
				seq = base + (uint32_t)(rand() % 8);
			else if (pick < 90)
				seq = base > 1200 ? base - (uint32_t)(rand() % 1200) : 1;
			else if (pick < 99)
				seq = base + (uint32_t)(rand() % 3000);
			else
				seq = 0;
			if (seq >= space)
				break;
			if (replay_check(&r, seq) != model_commit(&m, seq))
				fail_msg("size %u step %u seq %u", sizes[k], i, seq);
			/* check and commit agree; commit on a refused number
			 * changes nothing */
			(void)replay_commit(&r, seq);
			if (r.top != m.top)
				fail_msg("size %u step %u: top %u vs %u", sizes[k], i, r.top,
					 m.top);
			base = m.top > 4 ? m.top - 4 : 1;
		}
		free(m.seen);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),      cmocka_unit_test(test_check_is_pure),
		cmocka_unit_test(test_off),        cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sequential), cmocka_unit_test(test_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
