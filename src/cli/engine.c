/* engine.c - the grammar engine: the command rows, their grammar strings
 * compiled into small NFAs (grammar.c), and the nodes; a line is matched
 * against every command of the session's node at once.
 *
 * Matching keeps, for each word position, the set of NFA states reached and
 * the state that consumed the previous word, so a full match yields the
 * binding of every word without backtracking, a failed match knows how far
 * it got and what was expected there, and completion and `?` help are the
 * consuming states active after the words typed so far. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/emit.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/role.h"
#include "cli/cli_int.h"
#include "cli/grammar.h"

/* All commands, compiled once. */
struct ccmd {
	const struct cli_cmd *cmd;
	struct nfa nfa;
};

static struct ccmd *compiled;
static size_t ncompiled;
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

/* The tables of cli_install(), the config commands first. */
#define CLI_MAX_TABLES 8
static struct {
	const struct cli_cmd *v;
	size_t n;
} tables[CLI_MAX_TABLES];
static size_t ntables;

static void compile_rows(const struct cli_cmd *rows, size_t n)
{
	struct ccmd *v = realloc(compiled, (ncompiled + n) * sizeof(*v));

	if (!v)
		abort();
	compiled = v;
	for (size_t i = 0; i < n; i++) {
		memset(&compiled[ncompiled], 0, sizeof(compiled[ncompiled]));
		if (nfa_build(&compiled[ncompiled].nfa, rows[i].grammar) < 0) {
			/* A broken grammar is a bug in the tables; tests catch it. */
			fprintf(stderr, "kizuna: bad grammar: %s\n", rows[i].grammar);
			abort();
		}
		compiled[ncompiled++].cmd = &rows[i];
	}
}

static void compile_all(void)
{
	pthread_mutex_lock(&install_lock);
	compile_rows(cli_config_cmds, cli_config_ncmds);
	compile_rows(cli_ike_cmds, cli_ike_ncmds);
	for (size_t t = 0; t < ntables; t++)
		compile_rows(tables[t].v, tables[t].n);
	pthread_mutex_unlock(&install_lock);
}

void cli_install(const struct cli_cmd *rows, size_t n)
{
	pthread_mutex_lock(&install_lock);
	for (size_t t = 0; t < ntables; t++)
		if (tables[t].v == rows)
			goto out; /* installed already */
	if (ntables == CLI_MAX_TABLES)
		abort();
	tables[ntables].v = rows;
	tables[ntables++].n = n;
	if (ncompiled) /* compile_all ran: add these now */
		compile_rows(rows, n);
out:
	pthread_mutex_unlock(&install_lock);
}

/* ---- matching ---- */

struct msim {
	uint8_t in[CLI_MAX_WORDS + 1][NFA_MAX];
	int16_t from[CLI_MAX_WORDS + 1][NFA_MAX];
};

static void closure(const struct nfa *n, struct msim *m, size_t i, int s, int fromc)
{
	if (m->in[i][s])
		return;
	m->in[i][s] = 1;
	m->from[i][s] = (int16_t)fromc;
	if (n->st[s].type == S_EPS)
		for (int k = 0; k < n->st[s].nout; k++)
			closure(n, m, i, n->st[s].out[k], fromc);
}

static bool lit_eq(const struct nstate *st, const char *w)
{
	return strlen(w) == st->len && strncasecmp(st->text, w, st->len) == 0;
}

static bool lit_prefix(const struct nstate *st, const char *w)
{
	size_t l = strlen(w);

	return l > 0 && l <= st->len && strncasecmp(st->text, w, l) == 0;
}

struct mresult {
	bool full;       /* the whole line matched */
	size_t reached;  /* words consumed before failing */
	int abbrevs;     /* keywords given as prefixes on the path */
	const char *why; /* a VAR's reason for rejecting the failing word */
	const struct nstate *why_st;
	bool ambiguous; /* the failing word was an ambiguous prefix */
};

