/* fuzz_esp_vnet.c - the virtio-net header parser and the TCP/UDP segmenter
 * of src/esp/vnet.c on arbitrary frames, as a TUN device with offloads
 * would hand them over.
 *
 * Checks: nothing reads or writes out of bounds; every segment has the
 * length vnet_seg_len() promised; the segments of a GSO frame carry its
 * payload exactly once, each no longer than gso_size, and are whole IPv4
 * packets whose header and TCP/UDP checksums verify (a byte-by-byte
 * RFC 1071 sum written here, not the one under test); a completed partial
 * checksum verifies over its range plus the seed the field held.
 *
 * Then the segments go through receive coalescing (vnet_gro_add): every
 * frame vnet_gro_finish() gives must parse again, and cutting it again
 * must give back exactly the segments that went in (a round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/vnet.h"
#include "lib/err.h"

#include "../unit/esp_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t seg[65536], seg2[65536];
static uint8_t gro_buf[VNET_GRO_BUF];
static struct vnet_gro gro = { .buf = gro_buf };

/* The segments joined since the last finish, back to back. */
#define FED_MAX 512
static uint8_t fed[FED_MAX * 128 + 65536];
static size_t fed_off[FED_MAX + 1], nfed;

static void gro_check(void)
{
	size_t n = vnet_gro_finish(&gro), len;
	struct vnet_pkt q;

	if (n == 0) {
		if (nfed)
			abort();
		return;
	}
	if (vnet_parse(gro.buf, n, &q) < 0 || q.nseg != nfed)
		abort();
	for (size_t i = 0; i < q.nseg; i++) {
		if (vnet_segment(&q, i, seg2, sizeof(seg2), &len) < 0)
			abort();
		if (len != fed_off[i + 1] - fed_off[i] || memcmp(seg2, fed + fed_off[i], len) != 0)
			abort();
	}
	nfed = 0;
}

static void gro_feed(const uint8_t *s, size_t len)
{
	int taken = vnet_gro_add(&gro, s, len);

	if (!taken && gro.len) {
		gro_check();
		taken = vnet_gro_add(&gro, s, len);
	}
	if (!taken)
		return;
	if (nfed == FED_MAX)
		abort(); /* the caller feeds fewer */
	memcpy(fed + fed_off[nfed], s, len);
	fed_off[nfed + 1] = fed_off[nfed] + len;
	nfed++;
	if (gro.closed)
		gro_check();
}

static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	return esp_fixture_fold(esp_fixture_sum(s, p, n));
}

static void check_gso_segment(const struct vnet_pkt *p, const uint8_t *s, size_t len)
{
	size_t l4len = len - p->ihl;
	uint8_t pseudo[4] = { 0, s[9], (uint8_t)(l4len >> 8), (uint8_t)l4len };

	if ((size_t)(s[2] << 8 | s[3]) != len || (size_t)(s[0] & 0x0f) * 4 != p->ihl)
		abort();
	if (ref_sum(0, s, p->ihl) != 0xffff)
		abort();
	if (ref_sum(ref_sum(ref_sum(0, s + 12, 8), pseudo, 4), s + p->ihl, l4len) != 0xffff)
		abort();
	if (len > p->hlen + p->gso_size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_pkt p;
	size_t total = 0;
	int err = vnet_parse(data, size, &p);

	if (err < 0) {
		if (err != KZ_ETRUNC && err != KZ_EPROTO && err != KZ_ENOTSUP)
			abort();
		return 0;
	}
	if (p.nseg == 0 || p.ip != data + VNET_HDR_LEN || p.len != size - VNET_HDR_LEN)
		abort();
	for (size_t i = 0; i < p.nseg; i++) {
		size_t len = 0, want = vnet_seg_len(&p, i);

		if (vnet_segment(&p, i, seg, sizeof(seg), &len) < 0)
			abort();
		if (len != want || len == 0)
			abort();
		if (p.kind == VNET_PLAIN) {
			if (len != p.len)
				abort();
			/* The field held a seed (the pseudo-header sum, which a
			 * verifier adds from outside the range): seed + range
			 * must verify. */
			if (p.csum) {
				const uint8_t *seed = p.ip + p.csum_start + p.csum_offset;
				uint32_t s0 = (uint32_t)(seed[0] << 8 | seed[1]);

				if (ref_sum(s0, seg + p.csum_start, len - p.csum_start) != 0xffff)
					abort();
			}
		} else {
			check_gso_segment(&p, seg, len);
			/* The payload of segment i is the frame's, in order. */
			if (memcmp(seg + p.hlen, p.ip + p.hlen + total, len - p.hlen) != 0)
				abort();
			total += len - p.hlen;
		}
		if (p.nseg <= FED_MAX)
			gro_feed(seg, len);
	}
	gro_check();
	if (p.kind != VNET_PLAIN && total != p.len - p.hlen)
		abort();
	if (vnet_segment(&p, p.nseg, seg, sizeof(seg), &total) != KZ_EINVAL)
		abort();
	return 0;
}
