/* ctl_server.h - the console socket of kizunad.
 *
 * Listens on a UNIX stream socket (lib/ctlproto.h) inside the daemon's
 * libevent loop.  Each connection is one console session: the server splits
 * the byte stream into frames, hands each request to the ops, and queues the
 * response; it never blocks on a client (output waits in libevent buffers)
 * and drops a client that sends an oversized or malformed frame, stalls
 * mid-frame or stops reading its output.
 *
 * The server ignores SIGPIPE (when it is still at its default), since a
 * client that goes away while its output is written must not end the
 * daemon. */
#ifndef KZ_CTL_SERVER_H
#define KZ_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/ctlproto.h"
#include "lib/strbuf.h"

struct event_base;
struct ctl_server;

#define CTL_SERVER_MAX_CONN 32   /* concurrent console sessions */
#define CTL_SERVER_MAX_PER_UID 8 /* ... of one user: nobody holds them all */
#define CTL_SERVER_IDLE_S 900    /* a session without a request this long goes */
#define CTL_SERVER_SOCK_MODE 0660
#define CTL_SERVER_DIR_MODE 0755

struct ctl_server_ops {
	/* A new connection from the user of uid/gid (SO_PEERCRED; uid
	 * (uid_t)-1 when unknown): returns its session, or NULL to turn the
	 * client away (it is told so and disconnected). */
	void *(*session_open)(void *arg, uid_t uid, gid_t gid);
	/* The connection is gone (client left, error, BYE sent, or stop). */
	void (*session_close)(void *sess);
	/* One request.  prompt (prompt_len bytes, at least CTL_MAX_PROMPT + 1)
	 * holds "" on entry and receives the prompt to show next, NUL-terminated;
	 * *status is CTL_ST_OK on entry.  Returns 0 to send *status, the prompt
	 * and out; a negative KZ_E* sends CTL_ST_ERROR with out (or, when out
	 * is empty, the error's name) and keeps the session.  After CTL_ST_BYE
	 * the connection is closed once the response is written.  The first
	 * request of a well-behaved client is CTL_REQ_HELLO; the server passes
	 * every request on, in order, and leaves enforcing that to the ops. */
	int (*request)(void *sess, const struct ctl_request *req, struct strbuf *out,
		       uint8_t *status, char *prompt, size_t prompt_len);
};

/* Creates the socket directory if missing (CTL_SERVER_DIR_MODE), takes the
 * lock "<path>.lock", and listens on path (CTL_SERVER_SOCK_MODE).  An
 * existing socket at path is replaced when nothing answers on it (left by a
 * crashed instance).  Returns NULL with *err set:
 *   KZ_EBUSY   another instance is running on path (it holds the lock or
 *              answers on the socket); nothing is changed or logged
 *   KZ_EEXIST  path exists and is not a socket
 *   KZ_ERANGE  path does not fit in sockaddr_un
 *   KZ_ESYS    a system call failed (errno kept, the call logged)
 *   KZ_ENOMEM  */
struct ctl_server *ctl_server_start(struct event_base *base, const char *path,
				    const struct ctl_server_ops *ops, void *arg, int *err);

/* Closes every session (session_close for each), stops listening, removes
 * the socket if it is still the one this server created, and frees srv.
 * NULL is allowed. */
void ctl_server_stop(struct ctl_server *srv);

/* One request through ops->request, as the server answers it: *status,
 * the prompt and out as they will be sent (a failed request's error name,
 * "% output too long" in place of a truncated screen).  Returns what the
 * op returned (CTL_SERVER_DEFER: nothing to send yet). */
int ctl_server_answer(const struct ctl_server_ops *ops, void *sess, const struct ctl_request *req,
		      struct strbuf *out, uint8_t *status, char *prompt, size_t prompt_len);

/* request may return CTL_SERVER_DEFER: its response comes later through
 * ctl_server_reply() (a command whose output streams, as ping); no
 * request of that connection is read meanwhile.  The connection is the
 * one ctl_server_current() names during the request. */
#define CTL_SERVER_DEFER 1
struct ctl_conn;
struct ctl_conn *ctl_server_current(struct ctl_server *srv);
/* Sends a deferred request's output: CTL_ST_MORE for a part, any other
 * status to end it (with the prompt).  Negative when it cannot be queued:
 * the connection is closed once its output drains. */
int ctl_server_reply(struct ctl_conn *conn, uint8_t status, const char *prompt, const char *out,
		     size_t len);

/* Sessions open right now. */
unsigned ctl_server_sessions(const struct ctl_server *srv);
/* Seconds a session may stay without a request (default
 * CTL_SERVER_IDLE_S; 0: no limit); for the sessions opened from now. */
void ctl_server_set_idle(struct ctl_server *srv, unsigned seconds);

#endif
