/* diag_site.c - the checks of this site alone: A1/M1 the SIM contract,
 * A2/M2 the address of MobileEthernet0.0, A3/M3 the state of the SAs and
 * A4 the config check.  See diag.c for the order they run in. */
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

/* ---- A1 / M1: SIM contract ---- */

/* The contract as the address class names it, and the NAT that NAT-D
 * measured (or that nothing was measured), as evidence. */
static void a1_evidence(struct diag_ctx *x, struct diag_check *c, bool closed)
{
	const struct diag_profile_state *st = x->st;

	if (closed)
		diag_evidence(c, "%s; %s",
			      TR("a private or shared address contract reached without NAT: a "
				 "closed network of the carrier"),
			      TR("NAT-D: no NAT between the sites"));
	else if (st && st->nat_known)
		diag_evidence(c, "%s",
			      st->nat_local
				      ? TR("NAT-D: this site's address is translated by a NAT")
				      : st->nat_peer
				      ? TR("NAT-D: the peer's address is translated by a NAT")
				      : TR("NAT-D: no NAT between the sites"));
	else if (x->reached)
		diag_evidence(c, "%s",
			      x->responder
				      ? TR("an initiator reached this site; NAT not measured "
					   "(NAT-D needs nat-traversal and a finished phase 1)")
				      : TR("the peer answered; NAT not measured (NAT-D needs "
					   "nat-traversal and a finished phase 1)"));
	else
		diag_evidence(c, "%s",
			      TR("the address of MobileEthernet0.0; no IKE answer seen yet, NAT "
				 "not measured"));
}

void diag_check_a1(struct diag_ctx *x)
{
	char la[96], pa[INET_ADDRSTRLEN];
	struct diag_check *c;
	const struct kz_finding *f;
	bool behind = diag_local_behind_nat(x);
	bool local_global = kz_addr_classify(x->s->mobile.addr) == KZ_ADDR_GLOBAL;
	/* a private or shared contract that works: a carrier's closed
	 * network, reached without NAT */
	bool closed = !local_global && x->st && x->st->nat_known && !behind && !x->st->nat_peer;

	if (!x->s->mobile.has_addr) {
		c = diag_add(x, DIAG_NA, "A1",
			     TR("SIM contract: not judgeable, MobileEthernet0.0 has no "
				"address (see A2)"));
		return;
	}
	diag_local_addr_text(x, la, sizeof(la));
	if ((f = diag_cross_find(x, "A1"))) {
		diag_add_cross(x, f);
		return;
	}
	if (x->responder && !x->sas_up && (behind || (!local_global && !x->reached))) {
		c = diag_add(x, DIAG_NG, "A1.2",
			     TR("SIM contract: this site is the responder, but its "
				"address %s is not global"),
			     la);
		diag_cause(c,
			   TR("the responder must be reachable from outside; behind a private "
			      "contract or carrier-grade NAT nobody can reach it"));
		diag_evidence(c,
			      TR("`peer any` in ipsec profile %s makes this site the responder; no "
				 "initiator has reached it"),
			      x->p->name);
		diag_remedy(c, "%s",
			    TR("! make this site the initiator and the global-address site the "
			       "responder (peer any):"));
		diag_remedy(c, "ipsec profile %s", x->p->name);
		diag_remedy(c, "%s", TR("peer <the responder's global address or FQDN>"));
		return;
	}
	if (!x->responder && x->p->peer_type == KZ_PEER_ADDR && !local_global && !x->reached &&
	    !x->sas_up && kz_addr_classify(x->p->peer_addr) != KZ_ADDR_GLOBAL) {
		c = diag_add(x, DIAG_NG, "A1.1",
			     TR("SIM contract: both sites have private or shared "
				"addresses: local %s, peer %s"),
			     la, diag_addr_str(x->p->peer_addr, pa));
		diag_cause(c,
			   TR("both SIMs are private-address contracts (or behind carrier-grade "
			      "NAT): neither site can be reached"));
		a1_evidence(x, c, false);
		diag_remedy(c, "%s",
			    TR("! one site (the responder) needs a SIM with a global address"));
		diag_remedy(c, "%s",
			    TR("! or both SIMs on the same closed network of the carrier"));
		return;
	}
	if (x->responder)
		c = diag_add(x, DIAG_OK, "A1",
			     TR("SIM contract: local %s, responder (`peer any` in "
				"ipsec profile %s)"),
			     la, x->p->name);
	else if (x->p->peer_type == KZ_PEER_FQDN)
		c = diag_add(x, DIAG_OK, "A1",
			     TR("SIM contract: local %s, initiator (peer %s: its "
				"address class is judged by the peer)"),
			     la, x->p->peer_fqdn);
	else
		c = diag_add(x, DIAG_OK, "A1", TR("SIM contract: local %s, initiator (peer %s)"),
			     la, diag_addr_str(x->p->peer_addr, pa));
	a1_evidence(x, c, closed);
	diag_a1_modem(x, c);
}

