/* privsep.c - kizunad split in two processes (docs/architecture.md,
 * "Processes").
 *
 * The parent stays root and does only what needs it: netlink changes
 * (links, addresses, routes), opening TUN queues, the UDP 500/4500 and raw
 * ESP sockets, and at a clean stop removing our routes.  It never reads a
 * packet: it keeps no copy of a descriptor it hands over.  The child runs
 * everything else (IKE, the data plane, the console) as the user kizuna,
 * in an empty chroot, without capabilities, with NoNewPrivs and a seccomp
 * allow-list, and asks the parent over a SOCK_SEQPACKET socketpair with
 * the messages of lib/privmsg.h; the layers below the daemon forward their
 * privileged calls through privmsg_broker, so their callers are the same
 * in one process and in two.
 *
 * A child that dies (a crash, SIGKILL) takes its TUN devices and the
 * routes through them along; the fail-closed `unreachable` routes stay, so
 * nothing leaves in clear.  The parent logs it and starts a new child after
 * 1 s, doubling to 30 s while children die within 60 s of their start. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "net/netlink.h"
#include "net/tun.h"
#include "daemon/daemon.h"
#include "daemon/privsep_int.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define UP_RESET_MS 60000
#define STOP_WAIT_MS 10000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the parent's side ---- */

static uint8_t *reply_buf;

static int reply_send_full(int sp, int rc, int32_t id, const char *text, size_t tlen, int fd)
{
	struct privmsg m = { .type = PRIVMSG_REPLY, .rc = rc, .id = id };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	size_t len;
	ssize_t n;

	if (text) {
		m.text = (const uint8_t *)text;
		m.text_len = tlen;
	}
	if (privmsg_encode(&m, reply_buf, PRIVMSG_MAX, &len))
		return -1;
	iov = (struct iovec){ reply_buf, len };
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sp, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

static int reply_send(int sp, int rc, const char *text, size_t tlen, int fd)
{
	return reply_send_full(sp, rc, 0, text, tlen, fd);
}

static int reply_send_id(int sp, int rc, int32_t id, int fd)
{
	return reply_send_full(sp, rc, id, NULL, 0, fd);
}

/* A TUN device of ours: ipsec0 .. ipsec<KZ_MAX_IPSEC_IF - 1>. */
static bool our_tun(const char *name)
{
	char want[16];

	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++) {
		kzd_tun_name(u, want, sizeof(want));
		if (!strcmp(want, name))
			return true;
	}
	return false;
}

/* Runs one request of the child; the reply goes back at once.  The same
 * functions as in one process, with privmsg_broker unset here. */
/* The startup file or archive version n, read by the parent. */
static char *file_read_local(const struct kzd *d, unsigned version, size_t *len)
{
	char path[4200];
	FILE *f;
	char *t;

	if (version)
		snprintf(path, sizeof(path), "%s.%u", d->config_path, version);
	else
		snprintf(path, sizeof(path), "%s", d->config_path);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	t = malloc(CLI_MAX_FILE + 1);
	if (!t) {
		fclose(f);
		return NULL;
	}
	*len = fread(t, 1, CLI_MAX_FILE, f);
	t[*len] = '\0';
	fclose(f);
	return t;
}

char *kzd_file_read(struct kzd *d, unsigned version, size_t *len)
{
	struct privmsg m = { .type = version ? PRIVMSG_READ_ARCHIVE : PRIVMSG_READ_STARTUP,
			     .version = version },
		       reply;
	int fd = -1, r;
	char *t;

	*len = 0;
	if (!privmsg_broker)
		return file_read_local(d, version, len);
	if (version > KZD_ARCHIVE_KEEP) {
		errno = ENOENT;
		return NULL;
	}
	r = privmsg_broker(&m, &reply, &fd);
	if (fd >= 0)
		close(fd);
	if (r) {
		errno = r == KZ_ENOENT ? ENOENT : EACCES;
		return NULL;
	}
	t = malloc(reply.text_len + 1);
	if (!t)
		return NULL;
	memcpy(t, reply.text, reply.text_len);
	t[reply.text_len] = '\0';
	*len = reply.text_len;
	kz_wipe((void *)reply.text, reply.text_len);
	return t;
}

