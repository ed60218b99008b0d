/* ping.c - `ping` and `traceroute` from the gateway, as on a router:
 *
 *   ping A.B.C.D [source (IPsec<N> | MobileEthernet0.0 | A.B.C.D)]
 *                [count N] [size N]
 *   traceroute A.B.C.D [source (IPsec<N> | MobileEthernet0.0 | A.B.C.D)]
 *
 * The daemon runs the system's ping (iputils-ping) and traceroute with -I
 * / -s and the source address, and streams their output to the console as
 * it comes (CTL_ST_MORE responses, ctl_server_reply); the loop never waits
 * for them.  The source:
 *   A.B.C.D            that address
 *   MobileEthernet0.0  the WAN device's first address
 *   IPsec<N>           its `ip address` if it has one; else the gateway's
 *                      own address inside the local selector of the
 *                      profile IPsec<N> maps (the IPsec policy's local-id,
 *                      e.g. 192.168.1.1 on the LAN of 192.168.1.0/24): a
 *                      packet from there to the remote LAN matches the SA,
 *                      so "can the tunnel reach LAN B from our LAN" is one
 *                      command.  The first such address of any interface.
 * A ping runs to its count (at most 1000; -W 2 per reply), a traceroute to
 * 30 hops with one probe of 2 s each; closing the console stops either. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/emit.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "net/netlink.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

extern char **environ;

struct kzd_job {
	struct kzd *d;
	const struct cli_session *cli; /* the console that asked */
	struct ctl_conn *conn;
	pid_t pid;
	bool remote; /* started by the privileged parent (privsep.c) */
	int fd;
	struct event *ev;
	struct kzd_job *next;
};

static struct kzd_job *jobs;

/* An address of this gateway inside p: first of any interface. */
static bool own_addr_in(const struct kz_prefix *p, struct in_addr *out)
{
	struct ifaddrs *ifa, *i;
	uint32_t mask = p->len ? htonl(~0u << (32 - p->len)) : 0;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		struct in_addr a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		if ((a.s_addr & mask) == (p->addr.s_addr & mask)) {
			*out = a;
			found = true;
		}
	}
	freeifaddrs(ifa);
	return found;
}

/* The source address the command asked for, "" for none; 0 or a negative
 * KZ_E* with the reason emitted. */
static int source_addr(struct kzd *d, const struct cli_args *a, struct emit *e, char *out,
		       size_t len)
{
	const struct kz_config *c = d->running;
	const char *ifn = cli_arg(a, "IPsec<N>");
	struct kz_link_state st;
	struct in_addr addr;

	out[0] = '\0';
	if (!cli_has(a, "source"))
		return 0;
	if (cli_arg_n(a, "A.B.C.D", 1)) {
		kz_strlcpy(out, cli_arg_n(a, "A.B.C.D", 1), len);
		return 0;
	}
	if (cli_has(a, "MobileEthernet0.0")) {
		if (!c->mobile.device[0] || kz_net_link_get(c->mobile.device, &st) < 0 ||
		    !st.exists || !st.naddr) {
			emit_error(e, "%% %s has no address\n", KZ_MOBILE_IFNAME);
			return KZ_ENOENT;
		}
		inet_ntop(AF_INET, &st.addr[0].addr, out, (socklen_t)len);
		return 0;
	}
	if (ifn) {
		unsigned unit = cli_parse_ipsec_if(ifn);
		const struct kz_if_ipsec *ifc = kz_find_ipsec_if(c, unit);
		const struct kz_ipsec_profile *p =
			ifc && ifc->map[0] ? kz_find_profile(c, ifc->map) : NULL;
		const struct kz_ipsec_policy *pol =
			p ? kz_find_ipsec_policy(c, p->ipsec_policy) : NULL;
		char pfx[32];

		if (!ifc) {
			emit_error(e, "%% no interface %s\n", ifn);
			return KZ_ENOENT;
		}
		if (ifc->address.addr.s_addr) {
			inet_ntop(AF_INET, &ifc->address.addr, out, (socklen_t)len);
			return 0;
		}
		if (!pol) {
			emit_error(
				e,
				"%% %s maps no profile with an ipsec policy: give source A.B.C.D\n",
				ifn);
			return KZ_ENOENT;
		}
		if (!own_addr_in(&pol->local_ts, &addr)) {
			kz_prefix_str(&pol->local_ts, pfx, sizeof(pfx));
			emit_error(e,
				   "%% no address of this gateway inside %s, the local selector of "
				   "%s: give source A.B.C.D\n",
				   pfx, ifn);
			return KZ_ENOENT;
		}
		inet_ntop(AF_INET, &addr, out, (socklen_t)len);
	}
	return 0;
}

static void job_free(struct kzd_job *j, bool kill_it)
{
	struct kzd_job **pp;

	for (pp = &jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (j->ev)
		event_free(j->ev);
	if (j->fd >= 0)
		close(j->fd);
	if (j->pid > 0 && j->remote) {
		kzd_privsep_job_end(j->pid, kill_it);
	} else if (j->pid > 0) {
		if (kill_it)
			kill(j->pid, SIGTERM);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(j);
}

static void job_read(evutil_socket_t fd, short what, void *arg)
{
	struct kzd_job *j = arg;
	char buf[4096], prompt[CTL_MAX_PROMPT + 1];
	ssize_t n = read(fd, buf, sizeof(buf));
	int st = 0;

	(void)what;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		/* a NUL would be refused by the protocol: never from ping */
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		if (ctl_server_reply(j->conn, CTL_ST_MORE, "", buf, (size_t)n) < 0)
			job_free(j, true);
		return;
	}
	/* the end: the program closed its output when it exited */
	event_free(j->ev);
	j->ev = NULL;
	close(j->fd);
	j->fd = -1;
	if (j->remote)
		st = kzd_privsep_job_end(j->pid, false);
	else
		while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR)
			;
	j->pid = 0;
	cli_prompt(j->cli, prompt, sizeof(prompt));
	/* ping exits non-zero when no reply came: an error for scripts
	 * (`kizuna ping ...` exits 1), its own summary says why */
	ctl_server_reply(j->conn, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? CTL_ST_OK : CTL_ST_ERROR,
			 prompt, "", 0);
	job_free(j, false);
}

