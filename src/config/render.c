/* render.c - `show running-config`: every parameter printed explicitly, in
 * the order of config-language.md, each block closed by `!`, so that the
 * output loads back into an equal model. */
#include "config/render.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/emit.h"

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

static void put_selector(struct strbuf *out, const struct kz_selector *sel)
{
	char l[24], r[24], pr[8];

	kz_prefix_str(&sel->local, l, sizeof(l));
	kz_prefix_str(&sel->remote, r, sizeof(r));
	sb_printf(out, "  selector local %s remote %s", l, r);
	if (sel->proto) {
		kz_proto_str(sel->proto, pr, sizeof(pr));
		sb_printf(out, " protocol %s", pr);
	}
	if (sel->lport)
		sb_printf(out, " local-port %u", sel->lport);
	if (sel->rport)
		sb_printf(out, " remote-port %u", sel->rport);
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

static void render(const struct kz_config *c, struct strbuf *out, bool secrets);

/* With a modem the device is the bearer's (the daemon fills it in), so
 * only the modem's lines are written; the PIN and the APN's password as
 * the pre-shared key is: as typed with secrets, else KZ_PSK_HIDDEN (JSON
 * says only whether they are set). */
static void render_modem(const struct kz_if_mobile *m, struct strbuf *out, bool secrets)
{
	sb_printf(out, "  modem %s\n", m->modem);
	if (m->apn[0]) {
		sb_printf(out, "  apn %s", m->apn);
		if (m->apn_ipv4)
			sb_puts(out, " ip-type ipv4");
		if (m->apn_auth != KZ_APN_AUTH_NONE) {
			sb_printf(out, " auth %s ",
				  m->apn_auth == KZ_APN_AUTH_CHAP ? "chap" : "pap");
			kz_put_word(out, m->apn_user);
			sb_puts(out, " ");
			if (secrets)
				kz_put_word(out, m->apn_password);
			else
				sb_puts(out, KZ_PSK_HIDDEN);
		}
		sb_puts(out, "\n");
	} else {
		sb_puts(out, "  no apn\n");
	}
	if (m->pin[0])
		sb_printf(out, "  pin %s\n", secrets ? m->pin : KZ_PSK_HIDDEN);
	else
		sb_puts(out, "  no pin\n");
}

void kz_render_config(const struct kz_config *c, struct strbuf *out)
{
	render(c, out, true);
}

void kz_render_config_hidden(const struct kz_config *c, struct strbuf *out)
{
	render(c, out, false);
}

static void render(const struct kz_config *c, struct strbuf *out, bool secrets)
{
	const struct kz_if_ipsec *ifs[KZ_MAX_IPSEC_IF];
	size_t nifs = 0;

	sb_printf(out, "hostname %s\n!\n", c->hostname);
	if (c->metrics.set) {
		sb_puts(out, "metrics file ");
		kz_put_word(out, c->metrics.path);
		sb_printf(out, " interval %u\n!\n", c->metrics.interval);
	}
	if (c->mobile.present) {
		sb_puts(out, "interface " KZ_MOBILE_IFNAME "\n");
		if (c->mobile.modem[0]) {
			render_modem(&c->mobile, out, secrets);
		} else if (c->mobile.device[0]) {
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

		sb_printf(out,
			  "ike proposal %s\n  encryption %s\n  hash %s\n  group %s\n"
			  "  lifetime %u\n!\n",
			  p->name, kz_enc_name(p->enc), kz_hash_name(p->hash),
			  kz_group_name(p->group), p->lifetime);
	}
	for (size_t i = 0; i < c->ike_policies.n; i++) {
		const struct kz_ike_policy *p = &c->ike_policies.v[i];

		sb_printf(out, "ike policy %s\n  exchange-mode %s\n", p->name,
			  kz_mode_name(p->mode));
		put_refs(out, (char(*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		if (p->psk.set && !secrets) {
			sb_printf(out, "  pre-shared-key %s %s\n", p->psk.hex ? "hex" : "ascii",
				  KZ_PSK_HIDDEN);
		} else if (p->psk.set) {
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
		put_refs(out, (char(*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		put_prefix(out, "local-id", &p->local_ts);
		put_prefix(out, "remote-id", &p->remote_ts);
		for (unsigned k = 0; k < p->nsel; k++)
			put_selector(out, &p->sel[k]);
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
		sb_puts(out,
			p->source_set ? "  source-interface " KZ_MOBILE_IFNAME "\n"
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

/* ---- `show running-config json` ---- */

static void json_ident(struct emit *e, const char *key, const struct kz_ident *id)
{
	static const char *const t[] = { "none", "key-id", "fqdn", "user-fqdn", "address" };
	char a[INET_ADDRSTRLEN];

	emit_obj_begin(e, key);
	emit_str(e, "type", t[id->type], NULL);
	if (id->type == KZ_ID_ADDRESS)
		emit_str(e, "value", inet_ntop(AF_INET, &id->addr, a, sizeof(a)), NULL);
	else if (id->type != KZ_ID_NONE)
		emit_str(e, "value", id->value, NULL);
	emit_obj_end(e);
}

static void json_refs(struct emit *e, const char *key, char refs[][KZ_NAME_MAX], unsigned n)
{
	emit_list_begin(e, key);
	for (unsigned i = 0; i < n; i++)
		emit_str(e, NULL, refs[i], NULL);
	emit_list_end(e);
}

static void json_prefix(struct emit *e, const char *key, const struct kz_prefix *p)
{
	char buf[32];

	if (p->set)
		kz_prefix_str(p, buf, sizeof(buf));
	emit_str(e, key, p->set ? buf : NULL, NULL);
}

static void json_ike(struct emit *e, const struct kz_config *c)
{
	emit_list_begin(e, "ike_proposals");
	for (size_t i = 0; i < c->ike_proposals.n; i++) {
		const struct kz_ike_proposal *p = &c->ike_proposals.v[i];

		emit_obj_begin(e, NULL);
		emit_str(e, "name", p->name, NULL);
		emit_str(e, "encryption", kz_enc_name(p->enc), NULL);
		emit_str(e, "hash", kz_hash_name(p->hash), NULL);
		emit_str(e, "group", kz_group_name(p->group), NULL);
		emit_u64(e, "lifetime", p->lifetime, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_list_begin(e, "ike_policies");
	for (size_t i = 0; i < c->ike_policies.n; i++) {
		const struct kz_ike_policy *p = &c->ike_policies.v[i];

		emit_obj_begin(e, NULL);
		emit_str(e, "name", p->name, NULL);
		emit_str(e, "exchange_mode", kz_mode_name(p->mode), NULL);
		json_refs(e, "proposals", (char(*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		emit_bool(e, "pre_shared_key_set", p->psk.set, NULL);
		json_ident(e, "local_id", &p->local_id);
		json_ident(e, "remote_id", &p->remote_id);
		emit_bool(e, "nat_traversal", p->natt, NULL);
		emit_u64(e, "keepalive", p->keepalive, NULL);
		emit_bool(e, "dpd", p->dpd, NULL);
		emit_u64(e, "dpd_interval", p->dpd_interval, NULL);
		emit_u64(e, "dpd_retry", p->dpd_retry, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
}

static void json_ipsec(struct emit *e, const struct kz_config *c)
{
	emit_list_begin(e, "ipsec_proposals");
	for (size_t i = 0; i < c->ipsec_proposals.n; i++) {
		const struct kz_ipsec_proposal *p = &c->ipsec_proposals.v[i];

		emit_obj_begin(e, NULL);
		emit_str(e, "name", p->name, NULL);
		emit_str(e, "protocol", "esp", NULL);
		emit_str(e, "encryption", kz_enc_name(p->enc), NULL);
		emit_str(e, "authentication", kz_auth_name(p->auth), NULL);
		emit_u64(e, "lifetime_time", p->lifetime_time, NULL);
		emit_u64(e, "lifetime_kilobytes", p->lifetime_kbytes, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_list_begin(e, "ipsec_policies");
	for (size_t i = 0; i < c->ipsec_policies.n; i++) {
		const struct kz_ipsec_policy *p = &c->ipsec_policies.v[i];

		emit_obj_begin(e, NULL);
		emit_str(e, "name", p->name, NULL);
		json_refs(e, "proposals", (char(*)[KZ_NAME_MAX])p->proposals, p->nproposals);
		json_prefix(e, "local_id", &p->local_ts);
		json_prefix(e, "remote_id", &p->remote_ts);
		emit_list_begin(e, "selectors");
		for (unsigned k = 0; k < p->nsel; k++) {
			char pr[8];

			emit_obj_begin(e, NULL);
			json_prefix(e, "local", &p->sel[k].local);
			json_prefix(e, "remote", &p->sel[k].remote);
			kz_proto_str(p->sel[k].proto, pr, sizeof(pr));
			emit_str(e, "protocol", pr, NULL);
			emit_u64(e, "local_port", p->sel[k].lport, NULL);
			emit_u64(e, "remote_port", p->sel[k].rport, NULL);
			emit_obj_end(e);
		}
		emit_list_end(e);
		emit_str(e, "pfs", kz_group_name(p->pfs), NULL);
		emit_u64(e, "anti_replay_window", p->replay_window, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_list_begin(e, "ipsec_profiles");
	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];
		char a[INET_ADDRSTRLEN];
		const char *peer = p->peer_type == KZ_PEER_ANY ? "any"
			: p->peer_type == KZ_PEER_ADDR
			? inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a))
			: p->peer_type == KZ_PEER_FQDN ? p->peer_fqdn
						       : NULL;

		emit_obj_begin(e, NULL);
		emit_str(e, "name", p->name, NULL);
		emit_str(e, "peer", peer, NULL);
		emit_str(e, "source_interface", p->source_set ? KZ_MOBILE_IFNAME : NULL, NULL);
		emit_str(e, "ike_policy", p->ike_policy, NULL);
		emit_str(e, "ipsec_policy", p->ipsec_policy, NULL);
		emit_str(e, "initiate", p->initiate == KZ_INITIATE_ON_DEMAND ? "on-demand" : "auto",
			 NULL);
		emit_u64(e, "retry_interval", p->retry_interval, NULL);
		emit_u64(e, "retry_max", p->retry_max, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
}

static void json_interfaces(struct emit *e, const struct kz_config *c)
{
	emit_list_begin(e, "ipsec_interfaces");
	for (size_t i = 0; i < c->ipsec_ifs.n; i++) {
		const struct kz_if_ipsec *f = &c->ipsec_ifs.v[i];
		char name[24];

		snprintf(name, sizeof(name), "IPsec%u", f->unit);
		emit_obj_begin(e, NULL);
		emit_str(e, "name", name, NULL);
		emit_str(e, "map", f->map, NULL);
		json_prefix(e, "address", &f->address);
		emit_u64(e, "mtu", f->mtu, NULL);
		if (f->mss_mode == KZ_MSS_AUTO)
			emit_str(e, "tcp_mss", "auto", NULL);
		else if (f->mss_mode == KZ_MSS_FIXED)
			emit_u64(e, "tcp_mss", f->mss, NULL);
		else
			emit_null(e, "tcp_mss", NULL);
		emit_bool(e, "shutdown", f->shutdown, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
	emit_list_begin(e, "routes");
	for (size_t i = 0; i < c->routes.n; i++) {
		const struct kz_route *r = &c->routes.v[i];
		char p[32], buf[24];
		const char *via = KZ_MOBILE_IFNAME;

		kz_prefix_str(&r->dest, p, sizeof(p));
		if (r->via == KZ_VIA_IPSEC)
			via = (snprintf(buf, sizeof(buf), "IPsec%u", r->ipsec_unit), buf);
		else if (r->via == KZ_VIA_GATEWAY)
			via = inet_ntop(AF_INET, &r->gateway, buf, sizeof(buf));
		emit_obj_begin(e, NULL);
		emit_str(e, "destination", p, NULL);
		emit_str(e, "via", via, NULL);
		emit_obj_end(e);
	}
	emit_list_end(e);
}

void kz_render_config_json(const struct kz_config *c, struct strbuf *out)
{
	struct emit e;

	emit_init(&e, out, true);
	emit_obj_begin(&e, NULL);
	emit_str(&e, "hostname", c->hostname, NULL);
	if (c->metrics.set) { /* only when set: the document is unchanged without */
		emit_obj_begin(&e, "metrics");
		emit_str(&e, "file", c->metrics.path, NULL);
		emit_u64(&e, "interval", c->metrics.interval, NULL);
		emit_obj_end(&e);
	}
	if (c->mobile.present) {
		emit_obj_begin(&e, "mobile");
		emit_str(&e, "device", c->mobile.device, NULL);
		emit_bool(&e, "shutdown", c->mobile.shutdown, NULL);
		if (c->mobile.modem[0]) {
			emit_str(&e, "modem", c->mobile.modem, NULL);
			emit_str(&e, "apn", c->mobile.apn, NULL);
			emit_bool(&e, "apn_ipv4", c->mobile.apn_ipv4, NULL);
			emit_str(&e, "apn_auth",
				 c->mobile.apn_auth == KZ_APN_AUTH_CHAP          ? "chap"
					 : c->mobile.apn_auth == KZ_APN_AUTH_PAP ? "pap"
										 : "none",
				 NULL);
			emit_str(&e, "apn_user", c->mobile.apn_user, NULL);
			emit_bool(&e, "apn_password_set", c->mobile.apn_password[0] != '\0', NULL);
			emit_bool(&e, "pin_set", c->mobile.pin[0] != '\0', NULL);
		}
		emit_obj_end(&e);
	} else {
		emit_null(&e, "mobile", NULL);
	}
	json_ike(&e, c);
	json_ipsec(&e, c);
	json_interfaces(&e, c);
	emit_obj_end(&e);
	emit_done(&e);
}
