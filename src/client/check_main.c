/* check_main.c - `kizuna check FILE [PEER-FILE]`: parse errors, the config
 * check of each profile, warnings, and the cross-site checks of two sites'
 * configs, offline.  The output format is described in check_main.h. */
#include "client/check_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/check.h"
#include "config/model.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "client/config_file.h"

#define CHECK_MAX_ERRORS 100 /* listed per file; the rest are counted */

static const char usage_text[] =
	"usage: kizuna check FILE [PEER-FILE]\n"
	"  Checks config files offline: every parse error, the config check of\n"
	"  each ipsec profile, weak choices, and with PEER-FILE (the other site's\n"
	"  config) the cross-site checks.\n"
	"  Exit status: 0 no problem, 1 problems found, 2 a file cannot be read\n"
	"  or parsed.\n";

struct loaded {
	const char *path;
	struct kz_config *cfg;
};

static void print_finding(const struct kz_finding *f, const char *path, struct strbuf *out,
			  bool *ng)
{
	char prefix[4096];

	snprintf(prefix, sizeof(prefix), "%s: ", path);
	kz_finding_format(f, prefix, out);
	if (f->severity == KZ_SEV_NG)
		*ng = true;
}

/* Part 2: one config on its own. */
static int report_config(const struct loaded *f, struct strbuf *out, bool *ng)
{
	struct kz_check_env env;
	struct kz_findings lint;
	size_t next = 0;
	int rc;

	char why[600];

	if (cli_file_exposed(f->path, f->cfg, why, sizeof(why)))
		sb_printf(out, "%s: [WARN] %s\n", f->path, why);
	kz_check_env_offline(&env);
	kz_findings_init(&lint);
	rc = kz_check_config_lint(f->cfg, &lint);
	if (rc)
		goto out;
	for (size_t i = 0; i < f->cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &f->cfg->profiles.v[i];
		struct kz_finding a4;

		rc = kz_check_profile(f->cfg, p, &env, &a4);
		if (rc)
			goto out;
		if (a4.severity == KZ_SEV_OK)
			sb_printf(out, "%s: [OK] A4 %s : %s\n", f->path, p->name, a4.text);
		else
			print_finding(&a4, f->path, out, ng);
		/* The lint list holds each profile's findings in profile order
		 * (a shared object's warning under the first profile only),
		 * then the config-wide ones with no profile. */
		while (next < lint.n && strcmp(lint.v[next].profile, p->name) == 0)
			print_finding(&lint.v[next++], f->path, out, ng);
	}
	while (next < lint.n)
		print_finding(&lint.v[next++], f->path, out, ng);
out:
	kz_findings_free(&lint);
	return rc;
}

/* Part 3: the two sites against each other. */
static int report_pairs(const struct loaded *a, const struct loaded *b, struct strbuf *out,
			bool *ng)
{
	const struct kz_site la = { a->cfg, a->path }, lb = { b->cfg, b->path };
	size_t max = a->cfg->profiles.n + b->cfg->profiles.n, n = 0;
	struct kz_pairing *pairs = calloc(max ? max : 1, sizeof(*pairs));
	struct kz_findings fs;
	int rc;

	if (!pairs)
		return KZ_ENOMEM;
	kz_findings_init(&fs);
	rc = kz_check_pair_profiles(a->cfg, b->cfg, pairs, max, &n);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct kz_pairing *pr = &pairs[i];
		bool pair_ng = false;

		if (!pr->peer) {
			sb_printf(out, "%s: [--] A5 %s : no counterpart in %s\n", a->path,
				  pr->local->name, b->path);
			continue;
		}
		if (!pr->local) {
			sb_printf(out, "%s: [--] A5 %s : no counterpart in %s\n", b->path,
				  pr->peer->name, a->path);
			continue;
		}
		fs.n = 0;
		rc = kz_check_cross(&la, pr->local, &lb, pr->peer, &fs);
		for (size_t j = 0; j < fs.n && !rc; j++)
			print_finding(&fs.v[j], fs.v[j].side == KZ_SIDE_PEER ? b->path : a->path,
				      out, &pair_ng);
		if (!rc && !pair_ng)
			sb_printf(out, "%s: [OK] A5 %s : cross-site check ok (%s %s)\n", a->path,
				  pr->local->name, b->path, pr->peer->name);
		*ng |= pair_ng;
	}
	kz_findings_free(&fs);
	free(pairs);
	return rc;
}

