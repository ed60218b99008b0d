/* cmd_config.c - the configuration commands: startup file, `configure
 * terminal` and `show running-config` all speak this one grammar
 * (shared/spec/config-language.md).  Here the top level, the modes and
 * the interfaces; the IKE and IPsec blocks are in cmd_ike.c.
 *
 * A handler validates everything before it changes the model, so a line
 * that fails changes nothing.  Handlers record what they changed in
 * s->effects for the daemon to apply. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "cli/cli_int.h"

#define H(name)                                                                              \
	static int name(struct cli_session *s, const struct cli_args *a, struct strbuf *out, \
			struct cli_error *err)

bool cli_is_no(const struct cli_args *a)
{
	return a->n && a->b[0].label_len == 2 && strncasecmp(a->b[0].label, "no", 2) == 0;
}

/* ---- blocks ---- */

int cli_block_open(struct cli_session *s, const char *kind, const char *name,
		   const struct cli_args *a, struct cli_error *err)
{
	struct cli_file_ctx *f = s->file;
	struct cli_block_seen *n;

	if (!s->file_mode || !f)
		return 0;
	for (size_t i = 0; i < f->nseen; i++)
		if (!strcmp(f->seen[i].kind, kind) && !strcmp(f->seen[i].name, name))
			return cli_fail(err, a, NULL, KZ_EEXIST,
					"duplicate block '%s%s%s' (first defined on line %u)", kind,
					*name ? " " : "", name, f->seen[i].line);
	if (f->nseen == f->capseen) {
		size_t cap = f->capseen ? f->capseen * 2 : 16;
		void *p = realloc(f->seen, cap * sizeof(*f->seen));

		if (!p)
			return cli_fail(err, a, NULL, KZ_ENOMEM, "out of memory");
		f->seen = p;
		f->capseen = cap;
	}
	n = &f->seen[f->nseen++];
	kz_strlcpy(n->kind, kind, sizeof(n->kind));
	kz_strlcpy(n->name, name, sizeof(n->name));
	n->line = f->line;
	return 0;
}

void cli_file_ref(struct cli_session *s, int kind, const char *name, unsigned unit, size_t col)
{
	struct cli_file_ctx *f = s->file;
	struct cli_ref *r;

	if (!s->file_mode || !f)
		return;
	if (f->nrefs == f->caprefs) {
		size_t cap = f->caprefs ? f->caprefs * 2 : 16;
		void *p = realloc(f->refs, cap * sizeof(*f->refs));

		if (!p)
			return;
		f->refs = p;
		f->caprefs = cap;
	}
	r = &f->refs[f->nrefs++];
	r->kind = kind;
	kz_strlcpy(r->name, name ? name : "", sizeof(r->name));
	r->unit = unit;
	r->line = f->line;
	r->col = col;
}

static int add_failed(struct cli_error *err, const struct cli_args *a, const char *var,
		      const char *what, int e)
{
	if (e == KZ_ETOOBIG)
		return cli_fail(err, a, var, e, "too many %ss (at most %d)", what, KZ_MAX_OBJECTS);
	return cli_fail(err, a, var, e, "cannot add %s: %s", what, kz_strerror(e));
}

H(h_hostname)
{
	if (cli_is_no(a))
		kz_strlcpy(s->cfg->hostname, "kizuna", sizeof(s->cfg->hostname));
	else
		kz_strlcpy(s->cfg->hostname, cli_arg(a, "HOSTNAME"), sizeof(s->cfg->hostname));
	s->effects |= CLI_EFF_HOSTNAME;
	return 0;
}

H(h_if_mobile)
{
	int r = cli_block_open(s, "interface", KZ_MOBILE_IFNAME, a, err);

	if (r < 0)
		return r;
	s->cfg->mobile.present = true;
	s->node = CLI_NODE_IF_MOBILE;
	return 0;
}

H(h_no_if_mobile)
{
	memset(&s->cfg->mobile, 0, sizeof(s->cfg->mobile));
	s->effects |= CLI_EFF_MOBILE_DEVICE;
	return 0;
}

