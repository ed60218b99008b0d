/* test_config_check.c - the config check (A4.1..A4.7, exact texts and
 * order, offline and live), the warnings about weak choices, M1.2, and the
 * cross-site checks of two configs (A1.1, A5.1..A5.5, A7.1) with the
 * pairing of profiles.  Configs are built with the model API, as the two
 * example sites of config-language.md. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/check.h"
#include "config/model.h"
#include "lib/err.h"

#include "cfg_chain.h"

#define SITE_A_KEY "correct horse battery staple"

/* ---- building configs ---------------------------------------------------- */

static struct kz_prefix pfx(const char *a, unsigned len)
{
	struct kz_prefix p = { .set = true, .len = (uint8_t)len };

	assert_int_equal(inet_pton(AF_INET, a, &p.addr), 1);
	return p;
}

#define set_psk cfg_chain_psk

static void set_keyid(struct kz_ident *id, const char *v)
{
	id->type = KZ_ID_KEY_ID;
	snprintf(id->value, sizeof(id->value), "%s", v);
}

/* Site A of config-language.md: the initiator behind carrier-grade NAT. */
static struct kz_config *site_a(void)
{
	struct kz_config *c = kz_config_new();
	struct cfg_chain k;
	struct kz_route r = { 0 };

	assert_non_null(c);
	snprintf(c->hostname, sizeof(c->hostname), "site-a");
	c->mobile.present = true;
	snprintf(c->mobile.device, sizeof(c->mobile.device), "wwan0");
	c->mobile.shutdown = false;
	assert_true(cfg_chain_add(c, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", "HQ", 0));
	k.ikp->enc = KZ_ENC_AES_CBC_256;
	k.ikp->hash = KZ_HASH_SHA2_256;
	k.ikp->group = KZ_GROUP_MODP2048;
	k.ikp->lifetime = 28800;
	k.pol->mode = KZ_MODE_AGGRESSIVE;
	set_psk(k.pol, SITE_A_KEY);
	set_keyid(&k.pol->local_id, "site-a");
	k.pol->natt = true;
	k.ep->enc = KZ_ENC_AES_CBC_256;
	k.ep->auth = KZ_AUTH_HMAC_SHA2_256;
	k.ep->lifetime_time = 28800;
	k.ipol->local_ts = pfx("192.168.1.0", 24);
	k.ipol->remote_ts = pfx("192.168.2.0", 24);
	k.pr->peer_type = KZ_PEER_ADDR;
	inet_pton(AF_INET, "203.0.113.2", &k.pr->peer_addr);
	r.dest = pfx("192.168.2.0", 24);
	r.via = KZ_VIA_IPSEC;
	r.ipsec_unit = 0;
	assert_int_equal(kz_route_add(c, &r), 0);
	return c;
}

/* Site B: the same, but `peer any`, `remote-id key-id site-a` instead of
 * local-id, and the IPsec policy ids (and the route) mirrored. */
static struct kz_config *site_b(void)
{
	struct kz_config *c = site_a();
	struct kz_ike_policy *ikpol = kz_find_ike_policy(c, "IKEPOL");
	struct kz_ipsec_policy *pol = kz_find_ipsec_policy(c, "IPSECPOL");
	struct kz_ipsec_profile *p = kz_find_profile(c, "HQ");

	snprintf(c->hostname, sizeof(c->hostname), "site-b");
	memset(&ikpol->local_id, 0, sizeof(ikpol->local_id));
	set_keyid(&ikpol->remote_id, "site-a");
	pol->local_ts = pfx("192.168.2.0", 24);
	pol->remote_ts = pfx("192.168.1.0", 24);
	p->peer_type = KZ_PEER_ANY;
	memset(&p->peer_addr, 0, sizeof(p->peer_addr));
	c->routes.v[0].dest = pfx("192.168.1.0", 24);
	return c;
}

static struct kz_ipsec_profile *hq(struct kz_config *c)
{
	struct kz_ipsec_profile *p = kz_find_profile(c, "HQ");

	assert_non_null(p);
	return p;
}

static struct kz_ike_policy *ikepol(struct kz_config *c)
{
	return kz_find_ike_policy(c, "IKEPOL");
}

static struct kz_ipsec_policy *ipsecpol(struct kz_config *c)
{
	return kz_find_ipsec_policy(c, "IPSECPOL");
}

/* ---- A4 helpers ---------------------------------------------------------------- */

static struct kz_finding a4_offline(struct kz_config *c)
{
	struct kz_check_env env;
	struct kz_finding f;

	kz_check_env_offline(&env);
	assert_int_equal(kz_check_profile(c, hq(c), &env, &f), 0);
	return f;
}

static void assert_ng(const struct kz_finding *f, const char *id, const char *text)
{
	if (f->severity != KZ_SEV_NG || strcmp(f->id, id) || strcmp(f->text, text))
		fail_msg("got [%d] %s '%s', want NG %s '%s'", f->severity, f->id, f->text, id,
			 text);
}

static void assert_remedy(const struct kz_finding *f, unsigned n, ...)
{
	va_list ap;

	if (f->nremedy != n) {
		for (unsigned i = 0; i < f->nremedy; i++)
			fprintf(stderr, "remedy[%u] = %s\n", i, f->remedy[i]);
		fail_msg("%u remedy lines, want %u", f->nremedy, n);
	}
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(f->remedy[i], va_arg(ap, const char *));
	va_end(ap);
}

static void assert_ok(const struct kz_finding *f)
{
	if (f->severity != KZ_SEV_OK)
		fail_msg("got NG %s '%s' (%s)", f->id, f->text, f->cause);
	assert_string_equal(f->id, "A4");
	assert_string_equal(f->text, "config check ok");
}

/* ---- A4: ok, each item, order ------------------------------------------------------- */

static void test_a4_ok(void **state)
{
	struct kz_config *a = site_a(), *b = site_b();
	struct kz_finding f = a4_offline(a);
	struct strbuf sb;

	(void)state;
	assert_ok(&f);
	assert_string_equal(f.profile, "HQ");
	sb_init(&sb);
	kz_check_show_line(&f, &sb);
	assert_string_equal(sb_str(&sb), "HQ : config check ok\n");
	sb_free(&sb);
	f = a4_offline(b);
	assert_ok(&f);
	kz_config_free(a);
	kz_config_free(b);
}

static void test_a4_einval(void **state)
{
	struct kz_config *a = site_a();
	struct kz_check_env env;
	struct kz_finding f;

	(void)state;
	kz_check_env_offline(&env);
	assert_int_equal(kz_check_profile(NULL, hq(a), &env, &f), KZ_EINVAL);
	assert_int_equal(kz_check_profile(a, NULL, &env, &f), KZ_EINVAL);
	assert_int_equal(kz_check_profile(a, hq(a), NULL, &f), KZ_EINVAL);
	assert_int_equal(kz_check_profile(a, hq(a), &env, NULL), KZ_EINVAL);
	kz_config_free(a);
}

#define A41 "sourced I/F don't have valid address [MobileEthernet0.0]"

static void test_a4_1_shutdown(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;
	struct strbuf sb;

	(void)state;
	a->mobile.shutdown = true;
	f = a4_offline(a);
	assert_ng(&f, "A4.1", A41);
	assert_non_null(strstr(f.cause, "shut down"));
	assert_remedy(&f, 2, "interface MobileEthernet0.0", "no shutdown");
	sb_init(&sb);
	kz_check_show_line(&f, &sb);
	assert_string_equal(sb_str(&sb), "HQ : " A41 "\n");
	sb_reset(&sb);
	kz_finding_format(&f, "site-a.conf: ", &sb);
	assert_string_equal(sb_str(&sb),
			    "site-a.conf: [NG] A4.1 " A41 "\n"
			    "    cause: interface MobileEthernet0.0 is shut down (administratively "
			    "down), so it has no address\n"
			    "    remedy:\n"
			    "      interface MobileEthernet0.0\n"
			    "      no shutdown\n");
	sb_free(&sb);
	kz_config_free(a);
}

static void test_a4_1_no_source(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;

	(void)state;
	hq(a)->source_set = false;
	f = a4_offline(a);
	assert_ng(&f, "A4.1", A41);
	assert_non_null(strstr(f.cause, "no source-interface"));
	assert_remedy(&f, 2, "ipsec profile HQ", "source-interface MobileEthernet0.0");
	kz_config_free(a);
}

static void test_a4_1_no_device(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;

	(void)state;
	a->mobile.device[0] = '\0';
	f = a4_offline(a);
	assert_ng(&f, "A4.1", A41);
	assert_remedy(&f, 2, "interface MobileEthernet0.0", "device <Linux device, e.g. wwan0>");
	/* No interface block at all: the same item. */
	memset(&a->mobile, 0, sizeof(a->mobile));
	f = a4_offline(a);
	assert_ng(&f, "A4.1", A41);
	assert_non_null(strstr(f.cause, "no interface MobileEthernet0.0"));
	kz_config_free(a);
}

static bool if_up_table(unsigned unit, void *arg)
{
	const bool *up = arg;

	return unit < 4 && up[unit];
}

static void test_a4_1_live(void **state)
{
	struct kz_config *a = site_a();
	struct kz_check_env env = { .live = true, .mobile_up = false, .mobile_has_addr = false };
	struct kz_finding f;

	(void)state;
	/* The config says up, the device is down: offline ok, live NG. */
	f = a4_offline(a);
	assert_ok(&f);
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ng(&f, "A4.1", A41);
	assert_non_null(strstr(f.cause, "outside kizuna"));
	assert_remedy(&f, 2, "interface MobileEthernet0.0", "no shutdown");
	/* Up but no address: no SIM or coverage; nothing to type. */
	env.mobile_up = true;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ng(&f, "A4.1", A41);
	assert_non_null(strstr(f.cause, "no IPv4 address"));
	assert_int_equal(f.nremedy, 0);
	env.mobile_has_addr = true;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ok(&f);
	/* Live state wins over the config's admin state. */
	a->mobile.shutdown = true;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ok(&f);
	f = a4_offline(a);
	assert_ng(&f, "A4.1", A41);
	kz_config_free(a);
}

static void test_a4_2_shutdown(void **state)
{
	struct kz_config *a = site_a();
	struct kz_if_ipsec *ifc = kz_find_ipsec_if(a, 0);
	int err = 0;
	struct kz_finding f;

	(void)state;
	/* Move the mapping to IPsec3, shut down: the bracket names it. */
	ifc->map[0] = '\0';
	ifc = kz_add_ipsec_if(a, 3, &err);
	assert_non_null(ifc);
	snprintf(ifc->map, KZ_NAME_MAX, "HQ");
	f = a4_offline(a);
	assert_ng(&f, "A4.2", "mapped I/F is down [IPsec3]");
	assert_remedy(&f, 2, "interface IPsec3", "no shutdown");
	kz_config_free(a);
}

static void test_a4_2_no_interface(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;

	(void)state;
	assert_int_equal(kz_del_ipsec_if(a, 0), 0);
	f = a4_offline(a);
	assert_ng(&f, "A4.2", "mapped I/F is down [IPsec0]");
	assert_non_null(strstr(f.cause, "no IPsec interface is defined"));
	assert_remedy(&f, 3, "interface IPsec0", "ipsec map HQ", "no shutdown");
	kz_config_free(a);
}

static void test_a4_2_live(void **state)
{
	struct kz_config *a = site_a();
	bool up[4] = { false, false, false, false };
	struct kz_check_env env = { .live = true,
				    .mobile_up = true,
				    .mobile_has_addr = true,
				    .ipsec_if_up = if_up_table,
				    .arg = up };
	struct kz_finding f;

	(void)state;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ng(&f, "A4.2", "mapped I/F is down [IPsec0]");
	assert_non_null(strstr(f.cause, "outside kizuna"));
	/* Offline, a callback is ignored: the config decides. */
	env.live = false;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ok(&f);
	env.live = true;
	up[0] = true;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ok(&f);
	/* Live without a callback: the config decides. */
	env.ipsec_if_up = NULL;
	kz_find_ipsec_if(a, 0)->shutdown = true;
	assert_int_equal(kz_check_profile(a, hq(a), &env, &f), 0);
	assert_ng(&f, "A4.2", "mapped I/F is down [IPsec0]");
	kz_config_free(a);
}

static void test_a4_3(void **state)
{
	struct kz_config *a = site_a();
	struct kz_if_ipsec *ifc;
	struct kz_finding f;
	int err = 0;

	(void)state;
	/* IPsec0 exists and maps nothing: map it there. */
	kz_find_ipsec_if(a, 0)->map[0] = '\0';
	f = a4_offline(a);
	assert_ng(&f, "A4.3", "no mapped [HQ]");
	assert_remedy(&f, 2, "interface IPsec0", "ipsec map HQ");
	/* IPsec0 maps another profile: suggest a new interface. */
	snprintf(kz_find_ipsec_if(a, 0)->map, KZ_NAME_MAX, "OTHER");
	f = a4_offline(a);
	assert_ng(&f, "A4.3", "no mapped [HQ]");
	assert_remedy(&f, 3, "interface IPsec1", "ipsec map HQ", "no shutdown");
	/* A free but shut down interface: map it and bring it up. */
	ifc = kz_add_ipsec_if(a, 2, &err);
	assert_non_null(ifc);
	f = a4_offline(a);
	assert_remedy(&f, 3, "interface IPsec2", "ipsec map HQ", "no shutdown");
	kz_config_free(a);
}

static void test_a4_4(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;

	(void)state;
	snprintf(hq(a)->ipsec_policy, KZ_NAME_MAX, "IPSECPOL2");
	f = a4_offline(a);
	assert_ng(&f, "A4.4", "ipsec policy not exist [IPSECPOL2]");
	assert_non_null(strstr(f.cause, "defined: IPSECPOL"));
	assert_remedy(&f, 2, "ipsec profile HQ", "ipsec policy IPSECPOL");
	/* Not set at all: empty bracket, and the cause says so. */
	hq(a)->ipsec_policy[0] = '\0';
	f = a4_offline(a);
	assert_ng(&f, "A4.4", "ipsec policy not exist []");
	assert_non_null(strstr(f.cause, "names no IPsec policy"));
	/* Several candidates, none close: a placeholder. */
	{
		int err = 0;

		assert_non_null(kz_add_ipsec_policy(a, "OTHER", &err));
	}
	snprintf(hq(a)->ipsec_policy, KZ_NAME_MAX, "NOPE");
	f = a4_offline(a);
	assert_remedy(&f, 2, "ipsec profile HQ", "ipsec policy <IPsec policy name>");
	/* Same name in other letter case is the guess. */
	snprintf(hq(a)->ipsec_policy, KZ_NAME_MAX, "ipsecpol");
	f = a4_offline(a);
	assert_remedy(&f, 2, "ipsec profile HQ", "ipsec policy IPSECPOL");
	kz_config_free(a);
}

static void test_a4_5(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;

	(void)state;
	snprintf(hq(a)->ike_policy, KZ_NAME_MAX, "X");
	f = a4_offline(a);
	assert_ng(&f, "A4.5", "ike policy not exist [X]");
	assert_remedy(&f, 2, "ipsec profile HQ", "ike policy IKEPOL");
	hq(a)->ike_policy[0] = '\0';
	f = a4_offline(a);
	assert_ng(&f, "A4.5", "ike policy not exist []");
	assert_non_null(strstr(f.cause, "names no IKE policy"));
	kz_config_free(a);
}

static void test_a4_6(void **state)
{
	struct kz_config *a = site_a();
	struct kz_ipsec_policy *pol = ipsecpol(a);
	struct kz_finding f;

	(void)state;
	snprintf(pol->proposals[0], KZ_NAME_MAX, "X");
	f = a4_offline(a);
	assert_ng(&f, "A4.6", "ipsec proposal not exist [X]");
	assert_remedy(&f, 2, "ipsec policy IPSECPOL", "proposal ESPP");
	pol->nproposals = 0;
	f = a4_offline(a);
	assert_ng(&f, "A4.6", "ipsec proposal not exist []");
	assert_non_null(strstr(f.cause, "names no proposal"));
	kz_config_free(a);
}

static void test_a4_7(void **state)
{
	struct kz_config *a = site_a();
	struct kz_ike_policy *ip = ikepol(a);
	struct kz_finding f;
	int err = 0;

	(void)state;
	/* A list where the second name is missing: the remedy keeps the
	 * good one and drops the unknown one when there is no good guess. */
	assert_non_null(kz_add_ike_proposal(a, "IKEP2", &err));
	snprintf(ip->proposals[0], KZ_NAME_MAX, "IKEP");
	snprintf(ip->proposals[1], KZ_NAME_MAX, "X");
	ip->nproposals = 2;
	f = a4_offline(a);
	assert_ng(&f, "A4.7", "ike proposal not exist [X]");
	assert_remedy(&f, 2, "ike policy IKEPOL", "proposal IKEP");
	/* A case slip is corrected in place. */
	snprintf(ip->proposals[1], KZ_NAME_MAX, "ikep2");
	f = a4_offline(a);
	assert_ng(&f, "A4.7", "ike proposal not exist [ikep2]");
	assert_remedy(&f, 2, "ike policy IKEPOL", "proposal IKEP IKEP2");
	kz_config_free(a);
}

/* With two items failing, the first in table order is reported. */
static void test_a4_order(void **state)
{
	struct kz_config *a = site_a();
	struct kz_finding f;

	(void)state;
	/* A4.6 and A4.7 */
	snprintf(ipsecpol(a)->proposals[0], KZ_NAME_MAX, "X6");
	snprintf(ikepol(a)->proposals[0], KZ_NAME_MAX, "X7");
	f = a4_offline(a);
	assert_ng(&f, "A4.6", "ipsec proposal not exist [X6]");
	/* + A4.5 */
	snprintf(hq(a)->ike_policy, KZ_NAME_MAX, "X5");
	f = a4_offline(a);
	assert_ng(&f, "A4.5", "ike policy not exist [X5]");
	/* + A4.4 */
	snprintf(hq(a)->ipsec_policy, KZ_NAME_MAX, "X4");
	f = a4_offline(a);
	assert_ng(&f, "A4.4", "ipsec policy not exist [X4]");
	/* + A4.3 */
	kz_find_ipsec_if(a, 0)->map[0] = '\0';
	f = a4_offline(a);
	assert_ng(&f, "A4.3", "no mapped [HQ]");
	/* + A4.2 (the only interface, shut down, maps nothing: A4.3 still,
	 * since A4.2 is about the interface mapping the profile) */
	kz_find_ipsec_if(a, 0)->shutdown = true;
	f = a4_offline(a);
	assert_ng(&f, "A4.3", "no mapped [HQ]");
	snprintf(kz_find_ipsec_if(a, 0)->map, KZ_NAME_MAX, "HQ");
	f = a4_offline(a);
	assert_ng(&f, "A4.2", "mapped I/F is down [IPsec0]");
	/* + A4.1 */
	a->mobile.shutdown = true;
	f = a4_offline(a);
	assert_ng(&f, "A4.1", A41);
	kz_config_free(a);
}

/* ---- warnings and M1.2 ---------------------------------------------------------- */

static struct kz_findings lint(struct kz_config *c)
{
	struct kz_findings fs;

	kz_findings_init(&fs);
	assert_int_equal(kz_check_profile_lint(c, hq(c), &fs), 0);
	return fs;
}

/* The number of findings whose text contains every given piece. */
static size_t count_text(const struct kz_findings *fs, const char *a, const char *b)
{
	size_t k = 0;

	for (size_t i = 0; i < fs->n; i++)
		if (strstr(fs->v[i].text, a) && (!b || strstr(fs->v[i].text, b)))
			k++;
	return k;
}

static void dump(const struct kz_findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		fprintf(stderr, "  [%d] %s %s\n", fs->v[i].severity, fs->v[i].id, fs->v[i].text);
}

static void expect_warning(struct kz_config *c, const char *a, const char *b)
{
	struct kz_findings fs = lint(c);

	if (count_text(&fs, a, b) != 1) {
		dump(&fs);
		fail_msg("no single warning with '%s' '%s'", a, b ? b : "");
	}
	for (size_t i = 0; i < fs.n; i++)
		if (strstr(fs.v[i].text, a)) {
			assert_int_equal(fs.v[i].severity, KZ_SEV_WARN);
			assert_string_equal(fs.v[i].id, "");
			assert_null(strchr(fs.v[i].text, '\n'));
		}
	kz_findings_free(&fs);
}

/* A main-mode site with strong choices and both ends named: no warning. */
static struct kz_config *strong_main(void)
{
	struct kz_config *c = site_a();

	ikepol(c)->mode = KZ_MODE_MAIN;
	memset(&ikepol(c)->local_id, 0, sizeof(ikepol(c)->local_id));
	return c;
}

static void test_lint_clean(void **state)
{
	struct kz_config *c = strong_main();
	struct kz_findings fs = lint(c);

	(void)state;
	if (fs.n)
		dump(&fs);
	assert_int_equal(fs.n, 0);
	kz_findings_free(&fs);
	kz_findings_init(&fs);
	assert_int_equal(kz_check_config_lint(c, &fs), 0);
	assert_int_equal(fs.n, 0);
	kz_findings_free(&fs);
	kz_config_free(c);
}

/* A back-off ceiling under a minute on an initiator is a warning (a
 * metered SIM pays for every attempt); a responder never retries. */
static void test_lint_retry(void **state)
{
	struct kz_config *c = strong_main();
	struct kz_findings fs;

	(void)state;
	hq(c)->retry_interval = 2;
	hq(c)->retry_max = 59;
	expect_warning(c,
		       "ipsec profile HQ: retry max 59: retries every 59 s can burn a "
		       "metered SIM's data",
		       NULL);
	hq(c)->retry_max = 60;
	fs = lint(c);
	assert_int_equal(count_text(&fs, "retry max", NULL), 0);
	kz_findings_free(&fs);
	hq(c)->retry_max = 10;
	hq(c)->peer_type = KZ_PEER_ANY;
	fs = lint(c);
	assert_int_equal(count_text(&fs, "retry max", NULL), 0);
	kz_findings_free(&fs);
	kz_config_free(c);
}

static void test_lint_weak_ike(void **state)
{
	struct kz_config *c = strong_main();
	struct kz_ike_proposal *p = kz_find_ike_proposal(c, "IKEP");

	(void)state;
	p->enc = KZ_ENC_DES_CBC;
	expect_warning(c, "ike proposal IKEP: encryption des-cbc is weak", NULL);
	p->enc = KZ_ENC_3DES_CBC;
	expect_warning(c, "ike proposal IKEP: encryption 3des-cbc is weak", NULL);
	p->enc = KZ_ENC_AES_CBC_128;
	p->hash = KZ_HASH_MD5;
	expect_warning(c, "ike proposal IKEP: hash md5 is weak", NULL);
	p->hash = KZ_HASH_SHA1;
	p->group = KZ_GROUP_MODP768;
	expect_warning(c, "ike proposal IKEP: group modp768 is weak", NULL);
	p->group = KZ_GROUP_MODP1024;
	expect_warning(c, "ike proposal IKEP: group modp1024 is weak", NULL);
	/* sha1, aes-cbc-128, modp1536: no warning. */
	p->group = KZ_GROUP_MODP1536;
	{
		struct kz_findings fs = lint(c);

		assert_int_equal(fs.n, 0);
		kz_findings_free(&fs);
	}
	kz_config_free(c);
}

static void test_lint_weak_esp(void **state)
{
	struct kz_config *c = strong_main();
	struct kz_ipsec_proposal *p = kz_find_ipsec_proposal(c, "ESPP");

	(void)state;
	p->enc = KZ_ENC_3DES_CBC;
	expect_warning(c, "ipsec proposal ESPP: encryption 3des-cbc is weak", NULL);
	p->enc = KZ_ENC_NULL;
	expect_warning(c, "ipsec proposal ESPP: encryption null", "not encrypted");
	p->enc = KZ_ENC_AES_CBC_128;
	p->auth = KZ_AUTH_HMAC_MD5;
	expect_warning(c, "ipsec proposal ESPP: authentication hmac-md5 is weak", NULL);
	p->auth = KZ_AUTH_HMAC_SHA1;
	ipsecpol(c)->pfs = KZ_GROUP_MODP768;
	expect_warning(c, "ipsec policy IPSECPOL: pfs modp768 is weak", NULL);
	ipsecpol(c)->pfs = KZ_GROUP_MODP1024;
	expect_warning(c, "ipsec policy IPSECPOL: pfs modp1024 is weak", NULL);
	ipsecpol(c)->pfs = KZ_GROUP_MODP2048;
	{
		struct kz_findings fs = lint(c);

		assert_int_equal(fs.n, 0);
		kz_findings_free(&fs);
	}
	kz_config_free(c);
}

static void test_lint_aggressive_psk(void **state)
{
	struct kz_config *c = site_a();
	struct kz_findings fs = lint(c);

	(void)state;
	/* Site A's only warning: its passphrase, with zxcvbn's estimate. */
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0].text,
			    "ike policy IKEPOL: aggressive mode with a pre-shared key: ~70 bits, "
			    "crackable offline in ~1871 years at 10^10 guesses/s; use a longer "
			    "random key (80 bits or more, kizuna genkey)");
	kz_findings_free(&fs);
	/* strong keys: no line at all */
	set_psk(ikepol(c), "Zq7#vR2!mK9@xW4$pL8^nT3&bY6*hJ1%");
	fs = lint(c);
	assert_int_equal(fs.n, 0);
	kz_findings_free(&fs);
	set_psk(ikepol(c), "mU7#qLx9!vR2$wK8");
	fs = lint(c);
	assert_int_equal(fs.n, 0);
	kz_findings_free(&fs);
	/* the weak ones a character-class count rated ~75 and ~113 bits */
	set_psk(ikepol(c), "passwordpassword");
	fs = lint(c);
	assert_int_equal(fs.n, 1);
	assert_non_null(strstr(fs.v[0].text, "~1 bits"));
	kz_findings_free(&fs);
	set_psk(ikepol(c), "aaaaaaaaaaaaaaaaaaaaaaaa");
	fs = lint(c);
	assert_int_equal(fs.n, 1);
	assert_non_null(strstr(fs.v[0].text, "~7 bits"));
	kz_findings_free(&fs);
	/* No key at all. */
	ikepol(c)->psk.set = false;
	expect_warning(c, "ike policy IKEPOL: no pre-shared-key", NULL);
	kz_config_free(c);
}

