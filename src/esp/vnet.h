/* vnet.h - the virtio-net header of a TUN device opened with IFF_VNET_HDR,
 * and segmentation in userspace of the TCP and UDP super-packets
 * (TUNSETOFFLOAD TUN_F_TSO4 / TUN_F_USO4) the kernel then hands over.
 *
 * With offloads on, one read from TUN gives a 10-byte struct
 * virtio_net_hdr and an IPv4 packet of up to 64 KB: a TCP (or UDP) stream
 * that the kernel did not cut into MTU-sized packets, and/or a packet
 * whose transport checksum is left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM:
 * the pseudo-header sum is in the field, the rest is ours to add).
 * vnet_parse() checks the header and the inner IPv4/TCP/UDP headers
 * through struct buf; vnet_segment() writes segment i as a complete,
 * ordinary IPv4 packet, as the kernel's own GSO would have:
 *
 *	TCP: IP total length, id + i and header checksum; sequence number +
 *	     i * gso_size; FIN and PSH only on the last segment, CWR only on
 *	     the first; the TCP checksum over the pseudo-header (RFC 9293
 *	     3.1).
 *	UDP: IP as for TCP; UDP length and checksum (RFC 768, 0 sent as
 *	     0xffff).
 *	no GSO: the packet itself, its partial checksum completed.
 *
 * The header is in the host's byte order (a TUN device that was not
 * switched with TUNSETVNETLE/BE).  No allocation, no state: pure functions
 * over caller memory. */
#ifndef KZ_ESP_VNET_H
#define KZ_ESP_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define VNET_HDR_LEN 10 /* struct virtio_net_hdr, no num_buffers */

/* <linux/virtio_net.h> values, kept here so the parser needs no kernel
 * header. */
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

enum vnet_kind {
	VNET_PLAIN, /* one packet (its checksum may still be partial) */
	VNET_TCP,   /* TCP super-packet: cut per gso_size */
	VNET_UDP,   /* UDP super-packet (USO): cut per gso_size */
};

/* One frame read from TUN, checked.  Points into the caller's frame. */
struct vnet_pkt {
	const uint8_t *ip; /* the IPv4 packet after the virtio-net header */
	size_t len;        /* its length (the frame's length minus the header) */
	enum vnet_kind kind;
	size_t nseg;     /* packets vnet_segment() makes: 1 for VNET_PLAIN */
	size_t gso_size; /* payload bytes per segment (TCP/UDP) */
	size_t ihl;      /* IPv4 header length */
	size_t hlen;     /* IPv4 + TCP/UDP header: copied into every segment */
	bool csum;       /* VNET_PLAIN: a partial checksum to complete */
	size_t csum_start, csum_offset;
};

/* Checks the virtio-net header and, for GSO and partial checksums, the
 * inner headers; fills *p.  KZ_ETRUNC: shorter than a header says;
 * KZ_EPROTO: inconsistent (GSO type and protocol differ, a fragment, a
 * checksum position outside the packet or at an odd offset, gso_size 0); KZ_ENOTSUP: a GSO
 * type we did not ask for (IPv6, UFO). */
int vnet_parse(const uint8_t *frame, size_t len, struct vnet_pkt *p) KZ_MUST_CHECK;

/* Length of segment i (< p->nseg). */
size_t vnet_seg_len(const struct vnet_pkt *p, size_t i);

/* Writes segment i (< p->nseg) into out as a complete IPv4 packet; out
 * must not overlap the frame.  KZ_ENOSPC when cap < vnet_seg_len(),
 * KZ_EINVAL for i out of range. */
int vnet_segment(const struct vnet_pkt *p, size_t i, uint8_t *out, size_t cap,
		 size_t *outlen) KZ_MUST_CHECK;

/* Writes the header of a frame to TUN that carries one complete packet
 * (no GSO, no checksum to complete). */
void vnet_hdr_plain(uint8_t hdr[VNET_HDR_LEN]);

/* Receive coalescing (GRO in userspace): consecutive segments of one TCP
 * connection, as they come out of the tunnel, joined into one TCP
 * super-packet written to TUN with one system call; the kernel cuts it
 * again where it must (or passes it on whole to a device that takes
 * TSO).  Joined only when the kernel's own GRO would join them: IPv4
 * without options, not a fragment, the same addresses, TOS, TTL and DF,
 * consecutive IP ids; TCP with only ACK (and PSH on the last segment) set,
 * the same ports, ack, window, urgent pointer and options, the next
 * sequence number; every segment gso_size long but the last; and each
 * segment's TCP checksum valid (a bad one is written alone, for the
 * receiver to drop).  The joined packet carries a partial checksum
 * (pseudo-header sum, VNET_F_NEEDS_CSUM) as the kernel's GRO leaves it. */
struct vnet_gro {
	uint8_t *buf;    /* VNET_GRO_BUF bytes: header, then the packet */
	size_t len;      /* bytes of the packet so far; 0: empty */
	size_t count;    /* segments in it */
	size_t hlen;     /* IPv4 + TCP header */
	size_t gso_size; /* payload of the first segment */
	uint32_t next_seq;
	uint16_t next_id;
	bool psh;    /* the last segment had PSH */
	bool closed; /* a short or PSH segment ended it: finish it */
};

#define VNET_GRO_BUF (VNET_HDR_LEN + 65535)

/* Appends the IPv4 packet pkt to g, or starts g with it when g is empty:
 * 1 when taken (then check g->closed), 0 when not: g holds another flow
 * (finish it and try again) or pkt cannot be joined at all (an empty g
 * does not take it either: write it alone). */
int vnet_gro_add(struct vnet_gro *g, const uint8_t *pkt, size_t len);

/* Completes g's headers and returns the frame (header + packet) length to
 * write from g->buf; empties g.  0 when g was empty. */
size_t vnet_gro_finish(struct vnet_gro *g);

/* The Internet checksum (RFC 1071) of len bytes, added to sum; folded by
 * vnet_csum_store().  Sums 16-bit words in the host's order, which gives
 * the right bytes when stored the same way (RFC 1071 2.B). */
uint64_t vnet_csum_add(uint64_t sum, const uint8_t *p, size_t len);
/* The ones' complement of the folded sum, as the checksum field's two
 * bytes in network order. */
void vnet_csum_store(uint64_t sum, uint8_t out[2]);

#endif
