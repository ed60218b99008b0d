/* diag.c - the checks of shared/spec/troubleshooting.md over a snapshot.
 *
 * One profile at a time, in the manual's order:
 *   aggressive mode  A1 A2 A3 A4 A5 A6 A7 A8
 *   main mode        M1 M2 M3 A4 A5 (A5.3 A5.4 A5.5) A6 (A6.2) A8
 * then the [WARN] lines.  A3/M3 only report state; the [NG] goes to the
 * check that explains it, so the first [NG] names the cause.  A check with
 * no evidence either way is [--] and says how to get it.  The config check
 * A4, the weak-choice warnings and the PSK estimate are those of
 * src/config/check.c, so `show ipsec profile`, `kizuna check` and
 * `diagnose ipsec` agree. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config/check.h"
#include "../lib/err.h"
#include "../lib/mem.h"
#include "diag.h"

/* A8.3: outbound traffic with nothing back for this long is a finding. */
#define DIAG_SILENT_S 10

struct ctx {
	const struct diag_snapshot *s;
	const struct diag_lang *L;
	const struct kz_ipsec_profile *p;
	const struct kz_ike_policy *ike;
	const struct kz_ipsec_policy *ipol;
	const struct kz_if_ipsec *ifc;
	const struct diag_profile_state *st;
	struct diag_profile_report *pr;
	struct kz_findings cross; /* with the peer's config */
	const char *peer_name;
	bool aggr, responder, sas_up;
	bool blocked; /* A2 or A4 failed: IKE cannot have run as configured */
};

#define TR(s) diag_tr(x->L, s)

static void vfill(char *dst, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vfill(char *dst, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, len, fmt, ap);

	if (n < 0)
		dst[0] = 0;
}

