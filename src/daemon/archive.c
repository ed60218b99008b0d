/* archive.c - going back: every `write memory` also keeps what it wrote as
 * <config>.1, the older versions moved up to <config>.10 (the eleventh
 * goes), each mode 0600 like the startup file, next to it.  A version's
 * first line is a comment:
 *
 *   ! kizuna archive: saved 2026-12-05 20:00:00 UTC by alice (uid 1000)
 *
 * (the uid from the console socket's peer credentials); the loader skips
 * it.  `show archive` lists the versions; `configure replace N` makes
 * version N the running config the way a reload does: the whole file is
 * loaded first (any error and nothing changes), then it replaces the
 * running config at once, and only profiles whose settings differ
 * renegotiate.  The startup file is left as it is (`write memory` saves). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/emit.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

#define ARCHIVE_TAG "! kizuna archive: saved "

static void version_path(const struct kzd *d, unsigned n, char *out, size_t len)
{
	snprintf(out, len, "%s.%u", d->config_path, n);
}

static int write_file(const char *path, const char *head, const char *text, size_t len)
{
	struct kzd_file f;

	if (kzd_file_begin(&f, path, 0600) < 0)
		return -1;
	if (kzd_file_write(&f, head, strlen(head)) < 0 || kzd_file_write(&f, text, len) < 0) {
		kzd_file_abort(&f);
		return -1;
	}
	return kzd_file_commit(&f, true);
}

void kzd_archive_save(struct kzd *d, const char *text, size_t len)
{
	char from[4096], to[4096], head[256], when[64], user[64] = "?";
	time_t now = time(NULL);
	uid_t uid = d->req_uid;
	struct tm tm;

	if (d->req_uid_known) {
		struct passwd pw, *res = NULL;
		char buf[1024];

		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
			snprintf(user, sizeof(user), "%s (uid %u)", res->pw_name, (unsigned)uid);
		else
			snprintf(user, sizeof(user), "uid %u", (unsigned)uid);
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(head, sizeof(head), ARCHIVE_TAG "%s by %s\n", when, user);
	/* .9 -> .10, ..., .1 -> .2: the oldest is replaced */
	for (unsigned n = KZD_ARCHIVE_KEEP - 1; n >= 1; n--) {
		version_path(d, n, from, sizeof(from));
		version_path(d, n + 1, to, sizeof(to));
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("archive: cannot move %s to %s: %s", from, to, strerror(errno));
	}
	version_path(d, 1, to, sizeof(to));
	if (write_file(to, head, text, len) < 0)
		log_warn("archive: cannot write %s: %s", to, strerror(errno));
}

/* The comment of version n: "2026-... UTC by alice (uid 1000)"; false when
 * there is no such version. */
static bool version_info(struct kzd *d, unsigned n, char *info, size_t len)
{
	char line[512];
	size_t tl = 0;
	char *t = kzd_file_read(d, n, &tl);

	if (!t)
		return false;
	kz_strlcpy(info, "(no archive comment)", len);
	kz_strlcpy(line, t, sizeof(line));
	if (!strncmp(line, ARCHIVE_TAG, strlen(ARCHIVE_TAG))) {
		line[strcspn(line, "\n")] = '\0';
		kz_strlcpy(info, line + strlen(ARCHIVE_TAG), len);
	}
	kz_wipe(t, tl);
	free(t);
	return true;
}

int kzd_x_show_archive(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = s->opaque;
	unsigned shown = 0;

	emit_obj_begin(e, NULL);
	emit_str(e, "startup_config", d->config_path, "Saved versions of %s (newest first):\n",
		 d->config_path);
	emit_list_begin(e, "versions");
	for (unsigned n = 1; n <= KZD_ARCHIVE_KEEP; n++) {
		char info[512], path[4096], *by;

		if (!version_info(d, n, info, sizeof(info)))
			continue;
		version_path(d, n, path, sizeof(path));
		by = strstr(info, " by ");
		if (by)
			*by = '\0';
		emit_obj_begin(e, NULL);
		emit_u64(e, "version", n, " %2u  ", n);
		emit_str(e, "saved", info, "%s", info);
		emit_str(e, "by", by ? by + 4 : NULL, "%s%s", by ? "  by " : "", by ? by + 4 : "");
		emit_str(e, "file", path, "  %s\n", path);
		emit_obj_end(e);
		shown++;
	}
	emit_list_end(e);
	if (!shown)
		emit_text(e, " none yet: `write memory` keeps each saved version\n");
	emit_obj_end(e);
	return 0;
}

int kzd_x_configure_replace(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	struct kzd *d = s->opaque;
	unsigned n = (unsigned)strtoul(cli_arg(a, "COUNT"), NULL, 10);
	char info[512], path[4096];
	int errs;

	if (!version_info(d, n, info, sizeof(info))) {
		emit_error(e, "%% no saved version %u (see show archive)\n", n);
		return KZ_ENOENT;
	}
	version_path(d, n, path, sizeof(path));
	errs = kzd_reload_from(d, path);
	if (errs) {
		emit_error(e,
			   "%% %s does not load (%d error%s, see the log): the running config "
			   "stays\n",
			   path, errs, errs == 1 ? "" : "s");
		return KZ_ESYNTAX;
	}
	emit_text(e, "Running config replaced by version %u (%s)\n", n, info);
	log_info("configure replace: version %u (%s)", n, path);
	return 0;
}
