/* config_file.h - reading a config file for the offline commands
 * (`kizuna check`, `kizuna peer-config`), with its errors as both print
 * them. */
#ifndef KZ_CLIENT_CONFIG_FILE_H
#define KZ_CLIENT_CONFIG_FILE_H

#include <stddef.h>

#include "cli/cli.h"
#include "config/model.h"
#include "lib/strbuf.h"

/* Loads path into *cfg; 0 on success.  Otherwise -1 with the reason told:
 * a file that cannot be read or used on stderr ("kizuna: cannot <verb>
 * PATH: ..."), parse errors into out as "PATH:LINE:COL: error: ...", at
 * most maxerr of them (errs has room for maxerr) and a count of the rest. */
int client_load_config(const char *path, const char *verb, struct kz_config **cfg,
		       struct cli_load_error *errs, size_t maxerr, struct strbuf *out);

#endif
