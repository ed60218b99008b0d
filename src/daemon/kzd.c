/* kzd.c - kizunad's life: loading the startup file, bringing the daemon
 * up (console socket, netlink watch, signals, then the system, the data
 * plane and IKE) and taking it down again.  main.c parses the options and
 * runs the loop in between; the golden console transcripts
 * (tests/cli/golden.c) run the same steps in their own process. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "net/netlink.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

#define MAX_LOAD_ERRORS 20

/* Loads the startup file; on any error nothing changes and every error
 * is logged with file:line:column. */
int kzd_load(const char *path, struct kz_config **out, bool *unreadable)
{
	struct cli_load_error errs[MAX_LOAD_ERRORS];
	size_t n = 0;
	int r = cli_load_file(path, out, errs, MAX_LOAD_ERRORS, &n);

	if (unreadable)
		*unreadable = r == KZ_EIO;
	if (r == KZ_EIO)
		log_err("cannot read %s: %s", path, strerror(errno));
	for (size_t i = 0; i < n && i < MAX_LOAD_ERRORS; i++)
		log_err("%s:%u:%zu: error: %s", path, errs[i].line, errs[i].col, errs[i].msg);
	if (n > MAX_LOAD_ERRORS)
		log_err("%s: %zu more errors", path, n - MAX_LOAD_ERRORS);
	if (r == 0) {
		char why[600];

		if (cli_file_exposed(path, *out, why, sizeof(why)))
			log_warn("%s", why);
	}
	return r < 0 ? (int)(n ? n : 1) : 0;
}

