/* ikemsg.c - see ikemsg.h. */
#include "lib/ikemsg.h"

#include <stdint.h>

void kz_ike_msg(struct msghdr *msg, struct iovec iov[2], const struct sockaddr_in *peer,
		const void *data, size_t len, bool natt_marker)
{
	static const uint8_t marker[4];
	size_t n = 0;

	if (natt_marker) {
		iov[n].iov_base = (void *)marker;
		iov[n++].iov_len = sizeof(marker);
	}
	iov[n].iov_base = (void *)data;
	iov[n++].iov_len = len;
	msg->msg_name = (void *)peer;
	msg->msg_namelen = sizeof(*peer);
	msg->msg_iov = iov;
	msg->msg_iovlen = n;
}
