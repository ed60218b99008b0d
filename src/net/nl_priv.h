/* nl_priv.h - internals shared by the rtnetlink files of src/net/.
 *
 * nlparse.c: pure parsers of single messages (also behind kz_net_parse_msgs
 * and the fuzz target).  nlsock.c: the cached request socket. */
#ifndef KZ_NET_NL_PRIV_H
#define KZ_NET_NL_PRIV_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>

#include "net/netlink.h"

/* Receive buffer: the kernel sizes dump replies up to 32 KiB when the reader
 * offers that much, and never sends larger rtnetlink datagrams. */
#define NL_RXBUF_SIZE 32768
/* Requests are small: a header, a family header and a few attributes. */
#define NL_TXBUF_SIZE 512

/* True if a whole netlink message starts at nlh within len bytes.  libmnl
 * 1.0.4's mnl_nlmsg_ok() casts nlmsg_len to int, so a length of 2^31 or more
 * passes it; this one compares unsigned. */
bool nl_msg_ok(const struct nlmsghdr *nlh, size_t len);

/* Parsers of one message whose framing nl_msg_ok() has checked.  They return
 * 0, KZ_EPROTO for a malformed message, or KZ_ENOTSUP for a well-formed
 * message this layer does not handle (another type or address family). */
int nl_parse_link(const struct nlmsghdr *nlh, struct kz_net_event *ev);
int nl_parse_addr(const struct nlmsghdr *nlh, struct kz_net_event *ev);
int nl_parse_route(const struct nlmsghdr *nlh, struct kz_net_route *rt);
/* Dispatches on nlmsg_type to the three above, filling ev->type. */
int nl_parse_event(const struct nlmsghdr *nlh, struct kz_net_event *ev);
/* An NLMSG_ERROR message: *error gets the (negative) errno or 0 for an ACK;
 * the extended ACK text, if any, is copied to msg. */
int nl_parse_error(const struct nlmsghdr *nlh, int *error, char *msg, size_t msgsize);

/* Called per data message of a reply; returns 0 or a negative KZ_E*.  After
 * an error the rest of the reply is read and dropped; KZ_ENOTSUP (what the
 * nl_parse_* functions return for a message not of their kind) is not an
 * error: the message is passed over. */
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *arg);

/* Sends req on the cached socket (sequence number and port id are filled in)
 * and reads the reply up to the ACK, the error or the end of the dump.
 * `what` names the operation in logs ("set link ipsec0 up").  KZ_EBUSY if a
 * dump was interrupted by a concurrent change: the caller starts it again. */
int nl_request(struct nlmsghdr *req, nl_msg_cb cb, void *arg, const char *what);

/* errno -> KZ_E* as listed in netlink.h. */
int nl_errno_to_kz(int e);
/* Records a refusal found before asking the kernel, for kz_net_errmsg(). */
void nl_set_errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nl_clear_errmsg(void);

/* In kizunad's unprivileged child (privmsg_broker set): sends req to the
 * privileged parent, which runs the same function there; the reply's
 * message becomes kz_net_errmsg().  *fd (may be NULL) gets a descriptor
 * that came with the reply. */
struct privmsg;
int nl_forward(const struct privmsg *req, int *fd);

/* 0 if ifname is a usable device name, else KZ_EINVAL (and errmsg). */
int nl_check_ifname(const char *ifname);
/* RTM_GETLINK for the device named ifname (checked by the caller), the
 * reply to cb; logged as "<verb> <ifname>".  KZ_ENOENT, with the message
 * "device <ifname> does not exist", if there is none. */
int nl_get_link(const char *ifname, const char *verb, nl_msg_cb cb, void *arg);
/* ifindex of the device named ifname; KZ_ENOENT if there is none. */
int nl_ifindex(const char *ifname, int *ifindex);

#endif
