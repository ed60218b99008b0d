/* test_ike_reload.c - config changes without collateral damage: two IKE
 * engines in one process (fake transport, seeded randomness, injected
 * clock) with two profiles each, two tunnels up, then reloads.  A profile
 * whose settings changed loses its SAs (Deletes sent) and negotiates again
 * with new SPIs; the other profile keeps its SAs, SPIs and all; the same
 * config again (a reload of an unchanged file, a WAN event) changes
 * nothing.  Also the fingerprint itself (ike/prof_hash.c): what counts as
 * a change and what does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_chain.h"
#include "ike_world.h"
#include "config/model.h"
#include "ike/ike.h"
#include "ike/isakmp.h"
#include "ike/prof_hash.h"
#include "lib/err.h"

/* ---- the fake world (ike_world.c): its IPsec SA pairs by unit ---- */

/* One IPsec SA pair as the data plane saw it. */
struct pair {
	uint32_t in, out;
	unsigned unit;
	bool up;
};

static struct pair pair_at(const struct node *n, int i)
{
	return (struct pair){ n->in[i].spi, n->out[i].spi, n->in[i].ipsec_unit, n->up[i] };
}

/* The one live pair of IPsec<unit> (its index), failing when there is not
 * exactly one. */
static int live(const struct node *n, unsigned unit)
{
	int found = -1, count = 0;

	for (int i = 0; i < n->nchild; i++)
		if (n->up[i] && n->in[i].ipsec_unit == unit) {
			found = i;
			count++;
		}
	if (count != 1)
		fail_msg("IPsec%u has %d live pairs, want 1", unit, count);
	return found;
}

/* ---- configs: two profiles, Aggressive mode (the responder tells them
 * apart by the key-id; Main mode picks by address only) ---- */

struct tunnel {
	const char *prof, *ikepol, *ikep, *ipsecpol, *espp;
	const char *psk, *keyid;
	const char *lnet, *rnet;
	unsigned unit;
};

static const struct tunnel T1_A = { "P1",          "IKEPOL1",
				    "IKEP1",       "IPSECPOL1",
				    "ESPP1",       "first key of tunnel one",
				    "site-a1",     "192.168.1.0",
				    "192.168.2.0", 0 };
static const struct tunnel T2_A = { "P2",           "IKEPOL2",
				    "IKEP2",        "IPSECPOL2",
				    "ESPP2",        "second key of tunnel two",
				    "site-a2",      "192.168.11.0",
				    "192.168.12.0", 1 };

static void add_tunnel(struct kz_config *c, const struct tunnel *t, bool site_a)
{
	struct cfg_chain k;

	assert_true(cfg_chain_add(c, &k, t->ikep, t->ikepol, t->espp, t->ipsecpol, t->prof,
				  (int)t->unit));
	k.ikp->group = KZ_GROUP_ECP256;
	k.pol->mode = KZ_MODE_AGGRESSIVE;
	cfg_chain_psk(k.pol, t->psk);
	if (site_a) {
		k.pol->local_id.type = KZ_ID_KEY_ID;
		strcpy(k.pol->local_id.value, t->keyid);
	} else {
		k.pol->remote_id.type = KZ_ID_KEY_ID;
		strcpy(k.pol->remote_id.value, t->keyid);
	}
	k.ipol->local_ts = pfx(site_a ? t->lnet : t->rnet, 24);
	k.ipol->remote_ts = pfx(site_a ? t->rnet : t->lnet, 24);
	k.ipol->pfs = KZ_GROUP_NONE;
	if (site_a) {
		k.pr->peer_type = KZ_PEER_ADDR;
		k.pr->peer_addr = ip("203.0.113.2");
		k.pr->initiate = KZ_INITIATE_AUTO;
	} else {
		k.pr->peer_type = KZ_PEER_ANY;
		k.pr->initiate = KZ_INITIATE_ON_DEMAND;
	}
}

static struct kz_config *tunnels_cfg(bool site_a)
{
	struct kz_config *c = kz_config_new();

	assert_non_null(c);
	add_tunnel(c, &T1_A, site_a);
	add_tunnel(c, &T2_A, site_a);
	return c;
}

/* Hands a node a new config object, as kzd_reload does (the old one is
 * freed after the engine has moved to the new one). */