/* Runs words[0..nw) through one NFA. */
static void nfa_run(const struct nfa *n, const struct cli_words *w, size_t nw, bool abbrev,
		    struct msim *m, struct mresult *r)
{
	memset(r, 0, sizeof(*r));
	memset(m->in, 0, sizeof(m->in[0]) * (nw + 1));
	closure(n, m, 0, n->start, -1);
	for (size_t i = 0; i < nw; i++) {
		const char *word = w->w[i].text;
		int exact = 0, pref = 0;
		const struct nstate *firstp = NULL;
		bool any = false;

		/* Keywords: exact matches win over prefixes; two different
		 * keywords sharing the prefix are ambiguous. */
		for (int s = 0; s < n->nst; s++) {
			const struct nstate *st = &n->st[s];

			if (!m->in[i][s] || st->type != S_LIT)
				continue;
			if (lit_eq(st, word)) {
				exact++;
			} else if (abbrev && lit_prefix(st, word)) {
				if (!firstp) {
					firstp = st;
					pref = 1;
				} else if (firstp->len != st->len ||
					   strncasecmp(firstp->text, st->text, st->len) != 0) {
					pref = 2;
				}
			}
		}
		for (int s = 0; s < n->nst; s++) {
			const struct nstate *st = &n->st[s];

			if (!m->in[i][s] || st->type != S_LIT)
				continue;
			if ((exact && lit_eq(st, word)) ||
			    (!exact && pref == 1 && lit_prefix(st, word))) {
				closure(n, m, i + 1, st->out[0], s);
				any = true;
			}
		}
		if (!exact && pref > 1)
			r->ambiguous = true;
		for (int s = 0; s < n->nst; s++) {
			const struct nstate *st = &n->st[s];
			const char *why;

			if (!m->in[i][s] || st->type != S_VAR)
				continue;
			why = st->vt->check(word, st->lo, st->hi);
			if (!why) {
				for (int k = 0; k < st->nout; k++)
					closure(n, m, i + 1, st->out[k], s);
				any = true;
			} else if (!r->why) {
				r->why = why;
				r->why_st = st;
			}
		}
		if (!any) {
			r->reached = i;
			return;
		}
		r->why = NULL;
		r->ambiguous = false;
	}
	r->reached = nw;
	for (int s = 0; s < n->nst; s++)
		if (m->in[nw][s] && n->st[s].type == S_MATCH) {
			r->full = true;
			/* Count abbreviations on the path found. */
			int c = m->from[nw][s];

			for (size_t i = nw; i-- > 0 && c >= 0;) {
				if (n->st[c].type == S_LIT && !lit_eq(&n->st[c], w->w[i].text))
					r->abbrevs++;
				c = m->from[i][c];
			}
			return;
		}
}

static void bind_args(const struct nfa *n, const struct msim *m, const struct cli_words *w,
		      struct cli_args *a)
{
	int c = -1;

	a->n = w->n;
	for (int s = 0; s < n->nst; s++)
		if (m->in[w->n][s] && n->st[s].type == S_MATCH)
			c = m->from[w->n][s];
	for (size_t i = w->n; i-- > 0 && c >= 0;) {
		a->b[i].label = n->st[c].text;
		a->b[i].label_len = n->st[c].len;
		a->b[i].value = w->w[i].text;
		a->b[i].col = w->w[i].col;
		c = m->from[i][c];
	}
}

/* ---- arguments ---- */

static bool label_is(const struct cli_binding *b, const char *var)
{
	return strlen(var) == b->label_len && strncmp(b->label, var, b->label_len) == 0;
}

const char *cli_arg(const struct cli_args *a, const char *var)
{
	return cli_arg_n(a, var, 0);
}

size_t cli_arg_count(const struct cli_args *a, const char *var)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += label_is(&a->b[i], var);
	return n;
}

const char *cli_arg_n(const struct cli_args *a, const char *var, size_t k)
{
	for (size_t i = 0; i < a->n; i++)
		if (label_is(&a->b[i], var) && k-- == 0)
			return a->b[i].value;
	return NULL;
}

bool cli_has(const struct cli_args *a, const char *keyword)
{
	return cli_arg_count(a, keyword) > 0;
}

size_t cli_arg_col(const struct cli_args *a, const char *var)
{
	for (size_t i = 0; i < a->n; i++)
		if (label_is(&a->b[i], var))
			return a->b[i].col;
	return a->n ? a->b[0].col : 1;
}

