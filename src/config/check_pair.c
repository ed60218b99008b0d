/* check_pair.c - cross-site checks: one site's config against the peer's.
 *
 * What the troubleshooting procedure asks the operator to compare by eye
 * between the two routers (seed 7.2.1.4 "その他のケース", troubleshooting.md
 * A1, A5, A7 and M1), decided from the two config models: who initiates,
 * the IKE identities, the traffic selectors, the proposals, the pre-shared
 * keys and NAT-Traversal.  Keys are compared byte for byte and never
 * printed.  The selector and proposal checks are in check_offer.c.  See
 * check.h for the API. */
#include "config/check.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "config/check_int.h"

static enum role role_of(const struct kz_ipsec_profile *p)
{
	switch (p->peer_type) {
	case KZ_PEER_ANY:
		return ROLE_RESP;
	case KZ_PEER_ADDR:
	case KZ_PEER_FQDN:
		return ROLE_INIT;
	default:
		return ROLE_NONE;
	}
}

/* ---- pairing ------------------------------------------------------------- */

static const struct kz_ipsec_policy *ipsec_pol(const struct kz_config *c,
					       const struct kz_ipsec_profile *p)
{
	return p->ipsec_policy[0] ? kz_find_ipsec_policy(c, p->ipsec_policy) : NULL;
}

static const struct kz_ike_policy *ike_pol(const struct kz_config *c,
					   const struct kz_ipsec_profile *p)
{
	return p->ike_policy[0] ? kz_find_ike_policy(c, p->ike_policy) : NULL;
}

static bool ident_equal(const struct kz_ident *a, const struct kz_ident *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case KZ_ID_NONE:
		return true;
	case KZ_ID_ADDRESS:
		return a->addr.s_addr == b->addr.s_addr;
	case KZ_ID_KEY_ID:
		return strcmp(a->value, b->value) == 0; /* opaque bytes */
	default:
		return strcasecmp(a->value, b->value) == 0; /* DNS names */
	}
}

bool kz_check_mirrored(const struct kz_ipsec_policy *a, const struct kz_ipsec_policy *b)
{
	return a && b && kz_prefix_equal(&a->local_ts, &b->remote_ts) &&
		kz_prefix_equal(&a->remote_ts, &b->local_ts);
}

/* One end names itself with a local-id the other end expects as remote-id. */
static bool ids_match(const struct kz_ike_policy *a, const struct kz_ike_policy *b)
{
	return a && b &&
		((a->local_id.type != KZ_ID_NONE && ident_equal(&a->local_id, &b->remote_id)) ||
		 (b->local_id.type != KZ_ID_NONE && ident_equal(&b->local_id, &a->remote_id)));
}

static bool complementary(const struct kz_ipsec_profile *a, const struct kz_ipsec_profile *b)
{
	enum role ra = role_of(a), rb = role_of(b);

	/* Initiator with responder, or two initiators (main mode, both sites
	 * naming each other); two responders never talk. */
	return ra != ROLE_NONE && rb != ROLE_NONE && !(ra == ROLE_RESP && rb == ROLE_RESP);
}

static int pair_score(const struct kz_config *local, const struct kz_ipsec_profile *lp,
		      const struct kz_config *peer, const struct kz_ipsec_profile *pp)
{
	int score = 0;

	if (kz_check_mirrored(ipsec_pol(local, lp), ipsec_pol(peer, pp)))
		score += 4;
	if (ids_match(ike_pol(local, lp), ike_pol(peer, pp)))
		score += 2;
	if (complementary(lp, pp))
		score += 1;
	return score;
}

int kz_check_pair_profiles(const struct kz_config *local, const struct kz_config *peer,
			   struct kz_pairing *out, size_t max, size_t *n)
{
	size_t nl = local->profiles.n, np = peer->profiles.n;
	size_t *match; /* match[i]: the peer profile of local i, np when none */
	bool *taken;
	int *score;

