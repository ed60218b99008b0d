/* ctl_server.c - the console socket of kizunad; see ctl_server.h.
 *
 * Start-up: directory, lock, stale-socket check, bind.  The lock file next
 * to the socket makes "is another instance running" race-free: two daemons
 * started at once cannot both decide the socket is stale and unlink each
 * other's.  Connecting to the old socket then tells a crashed instance's
 * leftover (nobody answers) from a live one.
 *
 * Per connection: a bufferevent reads frames; each complete request is
 * handled at once and its response appended to the output buffer.  A client
 * that does not read its output holds back its own next requests (we stop
 * reading from it above CTL_OUT_HIGH) but never the event loop. */
#include "daemon/ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

#define CTL_OUT_HIGH (256u << 10) /* unsent output that pauses a client */
#define CTL_FRAME_DEADLINE 30     /* seconds to finish a frame once begun */
#define CTL_WRITE_TIMEOUT 60      /* seconds a client may leave output unread */
#define CTL_ACCEPT_RETRY 1        /* seconds to wait when out of descriptors */
#define CTL_OUT_KEEP (1u << 20)   /* output buffer kept between requests */
#define CTL_LISTEN_BACKLOG 16
#define CTL_LOCK_WAIT_MS 3000 /* for a previous instance still exiting */
#define CTL_LOCK_STEP_MS 50

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn) entry;
	struct ctl_server *srv;
	struct bufferevent *bev;
	void *sess;
	bool closing;       /* close once the output is written */
	bool paused;        /* reading stopped until the output drains */
	bool deferred;      /* a request's response is still to come */
	time_t frame_start; /* monotonic second a pending frame began, or 0 */
	uid_t uid;          /* the peer's (SO_PEERCRED) */
};

struct ctl_server {
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *retry;
	const struct ctl_server_ops *ops;
	void *arg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket we bound, so stop removes only ours */
	ino_t ino;
	int lock_fd;
	unsigned nconn;
	unsigned idle_s; /* 0: sessions never time out idle */
	TAILQ_HEAD(, ctl_conn) conns;
	struct ctl_conn *cur; /* whose request runs now */
	struct strbuf out;    /* one request runs at a time: shared by all */
};

static void ctl_conn_process(struct ctl_conn *conn);

/* Logs a failed system call without losing its errno for the caller. */
static int ctl_sys_fail(const char *path, const char *what)
{
	int e = errno;

	log_err("console socket %s: %s: %s", path, what, strerror(e));
	errno = e;
	return KZ_ESYS;
}

static time_t ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* mkdir -p of the socket's directory.  Directories we create get exactly
 * CTL_SERVER_DIR_MODE whatever the umask, since clients of other users must
 * be able to reach the socket inside. */
static int ctl_make_dirs(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	kz_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* the current directory or "/" */
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		bool last = (*p == '\0');

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, CTL_SERVER_DIR_MODE) == 0) {
			if (chmod(dir, CTL_SERVER_DIR_MODE) < 0)
				return ctl_sys_fail(dir, "chmod");
		} else if (errno != EEXIST) {
			return ctl_sys_fail(dir, "mkdir");
		}
		if (last)
			break;
		*p = '/';
	}
	if (stat(dir, &st) < 0)
		return ctl_sys_fail(dir, "stat");
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return ctl_sys_fail(dir, "mkdir");
	}
	return 0;
}

