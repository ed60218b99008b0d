/* fuzz_dp_mss.c - TCP MSS clamping (src/dp/mss.c) on arbitrary packets.
 *
 * The first two bytes are the limit, the rest the IPv4 packet.  Checks:
 * nothing is read or written out of bounds; at most the two bytes of one
 * MSS option and the two of the TCP checksum change; a changed MSS was
 * above the limit and is now the limit; and the ones' complement sum of
 * the TCP segment (checksum field included) is the same before and after,
 * so a segment whose checksum verified still verifies (an RFC 1071 sum
 * written here, not the code under test). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/mss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pkt[65536], orig[65536];

/* Folded ones' complement sum of p[0..n), 0xffff taken as 0 (the two
 * zeros of ones' complement). */
static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff ? 0 : (uint16_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t limit;
	size_t len, ihl, diff = 0, at[4];

	if (size < 2 || size - 2 > sizeof(pkt))
		return 0;
	limit = (uint16_t)(data[0] << 8 | data[1]);
	len = size - 2;
	memcpy(pkt, data + 2, len);
	memcpy(orig, pkt, len);
	dp_mss_clamp(pkt, len, limit);
	for (size_t i = 0; i < len; i++)
		if (pkt[i] != orig[i]) {
			if (diff == 4)
				abort(); /* more than MSS and checksum changed */
			at[diff++] = i;
		}
	if (!diff)
		return 0;
	ihl = (size_t)(orig[0] & 0x0f) * 4;
	if ((orig[0] >> 4) != 4 || orig[9] != 6 || ihl < 20 || len < ihl + 20)
		abort(); /* changed something that is not a TCP packet */
	for (size_t k = 0; k < diff; k++)
		if (at[k] != ihl + 16 && at[k] != ihl + 17 && at[k] < ihl + 20)
			abort(); /* a byte of the headers other than the checksum */
	/* the MSS option: the two changed bytes past the fixed header */
	for (size_t k = 0; k < diff; k++) {
		size_t i = at[k];

		if (i < ihl + 20)
			continue;
		if (i + 1 < len && pkt[i] == (uint8_t)(limit >> 8) &&
		    pkt[i + 1] == (uint8_t)limit) {
			uint16_t old = (uint16_t)(orig[i] << 8 | orig[i + 1]);

			if (old <= limit)
				abort(); /* lowered only */
			break;
		}
	}
	if (sum16(pkt + ihl, len - ihl) != sum16(orig + ihl, len - ihl))
		abort(); /* the checksum no longer matches the segment */
	return 0;
}