int kzd_job_spawn(unsigned tool, struct in_addr dst, const struct in_addr *src, unsigned count,
		  unsigned size, pid_t *pid, int *fd)
{
	char d[INET_ADDRSTRLEN], sa[INET_ADDRSTRLEN], cnt[16], sz[16];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	char *argv[16];
	int n = 0, p[2], r;

	inet_ntop(AF_INET, &dst, d, sizeof(d));
	if (src)
		inet_ntop(AF_INET, src, sa, sizeof(sa));
	snprintf(cnt, sizeof(cnt), "%u", count);
	snprintf(sz, sizeof(sz), "%u", size);
	if (tool == PRIVMSG_TOOL_PING) {
		argv[n++] = "ping";
		argv[n++] = "-n";
		argv[n++] = "-c";
		argv[n++] = cnt;
		argv[n++] = "-s";
		argv[n++] = sz;
		argv[n++] = "-W";
		argv[n++] = "2";
		if (src) {
			argv[n++] = "-I";
			argv[n++] = sa;
		}
	} else {
		argv[n++] = "traceroute";
		argv[n++] = "-n";
		argv[n++] = "-q";
		argv[n++] = "1";
		argv[n++] = "-w";
		argv[n++] = "2";
		argv[n++] = "-m";
		argv[n++] = "30";
		if (src) {
			argv[n++] = "-s";
			argv[n++] = sa;
		}
	}
	argv[n++] = d;
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&def);
	sigdelset(&def, SIGKILL);
	sigdelset(&def, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return r;
	}
	*fd = p[0];
	log_info("console: %s %s started (pid %d)", argv[0], d, (int)*pid);
	return 0;
}

static int run(struct cli_session *s, struct emit *e, unsigned tool, const char *dst,
	       const char *src, unsigned count, unsigned size)
{
	struct kzd *d = s->opaque;
	struct ctl_conn *conn = ctl_server_current(d->ctl);
	const char *name = tool == PRIVMSG_TOOL_PING ? "ping" : "traceroute";
	struct in_addr da, sa;
	struct kzd_job *j;
	bool remote = privmsg_broker != NULL;
	pid_t pid = 0;
	int fd = -1, r;

	if (!conn) {
		emit_error(e, "%% %s runs from the console only\n", name);
		return KZ_EINVAL;
	}
	if (inet_pton(AF_INET, dst, &da) != 1 || (src[0] && inet_pton(AF_INET, src, &sa) != 1)) {
		emit_error(e, "%% %s: bad address\n", name);
		return KZ_EINVAL;
	}
	/* In the unprivileged child the parent starts it (privsep.c). */
	if (remote)
		r = kzd_privsep_job_start(tool, da, src[0] ? &sa : NULL, count, size, &pid, &fd);
	else
		r = kzd_job_spawn(tool, da, src[0] ? &sa : NULL, count, size, &pid, &fd);
	if (r != 0) {
		emit_error(e, "%% cannot run %s: %s (is %s installed?)\n", name, strerror(r),
			   tool == PRIVMSG_TOOL_PING ? "iputils-ping" : "traceroute");
		return KZ_ESYS;
	}
	j = calloc(1, sizeof(*j));
	if (j)
		j->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, job_read, j);
	if (!j || !j->ev) {
		free(j);
		close(fd);
		if (remote)
			kzd_privsep_job_end(pid, true);
		else {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
		}
		emit_error(e, "%% out of memory\n");
		return KZ_ENOMEM;
	}
	j->d = d;
	j->cli = s;
	j->conn = conn;
	j->pid = pid;
	j->remote = remote;
	j->fd = fd;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	event_add(j->ev, NULL);
	j->next = jobs;
	jobs = j;
	return 0;
}

int kzd_x_ping(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	char src[INET_ADDRSTRLEN];
	int r = source_addr(s->opaque, a, e, src, sizeof(src));

	if (r < 0)
		return r;
	/* the grammar checked the ranges */
	return run(s, e, PRIVMSG_TOOL_PING, cli_arg(a, "A.B.C.D"), src,
		   cli_has(a, "count") ? (unsigned)strtoul(cli_arg(a, "COUNT"), NULL, 10) : 5,
		   cli_has(a, "size") ? (unsigned)strtoul(cli_arg(a, "BYTES"), NULL, 10) : 56);
}

int kzd_x_traceroute(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	char src[INET_ADDRSTRLEN];
	int r = source_addr(s->opaque, a, e, src, sizeof(src));

	if (r < 0)
		return r;
	return run(s, e, PRIVMSG_TOOL_TRACEROUTE, cli_arg(a, "A.B.C.D"), src, 1, 0);
}

bool kzd_job_pending(const struct cli_session *s)
{
	for (struct kzd_job *j = jobs; j; j = j->next)
		if (j->cli == s)
			return true;
	return false;
}

void kzd_job_abort(const struct cli_session *s)
{
	struct kzd_job *j = jobs, *next;

	for (; j; j = next) {
		next = j->next;
		if (j->cli == s)
			job_free(j, true);
	}
}