static void test_lint_peer_and_route(void **state)
{
	struct kz_config *c = strong_main();

	(void)state;
	hq(c)->peer_type = KZ_PEER_UNSET;
	expect_warning(c, "ipsec profile HQ: no peer", NULL);
	hq(c)->peer_type = KZ_PEER_ADDR;
	inet_pton(AF_INET, "10.1.2.3", &hq(c)->peer_addr);
	expect_warning(c, "peer 10.1.2.3 is a private address", "(M1.1)");
	inet_pton(AF_INET, "100.64.0.1", &hq(c)->peer_addr);
	ikepol(c)->mode = KZ_MODE_AGGRESSIVE;
	expect_warning(c, "peer 100.64.0.1 is a shared (carrier-grade NAT) address", "(A6.1)");
	inet_pton(AF_INET, "203.0.113.2", &hq(c)->peer_addr);
	c->routes.n = 0;
	expect_warning(c, "ipsec profile HQ: no ip route to 192.168.2.0/24 through IPsec0",
		       "(A8.1)");
	/* A wider route through the interface covers the network. */
	{
		struct kz_route r = { .dest = pfx("192.168.0.0", 16), .via = KZ_VIA_IPSEC };

		assert_int_equal(kz_route_add(c, &r), 0);
	}
	{
		struct kz_findings fs = lint(c);

		assert_int_equal(count_text(&fs, "no ip route", NULL), 0);
		kz_findings_free(&fs);
	}
	kz_config_free(c);
}

