/* diag_peer.c - the checks that involve the peer and the path to it:
 * A5 parameters that do not match the peer, A6 reachability, A7
 * NAT-Traversal, A8 SAs up but no traffic, then the [WARN] lines.  See
 * diag.c for the order they run in. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/check.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "diag/diag.h"
#include "diag/diag_int.h"

/* ---- A5: parameters that do not match the peer ---- */

/* A5.2: the seed's rule is "the initiator sets local-id, the responder
 * sets remote-id"; a responder with only a local-id, or an initiator with
 * only a remote-id, has them on the wrong side.  Judged from this side's
 * own config, so it also explains a peer that only stays silent. */
static bool ids_wrong_side(const struct diag_ctx *x)
{
	return x->aggr && x->ike &&
		(x->responder ? (x->ike->local_id.type != KZ_ID_NONE &&
				 x->ike->remote_id.type == KZ_ID_NONE)
			      : (x->ike->remote_id.type != KZ_ID_NONE &&
				 x->ike->local_id.type == KZ_ID_NONE));
}

static void a5_id(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	const char *pol = x->ike ? x->ike->name : "<policy>";
	bool wrong_side;
	struct diag_check *c;
	char t[64];

	diag_times_text(x, t, sizeof(t));
	wrong_side = ids_wrong_side(x);
	if (wrong_side) {
		c = diag_add(x, DIAG_NG, "A5.2",
			     TR("IKE local-id / remote-id set on the wrong side"));
		diag_cause(c,
			   TR("the initiator sets local-id and the responder sets remote-id; ike "
			      "policy %s of this %s has it the other way round"),
			   pol, diag_role_text(x));
		diag_evidence(c, TR("%s (%s)"), diag_detail(x), t);
		diag_remedy(c, "ike policy %s", pol);
		if (x->responder) {
			diag_remedy(c, "no local-id");
			diag_remedy(c, "%s", TR("remote-id key-id <the initiator's local-id>"));
		} else {
			diag_remedy(c, "no remote-id");
			diag_remedy(c, "%s", TR("local-id key-id <the responder's remote-id>"));
		}
		return;
	}
	if (x->responder && st->id_received[0]) {
		c = diag_add(x, DIAG_NG, "A5.1",
			     TR("key-id differs: an initiator sent %s, this "
				"profile expects %s"),
			     st->id_received,
			     st->id_expected[0] ? st->id_expected
						: TR("a remote-id (none is set)"));
		diag_cause(c, TR("the initiator's IKE local-id is not this responder's remote-id"));
		diag_evidence(c, "%s", t);
		if (!strncmp(st->id_received, "address ", 8))
			diag_remedy(c, "%s",
				    TR("! the initiator sent its address: it has no local-id "
				       "(or set remote-id instead, A5.2); on the initiator:"));
		else
			diag_remedy(c, "%s", TR("! make them the same string; either here:"));
		diag_remedy(c, "ike policy %s", pol);
		if (!strncmp(st->id_received, "key-id ", 7))
			diag_remedy(c, "remote-id %s", st->id_received);
		else
			diag_remedy(c, "%s",
				    TR("local-id key-id <the key-id this responder expects>"));
		return;
	}
	c = diag_add(x, DIAG_NG, "A5.1",
		     TR("key-id differs: the peer rejected or did not match the "
			"identity"));
	diag_cause(c, TR("the initiator's IKE local-id is not the responder's IKE remote-id"));
	if (st->id_received[0])
		diag_evidence(
			c, TR("the peer sent %s, expected %s (%s)"), st->id_received,
			st->id_expected[0] ? st->id_expected : TR("a remote-id (none is set)"), t);
	else
		diag_evidence(c, TR("%s (%s)"), diag_detail(x), t);
	diag_remedy(c, "%s",
		    TR("! make the initiator's local-id and the responder's remote-id the "
		       "same string:"));
	diag_remedy(c, "ike policy %s", pol);
	if (x->ike && x->ike->local_id.type == KZ_ID_KEY_ID)
		diag_remedy(c, TR("! this site sends local-id key-id %s"), x->ike->local_id.value);
	else
		diag_remedy(c, "%s", TR("local-id key-id <the responder's remote-id>"));
}

