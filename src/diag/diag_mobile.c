/* diag_mobile.c - A2/M2 below the address when MobileEthernet0.0 follows
 * a modem (`modem`): the modem's own account of why there is none, first
 * failing cause wins, in this order: no modem found; modem failed (SIM
 * missing / SIM error); SIM PIN or PUK required (or the configured PIN
 * refused); searching / registration denied; no or very weak signal;
 * bearer not connected (ModemManager's connection error); connected but
 * the device has no address.  And A1's evidence: the APN and the bearer
 * address. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/mobile_view.h"
#include "diag/diag_int.h"

/* Very weak: no signal, RSRP under -115 dBm, or quality under 10 %. */
static bool signal_too_weak(const struct kz_mobile_view *v)
{
	if (v->rsrp_set)
		return v->rsrp < -115;
	return v->quality < 10;
}

static void signal_text(const struct kz_mobile_view *v, char *out, size_t len)
{
	int n = snprintf(out, len, "signal %s, quality %u%%",
			 kz_mobile_signal_name(kz_mobile_signal_of(v)), v->quality);

	if (v->rsrp_set && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, ", RSRP %.1f dBm", v->rsrp);
}

struct diag_check *diag_a2_modem(struct diag_ctx *x, const char *id)
{
	const struct kz_mobile_view *v = &x->s->modem;
	const char *modem = x->s->cfg->mobile.modem;
	struct diag_check *c = diag_add(x, DIAG_NG, id, TR("MobileEthernet0.0 has no address"));
	char t[160];

