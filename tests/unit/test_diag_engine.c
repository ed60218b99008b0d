/* test_diag_engine.c - the troubleshooter (src/diag/) from fixtures: one
 * snapshot per check id and outcome, aggressive and main mode, initiator
 * and responder; the first [NG] id of each; the text and JSON layouts;
 * golden outputs in English and Japanese (tests/unit/data/diag/NAME.{en,ja}.out,
 * rewritten with KZ_UPDATE_GOLDEN=1); the .mo reader on broken input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/model.h"
#include "diag/diag.h"
#include "lib/err.h"
#include "lib/strbuf.h"

#include "cfg_chain.h"

#define T0 1700000000 /* a fixed "now" */

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct kz_prefix pfx(const char *s, unsigned len)
{
	struct kz_prefix p = { .set = true, .addr = ip(s), .len = (uint8_t)len };

	return p;
}

/* Site A (initiator, aggressive, NAT-T, key-id site-a) or site B
 * (responder, remote-id site-a), as in config-language.md. */
static struct kz_config *site(bool a, bool aggressive)
{
	struct kz_config *c = kz_config_new();
	struct cfg_chain k;
	struct kz_route rt = { 0 };

	assert_non_null(c);
	c->mobile.present = true;
	strcpy(c->mobile.device, "wan0");
	assert_true(cfg_chain_add(c, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", "HQ", 0));
	k.pol->mode = aggressive ? KZ_MODE_AGGRESSIVE : KZ_MODE_MAIN;
	cfg_chain_psk(k.pol, "correct horse battery staple");
	if (aggressive) {
		k.pol->natt = true;
		if (a) {
			k.pol->local_id.type = KZ_ID_KEY_ID;
			strcpy(k.pol->local_id.value, "site-a");
		} else {
			k.pol->remote_id.type = KZ_ID_KEY_ID;
			strcpy(k.pol->remote_id.value, "site-a");
		}
	}
	k.ipol->local_ts = pfx(a ? "192.168.1.0" : "192.168.2.0", 24);
	k.ipol->remote_ts = pfx(a ? "192.168.2.0" : "192.168.1.0", 24);
	if (a) {
		k.pr->peer_type = KZ_PEER_ADDR;
		k.pr->peer_addr = ip("203.0.113.2");
	} else if (aggressive) {
		k.pr->peer_type = KZ_PEER_ANY;
	} else {
		k.pr->peer_type = KZ_PEER_ADDR;
		k.pr->peer_addr = ip("198.51.100.2");
	}
	rt.dest = k.ipol->remote_ts;
	rt.via = KZ_VIA_IPSEC;
	rt.ipsec_unit = 0;
	assert_int_equal(kz_route_add(c, &rt), 0);
	return c;
}

/* A fixture: config, snapshot and the one profile state. */
struct fx {
	struct kz_config *cfg;
	struct diag_snapshot s;
	struct diag_ipsec_if ifs[1];
	struct diag_route routes[1];
	struct diag_profile_state st;
};

/* Healthy: WAN up with addr, IPsec0 up, SAs up, route, traffic. */
static void fx_init(struct fx *f, bool a, bool aggressive, const char *addr)
{
	memset(f, 0, sizeof(*f));
	f->cfg = site(a, aggressive);
	f->s.cfg = f->cfg;
	f->s.now = T0;
	f->s.mobile.exists = f->s.mobile.admin_up = f->s.mobile.lower_up = true;
	f->s.mobile.has_addr = true;
	f->s.mobile.addr = ip(addr);
	f->s.mobile.plen = 24;
	f->ifs[0].unit = 0;
	f->ifs[0].exists = f->ifs[0].admin_up = true;
	f->s.ifs = f->ifs;
	f->s.nifs = 1;
	f->routes[0].dest = pfx(a ? "192.168.2.0" : "192.168.1.0", 24);
	f->s.routes = f->routes;
	f->s.nroutes = 1;
	f->s.routes_known = true;
	strcpy(f->st.profile, "HQ");
	f->st.known = true;
	f->st.ike_up = f->st.ipsec_up = true;
	f->st.ike_natt_floated = aggressive && a;
	f->st.nat_known = true;
	f->st.nat_local = aggressive && a && addr[0] == '1' && addr[1] == '0' && addr[2] == '0';
	f->st.spi_in = 0x0ed62f83;
	f->st.spi_out = 0x5bf34f68;
	f->st.local_ts = pfx(a ? "192.168.1.0" : "192.168.2.0", 24);
	f->st.remote_ts = pfx(a ? "192.168.2.0" : "192.168.1.0", 24);
	f->st.out_packets = 12;
	f->st.in_packets = 12;
	f->st.ipsec_up_since = T0 - 100;
	f->st.out_last = f->st.in_last = T0 - 5;
	f->st.outside_known = true;
	f->s.states = &f->st;
	f->s.nstates = 1;
}

static void fx_down(struct fx *f)
{
	f->st.ike_up = f->st.ipsec_up = false;
	f->st.nat_known = false;
	f->st.nat_local = false;
}

/* A fixture with no SA up yet: fx_init then fx_down. */
static void fx_init_down(struct fx *f, bool a, bool aggressive, const char *addr)
{
	fx_init(f, a, aggressive, addr);
	fx_down(f);
}

static void fx_fail(struct fx *f, enum diag_fail cls, int phase, const char *detail)
{
	f->st.fail = cls;
	f->st.phase = phase;
	f->st.count = 3;
	f->st.first_wall = T0 - 60;
	f->st.last_wall = T0 - 1;
	snprintf(f->st.detail, sizeof(f->st.detail), "%s", detail);
}

static void fx_free(struct fx *f)
{
	kz_config_free(f->cfg);
}

/* Runs the engine and returns the first NG id (copied). */
static const char *first_ng(struct fx *f, struct diag_report *rep)
{
	static char id[DIAG_ID_MAX];

	assert_int_equal(diag_run(&f->s, NULL, rep), 0);
	assert_int_equal(rep->n, 1);
	snprintf(id, sizeof(id), "%s", diag_first_ng(rep, 0));
	return id;
}

static void expect_first(struct fx *f, const char *want)
{
	struct diag_report rep;
	const char *got = first_ng(f, &rep);

	if (strcmp(got, want)) {
		struct strbuf sb;

		sb_init(&sb);
		diag_render_text(&rep, NULL, &sb);
		print_error("expected first NG '%s', got '%s':\n%s", want, got, sb_str(&sb));
		sb_free(&sb);
	}
	assert_string_equal(got, want);
	diag_report_free(&rep);
}

/* The last check of a fixture: expect_first, then fx_free. */
static void expect_first_free(struct fx *f, const char *want)
{
	expect_first(f, want);
	fx_free(f);
}

static const struct diag_check *find_check(const struct diag_report *r, const char *id)
{
	for (size_t i = 0; i < r->v[0].nchecks; i++)
		if (!strcmp(r->v[0].checks[i].id, id))
			return &r->v[0].checks[i];
	return NULL;
}

/* Runs the engine on f into rep; the check id of its one profile must be
 * there, and is returned. */
static const struct diag_check *run_find(struct fx *f, struct diag_report *rep, const char *id)
{
	const struct diag_check *c;

	assert_int_equal(diag_run(&f->s, NULL, rep), 0);
	c = find_check(rep, id);
	assert_non_null(c);
	return c;
}

/* ---- healthy ---- */

static void test_healthy_both_roles(void **state)
{
	struct fx f;
	struct diag_report rep;
	struct strbuf sb;

	(void)state;
	fx_init(&f, true, true, "100.64.0.2");
	assert_string_equal(first_ng(&f, &rep), "");
	assert_int_equal(rep.v[0].problems, 0);
	assert_string_equal(rep.v[0].role, "initiator");
	assert_non_null(find_check(&rep, "A3"));
	assert_int_equal(find_check(&rep, "A3")->result, DIAG_OK);
	assert_int_equal(find_check(&rep, "A8")->result, DIAG_OK);
	sb_init(&sb);
	diag_render_text(&rep, NULL, &sb);
	assert_non_null(strstr(sb_str(&sb), "HQ: no problem found\n"));
	assert_non_null(strstr(
		sb_str(&sb),
		"[OK] A1 SIM contract: local 100.64.0.2 (shared address contract, RFC 6598)"));
	assert_non_null(strstr(sb_str(&sb), "[WARN] aggressive mode with a pre-shared key: ~"));
	sb_free(&sb);
	diag_report_free(&rep);
	fx_free(&f);

	fx_init(&f, false, true, "203.0.113.2");
	assert_string_equal(first_ng(&f, &rep), "");
	assert_string_equal(rep.v[0].role, "responder");
	diag_report_free(&rep);
	fx_free(&f);

	fx_init(&f, true, false, "198.51.100.2");
	assert_string_equal(first_ng(&f, &rep), "");
	assert_string_equal(rep.v[0].mode, "main");
	assert_non_null(find_check(&rep, "M1"));
	assert_non_null(find_check(&rep, "M3"));
	assert_null(find_check(&rep, "A7"));
	diag_report_free(&rep);
	fx_free(&f);
}

/* ---- A1 / M1 ---- */

static void test_a1(void **state)
{
	struct fx f;

	(void)state;
	/* A1.2: responder with a shared address */
	fx_init_down(&f, false, true, "100.64.0.9");
	expect_first_free(&f, "A1.2");
	/* A1.1: initiator behind CGN, peer configured private */
	fx_init_down(&f, true, true, "100.64.0.2");
	f.cfg->profiles.v[0].peer_addr = ip("192.168.50.1");
	expect_first_free(&f, "A1.1");
	/* NAT-D overrides a global-looking address (responder seen behind NAT) */
	fx_init_down(&f, false, true, "203.0.113.2");
	f.st.nat_known = f.st.nat_local = true;
	expect_first_free(&f, "A1.2");
}

static void test_m1(void **state)
{
	struct fx f;

	(void)state;
	fx_init_down(&f, true, false, "100.64.0.2");
	expect_first_free(&f, "M1.1");
	fx_init_down(&f, false, false, "203.0.113.2");
	f.cfg->profiles.v[0].peer_type = KZ_PEER_ANY;
	expect_first_free(&f, "M1.2");
}

/* ---- A2 / M2 ---- */

static void test_a2(void **state)
{
	struct fx f;
	struct diag_report rep;

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	f.s.mobile.admin_up = false;
	f.s.mobile.has_addr = false;
	expect_first(&f, "A2.1");
	/* the A4 line follows with the router's exact text */
	run_find(&f, &rep, "A4.1");
	assert_string_equal(find_check(&rep, "A4.1")->text,
			    "sourced I/F don't have valid address [MobileEthernet0.0]");
	assert_int_equal(find_check(&rep, "A1")->result, DIAG_NA);
	assert_int_equal(find_check(&rep, "A5")->result, DIAG_NA);
	diag_report_free(&rep);
	fx_free(&f);

	fx_init_down(&f, true, true, "100.64.0.2");
	f.s.mobile.has_addr = false;
	expect_first_free(&f, "A2.2");

	fx_init_down(&f, true, false, "198.51.100.2");
	f.s.mobile.admin_up = false;
	f.s.mobile.has_addr = false;
	expect_first_free(&f, "M2.1");
}

/* The WAN lost its address under established SAs: the engine keeps them
 * (to make them again when it returns) but nothing passes.  A2.2 is the
 * cause and says the SAs are down; A3 must not say "established". */
static void test_a2_sas_kept_down(void **state)
{
	struct fx f;
	struct diag_report rep;
	const struct diag_check *c;

	(void)state;
	fx_init(&f, true, true, "100.64.0.2");
	f.s.mobile.has_addr = false;
	f.st.sas_down = true; /* ike_up and ipsec_up stay true */
	expect_first(&f, "A2.2");
	c = run_find(&f, &rep, "A2.2");
	assert_string_equal(c->evidence,
			    "the interface is up without an address; the SAs of HQ "
			    "are kept but down until it has an address again");
	c = find_check(&rep, "A3.3");
	assert_non_null(c);
	assert_int_equal(c->result, DIAG_NA);
	assert_string_equal(c->text,
			    "SAs kept but down: MobileEthernet0.0 has no usable address "
			    "(see above)");
	assert_null(find_check(&rep, "A3"));
	assert_non_null(find_check(&rep, "A4.1"));
	diag_report_free(&rep);
	fx_free(&f);

	/* shut down by hand: A2.1, with the same evidence */
	fx_init(&f, true, false, "198.51.100.2");
	f.s.mobile.admin_up = false;
	f.s.mobile.has_addr = false;
	f.st.sas_down = true;
	expect_first(&f, "M2.1");
	assert_int_equal(diag_run(&f.s, NULL, &rep), 0);
	assert_string_equal(find_check(&rep, "M2.1")->evidence,
			    "the SAs of HQ are kept but down until it has an address again");
	assert_non_null(find_check(&rep, "M3.3"));
	diag_report_free(&rep);
	fx_free(&f);
}

/* ---- A3 is state only ---- */

static void test_a3_never_ng(void **state)
{
	struct fx f;
	struct diag_report rep;

	(void)state;
	fx_init(&f, true, true, "100.64.0.2");
	f.st.ipsec_up = false;
	fx_fail(&f, DIAG_FAIL_TS_MISMATCH, 2,
		"traffic selector mismatch: the peer said INVALID-ID-INFORMATION");
	run_find(&f, &rep, "A3.2");
	assert_int_equal(find_check(&rep, "A3.2")->result, DIAG_NA);
	assert_string_equal(diag_first_ng(&rep, 0), "A5.3");
	diag_report_free(&rep);
	fx_free(&f);
}

/* A5.3 for an address range the peer sent, and for several pairs */
static void test_a5_3_range_and_pairs(void **state)
{
	struct fx f;
	struct diag_report rep;
	const struct diag_check *c;

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	f.st.ike_up = true;
	fx_fail(&f, DIAG_FAIL_TS_MISMATCH, 2,
		"traffic selectors: the peer sent an address range that is not a prefix "
		"(IDci 192.168.1.10-192.168.1.20, IDcr (prefix)); only prefixes can be taken");
	strcpy(f.st.id_received, "IDci 192.168.1.10-192.168.1.20, IDcr (prefix)");
	strcpy(f.st.id_expected, "192.168.2.0/24 -> 192.168.1.0/24");
	c = run_find(&f, &rep, "A5.3");
	assert_int_equal(c->result, DIAG_NG);
	assert_non_null(strstr(c->text, "address range, not a prefix"));
	assert_non_null(strstr(c->cause, "192.168.1.10-192.168.1.20"));
	diag_report_free(&rep);
	/* several pairs: what the peer asked and this site's pairs */
	f.cfg->ipsec_policies.v[0].nsel = 1;
	f.cfg->ipsec_policies.v[0].sel[0].local = f.cfg->ipsec_policies.v[0].local_ts;
	f.cfg->ipsec_policies.v[0].sel[0].remote = f.cfg->ipsec_policies.v[0].remote_ts;
	fx_fail(&f, DIAG_FAIL_TS_MISMATCH, 2, "traffic selectors not mirrored: ...");
	strcpy(f.st.id_received, "10.2.0.0/16 -> 10.1.0.0/16");
	strcpy(f.st.id_expected, "192.168.2.0/24 -> 192.168.1.0/24, 10.3.0.0/16 -> 10.1.0.0/16");
	c = run_find(&f, &rep, "A5.3");
	assert_non_null(strstr(c->text, "the peer asked for 10.2.0.0/16 -> 10.1.0.0/16"));
	assert_non_null(strstr(c->cause, "10.3.0.0/16 -> 10.1.0.0/16"));
	diag_report_free(&rep);
	fx_free(&f);
}

/* ---- A4 ---- */

static void test_a4(void **state)
{
	struct fx f;

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	f.ifs[0].admin_up = false;
	expect_first_free(&f, "A4.2");

	fx_init_down(&f, true, true, "100.64.0.2");
	f.cfg->ipsec_ifs.v[0].map[0] = 0;
	expect_first_free(&f, "A4.3");

	fx_init_down(&f, false, true, "203.0.113.2");
	strcpy(f.cfg->profiles.v[0].ipsec_policy, "NOPE");
	expect_first_free(&f, "A4.4");

	fx_init_down(&f, true, true, "100.64.0.2");
	strcpy(f.cfg->profiles.v[0].ike_policy, "NOPE");
	expect_first_free(&f, "A4.5");
}

/* ---- A5 from what IKE saw ---- */

static void test_a5(void **state)
{
	struct fx f;
	struct diag_report rep;
	const struct diag_check *c;

	(void)state;
	/* responder: an unexpected key-id */
	fx_init_down(&f, false, true, "203.0.113.2");
	fx_fail(&f, DIAG_FAIL_ID_MISMATCH, 1,
		"ID mismatch: an initiator at 198.51.100.1 sent key-id site-x");
	strcpy(f.st.id_received, "key-id site-x");
	strcpy(f.st.id_expected, "key-id site-a");
	expect_first(&f, "A5.1");
	c = run_find(&f, &rep, "A5.1");
	assert_string_equal(c->text,
			    "key-id differs: an initiator sent key-id site-x, this "
			    "profile expects key-id site-a");
	assert_string_equal(c->remedy[c->nremedy - 1], "remote-id key-id site-x");
	diag_report_free(&rep);
	fx_free(&f);

	/* responder with local-id instead of remote-id: A5.2 */
	fx_init_down(&f, false, true, "203.0.113.2");
	f.cfg->ike_policies.v[0].remote_id.type = KZ_ID_NONE;
	f.cfg->ike_policies.v[0].local_id.type = KZ_ID_KEY_ID;
	strcpy(f.cfg->ike_policies.v[0].local_id.value, "site-a");
	fx_fail(&f, DIAG_FAIL_ID_MISMATCH, 1, "ID mismatch");
	expect_first_free(&f, "A5.2");

	/* initiator: selectors, proposals, keys */
	fx_init_down(&f, true, true, "100.64.0.2");
	f.st.ike_up = true;
	fx_fail(&f, DIAG_FAIL_TS_MISMATCH, 2, "traffic selector mismatch");
	expect_first(&f, "A5.3");
	fx_fail(&f, DIAG_FAIL_NO_PROPOSAL, 1,
		"no proposal chosen: the peer said NO-PROPOSAL-CHOSEN");
	f.st.ike_up = false;
	strcpy(f.st.our_offer, "aes-cbc-256/sha2-256/modp2048");
	expect_first(&f, "A5.4");
	fx_fail(&f, DIAG_FAIL_PSK_MISMATCH, 1,
		"pre-shared key mismatch: the peer's HASH_R in message 2 did not verify (the "
		"pre-shared keys differ)");
	expect_first(&f, "A5.5");
	c = run_find(&f, &rep, "A5.5");
	assert_string_equal(c->remedy[0], "ike policy IKEPOL");
	assert_string_equal(c->remedy[1], "pre-shared-key ascii <the key the peer uses>");
	/* the key itself never appears */
	assert_null(strstr(c->cause, "horse"));
	diag_report_free(&rep);
	/* a notify it cannot classify: [--], no NG, says how to find out */
	fx_fail(&f, DIAG_FAIL_PEER_NOTIFY, 1, "peer notify: the peer said DOI-NOT-SUPPORTED");
	strcpy(f.st.notify_name, "DOI-NOT-SUPPORTED");
	expect_first_free(&f, "");

	/* nothing seen yet: [--] with a way to get the evidence */
	fx_init_down(&f, true, true, "198.51.100.2");
	c = run_find(&f, &rep, "A5");
	assert_int_equal(c->result, DIAG_NA);
	assert_string_equal(c->remedy[0], "clear ike sa");
	assert_string_equal(diag_first_ng(&rep, 0), "");
	diag_report_free(&rep);
	fx_free(&f);
}

/* With the peer's config the comparison decides (kz_check_cross). */
/* A phase 2 mismatch in PFS alone is A5.4 naming PFS; a peer that did
 * not announce DPD is a warning that says what it means for recovery. */
static void test_a5_pfs_and_dpd_warning(void **state)
{
	struct diag_report rep;
	const struct diag_check *c;
	struct fx f;

	(void)state;
	fx_init_down(&f, false, false, "203.0.113.2");
	f.st.ike_up = true;
	fx_fail(&f, DIAG_FAIL_NO_PROPOSAL, 2,
		"no proposal chosen: PFS differs: our IPsec policy has pfs ecp256, the peer "
		"offered pfs modp2048");
	f.st.pfs_mismatch = true;
	f.st.pfs_ours = KZ_GROUP_ECP256;
	f.st.pfs_theirs = KZ_GROUP_MODP2048;
	assert_string_equal(first_ng(&f, &rep), "A5.4");
	c = find_check(&rep, "A5.4");
	assert_non_null(strstr(c->text,
			       "PFS differs from the peer: this site has pfs ecp256, "
			       "the peer offered pfs modp2048"));
	assert_string_equal(c->remedy[1], "pfs modp2048");
	diag_report_free(&rep);
	fx_free(&f);

	fx_init(&f, true, false, "198.51.100.2");
	f.st.dpd_off_peer = true;
	f.st.dpd_recovery_s = 3500;
	assert_int_equal(diag_run(&f.s, NULL, &rep), 0);
	assert_int_equal(rep.v[0].nwarnings, 1);
	assert_non_null(strstr(rep.v[0].warnings[0], "DPD off: the peer did not announce DPD"));
	assert_non_null(strstr(rep.v[0].warnings[0], "(in 3500 s)"));
	diag_report_free(&rep);
	fx_free(&f);
}

static void test_a5_with_peer_config(void **state)
{
	struct fx f;
	struct kz_config *peer = site(false, true);

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	strcpy(peer->ike_policies.v[0].remote_id.value, "site-z");
	f.s.peer_cfg = peer;
	f.s.peer_name = "site-b.conf";
	expect_first_free(&f, "A5.1");
	kz_config_free(peer);
}

/* ---- judged from measurements and records (troubleshooting.md,
 * "Extensions") ---- */

static char *render(struct fx *f, const struct diag_lang *L, struct diag_report *rep)
{
	static char text[16384];
	struct strbuf sb;

	assert_int_equal(diag_run(&f->s, L, rep), 0);
	sb_init(&sb);
	diag_render_text(rep, L, &sb);
	snprintf(text, sizeof(text), "%s", sb_str(&sb));
	sb_free(&sb);
	return text;
}

static void test_closed_network(void **state)
{
	struct fx f;
	struct diag_report rep;
	const char *t;

	(void)state;
	/* both on 100.64/10, no NAT measured, IKE stays on UDP 500: healthy */
	fx_init(&f, true, true, "100.64.0.2");
	f.cfg->profiles.v[0].peer_addr = ip("100.64.0.9");
	f.st.nat_known = true;
	f.st.nat_local = f.st.nat_peer = false;
	f.st.ike_natt_floated = false;
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "");
	assert_int_equal(diag_verdict(&rep), DIAG_VERDICT_OK);
	assert_non_null(strstr(t,
			       "[OK] A1 SIM contract: local 100.64.0.2 (shared address "
			       "contract, RFC 6598), initiator (peer 100.64.0.9)\n"
			       "    evidence: a private or shared address contract reached "
			       "without NAT: a closed network of the carrier; NAT-D: no NAT "
			       "between the sites\n"));
	assert_non_null(strstr(t, "[OK] A7 no NAT between the sites (NAT-D)\n"));
	assert_non_null(strstr(t, "HQ: no problem found\n"));
	diag_report_free(&rep);
	fx_free(&f);
	/* the responder of the same closed network */
	fx_init(&f, false, true, "100.64.0.9");
	f.st.nat_known = true;
	expect_first_free(&f, "");
	/* down and never reached: the contract is the suspect */
	fx_init_down(&f, true, true, "100.64.0.2");
	f.cfg->profiles.v[0].peer_addr = ip("100.64.0.9");
	expect_first_free(&f, "A1.1");
}

static void half(struct fx *f, bool initiator, bool aggressive, int phase, unsigned msg)
{
	struct diag_exch *h = &f->st.halfopen;

	h->set = true;
	h->initiator = initiator;
	h->aggressive = aggressive;
	h->phase = phase;
	h->msg_sent = msg;
	h->tries = 1;
	h->peer = ip("198.51.100.1");
	h->peer_port = 4500;
	snprintf(h->peer_id, sizeof(h->peer_id), "key-id site-a");
	h->first_wall = T0 - 30;
	h->last_wall = T0 - 15;
	h->count = 2;
}

static void test_responder_half_open(void **state)
{
	struct fx f;
	struct diag_report rep;
	const char *t;

	(void)state;
	/* aggressive, AM2 sent, no AM3: the initiator rejected our hash */
	fx_init_down(&f, false, true, "203.0.113.2");
	half(&f, false, true, 1, 2);
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "A5.5");
	assert_int_equal(diag_verdict(&rep), DIAG_VERDICT_NG);
	assert_non_null(strstr(t, "the initiator did not send message 3 after our message 2"));
	assert_non_null(strstr(t, "exchange with 198.51.100.1:4500 (key-id site-a) started"));
	assert_null(strstr(t, "(A5.1)")); /* the ID was the one expected */
	assert_non_null(strstr(t, "Aggressive mode message 2 sent 1 time(s), no message 3"));
	assert_non_null(strstr(t, "[OK] A6 an initiator reached this site"));
	diag_report_free(&rep);
	/* a profile that takes any ID: A5.1 is the other possible cause */
	f.cfg->ike_policies.v[0].remote_id.type = KZ_ID_NONE;
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "A5.5");
	assert_non_null(strstr(t, "(A5.1)"));
	diag_report_free(&rep);
	fx_free(&f);
	/* main mode, the initiator stopped after our MM4 */
	fx_init_down(&f, false, false, "203.0.113.2");
	half(&f, false, false, 1, 4);
	expect_first_free(&f, "A6.2");
	/* main mode initiator: MM5 unanswered -> A5.5 */
	fx_init_down(&f, true, false, "198.51.100.2");
	fx_fail(&f, DIAG_FAIL_NO_ANSWER, 1, "no answer: Main mode message 5 retransmitted");
	half(&f, true, false, 1, 5);
	f.st.halfopen.last_wall = f.st.last_wall;
	expect_first_free(&f, "A5.5");
	/* Quick Mode answered by us, never confirmed */
	fx_init(&f, false, true, "203.0.113.2");
	f.st.ipsec_up = false;
	half(&f, false, true, 2, 2);
	expect_first_free(&f, "A5.4");
}

