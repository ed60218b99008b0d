/* peer.c - `kizuna peer-config`: the other site's config for one profile,
 * built from this site's model, and its kizuna and swanctl.conf texts.
 *
 * The rules are those of config-language.md and the cross-site checks
 * (check_pair.c): each side's IPsec local-id is the other's remote-id; in
 * aggressive mode the initiator names itself with its IKE local-id and the
 * responder expects that name as remote-id, so swapping the two ids of
 * this side gives the other side's; `peer any` (responder) faces an
 * initiator, and main mode needs both sides to name each other (M1.2). */
#include "config/peer.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "config/render.h"

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

__attribute__((format(printf, 3, 4))) static int incomplete(char *why, size_t len, const char *fmt,
							    ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return KZ_EINCOMPLETE;
}

/* A WAN address or an FQDN, as `peer` takes it. */
static int set_peer(struct kz_ipsec_profile *p, const char *s)
{
	size_t n = strlen(s);

	if (inet_pton(AF_INET, s, &p->peer_addr) == 1) {
		p->peer_type = KZ_PEER_ADDR;
		return 0;
	}
	if (!n || n >= sizeof(p->peer_fqdn) || strcmp(s, "any") == 0)
		return KZ_EINVAL;
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '.'))
			return KZ_EINVAL;
	p->peer_type = KZ_PEER_FQDN;
	copy_str(p->peer_fqdn, sizeof(p->peer_fqdn), s);
	return 0;
}

/* This side's proposals, every parameter, under the same names. */
static int copy_ike_proposals(const struct kz_config *c, const struct kz_ike_policy *pol,
			      struct kz_config *d, char *why, size_t whylen)
{
	int err = 0;

	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ike_proposal *s = kz_find_ike_proposal(c, pol->proposals[i]);
		struct kz_ike_proposal *t;

		if (!s)
			return incomplete(why, whylen,
					  "ike proposal %s (named by ike policy %s) "
					  "does not exist",
					  pol->proposals[i], pol->name);
		t = kz_add_ike_proposal(d, s->name, &err);
		if (!t)
			return err ? err : KZ_ENOMEM;
		*t = *s;
	}
	return 0;
}

static int copy_ipsec_proposals(const struct kz_config *c, const struct kz_ipsec_policy *pol,
				struct kz_config *d, char *why, size_t whylen)
{
	int err = 0;

	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ipsec_proposal *s = kz_find_ipsec_proposal(c, pol->proposals[i]);
		struct kz_ipsec_proposal *t;

		if (!s)
			return incomplete(why, whylen,
					  "ipsec proposal %s (named by ipsec policy %s) "
					  "does not exist",
					  pol->proposals[i], pol->name);
		t = kz_add_ipsec_proposal(d, s->name, &err);
		if (!t)
			return err ? err : KZ_ENOMEM;
		*t = *s;
	}
	return 0;
}

/* Everything the other side needs must be there: a half-written profile
 * would only give a half-written peer. */
static int check_complete(const struct kz_config *c, const struct kz_ipsec_profile *p,
			  const struct kz_ike_policy **ike, const struct kz_ipsec_policy **ips,
			  char *why, size_t whylen)
{
	if (p->peer_type == KZ_PEER_UNSET)
		return incomplete(why, whylen, "ipsec profile %s has no peer%s", p->name, "");
	if (!p->ike_policy[0])
		return incomplete(why, whylen, "ipsec profile %s names no ike policy%s", p->name,
				  "");
	if (!p->ipsec_policy[0])
		return incomplete(why, whylen, "ipsec profile %s names no ipsec policy%s", p->name,
				  "");
	*ike = kz_find_ike_policy(c, p->ike_policy);
	if (!*ike)
		return incomplete(why, whylen,
				  "ike policy %s (named by ipsec profile %s) does "
				  "not exist",
				  p->ike_policy, p->name);
	*ips = kz_find_ipsec_policy(c, p->ipsec_policy);
	if (!*ips)
		return incomplete(why, whylen,
				  "ipsec policy %s (named by ipsec profile %s) does "
				  "not exist",
				  p->ipsec_policy, p->name);
	if (!(*ike)->nproposals)
		return incomplete(why, whylen, "ike policy %s names no proposal%s", (*ike)->name,
				  "");
	if (!(*ike)->psk.set)
		return incomplete(why, whylen, "ike policy %s has no pre-shared-key%s",
				  (*ike)->name, "");
	if (!(*ips)->nproposals)
		return incomplete(why, whylen, "ipsec policy %s names no proposal%s", (*ips)->name,
				  "");
	if (!(*ips)->local_ts.set)
		return incomplete(why, whylen, "ipsec policy %s has no local-id%s", (*ips)->name,
				  "");
	if (!(*ips)->remote_ts.set)
		return incomplete(why, whylen, "ipsec policy %s has no remote-id%s", (*ips)->name,
				  "");
	return 0;
}