	*n = 0;
	if (max < nl + np)
		return KZ_ENOSPC;
	match = calloc(nl ? nl : 1, sizeof(*match));
	taken = calloc(np ? np : 1, sizeof(*taken));
	score = calloc(nl && np ? nl * np : 1, sizeof(*score));
	if (!match || !taken || !score) {
		free(match);
		free(taken);
		free(score);
		return KZ_ENOMEM;
	}
	for (size_t i = 0; i < nl; i++) {
		match[i] = np;
		for (size_t j = 0; j < np; j++)
			score[i * np + j] = pair_score(local, &local->profiles.v[i], peer,
						       &peer->profiles.v[j]);
	}
	if (nl == 1 && np == 1) {
		match[0] = 0;
		taken[0] = true;
	}
	/* Strongest evidence first (mirrored selectors, then matching IKE
	 * ids), so an early profile cannot take another's counterpart. */
	for (;;) {
		size_t bi = nl, bj = np;
		int best = 1;

		for (size_t i = 0; i < nl; i++)
			for (size_t j = 0; j < np && match[i] == np; j++)
				if (!taken[j] && score[i * np + j] > best) {
					best = score[i * np + j];
					bi = i;
					bj = j;
				}
		if (bi == nl)
			break;
		match[bi] = bj;
		taken[bj] = true;
	}
	/* Roles alone pair only when neither side has a choice. */
	for (size_t i = 0; i < nl; i++) {
		size_t cand = np, k = 0;

		if (match[i] != np)
			continue;
		for (size_t j = 0; j < np; j++)
			if (!taken[j] &&
			    complementary(&local->profiles.v[i], &peer->profiles.v[j])) {
				cand = j;
				k++;
			}
		if (k != 1)
			continue;
		k = 0;
		for (size_t i2 = 0; i2 < nl; i2++)
			if (match[i2] == np &&
			    complementary(&local->profiles.v[i2], &peer->profiles.v[cand]))
				k++;
		if (k == 1) {
			match[i] = cand;
			taken[cand] = true;
		}
	}
	for (size_t i = 0; i < nl; i++)
		out[(*n)++] =
			(struct kz_pairing){ &local->profiles.v[i],
					     match[i] < np ? &peer->profiles.v[match[i]] : NULL };
	for (size_t j = 0; j < np; j++)
		if (!taken[j])
			out[(*n)++] = (struct kz_pairing){ NULL, &peer->profiles.v[j] };
	free(match);
	free(taken);
	free(score);
	return 0;
}

/* ---- text helpers ---------------------------------------------------------- */

/* An identity as typed after local-id / remote-id: "key-id site-a",
 * quoted when the value has spaces. */
static void ident_words(const struct kz_ident *id, char *out, size_t len)
{
	static const char *const kw[] = {
		[KZ_ID_KEY_ID] = "key-id", [KZ_ID_FQDN] = "fqdn", [KZ_ID_USER_FQDN] = "user-fqdn"
	};
	char a[INET_ADDRSTRLEN];

	switch (id->type) {
	case KZ_ID_NONE:
		kz_check_set(out, len, "(none)");
		break;
	case KZ_ID_ADDRESS:
		inet_ntop(AF_INET, &id->addr, a, sizeof(a));
		kz_check_set(out, len, "address %s", a);
		break;
	default:
		if (!id->value[0] || strpbrk(id->value, " \t!#"))
			kz_check_set(out, len, "%s \"%s\"", kw[id->type], id->value);
		else
			kz_check_set(out, len, "%s %s", kw[id->type], id->value);
	}
}

void kz_check_prefix_words(const struct kz_prefix *p, char *out, size_t len)
{
	if (p->set)
		kz_prefix_str(p, out, len);
	else
		kz_check_set(out, len, "(not set)");
}

/* ---- one side of a pair ------------------------------------------------------ */

struct kz_finding *kz_check_add(struct kz_findings *out, enum kz_sev sev, const char *id,
				const struct side *s, const char *what)
{
	struct kz_finding *f =
		kz_findings_add(out, sev, id, s->p->name, "%s [%s]", what, s->p->name);

	if (f)
		f->side = s->which;
	return f;
}

/* kz_check_add() with the finding's cause. */
struct kz_finding *kz_check_addc(struct kz_findings *out, enum kz_sev sev, const char *id,
				 const struct side *s, const char *what, const char *fmt, ...)
{
	struct kz_finding *f = kz_check_add(out, sev, id, s, what);
	va_list ap;

	if (f) {
		va_start(ap, fmt);
		kz_check_vset(f->cause, sizeof(f->cause), fmt, ap);
		va_end(ap);
	}
	return f;
}

/* A finding already made against side s with this id, to add to it. */
static struct kz_finding *find(struct kz_findings *out, const char *id, const struct side *s)
{
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->v[i].id, id) == 0 && out->v[i].side == s->which)
			return &out->v[i];
	return NULL;
}