void diag_check_m1(struct diag_ctx *x)
{
	char la[96], pa[INET_ADDRSTRLEN];
	struct diag_check *c;

	if (!x->s->mobile.has_addr) {
		diag_add(x, DIAG_NA, "M1",
			 TR("SIM contract: not judgeable, MobileEthernet0.0 has no "
			    "address (see M2)"));
		return;
	}
	diag_local_addr_text(x, la, sizeof(la));
	if (diag_local_behind_nat(x) ||
	    (kz_addr_classify(x->s->mobile.addr) != KZ_ADDR_GLOBAL && !x->reached && !x->sas_up)) {
		c = diag_add(x, DIAG_NG, "M1.1",
			     TR("SIM contract: main mode needs fixed global "
				"addresses, local is %s"),
			     la);
		diag_cause(c,
			   TR("main mode works only when both sites have fixed global addresses"));
		a1_evidence(x, c, false);
		diag_remedy(c, "%s",
			    TR("! a fixed global address SIM at both sites, or aggressive mode:"));
		diag_remedy(c, "ike policy %s", x->ike ? x->ike->name : "<policy>");
		diag_remedy(c, "exchange-mode aggressive");
		return;
	}
	if (x->p->peer_type == KZ_PEER_ANY) {
		c = diag_add(x, DIAG_NG, "M1.2", "peer any with main mode [%s]", x->p->name);
		diag_cause(
			c,
			TR("in main mode with pre-shared keys the responder picks the key by the "
			   "initiator's address, so that address must be fixed and configured"));
		diag_remedy(c, "ipsec profile %s", x->p->name);
		diag_remedy(c, "%s", TR("peer <the other site's fixed global address>"));
		return;
	}
	if (x->p->peer_type == KZ_PEER_ADDR)
		c = diag_add(x, DIAG_OK, "M1", TR("SIM contract: local %s, peer %s"), la,
			     diag_addr_str(x->p->peer_addr, pa));
	else
		c = diag_add(x, DIAG_OK, "M1", TR("SIM contract: local %s, peer %s"), la,
			     x->p->peer_fqdn[0] ? x->p->peer_fqdn : "-");
	a1_evidence(x, c,
		    kz_addr_classify(x->s->mobile.addr) != KZ_ADDR_GLOBAL && x->st &&
			    x->st->nat_known && !x->st->nat_local && !x->st->nat_peer);
}

/* ---- A2 / M2: the address of MobileEthernet0.0 ---- */

/* The SAs the engine keeps while the WAN has no address are evidence that
 * the outage is live, not only a config matter: said after what the link
 * showed. */
static void a2_sas_down(struct diag_ctx *x, struct diag_check *c)
{
	char seen[sizeof(c->evidence)];

	if (!x->st || !x->st->sas_down)
		return;
	kz_strlcpy(seen, c->evidence, sizeof(seen));
	if (seen[0])
		diag_evidence(c,
			      TR("%s; the SAs of %s are kept but down until it has an address "
				 "again"),
			      seen, x->p->name);
	else
		diag_evidence(c,
			      TR("the SAs of %s are kept but down until it has an address again"),
			      x->p->name);
}

void diag_check_a2(struct diag_ctx *x, const char *base)
{
	const struct diag_mobile *m = &x->s->mobile;
	char id[DIAG_ID_MAX], a[INET_ADDRSTRLEN];
	struct diag_check *c;

	if ((m->exists && !m->admin_up) || (x->s->modem.bound && x->s->cfg->mobile.shutdown)) {
		snprintf(id, sizeof(id), "%s.1", base);
		c = diag_add(x, DIAG_NG, id,
			     "Interface MobileEthernet0.0 is administratively down");
		diag_cause(c, TR("the MobileEthernet0.0 interface is shut down"));
		diag_remedy(c, "interface MobileEthernet0.0");
		diag_remedy(c, "no shutdown");
		a2_sas_down(x, c);
		x->blocked = true;
		return;
	}
	if (!m->exists || !m->lower_up || !m->has_addr) {
		snprintf(id, sizeof(id), "%s.2", base);
		if (x->s->modem.bound) {
			c = diag_a2_modem(x, id);
			a2_sas_down(x, c);
			x->blocked = true;
			return;
		}
		c = diag_add(x, DIAG_NG, id, TR("MobileEthernet0.0 has no address"));
		if (!x->s->cfg->mobile.device[0]) {
			diag_cause(c, TR("no Linux device is bound to MobileEthernet0.0"));
			diag_remedy(c, "interface MobileEthernet0.0");
			diag_remedy(c, "%s", TR("device <the LTE device, e.g. wwan0>"));
		} else if (!m->exists) {
			diag_cause(c, TR("the device %s does not exist: no modem or no SIM"),
				   x->s->cfg->mobile.device);
			diag_remedy(c, "%s",
				    TR("! check the SIM and the modem; the address comes from "
				       "the carrier"));
		} else {
			diag_cause(c,
				   TR("no radio coverage, no SIM, or the mobile network has not "
				      "assigned an address"));
			diag_evidence(c, "%s",
				      m->lower_up ? TR("the interface is up without an address")
						  : TR("the interface is up but has no carrier"));
			diag_remedy(c, "%s",
				    TR("! check the SIM and the signal; the address comes from "
				       "the carrier"));
		}
		a2_sas_down(x, c);
		x->blocked = true;
		return;
	}
	diag_add(x, DIAG_OK, base, TR("MobileEthernet0.0 is up, %s/%u"), diag_addr_str(m->addr, a),
		 (unsigned)m->plen);
}