enum kz_argv_kind kz_argv_next(int argc, char **argv, int *i, bool *opts, const char *usage)
{
	const char *a;

	if (++*i >= argc)
		return KZ_ARGV_END;
	a = argv[*i];
	if (!*opts)
		return KZ_ARGV_OPERAND;
	if (strcmp(a, "--") == 0) {
		*opts = false;
		return kz_argv_next(argc, argv, i, opts, usage);
	}
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
		fputs(usage, stdout);
		return KZ_ARGV_HELP;
	}
	return a[0] == '-' && a[1] ? KZ_ARGV_OPTION : KZ_ARGV_OPERAND;
}

int kizuna_check_main(int argc, char **argv)
{
	struct loaded files[2] = { { NULL, NULL }, { NULL, NULL } };
	struct cli_load_error *errs = NULL;
	struct strbuf out;
	unsigned nfiles = 0;
	bool opts = true, ng = false;
	int status = KZ_CHECK_EXIT_OK, rc = 0;
	enum kz_argv_kind k;

	for (int i = 0; (k = kz_argv_next(argc, argv, &i, &opts, usage_text));) {
		const char *a = argv[i];

		if (k == KZ_ARGV_HELP) {
			return KZ_CHECK_EXIT_OK;
		} else if (k == KZ_ARGV_OPTION) {
			fprintf(stderr, "kizuna: check: unknown option %s\n%s", a, usage_text);
			return KZ_CHECK_EXIT_UNREADABLE;
		} else if (nfiles < 2) {
			files[nfiles++].path = a;
		} else {
			fprintf(stderr, "kizuna: check: too many files\n%s", usage_text);
			return KZ_CHECK_EXIT_UNREADABLE;
		}
	}
	if (!nfiles) {
		fprintf(stderr, "%s", usage_text);
		return KZ_CHECK_EXIT_UNREADABLE;
	}

	sb_init(&out);
	errs = calloc(CHECK_MAX_ERRORS, sizeof(*errs));
	if (!errs) {
		fprintf(stderr, "kizuna: check: %s\n", kz_strerror(KZ_ENOMEM));
		return KZ_CHECK_EXIT_UNREADABLE;
	}
	/* Every file's errors, before giving up on any of them. */
	for (unsigned i = 0; i < nfiles; i++)
		if (client_load_config(files[i].path, "check", &files[i].cfg, errs,
				       CHECK_MAX_ERRORS, &out))
			status = KZ_CHECK_EXIT_UNREADABLE;
	if (status == KZ_CHECK_EXIT_OK) {
		for (unsigned i = 0; i < nfiles && !rc; i++)
			rc = report_config(&files[i], &out, &ng);
		if (!rc && nfiles == 2)
			rc = report_pairs(&files[0], &files[1], &out, &ng);
		if (rc)
			status = KZ_CHECK_EXIT_UNREADABLE;
		else if (ng)
			status = KZ_CHECK_EXIT_PROBLEMS;
	}
	fwrite(sb_str(&out), 1, out.len, stdout);
	if (out.truncated || rc) {
		fflush(stdout);
		fprintf(stderr, "kizuna: check: %s\n", kz_strerror(rc ? rc : KZ_ENOMEM));
		status = KZ_CHECK_EXIT_UNREADABLE;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		status = KZ_CHECK_EXIT_UNREADABLE;

	for (unsigned i = 0; i < nfiles; i++)
		kz_config_free(files[i].cfg);
	free(errs);
	sb_free(&out);
	return status;
}
