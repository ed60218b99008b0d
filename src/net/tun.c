/* tun.c - creating the TUN devices behind IPsec<N>. */
#include "net/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "net/nl_priv.h"

#define TUN_PATH "/dev/net/tun"

/* Linux 6.2; older uapi headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* The offloads of KZ_TUN_OFFLOAD.  UDP segmentation first with, then
 * without USO: a kernel before 6.2 refuses the unknown bits (EINVAL), and
 * one that has them takes USO4 only together with USO6.  IPv6 is not
 * carried (the data plane drops it as it did before), so USO6 adds
 * nothing that passes. */
static void tun_offload(int fd, const char *name)
{
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0) {
		log_debug("tun: %s takes TCP and UDP super-packets", name);
		return;
	}
	if (ioctl(fd, TUNSETOFFLOAD, base) == 0) {
		log_debug("tun: %s takes TCP super-packets (no USO)", name);
		return;
	}
	log_warn("tun: no offloads on %s: %s", name, strerror(errno));
}

/* The kernel drops what does not fit in the TUN queue while a data-plane
 * worker encrypts a batch (counted as TX dropped on ipsec<N>): a longer
 * queue than the default 500 keeps TCP bursts.  Here, where the device is
 * made, because it needs CAP_NET_ADMIN (the privileged parent's, when
 * kizunad runs as two processes). */
static void tun_txqlen(const char *name)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	kz_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	ifr.ifr_qlen = KZ_TUN_TXQLEN;
	if (s < 0 || ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		log_debug("tun: cannot lengthen the queue of %s: %s", name, strerror(errno));
	if (s >= 0)
		close(s);
}

int kz_tun_create(const char *name, unsigned flags, int *fd_out)
{
	struct ifreq ifr;
	int fd = -1, ret, e;

	*fd_out = -1;
	if (flags & ~(unsigned)(KZ_TUN_MULTI_QUEUE | KZ_TUN_OFFLOAD))
		return KZ_EINVAL;
	/* A template such as "ipsec%d" would let the kernel pick another
	 * name than the one the daemon shows; names are always exact. */
	if (nl_check_ifname(name) || strchr(name, '%'))
		return KZ_EINVAL;
	if (privmsg_broker) {
		struct privmsg m = { .type = PRIVMSG_TUN_OPEN, .flags = flags };

		kz_strlcpy(m.ifname, name, sizeof(m.ifname));
		ret = nl_forward(&m, &fd);
		if (!ret && fd < 0)
			ret = KZ_EPROTO;
		if (!ret)
			*fd_out = fd;
		return ret;
	}

	fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		log_err("tun: cannot open %s: %s", TUN_PATH, strerror(e));
		ret = e == ENOENT || e == ENODEV || e == ENXIO ? KZ_ENOTSUP : KZ_ESYS;
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	kz_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (flags & KZ_TUN_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (flags & KZ_TUN_OFFLOAD)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		log_err("tun: cannot create %s: %s%s", name, strerror(e),
			e == EINVAL ? " (a device of another kind has that name?)" : "");
		switch (e) {
		case EBUSY:
			ret = KZ_EBUSY;
			break;
		case EINVAL:
			ret = KZ_EINVAL;
			break;
		case ENOMEM:
			ret = KZ_ENOMEM;
			break;
		default:
			ret = KZ_ESYS;
			break;
		}
		goto out;
	}
	if (strncmp(ifr.ifr_name, name, IFNAMSIZ) != 0) {
		log_err("tun: asked for %s, got %.*s", name, IFNAMSIZ, ifr.ifr_name);
		ret = KZ_EPROTO;
		goto out;
	}
	if (flags & KZ_TUN_OFFLOAD)
		tun_offload(fd, name);
	tun_txqlen(name);
	log_debug("tun: %s %s (fd %d)", (flags & KZ_TUN_MULTI_QUEUE) ? "queue on" : "created", name,
		  fd);
	*fd_out = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

void kz_tun_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
