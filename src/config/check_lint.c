/* check_lint.c - what is legal but doubtful in one config: the pre-shared
 * key's strength estimate (zxcvbn) and the [WARN] lines (weak algorithms, M1.2
 * `peer any` with main mode, unused objects, routes that miss the tunnel).
 *
 * Nothing here stops a tunnel; see check.c for the A4 check that does, and
 * check.h for the API. */
#include "config/check.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zxcvbn.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "config/check_int.h"

/* ---- pre-shared key strength -------------------------------------------- */

/* zxcvbn's estimate (log2 of the guesses an attacker who tries words,
 * names, keyboard patterns, repeats and sequences first needs); a hex key
 * is taken as random bytes.  The key is copied to a string for zxcvbn and
 * the copy wiped. */
unsigned kz_psk_bits(const struct kz_psk *psk)
{
	char key[KZ_PSK_MAX + 1];
	double bits;

	if (!psk || !psk->set || !psk->len)
		return 0;
	if (psk->hex)
		return (unsigned)(8 * psk->len);
	if (psk->len > KZ_PSK_MAX || memchr(psk->key, 0, psk->len))
		return 0;
	memcpy(key, psk->key, psk->len);
	key[psk->len] = '\0';
	bits = ZxcvbnMatch(key, NULL, NULL);
	kz_wipe(key, sizeof(key));
	return bits > 0 ? (unsigned)(bits + 0.5) : 0;
}

#define GUESS_RATE_LOG10 10 /* 10^10 guesses per second: a few GPUs */
#define SEC_PER_YEAR 31557600.0

void kz_psk_strength_text(unsigned bits, char *out, size_t len)
{
	char t[64];
	double s = 1;

	/* The expected time: half the key space at the stated rate. */
	if (bits <= 120) {
		for (unsigned i = 1; i < bits; i++)
			s *= 2;
		for (int i = 0; i < GUESS_RATE_LOG10; i++)
			s /= 10;
		if (s < 1)
			kz_check_set(t, sizeof(t), "under a second");
		else if (s < 1.5)
			kz_check_set(t, sizeof(t), "~1 second");
		else if (s < 120)
			kz_check_set(t, sizeof(t), "~%.0f seconds", s);
		else if (s < 2 * 3600)
			kz_check_set(t, sizeof(t), "~%.0f minutes", s / 60);
		else if (s < 2 * 86400)
			kz_check_set(t, sizeof(t), "~%.0f hours", s / 3600);
		else if (s < 2 * SEC_PER_YEAR)
			kz_check_set(t, sizeof(t), "~%.0f days", s / 86400);
		else if (s < 1e4 * SEC_PER_YEAR)
			kz_check_set(t, sizeof(t), "~%.0f years", s / SEC_PER_YEAR);
		else {
			double y = s / SEC_PER_YEAR;
			int e = 0;

			while (y >= 10) {
				y /= 10;
				e++;
			}
			kz_check_set(t, sizeof(t), "~10^%d years", e + (y >= 3.16));
		}
	} else {
		/* log10 of the years, without overflowing a double. */
		double e = (bits - 1) * 0.30102999566 - GUESS_RATE_LOG10 - 7.4991;

		kz_check_set(t, sizeof(t), "~10^%d years", (int)(e + 0.5));
	}
	kz_check_set(out, len, "~%u bits, crackable offline in %s at 10^%d guesses/s", bits, t,
		     GUESS_RATE_LOG10);
}

/* ---- warnings --------------------------------------------------------------- */

static const char *weak_enc(enum kz_enc e)
{
	switch (e) {
	case KZ_ENC_DES_CBC:
		return "56-bit key, found by exhaustive search in hours";
	case KZ_ENC_3DES_CBC:
		return "64-bit block: Sweet32 collisions after ~32 GB under one key";
	default:
		return NULL;
	}
}

static const char *weak_group(enum kz_group g)
{
	switch (g) {
	case KZ_GROUP_MODP768:
		return "768-bit discrete logarithms have been computed";
	case KZ_GROUP_MODP1024:
		return "a well-funded attacker can break 1024-bit groups: Logjam";
	default:
		return NULL;
	}
}

