/* dataplane_io.h - what the data-plane thread and the IKE side of kizunad
 * tell each other about the shared UDP 4500 socket.
 *
 * Port 4500 carries ESP-in-UDP and IKE (behind the non-ESP marker, RFC 3948
 * 2.2).  The data-plane worker reads the socket (batched, off the event
 * loop) and hands IKE datagrams to the control thread, which passes them to
 * the engine: the engine only ever runs on the control thread. */
#ifndef KZD_DATAPLANE_IO_H
#define KZD_DATAPLANE_IO_H

#include <stddef.h>
#include <stdint.h>

struct kzd;
struct sockaddr_in;

/* ike_io.c -> dataplane.c: the data plane takes over reading fd (the
 * 4500 socket); 0 when it did, a negative KZ_E* when the control thread
 * must keep reading it itself.  Outbound ESP-in-UDP is sent on fd. */
int kzd_dataplane_take_natt(struct kzd *d, int fd);
/* The 4500 socket is about to be closed: the worker stops using it
 * (returns after the worker let go of it). */
void kzd_dataplane_release_natt(struct kzd *d);

/* A UDP socket on 0.0.0.0:port, non-blocking, with IP_PKTINFO; on port
 * 4500 with SO_REUSEPORT, so the data-plane workers' sockets join the IKE
 * socket's group.  -1 with errno set on failure. */
int kzd_udp_open(uint16_t port);

/* dataplane.c -> ike_io.c, on the control thread: an IKE message that
 * came to port 4500, the non-ESP marker already removed. */
void kzd_ike_natt_input(struct kzd *d, const struct sockaddr_in *local,
			const struct sockaddr_in *peer, const uint8_t *ike, size_t len);

#endif
