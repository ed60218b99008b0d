/* replay.c - ESP anti-replay window; see replay.h. */
#include "esp/replay.h"

#include <string.h>

#include "lib/err.h"

int replay_init(struct kz_replay *r, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	if (size > KZ_REPLAY_MAX)
		return KZ_ERANGE;
	r->size = size;
	return 0;
}

static inline uint32_t word_of(uint32_t seq)
{
	return (seq >> 6) & (KZ_REPLAY_WORDS - 1);
}

static inline uint64_t bit_of(uint32_t seq)
{
	return (uint64_t)1 << (seq & 63);
}

int replay_check(const struct kz_replay *r, uint32_t seq)
{
	if (r->size == 0)
		return 0;
	/* RFC 4303 3.3.3: the first packet sent has number 1, so 0 is never
	 * valid; without ESN a sender must rekey instead of wrapping to it. */
	if (seq == 0)
		return KZ_ERANGE;
	if (seq > r->top)
		return 0;
	/* The window covers [top - size + 1, top]. */
	if (r->top - seq >= r->size)
		return KZ_ERANGE;
	if (r->ring[word_of(seq)] & bit_of(seq))
		return KZ_EEXIST;
	return 0;
}

int replay_commit(struct kz_replay *r, uint32_t seq)
{
	int err = replay_check(r, seq);

	if (err < 0 || r->size == 0)
		return err;
	if (seq > r->top) {
		/* Words between the old top and the new one hold numbers that
		 * have not arrived: clear them (RFC 6479).  A jump of a whole
		 * ring or more clears everything. */
		uint32_t diff = (seq >> 6) - (r->top >> 6);

		if (diff >= KZ_REPLAY_WORDS) {
			memset(r->ring, 0, sizeof(r->ring));
		} else {
			uint32_t w = r->top >> 6;

			while (diff--) {
				w++;
				r->ring[w & (KZ_REPLAY_WORDS - 1)] = 0;
			}
		}
		r->top = seq;
	}
	r->ring[word_of(seq)] |= bit_of(seq);
	return 0;
}
