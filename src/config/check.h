/* check.h - the config check: A4 per profile, weak-choice warnings, and the
 * cross-site checks that two configs (this site's and the peer's) decide.
 *
 * Everything here is a pure function of config models (and, for A4, of a
 * small description of live interface state), so `show ipsec profile`,
 * `diagnose ipsec`, the log and `kizuna check` all say the same thing and
 * every result is unit-testable.  Check ids, result texts and remedies are
 * the ones of shared/spec/troubleshooting.md:
 *
 *   A4.1..A4.7  the config check of one profile; the first failing item
 *               in table order, or "config check ok" (check.c)
 *   M1.2        `peer any` with main mode (check_lint.c, from one config)
 *   A1.1 A5.1 A5.2 A5.3 A5.4 A5.5 A7.1
 *               two configs compared (check_pair.c); aggressive-only items
 *               run only when the pair negotiates aggressive mode
 *   [WARN]      weak or doubtful choices and the PSK estimate (check_lint.c)
 *
 * The list of findings all of them produce is findings.c.
 *
 * A finding carries the id, a one-line result text, a cause sentence and
 * the remedy as the exact commands to type (a block command first, then its
 * sub-commands).  Secrets never appear in any text: where a key would be
 * needed the remedy holds a placeholder such as `<the key the peer uses>`. */
#ifndef KZ_CHECK_H
#define KZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"
#include "config/model.h"

/* Printed as [OK], [--], [WARN], [NG]. */
enum kz_sev {
	KZ_SEV_OK,   /* the check passed */
	KZ_SEV_NA,   /* not applicable or not judgeable; the cause says why */
	KZ_SEV_WARN, /* a weak or doubtful choice; works, not a problem */
	KZ_SEV_NG    /* a problem: the tunnel cannot come up as configured */
};

/* Which of two configs a cross-site finding is reported against: the side
 * whose config should change.  Findings from one config use KZ_SIDE_LOCAL. */
enum kz_side { KZ_SIDE_LOCAL, KZ_SIDE_PEER };

#define KZ_FINDING_ID_MAX 8
#define KZ_FINDING_TEXT_MAX 256
#define KZ_FINDING_CAUSE_MAX 640
#define KZ_FINDING_REMEDY_MAX 8
#define KZ_FINDING_LINE_MAX 160

struct kz_finding {
	char id[KZ_FINDING_ID_MAX]; /* "A4.3"; "A4" with KZ_SEV_OK; "" for warnings */
	enum kz_sev severity;
	enum kz_side side;
	char profile[KZ_NAME_MAX];        /* profile concerned ("" config-wide) */
	char text[KZ_FINDING_TEXT_MAX];   /* result text, one line */
	char cause[KZ_FINDING_CAUSE_MAX]; /* "" when the text says it all */
	char remedy[KZ_FINDING_REMEDY_MAX][KZ_FINDING_LINE_MAX]; /* commands */
	unsigned nremedy;
};

/* A growable list of findings in the order they were found. */
struct kz_findings {
	struct kz_finding *v;
	size_t n;
	size_t cap;
};

void kz_findings_init(struct kz_findings *fs);
void kz_findings_free(struct kz_findings *fs);
/* Appends a zeroed finding with severity, id, side LOCAL, profile ("" or
 * NULL for none) and text set; NULL on ENOMEM. */
