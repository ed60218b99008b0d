/* test_net_netlink.c - src/net/ against the real kernel, in a private netns.
 *
 * Two groups.  The parser group feeds kz_net_parse_msgs() built, truncated
 * and garbage buffers and needs no privileges.  The kernel group runs as root
 * in a network namespace of its own (unshare(CLONE_NEWNET), so the host is
 * never touched and nothing needs cleaning up): it creates a veth pair and
 * TUN devices, changes them through src/net/ and checks the result both
 * through src/net/ and through iproute2's `ip`, as an independent witness.
 *
 * Without root the kernel group is skipped with exit status 77, except under
 * CI=true where a skipped test would hide a regression, so it fails. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "net/netlink.h"
#include "net/nl_priv.h"
#include "net/tun.h"

/* Device names of the lab inside the namespace. */
#define VETH_A "kzv0"
#define VETH_B "kzv1"
#define VETH_DOWN "kzv2"
#define VETH_DOWN_PEER "kzv3"
#define TUN0 "ipsec0"
#define TUN1 "ipsec1"

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		fail_msg("bad address literal %s", s);
	return a;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- the parser, on bytes ------------------------------------------- */

/* Messages are built into this buffer; 4-byte aligned like a recv buffer. */
static _Alignas(8) uint8_t pbuf[4096];

struct collect {
	struct kz_net_event ev[16];
	size_t n;
	int stop_at; /* 1-based event number to stop at with 42; 0 = never */
};

static int collect_cb(const struct kz_net_event *ev, void *arg)
{
	struct collect *c = arg;

	/* Every string handed out must be terminated within its array. */
	assert_true(memchr(ev->ifname, '\0', sizeof(ev->ifname)) != NULL);
	assert_true(memchr(ev->route.oif_name, '\0', sizeof(ev->route.oif_name)) != NULL);
	if (c->n < 16)
		c->ev[c->n] = *ev;
	c->n++;
	if (c->stop_at && (int)c->n == c->stop_at)
		return 42;
	return 0;
}

/* A message of type at at, with a zeroed family header of hlen bytes
 * (*hdr). */
static struct nlmsghdr *put_msg(void *at, int type, size_t hlen, void **hdr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);

	nlh->nlmsg_type = type;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hlen);
	return nlh;
}

static struct nlmsghdr *put_link(void *at, int type, int ifindex, unsigned flags, const char *name,
				 unsigned mtu)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = put_msg(at, type, sizeof(*ifi), (void **)&ifi);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nlh;
}

static struct nlmsghdr *put_addr(void *at, int type, int family, int ifindex, const char *addr,
				 unsigned plen, const char *label)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh = put_msg(at, type, sizeof(*ifa), (void **)&ifa);
	struct in_addr a = ip4(addr);

	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a), &a);
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(a), &a);
	if (label)
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	return nlh;
}

/* An IPv4 route to dst/plen in the main table, its attributes RTA_TABLE
 * and RTA_DST. */
static struct nlmsghdr *put_rtm(void *at, const char *dst, unsigned plen, unsigned proto,
				unsigned scope, unsigned type)
{
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = put_msg(at, RTM_NEWROUTE, sizeof(*rtm), (void **)&rtm);
	struct in_addr d = ip4(dst);

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = proto;
	rtm->rtm_scope = scope;
	rtm->rtm_type = type;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_DST, sizeof(d), &d);
	return nlh;
}

static struct nlmsghdr *put_route(void *at, const char *dst, unsigned plen, int oif, const char *gw,
				  unsigned proto)
{
	struct nlmsghdr *nlh =
		put_rtm(at, dst, plen, proto, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, RTN_UNICAST);

	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	if (gw) {
		struct in_addr g = ip4(gw);

		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(g), &g);
	}
	return nlh;
}

static void test_parse_empty(void **state)
{
	struct collect c = { 0 };

	assert_int_equal(kz_net_parse_msgs(NULL, 0, collect_cb, &c), KZ_ETRUNC);
	assert_int_equal(kz_net_parse_msgs(NULL, 20, collect_cb, &c), KZ_EINVAL);
	assert_int_equal(kz_net_parse_msgs(pbuf, 0, collect_cb, &c), KZ_ETRUNC);
	assert_int_equal(kz_net_parse_msgs(pbuf, 15, collect_cb, &c), KZ_ETRUNC);
	memset(pbuf, 0, 16);
	/* A header that claims zero bytes would loop forever if believed. */
	assert_int_equal(kz_net_parse_msgs(pbuf, 16, collect_cb, &c), KZ_EPROTO);
	assert_int_equal(c.n, 0);
}

static void test_parse_link(void **state)
{
	struct collect c = { 0 };
	struct nlmsghdr *nlh;

	nlh = put_link(pbuf, RTM_NEWLINK, 7, IFF_UP | IFF_LOWER_UP | IFF_RUNNING, "ipsec3", 1400);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ev[0].type, KZ_NET_EV_LINK);
	assert_int_equal(c.ev[0].ifindex, 7);
	assert_string_equal(c.ev[0].ifname, "ipsec3");
	assert_true(c.ev[0].admin_up);
	assert_true(c.ev[0].lower_up);
	assert_true(c.ev[0].running);
	assert_int_equal(c.ev[0].mtu, 1400);

	c.n = 0;
	nlh = put_link(pbuf, RTM_DELLINK, 7, 0, "ipsec3", 0);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ev[0].type, KZ_NET_EV_LINK_DEL);
	assert_false(c.ev[0].admin_up);
}

/* Three messages in one buffer, as one recv() returns them. */
static size_t put_three(void)
{
	struct nlmsghdr *nlh;
	size_t len = 0;

	nlh = put_link(pbuf, RTM_NEWLINK, 3, IFF_UP, "eth0", 1500);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = put_addr(pbuf + len, RTM_NEWADDR, AF_INET, 3, "198.51.100.2", 24, "eth0");
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = put_route(pbuf + len, "10.20.0.0", 16, 9, "198.51.100.1", KZ_RTPROT);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	return len;
}