int kzd_privsep_save(struct kzd *d, const char *text, size_t len)
{
	struct privmsg m = { .type = PRIVMSG_SAVE_CONFIG,
			     .uid = d->req_uid_known ? (uint32_t)d->req_uid : UINT32_MAX,
			     .text = (const uint8_t *)text,
			     .text_len = len },
		       reply;
	int fd = -1, r = privmsg_broker(&m, &reply, &fd);

	if (fd >= 0)
		close(fd);
	if (r)
		errno = reply.text_len && reply.text_len < 4 ? (int)reply.text[0] : EACCES;
	return r ? -1 : 0;
}

int kzd_privsep_job_start(unsigned tool, struct in_addr dst, const struct in_addr *src,
			  unsigned count, unsigned size, pid_t *pid, int *fd)
{
	struct privmsg m = { .type = PRIVMSG_JOB_START,
			     .tool = (uint8_t)tool,
			     .addr = dst.s_addr,
			     .has_prefsrc = src != NULL,
			     .prefsrc = src ? src->s_addr : 0,
			     .count = count,
			     .size = size },
		       reply;
	int r = privmsg_broker(&m, &reply, fd);

	if (r || *fd < 0 || reply.id <= 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return r == KZ_ESYS && reply.id > 0 ? reply.id : EPERM;
	}
	*pid = reply.id;
	return 0;
}

int kzd_privsep_job_end(pid_t pid, bool kill_it)
{
	struct privmsg m = { .type = PRIVMSG_JOB_END, .id = pid, .up = kill_it }, reply;
	int fd = -1, r = privmsg_broker(&m, &reply, &fd);

	if (fd >= 0)
		close(fd);
	return r ? 1 << 8 : reply.id; /* unknown: as "exit 1" */
}

