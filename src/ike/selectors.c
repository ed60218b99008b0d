/* selectors.c - Quick Mode identities (RFC 2409 5.5, RFC 2407 4.6.2) as
 * traffic selectors, and the selector pairs of a profile.
 *
 * An IPsec policy has one or more pairs: local-id / remote-id, then each
 * `selector` line.  Each pair is its own Quick Mode and IPsec SA pair
 * under the profile's IKE SA: the initiator starts one Quick Mode per pair
 * that has no live SA pair (qm_outI1), rekeys each on its own; the
 * responder takes the initiator's IDci / IDcr when they lie within one of
 * its pairs (equal, or narrower: the narrower one is used), with the
 * protocol and ports only when that pair names a protocol.
 *
 * IDs come as ID_IPV4_ADDR (a /32), ID_IPV4_ADDR_SUBNET, or
 * ID_IPV4_ADDR_RANGE: a range that is exactly a prefix is that prefix,
 * any other range is refused (INVALID-ID-INFORMATION) and recorded. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"

#define ID_IPV4_ADDR_RANGE 7

static uint32_t mask_of(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

int ts_put(struct isakmp_chain *c, const struct kz_prefix *p, uint8_t proto, uint16_t port)
{
	uint8_t d[8];
	uint32_t mask = htonl(mask_of(p->len));

	memcpy(d, &p->addr, 4);
	memcpy(d + 4, &mask, 4);
	return isakmp_put_id(c, ISAKMP_ID_IPV4_ADDR_SUBNET, proto, port, d, 8);
}

/* first..last as a prefix, when it is exactly one. */
static bool range_prefix(uint32_t first, uint32_t last, struct kz_prefix *out)
{
	for (unsigned len = 0; len <= 32; len++) {
		uint32_t m = mask_of(len);

		if ((first & ~m) == 0 && (first | ~m) == last) {
			out->addr.s_addr = htonl(first);
			out->len = (uint8_t)len;
			out->set = true;
			return true;
		}
	}
	return false;
}

int ts_parse(const struct isakmp_payload *pl, struct ts_side *out, char *text, size_t cap)
{
	struct isakmp_id id;
	uint8_t d[8];
	uint32_t a, b;
	unsigned len = 0;

	memset(out, 0, sizeof(*out));
	if (text && cap)
		text[0] = '\0';
	if (isakmp_parse_id(&pl->body, &id))
		return KZ_EPROTO;
	out->proto = id.proto;
	out->port = id.port;
	switch (id.type) {
	case ISAKMP_ID_IPV4_ADDR:
		if (buf_get_bytes(&id.data, d, 4))
			return KZ_EPROTO;
		memcpy(&out->net.addr, d, 4);
		out->net.len = 32;
		out->net.set = true;
		return 0;
	case ISAKMP_ID_IPV4_ADDR_SUBNET:
		if (buf_get_bytes(&id.data, d, 8))
			return KZ_EPROTO;
		memcpy(&a, d, 4);
		memcpy(&b, d + 4, 4);
		b = ntohl(b);
		while (len < 32 && (b & (0x80000000u >> len)))
			len++;
		if (len < 32 && (b << len))
			return KZ_EPROTO; /* not a prefix mask */
		out->net.addr.s_addr = htonl(ntohl(a) & mask_of(len));
		out->net.len = (uint8_t)len;
		out->net.set = true;
		return 0;
	case ID_IPV4_ADDR_RANGE: {
		char x[INET_ADDRSTRLEN], y[INET_ADDRSTRLEN];

		if (buf_get_bytes(&id.data, d, 8))
			return KZ_EPROTO;
		memcpy(&a, d, 4);
		memcpy(&b, d + 4, 4);
		if (range_prefix(ntohl(a), ntohl(b), &out->net))
			return 0;
		inet_ntop(AF_INET, &a, x, sizeof(x));
		inet_ntop(AF_INET, &b, y, sizeof(y));
		if (text)
			snprintf(text, cap, "%s-%s", x, y);
		return KZ_ERANGE;
	}
	default:
		return KZ_EPROTO;
	}
}

/* The pairs of sa's profile, a side left unset meaning the gateway's own
 * address (as the single pair always did).  0: no IPsec policy. */
unsigned ts_pairs(struct ike_engine *e, const struct ike_sa *sa, struct kz_selector *out)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, sa->profile));
	unsigned n;

	if (!ipol)
		return 0;
	n = kz_policy_pairs(ipol, out);
	if (!out[0].local.set) {
		out[0].local.set = true;
		out[0].local.addr = sa->local.sin_addr;
		out[0].local.len = 32;
	}
	if (!out[0].remote.set) {
		out[0].remote.set = true;
		out[0].remote.addr = sa->peer.sin_addr;
		out[0].remote.len = 32;
	}
	return n;
}

/* asked lies within pair p: its networks within p's, and the protocol and
 * ports only when p names a protocol (then equal, a port of 0 in p taking
 * any). */
