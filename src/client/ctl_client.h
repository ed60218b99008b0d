/* ctl_client.h - one console connection to kizunad, blocking, libc only.
 *
 * Sends a request frame and reads its response frame (lib/ctlproto.h).  The
 * response points into the client's frame buffer and stays valid until the
 * next call. */
#ifndef KZ_CTL_CLIENT_H
#define KZ_CTL_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ctlproto.h"

struct ctl_client {
	int fd;
	uint8_t *frame; /* the last response frame, length field included */
	size_t cap;
	/* When set and nonzero as a read or write is interrupted by a signal,
	 * the call gives up (the user pressed Ctrl-C while the daemon hangs);
	 * otherwise interrupted calls are restarted. */
	volatile sig_atomic_t *cancel;
};

void ctl_client_init(struct ctl_client *c);

/* KZ_ESYS with errno set (ENOENT: no socket, ECONNREFUSED: nobody listens,
 * ENAMETOOLONG: path does not fit a socket address). */
int ctl_client_connect(struct ctl_client *c, const char *path);

/* One request and its response.  KZ_ETOOBIG or KZ_EPROTO: the request
 * cannot be sent (too long, a NUL or a line break in it) and nothing was
 * sent.  KZ_EIO: the connection is gone (errno tells why, 0 for a clean
 * close by the daemon); KZ_EPROTO after sending: the daemon's answer is
 * malformed.  After KZ_EIO or a malformed answer the connection is closed
 * and every later call fails with KZ_EIO. */
/* After a CTL_ST_MORE response: the next response to the same request. */
int ctl_client_next(struct ctl_client *c, struct ctl_response *resp);
int ctl_client_call(struct ctl_client *c, uint8_t type, const char *text, size_t len,
		    struct ctl_response *resp);

void ctl_client_close(struct ctl_client *c);

#endif
