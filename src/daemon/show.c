/* show.c - the exec commands of the console, on live state: the running
 * config, the kernel's view of the interfaces and routes (netlink), the SA
 * tables and the config check.  Formats: shared/spec/show-output.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config/render.h"
#include "../ike/ike.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"
#include "../net/netlink.h"
#include "daemon.h"

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

static void show_if_text(const struct ifview *v, struct strbuf *out)
{
	const char *state = ifview_state(v);
	char a[INET_ADDRSTRLEN];

	sb_printf(out, "Interface %s is %s\n", v->name, state);
	if (!strcmp(state, "administratively down"))
		return;
	sb_puts(out, "IP address\n");
	if (!v->bound || v->st.naddr == 0) {
		sb_puts(out, "none\n");
		return;
	}
	for (size_t i = 0; i < v->st.naddr; i++)
		sb_printf(out, "%s/%u\n", inet_ntop(AF_INET, &v->st.addr[i].addr, a, sizeof(a)),
			  v->st.addr[i].plen);
}

static void show_if_json(const struct ifview *v, struct strbuf *out, bool first)
{
	char a[INET_ADDRSTRLEN];

	sb_printf(out, "%s{\"interface\":\"%s\",\"device\":", first ? "" : ",", v->name);
	sb_json_str(out, v->device);
	sb_printf(out, ",\"present\":%s,\"state\":\"%s\",\"admin_up\":%s,\"lower_up\":%s,"
		       "\"mtu\":%u,\"addresses\":[",
		  v->bound ? "true" : "false", ifview_state(v), v->st.admin_up ? "true" : "false",
		  v->st.lower_up ? "true" : "false", v->st.mtu);
	for (size_t i = 0; v->bound && i < v->st.naddr; i++)
		sb_printf(out, "%s\"%s/%u\"", i ? "," : "",
			  inet_ntop(AF_INET, &v->st.addr[i].addr, a, sizeof(a)), v->st.addr[i].plen);
	sb_puts(out, "]}");
}

static int show_ip_address(struct kzd *d, const struct cli_args *a, struct strbuf *out)
{
	const struct kz_config *c = d->running;
	bool json = cli_has(a, "json"), first = true;
	const char *want = cli_arg(a, "IPsec<N>");
	bool want_mobile = cli_has(a, "MobileEthernet0.0");
	struct ifview v;

	if (json)
		sb_puts(out, "{\"interfaces\":[");
	if (!want) {
		ifview_get(KZ_MOBILE_IFNAME, c->mobile.device, &v);
		if (json)
			show_if_json(&v, out, first);
		else
			show_if_text(&v, out);
		first = false;
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
		if (json)
			show_if_json(&v, out, first);
		else
			show_if_text(&v, out);
		first = false;
	}
	if (want && first) {
		sb_printf(out, "%% no interface %s\n", want);
		return KZ_ENOENT;
	}
	if (json)
		sb_puts(out, "]}\n");
	return 0;
}

static const char *route_type_str(unsigned type)
{
	switch (type) {
	case KZ_NET_RTN_UNICAST:
		return "unicast";
	case KZ_NET_RTN_BLACKHOLE:
		return "blackhole";
	case KZ_NET_RTN_UNREACHABLE:
		return "unreachable";
	case KZ_NET_RTN_PROHIBIT:
		return "prohibit";
	default:
		return "other";
	}
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

static int show_ip_route(struct kzd *d, const struct cli_args *a, struct strbuf *out)
{
	struct kz_net_route *rt = NULL;
	size_t n = 0;
	bool json = cli_has(a, "json");
	int r = kz_net_route_list(&rt, &n);

	if (r < 0) {
		sb_printf(out, "%% cannot read the routing table: %s\n", kz_strerror(r));
		return r;
	}
	if (json)
		sb_puts(out, "{\"routes\":[");
	else
		sb_puts(out, "Codes: K - kernel, S - static (kizuna), C - connected\n");
	for (size_t i = 0; i < n; i++) {
		char dst[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
		char iface[24];
		char code = rt[i].protocol == KZ_RTPROT ? 'S' : rt[i].scope == 253 ? 'C' : 'K';
		int fc = route_failclosed_unit(d, &rt[i]);

		inet_ntop(AF_INET, &rt[i].dst, dst, sizeof(dst));
		inet_ntop(AF_INET, &rt[i].gw, gw, sizeof(gw));
		kz_strlcpy(iface, rt[i].oif_name, sizeof(iface));
		/* Name kizuna's devices as the console does. */
		if (!strncmp(iface, "ipsec", 5))
			snprintf(iface, sizeof(iface), "IPsec%s", rt[i].oif_name + 5);
		else if (d->running->mobile.device[0] &&
			 !strcmp(iface, d->running->mobile.device))
			kz_strlcpy(iface, KZ_MOBILE_IFNAME, sizeof(iface));
		if (json) {
			sb_printf(out, "%s{\"destination\":\"%s/%u\",\"gateway\":%s%s%s,\"interface\":",
				  i ? "," : "", dst, rt[i].plen, rt[i].has_gw ? "\"" : "",
				  rt[i].has_gw ? gw : "null", rt[i].has_gw ? "\"" : "");
			sb_json_str(out, iface);
			sb_printf(out, ",\"kizuna\":%s,\"type\":\"%s\",\"metric\":%u",
				  rt[i].protocol == KZ_RTPROT ? "true" : "false",
				  route_type_str(rt[i].type), (unsigned)rt[i].metric);
			if (fc >= 0)
				sb_printf(out, ",\"fail_closed\":\"IPsec%d\"", fc);
			sb_puts(out, "}");
		} else if (fc >= 0) {
			/* Not a route of its own in the config: the one beneath
			 * `ip route ... IPsec<N>` that refuses the prefix while
			 * the route through the device is missing. */
			sb_printf(out, "%c  %s/%u is unreachable, metric %u (fail-closed for IPsec%d)\n",
				  code, dst, rt[i].plen, (unsigned)rt[i].metric, fc);
		} else if (rt[i].type != KZ_NET_RTN_UNICAST) {
			sb_printf(out, "%c  %s/%u is %s\n", code, dst, rt[i].plen,
				  route_type_str(rt[i].type));
		} else if (rt[i].has_gw) {
			sb_printf(out, "%c  %s/%u via %s, %s\n", code, dst, rt[i].plen, gw, iface);
		} else {
			sb_printf(out, "%c  %s/%u is directly connected, %s\n", code, dst, rt[i].plen,
				  iface);
		}
	}
	if (json)
		sb_puts(out, "]}\n");
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

