/* route.c - IPv4 routes towards the IPsec<N> devices over rtnetlink.
 *
 * Every route kizuna installs carries rtm_protocol KZ_RTPROT.  That is how
 * they are told apart from the administrator's and the kernel's routes: a
 * delete only matches our own, and after a crash the daemon finds what a
 * previous run left behind.  Besides routes through a device or gateway
 * (RTN_UNICAST), kizuna installs `unreachable` routes with a high metric
 * under each route to IPsec<N>, so that protected traffic is refused, not
 * sent in the clear, while the TUN device is missing. */
#include "net/nl_priv.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/privmsg.h"

#define NL_DUMP_TRIES 3

/* netlink.h spells the route types without the kernel's header. */
_Static_assert((int)KZ_NET_RTN_ANY == (int)RTN_UNSPEC &&
		       (int)KZ_NET_RTN_UNICAST == (int)RTN_UNICAST &&
		       (int)KZ_NET_RTN_BLACKHOLE == (int)RTN_BLACKHOLE &&
		       (int)KZ_NET_RTN_UNREACHABLE == (int)RTN_UNREACHABLE &&
		       (int)KZ_NET_RTN_PROHIBIT == (int)RTN_PROHIBIT,
	       "route types differ from linux/rtnetlink.h");

static struct nlmsghdr *route_msg(void *buf, int type, unsigned flags,
				  const struct kz_net_route *rt)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = rt->plen;
	rtm->rtm_tos = rt->tos;
	/* Tables above 255 only fit in RTA_TABLE. */
	rtm->rtm_table = rt->table < 256 ? rt->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = rt->protocol;
	rtm->rtm_scope = rt->scope;
	rtm->rtm_type = rt->type;
	mnl_attr_put_u32(nlh, RTA_TABLE, rt->table);
	if (rt->plen)
		mnl_attr_put(nlh, RTA_DST, sizeof(rt->dst), &rt->dst);
	if (rt->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
	if (rt->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(rt->gw), &rt->gw);
	if (rt->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->metric);
	return nlh;
}

/* Checks the arguments of add/del and turns them into a main-table route of
 * ours.  Only an added unicast route needs a next hop; a delete without one
 * matches our route to dst/plen whatever it goes through.  The other types
 * have none: the kernel answers the packet itself. */
static int route_prepare(struct kz_net_route *rt, unsigned type, struct in_addr dst, unsigned plen,
			 uint32_t metric, const char *oif, const struct in_addr *gw, bool adding)
{
	uint32_t mask;
	int ret;

	memset(rt, 0, sizeof(*rt));
	switch (type) {
	case KZ_NET_RTN_ANY:
		if (adding) {
			nl_set_errmsg("route type missing");
			return KZ_EINVAL;
		}
		break;
	case KZ_NET_RTN_UNICAST:
		break;
	case KZ_NET_RTN_BLACKHOLE:
	case KZ_NET_RTN_UNREACHABLE:
	case KZ_NET_RTN_PROHIBIT:
		if (oif || gw) {
			nl_set_errmsg("a route of this type has no device or gateway");
			return KZ_EINVAL;
		}
		break;
	default:
		nl_set_errmsg("route type %u is not supported", type);
		return KZ_EINVAL;
	}
	if (plen > 32) {
		nl_set_errmsg("prefix length %u is out of range", plen);
		return KZ_EINVAL;
	}
	mask = plen ? 0xffffffffu << (32 - plen) : 0;
	/* The kernel refuses 10.1.2.3/8 too, but with a vaguer message. */
	if (ntohl(dst.s_addr) & ~mask) {
		nl_set_errmsg("destination has host bits set for /%u", plen);
		return KZ_EINVAL;
	}
	if (adding && type == KZ_NET_RTN_UNICAST && !oif && !gw) {
		nl_set_errmsg("route needs a device or a gateway");
		return KZ_EINVAL;
	}
	if (oif) {
		ret = nl_ifindex(oif, &rt->oif);
		if (ret)
			return ret;
	}
	rt->dst = dst;
	rt->plen = plen;
	rt->table = RT_TABLE_MAIN;
	rt->protocol = KZ_RTPROT;
	rt->type = (uint8_t)type;
	rt->metric = metric;
	if (gw) {
		rt->has_gw = true;
		rt->gw = *gw;
	}
	if (adding)
		/* Directly reachable through the device, or a gateway's
		 * business; a route the kernel answers itself has no link to
		 * be scoped to. */
		rt->scope = gw || type != KZ_NET_RTN_UNICAST ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	else
		/* RT_SCOPE_NOWHERE matches a route of any scope; type
		 * RTN_UNSPEC and metric 0 (RTA_PRIORITY left out) match any
		 * type and metric. */
		rt->scope = RT_SCOPE_NOWHERE;
	return 0;
}