static void test_m1_2(void **state)
{
	struct kz_config *b = site_b(), *a = site_a();
	struct kz_findings fs;

	(void)state;
	/* Aggressive responder: fine. */
	fs = lint(b);
	assert_int_equal(count_text(&fs, "peer any with main mode", NULL), 0);
	kz_findings_free(&fs);
	/* Main-mode responder: NG M1.2. */
	ikepol(b)->mode = KZ_MODE_MAIN;
	fs = lint(b);
	assert_true(fs.n >= 1);
	assert_int_equal(fs.v[0].severity, KZ_SEV_NG);
	assert_string_equal(fs.v[0].id, "M1.2");
	assert_string_equal(fs.v[0].text, "peer any with main mode [HQ]");
	assert_non_null(strstr(fs.v[0].cause, "by the initiator's address"));
	assert_remedy(&fs.v[0], 2, "ipsec profile HQ",
		      "peer <the other site's fixed global address>");
	kz_findings_free(&fs);
	/* Main-mode initiator: no M1.2. */
	ikepol(a)->mode = KZ_MODE_MAIN;
	fs = lint(a);
	assert_int_equal(kz_findings_count(&fs, KZ_SEV_NG), 0);
	kz_findings_free(&fs);
	kz_config_free(a);
	kz_config_free(b);
}