static int warn(struct kz_findings *out, const char *profile, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int warn(struct kz_findings *out, const char *profile, const char *fmt, ...)
{
	struct kz_finding *f = kz_findings_add(out, KZ_SEV_WARN, "", profile, "%s", "");
	va_list ap;

	if (!f)
		return KZ_ENOMEM;
	va_start(ap, fmt);
	kz_check_vset(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	return 0;
}

/* Whether a route sends dst (the remote network) into IPsec<unit>. */
static bool routed_into(const struct kz_config *c, const struct kz_prefix *dst, unsigned unit)
{
	for (size_t i = 0; i < c->routes.n; i++) {
		const struct kz_route *r = &c->routes.v[i];
		uint32_t mask;

		if (r->via != KZ_VIA_IPSEC || r->ipsec_unit != unit || r->dest.len > dst->len)
			continue;
		mask = r->dest.len ? htonl(~0u << (32 - r->dest.len)) : 0;
		if ((r->dest.addr.s_addr & mask) == (dst->addr.s_addr & mask))
			return true;
	}
	return false;
}

static int lint_m12(const struct kz_ipsec_profile *p, const struct kz_ike_policy *ike,
		    struct kz_findings *out)
{
	struct kz_finding *f;

	if (p->peer_type != KZ_PEER_ANY || !ike || ike->mode != KZ_MODE_MAIN)
		return 0;
	f = kz_findings_add(out, KZ_SEV_NG, "M1.2", p->name, "peer any with main mode [%s]",
			    p->name);
	if (!f)
		return KZ_ENOMEM;
	kz_finding_cause(f,
			 "ipsec profile %s is `peer any` and its ike policy %s uses main "
			 "mode: in main mode with a pre-shared key the responder picks the key "
			 "by the initiator's address, so that address must be fixed and "
			 "configured (or use aggressive mode)",
			 p->name, ike->name);
	kz_finding_remedy_in(f, "peer <the other site's fixed global address>", "ipsec profile %s",
			     p->name);
	return 0;
}

/* A5.2 on one site: an aggressive-mode responder (`peer any`) finds its
 * profile by the initiator's ID, and answers an AM1 only when that ID is
 * its remote-id: an AM2 carries a hash of the key that allows an offline
 * guess of it, so it is never sent to an ID nobody configured.  Without a
 * remote-id the profile answers nobody. */
static int lint_am_responder(const struct kz_ipsec_profile *p, const struct kz_ike_policy *ike,
			     struct kz_findings *out)
{
	struct kz_finding *f;

	if (p->peer_type != KZ_PEER_ANY || !ike || ike->mode != KZ_MODE_AGGRESSIVE ||
	    ike->remote_id.type != KZ_ID_NONE)
		return 0;
	f = kz_findings_add(out, KZ_SEV_NG, "A5.2", p->name,
			    "aggressive-mode responder without remote-id [%s]", p->name);
	if (!f)
		return KZ_ENOMEM;
	kz_finding_cause(f,
			 "ipsec profile %s is the responder (peer any) in aggressive mode, but "
			 "its ike policy %s sets no remote-id: the responder answers only an "
			 "initiator whose ID is its remote-id (the initiator sets local-id, the "
			 "responder remote-id)",
			 p->name, ike->name);
	kz_finding_remedy_in(f, "remote-id key-id <the initiator's local-id>", "ike policy %s",
			     ike->name);
	return 0;
}

static int lint_peer(const struct kz_ipsec_profile *p, const struct kz_ike_policy *ike,
		     struct kz_findings *out)
{
	char a[INET_ADDRSTRLEN];
	enum kz_addr_class k;

	if (p->peer_type == KZ_PEER_UNSET)
		return warn(out, p->name,
			    "ipsec profile %s: no peer: the profile neither "
			    "initiates nor answers",
			    p->name);
	if (p->peer_type != KZ_PEER_ADDR)
		return 0;
	k = kz_addr_classify(p->peer_addr);
	if (k == KZ_ADDR_GLOBAL)
		return 0;
	inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a));
	return warn(out, p->name,
		    "ipsec profile %s: peer %s is a %s address: the responder "
		    "is reachable only inside a closed carrier network, not over the "
		    "internet%s",
		    p->name, a, k == KZ_ADDR_SHARED ? "shared (carrier-grade NAT)" : "private",
		    !ike                                ? ""
			    : ike->mode == KZ_MODE_MAIN ? " (M1.1)"
							: " (A6.1)");
}

/* A low back-off ceiling on an initiator: a site that cannot get through
 * (wrong key, peer gone) negotiates every few seconds for as long as it
 * is up, and on a metered SIM each attempt is paid for. */
#define KZ_RETRY_MAX_LOW 60u