static void a5_ts(struct diag_ctx *x)
{
	struct diag_check *c;
	char l[32] = "-", r[32] = "-", t[64];

	if (x->ipol) {
		kz_prefix_str(&x->ipol->local_ts, l, sizeof(l));
		kz_prefix_str(&x->ipol->remote_ts, r, sizeof(r));
	}
	diag_times_text(x, t, sizeof(t));
	if (strstr(x->st->detail, "not a prefix")) {
		/* the peer's selector is an address range kizuna cannot take */
		c = diag_add(x, DIAG_NG, "A5.3",
			     TR("the peer's IPsec selector is an address range, not a prefix"));
		diag_cause(c,
			   TR("kizuna takes a range only when it is exactly a prefix (e.g. "
			      "192.168.1.0-192.168.1.255 = 192.168.1.0/24); the peer sent %s"),
			   x->st->id_received);
		diag_evidence(c, TR("%s (%s)"), x->st->detail, t);
		diag_remedy(c, "%s",
			    TR("! on the peer: make the phase 2 selector a subnet (address/mask) "
			       "or a range that is one prefix, matching one pair here:"));
		diag_remedy(c, "! %s", x->st->id_expected[0] ? x->st->id_expected : l);
		return;
	}
	if (x->ipol && x->ipol->nsel) {
		/* several pairs: name what the peer asked for and what is here */
		c = diag_add(x, DIAG_NG, "A5.3",
			     TR("IPsec selector not within any pair of this site: the peer asked "
				"for %s"),
			     x->st->id_received[0] ? x->st->id_received : "-");
		diag_cause(c,
			   TR("each of the peer's pairs must be the mirror of one pair here "
			      "(or lie within it); this site has %s"),
			   x->st->id_expected[0] ? x->st->id_expected : "-");
		diag_evidence(c, TR("%s (%s)"), x->st->detail, t);
		diag_remedy(c, "%s", TR("! add the pair here, as the peer sees it mirrored:"));
		diag_remedy(c, "ipsec policy %s", x->ipol->name);
		diag_remedy(c, "selector local <A.B.C.D/M> remote <A.B.C.D/M>");
		return;
	}
	c = diag_add(x, DIAG_NG, "A5.3",
		     TR("IPsec policy ids not mirrored: this site has local-id "
			"%s remote-id %s"),
		     l, r);
	diag_cause(c, TR("the peer's IPsec policy must have local-id %s and remote-id %s"), r, l);
	diag_evidence(c, TR("%s (%s)"), diag_detail(x), t);
	diag_remedy(c, TR("! on the peer: ipsec policy <its policy> / local-id %s / remote-id %s"),
		    r, l);
	if (x->ipol) {
		diag_remedy(c, TR("! or here, to match the peer:"));
		diag_remedy(c, "ipsec policy %s", x->ipol->name);
		diag_remedy(c, "local-id <A.B.C.D/M>");
		diag_remedy(c, "remote-id <A.B.C.D/M>");
	}
}

static void a5_proposal(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	struct diag_check *c;
	char t[64];

	diag_times_text(x, t, sizeof(t));
	if (st->phase == 2 && st->pfs_mismatch) {
		c = diag_add(x, DIAG_NG, "A5.4",
			     TR("PFS differs from the peer: this site has pfs %s, the peer "
				"offered pfs %s"),
			     kz_group_name(st->pfs_ours), kz_group_name(st->pfs_theirs));
		diag_cause(c,
			   TR("the IPsec proposals agree but for PFS; a responder with pfs none "
			      "follows the initiator, pfs GROUP requires that group"));
		diag_evidence(c, TR("%s (%s)"), st->detail, t);
		diag_remedy(c, "ipsec policy %s", x->ipol ? x->ipol->name : "<policy>");
		diag_remedy(c, "pfs %s", kz_group_name(st->pfs_theirs));
		diag_remedy(c, "%s", TR("! or pfs none here, or the same group on the peer"));
		return;
	}
	c = diag_add(x, DIAG_NG, "A5.4",
		     st->phase == 2 ? TR("IPsec proposal parameters differ from "
					 "the peer")
				    : TR("IKE proposal parameters differ from "
					 "the peer"));
	diag_cause(c, TR("no proposal in common (phase %d): other vendors have other defaults"),
		   st->phase);
	if (st->our_offer[0] || st->their_offer[0])
		diag_evidence(c, TR("we offered %s; the peer offered %s (%s)"),
			      st->our_offer[0] ? st->our_offer : "?",
			      st->their_offer[0] ? st->their_offer
						 : TR("(not seen: the peer refused ours)"),
			      t);
	else
		diag_evidence(c, TR("%s (%s)"), diag_detail(x), t);
	diag_remedy(c, "%s", TR("! set every parameter explicitly on both ends, the same values:"));
	if (st->phase == 2 && x->ipol && x->ipol->nproposals) {
		diag_remedy(c, "ipsec proposal %s", x->ipol->proposals[0]);
		diag_remedy(c, "encryption <as the peer> / authentication <as the peer>");
		diag_remedy(c, "ipsec policy %s", x->ipol->name);
		diag_remedy(c, "pfs <as the peer>");
	} else if (x->ike && x->ike->nproposals) {
		diag_remedy(c, "ike proposal %s", x->ike->proposals[0]);
		diag_remedy(c,
			    "encryption <as the peer> / hash <as the peer> / group <as the peer>");
	}
}