static void test_config_lint(void **state)
{
	struct kz_config *c = strong_main();
	struct kz_ipsec_profile *p2;
	struct kz_if_ipsec *ifc;
	struct kz_findings fs;
	int err = 0;

	(void)state;
	/* A second profile sharing the same weak proposal: one warning. */
	kz_find_ike_proposal(c, "IKEP")->hash = KZ_HASH_MD5;
	p2 = kz_add_profile(c, "BR", &err);
	assert_non_null(p2);
	*p2 = *hq(c);
	snprintf(p2->name, KZ_NAME_MAX, "BR");
	ifc = kz_add_ipsec_if(c, 1, &err);
	assert_non_null(ifc);
	snprintf(ifc->map, KZ_NAME_MAX, "BR");
	ifc->shutdown = false;
	/* Unused objects, a dangling map, a route to a missing interface. */
	assert_non_null(kz_add_ike_proposal(c, "SPARE1", &err));
	assert_non_null(kz_add_ike_policy(c, "SPARE2", &err));
	assert_non_null(kz_add_ipsec_proposal(c, "SPARE3", &err));
	assert_non_null(kz_add_ipsec_policy(c, "SPARE4", &err));
	ifc = kz_add_ipsec_if(c, 2, &err);
	snprintf(ifc->map, KZ_NAME_MAX, "GHOST");
	{
		struct kz_route r = { .dest = pfx("10.9.0.0", 16),
				      .via = KZ_VIA_IPSEC,
				      .ipsec_unit = 7 };

		assert_int_equal(kz_route_add(c, &r), 0);
	}
	kz_findings_init(&fs);
	assert_int_equal(kz_check_config_lint(c, &fs), 0);
	assert_int_equal(count_text(&fs, "hash md5 is weak", NULL), 1);
	assert_int_equal(count_text(&fs, "ike proposal SPARE1 is not used by any ike policy", NULL),
			 1);
	assert_int_equal(
		count_text(&fs, "ike policy SPARE2 is not used by any ipsec profile", NULL), 1);
	assert_int_equal(count_text(&fs, "ipsec proposal SPARE3 is not used", NULL), 1);
	assert_int_equal(count_text(&fs, "ipsec policy SPARE4 is not used", NULL), 1);
	assert_int_equal(count_text(&fs, "interface IPsec2: ipsec map GHOST", "not defined"), 1);
	assert_int_equal(count_text(&fs, "ip route 10.9.0.0/16 IPsec7", "not defined"), 1);
	assert_int_equal(kz_findings_count(&fs, KZ_SEV_NG), 0);
	/* The per-profile warnings come first, under the first profile. */
	assert_string_equal(fs.v[0].profile, "HQ");
	kz_findings_free(&fs);

	/* Two `peer any` profiles without a remote-id accept nobody. */
	hq(c)->peer_type = KZ_PEER_ANY;
	kz_find_profile(c, "BR")->peer_type = KZ_PEER_ANY;
	ikepol(c)->mode = KZ_MODE_AGGRESSIVE;
	kz_findings_init(&fs);
	assert_int_equal(kz_check_config_lint(c, &fs), 0);
	assert_int_equal(count_text(&fs,
				    "ipsec profiles HQ, BR: peer any without an ike "
				    "remote-id",
				    NULL),
			 1);
	kz_findings_free(&fs);
	kz_config_free(c);

	/* No profile at all. */
	c = kz_config_new();
	kz_findings_init(&fs);
	assert_int_equal(kz_check_config_lint(c, &fs), 0);
	assert_int_equal(count_text(&fs, "no ipsec profile is defined", NULL), 1);
	kz_findings_free(&fs);
	kz_config_free(c);
}

