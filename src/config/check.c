/* check.c - the config check (A4) of one profile, the warnings about weak or
 * doubtful choices, and the list of findings both produce.
 *
 * The A4 texts are those the router of the manual prints at the end of
 * `show ipsec profile`; people compare them with the manual word by word,
 * so they are kept exactly, slips of grammar included.  See check.h. */
#include "check.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/err.h"
#include "../lib/mem.h"

/* ---- findings ---------------------------------------------------------- */

void kz_findings_init(struct kz_findings *fs)
{
	memset(fs, 0, sizeof(*fs));
}

void kz_findings_free(struct kz_findings *fs)
{
	free(fs->v);
	kz_findings_init(fs);
}

/* vsnprintf through a va_list, so long names are cut at the field size
 * instead of each call site proving it fits. */
static void vset(char *dst, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vset(char *dst, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, len, fmt, ap);

	if (n < 0)
		dst[0] = '\0';
}

static void set(char *dst, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(dst, len, fmt, ap);
	va_end(ap);
}

/* Room for one more finding at the end; NULL on ENOMEM. */
static struct kz_finding *grow(struct kz_findings *fs)
{
	if (fs->n == fs->cap) {
		size_t ncap = fs->cap ? fs->cap * 2 : 8;
		void *p = realloc(fs->v, ncap * sizeof(*fs->v));

		if (!p)
			return NULL;
		fs->v = p;
		fs->cap = ncap;
	}
	return &fs->v[fs->n++];
}

struct kz_finding *kz_findings_add(struct kz_findings *fs, enum kz_sev sev, const char *id,
				   const char *profile, const char *fmt, ...)
{
	struct kz_finding *f = grow(fs);
	va_list ap;

	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->side = KZ_SIDE_LOCAL;
	kz_strlcpy(f->id, id ? id : "", sizeof(f->id));
	kz_strlcpy(f->profile, profile ? profile : "", sizeof(f->profile));
	va_start(ap, fmt);
	vset(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	return f;
}

struct kz_finding *kz_findings_push(struct kz_findings *fs, const struct kz_finding *f)
{
	struct kz_finding *n = grow(fs);

	if (n)
		*n = *f;
	return n;
}

size_t kz_findings_count(const struct kz_findings *fs, enum kz_sev sev)
{
	size_t k = 0;

	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].severity == sev)
			k++;
	return k;
}

bool kz_findings_has_text(const struct kz_findings *fs, const char *text)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].text, text) == 0)
			return true;
	return false;
}

void kz_finding_cause(struct kz_finding *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(f->cause, sizeof(f->cause), fmt, ap);
	va_end(ap);
}

void kz_finding_remedy(struct kz_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (f->nremedy >= KZ_FINDING_REMEDY_MAX)
		return;
	va_start(ap, fmt);
	vset(f->remedy[f->nremedy], sizeof(f->remedy[0]), fmt, ap);
	va_end(ap);
	f->nremedy++;
}

static const char *sev_tag(enum kz_sev s)
{
	switch (s) {
	case KZ_SEV_OK:
		return "OK";
	case KZ_SEV_NA:
		return "--";
	case KZ_SEV_WARN:
		return "WARN";
	default:
		return "NG";
	}
}

void kz_finding_format(const struct kz_finding *f, const char *prefix, struct strbuf *out)
{
	if (!prefix)
		prefix = "";
	sb_printf(out, "%s[%s] ", prefix, sev_tag(f->severity));
	if (f->id[0])
		sb_printf(out, "%s ", f->id);
	sb_printf(out, "%s\n", f->text);
	/* A warning is one line by definition (config-language.md). */
	if (f->severity == KZ_SEV_WARN)
		return;
	if (f->cause[0])
		sb_printf(out, "    cause: %s\n", f->cause);
	if (f->nremedy) {
		sb_puts(out, "    remedy:\n");
		for (unsigned i = 0; i < f->nremedy; i++)
			sb_printf(out, "      %s\n", f->remedy[i]);
	}
}

void kz_check_show_line(const struct kz_finding *f, struct strbuf *out)
{
	sb_printf(out, "%s : %s\n", f->profile, f->text);
}

/* ---- names of defined objects, for causes and remedies ----------------- */

/* Every named object keeps its name as the first member, so one walker
 * serves all kinds. */
