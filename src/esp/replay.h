/* replay.h - the ESP anti-replay window (RFC 4303 section 3.4.3 and
 * Appendix A2.1), as a ring of 64-bit words (RFC 6479) so that sliding the
 * window never shifts the whole bitmap.
 *
 * The check is split in two, as RFC 4303 3.4.3 orders it: replay_check()
 * is the cheap pre-check done before the ICV, and replay_commit() advances
 * the window only after the ICV verified, so forged packets can never move
 * it.  replay_commit() repeats the check, so two packets with the same
 * number that both passed the pre-check cannot both be accepted.
 *
 * 32-bit sequence numbers only (no ESN).  A window of 0 bits turns the
 * check off: every number is accepted, as RFC 4303 lets a receiver do.
 *
 * Not thread-safe: one window belongs to one inbound SA, used by one thread
 * at a time. */
#ifndef KZ_ESP_REPLAY_H
#define KZ_ESP_REPLAY_H

#include <stdint.h>

#define KZ_REPLAY_MAX 1024u /* largest window, bits */
/* The ring holds at least KZ_REPLAY_MAX + 63 bits; a power of two so the
 * word index is a mask. */
#define KZ_REPLAY_WORDS 32u
#define KZ_REPLAY_RING_BITS (KZ_REPLAY_WORDS * 64u)

struct kz_replay {
	uint32_t size; /* window in bits, 0 = off */
	uint32_t top;  /* highest number accepted, 0 = none yet */
	uint64_t ring[KZ_REPLAY_WORDS];
};

/* Sets up an empty window of size bits; KZ_ERANGE above KZ_REPLAY_MAX. */
int replay_init(struct kz_replay *r, uint32_t size);

/* 0 when seq may be new; KZ_ERANGE for 0 or a number left of the window,
 * KZ_EEXIST for a number already seen.  Changes nothing. */
int replay_check(const struct kz_replay *r, uint32_t seq);

/* Checks again and records seq, sliding the window when seq is the new
 * highest.  Same results as replay_check(). */
int replay_commit(struct kz_replay *r, uint32_t seq);

#endif