static void test_psk_bits(void **state)
{
	struct kz_psk k = { 0 };
	char t[128];

	(void)state;
	assert_int_equal(kz_psk_bits(&k), 0);
	k.set = true;
	k.len = strlen(SITE_A_KEY);
	memcpy(k.key, SITE_A_KEY, k.len);
	assert_int_equal(kz_psk_bits(&k), 70); /* zxcvbn: 4 dictionary words */
	k.len = 6;
	memcpy(k.key, "secret", 6);
	assert_true(kz_psk_bits(&k) < 20); /* a dictionary word */
	k.hex = true;
	k.len = 32;
	assert_int_equal(kz_psk_bits(&k), 256);
	kz_psk_strength_text(52, t, sizeof(t));
	assert_string_equal(t, "~52 bits, crackable offline in ~3 days at 10^10 guesses/s");
	kz_psk_strength_text(28, t, sizeof(t));
	assert_string_equal(t, "~28 bits, crackable offline in under a second at 10^10 guesses/s");
	kz_psk_strength_text(40, t, sizeof(t));
	assert_string_equal(t, "~40 bits, crackable offline in ~55 seconds at 10^10 guesses/s");
	kz_psk_strength_text(60, t, sizeof(t));
	assert_string_equal(t, "~60 bits, crackable offline in ~667 days at 10^10 guesses/s");
	kz_psk_strength_text(256, t, sizeof(t));
	assert_string_equal(t, "~256 bits, crackable offline in ~10^59 years at 10^10 guesses/s");
}

/* ---- cross-site ----------------------------------------------------------------- */

struct pair {
	struct kz_config *a, *b;
	struct kz_site sa, sb;
	struct kz_findings fs;
};

static void pair_init(struct pair *p)
{
	p->a = site_a();
	p->b = site_b();
	p->sa = (struct kz_site){ p->a, "site-a.conf" };
	p->sb = (struct kz_site){ p->b, "site-b.conf" };
	kz_findings_init(&p->fs);
}

static void pair_run(struct pair *p)
{
	p->fs.n = 0;
	assert_int_equal(kz_check_cross(&p->sa, hq(p->a), &p->sb, hq(p->b), &p->fs), 0);
}

static void pair_free(struct pair *p)
{
	kz_findings_free(&p->fs);
	kz_config_free(p->a);
	kz_config_free(p->b);
}

/* Exactly one finding with severity NG and that id; returned. */
static const struct kz_finding *only(struct pair *p, const char *id, enum kz_side side)
{
	const struct kz_finding *got = NULL;
	size_t k = 0;

	for (size_t i = 0; i < p->fs.n; i++)
		if (p->fs.v[i].severity == KZ_SEV_NG) {
			k++;
			got = &p->fs.v[i];
		}
	if (k != 1 || strcmp(got->id, id) || got->side != side) {
		dump(&p->fs);
		fail_msg("want one NG %s on side %d", id, side);
	}
	assert_string_equal(got->profile, "HQ");
	return got;
}

static void no_ng(struct pair *p)
{
	if (kz_findings_count(&p->fs, KZ_SEV_NG)) {
		dump(&p->fs);
		fail_msg("unexpected NG");
	}
}

/* Checks the pair again: exactly one NG, this one (only()). */
static const struct kz_finding *run_only(struct pair *p, const char *id, enum kz_side side)
{
	pair_run(p);
	return only(p, id, side);
}

/* Checks the pair again: no NG. */
static void run_no_ng(struct pair *p)
{
	pair_run(p);
	no_ng(p);
}

static void test_cross_ok(void **state)
{
	struct pair p;

	(void)state;
	pair_init(&p);
	pair_run(&p);
	assert_int_equal(p.fs.n, 0);
	/* Either order. */
	p.fs.n = 0;
	assert_int_equal(kz_check_cross(&p.sb, hq(p.b), &p.sa, hq(p.a), &p.fs), 0);
	assert_int_equal(p.fs.n, 0);
	pair_free(&p);
}

static void test_cross_a1_1(void **state)
{
	struct pair p;
	const struct kz_finding *f;

	(void)state;
	pair_init(&p);
	hq(p.a)->peer_type = KZ_PEER_ANY;
	f = run_only(&p, "A1.1", KZ_SIDE_LOCAL);
	assert_string_equal(f->text, "no initiator: both ends are peer any [HQ]");
	assert_non_null(strstr(f->cause, "neither sends the first IKE message"));
	assert_remedy(f, 2, "ipsec profile HQ", "peer <the other site's global address or FQDN>");
	/* In main mode the same pair is M1.2 on each side (lint), not A1. */
	ikepol(p.a)->mode = ikepol(p.b)->mode = KZ_MODE_MAIN;
	pair_run(&p);
	for (size_t i = 0; i < p.fs.n; i++)
		assert_string_not_equal(p.fs.v[i].id, "A1.1");
	pair_free(&p);
}

