/* check.c - the config check (A4) of one profile: what stops its tunnel
 * from coming up as configured, and the commands that fix it.
 *
 * The A4 texts are those the router of the manual prints at the end of
 * `show ipsec profile`; people compare them with the manual word by word,
 * so they are kept exactly, slips of grammar included.  See check.h. */
#include "config/check.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "config/check_int.h"

/* ---- names of defined objects, for causes and remedies ----------------- */

/* Every named object keeps its name as the first member (model.h), so one
 * walker serves all kinds. */
struct names {
	const char *base;
	size_t n;
	size_t stride;
};

#define NAMES(vec) ((struct names){ (const char *)(vec).v, (vec).n, sizeof(*(vec).v) })

static const char *name_at(const struct names *l, size_t i)
{
	return l->base + i * l->stride;
}

/* The name the user most likely meant: the same name in other letter case,
 * else the only object of that kind.  NULL when there is no good guess. */
static const char *name_guess(const struct names *l, const char *wanted)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(name_at(l, i), wanted) == 0)
			return name_at(l, i);
	return l->n == 1 ? name_at(l, 0) : NULL;
}

/* "; defined: A, B, C" or "; no <kind> is defined". */
static void names_defined(const struct names *l, const char *kind, char *out, size_t len)
{
	size_t off;

	if (!l->n) {
		kz_check_set(out, len, "; no %s is defined", kind);
		return;
	}
	kz_check_set(out, len, "; defined: ");
	for (size_t i = 0; i < l->n; i++) {
		off = strlen(out);
		if (i == 4) {
			kz_check_set(out + off, len - off, "...");
			break;
		}
		kz_check_set(out + off, len - off, "%s%s", i ? ", " : "", name_at(l, i));
	}
}

/* ---- A4 ------------------------------------------------------------------ */

void kz_check_env_offline(struct kz_check_env *env)
{
	memset(env, 0, sizeof(*env));
}

static void ng(struct kz_finding *f, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ng(struct kz_finding *f, const char *id, const char *fmt, ...)
{
	va_list ap;

	f->severity = KZ_SEV_NG;
	kz_strlcpy(f->id, id, sizeof(f->id));
	va_start(ap, fmt);
	kz_check_vset(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

#define A41_TEXT "sourced I/F don't have valid address [" KZ_MOBILE_IFNAME "]"

/* A4.1: IKE needs an address to send from, and the profile only ever sends
 * from MobileEthernet0.0. */
static bool a4_source(const struct kz_config *c, const struct kz_ipsec_profile *p,
		      const struct kz_check_env *env, struct kz_finding *f)
{
	const struct kz_if_mobile *m = &c->mobile;

	if (!p->source_set) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f,
				 "ipsec profile %s has no source-interface, so IKE has no "
				 "address to send from",
				 p->name);
		kz_finding_remedy(f, "ipsec profile %s", p->name);
		kz_finding_remedy(f, "source-interface %s", KZ_MOBILE_IFNAME);
		return true;
	}
	if (!m->present || !m->device[0]) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f,
				 "%s has no device: the config does not say which Linux "
				 "network device is the mobile WAN",
				 m->present ? "interface " KZ_MOBILE_IFNAME
					    : "no interface " KZ_MOBILE_IFNAME
					      " is configured, so it");
		kz_finding_remedy(f, "interface %s", KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "device <Linux device, e.g. wwan0>");
		if (m->shutdown)
			kz_finding_remedy(f, "no shutdown");
		return true;
	}
	if (!env->live) {
		if (!m->shutdown)
			return false;
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f,
				 "interface %s is shut down (administratively down), so it "
				 "has no address",
				 KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "interface %s", KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "no shutdown");
		return true;
	}
	if (!env->mobile_up) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f, "%s (device %s) is down: %s", KZ_MOBILE_IFNAME, m->device,
				 m->shutdown ? "it is shut down in the config"
					     : "it was set down outside kizuna");
		/* `no shutdown` sets the device up again when typed, even when
		 * the config already says so. */
		kz_finding_remedy(f, "interface %s", KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "no shutdown");
		return true;
	}
	if (!env->mobile_has_addr) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f,
				 "%s (device %s) is up but has no IPv4 address: no SIM, no "
				 "radio coverage, or the carrier has not assigned one yet; check "
				 "the SIM and the signal",
				 KZ_MOBILE_IFNAME, m->device);
		return true;
	}
	return false;
}

static bool ipsec_if_up(const struct kz_if_ipsec *ifc, const struct kz_check_env *env)
{
	if (env->live && env->ipsec_if_up)
		return env->ipsec_if_up(ifc->unit, env->arg);
	return !ifc->shutdown;
}