int kz_peer_build(const struct kz_config *c, const char *profile, const char *this_addr,
		  struct kz_peer *out, char *why, size_t whylen)
{
	const struct kz_ipsec_profile *sp;
	const struct kz_ike_policy *sike = NULL;
	const struct kz_ipsec_policy *sips = NULL;
	struct kz_ike_policy *ike;
	struct kz_ipsec_policy *ips;
	struct kz_ipsec_profile *pp;
	struct kz_if_ipsec *ifp;
	struct kz_route r;
	struct kz_config *d = NULL;
	char a[INET_ADDRSTRLEN];
	bool main_mode;
	int err = 0, rc;

	memset(out, 0, sizeof(*out));
	if (why && whylen)
		why[0] = '\0';
	sp = kz_find_profile(c, profile);
	if (!sp) {
		if (why && whylen)
			snprintf(why, whylen, "no ipsec profile %s", profile);
		return KZ_ENOENT;
	}
	rc = check_complete(c, sp, &sike, &sips, why, whylen);
	if (rc)
		return rc;

	d = kz_config_new();
	if (!d)
		return KZ_ENOMEM;
	snprintf(d->hostname, sizeof(d->hostname), "%.58s-peer", c->hostname);
	d->mobile.present = true;
	copy_str(d->mobile.device, sizeof(d->mobile.device), "wwan0");
	d->mobile.shutdown = false;

	rc = copy_ike_proposals(c, sike, d, why, whylen);
	if (rc)
		goto out;
	ike = kz_add_ike_policy(d, sike->name, &err);
	if (!ike) {
		rc = err ? err : KZ_ENOMEM;
		goto out;
	}
	/* Same mode, proposals, key, NAT-T and DPD; the identities swap
	 * sides: what we send (local-id) the other side expects (remote-id),
	 * and the other way round (RFC 2409 5: both ends must agree). */
	*ike = *sike;
	ike->local_id = sike->remote_id;
	ike->remote_id = sike->local_id;

	rc = copy_ipsec_proposals(c, sips, d, why, whylen);
	if (rc)
		goto out;
	ips = kz_add_ipsec_policy(d, sips->name, &err);
	if (!ips) {
		rc = err ? err : KZ_ENOMEM;
		goto out;
	}
	/* Quick Mode IDs (RFC 2409 5.5) mirrored. */
	*ips = *sips;
	ips->local_ts = sips->remote_ts;
	ips->remote_ts = sips->local_ts;
	for (unsigned k = 0; k < sips->nsel && k < KZ_MAX_SELECTORS; k++) {
		ips->sel[k].local = sips->sel[k].remote;
		ips->sel[k].remote = sips->sel[k].local;
		ips->sel[k].lport = sips->sel[k].rport;
		ips->sel[k].rport = sips->sel[k].lport;
	}

	pp = kz_add_profile(d, sp->name, &err);
	if (!pp) {
		rc = err ? err : KZ_ENOMEM;
		goto out;
	}
	pp->source_set = true;
	copy_str(pp->ike_policy, sizeof(pp->ike_policy), ike->name);
	copy_str(pp->ipsec_policy, sizeof(pp->ipsec_policy), ips->name);
	pp->initiate = KZ_INITIATE_AUTO;

	/* This side's address: given, else its `local-id address`. */
	if (this_addr && *this_addr) {
		copy_str(out->this_addr, sizeof(out->this_addr), this_addr);
	} else if (sike->local_id.type == KZ_ID_ADDRESS) {
		inet_ntop(AF_INET, &sike->local_id.addr, a, sizeof(a));
		copy_str(out->this_addr, sizeof(out->this_addr), a);
	}
	if (sp->peer_type == KZ_PEER_ADDR) {
		inet_ntop(AF_INET, &sp->peer_addr, a, sizeof(a));
		copy_str(out->own_addr, sizeof(out->own_addr), a);
	}
	/* Roles: facing our `peer any` the other side initiates; facing our
	 * initiator it responds with `peer any`, except in main mode, where
	 * the identity is the address and a `peer any` responder cannot pick
	 * its key (M1.2): there both sides name each other. */
	main_mode = sike->mode == KZ_MODE_MAIN;
	if (sp->peer_type == KZ_PEER_ANY || main_mode) {
		if (out->this_addr[0]) {
			rc = set_peer(pp, out->this_addr);
			if (rc) {
				if (why && whylen)
					snprintf(why, whylen, "not an IPv4 address or FQDN: %s",
						 out->this_addr);
				goto out;
			}
		} else {
			pp->peer_type = KZ_PEER_UNSET;
			out->peer_unknown = true;
		}
	} else {
		pp->peer_type = KZ_PEER_ANY;
	}

