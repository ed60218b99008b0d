/* test_lib_role.c - the console role decision (lib/role.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/role.h"

static const struct kz_role_groups G = { true, true, 900, 901 };

static void test_decide(void **state)
{
	const gid_t adm[] = { 1000, 27, 900 }, op[] = { 1001, 901 }, both[] = { 901, 900 };
	const gid_t other[] = { 1002, 100 };
	const struct kz_role_groups none = { 0 }, only_op = { false, true, 0, 901 };

	(void)state;
	assert_int_equal(kz_role_decide(0, NULL, 0, &G), KZ_ROLE_ADMIN);
	assert_int_equal(kz_role_decide(1000, adm, 3, &G), KZ_ROLE_ADMIN);
	assert_int_equal(kz_role_decide(1001, op, 2, &G), KZ_ROLE_OPERATOR);
	assert_int_equal(kz_role_decide(1003, both, 2, &G), KZ_ROLE_ADMIN);
	assert_int_equal(kz_role_decide(1002, other, 2, &G), KZ_ROLE_NONE);
	assert_int_equal(kz_role_decide(1002, NULL, 0, &G), KZ_ROLE_NONE);
	/* no groups configured: the socket's mode decides, as before */
	assert_int_equal(kz_role_decide(1002, other, 2, &none), KZ_ROLE_ADMIN);
	/* only an operator group: nobody but root configures */
	assert_int_equal(kz_role_decide(1000, adm, 3, &only_op), KZ_ROLE_NONE);
	assert_int_equal(kz_role_decide(1001, op, 2, &only_op), KZ_ROLE_OPERATOR);
	assert_string_equal(kz_role_name(KZ_ROLE_OPERATOR), "operator");
}

static void test_operator_may(void **state)
{
	(void)state;
	assert_true(kz_role_operator_may("show running-config [secrets] [json]"));
	assert_true(kz_role_operator_may("diagnose ipsec [PROFILE] [json]"));
	assert_true(kz_role_operator_may("exit"));
	assert_false(kz_role_operator_may("configure terminal"));
	assert_false(kz_role_operator_may("write memory"));
	assert_false(kz_role_operator_may("clear ike sa [A.B.C.D]"));
	assert_false(kz_role_operator_may("shutdown"));
	assert_false(kz_role_operator_may("showx"));
	assert_false(kz_role_operator_may(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_operator_may),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