static int ctl_take_lock(struct ctl_server *srv)
{
	char lock[sizeof(srv->path) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", srv->path);
	srv->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (srv->lock_fd < 0)
		return ctl_sys_fail(lock, "open");
	/* A killed instance is reaped once its main thread is gone, while
	 * its other threads may still be closing its files, the lock among
	 * them: a restart right after the kill would then find the lock
	 * held, take the old instance for a live one and exit, and its
	 * console never answered.  So a held lock gets a few seconds; a
	 * live instance is refused after them. */
	for (unsigned waited = 0;; waited += CTL_LOCK_STEP_MS) {
		struct timespec step = { 0, CTL_LOCK_STEP_MS * 1000000L };

		if (flock(srv->lock_fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK)
			return ctl_sys_fail(lock, "flock");
		if (waited >= CTL_LOCK_WAIT_MS)
			return KZ_EBUSY;
		if (waited == 0)
			log_info("console socket %s: locked by another instance; waiting up to "
				 "%u s for it to exit",
				 srv->path, CTL_LOCK_WAIT_MS / 1000u);
		nanosleep(&step, NULL);
	}
	return 0;
}

static void ctl_fill_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	kz_strlcpy(sun->sun_path, path, sizeof(sun->sun_path));
}

/* Decides what an existing path is: nothing, a live instance, or a stale
 * socket (removed here). */
static int ctl_clear_stale(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, r = 0;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return ctl_sys_fail(path, "lstat");
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err("console socket %s: exists and is not a socket", path);
		return KZ_EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ctl_sys_fail(path, "socket");
	ctl_fill_addr(&sun, path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		r = KZ_EBUSY;
		goto out;
	}
	switch (errno) {
	case EAGAIN: /* listening, its backlog full: alive */
		r = KZ_EBUSY;
		break;
	case ECONNREFUSED: /* nobody listens: a crashed instance's socket */
		log_info("console socket %s: removing stale socket", path);
		if (unlink(path) < 0 && errno != ENOENT)
			r = ctl_sys_fail(path, "unlink");
		break;
	case ENOENT:
		break;
	default:
		r = ctl_sys_fail(path, "connect");
		break;
	}
out:
	close(fd);
	return r;
}

static int ctl_bind(struct ctl_server *srv, int *fdp)
{
	struct sockaddr_un sun;
	struct stat st;
	bool bound = false;
	int fd, r = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ctl_sys_fail(srv->path, "socket");
	/* Linux creates the socket file from the socket inode's mode less the
	 * umask: narrowing it first means the file is never wider than
	 * CTL_SERVER_SOCK_MODE, even before the chmod below. */
	(void)fchmod(fd, CTL_SERVER_SOCK_MODE);
	ctl_fill_addr(&sun, srv->path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = ctl_sys_fail(srv->path, "bind");
		goto out;
	}
	bound = true;
	if (chmod(srv->path, CTL_SERVER_SOCK_MODE) < 0) {
		r = ctl_sys_fail(srv->path, "chmod");
		goto out;
	}
	if (lstat(srv->path, &st) < 0) {
		r = ctl_sys_fail(srv->path, "lstat");
		goto out;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	if (listen(fd, CTL_LISTEN_BACKLOG) < 0)
		r = ctl_sys_fail(srv->path, "listen");
out:
	if (r < 0) {
		int e = errno;

		if (bound)
			unlink(srv->path);
		close(fd);
		errno = e;
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Turns a client away with a reason it can print.  The socket is new and
 * empty, so this small send cannot block; if it fails the client sees a
 * closed connection, which is also an answer. */
static void ctl_refuse(int fd, const char *why)
{
	struct strbuf sb;

	sb_init(&sb);
	if (ctl_build_response(&sb, CTL_ST_ERROR, "", why, strlen(why)) == 0)
		(void)send(fd, sb.s, sb.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	sb_free(&sb);
	close(fd);
}

static void ctl_conn_free(struct ctl_conn *conn)
{
	struct ctl_server *srv = conn->srv;

	TAILQ_REMOVE(&srv->conns, conn, entry);
	srv->nconn--;
	if (conn->sess)
		srv->ops->session_close(conn->sess);
	bufferevent_free(conn->bev);
	free(conn);
	log_debug("console: session closed (%u open)", srv->nconn);
}

/* Queues one response.  A failure here leaves a partial frame in the
 * output, so the caller must drop the connection. */
static int ctl_conn_send(struct ctl_conn *conn, uint8_t status, const char *prompt,
			 const char *output, size_t output_len)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	struct ctl_resp_head h;
	int r = ctl_response_head(&h, status, prompt, output, output_len);

	if (r < 0)
		return r;
	if (evbuffer_add(out, h.b, h.len) < 0 ||
	    (output_len && evbuffer_add(out, output, output_len) < 0))
		return KZ_ENOMEM;
	return 0;
}

int ctl_server_answer(const struct ctl_server_ops *ops, void *sess, const struct ctl_request *req,
		      struct strbuf *out, uint8_t *status, char *prompt, size_t prompt_len)
{
	int r;

	sb_reset(out);
	*status = CTL_ST_OK;
	prompt[0] = '\0';
	r = ops->request(sess, req, out, status, prompt, prompt_len);
	if (r == CTL_SERVER_DEFER)
		return r; /* the response comes later (ctl_server_reply) */
	prompt[prompt_len - 1] = '\0';
	if (r < 0) {
		*status = CTL_ST_ERROR;
		if (out->len == 0 && !out->truncated)
			sb_printf(out, "%% %s\n", kz_strerror(r));
	}
	if (out->truncated) {
		/* Part of a screen would read as all of it: say so instead. */
		sb_reset(out);
		sb_puts(out, "% output too long\n");
		*status = CTL_ST_ERROR;
	}
	return r;
}

/* Runs one request through the ops and queues its response.  Returns
 * negative when the connection must go. */
static int ctl_conn_handle(struct ctl_conn *conn, const struct ctl_request *req)
{
	struct ctl_server *srv = conn->srv;
	struct strbuf *out = &srv->out;
	char prompt[CTL_MAX_PROMPT + 1];
	uint8_t status;
	int r;

	srv->cur = conn;
	r = ctl_server_answer(srv->ops, conn->sess, req, out, &status, prompt, sizeof(prompt));
	srv->cur = NULL;
	if (r == CTL_SERVER_DEFER) {
		conn->deferred = true;
		bufferevent_disable(conn->bev, EV_READ);
		return 0;
	}
	r = ctl_conn_send(conn, status, prompt, out->s, out->len);
	if (r == KZ_EPROTO || r == KZ_ETOOBIG || r == KZ_EINVAL) {
		/* The handler produced something the protocol cannot carry (a
		 * NUL in the output, a prompt too long, an unknown status):
		 * the session is still fine, the answer is not. */
		log_warn("console: unsendable response (%s), status %u", kz_errname(r),
			 (unsigned)status);
		status = CTL_ST_ERROR;
		sb_reset(out);
		sb_printf(out, "%% internal error: %s\n", kz_strerror(r));
		r = ctl_conn_send(conn, status, prompt, out->s, out->len);
		if (r < 0)
			r = ctl_conn_send(conn, status, "", out->s, out->len);
	}
	/* it may have held the running config: wiped once sent */
	if (out->s)
		kz_wipe(out->s, out->cap);
	if (out->cap > CTL_OUT_KEEP)
		sb_free(out); /* one long show should not pin its memory */
	if (r < 0)
		return r;
	if (status == CTL_ST_BYE) {
		conn->closing = true;
		bufferevent_disable(conn->bev, EV_READ);
	}
	return 0;
}

/* Sets the read deadline: the idle limit between requests (srv->idle_s,
 * none when 0), a fixed one once a frame has begun, so a client cannot
 * hold a session slot by sending half a frame. */
static int ctl_conn_deadline(struct ctl_conn *conn, bool partial)
{
	struct timeval rtv = { 0, 0 }, wtv = { CTL_WRITE_TIMEOUT, 0 };
	struct timeval itv = { conn->srv->idle_s, 0 };
	time_t now;

	if (!partial) {
		conn->frame_start = 0;
		bufferevent_set_timeouts(conn->bev, conn->srv->idle_s ? &itv : NULL, &wtv);
		return 0;
	}
	now = ctl_now();
	if (!conn->frame_start)
		conn->frame_start = now;
	rtv.tv_sec = CTL_FRAME_DEADLINE - (now - conn->frame_start);
	if (rtv.tv_sec <= 0)
		return KZ_ETRUNC;
	bufferevent_set_timeouts(conn->bev, &rtv, &wtv);
	return 0;
}

static void ctl_conn_process(struct ctl_conn *conn)
{
	struct evbuffer *in = bufferevent_get_input(conn->bev);
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	const char *why = NULL;
	size_t avail = 0;
	int r;

	while (!conn->closing && !conn->deferred) {
		struct ctl_request req;
		struct buf b, body;
		uint8_t *p;
		size_t flen;

		if (evbuffer_get_length(out) > CTL_OUT_HIGH) {
			/* Resumed by ctl_write_cb once the client reads. */
			conn->paused = true;
			bufferevent_disable(conn->bev, EV_READ);
			return;
		}
		avail = evbuffer_get_length(in);
		if (avail < CTL_HDR_LEN)
			break;
		/* The read high-water mark keeps the input within one largest
		 * frame, so this makes at most that much contiguous. */
		if (avail > CTL_HDR_LEN + CTL_MAX_REQUEST)
			avail = CTL_HDR_LEN + CTL_MAX_REQUEST;
		p = evbuffer_pullup(in, (ssize_t)avail);
		if (!p) {
			why = "out of memory";
			goto drop;
		}
		buf_init(&b, p, avail);
		r = ctl_parse_frame(&b, CTL_MAX_REQUEST, &body);
		if (r == KZ_ETRUNC)
			break;
		if (r < 0) {
			why = r == KZ_ETOOBIG ? "oversized frame" : "empty frame";
			goto drop;
		}
		flen = b.off;
		r = ctl_parse_request(&body, &req);
		if (r < 0) {
			why = "malformed request";
			goto drop;
		}
		conn->frame_start = 0;
		/* req points into the input buffer: drain only after use. */
		r = ctl_conn_handle(conn, &req);
		kz_wipe(p, flen); /* a pasted key leaves no copy */
		evbuffer_drain(in, flen);
		if (r < 0) {
			why = "out of memory";
			goto drop;
		}
	}
	if (conn->closing || conn->deferred)
		return;
	if (ctl_conn_deadline(conn, evbuffer_get_length(in) > 0) < 0) {
		why = "frame not completed in time";
		goto drop;
	}
	return;
drop:
	log_warn("console: dropping client: %s", why);
	ctl_conn_free(conn);
}

static void ctl_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	ctl_conn_process(arg);
}

/* Called when the output has drained completely. */
static void ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *conn = arg;

	if (conn->closing) {
		ctl_conn_free(conn);
		return;
	}
	if (conn->paused && !conn->deferred) {
		conn->paused = false;
		bufferevent_enable(bev, EV_READ);
		ctl_conn_process(conn);
	}
}

static void ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn *conn = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		/* The client is done sending; it may still be reading the
		 * answers to what it sent (`printf ... | kizuna`). */
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			ctl_conn_free(conn);
			return;
		}
		conn->closing = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_warn("console: dropping client (uid %u): %s", (unsigned)conn->uid,
			 (what & BEV_EVENT_READING) ? "idle too long" : "output timed out");
	else if (what & BEV_EVENT_ERROR)
		log_debug("console: client connection error: %s", strerror(EVUTIL_SOCKET_ERROR()));
	ctl_conn_free(conn);
}