struct kz_finding *kz_findings_add(struct kz_findings *fs, enum kz_sev sev, const char *id,
				   const char *profile, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Appends a copy of *f; NULL on ENOMEM. */
struct kz_finding *kz_findings_push(struct kz_findings *fs, const struct kz_finding *f);
/* How many findings have severity sev. */
size_t kz_findings_count(const struct kz_findings *fs, enum kz_sev sev);
/* The text of a finding is unique in fs (used to report a shared object
 * once, not once per profile that uses it). */
bool kz_findings_has_text(const struct kz_findings *fs, const char *text);

/* Sets the cause / appends one remedy line (silently truncated at the
 * field size; a ninth remedy line is dropped). */
void kz_finding_cause(struct kz_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kz_finding_remedy(struct kz_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- A4: the config check of one profile ---------------------------- */

/* Interface state the check judges by: live state from the daemon, or, for
 * `kizuna check`, what the config alone implies. */
struct kz_check_env {
	bool live;            /* false: offline, judge from the config */
	bool mobile_up;       /* live: MobileEthernet0.0's device is up */
	bool mobile_has_addr; /* live: and has an IPv4 address */
	/* Live state of IPsec<unit>'s TUN device; NULL: judge from the config. */
	bool (*ipsec_if_up)(unsigned unit, void *arg);
	void *arg;
};

/* An offline environment (all fields cleared). */
void kz_check_env_offline(struct kz_check_env *env);

/* Runs A4.1..A4.7 for profile p of config c and fills *out with the first
 * failing item (severity NG, id "A4.<n>", the exact result text, cause and
 * remedy) or with severity OK, id "A4" and text "config check ok".
 *
 * Offline, MobileEthernet0.0 is usable when the config has an `interface
 * MobileEthernet0.0` block with a `device` and no `shutdown`, and IPsec<N>
 * is up when it is not `shutdown`.  Live, the mobile interface is usable
 * when its device is up and has an address, and IPsec<N> follows
 * env->ipsec_if_up when given.  A4.1 also fires when the profile has no
 * `source-interface`; A4.2 also when no IPsec interface exists at all
 * (`[IPsec0]`).  Returns 0, or KZ_EINVAL for NULL arguments. */
int kz_check_profile(const struct kz_config *c, const struct kz_ipsec_profile *p,
		     const struct kz_check_env *env, struct kz_finding *out);

/* The tail line of `show ipsec profile`: "<profile> : <text>\n". */
void kz_check_show_line(const struct kz_finding *f, struct strbuf *out);

/* A finding as a block, each line starting with prefix ("" or "file: "):
 *   <prefix>[NG] A4.3 no mapped [HQ]        (result, id, text)
 *       cause: ...                          (when there is a cause)
 *       remedy:                             (when there are commands)
 *         interface IPsec0
 *   <prefix>[WARN] <text>                   (warnings: one line, no id)
 * Results print as OK, --, WARN, NG; an empty id is left out. */
void kz_finding_format(const struct kz_finding *f, const char *prefix, struct strbuf *out);

/* ---- Warnings and the checks one config decides beyond A4 ------------- */

/* Findings for profile p and the objects it uses, in this order: M1.2
 * (NG, `peer any` with main mode), then warnings (WARN, id ""): no peer,
 * peer address private or shared, aggressive mode with a pre-shared key
 * (with the key's estimated strength), no pre-shared key, weak IKE
 * encryption/hash/group, weak ESP encryption/authentication, weak PFS
 * group, no route to the remote network through the mapped interface.
 * Objects that do not exist are skipped (A4 reports them).  Returns 0 or
 * KZ_ENOMEM. */
int kz_check_profile_lint(const struct kz_config *c, const struct kz_ipsec_profile *p,
			  struct kz_findings *out);

/* kz_check_profile_lint() for every profile, each warning reported once
 * even when several profiles share the object, then config-wide warnings:
 * no profile at all, several `peer any` profiles without a remote-id,
 * interfaces mapping a profile that does not exist, objects no one uses.
 * Returns 0 or KZ_ENOMEM. */
int kz_check_config_lint(const struct kz_config *c, struct kz_findings *out);

/* Pre-shared key strength against offline guessing (aggressive mode sends
 * a hash keyed by the PSK in the clear).  A rough estimate: a hex key
 * counts 8 bits a byte; an ascii key counts its length times log2 of the
 * character classes it uses, and a passphrase of two or more words of
 * letters counts 12.9 bits per word (a word list of 7776).  0 when unset. */
unsigned kz_psk_bits(const struct kz_psk *psk);
/* "~52 bits, crackable offline in ~3 days at 10^10 guesses/s" (the time to
 * search half the key space). */
void kz_psk_strength_text(unsigned bits, char *out, size_t len);

/* ---- Cross-site checks: two configs ----------------------------------- */

struct kz_site {
	const struct kz_config *cfg;
	const char *name; /* how texts name the config, e.g. its file name */
};

/* One profile of each config that talk to each other; one of the two is
 * NULL for a profile left without a counterpart. */
struct kz_pairing {
	const struct kz_ipsec_profile *local;
	const struct kz_ipsec_profile *peer;
};

/* Pairs the profiles of local with those of peer.  When each config has
 * exactly one profile they are paired; otherwise each local profile (in
 * order) takes the unpaired peer profile with the mirrored IPsec policy ids,
 * failing that the one whose IKE ids match (the initiator's local-id is the
 * responder's remote-id), failing that the only one with a complementary
 * role; ties go to complementary roles, then definition order.  out gets
 * the pairs in local order, then the peer profiles left over (local NULL);
 * max >= local profiles + peer profiles always suffices.  Returns 0 or
 * KZ_ENOSPC. */
int kz_check_pair_profiles(const struct kz_config *local, const struct kz_config *peer,
			   struct kz_pairing *out, size_t max, size_t *n);

/* Compares profile lp of local with profile pp of peer: A1.1 (both
 * `peer any`), exchange mode (A5.4), A5.2 and A5.1 (aggressive), A5.3,
 * proposals (A5.4, with notes on differing lifetimes), pfs (A5.4), A5.5,
 * A7.1 (aggressive).  Each finding names the side whose config should
 * change: the responder when roles are clear, the side missing a setting
 * when one side lacks it, else the local side (the cause names both
 * values so either side can be changed).  Parts that need an object A4
 * reports as missing are skipped.  Adds nothing when all is well.
 * Returns 0 or KZ_ENOMEM. */
int kz_check_cross(const struct kz_site *local, const struct kz_ipsec_profile *lp,
		   const struct kz_site *peer, const struct kz_ipsec_profile *pp,
		   struct kz_findings *out);

#endif
