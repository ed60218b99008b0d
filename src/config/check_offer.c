/* check_offer.c - cross-site checks of what the two sites offer each
 * other: the traffic selectors (troubleshooting.md A5.3), the IKE and ESP
 * proposals and their lifetimes (A5.4) and PFS.  Called by
 * kz_check_cross() in check_pair.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "config/check.h"
#include "config/check_int.h"

/* ---- A5.3 --------------------------------------------------------------------- */

/* b has the mirror of pair a: networks swapped, the same protocol, ports
 * swapped. */
static bool has_mirror(const struct kz_selector *a, const struct kz_ipsec_policy *b)
{
	struct kz_selector m = { a->remote, a->local, a->proto, a->rport, a->lport };

	for (unsigned i = 0; i < b->nsel; i++)
		if (kz_selector_equal(&m, &b->sel[i]))
			return true;
	return false;
}

/* The `selector` lines, pair by pair: each of one side's needs its mirror
 * on the other, where t is told to add it (or o to drop it). */
static int check_selector_lines(const struct side *t, const struct side *o, struct kz_findings *out)
{
	const struct side *from[2] = { o, t }, *to[2] = { t, o };

	for (int k = 0; k < 2; k++) {
		const struct kz_ipsec_policy *a = from[k]->pol, *b = to[k]->pol;

		for (unsigned i = 0; i < a->nsel; i++) {
			const struct kz_selector *x = &a->sel[i];
			char have[128], l[24], r[24], pr[8];
			struct kz_finding *f;

			if (has_mirror(x, b))
				continue;
			kz_selector_str(x, have, sizeof(have));
			f = kz_check_addc(
				out, KZ_SEV_NG, "A5.3", to[k], "ipsec policy selector not mirrored",
				"ipsec policy %s in %s has the selector %s, ipsec policy "
				"%s in %s has no selector mirroring it: that pair's quick "
				"mode fails with INVALID-ID-INFORMATION",
				a->name, from[k]->site->name, have, b->name, to[k]->site->name);
			if (!f)
				return KZ_ENOMEM;
			kz_finding_remedy(f, "ipsec policy %s", b->name);
			kz_prefix_str(&x->remote, l, sizeof(l));
			kz_prefix_str(&x->local, r, sizeof(r));
			if (!x->proto) {
				kz_finding_remedy(f, "selector local %s remote %s", l, r);
			} else {
				char lp[20] = "", rp[20] = "";

				kz_proto_str(x->proto, pr, sizeof(pr));
				if (x->rport)
					snprintf(lp, sizeof(lp), " local-port %u", x->rport);
				if (x->lport)
					snprintf(rp, sizeof(rp), " remote-port %u", x->lport);
				kz_finding_remedy(f, "selector local %s remote %s protocol %s%s%s",
						  l, r, pr, lp, rp);
			}
		}
	}
	return 0;
}

int kz_check_selectors(const struct side *t, const struct side *o, const struct side *l,
		       const struct side *p, struct kz_findings *out)
{
	char ll[24], lr[24], pl[24], pr[24], w[24];
	struct kz_finding *f;
	int rc = check_selector_lines(t, o, out);

	if (rc)
		return rc;
	if (kz_check_mirrored(l->pol, p->pol))
		return 0;
	f = kz_check_add(out, KZ_SEV_NG, "A5.3", t, "ipsec policy ids not mirrored");
	if (!f)
		return KZ_ENOMEM;
	kz_check_prefix_words(&l->pol->local_ts, ll, sizeof(ll));
	kz_check_prefix_words(&l->pol->remote_ts, lr, sizeof(lr));
	kz_check_prefix_words(&p->pol->local_ts, pl, sizeof(pl));
	kz_check_prefix_words(&p->pol->remote_ts, pr, sizeof(pr));
	kz_finding_cause(f,
			 "ipsec policy %s in %s has local-id %s remote-id %s, ipsec policy %s "
			 "in %s has local-id %s remote-id %s: each side's local-id must be the "
			 "other's remote-id",
			 l->pol->name, l->site->name, ll, lr, p->pol->name, p->site->name, pl, pr);
	kz_finding_remedy(f, "ipsec policy %s", t->pol->name);
	if (!kz_prefix_equal(&t->pol->local_ts, &o->pol->remote_ts)) {
		kz_check_prefix_words(&o->pol->remote_ts, w, sizeof(w));
		if (o->pol->remote_ts.set)
			kz_finding_remedy(f, "local-id %s", w);
		else
			kz_finding_remedy(f, "no local-id");
	}
	if (!kz_prefix_equal(&t->pol->remote_ts, &o->pol->local_ts)) {
		kz_check_prefix_words(&o->pol->local_ts, w, sizeof(w));
		if (o->pol->local_ts.set)
			kz_finding_remedy(f, "remote-id %s", w);
		else
			kz_finding_remedy(f, "no remote-id");
	}
	return 0;
}

