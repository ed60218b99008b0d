/* mm_model.c - ModemManager's objects as kizuna keeps them (mobile/mm.h):
 * typed values in, a plain view out.  No bus, no clock of its own. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "mobile/mm.h"

void mm_world_clear(struct mm_world *w)
{
	memset(w, 0, sizeof(*w));
}

#define FIND_OR_ADD(arr, n, path, add)                                         \
	({                                                                     \
		__typeof__(&(arr)[0]) r_ = NULL, free_ = NULL;                 \
		for (unsigned i_ = 0; i_ < (n); i_++) {                        \
			if ((arr)[i_].used && !strcmp((arr)[i_].path, (path))) \
				r_ = &(arr)[i_];                               \
			else if (!(arr)[i_].used && !free_)                    \
				free_ = &(arr)[i_];                            \
		}                                                              \
		if (!r_ && (add) && free_ && strlen(path) < MM_PATH_MAX) {     \
			memset(free_, 0, sizeof(*free_));                      \
			free_->used = true;                                    \
			kz_strlcpy(free_->path, (path), sizeof(free_->path));  \
			r_ = free_;                                            \
		}                                                              \
		r_;                                                            \
	})

static struct mm_modem *modem_at(struct mm_world *w, const char *path, bool add)
{
	struct mm_modem *m = FIND_OR_ADD(w->modems, MM_MAX_MODEMS, path, false);

	if (m || !add)
		return m;
	m = FIND_OR_ADD(w->modems, MM_MAX_MODEMS, path, true);
	if (m)
		m->pin_retries = -1; /* unknown until UnlockRetries says */
	return m;
}

/* Copies a string value; true if it changed. */
static bool set_str(char *dst, size_t len, const struct mm_val *v)
{
	const char *s = v->type == MM_V_STR || v->type == MM_V_PATH ? v->s : "";

	if (!s)
		s = "";
	if (!strncmp(dst, s, len - 1) && strlen(s) < len)
		return false;
	kz_strlcpy(dst, s, len);
	return true;
}

static bool set_uint(unsigned *dst, const struct mm_val *v)
{
	unsigned u = v->type == MM_V_UINT || v->type == MM_V_INT || v->type == MM_V_BOOL
		? (unsigned)v->i
		: 0;

	if (*dst == u)
		return false;
	*dst = u;
	return true;
}

static bool set_double(bool *set, double *dst, const struct mm_val *v)
{
	if (v->type != MM_V_DOUBLE) {
		bool was = *set;

		*set = false;
		return was;
	}
	if (*set && *dst == v->d)
		return false;
	*set = true;
	*dst = v->d;
	return true;
}

static bool apply_modem(struct mm_modem *m, const char *key, const struct mm_val *v, int64_t now)
{
	bool ch = false;

	if (!strcmp(key, "Manufacturer"))
		return set_str(m->manufacturer, sizeof(m->manufacturer), v);
	if (!strcmp(key, "Model"))
		return set_str(m->model, sizeof(m->model), v);
	if (!strcmp(key, "Revision"))
		return set_str(m->revision, sizeof(m->revision), v);
	if (!strcmp(key, "EquipmentIdentifier")) {
		if (!m->has_3gpp || !m->imei[0])
			return set_str(m->imei, sizeof(m->imei), v);
		return false;
	}
	if (!strcmp(key, "State")) {
		int s = v->type == MM_V_INT || v->type == MM_V_UINT ? (int)v->i : 0;

		if (s != m->state || !m->state_since) {
			ch = s != m->state;
			m->state = s;
			m->state_since = now;
		}
		return ch;
	}
	if (!strcmp(key, "StateFailedReason"))
		return set_uint(&m->failed_reason, v);
	if (!strcmp(key, "UnlockRequired"))
		return set_uint(&m->unlock_required, v);
	if (!strcmp(key, "UnlockRetries")) { /* reset */
		m->pin_retries = -1;
		return false;
	}
	if (!strcmp(key, "UnlockRetries.2")) { /* MM_MODEM_LOCK_SIM_PIN */
		unsigned u = 0;

		set_uint(&u, v);
		ch = m->pin_retries != (int)u;
		m->pin_retries = (int)u;
		return ch;
	}
	if (!strcmp(key, "AccessTechnologies"))
		return set_uint(&m->access_tech, v);
	if (!strcmp(key, "SignalQuality")) {
		ch = set_uint(&m->quality, v);
		if (ch || !m->signal_since)
			m->signal_since = now;
		return ch;
	}
	if (!strcmp(key, "Sim"))
		return set_str(m->sim, sizeof(m->sim), v);
	if (!strcmp(key, "Bearers")) {
		if (v->type == MM_V_RESET) {
			m->nbearers = 0;
			return true;
		}
		if (v->type == MM_V_PATH && v->s && m->nbearers < MM_MAX_BEARERS)
			kz_strlcpy(m->bearers[m->nbearers++], v->s, MM_PATH_MAX);
		return true;
	}
	return false;
}

