/* check_int.h - what the config check files share and nobody else uses. */
#ifndef KZ_CHECK_INT_H
#define KZ_CHECK_INT_H

#include <stdarg.h>
#include <stddef.h>

/* snprintf into a fixed field, so long names are cut at the field size
 * instead of each call site proving it fits; "" if formatting fails. */
void kz_check_vset(char *dst, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void kz_check_set(char *dst, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The usual pair of remedy lines: the configuration mode to enter
 * (formatted, "ike policy %s"), then the one line to enter there. */
struct kz_finding;
void kz_finding_remedy_in(struct kz_finding *f, const char *line, const char *mode_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Cross-site checks (check_pair.c, check_offer.c). */
#include <stdbool.h>

#include "config/check.h"

enum role { ROLE_NONE, ROLE_INIT, ROLE_RESP };

/* One side of a pair. */
struct side {
	const struct kz_site *site;
	enum kz_side which;
	const struct kz_ipsec_profile *p;
	const struct kz_ike_policy *ike;
	const struct kz_ipsec_policy *pol;
	enum role role;
};

/* A finding against side s: "what [profile]". */
struct kz_finding *kz_check_add(struct kz_findings *out, enum kz_sev sev, const char *id,
				const struct side *s, const char *what);
/* kz_check_add() with the finding's cause; NULL when out of memory. */
struct kz_finding *kz_check_addc(struct kz_findings *out, enum kz_sev sev, const char *id,
				 const struct side *s, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* b's selectors are a's with local and remote swapped. */
bool kz_check_mirrored(const struct kz_ipsec_policy *a, const struct kz_ipsec_policy *b);
/* A prefix as written in the config, "(not set)" when it is not. */
void kz_check_prefix_words(const struct kz_prefix *p, char *out, size_t len);

/* The checks of what the sites offer each other (check_offer.c): t is the
 * side told to change, o the other, l and p local and peer. */
int kz_check_selectors(const struct side *t, const struct side *o, const struct side *l,
		       const struct side *p, struct kz_findings *out);
int kz_check_ike_props(const struct side *t, const struct side *o, const struct side *l,
		       const struct side *p, struct kz_findings *out);
int kz_check_esp_props(const struct side *t, const struct side *o, const struct side *l,
		       const struct side *p, struct kz_findings *out);
int kz_check_pfs(const struct side *t, const struct side *o, struct kz_findings *out);

#endif
