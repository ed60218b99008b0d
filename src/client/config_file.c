/* config_file.c - reading a config file for the offline commands, with
 * its errors as `kizuna check` and `kizuna peer-config` print them.  See
 * config_file.h. */
#include "client/config_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

int client_load_config(const char *path, const char *verb, struct kz_config **cfg,
		       struct cli_load_error *errs, size_t maxerr, struct strbuf *out)
{
	size_t nerr = 0, shown;
	int rc, saved;

	errno = 0;
	rc = cli_load_file(path, cfg, errs, maxerr, &nerr);
	saved = errno;
	if (rc == 0 && *cfg)
		return 0;
	if (rc == KZ_EIO) {
		fprintf(stderr, "kizuna: cannot read %s: %s\n", path,
			strerror(saved ? saved : EIO));
		return -1;
	}
	if (rc != KZ_ESYNTAX && !nerr) {
		fprintf(stderr, "kizuna: cannot %s %s: %s\n", verb, path,
			kz_strerror(rc ? rc : KZ_EINVAL));
		return -1;
	}
	shown = nerr < maxerr ? nerr : maxerr;
	for (size_t i = 0; i < shown; i++)
		sb_printf(out, "%s:%u:%zu: error: %s\n", path, errs[i].line, errs[i].col,
			  errs[i].msg);
	if (nerr > shown)
		sb_printf(out, "%s: error: %zu more error(s) not shown\n", path, nerr - shown);
	if (!nerr)
		sb_printf(out, "%s: error: %s\n", path, kz_strerror(rc));
	return -1;
}
