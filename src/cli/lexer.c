/* lexer.c - see lexer.h. */
#include "cli/lexer.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "cli/cli.h"

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

int cli_lex(const char *line, size_t len, struct cli_words *out, size_t *err_col, char *err,
	    size_t errlen)
{
	struct buf b;
	size_t store = 0;
	uint8_t c;

	memset(out, 0, offsetof(struct cli_words, store));
	if (len > CLI_MAX_LINE) {
		*err_col = CLI_MAX_LINE + 1;
		snprintf(err, errlen, "line too long (%zu characters, at most %u)", len,
			 CLI_MAX_LINE);
		return KZ_ESYNTAX;
	}
	buf_init(&b, line, len);
	/* Reject what is not text before anything else looks at it. */
	for (size_t i = 0; i < len; i++) {
		c = (uint8_t)line[i];
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
			*err_col = i + 1;
			snprintf(err, errlen, "invalid character 0x%02x", c);
			return KZ_ESYNTAX;
		}
	}
	for (;;) {
		struct cli_word *w;
		size_t start;
		bool quoted = false;

		while (buf_peek_u8(&b, 0, &c) == 0 && (is_blank(c) || c == '\r'))
			if (buf_skip(&b, 1) < 0)
				break;
		if (buf_left(&b) == 0)
			break;
		start = b.off;
		if (out->n == 0 && (c == '!' || c == '#')) {
			out->comment = true;
			out->bang = (c == '!');
			return 0;
		}
		if (out->n == CLI_MAX_WORDS) {
			*err_col = start + 1;
			snprintf(err, errlen, "too many words (at most %d)", CLI_MAX_WORDS);
			return KZ_ESYNTAX;
		}
		w = &out->w[out->n];
		w->text = out->store + store;
		w->col = start + 1;
		if (c == '"') {
			quoted = true;
			if (buf_skip(&b, 1) < 0)
				break;
		}
		for (;;) {
			if (buf_get_u8(&b, &c) < 0) {
				if (quoted) {
					*err_col = start + 1;
					snprintf(err, errlen, "unterminated quote");
					return KZ_ESYNTAX;
				}
				break;
			}
			if (quoted && c == '"') {
				uint8_t nx;

				if (buf_peek_u8(&b, 0, &nx) == 0 && !is_blank(nx) && nx != '\r') {
					*err_col = b.off + 1;
					snprintf(err, errlen,
						 "a blank must follow a closing quote");
					return KZ_ESYNTAX;
				}
				break;
			}
			if (!quoted && (is_blank(c) || c == '\r')) {
				break;
			}
			if (quoted && c == '\\') {
				uint8_t e;

				if (buf_get_u8(&b, &e) < 0 || (e != '"' && e != '\\')) {
					*err_col = b.off;
					snprintf(err, errlen,
						 "bad escape in quotes (only \\\" and \\\\)");
					return KZ_ESYNTAX;
				}
				c = e;
			} else if (!quoted && c == '"') {
				*err_col = b.off;
				snprintf(err, errlen, "quote inside a word");
				return KZ_ESYNTAX;
			}
			if (out->store + store - w->text >= CLI_MAX_WORD - 1) {
				*err_col = start + 1;
				snprintf(err, errlen, "word too long (at most %d characters)",
					 CLI_MAX_WORD - 1);
				return KZ_ESYNTAX;
			}
			out->store[store++] = (char)c;
		}
		out->store[store++] = '\0';
		w->quoted = quoted;
		out->n++;
	}
	out->trailing_sp = len > 0 && is_blank((uint8_t)line[len - 1]);
	return 0;
}
