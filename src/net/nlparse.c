/* nlparse.c - pure parsers of rtnetlink messages.
 *
 * Everything the kernel sends us (multicast events, dump replies, ACKs) goes
 * through these functions, and a fuzz target feeds them arbitrary bytes, so
 * no length is trusted: the message framing is checked here rather than by
 * libmnl 1.0.4 (whose mnl_nlmsg_ok() casts the length to int and whose
 * mnl_attr_parse() walks up to the aligned, not the real, end of a message),
 * family headers are copied out with memcpy, and every attribute is checked
 * with mnl_attr_validate2() before its payload is read. */
#include "net/nl_priv.h"

#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "lib/enum_name.h"

_Static_assert(KZ_IFNAMSIZ == IFNAMSIZ, "KZ_IFNAMSIZ must match IFNAMSIZ");

typedef int (*nl_attr_cb)(const struct nlattr *attr, void *arg);

bool nl_msg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= len;
}

/* Calls cb for each attribute after the first `off` payload bytes, all within
 * nlmsg_len.  An attribute that claims more bytes than are left makes the
 * message malformed; fewer than an attribute header of trailing bytes are
 * ignored, as the kernel itself does. */
static int nl_attrs(const struct nlmsghdr *nlh, size_t off, nl_attr_cb cb, void *arg)
{
	const uint8_t *p, *end;
	size_t start = MNL_NLMSG_HDRLEN + MNL_ALIGN(off);
	int ret;

	if (start >= nlh->nlmsg_len)
		return 0;
	p = (const uint8_t *)nlh + start;
	end = (const uint8_t *)nlh + nlh->nlmsg_len;
	while ((size_t)(end - p) >= sizeof(struct nlattr)) {
		const struct nlattr *attr = (const struct nlattr *)p;
		size_t left = (size_t)(end - p);
		size_t step;

		/* nla_len is 16 bits, so INT_MAX is as good as any larger
		 * bound for mnl_attr_ok()'s int parameter. */
		if (!mnl_attr_ok(attr, left > INT_MAX ? INT_MAX : (int)left))
			return KZ_EPROTO;
		ret = cb(attr, arg);
		if (ret)
			return ret;
		step = MNL_ALIGN(attr->nla_len);
		if (step >= left)
			break;
		p += step;
	}
	return 0;
}

static int attr_in_addr(const struct nlattr *attr, struct in_addr *out)
{
	if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, sizeof(*out)) < 0)
		return KZ_EPROTO;
	memcpy(out, mnl_attr_get_payload(attr), sizeof(*out));
	return 0;
}

static int attr_u32(const struct nlattr *attr, uint32_t *out)
{
	if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return KZ_EPROTO;
	*out = mnl_attr_get_u32(attr);
	return 0;
}

/* A device name: NUL-terminated within the payload, 1..IFNAMSIZ-1 chars. */
static int attr_ifname(const struct nlattr *attr, char out[KZ_IFNAMSIZ])
{
	const char *s = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);
	const char *nul = memchr(s, '\0', len);

	if (!nul || nul == s || (size_t)(nul - s) >= KZ_IFNAMSIZ)
		return KZ_EPROTO;
	memcpy(out, s, (size_t)(nul - s) + 1);
	return 0;
}

static int link_attr(const struct nlattr *attr, void *arg)
{
	struct kz_net_event *ev = arg;
	uint32_t v;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		return attr_ifname(attr, ev->ifname);
	case IFLA_MTU:
		if (attr_u32(attr, &v) < 0)
			return KZ_EPROTO;
		ev->mtu = v;
		return 0;
	default:
		return 0;
	}
}

/* The fixed header of a NEW or DEL message of one kind, copied out:
 * KZ_ENOTSUP for other messages, KZ_EPROTO if it is cut short. */
static int msg_header(const struct nlmsghdr *nlh, uint16_t type_new, uint16_t type_del, void *hdr,
		      size_t len)
{
	if (nlh->nlmsg_type != type_new && nlh->nlmsg_type != type_del)
		return KZ_ENOTSUP;
	if (mnl_nlmsg_get_payload_len(nlh) < len)
		return KZ_EPROTO;
	memcpy(hdr, mnl_nlmsg_get_payload(nlh), len);
	return 0;
}