_Static_assert(offsetof(struct kz_ike_proposal, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ike_policy, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ipsec_proposal, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ipsec_policy, name) == 0, "name first");
_Static_assert(offsetof(struct kz_ipsec_profile, name) == 0, "name first");

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
		set(out, len, "; no %s is defined", kind);
		return;
	}
	set(out, len, "; defined: ");
	for (size_t i = 0; i < l->n; i++) {
		off = strlen(out);
		if (i == 4) {
			set(out + off, len - off, "...");
			break;
		}
		set(out + off, len - off, "%s%s", i ? ", " : "", name_at(l, i));
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
	vset(f->text, sizeof(f->text), fmt, ap);
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
		kz_finding_cause(f, "ipsec profile %s has no source-interface, so IKE has no "
				 "address to send from", p->name);
		kz_finding_remedy(f, "ipsec profile %s", p->name);
		kz_finding_remedy(f, "source-interface %s", KZ_MOBILE_IFNAME);
		return true;
	}
	if (!m->present || !m->device[0]) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f, "%s has no device: the config does not say which Linux "
				 "network device is the mobile WAN",
				 m->present ? "interface " KZ_MOBILE_IFNAME :
					      "no interface " KZ_MOBILE_IFNAME " is configured, so it");
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
		kz_finding_cause(f, "interface %s is shut down (administratively down), so it "
				 "has no address", KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "interface %s", KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "no shutdown");
		return true;
	}
	if (!env->mobile_up) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f, "%s (device %s) is down: %s", KZ_MOBILE_IFNAME, m->device,
				 m->shutdown ? "it is shut down in the config" :
					       "it was set down outside kizuna");
		/* `no shutdown` sets the device up again when typed, even when
		 * the config already says so. */
		kz_finding_remedy(f, "interface %s", KZ_MOBILE_IFNAME);
		kz_finding_remedy(f, "no shutdown");
		return true;
	}
	if (!env->mobile_has_addr) {
		ng(f, "A4.1", A41_TEXT);
		kz_finding_cause(f, "%s (device %s) is up but has no IPv4 address: no SIM, no "
				 "radio coverage, or the carrier has not assigned one yet; check "
				 "the SIM and the signal", KZ_MOBILE_IFNAME, m->device);
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
		kz_finding_cause(f, "no IPsec interface is defined, so ipsec profile %s has no "
				 "interface to carry its traffic", p->name);
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
			kz_finding_cause(f, "interface IPsec%u, which maps ipsec profile %s, is "
					 "down: %s", ifc->unit, p->name,
					 ifc->shutdown ? "it is shut down in the config" :
							 "its device was set down outside kizuna");
		else
			kz_finding_cause(f, "interface IPsec%u, which maps ipsec profile %s, is "
					 "shut down (an IPsec interface stays down until `no "
					 "shutdown`)", ifc->unit, p->name);
		kz_finding_remedy(f, "interface IPsec%u", ifc->unit);
		kz_finding_remedy(f, "no shutdown");
		return true;
	}
	u = free_ipsec_unit(c, &exists);
	ng(f, "A4.3", "no mapped [%s]", p->name);
	if (exists)
		kz_finding_cause(f, "no IPsec interface maps ipsec profile %s (interface "
				 "IPsec%u maps nothing)", p->name, u);
	else
		kz_finding_cause(f, "no IPsec interface maps ipsec profile %s (each defined "
				 "one maps another profile)", p->name);
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
	set(what, sizeof(what), "%s policy", k->word);
	names_defined(l, what, defd, sizeof(defd));
	if (!wanted[0])
		kz_finding_cause(f, "ipsec profile %s names no %s policy (it has no `%s policy` "
				 "line)%s", p->name, k->label, k->word, defd);
	else
		kz_finding_cause(f, "ipsec profile %s names %s policy %s, which is not "
				 "defined%s", p->name, k->label, wanted, defd);
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
	set(what, sizeof(what), "%s proposal", k->word);
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
		set(line, sizeof(line), "proposal");
		for (unsigned j = 0; j < nkeep; j++) {
			off = strlen(line);
			set(line + off, sizeof(line) - off, " %s", keep[j]);
		}
	} else {
		set(line, sizeof(line), "proposal <%s proposal name>", k->label);
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

/* ---- pre-shared key strength -------------------------------------------- */

/* log2 without libm: the integer part by halving, the fraction bit by bit
 * by squaring (enough precision for an estimate). */
static double log2_of(double x)
{
	double r = 0, bit = 0.5;

	if (x <= 0)
		return 0;
	while (x >= 2) {
		x /= 2;
		r += 1;
	}
	while (x < 1) {
		x *= 2;
		r -= 1;
	}
	for (int i = 0; i < 40; i++) {
		x *= x;
		if (x >= 2) {
			x /= 2;
			r += bit;
		}
		bit /= 2;
	}
	return r;
}

#define WORDLIST_BITS 12.925 /* log2(7776), a diceware list */

unsigned kz_psk_bits(const struct kz_psk *psk)
{
	bool lower = false, upper = false, digit = false, other = false;
	unsigned words = 0, alpha = 0;
	bool phrase = true, inword = false;
	double bits;

	if (!psk || !psk->set || !psk->len)
		return 0;
	if (psk->hex)
		return (unsigned)(8 * psk->len);
	for (size_t i = 0; i < psk->len; i++) {
		uint8_t ch = psk->key[i];

		if (ch >= 'a' && ch <= 'z')
			lower = true;
		else if (ch >= 'A' && ch <= 'Z')
			upper = true;
		else if (ch >= '0' && ch <= '9')
			digit = true;
		else
			other = true;
		/* A passphrase: words of letters separated by single spaces. */
		if (ch == ' ') {
			if (!inword)
				phrase = false;
			inword = false;
		} else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
			if (!inword)
				words++;
			inword = true;
		} else {
			phrase = false;
		}
	}
	if (!inword)
		phrase = false;
	alpha = 26 * lower + 26 * upper + 10 * digit + 33 * other;
	bits = (double)psk->len * log2_of(alpha);
	if (phrase && words >= 2 && words * WORDLIST_BITS < bits)
		bits = words * WORDLIST_BITS;
	return (unsigned)(bits + 0.5);
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
			set(t, sizeof(t), "under a second");
		else if (s < 1.5)
			set(t, sizeof(t), "~1 second");
		else if (s < 120)
			set(t, sizeof(t), "~%.0f seconds", s);
		else if (s < 2 * 3600)
			set(t, sizeof(t), "~%.0f minutes", s / 60);
		else if (s < 2 * 86400)
			set(t, sizeof(t), "~%.0f hours", s / 3600);
		else if (s < 2 * SEC_PER_YEAR)
			set(t, sizeof(t), "~%.0f days", s / 86400);
		else if (s < 1e4 * SEC_PER_YEAR)
			set(t, sizeof(t), "~%.0f years", s / SEC_PER_YEAR);
		else {
			double y = s / SEC_PER_YEAR;
			int e = 0;

			while (y >= 10) {
				y /= 10;
				e++;
			}
			set(t, sizeof(t), "~10^%d years", e + (y >= 3.16));
		}
	} else {
		/* log10 of the years, without overflowing a double. */
		double e = (bits - 1) * 0.30102999566 - GUESS_RATE_LOG10 - 7.4991;

		set(t, sizeof(t), "~10^%d years", (int)(e + 0.5));
	}
	set(out, len, "~%u bits, crackable offline in %s at 10^%d guesses/s", bits, t,
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
	vset(f->text, sizeof(f->text), fmt, ap);
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
	kz_finding_cause(f, "ipsec profile %s is `peer any` and its ike policy %s uses main "
			 "mode: in main mode with a pre-shared key the responder picks the key "
			 "by the initiator's address, so that address must be fixed and "
			 "configured (or use aggressive mode)", p->name, ike->name);
	kz_finding_remedy(f, "ipsec profile %s", p->name);
	kz_finding_remedy(f, "peer <the other site's fixed global address>");
	return 0;
}