static bool apply_3gpp(struct mm_modem *m, const char *key, const struct mm_val *v, int64_t now)
{
	if (!strcmp(key, "Imei")) {
		m->has_3gpp = true;
		return set_str(m->imei, sizeof(m->imei), v);
	}
	if (!strcmp(key, "RegistrationState")) {
		bool ch = set_uint(&m->reg_state, v);

		if (ch || !m->reg_since)
			m->reg_since = now;
		return ch;
	}
	if (!strcmp(key, "OperatorName"))
		return set_str(m->op_name, sizeof(m->op_name), v);
	if (!strcmp(key, "OperatorCode"))
		return set_str(m->op_code, sizeof(m->op_code), v);
	return false;
}

/* Signal: Lte (rsrp, rsrq, snr, rssi), Nr5g (rsrp, rsrq, snr), Umts and
 * Gsm (rssi).  Each dictionary resets what it reports. */
static bool apply_signal(struct mm_modem *m, const char *key, const struct mm_val *v, int64_t now)
{
	bool ch = false;

	m->has_signal = true;
	if (!strcmp(key, "Rate"))
		return set_uint(&m->signal_rate, v);
	if (!strcmp(key, "Lte") && v->type == MM_V_RESET) {
		ch = m->rsrp_set || m->rsrq_set || m->sinr_set;
		m->rsrp_set = m->rsrq_set = m->sinr_set = false;
	} else if (!strcmp(key, "Lte.rsrp") || !strcmp(key, "Nr5g.rsrp"))
		ch = set_double(&m->rsrp_set, &m->rsrp, v);
	else if (!strcmp(key, "Lte.rsrq") || !strcmp(key, "Nr5g.rsrq"))
		ch = set_double(&m->rsrq_set, &m->rsrq, v);
	else if (!strcmp(key, "Lte.snr") || !strcmp(key, "Nr5g.snr"))
		ch = set_double(&m->sinr_set, &m->sinr, v);
	else if (!strcmp(key, "Lte.rssi") || !strcmp(key, "Umts.rssi") || !strcmp(key, "Gsm.rssi"))
		ch = set_double(&m->rssi_set, &m->rssi, v);
	if (ch)
		m->signal_since = now;
	return ch;
}

static bool apply_bearer(struct mm_bearer *b, const char *key, const struct mm_val *v, int64_t now)
{
	bool ch = false;

	if (!strcmp(key, "Interface"))
		return set_str(b->iface, sizeof(b->iface), v);
	if (!strcmp(key, "Connected")) {
		bool c = v->type == MM_V_BOOL && v->i;

		if (c != b->connected || !b->since) {
			ch = c != b->connected;
			b->connected = c;
			b->since = now;
		}
		return ch;
	}
	if (!strcmp(key, "ConnectionError"))
		return set_str(b->conn_error, sizeof(b->conn_error), v);
	if (!strcmp(key, "ConnectionError.message"))
		return set_str(b->conn_error_msg, sizeof(b->conn_error_msg), v);
	if (!strcmp(key, "Properties.apn"))
		return set_str(b->apn, sizeof(b->apn), v);
	if (!strcmp(key, "Ip4Config") && v->type == MM_V_RESET) {
		ch = b->ip_method || b->addr[0];
		b->ip_method = b->plen = 0;
		b->addr[0] = b->gateway[0] = '\0';
		return ch;
	}
	if (!strcmp(key, "Ip4Config.method"))
		return set_uint(&b->ip_method, v);
	if (!strcmp(key, "Ip4Config.address"))
		return set_str(b->addr, sizeof(b->addr), v);
	if (!strcmp(key, "Ip4Config.prefix"))
		return set_uint(&b->plen, v);
	if (!strcmp(key, "Ip4Config.gateway"))
		return set_str(b->gateway, sizeof(b->gateway), v);
	return false;
}

bool mm_world_apply(struct mm_world *w, const char *path, const char *iface, const char *key,
		    const struct mm_val *v, int64_t now)
{
	if (!w || !path || !iface || !key || !v)
		return false;
	if (!strcmp(iface, MM_IFACE_MODEM)) {
		struct mm_modem *m = modem_at(w, path, true);

		return m && apply_modem(m, key, v, now);
	}
	if (!strcmp(iface, MM_IFACE_3GPP)) {
		struct mm_modem *m = modem_at(w, path, true);

		return m && apply_3gpp(m, key, v, now);
	}
	if (!strcmp(iface, MM_IFACE_SIGNAL)) {
		struct mm_modem *m = modem_at(w, path, true);

		return m && apply_signal(m, key, v, now);
	}
	if (!strcmp(iface, MM_IFACE_SIM)) {
		struct mm_sim *s = FIND_OR_ADD(w->sims, MM_MAX_SIMS, path, true);

		if (!s)
			return false;
		if (!strcmp(key, "SimIdentifier"))
			return set_str(s->iccid, sizeof(s->iccid), v);
		if (!strcmp(key, "OperatorName"))
			return set_str(s->op_name, sizeof(s->op_name), v);
		return false;
	}
	if (!strcmp(iface, MM_IFACE_BEARER)) {
		struct mm_bearer *b = FIND_OR_ADD(w->bearers, MM_MAX_BEARERS, path, true);

		return b && apply_bearer(b, key, v, now);
	}
	return false;
}