static void test_parse_multi(void **state)
{
	struct collect c = { 0 };
	size_t len = put_three();

	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ev[0].type, KZ_NET_EV_LINK);
	assert_int_equal(c.ev[1].type, KZ_NET_EV_ADDR_NEW);
	assert_int_equal(c.ev[1].ifindex, 3);
	assert_string_equal(c.ev[1].ifname, "eth0");
	assert_int_equal(c.ev[1].addr.addr.s_addr, ip4("198.51.100.2").s_addr);
	assert_int_equal(c.ev[1].addr.plen, 24);
	assert_int_equal(c.ev[2].type, KZ_NET_EV_ROUTE_NEW);
	assert_int_equal(c.ev[2].ifindex, 9);
	assert_int_equal(c.ev[2].route.dst.s_addr, ip4("10.20.0.0").s_addr);
	assert_int_equal(c.ev[2].route.plen, 16);
	assert_true(c.ev[2].route.has_gw);
	assert_int_equal(c.ev[2].route.gw.s_addr, ip4("198.51.100.1").s_addr);
	assert_int_equal(c.ev[2].route.protocol, KZ_RTPROT);
	assert_int_equal(c.ev[2].route.table, RT_TABLE_MAIN);

	/* The callback's stop value comes back, and nothing after it runs. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), 42);
	assert_int_equal(c.n, 2);
}

/* Every prefix of a valid buffer: whole messages are delivered, a cut one is
 * reported, nothing is read past the end (ASan watches the copies). */
static void test_parse_truncated(void **state)
{
	size_t len = put_three();
	const struct nlmsghdr *m1 = (const struct nlmsghdr *)pbuf;
	size_t b1 = NLMSG_ALIGN(m1->nlmsg_len);
	size_t b2 = b1 + NLMSG_ALIGN(((const struct nlmsghdr *)(pbuf + b1))->nlmsg_len);

	for (size_t cut = 0; cut <= len; cut++) {
		struct collect c = { 0 };
		uint8_t *copy = malloc(cut ? cut : 1);
		size_t whole = cut >= len ? 3 : cut >= b2 ? 2 : cut >= b1 ? 1 : 0;
		int ret;

		assert_non_null(copy);
		memcpy(copy, pbuf, cut);
		ret = kz_net_parse_msgs(copy, cut, collect_cb, &c);
		/* Cut at a message boundary, the buffer is just shorter. */
		if (cut == b1 || cut == b2 || cut == len)
			assert_int_equal(ret, 0);
		else
			assert_int_equal(ret, KZ_ETRUNC);
		assert_int_equal(c.n, whole);
		free(copy);
	}
}

static void test_parse_bad_lengths(void **state)
{
	struct collect c = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *attr;
	uint32_t len;

	/* 2^31: libmnl 1.0.4's int cast would take this as fitting. */
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, "x", 0);
	len = nlh->nlmsg_len;
	nlh->nlmsg_len = 0x80000000u;
	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), KZ_ETRUNC);
	nlh->nlmsg_len = 0xffffffffu;
	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), KZ_ETRUNC);
	nlh->nlmsg_len = 15;
	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), KZ_EPROTO);
	assert_int_equal(c.n, 0);

	/* A family header cut short. */
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, NULL, 0);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 8;
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);

	/* An attribute longer than its message. */
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, "ipsec0", 1400);
	attr = (struct nlattr *)((uint8_t *)nlh + MNL_NLMSG_HDRLEN +
				 MNL_ALIGN(sizeof(struct ifinfomsg)));
	attr->nla_len = 200;
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	/* ... and one shorter than an attribute header. */
	attr->nla_len = 3;
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	assert_int_equal(c.n, 0);
}

static void test_parse_bad_attrs(void **state)
{
	struct collect c = { 0 };
	struct nlmsghdr *nlh;
	size_t len;
	uint16_t two = 2;

	/* IFLA_MTU of two bytes, then a good message: the bad one is skipped,
	 * the good one still delivered, the error still reported. */
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, "ipsec0", 0);
	mnl_attr_put(nlh, IFLA_MTU, sizeof(two), &two);
	len = NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = put_link(pbuf + len, RTM_NEWLINK, 8, IFF_UP, "ipsec1", 1400);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), KZ_EPROTO);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.ev[0].ifname, "ipsec1");

	/* A name without its NUL, and one too long for IFNAMSIZ. */
	c.n = 0;
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, NULL, 0);
	mnl_attr_put(nlh, IFLA_IFNAME, 6, "ipsec0");
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, "abcdefghijklmnopqrstuvwxyz", 0);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	/* No name at all. */
	nlh = put_link(pbuf, RTM_NEWLINK, 7, 0, NULL, 1500);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	/* ifindex 0. */
	nlh = put_link(pbuf, RTM_NEWLINK, 0, 0, "ipsec0", 0);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	/* A prefix length of 33. */
	nlh = put_addr(pbuf, RTM_NEWADDR, AF_INET, 3, "10.0.0.1", 33, NULL);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	/* A gateway of 16 bytes in an IPv4 route. */
	nlh = put_route(pbuf, "10.0.0.0", 8, 3, NULL, 4);
	mnl_attr_put(nlh, RTA_GATEWAY, 16, pbuf + 1024);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	assert_int_equal(c.n, 0);
}

/* A fail-closed route as the kernel reports it: type unreachable, a
 * metric, no device. */
static void test_parse_route_unreachable(void **state)
{
	struct collect c = { 0 };
	struct nlmsghdr *nlh =
		put_rtm(pbuf, "192.168.2.0", 24, KZ_RTPROT, RT_SCOPE_UNIVERSE, RTN_UNREACHABLE);
	struct in_addr d = ip4("192.168.2.0");
	struct rtmsg *rtm;

	mnl_attr_put_u32(nlh, RTA_PRIORITY, KZ_RTMETRIC_FAILCLOSED);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ev[0].type, KZ_NET_EV_ROUTE_NEW);
	assert_int_equal(c.ev[0].route.type, KZ_NET_RTN_UNREACHABLE);
	assert_int_equal(c.ev[0].route.metric, KZ_RTMETRIC_FAILCLOSED);
	assert_int_equal(c.ev[0].route.plen, 24);
	assert_int_equal(c.ev[0].route.dst.s_addr, d.s_addr);
	assert_int_equal(c.ev[0].route.oif, 0);
	assert_int_equal(c.ev[0].ifindex, 0);

	/* A metric of the wrong size is malformed, not a short read. */
	c.n = 0;
	nlh = put_msg(pbuf, RTM_NEWROUTE, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 24;
	rtm->rtm_type = RTN_UNREACHABLE;
	mnl_attr_put_u16(nlh, RTA_PRIORITY, 7);
	assert_int_equal(kz_net_parse_msgs(pbuf, nlh->nlmsg_len, collect_cb, &c), KZ_EPROTO);
	assert_int_equal(c.n, 0);
}

static void test_parse_ignored(void **state)
{
	struct collect c = { 0 };
	struct nlmsghdr *nlh;
	size_t len;

	/* IPv6 addresses, NLMSG_DONE and unknown types are not events. */
	nlh = put_addr(pbuf, RTM_NEWADDR, AF_INET6, 3, "10.0.0.1", 64, NULL);
	len = NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = mnl_nlmsg_put_header(pbuf + len);
	nlh->nlmsg_type = NLMSG_DONE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = mnl_nlmsg_put_header(pbuf + len);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	assert_int_equal(kz_net_parse_msgs(pbuf, len, collect_cb, &c), 0);
	assert_int_equal(c.n, 0);

	/* Misaligned buffers are refused rather than read with UB. */
	assert_int_equal(kz_net_parse_msgs(pbuf + 1, len, collect_cb, &c), KZ_EINVAL);
}

