/* edit.c - one renegotiation per console edit.
 *
 * A config command changes the running config at once, but a change that
 * renegotiates a profile (CLI_EFF_IKE) reaches the IKE engine only when
 * the edit is over: when the console leaves configuration mode (`end`,
 * `exit` to exec, Ctrl-Z, the session closing) or after KZD_EDIT_IDLE
 * seconds without a line, TAB or `?` from a console in a configuration
 * mode (the daemon sees no single keystrokes).  Meanwhile the
 * engine keeps the config of before the edit (d->ike_cfg, a copy), so
 * two `remote-id` lines renegotiate once, with both.  Everything else
 * (interfaces, routes) applies at once, as before.  One edit for all
 * consoles: any of them leaving configuration mode ends it. */
#include <event2/event.h>

#include "lib/log.h"
#include "daemon/daemon.h"

#define KZD_EDIT_IDLE 3 /* seconds without input that end an edit */

static void edit_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kzd_edit_commit(arg);
}

struct kz_config *kzd_edit_before(struct kzd *d, enum cli_node node)
{
	if (node == CLI_NODE_EXEC || d->ike_cfg)
		return NULL;
	return kz_config_dup(d->running);
}

void kzd_edit_after(struct kzd *d, struct kz_config *pre, enum cli_node was, enum cli_node now,
		    unsigned effects)
{
	struct timeval tv = { KZD_EDIT_IDLE, 0 };

	if (pre && (effects & CLI_EFF_IKE) && !d->ike_cfg) {
		d->ike_cfg = pre; /* the engine goes on with the config of before */
		pre = NULL;
		log_debug("console: edit begun; IKE changes wait for its end");
	}
	kz_config_free(pre);
	if (!d->ike_cfg)
		return;
	if (was != CLI_NODE_EXEC && now == CLI_NODE_EXEC) {
		kzd_edit_commit(d);
		return;
	}
	if (was == CLI_NODE_EXEC)
		return; /* exec input is no part of the edit */
	if (!d->ev_edit)
		d->ev_edit = evtimer_new(d->base, edit_timeout, d);
	if (d->ev_edit)
		evtimer_add(d->ev_edit, &tv);
	else
		kzd_edit_commit(d);
}

void kzd_edit_touch(struct kzd *d, enum cli_node node)
{
	struct timeval tv = { KZD_EDIT_IDLE, 0 };

	if (d->ike_cfg && node != CLI_NODE_EXEC && d->ev_edit)
		evtimer_add(d->ev_edit, &tv);
}

void kzd_edit_commit(struct kzd *d)
{
	if (d->ev_edit)
		evtimer_del(d->ev_edit);
	if (!d->ike_cfg)
		return;
	kz_config_free(d->ike_cfg);
	d->ike_cfg = NULL;
	log_info("console: edit done: IKE takes the changes");
	kzd_ike_config_changed(d);
}

void kzd_edit_drop(struct kzd *d)
{
	if (d->ev_edit)
		evtimer_del(d->ev_edit);
	kz_config_free(d->ike_cfg);
	d->ike_cfg = NULL;
}

void kzd_edit_free(struct kzd *d)
{
	kzd_edit_drop(d);
	kzd_event_free(&d->ev_edit);
}