int kzd_privsep_metrics(const char *path, const char *text, size_t len)
{
	struct privmsg m = { .type = text ? PRIVMSG_METRICS_WRITE : PRIVMSG_METRICS_REMOVE,
			     .text = (const uint8_t *)text,
			     .text_len = len },
		       reply;
	int fd = -1, r;

	if (strlen(path) >= sizeof(m.path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(m.path, path, strlen(path) + 1);
	r = privmsg_broker(&m, &reply, &fd);
	if (fd >= 0)
		close(fd);
	if (r)
		errno = reply.id > 0 ? reply.id : EACCES;
	return r ? -1 : 0;
}

/* The parent writes the metrics file only where its own copy of the
 * config (the startup file, read at start, SIGHUP and write memory) says:
 * PATH.tmp, then renamed over PATH. */
static int metrics_write(const struct kzd *d, const struct privmsg *m)
{
	const struct kz_metrics *cfg = &d->running->metrics;

	if (!cfg->set || strcmp(cfg->path, m->path)) {
		log_warn("privsep: metrics file %s is not the startup file's (write memory "
			 "first)",
			 m->path);
		errno = EPERM;
		return -1;
	}
	if (m->type == PRIVMSG_METRICS_REMOVE)
		return unlink(m->path) < 0 && errno != ENOENT ? -1 : 0;
	return kzd_file_replace(m->path, m->text, m->text_len, 0644, false);
}

/* The startup file again (after write memory, on SIGHUP, before a new
 * child); one with errors leaves the copy as it was. */
static void parent_reload(struct kzd *d)
{
	struct kz_config *c = NULL;

	if (kzd_load(d->config_path, &c, NULL) == 0) {
		kz_config_free(d->running);
		d->running = c;
	}
}

int kzd_privsep_bus_open(void)
{
	struct privmsg m = { .type = PRIVMSG_BUS_OPEN }, reply;
	int fd = -1, r = privmsg_broker(&m, &reply, &fd);

	if (r && fd >= 0) {
		close(fd);
		fd = -1;
	}
	/* the parent said why (warning); tried again in 10 s */
	if (r && reply.text_len)
		log_debug("mobile: no system bus from the privileged process: %.*s",
			  (int)(reply.text_len < 200 ? reply.text_len : 200),
			  (const char *)reply.text);
	else if (r)
		log_debug("mobile: no system bus from the privileged process: %s", kz_strerror(r));
	return fd;
}

enum kz_role kzd_privsep_role(uid_t uid, gid_t gid, char *user, size_t len)
{
	struct privmsg m = { .type = PRIVMSG_USER_ROLE,
			     .uid = (uint32_t)uid,
			     .gid = (uint32_t)gid },
		       reply;
	int fd = -1, r = privmsg_broker(&m, &reply, &fd);

	if (fd >= 0)
		close(fd);
	snprintf(user, len, "%u", (unsigned)uid);
	if (r)
		return KZ_ROLE_NONE;
	if (reply.text_len && reply.text_len < len) {
		memcpy(user, reply.text, reply.text_len);
		user[reply.text_len] = '\0';
	}
	return reply.id == KZ_ROLE_OPERATOR || reply.id == KZ_ROLE_ADMIN ? (enum kz_role)reply.id
									 : KZ_ROLE_NONE;
}

/* The parent's ping/traceroute processes, reaped only when the child asks
 * (JOB_END) or is gone. */
#define MAX_JOBS 16
static pid_t jobs[MAX_JOBS];

static int job_slot(pid_t pid)
{
	for (int i = 0; i < MAX_JOBS; i++)
		if (jobs[i] == pid)
			return i;
	return -1;
}

static int job_reap(int i, bool kill_it)
{
	int st = 1 << 8;

	if (kill_it)
		kill(jobs[i], SIGTERM);
	while (waitpid(jobs[i], &st, 0) < 0 && errno == EINTR)
		;
	jobs[i] = 0;
	return st;
}

static void jobs_reap_all(void)
{
	for (int i = 0; i < MAX_JOBS; i++)
		if (jobs[i] > 0)
			job_reap(i, true);
}

/* The system bus's socket: the first address of DBUS_SYSTEM_BUS_ADDRESS
 * (";"-separated) if it is set, else the standard path.  Only
 * unix:path=... is taken; ",guid=" and the like after it are ignored. */
static int bus_path(struct sockaddr_un *sa)
{
	const char *env = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	const char *p = "/run/dbus/system_bus_socket";
	size_t n = strlen(p);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (env && *env) {
		if (strncmp(env, "unix:", 5))
			return KZ_ENOTSUP;
		p = env + 5;
		n = strcspn(p, ";");
		/* the key=value pairs of the first address */
		for (;;) {
			size_t k = strcspn(p, ",;");

			if (k > 5 && k <= n && !strncmp(p, "path=", 5)) {
				p += 5;
				n = k - 5;
				break;
			}
			if (k >= n)
				return KZ_ENOTSUP;
			p += k + 1;
			n -= k + 1;
		}
		if (memchr(p, '%', n)) /* escaped bytes: not for us */
			return KZ_ENOTSUP;
	}
	if (n == 0 || n >= sizeof(sa->sun_path))
		return KZ_EINVAL;
	memcpy(sa->sun_path, p, n);
	return 0;
}

/* A stream socket connected to the system bus by a short-lived process
 * that has become the child's user completely first: the bus takes the
 * connecting process's credentials (SO_PEERCRED, SO_PEERGROUPS), so the
 * child authenticates as that user, never as root.  0 and *fd, or KZ_ESYS
 * with errno. */
static int bus_connect(const struct kzd_privsep *ps, int *fd)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_un sa;
	int s, st = 0, r = bus_path(&sa);
	pid_t pid;

	*fd = -1;
	if (r) {
		log_warn("privsep: DBUS_SYSTEM_BUS_ADDRESS: only unix:path=... is supported");
		return r;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return KZ_ESYS;
	/* a bus that does not accept: connect() gives up after 5 s */
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pid = fork();
	if (pid < 0) {
		close(s);
		return KZ_ESYS;
	}
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(ps->gid, ps->gid, ps->gid) < 0 ||
		    setresuid(ps->uid, ps->uid, ps->uid) < 0 || getuid() != ps->uid ||
		    geteuid() != ps->uid)
			_exit(EPERM);
		_exit(connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		int e = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;

		close(s);
		log_warn("privsep: cannot connect to the system bus %s as %s: %s", sa.sun_path,
			 ps->user, strerror(e));
		errno = e; /* for the reply's text */
		return KZ_ESYS;
	}
	tv.tv_sec = 0;
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*fd = s;
	return 0;
}

static void serve(struct kzd *d, const struct kzd_privsep *ps, int sp, const uint8_t *in,
		  size_t len)
{
	struct privmsg m;
	struct in_addr a, gw;
	const char *oif;
	int fd = -1, r;

	r = privmsg_decode(in, len, &m);
	if (r || m.type == PRIVMSG_REPLY) {
		log_warn("privsep: refused a malformed request from the child (%s)",
			 kz_strerror(r ? r : KZ_EPROTO));
		reply_send(sp, r ? r : KZ_EPROTO, "malformed request", 17, -1);
		return;
	}
	a.s_addr = m.addr;
	gw.s_addr = m.gw;
	oif = m.ifname[0] ? m.ifname : NULL;
	switch (m.type) {
	case PRIVMSG_LINK_UP:
		r = kz_net_link_set_up(m.ifname, m.up);
		break;
	case PRIVMSG_LINK_MTU:
		r = kz_net_link_set_mtu(m.ifname, m.mtu);
		break;
	case PRIVMSG_ADDR_ADD:
		r = kz_net_addr_add(m.ifname, a, m.plen);
		break;
	case PRIVMSG_ADDR_DEL:
		r = kz_net_addr_del(m.ifname, a, m.plen);
		break;
	case PRIVMSG_ROUTE_ADD:
		r = kz_net_route_add_type(m.rtype, a, m.plen, m.metric, oif, m.has_gw ? &gw : NULL);
		break;
	case PRIVMSG_ROUTE_DEL:
		r = kz_net_route_del_type(m.rtype, a, m.plen, m.metric, oif, m.has_gw ? &gw : NULL);
		break;
	case PRIVMSG_ROUTE_DEL_OWN: {
		struct kz_net_route rt;

		memset(&rt, 0, sizeof(rt));
		rt.dst = a;
		rt.plen = m.plen;
		rt.tos = m.tos;
		rt.protocol = m.protocol; /* kz_net_route_del_own: KZ_RTPROT only */
		rt.scope = m.scope;
		rt.type = m.rtype;
		rt.table = m.table;
		rt.metric = m.metric;
		rt.oif = m.oif;
		rt.has_gw = m.has_gw;
		rt.gw = gw;
		rt.has_prefsrc = m.has_prefsrc;
		rt.prefsrc.s_addr = m.prefsrc;
		r = kz_net_route_del_own(&rt);
		break;
	}
	case PRIVMSG_TUN_OPEN:
		r = our_tun(m.ifname) ? kz_tun_create(m.ifname, m.flags, &fd) : KZ_EINVAL;
		break;
	case PRIVMSG_UDP_OPEN:
		fd = dp_udp_open(m.port);
		r = fd < 0 ? KZ_ESYS : 0;
		break;
	case PRIVMSG_ESP_OPEN:
		fd = dp_esp_open();
		r = fd < 0 ? KZ_ESYS : 0;
		break;
	case PRIVMSG_BUS_OPEN:
		/* only for a modem of the startup file (as the metrics file) */
		if (!d->running->mobile.present || !d->running->mobile.modem[0]) {
			static const char no[] =
				"the startup file has no modem (write memory first)";

			log_warn("privsep: no system bus for the unprivileged process: %s", no);
			reply_send(sp, KZ_ENOTSUP, no, sizeof(no) - 1, -1);
			return;
		}
		r = bus_connect(ps, &fd);
		break;
	case PRIVMSG_READ_STARTUP:
	case PRIVMSG_READ_ARCHIVE: {
		size_t tl = 0;
		char *t = file_read_local(d, m.type == PRIVMSG_READ_ARCHIVE ? m.version : 0, &tl);

		r = t ? 0 : errno == ENOENT ? KZ_ENOENT : KZ_EIO;
		reply_send(sp, r, t, tl, -1);
		if (t) {
			kz_wipe(t, tl);
			free(t);
		}
		return;
	}
	case PRIVMSG_JOB_START: {
		struct in_addr src = { m.prefsrc };
		int i = job_slot(0);
		pid_t pid = 0;

		if (i < 0) {
			reply_send(sp, KZ_EBUSY, NULL, 0, -1);
			return;
		}
		r = kzd_job_spawn(m.tool, a, m.has_prefsrc ? &src : NULL, m.count, m.size, &pid,
				  &fd);
		if (r) {
			reply_send_id(sp, KZ_ESYS, r, -1);
			return;
		}
		jobs[i] = pid;
		reply_send_id(sp, 0, pid, fd);
		close(fd); /* the output is the child's to read */
		return;
	}
	case PRIVMSG_USER_ROLE: {
		char name[64];
		enum kz_role role =
			kzd_session_role(d, (uid_t)m.uid, (gid_t)m.gid, name, sizeof(name));

		reply_send_full(sp, 0, (int32_t)role, name, strlen(name), -1);
		return;
	}
	case PRIVMSG_METRICS_WRITE:
	case PRIVMSG_METRICS_REMOVE:
		r = metrics_write(d, &m) < 0 ? KZ_ESYS : 0;
		reply_send_id(sp, r, r ? errno : 0, -1);
		return;
	case PRIVMSG_JOB_END: {
		int i = job_slot(m.id);

		if (i < 0) {
			reply_send(sp, KZ_ENOENT, NULL, 0, -1);
			return;
		}
		reply_send_id(sp, 0, job_reap(i, m.up), -1);
		return;
	}
	case PRIVMSG_SAVE_CONFIG: {
		/* The uid of the console user who saved, for the archive. */
		char e;

		d->req_uid = (uid_t)m.uid;
		d->req_uid_known = m.uid != UINT32_MAX;
		r = kzd_save_config(d, (const char *)m.text, m.text_len) < 0 ? KZ_EIO : 0;
		if (!r)
			parent_reload(d);
		e = (char)(r ? errno : 0);
		reply_send(sp, r, r ? &e : NULL, r ? 1 : 0, -1);
		return;
	}
	default:
		r = KZ_ENOTSUP;
		break;
	}
	if (r && fd >= 0) {
		close(fd);
		fd = -1;
	}
	{
		const char *msg = r && m.type <= PRIVMSG_ROUTE_DEL_OWN ? kz_net_errmsg()
			: r == KZ_ESYS                                 ? strerror(errno)
								       : NULL;

		reply_send(sp, r, msg, msg ? strnlen(msg, 400) : 0, fd);
	}
	/* Handed over: the parent keeps no network socket, no TUN queue. */
	if (fd >= 0)
		close(fd);
}

struct parent {
	struct kzd *d;
	const struct kzd_privsep *ps;
	pid_t child;
	int sp;
	uint64_t started, restart_at;
	unsigned backoff_ms;
	bool stopping, failed;
	uint8_t *buf;
};

static int spawn(struct parent *p)
{
	int sv[2];
	pid_t pid, me = getpid();

	int size = 4 * (int)PRIVMSG_MAX;

	kzd_privsep_resolver_sync(true);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("privsep: socketpair: %s", strerror(errno));
		return -1;
	}
	/* room for the largest message (a config file) either way */
	for (int i = 0; i < 2; i++) {
		(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
		(void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	}
	pid = fork();
	if (pid < 0) {
		log_err("privsep: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(kzd_privsep_child(p->d, p->ps, sv[1], me));
	}
	close(sv[1]);
	p->sp = sv[0];
	p->child = pid;
	p->started = now_ms();
	log_info("privsep: started the unprivileged process (pid %d)", (int)pid);
	return 0;
}

static void child_gone(struct parent *p, int status)
{
	uint64_t up = now_ms() - p->started;
	char how[64];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	p->child = -1;
	if (p->sp >= 0) {
		close(p->sp);
		p->sp = -1;
	}
	jobs_reap_all();
	if (p->stopping)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_FATAL) {
		log_err("privsep: the unprivileged process could not start; stopping");
		p->stopping = true;
		p->failed = true;
		return;
	}
	if (up >= UP_RESET_MS)
		p->backoff_ms = BACKOFF_MIN_MS;
	log_err("privsep: the unprivileged process %s; fail-closed routes stay; restart in %u ms",
		how, p->backoff_ms);
	p->restart_at = now_ms() + p->backoff_ms;
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
}

int kzd_privsep_run(struct kzd *d, struct kzd_privsep *ps)
{
	struct parent p = { .d = d, .ps = ps, .child = -1, .sp = -1, .backoff_ms = BACKOFF_MIN_MS };
	uint64_t stop_deadline = 0, resolver_at = 0;
	sigset_t set;
	int sfd = -1, rc = 0;

	ps->parent = getpid();
	if (kzd_privsep_root_make(ps) < 0)
		goto fail;
	p.buf = malloc(PRIVMSG_MAX);
	reply_buf = malloc(PRIVMSG_MAX);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!p.buf || !reply_buf || sfd < 0 || spawn(&p) < 0) {
		free(p.buf);
		kzd_privsep_root_remove(ps->root);
		goto fail;
	}
	for (;;) {
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN },
					{ .fd = p.sp, .events = POLLIN } };
		uint64_t t = now_ms();
		int timeout = RESOLVER_CHECK_MS;

		if (p.child < 0 && p.stopping)
			break;
		if (t >= resolver_at) {
			kzd_privsep_resolver_sync(false);
			resolver_at = t + RESOLVER_CHECK_MS;
		}
		if (p.child < 0 && p.restart_at) {
			if (t >= p.restart_at) {
				p.restart_at = 0;
				parent_reload(d);
				if (spawn(&p) < 0)
					p.restart_at = t + p.backoff_ms;
				continue;
			}
			if (p.restart_at - t < (uint64_t)timeout)
				timeout = (int)(p.restart_at - t);
		}
		if (p.stopping && p.child > 0) {
			if (t >= stop_deadline) {
				log_warn("privsep: the unprivileged process did not stop: SIGKILL");
				kill(p.child, SIGKILL);
				stop_deadline = t + STOP_WAIT_MS;
			}
			if (stop_deadline - t < (uint64_t)timeout)
				timeout = (int)(stop_deadline - t);
		}
		if (poll(pf, p.sp >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (p.sp >= 0 && (pf[1].revents & POLLIN)) {
			ssize_t n = recv(p.sp, p.buf, PRIVMSG_MAX, MSG_DONTWAIT);

			if (n > 0)
				serve(d, p.ps, p.sp, p.buf, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(p.sp);
				p.sp = -1;
			}
		} else if (p.sp >= 0 && (pf[1].revents & (POLLHUP | POLLERR))) {
			close(p.sp);
			p.sp = -1;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					parent_reload(d);
					kzd_privsep_resolver_sync(true);
					if (p.child > 0)
						kill(p.child, SIGHUP);
				} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					log_info("signal %u: shutting down", si.ssi_signo);
					p.stopping = true;
					p.restart_at = 0;
					stop_deadline = now_ms() + STOP_WAIT_MS;
					if (p.child > 0)
						kill(p.child, SIGTERM);
				}
			}
		}
		for (;;) {
			int status;
			pid_t w = p.child > 0 ? waitpid(p.child, &status, WNOHANG) : 0;

			if (w <= 0)
				break;
			child_gone(&p, status);
		}
	}
	close(sfd);
	free(p.buf);
	/* A clean stop takes our routes, the fail-closed ones too; a start
	 * that failed leaves them, as in one process (kzd_close). */
	if (p.failed) {
		rc = 1;
	} else {
		kzd_routes_flush();
	}
	/* The child, in its chroot, could not remove the console socket. */
	if (d->socket_path && !p.failed)
		unlink(d->socket_path);
	kzd_privsep_root_remove(ps->root);
	kz_net_close();
	kz_config_free(d->running);
	free(d);
	return rc;
fail:
	if (sfd >= 0)
		close(sfd);
	kz_config_free(d->running);
	free(d);
	return 1;
}

int kzd_privsep_user(struct kzd_privsep *ps, const char *user)
{
	struct passwd *pw = getpwnam(user);

	ps->user = user;
	if (!pw) {
		fprintf(stderr,
			"kizunad: user %s does not exist: create it (systemd-sysusers, "
			"or adduser --system %s) or use --user/--no-privsep\n",
			user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "kizunad: --user %s is root: that is no separation\n", user);
		return -1;
	}
	ps->uid = pw->pw_uid;
	ps->gid = pw->pw_gid;
	return 0;
}