static void test_parse_garbage(void **state)
{
	unsigned seed = 12345;
	uint8_t *buf = malloc(1024);

	assert_non_null(buf);
	for (int i = 0; i < 20000; i++) {
		struct collect c = { 0 };
		size_t len = (size_t)rand_r(&seed) % 1024;
		int ret;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		/* Half of the time make the framing plausible so that the
		 * family and attribute parsers are reached too. */
		if ((i & 1) && len >= 16) {
			struct nlmsghdr h;
			static const uint16_t types[] = { RTM_NEWLINK, RTM_DELLINK,  RTM_NEWADDR,
							  RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE };

			memcpy(&h, buf, sizeof(h));
			h.nlmsg_len = (uint32_t)(16 + (size_t)rand_r(&seed) % (len - 15));
			h.nlmsg_type = types[(size_t)rand_r(&seed) % 6];
			memcpy(buf, &h, sizeof(h));
		}
		ret = kz_net_parse_msgs(buf, len, collect_cb, &c);
		assert_true(ret == 0 || ret == KZ_ETRUNC || ret == KZ_EPROTO);
	}
	free(buf);
}

/* An extended ACK as the kernel sends it with NETLINK_CAP_ACK. */
static void test_parse_ext_ack(void **state)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(pbuf);
	struct nlmsgerr *err;
	char msg[64];
	int error = 0;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -ENETDOWN;
	err->msg.nlmsg_len = 40;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "Device for nexthop is not up");
	assert_int_equal(nl_parse_error(nlh, &error, msg, sizeof(msg)), 0);
	assert_int_equal(error, -ENETDOWN);
	assert_string_equal(msg, "Device for nexthop is not up");
	/* Too small a buffer truncates, still terminated. */
	assert_int_equal(nl_parse_error(nlh, &error, msg, 7), 0);
	assert_string_equal(msg, "Device");

	/* Not capped: the echoed request must fit before the TLVs. */
	nlh->nlmsg_flags = NLM_F_ACK_TLVS;
	err->msg.nlmsg_len = 4000;
	assert_int_equal(nl_parse_error(nlh, &error, msg, sizeof(msg)), KZ_EPROTO);
	/* An errno out of range. */
	nlh->nlmsg_flags = 0;
	err->error = 5;
	assert_int_equal(nl_parse_error(nlh, &error, msg, sizeof(msg)), KZ_EPROTO);
}