static void reload(struct node *n, struct kz_config *c)
{
	struct kz_config *old = n->cfg;

	n->cfg = c;
	ike_engine_set_config(n->e, c);
	kz_config_free(old);
}

static int setup(void **state)
{
	(void)state;
	world_setup(IW_NO_STATS);
	return 0;
}

static bool ike_up(struct node *n, const char *prof)
{
	struct ike_profile_sas s;

	ike_profile_sas(n->e, prof, &s);
	return s.ike_up;
}

/* Both tunnels up, one pair each on both sides, SPIs agreeing. */
static void both_up(void)
{
	W.b.cfg = tunnels_cfg(false);
	W.a.cfg = tunnels_cfg(true);
	ike_engine_set_config(W.b.e, W.b.cfg);
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	advance(3000);
	for (unsigned u = 0; u < 2; u++) {
		int ia = live(&W.a, u), ib = live(&W.b, u);

		assert_int_equal(W.a.in[ia].spi, W.b.out[ib].spi);
		assert_int_equal(W.a.out[ia].spi, W.b.in[ib].spi);
	}
	assert_true(ike_up(&W.a, "P1") && ike_up(&W.a, "P2"));
	assert_true(ike_up(&W.b, "P1") && ike_up(&W.b, "P2"));
}

struct snap {
	struct pair a1, a2, b1, b2;
	unsigned a_ups, a_downs, b_ups, b_downs, a_info, b_info;
};

static struct snap snap(void)
{
	struct snap s = {
		pair_at(&W.a, live(&W.a, 0)),
		pair_at(&W.a, live(&W.a, 1)),
		pair_at(&W.b, live(&W.b, 0)),
		pair_at(&W.b, live(&W.b, 1)),
		(unsigned)W.a.nchild,
		(unsigned)W.a.ndown,
		(unsigned)W.b.nchild,
		(unsigned)W.b.ndown,
		W.a.info_sent,
		W.b.info_sent,
	};
	return s;
}

static void assert_same_pair(struct pair x, struct pair y)
{
	assert_true(x.up && y.up);
	assert_int_equal(x.in, y.in);
	assert_int_equal(x.out, y.out);
}

static void assert_new_pair(const struct pair *old, const struct pair *now)
{
	assert_true(now->up);
	assert_int_not_equal(old->in, now->in);
	assert_int_not_equal(old->out, now->out);
}

/* Tunnel 1 untouched, tunnel 2 made again (SPIs agreeing on both sides). */
static void assert_only_t2_renewed(const struct snap *s0)
{
	struct snap s1 = snap();

	assert_same_pair(s0->a1, s1.a1);
	assert_same_pair(s0->b1, s1.b1);
	assert_new_pair(&s0->a2, &s1.a2);
	assert_new_pair(&s0->b2, &s1.b2);
	assert_int_equal(s1.a2.in, s1.b2.out);
	assert_int_equal(s1.a2.out, s1.b2.in);
	/* exactly one pair went and one came on each side */
	assert_int_equal(s1.a_downs - s0->a_downs, 1);
	assert_int_equal(s1.b_downs - s0->b_downs, 1);
	assert_int_equal(s1.a_ups - s0->a_ups, 1);
	assert_int_equal(s1.b_ups - s0->b_ups, 1);
	assert_int_equal(iw_pairs_up(&W.a), 2);
	assert_int_equal(iw_pairs_up(&W.b), 2);
	assert_true(ike_up(&W.a, "P1") && ike_up(&W.a, "P2"));
	assert_true(ike_up(&W.b, "P1") && ike_up(&W.b, "P2"));
}

/* ---- tests: the engine ---- */