H(h_if_ipsec)
{
	const char *name = cli_arg(a, "IPsec<N>");
	unsigned unit = cli_parse_ipsec_if(name);
	char canon[16];
	int e = 0, r;

	snprintf(canon, sizeof(canon), "IPsec%u", unit);
	r = cli_block_open(s, "interface", canon, a, err);
	if (r < 0)
		return r;
	if (!kz_find_ipsec_if(s->cfg, unit)) {
		if (!kz_add_ipsec_if(s->cfg, unit, &e))
			return add_failed(err, a, "IPsec<N>", "IPsec interface", e);
		s->effects |= CLI_EFF_IPSEC_IF;
		s->eff_unit = unit;
	}
	s->node = CLI_NODE_IF_IPSEC;
	s->ctx_unit = unit;
	return 0;
}

H(h_no_if_ipsec)
{
	unsigned unit = cli_parse_ipsec_if(cli_arg(a, "IPsec<N>"));

	for (size_t i = 0; i < s->cfg->routes.n; i++) {
		const struct kz_route *rt = &s->cfg->routes.v[i];
		char p[32];

		if (rt->via == KZ_VIA_IPSEC && rt->ipsec_unit == unit) {
			kz_prefix_str(&rt->dest, p, sizeof(p));
			return cli_fail(
				err, a, "IPsec<N>", KZ_EBUSY,
				"IPsec%u is used by 'ip route %s IPsec%u'; remove the route first",
				unit, p, unit);
		}
	}
	if (kz_del_ipsec_if(s->cfg, unit) < 0)
		return cli_fail(err, a, "IPsec<N>", KZ_ENOENT, "no interface IPsec%u", unit);
	s->effects |= CLI_EFF_IPSEC_IF;
	s->eff_unit = unit;
	return 0;
}

#define BLOCK_OPEN(fn, var, kind, adder, nodeval)                     \
	H(fn)                                                         \
	{                                                             \
		const char *name = cli_arg(a, var);                   \
		int e = 0, r = cli_block_open(s, kind, name, a, err); \
		if (r < 0)                                            \
			return r;                                     \
		if (!adder(s->cfg, name, &e))                         \
			return add_failed(err, a, var, kind, e);      \
		s->node = nodeval;                                    \
		kz_strlcpy(s->ctx_name, name, sizeof(s->ctx_name));   \
		s->effects |= CLI_EFF_IKE;                            \
		return 0;                                             \
	}

BLOCK_OPEN(h_ike_proposal, "IKE-PROPOSAL", "ike proposal", kz_add_ike_proposal,
	   CLI_NODE_IKE_PROPOSAL)
BLOCK_OPEN(h_ike_policy, "IKE-POLICY", "ike policy", kz_add_ike_policy, CLI_NODE_IKE_POLICY)
BLOCK_OPEN(h_ipsec_proposal, "IPSEC-PROPOSAL", "ipsec proposal", kz_add_ipsec_proposal,
	   CLI_NODE_IPSEC_PROPOSAL)
BLOCK_OPEN(h_ipsec_policy, "IPSEC-POLICY", "ipsec policy", kz_add_ipsec_policy,
	   CLI_NODE_IPSEC_POLICY)
BLOCK_OPEN(h_ipsec_profile, "PROFILE", "ipsec profile", kz_add_profile, CLI_NODE_IPSEC_PROFILE)

#define BLOCK_DEL(fn, var, kind, deleter)                                                \
	H(fn)                                                                            \
	{                                                                                \
		const char *name = cli_arg(a, var);                                      \
		if (deleter(s->cfg, name) < 0)                                           \
			return cli_fail(err, a, var, KZ_ENOENT, "no %s %s", kind, name); \
		s->effects |= CLI_EFF_IKE;                                               \
		return 0;                                                                \
	}

BLOCK_DEL(h_no_ike_proposal, "IKE-PROPOSAL", "ike proposal", kz_del_ike_proposal)
BLOCK_DEL(h_no_ike_policy, "IKE-POLICY", "ike policy", kz_del_ike_policy)
BLOCK_DEL(h_no_ipsec_proposal, "IPSEC-PROPOSAL", "ipsec proposal", kz_del_ipsec_proposal)
BLOCK_DEL(h_no_ipsec_policy, "IPSEC-POLICY", "ipsec policy", kz_del_ipsec_policy)
H(h_no_ipsec_profile)
{
	const char *name = cli_arg(a, "PROFILE");
	const struct kz_if_ipsec *m = kz_find_if_mapping(s->cfg, name);

	/* A saved config must load again: the map would dangle. */
	if (m)
		return cli_fail(err, a, "PROFILE", KZ_EBUSY,
				"ipsec profile %s is mapped to IPsec%u; 'no ipsec map' there first",
				name, m->unit);
	if (kz_del_profile(s->cfg, name) < 0)
		return cli_fail(err, a, "PROFILE", KZ_ENOENT, "no ipsec profile %s", name);
	s->effects |= CLI_EFF_IKE;
	return 0;
}

