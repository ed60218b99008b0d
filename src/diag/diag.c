/* diag.c - the checks of shared/spec/troubleshooting.md over a snapshot.
 *
 * One profile at a time, in the manual's order:
 *   aggressive mode  A1 A2 A3 A4 A5 A6 A7 A8
 *   main mode        M1 M2 M3 A4 A5 (A5.3 A5.4 A5.5) A6 (A6.2) A8
 * then the [WARN] lines.  A3/M3 only report state; the [NG] goes to the
 * check that explains it, so the first [NG] names the cause.  A check with
 * no evidence either way is [--] and says how to get it.  The config check
 * A4, the weak-choice warnings and the PSK estimate are those of
 * src/config/ (check.c, check_lint.c), so `show ipsec profile`, `kizuna
 * check` and `diagnose ipsec` agree.
 *
 * This file holds the report helpers and the run over the profiles; the
 * checks are in diag_site.c (A1-A4) and diag_peer.c (A5-A8, warnings). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/check.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "diag/diag.h"
#include "diag/diag_int.h"

static void vfill(char *dst, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vfill(char *dst, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, len, fmt, ap);

	if (n < 0)
		dst[0] = 0;
}

struct diag_check *diag_add(struct diag_ctx *x, enum diag_result res, const char *id,
			    const char *fmt, ...)
{
	static struct diag_check spill; /* past DIAG_MAX_CHECKS: written, not shown */
	struct diag_check *c;
	va_list ap;

	if (x->pr->nchecks >= DIAG_MAX_CHECKS) {
		c = &spill;
	} else {
		c = &x->pr->checks[x->pr->nchecks++];
		if (res == DIAG_NG)
			x->pr->problems++;
	}
	memset(c, 0, sizeof(*c));
	c->result = res;
	kz_strlcpy(c->id, id, sizeof(c->id));
	va_start(ap, fmt);
	vfill(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	return c;
}

void diag_cause(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfill(c->cause, sizeof(c->cause), fmt, ap);
	va_end(ap);
}

void diag_evidence(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfill(c->evidence, sizeof(c->evidence), fmt, ap);
	va_end(ap);
}

void diag_remedy(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nremedy >= DIAG_REMEDY_MAX)
		return;
	va_start(ap, fmt);
	vfill(c->remedy[c->nremedy++], DIAG_LINE_MAX, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag_ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->pr->nwarnings >= DIAG_MAX_WARN)
		return;
	va_start(ap, fmt);
	vfill(x->pr->warnings[x->pr->nwarnings++], DIAG_TEXT_MAX, fmt, ap);
	va_end(ap);
}

/* ---- small helpers ---- */

void diag_clock_str(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = 0;
	if (t > 0 && localtime_r(&tt, &tm))
		strftime(out, cap, "%H:%M:%S", &tm);
	if (!out[0])
		snprintf(out, cap, "?");
}

const char *diag_addr_str(struct in_addr a, char *out)
{
	return inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN) ? out : "?";
}

static const char *class_text(struct diag_ctx *x, enum kz_addr_class k)
{
	switch (k) {
	case KZ_ADDR_PRIVATE:
		return TR("private address contract");
	case KZ_ADDR_SHARED:
		return TR("shared address contract, RFC 6598");
	default:
		return TR("global");
	}
}

/* This site is behind NAT as NAT-D measured it (RFC 3947); the address
 * class says only which contract the SIM has. */
bool diag_local_behind_nat(struct diag_ctx *x)
{
	return x->st && x->st->nat_known && x->st->nat_local;
}

void diag_local_addr_text(struct diag_ctx *x, char *out, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	enum kz_addr_class k = kz_addr_classify(x->s->mobile.addr);

	diag_addr_str(x->s->mobile.addr, a);
	if (k == KZ_ADDR_GLOBAL && x->st && x->st->nat_known && x->st->nat_local)
		snprintf(out, cap, "%s (%s)", a, TR("global, but IKE saw it translated by a NAT"));
	else
		snprintf(out, cap, "%s (%s)", a, class_text(x, k));
}

const char *diag_role_text(struct diag_ctx *x)
{
	if (x->p->peer_type == KZ_PEER_ANY)
		return TR("responder");
	if (x->p->peer_type == KZ_PEER_UNSET)
		return TR("no peer");
	return TR("initiator");
}

