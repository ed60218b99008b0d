/* test_main.h - the main() of a cmocka test file: the tests given (each a
 * cmocka_unit_test(...) or the like) run as one group with the group's
 * setup and teardown (or NULL). Include after <cmocka.h>. */
#ifndef KZ_TEST_MAIN_H
#define KZ_TEST_MAIN_H

#define KZ_TEST_MAIN(setup, teardown, ...)                             \
	int main(void)                                                 \
	{                                                              \
		const struct CMUnitTest tests[] = { __VA_ARGS__ };     \
		return cmocka_run_group_tests(tests, setup, teardown); \
	}

#endif