static void test_reload_same_config_changes_nothing(void **state)
{
	struct snap s0, s1;
	struct ike_counters c0, c1;

	(void)state;
	both_up();
	s0 = snap();
	ike_get_counters(W.a.e, &c0);
	/* a WAN event: the same config object again */
	ike_engine_set_config(W.a.e, W.a.cfg);
	ike_engine_set_config(W.b.e, W.b.cfg);
	/* a reload of an unchanged file: an equal, new object */
	reload(&W.a, kz_config_dup(W.a.cfg));
	reload(&W.b, tunnels_cfg(false));
	assert_int_equal(W.nq, 0); /* nothing sent */
	advance(10000);
	s1 = snap();
	ike_get_counters(W.a.e, &c1);
	assert_same_pair(s0.a1, s1.a1);
	assert_same_pair(s0.a2, s1.a2);
	assert_same_pair(s0.b1, s1.b1);
	assert_same_pair(s0.b2, s1.b2);
	assert_int_equal(s1.a_ups, s0.a_ups);
	assert_int_equal(s1.a_downs, s0.a_downs);
	assert_int_equal(s1.b_downs, s0.b_downs);
	assert_int_equal(s1.a_info, s0.a_info);
	assert_int_equal(s1.b_info, s0.b_info);
	assert_int_equal(c1.tx, c0.tx);
}

static void test_reload_lifetime_of_p2(void **state)
{
	struct kz_config *c;
	struct snap s0;
	unsigned b_sent;

	(void)state;
	both_up();
	s0 = snap();
	b_sent = W.b.sent;
	c = tunnels_cfg(true);
	kz_find_ipsec_proposal(c, "ESPP2")->lifetime_time = 3600;
	reload(&W.a, c);
	/* Deletes went out at once: the IPsec SA's and the IKE SA's, and the
	 * first message of the new phase 1 */
	assert_int_equal(W.a.info_sent - s0.a_info, 2);
	assert_true(W.nq >= 3);
	/* P2 is gone on A at once, P1 still up */
	assert_same_pair(s0.a1, pair_at(&W.a, live(&W.a, 0)));
	assert_int_equal(iw_pairs_up(&W.a), 1);
	assert_false(ike_up(&W.a, "P2"));
	pump();
	advance(2000);
	assert_only_t2_renewed(&s0);
	/* the responder only answered: no Delete of its own */
	assert_int_equal(W.b.info_sent, s0.b_info);
	assert_true(W.b.sent > b_sent);
	/* and the new settings came into use: a later reload of the same
	 * config leaves everything alone */
	s0 = snap();
	reload(&W.a, kz_config_dup(W.a.cfg));
	advance(5000);
	assert_same_pair(s0.a2, pair_at(&W.a, live(&W.a, 1)));
	assert_int_equal(W.a.info_sent, s0.a_info);
}

static void test_reload_psk_alone_is_a_change(void **state)
{
	struct kz_config *ca, *cb;
	struct snap s0;

	(void)state;
	both_up();
	s0 = snap();
	ca = tunnels_cfg(true);
	cb = tunnels_cfg(false);
	cfg_chain_psk(kz_find_ike_policy(ca, "IKEPOL2"), "second key of tunnel TWO");
	cfg_chain_psk(kz_find_ike_policy(cb, "IKEPOL2"), "second key of tunnel TWO");
	/* both sites reload before anything crosses */
	reload(&W.b, cb);
	reload(&W.a, ca);
	assert_int_equal(W.a.info_sent - s0.a_info, 2);
	assert_int_equal(W.b.info_sent - s0.b_info, 2);
	pump();
	advance(3000);
	assert_only_t2_renewed(&s0);
	{
		const struct ike_profile_status *st = ike_profile_status(W.a.e, "P2");

		assert_non_null(st);
		assert_int_equal(st->count, 0); /* no failure on the way */
	}
}

/* The console edits the running config in place and calls set_config with
 * the same pointer: the change is still seen. */
static void test_console_edit_in_place(void **state)
{
	struct snap s0;

	(void)state;
	both_up();
	s0 = snap();
	kz_find_ipsec_policy(W.a.cfg, "IPSECPOL2")->replay_window = 128;
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	advance(2000);
	assert_only_t2_renewed(&s0);
}

/* A change on the responder (peer any): it deletes, the initiator comes
 * back by itself; the other tunnel stays. */
