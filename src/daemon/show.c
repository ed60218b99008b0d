/* show.c - the exec commands of the console, on live state: the running
 * config, the kernel's view of the interfaces and routes (netlink), the SA
 * tables and the config check.  Formats: shared/spec/show-output.md, each
 * written once through the emitter (lib/emit.h) for text and JSON.  The
 * table of the commands is at the end of this file. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/render.h"
#include "ike/ike.h"
#include "ike/prof_hash.h"
#include "lib/emit.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "net/netlink.h"
#include "daemon/daemon.h"

static struct kzd *sess_daemon(struct cli_session *s)
{
	return s->opaque;
}

/* ---- interfaces ---- */

struct ifview {
	char name[24];   /* MobileEthernet0.0, IPsec0 */
	char device[16]; /* the Linux device */
	struct kz_link_state st;
	bool bound;      /* a Linux device is configured / exists */
	char modem[256]; /* MobileEthernet0.0 with `modem`: the one-line summary */
};

static void ifview_get(const char *name, const char *device, struct ifview *v)
{
	memset(v, 0, sizeof(*v));
	kz_strlcpy(v->name, name, sizeof(v->name));
	if (device && device[0]) {
		kz_strlcpy(v->device, device, sizeof(v->device));
		v->bound = kz_net_link_get(device, &v->st) == 0 && v->st.exists;
	}
}

/* "up", "administratively down", or "down" (up but no carrier, or no
 * such device). */
static const char *ifview_state(const struct ifview *v)
{
	if (!v->bound)
		return "down";
	if (!v->st.admin_up)
		return "administratively down";
	return v->st.lower_up ? "up" : "down";
}

/* One interface: "Interface X is up", "IP address" and its addresses. */
static void show_if(const struct ifview *v, struct emit *e)
{
	const char *state = ifview_state(v);
	bool admin_down = !strcmp(state, "administratively down");
	char a[INET_ADDRSTRLEN + 4];

	emit_obj_begin(e, NULL);
	emit_str(e, "interface", v->name, "Interface %s", v->name);
	emit_str(e, "device", v->device, NULL);
	emit_bool(e, "present", v->bound, NULL);
	emit_str(e, "state", state, " is %s\n", state);
	emit_bool(e, "admin_up", v->st.admin_up, NULL);
	emit_bool(e, "lower_up", v->st.lower_up, NULL);
	emit_u64(e, "mtu", v->st.mtu, NULL);
	if (!admin_down)
		emit_text(e, "IP address\n");
	if (!admin_down && (!v->bound || v->st.naddr == 0))
		emit_text(e, "none\n");
	emit_list_begin(e, "addresses");
	for (size_t i = 0; v->bound && i < v->st.naddr; i++) {
		char s[INET_ADDRSTRLEN];

		snprintf(a, sizeof(a), "%s/%u",
			 inet_ntop(AF_INET, &v->st.addr[i].addr, s, sizeof(s)), v->st.addr[i].plen);
		emit_str(e, NULL, a, admin_down ? NULL : "%s\n", a);
	}
	emit_list_end(e);
	if (v->modem[0])
		emit_str(e, "modem", v->modem, "Modem: %s\n", v->modem);
	emit_obj_end(e);
}

static int show_ip_address(struct kzd *d, const struct cli_args *a, struct emit *e)
{
	const struct kz_config *c = d->running;
	const char *want = cli_arg(a, "IPsec<N>");
	bool want_mobile = cli_has(a, "MobileEthernet0.0");
	bool none = true;
	struct ifview v;

	emit_obj_begin(e, NULL);
	emit_list_begin(e, "interfaces");
	if (!want) {
		ifview_get(KZ_MOBILE_IFNAME, c->mobile.device, &v);
		kzd_mobile_summary(d, v.modem, sizeof(v.modem));
		show_if(&v, e);
		none = false;
	}
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF && !want_mobile; u++) {
		char name[16], dev[16];

		if (!kz_find_ipsec_if(c, u))
			continue;
		if (want && cli_parse_ipsec_if(want) != u)
			continue;
		snprintf(name, sizeof(name), "IPsec%u", u);
		kzd_tun_name(u, dev, sizeof(dev));
		ifview_get(name, d->tun[u].open ? dev : NULL, &v);
		show_if(&v, e);
		none = false;
	}
	if (want && none) {
		emit_error(e, "%% no interface %s\n", want);
		return KZ_ENOENT;
	}
	emit_list_end(e);
	emit_obj_end(e);
	return 0;
}