/* ---- A5.4 proposals ------------------------------------------------------------ */

static int note_lifetime(struct kz_findings *out, const struct side *t, const char *kind,
			 const char *tname, unsigned long long tval, const struct side *o,
			 const char *oname, unsigned long long oval, const char *unit)
{
	struct kz_finding *f;

	if (tval == oval)
		return 0;
	f = kz_findings_add(out, KZ_SEV_WARN, "", t->p->name,
			    "%s proposal %s: lifetime %llu %s, but %s %s proposal %s has %llu %s "
			    "(not a failure; some peers refuse a lifetime other than their own)",
			    kind, tname, tval, unit, o->site->name, kind, oname, oval, unit);
	if (!f)
		return KZ_ENOMEM;
	f->side = t->which;
	return 0;
}

/* How many negotiated parameters of two proposals differ. */
static unsigned ike_diff(const void *va, const void *vb)
{
	const struct kz_ike_proposal *a = va, *b = vb;

	return (a->enc != b->enc) + (a->hash != b->hash) + (a->group != b->group);
}

static unsigned esp_diff(const void *va, const void *vb)
{
	const struct kz_ipsec_proposal *a = va, *b = vb;

	return (a->enc != b->enc) + (a->auth != b->auth);
}

static const void *ike_find(const struct kz_config *c, const char *name)
{
	return kz_find_ike_proposal(c, name);
}

static const void *esp_find(const struct kz_config *c, const char *name)
{
	return kz_find_ipsec_proposal(c, name);
}

/* The proposals of one kind that a policy lists. */
struct prop_list {
	const struct kz_config *cfg;
	const char (*names)[KZ_NAME_MAX];
	unsigned n;
};

/* The closest pair of proposals, the first common one in the preference
 * order of l if there is one: *bl and *bp (NULL when either list names
 * nothing defined); returns how many parameters they differ in. */
static unsigned closest_pair(const struct prop_list *l, const struct prop_list *p,
			     const void *(*lookup)(const struct kz_config *, const char *),
			     unsigned (*diff)(const void *, const void *), const void **bl,
			     const void **bp)
{
	unsigned best = ~0u;

	*bl = *bp = NULL;
	for (unsigned i = 0; i < l->n; i++) {
		const void *a = lookup(l->cfg, l->names[i]);

		for (unsigned j = 0; a && j < p->n; j++) {
			const void *b = lookup(p->cfg, p->names[j]);
			unsigned k;

			if (!b)
				continue;
			k = diff(a, b);
			if (k < best) {
				best = k;
				*bl = a;
				*bp = b;
			}
		}
		if (best == 0)
			break;
	}
	return best;
}

/* One negotiated parameter of the closest pair: its keyword and value in
 * l and in p, and whether the remedy should set it on side t. */
struct prop_param {
	const char *what;
	bool differ;
	const char *lv, *pv;
	bool remedy;
};

/* A5.4: no proposal of kind ("ike", "ipsec") is common to l and p; the
 * cause names the closest pair and how they differ, the remedy gives side
 * t's proposal the other side's values. */
static int no_common_proposal(struct kz_findings *out, const char *kind, const struct side *t,
			      const struct side *l, const struct side *p, const char *lname,
			      const char *pname, const struct prop_param *v, unsigned n)
{
	char d[256] = "", what[32];
	struct kz_finding *f;
	size_t off;

	for (unsigned i = 0; i < n; i++) {
		if (!v[i].differ)
			continue;
		off = strlen(d);
		kz_check_set(d + off, sizeof(d) - off, "%s%s (%s / %s)", off ? ", " : "", v[i].what,
			     v[i].lv, v[i].pv);
	}
	kz_check_set(what, sizeof(what), "no common %s proposal", kind);
	f = kz_check_addc(out, KZ_SEV_NG, "A5.4", t, what,
			  "no %s proposal of %s matches one of %s: the closest, %s proposal "
			  "%s in %s and %s proposal %s in %s, differ in %s",
			  kind, l->site->name, p->site->name, kind, lname, l->site->name, kind,
			  pname, p->site->name, d);
	if (!f)
		return KZ_ENOMEM;
	kz_finding_remedy(f, "%s proposal %s", kind, t == l ? lname : pname);
	for (unsigned i = 0; i < n; i++)
		if (v[i].differ && v[i].remedy)
			kz_finding_remedy(f, "%s %s", v[i].what, t == l ? v[i].pv : v[i].lv);
	return 0;
}