static int lint_peer(const struct kz_ipsec_profile *p, const struct kz_ike_policy *ike,
		     struct kz_findings *out)
{
	char a[INET_ADDRSTRLEN];
	enum kz_addr_class k;

	if (p->peer_type == KZ_PEER_UNSET)
		return warn(out, p->name, "ipsec profile %s: no peer: the profile neither "
			    "initiates nor answers", p->name);
	if (p->peer_type != KZ_PEER_ADDR)
		return 0;
	k = kz_addr_classify(p->peer_addr);
	if (k == KZ_ADDR_GLOBAL)
		return 0;
	inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a));
	return warn(out, p->name, "ipsec profile %s: peer %s is a %s address: the responder "
		    "is reachable only inside a closed carrier network, not over the "
		    "internet%s", p->name, a,
		    k == KZ_ADDR_SHARED ? "shared (carrier-grade NAT)" : "private",
		    !ike ? "" : ike->mode == KZ_MODE_MAIN ? " (M1.1)" : " (A6.1)");
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
	return warn(out, p->name, "ipsec profile %s: retry max %u: retries every %u s can "
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
	if (ike->mode == KZ_MODE_AGGRESSIVE && ike->psk.set) {
		unsigned bits = kz_psk_bits(&ike->psk);

		kz_psk_strength_text(bits, st, sizeof(st));
		rc = warn(out, p->name, "ike policy %s: aggressive mode with a pre-shared key: "
			  "%s%s", ike->name, st,
			  bits < 80 ? "; use a longer random key (80 bits or more)" : "");
		if (rc)
			return rc;
	}
	if (!ike->psk.set) {
		rc = warn(out, p->name, "ike policy %s: no pre-shared-key: IKE cannot "
			  "authenticate the peer", ike->name);
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
		    (rc = warn(out, p->name, "ike proposal %s: hash md5 is weak (collisions "
			       "are practical)", pr->name)))
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
		    (rc = warn(out, p->name, "ipsec proposal %s: encryption null: traffic is "
			       "not encrypted", pr->name)))
			return rc;
		if ((why = weak_enc(pr->enc)) &&
		    (rc = warn(out, p->name, "ipsec proposal %s: encryption %s is weak (%s)",
			       pr->name, kz_enc_name(pr->enc), why)))
			return rc;
		if (pr->auth == KZ_AUTH_HMAC_MD5 &&
		    (rc = warn(out, p->name, "ipsec proposal %s: authentication hmac-md5 is "
			       "weak (MD5 is deprecated; kept for old peers only)", pr->name)))
			return rc;
	}
	return 0;
}

