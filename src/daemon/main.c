/* main.c - kizunad: the gateway daemon.  Loads the startup config, binds
 * MobileEthernet0.0 to its Linux device, creates the IPsec<N> TUN devices
 * and routes, watches the kernel (netlink) and serves the console socket,
 * all from one libevent loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "net/netlink.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

#define MAX_LOAD_ERRORS 20

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kizunad [-c FILE] [-s SOCKET] [-w N] [-f] [-v]\n"
		"  -c, --config FILE    startup config (default " KZD_DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH    console socket (default " KZD_DEFAULT_SOCKET ")\n"
		"  -w, --workers N      data-plane threads, 1-8 (default: one per CPU, at most 8)\n"
		"  -f, --foreground     stay in the foreground, log to stderr\n"
		"  -v, --verbose        debug logging (repeat for more)\n"
		"  -V, --version        print the version\n"
		"  -h, --help           this text\n");
}

/* Loads the startup file; on any error nothing changes and every error
 * is logged with file:line:column. */
static bool errno_read; /* the last load failed to read the file */

static int load(const char *path, struct kz_config **out)
{
	struct cli_load_error errs[MAX_LOAD_ERRORS];
	size_t n = 0;
	int r = cli_load_file(path, out, errs, MAX_LOAD_ERRORS, &n);

	errno_read = r == KZ_EIO;
	if (r == KZ_EIO)
		log_err("cannot read %s: %s", path, strerror(errno));
	for (size_t i = 0; i < n && i < MAX_LOAD_ERRORS; i++)
		log_err("%s:%u:%zu: error: %s", path, errs[i].line, errs[i].col, errs[i].msg);
	if (n > MAX_LOAD_ERRORS)
		log_err("%s: %zu more errors", path, n - MAX_LOAD_ERRORS);
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
	struct kz_config *c = NULL;
	int n = load(d->config_path, &c);

	if (n) {
		log_err("reload of %s refused; the running config stays", d->config_path);
		return n;
	}
	kz_config_free(d->running);
	d->running = c;
	kzd_sessions_rebind(d);
	kzd_log_warnings(d);
	kzd_apply(d, KZD_APPLY_ALL, 0);
	kzd_ike_config_changed(d);
	log_info("reloaded %s", d->config_path);
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "workers", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct kzd *d = calloc(1, sizeof(*d));
	bool foreground = false;
	int verbose = 0, c, r, rc = 1;
	enum kz_log_level level;
	uint64_t t_listen, t_ready;

	if (!d)
		return 1;
	kzd_commands_install();
	d->config_path = KZD_DEFAULT_CONFIG;
	d->ike_fd500 = d->ike_fd4500 = -1;
	d->socket_path = KZD_DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "c:s:w:fvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 's':
			d->socket_path = optarg;
			break;
		case 'w': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end || n < 1 || n > KZD_MAX_WORKERS) {
				fprintf(stderr, "kizunad: --workers takes 1 to %d\n",
					KZD_MAX_WORKERS);
				return 2;
			}
			d->workers = (unsigned)n;
			break;
		}
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("kizunad %s\n", KZ_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Until the daemon is in the background, whatever stops it goes to
	 * the terminal that started it. */
	level = verbose ? KZ_LOG_DEBUG + (verbose > 1) : KZ_LOG_INFO;
	kz_log_open("kizunad", 1, level);
	r = load(d->config_path, &d->running);
	if (r) {
		log_err("%s: %s; not starting", d->config_path,
			errno_read ? "cannot be read" : "has errors");
		return 1;
	}
	kzd_log_warnings(d);
	d->base = event_base_new();
	if (!d->base) {
		log_err("cannot create the event loop");
		return 1;
	}
	r = kzd_sessions_start(d);
	t_listen = mono_ms();
	if (r == KZ_EBUSY) {
		log_err("another instance is running on %s", d->socket_path);
		goto out;
	} else if (r < 0) {
		log_err("cannot serve the console on %s: %s", d->socket_path, kz_strerror(r));
		goto out;
	}
	r = kz_net_watch_open(&d->watch);
	if (r < 0) {
		log_err("cannot watch the kernel's links (netlink): %s", kz_strerror(r));
		goto out;
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
		goto out;
	}
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			log_err("cannot go to the background: %s", strerror(errno));
			goto out;
		}
		kz_log_open("kizunad", 0, level);
		if (event_reinit(d->base) < 0) {
			log_err("cannot set up the event loop after fork");
			goto out;
		}
	}
	kzd_apply(d, KZD_APPLY_ALL, 0);
	if (kzd_dataplane_start(d) < 0 || kzd_ike_start(d) < 0)
		goto out;
	log_info("kizunad %s started: config %s, console %s", KZ_VERSION, d->config_path,
		 d->socket_path);
	/* The console socket listens from the start, but a request is
	 * answered only from here on: a slow start-up (a restart once took
	 * more than the 10 s a test waits) is worth a line. */
	t_ready = mono_ms();
	if (t_ready - t_listen >= 1000u)
		log_warn("start-up took %llu ms: the console waited as long",
			 (unsigned long long)(t_ready - t_listen));
	else
		log_debug("start-up took %llu ms", (unsigned long long)(t_ready - t_listen));
	event_base_dispatch(d->base);
	rc = 0;
out:
	ctl_server_stop(d->ctl);
	kzd_mobile_stop(d);
	kzd_ike_stop(d);
	kzd_dataplane_free(d);
	/* A clean stop (SIGTERM, SIGINT) is the operator switching the VPN
	 * off: every route of ours goes, the fail-closed ones too.  A start
	 * that failed leaves them, as a crash does; so does a second instance
	 * refused above, whose routes are not its own. */
	if (rc == 0) {
		size_t n = 0;
		int fr = kz_net_route_flush_own(&n);

		if (fr < 0)
			log_warn("cannot remove kizuna's routes: %s",
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(fr));
		else
			log_info("removed %zu routes of kizuna", n);
	}
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
	event_base_free(d->base);
	free(d);
	return rc;
}