int cli_fail(struct cli_error *err, const struct cli_args *a, const char *var, int code,
	     const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->col = var && a ? cli_arg_col(a, var) : (a && a->n ? a->b[0].col : 1);
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ---- sessions ---- */

void cli_session_init(struct cli_session *s, struct kz_config *cfg, enum cli_node node)
{
	pthread_once(&compile_once, compile_all);
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->node = node;
	kz_strlcpy(s->lang, "en", sizeof(s->lang));
}

/* The nodes: their parents and their part of the prompt. */
static const struct {
	enum cli_node parent;
	const char *prompt;
} node_defs[CLI_NODE_COUNT] = {
	[CLI_NODE_EXEC] = { CLI_NODE_COUNT, "" },
	[CLI_NODE_CONFIG] = { CLI_NODE_EXEC, "(config)" },
	[CLI_NODE_IF_MOBILE] = { CLI_NODE_CONFIG, "(config-if)" },
	[CLI_NODE_IF_IPSEC] = { CLI_NODE_CONFIG, "(config-if)" },
	[CLI_NODE_IKE_PROPOSAL] = { CLI_NODE_CONFIG, "(config-ike-proposal)" },
	[CLI_NODE_IKE_POLICY] = { CLI_NODE_CONFIG, "(config-ike-policy)" },
	[CLI_NODE_IPSEC_PROPOSAL] = { CLI_NODE_CONFIG, "(config-ipsec-proposal)" },
	[CLI_NODE_IPSEC_POLICY] = { CLI_NODE_CONFIG, "(config-ipsec-policy)" },
	[CLI_NODE_IPSEC_PROFILE] = { CLI_NODE_CONFIG, "(config-ipsec-profile)" },
};

enum cli_node cli_node_parent(enum cli_node n)
{
	return (unsigned)n < CLI_NODE_COUNT ? node_defs[n].parent : CLI_NODE_COUNT;
}

void cli_prompt(const struct cli_session *s, char *out, size_t len)
{
	snprintf(out, len, "%s%s#", s->cfg ? s->cfg->hostname : "kizuna",
		 node_defs[s->node].prompt);
}

/* A block inside config mode (an interface, a proposal, ...). */
static bool node_is_sub(enum cli_node n)
{
	return cli_node_parent(n) == CLI_NODE_CONFIG;
}

/* Where a line is looked for: the current node, then its ancestors (a
 * top-level command leaves the block, an exec command runs from config
 * mode); exec only where exec commands may run (run: to execute, not
 * for help). */
static int node_chain(const struct cli_session *s, bool run, enum cli_node *v)
{
	int n = 0;

	for (enum cli_node x = s->node; x != CLI_NODE_COUNT && n < 3; x = cli_node_parent(x))
		if (n == 0 || x != CLI_NODE_EXEC || (s->exec && !(run && s->file_mode)))
			v[n++] = x;
	return n;
}

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

static bool cmd_visible(const struct cli_session *s, const struct ccmd *c, enum cli_node node)
{
	if (!(c->cmd->nodes & CLI_IN(node)))
		return false;
	if (c->cmd->exec && (s->file_mode || !s->exec))
		return false;
	return true;
}

static void node_match(const struct cli_session *s, enum cli_node node, const struct cli_words *w,
		       struct msim *m, struct nodematch *nm)
{
	memset(nm, 0, sizeof(*nm));
	nm->best_abbrevs = 1 << 30;
	for (size_t i = 0; i < ncompiled; i++) {
		const struct ccmd *c = &compiled[i];
		struct mresult r;

		if (!cmd_visible(s, c, node))
			continue;
		nfa_run(&c->nfa, w, w->n, !s->file_mode, m, &r);
		if (r.full) {
			if (r.abbrevs < nm->best_abbrevs) {
				nm->best = c;
				nm->best_abbrevs = r.abbrevs;
				nm->nbest = 1;
				bind_args(&c->nfa, m, w, &nm->args);
			} else if (r.abbrevs == nm->best_abbrevs) {
				nm->nbest++;
			}
			continue;
		}
		if (r.reached > nm->reached || (r.reached == nm->reached && !nm->why)) {
			if (r.reached > nm->reached) {
				nm->why = NULL;
				nm->ambiguous = false;
			}
			nm->reached = r.reached;
			if (r.why) {
				nm->why = r.why;
				nm->why_st = r.why_st;
			}
			nm->ambiguous |= r.ambiguous;
		}
	}
}

/* The tokens any command of node may take at position pos (after words
 * [0..pos)), each once: "keyword" or "VAR".  Returns how many. */
struct expect {
	const char *text[96];
	size_t len[96];
	const struct nstate *st[96];
	bool can_end;
	size_t n;
};

static void expect_add(struct expect *e, const struct nstate *st)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->len[i] == st->len && strncmp(e->text[i], st->text, st->len) == 0)
			return;
	if (e->n < 96) {
		e->text[e->n] = st->text;
		e->len[e->n] = st->len;
		e->st[e->n++] = st;
	}
}

static bool node_reaches(const struct cli_session *s, enum cli_node node, const struct cli_words *w,
			 size_t pos, bool abbrev, struct msim *m)
{
	for (size_t i = 0; i < ncompiled; i++) {
		struct mresult r;

		if (!cmd_visible(s, &compiled[i], node))
			continue;
		nfa_run(&compiled[i].nfa, w, pos, abbrev, m, &r);
		if (r.reached == pos)
			return true;
	}
	return false;
}

