/* ikev1_natt.c - NAT-Traversal for IKEv1: RFC 3947 and the drafts 02, 02n
 * and 03 that older peers still announce.
 *
 * - Vendor IDs in MM1/MM2 or AM1/AM2, only when the IKE policy has
 *   `nat-traversal` (without it NAT-T is neither announced nor accepted).
 * - NAT-D = HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash
 *   (RFC 3947 3.2); the first payload is the far end as we send to it, the
 *   second our own address.  A mismatch with what we see says who is
 *   behind a NAT.
 * - Floating: after MM4 (Main mode) or with AM3 (Aggressive mode) the
 *   initiator moves to UDP 4500 when either side is behind a NAT; charon
 *   with kernel-libipsec fakes NAT-D to force this, which lands here too.
 * - Quick Mode encapsulation: UDP-Encapsulated-Tunnel (3) with the RFC,
 *   61443 with the drafts. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"

static const uint8_t vid_rfc3947[16] = { 0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
					 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f };
static const uint8_t vid_draft03[16] = { 0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f,
					 0x2c, 0x17, 0x9d, 0x92, 0x15, 0x52, 0x9d, 0x56 };
static const uint8_t vid_draft02[16] = { 0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8,
					 0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48 };
static const uint8_t vid_draft02n[16] = { 0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e,
					  0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f };
/* RFC 3706 DPD: afcad71368a1f1c96b8696fc7757 01 00 */
static const uint8_t vid_dpd[16] = { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
				     0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 };

/* Vendor IDs that are only named in `show ipsec profile NAME detail`. */
/* MD5("strongSwan"), as charon sends it */
static const uint8_t vid_strongswan[16] = { 0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc,
					    0x22, 0x51, 0x61, 0x3b, 0x2e, 0xbe, 0x5b, 0xeb };
/* MD5("FRAGMENTATION"): Cisco IKE fragmentation, often followed by 4 bytes
 * of flags */
static const uint8_t vid_frag[16] = { 0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85,
				      0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3 };

