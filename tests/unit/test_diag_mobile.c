/* test_diag_mobile.c - A2/M2 below the address with a modem
 * (diag/diag_mobile.c): each cause in the order of the checklist, the
 * first failing one winning, in aggressive (A2.2) and main mode (M2.2);
 * A1's evidence from the bearer; without `modem` the old texts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config/model.h"
#include "diag/diag.h"
#include "lib/mobile_view.h"
#include "cfg_chain.h"
#include "test_main.h"

struct fx {
	struct kz_config *cfg;
	struct diag_snapshot s;
	struct diag_report rep;
};

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* Site A, no address on MobileEthernet0.0, a modem that is fine: each
 * test breaks one thing. */
static void fx_init(struct fx *f, bool aggressive)
{
	struct cfg_chain k;
	struct kz_mobile_view *v = &f->s.modem;

	memset(f, 0, sizeof(*f));
	f->cfg = kz_config_new();
	assert_non_null(f->cfg);
	f->cfg->mobile.present = true;
	strcpy(f->cfg->mobile.modem, "auto");
	strcpy(f->cfg->mobile.apn, "internet.example");
	strcpy(f->cfg->mobile.pin, "1234");
	assert_true(cfg_chain_add(f->cfg, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", "HQ", 0));
	k.pol->mode = aggressive ? KZ_MODE_AGGRESSIVE : KZ_MODE_MAIN;
	cfg_chain_psk(k.pol, "correct horse battery staple");
	k.pr->peer_type = KZ_PEER_ADDR;
	k.pr->peer_addr = ip("203.0.113.2");
	f->s.cfg = f->cfg;
	f->s.now = 1700000000;
	v->bound = v->bus_ok = v->mm_running = v->found = true;
	strcpy(v->manufacturer, "Quectel");
	strcpy(v->model, "EG25-G");
	strcpy(v->imei, "356938035643809");
	v->state = KZ_MM_STATE_REGISTERED;
	v->unlock_required = KZ_MM_LOCK_NONE;
	v->pin_retries = 3;
	v->sim_present = true;
	v->reg_state = KZ_MM_REG_HOME;
	v->quality = 80;
	v->bearer = true;
	strcpy(v->apn, "internet.example");
}

/* The first [NG]: its id and cause. */
static const struct diag_check *first_ng(struct fx *f)
{
	const struct diag_profile_report *p;

	diag_report_free(&f->rep);
	memset(&f->rep, 0, sizeof(f->rep));
	assert_int_equal(diag_run(&f->s, NULL, &f->rep), 0);
	assert_int_equal(f->rep.n, 1);
	p = &f->rep.v[0];
	for (size_t i = 0; i < p->nchecks; i++)
		if (p->checks[i].result == DIAG_NG)
			return &p->checks[i];
	return NULL;
}

static void expect_cause(struct fx *f, const char *id, const char *cause)
{
	const struct diag_check *c = first_ng(f);

	assert_non_null(c);
	if (strcmp(c->id, id) || !strstr(c->cause, cause))
		fail_msg("first NG %s '%s', want %s '%s'", c->id, c->cause, id, cause);
}

static void fx_free(struct fx *f)
{
	diag_report_free(&f->rep);
	kz_config_free(f->cfg);
}

static void run_order(bool aggressive)
{
	const char *id = aggressive ? "A2.2" : "M2.2";
	struct fx f;
	struct kz_mobile_view *v = &f.s.modem;

	fx_init(&f, aggressive);
	/* all wrong at once, then fixed one by one: each cause in turn */
	v->bus_ok = false;
	v->state = KZ_MM_STATE_FAILED;
	v->failed_reason = KZ_MM_FAILED_SIM_MISSING;
	expect_cause(&f, id, "no modem found");
	assert_non_null(strstr(first_ng(&f)->evidence, "system bus"));
	v->bus_ok = true;
	v->mm_running = false;
	expect_cause(&f, id, "no modem found");
	assert_non_null(strstr(first_ng(&f)->evidence, "not running"));
	v->mm_running = true;
	v->found = false;
	strcpy(f.cfg->mobile.modem, "111111111111111");
	expect_cause(&f, id, "no modem found");
	assert_non_null(strstr(first_ng(&f)->evidence, "IMEI 111111111111111"));
	v->found = true;
	expect_cause(&f, id, "modem failed: SIM missing");
	v->failed_reason = KZ_MM_FAILED_SIM_ERROR;
	expect_cause(&f, id, "modem failed: SIM error");
	v->state = KZ_MM_STATE_LOCKED;
	v->unlock_required = KZ_MM_LOCK_SIM_PUK;
	expect_cause(&f, id, "SIM PUK required");
	v->unlock_required = KZ_MM_LOCK_SIM_PIN;
	v->pin_rejected = true;
	strcpy(v->pin_error, "IncorrectPassword");
	v->pin_retries = 2;
	expect_cause(&f, id, "refused the configured PIN");
	assert_non_null(strstr(first_ng(&f)->evidence, "2 attempts left"));
	/* the PIN itself is never in the report */
	assert_null(strstr(first_ng(&f)->evidence, "1234"));
	v->pin_rejected = false;
	f.cfg->mobile.pin[0] = '\0';
	expect_cause(&f, id, "no pin is configured");
	v->unlock_required = KZ_MM_LOCK_NONE;
	v->state = KZ_MM_STATE_REGISTERED;
	v->reg_state = KZ_MM_REG_DENIED;
	expect_cause(&f, id, "registration denied");
	v->reg_state = KZ_MM_REG_SEARCHING;
	v->state = KZ_MM_STATE_SEARCHING;
	expect_cause(&f, id, "searching for a network");
	v->state = KZ_MM_STATE_REGISTERED;
	v->reg_state = KZ_MM_REG_ROAMING;
	v->rsrp_set = true;
	v->rsrp = -120;
	expect_cause(&f, id, "no or very weak signal");
	assert_non_null(strstr(first_ng(&f)->evidence, "RSRP -120.0 dBm"));
	v->rsrp = -85;
	strcpy(v->connect_error,
	       "org.freedesktop.ModemManager1.Error.MobileEquipment.MissingOrUnknownApn");
	expect_cause(&f, id, "bearer not connected (apn internet.example)");
	assert_non_null(strstr(first_ng(&f)->evidence, "MissingOrUnknownApn"));
	assert_string_equal(first_ng(&f)->remedy[2], "apn <the APN of the SIM's contract>");
	f.cfg->mobile.apn[0] = '\0';
	expect_cause(&f, id, "no apn is configured");
	strcpy(f.cfg->mobile.apn, "internet.example");
	v->connected = true;
	strcpy(v->iface, "wwan0");
	v->ip_method = KZ_MM_IP_DHCP;
	expect_cause(&f, id, "connected but the device has no address");
	/* shutdown comes first of all */
	f.cfg->mobile.shutdown = true;
	expect_cause(&f, aggressive ? "A2.1" : "M2.1", "shut down");
	fx_free(&f);
}

static void test_order_aggressive(void **state)
{
	run_order(true);
}

static void test_order_main(void **state)
{
	run_order(false);
}

static void test_a1_evidence(void **state)
{
	struct fx f;
	struct kz_mobile_view *v = &f.s.modem;
	const struct diag_profile_report *p;
	const struct diag_check *a1 = NULL;

	fx_init(&f, true);
	v->connected = v->has_ip = true;
	v->addr = ip("100.64.0.2");
	v->plen = 24;
	f.s.mobile.exists = f.s.mobile.admin_up = f.s.mobile.lower_up = true;
	f.s.mobile.has_addr = true;
	f.s.mobile.addr = v->addr;
	f.s.mobile.plen = 24;
	assert_int_equal(diag_run(&f.s, NULL, &f.rep), 0);
	p = &f.rep.v[0];
	for (size_t i = 0; i < p->nchecks; i++)
		if (!strcmp(p->checks[i].id, "A1"))
			a1 = &p->checks[i];
	assert_non_null(a1);
	assert_non_null(strstr(a1->evidence, "apn internet.example, bearer address 100.64.0.2/24"));
	fx_free(&f);
}

/* Without `modem` the device's causes stay as they were. */
static void test_without_modem(void **state)
{
	struct fx f;

	fx_init(&f, true);
	memset(&f.s.modem, 0, sizeof(f.s.modem));
	f.cfg->mobile.modem[0] = '\0';
	expect_cause(&f, "A2.2", "no Linux device is bound");
	fx_free(&f);
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_order_aggressive), cmocka_unit_test(test_order_main),
	     cmocka_unit_test(test_a1_evidence), cmocka_unit_test(test_without_modem))