/* "3 times since 10:02:11" */
void diag_times_text(struct diag_ctx *x, char *out, size_t cap)
{
	char t[16];

	diag_clock_str(x->st->first_wall, t, sizeof(t));
	snprintf(out, cap, TR("%u time(s) since %s"), x->st->count, t);
}

bool diag_failed(const struct diag_ctx *x, enum diag_fail f)
{
	return x->st && x->st->count && x->st->fail == f;
}

/* The cross-site finding with this id prefix, or NULL. */
const struct kz_finding *diag_cross_find(const struct diag_ctx *x, const char *prefix)
{
	for (size_t i = 0; i < x->cross.n; i++)
		if (x->cross.v[i].severity == KZ_SEV_NG &&
		    !strncmp(x->cross.v[i].id, prefix, strlen(prefix)))
			return &x->cross.v[i];
	return NULL;
}

/* A finding of kz_check_cross() as a check: its id, text, cause and
 * remedy; remedies for the peer's config are marked as such. */
void diag_add_cross(struct diag_ctx *x, const struct kz_finding *f)
{
	struct diag_check *c = diag_add(x, DIAG_NG, f->id, "%s", f->text);

	diag_cause(c, "%s", f->cause);
	diag_evidence(c, TR("compared with the peer's config %s"), x->peer_name);
	if (f->side == KZ_SIDE_PEER && f->nremedy)
		diag_remedy(c, TR("! on the peer (%s):"), x->peer_name);
	for (unsigned i = 0; i < f->nremedy; i++)
		diag_remedy(c, "%s", f->remedy[i]);
}

void diag_exch_msg(struct diag_ctx *x, const struct diag_exch *h, unsigned n, char *out, size_t cap)
{
	snprintf(out, cap, "%s %u",
		 h->phase == 2           ? TR("Quick Mode message")
			 : h->aggressive ? TR("Aggressive mode message")
					 : TR("Main mode message"),
		 n);
}

void diag_exch_peer(struct diag_ctx *x, const struct diag_exch *h, char *out, size_t cap)
{
	char a[INET_ADDRSTRLEN];

	diag_addr_str(h->peer, a);
	if (h->peer_id[0])
		snprintf(out, cap, "%s:%u (%s)", a, (unsigned)h->peer_port, h->peer_id);
	else
		snprintf(out, cap, "%s:%u", a, (unsigned)h->peer_port);
}

const char *diag_detail(struct diag_ctx *x)
{
	static const char *const names[DIAG_FAIL_COUNT] = {
		[DIAG_FAIL_NONE] = DIAG_N("no failure"),
		[DIAG_FAIL_NO_PROPOSAL] = DIAG_N("no proposal chosen"),
		[DIAG_FAIL_ID_MISMATCH] = DIAG_N("ID mismatch"),
		[DIAG_FAIL_PSK_MISMATCH] = DIAG_N("pre-shared key mismatch"),
		[DIAG_FAIL_TS_MISMATCH] = DIAG_N("traffic selector mismatch"),
		[DIAG_FAIL_NO_ANSWER] = DIAG_N("no answer"),
		[DIAG_FAIL_PEER_NOTIFY] = DIAG_N("the peer sent a notify"),
		[DIAG_FAIL_MALFORMED] = DIAG_N("malformed message"),
		[DIAG_FAIL_NATT] = DIAG_N("NAT-Traversal mismatch"),
		[DIAG_FAIL_CONFIG] = DIAG_N("configuration"),
	};
	const struct diag_profile_state *st = x->st;

	if (!st)
		return "";
	if (!strcmp(diag_lang_code(x->L), "en"))
		return st->detail;
	snprintf(x->detail, sizeof(x->detail), TR("IKE recorded: %s in phase %d%s%s"),
		 (unsigned)st->fail < DIAG_FAIL_COUNT ? TR(names[st->fail]) : "?", st->phase,
		 st->notify_name[0] ? ", " : "", st->notify_name);
	return x->detail;
}

bool diag_infl_unanswered(const struct diag_ctx *x)
{
	return x->infl && x->infl->initiator && x->infl->phase == 1 && x->infl->msg_sent == 1 &&
		x->infl->tries >= 3;
}