static const char *role_word(enum role r)
{
	return r == ROLE_INIT ? "initiator" : r == ROLE_RESP ? "responder" : "site";
}

/* ---- A1.1 ------------------------------------------------------------------------ */

static int check_a11(const struct side *l, const struct side *p, struct kz_findings *out)
{
	struct kz_finding *f;

	if (l->role != ROLE_RESP || p->role != ROLE_RESP)
		return 0;
	f = kz_check_addc(out, KZ_SEV_NG, "A1.1", l, "no initiator: both ends are peer any",
			  "ipsec profile %s in %s and ipsec profile %s in %s are both `peer "
			  "any`: both wait as responders and neither sends the first IKE message; "
			  "one site must initiate (the one with a private or shared address, or "
			  "either when both are global)",
			  l->p->name, l->site->name, p->p->name, p->site->name);
	if (!f)
		return KZ_ENOMEM;
	kz_finding_remedy(f, "ipsec profile %s", l->p->name);
	kz_finding_remedy(f, "peer <the other site's global address or FQDN>");
	return 0;
}

/* ---- exchange mode (A5.4) ------------------------------------------------------- */

/* Returns the mode the pair negotiates once fixed, for the mode-dependent
 * checks that follow. */
static int check_mode(const struct side *l, const struct side *p, struct kz_findings *out,
		      enum kz_exchange_mode *mode)
{
	const struct side *t, *o;
	struct kz_finding *f;
	enum kz_exchange_mode to;

	*mode = l->ike->mode;
	if (l->ike->mode == p->ike->mode)
		return 0;
	if (l->role == ROLE_RESP || p->role == ROLE_RESP) {
		/* With `peer any` main mode cannot work (M1.2): the side in
		 * main mode changes. */
		t = l->ike->mode == KZ_MODE_MAIN ? l : p;
		to = KZ_MODE_AGGRESSIVE;
	} else {
		t = l;
		to = p->ike->mode;
	}
	o = t == l ? p : l;
	*mode = to;
	f = kz_check_addc(out, KZ_SEV_NG, "A5.4", t, "exchange mode differs",
			  "exchange mode differs: ike policy %s in %s uses %s mode, ike policy "
			  "%s in %s %s mode; an exchange in the other mode is refused",
			  t->ike->name, t->site->name, kz_mode_name(t->ike->mode), o->ike->name,
			  o->site->name, kz_mode_name(o->ike->mode));
	if (!f)
		return KZ_ENOMEM;
	kz_finding_remedy(f, "ike policy %s", t->ike->name);
	kz_finding_remedy(f, "exchange-mode %s", kz_mode_name(to));
	return 0;
}

/* ---- identities (A5.2, A5.1; aggressive mode) -------------------------------- */

static int a51(struct kz_findings *out, const struct side *t, const char *cause, const char *cmd)
{
	struct kz_finding *f = find(out, "A5.1", t);

	if (!f) {
		f = kz_check_addc(out, KZ_SEV_NG, "A5.1", t, "key-id differs", "%s", cause);
		if (!f)
			return KZ_ENOMEM;
		kz_finding_remedy(f, "ike policy %s", t->ike->name);
	} else {
		/* Both directions wrong on one side: one block. */
		size_t off = strlen(f->cause);

		kz_check_set(f->cause + off, sizeof(f->cause) - off, "; also %s", cause);
	}
	kz_finding_remedy(f, "%s", cmd);
	return 0;
}

/* What a side sends as its identity: its local-id, else its address. */
struct sent_id {
	bool known;
	struct kz_ident id;
};

/* The direction s -> r: r checks what s sends against its remote-id (and,
 * as responder, picks its profile by it).  Without a local-id s sends its
 * address, which this pair knows only when r names s by `peer` address. */
static int check_direction(const struct side *s, const struct kz_ident *s_local,
			   const struct side *r, const struct kz_ident *r_remote,
			   struct kz_findings *out)
{
	char want[KZ_IDVAL_MAX + 16], got[KZ_IDVAL_MAX + 16], cause[KZ_FINDING_CAUSE_MAX];
	char cmd[KZ_FINDING_LINE_MAX];
	struct sent_id sent = { false, { 0 } };