static void test_in_flight(void **state)
{
	struct fx f;
	struct diag_report rep;
	const char *t;
	struct diag_exch *h;

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	h = &f.st.inflight;
	h->set = h->initiator = h->aggressive = true;
	h->phase = 1;
	h->msg_sent = 1;
	h->tries = 2;
	h->peer = ip("203.0.113.2");
	h->peer_port = 500;
	h->first_wall = T0 - 3;
	h->last_wall = T0;
	f.st.ike_negotiating = true;
	/* one retransmission: too early to say */
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "");
	assert_int_equal(diag_verdict(&rep), DIAG_VERDICT_UNKNOWN);
	assert_null(strstr(t, "no problem found"));
	assert_non_null(strstr(t, "HQ: the tunnel is down, cause not found: negotiating now"));
	diag_report_free(&rep);
	/* the second retransmission unanswered: judged at once */
	h->tries = 3;
	h->first_wall = T0 - 7;
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "A6.2");
	assert_non_null(strstr(t,
			       "[NG] A6.2 no reply from 203.0.113.2 to 3 transmissions over "
			       "7 s (still trying)\n"));
	diag_report_free(&rep);
	/* an older failure of another kind is not the verdict any more */
	fx_fail(&f, DIAG_FAIL_PSK_MISMATCH, 1, "pre-shared key mismatch");
	f.st.last_wall = T0 - 20;
	expect_first_free(&f, "A6.2");
	/* Quick Mode unanswered under an IKE SA that is up: the peer answers
	 * phase 1, so no A6 verdict (phase 2 gets its own record) */
	fx_init(&f, true, true, "100.64.0.2");
	f.st.ipsec_up = false;
	h = &f.st.inflight;
	h->set = h->initiator = h->aggressive = true;
	h->phase = 2;
	h->msg_sent = 1;
	h->tries = 4;
	h->first_wall = T0 - 14;
	h->last_wall = T0;
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "");
	assert_non_null(strstr(t, "[OK] A6 the peer answers (IKE SA up)\n"));
	assert_non_null(strstr(t, "HQ: the tunnel is down, cause not found: negotiating now"));
	diag_report_free(&rep);
	fx_free(&f);
}