static int show_ipsec_profile(struct kzd *d, const struct cli_args *a, struct strbuf *out)
{
	const struct kz_config *c = d->running;
	const char *want = cli_arg(a, "PROFILE");
	bool json = cli_has(a, "json");
	bool detail = cli_has(a, "detail"); /* what the peer sent, the failure history */
	struct strbuf tail;
	int shown = 0;

	sb_init(&tail);
	if (json)
		sb_puts(out, "{\"profiles\":[");
	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];
		const struct kz_if_ipsec *map = kz_find_if_mapping(c, p->name);
		const struct kz_ike_policy *ike = kz_find_ike_policy(c, p->ike_policy);
		struct kz_findings warn;
		struct kz_finding f;
		char peer[KZ_IDVAL_MAX], mapped[16];

		if (want && strcmp(want, p->name))
			continue;
		kzd_check_profile(d, p, &f);
		kz_findings_init(&warn);
		kz_check_profile_lint(c, p, &warn);
		if (p->peer_type == KZ_PEER_ADDR)
			inet_ntop(AF_INET, &p->peer_addr, peer, sizeof(peer));
		else
			kz_strlcpy(peer, p->peer_type == KZ_PEER_ANY ? "any"
					 : p->peer_type == KZ_PEER_FQDN ? p->peer_fqdn : "-",
				   sizeof(peer));
		if (map)
			snprintf(mapped, sizeof(mapped), "IPsec%u", map->unit);
		else
			kz_strlcpy(mapped, "-", sizeof(mapped));
		if (json) {
			sb_printf(out, "%s{\"profile\":", shown ? "," : "");
			sb_json_str(out, p->name);
			sb_puts(out, ",\"peer\":");
			sb_json_str(out, peer);
			sb_printf(out, ",\"role\":\"%s\",\"source_interface\":%s,\"ike_policy\":",
				  role_text(p), p->source_set ? "\"" KZ_MOBILE_IFNAME "\"" : "null");
			sb_json_str(out, p->ike_policy);
			sb_printf(out, ",\"exchange_mode\":%s,\"ipsec_policy\":",
				  ike ? (ike->mode == KZ_MODE_AGGRESSIVE ? "\"aggressive\"" : "\"main\"")
				      : "null");
			sb_json_str(out, p->ipsec_policy);
			sb_printf(out, ",\"interface\":%s%s%s,\"check\":{\"id\":\"%s\",\"ok\":%s,\"text\":",
				  map ? "\"" : "", map ? mapped : "null", map ? "\"" : "", f.id,
				  f.severity == KZ_SEV_OK ? "true" : "false");
			sb_json_str(out, f.text);
			sb_printf(out, "},\"initiate\":\"%s\",\"retry_interval\":%u,"
				  "\"retry_max\":%u,\"state\":",
				  p->initiate == KZ_INITIATE_ON_DEMAND ? "on-demand" : "auto",
				  p->retry_interval, p->retry_max);
			ike_show_profile_state_json(d->ike, p->name, out);
			sb_puts(out, ",\"warnings\":[");
			for (size_t k = 0, nw = 0; k < warn.n; k++) {
				if (warn.v[k].severity != KZ_SEV_WARN)
					continue;
				if (nw++)
					sb_puts(out, ",");
				sb_json_str(out, warn.v[k].text);
			}
			sb_puts(out, "]");
			if (detail) {
				sb_puts(out, ",\"detail\":");
				ike_show_profile_detail(d->ike, p->name, true, out);
			}
			sb_puts(out, "}");
		} else {
			sb_printf(out, "IPsec profile %s\n", p->name);
			sb_printf(out, "  peer: %s (%s)\n", peer, role_text(p));
			sb_printf(out, "  source interface: %s\n",
				  p->source_set ? KZ_MOBILE_IFNAME : "-");
			sb_printf(out, "  IKE policy: %s", p->ike_policy[0] ? p->ike_policy : "-");
			if (ike)
				sb_printf(out, " (%s mode)", kz_mode_name(ike->mode));
			sb_printf(out, "\n  IPsec policy: %s\n",
				  p->ipsec_policy[0] ? p->ipsec_policy : "-");
			sb_printf(out, "  mapped interface: %s\n", mapped);
			sb_printf(out, "  initiate: %s\n",
				  p->initiate == KZ_INITIATE_ON_DEMAND ? "on-demand" : "auto");
			sb_printf(out, "  retry: interval %u s, max %u s\n", p->retry_interval,
				  p->retry_max);
			for (size_t k = 0; k < warn.n; k++)
				if (warn.v[k].severity == KZ_SEV_WARN)
					sb_printf(out, "  warning: %s\n", warn.v[k].text);
			ike_show_profile_status(d->ike, p->name, out);
			if (detail)
				ike_show_profile_detail(d->ike, p->name, false, out);
			kz_check_show_line(&f, &tail);
		}
		kz_findings_free(&warn);
		shown++;
	}
	if (want && !shown) {
		sb_printf(out, "%% no ipsec profile %s\n", want);
		sb_free(&tail);
		return KZ_ENOENT;
	}
	if (json) {
		sb_puts(out, "]}\n");
	} else if (shown) {
		sb_puts(out, "\n");
		sb_puts(out, sb_str(&tail));
	}
	sb_free(&tail);
	return 0;
}

