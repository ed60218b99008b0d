/* privsep_child.c - the unprivileged half of kizunad (privsep.c): asking
 * the parent over the socketpair, and how the child gives up its rights
 * (chroot, user, capabilities, NoNewPrivs, the seccomp allow-list) before
 * it starts any thread. */
#include <errno.h>
#include <event2/event.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/privmsg.h"
#include "daemon/daemon.h"
#include "daemon/privsep_int.h"

/* ---- the child's side ---- */

static int broker_fd = -1;
static pthread_mutex_t broker_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *broker_buf;

static int child_broker(const struct privmsg *req, struct privmsg *reply, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	size_t len;
	ssize_t n;
	int r;

	*fd = -1;
	memset(reply, 0, sizeof(*reply));
	pthread_mutex_lock(&broker_mu);
	r = privmsg_encode(req, broker_buf, PRIVMSG_MAX, &len);
	if (r)
		goto out;
	do
		n = send(broker_fd, broker_buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		r = KZ_EIO;
		goto out;
	}
	iov = (struct iovec){ broker_buf, PRIVMSG_MAX };
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(broker_fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r = KZ_EIO;
		goto out;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	r = privmsg_decode(broker_buf, (size_t)n, reply);
	if (!r && reply->type != PRIVMSG_REPLY)
		r = KZ_EPROTO;
	if (!r)
		r = reply->rc;
out:
	pthread_mutex_unlock(&broker_mu);
	if (r && r != reply->rc)
		log_err("privsep: %s: no answer from the parent: %s", privmsg_type_name(req->type),
			kz_strerror(r));
	return r;
}

/* The system calls the child makes (IKE, data plane, console, diagnose),
 * found by running the lab's tests under strace; anything else ends the
 * process (logged instead in sanitizer builds, whose reports need more). */
static const char *const allowed[] = {
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"close",
	"fstat",
	"newfstatat",
	"statx",
	"lseek",
	"mmap",
	"munmap",
	"mprotect",
	"madvise",
	"brk",
	"mremap",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"sigaltstack",
	"ioctl",
	"socket",
	"connect",
	"bind",
	"getsockname",
	"getpeername",
	"setsockopt",
	"getsockopt",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"accept",
	"accept4",
	"shutdown",
	"socketpair",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"eventfd2",
	"timerfd_create",
	"timerfd_settime",
	"timerfd_gettime",
	"pipe2",
	"dup",
	"dup2",
	"dup3",
	"fcntl",
	"clock_gettime",
	"clock_getres",
	"clock_nanosleep",
	"nanosleep",
	"gettimeofday",
	"time",
	"getpid",
	"gettid",
	"getppid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getresuid",
	"getresgid",
	"getgroups",
	"getrandom",
	"futex",
	"set_robust_list",
	"get_robust_list",
	"rseq",
	"clone",
	"clone3",
	"exit",
	"exit_group",
	"tgkill",
	"kill",
	"sched_yield",
	"sched_getaffinity",
	"sched_setaffinity",
	"getcpu",
	"prctl",
	"uname",
	"openat",
	"open",
	"unlink",
	"unlinkat",
	"rename",
	"renameat",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"getdents64",
	"fsync",
	"fdatasync",
	"ftruncate",
	"umask",
	"getrlimit",
	"prlimit64",
	"sysinfo",
	"restart_syscall",
	"wait4",
	"waitid",
	"membarrier",
	"set_tid_address",
	"arch_prctl",
	"fstatfs",
	"getcwd",
	"flock",
	"lstat",
	"stat",
	"fchmod",
	"getrusage",
	"times",
	"sched_getparam",
	"sched_getscheduler",
	"mlock",
	"munlock",
};

static int load_seccomp(void)
{
#ifdef KZ_SANITIZE
	uint32_t dflt = SCMP_ACT_LOG;
#else
	uint32_t dflt = SCMP_ACT_KILL_PROCESS;
#endif
	scmp_filter_ctx ctx = seccomp_init(dflt);
	int r = 0;

	if (!ctx)
		return -1;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		/* A name this architecture lacks (open, stat...) is skipped. */
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			break;
	}
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r < 0 ? -1 : 0;
}

/* chroot, user, no capabilities (the bounding set too), NoNewPrivs,
 * seccomp; in this order, before any thread is started. */
static int drop_privileges(const struct kzd_privsep *ps)
{
	if (chroot(ps->root) < 0 || chdir("/") < 0) {
		log_err("privsep: cannot chroot to %s: %s", ps->root, strerror(errno));
		return -1;
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			log_err("privsep: cannot drop capability %d: %s", cap, strerror(errno));
			return -1;
		}
	if (setgroups(0, NULL) < 0 || setresgid(ps->gid, ps->gid, ps->gid) < 0 ||
	    setresuid(ps->uid, ps->uid, ps->uid) < 0) {
		log_err("privsep: cannot become %s: %s", ps->user, strerror(errno));
		return -1;
	}
	/* uid 0 -> other: the kernel cleared the capability sets (no
	 * SECBIT_KEEP_CAPS); make sure. */
	if (setuid(0) == 0) {
		log_err("privsep: could become root again after dropping to %s", ps->user);
		return -1;
	}
	/* The change of credentials cleared the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != ps->parent) {
		log_err("privsep: the parent is gone");
		return -1;
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("privsep: cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (load_seccomp() < 0) {
		log_err("privsep: cannot load the seccomp filter");
		return -1;
	}
	return 0;
}

/* The socketpair closed: the parent is gone.  The kernel's parent-death
 * SIGKILL usually comes first; this covers a parent that may not signal
 * a process of another user (no CAP_KILL).  Nobody is left to remove the
 * routes: stop as a crash would. */
static void on_parent_gone(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_err("privsep: the privileged process is gone; stopping");
	_exit(1);
}

int kzd_privsep_child(struct kzd *d, const struct kzd_privsep *ps, int sp, pid_t parent)
{
	struct event *ev_gone = NULL;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The parent killed (SIGKILL): the TUN devices go with us. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		return CHILD_FATAL;
	broker_fd = sp;
	broker_buf = malloc(PRIVMSG_MAX);
	if (!broker_buf)
		return CHILD_FATAL;
	if (kzd_open(d) < 0)
		return CHILD_FATAL;
	/* What is read from files, while there are files. */
	kzd_diagnose_preload();
	if (drop_privileges(ps) < 0)
		return CHILD_FATAL;
	privmsg_broker = child_broker;
	log_info("privsep: running as %s (uid %u), chroot %s, seccomp on", ps->user,
		 (unsigned)ps->uid, ps->root);
	if (kzd_bring_up(d) < 0) {
		kzd_close(d, false);
		return CHILD_FATAL;
	}
	/* EV_CLOSED (EPOLLRDHUP): wakes only for the peer's close, never for
	 * a reply, which child_broker reads itself. */
	if (event_base_get_features(d->base) & EV_FEATURE_EARLY_CLOSE) {
		ev_gone = event_new(d->base, sp, EV_CLOSED | EV_PERSIST, on_parent_gone, NULL);
		if (ev_gone)
			event_add(ev_gone, NULL);
	}
	event_base_dispatch(d->base);
	if (ev_gone)
		event_free(ev_gone);
	kzd_close(d, false);
	return 0;
}
