/* test_ike_interop.c - the engine as other vendors' routers need it, two
 * kizuna engines in the fake world (ike_world.h): a responder with `pfs
 * none` follows an initiator's PFS group, `pfs GROUP` requires it and a
 * mismatch in PFS alone is recorded as such; the responder answers the
 * initiator's transform unchanged and sends RESPONDER-LIFETIME when its
 * own lifetime is shorter (phase 1: in an Informational after MM6, as
 * Cisco IOS does; phase 2: in QM2), which the initiator takes;
 * `show ipsec profile NAME detail` tells the lifetime in force and its
 * source; DPD off on the peer's side is visible in the profile's state. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_world.h"
#include "ike/exchange.h"
#include "ike/isakmp.h"
#include "lib/err.h"
#include "lib/strbuf.h"

static int setup(void **state)
{
	(void)state;
	world_setup(0);
	return 0;
}

/* ---- PFS ---- */

static void test_pfs_follows_initiator(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	a.pfs = KZ_GROUP_MODP2048; /* FortiGate, MikroTik, Juniper "standard" */
	b.pfs = KZ_GROUP_NONE;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_pair_matches(0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_NONE);
	assert_non_null(strstr(show_detail(&W.b, false), "pfs modp2048"));
}

static void test_pfs_group_required(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	const struct ike_profile_status *st;

	(void)state;
	a.pfs = KZ_GROUP_MODP2048;
	b.pfs = KZ_GROUP_ECP256; /* pfs GROUP: that group, no other */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.b.nchild, 0);
	st = status(&W.b);
	assert_int_equal(st->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_int_equal(st->phase, 2);
	assert_true(st->pfs_mismatch);
	assert_int_equal(st->pfs_ours, KZ_GROUP_ECP256);
	assert_int_equal(st->pfs_theirs, KZ_GROUP_MODP2048);
	assert_non_null(strstr(st->detail, "PFS differs"));
	assert_int_equal(status(&W.a)->peer_notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
}

static void test_pfs_required_initiator_offers_none(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	b.pfs = KZ_GROUP_ECP256;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.b.nchild, 0);
	assert_true(status(&W.b)->pfs_mismatch);
	assert_int_equal(status(&W.b)->pfs_theirs, KZ_GROUP_NONE);
}

static void test_pfs_weak_group_not_followed(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	a.pfs = KZ_GROUP_MODP768; /* group 1 is not followed */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.b.nchild, 0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_true(status(&W.b)->pfs_mismatch);
}