void kzd_event_free(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

int kzd_reload(struct kzd *d)
{
	return kzd_reload_from(d, d->config_path);
}

/* kizunad's unprivileged child: the file comes from the parent (the
 * startup file or a version of the archive, privsep.c), the errors are
 * logged the same way. */
static int load_via_parent(struct kzd *d, const char *path, struct kz_config **out)
{
	struct cli_load_error errs[MAX_LOAD_ERRORS];
	size_t plen = strlen(d->config_path), len = 0, n = 0;
	unsigned version = 0;
	char *text;
	int r;

	if (strcmp(path, d->config_path)) {
		if (strncmp(path, d->config_path, plen) || path[plen] != '.')
			return 1;
		version = (unsigned)strtoul(path + plen + 1, NULL, 10);
	}
	text = kzd_file_read(d, version, &len);
	if (!text) {
		log_err("cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	r = cli_load_text(text, len, out, errs, MAX_LOAD_ERRORS, &n);
	kz_wipe(text, len);
	free(text);
	for (size_t i = 0; i < n && i < MAX_LOAD_ERRORS; i++)
		log_err("%s:%u:%zu: error: %s", path, errs[i].line, errs[i].col, errs[i].msg);
	if (n > MAX_LOAD_ERRORS)
		log_err("%s: %zu more errors", path, n - MAX_LOAD_ERRORS);
	return r < 0 ? (int)(n ? n : 1) : 0;
}

int kzd_reload_from(struct kzd *d, const char *path)
{
	struct kz_config *c = NULL;
	int n = privmsg_broker ? load_via_parent(d, path, &c) : kzd_load(path, &c, NULL);

	if (n) {
		log_err("reload of %s refused; the running config stays", path);
		return n;
	}
	kzd_edit_drop(d); /* an edit under way is replaced too */
	kz_config_free(d->running);
	d->running = c;
	kzd_sessions_rebind(d);
	kzd_log_warnings(d);
	kzd_apply(d, KZD_APPLY_ALL, 0);
	kzd_ike_config_changed(d);
	log_info("reloaded %s", path);
	return 0;
}

static int on_net_event(const struct kz_net_event *ev, void *arg)
{
	struct kzd *d = arg;
	const char *dev = d->running->mobile.device;

	/* Route events are mostly our own doing; links and addresses are
	 * what routes and the config check depend on. */
	if (ev->type != KZ_NET_EV_ROUTE_NEW && ev->type != KZ_NET_EV_ROUTE_DEL)
		d->links_changed = true;

	if (dev[0] && !strcmp(ev->ifname, dev)) {
		if (ev->type == KZ_NET_EV_LINK)
			log_info("%s (%s) is %s", KZ_MOBILE_IFNAME, dev,
				 !ev->admin_up          ? "administratively down"
					 : ev->lower_up ? "up"
							: "down (no carrier)");
		else if (ev->type == KZ_NET_EV_LINK_DEL)
			log_warn("%s: device %s went away", KZ_MOBILE_IFNAME, dev);
		else if (ev->type == KZ_NET_EV_ADDR_NEW || ev->type == KZ_NET_EV_ADDR_DEL) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &ev->addr.addr, a, sizeof(a));
			log_info("%s (%s): address %s/%u %s", KZ_MOBILE_IFNAME, dev, a,
				 ev->addr.plen,
				 ev->type == KZ_NET_EV_ADDR_NEW ? "added" : "removed");
		}
	}
	return 0;
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	int r;

	d->links_changed = false;
	r = kz_net_watch_read(d->watch, on_net_event, d);
	if (r < 0 && r != KZ_EBUSY)
		log_debug("netlink watch: %s", kz_strerror(r));
	/* Links changed: routes through them may be gone, the check may
	 * give another answer. */
	if (d->links_changed || r < 0) {
		kzd_net_changed(d);
		kzd_ike_config_changed(d); /* the WAN address may have come or gone */
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct kzd *d = arg;

	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->config_path);
		kzd_reload(d);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(d->base);
}


int kzd_open(struct kzd *d)
{
	int r;

	d->base = event_base_new();
	if (!d->base) {
		log_err("cannot create the event loop");
		return -1;
	}
	if (d->socket_path) {
		r = kzd_sessions_start(d);
		if (r == KZ_EBUSY) {
			log_err("another instance is running on %s", d->socket_path);
			return -1;
		} else if (r < 0) {
			log_err("cannot serve the console on %s: %s", d->socket_path,
				kz_strerror(r));
			return -1;
		}
	}
	d->t_listen = mono_ms();
	r = kz_net_watch_open(&d->watch);
	if (r < 0) {
		log_err("cannot watch the kernel's links (netlink): %s", kz_strerror(r));
		return -1;
	}
	d->ev_watch =
		event_new(d->base, kz_net_watch_fd(d->watch), EV_READ | EV_PERSIST, on_watch, d);
	d->ev_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->ev_int = evsignal_new(d->base, SIGINT, on_signal, d);
	if (!d->ev_watch || !d->ev_hup || !d->ev_term || !d->ev_int ||
	    event_add(d->ev_watch, NULL) || event_add(d->ev_hup, NULL) ||
	    event_add(d->ev_term, NULL) || event_add(d->ev_int, NULL)) {
		log_err("cannot set up events");
		return -1;
	}
	return 0;
}

int kzd_bring_up(struct kzd *d)
{
	uint64_t t_ready;

	kzd_apply(d, KZD_APPLY_ALL, 0);
	if (kzd_dataplane_start(d) < 0 || kzd_ike_start(d) < 0 || kzd_metrics_start(d) < 0)
		return -1;
	log_info("kizunad %s started: config %s, console %s", KZ_VERSION, d->config_path,
		 d->socket_path ? d->socket_path : "(none)");
	/* The console socket listens from the start, but a request is
	 * answered only from here on: a slow start-up (a restart once took
	 * more than the 10 s a test waits) is worth a line. */
	t_ready = mono_ms();
	if (t_ready - d->t_listen >= 1000u)
		log_warn("start-up took %llu ms: the console waited as long",
			 (unsigned long long)(t_ready - d->t_listen));
	else
		log_debug("start-up took %llu ms", (unsigned long long)(t_ready - d->t_listen));
	return 0;
}

/* Removes every route of ours, the fail-closed ones too: the operator
 * switched the VPN off. */
void kzd_routes_flush(void)
{
	size_t n = 0;
	int fr = kz_net_route_flush_own(&n);

	if (fr < 0)
		log_warn("cannot remove kizuna's routes: %s",
			 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(fr));
	else
		log_info("removed %zu routes of kizuna", n);
}

void kzd_close(struct kzd *d, bool clean)
{
	kzd_metrics_stop(d);
	ctl_server_stop(d->ctl);
	kzd_edit_free(d);
	kzd_mobile_stop(d);
	kzd_ike_stop(d);
	kzd_dataplane_free(d);
	/* A clean stop (SIGTERM, SIGINT) is the operator switching the VPN
	 * off: every route of ours goes, the fail-closed ones too.  A start
	 * that failed leaves them, as a crash does; so does a second instance
	 * refused above, whose routes are not its own. */
	if (clean)
		kzd_routes_flush();
	kzd_apply_close(d);
	kzd_event_free(&d->ev_watch);
	kzd_event_free(&d->ev_hup);
	kzd_event_free(&d->ev_term);
	kzd_event_free(&d->ev_int);
	kz_net_watch_close(d->watch);
	kz_net_close();
	for (size_t k = 0; k < d->nlast_check; k++)
		free(d->last_check[k]);
	free(d->last_check);
	kz_config_free(d->running);
	if (d->base)
		event_base_free(d->base);
	free(d);
}
