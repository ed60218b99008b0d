/* strbuf.c - see strbuf.h. */
#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void sb_free(struct strbuf *sb)
{
	if (sb->s)
		explicit_bzero(sb->s, sb->cap); /* it may have held keys */
	free(sb->s);
	sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->truncated = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

static int sb_grow(struct strbuf *sb, size_t need)
{
	size_t cap;
	char *p;

	if (need < sb->cap)
		return 0;
	if (need >= KZ_STRBUF_MAX) {
		sb->truncated = 1;
		return -1;
	}
	cap = sb->cap ? sb->cap : 256;
	while (cap <= need)
		cap *= 2;
	if (cap > KZ_STRBUF_MAX)
		cap = KZ_STRBUF_MAX;
	/* Not realloc: the old block may hold the running config's keys
	 * and is wiped before it goes back. */
	p = malloc(cap);
	if (!p) {
		sb->truncated = 1;
		return -1;
	}
	if (sb->s) {
		memcpy(p, sb->s, sb->len + 1);
		explicit_bzero(sb->s, sb->cap);
		free(sb->s);
	}
	sb->s = p;
	sb->cap = cap;
	return 0;
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->truncated || sb_grow(sb, sb->len + n + 1) < 0)
		return;
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (sb->truncated)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || sb_grow(sb, sb->len + (size_t)n + 1) < 0)
		return;
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->s ? sb->s : "";
}
