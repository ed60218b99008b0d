/* peer.h - `kizuna peer-config`: the config the other site needs to match
 * one ipsec profile of this site.
 *
 * kz_peer_build() is pure: from this site's config and a profile name it
 * builds the other site's config model (mirrored traffic selectors, IKE
 * identities swapped, the same proposals, key, NAT-T and DPD, the opposite
 * role).  The renderers print it as kizuna config (loads with the config
 * language and passes `kizuna check THIS-FILE PEER-FILE`) and as strongSwan
 * swanctl.conf.  Both outputs hold the pre-shared key in clear. */
#ifndef KZ_PEER_H
#define KZ_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"
#include "config/model.h"

struct kz_peer {
	struct kz_config *cfg;          /* the other site's config */
	char profile[KZ_NAME_MAX];      /* its profile (same name as ours) */
	char src_hostname[KZ_NAME_MAX]; /* this site's hostname */
	/* The other site's own WAN address as this site names it (our
	 * `peer`), "" when not an address; for swanctl local_addrs. */
	char own_addr[KZ_IDVAL_MAX];
	/* This site's address, "" when unknown (for swanctl remote_addrs). */
	char this_addr[KZ_IDVAL_MAX];
	/* The other site must initiate towards this site (main mode, or we
	 * are `peer any`) but this site's address is unknown: its profile is
	 * left with no `peer` and the output says what to fill in. */
	bool peer_unknown;
};

/* Builds out->cfg from c's profile `profile`.  this_addr is this site's
 * WAN address or FQDN as the other site reaches it (NULL: unknown; a
 * `local-id address` of this side is used then).  Returns 0, KZ_ENOENT
 * (no such profile), KZ_EINCOMPLETE (why says which block is missing or
 * incomplete), KZ_EINVAL (bad this_addr) or KZ_ENOMEM.  On error out holds
 * nothing to free. */
int kz_peer_build(const struct kz_config *c, const char *profile, const char *this_addr,
		  struct kz_peer *out, char *why, size_t whylen);
void kz_peer_free(struct kz_peer *p);

/* The other site's config as config text: a header comment (it holds the
 * key), then kz_render_config() of the model, with an `! EDIT:` line
 * before the profile's `no peer` when peer_unknown. */
void kz_peer_render_kizuna(const struct kz_peer *p, struct strbuf *out);
/* The same as strongSwan swanctl.conf (IKEv1, PSK). */
void kz_peer_render_swanctl(const struct kz_peer *p, struct strbuf *out);

#endif