static int lint_retry(const struct kz_ipsec_profile *p, struct kz_findings *out)
{
	if (p->peer_type != KZ_PEER_ADDR && p->peer_type != KZ_PEER_FQDN)
		return 0;
	if (p->retry_max >= KZ_RETRY_MAX_LOW)
		return 0;
	return warn(out, p->name,
		    "ipsec profile %s: retry max %u: retries every %u s can "
		    "burn a metered SIM's data; a ceiling of %u s or more is kinder",
		    p->name, p->retry_max, p->retry_max, KZ_RETRY_MAX_LOW);
}

static int lint_ike(const struct kz_config *c, const struct kz_ipsec_profile *p,
		    const struct kz_ike_policy *ike, struct kz_findings *out)
{
	char st[128];
	int rc;

	if (!ike)
		return 0;
	/* only a key below 80 bits is worth a line (a strong key is not) */
	if (ike->mode == KZ_MODE_AGGRESSIVE && ike->psk.set && kz_psk_bits(&ike->psk) < 80) {
		kz_psk_strength_text(kz_psk_bits(&ike->psk), st, sizeof(st));
		rc = warn(out, p->name,
			  "ike policy %s: aggressive mode with a pre-shared key: "
			  "%s; use a longer random key (80 bits or more, kizuna genkey)",
			  ike->name, st);
		if (rc)
			return rc;
	}
	if (!ike->psk.set) {
		rc = warn(out, p->name,
			  "ike policy %s: no pre-shared-key: IKE cannot "
			  "authenticate the peer",
			  ike->name);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < ike->nproposals; i++) {
		const struct kz_ike_proposal *pr = kz_find_ike_proposal(c, ike->proposals[i]);
		const char *why;

		if (!pr)
			continue;
		if ((why = weak_enc(pr->enc)) &&
		    (rc = warn(out, p->name, "ike proposal %s: encryption %s is weak (%s)",
			       pr->name, kz_enc_name(pr->enc), why)))
			return rc;
		if (pr->hash == KZ_HASH_MD5 &&
		    (rc = warn(out, p->name,
			       "ike proposal %s: hash md5 is weak (collisions "
			       "are practical)",
			       pr->name)))
			return rc;
		if ((why = weak_group(pr->group)) &&
		    (rc = warn(out, p->name, "ike proposal %s: group %s is weak (%s)", pr->name,
			       kz_group_name(pr->group), why)))
			return rc;
	}
	return 0;
}

static int lint_ipsec(const struct kz_config *c, const struct kz_ipsec_profile *p,
		      const struct kz_ipsec_policy *pol, struct kz_findings *out)
{
	const char *why;
	int rc;

	if (!pol)
		return 0;
	if ((why = weak_group(pol->pfs)) &&
	    (rc = warn(out, p->name, "ipsec policy %s: pfs %s is weak (%s)", pol->name,
		       kz_group_name(pol->pfs), why)))
		return rc;
	for (unsigned i = 0; i < pol->nproposals; i++) {
		const struct kz_ipsec_proposal *pr = kz_find_ipsec_proposal(c, pol->proposals[i]);

		if (!pr)
			continue;
		if (pr->enc == KZ_ENC_NULL &&
		    (rc = warn(out, p->name,
			       "ipsec proposal %s: encryption null: traffic is "
			       "not encrypted",
			       pr->name)))
			return rc;
		if ((why = weak_enc(pr->enc)) &&
		    (rc = warn(out, p->name, "ipsec proposal %s: encryption %s is weak (%s)",
			       pr->name, kz_enc_name(pr->enc), why)))
			return rc;
		if (pr->auth == KZ_AUTH_HMAC_MD5 &&
		    (rc = warn(out, p->name,
			       "ipsec proposal %s: authentication hmac-md5 is "
			       "weak (MD5 is deprecated; kept for old peers only)",
			       pr->name)))
			return rc;
	}
	return 0;
}

static int lint_route(const struct kz_config *c, const struct kz_ipsec_profile *p,
		      const struct kz_ipsec_policy *pol, struct kz_findings *out)
{
	const struct kz_if_ipsec *ifc = kz_find_if_mapping(c, p->name);
	char pfx[32];
	int rc;

	if (!ifc || !pol)
		return 0;
	/* every pair's remote network, the selector lines' too */
	for (unsigned i = 0; i <= pol->nsel; i++) {
		const struct kz_prefix *r = i ? &pol->sel[i - 1].remote : &pol->remote_ts;

		if (!r->set || routed_into(c, r, ifc->unit))
			continue;
		kz_prefix_str(r, pfx, sizeof(pfx));
		if ((rc = warn(out, p->name,
			       "ipsec profile %s: no ip route to %s through IPsec%u: traffic "
			       "for the remote network does not enter the tunnel (A8.1)",
			       p->name, pfx, ifc->unit)))
			return rc;
	}
	return 0;
}