static bool sel_within(const struct kz_selector *asked, const struct kz_selector *p)
{
	if (!kz_prefix_within(&asked->local, &p->local) ||
	    !kz_prefix_within(&asked->remote, &p->remote))
		return false;
	if (!p->proto)
		return !asked->proto && !asked->lport && !asked->rport;
	return asked->proto == p->proto && (!p->lport || asked->lport == p->lport) &&
		(!p->rport || asked->rport == p->rport);
}

int ts_choose(struct ike_engine *e, const struct ike_sa *sa, const struct kz_selector *asked,
	      struct kz_selector *out)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, sa->profile));
	struct kz_selector pairs[KZ_MAX_PAIRS];
	unsigned n;

	if (!ipol)
		return KZ_ENOENT;
	/* no selectors configured at all: the peer's are taken */
	if (!ipol->nsel && !ipol->local_ts.set && !ipol->remote_ts.set) {
		*out = *asked;
		return 0;
	}
	n = ts_pairs(e, sa, pairs);
	for (unsigned i = 0; i < n; i++)
		if (kz_selector_equal(asked, &pairs[i])) {
			*out = *asked;
			return 0;
		}
	for (unsigned i = 0; i < n; i++)
		if (sel_within(asked, &pairs[i])) {
			*out = *asked;
			return 0;
		}
	return KZ_ENOENT;
}

void ts_pairs_str(struct ike_engine *e, const struct ike_sa *sa, char *out, size_t cap)
{
	struct kz_selector pairs[KZ_MAX_PAIRS];
	unsigned n = ts_pairs(e, sa, pairs);
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && used + 1 < cap; i++) {
		char one[96];

		kz_selector_str(&pairs[i], one, sizeof(one));
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", one);
	}
	if (used >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

void ts_of_child(const struct ike_child *c, struct kz_selector *out)
{
	out->local = c->in.local_ts;
	out->remote = c->in.remote_ts;
	out->proto = c->in.ts_proto;
	out->lport = c->in.ts_lport;
	out->rport = c->in.ts_rport;
}

/* A side left unset in a configured pair takes anything. */
static bool side_covers(const struct kz_prefix *have, const struct kz_prefix *want)
{
	return !want->set || kz_prefix_within(have, want);
}

static bool child_covers(const struct ike_child *c, const char *profile,
			 const struct kz_selector *p)
{
	return !c->dying && !c->retire_ms && !strcmp(c->profile, profile) &&
		side_covers(&c->in.local_ts, &p->local) &&
		side_covers(&c->in.remote_ts, &p->remote) && c->in.ts_proto == p->proto &&
		(!p->lport || c->in.ts_lport == p->lport) &&
		(!p->rport || c->in.ts_rport == p->rport);
}

bool qm_running_sel(const struct ike_sa *sa, const struct kz_selector *p)
{
	for (const struct ike_qm *q = sa->qm; q; q = q->next)
		if (!q->dying && q->initiator && q->state != QM_DONE &&
		    side_covers(&q->lts, &p->local) && side_covers(&q->rts, &p->remote) &&
		    q->ts_proto == p->proto && q->ts_lport == p->lport && q->ts_rport == p->rport)
			return true;
	return false;
}

bool profile_missing_pair(struct ike_engine *e, const char *name)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, name));
	struct kz_selector pairs[KZ_MAX_PAIRS];
	unsigned n;

	if (!ipol)
		return !profile_has_child(e, name);
	n = kz_policy_pairs(ipol, pairs);
	for (unsigned i = 0; i < n; i++) {
		const struct ike_child *c = e->children;

		while (c && !child_covers(c, name, &pairs[i]))
			c = c->next;
		if (!c)
			return true;
	}
	return false;
}

static int start_pairs(struct ike_engine *e, struct ike_sa *sa, bool all)
{
	struct kz_selector pairs[KZ_MAX_PAIRS];
	unsigned n = ts_pairs(e, sa, pairs);
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, sa->profile));
	int r = n ? 0 : KZ_EINVAL, started = 0;

	for (unsigned i = 0; i < n; i++) {
		struct kz_selector cfg = pairs[i];
		const struct ike_child *c = e->children;

		/* coverage is judged against the pair as configured */
		if (i == 0) {
			cfg.local = ipol->local_ts;
			cfg.remote = ipol->remote_ts;
		}
		if (qm_running_sel(sa, &pairs[i]))
			continue;
		while (!all && c && !child_covers(c, sa->profile, &cfg))
			c = c->next;
		if (!all && c)
			continue;
		int q = qm_outI1_sel(e, sa, &pairs[i]);

		if (q)
			r = q;
		else
			started++;
	}
	return started ? 0 : r;
}

int qm_outI1(struct ike_engine *e, struct ike_sa *sa)
{
	return start_pairs(e, sa, false);
}

int qm_outI1_all(struct ike_engine *e, struct ike_sa *sa)
{
	return start_pairs(e, sa, true);
}