/* ---- the kernel, in a private namespace ------------------------------ */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/* The output of a shell command, for cross-checking with iproute2. */
static void run_out(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void run_out(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	pclose(p);
}

static void get_ok(const char *ifname, struct kz_link_state *st)
{
	int ret = kz_net_link_get(ifname, st);

	if (ret)
		fail_msg("kz_net_link_get(%s): %s: %s", ifname, kz_errname(ret), kz_net_errmsg());
	assert_true(st->exists);
	assert_string_equal(st->ifname, ifname);
}

/* Carrier and operstate follow admin state asynchronously (linkwatch). */
static bool wait_running(const char *ifname, bool want, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	struct kz_link_state st;

	do {
		get_ok(ifname, &st);
		if ((st.lower_up && st.running) == want)
			return true;
		usleep(20000);
	} while (now_ms() < end);
	return false;
}

static bool has_addr(const struct kz_link_state *st, const char *addr, unsigned plen)
{
	struct in_addr a = ip4(addr);

	for (size_t i = 0; i < st->naddr; i++)
		if (st->addr[i].addr.s_addr == a.s_addr && st->addr[i].plen == plen)
			return true;
	return false;
}

/* The route dst/plen of the main table, or NULL; fails on duplicates. */
static const struct kz_net_route *find_route(const struct kz_net_route *v, size_t n,
					     const char *dst, unsigned plen)
{
	const struct kz_net_route *found = NULL;
	struct in_addr d = ip4(dst);

	for (size_t i = 0; i < n; i++) {
		if (v[i].dst.s_addr != d.s_addr || v[i].plen != plen)
			continue;
		if (found)
			fail_msg("route %s/%u listed twice", dst, plen);
		found = &v[i];
	}
	return found;
}

static void test_lo(void **state)
{
	struct kz_link_state st;

	get_ok("lo", &st);
	assert_int_equal(st.ifindex, 1);
	assert_true(st.admin_up);
	assert_true(st.lower_up);
	assert_true(st.flags & IFF_LOOPBACK);
	assert_int_equal(st.mtu, 65536);
	assert_true(st.naddr >= 1);
	assert_int_equal(st.naddr, st.naddr_total);
	assert_int_equal(st.addr[0].addr.s_addr, ip4("127.0.0.1").s_addr);
	assert_int_equal(st.addr[0].plen, 8);
}

static void test_missing_device(void **state)
{
	struct kz_link_state st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(kz_net_link_get("nosuch0", &st), KZ_ENOENT);
	assert_false(st.exists);
	assert_int_equal(st.ifindex, 0);
	assert_non_null(strstr(kz_net_errmsg(), "nosuch0 does not exist"));

	assert_int_equal(kz_net_link_set_up("nosuch0", true), KZ_ENOENT);
	assert_int_equal(kz_net_link_set_mtu("nosuch0", 1400), KZ_ENOENT);
	assert_int_equal(kz_net_addr_add("nosuch0", ip4("10.0.0.1"), 24), KZ_ENOENT);
	assert_int_equal(kz_net_addr_del("nosuch0", ip4("10.0.0.1"), 24), KZ_ENOENT);

	assert_int_equal(kz_net_link_get("", &st), KZ_EINVAL);
	assert_int_equal(kz_net_link_get(NULL, &st), KZ_EINVAL);
	assert_int_equal(kz_net_link_get("sixteen-chars-xx", &st), KZ_EINVAL);
	assert_int_equal(kz_net_link_set_up("a/b", true), KZ_EINVAL);
	assert_int_equal(kz_net_link_set_up("eth0:1", true), KZ_EINVAL);
	assert_int_equal(kz_net_link_set_up("..", true), KZ_EINVAL);
	/* After all these refusals the socket still answers properly. */
	get_ok("lo", &st);
}

static void test_link_up_down(void **state)
{
	struct kz_link_state st;
	char out[1024];

	get_ok(VETH_A, &st);
	assert_false(st.admin_up);
	assert_int_equal(st.naddr, 0);

	assert_int_equal(kz_net_link_set_up(VETH_A, true), 0);
	get_ok(VETH_A, &st);
	assert_true(st.admin_up);
	/* The peer is down, so no carrier. */
	assert_false(st.lower_up);
	run_out(out, sizeof(out), "ip -o link show dev %s", VETH_A);
	assert_non_null(strstr(out, "NO-CARRIER"));
	assert_non_null(strstr(out, ",UP"));

	assert_int_equal(kz_net_link_set_up(VETH_B, true), 0);
	assert_true(wait_running(VETH_A, true, 3000));

	assert_int_equal(kz_net_link_set_up(VETH_A, false), 0);
	get_ok(VETH_A, &st);
	assert_false(st.admin_up);
	assert_false(st.lower_up);
	run_out(out, sizeof(out), "ip -o link show dev %s", VETH_A);
	assert_null(strstr(out, ",UP"));
	/* Idempotent: down again is fine. */
	assert_int_equal(kz_net_link_set_up(VETH_A, false), 0);

	assert_int_equal(kz_net_link_set_up(VETH_A, true), 0);
	assert_true(wait_running(VETH_A, true, 3000));
}

static void test_mtu(void **state)
{
	struct kz_link_state st;
	char out[1024];

	assert_int_equal(kz_net_link_set_mtu(VETH_A, 1400), 0);
	get_ok(VETH_A, &st);
	assert_int_equal(st.mtu, 1400);
	run_out(out, sizeof(out), "ip -o link show dev %s", VETH_A);
	assert_non_null(strstr(out, "mtu 1400 "));

	/* Below the IPv4 minimum of 68, and above veth's maximum. */
	assert_int_equal(kz_net_link_set_mtu(VETH_A, 20), KZ_ERANGE);
	assert_non_null(strstr(kz_net_errmsg(), "mtu"));
	assert_int_equal(kz_net_link_set_mtu(VETH_A, 1u << 20), KZ_ERANGE);
	get_ok(VETH_A, &st);
	assert_int_equal(st.mtu, 1400);

	assert_int_equal(kz_net_link_set_mtu(VETH_A, 1500), 0);
	get_ok(VETH_A, &st);
	assert_int_equal(st.mtu, 1500);
}

static void test_addr(void **state)
{
	struct kz_link_state st;
	char out[2048];

	assert_int_equal(kz_net_addr_add(VETH_A, ip4("10.1.0.1"), 24), 0);
	get_ok(VETH_A, &st);
	assert_int_equal(st.naddr, 1);
	assert_true(has_addr(&st, "10.1.0.1", 24));
	run_out(out, sizeof(out), "ip -4 -o addr show dev %s", VETH_A);
	assert_non_null(strstr(out, "inet 10.1.0.1/24 "));

	/* Applying the same configuration twice is not an error. */
	assert_int_equal(kz_net_addr_add(VETH_A, ip4("10.1.0.1"), 24), 0);
	get_ok(VETH_A, &st);
	assert_int_equal(st.naddr, 1);

	/* A second one in the same subnet is a secondary: the first stays
	 * "the" address. */
	assert_int_equal(kz_net_addr_add(VETH_A, ip4("10.1.0.2"), 24), 0);
	get_ok(VETH_A, &st);
	assert_int_equal(st.naddr, 2);
	assert_int_equal(st.addr[0].addr.s_addr, ip4("10.1.0.1").s_addr);
	assert_true(has_addr(&st, "10.1.0.2", 24));

	assert_int_equal(kz_net_addr_del(VETH_A, ip4("10.1.0.2"), 24), 0);
	get_ok(VETH_A, &st);
	assert_int_equal(st.naddr, 1);
	assert_false(has_addr(&st, "10.1.0.2", 24));
	run_out(out, sizeof(out), "ip -4 -o addr show dev %s", VETH_A);
	assert_null(strstr(out, "10.1.0.2"));

	assert_int_equal(kz_net_addr_del(VETH_A, ip4("10.1.0.2"), 24), KZ_ENOENT);
	assert_int_equal(kz_net_addr_add(VETH_A, ip4("10.1.0.3"), 33), KZ_EINVAL);

	/* More addresses than the state keeps: counted, not overflowed. */
	for (int i = 0; i < KZ_NET_MAX_ADDRS + 2; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.2.0.%d", i + 1);
		assert_int_equal(kz_net_addr_add(VETH_B, ip4(a), 32), 0);
	}
	get_ok(VETH_B, &st);
	assert_int_equal(st.naddr, KZ_NET_MAX_ADDRS);
	assert_int_equal(st.naddr_total, KZ_NET_MAX_ADDRS + 2);
}

struct ev_want {
	enum kz_net_event_type type;
	const char *ifname; /* LINK: must match */
	int ifindex;        /* ADDR, ROUTE: must match if nonzero */
	int admin_up;       /* LINK: 0 or 1, -1 for any */
	const char *addr;   /* ADDR: address; ROUTE: destination */
	unsigned plen;
	bool found;
	struct kz_net_event ev;
};

static int want_cb(const struct kz_net_event *ev, void *arg)
{
	struct ev_want *w = arg;

	if (w->found || ev->type != w->type)
		return 0;
	if (w->ifname && strcmp(ev->ifname, w->ifname) != 0)
		return 0;
	if (w->ifindex && ev->ifindex != w->ifindex)
		return 0;
	if (w->admin_up >= 0 && ev->admin_up != (w->admin_up == 1))
		return 0;
	if (w->addr) {
		const struct in_addr *a =
			ev->type == KZ_NET_EV_ROUTE_NEW || ev->type == KZ_NET_EV_ROUTE_DEL
			? &ev->route.dst
			: &ev->addr.addr;
		unsigned plen = ev->type == KZ_NET_EV_ROUTE_NEW || ev->type == KZ_NET_EV_ROUTE_DEL
			? ev->route.plen
			: ev->addr.plen;

		if (a->s_addr != ip4(w->addr).s_addr || plen != w->plen)
			return 0;
	}
	w->found = true;
	w->ev = *ev;
	return 0;
}

/* Polls the watch fd until the wanted event arrives or time runs out. */
static bool wait_event(struct kz_net_watch *w, struct ev_want *want, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = kz_net_watch_fd(w), .events = POLLIN };

	while (!want->found) {
		long left = end - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		assert_int_equal(kz_net_watch_read(w, want_cb, want), 0);
	}
	return want->found;
}

