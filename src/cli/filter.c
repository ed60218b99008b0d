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
#include <stdint.h>
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

/* glibc's regcomp expands repetitions by copying the repeated part: a+
 * becomes aa*, a{3} becomes aaa, and stacked or nested ones multiply, so
 * "a++++++++++++++++++++++++" (25 characters) takes minutes and
 * gigabytes, and the console runs in the daemon's one event loop: IKE
 * would stop meanwhile.  The size of the expansion is counted here first
 * (an upper bound, in regcomp's nodes) and a pattern above
 * FILTER_RE_MAX_NODES refused; regcomp then compiles one of at most that
 * many nodes in well under a second.  Back-references (\1..\9, which
 * glibc allows in extended expressions) are refused as well: matching
 * them can take exponential time on one line. */
#define FILTER_RE_MAX_NODES 2048

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
	return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* The end of a bracket expression starting at re[i] == '[' (the index of
 * its ']', or of the terminating NUL: regcomp reports that). */
static size_t bracket_end(const char *re, size_t i)
{
	i++;
	if (re[i] == '^')
		i++;
	if (re[i] == ']')
		i++;
	while (re[i] && re[i] != ']') {
		if (re[i] == '[' && (re[i + 1] == ':' || re[i + 1] == '.' || re[i + 1] == '=')) {
			char kind = re[i + 1];

			i += 2;
			while (re[i] && !(re[i] == kind && re[i + 1] == ']'))
				i++;
			if (re[i])
				i += 2;
			continue;
		}
		i++;
	}
	return i;
}

/* {m}, {m,} or {m,n} at re[i] == '{': the expansion's factor and the
 * index after '}'; 0 when it is not an interval (regcomp judges it). */
static size_t interval(const char *re, size_t i, size_t *after)
{
	unsigned long m = 0, n;
	bool comma = false, digits = false;

	for (i++; re[i] >= '0' && re[i] <= '9'; i++, digits = true)
		m = m > 100000 ? m : m * 10 + (unsigned long)(re[i] - '0');
	n = m;
	if (re[i] == ',') {
		comma = true;
		n = 0;
		for (i++; re[i] >= '0' && re[i] <= '9'; i++, digits = true)
			n = n > 100000 ? n : n * 10 + (unsigned long)(re[i] - '0');
	}
	if (re[i] != '}' || !digits)
		return 0;
	*after = i + 1;
	if (comma && n == 0) /* {m,}: m copies and a star */
		return m + 1;
	return (n > m ? n : m) + 1;
}

/* 0 or the reason to refuse re. */
static const char *re_too_costly(const char *re)
{
	size_t group[CLI_MAX_LINE / 2 + 2]; /* the size of each open group */
	size_t depth = 0, last = 0, i = 0;

	group[0] = 0;
	while (re[i]) {
		size_t after = 0, f;

		switch (re[i]) {
		case '(':
			if (depth + 1 >= sizeof(group) / sizeof(group[0]))
				return "too many nested groups";
			group[++depth] = 0;
			last = 0;
			i++;
			continue;
		case ')':
			if (depth) {
				last = sat_add(group[depth--], 1);
				group[depth] = sat_add(group[depth], last);
			} else { /* unmatched: a literal ')' */
				last = 1;
				group[depth] = sat_add(group[depth], 1);
			}
			i++;
			break;
		case '*':
		case '?':
			/* one node more around the last atom */
			group[depth] = sat_add(group[depth], 1);
			last = sat_add(last, 1);
			i++;
			break;
		case '+':
			/* a+ is aa*: the last atom once more */
			group[depth] = sat_add(sat_add(group[depth], last), 1);
			last = sat_add(sat_mul(last, 2), 1);
			i++;
			break;
		case '{':
			f = interval(re, i, &after);
			if (f) {
				size_t grown = sat_mul(last, f);

				group[depth] = sat_add(group[depth] - last, grown);
				last = grown;
				i = after;
				break;
			}
			last = 1; /* a literal '{' */
			group[depth] = sat_add(group[depth], 1);
			i++;
			break;
		case '\\':
			if (re[i + 1] >= '1' && re[i + 1] <= '9')
				return "back-references (\\1 to \\9) are not supported";
			last = 1;
			group[depth] = sat_add(group[depth], 1);
			i += re[i + 1] ? 2 : 1;
			break;
		case '[':
			i = bracket_end(re, i);
			if (re[i])
				i++;
			last = 1;
			group[depth] = sat_add(group[depth], 1);
			break;
		default: /* a character, '.', '^', '$', '|' */
			last = 1;
			group[depth] = sat_add(group[depth], 1);
			i++;
			break;
		}
		if (group[depth] > FILTER_RE_MAX_NODES) /* last is part of it */
			return "too complex (repetitions such as + and {n} multiply "
			       "what they repeat; simplify it)";
	}
	return NULL;
}

int cli_filter_parse(const char *spec, struct cli_filter *f, char *msg, size_t msglen)
{
	const char *p = spec, *word, *refused;
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
	refused = re_too_costly(re);
	if (refused) {
		snprintf(msg, msglen, "regular expression '%.100s' refused: %s", re, refused);
		return KZ_ESYNTAX;
	}
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
