/* cfg_chain.h - the chain of config objects one tunnel takes, for the
 * tests and benches that build configs in code: an IKE proposal, the IKE
 * policy that offers it, an ESP proposal, the IPsec policy that offers
 * it, the profile that names both policies, and the interface mapped to
 * the profile. */
#ifndef KZ_TESTS_CFG_CHAIN_H
#define KZ_TESTS_CFG_CHAIN_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/model.h"

struct cfg_chain {
	struct kz_ike_proposal *ikp;
	struct kz_ike_policy *pol;
	struct kz_ipsec_proposal *ep;
	struct kz_ipsec_policy *ipol;
	struct kz_ipsec_profile *pr;
	struct kz_if_ipsec *ifc;
};

/* Adds the chain under these names, each policy offering its one
 * proposal, the profile with its source set; with unit >= 0 also
 * interface IPsec<unit>, mapped to the profile and up (else k->ifc is
 * NULL).  False if an object could not be added. */
static inline bool cfg_chain_add(struct kz_config *c, struct cfg_chain *k, const char *ikep,
				 const char *ikepol, const char *espp, const char *ipsecpol,
				 const char *prof, int unit)
{
	int err = 0;

	memset(k, 0, sizeof(*k));
	if (!(k->ikp = kz_add_ike_proposal(c, ikep, &err)) ||
	    !(k->pol = kz_add_ike_policy(c, ikepol, &err)) ||
	    !(k->ep = kz_add_ipsec_proposal(c, espp, &err)) ||
	    !(k->ipol = kz_add_ipsec_policy(c, ipsecpol, &err)) ||
	    !(k->pr = kz_add_profile(c, prof, &err)))
		return false;
	snprintf(k->pol->proposals[0], sizeof(k->pol->proposals[0]), "%s", ikep);
	k->pol->nproposals = 1;
	snprintf(k->ipol->proposals[0], sizeof(k->ipol->proposals[0]), "%s", espp);
	k->ipol->nproposals = 1;
	k->pr->source_set = true;
	snprintf(k->pr->ike_policy, sizeof(k->pr->ike_policy), "%s", ikepol);
	snprintf(k->pr->ipsec_policy, sizeof(k->pr->ipsec_policy), "%s", ipsecpol);
	if (unit < 0)
		return true;
	if (!(k->ifc = kz_add_ipsec_if(c, (unsigned)unit, &err)))
		return false;
	snprintf(k->ifc->map, sizeof(k->ifc->map), "%s", prof);
	k->ifc->shutdown = false;
	return true;
}

/* A pre-shared key as `pre-shared-key KEY` sets it. */
static inline void cfg_chain_psk(struct kz_ike_policy *pol, const char *key)
{
	memset(&pol->psk, 0, sizeof(pol->psk));
	pol->psk.set = true;
	pol->psk.len = strlen(key);
	memcpy(pol->psk.key, key, pol->psk.len);
	snprintf(pol->psk.text, sizeof(pol->psk.text), "%s", key);
}

#endif