static void a5_psk(struct diag_ctx *x)
{
	struct diag_check *c;
	char t[64];

	diag_times_text(x, t, sizeof(t));
	c = diag_add(x, DIAG_NG, "A5.5", TR("pre-shared keys differ"));
	diag_cause(c,
		   x->aggr ? TR("the peer's HASH did not verify (%s)")
			   : TR("the peer's encrypted message did not decrypt, or its HASH did not "
				"verify (%s)"),
		   t);
	diag_evidence(c, "%s", diag_detail(x));
	diag_remedy(c, "ike policy %s", x->ike ? x->ike->name : "<policy>");
	diag_remedy(c, "%s", TR("pre-shared-key ascii <the key the peer uses>"));
}

/* "3 time(s) since 10:02:11" of a half-open record */
static void half_times(struct diag_ctx *x, const struct diag_exch *h, char *out, size_t cap)
{
	char t[16];

	diag_clock_str(h->first_wall, t, sizeof(t));
	snprintf(out, cap, TR("%u time(s) since %s"), h->count ? h->count : 1, t);
}

/* "Aggressive mode message 2 sent to 198.51.100.1:4500 (key-id site-a) at
 * 10:02:11, no message 3 by 10:02:26" */
static void half_evidence(struct diag_ctx *x, struct diag_check *c, const struct diag_exch *h)
{
	char m[64], peer[192], t1[16], t2[16];

	diag_exch_msg(x, h, h->msg_sent, m, sizeof(m));
	diag_exch_peer(x, h, peer, sizeof(peer));
	diag_clock_str(h->first_wall, t1, sizeof(t1));
	diag_clock_str(h->last_wall, t2, sizeof(t2));
	diag_evidence(c, TR("exchange with %s started %s: %s sent %u time(s), no message %u by %s"),
		      peer, t1, m, h->tries ? h->tries : 1, h->msg_sent + 1, t2);
}

/* The responder's half of aggressive mode: AM2 sent and no AM3 means
 * the initiator could not verify our HASH_R - different keys; when this
 * profile takes any ID (no remote-id), a key-id the peer's profile did
 * not expect is the other possible cause. */
static bool a5_half(struct diag_ctx *x)
{
	const struct diag_exch *h = x->half;
	const char *pol = x->ike ? x->ike->name : "<policy>";
	struct diag_check *c;
	bool am, mm;
	char t[64];

	if (!h || (x->st->count && x->st->fail != DIAG_FAIL_NO_ANSWER))
		return false;
	half_times(x, h, t, sizeof(t));
	/* A5.5: the half of phase 1 the keys decide, unanswered */
	am = h->phase == 1 && !h->initiator && h->aggressive && h->msg_sent == 2;
	mm = h->phase == 1 && h->initiator && !h->aggressive && h->msg_sent == 5;
	if (am || mm) {
		c = diag_add(x, DIAG_NG, "A5.5", TR("pre-shared keys differ"));
		diag_cause(
			c,
			mm ? TR("the peer answered messages 1 and 3 but not our message 5: it "
				"could not decrypt it (%s)")
				: !x->ike || x->ike->remote_id.type == KZ_ID_NONE
				? TR("the initiator did not send message 3 after our message 2: it "
				     "could not verify our HASH_R (%s); or this site's ID is "
				     "not the one the initiator expects (A5.1)")
				: TR("the initiator did not send message 3 after our message 2: it "
				     "could not verify our HASH_R (%s)"),
			t);
		half_evidence(x, c, h);
		diag_remedy(c, "ike policy %s", pol);
		diag_remedy(c, "%s", TR("pre-shared-key ascii <the key the peer uses>"));
		return true;
	}
	if (h->phase == 2 && !h->initiator && h->msg_sent == 2) {
		c = diag_add(x, DIAG_NG, "A5.4",
			     TR("IPsec proposal parameters differ from the peer"));
		diag_cause(c,
			   TR("the initiator did not confirm our Quick Mode answer (%s): it "
			      "refused what we chose, or the IPsec policy ids are not mirrored "
			      "(A5.3)"),
			   t);
		half_evidence(x, c, h);
		diag_remedy(c, "%s",
			    TR("! set every parameter explicitly on both ends, the same values:"));
		if (x->ipol) {
			diag_remedy(c, "ipsec policy %s", x->ipol->name);
			diag_remedy(c, "pfs <as the peer>");
		}
		return true;
	}
	return false;
}

