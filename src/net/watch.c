/* watch.c - subscription to link, IPv4 address and IPv4 route changes.
 *
 * A socket of its own, separate from the request socket, so that events
 * never interleave with request replies.  The daemon polls its fd from the
 * event loop and calls kz_net_watch_read() when it is readable. */
#include "net/nl_priv.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "lib/log.h"

/* Room for a burst of events (a device going down takes its addresses and
 * routes with it) before the kernel has to drop some. */
#define WATCH_RCVBUF (1 << 20)
/* Datagrams per kz_net_watch_read(), so that a storm of changes cannot keep
 * the control thread from everything else. */
#define WATCH_BATCH 64

struct kz_net_watch {
	struct mnl_socket *nl;
	_Alignas(NLMSG_ALIGNTO) uint8_t buf[NL_RXBUF_SIZE];
};

int kz_net_watch_open(struct kz_net_watch **out)
{
	struct kz_net_watch *w;
	int size = WATCH_RCVBUF;
	int fd, ret;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return KZ_ENOMEM;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		log_err("netlink: cannot open watch socket: %s", strerror(errno));
		ret = KZ_ESYS;
		goto out;
	}
	if (mnl_socket_bind(w->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE,
			    MNL_SOCKET_AUTOPID) < 0) {
		log_err("netlink: cannot subscribe to link events: %s", strerror(errno));
		ret = KZ_ESYS;
		goto out;
	}
	fd = mnl_socket_get_fd(w->nl);
	/* SO_RCVBUFFORCE passes rmem_max when we hold CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*out = w;
	w = NULL;
	ret = 0;
out:
	kz_net_watch_close(w);
	return ret;
}

int kz_net_watch_fd(const struct kz_net_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

void kz_net_watch_close(struct kz_net_watch *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
}

/* Tells the caller's stop value apart from a parse error of the same value. */
struct watch_call {
	kz_net_event_cb cb;
	void *arg;
	int stop;
};

static int watch_event_cb(const struct kz_net_event *ev, void *arg)
{
	struct watch_call *c = arg;

	c->stop = c->cb(ev, c->arg);
	return c->stop;
}

/* Events were lost (why): the callee must read the state again. */
static int overrun(kz_net_event_cb cb, void *arg, const char *why)
{
	struct kz_net_event ev = { .type = KZ_NET_EV_OVERRUN };

	log_warn("netlink: %s, state must be re-read", why);
	return cb(&ev, arg);
}

int kz_net_watch_read(struct kz_net_watch *w, kz_net_event_cb cb, void *arg)
{
	struct watch_call call = { cb, arg, 0 };
	int fd = mnl_socket_get_fd(w->nl);

	for (int i = 0; i < WATCH_BATCH; i++) {
		struct sockaddr_nl sa;
		struct iovec iov = { w->buf, sizeof(w->buf) };
		struct msghdr mh = {
			.msg_name = &sa,
			.msg_namelen = sizeof(sa),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		int ret;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* The socket stays usable; only the lost
				 * events have to be made up for. */
				ret = overrun(cb, arg, "event queue overrun");
				if (ret)
					return ret;
				continue;
			}
			log_err("netlink: reading events: %s", strerror(errno));
			return KZ_ESYS;
		}
		/* Only the kernel sends on these groups. */
		if (mh.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;
		if (mh.msg_flags & MSG_TRUNC) {
			ret = overrun(cb, arg, "event truncated");
			if (ret)
				return ret;
			continue;
		}
		ret = kz_net_parse_msgs(w->buf, (size_t)n, watch_event_cb, &call);
		if (call.stop)
			return call.stop;
		/* One bad message must not blind the daemon to the rest. */
		if (ret)
			log_warn("netlink: skipped a malformed event: %s", kz_strerror(ret));
	}
	return 0;
}