/* A route into a tunnel that holds the peer itself.  One that covers it
 * (0.0.0.0/0 into IPsec<N> for a route-based tunnel) is fine: kizunad
 * keeps a host route to a peer given by address through MobileEthernet0.0,
 * so IKE and ESP stay outside.  A host route PEER/32 into a tunnel is the
 * user's and wins: it would swallow the peer.  A peer given by name cannot
 * be kept so. */
static int lint_peer_route(const struct kz_config *c, const struct kz_ipsec_profile *p,
			   struct kz_findings *out)
{
	char a[INET_ADDRSTRLEN], pfx[32];

	for (size_t k = 0; k < c->routes.n; k++) {
		const struct kz_route *rt = &c->routes.v[k];
		uint32_t m = rt->dest.len ? htonl(0xffffffffu << (32 - rt->dest.len)) : 0;

		if (rt->via != KZ_VIA_IPSEC)
			continue;
		kz_prefix_str(&rt->dest, pfx, sizeof(pfx));
		if (p->peer_type == KZ_PEER_FQDN && rt->dest.len == 0)
			return warn(out, p->name,
				    "ipsec profile %s: ip route %s IPsec%u covers every address, "
				    "and the peer %s is a name: kizunad keeps only a peer given "
				    "by address on %s; add ip route <its address>/32 "
				    "%s <gateway>",
				    p->name, pfx, rt->ipsec_unit, p->peer_fqdn, KZ_MOBILE_IFNAME,
				    KZ_MOBILE_IFNAME);
		if (p->peer_type != KZ_PEER_ADDR ||
		    ((rt->dest.addr.s_addr ^ p->peer_addr.s_addr) & m) != 0 || rt->dest.len < 32)
			continue;
		inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a));
		return warn(out, p->name,
			    "ipsec profile %s: ip route %s IPsec%u sends IKE and ESP for the peer "
			    "%s into a tunnel: it can never come up (a shorter route into the "
			    "tunnel, such as 0.0.0.0/0, would be fine: the peer is kept on %s)",
			    p->name, pfx, rt->ipsec_unit, a, KZ_MOBILE_IFNAME);
	}
	return 0;
}

int kz_check_profile_lint(const struct kz_config *c, const struct kz_ipsec_profile *p,
			  struct kz_findings *out)
{
	const struct kz_ike_policy *ike;
	const struct kz_ipsec_policy *pol;
	int rc;

	if (!c || !p || !out)
		return KZ_EINVAL;
	ike = p->ike_policy[0] ? kz_find_ike_policy(c, p->ike_policy) : NULL;
	pol = p->ipsec_policy[0] ? kz_find_ipsec_policy(c, p->ipsec_policy) : NULL;
	if ((rc = lint_m12(p, ike, out)) || (rc = lint_am_responder(p, ike, out)) ||
	    (rc = lint_peer(p, ike, out)) || (rc = lint_retry(p, out)) ||
	    (rc = lint_ike(c, p, ike, out)) || (rc = lint_ipsec(c, p, pol, out)) ||
	    (rc = lint_route(c, p, pol, out)) || (rc = lint_peer_route(c, p, out)))
		return rc;
	return 0;
}

static bool named_in(const char (*refs)[KZ_NAME_MAX], unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(refs[i], name) == 0)
			return true;
	return false;
}

