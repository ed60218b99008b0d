/* mss.h - TCP MSS clamping on IPsec<N> (`tcp-mss auto | BYTES`), so TCP
 * through the tunnel never needs fragments.  The control side computes
 * each interface's limit (dp_if_set); the workers clamp with it. */
#ifndef KZ_DP_MSS_H
#define KZ_DP_MSS_H

#include <stddef.h>
#include <stdint.h>

/* Lowers the MSS option of a TCP SYN in the IPv4 packet pkt (len bytes)
 * to limit, fixing the TCP checksum.  Anything else is left alone. */
void dp_mss_clamp(uint8_t *pkt, size_t len, uint16_t limit);

#endif
