/* match.h - the grammar engine's internals shared by matching and
 * execution (engine.c) and error explanation, completion and help
 * (help.c); nobody else uses them. */
#ifndef KZ_CLI_MATCH_H
#define KZ_CLI_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli_int.h"
#include "cli/grammar.h"

/* All commands, compiled once. */
struct ccmd {
	const struct cli_cmd *cmd;
	struct nfa nfa;
};

struct msim {
	uint8_t in[CLI_MAX_WORDS + 1][NFA_MAX];
	int16_t from[CLI_MAX_WORDS + 1][NFA_MAX];
};

struct mresult {
	bool full;       /* the whole line matched */
	size_t reached;  /* words consumed before failing */
	int abbrevs;     /* keywords given as prefixes on the path */
	const char *why; /* a VAR's reason for rejecting the failing word */
	const struct nstate *why_st;
	bool ambiguous; /* the failing word was an ambiguous prefix */
};

/* One pass of matching over the commands of a node. */
struct nodematch {
	const struct ccmd *best; /* full match */
	int best_abbrevs;
	int nbest;      /* full matches with best_abbrevs */
	size_t reached; /* furthest position of the failures */
	const char *why;
	const struct nstate *why_st;
	bool ambiguous;
	struct cli_args args;
};


/* The compiled commands (engine.c); cli_compile() before use. */
extern struct ccmd *cli_compiled;
extern size_t cli_ncompiled;
void cli_compile(void);

/* Keyword st is word / word abbreviates st. */
bool cli_lit_eq(const struct nstate *st, const char *w);
bool cli_lit_prefix(const struct nstate *st, const char *w);
/* Runs words[0..nw) through one NFA. */
void cli_nfa_run(const struct nfa *n, const struct cli_words *w, size_t nw, bool abbrev,
		 struct msim *m, struct mresult *r);
bool cli_cmd_visible(const struct cli_session *s, const struct ccmd *c, enum cli_node node);
/* The nodes a line is looked for in, innermost first; how many. */
int cli_node_chain(const struct cli_session *s, bool run, enum cli_node *v);

/* Fills err for a line no command of node matched (help.c). */
void cli_explain(const struct cli_session *s, enum cli_node node, const struct cli_words *w,
		 const struct nodematch *nm, struct msim *m, struct cli_error *err);
/* An abbreviation that stands for keywords of different commands: err
 * filled and true; false when no word is. */
bool cli_explain_ambiguous(const struct cli_session *s, enum cli_node node,
			   const struct cli_words *w, struct msim *m, const char *line,
			   struct cli_error *err);

#endif
