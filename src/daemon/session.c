/* session.c - console sessions: each connection to the control socket is a
 * cli_session on the running config, in exec mode at first.  A config
 * command changes the running config at once and is applied to the system
 * (what the command changed, nothing else). */
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

struct kzd_session {
	struct cli_session cli;
	struct kzd *d;
	struct kzd_session *next;
};

static void *sess_open(void *arg)
{
	struct kzd *d = arg;
	struct kzd_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	cli_session_init(&s->cli, d->running, CLI_NODE_EXEC);
	s->cli.exec = true;
	s->cli.opaque = d;
	s->d = d;
	s->next = d->sessions;
	d->sessions = s;
	return s;
}

static void sess_close(void *p)
{
	struct kzd_session *s = p, **pp;

	for (pp = &s->d->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}

static void copy_text(char *dst, size_t dstlen, const struct ctl_request *req)
{
	size_t n = req->len < dstlen - 1 ? req->len : dstlen - 1;

	memcpy(dst, req->text, n);
	dst[n] = '\0';
}

static int sess_request(void *p, const struct ctl_request *req, struct strbuf *out, uint8_t *status,
			char *prompt, size_t prompt_len)
{
	struct kzd_session *s = p;
	struct cli_error err;
	char *line;
	int r = 0;

	line = malloc(req->len + 1);
	if (!line)
		return KZ_ENOMEM;
	copy_text(line, req->len + 1, req);
	/* A line with a NUL in it is not text the console would send. */
	if (strlen(line) != req->len) {
		sb_puts(out, "% invalid input (NUL byte)\n");
		*status = CTL_ST_ERROR;
		goto out;
	}
	switch (req->type) {
	case CTL_REQ_HELLO:
		kz_strlcpy(s->cli.lang, strncmp(line, "lang=ja", 7) == 0 ? "ja" : "en",
			   sizeof(s->cli.lang));
		break;
	case CTL_REQ_EXEC:
		r = cli_execute(&s->cli, line, out, &err);
		if (r < 0) {
			/* Router style: a caret under the word, then why. */
			char pr[CTL_MAX_PROMPT + 1];

			if (err.msg[0]) {
				if (err.col) {
					cli_prompt(&s->cli, pr, sizeof(pr));
					sb_printf(out, "%*s^\n", (int)(strlen(pr) + err.col), "");
				}
				sb_printf(out, "%% %s\n", err.msg);
			}
			*status = CTL_ST_ERROR;
			r = 0;
			break;
		}
		if (s->cli.effects) {
			kzd_apply(s->d, s->cli.effects, s->cli.eff_unit);
			kzd_ike_config_changed(s->d);
			/* The grammar knows which line held a key, however it
			 * was abbreviated. */
			if (s->cli.secret)
				log_info("console: %s (changed, not shown)",
					 s->cli.secret_what ? s->cli.secret_what
							    : "pre-shared-key");
			else
				log_info("console: %s", line);
		}
		if (s->cli.quit)
			*status = CTL_ST_BYE;
		break;
	case CTL_REQ_COMPLETE:
		r = cli_complete(&s->cli, line, out);
		break;
	case CTL_REQ_HELP:
		r = cli_help(&s->cli, line, out);
		break;
	default:
		sb_puts(out, "% unknown request\n");
		*status = CTL_ST_ERROR;
		break;
	}
out:
	cli_prompt(&s->cli, prompt, prompt_len);
	kz_wipe(line, req->len + 1);
	free(line);
	return r;
}

static const struct ctl_server_ops sess_ops = {
	.session_open = sess_open,
	.session_close = sess_close,
	.request = sess_request,
};

int kzd_sessions_start(struct kzd *d)
{
	int err = 0;

	d->ctl = ctl_server_start(d->base, d->socket_path, &sess_ops, d, &err);
	return d->ctl ? 0 : err;
}

void kzd_sessions_rebind(struct kzd *d)
{
	for (struct kzd_session *s = d->sessions; s; s = s->next)
		s->cli.cfg = d->running;
}