static void test_stale_superseded(void **state)
{
	struct fx f;
	struct diag_report rep;
	const char *t;
	struct diag_exch *h;

	(void)state;
	/* an old "no answer", then a newer negotiation that got further */
	fx_init_down(&f, true, true, "100.64.0.2");
	fx_fail(&f, DIAG_FAIL_NO_ANSWER, 1, "no answer: Aggressive mode message 1");
	f.st.last_wall = T0 - 40;
	h = &f.st.inflight;
	h->set = h->initiator = h->aggressive = true;
	h->phase = 2;
	h->msg_sent = 1;
	h->tries = 1;
	h->peer = ip("203.0.113.2");
	h->first_wall = T0 - 2;
	h->last_wall = T0;
	f.st.ike_up = true;
	t = render(&f, NULL, &rep);
	assert_string_equal(diag_first_ng(&rep, 0), "");
	assert_null(strstr(t, "A6.2"));
	assert_null(strstr(t, "no problem found"));
	assert_int_equal(diag_verdict(&rep), DIAG_VERDICT_UNKNOWN);
	diag_report_free(&rep);
	fx_free(&f);
	/* a newer half-open exchange supersedes an older failure */
	fx_init_down(&f, false, true, "203.0.113.2");
	fx_fail(&f, DIAG_FAIL_ID_MISMATCH, 1, "ID mismatch");
	snprintf(f.st.id_received, sizeof(f.st.id_received), "key-id site-x");
	f.st.last_wall = T0 - 100;
	half(&f, false, true, 1, 2);
	expect_first_free(&f, "A5.5");
}