static void test_cross_a5_1(void **state)
{
	struct pair p;
	const struct kz_finding *f;

	(void)state;
	pair_init(&p);
	set_keyid(&ikepol(p.b)->remote_id, "site-x");
	f = run_only(&p, "A5.1", KZ_SIDE_PEER);
	assert_string_equal(f->text, "key-id differs [HQ]");
	assert_non_null(strstr(f->cause, "sends local-id key-id site-a"));
	assert_non_null(strstr(f->cause, "expects remote-id key-id site-x"));
	assert_remedy(f, 2, "ike policy IKEPOL", "remote-id key-id site-a");
	/* Main mode does not run A5.1. */
	ikepol(p.a)->mode = ikepol(p.b)->mode = KZ_MODE_MAIN;
	pair_run(&p);
	for (size_t i = 0; i < p.fs.n; i++)
		assert_string_not_equal(p.fs.v[i].id, "A5.1");
	pair_free(&p);

	/* The initiator sends no key-id at all: it gets one. */
	pair_init(&p);
	memset(&ikepol(p.a)->local_id, 0, sizeof(struct kz_ident));
	f = run_only(&p, "A5.1", KZ_SIDE_LOCAL);
	assert_remedy(f, 2, "ike policy IKEPOL", "local-id key-id site-a");
	pair_free(&p);

	/* The initiator verifies the responder's name, which the responder
	 * does not send (it sends its address): the responder gets the name. */
	pair_init(&p);
	set_keyid(&ikepol(p.a)->remote_id, "site-b");
	f = run_only(&p, "A5.1", KZ_SIDE_PEER);
	assert_non_null(strstr(f->cause, "203.0.113.2"));
	assert_remedy(f, 2, "ike policy IKEPOL", "local-id key-id site-b");
	/* Expecting an address: the one the initiator connects to. */
	ikepol(p.a)->remote_id.type = KZ_ID_ADDRESS;
	inet_pton(AF_INET, "203.0.113.9", &ikepol(p.a)->remote_id.addr);
	f = run_only(&p, "A5.1", KZ_SIDE_LOCAL);
	assert_remedy(f, 2, "ike policy IKEPOL", "remote-id address 203.0.113.2");
	inet_pton(AF_INET, "203.0.113.2", &ikepol(p.a)->remote_id.addr);
	run_no_ng(&p);
	set_keyid(&ikepol(p.a)->remote_id, "site-b");
	/* ...and once the responder names itself, all is well. */
	set_keyid(&ikepol(p.b)->local_id, "site-b");
	run_no_ng(&p);
	/* Quoting in remedies: a key-id with a space. */
	set_keyid(&ikepol(p.b)->remote_id, "site a");
	f = run_only(&p, "A5.1", KZ_SIDE_PEER);
	assert_remedy(f, 2, "ike policy IKEPOL", "remote-id key-id site-a");
	set_keyid(&ikepol(p.a)->local_id, "site a");
	set_keyid(&ikepol(p.b)->remote_id, "site-a");
	f = run_only(&p, "A5.1", KZ_SIDE_PEER);
	assert_remedy(f, 2, "ike policy IKEPOL", "remote-id key-id \"site a\"");
	pair_free(&p);
}

static void test_cross_a5_2(void **state)
{
	struct pair p;
	const struct kz_finding *f;

	(void)state;
	/* Initiator with remote-id only. */
	pair_init(&p);
	memset(&ikepol(p.a)->local_id, 0, sizeof(struct kz_ident));
	set_keyid(&ikepol(p.a)->remote_id, "site-a");
	f = run_only(&p, "A5.2", KZ_SIDE_LOCAL);
	assert_string_equal(f->text, "ike local-id and remote-id on the wrong side [HQ]");
	assert_remedy(f, 3, "ike policy IKEPOL", "no remote-id", "local-id key-id site-a");
	pair_free(&p);

	/* Responder with local-id only. */
	pair_init(&p);
	memset(&ikepol(p.b)->remote_id, 0, sizeof(struct kz_ident));
	set_keyid(&ikepol(p.b)->local_id, "site-a");
	f = run_only(&p, "A5.2", KZ_SIDE_PEER);
	assert_remedy(f, 3, "ike policy IKEPOL", "no local-id", "remote-id key-id site-a");
	pair_free(&p);

	/* Both swapped: one block per side, nothing else. */
	pair_init(&p);
	memset(&ikepol(p.a)->local_id, 0, sizeof(struct kz_ident));
	set_keyid(&ikepol(p.a)->remote_id, "site-a");
	memset(&ikepol(p.b)->remote_id, 0, sizeof(struct kz_ident));
	set_keyid(&ikepol(p.b)->local_id, "site-a");
	pair_run(&p);
	assert_int_equal(p.fs.n, 2);
	assert_string_equal(p.fs.v[0].id, "A5.2");
	assert_int_equal(p.fs.v[0].side, KZ_SIDE_LOCAL);
	assert_string_equal(p.fs.v[1].id, "A5.2");
	assert_int_equal(p.fs.v[1].side, KZ_SIDE_PEER);
	pair_free(&p);

	/* An initiator with both ids is not on the wrong side. */
	pair_init(&p);
	set_keyid(&ikepol(p.a)->remote_id, "site-b");
	set_keyid(&ikepol(p.b)->local_id, "site-b");
	run_no_ng(&p);
	pair_free(&p);
}

static void test_cross_a5_3(void **state)
{
	struct pair p;
	const struct kz_finding *f;

	(void)state;
	pair_init(&p);
	ipsecpol(p.b)->remote_ts = pfx("192.168.3.0", 24);
	f = run_only(&p, "A5.3", KZ_SIDE_PEER);
	assert_string_equal(f->text, "ipsec policy ids not mirrored [HQ]");
	assert_non_null(strstr(f->cause, "192.168.3.0/24"));
	assert_remedy(f, 2, "ipsec policy IPSECPOL", "remote-id 192.168.1.0/24");
	/* Both wrong: two lines. */
	ipsecpol(p.b)->local_ts = pfx("192.168.4.0", 24);
	f = run_only(&p, "A5.3", KZ_SIDE_PEER);
	assert_remedy(f, 3, "ipsec policy IPSECPOL", "local-id 192.168.2.0/24",
		      "remote-id 192.168.1.0/24");
	/* Main mode runs A5.3 too. */
	ikepol(p.a)->mode = ikepol(p.b)->mode = KZ_MODE_MAIN;
	hq(p.b)->peer_type = KZ_PEER_ADDR;
	f = run_only(&p, "A5.3", KZ_SIDE_LOCAL); /* two initiators: this site */
	pair_free(&p);
}

static void test_cross_a5_4_ike(void **state)
{
	struct pair p;
	const struct kz_finding *f;
	struct kz_ike_proposal *bp;
	int err = 0;

	(void)state;
	pair_init(&p);
	bp = kz_find_ike_proposal(p.b, "IKEP");
	bp->enc = KZ_ENC_AES_CBC_128;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_string_equal(f->text, "no common ike proposal [HQ]");
	assert_non_null(strstr(f->cause, "differ in encryption (aes-cbc-256 / aes-cbc-128)"));
	assert_remedy(f, 2, "ike proposal IKEP", "encryption aes-cbc-256");
	bp->enc = KZ_ENC_AES_CBC_256;
	bp->hash = KZ_HASH_SHA1;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_non_null(strstr(f->cause, "hash (sha2-256 / sha1)"));
	assert_remedy(f, 2, "ike proposal IKEP", "hash sha2-256");
	bp->hash = KZ_HASH_SHA2_256;
	bp->group = KZ_GROUP_ECP256;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_non_null(strstr(f->cause, "group (modp2048 / ecp256)"));
	/* A second proposal in common: fine. */
	assert_non_null(bp = kz_add_ike_proposal(p.b, "IKEP2", &err));
	snprintf(ikepol(p.b)->proposals[1], KZ_NAME_MAX, "IKEP2");
	ikepol(p.b)->nproposals = 2;
	run_no_ng(&p);
	/* Lifetimes differ: a note, not a failure. */
	bp->lifetime = 3600;
	run_no_ng(&p);
	assert_int_equal(p.fs.n, 1);
	assert_int_equal(p.fs.v[0].severity, KZ_SEV_WARN);
	assert_non_null(strstr(p.fs.v[0].text, "lifetime 3600 s"));
	pair_free(&p);
}