void diag_check_a5(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	static const char *const ids_aggr[] = { "A5.1", "A5.2", "A5.3", "A5.4", "A5.5" };
	static const char *const ids_main[] = { "A5.3", "A5.4", "A5.5" };
	const char *const *ids = x->aggr ? ids_aggr : ids_main;
	size_t nids = x->aggr ? 5 : 3, found = 0;
	struct diag_check *c;

	if (x->sas_up) {
		diag_add(x, DIAG_OK, "A5", TR("parameters agree with the peer (the SAs are up)"));
		return;
	}
	if (x->blocked) {
		diag_add(x, DIAG_NA, "A5", TR("not judged: fix the problems above first"));
		return;
	}
	/* the peer's config, when given, decides directly */
	for (size_t i = 0; i < nids; i++) {
		const struct kz_finding *f = diag_cross_find(x, ids[i]);

		if (f) {
			diag_add_cross(x, f);
			found++;
		}
	}
	if (found)
		return;
	if (diag_infl_unanswered(x)) {
		diag_add(x, DIAG_NA, "A5", TR("not judgeable: the peer never answered (see A6)"));
		return;
	}
	if (a5_half(x))
		return;
	if (x->half && !x->st->count) {
		c = diag_add(x, DIAG_NA, "A5", TR("not judgeable: the exchange stopped (see A6)"));
		half_evidence(x, c, x->half);
		return;
	}
	if (diag_failed(x, DIAG_FAIL_ID_MISMATCH) || (ids_wrong_side(x) && st && st->count)) {
		a5_id(x);
	} else if (diag_failed(x, DIAG_FAIL_TS_MISMATCH)) {
		a5_ts(x);
	} else if (diag_failed(x, DIAG_FAIL_NO_PROPOSAL)) {
		a5_proposal(x);
	} else if (diag_failed(x, DIAG_FAIL_PSK_MISMATCH)) {
		a5_psk(x);
	} else if (st && st->count &&
		   (st->fail == DIAG_FAIL_PEER_NOTIFY || st->fail == DIAG_FAIL_MALFORMED)) {
		c = diag_add(x, DIAG_NA, "A5", TR("not judgeable: the peer refused with %s"),
			     st->notify_name[0] ? st->notify_name : diag_detail(x));
		diag_evidence(c, "%s", diag_detail(x));
		diag_remedy(c, "%s",
			    TR("! compare both configs: kizuna check <this config> <the "
			       "peer's config>"));
	} else if (st && st->count && st->fail == DIAG_FAIL_NO_ANSWER) {
		diag_add(x, DIAG_NA, "A5", TR("not judgeable: the peer never answered (see A6)"));
	} else if (st && st->count && st->fail == DIAG_FAIL_CONFIG) {
		c = diag_add(x, DIAG_NA, "A5", TR("not judgeable: the profile cannot negotiate"));
		diag_evidence(c, "%s", diag_detail(x));
	} else if (st && st->count && st->fail == DIAG_FAIL_NATT) {
		diag_add(x, DIAG_NA, "A5",
			 TR("not judgeable: NAT-Traversal failed first (see A7)"));
	} else {
		c = diag_add(x, DIAG_NA, "A5",
			     TR("not judgeable: no negotiation failure seen yet"));
		if (x->responder)
			diag_cause(
				c,
				TR("no initiator has tried yet; look at the initiator, or compare "
				   "both configs with `kizuna check`"));
		else
			diag_cause(
				c,
				TR("start negotiation with `clear ike sa`, or compare both configs "
				   "with `kizuna check`"));
		diag_remedy(c, "clear ike sa");
		diag_remedy(c, "%s", TR("! kizuna check <this config> <the peer's config>"));
	}
}