int kz_check_ike_props(const struct side *t, const struct side *o, const struct side *l,
		       const struct side *p, struct kz_findings *out)
{
	struct prop_list ll = { l->site->cfg, l->ike->proposals, l->ike->nproposals };
	struct prop_list pl = { p->site->cfg, p->ike->proposals, p->ike->nproposals };
	const void *vl, *vp;
	unsigned best = closest_pair(&ll, &pl, ike_find, ike_diff, &vl, &vp);
	const struct kz_ike_proposal *bl = vl, *bp = vp;

	if (!bl)
		return 0; /* A4 reports the missing proposals */
	if (best == 0) {
		const struct kz_ike_proposal *tp = t == l ? bl : bp, *op = t == l ? bp : bl;

		return note_lifetime(out, t, "ike", tp->name, tp->lifetime, o, op->name,
				     op->lifetime, "s");
	}
	{
		const struct prop_param v[] = {
			{ "encryption", bl->enc != bp->enc, kz_enc_name(bl->enc),
			  kz_enc_name(bp->enc), true },
			{ "hash", bl->hash != bp->hash, kz_hash_name(bl->hash),
			  kz_hash_name(bp->hash), true },
			{ "group", bl->group != bp->group, kz_group_name(bl->group),
			  kz_group_name(bp->group), true },
		};

		return no_common_proposal(out, "ike", t, l, p, bl->name, bp->name, v, 3);
	}
}

int kz_check_esp_props(const struct side *t, const struct side *o, const struct side *l,
		       const struct side *p, struct kz_findings *out)
{
	struct prop_list ll = { l->site->cfg, l->pol->proposals, l->pol->nproposals };
	struct prop_list pl = { p->site->cfg, p->pol->proposals, p->pol->nproposals };
	const void *vl, *vp;
	unsigned best = closest_pair(&ll, &pl, esp_find, esp_diff, &vl, &vp);
	const struct kz_ipsec_proposal *bl = vl, *bp = vp;
	int rc;

	if (!bl)
		return 0;
	if (best == 0) {
		const struct kz_ipsec_proposal *tp = t == l ? bl : bp, *op = t == l ? bp : bl;

		if ((rc = note_lifetime(out, t, "ipsec", tp->name, tp->lifetime_time, o, op->name,
					op->lifetime_time, "s")))
			return rc;
		return note_lifetime(out, t, "ipsec", tp->name, tp->lifetime_kbytes, o, op->name,
				     op->lifetime_kbytes, "KB");
	}
	{
		/* GCM carries its own integrity: no `authentication` line. */
		const struct prop_param v[] = {
			{ "encryption", bl->enc != bp->enc, kz_enc_name(bl->enc),
			  kz_enc_name(bp->enc), true },
			{ "authentication", bl->auth != bp->auth, kz_auth_name(bl->auth),
			  kz_auth_name(bp->auth), (t == l ? bp : bl)->auth != KZ_AUTH_NONE },
		};

		return no_common_proposal(out, "ipsec", t, l, p, bl->name, bp->name, v, 2);
	}
}

int kz_check_pfs(const struct side *t, const struct side *o, struct kz_findings *out)
{
	struct kz_finding *f;

	if (t->pol->pfs == o->pol->pfs)
		return 0;
	f = kz_check_addc(out, KZ_SEV_NG, "A5.4", t, "pfs differs",
			  "pfs differs: ipsec policy %s in %s has pfs %s, ipsec policy %s in "
			  "%s pfs %s; quick mode fails when one side expects a Diffie-Hellman "
			  "exchange the other does not make",
			  t->pol->name, t->site->name, kz_group_name(t->pol->pfs), o->pol->name,
			  o->site->name, kz_group_name(o->pol->pfs));
	if (!f)
		return KZ_ENOMEM;
	kz_finding_remedy(f, "ipsec policy %s", t->pol->name);
	kz_finding_remedy(f, "pfs %s", kz_group_name(o->pol->pfs));
	return 0;
}