static void test_cross_a5_4_esp(void **state)
{
	struct pair p;
	const struct kz_finding *f;
	struct kz_ipsec_proposal *bp;

	(void)state;
	pair_init(&p);
	bp = kz_find_ipsec_proposal(p.b, "ESPP");
	bp->auth = KZ_AUTH_HMAC_SHA1;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_string_equal(f->text, "no common ipsec proposal [HQ]");
	assert_non_null(strstr(f->cause, "authentication (hmac-sha2-256 / hmac-sha1)"));
	assert_remedy(f, 2, "ipsec proposal ESPP", "authentication hmac-sha2-256");
	bp->auth = KZ_AUTH_HMAC_SHA2_256;
	bp->enc = KZ_ENC_AES_CBC_128;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_non_null(strstr(f->cause, "encryption (aes-cbc-256 / aes-cbc-128)"));
	bp->enc = KZ_ENC_AES_CBC_256;
	/* PFS on one side only. */
	ipsecpol(p.b)->pfs = KZ_GROUP_MODP2048;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_string_equal(f->text, "pfs differs [HQ]");
	assert_remedy(f, 2, "ipsec policy IPSECPOL", "pfs none");
	ipsecpol(p.a)->pfs = KZ_GROUP_MODP2048;
	run_no_ng(&p);
	/* Byte lifetimes differ: a note. */
	bp->lifetime_kbytes = 1000;
	run_no_ng(&p);
	assert_int_equal(count_text(&p.fs, "lifetime 1000 KB", NULL), 1);
	pair_free(&p);
}

static void test_cross_a5_4_mode(void **state)
{
	struct pair p;
	const struct kz_finding *f;

	(void)state;
	pair_init(&p);
	ikepol(p.b)->mode = KZ_MODE_MAIN;
	f = run_only(&p, "A5.4", KZ_SIDE_PEER);
	assert_string_equal(f->text, "exchange mode differs [HQ]");
	assert_true(strncmp(f->cause, "exchange mode differs", 21) == 0);
	assert_remedy(f, 2, "ike policy IKEPOL", "exchange-mode aggressive");
	/* The initiator in main mode against an aggressive responder: the
	 * initiator changes (a `peer any` end needs aggressive mode). */
	ikepol(p.b)->mode = KZ_MODE_AGGRESSIVE;
	ikepol(p.a)->mode = KZ_MODE_MAIN;
	f = run_only(&p, "A5.4", KZ_SIDE_LOCAL);
	assert_remedy(f, 2, "ike policy IKEPOL", "exchange-mode aggressive");
	pair_free(&p);
}

static void test_cross_a5_5(void **state)
{
	struct pair p;
	const struct kz_finding *f;
	struct kz_psk *k;

	(void)state;
	pair_init(&p);
	set_psk(ikepol(p.b), "correct horse battery stapler");
	f = run_only(&p, "A5.5", KZ_SIDE_PEER);
	assert_string_equal(f->text, "pre-shared keys differ [HQ]");
	assert_remedy(f, 2, "ike policy IKEPOL", "pre-shared-key ascii <the key site-a.conf uses>");
	/* Never the key itself, anywhere. */
	for (size_t i = 0; i < p.fs.n; i++) {
		assert_null(strstr(p.fs.v[i].text, "horse"));
		assert_null(strstr(p.fs.v[i].cause, "horse"));
		for (unsigned j = 0; j < p.fs.v[i].nremedy; j++)
			assert_null(strstr(p.fs.v[i].remedy[j], "horse"));
	}
	/* Case only: said so. */
	set_psk(ikepol(p.b), "Correct Horse Battery Staple");
	f = run_only(&p, "A5.5", KZ_SIDE_PEER);
	assert_non_null(strstr(f->cause, "only in letter case"));
	/* The same bytes typed as hex: equal. */
	k = &ikepol(p.b)->psk;
	k->hex = true;
	memcpy(k->key, SITE_A_KEY, strlen(SITE_A_KEY));
	run_no_ng(&p);
	/* Unset on one side: that side. */
	ikepol(p.a)->psk.set = false;
	f = run_only(&p, "A5.5", KZ_SIDE_LOCAL);
	assert_remedy(f, 2, "ike policy IKEPOL", "pre-shared-key ascii <the key the peer uses>");
	/* Main mode compares keys too. */
	ikepol(p.a)->psk.set = true;
	ikepol(p.a)->mode = ikepol(p.b)->mode = KZ_MODE_MAIN;
	hq(p.b)->peer_type = KZ_PEER_ADDR;
	set_psk(ikepol(p.b), "something else entirely");
	pair_run(&p);
	only(&p, "A5.5", KZ_SIDE_LOCAL);
	pair_free(&p);
}

static void test_cross_a7_1(void **state)
{
	struct pair p;
	const struct kz_finding *f;

	(void)state;
	pair_init(&p);
	ikepol(p.b)->natt = false;
	f = run_only(&p, "A7.1", KZ_SIDE_PEER);
	assert_string_equal(f->text, "nat-traversal on one side only [HQ]");
	assert_remedy(f, 2, "ike policy IKEPOL", "nat-traversal");
	ikepol(p.b)->natt = true;
	ikepol(p.a)->natt = false;
	pair_run(&p);
	only(&p, "A7.1", KZ_SIDE_LOCAL);
	/* Aggressive only. */
	ikepol(p.a)->mode = ikepol(p.b)->mode = KZ_MODE_MAIN;
	hq(p.b)->peer_type = KZ_PEER_ADDR;
	run_no_ng(&p);
	pair_free(&p);
}

/* Several problems: all reported, in table order. */
static void test_cross_order(void **state)
{
	struct pair p;

	(void)state;
	pair_init(&p);
	ikepol(p.b)->natt = false;                    /* A7.1 */
	set_psk(ikepol(p.b), "another key");          /* A5.5 */
	ipsecpol(p.b)->local_ts = pfx("10.0.0.0", 8); /* A5.3 */
	set_keyid(&ikepol(p.b)->remote_id, "nobody"); /* A5.1 */
	pair_run(&p);
	assert_int_equal(p.fs.n, 4);
	assert_string_equal(p.fs.v[0].id, "A5.1");
	assert_string_equal(p.fs.v[1].id, "A5.3");
	assert_string_equal(p.fs.v[2].id, "A5.5");
	assert_string_equal(p.fs.v[3].id, "A7.1");
	pair_free(&p);
}

/* Objects A4 reports as missing are skipped, not crashed on. */
static void test_cross_missing_objects(void **state)
{
	struct pair p;

	(void)state;
	pair_init(&p);
	snprintf(hq(p.b)->ike_policy, KZ_NAME_MAX, "NOPE");
	snprintf(hq(p.b)->ipsec_policy, KZ_NAME_MAX, "NOPE");
	run_no_ng(&p);
	snprintf(ikepol(p.a)->proposals[0], KZ_NAME_MAX, "NOPE");
	run_no_ng(&p);
	pair_free(&p);
}

