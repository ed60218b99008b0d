/* main.c - kizunad: the gateway daemon.  Loads the startup config, binds
 * MobileEthernet0.0 to its Linux device, creates the IPsec<N> TUN devices
 * and routes, watches the kernel (netlink) and serves the console socket,
 * all from one libevent loop.  This file is the options and the order of
 * things; the steps are kzd.c's. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kizunad [-c FILE] [-s SOCKET] [-w N] [-f] [-v] [--admin-group G]\n"
		"               [--operator-group G] [--console-idle SECONDS]\n"
		"       kizunad -t [-c FILE | FILE]\n"
		"  -c, --config FILE    startup config (default " KZD_DEFAULT_CONFIG ")\n"
		"  -s, --socket PATH    console socket (default " KZD_DEFAULT_SOCKET ")\n"
		"  -w, --workers N      data-plane threads, 1-8 (default: one per CPU, at most 8)\n"
		"  -f, --foreground     stay in the foreground, log to stderr\n"
		"  -v, --verbose        debug logging (repeat for more)\n"
		"  -t, --check-config   check the config file and exit (0: ok, 1: problems)\n"
		"  -V, --version        print the version\n"
		"  -h, --help           this text\n"
		"  --admin-group G      members of G (and root) may configure\n"
		"  --operator-group G   members of G may show (keys hidden), diagnose, ping\n"
		"  --console-idle S     close console sessions idle S seconds (default 900, 0: "
		"never)\n"
		"  --privsep            privileged parent, unprivileged child (the default\n"
		"                       when started as root)\n"
		"  --no-privsep         one process\n"
		"  --user U             the child's user (default kizuna)\n");
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
		{ "check-config", no_argument, NULL, 't' },
		{ "admin-group", required_argument, NULL, 'A' },
		{ "operator-group", required_argument, NULL, 'O' },
		{ "console-idle", required_argument, NULL, 'I' },
		{ "user", required_argument, NULL, 'U' },
		{ "privsep", no_argument, NULL, 'P' },
		{ "no-privsep", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct kzd *d = calloc(1, sizeof(*d));
	bool foreground = false, check_only = false;
	int verbose = 0, c, r, rc = 1;
	enum kz_log_level level;
	bool unreadable = false;
	/* Two processes (privsep.c) when started as root, unless told not
	 * to; -1: not told. */
	int privsep = -1;
	const char *user = "kizuna";
	struct kzd_privsep ps;

	if (!d)
		return 1;
	/* no core dump and no ptrace by other users: the process holds the
	 * pre-shared keys and every SA's keys */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	kzd_commands_install();
	d->config_path = KZD_DEFAULT_CONFIG;
	d->ike_fd500 = d->ike_fd4500 = -1;
	d->socket_path = KZD_DEFAULT_SOCKET;
	d->console_idle_s = CTL_SERVER_IDLE_S;
	while ((c = getopt_long(argc, argv, "c:s:w:ftvVh", opts, NULL)) != -1) {
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
		case 'A':
		case 'O': {
			struct group *g = getgrnam(optarg);

			if (!g) {
				fprintf(stderr, "kizunad: no group %s\n", optarg);
				return 2;
			}
			if (c == 'A') {
				d->roles.admin = g->gr_gid;
				d->roles.admin_set = true;
			} else {
				d->roles.operator_ = g->gr_gid;
				d->roles.operator_set = true;
			}
			break;
		}
		case 'I': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end || n < 0 || n > 86400) {
				fprintf(stderr, "kizunad: --console-idle takes 0 to 86400\n");
				return 2;
			}
			d->console_idle_s = (unsigned)n;
			break;
		}
		case 'U':
			user = optarg;
			break;
		case 'P':
			privsep = 1;
			break;
		case 'N':
			privsep = 0;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check_only = true;
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
	if (check_only && optind + 1 >= argc) {
		int cr = kzd_check_config(optind < argc ? argv[optind] : d->config_path);

		free(d);
		return cr;
	}
	if (optind != argc) {
		usage(stderr);
		free(d);
		return 2;
	}
	/* Until the daemon is in the background, whatever stops it goes to
	 * the terminal that started it. */
	level = verbose ? KZ_LOG_DEBUG + (verbose > 1) : KZ_LOG_INFO;
	kz_log_open("kizunad", 1, level);
	r = kzd_load(d->config_path, &d->running, &unreadable);
	if (r) {
		log_err("%s: %s; not starting", d->config_path,
			unreadable ? "cannot be read" : "has errors");
		return 1;
	}
	kzd_log_warnings(d);
	if (privsep != 0 && geteuid() != 0) {
		if (privsep > 0)
			log_warn("not started as root: one process, no privilege separation");
		privsep = 0;
	}
	if (privsep) {
		if (kzd_privsep_user(&ps, user) < 0)
			return 1;
		if (!foreground) {
			if (daemon(0, 0) < 0) {
				log_err("cannot go to the background: %s", strerror(errno));
				return 1;
			}
			kz_log_open("kizunad", 0, level);
		}
		return kzd_privsep_run(d, &ps);
	}
	if (kzd_open(d) < 0)
		goto out;
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
	if (kzd_bring_up(d) < 0)
		goto out;
	event_base_dispatch(d->base);
	rc = 0;
out:
	kzd_close(d, rc == 0);
	return rc;
}
