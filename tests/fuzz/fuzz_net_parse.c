/* fuzz_net_parse.c - libFuzzer target for the rtnetlink message parsers.
 *
 * The input is one datagram as recv() on a NETLINK_ROUTE socket returns it:
 * multicast events for the watch, dump replies and ACKs for requests.  It is
 * fed to kz_net_parse_msgs() (the watch path) and, message by message, to the
 * parsers behind requests: routes for `show ip route`, NLMSG_ERROR with its
 * extended ACK.  The seeds in corpus/net_parse/ were captured from the kernel
 * in a scratch network namespace. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/netlink.h"
#include "net/nl_priv.h"

static int fuzz_event_cb(const struct kz_net_event *ev, void *arg)
{
	size_t *n = arg;

	/* Reading the strings catches a missing terminator under ASan. */
	*n += strlen(ev->ifname) + strlen(ev->route.oif_name) + ev->addr.plen;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size heap copy: the parsers need 4-byte alignment, and
	 * ASan then sees any read past the datagram. */
	uint8_t *buf = malloc(size ? size : 1);
	const uint8_t *p;
	size_t left, n = 0;

	if (!buf)
		return 0;
	buf[0] = 0;
	if (size)
		memcpy(buf, data, size);
	if (kz_net_parse_msgs(buf, size, fuzz_event_cb, &n) > 0)
		n++;

	p = buf;
	left = size;
	while (left >= sizeof(struct nlmsghdr) && nl_msg_ok((const struct nlmsghdr *)p, left)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		struct kz_net_route rt;
		char msg[64];
		int error;
		size_t step = NLMSG_ALIGN((size_t)nlh->nlmsg_len);

		(void)nl_parse_route(nlh, &rt);
		if (nl_parse_error(nlh, &error, msg, sizeof(msg)) == 0)
			n += strlen(msg);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	free(buf);
	return n == (size_t)-1;
}
