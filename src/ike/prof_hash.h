/* prof_hash.h - the fingerprint of an ipsec profile's settings: what a
 * reload or a console change compares to decide whether the profile's SAs
 * must be negotiated again (engine.c, ike_engine_set_config). */
#ifndef KZ_IKE_PROF_HASH_H
#define KZ_IKE_PROF_HASH_H

#include <stdint.h>

#include "config/model.h"

#define IKE_PROF_FP_LEN 32 /* SHA-256 */

/* SHA-256 over a canonical serialization of every setting that shapes the
 * SAs of profile `name` in cfg: the profile block, its IKE policy and that
 * policy's proposals (pre-shared key included), its IPsec policy and that
 * policy's proposals, and the IPsec<N> that maps it.  Objects are followed
 * by name, so a change to an object no profile names changes nothing.
 * 0, or KZ_ENOENT (no such profile), KZ_ENOMEM, KZ_ENOSPC, KZ_EINVAL. */
int ike_prof_fingerprint(const struct kz_config *cfg, const char *name,
			 uint8_t out[IKE_PROF_FP_LEN]);

#endif