	ifp = kz_add_ipsec_if(d, 0, &err);
	if (!ifp) {
		rc = err ? err : KZ_ENOMEM;
		goto out;
	}
	copy_str(ifp->map, sizeof(ifp->map), pp->name);
	ifp->shutdown = false;

	memset(&r, 0, sizeof(r));
	r.dest = sips->local_ts;
	r.via = KZ_VIA_IPSEC;
	r.ipsec_unit = 0;
	rc = kz_route_add(d, &r);
	if (rc)
		goto out;
	/* a route for each further pair's network too */
	for (unsigned k = 0; k < sips->nsel && k < KZ_MAX_SELECTORS; k++) {
		r.dest = sips->sel[k].local;
		rc = kz_route_add(d, &r);
		if (rc)
			goto out;
	}

	copy_str(out->profile, sizeof(out->profile), pp->name);
	copy_str(out->src_hostname, sizeof(out->src_hostname), c->hostname);
	out->cfg = d;
	d = NULL;
out:
	kz_config_free(d); /* wipes the copied key */
	return rc;
}

void kz_peer_free(struct kz_peer *p)
{
	if (!p)
		return;
	kz_config_free(p->cfg);
	p->cfg = NULL;
}

void kz_peer_render_kizuna(const struct kz_peer *p, struct strbuf *out)
{
	struct strbuf body;
	const char *s, *hit;
	char mark[KZ_NAME_MAX + 32];

	sb_printf(out, "! kizuna config for the other end of ipsec profile %s of %s\n", p->profile,
		  p->src_hostname);
	sb_puts(out,
		"! WARNING: this file contains the pre-shared key in clear text;\n"
		"! hand it over only by a channel you would trust with the key.\n");
	if (p->peer_unknown)
		sb_printf(out,
			  "! EDIT: ipsec profile %s needs `peer` set to the address or "
			  "FQDN of %s\n",
			  p->profile, p->src_hostname);
	sb_puts(out, "!\n");

	sb_init(&body);
	kz_render_config(p->cfg, &body);
	s = sb_str(&body);
	/* The peer line to fill in is flagged just above its block: a `!`
	 * inside a block would end it (config-language.md, lexical rules). */
	snprintf(mark, sizeof(mark), "ipsec profile %s\n  no peer\n", p->profile);
	hit = p->peer_unknown ? strstr(s, mark) : NULL;
	if (hit) {
		sb_putn(out, s, (size_t)(hit - s));
		sb_printf(out,
			  "! EDIT: replace `no peer` below with `peer <the address or FQDN "
			  "of %s>`\n",
			  p->src_hostname);
		sb_puts(out, hit);
	} else {
		sb_puts(out, s);
	}
	/* The body holds the key too. */
	if (body.s)
		kz_wipe(body.s, body.cap);
	sb_free(&body);
}

/* ---- swanctl.conf ------------------------------------------------------- */

/* A swanctl identity: keyid:, @fqdn (no resolution), user@fqdn, address. */
static void swan_ident(struct strbuf *out, const struct kz_ident *id)
{
	char a[INET_ADDRSTRLEN];

	switch (id->type) {
	case KZ_ID_KEY_ID:
		sb_puts(out, "\"keyid:");
		break;
	case KZ_ID_FQDN:
		sb_puts(out, "\"@");
		break;
	case KZ_ID_USER_FQDN:
		sb_puts(out, "\"");
		break;
	case KZ_ID_ADDRESS:
		sb_puts(out, inet_ntop(AF_INET, &id->addr, a, sizeof(a)));
		return;
	case KZ_ID_NONE:
		sb_puts(out, "%any");
		return;
	}
	for (const char *s = id->value; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_puts(out, "\\");
		sb_putn(out, s, 1);
	}
	sb_puts(out, "\"");
}