/* The interface to suggest for `ipsec map`: one that maps nothing yet, else
 * the lowest unit not in use. */
static unsigned free_ipsec_unit(const struct kz_config *c, bool *exists)
{
	for (size_t i = 0; i < c->ipsec_ifs.n; i++)
		if (!c->ipsec_ifs.v[i].map[0]) {
			*exists = true;
			return c->ipsec_ifs.v[i].unit;
		}
	*exists = false;
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if (!kz_find_ipsec_if(c, u))
			return u;
	return 0;
}

/* A4.2 and A4.3: the profile's traffic enters and leaves through the
 * IPsec interface that maps it. */
static bool a4_mapped(const struct kz_config *c, const struct kz_ipsec_profile *p,
		      const struct kz_check_env *env, struct kz_finding *f)
{
	const struct kz_if_ipsec *ifc;
	bool exists;
	unsigned u;

	if (!c->ipsec_ifs.n) {
		/* The router prints the A4.2 text here too; the remedy creates
		 * the interface complete, so A4.3 does not follow. */
		ng(f, "A4.2", "mapped I/F is down [IPsec0]");
		kz_finding_cause(f,
				 "no IPsec interface is defined, so ipsec profile %s has no "
				 "interface to carry its traffic",
				 p->name);
		kz_finding_remedy(f, "interface IPsec0");
		kz_finding_remedy(f, "ipsec map %s", p->name);
		kz_finding_remedy(f, "no shutdown");
		return true;
	}
	ifc = kz_find_if_mapping(c, p->name);
	if (ifc) {
		if (ipsec_if_up(ifc, env))
			return false;
		ng(f, "A4.2", "mapped I/F is down [IPsec%u]", ifc->unit);
		if (env->live && env->ipsec_if_up)
			kz_finding_cause(f,
					 "interface IPsec%u, which maps ipsec profile %s, is "
					 "down: %s",
					 ifc->unit, p->name,
					 ifc->shutdown ? "it is shut down in the config"
						       : "its device was set down outside kizuna");
		else
			kz_finding_cause(f,
					 "interface IPsec%u, which maps ipsec profile %s, is "
					 "shut down (an IPsec interface stays down until `no "
					 "shutdown`)",
					 ifc->unit, p->name);
		kz_finding_remedy_in(f, "no shutdown", "interface IPsec%u", ifc->unit);
		return true;
	}
	u = free_ipsec_unit(c, &exists);
	ng(f, "A4.3", "no mapped [%s]", p->name);
	if (exists)
		kz_finding_cause(f,
				 "no IPsec interface maps ipsec profile %s (interface "
				 "IPsec%u maps nothing)",
				 p->name, u);
	else
		kz_finding_cause(f,
				 "no IPsec interface maps ipsec profile %s (each defined "
				 "one maps another profile)",
				 p->name);
	kz_finding_remedy(f, "interface IPsec%u", u);
	kz_finding_remedy(f, "ipsec map %s", p->name);
	if (!exists || kz_find_ipsec_if(c, u)->shutdown)
		kz_finding_remedy(f, "no shutdown");
	return true;
}

/* What A4.4..A4.7 need to know about the kind of object that is missing. */
struct a4_kind {
	const char *id;    /* "A4.4" */
	const char *word;  /* as typed in commands: "ipsec", "ike" */
	const char *label; /* as written in sentences: "IPsec", "IKE" */
};

static const struct a4_kind A44 = { "A4.4", "ipsec", "IPsec" };
static const struct a4_kind A45 = { "A4.5", "ike", "IKE" };
static const struct a4_kind A46 = { "A4.6", "ipsec", "IPsec" };
static const struct a4_kind A47 = { "A4.7", "ike", "IKE" };

/* A4.4 / A4.5: a policy name in the profile that names nothing. */
static void a4_policy_missing(const struct kz_ipsec_profile *p, const struct a4_kind *k,
			      const char *wanted, const struct names *l, struct kz_finding *f)
{
	const char *guess = name_guess(l, wanted);
	char what[32], defd[256];

	ng(f, k->id, "%s policy not exist [%s]", k->word, wanted);
	kz_check_set(what, sizeof(what), "%s policy", k->word);
	names_defined(l, what, defd, sizeof(defd));
	if (!wanted[0])
		kz_finding_cause(f,
				 "ipsec profile %s names no %s policy (it has no `%s policy` "
				 "line)%s",
				 p->name, k->label, k->word, defd);
	else
		kz_finding_cause(f,
				 "ipsec profile %s names %s policy %s, which is not "
				 "defined%s",
				 p->name, k->label, wanted, defd);
	kz_finding_remedy(f, "ipsec profile %s", p->name);
	if (guess)
		kz_finding_remedy(f, "%s policy %s", k->word, guess);
	else
		kz_finding_remedy(f, "%s policy <%s policy name>", k->word, k->label);
}

