/* test_config_model.c - the config model: defaults, lookups, removal,
 * deep copies, limits, names and address classes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config/model.h"
#include "lib/err.h"
#include "lib/mem.h"

static void test_add_find_del(void **state)
{
	struct kz_config *c = kz_config_new();
	int err = 0;
	struct kz_ike_proposal *p = kz_add_ike_proposal(c, "P", &err);

	assert_non_null(p);
	assert_int_equal(p->enc, KZ_ENC_AES_CBC_256);
	assert_ptr_equal(kz_add_ike_proposal(c, "P", &err), p); /* get-or-create */
	assert_null(kz_find_ike_proposal(c, "p"));              /* names are case-sensitive */
	assert_non_null(kz_add_ike_policy(c, "I", &err));
	assert_non_null(kz_add_ipsec_proposal(c, "E", &err));
	assert_non_null(kz_add_ipsec_policy(c, "S", &err));
	assert_non_null(kz_add_profile(c, "HQ", &err));
	assert_non_null(kz_add_ipsec_if(c, 3, &err));
	assert_null(kz_add_ipsec_if(c, 256, &err));
	assert_int_equal(err, KZ_ERANGE);
	strcpy(kz_find_ipsec_if(c, 3)->map, "HQ");
	assert_int_equal(kz_find_if_mapping(c, "HQ")->unit, 3);
	assert_int_equal(kz_del_ike_proposal(c, "P"), 0);
	assert_int_equal(kz_del_ike_proposal(c, "P"), KZ_ENOENT);
	assert_int_equal(kz_del_ipsec_if(c, 3), 0);
	assert_null(kz_find_if_mapping(c, "HQ"));
	assert_int_equal(kz_del_profile(c, "HQ"), 0);
	assert_int_equal(kz_del_ipsec_if(c, 9), KZ_ENOENT);
	kz_config_free(c);
	kz_config_free(NULL);
}

static void test_order_kept(void **state)
{
	struct kz_config *c = kz_config_new();
	int err;

	kz_add_profile(c, "B", &err);
	kz_add_profile(c, "A", &err);
	kz_add_profile(c, "C", &err);
	kz_del_profile(c, "A");
	assert_string_equal(c->profiles.v[0].name, "B");
	assert_string_equal(c->profiles.v[1].name, "C");
	kz_config_free(c);
}

static void test_limits(void **state)
{
	struct kz_config *c = kz_config_new();
	int err = 0;
	char n[16];

	for (int i = 0; i < KZ_MAX_OBJECTS; i++) {
		snprintf(n, sizeof(n), "P%d", i);
		assert_non_null(kz_add_ike_proposal(c, n, &err));
	}
	assert_null(kz_add_ike_proposal(c, "one-too-many", &err));
	assert_int_equal(err, KZ_ETOOBIG);
	kz_config_free(c);
}

static void test_dup_is_deep(void **state)
{
	struct kz_config *c = kz_config_new(), *d;
	struct kz_ike_policy *p;
	struct kz_route r = { .dest = { true, { htonl(0xc0a80200) }, 24 }, .via = KZ_VIA_IPSEC };
	int err;

	p = kz_add_ike_policy(c, "I", &err);
	p->psk.set = true;
	memcpy(p->psk.key, "secret", 6);
	p->psk.len = 6;
	assert_int_equal(kz_route_add(c, &r), 0);
	d = kz_config_dup(c);
	assert_non_null(d);
	kz_find_ike_policy(d, "I")->psk.len = 1;
	assert_int_equal(kz_find_ike_policy(c, "I")->psk.len, 6);
	assert_int_equal(d->routes.n, 1);
	/* route add replaces the same destination */
	r.ipsec_unit = 4;
	assert_int_equal(kz_route_add(c, &r), 0);
	assert_int_equal(c->routes.n, 1);
	assert_int_equal(c->routes.v[0].ipsec_unit, 4);
	assert_int_equal(kz_route_del(c, &r.dest), 0);
	assert_int_equal(kz_route_del(c, &r.dest), KZ_ENOENT);
	kz_config_free(c);
	kz_config_free(d);
}