	if (r_remote->type == KZ_ID_NONE)
		return 0;
	if (s_local->type != KZ_ID_NONE) {
		sent.known = true;
		sent.id = *s_local;
	} else if (r->p->peer_type == KZ_PEER_ADDR) {
		sent.known = true;
		sent.id.type = KZ_ID_ADDRESS;
		sent.id.addr = r->p->peer_addr;
	}
	ident_words(r_remote, want, sizeof(want));
	if (!sent.known) {
		/* s sends an address nobody here knows: a key-id or name never
		 * matches it, an address might. */
		if (r_remote->type == KZ_ID_ADDRESS)
			return 0;
		kz_check_set(cause, sizeof(cause),
			     "the %s %s sends its address as identity (no local-id), "
			     "but the %s %s (ike policy %s) expects remote-id %s",
			     role_word(s->role), s->site->name, role_word(r->role), r->site->name,
			     r->ike->name, want);
		kz_check_set(cmd, sizeof(cmd), "local-id %s", want);
		return a51(out, s, cause, cmd);
	}
	if (ident_equal(&sent.id, r_remote))
		return 0;
	ident_words(&sent.id, got, sizeof(got));
	if (s_local->type == KZ_ID_NONE) {
		kz_check_set(cause, sizeof(cause),
			     "the %s %s sends its address (%s, no local-id), but "
			     "the %s %s (ike policy %s) expects remote-id %s",
			     role_word(s->role), s->site->name, got, role_word(r->role),
			     r->site->name, r->ike->name, want);
		/* A name is what was meant: give s that name. */
		if (r_remote->type != KZ_ID_ADDRESS) {
			kz_check_set(cmd, sizeof(cmd), "local-id %s", want);
			return a51(out, s, cause, cmd);
		}
	} else {
		kz_check_set(
			cause, sizeof(cause),
			"the %s %s (ike policy %s) sends local-id %s, but the "
			"%s %s (ike policy %s) expects remote-id %s; make them the same string (or "
			"change the local-id of %s)",
			role_word(s->role), s->site->name, s->ike->name, got, role_word(r->role),
			r->site->name, r->ike->name, want, s->site->name);
	}
	kz_check_set(cmd, sizeof(cmd), "remote-id %s", got);
	return a51(out, r, cause, cmd);
}

static int check_ids(const struct side *l, const struct side *p, struct kz_findings *out)
{
	const struct side *i, *r;
	struct kz_ident il, ir, rl, rr;
	struct kz_finding *f;
	char w[KZ_IDVAL_MAX + 16];
	int rc;

	if (l->role == ROLE_INIT && p->role == ROLE_INIT) {
		/* Both initiate: each verifies the other; no wrong side. */
		if ((rc = check_direction(l, &l->ike->local_id, p, &p->ike->remote_id, out)))
			return rc;
		return check_direction(p, &p->ike->local_id, l, &l->ike->remote_id, out);
	}
	if (l->role == ROLE_INIT && p->role == ROLE_RESP) {
		i = l;
		r = p;
	} else if (p->role == ROLE_INIT && l->role == ROLE_RESP) {
		i = p;
		r = l;
	} else {
		return 0;
	}
	il = i->ike->local_id;
	ir = i->ike->remote_id;
	rl = r->ike->local_id;
	rr = r->ike->remote_id;

	/* A5.2: the initiator names itself with local-id, the responder
	 * expects that name in remote-id; the other way round fails on the
	 * router of the manual.  Judge the rest as if swapped. */
	if (il.type == KZ_ID_NONE && ir.type != KZ_ID_NONE) {
		ident_words(&ir, w, sizeof(w));
		f = kz_check_addc(out, KZ_SEV_NG, "A5.2", i,
				  "ike local-id and remote-id on the wrong side",
				  "%s is the initiator, but its ike policy %s sets remote-id %s "
				  "and no local-id: in aggressive mode the initiator names itself "
				  "with local-id and the responder expects that name as its "
				  "remote-id",
				  i->site->name, i->ike->name, w);
		if (!f)
			return KZ_ENOMEM;
		kz_finding_remedy(f, "ike policy %s", i->ike->name);
		kz_finding_remedy(f, "no remote-id");
		kz_finding_remedy(f, "local-id %s", w);
		il = ir;
		memset(&ir, 0, sizeof(ir));
	}
	if (rr.type == KZ_ID_NONE && rl.type != KZ_ID_NONE) {
		/* The name to expect: what the initiator sends (after its own
		 * fix), else the one the responder has. */
		const struct kz_ident *want = il.type != KZ_ID_NONE ? &il : &rl;
		char had[KZ_IDVAL_MAX + 16];

		ident_words(&rl, had, sizeof(had));
		ident_words(want, w, sizeof(w));
		f = kz_check_addc(out, KZ_SEV_NG, "A5.2", r,
				  "ike local-id and remote-id on the wrong side",
				  "%s is the responder (peer any), but its ike policy %s sets "
				  "local-id %s and no remote-id: the responder expects the "
				  "initiator's name as remote-id and finds its profile by it",
				  r->site->name, r->ike->name, had);
		if (!f)
			return KZ_ENOMEM;
		kz_finding_remedy(f, "ike policy %s", r->ike->name);
		kz_finding_remedy(f, "no local-id");
		kz_finding_remedy(f, "remote-id %s", w);
		rr = *want;
		memset(&rl, 0, sizeof(rl));
	}
	/* A5.1 both ways: the responder selects by the initiator's name, and
	 * an initiator with a remote-id verifies the responder's. */
	if ((rc = check_direction(i, &il, r, &rr, out)))
		return rc;
	return check_direction(r, &rl, i, &ir, out);
}

