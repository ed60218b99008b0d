/* test_mobile_model.c - ModemManager's properties into kizuna's view
 * (mobile/mm_model.c) without a bus: what the client flattens from
 * GetManagedObjects and PropertiesChanged, the modem `modem` picks, the
 * bearer and its Ip4Config, since-when, and the plain words of
 * lib/mobile_view.c (signal, state, registration). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/mobile_view.h"
#include "mobile/mm.h"
#include "test_main.h"

#define MODEM0 MM_PATH "/Modem/0"
#define MODEM1 MM_PATH "/Modem/1"
#define SIM0 MM_PATH "/SIM/0"
#define BEARER0 MM_PATH "/Bearer/0"

static void put_s(struct mm_world *w, const char *p, const char *i, const char *k, const char *s,
		  int64_t t)
{
	struct mm_val v = { .type = MM_V_STR, .s = s };

	mm_world_apply(w, p, i, k, &v, t);
}

static void put_o(struct mm_world *w, const char *p, const char *i, const char *k, const char *s)
{
	struct mm_val v = { .type = MM_V_PATH, .s = s };

	mm_world_apply(w, p, i, k, &v, 1);
}

static bool put_u(struct mm_world *w, const char *p, const char *i, const char *k, int64_t u,
		  int64_t t)
{
	struct mm_val v = { .type = MM_V_UINT, .i = u };

	return mm_world_apply(w, p, i, k, &v, t);
}

static void put_i(struct mm_world *w, const char *p, const char *i, const char *k, int64_t n,
		  int64_t t)
{
	struct mm_val v = { .type = MM_V_INT, .i = n };

	mm_world_apply(w, p, i, k, &v, t);
}

static void put_b(struct mm_world *w, const char *p, const char *i, const char *k, bool b,
		  int64_t t)
{
	struct mm_val v = { .type = MM_V_BOOL, .i = b };

	mm_world_apply(w, p, i, k, &v, t);
}

static void put_d(struct mm_world *w, const char *p, const char *i, const char *k, double d)
{
	struct mm_val v = { .type = MM_V_DOUBLE, .d = d };

	mm_world_apply(w, p, i, k, &v, 1);
}

static void reset(struct mm_world *w, const char *p, const char *i, const char *k)
{
	struct mm_val v = { .type = MM_V_RESET };

	mm_world_apply(w, p, i, k, &v, 1);
}

static void modem(struct mm_world *w, const char *path, const char *imei)
{
	put_s(w, path, MM_IFACE_MODEM, "Manufacturer", "Quectel", 1);
	put_s(w, path, MM_IFACE_MODEM, "Model", "EG25-G", 1);
	put_s(w, path, MM_IFACE_MODEM, "Revision", "R07", 1);
	put_s(w, path, MM_IFACE_MODEM, "EquipmentIdentifier", imei, 1);
	put_i(w, path, MM_IFACE_MODEM, "State", KZ_MM_STATE_REGISTERED, 100);
	put_o(w, path, MM_IFACE_MODEM, "Sim", SIM0);
	put_s(w, path, MM_IFACE_3GPP, "Imei", imei, 1);
	put_u(w, path, MM_IFACE_3GPP, "RegistrationState", KZ_MM_REG_HOME, 100);
	put_s(w, path, MM_IFACE_3GPP, "OperatorName", "KZ Mobile", 1);
	put_s(w, path, MM_IFACE_3GPP, "OperatorCode", "44010", 1);
}

static void test_modem_and_sim(void **state)
{
	struct mm_world w;
	struct kz_mobile_view v = { 0 };

	mm_world_clear(&w);
	mm_world_view(&w, "auto", &v);
	assert_false(v.found);
	modem(&w, MODEM0, "356938035643809");
	put_s(&w, SIM0, MM_IFACE_SIM, "SimIdentifier", "8981100000000000001", 1);
	put_s(&w, SIM0, MM_IFACE_SIM, "OperatorName", "KZ Mobile", 1);
	put_u(&w, MODEM0, MM_IFACE_MODEM, "SignalQuality", 80, 5);
	put_u(&w, MODEM0, MM_IFACE_MODEM, "AccessTechnologies", 1u << 14, 1);
	mm_world_view(&w, "auto", &v);
	assert_true(v.found);
	assert_string_equal(v.imei, "356938035643809");
	assert_string_equal(v.manufacturer, "Quectel");
	assert_true(v.sim_present);
	assert_string_equal(v.iccid, "8981100000000000001");
	assert_int_equal(v.state, KZ_MM_STATE_REGISTERED);
	assert_int_equal(v.state_since, 100);
	assert_int_equal(v.reg_state, KZ_MM_REG_HOME);
	assert_string_equal(kz_mm_tech_name(v.access_tech), "lte");
	assert_int_equal(kz_mobile_signal_of(&v), KZ_SIG_EXCELLENT);
	assert_int_equal(v.pin_retries, -1);
	/* the same state again does not move since-when */
	put_i(&w, MODEM0, MM_IFACE_MODEM, "State", KZ_MM_STATE_REGISTERED, 200);
	mm_world_view(&w, "auto", &v);
	assert_int_equal(v.state_since, 100);
	/* "/" is no SIM */
	put_o(&w, MODEM0, MM_IFACE_MODEM, "Sim", "/");
	put_i(&w, MODEM0, MM_IFACE_MODEM, "State", KZ_MM_STATE_FAILED, 300);
	put_u(&w, MODEM0, MM_IFACE_MODEM, "StateFailedReason", KZ_MM_FAILED_SIM_MISSING, 300);
	memset(&v, 0, sizeof(v));
	mm_world_view(&w, "auto", &v);
	assert_false(v.sim_present);
	assert_string_equal(kz_mm_state_name(v.state), "failed");
	assert_string_equal(kz_mm_failed_name(v.failed_reason), "sim-missing");
	assert_int_equal(v.state_since, 300);
}

