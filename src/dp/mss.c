/* mss.c - TCP MSS clamping; see mss.h.  The checksum is updated
 * incrementally (RFC 1624), the packet is read through struct buf. */
#include "dp/mss.h"

#include <string.h>

#include "lib/buf.h"

static uint16_t csum_adjust(uint16_t sum, uint16_t old, uint16_t new)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') */
	uint32_t s = (uint16_t)~sum + (uint32_t)(uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void dp_mss_clamp(uint8_t *pkt, size_t len, uint16_t limit)
{
	struct buf ip, tcp, opts;
	uint8_t vihl, proto, flags, doff;
	uint16_t frag, sum;
	size_t ihl, thl;

	buf_init(&ip, pkt, len);
	if (buf_peek_u8(&ip, 0, &vihl) < 0 || (vihl >> 4) != 4)
		return;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (ihl < 20 || buf_peek_u8(&ip, 9, &proto) < 0 || proto != 6)
		return;
	/* Only the first fragment has the TCP header. */
	if (buf_skip(&ip, 6) < 0 || buf_get_u16(&ip, &frag) < 0 || (frag & 0x1fff))
		return;
	buf_init(&ip, pkt, len);
	if (buf_skip(&ip, ihl) < 0 || buf_get_sub(&ip, buf_left(&ip), &tcp) < 0)
		return;
	if (buf_peek_u8(&tcp, 12, &doff) < 0 || buf_peek_u8(&tcp, 13, &flags) < 0 ||
	    !(flags & 0x02))
		return; /* not a SYN */
	thl = (size_t)(doff >> 4) * 4;
	if (thl < 20 || buf_skip(&tcp, 20) < 0 || buf_get_sub(&tcp, thl - 20, &opts) < 0)
		return;
	while (buf_left(&opts)) {
		uint8_t kind, olen;
		uint16_t mss;
		size_t at;

		if (buf_get_u8(&opts, &kind) < 0 || kind == 0)
			return;
		if (kind == 1)
			continue;
		if (buf_get_u8(&opts, &olen) < 0 || olen < 2)
			return;
		at = (size_t)(buf_cur(&opts) - pkt);
		if (kind == 2 && olen == 4) {
			if (buf_get_u16(&opts, &mss) < 0)
				return;
			if (mss <= limit)
				return;
			/* the checksum sits 16 bytes into the TCP header */
			sum = (uint16_t)(pkt[ihl + 16] << 8 | pkt[ihl + 17]);
			/* an option after an odd number of NOPs straddles two
			 * 16-bit words of the sum: its bytes count swapped */
			if ((at - ihl) & 1)
				sum = csum_adjust(sum, (uint16_t)(mss << 8 | mss >> 8),
						  (uint16_t)(limit << 8 | limit >> 8));
			else
				sum = csum_adjust(sum, mss, limit);
			pkt[at] = (uint8_t)(limit >> 8);
			pkt[at + 1] = (uint8_t)limit;
			pkt[ihl + 16] = (uint8_t)(sum >> 8);
			pkt[ihl + 17] = (uint8_t)sum;
			return;
		}
		if (buf_skip(&opts, (size_t)olen - 2) < 0)
			return;
	}
}