const char *kz_net_route_type_name(unsigned type)
{
	static const char *const n[] = {
		[KZ_NET_RTN_UNICAST] = "unicast",
		[KZ_NET_RTN_BLACKHOLE] = "blackhole",
		[KZ_NET_RTN_UNREACHABLE] = "unreachable",
		[KZ_NET_RTN_PROHIBIT] = "prohibit",
	};

	return type < sizeof(n) / sizeof(n[0]) && n[type] ? n[type] : "other";
}

static void route_describe(char *out, size_t size, const char *verb, const struct kz_net_route *rt,
			   const char *oif)
{
	char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], m[24] = "", t[16] = "";

	inet_ntop(AF_INET, &rt->dst, d, sizeof(d));
	inet_ntop(AF_INET, &rt->gw, g, sizeof(g));
	if (rt->metric)
		snprintf(m, sizeof(m), " metric %u", (unsigned)rt->metric);
	/* "blackhole " and the like; nothing for a unicast route */
	if (rt->type >= KZ_NET_RTN_BLACKHOLE && rt->type <= KZ_NET_RTN_PROHIBIT)
		snprintf(t, sizeof(t), "%s ", kz_net_route_type_name(rt->type));
	snprintf(out, size, "%s route %s%s/%u%s%s%s%s%s", verb, t, d, rt->plen,
		 rt->has_gw ? " via " : "", rt->has_gw ? g : "", oif ? " dev " : "", oif ? oif : "",
		 m);
}

/* Sends rt as an RTM_NEWROUTE or RTM_DELROUTE, logged as "<verb> route ...". */
static int route_send(const struct kz_net_route *rt, int type, unsigned flags, const char *verb,
		      const char *oif)
{
	uint8_t buf[NL_TXBUF_SIZE];
	char what[160];

	route_describe(what, sizeof(what), verb, rt, oif);
	return nl_request(route_msg(buf, type, flags, rt), NULL, NULL, what);
}

/* The child's route add/del: checked here as for the kernel, done by the
 * parent with the same call. */
static int route_forward(bool add, unsigned type, struct in_addr dst, unsigned plen,
			 uint32_t metric, const char *oif, const struct in_addr *gw)
{
	struct privmsg m = { .type = add ? PRIVMSG_ROUTE_ADD : PRIVMSG_ROUTE_DEL,
			     .rtype = (uint8_t)type,
			     .addr = dst.s_addr,
			     .plen = (uint8_t)plen,
			     .metric = metric };

	if (oif) {
		int ret = nl_check_ifname(oif);

		if (ret)
			return ret;
		kz_strlcpy(m.ifname, oif, sizeof(m.ifname));
	}
	if (gw) {
		m.has_gw = true;
		m.gw = gw->s_addr;
	}
	return nl_forward(&m, NULL);
}

int kz_net_route_add_type(unsigned type, struct in_addr dst, unsigned plen, uint32_t metric,
			  const char *oif, const struct in_addr *gw)
{
	struct kz_net_route rt;
	int ret;

	if (privmsg_broker)
		return route_forward(true, type, dst, plen, metric, oif, gw);
	ret = route_prepare(&rt, type, dst, plen, metric, oif, gw, true);

	/* NLM_F_REPLACE swaps a route of the same dst, tos and metric in one
	 * step, so reapplying never leaves a moment without it; routes of
	 * another metric are left alone. */
	return ret ? ret : route_send(&rt, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, "add", oif);
}

int kz_net_route_del_type(unsigned type, struct in_addr dst, unsigned plen, uint32_t metric,
			  const char *oif, const struct in_addr *gw)
{
	struct kz_net_route rt;
	int ret;

	if (privmsg_broker)
		return route_forward(false, type, dst, plen, metric, oif, gw);
	ret = route_prepare(&rt, type, dst, plen, metric, oif, gw, false);
	if (ret)
		return ret;
	ret = route_send(&rt, RTM_DELROUTE, 0, "delete", oif);
	if (ret == KZ_ENOENT)
		nl_set_errmsg("no such route installed by kizuna");
	return ret;
}

int kz_net_route_add(struct in_addr dst, unsigned plen, const char *oif, const struct in_addr *gw)
{
	return kz_net_route_add_type(KZ_NET_RTN_UNICAST, dst, plen, 0, oif, gw);
}