static void test_pick_by_imei(void **state)
{
	struct mm_world w;
	struct kz_mobile_view v = { 0 };

	mm_world_clear(&w);
	modem(&w, MODEM1, "111111111111111");
	modem(&w, MODEM0, "222222222222222");
	assert_string_equal(mm_world_pick(&w, "auto")->path, MODEM0);
	assert_string_equal(mm_world_pick(&w, "111111111111111")->path, MODEM1);
	assert_null(mm_world_pick(&w, "333333333333333"));
	assert_null(mm_world_pick(&w, ""));
	mm_world_remove(&w, MODEM0);
	assert_string_equal(mm_world_pick(&w, "auto")->path, MODEM1);
	mm_world_view(&w, "333333333333333", &v);
	assert_false(v.found);
}

static void test_bearer_static(void **state)
{
	struct mm_world w;
	struct kz_mobile_view v = { 0 };
	char a[INET_ADDRSTRLEN];

	mm_world_clear(&w);
	modem(&w, MODEM0, "356938035643809");
	reset(&w, MODEM0, MM_IFACE_MODEM, "Bearers");
	put_o(&w, MODEM0, MM_IFACE_MODEM, "Bearers", BEARER0);
	put_s(&w, BEARER0, MM_IFACE_BEARER, "Interface", "wwan0", 1);
	put_b(&w, BEARER0, MM_IFACE_BEARER, "Connected", true, 50);
	reset(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config");
	put_u(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config.method", KZ_MM_IP_STATIC, 1);
	put_s(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config.address", "100.64.0.2", 1);
	put_u(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config.prefix", 24, 1);
	put_s(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config.gateway", "100.64.0.1", 1);
	reset(&w, BEARER0, MM_IFACE_BEARER, "Properties");
	put_s(&w, BEARER0, MM_IFACE_BEARER, "Properties.apn", "internet.example", 1);
	mm_world_view(&w, "auto", &v);
	assert_true(v.bearer);
	assert_true(v.connected);
	assert_string_equal(v.iface, "wwan0");
	assert_string_equal(v.apn, "internet.example");
	assert_true(v.has_ip);
	assert_string_equal(inet_ntop(AF_INET, &v.addr, a, sizeof(a)), "100.64.0.2");
	assert_int_equal(v.plen, 24);
	assert_string_equal(inet_ntop(AF_INET, &v.gateway, a, sizeof(a)), "100.64.0.1");
	assert_int_equal(v.bearer_since, 50);
	/* a drop: Connected false, Ip4Config emptied, the error kept */
	put_b(&w, BEARER0, MM_IFACE_BEARER, "Connected", false, 60);
	reset(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config");
	put_s(&w, BEARER0, MM_IFACE_BEARER, "ConnectionError",
	      "org.freedesktop.ModemManager1.Error.MobileEquipment.MissingOrUnknownApn", 1);
	memset(&v, 0, sizeof(v));
	mm_world_view(&w, "auto", &v);
	assert_false(v.connected);
	assert_false(v.has_ip);
	assert_int_equal(v.bearer_since, 60);
	assert_non_null(strstr(v.conn_error, "MissingOrUnknownApn"));
	/* garbage in the address is no address */
	put_b(&w, BEARER0, MM_IFACE_BEARER, "Connected", true, 70);
	put_s(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config.address", "100.64.0.999", 1);
	put_u(&w, BEARER0, MM_IFACE_BEARER, "Ip4Config.prefix", 24, 1);
	memset(&v, 0, sizeof(v));
	mm_world_view(&w, "auto", &v);
	assert_false(v.has_ip);
}

static void test_signal(void **state)
{
	struct mm_world w;
	struct kz_mobile_view v = { 0 };

	mm_world_clear(&w);
	modem(&w, MODEM0, "356938035643809");
	put_u(&w, MODEM0, MM_IFACE_MODEM, "SignalQuality", 90, 1);
	reset(&w, MODEM0, MM_IFACE_SIGNAL, "Lte");
	put_d(&w, MODEM0, MM_IFACE_SIGNAL, "Lte.rsrp", -117.0);
	put_d(&w, MODEM0, MM_IFACE_SIGNAL, "Lte.rsrq", -9.5);
	put_d(&w, MODEM0, MM_IFACE_SIGNAL, "Lte.snr", 13.0);
	put_d(&w, MODEM0, MM_IFACE_SIGNAL, "Lte.rssi", -60.0);
	mm_world_view(&w, "auto", &v);
	assert_true(v.rsrp_set && v.rsrq_set && v.sinr_set && v.rssi_set);
	/* RSRP decides over the quality percentage */
	assert_string_equal(kz_mobile_signal_name(kz_mobile_signal_of(&v)), "poor");
	v.rsrp = -85;
	assert_string_equal(kz_mobile_signal_name(kz_mobile_signal_of(&v)), "good");
	v.rsrp = -95;
	assert_string_equal(kz_mobile_signal_name(kz_mobile_signal_of(&v)), "fair");
	v.rsrp_set = false;
	v.quality = 0;
	assert_string_equal(kz_mobile_signal_name(kz_mobile_signal_of(&v)), "none");
	/* a new Lte dictionary without rsrp forgets it */
	reset(&w, MODEM0, MM_IFACE_SIGNAL, "Lte");
	memset(&v, 0, sizeof(v));
	mm_world_view(&w, "auto", &v);
	assert_false(v.rsrp_set);
}

static void test_names_and_junk(void **state)
{
	struct mm_world w;
	struct mm_val v = { .type = MM_V_STR, .s = NULL };

	assert_string_equal(kz_mm_reg_name(KZ_MM_REG_ROAMING), "roaming");
	assert_true(kz_mm_reg_roaming(KZ_MM_REG_ROAMING));
	assert_true(kz_mm_reg_ok(KZ_MM_REG_ROAMING));
	assert_false(kz_mm_reg_ok(KZ_MM_REG_SEARCHING));
	assert_string_equal(kz_mm_reg_name(999), "unknown");
	assert_string_equal(kz_mm_state_name(-7), "unknown");
	assert_string_equal(kz_mm_lock_name(KZ_MM_LOCK_SIM_PIN), "sim-pin");
	assert_string_equal(kz_mm_tech_name(0), "unknown");
	mm_world_clear(&w);
	/* NULL strings, unknown interfaces, a path too long: ignored */
	mm_world_apply(&w, MODEM0, MM_IFACE_MODEM, "Manufacturer", &v, 1);
	assert_false(mm_world_apply(&w, MODEM0, "org.example.Other", "State", &v, 1));
	assert_false(mm_world_apply(NULL, MODEM0, MM_IFACE_MODEM, "State", &v, 1));
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		assert_false(mm_world_apply(&w, longp, MM_IFACE_BEARER, "Connected", &v, 1));
	}
	/* more objects than kept: the rest is dropped, nothing overflows */
	for (int i = 0; i < 3 * MM_MAX_BEARERS; i++) {
		char p[64];

		snprintf(p, sizeof(p), MM_PATH "/Bearer/%d", i);
		put_b(&w, p, MM_IFACE_BEARER, "Connected", true, 1);
	}
	for (int i = 0; i < 3 * MM_MAX_BEARERS; i++)
		put_o(&w, MODEM0, MM_IFACE_MODEM, "Bearers", BEARER0);
	assert_true(w.modems[0].nbearers <= MM_MAX_BEARERS);
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_modem_and_sim), cmocka_unit_test(test_pick_by_imei),
	     cmocka_unit_test(test_bearer_static), cmocka_unit_test(test_signal),
	     cmocka_unit_test(test_names_and_junk))