static void test_watch(void **state)
{
	struct kz_net_watch *w;
	struct kz_link_state st;
	int fd;

	assert_int_equal(kz_net_watch_open(&w), 0);
	fd = kz_net_watch_fd(w);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Nothing pending: returns at once instead of blocking. */
	assert_int_equal(kz_net_watch_read(w, want_cb, &(struct ev_want){ .admin_up = -1 }), 0);
	get_ok(VETH_A, &st);

	{
		struct ev_want want = { .type = KZ_NET_EV_LINK, .ifname = VETH_A, .admin_up = 0 };

		assert_int_equal(kz_net_link_set_up(VETH_A, false), 0);
		assert_true(wait_event(w, &want, 2000));
		assert_int_equal(want.ev.ifindex, st.ifindex);
		assert_false(want.ev.lower_up);
	}
	{
		struct ev_want want = { .type = KZ_NET_EV_LINK, .ifname = VETH_A, .admin_up = 1 };

		assert_int_equal(kz_net_link_set_up(VETH_A, true), 0);
		assert_true(wait_event(w, &want, 2000));
		assert_int_equal(want.ev.mtu, 1500);
	}
	{
		struct ev_want want = { .type = KZ_NET_EV_ADDR_NEW,
					.ifindex = st.ifindex,
					.admin_up = -1,
					.addr = "10.1.0.9",
					.plen = 24 };

		assert_int_equal(kz_net_addr_add(VETH_A, ip4("10.1.0.9"), 24), 0);
		assert_true(wait_event(w, &want, 2000));
		assert_string_equal(want.ev.ifname, VETH_A);
	}
	{
		struct ev_want want = { .type = KZ_NET_EV_ADDR_DEL,
					.ifindex = st.ifindex,
					.admin_up = -1,
					.addr = "10.1.0.9",
					.plen = 24 };

		assert_int_equal(kz_net_addr_del(VETH_A, ip4("10.1.0.9"), 24), 0);
		assert_true(wait_event(w, &want, 2000));
	}
	{
		struct ev_want want = { .type = KZ_NET_EV_ROUTE_NEW,
					.ifindex = st.ifindex,
					.admin_up = -1,
					.addr = "10.77.0.0",
					.plen = 16 };

		assert_true(wait_running(VETH_A, true, 3000));
		assert_int_equal(kz_net_route_add(ip4("10.77.0.0"), 16, VETH_A, NULL), 0);
		assert_true(wait_event(w, &want, 2000));
		assert_int_equal(want.ev.route.protocol, KZ_RTPROT);
		assert_int_equal(want.ev.route.table, RT_TABLE_MAIN);
	}
	{
		struct ev_want want = { .type = KZ_NET_EV_ROUTE_DEL,
					.ifindex = st.ifindex,
					.admin_up = -1,
					.addr = "10.77.0.0",
					.plen = 16 };

		assert_int_equal(kz_net_route_del(ip4("10.77.0.0"), 16, VETH_A, NULL), 0);
		assert_true(wait_event(w, &want, 2000));
	}
	/* A wrong expectation must time out, or the checks above prove
	 * nothing. */
	{
		struct ev_want want = { .type = KZ_NET_EV_LINK,
					.ifname = "nosuch0",
					.admin_up = -1 };

		assert_int_equal(kz_net_link_set_up(VETH_A, true), 0);
		assert_false(wait_event(w, &want, 200));
	}
	kz_net_watch_close(w);
}

struct overrun_count {
	int overruns, links;
};

static int overrun_cb(const struct kz_net_event *ev, void *arg)
{
	struct overrun_count *c = arg;

	if (ev->type == KZ_NET_EV_OVERRUN)
		c->overruns++;
	else if (ev->type == KZ_NET_EV_LINK)
		c->links++;
	return 0;
}

/* A burst larger than the socket buffer: the loss is reported as an
 * OVERRUN event (the daemon then re-reads the state) and the watch goes on
 * working. */
