/* nlsock.c - the cached NETLINK_ROUTE request socket.
 *
 * One socket serves every request of the control thread.  Each request gets
 * a fresh sequence number and asks for an ACK, so a refusal is always seen;
 * the kernel's extended ACK text ("Device for nexthop is not up") is logged
 * next to the errno text and kept for kz_net_errmsg().  When a reply cannot
 * be read to its end (timeout, truncation, bad framing) the socket is closed,
 * so that no stale reply can be taken for the answer to a later request. */
#include "net/nl_priv.h"

#include <ctype.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"

/* A reply never takes the kernel long; this only keeps a wedged socket from
 * hanging the control thread forever. */
#define NL_REPLY_TIMEOUT_S 5

static struct {
	struct mnl_socket *nl;
	unsigned portid;
	unsigned seq;
	char errmsg[256];
} nls;

static _Alignas(NLMSG_ALIGNTO) uint8_t nl_rxbuf[NL_RXBUF_SIZE];

int nl_errno_to_kz(int e)
{
	switch (e) {
	case 0:
		return 0;
	case ENODEV:
	case ENOENT:
	case ESRCH:
	case ENXIO:
	case EADDRNOTAVAIL:
		return KZ_ENOENT;
	case EEXIST:
		return KZ_EEXIST;
	case EINVAL:
	/* Only routes see these: a gateway on no connected network. */
	case ENETUNREACH:
	case EHOSTUNREACH:
		return KZ_EINVAL;
	case ERANGE:
		return KZ_ERANGE;
	case ENOMEM:
	case ENOBUFS:
		return KZ_ENOMEM;
	case EBUSY:
	case ENETDOWN:
		return KZ_EBUSY;
	case EOPNOTSUPP:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return KZ_ENOTSUP;
	case E2BIG:
	case EMSGSIZE:
		return KZ_ETOOBIG;
	default:
		return KZ_ESYS;
	}
}

void nl_set_errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nls.errmsg, sizeof(nls.errmsg), fmt, ap);
	va_end(ap);
}

void nl_clear_errmsg(void)
{
	nls.errmsg[0] = '\0';
}

const char *kz_net_errmsg(void)
{
	return nls.errmsg;
}

void kz_net_close(void)
{
	if (nls.nl)
		mnl_socket_close(nls.nl);
	nls.nl = NULL;
}

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = NL_REPLY_TIMEOUT_S };
	int one = 1;
	int fd, ret;

	if (nls.nl)
		return 0;
	nls.nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nls.nl) {
		ret = errno;
		log_err("netlink: cannot open route socket: %s", strerror(ret));
		nl_set_errmsg("cannot open netlink socket (%s)", strerror(ret));
		return KZ_ESYS;
	}
	if (mnl_socket_bind(nls.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = errno;
		log_err("netlink: cannot bind route socket: %s", strerror(ret));
		nl_set_errmsg("cannot bind netlink socket (%s)", strerror(ret));
		kz_net_close();
		return KZ_ESYS;
	}
	fd = mnl_socket_get_fd(nls.nl);
	/* Extended ACKs give the reason in words; capped ACKs do not echo
	 * our request back.  Both are optional: old kernels ignore them. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nls.portid = mnl_socket_get_portid(nls.nl);
	/* Start from the clock so that a restarted daemon does not reuse the
	 * sequence numbers of a previous run on a recycled port id. */
	if (!nls.seq)
		nls.seq = (unsigned)time(NULL);
	return 0;
}

/* State of one request while its reply is read. */
struct nl_reply {
	unsigned seq;
	nl_msg_cb cb;
	void *arg;
	int cb_err; /* first error of cb; later data is dropped */
	int kerr;   /* negative errno from the kernel */
	bool done;
	bool intr;
};

/* Feeds one datagram of the reply.  Returns 0 or KZ_EPROTO for a datagram
 * that cannot be framed. */
static int nl_reply_feed(struct nl_reply *r, const uint8_t *p, size_t len)
{
	while (len >= sizeof(struct nlmsghdr) && !r->done) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		size_t step;

		if (!nl_msg_ok(nlh, len))
			return KZ_EPROTO;
		/* Leftovers of an earlier request are not our answer. */
		if (nlh->nlmsg_seq != r->seq || nlh->nlmsg_pid != nls.portid) {
			log_debug("netlink: dropping message seq %u (want %u)", nlh->nlmsg_seq,
				  r->seq);
			goto next;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			r->intr = true;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			int error = 0;

			if (nl_parse_error(nlh, &error, nls.errmsg, sizeof(nls.errmsg)) < 0)
				return KZ_EPROTO;
			r->kerr = error;
			r->done = true;
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			int error = 0;

			/* A dump that failed half-way says why here. */
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(error))
				memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
			r->kerr = error < 0 && error >= -4095 ? error : 0;
			r->done = true;
		} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			/* A message the callback does not parse (another
			 * family, another type) is passed over. */
			if (r->cb && !r->cb_err) {
				r->cb_err = r->cb(nlh, r->arg);
				if (r->cb_err == KZ_ENOTSUP)
					r->cb_err = 0;
			}
		}
next:
		step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

static bool nl_errno_expected(int e)
{
	/* Asking for something that is not there is routine for callers
	 * (does the WAN device exist yet?); everything else deserves a
	 * warning. */
	return e == ENODEV || e == ESRCH || e == EADDRNOTAVAIL || e == ENOENT || e == EEXIST;
}