/* Network prefixes (routes, selectors) must not have host bits set: a typo
 * like 192.168.1.1/24 would otherwise silently mean something else. */
int cli_get_network(const struct cli_args *a, struct kz_prefix *p, struct cli_error *err)
{
	uint32_t mask, h;

	cli_parse_prefix(cli_arg(a, "A.B.C.D/M"), p);
	mask = p->len ? 0xffffffffu << (32 - p->len) : 0;
	h = ntohl(p->addr.s_addr);
	if (h & ~mask) {
		struct in_addr net = { htonl(h & mask) };
		char buf[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &net, buf, sizeof(buf));
		return cli_fail(err, a, "A.B.C.D/M", KZ_EINVAL,
				"'%s' has host bits set; did you mean %s/%u?",
				cli_arg(a, "A.B.C.D/M"), buf, p->len);
	}
	return 0;
}

H(h_ip_route)
{
	struct kz_route rt = { 0 };
	int r = cli_get_network(a, &rt.dest, err);

	if (r < 0)
		return r;
	if (cli_has(a, "IPsec<N>")) {
		rt.via = KZ_VIA_IPSEC;
		rt.ipsec_unit = cli_parse_ipsec_if(cli_arg(a, "IPsec<N>"));
		if (!s->file_mode && !kz_find_ipsec_if(s->cfg, rt.ipsec_unit))
			return cli_fail(err, a, "IPsec<N>", KZ_ENOENT,
					"no interface IPsec%u; create it first", rt.ipsec_unit);
		cli_file_ref(s, 1, NULL, rt.ipsec_unit, cli_arg_col(a, "IPsec<N>"));
	} else if (cli_has(a, "A.B.C.D")) {
		rt.via = KZ_VIA_GATEWAY;
		inet_pton(AF_INET, cli_arg(a, "A.B.C.D"), &rt.gateway);
	} else {
		rt.via = KZ_VIA_MOBILE;
	}
	r = kz_route_add(s->cfg, &rt);
	if (r < 0)
		return add_failed(err, a, "A.B.C.D/M", "route", r);
	s->effects |= CLI_EFF_ROUTES;
	return 0;
}

H(h_no_ip_route)
{
	struct kz_prefix p;
	int r = cli_get_network(a, &p, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < s->cfg->routes.n; i++) {
		const struct kz_route *rt = &s->cfg->routes.v[i];
		struct in_addr gw;
		bool same;

		if (!kz_prefix_equal(&rt->dest, &p))
			continue;
		/* A target, when given, must be the route's. */
		if (cli_has(a, "IPsec<N>"))
			same = rt->via == KZ_VIA_IPSEC &&
				rt->ipsec_unit == cli_parse_ipsec_if(cli_arg(a, "IPsec<N>"));
		else if (cli_has(a, "A.B.C.D"))
			same = rt->via == KZ_VIA_GATEWAY &&
				inet_pton(AF_INET, cli_arg(a, "A.B.C.D"), &gw) == 1 &&
				gw.s_addr == rt->gateway.s_addr;
		else if (cli_has(a, "MobileEthernet0.0"))
			same = rt->via == KZ_VIA_MOBILE;
		else
			same = true;
		if (!same)
			return cli_fail(
				err, a, NULL, KZ_ENOENT,
				"the route to %s goes elsewhere; 'show running-config' shows it",
				cli_arg(a, "A.B.C.D/M"));
	}
	if (kz_route_del(s->cfg, &p) < 0)
		return cli_fail(err, a, "A.B.C.D/M", KZ_ENOENT, "no route to %s",
				cli_arg(a, "A.B.C.D/M"));
	s->effects |= CLI_EFF_ROUTES;
	return 0;
}

/* ---- mode changes ---- */

/* Up to the parent node; a file never leaves config mode; at the top the
 * console client leaves. */
H(h_exit)
{
	enum cli_node up = cli_node_parent(s->node);

	if (up == CLI_NODE_COUNT)
		s->quit = true;
	else if (up != CLI_NODE_EXEC || !s->file_mode)
		s->node = up;
	return 0;
}

H(h_end)
{
	if (!s->file_mode)
		s->node = CLI_NODE_EXEC;
	else
		s->node = CLI_NODE_CONFIG;
	return 0;
}