/* The IPsec<N> whose fail-closed route rt is (apply.c), or -1. */
static int route_failclosed_unit(const struct kzd *d, const struct kz_net_route *rt)
{
	if (rt->protocol != KZ_RTPROT || rt->type != KZ_NET_RTN_UNREACHABLE ||
	    rt->metric != KZ_RTMETRIC_FAILCLOSED)
		return -1;
	for (size_t k = 0; k < d->running->routes.n; k++) {
		const struct kz_route *c = &d->running->routes.v[k];

		if (c->via == KZ_VIA_IPSEC && c->dest.len == rt->plen &&
		    c->dest.addr.s_addr == rt->dst.s_addr)
			return (int)c->ipsec_unit;
	}
	return -1;
}

static int show_ip_route(struct kzd *d, const struct cli_args *a, struct emit *e)
{
	struct kz_net_route *rt = NULL;
	size_t n = 0;
	int r = kz_net_route_list(&rt, &n);

	if (r < 0) {
		emit_error(e, "%% cannot read the routing table: %s\n", kz_strerror(r));
		return r;
	}
	emit_obj_begin(e, NULL);
	emit_text(e, "Codes: K - kernel, S - static (kizuna), C - connected\n");
	emit_list_begin(e, "routes");
	for (size_t i = 0; i < n; i++) {
		char dst[32], addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
		char iface[24], fcname[24];
		char code = rt[i].protocol == KZ_RTPROT ? 'S' : rt[i].scope == 253 ? 'C' : 'K';
		int fc = route_failclosed_unit(d, &rt[i]);
		const char *type = kz_net_route_type_name(rt[i].type);
		unsigned metric = (unsigned)rt[i].metric;

		inet_ntop(AF_INET, &rt[i].dst, addr, sizeof(addr));
		snprintf(dst, sizeof(dst), "%s/%u", addr, rt[i].plen);
		inet_ntop(AF_INET, &rt[i].gw, gw, sizeof(gw));
		kz_strlcpy(iface, rt[i].oif_name, sizeof(iface));
		/* Name kizuna's devices as the console does. */
		if (!strncmp(iface, "ipsec", 5))
			snprintf(iface, sizeof(iface), "IPsec%s", rt[i].oif_name + 5);
		else if (d->running->mobile.device[0] && !strcmp(iface, d->running->mobile.device))
			kz_strlcpy(iface, KZ_MOBILE_IFNAME, sizeof(iface));
		snprintf(fcname, sizeof(fcname), "IPsec%d", fc);
		if (fc >= 0)
			/* Not a route of its own in the config: the one beneath
			 * `ip route ... IPsec<N>` that refuses the prefix while
			 * the route through the device is missing. */
			emit_text(e, "%c  %s is unreachable, metric %u (fail-closed for %s)\n",
				  code, dst, metric, fcname);
		else if (rt[i].type != KZ_NET_RTN_UNICAST)
			emit_text(e, "%c  %s is %s\n", code, dst, type);
		else if (rt[i].has_gw)
			emit_text(e, "%c  %s via %s, %s\n", code, dst, gw, iface);
		else
			emit_text(e, "%c  %s is directly connected, %s\n", code, dst, iface);
		emit_obj_begin(e, NULL);
		emit_str(e, "destination", dst, NULL);
		emit_str(e, "gateway", rt[i].has_gw ? gw : NULL, NULL);
		emit_str(e, "interface", iface, NULL);
		emit_bool(e, "kizuna", rt[i].protocol == KZ_RTPROT, NULL);
		emit_str(e, "type", type, NULL);
		emit_u64(e, "metric", metric, NULL);
		if (fc >= 0)
			emit_str(e, "fail_closed", fcname, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_obj_end(e);
	free(rt);
	return 0;
}

/* ---- config check ---- */

static bool tun_up(unsigned unit, void *arg)
{
	struct kzd *d = arg;
	struct kz_link_state st;

	if (!d->tun[unit].open || kz_net_link_get(d->tun[unit].ifname, &st) < 0)
		return false;
	return st.admin_up;
}

int kzd_check_profile(struct kzd *d, const struct kz_ipsec_profile *p, struct kz_finding *f)
{
	struct kz_check_env env = { .live = true, .ipsec_if_up = tun_up, .arg = d };
	struct ifview v;

	ifview_get(KZ_MOBILE_IFNAME, d->running->mobile.device, &v);
	env.mobile_up = v.bound && v.st.admin_up && v.st.lower_up;
	env.mobile_has_addr = v.bound && v.st.naddr > 0;
	return kz_check_profile(d->running, p, &env, f);
}

void kzd_log_checks(struct kzd *d)
{
	const struct kz_config *c = d->running;
	char **next = calloc(c->profiles.n ? c->profiles.n : 1, sizeof(*next));

	if (!next)
		return;
	for (size_t i = 0; i < c->profiles.n; i++) {
		struct kz_finding f;
		char line[KZ_FINDING_TEXT_MAX + KZ_NAME_MAX + 8];
		bool same = false;

		kzd_check_profile(d, &c->profiles.v[i], &f);
		snprintf(line, sizeof(line), "%s : %s", c->profiles.v[i].name, f.text);
		for (size_t k = 0; k < d->nlast_check; k++)
			same |= d->last_check[k] && !strcmp(d->last_check[k], line);
		if (!same)
			log_info("config check: %s", line);
		next[i] = strdup(line);
	}
	for (size_t k = 0; k < d->nlast_check; k++)
		free(d->last_check[k]);
	free(d->last_check);
	d->last_check = next;
	d->nlast_check = c->profiles.n;
}

void kzd_log_warnings(struct kzd *d)
{
	struct kz_findings fs;

	kz_findings_init(&fs);
	kz_check_config_lint(d->running, &fs);
	for (size_t i = 0; i < fs.n; i++)
		if (fs.v[i].severity == KZ_SEV_WARN || fs.v[i].severity == KZ_SEV_NG)
			log_warn("config: %s%s%s", fs.v[i].id[0] ? fs.v[i].id : "",
				 fs.v[i].id[0] ? " " : "", fs.v[i].text);
	kz_findings_free(&fs);
}

static const char *role_text(const struct kz_ipsec_profile *p)
{
	switch (p->peer_type) {
	case KZ_PEER_ANY:
		return "responder";
	case KZ_PEER_ADDR:
	case KZ_PEER_FQDN:
		return "initiator";
	default:
		return "no peer";
	}
}

/* A console edit changed what the profile's SAs are made from, and IKE
 * has not taken it yet (edit.c). */
static bool kzd_edit_pending(struct kzd *d, const char *name)
{
	uint8_t a[IKE_PROF_FP_LEN], b[IKE_PROF_FP_LEN];

	if (!d->ike_cfg)
		return false;
	if (ike_prof_fingerprint(d->running, name, a) < 0)
		return false;
	if (ike_prof_fingerprint(d->ike_cfg, name, b) < 0)
		return true; /* a new profile */
	return memcmp(a, b, sizeof(a)) != 0;
}

static void show_profile(struct kzd *d, const struct kz_ipsec_profile *p, bool detail,
			 struct emit *e, struct strbuf *tail)
{
	const struct kz_config *c = d->running;
	const struct kz_if_ipsec *map = kz_find_if_mapping(c, p->name);
	const struct kz_ike_policy *ike = kz_find_ike_policy(c, p->ike_policy);
	const char *role = role_text(p);
	const char *initiate = p->initiate == KZ_INITIATE_ON_DEMAND ? "on-demand" : "auto";
	const char *mode = ike ? (ike->mode == KZ_MODE_AGGRESSIVE ? "aggressive" : "main") : NULL;
	struct kz_findings warn;
	struct kz_finding f;
	char peer[KZ_IDVAL_MAX], mapped[16];

	kzd_check_profile(d, p, &f);
	kz_findings_init(&warn);
	kz_check_profile_lint(c, p, &warn);
	kz_profile_peer_str(p, peer, sizeof(peer));
	if (map)
		snprintf(mapped, sizeof(mapped), "IPsec%u", map->unit);
	else
		kz_strlcpy(mapped, "-", sizeof(mapped));
	emit_obj_begin(e, NULL);
	emit_str(e, "profile", p->name, "IPsec profile %s\n", p->name);
	emit_str(e, "peer", peer, "  peer: %s", peer);
	emit_str(e, "role", role, " (%s)\n", role);
	emit_str(e, "source_interface", p->source_set ? KZ_MOBILE_IFNAME : NULL,
		 "  source interface: %s\n", p->source_set ? KZ_MOBILE_IFNAME : "-");
	emit_str(e, "ike_policy", p->ike_policy, "  IKE policy: %s",
		 p->ike_policy[0] ? p->ike_policy : "-");
	emit_str(e, "exchange_mode", mode, ike ? " (%s mode)\n" : "%s\n",
		 ike ? kz_mode_name(ike->mode) : "");
	emit_str(e, "ipsec_policy", p->ipsec_policy, "  IPsec policy: %s\n",
		 p->ipsec_policy[0] ? p->ipsec_policy : "-");
	emit_str(e, "interface", map ? mapped : NULL, "  mapped interface: %s\n", mapped);
	emit_obj_begin(e, "check");
	emit_str(e, "id", f.id, NULL);
	emit_bool(e, "ok", f.severity == KZ_SEV_OK, NULL);
	emit_str(e, "text", f.text, NULL);
	emit_obj_end(e);
	emit_str(e, "initiate", initiate, "  initiate: %s\n", initiate);
	emit_u64(e, "retry_interval", p->retry_interval, "  retry: interval %u s, ",
		 p->retry_interval);
	emit_u64(e, "retry_max", p->retry_max, "max %u s\n", p->retry_max);
	/* the state is on the screen after the warnings, in JSON before */
	emit_null(e, "state", NULL);
	emit_list_begin(e, "warnings");
	for (size_t k = 0; k < warn.n; k++)
		if (warn.v[k].severity == KZ_SEV_WARN)
			emit_str(e, NULL, warn.v[k].text, "  warning: %s\n", warn.v[k].text);
	emit_list_end(e);
	ike_emit_profile_state(d->ike, "state", p->name, e);
	/* only while pending, so the usual screen stays as it was */
	if (kzd_edit_pending(d, p->name))
		emit_bool(e, "change_pending", true,
			  "  change pending: negotiated again when configuration mode is left or "
			  "after 3 s without input\n");
	/* what the peer sent, the failure history */
	if (detail)
		ike_emit_profile_detail(d->ike, "detail", p->name, e);
	emit_obj_end(e);
	/* the config check lines come last, after all profiles */
	kz_check_show_line(&f, tail);
	kz_findings_free(&warn);
}

static int show_ipsec_profile(struct kzd *d, const struct cli_args *a, struct emit *e)
{
	const struct kz_config *c = d->running;
	const char *want = cli_arg(a, "PROFILE");
	struct strbuf tail;
	int shown = 0;

	sb_init(&tail);
	emit_obj_begin(e, NULL);
	emit_list_begin(e, "profiles");
	for (size_t i = 0; i < c->profiles.n; i++) {
		if (want && strcmp(want, c->profiles.v[i].name))
			continue;
		show_profile(d, &c->profiles.v[i], cli_has(a, "detail"), e, &tail);
		shown++;
	}
	emit_list_end(e);
	emit_obj_end(e);
	if (want && !shown)
		emit_error(e, "%% no ipsec profile %s\n", want);
	else if (shown)
		emit_text(e, "\n%s", sb_str(&tail));
	sb_free(&tail);
	return want && !shown ? KZ_ENOENT : 0;
}

static void show_ike_statistics(struct kzd *d, const struct cli_args *a, struct emit *e)
{
	struct ike_counters c;
	const struct {
		const char *name, *key;
		const uint64_t *v;
	} rows[] = {
		{ "received", "rx", &c.rx },
		{ "sent", "tx", &c.tx },
		{ "retransmitted", "retransmits", &c.retransmits },
		{ "dropped malformed", "drop_malformed", &c.drop_malformed },
		{ "dropped for no SA", "drop_unknown_sa", &c.drop_unknown_sa },
		{ "dropped undecryptable", "drop_decrypt", &c.drop_decrypt },
		{ "dropped bad hash", "drop_hash", &c.drop_hash },
		{ "dropped out of state", "drop_state", &c.drop_state },
		{ "dropped over the half-open limit", "drop_half_open_limit",
		  &c.drop_half_open_limit },
		{ "dropped matching no profile", "drop_no_profile", &c.drop_no_profile },
		/* the DH worker pool: a full queue or an exchange already
		 * waiting for its result drops the message (the peer
		 * retransmits); a result whose exchange is gone is stale */
		{ "handled with DH on the worker pool", "dh_async", &c.dh_async },
		{ "dropped with the DH queue full", "drop_dh_busy", &c.drop_dh_busy },
		{ "dropped while waiting for DH", "drop_dh_pending", &c.drop_dh_pending },
		{ "abandoned before their DH result", "dh_stale", &c.dh_stale },
	};

	ike_get_counters(d->ike, &c);
	emit_obj_begin(e, NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		emit_u64(e, rows[i].key, *rows[i].v, "IKE messages %s: %llu\n", rows[i].name,
			 (unsigned long long)*rows[i].v);
	emit_obj_end(e);
}

/* ---- write memory: temp file + fsync + rename; the previous file is
 * kept as <file>.bak. ---- */

/* The startup file holds keys: 0600, and the previous one is kept as
 * <file>.bak, a copy (a hard link would keep the old file's mode and
 * owner), made once the new text is on disk and before it replaces the
 * file. */
int kzd_save_config(struct kzd *d, const char *text, size_t len)
{
	char bak[4200];
	struct kzd_file f;

	if (privmsg_broker)
		return kzd_privsep_save(d, text, len); /* the parent runs this */
	if (snprintf(bak, sizeof(bak), "%s.bak", d->config_path) >= (int)sizeof(bak)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (kzd_file_begin(&f, d->config_path, 0600) < 0)
		return -1;
	if (kzd_file_write(&f, text, len) < 0 || fsync(f.fd) < 0) {
		kzd_file_abort(&f);
		return -1;
	}
	if (access(d->config_path, F_OK) == 0 &&
	    kzd_file_copy(d->config_path, false, 1 << 24, bak, 0600, true) < 0)
		log_warn("write memory: cannot keep the previous file as %s: %s", bak,
			 strerror(errno));
	if (kzd_file_commit(&f, false) < 0)
		return -1;
	kzd_archive_save(d, text, len); /* archive.c: the last 10 */
	return 0;
}

static int write_memory(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	struct strbuf text;
	int r = 0;

	sb_init(&text);
	kz_render_config(d->running, &text);
	emit_text(e, "Building configuration...\n");
	if (kzd_save_config(d, text.s, text.len) < 0)
		goto fail;
	emit_text(e, "[OK]\n");
	log_info("write memory: running config saved to %s", d->config_path);
	goto out;
fail:
	emit_text(e, "%% cannot write %s: %s\n", d->config_path, strerror(errno));
	log_err("write memory: %s: %s", d->config_path, strerror(errno));
	r = KZ_EIO;
out:
	kz_wipe(text.s, text.len);
	sb_free(&text);
	return r;
}

/* ---- show logging, debug ike ---- */

struct log_walk {
	struct emit *e;
	const char *profile;
	size_t plen;
	unsigned n;
};

/* A line is a profile's when it starts with "PROFILE: ". */
static void log_line(void *arg, long long when, enum kz_log_level lvl, const char *text)
{
	struct log_walk *w = arg;
	time_t t = (time_t)when;
	struct tm tm;
	char stamp[32];

	if (w->profile && (strncmp(text, w->profile, w->plen) || strncmp(text + w->plen, ": ", 2)))
		return;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	emit_obj_begin(w->e, NULL);
	emit_str(w->e, "time", stamp, "%s ", stamp);
	emit_str(w->e, "level", kz_log_level_name(lvl), "%s: ", kz_log_level_name(lvl));
	emit_str(w->e, "text", text, "%s\n", text);
	emit_obj_end(w->e);
	w->n++;
}

static int x_logging(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct log_walk w = { e, cli_arg(a, "PROFILE"), 0, 0 };

	if (w.profile)
		w.plen = strlen(w.profile);
	emit_list_begin(e, "lines");
	kz_log_ring_each(log_line, &w);
	emit_list_end(e);
	return 0;
}

static int x_debug_ike(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	const char *p = cli_arg(a, "PROFILE");

	ike_debug_set(d->ike, true, p);
	emit_text(e, "IKE message trace on%s%s (no debug ike: off)\n", p ? " for " : "",
		  p ? p : "");
	return 0;
}

static int x_no_debug_ike(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	ike_debug_set(sess_daemon(s)->ike, false, NULL);
	emit_text(e, "IKE message trace off\n");
	return 0;
}

/* ---- router habits: show version, show startup-config, the saved state,
 * per-profile clear ---- */

static struct timespec started; /* when the commands were installed */

static int x_version(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	struct timespec now;
	unsigned long up;

	clock_gettime(CLOCK_MONOTONIC, &now);
	up = (unsigned long)(now.tv_sec - started.tv_sec);
	emit_obj_begin(e, NULL);
	emit_str(e, "version", KZ_VERSION, "kizuna IPsec VPN gateway, version %s\n", KZ_VERSION);
	emit_str(e, "hostname", d->running->hostname, "%s", d->running->hostname);
	emit_u64(e, "uptime_seconds", up, " uptime is %lu days, %lu hours, %lu minutes\n",
		 up / 86400, up / 3600 % 24, up / 60 % 60);
	emit_str(e, "startup_config", d->config_path, "Startup configuration: %s\n",
		 d->config_path);
	emit_u64(e, "workers", kzd_dataplane_workers(d), "Data-plane workers: %u\n",
		 kzd_dataplane_workers(d));
	emit_obj_end(e);
	return 0;
}

static int x_startup_config(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	size_t len = 0;
	char *t = kzd_file_read(d, 0, &len);

	if (!t) {
		emit_error(e, "%% cannot read %s: %s\n", d->config_path, strerror(errno));
		return KZ_EIO;
	}
	sb_putn(e->out, t, len);
	kz_wipe(t, len);
	free(t);
	return 0;
}

bool kzd_config_unsaved(struct kzd *d)
{
	size_t len = 0;
	char *t = kzd_file_read(d, 0, &len);
	struct kz_config *saved = NULL;
	struct cli_load_error le;
	size_t nerr = 0;
	bool diff = true;

	/* Compared as configs, not as text: a hand-written file that says
	 * the same as the running config is saved. */
	if (t && cli_load_text(t, len, &saved, &le, 1, &nerr) == 0 && saved) {
		struct strbuf a, b;

		sb_init(&a);
		sb_init(&b);
		kz_render_config(d->running, &a);
		kz_render_config(saved, &b);
		diff = a.len != b.len || memcmp(a.s, b.s, a.len) != 0;
		kz_wipe(a.s, a.len);
		kz_wipe(b.s, b.len);
		sb_free(&a);
		sb_free(&b);
	}
	kz_config_free(saved);
	if (t) {
		kz_wipe(t, len);
		free(t);
	}
	return diff;
}

static int x_config_status(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	bool unsaved = kzd_config_unsaved(d);

	emit_obj_begin(e, NULL);
	emit_bool(e, "unsaved", unsaved, "%s\n",
		  unsaved ? "Running configuration: changed since the last write memory"
			  : "Running configuration: saved");
	emit_str(e, "startup_config", d->config_path, NULL);
	emit_obj_end(e);
	return 0;
}

/* ---- show tech-support: what support asks for, in one screen ---- */

/* The running config with every pre-shared key replaced by <hidden>. */
static void put_config_masked(const char *text, size_t len, struct strbuf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
		const char *p = text + i;
		size_t k = strspn(p, " ");

		if (l > k + 15 && !strncmp(p + k, "pre-shared-key ", 15)) {
			const char *kind = p + k + 15;
			size_t kl = strcspn(kind, " \n");

			sb_printf(out, "%.*spre-shared-key %.*s <hidden>\n", (int)k, p, (int)kl,
				  kind);
		} else {
			sb_putn(out, p, l);
		}
		i += l;
	}
}

static int x_tech_support(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	static const char *const cmds[] = {
		"show version",
		"show running-config",
		"show ip address",
		"show ip route",
		"show ike sa",
		"show ipsec sa",
		"show ipsec profile detail",
		"show ike statistics",
		"show ipsec statistics",
		"show logging",
		"diagnose ipsec",
	};
	struct cli_session sub = *s;
	struct strbuf one;

	sb_init(&one);
	sub.node = CLI_NODE_EXEC;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct cli_error err;
		int r;

		sb_reset(&one);
		r = cli_execute(&sub, cmds[i], &one, &err);
		/* a command this build has not (show logging): left out */
		if (r < 0 && strstr(err.msg, "unexpected") && !one.len)
			continue;
		sb_printf(e->out, "\n------------------ %s ------------------\n\n", cmds[i]);
		if (!strcmp(cmds[i], "show running-config"))
			put_config_masked(one.s ? one.s : "", one.len, e->out);
		else if (one.len)
			sb_putn(e->out, one.s, one.len);
		if (r < 0 && err.msg[0])
			sb_printf(e->out, "%% %s\n", err.msg);
	}
	if (one.s)
		kz_wipe(one.s, one.cap);
	sb_free(&one);
	return 0;
}

/* ---- the exec commands ---- */

static int x_running_config(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);

	/* the config text is the config language, not a show layout; keys
	 * only when an admin asks for them */
	if (cli_has(a, "secrets") && s->read_only) {
		emit_error(e, "%% not allowed: only an admin sees the keys\n");
		return KZ_ENOTSUP;
	}
	if (emit_is_json(e))
		kz_render_config_json(d->running, e->out);
	else if (cli_has(a, "secrets"))
		kz_render_config(d->running, e->out);
	else
		kz_render_config_hidden(d->running, e->out);
	return 0;
}

static int x_ip_address(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	return show_ip_address(sess_daemon(s), a, e);
}

static int x_ip_route(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	return show_ip_route(sess_daemon(s), a, e);
}

static int x_ike_sa(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	ike_emit_ike_sa(sess_daemon(s)->ike, e);
	return 0;
}

static int x_ike_statistics(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	show_ike_statistics(sess_daemon(s), a, e);
	return 0;
}

static int x_ipsec_sa(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	ike_emit_ipsec_sa(sess_daemon(s)->ike, e);
	return 0;
}

static int x_ipsec_profile(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	return show_ipsec_profile(sess_daemon(s), a, e);
}

static int x_ipsec_statistics(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	kzd_dataplane_show_stats(sess_daemon(s), e);
	return 0;
}

static int x_clear_ike_sa(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	const char *p = cli_arg(a, "A.B.C.D");
	struct in_addr peer;
	int r;

	if (p)
		inet_pton(AF_INET, p, &peer);
	r = ike_clear_ike(d->ike, p ? &peer : NULL);
	/* the engine's next deadline moved (an auto profile starts again):
	 * rearm its timer */
	kzd_ike_config_changed(d);
	return r;
}

static int x_clear_profile(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	const char *name = cli_arg(a, "PROFILE");

	if (!kz_find_profile(d->running, name)) {
		emit_error(e, "%% no ipsec profile %s\n", name);
		return KZ_ENOENT;
	}
	/* IPsec SAs go with their IKE SA on `clear ike sa`, as for all */
	if (cli_has(a, "ipsec"))
		ike_clear_ipsec_profile(d->ike, name);
	else
		ike_clear_ike_profile(d->ike, name);
	kzd_ike_config_changed(d);
	return 0;
}

static int x_clear_ipsec_sa(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = sess_daemon(s);
	int r = ike_clear_ipsec(d->ike);

	kzd_ike_config_changed(d);
	return r;
}

static int x_diagnose(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	return kzd_diagnose(sess_daemon(s), cli_arg(a, "PROFILE"), s->lang, e, &s->verdict);
}

#define X CLI_IN(CLI_NODE_EXEC)

/* The exec commands of the console, in the order `?` lists them.  Output
 * formats: shared/spec/show-output.md; every show takes a trailing `json`. */
static const struct cli_cmd exec_cmds[] = {
	{ X, "show running-config [secrets] [json]",
	  "The running configuration (keys hidden unless an admin asks for secrets)",
	  .exec = x_running_config },
	{ X, "show ip address [(MobileEthernet0.0 | IPsec<N>)] [json]",
	  "Interface state and addresses", .exec = x_ip_address },
	{ X, "show ip route [json]", "The kernel's IPv4 routes", .exec = x_ip_route },
	{ X, "show ike sa [json]", "IKE (phase 1) security associations", .exec = x_ike_sa },
	{ X, "show ike statistics [json]",
	  "IKE counters: messages, retransmissions, drops by reason", .exec = x_ike_statistics },
	{ X, "show ipsec sa [json]", "IPsec (phase 2) security associations", .exec = x_ipsec_sa },
	{ X, "show ipsec profile [PROFILE] [detail] [json]",
	  "IPsec profiles and their config check", .exec = x_ipsec_profile },
	{ X, "show ipsec statistics [json]", "Data-plane counters: packets dropped, by reason",
	  .exec = x_ipsec_statistics },
	{ X, "clear ike sa [A.B.C.D]", "Delete IKE SAs (all, or of one peer), telling the peers",
	  .exec = x_clear_ike_sa },
	{ X, "clear ipsec sa", "Delete all IPsec SAs, telling the peers",
	  .exec = x_clear_ipsec_sa },
	{ X, "clear (ike | ipsec) sa profile PROFILE",
	  "Delete the SAs of one profile, telling the peer", .exec = x_clear_profile },
	{ X, "diagnose ipsec [PROFILE] [json]",
	  "Walk the troubleshooting checklist for IPsec profiles", .exec = x_diagnose },
	{ X, "write [memory]", "Save the running config to the startup file",
	  .exec = write_memory },
	{ X, "copy running-config startup-config", "Save the running config to the startup file",
	  .exec = write_memory },
	{ X, "show startup-config", "The startup file, as saved", .exec = x_startup_config },
	{ X, "show running-config status [json]",
	  "Whether the running config has changes not saved", .exec = x_config_status },
	{ X, "show version [json]", "Version, uptime, startup file", .exec = x_version },
	{ X, "show archive [json]", "The saved versions of the startup file (write memory)",
	  .exec = kzd_x_show_archive },
	{ X, "configure replace COUNT:1-10",
	  "Make a saved version the running config (only changed profiles renegotiate)",
	  .exec = kzd_x_configure_replace },
	{ X, "show tech-support",
	  "Version, config (keys hidden), interfaces, SAs, counters, log, diagnose",
	  .exec = x_tech_support },
	{ X,
	  "ping A.B.C.D [source (IPsec<N> | MobileEthernet0.0 | A.B.C.D)] [count COUNT:1-1000] "
	  "[size BYTES:0-65000]",
	  "Send echo requests from the gateway", .exec = kzd_x_ping },
	{ X, "traceroute A.B.C.D [source (IPsec<N> | MobileEthernet0.0 | A.B.C.D)]",
	  "Trace the route to a host from the gateway", .exec = kzd_x_traceroute },
	{ X, "show logging [PROFILE] [json]", "The recent log lines (all, or one profile's)",
	  .exec = x_logging },
	{ X, "debug ike [PROFILE]", "Trace every IKE message (names only, never keys) in the log",
	  .exec = x_debug_ike },
	{ X, "no debug ike", "Stop the IKE message trace", .exec = x_no_debug_ike },
};

void kzd_commands_install(void)
{
	clock_gettime(CLOCK_MONOTONIC, &started);
	cli_install(exec_cmds, sizeof(exec_cmds) / sizeof(exec_cmds[0]));
	kzd_mobile_commands_install();
}