void ike_vid_name(const uint8_t *vid, size_t len, char *out, size_t cap)
{
	static const struct {
		const uint8_t *v;
		bool prefix; /* may carry more bytes after the 16 */
		const char *name;
	} known[] = {
		{ vid_rfc3947, false, "RFC 3947 NAT-T" },
		{ vid_draft03, false, "NAT-T draft-03" },
		{ vid_draft02n, false, "NAT-T draft-02n" },
		{ vid_draft02, false, "NAT-T draft-02" },
		{ vid_dpd, false, "DPD" },
		{ vid_strongswan, false, "strongSwan" },
		{ vid_frag, true, "Cisco fragmentation" },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((len == 16 || (known[i].prefix && len > 16)) && !memcmp(vid, known[i].v, 16)) {
			snprintf(out, cap, "%s", known[i].name);
			return;
		}
	/* unknown: the first 8 bytes are enough to look it up */
	n = (size_t)snprintf(out, cap, "unknown ");
	for (size_t i = 0; i < len && i < 8 && n + 3 <= cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", vid[i]);
	if (len > 8 && n + 4 <= cap)
		snprintf(out + n, cap - n, "...");
}

bool natt_vid_is_dpd(const uint8_t *p, size_t len)
{
	return len == 16 && !memcmp(p, vid_dpd, 16);
}

void natt_add_vids(struct ike_engine *e, struct isakmp_chain *c, bool natt, bool dpd)
{
	(void)e;
	if (natt) {
		(void)isakmp_put_payload(c, ISAKMP_NP_VID, vid_rfc3947, 16);
		(void)isakmp_put_payload(c, ISAKMP_NP_VID, vid_draft03, 16);
		(void)isakmp_put_payload(c, ISAKMP_NP_VID, vid_draft02n, 16);
		(void)isakmp_put_payload(c, ISAKMP_NP_VID, vid_draft02, 16);
	}
	if (dpd)
		(void)isakmp_put_payload(c, ISAKMP_NP_VID, vid_dpd, 16);
}

void natt_read_vids(struct ike_sa *sa, const struct ike_msg *m)
{
	for (size_t i = 0; i < m->d.n; i++) {
		const struct isakmp_payload *p = &m->d.p[i];

		if (p->type != ISAKMP_NP_VID || p->body.len != 16)
			continue;
		if (!memcmp(p->body.data, vid_rfc3947, 16))
			sa->natt.peer_rfc = true;
		else if (!memcmp(p->body.data, vid_draft03, 16) ||
			 !memcmp(p->body.data, vid_draft02, 16) ||
			 !memcmp(p->body.data, vid_draft02n, 16))
			sa->natt.peer_draft = true;
		else if (natt_vid_is_dpd(p->body.data, 16))
			sa->natt.peer_dpd = true;
	}
}

void ike_seen_vids(struct ike_engine *e, const char *profile, const struct isakmp_digest *d)
{
	bool first = true;

	for (size_t i = 0; i < d->n; i++) {
		if (d->p[i].type != ISAKMP_NP_VID)
			continue;
		ike_seen_vid(e, profile, d->p[i].body.data, d->p[i].body.len, first);
		first = false;
	}
	if (first) /* none: an empty list, with its time */
		ike_seen_vid(e, profile, NULL, 0, true);
}

static int natd_hash(const struct ike_sa *sa, const struct sockaddr_in *a, uint8_t *out)
{
	struct ike_chunk c[4] = {
		{ sa->icookie, 8 },
		{ sa->rcookie, 8 },
		{ &a->sin_addr, 4 },
		{ &a->sin_port, 2 },
	};

	return ike_hash(sa->p1.hash, c, 4, out);
}

static uint8_t natd_type(const struct ike_sa *sa)
{
	return sa->natt.peer_rfc ? ISAKMP_NP_NATD : ISAKMP_NP_NATD_DRAFT;
}

int natt_add_natd(struct ike_sa *sa, struct isakmp_chain *c)
{
	uint8_t h[IKE_MAX_HASH];
	size_t n = ike_hash_len(sa->p1.hash);
	int r;

	if (!sa->natt.on)
		return 0;
	r = natd_hash(sa, &sa->peer, h);
	if (!r)
		r = isakmp_put_payload(c, natd_type(sa), h, n);
	if (!r)
		r = natd_hash(sa, &sa->local, h);
	if (!r)
		r = isakmp_put_payload(c, natd_type(sa), h, n);
	return r;
}

int natt_check_natd(struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t mine[IKE_MAX_HASH], theirs[IKE_MAX_HASH];
	size_t n = ike_hash_len(sa->p1.hash), k = 0;
	bool peer_match = false;

	if (!sa->natt.on)
		return 0;
	if (natd_hash(sa, &m->local, mine) || natd_hash(sa, &m->peer, theirs))
		return KZ_EINVAL;
	for (size_t i = 0; i < m->d.n; i++) {
		const struct isakmp_payload *p = &m->d.p[i];

		if (p->type != ISAKMP_NP_NATD && p->type != ISAKMP_NP_NATD_DRAFT)
			continue;
		if (k++ == 0) {
			/* the first is us as the peer addressed us */
			sa->natt.nat_local = p->body.len != n || memcmp(p->body.data, mine, n);
		} else if (p->body.len == n && !memcmp(p->body.data, theirs, n)) {
			peer_match = true;
		}
	}
	if (k < 2) {
		/* NAT-T VIDs but no NAT-D: treat as no NAT-T (RFC 3947 3) */
		sa->natt.on = false;
		return 0;
	}
	sa->natt.nat_peer = !peer_match;
	if (sa->natt.nat_local || sa->natt.nat_peer)
		eng_sa_log(KZ_LOG_INFO, sa, "%s: NAT detected (%s)",
			   sa->profile[0] ? sa->profile : "ike",
			   sa->natt.nat_local && sa->natt.nat_peer ? "both sides"
				   : sa->natt.nat_local            ? "we are behind a NAT"
								   : "the peer is behind a NAT");
	return 0;
}

void natt_float(struct ike_sa *sa)
{
	if (!sa->natt.on || !(sa->natt.nat_local || sa->natt.nat_peer) || sa->natt.floated)
		return;
	sa->natt.floated = true;
	sa->local.sin_port = htons(4500);
	sa->peer.sin_port = htons(4500);
}

void natt_update_peer(struct ike_sa *sa, const struct ike_msg *m)
{
	if (m->natt && sa->natt.on && !sa->natt.floated) {
		sa->natt.floated = true;
		sa->local.sin_port = htons(4500);
	}
	/* only authenticated messages get here: follow the NAT mapping */
	if (sa->natt.on &&
	    (sa->peer.sin_addr.s_addr != m->peer.sin_addr.s_addr ||
	     sa->peer.sin_port != m->peer.sin_port)) {
		sa->peer = m->peer;
		sa->local = m->local;
	}
}

uint16_t natt_encap_mode(const struct ike_sa *sa)
{
	if (!sa->natt.floated)
		return IPSEC_ENCAP_TUNNEL;
	return sa->natt.peer_rfc ? IPSEC_ENCAP_UDP_TUNNEL : IPSEC_ENCAP_UDP_TUNNEL_DRAFT;
}

bool natt_encap_ok(const struct ike_sa *sa, uint16_t mode)
{
	if (mode == IPSEC_ENCAP_TUNNEL)
		return true; /* plain tunnel stays possible with NAT-T off */
	if (mode == IPSEC_ENCAP_UDP_TUNNEL || mode == IPSEC_ENCAP_UDP_TUNNEL_DRAFT)
		return sa->natt.on;
	return false;
}