static void swan_local_id(struct strbuf *out, const struct kz_ident *id, const char *addr)
{
	if (id->type != KZ_ID_NONE) {
		swan_ident(out, id);
	} else if (addr[0]) {
		sb_puts(out, addr);
	} else {
		sb_puts(out, "%any");
	}
}

/* strongSwan's traffic selector: subnet[protocol/port] (RFC 2407 4.6.2). */
static void swan_ts(struct strbuf *out, const char *key, const struct kz_prefix *p, uint8_t proto,
		    uint16_t port)
{
	char net[32], pr[8];

	kz_prefix_str(p, net, sizeof(net));
	sb_printf(out, "        %s = %s", key, net);
	if (proto) {
		kz_proto_str(proto, pr, sizeof(pr));
		if (port)
			sb_printf(out, "[%s/%u]", pr, port);
		else
			sb_printf(out, "[%s]", pr);
	}
	sb_puts(out, "\n");
}

/* One child of the connection: its selectors, proposals and lifetimes. */
static void swan_child(struct strbuf *out, const struct kz_config *c,
		       const struct kz_ipsec_profile *pp, const struct kz_ipsec_policy *ips,
		       const struct kz_selector *sel, bool init)
{
	const struct kz_ipsec_proposal *efirst = NULL;

	swan_ts(out, "local_ts", &sel->local, sel->proto, sel->lport);
	swan_ts(out, "remote_ts", &sel->remote, sel->proto, sel->rport);
	sb_puts(out, "        mode = tunnel\n");
	sb_puts(out, "        esp_proposals = ");
	for (unsigned i = 0; i < ips->nproposals; i++) {
		const struct kz_ipsec_proposal *x = kz_find_ipsec_proposal(c, ips->proposals[i]);
		const char *integ, *g;

		if (!x)
			continue;
		if (!efirst)
			efirst = x;
		else
			sb_puts(out, ",");
		sb_puts(out, kz_enc_names(x->enc)->swan);
		integ = kz_auth_names(x->auth)->swan;
		if (integ)
			sb_printf(out, "-%s", integ);
		g = kz_group_names(ips->pfs)->swan;
		if (g)
			sb_printf(out, "-%s", g);
	}
	sb_puts(out, "\n");
	if (efirst) {
		/* without rekey_time charon renews its CHILD_SA every hour */
		sb_printf(out, "        rekey_time = %us\n",
			  efirst->lifetime_time - efirst->lifetime_time / 10);
		sb_printf(out, "        life_time = %us\n", efirst->lifetime_time);
		if (efirst->lifetime_kbytes)
			sb_printf(out, "        life_bytes = %llu\n",
				  (unsigned long long)efirst->lifetime_kbytes * 1024ull);
	}
	sb_printf(out, "        replay_window = %u\n", ips->replay_window);
	sb_printf(out, "        start_action = %s\n",
		  !init                                           ? "none"
			  : pp->initiate == KZ_INITIATE_ON_DEMAND ? "trap"
								  : "start");
}