/* ---- A5.5 --------------------------------------------------------------------- */

static bool psk_equal(const struct kz_psk *a, const struct kz_psk *b)
{
	uint8_t d = 0;

	if (a->len != b->len)
		return false;
	/* No early exit: the comparison takes the same time wherever the
	 * keys differ. */
	for (size_t i = 0; i < a->len; i++)
		d |= a->key[i] ^ b->key[i];
	return d == 0;
}

static bool psk_equal_nocase(const struct kz_psk *a, const struct kz_psk *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		uint8_t x = a->key[i], y = b->key[i];

		if (x >= 'A' && x <= 'Z')
			x |= 0x20;
		if (y >= 'A' && y <= 'Z')
			y |= 0x20;
		if (x != y)
			return false;
	}
	return true;
}

static int psk_unset(const struct side *s, bool both, struct kz_findings *out)
{
	struct kz_finding *f = kz_check_add(out, KZ_SEV_NG, "A5.5", s, "pre-shared keys differ");

	if (!f)
		return KZ_ENOMEM;
	kz_finding_cause(f, "ike policy %s in %s has no pre-shared-key%s", s->ike->name,
			 s->site->name, both ? ", nor has the other side" : "");
	kz_finding_remedy(f, "ike policy %s", s->ike->name);
	kz_finding_remedy(f, "pre-shared-key ascii %s",
			  both ? "<a long random key, the same on both ends>"
			       : "<the key the peer uses>");
	return 0;
}

static int check_psk(const struct side *t, const struct side *o, const struct side *l,
		     const struct side *p, struct kz_findings *out)
{
	const struct kz_psk *a = &l->ike->psk, *b = &p->ike->psk;
	struct kz_finding *f;
	const char *hint = "";
	int rc;

	if (!a->set || !b->set) {
		if (!a->set && (rc = psk_unset(l, !b->set, out)))
			return rc;
		if (!b->set && (rc = psk_unset(p, !a->set, out)))
			return rc;
		return 0;
	}
	if (psk_equal(a, b))
		return 0;
	if (a->hex != b->hex)
		hint = " (one is entered as hex, the other as ascii: a hex key is the key bytes "
		       "its digits spell, not the digits)";
	else if (!a->hex && psk_equal_nocase(a, b))
		hint = " (they differ only in letter case)";
	f = kz_check_addc(out, KZ_SEV_NG, "A5.5", t, "pre-shared keys differ",
			  "the pre-shared-key of ike policy %s in %s differs from that of ike "
			  "policy %s in %s%s",
			  l->ike->name, l->site->name, p->ike->name, p->site->name, hint);
	if (!f)
		return KZ_ENOMEM;
	kz_finding_remedy(f, "ike policy %s", t->ike->name);
	kz_finding_remedy(f, "pre-shared-key ascii <the key %s uses>", o->site->name);
	return 0;
}

/* ---- A7.1 --------------------------------------------------------------------- */

static int check_natt(const struct side *l, const struct side *p, struct kz_findings *out)
{
	const struct side *t, *o;
	struct kz_finding *f;

	if (l->ike->natt == p->ike->natt)
		return 0;
	t = l->ike->natt ? p : l;
	o = t == l ? p : l;
	f = kz_check_addc(out, KZ_SEV_NG, "A7.1", t, "nat-traversal on one side only",
			  "ike policy %s in %s sets nat-traversal, ike policy %s in %s does "
			  "not: NAT-Traversal is used only when both ends set it, so an "
			  "initiator behind carrier-grade NAT cannot connect",
			  o->ike->name, o->site->name, t->ike->name, t->site->name);
	if (!f)
		return KZ_ENOMEM;
	kz_finding_remedy(f, "ike policy %s", t->ike->name);
	kz_finding_remedy(f, "nat-traversal");
	return 0;
}