static void node_expect(const struct cli_session *s, enum cli_node node, const struct cli_words *w,
			size_t pos, struct msim *m, struct expect *e)
{
	/* Words typed in full rule out commands they only abbreviate:
	 * after "show ip " come ip's words, not ipsec's. */
	bool abbrev = !s->file_mode && !node_reaches(s, node, w, pos, false, m);

	for (size_t i = 0; i < ncompiled; i++) {
		const struct ccmd *c = &compiled[i];
		struct mresult r;

		if (!cmd_visible(s, c, node))
			continue;
		nfa_run(&c->nfa, w, pos, abbrev, m, &r);
		if (r.reached < pos)
			continue;
		for (int k = 0; k < c->nfa.nst; k++) {
			if (!m->in[pos][k])
				continue;
			if (c->nfa.st[k].type == S_LIT || c->nfa.st[k].type == S_VAR)
				expect_add(e, &c->nfa.st[k]);
			else if (c->nfa.st[k].type == S_MATCH)
				e->can_end = true;
		}
	}
}

static void expect_list(const struct expect *e, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < e->n && used < len; i++) {
		int k = snprintf(out + used, len - used, "%s%.*s", i ? ", " : "", (int)e->len[i],
				 e->text[i]);
		if (k < 0)
			break;
		used += (size_t)k;
		if (e->st[i]->type == S_VAR && e->st[i]->vt->numeric && used < len) {
			k = snprintf(out + used, len - used, " (%lld-%lld)", e->st[i]->lo,
				     e->st[i]->hi);
			if (k > 0)
				used += (size_t)k;
		}
	}
	if (used >= len && len > 4)
		memcpy(out + len - 4, "...", 4);
}

/* Whether word i may be quoted in an error: not after a word that
 * abbreviates `pre-shared-key` (however the line is broken, the words
 * after it may be the key's), nor a word taken as a SECRET. */
static bool word_secret(const struct cli_words *w, size_t i)
{
	static const char kw[] = "pre-shared-key";

	for (size_t k = 0; k < i && k < w->n; k++) {
		size_t n = strlen(w->w[k].text);

		if (n >= 3 && n < sizeof(kw) && strncasecmp(w->w[k].text, kw, n) == 0) {
			/* the word naming the key's form is not the key */
			const char *f = w->w[i].text;

			return !(i == k + 1 && !w->w[i].quoted && *f &&
				 (strncasecmp(f, "ascii", strlen(f)) == 0 ||
				  strncasecmp(f, "hex", strlen(f)) == 0));
		}
	}
	return false;
}

#define SHOWN(w, i) (word_secret(w, i) ? "(the key, not shown)" : (w)->w[i].text)

/* Levenshtein distance of a and b (short keywords), capped at 9. */
static int edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	int d[33][33];

	if (la > 32 || lb > 32)
		return 9;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] +
				(tolower((unsigned char)a[i - 1]) !=
				 tolower((unsigned char)b[j - 1]));

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb] > 9 ? 9 : d[la][lb];
}

/* A keyword of e close to word (a typo: at most 2 edits, fewer than half
 * the word), for "did you mean"; NULL when none or two are as close. */
static const struct nstate *closest_keyword(const struct expect *e, const char *word)
{
	const struct nstate *best = NULL;
	int bestd = 3, n = 0;
	size_t wl = strlen(word);

	for (size_t i = 0; i < e->n; i++) {
		int dd;

		if (e->st[i]->type != S_LIT)
			continue;
		dd = edit_distance(word, wl, e->st[i]->text, e->st[i]->len);
		if (dd < bestd) {
			bestd = dd;
			best = e->st[i];
			n = 1;
		} else if (dd == bestd) {
			n++;
		}
	}
	if (!best || n > 1 || (size_t)bestd * 2 >= wl)
		return NULL;
	return best;
}

static void add_did_you_mean(const struct expect *e, const char *word, struct cli_error *err)
{
	const struct nstate *st = closest_keyword(e, word);
	size_t l = strlen(err->msg);

	if (st)
		snprintf(err->msg + l, sizeof(err->msg) - l, "; did you mean '%.*s'?", (int)st->len,
			 st->text);
}