/* ---- A6: reachability ---- */

void diag_check_a6(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	struct diag_check *c;
	char t[64], pa[INET_ADDRSTRLEN];
	bool priv_peer;

	if (x->sas_up || (st && st->ike_up)) {
		diag_add(x, DIAG_OK, "A6", TR("the peer answers (IKE SA up)"));
		return;
	}
	if (x->blocked) {
		diag_add(x, DIAG_NA, "A6", TR("not judged: fix the problems above first"));
		return;
	}
	priv_peer = x->p->peer_type == KZ_PEER_ADDR &&
		kz_addr_classify(x->p->peer_addr) != KZ_ADDR_GLOBAL;
	if (diag_infl_unanswered(x)) {
		/* judged at once: the second retransmission went unanswered */
		const struct diag_exch *h = x->infl;
		char m[64], t1[16];

		diag_addr_str(h->peer, pa);
		c = diag_add(x, DIAG_NG, x->aggr && priv_peer ? "A6.1" : "A6.2",
			     TR("no reply from %s to %u transmissions over %lld s (still trying)"),
			     pa, h->tries, (long long)(h->last_wall - h->first_wall));
		if (x->aggr && priv_peer)
			diag_cause(c,
				   TR("the responder has a private or shared address and cannot be "
				      "reached (or the peer router or its WAN is down)"));
		else
			diag_cause(
				c,
				TR("the peer router is down, or its WAN is down (or the responder "
				   "has no global address)"));
		diag_exch_msg(x, h, 1, m, sizeof(m));
		diag_clock_str(h->first_wall, t1, sizeof(t1));
		diag_evidence(c, TR("%s to %s:%u, first sent %s, no reply yet"), m, pa,
			      (unsigned)h->peer_port, t1);
		if (x->aggr && priv_peer)
			diag_remedy(c, "%s",
				    TR("! the responder needs a global address; the initiator "
				       "may be private or global"));
		else
			diag_remedy(c, "%s", TR("! check the peer router and its WAN network"));
		return;
	}
	if (x->half && x->half->msg_sent > 1 && x->half->initiator) {
		c = diag_add(x, DIAG_OK, "A6",
			     TR("the peer answers (it sent a reply or a notify)"));
		half_evidence(x, c, x->half);
		return;
	}
	if (x->half && !x->half->initiator) {
		char peer[192], m[64];

		diag_exch_peer(x, x->half, peer, sizeof(peer));
		if (x->half->aggressive || x->half->phase == 2) {
			c = diag_add(x, DIAG_OK, "A6", TR("an initiator reached this site: %s"),
				     peer);
			return;
		}
		diag_exch_msg(x, x->half, x->half->msg_sent, m, sizeof(m));
		c = diag_add(x, DIAG_NG, "A6.2", TR("the initiator %s got no further than our %s"),
			     peer, m);
		diag_cause(c,
			   TR("our answers do not reach the initiator, or it gave up: look at the "
			      "initiator"));
		half_evidence(x, c, x->half);
		diag_remedy(c, "%s", TR("! run diagnose ipsec on the initiator"));
		return;
	}
	if (diag_failed(x, DIAG_FAIL_NO_ANSWER)) {
		diag_times_text(x, t, sizeof(t));
		if (x->aggr && priv_peer) {
			c = diag_add(x, DIAG_NG, "A6.1",
				     TR("no answer from the peer %s: the responder "
					"has a private or shared address"),
				     diag_addr_str(x->p->peer_addr, pa));
			diag_cause(c,
				   TR("a responder behind a private contract or carrier-grade NAT "
				      "cannot be reached (or the peer router or its WAN is down)"));
			diag_remedy(c, "%s",
				    TR("! the responder needs a global address; the initiator "
				       "may be private or global"));
		} else {
			c = diag_add(x, DIAG_NG, "A6.2", TR("no answer from the peer %s"),
				     x->p->peer_type == KZ_PEER_ADDR
					     ? diag_addr_str(x->p->peer_addr, pa)
					     : x->p->peer_fqdn);
			diag_cause(
				c,
				TR("the peer router is down, or its WAN is down (or the responder "
				   "has no global address)"));
			diag_remedy(c, "%s", TR("! check the peer router and its WAN network"));
		}
		diag_evidence(c, TR("%s (%s)"), diag_detail(x), t);
		return;
	}
	if (st && st->count && st->fail != DIAG_FAIL_CONFIG) {
		c = diag_add(x, DIAG_OK, "A6",
			     x->responder ? TR("an initiator reached this site")
					  : TR("the peer answers (it sent a reply or a notify)"));
		diag_evidence(c, "%s", diag_detail(x));
		return;
	}
	if (x->infl && (x->infl->msg_sent > 1 || x->infl->phase == 2)) {
		diag_add(x, DIAG_OK, "A6", TR("the peer answers (negotiating now)"));
		return;
	}
	if (x->responder) {
		c = diag_add(x, DIAG_NA, "A6",
			     TR("not judgeable here: a responder waits for the "
				"initiator"));
		diag_remedy(c, "%s", TR("! run diagnose ipsec on the initiator"));
		return;
	}
	c = diag_add(x, DIAG_NA, "A6", TR("not judgeable: no exchange seen yet"));
	diag_remedy(c, "clear ike sa");
}

