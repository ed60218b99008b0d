/* fake_tun.c - the TUN devices of the daemon the golden console
 * transcripts run (tests/cli/golden.c).
 *
 * Opening /dev/net/tun needs root outside a user namespace's reach (the
 * device node belongs to the initial namespace's root), while everything
 * else the transcripts touch - links, addresses, routes, the IKE ports - is
 * the caller's own in a user and network namespace.  So this build of the
 * daemon takes the device named for IPsec<N> as already there (golden.c
 * makes it, a veth whose peer is up, so that it has a carrier like an
 * attached TUN device) and hands the data plane one end of a socket pair
 * instead of a queue: nothing arrives on it, and what the daemon would
 * write into the tunnel goes nowhere.  The rest is the real daemon. */
#include "net/tun.h"

#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"

/* The other end of each pair stays open while its fd is: a closed peer
 * would make the fd readable (end of file) for ever. */
#define FAKE_TUN_MAX 64
static int peer_of[FAKE_TUN_MAX][2]; /* { fd, peer } */
static unsigned npeers;

int kz_tun_create(const char *name, unsigned flags, int *fd_out)
{
	int sv[2];

	*fd_out = -1;
	if (flags & ~(unsigned)(KZ_TUN_MULTI_QUEUE | KZ_TUN_OFFLOAD))
		return KZ_EINVAL;
	if (!name[0] || strlen(name) >= IFNAMSIZ || strchr(name, '%'))
		return KZ_EINVAL;
	if (if_nametoindex(name) == 0) {
		log_err("tun (golden): no device %s in this namespace", name);
		return KZ_ENOTSUP;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return KZ_ESYS;
	if (npeers == FAKE_TUN_MAX) {
		close(sv[0]);
		close(sv[1]);
		return KZ_ENOMEM;
	}
	peer_of[npeers][0] = sv[0];
	peer_of[npeers][1] = sv[1];
	npeers++;
	*fd_out = sv[0];
	log_debug("tun (golden): %s stands in for a TUN device (fd %d)", name, sv[0]);
	return 0;
}

void kz_tun_close(int fd)
{
	if (fd < 0)
		return;
	for (unsigned i = 0; i < npeers; i++) {
		if (peer_of[i][0] == fd) {
			close(peer_of[i][1]);
			peer_of[i][0] = peer_of[npeers - 1][0];
			peer_of[i][1] = peer_of[npeers - 1][1];
			npeers--;
			break;
		}
	}
	close(fd);
}