/* ---- A3 / M3: state only ---- */

void diag_check_a3(struct diag_ctx *x, const char *base)
{
	const struct diag_profile_state *st = x->st;
	char id[DIAG_ID_MAX];

	if (x->sas_up) {
		diag_add(x, DIAG_OK, base,
			 TR("IKE SA and IPsec SA established (IPsec%u, outbound spi "
			    "0x%08x, inbound spi 0x%08x)"),
			 st->unit, st->spi_out, st->spi_in);
		return;
	}
	if (st && st->sas_down) {
		/* kept for the link's return, but nothing passes them: state,
		 * not a cause (the cause is A2/M2) */
		snprintf(id, sizeof(id), "%s.3", base);
		diag_add(x, DIAG_NA, id,
			 TR("SAs kept but down: MobileEthernet0.0 has no usable "
			    "address (see above)"));
		return;
	}
	if (st && st->ike_up) {
		snprintf(id, sizeof(id), "%s.2", base);
		diag_add(x, DIAG_NA, id,
			 TR("IKE SA established, no IPsec SA: phase 2 failing, see "
			    "below"));
		return;
	}
	snprintf(id, sizeof(id), "%s.1", base);
	if (x->infl && x->infl->phase == 1 && !st->count) {
		char m[64];

		diag_exch_msg(x, x->infl, x->infl->msg_sent, m, sizeof(m));
		diag_add(x, DIAG_NA, id, TR("no IKE SA yet: negotiating (%s sent %u time(s))"), m,
			 x->infl->tries);
	} else if (st && st->ike_negotiating && !st->count)
		diag_add(x, DIAG_NA, id, TR("no IKE SA yet: negotiating"));
	else if (x->responder && x->half)
		diag_add(x, DIAG_NA, id,
			 TR("no IKE SA: an initiator started and did not finish, see below"));
	else if (x->responder && (!st || !st->count))
		diag_add(x, DIAG_NA, id, TR("no IKE SA: no initiator has connected yet"));
	else if (x->half)
		diag_add(x, DIAG_NA, id, TR("no IKE SA: negotiation failing, see below"));
	else if (!st || !st->count)
		diag_add(x, DIAG_NA, id, TR("no IKE SA: no negotiation running"));
	else
		diag_add(x, DIAG_NA, id, TR("no IKE SA: negotiation failing, see below"));
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

static const char *a4_cause(struct diag_ctx *x, const char *id)
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

void diag_check_a4(struct diag_ctx *x)
{
	struct kz_check_env env = { .live = true, .ipsec_if_up = env_if_up };
	struct kz_finding f;
	struct diag_check *c;

	env.arg = (void *)x->s;
	env.mobile_up = x->s->mobile.exists && x->s->mobile.admin_up && x->s->mobile.lower_up;
	env.mobile_has_addr = x->s->mobile.has_addr;
	if (kz_check_profile(x->s->cfg, x->p, &env, &f) < 0) {
		diag_add(x, DIAG_NA, "A4", TR("config check could not run"));
		return;
	}
	if (f.severity == KZ_SEV_OK) {
		diag_add(x, DIAG_OK, "A4", "%s", f.text);
		return;
	}
	/* the result text is router output: kept as the manual prints it */
	c = diag_add(x, DIAG_NG, f.id, "%s", f.text);
	diag_cause(c, "%s", a4_cause(x, f.id));
	for (unsigned i = 0; i < f.nremedy; i++)
		diag_remedy(c, "%s", f.remedy[i]);
	x->blocked = true;
}