/* ---- A7: NAT-Traversal (aggressive mode) ---- */

void diag_check_a7(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	const struct kz_finding *f;
	struct diag_check *c;
	char la[96];
	bool behind = x->s->mobile.has_addr && diag_local_behind_nat(x);
	bool peer_behind = st && st->nat_known && st->nat_peer;
	bool local_global = kz_addr_classify(x->s->mobile.addr) == KZ_ADDR_GLOBAL;

	if (!x->ike) {
		diag_add(x, DIAG_NA, "A7", TR("not judged: the IKE policy is missing (see A4)"));
		return;
	}
	if (x->blocked || !x->s->mobile.has_addr) {
		diag_add(x, DIAG_NA, "A7", TR("not judged: fix the problems above first"));
		return;
	}
	if ((behind || peer_behind) && !x->ike->natt) {
		if (behind)
			diag_local_addr_text(x, la, sizeof(la));
		c = diag_add(x, DIAG_NG, "A7.1",
			     TR("NAT between the sites but nat-traversal is not set "
				"in ike policy %s"),
			     x->ike->name);
		if (behind)
			diag_cause(c,
				   TR("this site is behind NAT (local %s): IKE and ESP need "
				      "NAT-Traversal on both ends"),
				   la);
		else
			diag_cause(c,
				   TR("IKE saw the peer behind NAT: IKE and ESP need NAT-Traversal "
				      "on both ends"));
		diag_evidence(c, "%s",
			      behind ? TR("NAT-D: this site's address is translated by a NAT")
				     : TR("NAT-D: the peer's address is translated by a NAT"));
		diag_remedy(c, "ike policy %s", x->ike->name);
		diag_remedy(c, "nat-traversal");
		diag_remedy(c, "%s", TR("! and the same in the IKE policy of the peer"));
		return;
	}
	if (!x->ike->natt && !(st && st->nat_known) && !x->sas_up && !local_global) {
		/* nothing measured: without NAT-T no NAT-D is exchanged */
		diag_local_addr_text(x, la, sizeof(la));
		c = diag_add(x, DIAG_NG, "A7.1",
			     TR("nat-traversal is not set in ike policy %s: NAT cannot be "
				"measured"),
			     x->ike->name);
		diag_cause(c,
			   TR("this site has a private or shared address contract (local %s): if "
			      "a carrier-grade NAT is between the sites, IKE and ESP need "
			      "NAT-Traversal on both ends"),
			   la);
		diag_evidence(c, "%s",
			      TR("no NAT-D exchanged (nat-traversal not set); the tunnel is down"));
		diag_remedy(c, "ike policy %s", x->ike->name);
		diag_remedy(c, "nat-traversal");
		diag_remedy(c, "%s", TR("! and the same in the IKE policy of the peer"));
		return;
	}
	if (diag_failed(x, DIAG_FAIL_NATT)) {
		c = diag_add(x, DIAG_NG, "A7.1", TR("NAT-Traversal does not match the peer"));
		diag_cause(c,
			   TR("nat-traversal must be set in the IKE policy of the initiator and of "
			      "the responder"));
		diag_evidence(c, "%s", diag_detail(x));
		diag_remedy(c, "%s", TR("! on both ends: ike policy <policy> / nat-traversal"));
		return;
	}
	if (behind && st && st->ike_up && !st->ike_natt_floated) {
		c = diag_add(x, DIAG_NG, "A7.1",
			     TR("NAT-Traversal not agreed: the IKE SA stays on UDP "
				"500 behind NAT"));
		diag_cause(
			c,
			TR("this site is behind NAT and announces NAT-Traversal, but the peer "
			   "did not take it: nat-traversal is missing in the peer's IKE policy"));
		diag_evidence(c, "%s", TR("NAT-D: this site's address is translated by a NAT"));
		diag_remedy(c, "%s", TR("! on the peer: ike policy <policy> / nat-traversal"));
		return;
	}
	if ((f = diag_cross_find(x, "A7"))) {
		diag_add_cross(x, f);
		return;
	}
	if (behind || peer_behind) {
		c = diag_add(x, DIAG_OK, "A7", TR("NAT between the sites, nat-traversal set%s"),
			     st && st->ike_up && st->ike_natt_floated ? TR(" (IKE on UDP 4500)")
								      : "");
		diag_evidence(c, "%s",
			      behind ? TR("NAT-D: this site's address is translated by a NAT")
				     : TR("NAT-D: the peer's address is translated by a NAT"));
	} else if (st && st->nat_known) {
		diag_add(x, DIAG_OK, "A7", TR("no NAT between the sites (NAT-D)"));
	} else if (x->sas_up) {
		diag_add(x, DIAG_OK, "A7",
			 TR("the SAs are up; NAT not measured (no NAT-D: nat-traversal is not "
			    "set)"));
	} else if (!x->ike->natt) {
		diag_add(x, DIAG_NA, "A7",
			 TR("not judgeable: nat-traversal is not set, so IKE cannot measure NAT"));
	} else {
		diag_add(x, DIAG_NA, "A7",
			 TR("not judgeable yet: NAT is measured in phase 1 (NAT-D); nat-traversal "
			    "is set"));
	}
}