/* Objects nothing refers to: usually a typo in the name that refers. */
static int lint_unused(const struct kz_config *c, struct kz_findings *out)
{
	int rc;

	for (size_t i = 0; i < c->ike_proposals.n; i++) {
		const char *nm = c->ike_proposals.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->ike_policies.n && !used; j++)
			used = named_in(c->ike_policies.v[j].proposals,
					c->ike_policies.v[j].nproposals, nm);
		if (!used &&
		    (rc = warn(out, "", "ike proposal %s is not used by any ike policy", nm)))
			return rc;
	}
	for (size_t i = 0; i < c->ike_policies.n; i++) {
		const char *nm = c->ike_policies.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->profiles.n && !used; j++)
			used = strcmp(c->profiles.v[j].ike_policy, nm) == 0;
		if (!used &&
		    (rc = warn(out, "", "ike policy %s is not used by any ipsec profile", nm)))
			return rc;
	}
	for (size_t i = 0; i < c->ipsec_proposals.n; i++) {
		const char *nm = c->ipsec_proposals.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->ipsec_policies.n && !used; j++)
			used = named_in(c->ipsec_policies.v[j].proposals,
					c->ipsec_policies.v[j].nproposals, nm);
		if (!used &&
		    (rc = warn(out, "",
			       "ipsec proposal %s is not used by any ipsec "
			       "policy",
			       nm)))
			return rc;
	}
	for (size_t i = 0; i < c->ipsec_policies.n; i++) {
		const char *nm = c->ipsec_policies.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->profiles.n && !used; j++)
			used = strcmp(c->profiles.v[j].ipsec_policy, nm) == 0;
		if (!used &&
		    (rc = warn(out, "",
			       "ipsec policy %s is not used by any ipsec "
			       "profile",
			       nm)))
			return rc;
	}
	return 0;
}

/* The responder rule of config-language.md: a `peer any` profile without a
 * remote-id accepts any identity only when it is the only such profile, so
 * two of them accept nobody. */
static int lint_any_without_id(const struct kz_config *c, struct kz_findings *out)
{
	char list[KZ_FINDING_TEXT_MAX] = "";
	unsigned k = 0;
	size_t off;

	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];
		const struct kz_ike_policy *ike = kz_find_ike_policy(c, p->ike_policy);

		if (p->peer_type != KZ_PEER_ANY || !ike || ike->remote_id.type != KZ_ID_NONE)
			continue;
		off = strlen(list);
		kz_check_set(list + off, sizeof(list) - off, "%s%s", k ? ", " : "", p->name);
		k++;
	}
	if (k < 2)
		return 0;
	return warn(out, "",
		    "ipsec profiles %s: peer any without an ike remote-id: such a "
		    "profile accepts any identity only when it is the only one; give each a "
		    "remote-id",
		    list);
}

int kz_check_config_lint(const struct kz_config *c, struct kz_findings *out)
{
	struct kz_findings tmp;
	int rc = 0;

	if (!c || !out)
		return KZ_EINVAL;
	if (!c->profiles.n &&
	    (rc = warn(out, "",
		       "no ipsec profile is defined: nothing to "
		       "connect")))
		return rc;
	kz_findings_init(&tmp);
	for (size_t i = 0; i < c->profiles.n; i++) {
		tmp.n = 0;
		if ((rc = kz_check_profile_lint(c, &c->profiles.v[i], &tmp)))
			goto out;
		for (size_t j = 0; j < tmp.n; j++) {
			/* A proposal shared by two profiles is one warning. */
			if (tmp.v[j].severity == KZ_SEV_WARN &&
			    kz_findings_has_text(out, tmp.v[j].text))
				continue;
			if (!kz_findings_push(out, &tmp.v[j])) {
				rc = KZ_ENOMEM;
				goto out;
			}
		}
	}
	if ((rc = lint_any_without_id(c, out)))
		goto out;
	if (c->mobile.present && c->mobile.modem[0] && !c->mobile.apn[0] &&
	    (rc = warn(out, "",
		       "interface MobileEthernet0.0: modem %s without an apn: the bearer is "
		       "not connected; add `apn NAME` from the SIM's contract",
		       c->mobile.modem)))
		goto out;
	for (size_t i = 0; i < c->ipsec_ifs.n; i++) {
		const struct kz_if_ipsec *ifc = &c->ipsec_ifs.v[i];

		if (ifc->map[0] && !kz_find_profile(c, ifc->map) &&
		    (rc = warn(out, "",
			       "interface IPsec%u: ipsec map %s, but ipsec profile %s is "
			       "not defined",
			       ifc->unit, ifc->map, ifc->map)))
			goto out;
	}
	for (size_t i = 0; i < c->routes.n; i++) {
		const struct kz_route *r = &c->routes.v[i];
		char pfx[32];

		if (r->via != KZ_VIA_IPSEC || kz_find_ipsec_if(c, r->ipsec_unit))
			continue;
		kz_prefix_str(&r->dest, pfx, sizeof(pfx));
		if ((rc = warn(out, "", "ip route %s IPsec%u: interface IPsec%u is not defined",
			       pfx, r->ipsec_unit, r->ipsec_unit)))
			goto out;
	}
	rc = lint_unused(c, out);
out:
	kz_findings_free(&tmp);
	return rc;
}