/* ---- pairing ------------------------------------------------------------------- */

static struct kz_config *hub(void)
{
	struct kz_config *c = site_b();
	struct kz_ipsec_profile *p;
	struct kz_ike_policy *ip;
	struct kz_ipsec_policy *pol;
	struct kz_if_ipsec *ifc;
	int err = 0;

	/* BRANCH-C first, so a greedy pairing in order would take it. */
	assert_non_null(ip = kz_add_ike_policy(c, "IKE-C", &err));
	*ip = *ikepol(c);
	snprintf(ip->name, KZ_NAME_MAX, "IKE-C");
	set_keyid(&ip->remote_id, "site-c");
	assert_non_null(pol = kz_add_ipsec_policy(c, "POL-C", &err));
	*pol = *ipsecpol(c);
	snprintf(pol->name, KZ_NAME_MAX, "POL-C");
	pol->remote_ts = pfx("192.168.3.0", 24);
	assert_non_null(p = kz_add_profile(c, "BRANCH-C", &err));
	*p = *hq(c);
	snprintf(p->name, KZ_NAME_MAX, "BRANCH-C");
	snprintf(p->ike_policy, KZ_NAME_MAX, "IKE-C");
	snprintf(p->ipsec_policy, KZ_NAME_MAX, "POL-C");
	/* Put BRANCH-C before HQ. */
	{
		struct kz_ipsec_profile t = c->profiles.v[0];

		c->profiles.v[0] = c->profiles.v[1];
		c->profiles.v[1] = t;
	}
	assert_non_null(ifc = kz_add_ipsec_if(c, 1, &err));
	snprintf(ifc->map, KZ_NAME_MAX, "BRANCH-C");
	ifc->shutdown = false;
	return c;
}

static void test_pairing(void **state)
{
	struct kz_config *a = site_a(), *b = site_b(), *h = hub(), *e = kz_config_new();
	struct kz_pairing pr[8];
	size_t n;

	(void)state;
	/* One each: paired, whatever their settings. */
	ipsecpol(b)->remote_ts = pfx("10.0.0.0", 8);
	assert_int_equal(kz_check_pair_profiles(a, b, pr, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(pr[0].local, hq(a));
	assert_ptr_equal(pr[0].peer, hq(b));

	/* Hub first: HQ pairs by selectors, BRANCH-C has no counterpart. */
	assert_int_equal(kz_check_pair_profiles(h, a, pr, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pr[0].local->name, "BRANCH-C");
	assert_null(pr[0].peer);
	assert_string_equal(pr[1].local->name, "HQ");
	assert_ptr_equal(pr[1].peer, hq(a));
	/* Site A first: the hub's leftover profile comes last. */
	assert_int_equal(kz_check_pair_profiles(a, h, pr, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_ptr_equal(pr[0].local, hq(a));
	assert_string_equal(pr[0].peer->name, "HQ");
	assert_null(pr[1].local);
	assert_string_equal(pr[1].peer->name, "BRANCH-C");

	/* Without mirrored selectors, the IKE ids pair them. */
	ipsecpol(h)->remote_ts = pfx("10.0.0.0", 8);
	assert_int_equal(kz_check_pair_profiles(a, h, pr, 8, &n), 0);
	assert_string_equal(pr[0].peer->name, "HQ");
	/* Neither: two responders for one initiator, no pairing by role. */
	set_keyid(&kz_find_ike_policy(h, "IKEPOL")->remote_id, "zzz");
	assert_int_equal(kz_check_pair_profiles(a, h, pr, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_null(pr[0].peer);

	/* Empty peer config: everything unpaired. */
	assert_int_equal(kz_check_pair_profiles(a, e, pr, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_null(pr[0].peer);
	assert_int_equal(kz_check_pair_profiles(e, a, pr, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_null(pr[0].local);
	/* Too small an array. */
	assert_int_equal(kz_check_pair_profiles(a, h, pr, 2, &n), KZ_ENOSPC);

	kz_config_free(a);
	kz_config_free(b);
	kz_config_free(h);
	kz_config_free(e);
}

/* Two-profile sites pair by role when that is the only choice left. */
static void test_pairing_roles(void **state)
{
	struct kz_config *a = site_a(), *b = site_b();
	struct kz_ipsec_profile *x;
	struct kz_pairing pr[8];
	size_t n;
	int err = 0;

	(void)state;
	/* Site B gets a second profile that is also `peer any`: site A's HQ
	 * still pairs with B's HQ by selectors, nothing takes the other. */
	assert_non_null(x = kz_add_profile(b, "SPARE", &err));
	x->peer_type = KZ_PEER_ANY;
	assert_int_equal(kz_check_pair_profiles(a, b, pr, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pr[0].peer->name, "HQ");
	assert_string_equal(pr[1].peer->name, "SPARE");
	/* Break the selectors and ids: two responders, one initiator, no
	 * unique choice, so nothing is paired. */
	ipsecpol(b)->remote_ts = pfx("10.0.0.0", 8);
	set_keyid(&ikepol(b)->remote_id, "zzz");
	assert_int_equal(kz_check_pair_profiles(a, b, pr, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_null(pr[0].peer);
	/* Make SPARE an initiator: then B's HQ is the only responder. */
	x->peer_type = KZ_PEER_ADDR;
	hq(a)->peer_type = KZ_PEER_ANY;
	assert_int_equal(kz_check_pair_profiles(a, b, pr, 8, &n), 0);
	assert_string_equal(pr[0].peer->name, "SPARE");
	kz_config_free(a);
	kz_config_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a4_ok),
		cmocka_unit_test(test_a4_einval),
		cmocka_unit_test(test_a4_1_shutdown),
		cmocka_unit_test(test_a4_1_no_source),
		cmocka_unit_test(test_a4_1_no_device),
		cmocka_unit_test(test_a4_1_live),
		cmocka_unit_test(test_a4_2_shutdown),
		cmocka_unit_test(test_a4_2_no_interface),
		cmocka_unit_test(test_a4_2_live),
		cmocka_unit_test(test_a4_3),
		cmocka_unit_test(test_a4_4),
		cmocka_unit_test(test_a4_5),
		cmocka_unit_test(test_a4_6),
		cmocka_unit_test(test_a4_7),
		cmocka_unit_test(test_a4_order),
		cmocka_unit_test(test_lint_clean),
		cmocka_unit_test(test_lint_retry),
		cmocka_unit_test(test_lint_weak_ike),
		cmocka_unit_test(test_lint_weak_esp),
		cmocka_unit_test(test_lint_aggressive_psk),
		cmocka_unit_test(test_lint_peer_and_route),
		cmocka_unit_test(test_m1_2),
		cmocka_unit_test(test_config_lint),
		cmocka_unit_test(test_psk_bits),
		cmocka_unit_test(test_cross_ok),
		cmocka_unit_test(test_cross_a1_1),
		cmocka_unit_test(test_cross_a5_1),
		cmocka_unit_test(test_cross_a5_2),
		cmocka_unit_test(test_cross_a5_3),
		cmocka_unit_test(test_cross_a5_4_ike),
		cmocka_unit_test(test_cross_a5_4_esp),
		cmocka_unit_test(test_cross_a5_4_mode),
		cmocka_unit_test(test_cross_a5_5),
		cmocka_unit_test(test_cross_a7_1),
		cmocka_unit_test(test_cross_order),
		cmocka_unit_test(test_cross_missing_objects),
		cmocka_unit_test(test_pairing),
		cmocka_unit_test(test_pairing_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