int nl_parse_link(const struct nlmsghdr *nlh, struct kz_net_event *ev)
{
	struct ifinfomsg ifi;
	int ret;

	memset(ev, 0, sizeof(*ev));
	ret = msg_header(nlh, RTM_NEWLINK, RTM_DELLINK, &ifi, sizeof(ifi));
	if (ret)
		return ret;
	/* Bridge port and other per-family link messages carry the same
	 * ifindex but are not the device itself. */
	if (ifi.ifi_family != AF_UNSPEC)
		return KZ_ENOTSUP;
	if (ifi.ifi_index <= 0)
		return KZ_EPROTO;
	ev->type = nlh->nlmsg_type == RTM_NEWLINK ? KZ_NET_EV_LINK : KZ_NET_EV_LINK_DEL;
	ev->ifindex = ifi.ifi_index;
	ev->flags = ifi.ifi_flags;
	ev->admin_up = ifi.ifi_flags & IFF_UP;
	ev->lower_up = ifi.ifi_flags & IFF_LOWER_UP;
	ev->running = ifi.ifi_flags & IFF_RUNNING;
	ret = nl_attrs(nlh, sizeof(ifi), link_attr, ev);
	if (ret)
		return ret;
	/* The kernel always names the device; consumers match by name. */
	if (!ev->ifname[0])
		return KZ_EPROTO;
	return 0;
}

struct addr_attrs {
	struct kz_net_event *ev;
	bool has_local, has_address;
	struct in_addr local, address;
};

static int addr_attr(const struct nlattr *attr, void *arg)
{
	struct addr_attrs *a = arg;

	switch (mnl_attr_get_type(attr)) {
	case IFA_LOCAL:
		a->has_local = true;
		return attr_in_addr(attr, &a->local);
	case IFA_ADDRESS:
		a->has_address = true;
		return attr_in_addr(attr, &a->address);
	case IFA_LABEL:
		return attr_ifname(attr, a->ev->ifname);
	default:
		return 0;
	}
}

int nl_parse_addr(const struct nlmsghdr *nlh, struct kz_net_event *ev)
{
	struct ifaddrmsg ifa;
	struct addr_attrs a = { .ev = ev };
	int ret;

	memset(ev, 0, sizeof(*ev));
	ret = msg_header(nlh, RTM_NEWADDR, RTM_DELADDR, &ifa, sizeof(ifa));
	if (ret)
		return ret;
	if (ifa.ifa_family != AF_INET)
		return KZ_ENOTSUP;
	if (ifa.ifa_prefixlen > 32 || ifa.ifa_index == 0 || ifa.ifa_index > INT_MAX)
		return KZ_EPROTO;
	ev->type = nlh->nlmsg_type == RTM_NEWADDR ? KZ_NET_EV_ADDR_NEW : KZ_NET_EV_ADDR_DEL;
	ev->ifindex = (int)ifa.ifa_index;
	ev->addr.plen = ifa.ifa_prefixlen;
	ret = nl_attrs(nlh, sizeof(ifa), addr_attr, &a);
	if (ret)
		return ret;
	/* IFA_LOCAL is our own address; on point-to-point links IFA_ADDRESS
	 * is the peer's, so it only stands in when IFA_LOCAL is missing. */
	if (a.has_local)
		ev->addr.addr = a.local;
	else if (a.has_address)
		ev->addr.addr = a.address;
	else
		return KZ_EPROTO;
	return 0;
}

static int route_attr(const struct nlattr *attr, void *arg)
{
	struct kz_net_route *rt = arg;
	uint32_t v;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		return attr_in_addr(attr, &rt->dst);
	case RTA_GATEWAY:
		rt->has_gw = true;
		return attr_in_addr(attr, &rt->gw);
	case RTA_PREFSRC:
		rt->has_prefsrc = true;
		return attr_in_addr(attr, &rt->prefsrc);
	case RTA_OIF:
		if (attr_u32(attr, &v) < 0 || v > INT_MAX)
			return KZ_EPROTO;
		rt->oif = (int)v;
		return 0;
	case RTA_PRIORITY:
		return attr_u32(attr, &rt->metric);
	case RTA_TABLE:
		return attr_u32(attr, &rt->table);
	case RTA_MULTIPATH:
		rt->multipath = true;
		return 0;
	default:
		return 0;
	}
}

int nl_parse_route(const struct nlmsghdr *nlh, struct kz_net_route *rt)
{
	struct rtmsg rtm;
	int ret;

	memset(rt, 0, sizeof(*rt));
	ret = msg_header(nlh, RTM_NEWROUTE, RTM_DELROUTE, &rtm, sizeof(rtm));
	if (ret)
		return ret;
	if (rtm.rtm_family != AF_INET)
		return KZ_ENOTSUP;
	if (rtm.rtm_dst_len > 32)
		return KZ_EPROTO;
	rt->plen = rtm.rtm_dst_len;
	rt->tos = rtm.rtm_tos;
	rt->protocol = rtm.rtm_protocol;
	rt->scope = rtm.rtm_scope;
	rt->type = rtm.rtm_type;
	/* rtm_table is 8 bits; RTA_TABLE, when present, overrides it. */
	rt->table = rtm.rtm_table;
	rt->flags = rtm.rtm_flags;
	ret = nl_attrs(nlh, sizeof(rtm), route_attr, rt);
	if (ret)
		return ret;
	return 0;
}