/* What the verdict may use: a failure record is superseded by a newer
 * half-open exchange and by a newer negotiation that got further (or has
 * gone unanswered past its second retransmission); a half-open record
 * older than the failure is history.  `show ipsec profile NAME detail`
 * keeps them all. */
static void pick_evidence(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	int64_t fail_t, half_t;

	if (!st)
		return;
	x->stc = *st;
	fail_t = st->count ? st->last_wall : 0;
	x->half = st->halfopen.set ? &x->stc.halfopen : NULL;
	x->infl = st->inflight.set ? &x->stc.inflight : NULL;
	if (x->half && fail_t && x->half->last_wall < fail_t)
		x->half = NULL;
	if (x->half && fail_t && x->half->last_wall > fail_t)
		x->stc.count = 0;
	half_t = x->half ? x->half->last_wall : 0;
	if (x->infl && x->infl->first_wall >= fail_t && x->infl->first_wall >= half_t &&
	    (x->infl->msg_sent > 1 || x->infl->tries >= 3 || x->infl->phase == 2)) {
		x->stc.count = 0;
		x->half = NULL;
	}
	/* the peer answered us, or an initiator reached us */
	x->reached = x->stc.ike_up || x->stc.nat_known ||
		(x->stc.count && x->stc.fail != DIAG_FAIL_NO_ANSWER &&
		 x->stc.fail != DIAG_FAIL_CONFIG) ||
		(x->half && (!x->half->initiator || x->half->msg_sent > 1)) ||
		(x->infl && (x->infl->msg_sent > 1 || x->infl->phase == 2));
	x->st = &x->stc;
}

/* The summary of a profile without [NG] whose SAs are missing: what
 * could not be judged. */
static void down_summary(struct diag_ctx *x)
{
	struct diag_profile_report *pr = x->pr;
	char ids[64] = "";
	size_t n = 0;

	if (pr->problems || x->sas_up || !x->should_up)
		return;
	for (size_t i = 0; i < pr->nchecks; i++) {
		const char *id = pr->checks[i].id;

		if (pr->checks[i].result != DIAG_NA || id[0] != 'A' || id[1] < '5' || id[1] > '7')
			continue;
		n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%s", n ? ", " : "", id);
		if (n >= sizeof(ids))
			break;
	}
	pr->down_unknown = true;
	if (x->infl)
		snprintf(pr->unknown, sizeof(pr->unknown),
			 TR("negotiating now, the cause of any failure is not known yet (%s)"),
			 ids[0] ? ids : "A3");
	else if (x->responder)
		snprintf(pr->unknown, sizeof(pr->unknown),
			 TR("no initiator has reached this site; not judgeable here: %s (run "
			    "diagnose ipsec on the initiator)"),
			 ids[0] ? ids : "A6");
	else
		snprintf(pr->unknown, sizeof(pr->unknown), TR("not judgeable yet: %s"),
			 ids[0] ? ids : "A3");
}

/* ---- one profile ---- */

static const struct diag_profile_state *state_of(const struct diag_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nstates; i++)
		if (!strcmp(s->states[i].profile, name))
			return &s->states[i];
	return NULL;
}

static int cross_with_peer(struct diag_ctx *x)
{
	struct kz_site ls = { x->s->cfg, "local" }, ps = { x->s->peer_cfg, x->peer_name };
	size_t max = x->s->cfg->profiles.n + x->s->peer_cfg->profiles.n + 1, n = 0;
	struct kz_pairing *pairs = calloc(max, sizeof(*pairs));
	int r;

	if (!pairs)
		return KZ_ENOMEM;
	r = kz_check_pair_profiles(x->s->cfg, x->s->peer_cfg, pairs, max, &n);
	for (size_t i = 0; !r && i < n; i++)
		if (pairs[i].local == x->p && pairs[i].peer)
			r = kz_check_cross(&ls, x->p, &ps, pairs[i].peer, &x->cross);
	free(pairs);
	return r;
}