static struct diag_check *add(struct ctx *x, enum diag_result res, const char *id,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct diag_check *add(struct ctx *x, enum diag_result res, const char *id,
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

static void cause(struct diag_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cause(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfill(c->cause, sizeof(c->cause), fmt, ap);
	va_end(ap);
}

static void evidence(struct diag_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void evidence(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfill(c->evidence, sizeof(c->evidence), fmt, ap);
	va_end(ap);
}

static void remedy(struct diag_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void remedy(struct diag_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nremedy >= DIAG_REMEDY_MAX)
		return;
	va_start(ap, fmt);
	vfill(c->remedy[c->nremedy++], DIAG_LINE_MAX, fmt, ap);
	va_end(ap);
}

static void warn(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->pr->nwarnings >= DIAG_MAX_WARN)
		return;
	va_start(ap, fmt);
	vfill(x->pr->warnings[x->pr->nwarnings++], DIAG_TEXT_MAX, fmt, ap);
	va_end(ap);
}

/* ---- small helpers ---- */

static void clock_str(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = 0;
	if (t > 0 && localtime_r(&tt, &tm))
		strftime(out, cap, "%H:%M:%S", &tm);
	if (!out[0])
		snprintf(out, cap, "?");
}

static const char *addr_str(struct in_addr a, char *out)
{
	return inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN) ? out : "?";
}

static const char *class_text(struct ctx *x, enum kz_addr_class k)
{
	switch (k) {
	case KZ_ADDR_PRIVATE:
		return TR("private");
	case KZ_ADDR_SHARED:
		return TR("shared, carrier-grade NAT");
	default:
		return TR("global");
	}
}

/* This site is behind NAT: its address is private/shared, or NAT-D showed
 * its address translated (RFC 3947 overrides the class). */
static bool local_behind_nat(struct ctx *x)
{
	if (x->st && x->st->nat_known && x->st->nat_local)
		return true;
	return x->s->mobile.has_addr && kz_addr_classify(x->s->mobile.addr) != KZ_ADDR_GLOBAL;
}

static void local_addr_text(struct ctx *x, char *out, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	enum kz_addr_class k = kz_addr_classify(x->s->mobile.addr);

	addr_str(x->s->mobile.addr, a);
	if (k == KZ_ADDR_GLOBAL && x->st && x->st->nat_known && x->st->nat_local)
		snprintf(out, cap, "%s (%s)", a, TR("global, but IKE saw it translated by a NAT"));
	else
		snprintf(out, cap, "%s (%s)", a, class_text(x, k));
}

static const char *role_text(struct ctx *x)
{
	if (x->p->peer_type == KZ_PEER_ANY)
		return TR("responder");
	if (x->p->peer_type == KZ_PEER_UNSET)
		return TR("no peer");
	return TR("initiator");
}

/* "3 times since 10:02:11" */
static void times_text(struct ctx *x, char *out, size_t cap)
{
	char t[16];

	clock_str(x->st->first_wall, t, sizeof(t));
	snprintf(out, cap, TR("%u time(s) since %s"), x->st->count, t);
}

static bool failed(const struct ctx *x, enum diag_fail f)
{
	return x->st && x->st->count && x->st->fail == f;
}

/* The cross-site finding with this id prefix, or NULL. */
static const struct kz_finding *cross_find(const struct ctx *x, const char *prefix)
{
	for (size_t i = 0; i < x->cross.n; i++)
		if (x->cross.v[i].severity == KZ_SEV_NG &&
		    !strncmp(x->cross.v[i].id, prefix, strlen(prefix)))
			return &x->cross.v[i];
	return NULL;
}

/* A finding of kz_check_cross() as a check: its id, text, cause and
 * remedy; remedies for the peer's config are marked as such. */
static void add_cross(struct ctx *x, const struct kz_finding *f)
{
	struct diag_check *c = add(x, DIAG_NG, f->id, "%s", f->text);

	cause(c, "%s", f->cause);
	evidence(c, TR("compared with the peer's config %s"), x->peer_name);
	if (f->side == KZ_SIDE_PEER && f->nremedy)
		remedy(c, TR("! on the peer (%s):"), x->peer_name);
	for (unsigned i = 0; i < f->nremedy; i++)
		remedy(c, "%s", f->remedy[i]);
}

/* ---- A1 / M1: SIM contract ---- */

static void check_a1(struct ctx *x)
{
	char la[96], pa[INET_ADDRSTRLEN];
	struct diag_check *c;
	const struct kz_finding *f;
	bool behind = local_behind_nat(x);

	if (!x->s->mobile.has_addr) {
		c = add(x, DIAG_NA, "A1", TR("SIM contract: not judgeable, MobileEthernet0.0 has no "
					     "address (see A2)"));
		return;
	}
	local_addr_text(x, la, sizeof(la));
	if ((f = cross_find(x, "A1"))) {
		add_cross(x, f);
		return;
	}
	if (x->responder && behind) {
		c = add(x, DIAG_NG, "A1.2", TR("SIM contract: this site is the responder, but its "
					       "address %s is not global"), la);
		cause(c, TR("the responder must be reachable from outside; behind a private "
			    "contract or carrier-grade NAT nobody can reach it"));
		evidence(c, TR("`peer any` in ipsec profile %s makes this site the responder"),
			 x->p->name);
		remedy(c, TR("! make the global-address site the responder (peer any) and this "
			     "site the initiator:"));
		remedy(c, "ipsec profile %s", x->p->name);
		remedy(c, "%s", TR("peer <the responder's global address or FQDN>"));
		return;
	}
	if (!x->responder && x->p->peer_type == KZ_PEER_ADDR && behind &&
	    kz_addr_classify(x->p->peer_addr) != KZ_ADDR_GLOBAL) {
		c = add(x, DIAG_NG, "A1.1", TR("SIM contract: both sites have private or shared "
					       "addresses: local %s, peer %s"),
			la, addr_str(x->p->peer_addr, pa));
		cause(c, TR("both SIMs are private-address contracts (or behind carrier-grade "
			    "NAT): neither site can be reached"));
		remedy(c, "%s", TR("! one site (the responder) needs a SIM with a global address"));
		return;
	}
	if (x->responder)
		c = add(x, DIAG_OK, "A1", TR("SIM contract: local %s, responder (`peer any` in "
					     "ipsec profile %s)"),
			la, x->p->name);
	else if (x->p->peer_type == KZ_PEER_FQDN)
		c = add(x, DIAG_OK, "A1", TR("SIM contract: local %s, initiator (peer %s: its "
					     "address class is judged by the peer)"),
			la, x->p->peer_fqdn);
	else
		c = add(x, DIAG_OK, "A1", TR("SIM contract: local %s, initiator (peer %s)"), la,
			addr_str(x->p->peer_addr, pa));
}

static void check_m1(struct ctx *x)
{
	char la[96], pa[INET_ADDRSTRLEN];
	struct diag_check *c;

	if (!x->s->mobile.has_addr) {
		add(x, DIAG_NA, "M1", TR("SIM contract: not judgeable, MobileEthernet0.0 has no "
					 "address (see M2)"));
		return;
	}
	local_addr_text(x, la, sizeof(la));
	if (local_behind_nat(x)) {
		c = add(x, DIAG_NG, "M1.1", TR("SIM contract: main mode needs fixed global "
					       "addresses, local is %s"), la);
		cause(c, TR("main mode works only when both sites have fixed global addresses"));
		remedy(c, "%s", TR("! a fixed global address SIM at both sites, or aggressive mode:"));
		remedy(c, "ike policy %s", x->ike ? x->ike->name : "<policy>");
		remedy(c, "exchange-mode aggressive");
		return;
	}
	if (x->p->peer_type == KZ_PEER_ANY) {
		c = add(x, DIAG_NG, "M1.2", "peer any with main mode [%s]", x->p->name);
		cause(c, TR("in main mode with pre-shared keys the responder picks the key by the "
			    "initiator's address, so that address must be fixed and configured"));
		remedy(c, "ipsec profile %s", x->p->name);
		remedy(c, "%s", TR("peer <the other site's fixed global address>"));
		return;
	}
	if (x->p->peer_type == KZ_PEER_ADDR)
		add(x, DIAG_OK, "M1", TR("SIM contract: local %s, peer %s"), la,
		    addr_str(x->p->peer_addr, pa));
	else
		add(x, DIAG_OK, "M1", TR("SIM contract: local %s, peer %s"), la,
		    x->p->peer_fqdn[0] ? x->p->peer_fqdn : "-");
}

/* ---- A2 / M2: the address of MobileEthernet0.0 ---- */

/* The SAs the engine keeps while the WAN has no address are evidence that
 * the outage is live, not only a config matter: said after what the link
 * showed. */
static void a2_sas_down(struct ctx *x, struct diag_check *c)
{
	char seen[sizeof(c->evidence)];

	if (!x->st || !x->st->sas_down)
		return;
	kz_strlcpy(seen, c->evidence, sizeof(seen));
	if (seen[0])
		evidence(c, TR("%s; the SAs of %s are kept but down until it has an address "
			       "again"),
			 seen, x->p->name);
	else
		evidence(c, TR("the SAs of %s are kept but down until it has an address again"),
			 x->p->name);
}

static void check_a2(struct ctx *x, const char *base)
{
	const struct diag_mobile *m = &x->s->mobile;
	char id[DIAG_ID_MAX], a[INET_ADDRSTRLEN];
	struct diag_check *c;

	if (m->exists && !m->admin_up) {
		snprintf(id, sizeof(id), "%s.1", base);
		c = add(x, DIAG_NG, id, "Interface MobileEthernet0.0 is administratively down");
		cause(c, TR("the MobileEthernet0.0 interface is shut down"));
		remedy(c, "interface MobileEthernet0.0");
		remedy(c, "no shutdown");
		a2_sas_down(x, c);
		x->blocked = true;
		return;
	}
	if (!m->exists || !m->lower_up || !m->has_addr) {
		snprintf(id, sizeof(id), "%s.2", base);
		c = add(x, DIAG_NG, id, TR("MobileEthernet0.0 has no address"));
		if (!x->s->cfg->mobile.device[0]) {
			cause(c, TR("no Linux device is bound to MobileEthernet0.0"));
			remedy(c, "interface MobileEthernet0.0");
			remedy(c, "%s", TR("device <the LTE device, e.g. wwan0>"));
		} else if (!m->exists) {
			cause(c, TR("the device %s does not exist: no modem or no SIM"),
			      x->s->cfg->mobile.device);
			remedy(c, "%s", TR("! check the SIM and the modem; the address comes from "
					   "the carrier"));
		} else {
			cause(c, TR("no radio coverage, no SIM, or the mobile network has not "
				    "assigned an address"));
			evidence(c, "%s", m->lower_up ? TR("the interface is up without an address")
						      : TR("the interface is up but has no carrier"));
			remedy(c, "%s", TR("! check the SIM and the signal; the address comes from "
					   "the carrier"));
		}
		a2_sas_down(x, c);
		x->blocked = true;
		return;
	}
	add(x, DIAG_OK, base, TR("MobileEthernet0.0 is up, %s/%u"), addr_str(m->addr, a),
	    (unsigned)m->plen);
}

/* ---- A3 / M3: state only ---- */

static void check_a3(struct ctx *x, const char *base)
{
	const struct diag_profile_state *st = x->st;
	char id[DIAG_ID_MAX];

	if (x->sas_up) {
		add(x, DIAG_OK, base, TR("IKE SA and IPsec SA established (IPsec%u, outbound spi "
					 "0x%08x, inbound spi 0x%08x)"),
		    st->unit, st->spi_out, st->spi_in);
		return;
	}
	if (st && st->sas_down) {
		/* kept for the link's return, but nothing passes them: state,
		 * not a cause (the cause is A2/M2) */
		snprintf(id, sizeof(id), "%s.3", base);
		add(x, DIAG_NA, id, TR("SAs kept but down: MobileEthernet0.0 has no usable "
				       "address (see above)"));
		return;
	}
	if (st && st->ike_up) {
		snprintf(id, sizeof(id), "%s.2", base);
		add(x, DIAG_NA, id, TR("IKE SA established, no IPsec SA: phase 2 failing, see "
				       "below"));
		return;
	}
	snprintf(id, sizeof(id), "%s.1", base);
	if (st && st->ike_negotiating && !st->count)
		add(x, DIAG_NA, id, TR("no IKE SA yet: negotiating"));
	else if (x->responder && (!st || !st->count))
		add(x, DIAG_NA, id, TR("no IKE SA: no initiator has connected yet"));
	else if (!st || !st->count)
		add(x, DIAG_NA, id, TR("no IKE SA: no negotiation running"));
	else
		add(x, DIAG_NA, id, TR("no IKE SA: negotiation failing, see below"));
}

/* ---- A4: the config check ---- */

static bool env_if_up(unsigned unit, void *arg)
{
	const struct diag_snapshot *s = arg;

	for (size_t i = 0; i < s->nifs; i++)
		if (s->ifs[i].unit == unit)
			return s->ifs[i].exists && s->ifs[i].admin_up;
	return false;
}

static const char *a4_cause(struct ctx *x, const char *id)
{
	static const char *const causes[] = {
		DIAG_N("the source interface has no usable address: MobileEthernet0.0 is shut "
		       "down, there is no SIM, or no radio coverage"),
		DIAG_N("the IPsec interface that maps the profile is shut down, or no IPsec "
		       "interface is defined"),
		DIAG_N("no IPsec interface maps the profile"),
		DIAG_N("the profile names an IPsec policy that does not exist"),
		DIAG_N("the profile names an IKE policy that does not exist"),
		DIAG_N("the IPsec policy names an IPsec proposal that does not exist"),
		DIAG_N("the IKE policy names an IKE proposal that does not exist"),
	};
	unsigned n = (unsigned)(id[3] - '1');

	if (strncmp(id, "A4.", 3) || n >= sizeof(causes) / sizeof(causes[0]))
		return "";
	return diag_tr(x->L, causes[n]);
}

static void check_a4(struct ctx *x)
{
	struct kz_check_env env = { .live = true, .ipsec_if_up = env_if_up };
	struct kz_finding f;
	struct diag_check *c;

	env.arg = (void *)x->s;
	env.mobile_up = x->s->mobile.exists && x->s->mobile.admin_up && x->s->mobile.lower_up;
	env.mobile_has_addr = x->s->mobile.has_addr;
	if (kz_check_profile(x->s->cfg, x->p, &env, &f) < 0) {
		add(x, DIAG_NA, "A4", TR("config check could not run"));
		return;
	}
	if (f.severity == KZ_SEV_OK) {
		add(x, DIAG_OK, "A4", "%s", f.text);
		return;
	}
	/* the result text is router output: kept as the manual prints it */
	c = add(x, DIAG_NG, f.id, "%s", f.text);
	cause(c, "%s", a4_cause(x, f.id));
	for (unsigned i = 0; i < f.nremedy; i++)
		remedy(c, "%s", f.remedy[i]);
	x->blocked = true;
}

/* ---- A5: parameters that do not match the peer ---- */

/* A5.2: the seed's rule is "the initiator sets local-id, the responder
 * sets remote-id"; a responder with only a local-id, or an initiator with
 * only a remote-id, has them on the wrong side.  Judged from this side's
 * own config, so it also explains a peer that only stays silent. */
static bool ids_wrong_side(const struct ctx *x)
{
	return x->aggr && x->ike &&
	       (x->responder ? (x->ike->local_id.type != KZ_ID_NONE &&
				x->ike->remote_id.type == KZ_ID_NONE)
			     : (x->ike->remote_id.type != KZ_ID_NONE &&
				x->ike->local_id.type == KZ_ID_NONE));
}

static void a5_id(struct ctx *x)
{
	const struct diag_profile_state *st = x->st;
	const char *pol = x->ike ? x->ike->name : "<policy>";
	bool wrong_side;
	struct diag_check *c;
	char t[64];

	times_text(x, t, sizeof(t));
	wrong_side = ids_wrong_side(x);
	if (wrong_side) {
		c = add(x, DIAG_NG, "A5.2", TR("IKE local-id / remote-id set on the wrong side"));
		cause(c, TR("the initiator sets local-id and the responder sets remote-id; ike "
			    "policy %s of this %s has it the other way round"),
		      pol, role_text(x));
		evidence(c, TR("%s (%s)"), st->detail, t);
		remedy(c, "ike policy %s", pol);
		if (x->responder) {
			remedy(c, "no local-id");
			remedy(c, "%s", TR("remote-id key-id <the initiator's local-id>"));
		} else {
			remedy(c, "no remote-id");
			remedy(c, "%s", TR("local-id key-id <the responder's remote-id>"));
		}
		return;
	}
	if (x->responder && st->id_received[0]) {
		c = add(x, DIAG_NG, "A5.1", TR("key-id differs: an initiator sent %s, this "
					       "profile expects %s"),
			st->id_received, st->id_expected[0] ? st->id_expected : "-");
		cause(c, TR("the initiator's IKE local-id is not this responder's remote-id"));
		evidence(c, "%s", t);
		if (!strncmp(st->id_received, "address ", 8))
			remedy(c, "%s", TR("! the initiator sent its address: it has no local-id "
					   "(or set remote-id instead, A5.2); on the initiator:"));
		else
			remedy(c, "%s", TR("! make them the same string; either here:"));
		remedy(c, "ike policy %s", pol);
		if (!strncmp(st->id_received, "key-id ", 7))
			remedy(c, "remote-id %s", st->id_received);
		else
			remedy(c, "%s", TR("local-id key-id <the key-id this responder expects>"));
		return;
	}
	c = add(x, DIAG_NG, "A5.1", TR("key-id differs: the peer rejected or did not match the "
				       "identity"));
	cause(c, TR("the initiator's IKE local-id is not the responder's IKE remote-id"));
	if (st->id_received[0])
		evidence(c, TR("the peer sent %s, expected %s (%s)"), st->id_received,
			 st->id_expected, t);
	else
		evidence(c, TR("%s (%s)"), st->detail, t);
	remedy(c, "%s", TR("! make the initiator's local-id and the responder's remote-id the "
			   "same string:"));
	remedy(c, "ike policy %s", pol);
	if (x->ike && x->ike->local_id.type == KZ_ID_KEY_ID)
		remedy(c, TR("! this site sends local-id key-id %s"), x->ike->local_id.value);
	else
		remedy(c, "%s", TR("local-id key-id <the responder's remote-id>"));
}

static void a5_ts(struct ctx *x)
{
	struct diag_check *c;
	char l[32] = "-", r[32] = "-", t[64];

	if (x->ipol) {
		kz_prefix_str(&x->ipol->local_ts, l, sizeof(l));
		kz_prefix_str(&x->ipol->remote_ts, r, sizeof(r));
	}
	times_text(x, t, sizeof(t));
	c = add(x, DIAG_NG, "A5.3", TR("IPsec policy ids not mirrored: this site has local-id "
				       "%s remote-id %s"),
		l, r);
	cause(c, TR("the peer's IPsec policy must have local-id %s and remote-id %s"), r, l);
	evidence(c, TR("%s (%s)"), x->st->detail, t);
	remedy(c, TR("! on the peer: ipsec policy <its policy> / local-id %s / remote-id %s"), r,
	       l);
	if (x->ipol) {
		remedy(c, TR("! or here, to match the peer:"));
		remedy(c, "ipsec policy %s", x->ipol->name);
		remedy(c, "local-id <A.B.C.D/M>");
		remedy(c, "remote-id <A.B.C.D/M>");
	}
}

static void a5_proposal(struct ctx *x)
{
	const struct diag_profile_state *st = x->st;
	struct diag_check *c;
	char t[64];

	times_text(x, t, sizeof(t));
	c = add(x, DIAG_NG, "A5.4", st->phase == 2 ? TR("IPsec proposal parameters differ from "
							 "the peer")
						    : TR("IKE proposal parameters differ from "
							 "the peer"));
	cause(c, TR("no proposal in common (phase %d): other vendors have other defaults"),
	      st->phase);
	if (st->our_offer[0] || st->their_offer[0])
		evidence(c, TR("we offered %s; the peer offered %s (%s)"),
			 st->our_offer[0] ? st->our_offer : "?",
			 st->their_offer[0] ? st->their_offer : TR("(not seen: the peer refused ours)"),
			 t);
	else
		evidence(c, TR("%s (%s)"), st->detail, t);
	remedy(c, "%s", TR("! set every parameter explicitly on both ends, the same values:"));
	if (st->phase == 2 && x->ipol && x->ipol->nproposals) {
		remedy(c, "ipsec proposal %s", x->ipol->proposals[0]);
		remedy(c, "encryption <as the peer> / authentication <as the peer>");
		remedy(c, "ipsec policy %s", x->ipol->name);
		remedy(c, "pfs <as the peer>");
	} else if (x->ike && x->ike->nproposals) {
		remedy(c, "ike proposal %s", x->ike->proposals[0]);
		remedy(c, "encryption <as the peer> / hash <as the peer> / group <as the peer>");
	}
}

static void a5_psk(struct ctx *x)
{
	struct diag_check *c;
	char t[64];

	times_text(x, t, sizeof(t));
	c = add(x, DIAG_NG, "A5.5", TR("pre-shared keys differ"));
	cause(c, x->aggr ? TR("the peer's HASH did not verify (%s)")
			 : TR("the peer's encrypted message did not decrypt, or its HASH did not "
			      "verify (%s)"),
	      t);
	evidence(c, "%s", x->st->detail);
	remedy(c, "ike policy %s", x->ike ? x->ike->name : "<policy>");
	remedy(c, "%s", TR("pre-shared-key ascii <the key the peer uses>"));
}

static void check_a5(struct ctx *x)
{
	const struct diag_profile_state *st = x->st;
	static const char *const ids_aggr[] = { "A5.1", "A5.2", "A5.3", "A5.4", "A5.5" };
	static const char *const ids_main[] = { "A5.3", "A5.4", "A5.5" };
	const char *const *ids = x->aggr ? ids_aggr : ids_main;
	size_t nids = x->aggr ? 5 : 3, found = 0;
	struct diag_check *c;

	if (x->sas_up) {
		add(x, DIAG_OK, "A5", TR("parameters agree with the peer (the SAs are up)"));
		return;
	}
	if (x->blocked) {
		add(x, DIAG_NA, "A5", TR("not judged: fix the problems above first"));
		return;
	}
	/* the peer's config, when given, decides directly */
	for (size_t i = 0; i < nids; i++) {
		const struct kz_finding *f = cross_find(x, ids[i]);

		if (f) {
			add_cross(x, f);
			found++;
		}
	}
	if (found)
		return;
	if (failed(x, DIAG_FAIL_ID_MISMATCH) || (ids_wrong_side(x) && st && st->count)) {
		a5_id(x);
	} else if (failed(x, DIAG_FAIL_TS_MISMATCH)) {
		a5_ts(x);
	} else if (failed(x, DIAG_FAIL_NO_PROPOSAL)) {
		a5_proposal(x);
	} else if (failed(x, DIAG_FAIL_PSK_MISMATCH)) {
		a5_psk(x);
	} else if (st && st->count &&
		   (st->fail == DIAG_FAIL_PEER_NOTIFY || st->fail == DIAG_FAIL_MALFORMED)) {
		c = add(x, DIAG_NA, "A5", TR("not judgeable: the peer refused with %s"),
			st->notify_name[0] ? st->notify_name : st->detail);
		evidence(c, "%s", st->detail);
		remedy(c, "%s", TR("! compare both configs: kizuna check <this config> <the "
				   "peer's config>"));
	} else if (st && st->count && st->fail == DIAG_FAIL_NO_ANSWER) {
		add(x, DIAG_NA, "A5", TR("not judgeable: the peer never answered (see A6)"));
	} else if (st && st->count && st->fail == DIAG_FAIL_CONFIG) {
		c = add(x, DIAG_NA, "A5", TR("not judgeable: the profile cannot negotiate"));
		evidence(c, "%s", st->detail);
	} else if (st && st->count && st->fail == DIAG_FAIL_NATT) {
		add(x, DIAG_NA, "A5", TR("not judgeable: NAT-Traversal failed first (see A7)"));
	} else {
		c = add(x, DIAG_NA, "A5", TR("not judgeable: no negotiation failure seen yet"));
		if (x->responder)
			cause(c, TR("no initiator has tried yet; look at the initiator, or compare "
				    "both configs with `kizuna check`"));
		else
			cause(c, TR("start negotiation with `clear ike sa`, or compare both configs "
				    "with `kizuna check`"));
		remedy(c, "clear ike sa");
		remedy(c, "%s", TR("! kizuna check <this config> <the peer's config>"));
	}
}

/* ---- A6: reachability ---- */

static void check_a6(struct ctx *x)
{
	const struct diag_profile_state *st = x->st;
	struct diag_check *c;
	char t[64], pa[INET_ADDRSTRLEN];
	bool priv_peer;

	if (x->sas_up || (st && st->ike_up)) {
		add(x, DIAG_OK, "A6", TR("the peer answers (IKE SA up)"));
		return;
	}
	if (x->blocked) {
		add(x, DIAG_NA, "A6", TR("not judged: fix the problems above first"));
		return;
	}
	if (failed(x, DIAG_FAIL_NO_ANSWER)) {
		times_text(x, t, sizeof(t));
		priv_peer = x->p->peer_type == KZ_PEER_ADDR &&
			    kz_addr_classify(x->p->peer_addr) != KZ_ADDR_GLOBAL;
		if (x->aggr && priv_peer) {
			c = add(x, DIAG_NG, "A6.1", TR("no answer from the peer %s: the responder "
						       "has a private or shared address"),
				addr_str(x->p->peer_addr, pa));
			cause(c, TR("a responder behind a private contract or carrier-grade NAT "
				    "cannot be reached (or the peer router or its WAN is down)"));
			remedy(c, "%s", TR("! the responder needs a global address; the initiator "
					   "may be private or global"));
		} else {
			c = add(x, DIAG_NG, "A6.2", TR("no answer from the peer %s"),
				x->p->peer_type == KZ_PEER_ADDR ? addr_str(x->p->peer_addr, pa)
								: x->p->peer_fqdn);
			cause(c, TR("the peer router is down, or its WAN is down (or the responder "
				    "has no global address)"));
			remedy(c, "%s", TR("! check the peer router and its WAN network"));
		}
		evidence(c, TR("%s (%s)"), st->detail, t);
		return;
	}
	if (st && st->count && st->fail != DIAG_FAIL_CONFIG) {
		add(x, DIAG_OK, "A6", TR("the peer answers (it sent a reply or a notify)"));
		return;
	}
	if (x->responder) {
		c = add(x, DIAG_NA, "A6", TR("not judgeable here: a responder waits for the "
					     "initiator"));
		remedy(c, "%s", TR("! run diagnose ipsec on the initiator"));
		return;
	}
	c = add(x, DIAG_NA, "A6", TR("not judgeable: no exchange seen yet"));
	remedy(c, "clear ike sa");
}

/* ---- A7: NAT-Traversal (aggressive mode) ---- */

static void check_a7(struct ctx *x)
{
	const struct diag_profile_state *st = x->st;
	const struct kz_finding *f;
	struct diag_check *c;
	char la[96];
	bool behind = x->s->mobile.has_addr && local_behind_nat(x);
	bool peer_behind = st && st->nat_known && st->nat_peer;

	if (!x->ike) {
		add(x, DIAG_NA, "A7", TR("not judged: the IKE policy is missing (see A4)"));
		return;
	}
	if (x->blocked || !x->s->mobile.has_addr) {
		add(x, DIAG_NA, "A7", TR("not judged: fix the problems above first"));
		return;
	}
	if ((behind || peer_behind) && !x->ike->natt) {
		if (behind)
			local_addr_text(x, la, sizeof(la));
		c = add(x, DIAG_NG, "A7.1", TR("NAT between the sites but nat-traversal is not set "
					       "in ike policy %s"),
			x->ike->name);
		if (behind)
			cause(c, TR("this site is behind NAT (local %s): IKE and ESP need "
				    "NAT-Traversal on both ends"),
			      la);
		else
			cause(c, TR("IKE saw the peer behind NAT: IKE and ESP need NAT-Traversal "
				    "on both ends"));
		remedy(c, "ike policy %s", x->ike->name);
		remedy(c, "nat-traversal");
		remedy(c, "%s", TR("! and the same in the IKE policy of the peer"));
		return;
	}
	if (failed(x, DIAG_FAIL_NATT)) {
		c = add(x, DIAG_NG, "A7.1", TR("NAT-Traversal does not match the peer"));
		cause(c, TR("nat-traversal must be set in the IKE policy of the initiator and of "
			    "the responder"));
		evidence(c, "%s", st->detail);
		remedy(c, "%s", TR("! on both ends: ike policy <policy> / nat-traversal"));
		return;
	}
	if (behind && st && st->ike_up && !st->ike_natt_floated) {
		c = add(x, DIAG_NG, "A7.1", TR("NAT-Traversal not agreed: the IKE SA stays on UDP "
					       "500 behind NAT"));
		cause(c, TR("this site is behind NAT and announces NAT-Traversal, but the peer "
			    "did not take it: nat-traversal is missing in the peer's IKE policy"));
		remedy(c, "%s", TR("! on the peer: ike policy <policy> / nat-traversal"));
		return;
	}
	if ((f = cross_find(x, "A7"))) {
		add_cross(x, f);
		return;
	}
	if (behind || peer_behind)
		add(x, DIAG_OK, "A7", TR("NAT between the sites, nat-traversal set%s"),
		    st && st->ike_up && st->ike_natt_floated ? TR(" (IKE on UDP 4500)") : "");
	else if (st && st->nat_known)
		add(x, DIAG_OK, "A7", TR("no NAT between the sites (NAT-D)"));
	else
		add(x, DIAG_OK, "A7", TR("this site is not behind NAT"));
}

/* ---- A8: SAs up but no traffic ---- */

static bool prefix_overlap(const struct kz_prefix *a, const struct kz_prefix *b)
{
	unsigned len = a->len < b->len ? a->len : b->len;
	uint32_t mask = len ? htonl(~0u << (32 - len)) : 0;

	return (a->addr.s_addr & mask) == (b->addr.s_addr & mask);
}

static void check_a8(struct ctx *x)
{
	const struct diag_profile_state *st = x->st;
	struct kz_prefix remote = st ? st->remote_ts : (struct kz_prefix){ 0 };
	char r[32], l[32];
	struct diag_check *c;
	bool routed = false;
	int64_t since;

	if (!x->sas_up) {
		add(x, DIAG_NA, "A8", TR("not judged: judged only while the SAs are up"));
		return;
	}
	if (!remote.set && x->ipol)
		remote = x->ipol->remote_ts;
	kz_prefix_str(&remote, r, sizeof(r));
	kz_prefix_str(&st->local_ts, l, sizeof(l));
	if (!x->s->routes_known) {
		c = add(x, DIAG_NA, "A8", TR("not judgeable: the kernel's routes could not be "
					     "read"));
		remedy(c, "show ip route");
		return;
	}
	for (size_t i = 0; i < x->s->nroutes; i++)
		routed |= x->s->routes[i].unit == st->unit &&
			  prefix_overlap(&x->s->routes[i].dest, &remote);
	if (!routed) {
		c = add(x, DIAG_NG, "A8.1", TR("no route to %s through IPsec%u"), r, st->unit);
		cause(c, TR("traffic for the remote network does not enter the tunnel"));
		evidence(c, TR("the kernel's routing table has no route to %s via IPsec%u"), r,
			 st->unit);
		remedy(c, "ip route %s IPsec%u", r, st->unit);
		return;
	}
	if (st->outside_known && st->outside_drops) {
		c = add(x, DIAG_NG, "A8.2", TR("%llu outbound packet(s) dropped outside the "
					       "negotiated selectors (local %s, remote %s)"),
			(unsigned long long)st->outside_drops, l, r);
		cause(c, TR("packets routed into IPsec%u fall outside the IPsec policy ids, so "
			    "they are not sent"),
		      st->unit);
		remedy(c, "%s", TR("! make the IPsec policy ids cover the traffic, on both ends:"));
		if (x->ipol) {
			remedy(c, "ipsec policy %s", x->ipol->name);
			remedy(c, "local-id <A.B.C.D/M>");
			remedy(c, "remote-id <A.B.C.D/M>");
		}
		return;
	}
	since = st->in_last > st->ipsec_up_since ? st->in_last : st->ipsec_up_since;
	if (st->out_packets && st->out_last && since && st->out_last - since >= DIAG_SILENT_S &&
	    (!st->in_packets || st->in_last < st->out_last)) {
		char t1[16], t2[16];

		clock_str(st->out_last, t1, sizeof(t1));
		clock_str(st->in_last ? st->in_last : st->ipsec_up_since, t2, sizeof(t2));
		c = add(x, DIAG_NG, "A8.3", TR("outbound packets flow but nothing comes back"));
		cause(c, TR("the far site's routing or LAN: its route to this site's network "
			    "through its IPsec interface"));
		evidence(c, TR("%llu packet(s) out (last %s), %llu in (last %s)"),
			 (unsigned long long)st->out_packets, t1,
			 (unsigned long long)st->in_packets, st->in_packets ? t2 : "-");
		remedy(c, TR("! on the peer: ip route %s IPsec<N>, and check its LAN"), l);
		return;
	}
	if (!st->out_packets && !st->in_packets)
		add(x, DIAG_OK, "A8", TR("route to %s via IPsec%u; no traffic yet"), r, st->unit);
	else
		add(x, DIAG_OK, "A8", TR("traffic flows: %llu packet(s) out, %llu in"),
		    (unsigned long long)st->out_packets, (unsigned long long)st->in_packets);
}

/* ---- warnings ---- */

static void warnings(struct ctx *x)
{
	struct kz_findings fs;
	char st[128];

	if (x->ike && x->aggr && x->ike->psk.set) {
		unsigned bits = kz_psk_bits(&x->ike->psk);

		kz_psk_strength_text(bits, st, sizeof(st));
		if (bits < 80)
			warn(x, TR("aggressive mode with a pre-shared key: %s; use a longer random "
				   "key (80 bits or more)"),
			     st);
		else
			warn(x, TR("aggressive mode with a pre-shared key: %s"), st);
	}
	/* weak algorithms, as `kizuna check` words them */
	kz_findings_init(&fs);
	if (kz_check_profile_lint(x->s->cfg, x->p, &fs) == 0)
		for (size_t i = 0; i < fs.n; i++)
			if (fs.v[i].severity == KZ_SEV_WARN &&
			    (strstr(fs.v[i].text, " is weak") ||
			     strstr(fs.v[i].text, "encryption null")))
				warn(x, "%s", fs.v[i].text);
	kz_findings_free(&fs);
}

/* ---- one profile ---- */

static const struct diag_profile_state *state_of(const struct diag_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nstates; i++)
		if (!strcmp(s->states[i].profile, name))
			return &s->states[i];
	return NULL;
}

static int cross_with_peer(struct ctx *x)
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
	struct ctx ctx = { .s = s, .L = L, .p = p, .pr = pr }, *x = &ctx;
	char peer[KZ_IDVAL_MAX];
	int r = 0;

	kz_findings_init(&x->cross);
	x->ike = p->ike_policy[0] ? kz_find_ike_policy(s->cfg, p->ike_policy) : NULL;
	x->ipol = p->ipsec_policy[0] ? kz_find_ipsec_policy(s->cfg, p->ipsec_policy) : NULL;
	x->ifc = kz_find_if_mapping(s->cfg, p->name);
	x->st = state_of(s, p->name);
	/* without the IKE policy the mode is unknown: the aggressive-mode
	 * list is the longer one and A4 names the missing policy */
	x->aggr = !x->ike || x->ike->mode == KZ_MODE_AGGRESSIVE;
	x->responder = p->peer_type == KZ_PEER_ANY;
	x->sas_up = x->st && x->st->ike_up && x->st->ipsec_up && !x->st->sas_down;
	x->peer_name = s->peer_name ? s->peer_name : "peer";
	if (s->peer_cfg && (r = cross_with_peer(x)) < 0)
		goto out;

	kz_strlcpy(pr->profile, p->name, sizeof(pr->profile));
	kz_strlcpy(pr->role, p->peer_type == KZ_PEER_ANY    ? "responder"
			     : p->peer_type == KZ_PEER_UNSET ? "none"
							     : "initiator",
		   sizeof(pr->role));
	kz_strlcpy(pr->mode, x->aggr ? "aggressive" : "main", sizeof(pr->mode));
	if (p->peer_type == KZ_PEER_ADDR)
		addr_str(p->peer_addr, peer);
	else
		kz_strlcpy(peer, p->peer_type == KZ_PEER_ANY	? "any"
				 : p->peer_type == KZ_PEER_FQDN ? p->peer_fqdn
								: "-",
			   sizeof(peer));
	snprintf(pr->header, sizeof(pr->header), TR("profile %s: %s, %s (ipsec profile %s: peer %s)"),
		 p->name, role_text(x),
		 !x->ike ? TR("exchange mode unknown")
		 : x->aggr ? TR("aggressive mode")
			   : TR("main mode"),
		 p->name, peer);

	if (x->aggr) {
		check_a1(x);
		check_a2(x, "A2");
		check_a3(x, "A3");
	} else {
		check_m1(x);
		check_a2(x, "M2");
		check_a3(x, "M3");
	}
	check_a4(x);
	check_a5(x);
	check_a6(x);
	if (x->aggr)
		check_a7(x);
	check_a8(x);
	warnings(x);
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

const char *diag_first_ng(const struct diag_report *r, size_t i)
{
	if (!r || i >= r->n)
		return "";
	for (size_t k = 0; k < r->v[i].nchecks; k++)
		if (r->v[i].checks[k].result == DIAG_NG)
			return r->v[i].checks[k].id;
	return "";
}