H(h_configure)
{
	s->node = CLI_NODE_CONFIG;
	return 0;
}

/* ---- interface MobileEthernet0.0 ---- */

H(h_mobile_device)
{
	if (cli_is_no(a))
		s->cfg->mobile.device[0] = '\0';
	else
		kz_strlcpy(s->cfg->mobile.device, cli_arg(a, "LINUX-IFNAME"),
			   sizeof(s->cfg->mobile.device));
	s->effects |= CLI_EFF_MOBILE_DEVICE;
	return 0;
}

H(h_mobile_modem)
{
	if (cli_is_no(a))
		s->cfg->mobile.modem[0] = '\0';
	else
		kz_strlcpy(s->cfg->mobile.modem, cli_has(a, "auto") ? "auto" : cli_arg(a, "IMEI"),
			   sizeof(s->cfg->mobile.modem));
	s->effects |= CLI_EFF_MOBILE_DEVICE;
	return 0;
}

H(h_mobile_apn)
{
	struct kz_if_mobile *m = &s->cfg->mobile;

	s->secret = true; /* the line may carry the APN's password */
	s->secret_what = "apn";
	kz_wipe(m->apn_password, sizeof(m->apn_password));
	m->apn_user[0] = '\0';
	m->apn_auth = KZ_APN_AUTH_NONE;
	m->apn_ipv4 = false;
	m->apn[0] = '\0';
	if (!cli_is_no(a)) {
		kz_strlcpy(m->apn, cli_arg(a, "APN"), sizeof(m->apn));
		m->apn_ipv4 = cli_has(a, "ip-type");
		if (cli_has(a, "auth")) {
			m->apn_auth = cli_has(a, "chap") ? KZ_APN_AUTH_CHAP : KZ_APN_AUTH_PAP;
			kz_strlcpy(m->apn_user, cli_arg(a, "USER"), sizeof(m->apn_user));
			kz_strlcpy(m->apn_password, cli_arg(a, "PASSWORD"),
				   sizeof(m->apn_password));
		}
	}
	s->effects |= CLI_EFF_MOBILE_DEVICE;
	return 0;
}

H(h_mobile_pin)
{
	s->secret = true;
	s->secret_what = "pin";
	kz_wipe(s->cfg->mobile.pin, sizeof(s->cfg->mobile.pin));
	if (!cli_is_no(a))
		kz_strlcpy(s->cfg->mobile.pin, cli_arg(a, "PIN"), sizeof(s->cfg->mobile.pin));
	s->effects |= CLI_EFF_MOBILE_DEVICE;
	return 0;
}

H(h_mobile_shutdown)
{
	s->cfg->mobile.shutdown = !cli_is_no(a);
	s->effects |= CLI_EFF_MOBILE_ADMIN;
	return 0;
}

/* ---- interface IPsec<N> ---- */

static struct kz_if_ipsec *cur_if(struct cli_session *s, const struct cli_args *a,
				  struct cli_error *err)
{
	struct kz_if_ipsec *i = kz_find_ipsec_if(s->cfg, s->ctx_unit);

	if (!i)
		cli_fail(err, a, NULL, KZ_ENOENT, "interface IPsec%u no longer exists",
			 s->ctx_unit);
	s->effects |= CLI_EFF_IPSEC_IF;
	s->eff_unit = s->ctx_unit;
	return i;
}

H(h_ipsec_map)
{
	struct kz_if_ipsec *i = cur_if(s, a, err);
	const char *name = cli_arg(a, "PROFILE");
	struct kz_if_ipsec *other;

	if (!i)
		return KZ_ENOENT;
	if (cli_is_no(a)) {
		if (name && strcmp(name, i->map) != 0)
			return cli_fail(err, a, "PROFILE", KZ_ENOENT, "IPsec%u does not map %s%s%s",
					i->unit, name, i->map[0] ? "; it maps " : "", i->map);
		i->map[0] = '\0';
		s->effects |= CLI_EFF_IKE;
		return 0;
	}
	other = kz_find_if_mapping(s->cfg, name);
	if (other && other != i)
		return cli_fail(err, a, "PROFILE", KZ_EEXIST,
				"profile %s is already mapped to IPsec%u", name, other->unit);
	if (!s->file_mode && !kz_find_profile(s->cfg, name))
		return cli_fail(err, a, "PROFILE", KZ_ENOENT,
				"no ipsec profile %s; create it first", name);
	cli_file_ref(s, 0, name, 0, cli_arg_col(a, "PROFILE"));
	kz_strlcpy(i->map, name, sizeof(i->map));
	s->effects |= CLI_EFF_IKE;
	return 0;
}

