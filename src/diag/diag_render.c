/* diag_render.c - the report of diagnose ipsec as troubleshooting.md
 * shows it ("Output of `diagnose ipsec`"), text or JSON from the same
 * emitter calls (lib/emit.h). */
#include "diag/diag.h"

static const char *result_tag(enum diag_result res)
{
	return res == DIAG_OK ? "OK" : res == DIAG_NG ? "NG" : "--";
}

/* One check: "[NG] A5.5 text", the cause with its evidence, the remedy. */
static void emit_check(struct emit *e, const struct diag_check *c, const struct diag_lang *L)
{
	static const char *const res[] = { "ok", "ng", "na" };
	const char *cause = diag_tr(L, "cause:");

	emit_obj_begin(e, NULL);
	emit_str(e, "id", c->id, "[%s] %s", result_tag(c->result), c->id);
	emit_str(e, "result", res[c->result], NULL);
	emit_str(e, "text", c->text, " %s\n", c->text);
	if (c->cause[0] && c->evidence[0])
		emit_text(e, "    %s %s (%s)\n", cause, c->cause, c->evidence);
	else if (c->cause[0])
		emit_text(e, "    %s %s\n", cause, c->cause);
	else if (c->evidence[0])
		emit_text(e, "    %s %s\n", diag_tr(L, "evidence:"), c->evidence);
	emit_str(e, "cause", c->cause, NULL);
	if (c->nremedy)
		emit_text(e, "    %s\n", diag_tr(L, "remedy:"));
	emit_list_begin(e, "remedy");
	for (unsigned m = 0; m < c->nremedy; m++)
		emit_str(e, NULL, c->remedy[m], "      %s\n", c->remedy[m]);
	emit_list_end(e);
	emit_str(e, "evidence", c->evidence, NULL);
	emit_obj_end(e);
}

void diag_render(const struct diag_report *r, const struct diag_lang *lang, struct emit *e)
{
	const struct diag_lang *L = lang ? lang : diag_lang_en();

	emit_obj_begin(e, NULL);
	if (r->error[0])
		emit_text(e, "%s\n", r->error);
	else if (!r->n)
		emit_text(e, "%s\n", diag_tr(L, "no ipsec profile configured"));
	emit_list_begin(e, "profiles");
	for (size_t i = 0; i < r->n; i++) {
		const struct diag_profile_report *pr = &r->v[i];

		if (i)
			emit_text(e, "\n");
		emit_obj_begin(e, NULL);
		emit_str(e, "profile", pr->profile, NULL);
		emit_str(e, "role", pr->role, NULL);
		emit_str(e, "mode", pr->mode, NULL);
		emit_str(e, "header", pr->header, "%s\n", pr->header);
		emit_list_begin(e, "checks");
		for (size_t k = 0; k < pr->nchecks; k++)
			emit_check(e, &pr->checks[k], L);
		emit_list_end(e);
		emit_list_begin(e, "warnings");
		for (size_t k = 0; k < pr->nwarnings; k++)
			emit_str(e, NULL, pr->warnings[k], "[WARN] %s\n", pr->warnings[k]);
		emit_list_end(e);
		/* the format comes from the message catalogue */
		emit_bool(e, "down_unknown", pr->down_unknown, NULL);
		if (pr->down_unknown)
			emit_str(e, "unknown", pr->unknown, NULL);
		emit_u64(e, "problems", pr->problems, NULL);
		if (pr->problems)
			emit_text(e, diag_tr(L, "%s: %u problem(s) found\n"), pr->profile,
				  pr->problems);
		else if (pr->down_unknown)
			emit_text(e, diag_tr(L, "%s: the tunnel is down, cause not found: %s\n"),
				  pr->profile, pr->unknown);
		else
			emit_text(e, diag_tr(L, "%s: no problem found\n"), pr->profile);
		emit_obj_end(e);
	}
	emit_list_end(e);
	if (r->error[0])
		emit_str(e, "error", r->error, NULL);
	emit_obj_end(e);
}

void diag_render_text(const struct diag_report *r, const struct diag_lang *lang, struct strbuf *out)
{
	struct emit e;

	emit_init(&e, out, false);
	diag_render(r, lang, &e);
	emit_done(&e);
}

void diag_render_json(const struct diag_report *r, struct strbuf *out)
{
	struct emit e;

	emit_init(&e, out, true);
	diag_render(r, NULL, &e);
	emit_done(&e);
}
