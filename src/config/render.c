/* render.c - `show running-config`: every parameter printed explicitly, in
 * the order of config-language.md, each block closed by `!`, so that the
 * output loads back into an equal model. */
#include "render.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void kz_put_word(struct strbuf *out, const char *s)
{
	bool q = !*s || *s == '!' || *s == '#';

	for (const char *p = s; *p && !q; p++)
		q = *p == ' ' || *p == '\t' || *p == '"' || *p == '\\';
	if (!q) {
		sb_puts(out, s);
		return;
	}
	sb_puts(out, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_puts(out, "\\");
		sb_putn(out, s, 1);
	}
	sb_puts(out, "\"");
}

static void put_ident(struct strbuf *out, const char *kw, const struct kz_ident *id)
{
	char a[INET_ADDRSTRLEN];

	switch (id->type) {
	case KZ_ID_NONE:
		sb_printf(out, "  no %s\n", kw);
		return;
	case KZ_ID_KEY_ID:
		sb_printf(out, "  %s key-id ", kw);
		break;
	case KZ_ID_FQDN:
		sb_printf(out, "  %s fqdn ", kw);
		break;
	case KZ_ID_USER_FQDN:
		sb_printf(out, "  %s user-fqdn ", kw);
		break;
	case KZ_ID_ADDRESS:
		inet_ntop(AF_INET, &id->addr, a, sizeof(a));
		sb_printf(out, "  %s address %s\n", kw, a);
		return;
	}
	kz_put_word(out, id->value);
	sb_puts(out, "\n");
}

static void put_refs(struct strbuf *out, char refs[][KZ_NAME_MAX], unsigned n)
{
	if (!n) {
		sb_puts(out, "  no proposal\n");
		return;
	}
	sb_puts(out, "  proposal");
	for (unsigned i = 0; i < n; i++)
		sb_printf(out, " %s", refs[i]);
	sb_puts(out, "\n");
}

static void put_prefix(struct strbuf *out, const char *kw, const struct kz_prefix *p)
{
	char buf[32];

	if (!p->set) {
		sb_printf(out, "  no %s\n", kw);
		return;
	}
	kz_prefix_str(p, buf, sizeof(buf));
	sb_printf(out, "  %s %s\n", kw, buf);
}

static int cmp_unit(const void *a, const void *b)
{
	const struct kz_if_ipsec *x = *(const struct kz_if_ipsec *const *)a;
	const struct kz_if_ipsec *y = *(const struct kz_if_ipsec *const *)b;

	return (x->unit > y->unit) - (x->unit < y->unit);
}