static void test_responder_change(void **state)
{
	struct kz_config *c;
	struct snap s0, s1;

	(void)state;
	both_up();
	s0 = snap();
	c = tunnels_cfg(false);
	kz_find_ike_proposal(c, "IKEP1")->lifetime = 7200;
	reload(&W.b, c);
	assert_int_equal(W.b.info_sent - s0.b_info, 2);
	pump();
	advance(5000);
	s1 = snap();
	assert_same_pair(s0.a2, s1.a2);
	assert_same_pair(s0.b2, s1.b2);
	assert_new_pair(&s0.a1, &s1.a1);
	assert_new_pair(&s0.b1, &s1.b1);
	assert_int_equal(s1.a1.in, s1.b1.out);
	assert_int_equal(iw_pairs_up(&W.a), 2);
	assert_int_equal(iw_pairs_up(&W.b), 2);
}

/* An on-demand initiator that had SAs negotiates again at once, without
 * waiting for traffic. */
static void test_on_demand_initiator_comes_back(void **state)
{
	struct kz_config *c;
	struct snap s0;

	(void)state;
	W.b.cfg = tunnels_cfg(false);
	W.a.cfg = tunnels_cfg(true);
	kz_find_profile(W.a.cfg, "P2")->initiate = KZ_INITIATE_ON_DEMAND;
	ike_engine_set_config(W.b.e, W.b.cfg);
	ike_engine_set_config(W.a.e, W.a.cfg);
	assert_int_equal(ike_initiate(W.a.e, "P2"), 0);
	pump();
	advance(3000);
	s0 = snap();
	c = kz_config_dup(W.a.cfg);
	kz_find_ipsec_proposal(c, "ESPP2")->lifetime_kbytes = 100000;
	reload(&W.a, c);
	pump();
	advance(2000);
	assert_only_t2_renewed(&s0);
}

/* ---- tests: the fingerprint ---- */

static void fp(const struct kz_config *c, const char *name, uint8_t out[IKE_PROF_FP_LEN])
{
	assert_int_equal(ike_prof_fingerprint(c, name, out), 0);
}