static void show_ike_statistics(struct kzd *d, bool json, struct strbuf *out)
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
	if (json)
		sb_puts(out, "{");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (json)
			sb_printf(out, "%s\"%s\":%llu", i ? "," : "", rows[i].key,
				  (unsigned long long)*rows[i].v);
		else
			sb_printf(out, "IKE messages %s: %llu\n", rows[i].name,
				  (unsigned long long)*rows[i].v);
	}
	if (json)
		sb_puts(out, "}\n");
}

/* ---- write memory: temp file + fsync + rename; the previous file is
 * kept as <file>.bak. ---- */

static int write_memory(struct kzd *d, struct strbuf *out)
{
	struct strbuf text;
	char tmp[4096], bak[4096];
	int fd = -1, r = 0;
	size_t off = 0;

	sb_init(&text);
	kz_render_config(d->running, &text);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", d->config_path) >= (int)sizeof(tmp) ||
	    snprintf(bak, sizeof(bak), "%s.bak", d->config_path) >= (int)sizeof(bak)) {
		sb_puts(out, "% config path too long\n");
		r = KZ_ERANGE;
		goto out;
	}
	sb_puts(out, "Building configuration...\n");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	while (off < text.len) {
		ssize_t n = write(fd, text.s + off, text.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (access(d->config_path, F_OK) == 0) {
		unlink(bak);
		if (link(d->config_path, bak) < 0)
			log_warn("write memory: cannot keep the previous file as %s: %s", bak,
				 strerror(errno));
	}
	if (rename(tmp, d->config_path) < 0)
		goto fail;
	sb_puts(out, "[OK]\n");
	log_info("write memory: running config saved to %s", d->config_path);
	goto out;
fail:
	sb_printf(out, "%% cannot write %s: %s\n", d->config_path, strerror(errno));
	log_err("write memory: %s: %s", d->config_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	r = KZ_EIO;
out:
	kz_wipe(text.s, text.len);
	sb_free(&text);
	return r;
}

static int exec_cmd(struct cli_session *s, enum cli_exec_id id, const struct cli_args *a,
		    struct strbuf *out)
{
	struct kzd *d = sess_daemon(s);
	int r;

	switch (id) {
	case CLI_X_SHOW_RUNNING_CONFIG:
		if (cli_has(a, "json"))
			kz_render_config_json(d->running, out);
		else
			kz_render_config(d->running, out);
		return 0;
	case CLI_X_SHOW_IP_ADDRESS:
		return show_ip_address(d, a, out);
	case CLI_X_SHOW_IP_ROUTE:
		return show_ip_route(d, a, out);
	case CLI_X_SHOW_IKE_SA:
		ike_show_ike_sa(d->ike, cli_has(a, "json"), out);
		return 0;
	case CLI_X_SHOW_IPSEC_SA:
		ike_show_ipsec_sa(d->ike, cli_has(a, "json"), out);
		return 0;
	case CLI_X_SHOW_IKE_STATISTICS:
		show_ike_statistics(d, cli_has(a, "json"), out);
		return 0;
	case CLI_X_SHOW_IPSEC_STATISTICS:
		kzd_dataplane_show_stats(d, cli_has(a, "json"), out);
		return 0;
	case CLI_X_CLEAR_IKE_SA: {
		struct in_addr peer;
		const char *p = cli_arg(a, "A.B.C.D");

		if (p)
			inet_pton(AF_INET, p, &peer);
		r = ike_clear_ike(d->ike, p ? &peer : NULL);
		/* the engine's next deadline moved (an auto profile starts
		 * again): rearm its timer */
		kzd_ike_config_changed(d);
		return r;
	}
	case CLI_X_CLEAR_IPSEC_SA:
		r = ike_clear_ipsec(d->ike);
		kzd_ike_config_changed(d);
		return r;
	case CLI_X_SHOW_IPSEC_PROFILE:
		return show_ipsec_profile(d, a, out);
	case CLI_X_WRITE_MEMORY:
		return write_memory(d, out);
	case CLI_X_DIAGNOSE_IPSEC:
		return kzd_diagnose(d, cli_arg(a, "PROFILE"), cli_has(a, "json"), s->lang, out);
	default:
		sb_puts(out, "% not available in this version\n");
		return KZ_ENOTSUP;
	}
}

const struct cli_exec_ops kzd_exec_ops = { exec_cmd };