/* ---- A8: SAs up but no traffic ---- */

static bool prefix_overlap(const struct kz_prefix *a, const struct kz_prefix *b)
{
	unsigned len = a->len < b->len ? a->len : b->len;
	uint32_t mask = len ? htonl(~0u << (32 - len)) : 0;

	return (a->addr.s_addr & mask) == (b->addr.s_addr & mask);
}

void diag_check_a8(struct diag_ctx *x)
{
	const struct diag_profile_state *st = x->st;
	struct kz_prefix remote = st ? st->remote_ts : (struct kz_prefix){ 0 };
	char r[32], l[32];
	struct diag_check *c;
	bool routed = false;
	int64_t since;

	if (!x->sas_up) {
		diag_add(x, DIAG_NA, "A8", TR("not judged: judged only while the SAs are up"));
		return;
	}
	if (!remote.set && x->ipol)
		remote = x->ipol->remote_ts;
	kz_prefix_str(&remote, r, sizeof(r));
	kz_prefix_str(&st->local_ts, l, sizeof(l));
	if (!x->s->routes_known) {
		c = diag_add(x, DIAG_NA, "A8",
			     TR("not judgeable: the kernel's routes could not be "
				"read"));
		diag_remedy(c, "show ip route");
		return;
	}
	for (size_t i = 0; i < x->s->nroutes; i++)
		routed |= x->s->routes[i].unit == st->unit &&
			prefix_overlap(&x->s->routes[i].dest, &remote);
	if (!routed) {
		c = diag_add(x, DIAG_NG, "A8.1", TR("no route to %s through IPsec%u"), r, st->unit);
		diag_cause(c, TR("traffic for the remote network does not enter the tunnel"));
		diag_evidence(c, TR("the kernel's routing table has no route to %s via IPsec%u"), r,
			      st->unit);
		diag_remedy(c, "ip route %s IPsec%u", r, st->unit);
		return;
	}
	if (st->outside_known && st->outside_drops) {
		c = diag_add(x, DIAG_NG, "A8.2",
			     TR("%llu outbound packet(s) dropped outside the "
				"negotiated selectors (local %s, remote %s)"),
			     (unsigned long long)st->outside_drops, l, r);
		diag_cause(c,
			   TR("packets routed into IPsec%u fall outside the IPsec policy ids, so "
			      "they are not sent"),
			   st->unit);
		diag_remedy(c, "%s",
			    TR("! make the IPsec policy ids cover the traffic, on both ends:"));
		if (x->ipol) {
			diag_remedy(c, "ipsec policy %s", x->ipol->name);
			diag_remedy(c, "local-id <A.B.C.D/M>");
			diag_remedy(c, "remote-id <A.B.C.D/M>");
		}
		return;
	}
	since = st->in_last > st->ipsec_up_since ? st->in_last : st->ipsec_up_since;
	if (st->out_packets && st->out_last && since && st->out_last - since >= DIAG_SILENT_S &&
	    (!st->in_packets || st->in_last < st->out_last)) {
		char t1[16], t2[16];

		diag_clock_str(st->out_last, t1, sizeof(t1));
		diag_clock_str(st->in_last ? st->in_last : st->ipsec_up_since, t2, sizeof(t2));
		c = diag_add(x, DIAG_NG, "A8.3",
			     TR("outbound packets flow but nothing comes back"));
		diag_cause(c,
			   TR("the far site's routing or LAN: its route to this site's network "
			      "through its IPsec interface"));
		diag_evidence(c, TR("%llu packet(s) out (last %s), %llu in (last %s)"),
			      (unsigned long long)st->out_packets, t1,
			      (unsigned long long)st->in_packets, st->in_packets ? t2 : "-");
		diag_remedy(c, TR("! on the peer: ip route %s IPsec<N>, and check its LAN"), l);
		return;
	}
	if (!st->out_packets && !st->in_packets)
		diag_add(x, DIAG_OK, "A8", TR("route to %s via IPsec%u; no traffic yet"), r,
			 st->unit);
	else
		diag_add(x, DIAG_OK, "A8", TR("traffic flows: %llu packet(s) out, %llu in"),
			 (unsigned long long)st->out_packets, (unsigned long long)st->in_packets);
}

