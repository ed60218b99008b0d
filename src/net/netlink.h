/* netlink.h - link state, addresses, routes and change events over rtnetlink.
 *
 * The daemon's view of the kernel's IPv4 network state: the WAN device and the
 * IPsec<N> TUN devices (Linux names ipsec<N>), their addresses, and the routes
 * kizuna installs towards them.  Requests go through one cached NETLINK_ROUTE
 * socket, each one acknowledged by the kernel; change events come from a
 * separate non-blocking socket whose fd the daemon adds to its own event loop.
 *
 * Not thread-safe: call from the control thread only.
 *
 * Errors: 0 or a negative KZ_E* code.  The kernel's refusals are mapped as
 *   KZ_ENOENT  no such device, address or route (ENODEV, ESRCH, EADDRNOTAVAIL)
 *   KZ_EEXIST  object exists
 *   KZ_EINVAL  bad argument, also as refused by the kernel (EINVAL; for
 *              routes ENETUNREACH: a gateway on no connected network)
 *   KZ_ERANGE  value out of range (an MTU the device does not take)
 *   KZ_EBUSY   device busy or not ready: a route through a device that is down
 *              (ENETDOWN); set the device up first, then add the route
 *   KZ_ESYS    anything else, for example EPERM without CAP_NET_ADMIN
 * and logged with the errno text and the kernel's extended ACK message;
 * kz_net_errmsg() returns that text for the console. */
#ifndef KZ_NET_NETLINK_H
#define KZ_NET_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KZ_IFNAMSIZ 16 /* IFNAMSIZ, including the terminating NUL */

/* rtm_protocol of every route kizuna installs, so that its routes can be told
 * apart from static and kernel routes and flushed after a crash.  Values up to
 * RTPROT_STATIC (4) are the kernel's; iproute2 names a few others; 200 is
 * unassigned (add "200 kizuna" to /etc/iproute2/rt_protos for `ip route`). */
#define KZ_RTPROT 200

/* Metric of the fail-closed route kizuna puts under each route to IPsec<N>:
 * an `unreachable` route for the same prefix that the route through the TUN
 * device (metric 0) always beats while that device exists.  When kizunad dies
 * its TUN devices go, the kernel drops the routes through them, and this one
 * answers ICMP net unreachable instead of the default route carrying the
 * traffic out of the WAN in the clear.  0xfff0 leaves room above for an
 * administrator's own last resort. */
#define KZ_RTMETRIC_FAILCLOSED 0xfff0u

/* Route types (rtm_type), with the kernel's values (RTN_*). */
enum kz_net_rtn {
	KZ_NET_RTN_ANY = 0,         /* RTN_UNSPEC: in a delete, matches any type */
	KZ_NET_RTN_UNICAST = 1,     /* through a device or gateway */
	KZ_NET_RTN_BLACKHOLE = 6,   /* dropped silently */
	KZ_NET_RTN_UNREACHABLE = 7, /* refused with ICMP net unreachable */
	KZ_NET_RTN_PROHIBIT = 8,    /* refused with ICMP administratively prohibited */
};

/* Addresses remembered per device in struct kz_link_state. */
#define KZ_NET_MAX_ADDRS 8

struct kz_net_addr {
	struct in_addr addr; /* local address (IFA_LOCAL) */
	uint8_t plen;        /* prefix length, 0..32 */
};

struct kz_link_state {
	bool exists;
	int ifindex;
	char ifname[KZ_IFNAMSIZ];
	unsigned flags; /* IFF_* as the kernel reports them */
	bool admin_up;  /* IFF_UP: set by kz_net_link_set_up() */
	bool lower_up;  /* IFF_LOWER_UP: carrier (for TUN: a queue is attached) */
	bool running;   /* IFF_RUNNING: operationally up, set a moment after carrier */
	unsigned mtu;
	/* IPv4 addresses in kernel order: primaries first, so addr[0] is "the"
	 * address.  naddr_total counts all of them, naddr those kept here. */
	size_t naddr;
	size_t naddr_total;
	struct kz_net_addr addr[KZ_NET_MAX_ADDRS];
};

