/* lexer.h - splits one console or config line into words.
 *
 * Words are separated by blanks; "..." quotes a word (\" and \\ escape
 * inside).  A line whose first word starts with `!` or `#` is a comment.
 * Every word keeps its 1-based column so errors can point at it.
 * kz_put_word() (config/render.h) writes a word so that this reads it back. */
#ifndef KZ_CLI_LEXER_H
#define KZ_CLI_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_MAX_WORDS 64
#define CLI_MAX_WORD 1024

struct cli_word {
	char *text; /* unquoted, NUL-terminated */
	size_t col; /* 1-based column of the first character */
	bool quoted;
};

struct cli_words {
	struct cli_word w[CLI_MAX_WORDS];
	size_t n;
	bool comment;     /* the line is a comment (`!` or `#`) */
	bool bang;        /* ... and it is a `!` (ends a block in files) */
	bool trailing_sp; /* the line ends in a blank (completion: new word) */
	char store[4096 + CLI_MAX_WORDS];
};

/* Returns 0, or KZ_ESYNTAX with *err_col and err (at least 128 bytes). */
int cli_lex(const char *line, size_t len, struct cli_words *out, size_t *err_col, char *err,
	    size_t errlen);

#endif
