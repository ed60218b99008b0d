/* show_mobile.c - `show mobile [json]`: the modem behind
 * MobileEthernet0.0 as ModemManager reports it (mobile.c keeps it), and
 * the one-line summary `show ip address` prints under the interface. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/emit.h"
#include "lib/mobile_view.h"
#include "daemon/daemon.h"

/* "2026-12-05 19:52:13 UTC" or "-". */
static const char *when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		return "-";
	return buf;
}

/* Why there is no modem to show, or NULL. */
static const char *absent(const struct kz_mobile_view *v)
{
	if (!v->bound)
		return "no modem is configured (interface MobileEthernet0.0: modem auto | IMEI)";
	if (!v->bus_ok)
		return "no modem found: the system bus cannot be reached";
	if (!v->mm_running)
		return "no modem found: ModemManager is not running";
	if (!v->found)
		return "no modem found";
	return NULL;
}

void kzd_mobile_summary(struct kzd *d, char *out, size_t len)
{
	struct kz_mobile_view v;
	const char *why;
	char a[INET_ADDRSTRLEN];

	out[0] = '\0';
	kzd_mobile_view(d, &v);
	if (!v.bound)
		return;
	if ((why = absent(&v))) {
		snprintf(out, len, "%s", why);
		return;
	}
	if (v.connected && v.has_ip)
		snprintf(out, len, "%s %s %s, %s, %s, signal %s, bearer connected, apn %s, %s/%u",
			 v.manufacturer, v.model, v.imei, kz_mm_state_name(v.state),
			 kz_mm_reg_name(v.reg_state),
			 kz_mobile_signal_name(kz_mobile_signal_of(&v)), v.apn,
			 inet_ntop(AF_INET, &v.addr, a, sizeof(a)), v.plen);
	else
		snprintf(out, len, "%s %s %s, %s, %s, signal %s, bearer %s", v.manufacturer,
			 v.model, v.imei, kz_mm_state_name(v.state), kz_mm_reg_name(v.reg_state),
			 kz_mobile_signal_name(kz_mobile_signal_of(&v)),
			 v.connected ? "connected" : "not connected");
}