static void explain(const struct cli_session *s, enum cli_node node, const struct cli_words *w,
		    const struct nodematch *nm, struct msim *m, struct cli_error *err)
{
	struct expect e = { .n = 0 };
	char list[300];

	node_expect(s, node, w, nm->reached, m, &e);
	expect_list(&e, list, sizeof(list));
	if (nm->reached < w->n) {
		const struct cli_word *bad = &w->w[nm->reached];

		err->col = bad->col;
		if (nm->ambiguous) {
			struct expect amb = { .n = 0 };

			for (size_t i = 0; i < e.n; i++)
				if (e.st[i]->type == S_LIT && lit_prefix(e.st[i], bad->text))
					expect_add(&amb, e.st[i]);
			expect_list(&amb, list, sizeof(list));
			snprintf(err->msg, sizeof(err->msg), "ambiguous '%.100s'; it could be: %s",
				 SHOWN(w, nm->reached), list);
		} else if (nm->why && (e.n == 1 || strstr(nm->why, "range"))) {
			const struct nstate *st = nm->why_st;

			snprintf(err->msg, sizeof(err->msg), "invalid %s '%.100s': %s",
				 st->vt->name,
				 strcmp(st->vt->name, "SECRET") ? SHOWN(w, nm->reached)
								: "(the key, not shown)",
				 nm->why);
			if (st->vt->numeric) {
				size_t l = strlen(err->msg);

				snprintf(err->msg + l, sizeof(err->msg) - l, " (%lld-%lld)", st->lo,
					 st->hi);
			}
		} else if (nm->reached == 0) {
			snprintf(err->msg, sizeof(err->msg), "unknown command '%.100s'", bad->text);
			add_did_you_mean(&e, bad->text, err);
		} else if (e.n == 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "unexpected '%.100s'; the command ends before it%s",
				 SHOWN(w, nm->reached),
				 word_secret(w, nm->reached) ? " (quote a key that has blanks)" : "");
		} else {
			snprintf(err->msg, sizeof(err->msg), "unexpected '%.100s'; expected %s%s%s",
				 SHOWN(w, nm->reached), e.n > 1 ? "one of: " : "", list,
				 e.can_end ? ", or the end of the line" : "");
			if (!word_secret(w, nm->reached))
				add_did_you_mean(&e, bad->text, err);
		}
	} else {
		const struct cli_word *last = &w->w[w->n - 1];

		err->col = last->col + strlen(last->text) + (last->quoted ? 2 : 0);
		snprintf(err->msg, sizeof(err->msg),
			 "incomplete command; expected %s%s after '%.100s'",
			 e.n > 1 ? "one of: " : "", list, SHOWN(w, w->n - 1));
	}
}

/* What the last line ran: an exec command (output filters apply), in JSON
 * (they do not). */
static _Thread_local bool ran_exec, ran_json;

/* What the last line ran: an exec command (output filters apply), in JSON
 * (they do not). */
static _Thread_local bool ran_exec, ran_json;

/* An abbreviation that stands for keywords of different commands ("sh i":
 * ike, ip, ipsec), which no single command finds ambiguous.  Writes the
 * router's message and the candidates; false when no word is. */
static bool explain_ambiguous(const struct cli_session *s, enum cli_node node,
			      const struct cli_words *w, struct msim *m, const char *line,
			      struct cli_error *err)
{
	if (s->file_mode)
		return false;
	for (size_t i = 0; i < w->n; i++) {
		struct expect e = { .n = 0 }, amb = { .n = 0 };
		bool exact = false;
		size_t l;

		node_expect(s, node, w, i, m, &e);
		for (size_t k = 0; k < e.n; k++) {
			if (e.st[k]->type == S_VAR &&
			    !e.st[k]->vt->check(w->w[i].text, e.st[k]->lo, e.st[k]->hi))
				exact = true; /* a value, not an abbreviation */
			if (e.st[k]->type != S_LIT)
				continue;
			if (lit_eq(e.st[k], w->w[i].text))
				exact = true;
			else if (lit_prefix(e.st[k], w->w[i].text))
				expect_add(&amb, e.st[k]);
		}
		if (exact || amb.n == 1)
			continue;
		if (amb.n == 0)
			return false;
		l = strlen(line);
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t'))
			l--;
		err->col = 0;
		snprintf(err->msg, sizeof(err->msg), "Ambiguous command: \"%.*s\"\n ",
			 (int)(l > 200 ? 200 : l), line);
		/* alphabetically, as `?` lists them */
		for (size_t k = 1; k < amb.n; k++)
			for (size_t j = k;
			     j > 0 && strncasecmp(amb.text[j - 1], amb.text[j], amb.len[j] + 1) > 0;
			     j--) {
				const char *t = amb.text[j];
				size_t tl = amb.len[j];

				amb.text[j] = amb.text[j - 1];
				amb.len[j] = amb.len[j - 1];
				amb.text[j - 1] = t;
				amb.len[j - 1] = tl;
			}
		for (size_t k = 0; k < amb.n; k++) {
			size_t ml = strlen(err->msg);

			snprintf(err->msg + ml, sizeof(err->msg) - ml, " %.*s", (int)amb.len[k],
				 amb.text[k]);
		}
		return true;
	}
	return false;
}

static int run_match(struct cli_session *s, const struct ccmd *c, const struct cli_args *a,
		     struct strbuf *out, struct cli_error *err)
{
	struct emit e;
	int r;