int nl_parse_event(const struct nlmsghdr *nlh, struct kz_net_event *ev)
{
	int ret;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return nl_parse_link(nlh, ev);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return nl_parse_addr(nlh, ev);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		memset(ev, 0, sizeof(*ev));
		ret = nl_parse_route(nlh, &ev->route);
		if (ret)
			return ret;
		ev->type =
			nlh->nlmsg_type == RTM_NEWROUTE ? KZ_NET_EV_ROUTE_NEW : KZ_NET_EV_ROUTE_DEL;
		ev->ifindex = ev->route.oif;
		return 0;
	default:
		memset(ev, 0, sizeof(*ev));
		return KZ_ENOTSUP;
	}
}

struct err_attrs {
	char *msg;
	size_t msgsize;
};

static int err_attr(const struct nlattr *attr, void *arg)
{
	struct err_attrs *e = arg;
	const char *s;
	size_t len;

	if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
		return 0;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return KZ_EPROTO;
	if (!e->msg || !e->msgsize)
		return 0;
	s = mnl_attr_get_str(attr);
	len = strnlen(s, e->msgsize - 1);
	memcpy(e->msg, s, len);
	e->msg[len] = '\0';
	return 0;
}

int nl_parse_error(const struct nlmsghdr *nlh, int *error, char *msg, size_t msgsize)
{
	struct nlmsgerr err;
	struct err_attrs ea = { msg, msgsize };
	size_t off = sizeof(err);

	if (msg && msgsize)
		msg[0] = '\0';
	if (nlh->nlmsg_type != NLMSG_ERROR)
		return KZ_ENOTSUP;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return KZ_EPROTO;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	/* An errno, negated; the kernel never sends anything else. */
	if (err.error > 0 || err.error < -4095)
		return KZ_EPROTO;
	*error = err.error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* Unless capped, the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (err.msg.nlmsg_len < sizeof(err.msg))
			return KZ_EPROTO;
		off += MNL_ALIGN((size_t)err.msg.nlmsg_len) - sizeof(err.msg);
	}
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return KZ_EPROTO;
	return nl_attrs(nlh, off, err_attr, &ea);
}

int kz_net_parse_msgs(const void *buf, size_t len, kz_net_event_cb cb, void *arg)
{
	const uint8_t *p = buf;
	int first_err = 0;

	if (!buf || ((uintptr_t)buf & (NLMSG_ALIGNTO - 1)))
		return buf || len ? KZ_EINVAL : KZ_ETRUNC;
	if (len < sizeof(struct nlmsghdr))
		return KZ_ETRUNC;
	while (len >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		struct kz_net_event ev;
		size_t step;
		int ret;

		if (!nl_msg_ok(nlh, len)) {
			/* A bad length makes everything after it unframed. */
			if (!first_err)
				first_err = nlh->nlmsg_len < sizeof(*nlh) ? KZ_EPROTO : KZ_ETRUNC;
			return first_err;
		}
		ret = nl_parse_event(nlh, &ev);
		if (ret == 0) {
			ret = cb ? cb(&ev, arg) : 0;
			if (ret)
				return ret;
		} else if (ret != KZ_ENOTSUP && !first_err) {
			first_err = ret;
		}
		/* The last message may lack its alignment padding. */
		step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);
		if (step >= len)
			return first_err;
		p += step;
		len -= step;
	}
	/* Fewer bytes than a header left over. */
	return first_err ? first_err : KZ_ETRUNC;
}

const char *kz_net_event_name(enum kz_net_event_type type)
{
	static const char *const n[] = {
		[KZ_NET_EV_LINK] = "link",           [KZ_NET_EV_LINK_DEL] = "link-del",
		[KZ_NET_EV_ADDR_NEW] = "addr-new",   [KZ_NET_EV_ADDR_DEL] = "addr-del",
		[KZ_NET_EV_ROUTE_NEW] = "route-new", [KZ_NET_EV_ROUTE_DEL] = "route-del",
		[KZ_NET_EV_OVERRUN] = "overrun",
	};
	return KZ_ENUM_NAME(n, type, "?");
}