static void ctl_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			  int salen, void *arg)
{
	struct ctl_server *srv = arg;
	struct timeval wtv = { CTL_WRITE_TIMEOUT, 0 };
	struct timeval itv = { srv->idle_s, 0 };
	struct ctl_conn *conn, *c;
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t clen = sizeof(cred);
	unsigned mine = 0;

	(void)lev;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		cred.uid = (uid_t)-1;
	if (srv->nconn >= CTL_SERVER_MAX_CONN) {
		log_warn("console: refusing client: %u sessions open", srv->nconn);
		ctl_refuse(fd, "% too many console sessions\n");
		return;
	}
	TAILQ_FOREACH(c, &srv->conns, entry)
	mine += c->uid == cred.uid;
	if (mine >= CTL_SERVER_MAX_PER_UID) {
		log_warn("console: refusing client: uid %u holds %u sessions", (unsigned)cred.uid,
			 mine);
		ctl_refuse(fd, "% too many console sessions of this user\n");
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		ctl_refuse(fd, "% out of memory\n");
		return;
	}
	conn->srv = srv;
	conn->uid = cred.uid;
	conn->sess = srv->ops->session_open(srv->arg, cred.uid, cred.gid);
	if (!conn->sess) {
		free(conn);
		ctl_refuse(fd, "% console session refused\n");
		return;
	}
	conn->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!conn->bev) {
		srv->ops->session_close(conn->sess);
		free(conn);
		close(fd);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->conns, conn, entry);
	srv->nconn++;
	bufferevent_setcb(conn->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, conn);
	/* Buffer at most one largest request ahead of what we have handled. */
	bufferevent_setwatermark(conn->bev, EV_READ, 0, CTL_HDR_LEN + CTL_MAX_REQUEST);
	/* the read timeout is the idle limit: no request for that long */
	bufferevent_set_timeouts(conn->bev, srv->idle_s ? &itv : NULL, &wtv);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	log_debug("console: session opened by uid %u pid %d (%u open)", (unsigned)cred.uid,
		  (int)cred.pid, srv->nconn);
}