	/* the role check sits where a command is dispatched: the matched
	 * row, whatever the abbreviation */
	if (s->read_only && !kz_role_operator_may(c->cmd->grammar))
		return cli_fail(err, NULL, NULL, KZ_ENOTSUP,
				"not allowed: an operator may only show, diagnose and ping");
	ran_exec = c->cmd->exec != NULL;
	ran_json = ran_exec && cli_has(a, "json");
	if (!c->cmd->exec)
		return c->cmd->fn(s, a, out, err);
	emit_init(&e, out, cli_has(a, "json"));
	r = c->cmd->exec(s, a, &e);
	emit_done(&e);
	/* a handler may run lines of its own (show tech-support) */
	ran_exec = true;
	ran_json = cli_has(a, "json");
	return r;
}

static int execute_line(struct cli_session *s, const char *line, struct strbuf *out,
			struct cli_error *err)
{
	struct cli_words *w = NULL;
	struct msim *m = NULL;
	struct nodematch *nm = NULL, *alt = NULL;
	enum cli_node tried[3], hint;
	int ntried = 0, r;
	size_t ecol;

	pthread_once(&compile_once, compile_all);
	hint = s->block_hint;
	s->block_hint = CLI_NODE_EXEC;
	s->effects = 0;
	s->secret = false;
	s->verdict = 0;
	s->secret_what = NULL;
	err->col = 0;
	err->msg[0] = '\0';
	w = malloc(sizeof(*w));
	m = malloc(sizeof(*m));
	nm = malloc(sizeof(*nm));
	alt = malloc(sizeof(*alt));
	if (!w || !m || !nm || !alt) {
		r = cli_fail(err, NULL, NULL, KZ_ENOMEM, "out of memory");
		goto out;
	}
	r = cli_lex(line, strlen(line), w, &ecol, err->msg, sizeof(err->msg));
	if (r < 0) {
		err->col = ecol;
		goto out;
	}
	/* `do show ...` from a config mode, as on other routers. */
	if (!s->file_mode && s->node != CLI_NODE_EXEC && w->n > 1 &&
	    strcasecmp(w->w[0].text, "do") == 0) {
		memmove(&w->w[0], &w->w[1], (w->n - 1) * sizeof(w->w[0]));
		w->n--;
		node_match(s, CLI_NODE_EXEC, w, m, nm);
		if (nm->best && nm->nbest == 1 && nm->best->cmd->exec) {
			r = run_match(s, nm->best, &nm->args, out, err);
		} else if (!nm->ambiguous && explain_ambiguous(s, CLI_NODE_EXEC, w, m, line, err)) {
			r = KZ_ESYNTAX;
		} else {
			explain(s, CLI_NODE_EXEC, w, nm, m, err);
			r = KZ_ESYNTAX;
		}
		goto out;
	}
	if (w->comment || w->n == 0) {
		/* `!` closes a block in a file, as in running-config. */
		if (w->bang && s->file_mode && node_is_sub(s->node))
			s->node = CLI_NODE_CONFIG;
		r = 0;
		goto out;
	}
	ntried = node_chain(s, true, tried);
	for (int t = 0; t < ntried; t++) {
		struct nodematch *cur = t == 0 ? nm : alt;

		node_match(s, tried[t], w, m, cur);
		if (cur->best) {
			if (cur->nbest > 1) {
				r = cli_fail(err, NULL, NULL, KZ_EAMBIG,
					     "ambiguous command '%.100s'", line);
				err->col = w->w[0].col;
				goto out;
			}
			if (tried[t] == CLI_NODE_EXEC && s->node != CLI_NODE_EXEC &&
			    cur->best->cmd->fn) {
				/* Mode commands of exec (configure) are not
				 * reachable from config mode. */
				continue;
			}
			if (tried[t] == CLI_NODE_CONFIG && s->node != CLI_NODE_CONFIG) {
				enum cli_node was = s->node;

				s->node = CLI_NODE_CONFIG;
				r = run_match(s, cur->best, &cur->args, out, err);
				if (r < 0)
					s->node = was; /* a failed line changes nothing */
				goto out;
			}
			r = run_match(s, cur->best, &cur->args, out, err);
			goto out;
		}
		if (t > 0 && cur->reached > nm->reached) {
			if (cur->ambiguous || !explain_ambiguous(s, tried[t], w, m, line, err))
				explain(s, tried[t], w, cur, m, err);
			r = KZ_ESYNTAX;
			goto out;
		}
	}
	r = KZ_ESYNTAX;
	for (int t = 0; t < ntried && !nm->ambiguous; t++)
		if (explain_ambiguous(s, tried[t], w, m, line, err))
			goto out;
	explain(s, tried[0], w, nm, m, err);
	if (hint != CLI_NODE_EXEC) {
		/* `ike policy X` inside a profile names the profile's policy;
		 * a file that meant to open that block gets told how. */
		node_match(s, hint, w, m, alt);
		if (alt->best) {
			size_t l = strlen(err->msg);

			snprintf(err->msg + l, sizeof(err->msg) - l,
				 " (the line before set the profile's %s; to start that block "
				 "after an ipsec profile, end the profile with %s)",
				 hint == CLI_NODE_IKE_POLICY ? "ike policy" : "ipsec policy",
				 s->file_mode ? "'!' or 'exit'" : "'exit'");
		}
	}
out:
	free(w);
	free(m);
	free(nm);
	free(alt);
	return r;
}

