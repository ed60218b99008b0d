/* ikemsg.h - an IKE datagram as a sendmsg(2) message: to the peer, the
 * data behind the four zero bytes of the non-ESP marker (RFC 3948) when
 * it goes out on port 4500. */
#ifndef KZ_IKEMSG_H
#define KZ_IKEMSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Points msg's name and iov (room for 2) at peer and data; the rest of
 * msg (control data, flags) is the caller's. */
void kz_ike_msg(struct msghdr *msg, struct iovec iov[2], const struct sockaddr_in *peer,
		const void *data, size_t len, bool natt_marker);

#endif
