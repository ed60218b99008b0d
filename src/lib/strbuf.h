/* strbuf.h - growable text buffer for command output and rendering.
 *
 * Bounded: past KZ_STRBUF_MAX the buffer stops growing and marks itself
 * truncated rather than failing allocation mid-output. */
#ifndef KZ_STRBUF_H
#define KZ_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#define KZ_STRBUF_MAX (16u << 20)

struct strbuf {
	char *s;
	size_t len;
	size_t cap;
	int truncated;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void sb_puts(struct strbuf *sb, const char *s);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
/* Never NULL: "" for an empty buffer. */
const char *sb_str(const struct strbuf *sb);

#endif