int cli_execute(struct cli_session *s, const char *line, struct strbuf *out, struct cli_error *err)
{
	ssize_t bar = s->file_mode ? -1 : cli_filter_find(line);
	struct cli_filter f;
	struct strbuf screen;
	char *cmd;
	int r;

	ran_exec = ran_json = false;
	if (bar < 0)
		return execute_line(s, line, out, err);
	err->col = 0;
	err->msg[0] = '\0';
	if (cli_filter_parse(line + bar + 1, &f, err->msg, sizeof(err->msg)) < 0) {
		err->col = (size_t)bar + 1;
		return KZ_ESYNTAX;
	}
	cmd = strndup(line, (size_t)bar);
	if (!cmd) {
		cli_filter_free(&f);
		return cli_fail(err, NULL, NULL, KZ_ENOMEM, "out of memory");
	}
	/* The command runs first: a filter never changes what it does, only
	 * what of its screen is shown. */
	sb_init(&screen);
	r = execute_line(s, cmd, &screen, err);
	if (r >= 0 && (!ran_exec || ran_json)) {
		if (screen.len)
			sb_putn(out, screen.s, screen.len);
		r = cli_fail(err, NULL, NULL, KZ_ESYNTAX,
			     ran_json ? "output filters apply to text, not to json"
				      : "output filters apply to exec commands (show ...) only");
		err->col = (size_t)bar + 1;
	} else if (r >= 0) {
		cli_filter_apply(&f, screen.s ? screen.s : "", screen.len, out);
	} else {
		if (screen.len)
			sb_putn(out, screen.s, screen.len);
	}
	sb_free(&screen);
	free(cmd);
	cli_filter_free(&f);
	return r;
}

/* ---- completion and help ---- */

static void complete_names(const struct cli_session *s, int src, const char *pfx,
			   struct strbuf *out)
{
	const struct kz_config *c = s->cfg;
	size_t l = strlen(pfx);

#define COMPLETE_VEC(vec)                                  \
	for (size_t i = 0; i < (vec).n; i++)               \
		if (strncmp((vec).v[i].name, pfx, l) == 0) \
			sb_printf(out, "%s\n", (vec).v[i].name);
	if (!c)
		return;
	switch (src) {
	case CLI_COMPLETE_PROFILE:
		COMPLETE_VEC(c->profiles);
		break;
	case CLI_COMPLETE_IKE_PROPOSAL:
		COMPLETE_VEC(c->ike_proposals);
		break;
	case CLI_COMPLETE_IKE_POLICY:
		COMPLETE_VEC(c->ike_policies);
		break;
	case CLI_COMPLETE_IPSEC_PROPOSAL:
		COMPLETE_VEC(c->ipsec_proposals);
		break;
	case CLI_COMPLETE_IPSEC_POLICY:
		COMPLETE_VEC(c->ipsec_policies);
		break;
	case CLI_COMPLETE_IPSEC_IF:
		for (size_t i = 0; i < c->ipsec_ifs.n; i++) {
			char n[16];

			snprintf(n, sizeof(n), "IPsec%u", c->ipsec_ifs.v[i].unit);
			if (strncasecmp(n, pfx, l) == 0)
				sb_printf(out, "%s\n", n);
		}
		break;
	}
#undef COMPLETE_VEC
}

/* Lexes the line up to the cursor; the last word is the one being typed
 * unless the line ends in a blank. */
static int lex_partial(const char *line, struct cli_words *w, const char **partial)
{
	size_t col;
	char msg[128];

	if (cli_lex(line, strlen(line), w, &col, msg, sizeof(msg)) < 0 || w->comment)
		return -1;
	*partial = "";
	if (w->n && !w->trailing_sp) {
		*partial = w->w[w->n - 1].text;
		w->n--;
	}
	return 0;
}

static void partial_nodes(const struct cli_session *s, enum cli_node *v, int *n)
{
	*n = node_chain(s, false, v);
}

/* What may come next after the words of line, offered node by node
 * (innermost first) to fn until fn writes something.  Shared by TAB
 * completion and `?` help. */