/* One IPv4 route. */
struct kz_net_route {
	struct in_addr dst;
	uint8_t plen;
	uint8_t tos;
	uint8_t protocol;           /* RTPROT_*, KZ_RTPROT for ours */
	uint8_t scope;              /* RT_SCOPE_* */
	uint8_t type;               /* RTN_* (unicast, blackhole, unreachable...) */
	uint32_t table;             /* RT_TABLE_MAIN = 254 */
	uint32_t metric;            /* RTA_PRIORITY */
	unsigned flags;             /* rtm_flags: RTNH_F_LINKDOWN, RTNH_F_DEAD... */
	int oif;                    /* output ifindex, 0 if none (or multipath) */
	char oif_name[KZ_IFNAMSIZ]; /* by kz_net_route_list() only; else "" */
	bool has_gw;
	struct in_addr gw;
	bool has_prefsrc;
	struct in_addr prefsrc;
	bool multipath; /* RTA_MULTIPATH: oif and gw are not reported */
};

/* Closes the cached request socket; the next request opens a new one. */
void kz_net_close(void);

/* Text of the kernel's last refusal ("Device for nexthop is not up (Network
 * is down)"), or "" after a success.  Valid until the next request. */
const char *kz_net_errmsg(void);

/* Link state and IPv4 addresses of the device named ifname.  KZ_ENOENT when
 * there is no such device; st is then all zero (st->exists is false). */
int kz_net_link_get(const char *ifname, struct kz_link_state *st);

/* Sets the device administratively up or down (RTM_NEWLINK, IFF_UP).  Setting
 * a device down makes the kernel drop every IPv4 route through it without a
 * RTM_DELROUTE event: install routes again after setting it up. */
int kz_net_link_set_up(const char *ifname, bool up);

/* Sets the MTU; KZ_ERANGE if the device does not accept it. */
int kz_net_link_set_mtu(const char *ifname, unsigned mtu);

/* Adds addr/plen to the device.  Adding an address the device already has is
 * not an error (NLM_F_REPLACE), so applying a configuration twice is safe. */
int kz_net_addr_add(const char *ifname, struct in_addr addr, unsigned plen);
/* Removes it; KZ_ENOENT if the device does not have it. */
int kz_net_addr_del(const char *ifname, struct in_addr addr, unsigned plen);

/* Adds or replaces the main-table unicast route dst/plen, metric 0, through
 * device oif and/or gateway gw (either may be NULL, not both), marked with
 * KZ_RTPROT.  dst must
 * have no host bits set.  KZ_ENOENT if oif does not exist, KZ_EBUSY if it is
 * down, KZ_EINVAL if gw is not on a connected network. */
int kz_net_route_add(struct in_addr dst, unsigned plen, const char *oif, const struct in_addr *gw);
/* Deletes that unicast route if kizuna installed it (protocol KZ_RTPROT);
 * KZ_ENOENT if there is none.  With oif and gw both NULL, deletes our unicast
 * route to dst/plen whatever its next hop and metric. */
int kz_net_route_del(struct in_addr dst, unsigned plen, const char *oif, const struct in_addr *gw);
/* The same with a route type (enum kz_net_rtn) and a metric (RTA_PRIORITY).
 * Only a unicast route has a device or gateway; the others must have
 * neither.  An add replaces our route of the same prefix and metric, and
 * leaves routes of other metrics alone.  In a delete, KZ_NET_RTN_ANY and
 * metric 0 match any type and any metric. */
int kz_net_route_add_type(unsigned type, struct in_addr dst, unsigned plen, uint32_t metric,
			  const char *oif, const struct in_addr *gw);
int kz_net_route_del_type(unsigned type, struct in_addr dst, unsigned plen, uint32_t metric,
			  const char *oif, const struct in_addr *gw);