/* ---- the pair ------------------------------------------------------------------ */

/* Table order of troubleshooting.md (A1 < A5.1 < ... < A7 < M1), notes last;
 * the order found is kept within one id. */
static int id_rank(const struct kz_finding *f)
{
	return f->id[0] ? 0 : 1;
}

static int sort_into(struct kz_findings *tmp, struct kz_findings *out)
{
	bool *done = calloc(tmp->n ? tmp->n : 1, sizeof(*done));

	if (!done)
		return KZ_ENOMEM;
	for (size_t k = 0; k < tmp->n; k++) {
		size_t best = tmp->n;

		for (size_t i = 0; i < tmp->n; i++) {
			int c;

			if (done[i])
				continue;
			if (best == tmp->n) {
				best = i;
				continue;
			}
			c = id_rank(&tmp->v[i]) - id_rank(&tmp->v[best]);
			if (!c)
				c = strcmp(tmp->v[i].id, tmp->v[best].id);
			if (c < 0)
				best = i;
		}
		done[best] = true;
		if (!kz_findings_push(out, &tmp->v[best])) {
			free(done);
			return KZ_ENOMEM;
		}
	}
	free(done);
	return 0;
}

int kz_check_cross(const struct kz_site *local, const struct kz_ipsec_profile *lp,
		   const struct kz_site *peer, const struct kz_ipsec_profile *pp,
		   struct kz_findings *out)
{
	struct side l = { local, KZ_SIDE_LOCAL, lp, NULL, NULL, ROLE_NONE };
	struct side p = { peer, KZ_SIDE_PEER, pp, NULL, NULL, ROLE_NONE };
	const struct side *t, *o;
	enum kz_exchange_mode mode = KZ_MODE_AGGRESSIVE;
	bool mode_known = false;
	struct kz_findings tmp;
	int rc;

	if (!local || !peer || !lp || !pp || !out)
		return KZ_EINVAL;
	l.ike = ike_pol(local->cfg, lp);
	l.pol = ipsec_pol(local->cfg, lp);
	l.role = role_of(lp);
	p.ike = ike_pol(peer->cfg, pp);
	p.pol = ipsec_pol(peer->cfg, pp);
	p.role = role_of(pp);
	/* Whose config changes when either could: the responder adapts to
	 * what the initiator offers; with no clear roles, this site. */
	t = l.role == ROLE_RESP && p.role == ROLE_INIT       ? &l
		: p.role == ROLE_RESP && l.role == ROLE_INIT ? &p
							     : &l;
	o = t == &l ? &p : &l;

	kz_findings_init(&tmp);
	if (l.ike && p.ike) {
		if ((rc = check_mode(&l, &p, &tmp, &mode)))
			goto out;
		mode_known = true;
	} else if (l.ike || p.ike) {
		mode = (l.ike ? l.ike : p.ike)->mode;
		mode_known = true;
	}
	/* A1 is the aggressive-mode SIM check; in main mode two `peer any`
	 * ends are M1.2 on each side already. */
	if ((!mode_known || mode == KZ_MODE_AGGRESSIVE) && (rc = check_a11(&l, &p, &tmp)))
		goto out;
	if (l.ike && p.ike) {
		if (mode == KZ_MODE_AGGRESSIVE && (rc = check_ids(&l, &p, &tmp)))
			goto out;
		if ((rc = kz_check_ike_props(t, o, &l, &p, &tmp)))
			goto out;
		if ((rc = check_psk(t, o, &l, &p, &tmp)))
			goto out;
		if (mode == KZ_MODE_AGGRESSIVE && (rc = check_natt(&l, &p, &tmp)))
			goto out;
	}
	if (l.pol && p.pol) {
		if ((rc = kz_check_selectors(t, o, &l, &p, &tmp)))
			goto out;
		if ((rc = kz_check_esp_props(t, o, &l, &p, &tmp)))
			goto out;
		if ((rc = kz_check_pfs(t, o, &tmp)))
			goto out;
	}
	rc = sort_into(&tmp, out);
out:
	kz_findings_free(&tmp);
	return rc;
}