void kz_render_config(const struct kz_config *c, struct strbuf *out)
{
	const struct kz_if_ipsec *ifs[KZ_MAX_IPSEC_IF];
	size_t nifs = 0;

	sb_printf(out, "hostname %s\n!\n", c->hostname);
	if (c->mobile.present) {
		sb_puts(out, "interface " KZ_MOBILE_IFNAME "\n");
		if (c->mobile.device[0]) {
			sb_puts(out, "  device ");
			kz_put_word(out, c->mobile.device);
			sb_puts(out, "\n");
		} else {
			sb_puts(out, "  no device\n");
		}
		sb_printf(out, "  %sshutdown\n!\n", c->mobile.shutdown ? "" : "no ");
	}
	for (size_t i = 0; i < c->ike_proposals.n; i++) {
		const struct kz_ike_proposal *p = &c->ike_proposals.v[i];

		sb_printf(out, "ike proposal %s\n  encryption %s\n  hash %s\n  group %s\n"
			       "  lifetime %u\n!\n",
			  p->name, kz_enc_name(p->enc), kz_hash_name(p->hash),
			  kz_group_name(p->group), p->lifetime);
	}
	for (size_t i = 0; i < c->ike_policies.n; i++) {
		const struct kz_ike_policy *p = &c->ike_policies.v[i];

		sb_printf(out, "ike policy %s\n  exchange-mode %s\n", p->name,
			  kz_mode_name(p->mode));
		put_refs(out, (char (*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		if (p->psk.set) {
			sb_printf(out, "  pre-shared-key %s ", p->psk.hex ? "hex" : "ascii");
			kz_put_word(out, p->psk.text);
			sb_puts(out, "\n");
		} else {
			sb_puts(out, "  no pre-shared-key\n");
		}
		put_ident(out, "local-id", &p->local_id);
		put_ident(out, "remote-id", &p->remote_id);
		if (p->natt)
			sb_printf(out, "  nat-traversal keepalive %u\n", p->keepalive);
		else
			sb_puts(out, "  no nat-traversal\n");
		if (p->dpd)
			sb_printf(out, "  dpd interval %u retry %u\n", p->dpd_interval,
				  p->dpd_retry);
		else
			sb_puts(out, "  no dpd\n");
		sb_puts(out, "!\n");
	}
	for (size_t i = 0; i < c->ipsec_proposals.n; i++) {
		const struct kz_ipsec_proposal *p = &c->ipsec_proposals.v[i];

		sb_printf(out, "ipsec proposal %s\n  protocol esp\n  encryption %s\n", p->name,
			  kz_enc_name(p->enc));
		if (p->auth != KZ_AUTH_NONE)
			sb_printf(out, "  authentication %s\n", kz_auth_name(p->auth));
		sb_printf(out, "  lifetime time %u\n", p->lifetime_time);
		if (p->lifetime_kbytes)
			sb_printf(out, "  lifetime bytes %llu\n",
				  (unsigned long long)p->lifetime_kbytes);
		else
			sb_puts(out, "  no lifetime bytes\n");
		sb_puts(out, "!\n");
	}
	for (size_t i = 0; i < c->ipsec_policies.n; i++) {
		const struct kz_ipsec_policy *p = &c->ipsec_policies.v[i];

		sb_printf(out, "ipsec policy %s\n", p->name);
		put_refs(out, (char (*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		put_prefix(out, "local-id", &p->local_ts);
		put_prefix(out, "remote-id", &p->remote_ts);
		sb_printf(out, "  pfs %s\n  anti-replay window %u\n!\n", kz_group_name(p->pfs),
			  p->replay_window);
	}
	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];
		char a[INET_ADDRSTRLEN];

		sb_printf(out, "ipsec profile %s\n", p->name);
		switch (p->peer_type) {
		case KZ_PEER_UNSET:
			sb_puts(out, "  no peer\n");
			break;
		case KZ_PEER_ANY:
			sb_puts(out, "  peer any\n");
			break;
		case KZ_PEER_ADDR:
			inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a));
			sb_printf(out, "  peer %s\n", a);
			break;
		case KZ_PEER_FQDN:
			sb_printf(out, "  peer %s\n", p->peer_fqdn);
			break;
		}
		sb_puts(out, p->source_set ? "  source-interface " KZ_MOBILE_IFNAME "\n"
					   : "  no source-interface\n");
		if (p->ike_policy[0])
			sb_printf(out, "  ike policy %s\n", p->ike_policy);
		else
			sb_puts(out, "  no ike policy\n");
		if (p->ipsec_policy[0])
			sb_printf(out, "  ipsec policy %s\n", p->ipsec_policy);
		else
			sb_puts(out, "  no ipsec policy\n");
		sb_printf(out, "  initiate %s\n",
			  p->initiate == KZ_INITIATE_ON_DEMAND ? "on-demand" : "auto");
		sb_printf(out, "  retry interval %u max %u\n!\n", p->retry_interval, p->retry_max);
	}
	for (size_t i = 0; i < c->ipsec_ifs.n && nifs < KZ_MAX_IPSEC_IF; i++)
		ifs[nifs++] = &c->ipsec_ifs.v[i];
	qsort(ifs, nifs, sizeof(ifs[0]), cmp_unit);
	for (size_t i = 0; i < nifs; i++) {
		const struct kz_if_ipsec *f = ifs[i];

		sb_printf(out, "interface IPsec%u\n", f->unit);
		if (f->map[0])
			sb_printf(out, "  ipsec map %s\n", f->map);
		else
			sb_puts(out, "  no ipsec map\n");
		if (f->address.set) {
			char p[32];

			kz_prefix_str(&f->address, p, sizeof(p));
			sb_printf(out, "  ip address %s\n", p);
		} else {
			sb_puts(out, "  no ip address\n");
		}
		if (f->mtu)
			sb_printf(out, "  mtu %u\n", f->mtu);
		else
			sb_puts(out, "  no mtu\n");
		if (f->mss_mode == KZ_MSS_AUTO)
			sb_puts(out, "  tcp-mss auto\n");
		else if (f->mss_mode == KZ_MSS_FIXED)
			sb_printf(out, "  tcp-mss %u\n", f->mss);
		else
			sb_puts(out, "  no tcp-mss\n");
		sb_printf(out, "  %sshutdown\n!\n", f->shutdown ? "" : "no ");
	}
	for (size_t i = 0; i < c->routes.n; i++) {
		const struct kz_route *r = &c->routes.v[i];
		char p[32], g[INET_ADDRSTRLEN];

		kz_prefix_str(&r->dest, p, sizeof(p));
		if (r->via == KZ_VIA_IPSEC)
			sb_printf(out, "ip route %s IPsec%u\n", p, r->ipsec_unit);
		else if (r->via == KZ_VIA_GATEWAY)
			sb_printf(out, "ip route %s %s\n", p,
				  inet_ntop(AF_INET, &r->gateway, g, sizeof(g)));
		else
			sb_printf(out, "ip route %s " KZ_MOBILE_IFNAME "\n", p);
	}
	if (c->routes.n)
		sb_puts(out, "!\n");
	sb_puts(out, "end\n");
}

static void json_ident(struct strbuf *out, const struct kz_ident *id)
{
	static const char *const t[] = { "none", "key-id", "fqdn", "user-fqdn", "address" };
	char a[INET_ADDRSTRLEN];

	sb_printf(out, "{\"type\":\"%s\"", t[id->type]);
	if (id->type == KZ_ID_ADDRESS) {
		inet_ntop(AF_INET, &id->addr, a, sizeof(a));
		sb_printf(out, ",\"value\":\"%s\"", a);
	} else if (id->type != KZ_ID_NONE) {
		sb_puts(out, ",\"value\":");
		sb_json_str(out, id->value);
	}
	sb_puts(out, "}");
}

static void json_refs(struct strbuf *out, char refs[][KZ_NAME_MAX], unsigned n)
{
	sb_puts(out, "[");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			sb_puts(out, ",");
		sb_json_str(out, refs[i]);
	}
	sb_puts(out, "]");
}

static void json_prefix(struct strbuf *out, const struct kz_prefix *p)
{
	char buf[32];

	if (!p->set) {
		sb_puts(out, "null");
		return;
	}
	kz_prefix_str(p, buf, sizeof(buf));
	sb_printf(out, "\"%s\"", buf);
}

void kz_render_config_json(const struct kz_config *c, struct strbuf *out)
{
	sb_puts(out, "{\"hostname\":");
	sb_json_str(out, c->hostname);
	sb_puts(out, ",\"mobile\":");
	if (c->mobile.present) {
		sb_puts(out, "{\"device\":");
		sb_json_str(out, c->mobile.device);
		sb_printf(out, ",\"shutdown\":%s}", c->mobile.shutdown ? "true" : "false");
	} else {
		sb_puts(out, "null");
	}
	sb_puts(out, ",\"ike_proposals\":[");
	for (size_t i = 0; i < c->ike_proposals.n; i++) {
		const struct kz_ike_proposal *p = &c->ike_proposals.v[i];

		sb_printf(out, "%s{\"name\":", i ? "," : "");
		sb_json_str(out, p->name);
		sb_printf(out, ",\"encryption\":\"%s\",\"hash\":\"%s\",\"group\":\"%s\",\"lifetime\":%u}",
			  kz_enc_name(p->enc), kz_hash_name(p->hash), kz_group_name(p->group),
			  p->lifetime);
	}
	sb_puts(out, "],\"ike_policies\":[");
	for (size_t i = 0; i < c->ike_policies.n; i++) {
		const struct kz_ike_policy *p = &c->ike_policies.v[i];

		sb_printf(out, "%s{\"name\":", i ? "," : "");
		sb_json_str(out, p->name);
		sb_printf(out, ",\"exchange_mode\":\"%s\",\"proposals\":", kz_mode_name(p->mode));
		json_refs(out, (char (*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		sb_printf(out, ",\"pre_shared_key_set\":%s,\"local_id\":",
			  p->psk.set ? "true" : "false");
		json_ident(out, &p->local_id);
		sb_puts(out, ",\"remote_id\":");
		json_ident(out, &p->remote_id);
		sb_printf(out, ",\"nat_traversal\":%s,\"keepalive\":%u,\"dpd\":%s,"
			       "\"dpd_interval\":%u,\"dpd_retry\":%u}",
			  p->natt ? "true" : "false", p->keepalive, p->dpd ? "true" : "false",
			  p->dpd_interval, p->dpd_retry);
	}
	sb_puts(out, "],\"ipsec_proposals\":[");
	for (size_t i = 0; i < c->ipsec_proposals.n; i++) {
		const struct kz_ipsec_proposal *p = &c->ipsec_proposals.v[i];

		sb_printf(out, "%s{\"name\":", i ? "," : "");
		sb_json_str(out, p->name);
		sb_printf(out, ",\"protocol\":\"esp\",\"encryption\":\"%s\",\"authentication\":\"%s\","
			       "\"lifetime_time\":%u,\"lifetime_kilobytes\":%llu}",
			  kz_enc_name(p->enc), kz_auth_name(p->auth), p->lifetime_time,
			  (unsigned long long)p->lifetime_kbytes);
	}
	sb_puts(out, "],\"ipsec_policies\":[");
	for (size_t i = 0; i < c->ipsec_policies.n; i++) {
		const struct kz_ipsec_policy *p = &c->ipsec_policies.v[i];

		sb_printf(out, "%s{\"name\":", i ? "," : "");
		sb_json_str(out, p->name);
		sb_puts(out, ",\"proposals\":");
		json_refs(out, (char (*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		sb_puts(out, ",\"local_id\":");
		json_prefix(out, &p->local_ts);
		sb_puts(out, ",\"remote_id\":");
		json_prefix(out, &p->remote_ts);
		sb_printf(out, ",\"pfs\":\"%s\",\"anti_replay_window\":%u}", kz_group_name(p->pfs),
			  p->replay_window);
	}
	sb_puts(out, "],\"ipsec_profiles\":[");
	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];
		char a[INET_ADDRSTRLEN];

		sb_printf(out, "%s{\"name\":", i ? "," : "");
		sb_json_str(out, p->name);
		sb_puts(out, ",\"peer\":");
		if (p->peer_type == KZ_PEER_ANY)
			sb_puts(out, "\"any\"");
		else if (p->peer_type == KZ_PEER_ADDR)
			sb_printf(out, "\"%s\"", inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a)));
		else if (p->peer_type == KZ_PEER_FQDN)
			sb_json_str(out, p->peer_fqdn);
		else
			sb_puts(out, "null");
		sb_printf(out, ",\"source_interface\":%s,\"ike_policy\":",
			  p->source_set ? "\"" KZ_MOBILE_IFNAME "\"" : "null");
		sb_json_str(out, p->ike_policy);
		sb_puts(out, ",\"ipsec_policy\":");
		sb_json_str(out, p->ipsec_policy);
		sb_printf(out, ",\"initiate\":\"%s\",\"retry_interval\":%u,\"retry_max\":%u}",
			  p->initiate == KZ_INITIATE_ON_DEMAND ? "on-demand" : "auto",
			  p->retry_interval, p->retry_max);
	}
	sb_puts(out, "],\"ipsec_interfaces\":[");
	for (size_t i = 0; i < c->ipsec_ifs.n; i++) {
		const struct kz_if_ipsec *f = &c->ipsec_ifs.v[i];

		sb_printf(out, "%s{\"name\":\"IPsec%u\",\"map\":", i ? "," : "", f->unit);
		sb_json_str(out, f->map);
		sb_puts(out, ",\"address\":");
		json_prefix(out, &f->address);
		sb_printf(out, ",\"mtu\":%u,\"tcp_mss\":", f->mtu);
		if (f->mss_mode == KZ_MSS_AUTO)
			sb_puts(out, "\"auto\"");
		else if (f->mss_mode == KZ_MSS_FIXED)
			sb_printf(out, "%u", f->mss);
		else
			sb_puts(out, "null");
		sb_printf(out, ",\"shutdown\":%s}", f->shutdown ? "true" : "false");
	}
	sb_puts(out, "],\"routes\":[");
	for (size_t i = 0; i < c->routes.n; i++) {
		const struct kz_route *r = &c->routes.v[i];
		char p[32], g[INET_ADDRSTRLEN];

		kz_prefix_str(&r->dest, p, sizeof(p));
		sb_printf(out, "%s{\"destination\":\"%s\",\"via\":", i ? "," : "", p);
		if (r->via == KZ_VIA_IPSEC)
			sb_printf(out, "\"IPsec%u\"}", r->ipsec_unit);
		else if (r->via == KZ_VIA_GATEWAY)
			sb_printf(out, "\"%s\"}", inet_ntop(AF_INET, &r->gateway, g, sizeof(g)));
		else
			sb_puts(out, "\"" KZ_MOBILE_IFNAME "\"}");
	}
	sb_puts(out, "]}\n");
}