int nl_request(struct nlmsghdr *req, nl_msg_cb cb, void *arg, const char *what)
{
	struct nl_reply r = { .cb = cb, .arg = arg };
	int fd, ret;

	nl_clear_errmsg();
	ret = nl_open();
	if (ret)
		return ret;
	fd = mnl_socket_get_fd(nls.nl);
	if (++nls.seq == 0)
		nls.seq = 1;
	r.seq = nls.seq;
	req->nlmsg_seq = r.seq;
	req->nlmsg_pid = 0;
	/* A dump ends with NLMSG_DONE; anything else is acknowledged. */
	if ((req->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		req->nlmsg_flags |= NLM_F_ACK;

	if (mnl_socket_sendto(nls.nl, req, req->nlmsg_len) < 0) {
		ret = errno;
		log_warn("netlink: %s: send failed: %s", what, strerror(ret));
		nl_set_errmsg("%s", strerror(ret));
		ret = nl_errno_to_kz(ret);
		goto out;
	}
	while (!r.done) {
		struct sockaddr_nl sa;
		struct iovec iov = { nl_rxbuf, sizeof(nl_rxbuf) };
		struct msghdr mh = {
			.msg_name = &sa,
			.msg_namelen = sizeof(sa),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0) {
			ret = errno;
			if (ret == EINTR)
				continue;
			log_err("netlink: %s: no reply: %s", what,
				ret == EAGAIN ? "timed out" : strerror(ret));
			nl_set_errmsg("no reply from the kernel (%s)",
				      ret == EAGAIN ? "timed out" : strerror(ret));
			ret = KZ_EIO;
			kz_net_close();
			goto out;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			log_err("netlink: %s: reply truncated", what);
			nl_set_errmsg("netlink reply truncated");
			ret = KZ_ETOOBIG;
			kz_net_close();
			goto out;
		}
		/* Only the kernel answers requests. */
		if (mh.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;
		if (nl_reply_feed(&r, nl_rxbuf, (size_t)n) < 0) {
			log_err("netlink: %s: malformed reply", what);
			nl_set_errmsg("malformed netlink reply");
			ret = KZ_EPROTO;
			kz_net_close();
			goto out;
		}
	}

	if (r.kerr) {
		int e = -r.kerr;
		char text[sizeof(nls.errmsg) + 64];

		/* "Device for nexthop is not up (Network is down)" */
		if (nls.errmsg[0])
			snprintf(text, sizeof(text), "%s (%s)", nls.errmsg, strerror(e));
		else
			kz_strlcpy(text, strerror(e), sizeof(text));
		kz_strlcpy(nls.errmsg, text, sizeof(nls.errmsg));
		if (nl_errno_expected(e))
			log_debug("netlink: %s: %s", what, nls.errmsg);
		else
			log_warn("netlink: %s: %s", what, nls.errmsg);
		ret = nl_errno_to_kz(e);
		goto out;
	}
	if (r.cb_err) {
		ret = r.cb_err;
		goto out;
	}
	if (r.intr) {
		log_debug("netlink: %s: dump interrupted by a change", what);
		nl_set_errmsg("state changed while it was read");
		ret = KZ_EBUSY;
		goto out;
	}
	/* The kernel may put a warning in a successful ACK; it is not ours
	 * to keep. */
	nl_clear_errmsg();
	ret = 0;
out:
	return ret;
}

int nl_check_ifname(const char *ifname)
{
	/* The kernel's dev_valid_name() rules, so that a typo in the
	 * configuration reads "invalid" rather than "does not exist". */
	if (!ifname || !ifname[0] || strnlen(ifname, KZ_IFNAMSIZ) >= KZ_IFNAMSIZ ||
	    !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		goto bad;
	for (const char *c = ifname; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			goto bad;
	return 0;
bad:
	nl_set_errmsg("invalid device name");
	return KZ_EINVAL;
}

static int ifindex_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kz_net_event ev;
	int *ifindex = arg;
	int ret = nl_parse_link(nlh, &ev);

	if (ret)
		return ret;
	*ifindex = ev.ifindex;
	return 0;
}

int nl_get_link(const char *ifname, const char *verb, nl_msg_cb cb, void *arg)
{
	uint8_t buf[NL_TXBUF_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	char what[64];
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	snprintf(what, sizeof(what), "%s %s", verb, ifname);
	ret = nl_request(nlh, cb, arg, what);
	if (ret == KZ_ENOENT)
		nl_set_errmsg("device %s does not exist", ifname);
	return ret;
}

int nl_ifindex(const char *ifname, int *ifindex)
{
	int ret;

	*ifindex = 0;
	ret = nl_check_ifname(ifname);
	if (ret)
		return ret;
	ret = nl_get_link(ifname, "find device", ifindex_cb, ifindex);
	if (ret)
		return ret;
	if (*ifindex <= 0) {
		nl_set_errmsg("no link in the kernel's reply");
		return KZ_EPROTO;
	}
	return 0;
}

int nl_forward(const struct privmsg *req, int *fd)
{
	struct privmsg reply;
	int f = -1, r;

	nl_clear_errmsg();
	r = privmsg_broker(req, &reply, &f);
	if (r && reply.text_len)
		nl_set_errmsg("%.*s", (int)reply.text_len, (const char *)reply.text);
	if (fd)
		*fd = f;
	else if (f >= 0)
		close(f);
	return r;
}