/* Deletes exactly the route kz_net_route_list() reported (its type, metric,
 * table and next hop).  KZ_EINVAL if it is not ours (protocol KZ_RTPROT),
 * KZ_ENOENT if it is gone. */
int kz_net_route_del_own(const struct kz_net_route *rt);
/* Deletes every IPv4 route with protocol KZ_RTPROT, in any table, the
 * fail-closed ones included.  *deleted (may be NULL) gets how many went. */
int kz_net_route_flush_own(size_t *deleted);
/* The IPv4 routes of the main table, with output device names.  *routes is
 * allocated (free() it, NULL when *count is 0). */
int kz_net_route_list(struct kz_net_route **routes, size_t *count);
/* A route type's name: "unicast", "blackhole", "unreachable", "prohibit",
 * or "other". */
const char *kz_net_route_type_name(unsigned type);

/* Change events. */
enum kz_net_event_type {
	KZ_NET_EV_LINK = 1,  /* device added or changed (RTM_NEWLINK) */
	KZ_NET_EV_LINK_DEL,  /* device removed */
	KZ_NET_EV_ADDR_NEW,  /* IPv4 address added */
	KZ_NET_EV_ADDR_DEL,  /* IPv4 address removed */
	KZ_NET_EV_ROUTE_NEW, /* IPv4 route added or replaced */
	KZ_NET_EV_ROUTE_DEL, /* IPv4 route removed */
	KZ_NET_EV_OVERRUN,   /* the kernel dropped events: read the state again */
};

struct kz_net_event {
	enum kz_net_event_type type;
	int ifindex; /* LINK, ADDR: the device; ROUTE: the output device */
	/* LINK: device name; ADDR: address label, normally the device name;
	 * otherwise empty.  Always NUL-terminated. */
	char ifname[KZ_IFNAMSIZ];
	unsigned flags;            /* LINK: IFF_* */
	bool admin_up;             /* LINK: IFF_UP */
	bool lower_up;             /* LINK: IFF_LOWER_UP */
	bool running;              /* LINK: IFF_RUNNING */
	unsigned mtu;              /* LINK: 0 if not reported */
	struct kz_net_addr addr;   /* ADDR */
	struct kz_net_route route; /* ROUTE (route.oif_name is empty) */
};

/* Called once per event; return 0 to go on, anything else to stop (that value
 * is returned by the function that called back). */
typedef int (*kz_net_event_cb)(const struct kz_net_event *ev, void *arg);

/* Parses a buffer of rtnetlink messages as one recv() returns them, calling
 * cb for each link, IPv4 address and IPv4 route message.  Pure: no system
 * calls, lengths never trusted.  buf must be 4-byte aligned (KZ_EINVAL if
 * not).  A malformed message is skipped and the rest still parsed; the result
 * is then the first error: KZ_ETRUNC (buffer too short for a header, or a
 * message longer than the buffer) or KZ_EPROTO (bad header or attribute).
 * Control messages and other families are ignored. */
int kz_net_parse_msgs(const void *buf, size_t len, kz_net_event_cb cb, void *arg)
	__attribute__((warn_unused_result));

/* A subscription to link, IPv4 address and IPv4 route changes. */
struct kz_net_watch;

int kz_net_watch_open(struct kz_net_watch **out);
/* The non-blocking, close-on-exec fd to poll for reading. */
int kz_net_watch_fd(const struct kz_net_watch *w);
/* Reads pending messages without blocking and calls cb per event.  Returns 0
 * once no more are pending, or after a bounded batch (the fd then stays
 * readable for a level-triggered loop); cb's nonzero value if it stopped; a
 * negative KZ_E* on a socket error.  Malformed messages are logged and skipped;
 * a kernel queue overrun becomes a KZ_NET_EV_OVERRUN event. */
int kz_net_watch_read(struct kz_net_watch *w, kz_net_event_cb cb, void *arg);
void kz_net_watch_close(struct kz_net_watch *w);

/* Short name of an event type ("link", "addr-new"...), for logs. */
const char *kz_net_event_name(enum kz_net_event_type type);

#endif