static void test_watch_overrun(void **state)
{
	struct overrun_count c = { 0 };
	struct kz_net_watch *w;
	int small = 1, ret;

	assert_int_equal(kz_net_watch_open(&w), 0);
	assert_int_equal(
		setsockopt(kz_net_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(kz_net_link_set_mtu(VETH_A, 1400 + (unsigned)i), 0);
	while ((ret = kz_net_watch_read(w, overrun_cb, &c)) == 0 && c.overruns == 0 && c.links < 20)
		;
	assert_int_equal(ret, 0);
	assert_true(c.overruns >= 1);
	assert_true(c.links < 20);

	/* Still alive after the overrun. */
	{
		struct ev_want want = { .type = KZ_NET_EV_LINK, .ifname = VETH_A, .admin_up = -1 };

		assert_int_equal(kz_net_link_set_mtu(VETH_A, 1500), 0);
		assert_true(wait_event(w, &want, 2000));
		assert_int_equal(want.ev.mtu, 1500);
	}
	kz_net_watch_close(w);
}

/* The TUN device ipsec0 stays open for the route tests that follow. */
static int tun0_fd = -1;

static void test_tun(void **state)
{
	struct kz_link_state st;
	int fd, fd2, q1, q2;

	assert_int_equal(kz_tun_create(TUN0, 0, &tun0_fd), 0);
	assert_true(tun0_fd >= 0);
	assert_true(fcntl(tun0_fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(tun0_fd, F_GETFD) & FD_CLOEXEC);
	get_ok(TUN0, &st);
	assert_false(st.admin_up);
	assert_true(st.flags & IFF_POINTOPOINT);
	assert_true(st.flags & IFF_NOARP);

	assert_int_equal(kz_net_link_set_up(TUN0, true), 0);
	/* An attached fd is the TUN device's carrier. */
	assert_true(wait_running(TUN0, true, 3000));
	assert_int_equal(kz_net_addr_add(TUN0, ip4("10.9.0.1"), 24), 0);

	/* Taken: a second single-queue open, a template, another kind of
	 * device, a bad flag. */
	assert_int_equal(kz_tun_create(TUN0, 0, &fd), KZ_EBUSY);
	assert_int_equal(fd, -1);
	assert_int_equal(kz_tun_create("ipsec%d", 0, &fd), KZ_EINVAL);
	assert_int_equal(kz_tun_create(VETH_A, 0, &fd), KZ_EINVAL);
	assert_int_equal(kz_tun_create("ipsec9", 0x80, &fd), KZ_EINVAL);
	assert_int_equal(kz_tun_create("sixteen-chars-xx", 0, &fd), KZ_EINVAL);

	/* Multi-queue: two fds on one device, which dies with the last. */
	assert_int_equal(kz_tun_create(TUN1, KZ_TUN_MULTI_QUEUE, &q1), 0);
	assert_int_equal(kz_tun_create(TUN1, KZ_TUN_MULTI_QUEUE, &q2), 0);
	assert_true(q1 != q2);
	/* A single-queue open of a multi-queue device is refused. */
	assert_int_equal(kz_tun_create(TUN1, 0, &fd2), KZ_EINVAL);
	get_ok(TUN1, &st);
	kz_tun_close(q1);
	get_ok(TUN1, &st);
	kz_tun_close(q2);
	assert_int_equal(kz_net_link_get(TUN1, &st), KZ_ENOENT);
	kz_tun_close(-1);

	/* Offloads: frames behind a 10-byte virtio-net header. */
	{
		struct ifreq ifr;
		int sz = 0;

		assert_int_equal(kz_tun_create(TUN1, KZ_TUN_OFFLOAD, &fd), 0);
		memset(&ifr, 0, sizeof(ifr));
		assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
		assert_true(ifr.ifr_flags & IFF_VNET_HDR);
		assert_true(ifr.ifr_flags & IFF_NO_PI);
		assert_int_equal(ioctl(fd, TUNGETVNETHDRSZ, &sz), 0);
		assert_int_equal(sz, 10);
		/* The same device without the header is another kind. */
		assert_int_equal(kz_tun_create(TUN1, 0, &fd2), KZ_EBUSY);
		kz_tun_close(fd);
	}
}

static void test_route_via_tun(void **state)
{
	struct kz_net_route *rv;
	const struct kz_net_route *r;
	size_t n;
	char out[2048];
	uint8_t pkt[2048];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct pollfd pfd = { .fd = tun0_fd, .events = POLLIN };
	long end;
	ssize_t got = -1;
	int s;

	assert_true(tun0_fd >= 0);
	assert_int_equal(kz_net_route_add(ip4("10.20.0.0"), 16, TUN0, NULL), 0);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	r = find_route(rv, n, "10.20.0.0", 16);
	assert_non_null(r);
	assert_string_equal(r->oif_name, TUN0);
	assert_int_equal(r->protocol, KZ_RTPROT);
	assert_int_equal(r->scope, RT_SCOPE_LINK);
	assert_int_equal(r->table, RT_TABLE_MAIN);
	assert_int_equal(r->type, RTN_UNICAST);
	assert_false(r->has_gw);
	/* The connected route of 10.9.0.1/24 is the kernel's. */
	r = find_route(rv, n, "10.9.0.0", 24);
	assert_non_null(r);
	assert_int_equal(r->protocol, RTPROT_KERNEL);
	assert_true(r->has_prefsrc);
	free(rv);
	run_out(out, sizeof(out), "ip -4 route show proto %d", KZ_RTPROT);
	assert_non_null(strstr(out, "10.20.0.0/16 dev " TUN0));

	/* The route really steers traffic into the TUN fd. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	to.sin_addr = ip4("10.20.0.5");
	while (read(tun0_fd, pkt, sizeof(pkt)) > 0)
		;
	assert_int_equal(sendto(s, "kizuna", 6, 0, (struct sockaddr *)&to, sizeof(to)), 6);
	close(s);
	end = now_ms() + 2000;
	while (now_ms() < end && poll(&pfd, 1, 200) >= 0) {
		got = read(tun0_fd, pkt, sizeof(pkt));
		/* Skip anything else the stack may send (none expected). */
		if (got >= 20 && pkt[0] >> 4 == 4 && pkt[9] == IPPROTO_UDP)
			break;
		got = -1;
	}
	assert_true(got >= 28 + 6);
	assert_memory_equal(pkt + 16, &to.sin_addr, 4);
	assert_memory_equal(pkt + 12, &(struct in_addr){ ip4("10.9.0.1").s_addr }, 4);
	assert_memory_equal(pkt + 28, "kizuna", 6);

	/* Replace semantics: same prefix through another device is one
	 * route, not two. */
	assert_int_equal(kz_net_route_add(ip4("10.20.0.0"), 16, VETH_A, NULL), 0);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	r = find_route(rv, n, "10.20.0.0", 16);
	assert_non_null(r);
	assert_string_equal(r->oif_name, VETH_A);
	free(rv);
	assert_int_equal(kz_net_route_add(ip4("10.20.0.0"), 16, TUN0, NULL), 0);
}

static void test_route_gateway(void **state)
{
	struct in_addr gw = ip4("10.1.0.254");
	const struct kz_net_route *r;
	struct kz_net_route *rv;
	size_t n;

	/* The kernel finds the device for the gateway itself. */
	assert_int_equal(kz_net_route_add(ip4("10.30.0.0"), 16, NULL, &gw), 0);
	assert_int_equal(kz_net_route_add(ip4("10.31.0.0"), 16, VETH_A, &gw), 0);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	r = find_route(rv, n, "10.30.0.0", 16);
	assert_non_null(r);
	assert_true(r->has_gw);
	assert_int_equal(r->gw.s_addr, gw.s_addr);
	assert_string_equal(r->oif_name, VETH_A);
	assert_int_equal(r->scope, RT_SCOPE_UNIVERSE);
	r = find_route(rv, n, "10.31.0.0", 16);
	assert_non_null(r);
	assert_int_equal(r->protocol, KZ_RTPROT);
	free(rv);
}

static void test_route_errors(void **state)
{
	struct in_addr far_gw = ip4("192.0.2.1");
	const struct kz_net_route *r;
	struct kz_net_route *rv;
	size_t n;

	assert_int_equal(kz_net_route_add(ip4("10.50.0.0"), 16, "nosuch0", NULL), KZ_ENOENT);
	assert_non_null(strstr(kz_net_errmsg(), "nosuch0"));
	assert_int_equal(kz_net_route_add(ip4("10.50.0.1"), 16, TUN0, NULL), KZ_EINVAL);
	assert_int_equal(kz_net_route_add(ip4("10.50.0.0"), 33, TUN0, NULL), KZ_EINVAL);
	assert_int_equal(kz_net_route_add(ip4("10.50.0.0"), 16, NULL, NULL), KZ_EINVAL);

	/* A device that exists but is down. */
	assert_int_equal(kz_net_route_add(ip4("10.50.0.0"), 16, VETH_DOWN, NULL), KZ_EBUSY);
	assert_non_null(strstr(kz_net_errmsg(), "not up"));
	/* A gateway on no connected network. */
	assert_int_equal(kz_net_route_add(ip4("10.50.0.0"), 16, NULL, &far_gw), KZ_EINVAL);
	assert_non_null(strstr(kz_net_errmsg(), "gateway"));

	assert_int_equal(kz_net_route_del(ip4("10.51.0.0"), 16, TUN0, NULL), KZ_ENOENT);
	/* A route that is not ours is not deleted by us. */
	assert_int_equal(run("ip route add 10.52.0.0/16 dev %s", VETH_A), 0);
	assert_int_equal(kz_net_route_del(ip4("10.52.0.0"), 16, VETH_A, NULL), KZ_ENOENT);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	r = find_route(rv, n, "10.52.0.0", 16);
	assert_non_null(r);
	assert_int_equal(r->protocol, RTPROT_BOOT);
	assert_null(find_route(rv, n, "10.50.0.0", 16));
	free(rv);

	/* By prefix alone, a delete still spares the route that is not ours. */
	assert_int_equal(kz_net_route_del(ip4("10.52.0.0"), 16, NULL, NULL), KZ_ENOENT);

	/* Ours goes, named by its next hop or by prefix alone. */
	assert_int_equal(kz_net_route_add(ip4("10.53.0.0"), 16, TUN0, NULL), 0);
	assert_int_equal(kz_net_route_add(ip4("10.54.0.0"), 16, TUN0, NULL), 0);
	assert_int_equal(kz_net_route_del(ip4("10.53.0.0"), 16, TUN0, NULL), 0);
	assert_int_equal(kz_net_route_del(ip4("10.54.0.0"), 16, NULL, NULL), 0);
	assert_int_equal(kz_net_route_del(ip4("10.54.0.0"), 16, NULL, NULL), KZ_ENOENT);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	assert_null(find_route(rv, n, "10.53.0.0", 16));
	assert_null(find_route(rv, n, "10.54.0.0", 16));
	assert_non_null(find_route(rv, n, "10.52.0.0", 16));
	free(rv);
}

static void test_route_flush_own(void **state)
{
	struct kz_net_route *rv;
	size_t n, deleted = 99;
	char out[4096];

	assert_int_equal(run("ip route add 10.41.0.0/16 dev %s proto static", VETH_A), 0);
	/* Ours in another table: a flush after a crash must find it too. */
	assert_int_equal(
		run("ip route add 10.42.0.0/16 dev %s table 100 proto %d", VETH_A, KZ_RTPROT), 0);
	/* Ours at this point: 10.20/16 (ipsec0), 10.30/16, 10.31/16, and the
	 * one in table 100. */
	assert_int_equal(kz_net_route_flush_own(&deleted), 0);
	assert_int_equal(deleted, 4);

	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(rv[i].protocol, KZ_RTPROT);
	assert_null(find_route(rv, n, "10.20.0.0", 16));
	assert_non_null(find_route(rv, n, "10.41.0.0", 16));
	assert_non_null(find_route(rv, n, "10.52.0.0", 16));
	assert_non_null(find_route(rv, n, "10.9.0.0", 24));
	free(rv);
	run_out(out, sizeof(out), "ip -4 route show table all proto %d", KZ_RTPROT);
	assert_string_equal(out, "");
	run_out(out, sizeof(out), "ip -4 route show table main");
	assert_non_null(strstr(out, "10.41.0.0/16"));

	/* Nothing left: a second flush deletes nothing. */
	assert_int_equal(kz_net_route_flush_own(&deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(kz_net_route_flush_own(NULL), 0);
}

/* The kernel drops IPv4 routes through a device set down, silently; the
 * daemon relies on this test to know it must reinstall them. */
static void test_route_link_down(void **state)
{
	struct kz_net_route *rv;
	size_t n;

	assert_int_equal(kz_net_route_add(ip4("10.60.0.0"), 16, TUN0, NULL), 0);
	assert_int_equal(kz_net_link_set_up(TUN0, false), 0);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	assert_null(find_route(rv, n, "10.60.0.0", 16));
	free(rv);
	assert_int_equal(kz_net_route_del(ip4("10.60.0.0"), 16, TUN0, NULL), KZ_ENOENT);
	/* ... and does not bring them back with the device. */
	assert_int_equal(kz_net_link_set_up(TUN0, true), 0);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	assert_null(find_route(rv, n, "10.60.0.0", 16));
	free(rv);
}

/* The route dst/plen of the given type and metric, or NULL. */
static const struct kz_net_route *find_route_typed(const struct kz_net_route *v, size_t n,
						   const char *dst, unsigned plen, unsigned type,
						   uint32_t metric)
{
	const struct kz_net_route *found = NULL;
	struct in_addr d = ip4(dst);

	for (size_t i = 0; i < n; i++) {
		if (v[i].dst.s_addr != d.s_addr || v[i].plen != plen || v[i].type != type ||
		    v[i].metric != metric)
			continue;
		if (found)
			fail_msg("route %s/%u type %u metric %u listed twice", dst, plen, type,
				 (unsigned)metric);
		found = &v[i];
	}
	return found;
}

static size_t count_prefix(const struct kz_net_route *v, size_t n, const char *dst, unsigned plen)
{
	struct in_addr d = ip4(dst);
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += v[i].dst.s_addr == d.s_addr && v[i].plen == plen;
	return k;
}

/* The fail-closed route under a route to a TUN device: it loses to the
 * route through the device while that exists, and refuses the prefix
 * once the device is gone, as when kizunad dies. */
static void test_route_failclosed(void **state)
{
	const struct kz_net_route *r;
	struct kz_net_route *rv, fc;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	char out[2048];
	size_t n, deleted;
	int fd, s;

	assert_int_equal(kz_tun_create("ipsec7", 0, &fd), 0);
	assert_int_equal(kz_net_link_set_up("ipsec7", true), 0);
	assert_int_equal(kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, ip4("10.70.0.0"), 16,
					       KZ_RTMETRIC_FAILCLOSED, NULL, NULL),
			 0);
	assert_int_equal(kz_net_route_add(ip4("10.70.0.0"), 16, "ipsec7", NULL), 0);
	/* Adding either again replaces it in place and spares the other. */
	assert_int_equal(kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, ip4("10.70.0.0"), 16,
					       KZ_RTMETRIC_FAILCLOSED, NULL, NULL),
			 0);
	assert_int_equal(kz_net_route_add(ip4("10.70.0.0"), 16, "ipsec7", NULL), 0);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	assert_int_equal(count_prefix(rv, n, "10.70.0.0", 16), 2);
	r = find_route_typed(rv, n, "10.70.0.0", 16, KZ_NET_RTN_UNICAST, 0);
	assert_non_null(r);
	assert_string_equal(r->oif_name, "ipsec7");
	r = find_route_typed(rv, n, "10.70.0.0", 16, KZ_NET_RTN_UNREACHABLE,
			     KZ_RTMETRIC_FAILCLOSED);
	assert_non_null(r);
	assert_int_equal(r->protocol, KZ_RTPROT);
	assert_int_equal(r->oif, 0);
	assert_false(r->has_gw);
	assert_int_equal(r->scope, RT_SCOPE_UNIVERSE);
	fc = *r;
	free(rv);
	run_out(out, sizeof(out), "ip -4 route show 10.70.0.0/16");
	assert_non_null(strstr(out, "unreachable 10.70.0.0/16 proto 200 metric 65520"));
	run_out(out, sizeof(out), "ip -4 route get 10.70.0.5 2>&1");
	assert_non_null(strstr(out, "dev ipsec7"));

	/* The device goes (kizunad killed): the prefix is refused, not sent
	 * along the default route.  The kernel's error for an unreachable
	 * route is EHOSTUNREACH ("No route to host"; ICMP host unreachable
	 * for forwarded packets). */
	assert_int_equal(run("ip route add default dev %s", VETH_A), 0);
	kz_tun_close(fd);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	assert_int_equal(count_prefix(rv, n, "10.70.0.0", 16), 1);
	assert_non_null(find_route_typed(rv, n, "10.70.0.0", 16, KZ_NET_RTN_UNREACHABLE,
					 KZ_RTMETRIC_FAILCLOSED));
	free(rv);
	run_out(out, sizeof(out), "ip -4 route get 10.70.0.5 2>&1");
	assert_non_null(strstr(out, "No route to host"));
	assert_null(strstr(out, "dev " VETH_A));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	to.sin_addr = ip4("10.70.0.5");
	errno = 0;
	assert_int_equal(sendto(s, "kizuna", 6, 0, (struct sockaddr *)&to, sizeof(to)), -1);
	assert_int_equal(errno, EHOSTUNREACH);
	close(s);
	assert_int_equal(run("ip route del default dev %s", VETH_A), 0);

	/* A unicast delete spares it; a typed one needs the right metric. */
	assert_int_equal(kz_net_route_del(ip4("10.70.0.0"), 16, NULL, NULL), KZ_ENOENT);
	assert_int_equal(
		kz_net_route_del_type(KZ_NET_RTN_UNREACHABLE, ip4("10.70.0.0"), 16, 1, NULL, NULL),
		KZ_ENOENT);
	/* Refused before the kernel is asked. */
	assert_int_equal(
		kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, ip4("10.70.0.0"), 16, 1, TUN0, NULL),
		KZ_EINVAL);
	assert_int_equal(kz_net_route_add_type(KZ_NET_RTN_ANY, ip4("10.70.0.0"), 16, 1, NULL, NULL),
			 KZ_EINVAL);
	assert_int_equal(kz_net_route_add_type(99, ip4("10.70.0.0"), 16, 1, NULL, NULL), KZ_EINVAL);
	assert_int_equal(
		kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, ip4("10.70.0.1"), 16, 1, NULL, NULL),
		KZ_EINVAL);

	/* Deleted exactly as listed; then gone. */
	assert_int_equal(kz_net_route_del_own(&fc), 0);
	assert_int_equal(kz_net_route_del_own(&fc), KZ_ENOENT);
	fc.protocol = RTPROT_STATIC;
	assert_int_equal(kz_net_route_del_own(&fc), KZ_EINVAL);
	assert_int_equal(kz_net_route_list(&rv, &n), 0);
	assert_int_equal(count_prefix(rv, n, "10.70.0.0", 16), 0);
	free(rv);

	/* A typed delete with any metric; a flush takes fail-closed routes
	 * too (a clean stop). */
	assert_int_equal(kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, ip4("10.71.0.0"), 16,
					       KZ_RTMETRIC_FAILCLOSED, NULL, NULL),
			 0);
	assert_int_equal(kz_net_route_del_type(KZ_NET_RTN_ANY, ip4("10.71.0.0"), 16, 0, NULL, NULL),
			 0);
	assert_int_equal(kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, ip4("10.72.0.0"), 16,
					       KZ_RTMETRIC_FAILCLOSED, NULL, NULL),
			 0);
	assert_int_equal(kz_net_route_flush_own(&deleted), 0);
	assert_int_equal(deleted, 1);
	run_out(out, sizeof(out), "ip -4 route show table all proto %d", KZ_RTPROT);
	assert_string_equal(out, "");
}

