/* help.c - what the grammar engine (engine.c) says about a line that is
 * not a command: the tokens expected where matching stopped, "did you
 * mean", ambiguous abbreviations; and TAB completion and `?` help, which
 * are the tokens expected after the words typed so far. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "cli/cli_int.h"
#include "cli/grammar.h"
#include "cli/match.h"

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
	for (size_t i = 0; i < cli_ncompiled; i++) {
		struct mresult r;

		if (!cli_cmd_visible(s, &cli_compiled[i], node))
			continue;
		cli_nfa_run(&cli_compiled[i].nfa, w, pos, abbrev, m, &r);
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

	for (size_t i = 0; i < cli_ncompiled; i++) {
		const struct ccmd *c = &cli_compiled[i];
		struct mresult r;

		if (!cli_cmd_visible(s, c, node))
			continue;
		cli_nfa_run(&c->nfa, w, pos, abbrev, m, &r);
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

void cli_explain(const struct cli_session *s, enum cli_node node, const struct cli_words *w,
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
				if (e.st[i]->type == S_LIT && cli_lit_prefix(e.st[i], bad->text))
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
				 word_secret(w, nm->reached) ? " (quote a key that has blanks)"
							     : "");
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

/* An abbreviation that stands for keywords of different commands ("sh i":
 * ike, ip, ipsec), which no single command finds ambiguous.  Writes the
 * router's message and the candidates; false when no word is. */
bool cli_explain_ambiguous(const struct cli_session *s, enum cli_node node,
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
			if (cli_lit_eq(e.st[k], w->w[i].text))
				exact = true;
			else if (cli_lit_prefix(e.st[k], w->w[i].text))
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
	*n = cli_node_chain(s, false, v);
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

	cli_compile();
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

		if (st->type == S_LIT && (!*partial || cli_lit_prefix(st, partial)))
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
			if (*partial && !cli_lit_prefix(st, partial))
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