/* The pre-shared keys live in key memory (lib/mem.h), also in a copy; a
 * deleted policy leaves no copy of its key behind in the vector. */
static void test_psk_in_key_memory(void **state)
{
	struct kz_config *c = kz_config_new(), *d;
	struct kz_ike_policy *p;
	int err;

	(void)state;
	for (int i = 0; i < 5; i++) { /* past the first growth of the vector */
		char nm[8];

		snprintf(nm, sizeof(nm), "P%d", i);
		p = kz_add_ike_policy(c, nm, &err);
		assert_non_null(p);
		p->psk.set = true;
		memset(p->psk.key, 'a' + i, 16);
		p->psk.len = 16;
	}
	assert_true(kz_key_owns(c->ike_policies.v));
	assert_true(kz_key_owns(&c->ike_policies.v[4].psk));
	d = kz_config_dup(c);
	assert_non_null(d);
	assert_true(kz_key_owns(d->ike_policies.v));
	assert_int_equal(kz_find_ike_policy(d, "P4")->psk.key[0], 'e');
	/* the slot the last policy moved out of is zero */
	assert_int_equal(kz_del_ike_policy(c, "P2"), 0);
	assert_int_equal(c->ike_policies.n, 4);
	assert_int_equal(c->ike_policies.v[4].psk.len, 0);
	assert_int_equal(c->ike_policies.v[4].psk.key[0], 0);
	assert_int_equal(c->ike_policies.v[3].psk.key[0], 'e');
	/* the other vectors stay on the heap */
	assert_non_null(kz_add_ike_proposal(c, "X", &err));
	assert_false(kz_key_owns(c->ike_proposals.v));
	kz_config_free(c);
	kz_config_free(d);
}

static void test_names_and_classes(void **state)
{
	struct in_addr a;
	struct kz_prefix p = { true, { 0 }, 24 };
	char buf[32];

	assert_string_equal(kz_enc_name(KZ_ENC_3DES_CBC), "3des-cbc");
	assert_string_equal(kz_enc_name(KZ_ENC_COUNT), "?");
	assert_string_equal(kz_group_name(KZ_GROUP_NONE), "none");
	assert_string_equal(kz_auth_name(KZ_AUTH_HMAC_SHA2_512), "hmac-sha2-512");
	assert_string_equal(kz_hash_name(KZ_HASH_MD5), "md5");
	assert_string_equal(kz_mode_name(KZ_MODE_AGGRESSIVE), "aggressive");
	inet_pton(AF_INET, "100.64.0.2", &a);
	assert_int_equal(kz_addr_classify(a), KZ_ADDR_SHARED);
	inet_pton(AF_INET, "100.128.0.1", &a);
	assert_int_equal(kz_addr_classify(a), KZ_ADDR_GLOBAL);
	inet_pton(AF_INET, "172.31.255.255", &a);
	assert_int_equal(kz_addr_classify(a), KZ_ADDR_PRIVATE);
	inet_pton(AF_INET, "172.32.0.1", &a);
	assert_int_equal(kz_addr_classify(a), KZ_ADDR_GLOBAL);
	inet_pton(AF_INET, "203.0.113.2", &a); /* documentation ranges count as global */
	assert_int_equal(kz_addr_classify(a), KZ_ADDR_GLOBAL);
	assert_string_equal(kz_addr_class_name(KZ_ADDR_SHARED), "shared");
	inet_pton(AF_INET, "192.168.1.0", &p.addr);
	kz_prefix_str(&p, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.0/24");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_del),
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_dup_is_deep),
		cmocka_unit_test(test_psk_in_key_memory),
		cmocka_unit_test(test_names_and_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
