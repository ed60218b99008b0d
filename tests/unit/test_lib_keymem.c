/* test_lib_keymem.c - the key arena (lib/mem.h): its pages are left out
 * of core dumps, a freed block is zero, blocks are reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sanitizer/asan_interface.h>

#include "lib/mem.h"

/* The VmFlags of the mapping holding p in /proc/self/smaps ("" if none). */
static void vmflags_of(const void *p, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;

	out[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			kz_strlcpy(out, line + 8, cap);
			break;
		}
	}
	fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
	char f[128], *tok, *save = NULL;

	kz_strlcpy(f, flags, sizeof(f));
	for (tok = strtok_r(f, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, flag) == 0)
			return true;
	return false;
}

/* Also reads a freed block: the arena keeps it (ASan poisons it). */
static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	ASAN_UNPOISON_MEMORY_REGION(p, n);
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void test_not_dumped(void **state)
{
	char flags[256], heap[256];
	void *k = kz_key_alloc(48), *big = kz_key_alloc(KZ_KEY_BLOCK_MAX + 1);
	void *m = malloc(48);

	(void)state;
	assert_non_null(k);
	assert_non_null(big);
	assert_true(kz_key_owns(k));
	assert_false(kz_key_owns(m));
	vmflags_of(k, flags, sizeof(flags));
	assert_true(has_flag(flags, "dd"));
	vmflags_of(big, flags, sizeof(flags));
	assert_true(has_flag(flags, "dd"));
	/* the check itself tells the difference: the heap is dumped */
	vmflags_of(m, heap, sizeof(heap));
	assert_true(heap[0] != '\0');
	assert_false(has_flag(heap, "dd"));
	assert_int_equal((uintptr_t)k % 64, 0);
	kz_key_free(k, 48);
	kz_key_free(big, KZ_KEY_BLOCK_MAX + 1);
	free(m);
}

static void test_wiped_and_reused(void **state)
{
	uint8_t *k = kz_key_alloc(100), *again, *grown;

	(void)state;
	assert_non_null(k);
	assert_true(all_zero(k, 100));
	memset(k, 0x5a, 100);
	kz_key_free(k, 100);
	/* the arena keeps the block: past the free-list link it is zero */
	assert_true(all_zero(k + sizeof(void *), 128 - sizeof(void *)));
	again = kz_key_alloc(128); /* same 128-byte class: the same block */
	assert_ptr_equal(again, k);
	assert_true(all_zero(again, 128));
	/* realloc to another class moves and wipes the old block */
	memset(again, 0x77, 128);
	grown = kz_key_realloc(again, 128, 1000);
	assert_non_null(grown);
	assert_ptr_not_equal(grown, again);
	assert_int_equal(grown[127], 0x77);
	assert_true(all_zero(grown + 128, 1000 - 128));
	assert_true(all_zero(again + sizeof(void *), 128 - sizeof(void *)));
	kz_key_free(grown, 1000);
	assert_null(kz_key_alloc(0));
	kz_key_free(NULL, 10);
}

/* Many blocks of many sizes: distinct, within the arena, and all back. */
static void test_many(void **state)
{
	enum { N = 3000 };
	static uint8_t *p[N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		size_t len = 1 + (i * 37) % 5000;

		p[i] = kz_key_alloc(len);
		assert_non_null(p[i]);
		assert_true(kz_key_owns(p[i]));
		assert_true(all_zero(p[i], len));
		memset(p[i], (int)(i & 0xff) | 1, len);
	}
	for (size_t i = 0; i < N; i++) {
		size_t len = 1 + (i * 37) % 5000;

		/* nobody else wrote into this block */
		assert_int_equal(p[i][0], (i & 0xff) | 1);
		assert_int_equal(p[i][len - 1], (i & 0xff) | 1);
		kz_key_free(p[i], len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_dumped),
		cmocka_unit_test(test_wiped_and_reused),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