static bool name_defined(const struct names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(name_at(l, i), name) == 0)
			return true;
	return false;
}

/* A4.6 / A4.7: a proposal name in a policy that names nothing.  The remedy
 * retypes the policy's whole `proposal` list (the command replaces the
 * list), each missing name replaced by its likely meaning or left out. */
static bool a4_proposals(const struct a4_kind *k, const char *policy,
			 const char (*props)[KZ_NAME_MAX], unsigned nprops, const struct names *l,
			 struct kz_finding *f)
{
	const char *missing = NULL, *keep[KZ_MAX_REFS];
	char line[KZ_FINDING_LINE_MAX], what[32], defd[256];
	unsigned nkeep = 0;
	size_t off;

	for (unsigned i = 0; i < nprops && !missing; i++)
		if (!name_defined(l, props[i]))
			missing = props[i];
	if (nprops && !missing)
		return false;

	ng(f, k->id, "%s proposal not exist [%s]", k->word, missing ? missing : "");
	kz_check_set(what, sizeof(what), "%s proposal", k->word);
	names_defined(l, what, defd, sizeof(defd));
	if (missing)
		kz_finding_cause(f, "%s policy %s names %s proposal %s, which is not defined%s",
				 k->word, policy, k->label, missing, defd);
	else
		kz_finding_cause(f, "%s policy %s names no proposal%s", k->word, policy, defd);

	for (unsigned i = 0; i < nprops && i < KZ_MAX_REFS; i++) {
		const char *use = name_defined(l, props[i]) ? props[i] : name_guess(l, props[i]);
		bool dup = false;

		for (unsigned j = 0; j < nkeep && use; j++)
			dup |= strcmp(keep[j], use) == 0;
		if (use && !dup)
			keep[nkeep++] = use;
	}
	if (!nkeep && l->n == 1)
		keep[nkeep++] = name_at(l, 0);
	if (nkeep) {
		kz_check_set(line, sizeof(line), "proposal");
		for (unsigned j = 0; j < nkeep; j++) {
			off = strlen(line);
			kz_check_set(line + off, sizeof(line) - off, " %s", keep[j]);
		}
	} else {
		kz_check_set(line, sizeof(line), "proposal <%s proposal name>", k->label);
	}
	kz_finding_remedy(f, "%s policy %s", k->word, policy);
	kz_finding_remedy(f, "%s", line);
	return true;
}

int kz_check_profile(const struct kz_config *c, const struct kz_ipsec_profile *p,
		     const struct kz_check_env *env, struct kz_finding *out)
{
	const struct kz_ipsec_policy *ipol;
	const struct kz_ike_policy *ike;
	struct names l;

	if (!c || !p || !env || !out)
		return KZ_EINVAL;
	memset(out, 0, sizeof(*out));
	out->side = KZ_SIDE_LOCAL;
	kz_strlcpy(out->profile, p->name, sizeof(out->profile));

	if (a4_source(c, p, env, out) || a4_mapped(c, p, env, out))
		return 0;

	ipol = p->ipsec_policy[0] ? kz_find_ipsec_policy(c, p->ipsec_policy) : NULL;
	if (!ipol) {
		l = NAMES(c->ipsec_policies);
		a4_policy_missing(p, &A44, p->ipsec_policy, &l, out);
		return 0;
	}
	ike = p->ike_policy[0] ? kz_find_ike_policy(c, p->ike_policy) : NULL;
	if (!ike) {
		l = NAMES(c->ike_policies);
		a4_policy_missing(p, &A45, p->ike_policy, &l, out);
		return 0;
	}
	l = NAMES(c->ipsec_proposals);
	if (a4_proposals(&A46, ipol->name, ipol->proposals, ipol->nproposals, &l, out))
		return 0;
	l = NAMES(c->ike_proposals);
	if (a4_proposals(&A47, ike->name, ike->proposals, ike->nproposals, &l, out))
		return 0;

	out->severity = KZ_SEV_OK;
	kz_strlcpy(out->id, "A4", sizeof(out->id));
	kz_strlcpy(out->text, "config check ok", sizeof(out->text));
	return 0;
}