static void test_never_no_problem_while_down(void **state)
{
	struct fx f;
	struct diag_report rep;
	const char *t;

	(void)state;
	/* a responder nobody has reached yet */
	fx_init_down(&f, false, true, "203.0.113.2");
	t = render(&f, NULL, &rep);
	assert_int_equal(rep.v[0].problems, 0);
	assert_null(strstr(t, "no problem found"));
	assert_non_null(strstr(t,
			       "HQ: the tunnel is down, cause not found: no initiator has "
			       "reached this site; not judgeable here: A5, A6"));
	assert_int_equal(diag_verdict(&rep), DIAG_VERDICT_UNKNOWN);
	diag_report_free(&rep);
	fx_free(&f);
	/* an IPsec interface shut down is an A4 [NG], not "down, unknown" */
	fx_init_down(&f, true, true, "100.64.0.2");
	f.ifs[0].admin_up = false;
	expect_first_free(&f, "A4.2");
}

/* ---- A6 ---- */

static void test_a6(void **state)
{
	struct fx f;

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	fx_fail(&f, DIAG_FAIL_NO_ANSWER, 1,
		"no answer: Aggressive mode message 1 retransmitted 5 times without a reply");
	expect_first(&f, "A6.2");
	/* a responder address that is private: A6.1 - but A1.1 comes first
	 * when this site is behind NAT too, so from a global site */
	fx_free(&f);
	fx_init_down(&f, true, true, "198.51.100.2");
	fx_fail(&f, DIAG_FAIL_NO_ANSWER, 1, "no answer");
	f.cfg->profiles.v[0].peer_addr = ip("100.64.9.9");
	expect_first_free(&f, "A6.1");
	/* main mode: A6.2 only */
	fx_init_down(&f, true, false, "198.51.100.2");
	fx_fail(&f, DIAG_FAIL_NO_ANSWER, 1, "no answer");
	f.cfg->profiles.v[0].peer_addr = ip("100.64.9.9");
	expect_first_free(&f, "A6.2");
}

