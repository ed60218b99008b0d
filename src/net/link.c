/* link.c - device state, up/down, MTU and IPv4 addresses over rtnetlink. */
#include "net/nl_priv.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/privmsg.h"

/* A dump interrupted by a concurrent change is read again this often. */
#define NL_DUMP_TRIES 3

static int link_state_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kz_link_state *st = arg;
	struct kz_net_event ev;
	int ret = nl_parse_link(nlh, &ev);

	if (ret)
		return ret;
	st->ifindex = ev.ifindex;
	memcpy(st->ifname, ev.ifname, sizeof(st->ifname));
	st->flags = ev.flags;
	st->admin_up = ev.admin_up;
	st->lower_up = ev.lower_up;
	st->running = ev.running;
	st->mtu = ev.mtu;
	return 0;
}

static int link_addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kz_link_state *st = arg;
	struct kz_net_event ev;
	int ret = nl_parse_addr(nlh, &ev);

	if (ret)
		return ret;
	if (ev.ifindex != st->ifindex)
		return 0;
	st->naddr_total++;
	if (st->naddr < KZ_NET_MAX_ADDRS)
		st->addr[st->naddr++] = ev.addr;
	return 0;
}

static int link_get_once(const char *ifname, struct kz_link_state *st)
{
	uint8_t buf[NL_TXBUF_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	char what[64];
	int ret;

	memset(st, 0, sizeof(*st));
	ret = nl_get_link(ifname, "get link", link_state_cb, st);
	if (ret)
		goto out;
	if (st->ifindex <= 0) {
		nl_set_errmsg("no link in the kernel's reply");
		ret = KZ_EPROTO;
		goto out;
	}

	/* Addresses are not part of the link message: dump the IPv4 ones and
	 * keep this device's, in the kernel's order (primaries first). */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	snprintf(what, sizeof(what), "get addresses of %s", ifname);
	ret = nl_request(nlh, link_addr_cb, st, what);
out:
	return ret;
}

int kz_net_link_get(const char *ifname, struct kz_link_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	ret = nl_check_ifname(ifname);
	if (ret)
		return ret;
	for (int i = 0; i < NL_DUMP_TRIES; i++) {
		ret = link_get_once(ifname, st);
		if (ret != KZ_EBUSY)
			break;
	}
	if (ret) {
		memset(st, 0, sizeof(*st));
		return ret;
	}
	st->exists = true;
	return 0;
}

/* An RTM_NEWLINK for an existing device, found by name.  Without
 * NLM_F_CREATE the kernel answers ENODEV rather than making a device. */
static struct nlmsghdr *link_change_msg(void *buf, const char *ifname, unsigned flags,
					unsigned change)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

int kz_net_link_set_up(const char *ifname, bool up)
{
	uint8_t buf[NL_TXBUF_SIZE];
	char what[64];
	int ret;

	ret = nl_check_ifname(ifname);
	if (ret)
		return ret;
	if (privmsg_broker) {
		struct privmsg m = { .type = PRIVMSG_LINK_UP, .up = up };

		kz_strlcpy(m.ifname, ifname, sizeof(m.ifname));
		return nl_forward(&m, NULL);
	}
	snprintf(what, sizeof(what), "set link %s %s", ifname, up ? "up" : "down");
	ret = nl_request(link_change_msg(buf, ifname, up ? IFF_UP : 0, IFF_UP), NULL, NULL, what);
	if (ret == KZ_ENOENT)
		nl_set_errmsg("device %s does not exist", ifname);
	return ret;
}

int kz_net_link_set_mtu(const char *ifname, unsigned mtu)
{
	uint8_t buf[NL_TXBUF_SIZE];
	struct nlmsghdr *nlh;
	char what[64];
	int ret;

	ret = nl_check_ifname(ifname);
	if (ret)
		return ret;
	if (privmsg_broker) {
		struct privmsg m = { .type = PRIVMSG_LINK_MTU, .mtu = mtu };

		if (mtu < 68 || mtu > 65535)
			return KZ_ERANGE;
		kz_strlcpy(m.ifname, ifname, sizeof(m.ifname));
		return nl_forward(&m, NULL);
	}
	nlh = link_change_msg(buf, ifname, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	snprintf(what, sizeof(what), "set link %s mtu %u", ifname, mtu);
	ret = nl_request(nlh, NULL, NULL, what);
	if (ret == KZ_ENOENT)
		nl_set_errmsg("device %s does not exist", ifname);
	/* The value is the only thing the kernel can find invalid here. */
	if (ret == KZ_EINVAL)
		ret = KZ_ERANGE;
	return ret;
}

static int addr_change(int type, const char *ifname, struct in_addr addr, unsigned plen)
{
	uint8_t buf[NL_TXBUF_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	char what[96], astr[INET_ADDRSTRLEN];
	int ifindex, ret;

	if (plen > 32) {
		nl_set_errmsg("prefix length %u is out of range", plen);
		return KZ_EINVAL;
	}
	if (privmsg_broker) {
		struct privmsg m = { .type = type == RTM_NEWADDR ? PRIVMSG_ADDR_ADD
								 : PRIVMSG_ADDR_DEL,
				     .addr = addr.s_addr,
				     .plen = (uint8_t)plen };

		ret = nl_check_ifname(ifname);
		if (ret)
			return ret;
		kz_strlcpy(m.ifname, ifname, sizeof(m.ifname));
		return nl_forward(&m, NULL);
	}
	ret = nl_ifindex(ifname, &ifindex);
	if (ret)
		return ret;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = ifindex;
	/* Loopback addresses are host scope, as `ip` makes them. */
	ifa->ifa_scope = (ntohl(addr.s_addr) >> 24) == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	inet_ntop(AF_INET, &addr, astr, sizeof(astr));
	snprintf(what, sizeof(what), "%s address %s/%u %s %s",
		 type == RTM_NEWADDR ? "add" : "delete", astr, plen,
		 type == RTM_NEWADDR ? "to" : "from", ifname);
	ret = nl_request(nlh, NULL, NULL, what);
	if (ret == KZ_ENOENT && type == RTM_DELADDR)
		nl_set_errmsg("%s has no address %s/%u", ifname, astr, plen);
	return ret;
}

int kz_net_addr_add(const char *ifname, struct in_addr addr, unsigned plen)
{
	return addr_change(RTM_NEWADDR, ifname, addr, plen);
}

int kz_net_addr_del(const char *ifname, struct in_addr addr, unsigned plen)
{
	return addr_change(RTM_DELADDR, ifname, addr, plen);
}
