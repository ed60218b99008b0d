/* check_config.c - `kizunad --check-config [FILE]`: loads the startup file
 * exactly as start-up and SIGHUP do, then runs the offline config check
 * (A4 of every profile, the weak-choice warnings), and says whether
 * kizunad would take the file.  Opens no socket and changes nothing, so
 * it needs no privilege beyond reading the file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/strbuf.h"
#include "daemon/daemon.h"

#define CHECK_MAX_ERRORS 20 /* as many as a refused start-up logs */

static void print_finding(const struct kz_finding *f, const char *path, bool *ng)
{
	struct strbuf out;
	char prefix[4096];

	sb_init(&out);
	snprintf(prefix, sizeof(prefix), "%s: ", path);
	kz_finding_format(f, prefix, &out);
	if (out.len)
		fwrite(out.s, 1, out.len, stdout);
	sb_free(&out);
	if (f->severity == KZ_SEV_NG)
		*ng = true;
}

int kzd_check_config(const char *path)
{
	struct cli_load_error errs[CHECK_MAX_ERRORS];
	struct kz_config *c = NULL;
	struct kz_check_env env;
	struct kz_findings lint;
	size_t n = 0, next = 0;
	bool ng = false;
	int r;

	r = cli_load_file(path, &c, errs, CHECK_MAX_ERRORS, &n);
	if (r == KZ_EIO) {
		fprintf(stderr, "%s: cannot be read: %s\n", path, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n && i < CHECK_MAX_ERRORS; i++)
		fprintf(stderr, "%s:%u:%zu: error: %s\n", path, errs[i].line, errs[i].col,
			errs[i].msg);
	if (n > CHECK_MAX_ERRORS)
		fprintf(stderr, "%s: %zu more errors\n", path, n - CHECK_MAX_ERRORS);
	if (r < 0) {
		if (!n)
			fprintf(stderr, "%s: %s\n", path, kz_strerror(r));
		fprintf(stderr, "%s: has errors; kizunad would not start with it\n", path);
		kz_config_free(c);
		return 1;
	}
	/* The same order as `kizuna check`: each profile's A4 result with its
	 * warnings, then the config-wide warnings. */
	kz_check_env_offline(&env);
	kz_findings_init(&lint);
	if (kz_check_config_lint(c, &lint) < 0) {
		fprintf(stderr, "%s: out of memory\n", path);
		ng = true;
		goto out;
	}
	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];
		struct kz_finding a4;

		if (kz_check_profile(c, p, &env, &a4) == 0) {
			if (a4.severity == KZ_SEV_OK)
				printf("%s: [OK] A4 %s : %s\n", path, p->name, a4.text);
			else
				print_finding(&a4, path, &ng);
		}
		while (next < lint.n && strcmp(lint.v[next].profile, p->name) == 0)
			print_finding(&lint.v[next++], path, &ng);
	}
	while (next < lint.n)
		print_finding(&lint.v[next++], path, &ng);
out:
	kz_findings_free(&lint);
	kz_config_free(c);
	if (ng) {
		printf("%s: loads, but the config check found problems\n", path);
		return 1;
	}
	printf("%s: ok\n", path);
	return 0;
}