static int x_show_mobile(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = s->opaque;
	struct kz_mobile_view v;
	const char *why;
	char t[40], addr[INET_ADDRSTRLEN + 4], ab[INET_ADDRSTRLEN];
	const struct kz_if_mobile *cfg = &d->running->mobile;

	kzd_mobile_view(d, &v);
	emit_obj_begin(e, NULL);
	emit_str(e, "modem_config", cfg->modem, NULL);
	if ((why = absent(&v))) {
		emit_bool(e, "found", false, NULL);
		emit_str(e, "reason", why, "%s\n", why);
		emit_obj_end(e);
		return 0;
	}
	emit_bool(e, "found", true, NULL);
	emit_str(e, "path", v.path, NULL);
	emit_obj_begin(e, "modem");
	emit_str(e, "manufacturer", v.manufacturer, "Modem: %s", v.manufacturer);
	emit_str(e, "model", v.model, " %s", v.model);
	emit_str(e, "imei", v.imei, ", IMEI %s", v.imei);
	emit_str(e, "firmware", v.revision, ", firmware %s\n", v.revision);
	emit_str(e, "state", kz_mm_state_name(v.state), "  state: %s", kz_mm_state_name(v.state));
	if (v.state == KZ_MM_STATE_FAILED)
		emit_str(e, "failed_reason", kz_mm_failed_name(v.failed_reason), " (%s)",
			 kz_mm_failed_name(v.failed_reason));
	else
		emit_null(e, "failed_reason", NULL);
	emit_int(e, "state_since", v.state_since, " since %s\n", when(v.state_since, t, sizeof(t)));
	emit_obj_end(e);

	emit_obj_begin(e, "sim");
	emit_bool(e, "present", v.sim_present, "SIM: %s", v.sim_present ? "present" : "missing");
	emit_str(e, "lock", kz_mm_lock_name(v.unlock_required), ", lock %s",
		 kz_mm_lock_name(v.unlock_required));
	if (v.pin_retries >= 0)
		emit_int(e, "pin_retries", v.pin_retries, " (%d PIN attempts left)", v.pin_retries);
	emit_bool(e, "pin_configured", cfg->pin[0] != '\0', NULL);
	emit_bool(e, "pin_rejected", v.pin_rejected,
		  v.pin_rejected ? ", configured PIN refused" : NULL);
	emit_str(e, "iccid", v.iccid, v.sim_present ? ", ICCID %s" : NULL, v.iccid);
	emit_str(e, "operator", v.sim_operator, v.sim_operator[0] ? ", operator %s" : NULL,
		 v.sim_operator);
	emit_text(e, "\n");
	emit_obj_end(e);

	emit_obj_begin(e, "registration");
	emit_str(e, "state", kz_mm_reg_name(v.reg_state), "Registration: %s",
		 kz_mm_reg_name(v.reg_state));
	emit_str(e, "operator_name", v.op_name, v.op_name[0] ? ", operator %s" : NULL, v.op_name);
	emit_str(e, "operator_code", v.op_code, v.op_code[0] ? " (%s)" : NULL, v.op_code);
	emit_bool(e, "roaming", kz_mm_reg_roaming(v.reg_state), ", roaming %s",
		  kz_mm_reg_roaming(v.reg_state) ? "yes" : "no");
	emit_int(e, "since", v.reg_since, ", since %s\n", when(v.reg_since, t, sizeof(t)));
	emit_obj_end(e);
	emit_str(e, "access_technology", kz_mm_tech_name(v.access_tech), "Access technology: %s\n",
		 kz_mm_tech_name(v.access_tech));

	emit_obj_begin(e, "signal");
	emit_str(e, "level", kz_mobile_signal_name(kz_mobile_signal_of(&v)), "Signal: %s",
		 kz_mobile_signal_name(kz_mobile_signal_of(&v)));
	emit_u64(e, "quality", v.quality, ", quality %u%%", v.quality);
	if (v.rsrp_set)
		emit_double(e, "rsrp", v.rsrp, ", RSRP %.1f dBm", v.rsrp);
	if (v.rsrq_set)
		emit_double(e, "rsrq", v.rsrq, ", RSRQ %.1f dB", v.rsrq);
	if (v.sinr_set)
		emit_double(e, "sinr", v.sinr, ", SINR %.1f dB", v.sinr);
	if (v.rssi_set)
		emit_double(e, "rssi", v.rssi, ", RSSI %.1f dBm", v.rssi);
	emit_int(e, "since", v.signal_since, ", since %s\n", when(v.signal_since, t, sizeof(t)));
	emit_obj_end(e);

	emit_obj_begin(e, "bearer");
	emit_str(e, "apn", v.bearer ? v.apn : cfg->apn, "Bearer: apn %s",
		 v.bearer ? v.apn : (cfg->apn[0] ? cfg->apn : "-"));
	emit_bool(e, "connected", v.connected, ", %s", v.connected ? "connected" : "not connected");
	emit_str(e, "device", v.iface, v.iface[0] ? ", device %s" : NULL, v.iface);
	if (v.has_ip) {
		snprintf(addr, sizeof(addr), "%s/%u", inet_ntop(AF_INET, &v.addr, ab, sizeof(ab)),
			 v.plen);
		emit_str(e, "address", addr, ", %s", addr);
		emit_str(e, "address_class", kz_addr_class_name(kz_addr_classify(v.addr)), " (%s)",
			 kz_addr_class_name(kz_addr_classify(v.addr)));
	} else {
		emit_null(e, "address", NULL);
		emit_null(e, "address_class", NULL);
	}
	emit_str(e, "ip_method", kz_mm_ip_method_name(v.ip_method),
		 v.connected ? ", method %s" : NULL, kz_mm_ip_method_name(v.ip_method));
	emit_int(e, "since", v.bearer_since, ", since %s\n", when(v.bearer_since, t, sizeof(t)));
	if (v.conn_error[0] || v.connect_error[0]) {
		const char *err = v.connect_error[0] ? v.connect_error : v.conn_error;

		emit_str(e, "error", err, "  last error: %s\n", err);
	} else {
		emit_null(e, "error", NULL);
	}
	if (v.next_connect && !v.connected)
		emit_int(e, "next_attempt", v.next_connect, "  next attempt: %s (back-off %u s)\n",
			 when(v.next_connect, t, sizeof(t)), v.backoff);
	emit_obj_end(e);
	emit_obj_end(e);
	return 0;
}

static const struct cli_cmd mobile_cmds[] = {
	{ CLI_IN(CLI_NODE_EXEC), "show mobile [json]",
	  "The modem of MobileEthernet0.0: SIM, registration, signal, bearer",
	  .exec = x_show_mobile },
};

void kzd_mobile_commands_install(void)
{
	cli_install(mobile_cmds, sizeof(mobile_cmds) / sizeof(mobile_cmds[0]));
}