	if (!v->bus_ok || !v->mm_running || !v->found) {
		diag_cause(c, TR("no modem found"));
		if (!v->bus_ok)
			diag_evidence(c, "%s", TR("the system bus cannot be reached"));
		else if (!v->mm_running)
			diag_evidence(c, "%s", TR("ModemManager is not running on the system bus"));
		else if (strcmp(modem, "auto"))
			diag_evidence(c, TR("ModemManager shows no modem with IMEI %s"), modem);
		else
			diag_evidence(c, "%s", TR("ModemManager shows no modem"));
		diag_remedy(c, "%s",
			    TR("! plug in the modem and check that ModemManager runs and "
			       "lists it (mmcli -L)"));
		return c;
	}
	if (v->state == KZ_MM_STATE_FAILED) {
		if (v->failed_reason == KZ_MM_FAILED_SIM_MISSING) {
			diag_cause(c, TR("modem failed: SIM missing"));
			diag_remedy(c, "%s", TR("! insert the SIM (power the modem off first)"));
		} else if (v->failed_reason == KZ_MM_FAILED_SIM_ERROR) {
			diag_cause(c, TR("modem failed: SIM error"));
			diag_remedy(c, "%s",
				    TR("! the SIM is unusable (e.g. permanently blocked): ask "
				       "the carrier for a new one"));
		} else {
			diag_cause(c, TR("modem failed: %s"), kz_mm_failed_name(v->failed_reason));
			diag_remedy(c, "%s", TR("! check the modem (mmcli -m any)"));
		}
		diag_evidence(c, TR("modem %s %s (IMEI %s) state failed"), v->manufacturer,
			      v->model, v->imei);
		return c;
	}
	if (v->unlock_required == KZ_MM_LOCK_SIM_PUK || v->unlock_required == KZ_MM_LOCK_SIM_PUK2) {
		diag_cause(c, TR("SIM PUK required: the SIM is blocked after wrong PINs"));
		diag_evidence(c, TR("modem state %s, lock %s"), kz_mm_state_name(v->state),
			      kz_mm_lock_name(v->unlock_required));
		diag_remedy(c, "%s",
			    TR("! unblock the SIM with the PUK from the carrier (mmcli -i any "
			       "--puk=PUK --pin=PIN), then set that PIN:"));
		diag_remedy(c, "interface MobileEthernet0.0");
		diag_remedy(c, "%s", TR("pin <the new PIN>"));
		return c;
	}
	if (v->unlock_required == KZ_MM_LOCK_SIM_PIN || v->state == KZ_MM_STATE_LOCKED) {
		if (v->pin_rejected) {
			diag_cause(c, TR("SIM PIN required: the SIM refused the configured PIN"));
			if (v->pin_retries >= 0)
				diag_evidence(
					c,
					TR("%s; %d attempts left; kizuna does not send it again"),
					v->pin_error, v->pin_retries);
			else
				diag_evidence(c, TR("%s; kizuna does not send it again"),
					      v->pin_error);
		} else if (!x->s->cfg->mobile.pin[0]) {
			diag_cause(c, TR("SIM PIN required and no pin is configured"));
			diag_evidence(c, TR("modem state %s, lock %s"), kz_mm_state_name(v->state),
				      kz_mm_lock_name(v->unlock_required));
		} else {
			diag_cause(c, TR("SIM PIN required: unlocking"));
			diag_evidence(c, TR("modem state %s, lock %s"), kz_mm_state_name(v->state),
				      kz_mm_lock_name(v->unlock_required));
		}
		diag_remedy(c, "interface MobileEthernet0.0");
		diag_remedy(c, "%s", TR("pin <the SIM's PIN>"));
		return c;
	}
	if (v->reg_state == KZ_MM_REG_DENIED) {
		diag_cause(c, TR("registration denied by the network"));
		diag_evidence(c, TR("registration %s, modem state %s"),
			      kz_mm_reg_name(v->reg_state), kz_mm_state_name(v->state));
		diag_remedy(c, "%s",
			    TR("! the SIM's contract is not active or not allowed here: ask the "
			       "carrier"));
		return c;
	}
	if (v->state < KZ_MM_STATE_REGISTERED || !kz_mm_reg_ok(v->reg_state)) {
		diag_cause(c, TR("not registered: searching for a network"));
		signal_text(v, t, sizeof(t));
		diag_evidence(c, TR("registration %s, modem state %s, %s"),
			      kz_mm_reg_name(v->reg_state), kz_mm_state_name(v->state), t);
		diag_remedy(c, "%s",
			    TR("! check the coverage of the carrier here and the antenna"));
		return c;
	}
	if (signal_too_weak(v) && !v->connected) {
		diag_cause(c, TR("no or very weak signal"));
		signal_text(v, t, sizeof(t));
		diag_evidence(c, "%s", t);
		diag_remedy(c, "%s",
			    TR("! move the antenna or the gateway (near a window, higher)"));
		return c;
	}
	if (!v->connected) {
		const char *err = v->connect_error[0] ? v->connect_error : v->conn_error;

		if (!x->s->cfg->mobile.apn[0]) {
			diag_cause(c, TR("bearer not connected: no apn is configured"));
			diag_remedy(c, "interface MobileEthernet0.0");
			diag_remedy(c, "%s", TR("apn <the APN of the SIM's contract>"));
			return c;
		}
		diag_cause(c, TR("bearer not connected (apn %s)"), x->s->cfg->mobile.apn);
		if (err[0])
			diag_evidence(c, TR("ModemManager: %s"), err);
		else
			diag_evidence(c, TR("modem state %s"), kz_mm_state_name(v->state));
		if (strstr(err, "Apn") || strstr(err, "APN")) {
			diag_remedy(c, "%s",
				    TR("! the carrier refused the APN: check it against the SIM's "
				       "contract"));
			diag_remedy(c, "interface MobileEthernet0.0");
			diag_remedy(c, "apn %s", TR("<the APN of the SIM's contract>"));
		} else {
			diag_remedy(c, "%s",
				    TR("! kizuna connects again by itself; check the APN and its "
				       "user and password"));
		}
		return c;
	}
	diag_cause(c, TR("connected but the device has no address"));
	diag_evidence(c, TR("bearer connected on %s, method %s"), v->iface[0] ? v->iface : "-",
		      kz_mm_ip_method_name(v->ip_method));
	diag_remedy(c, "%s",
		    TR("! with method dhcp the system's DHCP client must run on the device"));
	return c;
}

void diag_a1_modem(struct diag_ctx *x, struct diag_check *c)
{
	const struct kz_mobile_view *v = &x->s->modem;
	const struct diag_mobile *m = &x->s->mobile;
	char a[INET_ADDRSTRLEN];

	if (!c || !v->bound || !v->found || !v->connected)
		return;
	/* method dhcp: ModemManager gives no address, the device has it */
	if (v->has_ip)
		diag_evidence(c, TR("apn %s, bearer address %s/%u"), v->apn[0] ? v->apn : "-",
			      inet_ntop(AF_INET, &v->addr, a, sizeof(a)), v->plen);
	else if (m->has_addr)
		diag_evidence(c, TR("apn %s, bearer address %s/%u"), v->apn[0] ? v->apn : "-",
			      inet_ntop(AF_INET, &m->addr, a, sizeof(a)), (unsigned)m->plen);
}
