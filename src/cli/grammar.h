/* grammar.h - grammar strings compiled into small NFAs (grammar.c), which
 * the engine (engine.c) runs the words of a line through. */
#ifndef KZ_CLI_GRAMMAR_H
#define KZ_CLI_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli_int.h"

#define NFA_MAX 160
#define NFA_OUT 12

enum { S_EPS, S_LIT, S_VAR, S_MATCH };

struct nstate {
	uint8_t type;
	uint8_t nout;
	int16_t out[NFA_OUT];
	const char *text; /* keyword or VAR name, in the grammar string */
	size_t len;
	const struct cli_vartype *vt;
	long long lo, hi;
};

struct nfa {
	struct nstate st[NFA_MAX];
	int nst;
	int start;
};

/* Compiles one grammar string (syntax in cli.h); 0, or -1 when it is not
 * valid or too large. */
int nfa_build(struct nfa *n, const char *grammar);

#endif
