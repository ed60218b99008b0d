/* tun.h - the TUN devices behind IPsec<N>.
 *
 * A device lives as long as one of its fds is open (it is not made
 * persistent), so a daemon that exits or crashes leaves no device behind.
 * Packets are bare IPv4 (IFF_NO_PI), behind a virtio-net header with
 * KZ_TUN_OFFLOAD.  Up/down, MTU and addresses are set with
 * the functions of netlink.h, by name. */
#ifndef KZ_NET_TUN_H
#define KZ_NET_TUN_H

/* One fd per queue: the first call creates the device, each further call with
 * the same name attaches another queue, for one data-plane thread each. */
#define KZ_TUN_MULTI_QUEUE 0x1
/* Frames carry a struct virtio_net_hdr (IFF_VNET_HDR) and the device takes
 * TCP and UDP super-packets and partial checksums from the stack
 * (TUNSETOFFLOAD: TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO_ECN and, where the
 * kernel has them, TUN_F_USO4 with TUN_F_USO6, which the kernel only
 * takes together): the reader segments them (esp/vnet.h).  Each
 * write must start with a virtio_net_hdr too.  A kernel that refuses the
 * offloads still gets the header, with no GSO in it. */
#define KZ_TUN_OFFLOAD 0x2

/* The queue length a device gets (SIOCSIFTXQLEN; the kernel's default is
 * 500). */
#define KZ_TUN_TXQLEN 2000

/* Creates the TUN device `name` ("ipsec0"), or attaches a queue to it with
 * KZ_TUN_MULTI_QUEUE, and returns a non-blocking, close-on-exec fd in
 * *fd_out.  KZ_EINVAL for a bad name or unknown flags (or a device of that
 * name that is not a TUN device of the same kind), KZ_EBUSY if the device is
 * already attached to another fd, KZ_ENOTSUP without /dev/net/tun. */
int kz_tun_create(const char *name, unsigned flags, int *fd_out);

/* Closes a queue fd; the device goes away with its last fd.  fd < 0 is
 * ignored. */
void kz_tun_close(int fd);

#endif