H(h_ipsec_address)
{
	struct kz_if_ipsec *i = cur_if(s, a, err);

	if (!i)
		return KZ_ENOENT;
	if (cli_is_no(a)) {
		struct kz_prefix p;

		if (cli_has(a, "A.B.C.D/M")) {
			cli_parse_prefix(cli_arg(a, "A.B.C.D/M"), &p);
			if (!kz_prefix_equal(&p, &i->address))
				return cli_fail(err, a, "A.B.C.D/M", KZ_ENOENT,
						"IPsec%u does not have %s", i->unit,
						cli_arg(a, "A.B.C.D/M"));
		}
		memset(&i->address, 0, sizeof(i->address));
		return 0;
	}
	cli_parse_prefix(cli_arg(a, "A.B.C.D/M"), &i->address);
	return 0;
}

H(h_ipsec_mtu)
{
	struct kz_if_ipsec *i = cur_if(s, a, err);

	if (!i)
		return KZ_ENOENT;
	i->mtu = cli_is_no(a) ? 0 : (uint32_t)cli_arg_num(a, "BYTES");
	return 0;
}

H(h_ipsec_mss)
{
	struct kz_if_ipsec *i = cur_if(s, a, err);

	if (!i)
		return KZ_ENOENT;
	if (cli_is_no(a)) {
		i->mss_mode = KZ_MSS_OFF;
		i->mss = 0;
	} else if (cli_has(a, "auto")) {
		i->mss_mode = KZ_MSS_AUTO;
		i->mss = 0;
	} else {
		i->mss_mode = KZ_MSS_FIXED;
		i->mss = (uint32_t)cli_arg_num(a, "BYTES");
	}
	return 0;
}

H(h_ipsec_shutdown)
{
	struct kz_if_ipsec *i = cur_if(s, a, err);

	if (!i)
		return KZ_ENOENT;
	i->shutdown = !cli_is_no(a);
	s->effects |= CLI_EFF_IPSEC_ADMIN;
	return 0;
}

H(h_metrics)
{
	struct kz_metrics *m = &s->cfg->metrics;

	if (cli_is_no(a)) {
		memset(m, 0, sizeof(*m));
	} else {
		m->set = true;
		kz_strlcpy(m->path, cli_arg(a, "PATH"), sizeof(m->path));
		m->interval = cli_has(a, "interval") ? (uint32_t)cli_arg_num(a, "SECONDS")
						     : KZ_DEF_METRICS_INTERVAL;
	}
	return 0;
}

#define C(n) CLI_IN(CLI_NODE_##n)