static int run_profile(const struct diag_snapshot *s, const struct diag_lang *L,
		       const struct kz_ipsec_profile *p, struct diag_profile_report *pr)
{
	struct diag_ctx ctx = { .s = s, .L = L, .p = p, .pr = pr }, *x = &ctx;
	char peer[KZ_IDVAL_MAX];
	int r = 0;

	kz_findings_init(&x->cross);
	x->ike = p->ike_policy[0] ? kz_find_ike_policy(s->cfg, p->ike_policy) : NULL;
	x->ipol = p->ipsec_policy[0] ? kz_find_ipsec_policy(s->cfg, p->ipsec_policy) : NULL;
	x->ifc = kz_find_if_mapping(s->cfg, p->name);
	x->st = state_of(s, p->name);
	pick_evidence(x);
	x->should_up = x->ifc && !x->ifc->shutdown && p->peer_type != KZ_PEER_UNSET;
	/* without the IKE policy the mode is unknown: the aggressive-mode
	 * list is the longer one and A4 names the missing policy */
	x->aggr = !x->ike || x->ike->mode == KZ_MODE_AGGRESSIVE;
	x->responder = p->peer_type == KZ_PEER_ANY;
	x->sas_up = x->st && x->st->ike_up && x->st->ipsec_up && !x->st->sas_down;
	x->peer_name = s->peer_name ? s->peer_name : "peer";
	if (s->peer_cfg && (r = cross_with_peer(x)) < 0)
		goto out;

	kz_strlcpy(pr->profile, p->name, sizeof(pr->profile));
	kz_strlcpy(pr->role,
		   p->peer_type == KZ_PEER_ANY             ? "responder"
			   : p->peer_type == KZ_PEER_UNSET ? "none"
							   : "initiator",
		   sizeof(pr->role));
	kz_strlcpy(pr->mode, x->aggr ? "aggressive" : "main", sizeof(pr->mode));
	kz_profile_peer_str(p, peer, sizeof(peer));
	snprintf(pr->header, sizeof(pr->header),
		 TR("profile %s: %s, %s (ipsec profile %s: peer %s)"), p->name, diag_role_text(x),
		 !x->ike           ? TR("exchange mode unknown")
			 : x->aggr ? TR("aggressive mode")
				   : TR("main mode"),
		 p->name, peer);

	if (x->aggr) {
		diag_check_a1(x);
		diag_check_a2(x, "A2");
		diag_check_a3(x, "A3");
	} else {
		diag_check_m1(x);
		diag_check_a2(x, "M2");
		diag_check_a3(x, "M3");
	}
	diag_check_a4(x);
	diag_check_a5(x);
	diag_check_a6(x);
	if (x->aggr)
		diag_check_a7(x);
	diag_check_a8(x);
	diag_warnings(x);
	down_summary(x);
out:
	kz_findings_free(&x->cross);
	return r;
}

int diag_run(const struct diag_snapshot *s, const struct diag_lang *lang, struct diag_report *out)
{
	const struct kz_config *c;
	const struct diag_lang *L = lang ? lang : diag_lang_en();
	int r = 0;

	if (!s || !s->cfg || !out)
		return KZ_EINVAL;
	memset(out, 0, sizeof(*out));
	c = s->cfg;
	if (s->only_profile && !kz_find_profile(c, s->only_profile)) {
		snprintf(out->error, sizeof(out->error), "%% no ipsec profile %s", s->only_profile);
		return KZ_ENOENT;
	}
	if (!c->profiles.n)
		return 0;
	out->v = calloc(c->profiles.n, sizeof(*out->v));
	if (!out->v)
		return KZ_ENOMEM;
	for (size_t i = 0; i < c->profiles.n && !r; i++) {
		if (s->only_profile && strcmp(s->only_profile, c->profiles.v[i].name))
			continue;
		r = run_profile(s, L, &c->profiles.v[i], &out->v[out->n++]);
	}
	if (r)
		diag_report_free(out);
	return r;
}

void diag_report_free(struct diag_report *r)
{
	if (!r)
		return;
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

enum diag_verdict diag_verdict(const struct diag_report *r)
{
	enum diag_verdict v = DIAG_VERDICT_OK;

	for (size_t i = 0; r && i < r->n; i++) {
		if (r->v[i].problems)
			return DIAG_VERDICT_NG;
		if (r->v[i].down_unknown)
			v = DIAG_VERDICT_UNKNOWN;
	}
	return v;
}

const char *diag_first_ng(const struct diag_report *r, size_t i)
{
	if (!r || i >= r->n)
		return "";
	for (size_t k = 0; k < r->v[i].nchecks; k++)
		if (r->v[i].checks[k].result == DIAG_NG)
			return r->v[i].checks[k].id;
	return "";
}
