/* mss.h - TCP MSS clamping on IPsec<N> (`tcp-mss auto | BYTES`), so TCP
 * through the tunnel never needs fragments. */
#ifndef KZD_MSS_H
#define KZD_MSS_H

#include <stddef.h>
#include <stdint.h>

struct kzd;

/* Lowers the MSS option of a TCP SYN in the IPv4 packet pkt to what
 * IPsec<unit>'s setting allows (auto: its MTU - 40), fixing the TCP
 * checksum.  Anything else is left alone. */
void kzd_mss_clamp(struct kzd *d, unsigned unit, uint8_t *pkt, size_t len);
/* The same on a bare packet with a limit (for tests). */
void kz_mss_clamp_packet(uint8_t *pkt, size_t len, uint16_t limit);

#endif