const struct cli_cmd cli_config_cmds[] = {
	{ C(CONFIG), "hostname HOSTNAME", "Set the host name", h_hostname, NULL },
	{ C(CONFIG), "no hostname", "Reset the host name", h_hostname, NULL },
	{ C(CONFIG), "metrics file PATH [interval SECONDS:1-3600]",
	  "Write a Prometheus metrics file", h_metrics, NULL },
	{ C(CONFIG), "no metrics", "Stop writing the metrics file", h_metrics, NULL },
	{ C(CONFIG), "interface MobileEthernet0.0", "Configure the mobile WAN interface",
	  h_if_mobile, NULL },
	{ C(CONFIG), "no interface MobileEthernet0.0", "Remove the mobile WAN settings",
	  h_no_if_mobile, NULL },
	{ C(CONFIG), "interface IPsec<N>", "Configure an IPsec interface", h_if_ipsec, NULL },
	{ C(CONFIG), "no interface IPsec<N>", "Remove an IPsec interface", h_no_if_ipsec, NULL },
	{ C(CONFIG), "ike proposal IKE-PROPOSAL", "Configure an IKE (phase 1) proposal",
	  h_ike_proposal, NULL },
	{ C(CONFIG), "no ike proposal IKE-PROPOSAL", "Remove an IKE proposal", h_no_ike_proposal,
	  NULL },
	{ C(CONFIG), "ike policy IKE-POLICY", "Configure an IKE policy", h_ike_policy, NULL },
	{ C(CONFIG), "no ike policy IKE-POLICY", "Remove an IKE policy", h_no_ike_policy, NULL },
	{ C(CONFIG), "ipsec proposal IPSEC-PROPOSAL", "Configure an IPsec (phase 2) proposal",
	  h_ipsec_proposal, NULL },
	{ C(CONFIG), "no ipsec proposal IPSEC-PROPOSAL", "Remove an IPsec proposal",
	  h_no_ipsec_proposal, NULL },
	{ C(CONFIG), "ipsec policy IPSEC-POLICY", "Configure an IPsec policy", h_ipsec_policy,
	  NULL },
	{ C(CONFIG), "no ipsec policy IPSEC-POLICY", "Remove an IPsec policy", h_no_ipsec_policy,
	  NULL },
	{ C(CONFIG), "ipsec profile PROFILE", "Configure an IPsec profile", h_ipsec_profile, NULL },
	{ C(CONFIG), "no ipsec profile PROFILE", "Remove an IPsec profile", h_no_ipsec_profile,
	  NULL },
	{ C(CONFIG), "ip route A.B.C.D/M (IPsec<N> | A.B.C.D | MobileEthernet0.0)",
	  "Add a static route", h_ip_route, NULL },
	{ C(CONFIG), "no ip route A.B.C.D/M [(IPsec<N> | A.B.C.D | MobileEthernet0.0)]",
	  "Remove a static route", h_no_ip_route, NULL },
	{ C(CONFIG) | CLI_IN_SUBNODES, "exit", "Leave this mode", h_exit, NULL },
	{ C(EXEC), "exit", "Leave the console", h_exit, NULL },
	{ C(EXEC), "quit", "Leave the console", h_exit, NULL },
	{ C(CONFIG) | CLI_IN_SUBNODES, "end", "Leave configuration mode", h_end, NULL },
	{ C(EXEC), "configure terminal", "Enter configuration mode", h_configure, NULL },

	{ C(IF_MOBILE), "device LINUX-IFNAME", "The Linux network device of this interface",
	  h_mobile_device, NULL },
	{ C(IF_MOBILE), "no device", "Unbind the Linux network device", h_mobile_device, NULL },
	{ C(IF_MOBILE), "modem (auto | IMEI)", "Follow this modem through ModemManager",
	  h_mobile_modem, NULL },
	{ C(IF_MOBILE), "no modem", "No modem: the device is bound by `device`", h_mobile_modem,
	  NULL },
	{ C(IF_MOBILE), "apn APN [ip-type ipv4] [auth (pap | chap) USER PASSWORD]",
	  "Access point name the bearer connects to", h_mobile_apn, NULL },
	{ C(IF_MOBILE), "no apn", "Remove the access point name", h_mobile_apn, NULL },
	{ C(IF_MOBILE), "pin PIN", "The SIM's PIN, sent once when the SIM asks for it",
	  h_mobile_pin, NULL },
	{ C(IF_MOBILE), "no pin", "Remove the SIM PIN", h_mobile_pin, NULL },
	{ C(IF_MOBILE), "[no] shutdown", "Set the interface down (no: up)", h_mobile_shutdown,
	  NULL },

	{ C(IF_IPSEC), "ipsec map PROFILE", "Map an IPsec profile to this interface", h_ipsec_map,
	  NULL },
	{ C(IF_IPSEC), "no ipsec map [PROFILE]", "Unmap the IPsec profile", h_ipsec_map, NULL },
	{ C(IF_IPSEC), "ip address A.B.C.D/M", "Set the interface address", h_ipsec_address, NULL },
	{ C(IF_IPSEC), "no ip address [A.B.C.D/M]", "Remove the interface address", h_ipsec_address,
	  NULL },
	{ C(IF_IPSEC), "mtu BYTES:576-9000", "Set the MTU", h_ipsec_mtu, NULL },
	{ C(IF_IPSEC), "no mtu", "Derive the MTU from the WAN and the SA", h_ipsec_mtu, NULL },
	{ C(IF_IPSEC), "tcp-mss (auto | BYTES:536-8960)", "Clamp the TCP MSS", h_ipsec_mss, NULL },
	{ C(IF_IPSEC), "no tcp-mss", "Do not clamp the TCP MSS", h_ipsec_mss, NULL },
	{ C(IF_IPSEC), "[no] shutdown", "Set the interface down (no: up)", h_ipsec_shutdown, NULL },
};

const size_t cli_config_ncmds = sizeof(cli_config_cmds) / sizeof(cli_config_cmds[0]);
