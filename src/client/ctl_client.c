/* ctl_client.c - one console connection to kizunad; see ctl_client.h. */
#include "client/ctl_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/strbuf.h"

void ctl_client_init(struct ctl_client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int ctl_client_connect(struct ctl_client *c, const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return KZ_ESYS;
	}
	kz_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return KZ_ESYS;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return KZ_ESYS;
	}
	c->fd = fd;
	return 0;
}

void ctl_client_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->frame);
	c->fd = -1;
	c->frame = NULL;
	c->cap = 0;
}

/* The connection is unusable from here on: a half-read frame would leave
 * the stream out of step. */
static int ctl_client_fail(struct ctl_client *c, int err, int saved_errno)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	errno = saved_errno;
	return err;
}

static int ctl_client_interrupted(const struct ctl_client *c)
{
	return errno == EINTR && !(c->cancel && *c->cancel);
}

static int ctl_write_all(struct ctl_client *c, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (ctl_client_interrupted(c))
				continue;
			return KZ_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes.  A close by the daemon before any byte of a
 * frame is a clean end (errno 0); inside a frame it is a reset. */
static int ctl_read_all(struct ctl_client *c, uint8_t *p, size_t len, int frame_begun)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(c->fd, p + got, len - got, 0);

		if (n < 0) {
			if (ctl_client_interrupted(c))
				continue;
			return KZ_EIO;
		}
		if (n == 0) {
			errno = (got || frame_begun) ? ECONNRESET : 0;
			return KZ_EIO;
		}
		got += (size_t)n;
	}
	return 0;
}

static int ctl_read_response(struct ctl_client *c, struct ctl_response *resp)
{
	struct buf b, body;
	uint32_t len;
	int r;

	if (c->cap < CTL_HDR_LEN) {
		uint8_t *p = realloc(c->frame, 256);

		if (!p)
			return ctl_client_fail(c, KZ_ENOMEM, ENOMEM);
		c->frame = p;
		c->cap = 256;
	}
	r = ctl_read_all(c, c->frame, CTL_HDR_LEN, 0);
	if (r < 0)
		return ctl_client_fail(c, r, errno);
	/* Only the length field is here: a valid frame is merely incomplete,
	 * anything else is refused before its body is read or allocated. */
	buf_init(&b, c->frame, CTL_HDR_LEN);
	r = ctl_parse_frame(&b, CTL_MAX_FRAME, &body);
	if (r != KZ_ETRUNC)
		return ctl_client_fail(c, KZ_EPROTO, EPROTO);
	r = buf_get_u32(&b, &len);
	if (r < 0)
		return ctl_client_fail(c, KZ_EPROTO, EPROTO);
	if (c->cap < CTL_HDR_LEN + (size_t)len) {
		size_t cap = CTL_HDR_LEN + (size_t)len;
		uint8_t *p = realloc(c->frame, cap);

		if (!p)
			return ctl_client_fail(c, KZ_ENOMEM, ENOMEM);
		c->frame = p;
		c->cap = cap;
	}
	r = ctl_read_all(c, c->frame + CTL_HDR_LEN, len, 1);
	if (r < 0)
		return ctl_client_fail(c, r, errno);
	buf_init(&b, c->frame, CTL_HDR_LEN + (size_t)len);
	r = ctl_parse_frame(&b, CTL_MAX_FRAME, &body);
	if (r == 0)
		r = ctl_parse_response(&body, resp);
	if (r < 0)
		return ctl_client_fail(c, KZ_EPROTO, EPROTO);
	return 0;
}

int ctl_client_call(struct ctl_client *c, uint8_t type, const char *text, size_t len,
		    struct ctl_response *resp)
{
	struct strbuf req;
	int r, werr;

	if (c->fd < 0) {
		errno = ENOTCONN;
		return KZ_EIO;
	}
	sb_init(&req);
	r = ctl_build_request(&req, type, text, len);
	if (r < 0)
		goto out;
	if (ctl_write_all(c, req.s, req.len) < 0) {
		werr = errno;
		if (werr != EPIPE && werr != ECONNRESET) {
			r = ctl_client_fail(c, KZ_EIO, werr);
			goto out;
		}
	}
	/* Even when the daemon closed before taking our request, it may have
	 * said why first (too many sessions): read that answer if it is there.
	 * If not, the end of the stream reports the close (errno 0), which
	 * says more than the EPIPE of the write. */
	r = ctl_read_response(c, resp);
out:
	sb_free(&req);
	return r;
}

int ctl_client_next(struct ctl_client *c, struct ctl_response *resp)
{
	if (c->fd < 0) {
		errno = ENOTCONN;
		return KZ_EIO;
	}
	return ctl_read_response(c, resp);
}