/* ---- A7 ---- */

static void test_a7(void **state)
{
	struct fx f;

	(void)state;
	/* behind CGN without nat-traversal */
	fx_init_down(&f, true, true, "100.64.0.2");
	f.cfg->ike_policies.v[0].natt = false;
	fx_fail(&f, DIAG_FAIL_NO_ANSWER, 2, "no answer: Quick Mode message 1 retransmitted");
	expect_first(&f, "A6.2"); /* A6 before A7: IKE got no answer at all */
	fx_free(&f);
	fx_init_down(&f, true, true, "100.64.0.2");
	f.cfg->ike_policies.v[0].natt = false;
	expect_first_free(&f, "A7.1");
	/* NAT-T announced, the peer did not take it: still on UDP 500 */
	fx_init(&f, true, true, "100.64.0.2");
	f.st.ike_natt_floated = false;
	f.st.ipsec_up = false;
	expect_first_free(&f, "A7.1");
	/* the responder saw the initiator behind NAT and has no NAT-T */
	fx_init(&f, false, true, "203.0.113.2");
	f.cfg->ike_policies.v[0].natt = false;
	f.st.nat_peer = true;
	expect_first_free(&f, "A7.1");
}

/* ---- A8 ---- */

static void test_a8(void **state)
{
	struct fx f;
	struct diag_report rep;

	(void)state;
	fx_init(&f, true, true, "100.64.0.2");
	f.s.nroutes = 0;
	expect_first(&f, "A8.1");
	assert_int_equal(diag_run(&f.s, NULL, &rep), 0);
	assert_string_equal(find_check(&rep, "A8.1")->remedy[0], "ip route 192.168.2.0/24 IPsec0");
	diag_report_free(&rep);
	/* a route through another interface does not count */
	f.s.nroutes = 1;
	f.routes[0].unit = 1;
	expect_first(&f, "A8.1");
	f.routes[0].unit = 0;
	f.st.outside_drops = 7;
	expect_first(&f, "A8.2");
	f.st.outside_known = false; /* not judged without the baseline */
	expect_first(&f, "");
	f.st.outside_drops = 0;
	f.st.in_packets = 0;
	f.st.in_last = 0;
	f.st.out_last = T0 - 2;
	expect_first(&f, "A8.3");
	/* replies stopped 30 s ago while packets still go out */
	f.st.in_packets = 5;
	f.st.in_last = T0 - 40;
	expect_first(&f, "A8.3");
	/* just came up: not yet "a while" */
	f.st.in_packets = 0;
	f.st.in_last = 0;
	f.st.ipsec_up_since = T0 - 5;
	expect_first(&f, "");
	/* routes unreadable: [--] */
	f.s.routes_known = false;
	assert_int_equal(diag_run(&f.s, NULL, &rep), 0);
	assert_int_equal(find_check(&rep, "A8")->result, DIAG_NA);
	diag_report_free(&rep);
	/* SAs down: A8 not judged */
	fx_down(&f);
	f.s.routes_known = true;
	f.s.nroutes = 0;
	assert_int_equal(diag_run(&f.s, NULL, &rep), 0);
	assert_null(find_check(&rep, "A8.1"));
	assert_int_equal(find_check(&rep, "A8")->result, DIAG_NA);
	diag_report_free(&rep);
	fx_free(&f);
}