void mm_world_remove(struct mm_world *w, const char *path)
{
	struct mm_modem *m = FIND_OR_ADD(w->modems, MM_MAX_MODEMS, path, false);
	struct mm_sim *s = FIND_OR_ADD(w->sims, MM_MAX_SIMS, path, false);
	struct mm_bearer *b = FIND_OR_ADD(w->bearers, MM_MAX_BEARERS, path, false);

	if (m)
		memset(m, 0, sizeof(*m));
	if (s)
		memset(s, 0, sizeof(*s));
	if (b)
		memset(b, 0, sizeof(*b));
}

const struct mm_modem *mm_world_pick(const struct mm_world *w, const char *sel)
{
	const struct mm_modem *best = NULL;

	if (!sel || !sel[0])
		return NULL;
	for (unsigned i = 0; i < MM_MAX_MODEMS; i++) {
		const struct mm_modem *m = &w->modems[i];

		if (!m->used)
			continue;
		if (strcmp(sel, "auto") != 0) {
			if (!strcmp(m->imei, sel))
				return m;
			continue;
		}
		if (!best || strcmp(m->path, best->path) < 0)
			best = m;
	}
	return best;
}

static const struct mm_bearer *bearer_at(const struct mm_world *w, const char *path)
{
	for (unsigned i = 0; i < MM_MAX_BEARERS; i++)
		if (w->bearers[i].used && !strcmp(w->bearers[i].path, path))
			return &w->bearers[i];
	return NULL;
}

void mm_world_view(const struct mm_world *w, const char *sel, struct kz_mobile_view *v)
{
	const struct mm_modem *m = mm_world_pick(w, sel);
	const struct mm_bearer *b = NULL;

	v->found = m != NULL;
	v->pin_retries = -1;
	if (!m)
		return;
	kz_strlcpy(v->path, m->path, sizeof(v->path));
	kz_strlcpy(v->manufacturer, m->manufacturer, sizeof(v->manufacturer));
	kz_strlcpy(v->model, m->model, sizeof(v->model));
	kz_strlcpy(v->imei, m->imei, sizeof(v->imei));
	kz_strlcpy(v->revision, m->revision, sizeof(v->revision));
	v->state = m->state;
	v->failed_reason = m->failed_reason;
	v->state_since = m->state_since;
	v->unlock_required = m->unlock_required;
	v->pin_retries = m->pin_retries;
	v->sim_present = m->sim[0] && strcmp(m->sim, "/") != 0;
	if (v->sim_present)
		for (unsigned i = 0; i < MM_MAX_SIMS; i++)
			if (w->sims[i].used && !strcmp(w->sims[i].path, m->sim)) {
				kz_strlcpy(v->iccid, w->sims[i].iccid, sizeof(v->iccid));
				kz_strlcpy(v->sim_operator, w->sims[i].op_name,
					   sizeof(v->sim_operator));
			}
	v->reg_state = m->reg_state;
	v->reg_since = m->reg_since;
	kz_strlcpy(v->op_name, m->op_name, sizeof(v->op_name));
	kz_strlcpy(v->op_code, m->op_code, sizeof(v->op_code));
	v->access_tech = m->access_tech;
	v->quality = m->quality;
	v->rsrp_set = m->rsrp_set;
	v->rsrq_set = m->rsrq_set;
	v->sinr_set = m->sinr_set;
	v->rssi_set = m->rssi_set;
	v->rsrp = m->rsrp;
	v->rsrq = m->rsrq;
	v->sinr = m->sinr;
	v->rssi = m->rssi;
	v->signal_since = m->signal_since;
	for (unsigned i = 0; i < m->nbearers; i++) {
		const struct mm_bearer *x = bearer_at(w, m->bearers[i]);

		if (x && (!b || (x->connected && !b->connected)))
			b = x;
	}
	v->bearer = b != NULL;
	if (!b)
		return;
	kz_strlcpy(v->bearer_path, b->path, sizeof(v->bearer_path));
	kz_strlcpy(v->apn, b->apn, sizeof(v->apn));
	v->connected = b->connected;
	kz_strlcpy(v->iface, b->iface, sizeof(v->iface));
	kz_strlcpy(v->conn_error, b->conn_error, sizeof(v->conn_error));
	kz_strlcpy(v->conn_error_msg, b->conn_error_msg, sizeof(v->conn_error_msg));
	v->ip_method = b->ip_method;
	v->has_ip = b->connected && inet_pton(AF_INET, b->addr, &v->addr) == 1 && b->plen &&
		b->plen <= 32;
	v->plen = v->has_ip ? b->plen : 0;
	if (inet_pton(AF_INET, b->gateway, &v->gateway) != 1)
		v->gateway.s_addr = 0;
	v->bearer_since = b->since;
}