/* A proposal mismatch that is not PFS alone stays a plain one. */
static void test_not_pfs_mismatch(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	a.pfs = KZ_GROUP_MODP2048;
	b.pfs = KZ_GROUP_ECP256;
	b.esp_life = 0;
	W.b.cfg = make_cfg(&b);
	W.a.cfg = make_cfg(&a);
	/* another cipher on B: PFS is not the only difference */
	for (size_t i = 0; i < W.b.cfg->ipsec_proposals.n; i++)
		W.b.cfg->ipsec_proposals.v[i].enc = KZ_ENC_3DES_CBC;
	start_cfg("198.51.100.2");
	assert_int_equal(W.b.nchild, 0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_false(status(&W.b)->pfs_mismatch);
}

/* ---- lifetimes ---- */

/* The lifetime attribute of the one transform of the SA payload in a
 * clear message (MM2), and whether it carries a RESPONDER-LIFETIME with
 * these seconds. */
static void clear_sa_life(const struct pkt *p, uint32_t *life, uint32_t *notify_secs)
{
	struct isakmp_digest d;
	struct isakmp_sa *sa = isakmp_sa_new();
	const struct isakmp_payload *sp;

	assert_non_null(sa);
	*notify_secs = 0;
	assert_int_equal(isakmp_parse_message(p->data, p->len, &d), 0);
	sp = isakmp_find(&d, ISAKMP_NP_SA);
	assert_non_null(sp);
	assert_int_equal(isakmp_parse_sa(&sp->body, sa), 0);
	assert_int_equal(sa->p[0].nt, 1);
	assert_true(isakmp_attr_get(&sa->p[0].t[0], IKE_ATTR_LIFE_DURATION, life));
	for (size_t i = 0; i < d.n; i++) {
		struct isakmp_notify n;
		uint64_t kb;

		if (d.p[i].type != ISAKMP_NP_N)
			continue;
		assert_int_equal(isakmp_parse_notify(&d.p[i].body, &n), 0);
		assert_int_equal(n.type, ISAKMP_N_RESPONDER_LIFETIME);
		assert_int_equal(n.proto, ISAKMP_PROTO_ISAKMP);
		assert_int_equal(n.spi_size, 16);
		life_notify_read(true, &n.data, notify_secs, &kb);
	}
	isakmp_sa_free(sa);
}

/* MM1 to B, B's MM2 looked at, then the rest. */
static void start_looking_at_mm2(const struct site *a, const struct site *b, uint32_t *life,
				 uint32_t *notify_secs)
{
	struct pkt p;

	W.b.cfg = make_cfg(b);
	W.a.cfg = make_cfg(a);
	ike_engine_set_config(W.b.e, W.b.cfg);
	W.a.addr = ip("198.51.100.2");
	ike_engine_set_config(W.a.e, W.a.cfg);
	assert_true(W.nq >= 1);
	p = W.q[0];
	memmove(&W.q[0], &W.q[1], (size_t)(W.nq - 1) * sizeof(W.q[0]));
	W.nq--;
	deliver(&p); /* MM1 */
	assert_true(W.nq >= 1);
	clear_sa_life(&W.q[W.nq - 1], life, notify_secs);
	pump();
}

static void test_phase1_responder_lifetime(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	uint32_t life, nsecs;

	(void)state;
	a.ike_life = 28800;
	b.ike_life = 3600; /* the responder's is shorter */
	start_looking_at_mm2(&a, &b, &life, &nsecs);
	assert_int_equal(life, 28800); /* the initiator's transform, unchanged */
	assert_int_equal(nsecs, 0);    /* ours comes once phase 1 protects it */
	assert_int_equal(W.a.nchild, 1);
	assert_non_null(strstr(show_ike(&W.a), "Remaining lifetime is 3600 seconds\n"));
	assert_non_null(strstr(show_ike(&W.b), "Remaining lifetime is 3600 seconds\n"));
	assert_non_null(strstr(show_detail(&W.a, false),
			       "    IKE SA: 3600 s (the peer's RESPONDER-LIFETIME)\n"));
	assert_non_null(strstr(show_detail(&W.b, false),
			       "    IKE SA: 3600 s (ours, shorter: sent as RESPONDER-LIFETIME)\n"));
	assert_non_null(strstr(show_detail(&W.a, false), "RESPONDER-LIFETIME phase 1 3600 s"));
}

static void test_phase1_initiator_shorter(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	uint32_t life, nsecs;

	(void)state;
	a.ike_life = 3600;
	b.ike_life = 28800;
	start_looking_at_mm2(&a, &b, &life, &nsecs);
	assert_int_equal(life, 3600);
	assert_int_equal(nsecs, 0); /* no notify: the initiator's is shorter */
	assert_int_equal(W.a.nchild, 1);
	assert_non_null(strstr(show_ike(&W.b), "Remaining lifetime is 3600 seconds\n"));
	assert_non_null(strstr(show_detail(&W.b, false),
			       "    IKE SA: 3600 s (the peer's proposal, shorter than ours)\n"));
	assert_non_null(strstr(show_detail(&W.a, false), "    IKE SA: 3600 s (ours)\n"));
	assert_non_null(strstr(show_detail(&W.a, false), "    status notifies: -\n"));
}

static void test_phase2_responder_lifetime(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	char *d;

	(void)state;
	a.esp_life = 28800;
	b.esp_life = 1800;
	b.esp_kbytes = 100000;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_pair_matches(0);
	/* both sides run the responder's shorter lifetime */
	assert_int_equal(W.a.in[0].life_seconds, 1800);
	assert_int_equal(W.b.in[0].life_seconds, 1800);
	assert_int_equal(W.a.in[0].life_kbytes, 100000);
	assert_int_equal(W.b.in[0].life_kbytes, 100000);
	d = show_detail(&W.a, false);
	assert_non_null(strstr(d, "1800 s, 100000 KB (the peer's RESPONDER-LIFETIME)\n"));
	assert_non_null(strstr(d, "RESPONDER-LIFETIME phase 2 1800 s, 100000 KB"));
	assert_non_null(strstr(show_detail(&W.b, false),
			       "1800 s, 100000 KB (ours, shorter: sent as "
			       "RESPONDER-LIFETIME)\n"));
	/* the initiator's rekey comes before the responder's hard expiry */
	advance(1800u * 1000u);
	assert_true(W.a.nchild >= 2);
}

static void test_phase2_same_lifetime_no_notify(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_non_null(strstr(show_detail(&W.b, false), "(ours, the same as the peer's)\n"));
	assert_non_null(strstr(show_detail(&W.a, false), "    status notifies: -\n"));
}

/* ---- DPD ---- */

static void test_dpd_off_on_peer_shown(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	a.dpd_interval = 30;
	a.dpd_retry = 3; /* only A wants DPD: B sends no DPD vendor ID */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(status(&W.a)->dpd, IKE_DPD_OFF_PEER);
	assert_non_null(strstr(show_status(&W.a), "DPD off: the peer did not announce DPD"));
	assert_non_null(strstr(show_status(&W.a), "(in 28800 s)"));
	assert_int_equal(status(&W.b)->dpd, IKE_DPD_OFF_OURS);
	assert_null(strstr(show_status(&W.b), "DPD off"));
}

static void test_dpd_on_both(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	(void)state;
	a.dpd_interval = b.dpd_interval = 30;
	a.dpd_retry = b.dpd_retry = 3;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(status(&W.a)->dpd, IKE_DPD_ON);
	assert_int_equal(status(&W.b)->dpd, IKE_DPD_ON);
	assert_null(strstr(show_status(&W.a), "DPD off"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_pfs_follows_initiator),
		WORLD_TEST(test_pfs_group_required),
		WORLD_TEST(test_pfs_required_initiator_offers_none),
		WORLD_TEST(test_pfs_weak_group_not_followed),
		WORLD_TEST(test_not_pfs_mismatch),
		WORLD_TEST(test_phase1_responder_lifetime),
		WORLD_TEST(test_phase1_initiator_shorter),
		WORLD_TEST(test_phase2_responder_lifetime),
		WORLD_TEST(test_phase2_same_lifetime_no_notify),
		WORLD_TEST(test_dpd_off_on_peer_shown),
		WORLD_TEST(test_dpd_on_both),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