static int lint_route(const struct kz_config *c, const struct kz_ipsec_profile *p,
		      const struct kz_ipsec_policy *pol, struct kz_findings *out)
{
	const struct kz_if_ipsec *ifc = kz_find_if_mapping(c, p->name);
	char pfx[32];

	if (!ifc || !pol || !pol->remote_ts.set || routed_into(c, &pol->remote_ts, ifc->unit))
		return 0;
	kz_prefix_str(&pol->remote_ts, pfx, sizeof(pfx));
	return warn(out, p->name, "ipsec profile %s: no ip route to %s through IPsec%u: traffic "
		    "for the remote network does not enter the tunnel (A8.1)", p->name, pfx,
		    ifc->unit);
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
	if ((rc = lint_m12(p, ike, out)) || (rc = lint_peer(p, ike, out)) ||
	    (rc = lint_retry(p, out)) || (rc = lint_ike(c, p, ike, out)) || (rc = lint_ipsec(c, p, pol, out)) ||
	    (rc = lint_route(c, p, pol, out)))
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
		if (!used && (rc = warn(out, "", "ike proposal %s is not used by any ike policy",
					nm)))
			return rc;
	}
	for (size_t i = 0; i < c->ike_policies.n; i++) {
		const char *nm = c->ike_policies.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->profiles.n && !used; j++)
			used = strcmp(c->profiles.v[j].ike_policy, nm) == 0;
		if (!used && (rc = warn(out, "", "ike policy %s is not used by any ipsec profile",
					nm)))
			return rc;
	}
	for (size_t i = 0; i < c->ipsec_proposals.n; i++) {
		const char *nm = c->ipsec_proposals.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->ipsec_policies.n && !used; j++)
			used = named_in(c->ipsec_policies.v[j].proposals,
					c->ipsec_policies.v[j].nproposals, nm);
		if (!used && (rc = warn(out, "", "ipsec proposal %s is not used by any ipsec "
					"policy", nm)))
			return rc;
	}
	for (size_t i = 0; i < c->ipsec_policies.n; i++) {
		const char *nm = c->ipsec_policies.v[i].name;
		bool used = false;

		for (size_t j = 0; j < c->profiles.n && !used; j++)
			used = strcmp(c->profiles.v[j].ipsec_policy, nm) == 0;
		if (!used && (rc = warn(out, "", "ipsec policy %s is not used by any ipsec "
					"profile", nm)))
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
		set(list + off, sizeof(list) - off, "%s%s", k ? ", " : "", p->name);
		k++;
	}
	if (k < 2)
		return 0;
	return warn(out, "", "ipsec profiles %s: peer any without an ike remote-id: such a "
		    "profile accepts any identity only when it is the only one; give each a "
		    "remote-id", list);
}

int kz_check_config_lint(const struct kz_config *c, struct kz_findings *out)
{
	struct kz_findings tmp;
	int rc = 0;

	if (!c || !out)
		return KZ_EINVAL;
	if (!c->profiles.n && (rc = warn(out, "", "no ipsec profile is defined: nothing to "
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
	for (size_t i = 0; i < c->ipsec_ifs.n; i++) {
		const struct kz_if_ipsec *ifc = &c->ipsec_ifs.v[i];

		if (ifc->map[0] && !kz_find_profile(c, ifc->map) &&
		    (rc = warn(out, "", "interface IPsec%u: ipsec map %s, but ipsec profile %s is "
			       "not defined", ifc->unit, ifc->map, ifc->map)))
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
