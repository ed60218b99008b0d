/* grammar.c - see grammar.h.  A grammar string is parsed into a small AST,
 * then compiled backwards into an NFA whose states consume one word each
 * (a keyword or a VAR) or none (epsilon). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/grammar.h"

/* Grammar AST, parsed before compiling backwards into the NFA. */
enum { A_SEQ, A_ALT, A_OPT, A_WORD };
#define AST_MAX 128
#define AST_KIDS 16

struct ast {
	uint8_t type;
	bool repeat;
	const char *text;
	size_t len;
	int kids[AST_KIDS];
	int nkids;
};

struct gparser {
	const char *g;
	size_t pos;
	struct ast a[AST_MAX];
	int na;
	const char *err;
};

static int ast_new(struct gparser *p, int type)
{
	if (p->na == AST_MAX) {
		p->err = "grammar too large";
		return -1;
	}
	memset(&p->a[p->na], 0, sizeof(p->a[0]));
	p->a[p->na].type = (uint8_t)type;
	return p->na++;
}

static void ast_add(struct gparser *p, int parent, int kid)
{
	if (p->a[parent].nkids == AST_KIDS) {
		p->err = "too many items in a grammar group";
		return;
	}
	p->a[parent].kids[p->a[parent].nkids++] = kid;
}

static char gpeek(struct gparser *p)
{
	while (p->g[p->pos] == ' ')
		p->pos++;
	return p->g[p->pos];
}

static int parse_alt(struct gparser *p);

static int parse_seq(struct gparser *p)
{
	int seq = ast_new(p, A_SEQ);

	while (seq >= 0 && !p->err) {
		char c = gpeek(p);
		int item;

		if (!c || c == ')' || c == ']' || c == '|')
			break;
		if (c == '(' || c == '[') {
			p->pos++;
			item = parse_alt(p);
			if (item < 0)
				return -1;
			if (gpeek(p) != (c == '(' ? ')' : ']')) {
				p->err = "unbalanced bracket";
				return -1;
			}
			p->pos++;
			if (c == '[') {
				int opt = ast_new(p, A_OPT);

				if (opt < 0)
					return -1;
				ast_add(p, opt, item);
				item = opt;
			}
		} else {
			size_t st = p->pos;

			item = ast_new(p, A_WORD);
			if (item < 0)
				return -1;
			while (p->g[p->pos] && !strchr(" ()[]|", p->g[p->pos]))
				p->pos++;
			p->a[item].text = p->g + st;
			p->a[item].len = p->pos - st;
			if (p->a[item].len > 3 && memcmp(p->g + p->pos - 3, "...", 3) == 0) {
				p->a[item].repeat = true;
				p->a[item].len -= 3;
			}
		}
		ast_add(p, seq, item);
	}
	return p->err ? -1 : seq;
}

static int parse_alt(struct gparser *p)
{
	int alt = ast_new(p, A_ALT);

	if (alt < 0)
		return -1;
	for (;;) {
		int seq = parse_seq(p);

		if (seq < 0)
			return -1;
		ast_add(p, alt, seq);
		if (gpeek(p) != '|')
			break;
		p->pos++;
	}
	return p->err ? -1 : alt;
}

static int nfa_new(struct nfa *n, int type)
{
	if (n->nst == NFA_MAX)
		return -1;
	memset(&n->st[n->nst], 0, sizeof(n->st[0]));
	n->st[n->nst].type = (uint8_t)type;
	return n->nst++;
}

static int nfa_out(struct nfa *n, int from, int to)
{
	if (from < 0 || to < 0 || n->st[from].nout == NFA_OUT)
		return -1;
	n->st[from].out[n->st[from].nout++] = (int16_t)to;
	return 0;
}

/* A VAR word is NAME, NAME:lo-hi; anything else is a keyword. */
static int word_state(struct nfa *n, const struct ast *w)
{
	const char *colon = memchr(w->text, ':', w->len);
	size_t nlen = colon ? (size_t)(colon - w->text) : w->len;
	const struct cli_vartype *vt = cli_vartype_find(w->text, nlen);
	int s = nfa_new(n, vt ? S_VAR : S_LIT);

	if (s < 0)
		return -1;
	n->st[s].text = w->text;
	n->st[s].len = nlen;
	n->st[s].vt = vt;
	n->st[s].lo = 0;
	n->st[s].hi = 4294967295LL;
	if (colon) {
		if (!vt || sscanf(colon + 1, "%lld-%lld", &n->st[s].lo, &n->st[s].hi) != 2)
			return -1;
	}
	return s;
}

/* Compiles AST node i so that it continues to state next; returns its
 * entry state. */
static int compile(struct nfa *n, const struct gparser *p, int i, int next)
{
	const struct ast *a = &p->a[i];
	int s, e;

	switch (a->type) {
	case A_WORD:
		s = word_state(n, a);
		if (s < 0)
			return -1;
		if (a->repeat) {
			/* VAR... : one or more; the loop state goes back or on. */
			e = nfa_new(n, S_EPS);
			if (nfa_out(n, s, e) < 0 || nfa_out(n, e, next) < 0 || nfa_out(n, e, s) < 0)
				return -1;
		} else if (nfa_out(n, s, next) < 0) {
			return -1;
		}
		return s;
	case A_SEQ:
		for (int k = a->nkids - 1; k >= 0; k--) {
			next = compile(n, p, a->kids[k], next);
			if (next < 0)
				return -1;
		}
		return next;
	case A_ALT:
		if (a->nkids == 1)
			return compile(n, p, a->kids[0], next);
		e = nfa_new(n, S_EPS);
		for (int k = 0; k < a->nkids; k++)
			if (nfa_out(n, e, compile(n, p, a->kids[k], next)) < 0)
				return -1;
		return e;
	case A_OPT:
		e = nfa_new(n, S_EPS);
		if (nfa_out(n, e, compile(n, p, a->kids[0], next)) < 0 || nfa_out(n, e, next) < 0)
			return -1;
		return e;
	}
	return -1;
}

int nfa_build(struct nfa *n, const char *grammar)
{
	struct gparser p = { .g = grammar };
	int root, match;

	root = parse_alt(&p);
	if (root < 0 || gpeek(&p) != '\0')
		return -1;
	n->nst = 0;
	match = nfa_new(n, S_MATCH);
	n->start = compile(n, &p, root, match);
	return n->start < 0 ? -1 : 0;
}
