/* mobile_view.c - names and plain judgements of the modem's view
 * (lib/mobile_view.h), shared by `show mobile` and diagnose. */
#include <arpa/inet.h>

#include "lib/mobile_view.h"

const char *kz_mm_state_name(int state)
{
	static const char *const n[] = { "unknown",    "initializing",  "locked",     "disabled",
					 "disabling",  "enabling",      "enabled",    "searching",
					 "registered", "disconnecting", "connecting", "connected" };

	if (state == KZ_MM_STATE_FAILED)
		return "failed";
	return state >= 0 && state < (int)(sizeof(n) / sizeof(n[0])) ? n[state] : "unknown";
}

const char *kz_mm_failed_name(unsigned reason)
{
	static const char *const n[] = { "none",
					 "unknown",
					 "sim-missing",
					 "sim-error",
					 "unknown-capabilities",
					 "esim-without-profiles" };

	return reason < sizeof(n) / sizeof(n[0]) ? n[reason] : "unknown";
}

const char *kz_mm_lock_name(unsigned lock)
{
	static const char *const n[] = { "unknown",  "none",    "sim-pin",
					 "sim-pin2", "sim-puk", "sim-puk2" };

	return lock < sizeof(n) / sizeof(n[0]) ? n[lock] : "other";
}

const char *kz_mm_reg_name(unsigned reg)
{
	static const char *const n[] = { "idle",
					 "home",
					 "searching",
					 "denied",
					 "unknown",
					 "roaming",
					 "home-sms-only",
					 "roaming-sms-only",
					 "emergency-only",
					 "home-csfb-not-preferred",
					 "roaming-csfb-not-preferred",
					 "attached-rlos" };

	return reg < sizeof(n) / sizeof(n[0]) ? n[reg] : "unknown";
}

const char *kz_mm_ip_method_name(unsigned m)
{
	static const char *const n[] = { "unknown", "ppp", "static", "dhcp" };

	return m < sizeof(n) / sizeof(n[0]) ? n[m] : "unknown";
}

const char *kz_mm_tech_name(unsigned bits)
{
	static const struct {
		unsigned bit;
		const char *name;
	} t[] = {
		{ 1u << 15, "5gnr" },       { 1u << 14, "lte" },      { 1u << 16, "lte-cat-m" },
		{ 1u << 17, "lte-nb-iot" }, { 1u << 9, "hspa-plus" }, { 1u << 8, "hspa" },
		{ 1u << 7, "hsupa" },       { 1u << 6, "hsdpa" },     { 1u << 5, "umts" },
		{ 1u << 4, "edge" },        { 1u << 3, "gprs" },      { 1u << 2, "gsm-compact" },
		{ 1u << 1, "gsm" },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (bits & t[i].bit)
			return t[i].name;
	return "unknown";
}

/* LTE RSRP: -80 dBm and above excellent, -90 good, -100 fair, below
 * poor (the usual field-engineering bands); without RSRP the quality. */
enum kz_mobile_signal kz_mobile_signal_of(const struct kz_mobile_view *v)
{
	if (v->rsrp_set) {
		if (v->rsrp >= -80)
			return KZ_SIG_EXCELLENT;
		if (v->rsrp >= -90)
			return KZ_SIG_GOOD;
		if (v->rsrp >= -100)
			return KZ_SIG_FAIR;
		return v->rsrp > -140 ? KZ_SIG_POOR : KZ_SIG_NONE;
	}
	if (v->quality >= 75)
		return KZ_SIG_EXCELLENT;
	if (v->quality >= 50)
		return KZ_SIG_GOOD;
	if (v->quality >= 25)
		return KZ_SIG_FAIR;
	return v->quality ? KZ_SIG_POOR : KZ_SIG_NONE;
}

const char *kz_mobile_signal_name(enum kz_mobile_signal s)
{
	static const char *const n[] = { "none", "poor", "fair", "good", "excellent" };

	return n[s];
}

bool kz_mm_reg_ok(unsigned reg)
{
	return reg == KZ_MM_REG_HOME || reg == KZ_MM_REG_ROAMING ||
		reg == KZ_MM_REG_HOME_CSFB_NOT_PREFERRED ||
		reg == KZ_MM_REG_ROAMING_CSFB_NOT_PREFERRED;
}

bool kz_mm_reg_roaming(unsigned reg)
{
	return reg == KZ_MM_REG_ROAMING || reg == KZ_MM_REG_ROAMING_SMS_ONLY ||
		reg == KZ_MM_REG_ROAMING_CSFB_NOT_PREFERRED;
}