void kz_peer_render_swanctl(const struct kz_peer *p, struct strbuf *out)
{
	const struct kz_config *c = p->cfg;
	const struct kz_ipsec_profile *pp = kz_find_profile(c, p->profile);
	const struct kz_ike_policy *ike = pp ? kz_find_ike_policy(c, pp->ike_policy) : NULL;
	const struct kz_ipsec_policy *ips = pp ? kz_find_ipsec_policy(c, pp->ipsec_policy) : NULL;
	const struct kz_ike_proposal *first = NULL;
	char a[INET_ADDRSTRLEN];
	struct kz_selector sel[KZ_MAX_PAIRS];
	const char *remote = "";
	bool init;

	if (!pp || !ike || !ips)
		return;
	init = pp->peer_type != KZ_PEER_ANY;
	if (pp->peer_type == KZ_PEER_ADDR)
		remote = inet_ntop(AF_INET, &pp->peer_addr, a, sizeof(a));
	else if (pp->peer_type == KZ_PEER_FQDN)
		remote = pp->peer_fqdn;

	sb_printf(out, "# swanctl.conf for the other end of ipsec profile %s of %s\n", p->profile,
		  p->src_hostname);
	sb_puts(out, "# WARNING: the secrets section holds the pre-shared key in clear text.\n");
	if (ike->mode == KZ_MODE_AGGRESSIVE)
		sb_puts(out,
			"# Aggressive mode with a pre-shared key needs, in strongswan.conf:\n"
			"#   charon { i_dont_care_about_security_and_use_aggressive_mode_psk = yes "
			"}\n");
	if (ike->natt)
		sb_printf(out, "# NAT keepalives: strongswan.conf charon.keep_alive = %us\n",
			  ike->keepalive);
	else
		sb_printf(out,
			  "# %s has nat-traversal off: keep this end's ESP out of UDP\n"
			  "# (kernel-libipsec always asks for UDP encapsulation).\n",
			  p->src_hostname);
	sb_puts(out, "connections {\n");
	sb_printf(out, "  %s {\n    version = 1\n    aggressive = %s\n", p->profile,
		  ike->mode == KZ_MODE_AGGRESSIVE ? "yes" : "no");
	if (p->own_addr[0])
		sb_printf(out, "    local_addrs = %s\n", p->own_addr);
	if (remote[0])
		sb_printf(out, "    remote_addrs = %s\n", remote);
	else if (p->peer_unknown)
		sb_printf(out, "    # EDIT: remote_addrs = <the address or FQDN of %s>\n",
			  p->src_hostname);
	else
		sb_puts(out, "    remote_addrs = %any\n");
	sb_puts(out, "    proposals = ");
	for (unsigned i = 0; i < ike->nproposals; i++) {
		const struct kz_ike_proposal *x = kz_find_ike_proposal(c, ike->proposals[i]);

		if (!x)
			continue;
		if (!first)
			first = x;
		else
			sb_puts(out, ",");
		sb_printf(out, "%s-%s-%s", kz_enc_names(x->enc)->swan, kz_hash_names(x->hash)->swan,
			  kz_group_names(x->group)->swan);
	}
	sb_puts(out, "\n");
	/* IKEv1 charon renews at rekey_time and proposes rekey_time +
	 * over_time as the lifetime: 90 % + 10 % put kizuna's on the wire */
	if (first)
		sb_printf(out, "    rekey_time = %us\n    over_time = %us\n",
			  first->lifetime - first->lifetime / 10, first->lifetime / 10);
	if (ike->dpd)
		sb_printf(out, "    dpd_delay = %us\n    dpd_timeout = %llus\n", ike->dpd_interval,
			  (unsigned long long)ike->dpd_interval * (ike->dpd_retry + 1ull));
	sb_puts(out, "    local {\n      auth = psk\n      id = ");
	swan_local_id(out, &ike->local_id, p->own_addr);
	sb_puts(out, "\n    }\n    remote {\n      auth = psk\n");
	if (ike->remote_id.type != KZ_ID_NONE) {
		sb_puts(out, "      id = ");
		swan_ident(out, &ike->remote_id);
		sb_puts(out, "\n");
	} else if (p->this_addr[0] && pp->peer_type == KZ_PEER_ADDR) {
		sb_printf(out, "      id = %s\n", p->this_addr);
	}
	sb_puts(out, "    }\n    children {\n");
	/* one child per selector pair: strongSwan negotiates each on its own
	 * under the one IKE SA, as kizuna does */
	unsigned npairs = kz_policy_pairs(ips, sel);

	for (unsigned k = 0; k < npairs; k++) {
		if (k)
			sb_printf(out, "      }\n      net-%u {\n", k + 1);
		else
			sb_puts(out, "      net {\n");
		swan_child(out, c, pp, ips, &sel[k], init);
	}
	sb_puts(out, "      }\n    }\n  }\n}\n");

	/* The key, bound to the two identities where they are known. */
	sb_puts(out, "secrets {\n  ike-1 {\n");
	{
		unsigned n = 0;

		if (ike->local_id.type != KZ_ID_NONE || p->own_addr[0]) {
			sb_printf(out, "    id-%u = ", ++n);
			swan_local_id(out, &ike->local_id, p->own_addr);
			sb_puts(out, "\n");
		}
		if (ike->remote_id.type != KZ_ID_NONE) {
			sb_printf(out, "    id-%u = ", ++n);
			swan_ident(out, &ike->remote_id);
			sb_puts(out, "\n");
		} else if (p->this_addr[0] && pp->peer_type == KZ_PEER_ADDR) {
			sb_printf(out, "    id-%u = %s\n", ++n, p->this_addr);
		}
	}
	if (ike->psk.hex) {
		sb_printf(out, "    secret = 0x%s\n", ike->psk.text);
	} else {
		sb_puts(out, "    secret = \"");
		for (const char *s = ike->psk.text; *s; s++) {
			if (*s == '"' || *s == '\\')
				sb_puts(out, "\\");
			sb_putn(out, s, 1);
		}
		sb_puts(out, "\"\n");
	}
	sb_puts(out, "  }\n}\n");
}