/* ---- output layouts ---- */

static void test_text_and_json(void **state)
{
	struct fx f;
	struct diag_report rep;
	struct strbuf sb;
	const char *t;

	(void)state;
	fx_init_down(&f, true, true, "100.64.0.2");
	fx_fail(&f, DIAG_FAIL_PSK_MISMATCH, 1, "pre-shared key mismatch");
	assert_int_equal(diag_run(&f.s, NULL, &rep), 0);
	sb_init(&sb);
	diag_render_text(&rep, NULL, &sb);
	t = sb_str(&sb);
	assert_true(
		!strncmp(t,
			 "profile HQ: initiator, aggressive mode (ipsec profile HQ: peer "
			 "203.0.113.2)\n",
			 strlen("profile HQ: initiator, aggressive mode (ipsec profile HQ: peer "
				"203.0.113.2)\n")));
	assert_non_null(strstr(t, "\n[--] A3.1 no IKE SA: negotiation failing, see below\n"));
	assert_non_null(strstr(t,
			       "\n[NG] A5.5 pre-shared keys differ\n    cause: the peer's HASH "
			       "did not verify (3 time(s) since "));
	assert_non_null(strstr(t,
			       "\n    remedy:\n      ike policy IKEPOL\n      pre-shared-key "
			       "ascii <the key the peer uses>\n"));
	assert_non_null(strstr(t, "\nHQ: 1 problem(s) found\n"));
	/* [WARN] after the checks */
	assert_true(strstr(t, "[WARN]") > strstr(t, "[--] A8"));
	sb_reset(&sb);
	diag_render_json(&rep, &sb);
	t = sb_str(&sb);
	assert_true(!strncmp(t,
			     "{\"profiles\":[{\"profile\":\"HQ\",\"role\":\"initiator\","
			     "\"mode\":\"aggressive\"",
			     40));
	assert_non_null(strstr(t,
			       "{\"id\":\"A5.5\",\"result\":\"ng\",\"text\":\"pre-shared keys "
			       "differ\""));
	assert_non_null(strstr(t,
			       "\"remedy\":[\"ike policy IKEPOL\",\"pre-shared-key ascii <the key "
			       "the peer uses>\"]"));
	assert_non_null(strstr(t, "\"result\":\"na\""));
	assert_non_null(strstr(t, "\"problems\":1}]}\n"));
	sb_free(&sb);
	diag_report_free(&rep);

	/* one profile by name; an unknown one is an error */
	f.s.only_profile = "NOPE";
	assert_int_equal(diag_run(&f.s, NULL, &rep), KZ_ENOENT);
	assert_string_equal(rep.error, "% no ipsec profile NOPE");
	diag_report_free(&rep);
	fx_free(&f);
}

/* ---- languages and golden outputs ---- */

static struct diag_lang *load_ja(void)
{
	struct diag_lang *l = NULL;
	char path[1024];

	snprintf(path, sizeof(path), "%s/locale/ja/LC_MESSAGES/kizuna.mo", KZ_BUILD_DIR);
	assert_int_equal(diag_lang_load(path, "ja", &l), 0);
	return l;
}

static void golden(const char *name, const char *got)
{
	char path[1024];
	FILE *fp;
	static char want[65536];
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/diag/%s", KZ_SOURCE_DIR, name);
	if (getenv("KZ_UPDATE_GOLDEN")) {
		fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(got, fp);
		fclose(fp);
		return;
	}
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("missing golden file %s (run with KZ_UPDATE_GOLDEN=1)", path);
	n = fread(want, 1, sizeof(want) - 1, fp);
	want[n] = 0;
	fclose(fp);
	if (strcmp(want, got))
		print_error("%s differs; got:\n%s", name, got);
	assert_string_equal(want, got);
}

/* Scenarios for the golden files: name, setup. */
static void scen_psk(struct fx *f)
{
	fx_init(f, true, true, "100.64.0.2");
	fx_down(f);
	fx_fail(f, DIAG_FAIL_PSK_MISMATCH, 1,
		"pre-shared key mismatch: the peer's HASH_R in message 2 did not verify (the "
		"pre-shared keys differ)");
}

static void scen_healthy_b(struct fx *f)
{
	fx_init(f, false, true, "203.0.113.2");
	f->st.nat_peer = true;
}

static void scen_wan_down(struct fx *f)
{
	fx_init(f, true, true, "100.64.0.2");
	fx_down(f);
	f->s.mobile.admin_up = false;
	f->s.mobile.has_addr = false;
}

static void scen_no_route(struct fx *f)
{
	fx_init(f, true, true, "100.64.0.2");
	f->s.nroutes = 0;
}

static void scen_main_any(struct fx *f)
{
	fx_init(f, false, false, "203.0.113.2");
	fx_down(f);
	f->cfg->profiles.v[0].peer_type = KZ_PEER_ANY;
}

static void scen_half_b(struct fx *f)
{
	fx_init(f, false, true, "203.0.113.2");
	fx_down(f);
	half(f, false, true, 1, 2);
	f->cfg->ike_policies.v[0].remote_id.type = KZ_ID_NONE;
}

