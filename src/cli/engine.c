/* engine.c - the grammar engine: the command rows, their grammar strings
 * compiled into small NFAs (grammar.c), and the nodes; a line is matched
 * against every command of the session's node at once.
 *
 * Matching keeps, for each word position, the set of NFA states reached and
 * the state that consumed the previous word, so a full match yields the
 * binding of every word without backtracking, a failed match knows how far
 * it got and what was expected there, and completion and `?` help are the
 * consuming states active after the words typed so far.  What a failed
 * line is told, TAB completion and `?` help are in help.c. */
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
#include "cli/match.h"


/* All commands, compiled once. */
struct ccmd *cli_compiled;
size_t cli_ncompiled;
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
	struct ccmd *v = realloc(cli_compiled, (cli_ncompiled + n) * sizeof(*v));

	if (!v)
		abort();
	cli_compiled = v;
	for (size_t i = 0; i < n; i++) {
		memset(&cli_compiled[cli_ncompiled], 0, sizeof(cli_compiled[cli_ncompiled]));
		if (nfa_build(&cli_compiled[cli_ncompiled].nfa, rows[i].grammar) < 0) {
			/* A broken grammar is a bug in the tables; tests catch it. */
			fprintf(stderr, "kizuna: bad grammar: %s\n", rows[i].grammar);
			abort();
		}
		cli_compiled[cli_ncompiled++].cmd = &rows[i];
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
	if (cli_ncompiled) /* compile_all ran: add these now */
		compile_rows(rows, n);
out:
	pthread_mutex_unlock(&install_lock);
}

void cli_compile(void)
{
	pthread_once(&compile_once, compile_all);
}

/* ---- matching ---- */


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

bool cli_lit_eq(const struct nstate *st, const char *w)
{
	return strlen(w) == st->len && strncasecmp(st->text, w, st->len) == 0;
}

bool cli_lit_prefix(const struct nstate *st, const char *w)
{
	size_t l = strlen(w);

	return l > 0 && l <= st->len && strncasecmp(st->text, w, l) == 0;
}


/* Runs words[0..nw) through one NFA. */
void cli_nfa_run(const struct nfa *n, const struct cli_words *w, size_t nw, bool abbrev,
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
			if (cli_lit_eq(st, word)) {
				exact++;
			} else if (abbrev && cli_lit_prefix(st, word)) {
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
			if ((exact && cli_lit_eq(st, word)) ||
			    (!exact && pref == 1 && cli_lit_prefix(st, word))) {
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
				if (n->st[c].type == S_LIT && !cli_lit_eq(&n->st[c], w->w[i].text))
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
	cli_compile();
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
int cli_node_chain(const struct cli_session *s, bool run, enum cli_node *v)
{
	int n = 0;

	for (enum cli_node x = s->node; x != CLI_NODE_COUNT && n < 3; x = cli_node_parent(x))
		if (n == 0 || x != CLI_NODE_EXEC || (s->exec && !(run && s->file_mode)))
			v[n++] = x;
	return n;
}


bool cli_cmd_visible(const struct cli_session *s, const struct ccmd *c, enum cli_node node)
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
	for (size_t i = 0; i < cli_ncompiled; i++) {
		const struct ccmd *c = &cli_compiled[i];
		struct mresult r;

		if (!cli_cmd_visible(s, c, node))
			continue;
		cli_nfa_run(&c->nfa, w, w->n, !s->file_mode, m, &r);
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

/* What the last line ran: an exec command (output filters apply), in JSON
 * (they do not). */
static _Thread_local bool ran_exec, ran_json;
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

	cli_compile();
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
		} else if (!nm->ambiguous &&
			   cli_explain_ambiguous(s, CLI_NODE_EXEC, w, m, line, err)) {
			r = KZ_ESYNTAX;
		} else {
			cli_explain(s, CLI_NODE_EXEC, w, nm, m, err);
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
	ntried = cli_node_chain(s, true, tried);
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
			if (cur->ambiguous || !cli_explain_ambiguous(s, tried[t], w, m, line, err))
				cli_explain(s, tried[t], w, cur, m, err);
			r = KZ_ESYNTAX;
			goto out;
		}
	}
	r = KZ_ESYNTAX;
	for (int t = 0; t < ntried && !nm->ambiguous; t++)
		if (cli_explain_ambiguous(s, tried[t], w, m, line, err))
			goto out;
	cli_explain(s, tried[0], w, nm, m, err);
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