/* ---- warnings ---- */

/* A weak-algorithm line of `kizuna check` ("ike proposal P: encryption
 * des-cbc is weak (...)"): as it is in English; in another language its
 * config words (before " is weak") with a translated verdict. */
static void weak_warn(struct diag_ctx *x, const char *text, bool en)
{
	const char *w = strstr(text, " is weak");
	const char *colon = strstr(text, ": ");

	if (en || !colon) {
		diag_warn(x, "%s", text);
		return;
	}
	if (w && w > colon)
		diag_warn(x, TR("%.*s: %.*s is weak"), (int)(colon - text), text,
			  (int)(w - colon - 2), colon + 2);
	else
		diag_warn(x, TR("%.*s: encryption null: traffic is not encrypted"),
			  (int)(colon - text), text);
}

void diag_warnings(struct diag_ctx *x)
{
	struct kz_findings fs;
	char st[128];

	bool en = !strcmp(diag_lang_code(x->L), "en");

	if (x->ike && x->aggr && x->ike->psk.set && !en) {
		/* the time estimate of check_lint.c is English prose */
		unsigned bits = kz_psk_bits(&x->ike->psk);

		/* a strong key is not worth a line, in any language */
		if (bits < 80)
			diag_warn(x,
				  TR("aggressive mode with a pre-shared key: about %u bits; use a "
				     "longer random key (80 bits or more)"),
				  bits);
	} else if (x->ike && x->aggr && x->ike->psk.set) {
		unsigned bits = kz_psk_bits(&x->ike->psk);

		kz_psk_strength_text(bits, st, sizeof(st));
		/* a strong key is not worth a line */
		if (bits < 80)
			diag_warn(
				x,
				TR("aggressive mode with a pre-shared key: %s; use a longer random "
				   "key (80 bits or more)"),
				st);
	}
	if (x->st && x->st->dpd_off_peer)
		diag_warn(x,
			  TR("DPD off: the peer did not announce DPD (RFC 3706), so a dead peer "
			     "is not noticed; the SAs stay until their lifetime ends (in %u s) or "
			     "the peer starts over with INITIAL-CONTACT; enable DPD on the peer "
			     "(Yamaha: ipsec ike keepalive use on dpd)"),
			  x->st->dpd_recovery_s);
	/* weak algorithms, as `kizuna check` words them */
	kz_findings_init(&fs);
	if (kz_check_profile_lint(x->s->cfg, x->p, &fs) == 0)
		for (size_t i = 0; i < fs.n; i++)
			if (fs.v[i].severity == KZ_SEV_WARN &&
			    (strstr(fs.v[i].text, " is weak") ||
			     strstr(fs.v[i].text, "encryption null")))
				weak_warn(x, fs.v[i].text, en);
	kz_findings_free(&fs);
}