int kz_net_route_del(struct in_addr dst, unsigned plen, const char *oif, const struct in_addr *gw)
{
	return kz_net_route_del_type(KZ_NET_RTN_UNICAST, dst, plen, 0, oif, gw);
}

int kz_net_route_del_own(const struct kz_net_route *route)
{
	struct kz_net_route rt = *route;

	if (rt.protocol != KZ_RTPROT) {
		nl_set_errmsg("not a route installed by kizuna");
		return KZ_EINVAL;
	}
	if (privmsg_broker) {
		struct privmsg m = { .type = PRIVMSG_ROUTE_DEL_OWN,
				     .rtype = rt.type,
				     .addr = rt.dst.s_addr,
				     .plen = rt.plen,
				     .tos = rt.tos,
				     .protocol = rt.protocol,
				     .scope = rt.scope,
				     .table = rt.table,
				     .metric = rt.metric,
				     .oif = rt.oif,
				     .has_gw = rt.has_gw,
				     .gw = rt.gw.s_addr,
				     .has_prefsrc = rt.has_prefsrc,
				     .prefsrc = rt.prefsrc.s_addr };

		return nl_forward(&m, NULL);
	}
	/* Exactly this route (type, metric, table, next hop as listed),
	 * whatever its scope. */
	rt.scope = RT_SCOPE_NOWHERE;
	return route_send(&rt, RTM_DELROUTE, 0, "delete", NULL);
}

struct route_vec {
	struct kz_net_route *v;
	size_t n, cap;
	bool own_only; /* protocol KZ_RTPROT in any table, else the main table */
};

static int route_collect_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_vec *rv = arg;
	struct kz_net_route rt;
	int ret = nl_parse_route(nlh, &rt);

	if (ret)
		return ret;
	if (rv->own_only ? rt.protocol != KZ_RTPROT : rt.table != RT_TABLE_MAIN)
		return 0;
	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 16;
		struct kz_net_route *v = reallocarray(rv->v, cap, sizeof(*v));

		if (!v)
			return KZ_ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	rv->v[rv->n++] = rt;
	return 0;
}

static int route_dump(struct route_vec *rv)
{
	uint8_t buf[NL_TXBUF_SIZE];
	int ret = 0;

	for (int i = 0; i < NL_DUMP_TRIES; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rtm;

		rv->n = 0;
		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_INET;
		ret = nl_request(nlh, route_collect_cb, rv, "list routes");
		if (ret != KZ_EBUSY)
			break;
	}
	return ret;
}

static int route_names_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_vec *rv = arg;
	struct kz_net_event ev;
	int ret = nl_parse_link(nlh, &ev);

	if (ret)
		return ret;
	for (size_t i = 0; i < rv->n; i++)
		if (rv->v[i].oif == ev.ifindex)
			memcpy(rv->v[i].oif_name, ev.ifname, sizeof(ev.ifname));
	return 0;
}

/* One link dump names every output device, rather than a request per
 * route. */
static int route_names(struct route_vec *rv)
{
	uint8_t buf[NL_TXBUF_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_request(nlh, route_names_cb, rv, "list links");
}

int kz_net_route_list(struct kz_net_route **routes, size_t *count)
{
	struct route_vec rv = { 0 };
	int ret;

	*routes = NULL;
	*count = 0;
	ret = route_dump(&rv);
	if (ret)
		goto out;
	/* A device that vanished in between keeps an empty name; that is
	 * what `show` should print for it anyway. */
	if (rv.n)
		ret = route_names(&rv);
	if (ret == KZ_EBUSY)
		ret = 0;
	if (ret)
		goto out;
	if (rv.n) {
		*routes = rv.v;
		*count = rv.n;
		rv.v = NULL;
	}
out:
	free(rv.v);
	return ret;
}

int kz_net_route_flush_own(size_t *deleted)
{
	struct route_vec rv = { .own_only = true };
	size_t n = 0;
	int ret;

	ret = route_dump(&rv);
	if (ret)
		goto out;
	for (size_t i = 0; i < rv.n; i++) {
		int r = kz_net_route_del_own(&rv.v[i]);

		/* Gone meanwhile, with its device for instance: fine. */
		if (r == KZ_ENOENT)
			continue;
		if (r) {
			if (!ret)
				ret = r;
			continue;
		}
		n++;
	}
out:
	if (deleted)
		*deleted = n;
	free(rv.v);
	return ret;
}