static void scen_inflight_a(struct fx *f)
{
	struct diag_exch *h = &f->st.inflight;

	fx_init(f, true, true, "100.64.0.2");
	fx_down(f);
	h->set = h->initiator = h->aggressive = true;
	h->phase = 1;
	h->msg_sent = 1;
	h->tries = 4;
	h->peer = f->cfg->profiles.v[0].peer_addr;
	h->peer_port = 500;
	h->first_wall = T0 - 14;
	h->last_wall = T0;
}

static void scen_closed_a(struct fx *f)
{
	fx_init(f, true, true, "100.64.0.2");
	f->cfg->profiles.v[0].peer_addr = ip("100.64.0.9");
	f->st.nat_known = true;
	f->st.nat_local = f->st.nat_peer = false;
	f->st.ike_natt_floated = false;
}

static void scen_waiting_b(struct fx *f)
{
	fx_init(f, false, true, "100.64.0.9");
	fx_down(f);
}

static void scen_natt_off_a(struct fx *f)
{
	fx_init(f, true, true, "100.64.0.2");
	fx_down(f);
	f->cfg->ike_policies.v[0].natt = false;
}

static void test_golden(void **state)
{
	static const struct {
		const char *name;
		void (*setup)(struct fx *f);
	} sc[] = {
		{ "psk-a", scen_psk },
		{ "healthy-b", scen_healthy_b },
		{ "wan-down-a", scen_wan_down },
		{ "no-route-a", scen_no_route },
		{ "main-peer-any-b", scen_main_any },
		{ "half-open-b", scen_half_b },
		{ "in-flight-a", scen_inflight_a },
		{ "closed-network-a", scen_closed_a },
		{ "waiting-responder-b", scen_waiting_b },
		{ "natt-off-a", scen_natt_off_a },
	};
	struct diag_lang *ja = load_ja();

	(void)state;
	setenv("TZ", "UTC0", 1);
	tzset();
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		const struct diag_lang *langs[2] = { diag_lang_en(), ja };

		for (int k = 0; k < 2; k++) {
			struct fx f;
			struct diag_report rep;
			struct strbuf sb;
			char name[128];

			sc[i].setup(&f);
			assert_int_equal(diag_run(&f.s, langs[k], &rep), 0);
			sb_init(&sb);
			diag_render_text(&rep, langs[k], &sb);
			snprintf(name, sizeof(name), "%s.%s.out", sc[i].name, k ? "ja" : "en");
			golden(name, sb_str(&sb));
			sb_free(&sb);
			diag_report_free(&rep);
			fx_free(&f);
		}
	}
	diag_lang_free(ja);
}

static void test_japanese_wording(void **state)
{
	struct diag_lang *ja = load_ja();
	struct fx f;
	struct diag_report rep;
	struct strbuf sb;

	(void)state;
	scen_wan_down(&f);
	assert_int_equal(diag_run(&f.s, ja, &rep), 0);
	sb_init(&sb);
	diag_render_text(&rep, ja, &sb);
	/* the manual's wording, and router output untranslated */
	assert_non_null(strstr(sb_str(&sb),
			       "[NG] A2.1 Interface MobileEthernet0.0 is "
			       "administratively down\n    原因: MobileEthernet0.0"
			       "インターフェースがshutdown状態となっている\n    対処:\n"
			       "      interface MobileEthernet0.0\n      no shutdown\n"));
	assert_non_null(strstr(sb_str(&sb),
			       "[NG] A4.1 sourced I/F don't have valid address "
			       "[MobileEthernet0.0]\n"));
	assert_string_equal(diag_lang_code(ja), "ja");
	assert_string_equal(diag_tr(ja, "cause:"), "原因:");
	assert_string_equal(diag_tr(ja, "not in the catalogue"), "not in the catalogue");
	sb_free(&sb);
	diag_report_free(&rep);
	fx_free(&f);
	diag_lang_free(ja);
}

/* Japanese output carries no English prose: outside remedy commands and
 * the router's own output (A4's texts, A2.1's interface line, as the
 * manual prints them) every ASCII word must be a command or config word,
 * a name, an address or an algorithm/protocol name. */
static bool word_allowed(const char *w)
{
	static const char *const ok[] = {
		/* protocols, algorithms, acronyms */
		"IKE",
		"SA",
		"SAs",
		"IPsec",
		"ESP",
		"UDP",
		"NAT",
		"NAT-D",
		"NAT-T",
		"NAT-Traversal",
		"HASH",
		"HASH_R",
		"HASH_I",
		"ID",
		"RFC",
		"SIM",
		"WAN",
		"LAN",
		"SPI",
		"spi",
		"PSK",
		"DH",
		"MODP",
		"AES",
		"SHA",
		"MD5",
		"DES",
		"3DES",
		"Aggressive",
		"Main",
		"Quick",
		"Mode",
		"NO-PROPOSAL-CHOSEN",
		"INVALID-ID-INFORMATION",
		"PAYLOAD-MALFORMED",
		/* names in the fixtures */
		"HQ",
		"IKEPOL",
		"IPSECPOL",
		"IKEP",
		"ESPP",
		"MobileEthernet0.0",
		"IPsec0",
		"site-a",
		"site-x",
		"key-id",
		"wan0",
		/* config and command words */
		"profile",
		"ipsec",
		"ike",
		"peer",
		"any",
		"policy",
		"proposal",
		"local-id",
		"remote-id",
		"nat-traversal",
		"pre-shared-key",
		"ascii",
		"interface",
		"shutdown",
		"route",
		"kizuna",
		"check",
		"diagnose",
		"clear",
		"sa",
		"exchange-mode",
		"aggressive",
		"encryption",
		"authentication",
		"hash",
		"group",
		"pfs",
		"device",
		"ip",
		"map",
		"dpd",
		"null",
		"des-cbc",
		/* result tags */
		"OK",
		"NG",
		"WARN",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(w, ok[i]))
			return true;
	return false;
}

static unsigned english_words;

static void assert_no_english(const char *name, const char *text)
{
	char line[2048];
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char *q;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		/* commands, and the router's own output */
		if (!strncmp(line, "      ", 6) && line[6] != '!')
			continue;
		if (!strncmp(line, "[OK] A4 ", 8) || !strncmp(line, "[NG] A4.", 8) ||
		    !strncmp(line, "[NG] A2.1 ", 10) || !strncmp(line, "[NG] M2.1 ", 10) ||
		    !strncmp(line, "[NG] M1.2 peer any", 18))
			continue;
		for (q = line; *q;) {
			char w[128];
			size_t k = 0;

			if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))) {
				q++;
				continue;
			}
			while (*q && k < sizeof(w) - 1 &&
			       ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
				(*q >= '0' && *q <= '9') || *q == '-' || *q == '_' || *q == '.'))
				w[k++] = *q++;
			while (k && (w[k - 1] == '.' || w[k - 1] == '-'))
				k--;
			w[k] = 0;
			/* check ids (A5.5, M1) and hex (0x...) are not words */
			if ((k >= 2 && (w[0] == 'A' || w[0] == 'M') && w[1] >= '1' &&
			     w[1] <= '9') ||
			    (w[0] == 'x' && k > 1))
				continue;
			if (!word_allowed(w)) {
				print_error("%s: English word '%s' in: %s\n", name, w, line);
				english_words++;
			}
		}
	}
}

