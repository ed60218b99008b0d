/* findings.c - the list of findings the config checks produce, and the
 * one-line form `show ipsec profile`, `kizuna check` and the log print.
 *
 * Shared by the check of one profile (check.c), the warnings (check_lint.c)
 * and the cross-site checks (check_pair.c).  See check.h. */
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

void kz_check_vset(char *dst, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, len, fmt, ap);

	if (n < 0)
		dst[0] = '\0';
}

void kz_check_set(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kz_check_vset(dst, len, fmt, ap);
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
	kz_check_vset(f->text, sizeof(f->text), fmt, ap);
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
	kz_check_vset(f->cause, sizeof(f->cause), fmt, ap);
	va_end(ap);
}

static void finding_vremedy(struct kz_finding *f, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void finding_vremedy(struct kz_finding *f, const char *fmt, va_list ap)
{
	if (f->nremedy >= KZ_FINDING_REMEDY_MAX)
		return;
	kz_check_vset(f->remedy[f->nremedy], sizeof(f->remedy[0]), fmt, ap);
	f->nremedy++;
}

void kz_finding_remedy(struct kz_finding *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finding_vremedy(f, fmt, ap);
	va_end(ap);
}

void kz_finding_remedy_in(struct kz_finding *f, const char *line, const char *mode_fmt, ...)
{
	va_list ap;

	va_start(ap, mode_fmt);
	finding_vremedy(f, mode_fmt, ap);
	va_end(ap);
	kz_finding_remedy(f, "%s", line);
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
