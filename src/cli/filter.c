/* filter.c - output filters after an exec command, as on routers:
 *
 *   show ... | include RE     lines that match RE
 *   show ... | exclude RE     lines that do not
 *   show ... | begin RE       from the first line that matches on
 *   show ... | count [RE]     how many lines (that match RE)
 *
 * RE is a POSIX extended regular expression, the rest of the line (one
 * pair of surrounding quotes is removed).  The filter word may be
 * abbreviated to any prefix (inc, exc, beg, cou, even i).  The `|` must
 * stand as a word of its own, outside quotes, so a quoted key or id may
 * hold one.  Filters run in the daemon, on the text screen, so the
 * one-shot `kizuna show run '|' inc peer` filters too. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "cli/cli_int.h"

static const char *const filter_names[] = {
	[CLI_FILTER_INCLUDE] = "include",
	[CLI_FILTER_EXCLUDE] = "exclude",
	[CLI_FILTER_BEGIN] = "begin",
	[CLI_FILTER_COUNT] = "count",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

ssize_t cli_filter_find(const char *line)
{
	bool quoted = false;

	for (size_t i = 0; line[i]; i++) {
		if (line[i] == '\\' && quoted && line[i + 1]) {
			i++;
			continue;
		}
		if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && line[i] == '|' && i > 0 && is_blank(line[i - 1]) &&
			 (!line[i + 1] || is_blank(line[i + 1])))
			return (ssize_t)i;
	}
	return -1;
}

int cli_filter_parse(const char *spec, struct cli_filter *f, char *msg, size_t msglen)
{
	const char *p = spec, *word;
	size_t wlen, relen;
	char re[CLI_MAX_LINE + 1];
	int rc;

	memset(f, 0, sizeof(*f));
	while (is_blank(*p))
		p++;
	word = p;
	while (*p && !is_blank(*p))
		p++;
	wlen = (size_t)(p - word);
	f->kind = CLI_FILTER_NONE;
	for (int k = CLI_FILTER_INCLUDE; k <= CLI_FILTER_COUNT && wlen; k++)
		if (wlen <= strlen(filter_names[k]) && !strncasecmp(word, filter_names[k], wlen))
			f->kind = k;
	if (f->kind == CLI_FILTER_NONE) {
		snprintf(msg, msglen,
			 wlen ? "unknown output filter '%.*s'; expected one of: begin, count, "
				"exclude, include"
			      : "%.*soutput filter missing after '|'; expected one of: begin, "
				"count, exclude, include",
			 (int)(wlen > 100 ? 100 : wlen), word);
		return KZ_ESYNTAX;
	}
	while (is_blank(*p))
		p++;
	relen = strlen(p);
	while (relen && is_blank(p[relen - 1]))
		relen--;
	if (relen >= 2 && p[0] == '"' && p[relen - 1] == '"') {
		p++;
		relen -= 2;
	}
	if (relen > CLI_MAX_LINE)
		relen = CLI_MAX_LINE;
	memcpy(re, p, relen);
	re[relen] = '\0';
	if (!relen && f->kind != CLI_FILTER_COUNT) {
		snprintf(msg, msglen, "output filter '%s' needs a regular expression",
			 filter_names[f->kind]);
		return KZ_ESYNTAX;
	}
	if (!relen)
		return 0;
	rc = regcomp(&f->re, re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char why[128];

		regerror(rc, &f->re, why, sizeof(why));
		snprintf(msg, msglen, "invalid regular expression '%.100s': %s", re, why);
		return KZ_ESYNTAX;
	}
	f->has_re = true;
	return 0;
}

void cli_filter_free(struct cli_filter *f)
{
	if (f->has_re)
		regfree(&f->re);
	f->has_re = false;
}

void cli_filter_apply(const struct cli_filter *f, const char *text, size_t len, struct strbuf *out)
{
	bool begun = false;
	unsigned long n = 0;
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
		char *line = strndup(text + i, l);
		bool m;

		if (!line)
			break;
		m = !f->has_re || regexec(&f->re, line, 0, NULL, 0) == 0;
		switch (f->kind) {
		case CLI_FILTER_INCLUDE:
			if (m)
				sb_printf(out, "%s\n", line);
			break;
		case CLI_FILTER_EXCLUDE:
			if (!m)
				sb_printf(out, "%s\n", line);
			break;
		case CLI_FILTER_BEGIN:
			begun |= m;
			if (begun)
				sb_printf(out, "%s\n", line);
			break;
		case CLI_FILTER_COUNT:
			n += m;
			break;
		default:
			break;
		}
		free(line);
		i += l + (nl ? 1 : 0);
	}
	if (f->kind == CLI_FILTER_COUNT) {
		if (f->has_re)
			sb_printf(out, "Number of lines which match regexp = %lu\n", n);
		else
			sb_printf(out, "Number of lines = %lu\n", n);
	}
}