typedef void (*next_fn)(struct cli_session *s, const struct expect *e, const char *partial,
			struct strbuf *out, bool *can_end);

static int walk_next(struct cli_session *s, const char *line, struct strbuf *out, next_fn fn,
		     bool *can_end)
{
	struct cli_words *w = malloc(sizeof(*w));
	struct msim *m = malloc(sizeof(*m));
	enum cli_node nodes[3];
	const char *partial;
	int nn, r = 0;

	pthread_once(&compile_once, compile_all);
	if (!w || !m || lex_partial(line, w, &partial) < 0) {
		r = w && m ? KZ_ESYNTAX : KZ_ENOMEM;
		goto out;
	}
	partial_nodes(s, nodes, &nn);
	if (!s->file_mode && s->exec && s->node != CLI_NODE_EXEC && w->n >= 1 &&
	    !strcasecmp(w->w[0].text, "do")) {
		/* `do ...`: what exec mode would take after the words */
		memmove(&w->w[0], &w->w[1], (w->n - 1) * sizeof(w->w[0]));
		w->n--;
		nodes[0] = CLI_NODE_EXEC;
		nn = 1;
	}
	for (int t = 0; t < nn; t++) {
		struct expect e = { .n = 0 };
		size_t before = out->len;

		node_expect(s, nodes[t], w, w->n, m, &e);
		fn(s, &e, partial, out, can_end);
		if (out->len != before || *can_end)
			break;
	}
out:
	free(w);
	free(m);
	return r;
}

static void complete_one(struct cli_session *s, const struct expect *e, const char *partial,
			 struct strbuf *out, bool *can_end)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct nstate *st = e->st[i];

		if (st->type == S_LIT && (!*partial || lit_prefix(st, partial)))
			sb_printf(out, "%.*s\n", (int)st->len, st->text);
		else if (st->type == S_VAR && st->vt->complete)
			complete_names(s, st->vt->complete, partial, out);
	}
}

/* `do` is no command row: offered at the start of a config-mode line. */
static bool offers_do(const struct cli_session *s, const char *line)
{
	size_t l;

	if (s->file_mode || !s->exec || s->node == CLI_NODE_EXEC)
		return false;
	while (*line == ' ' || *line == '\t')
		line++;
	l = strlen(line);
	return l <= 2 && !strchr(line, ' ') && !strchr(line, '\t') && !strncasecmp("do", line, l);
}

int cli_complete(struct cli_session *s, const char *line, struct strbuf *out)
{
	bool can_end = false; /* completion offers words, not <cr> */
	int r = walk_next(s, line, out, complete_one, &can_end);

	if (r >= 0 && offers_do(s, line))
		sb_puts(out, "do\n");
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Help lists keywords alphabetically, as routers do. */
static void sort_lines(struct strbuf *out)
{
	char *copy, *lines[256], *save = NULL;
	size_t n = 0;

	if (!out->len || !(copy = strdup(sb_str(out))))
		return;
	for (char *l = strtok_r(copy, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	sb_reset(out);
	for (size_t i = 0; i < n; i++)
		sb_printf(out, "%s\n", lines[i]);
	free(copy);
}

static void help_one(struct cli_session *s, const struct expect *e, const char *partial,
		     struct strbuf *out, bool *can_end)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct nstate *st = e->st[i];
		char word[80];
		const char *h;

		if (st->type == S_LIT) {
			if (*partial && !lit_prefix(st, partial))
				continue;
			snprintf(word, sizeof(word), "%.*s", (int)st->len, st->text);
			h = cli_keyword_help(word);
		} else {
			if (*partial && st->vt->check(partial, st->lo, st->hi))
				continue;
			if (st->vt->numeric)
				snprintf(word, sizeof(word), "<%lld-%lld>", st->lo, st->hi);
			else
				snprintf(word, sizeof(word), "%s", st->vt->name);
			h = st->vt->help;
		}
		sb_printf(out, "  %-22s %s\n", word, h ? h : "");
	}
	*can_end |= e->can_end && !*partial;
}

/* Help lists the current node's commands; a parent's only when the current
 * node has nothing for these words. */
int cli_help(struct cli_session *s, const char *line, struct strbuf *out)
{
	bool can_end = false;
	int r = walk_next(s, line, out, help_one, &can_end);

	if (r < 0)
		return r;
	if (offers_do(s, line))
		sb_printf(out, "  %-22s %s\n", "do", "Run an exec command from configuration mode");
	sort_lines(out);
	if (can_end)
		sb_printf(out, "  %-22s %s\n", "<cr>", "");
	if (out->len == 0)
		sb_puts(out, "% unrecognized command\n");
	return 0;
}