static void test_fingerprint(void **state)
{
	struct kz_config *c0 = tunnels_cfg(true), *c;
	uint8_t p1[IKE_PROF_FP_LEN], p2[IKE_PROF_FP_LEN], x[IKE_PROF_FP_LEN];
	int err = 0;

	(void)state;
	fp(c0, "P1", p1);
	fp(c0, "P2", p2);
	assert_memory_not_equal(p1, p2, sizeof(p1));
	assert_int_equal(ike_prof_fingerprint(c0, "NOPE", x), KZ_ENOENT);

/* The fingerprint of prof after edit on a copy of c0 equals ref or not. */
#define FP_AFTER(prof, ref, edit, same)                             \
	do {                                                        \
		c = kz_config_dup(c0);                              \
		assert_non_null(c);                                 \
		edit;                                               \
		fp(c, prof, x);                                     \
		if (same)                                           \
			assert_memory_equal(ref, x, sizeof(x));     \
		else                                                \
			assert_memory_not_equal(ref, x, sizeof(x)); \
		kz_config_free(c);                                  \
	} while (0)
#define CHANGED(prof, ref, edit) FP_AFTER(prof, ref, edit, false)
#define SAME(prof, ref, edit) FP_AFTER(prof, ref, edit, true)

	/* each setting that shapes the SAs */
	CHANGED("P2", p2, cfg_chain_psk(kz_find_ike_policy(c, "IKEPOL2"), "another key"));
	CHANGED("P2", p2, kz_find_ike_policy(c, "IKEPOL2")->psk.key[0] ^= 1);
	CHANGED("P2", p2, kz_find_ipsec_proposal(c, "ESPP2")->lifetime_time = 60);
	CHANGED("P2", p2, kz_find_ipsec_proposal(c, "ESPP2")->enc = KZ_ENC_AES_GCM_128);
	CHANGED("P2", p2, kz_find_ike_proposal(c, "IKEP2")->hash = KZ_HASH_SHA1);
	CHANGED("P2", p2, kz_find_ike_policy(c, "IKEPOL2")->mode = KZ_MODE_MAIN);
	CHANGED("P2", p2, kz_find_ike_policy(c, "IKEPOL2")->natt = true);
	CHANGED("P2", p2, kz_find_ike_policy(c, "IKEPOL2")->dpd_interval = 10);
	CHANGED("P2", p2, strcpy(kz_find_ike_policy(c, "IKEPOL2")->local_id.value, "x"));
	CHANGED("P2", p2, kz_find_ipsec_policy(c, "IPSECPOL2")->pfs = KZ_GROUP_MODP2048);
	CHANGED("P2", p2, kz_find_ipsec_policy(c, "IPSECPOL2")->remote_ts.len = 16);
	CHANGED("P2", p2, kz_find_ipsec_policy(c, "IPSECPOL2")->replay_window = 0);
	CHANGED("P2", p2, kz_find_profile(c, "P2")->initiate = KZ_INITIATE_ON_DEMAND);
	CHANGED("P2", p2, kz_find_profile(c, "P2")->peer_addr = ip("203.0.113.3"));
	CHANGED("P2", p2, kz_find_profile(c, "P2")->source_set = false);
	CHANGED("P2", p2, kz_find_ipsec_if(c, 1)->map[0] = 0);
	/* a second proposal appended to the policy */
	CHANGED(
		"P2", p2, do {
			struct kz_ipsec_policy *pp = kz_find_ipsec_policy(c, "IPSECPOL2");
			strcpy(pp->proposals[pp->nproposals++], "ESPP1");
		} while (0));
	/* P2 moves from IPsec1 to IPsec7 */
	CHANGED(
		"P2", p2, do {
			kz_find_ipsec_if(c, 1)->map[0] = 0;
			strcpy(kz_add_ipsec_if(c, 7, &err)->map, "P2");
		} while (0));
	/* a policy the profile names is deleted */
	CHANGED("P2", p2, kz_del_ipsec_policy(c, "IPSECPOL2"));
	/* peer FQDN: by its name */
	CHANGED(
		"P2", p2, do {
			struct kz_ipsec_profile *pr = kz_find_profile(c, "P2");
			pr->peer_type = KZ_PEER_FQDN;
			strcpy(pr->peer_fqdn, "hq.example.net");
		} while (0));

	/* ... and what does not: P1's settings, objects no profile names,
	 * how the key was typed, the interface's other settings */
	SAME("P1", p1, cfg_chain_psk(kz_find_ike_policy(c, "IKEPOL2"), "another key"));
	SAME("P1", p1, kz_find_ipsec_proposal(c, "ESPP2")->lifetime_time = 60);
	SAME("P2", p2, kz_add_ipsec_proposal(c, "UNUSED", &err)->lifetime_time = 60);
	SAME("P2", p2, kz_find_ike_policy(c, "IKEPOL1")->dpd = true);
	SAME(
		"P2", p2, do {
			struct kz_ike_policy *pol = kz_find_ike_policy(c, "IKEPOL2");
			pol->psk.hex = true;
			strcpy(pol->psk.text, "7365636f6e64");
		} while (0));
	SAME("P2", p2, kz_find_ipsec_if(c, 1)->mtu = 1300);
	SAME("P2", p2, kz_find_ipsec_if(c, 1)->shutdown = true);
	SAME("P2", p2, strcpy(c->hostname, "other"));
	/* a stale FQDN behind an address peer is no setting */
	SAME("P2", p2, strcpy(kz_find_profile(c, "P2")->peer_fqdn, "stale.example"));

	/* an FQDN peer: the name counts, not where it resolves */
	{
		uint8_t f1[IKE_PROF_FP_LEN], f2[IKE_PROF_FP_LEN];
		struct kz_ipsec_profile *pr = kz_find_profile(c0, "P2");

		pr->peer_type = KZ_PEER_FQDN;
		strcpy(pr->peer_fqdn, "hq.example.net");
		fp(c0, "P2", f1);
		pr->peer_addr = ip("192.0.2.99");
		fp(c0, "P2", f2);
		assert_memory_equal(f1, f2, sizeof(f1));
		strcpy(pr->peer_fqdn, "hq2.example.net");
		fp(c0, "P2", f2);
		assert_memory_not_equal(f1, f2, sizeof(f1));
	}
#undef CHANGED
#undef SAME
#undef FP_AFTER
	kz_config_free(c0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_reload_same_config_changes_nothing),
		WORLD_TEST(test_reload_lifetime_of_p2),
		WORLD_TEST(test_reload_psk_alone_is_a_change),
		WORLD_TEST(test_console_edit_in_place),
		WORLD_TEST(test_responder_change),
		WORLD_TEST(test_on_demand_initiator_comes_back),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
