/* load.c - config files: every line through the one grammar, in config
 * mode, onto a new config.  A file with any error yields no config at all,
 * so the caller's running config stays as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "cli/cli_int.h"

static void add_error(struct cli_load_error *errs, size_t maxerr, size_t *nerr, unsigned line,
		      size_t col, const char *msg)
{
	if (*nerr < maxerr) {
		errs[*nerr].line = line;
		errs[*nerr].col = col;
		kz_strlcpy(errs[*nerr].msg, msg, sizeof(errs[*nerr].msg));
	}
	(*nerr)++;
}

/* References that may point forward in a file are checked at its end. */
static void check_refs(const struct cli_file_ctx *f, const struct kz_config *c,
		       struct cli_load_error *errs, size_t maxerr, size_t *nerr)
{
	for (size_t i = 0; i < f->nrefs; i++) {
		const struct cli_ref *r = &f->refs[i];
		char msg[200];

		if (r->kind == 0 && !kz_find_profile(c, r->name)) {
			snprintf(msg, sizeof(msg), "ipsec map %s: no ipsec profile %s in this file",
				 r->name, r->name);
			add_error(errs, maxerr, nerr, r->line, r->col, msg);
		} else if (r->kind == 1 && !kz_find_ipsec_if(c, r->unit)) {
			snprintf(msg, sizeof(msg),
				 "ip route via IPsec%u: no interface IPsec%u in this file", r->unit,
				 r->unit);
			add_error(errs, maxerr, nerr, r->line, r->col, msg);
		}
	}
}

int cli_load_text(const char *text, size_t len, struct kz_config **out, struct cli_load_error *errs,
		  size_t maxerr, size_t *nerr)
{
	struct kz_config *c = kz_config_new();
	struct cli_file_ctx f = { 0 };
	struct cli_session s;
	struct strbuf sink;
	char *line = NULL;
	size_t pos = 0;
	int r = 0;

	*out = NULL;
	*nerr = 0;
	sb_init(&sink);
	if (!c)
		return KZ_ENOMEM;
	line = malloc(CLI_MAX_LINE + 2);
	if (!line) {
		kz_config_free(c);
		return KZ_ENOMEM;
	}
	cli_session_init(&s, c, CLI_NODE_CONFIG);
	s.file_mode = true;
	s.file = &f;
	if (len > CLI_MAX_FILE) {
		char msg[96];

		snprintf(msg, sizeof(msg), "file too large (%zu bytes, at most %u)", len,
			 CLI_MAX_FILE);
		add_error(errs, maxerr, nerr, 1, 1, msg);
		goto out;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *nul = memchr(text + pos, '\0', llen);
		struct cli_error e;

		f.line++;
		if (nul) {
			add_error(errs, maxerr, nerr, f.line, (size_t)(nul - (text + pos)) + 1,
				  "binary data (NUL byte); not a config file");
			break;
		}
		if (llen > CLI_MAX_LINE) {
			char msg[96];

			snprintf(msg, sizeof(msg), "line too long (%zu characters, at most %u)",
				 llen, CLI_MAX_LINE);
			add_error(errs, maxerr, nerr, f.line, CLI_MAX_LINE + 1, msg);
		} else {
			memcpy(line, text + pos, llen);
			line[llen] = '\0';
			sb_reset(&sink);
			if (cli_execute(&s, line, &sink, &e) < 0)
				add_error(errs, maxerr, nerr, f.line, e.col ? e.col : 1, e.msg);
		}
		pos += llen + (nl ? 1 : 0);
		/* Stop early on garbage: a binary file would list every line. */
		if (*nerr >= maxerr && maxerr)
			break;
	}
	if (*nerr == 0)
		check_refs(&f, c, errs, maxerr, nerr);
out:
	if (*nerr) {
		kz_config_free(c);
		r = KZ_ESYNTAX;
	} else {
		*out = c;
	}
	free(f.seen);
	free(f.refs);
	sb_free(&sink);
	kz_wipe(line, CLI_MAX_LINE + 2);
	free(line);
	return r;
}

int cli_load_file(const char *path, struct kz_config **out, struct cli_load_error *errs,
		  size_t maxerr, size_t *nerr)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, r, saved;

	*out = NULL;
	*nerr = 0;
	/* O_NONBLOCK: a FIFO or device must not hang the daemon here. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return KZ_EIO;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return KZ_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return KZ_EIO;
	}
	if ((size_t)st.st_size > CLI_MAX_FILE) {
		char msg[96];

		close(fd);
		snprintf(msg, sizeof(msg), "file too large (%lld bytes, at most %u)",
			 (long long)st.st_size, CLI_MAX_FILE);
		add_error(errs, maxerr, nerr, 1, 1, msg);
		return KZ_ESYNTAX;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return KZ_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (got != (size_t)st.st_size) {
		free(text);
		errno = saved ? saved : EIO;
		return KZ_EIO;
	}
	r = cli_load_text(text, got, out, errs, maxerr, nerr);
	kz_wipe(text, got);
	free(text);
	return r;
}

bool cli_file_exposed(const char *path, const struct kz_config *c, char *msg, size_t len)
{
	struct stat st;
	bool keys = false;

	if (!c || stat(path, &st) < 0 || !(st.st_mode & 077))
		return false;
	for (size_t i = 0; i < c->ike_policies.n && !keys; i++)
		keys = c->ike_policies.v[i].psk.set;
	if (!keys)
		return false;
	snprintf(msg, len,
		 "%s holds pre-shared keys and its %s may read or change it (mode %04o): "
		 "chmod 600 %s",
		 path, st.st_mode & 007 ? "group and other users" : "group",
		 (unsigned)(st.st_mode & 07777), path);
	return true;
}