static void test_japanese_no_english(void **state)
{
	static void (*const scen[])(struct fx * f) = {
		scen_psk,    scen_healthy_b,  scen_wan_down, scen_no_route,  scen_main_any,
		scen_half_b, scen_inflight_a, scen_closed_a, scen_waiting_b, scen_natt_off_a,
	};
	static const enum diag_fail fails[] = {
		DIAG_FAIL_NO_PROPOSAL, DIAG_FAIL_ID_MISMATCH, DIAG_FAIL_TS_MISMATCH,
		DIAG_FAIL_NO_ANSWER,   DIAG_FAIL_PEER_NOTIFY, DIAG_FAIL_MALFORMED,
		DIAG_FAIL_NATT,        DIAG_FAIL_CONFIG,
	};
	struct diag_lang *ja = load_ja();
	struct diag_report rep;
	struct fx f;
	char name[64];

	(void)state;
	for (size_t i = 0; i < sizeof(scen) / sizeof(scen[0]); i++) {
		scen[i](&f);
		snprintf(name, sizeof(name), "scenario %zu", i);
		assert_no_english(name, render(&f, ja, &rep));
		diag_report_free(&rep);
		fx_free(&f);
	}
	/* every failure class, both roles, both modes */
	for (int a = 0; a < 2; a++)
		for (int aggr = 0; aggr < 2; aggr++)
			for (size_t k = 0; k < sizeof(fails) / sizeof(fails[0]); k++) {
				fx_init(&f, a, aggr, a ? "100.64.0.2" : "203.0.113.2");
				fx_down(&f);
				fx_fail(&f, fails[k], k % 2 ? 2 : 1,
					"an English log line the Japanese output must not show");
				snprintf(f.st.id_received, sizeof(f.st.id_received),
					 "key-id site-x");
				snprintf(f.st.notify_name, sizeof(f.st.notify_name),
					 "NO-PROPOSAL-CHOSEN");
				snprintf(name, sizeof(name), "class %zu a=%d aggr=%d", k, a, aggr);
				assert_no_english(name, render(&f, ja, &rep));
				diag_report_free(&rep);
				fx_free(&f);
			}
	/* half-open records of every kind */
	for (unsigned m = 1; m <= 5; m++)
		for (int init = 0; init < 2; init++) {
			fx_init(&f, init, m != 4 && m != 5, init ? "198.51.100.2" : "203.0.113.2");
			fx_down(&f);
			half(&f, init, m != 4 && m != 5, m == 1 ? 2 : 1, m);
			snprintf(name, sizeof(name), "half %u init=%d", m, init);
			assert_no_english(name, render(&f, ja, &rep));
			diag_report_free(&rep);
			fx_free(&f);
		}
	/* a weak algorithm */
	fx_init(&f, true, true, "100.64.0.2");
	f.cfg->ike_proposals.v[0].enc = KZ_ENC_DES_CBC;
	assert_no_english("weak", render(&f, ja, &rep));
	diag_report_free(&rep);
	fx_free(&f);
	diag_lang_free(ja);
	assert_int_equal(english_words, 0);
}

/* ---- the .mo reader on broken input ---- */

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* native order, as msgfmt writes */
}

static void test_mo_reader(void **state)
{
	char path[] = "/tmp/kz_diag_moXXXXXX";
	struct diag_lang *l = NULL;
	uint8_t mo[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(diag_lang_load("/nonexistent/kizuna.mo", "ja", &l), KZ_EIO);
	assert_null(l);
	/* not a .mo */
	memset(mo, 'x', sizeof(mo));
	write_file(path, mo, sizeof(mo));
	assert_int_equal(diag_lang_load(path, "ja", &l), KZ_EPROTO);
	/* a hand-made catalogue: 2 strings; the second translation has a
	 * different conversion and must be dropped */
	memset(mo, 0, sizeof(mo));
	put32(mo, 0x950412de);
	put32(mo + 8, 2);
	put32(mo + 12, 28); /* originals */
	put32(mo + 16, 44); /* translations */
	put32(mo + 28, 3);  /* "a%s" */
	put32(mo + 32, 100);
	put32(mo + 36, 3); /* "b%d" */
	put32(mo + 40, 110);
	put32(mo + 44, 3); /* "A%s" */
	put32(mo + 48, 120);
	put32(mo + 52, 3); /* "B%s" - wrong conversion */
	put32(mo + 56, 130);
	memcpy(mo + 100, "a%s", 4);
	memcpy(mo + 110, "b%d", 4);
	memcpy(mo + 120, "A%s", 4);
	memcpy(mo + 130, "B%s", 4);
	write_file(path, mo, 140);
	assert_int_equal(diag_lang_load(path, "ja", &l), 0);
	assert_string_equal(diag_tr(l, "a%s"), "A%s");
	assert_string_equal(diag_tr(l, "b%d"), "b%d");
	diag_lang_free(l);
	/* an offset past the end */
	put32(mo + 56, 4000);
	write_file(path, mo, 140);
	assert_int_equal(diag_lang_load(path, "ja", &l), KZ_EPROTO);
	/* a string not NUL-terminated inside the file */
	put32(mo + 56, 130);
	put32(mo + 52, 10);
	write_file(path, mo, 140);
	assert_int_equal(diag_lang_load(path, "ja", &l), KZ_EPROTO);
	/* truncated header */
	write_file(path, mo, 12);
	assert_int_equal(diag_lang_load(path, "ja", &l), KZ_EPROTO);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_both_roles),
		cmocka_unit_test(test_a1),
		cmocka_unit_test(test_m1),
		cmocka_unit_test(test_a2),
		cmocka_unit_test(test_a2_sas_kept_down),
		cmocka_unit_test(test_a3_never_ng),
		cmocka_unit_test(test_a4),
		cmocka_unit_test(test_a5),
		cmocka_unit_test(test_a5_3_range_and_pairs),
		cmocka_unit_test(test_a5_with_peer_config),
		cmocka_unit_test(test_a5_pfs_and_dpd_warning),
		cmocka_unit_test(test_closed_network),
		cmocka_unit_test(test_responder_half_open),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_stale_superseded),
		cmocka_unit_test(test_never_no_problem_while_down),
		cmocka_unit_test(test_a6),
		cmocka_unit_test(test_a7),
		cmocka_unit_test(test_a8),
		cmocka_unit_test(test_text_and_json),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_japanese_wording),
		cmocka_unit_test(test_japanese_no_english),
		cmocka_unit_test(test_mo_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
