/* session.c - console sessions: each connection to the control socket is a
 * cli_session on the running config, in exec mode at first.  A config
 * command changes the running config at once and is applied to the system
 * (what the command changed, nothing else). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/privmsg.h"
#include "lib/mem.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

struct kzd_session {
	struct cli_session cli;
	struct kzd *d;
	struct kzd_session *next;
	uid_t uid;
	char user[64]; /* the uid's name, or its number */
	enum kz_role role;
};

#define SESS_MAX_GROUPS 256

/* The role of the user uid (primary group gid) by its groups
 * (lib/role.h); its name in user. */
enum kz_role kzd_session_role(const struct kzd *d, uid_t uid, gid_t gid, char *user, size_t len)
{
	gid_t groups[SESS_MAX_GROUPS];
	int n = SESS_MAX_GROUPS;
	struct passwd *pw;

	/* kizunad's child has no passwd and group files: the parent looks */
	if (privmsg_broker)
		return kzd_privsep_role(uid, gid, user, len);
	pw = uid == (uid_t)-1 ? NULL : getpwuid(uid);

	if (pw)
		snprintf(user, len, "%s", pw->pw_name);
	else
		snprintf(user, len, "%u", (unsigned)uid);
	if (uid == (uid_t)-1)
		return d->roles.admin_set || d->roles.operator_set ? KZ_ROLE_NONE : KZ_ROLE_ADMIN;
	if (!pw || getgrouplist(pw->pw_name, gid, groups, &n) < 0) {
		groups[0] = gid;
		n = 1;
	}
	return kz_role_decide(uid, groups, (size_t)n, &d->roles);
}

static void *sess_open(void *arg, uid_t uid, gid_t gid)
{
	struct kzd *d = arg;
	struct kzd_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->uid = uid;
	s->role = kzd_session_role(d, uid, gid, s->user, sizeof(s->user));
	if (s->role == KZ_ROLE_NONE) {
		log_warn("console: refused uid %u (%s): in neither the admin nor the operator "
			 "group",
			 (unsigned)uid, s->user);
		free(s);
		return NULL;
	}
	cli_session_init(&s->cli, d->running, CLI_NODE_EXEC);
	s->cli.read_only = s->role == KZ_ROLE_OPERATOR;
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

	kzd_job_abort(&s->cli); /* a ping still running for it */
	if (s->cli.node != CLI_NODE_EXEC)
		kzd_edit_commit(s->d); /* left configuration mode by leaving */
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
	struct kz_config *pre;
	enum cli_node was;
	char *line;
	int r = 0;

	line = malloc(req->len + 1);
	if (!line)
		return KZ_ENOMEM;
	copy_text(line, req->len + 1, req);
	s->d->req_uid = s->uid;
	s->d->req_uid_known = s->uid != (uid_t)-1;
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
		was = s->cli.node;
		pre = kzd_edit_before(s->d, was);
		r = cli_execute(&s->cli, line, out, &err);
		kzd_edit_after(s->d, pre, was, s->cli.node, r < 0 ? 0 : s->cli.effects);
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
				log_info("console: uid %u (%s): %s (changed, not shown)",
					 (unsigned)s->uid, s->user,
					 s->cli.secret_what ? s->cli.secret_what
							    : "pre-shared-key");
			else
				log_info("console: uid %u (%s): %s", (unsigned)s->uid, s->user,
					 line);
		}
		if (s->cli.quit)
			*status = CTL_ST_BYE;
		else if (s->cli.verdict == 1)
			*status = CTL_ST_OK_PROBLEM;
		else if (s->cli.verdict == 2)
			*status = CTL_ST_OK_UNJUDGED;
		if (kzd_job_pending(&s->cli))
			r = CTL_SERVER_DEFER; /* ping: its output follows */
		break;
	case CTL_REQ_COMPLETE:
		kzd_edit_touch(s->d, s->cli.node);
		r = cli_complete(&s->cli, line, out);
		break;
	case CTL_REQ_HELP:
		kzd_edit_touch(s->d, s->cli.node);
		r = cli_help(&s->cli, line, out);
		break;
	default:
		sb_puts(out, "% unknown request\n");
		*status = CTL_ST_ERROR;
		break;
	}
out:
	s->d->req_uid_known = false;
	cli_prompt(&s->cli, prompt, prompt_len);
	kz_wipe(line, req->len + 1);
	free(line);
	return r;
}

const struct ctl_server_ops kzd_session_ops = {
	.session_open = sess_open,
	.session_close = sess_close,
	.request = sess_request,
};

int kzd_sessions_start(struct kzd *d)
{
	int err = 0;

	d->ctl = ctl_server_start(d->base, d->socket_path, &kzd_session_ops, d, &err);
	if (!d->ctl)
		return err;
	ctl_server_set_idle(d->ctl, d->console_idle_s);
	/* with roles the credentials decide, so both groups must reach the
	 * socket: anyone may connect, the daemon refuses who has no role */
	if ((d->roles.admin_set || d->roles.operator_set) && chmod(d->socket_path, 0666) < 0)
		log_warn("console socket %s: chmod: %s", d->socket_path, strerror(errno));
	return 0;
}

void kzd_sessions_rebind(struct kzd *d)
{
	for (struct kzd_session *s = d->sessions; s; s = s->next)
		s->cli.cfg = d->running;
}