static void test_tun_close(void **state)
{
	struct kz_net_watch *w;
	struct kz_link_state st;
	struct ev_want want = { .type = KZ_NET_EV_LINK_DEL, .ifname = TUN0, .admin_up = -1 };

	assert_int_equal(kz_net_watch_open(&w), 0);
	kz_tun_close(tun0_fd);
	tun0_fd = -1;
	assert_true(wait_event(w, &want, 2000));
	assert_int_equal(kz_net_link_get(TUN0, &st), KZ_ENOENT);
	kz_net_watch_close(w);
}

static int kernel_setup(void **state)
{
	if (kz_net_link_set_up("lo", true) != 0)
		return -1;
	if (run("ip link add %s type veth peer name %s", VETH_A, VETH_B) != 0 ||
	    run("ip link add %s type veth peer name %s", VETH_DOWN, VETH_DOWN_PEER) != 0) {
		fprintf(stderr, "cannot create veth pairs with ip(8)\n");
		return -1;
	}
	return 0;
}

static int kernel_teardown(void **state)
{
	kz_tun_close(tun0_fd);
	kz_net_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest parser_tests[] = {
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_link),
		cmocka_unit_test(test_parse_multi),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_bad_lengths),
		cmocka_unit_test(test_parse_bad_attrs),
		cmocka_unit_test(test_parse_route_unreachable),
		cmocka_unit_test(test_parse_ignored),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_ext_ack),
	};
	/* In order: each builds on the state the previous ones left. */
	const struct CMUnitTest kernel_tests[] = {
		cmocka_unit_test(test_lo),
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_link_up_down),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_watch_overrun),
		cmocka_unit_test(test_tun),
		cmocka_unit_test(test_route_via_tun),
		cmocka_unit_test(test_route_gateway),
		cmocka_unit_test(test_route_errors),
		cmocka_unit_test(test_route_flush_own),
		cmocka_unit_test(test_route_link_down),
		cmocka_unit_test(test_route_failclosed),
		cmocka_unit_test(test_tun_close),
	};
	const char *ci = getenv("CI");
	int failed;

	kz_log_open("test_net_netlink", 1, getenv("KZ_TEST_DEBUG") ? KZ_LOG_DEBUG : KZ_LOG_ERR);
	failed = cmocka_run_group_tests_name("net parser", parser_tests, NULL, NULL);

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		const char *why = geteuid() != 0 ? "not root" : strerror(errno);

		if (ci && strcmp(ci, "true") == 0) {
			fprintf(stderr, "kernel tests cannot run (%s) and CI=true: failing\n", why);
			return 1;
		}
		printf("kernel tests skipped: need root and unshare(CLONE_NEWNET) (%s)\n", why);
		return failed ? 1 : 77;
	}
	failed += cmocka_run_group_tests_name("net kernel", kernel_tests, kernel_setup,
					      kernel_teardown);
	return failed ? 1 : 0;
}