static void ctl_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *srv = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(srv->lev);
}

/* accept() failing for lack of descriptors would fire again at once and
 * spin the loop: pause accepting for a moment instead. */
static void ctl_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct ctl_server *srv = arg;
	struct timeval tv = { CTL_ACCEPT_RETRY, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	log_warn("console socket %s: accept: %s", srv->path, strerror(e));
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		evconnlistener_disable(lev);
		evtimer_add(srv->retry, &tv);
	}
}

static void ctl_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

/* libevent's buffers carry console input (pasted config lines with keys)
 * and output (`show running-config secrets`), and free or move their
 * chains by themselves: all libevent memory is wiped when it is freed or
 * moved.  The same malloc is underneath, so blocks allocated before the
 * switch are freed correctly. */
static void ev_wipe_free(void *p)
{
	if (p) {
		kz_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static void *ev_wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (!n) {
		ev_wipe_free(p);
		return NULL;
	}
	old = malloc_usable_size(p);
	if (n <= old)
		return p;
	if (!(q = malloc(n)))
		return NULL;
	memcpy(q, p, old);
	ev_wipe_free(p);
	return q;
}

struct ctl_server *ctl_server_start(struct event_base *base, const char *path,
				    const struct ctl_server_ops *ops, void *arg, int *err)
{
	struct ctl_server *srv = NULL;
	int fd = -1, r;

	event_set_mem_functions(malloc, ev_wipe_realloc, ev_wipe_free);
	if (!base || !path || !*path || !ops || !ops->session_open || !ops->session_close ||
	    !ops->request) {
		r = KZ_EINVAL;
		goto fail;
	}
	if (strlen(path) >= sizeof(srv->path)) {
		log_err("console socket %s: path too long", path);
		r = KZ_ERANGE;
		goto fail;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		r = KZ_ENOMEM;
		goto fail;
	}
	srv->base = base;
	srv->ops = ops;
	srv->arg = arg;
	srv->lock_fd = -1;
	srv->idle_s = CTL_SERVER_IDLE_S;
	TAILQ_INIT(&srv->conns);
	sb_init(&srv->out);
	kz_strlcpy(srv->path, path, sizeof(srv->path));

	r = ctl_make_dirs(path);
	if (r == 0)
		r = ctl_take_lock(srv);
	if (r == 0)
		r = ctl_clear_stale(path);
	if (r == 0)
		r = ctl_bind(srv, &fd);
	if (r < 0)
		goto fail;
	srv->retry = evtimer_new(base, ctl_retry_cb, srv);
	srv->lev = evconnlistener_new(base, ctl_accept_cb, srv,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!srv->retry || !srv->lev) {
		if (!srv->lev)
			close(fd);
		unlink(path);
		r = KZ_ENOMEM;
		goto fail;
	}
	evconnlistener_set_error_cb(srv->lev, ctl_accept_error_cb);
	ctl_ignore_sigpipe();
	log_info("console socket %s: listening", path);
	*err = 0;
	return srv;
fail:
	if (srv) {
		int e = errno;

		if (srv->lev)
			evconnlistener_free(srv->lev);
		if (srv->retry)
			event_free(srv->retry);
		if (srv->lock_fd >= 0)
			close(srv->lock_fd);
		free(srv);
		errno = e;
	}
	*err = r;
	return NULL;
}

void ctl_server_stop(struct ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	while (!TAILQ_EMPTY(&srv->conns))
		ctl_conn_free(TAILQ_FIRST(&srv->conns));
	evconnlistener_free(srv->lev);
	event_free(srv->retry);
	/* A newer instance may have replaced our socket after we were judged
	 * stale: remove the file only if it is still the one we bound. */
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	close(srv->lock_fd);
	sb_free(&srv->out);
	free(srv);
}

struct ctl_conn *ctl_server_current(struct ctl_server *srv)
{
	return srv ? srv->cur : NULL;
}

int ctl_server_reply(struct ctl_conn *conn, uint8_t status, const char *prompt, const char *out,
		     size_t len)
{
	int r = ctl_conn_send(conn, status, prompt ? prompt : "", out, len);

	if (r < 0) {
		/* a partial frame may be queued: nothing more can follow it */
		log_warn("console: cannot queue output (%s): closing the session", kz_errname(r));
		conn->closing = true;
		conn->deferred = false;
		bufferevent_disable(conn->bev, EV_READ);
		return r;
	}
	if (status == CTL_ST_MORE)
		return 0;
	conn->deferred = false;
	if (!conn->paused)
		bufferevent_enable(conn->bev, EV_READ);
	/* requests the client sent meanwhile wait in the input: a timer
	 * would be cleaner, but the loop runs them on the next read event;
	 * a well-behaved client sends nothing while it waits. */
	return 0;
}

unsigned ctl_server_sessions(const struct ctl_server *srv)
{
	return srv ? srv->nconn : 0;
}

void ctl_server_set_idle(struct ctl_server *srv, unsigned seconds)
{
	if (srv)
		srv->idle_s = seconds;
}
