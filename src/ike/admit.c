/* admit.c - who may open a half-open responder SA, and how often a source
 * may fill the log with failures.
 *
 * A first message (MM1, AM1) that a profile accepts costs a DH and a slot
 * in the half-open table (IKE_HALF_OPEN_MAX) until the exchange completes
 * or IKE_HALF_OPEN_MS pass.  Sources are spoofable, so the table is
 * shared out by source address:
 *
 *  - one source holds at most IKE_HALF_OPEN_PER_SRC half-open SAs (a known
 *    source IKE_HALF_OPEN_PER_KNOWN);
 *  - the last IKE_HALF_OPEN_RESERVE slots are kept for known sources: the
 *    address of a `peer A.B.C.D` profile, of an IKE SA we hold, or one a
 *    phase 1 completed with lately (IKE_KNOWN_RECENT kept);
 *  - when a newcomer finds no free slot, the oldest half-open SA of the
 *    source holding the most (at least two more than the newcomer, never
 *    a known source's) is given up for it.  A site sending one AM1 at a
 *    time therefore gets in however many others flood, as long as they
 *    are fewer than the table's size: with 200 spoofed sources each holds
 *    about two slots and every newcomer takes the place of one.
 *
 * An AM1 whose ID no profile expects never gets this far: nothing of it is
 * kept (ikev1_aggr.c).  Failure lines are limited per source address:
 * IKE_LOG_SRC_LINES per IKE_LOG_SRC_MS from one source, IKE_LOG_BURST in
 * that time in all; the rest go to debug, counted in the next line that is
 * written. */
#include <arpa/inet.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/log.h"

static unsigned slot_of(uint32_t addr)
{
	uint32_t h = addr * 2654435761u;

	return h >> (32 - 10); /* IKE_SRC_SLOTS == 1024 */
}

_Static_assert(IKE_SRC_SLOTS == 1024, "slot_of takes 10 bits");
_Static_assert(IKE_SRC_SLOTS >= 2 * IKE_HALF_OPEN_MAX, "the table is at most half full");

static struct ike_src *src_find(struct ike_engine *e, uint32_t addr)
{
	for (unsigned i = slot_of(addr), k = 0; k < IKE_SRC_SLOTS;
	     i = (i + 1) % IKE_SRC_SLOTS, k++) {
		struct ike_src *s = &e->src[i];

		if (!s->n || s->addr == addr)
			return s;
	}
	return NULL; /* cannot happen: at most half full */
}

static unsigned src_count(struct ike_engine *e, uint32_t addr)
{
	struct ike_src *s = src_find(e, addr);

	return s && s->n && s->addr == addr ? s->n : 0;
}

/* Linear probing; a deletion moves later entries of the run back
 * (Knuth 6.4, algorithm R), so a lookup stops at the first empty slot. */
static void src_del(struct ike_engine *e, uint32_t addr)
{
	struct ike_src *s = src_find(e, addr);
	unsigned i, j;

	if (!s || !s->n || s->addr != addr)
		return;
	if (--s->n)
		return;
	i = (unsigned)(s - e->src);
	for (j = (i + 1) % IKE_SRC_SLOTS; e->src[j].n; j = (j + 1) % IKE_SRC_SLOTS) {
		unsigned home = slot_of(e->src[j].addr);

		/* the entry at j may move to i when i lies on its probe
		 * path: cyclically in [home, j) */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			e->src[i] = e->src[j];
			e->src[j].n = 0;
			i = j;
		}
	}
}

static void src_add(struct ike_engine *e, uint32_t addr)
{
	struct ike_src *s = src_find(e, addr);

	if (!s)
		return;
	s->addr = addr;
	s->n++;
}

void eng_half_open_add(struct ike_engine *e, struct ike_sa *sa)
{
	if (sa->half_open)
		return;
	sa->half_open = true;
	sa->half_open_src = sa->peer.sin_addr.s_addr;
	e->half_open++;
	src_add(e, sa->half_open_src);
}

void eng_half_open_drop(struct ike_engine *e, struct ike_sa *sa)
{
	if (!sa->half_open)
		return;
	sa->half_open = false;
	if (e->half_open)
		e->half_open--;
	src_del(e, sa->half_open_src);
}

unsigned eng_half_open_of(struct ike_engine *e, struct in_addr a)
{
	return src_count(e, a.s_addr);
}

void eng_known_peer(struct ike_engine *e, struct in_addr a)
{
	for (unsigned i = 0; i < IKE_KNOWN_RECENT; i++)
		if (e->known[i].s_addr == a.s_addr)
			return;
	e->known[e->known_next] = a;
	e->known_next = (e->known_next + 1) % IKE_KNOWN_RECENT;
}

static bool known_source(struct ike_engine *e, struct in_addr a)
{
	if (!a.s_addr)
		return false;
	for (unsigned i = 0; i < IKE_KNOWN_RECENT; i++)
		if (e->known[i].s_addr == a.s_addr)
			return true;
	for (size_t i = 0; e->cfg && i < e->cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &e->cfg->profiles.v[i];

		if (p->peer_type == KZ_PEER_ADDR && p->peer_addr.s_addr == a.s_addr)
			return true;
	}
	for (const struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && sa->state == IKE_ST_ESTABLISHED &&
		    sa->peer.sin_addr.s_addr == a.s_addr)
			return true;
	return false;
}

/* The oldest half-open SA of the unknown source holding the most, if it
 * holds at least `more_than` + 2. */
static struct ike_sa *victim(struct ike_engine *e, unsigned more_than)
{
	struct ike_sa *v = NULL;
	uint32_t addr = 0;
	unsigned most = more_than + 1;
	struct in_addr a;

	for (unsigned i = 0; i < IKE_SRC_SLOTS; i++) {
		if (e->src[i].n <= most)
			continue;
		a.s_addr = e->src[i].addr;
		if (known_source(e, a))
			continue;
		most = e->src[i].n;
		addr = e->src[i].addr;
	}
	if (!addr)
		return NULL;
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (sa->half_open && !sa->dying && sa->half_open_src == addr &&
		    (!v || sa->created_ms < v->created_ms))
			v = sa;
	return v;
}

bool eng_admit_first(struct ike_engine *e, struct in_addr src)
{
	bool known = known_source(e, src);
	unsigned mine = src_count(e, src.s_addr);
	unsigned room = known ? IKE_HALF_OPEN_MAX : IKE_HALF_OPEN_MAX - IKE_HALF_OPEN_RESERVE;
	struct ike_sa *v;
	char a[INET_ADDRSTRLEN];

	if (mine >= (known ? IKE_HALF_OPEN_PER_KNOWN : IKE_HALF_OPEN_PER_SRC)) {
		e->ctr.drop_half_open_limit++;
		return false;
	}
	if (e->half_open < room)
		return true;
	v = victim(e, mine);
	if (!v) {
		e->ctr.drop_half_open_limit++;
		return false;
	}
	/* the given-up exchange counts as the one dropped */
	e->ctr.drop_half_open_limit++;
	inet_ntop(AF_INET, &v->peer.sin_addr, a, sizeof(a));
	log_debug("ike: half-open table full: the oldest half-open SA of %s (%u held) given up", a,
		  eng_half_open_of(e, v->peer.sin_addr));
	eng_half_open_drop(e, v);
	v->dying = true;
	return true;
}

/* ---- failure lines per source ---- */

bool eng_log_source_allowed(struct ike_engine *e, struct in_addr src, unsigned *suppressed)
{
	uint64_t now = eng_now(e);
	struct ike_log_src *l = NULL, *old = &e->logsrc[0];

	*suppressed = 0;
	if (now - e->log_window_ms >= IKE_LOG_SRC_MS) {
		e->log_window_ms = now;
		e->log_in_window = 0;
	}
	for (unsigned i = 0; i < IKE_LOG_SOURCES; i++) {
		if (e->logsrc[i].used && e->logsrc[i].addr == src.s_addr) {
			l = &e->logsrc[i];
			break;
		}
		if (!e->logsrc[i].used || e->logsrc[i].last_ms < old->last_ms)
			old = &e->logsrc[i];
	}
	if (!l) {
		l = old;
		memset(l, 0, sizeof(*l));
		l->used = true;
		l->addr = src.s_addr;
		l->window_ms = now;
	}
	l->last_ms = now;
	if (now - l->window_ms >= IKE_LOG_SRC_MS) {
		l->window_ms = now;
		l->lines = 0;
	}
	if (l->lines >= IKE_LOG_SRC_LINES || e->log_in_window >= IKE_LOG_BURST) {
		e->log_suppressed++;
		return false;
	}
	l->lines++;
	e->log_in_window++;
	*suppressed = e->log_suppressed;
	e->log_suppressed = 0;
	return true;
}

bool eng_fail_line_allowed(struct ike_engine *e)
{
	unsigned n;

	if (!e->fail_src.s_addr)
		return true;
	if (!e->fail_decided) {
		e->fail_decided = true;
		e->fail_ok = eng_log_source_allowed(e, e->fail_src, &n);
		if (e->fail_ok && n)
			log_warn("ike: %u failure lines held back (at most %u per source and %u "
				 "in all every %u s)",
				 n, IKE_LOG_SRC_LINES, IKE_LOG_BURST, IKE_LOG_SRC_MS / 1000);
	}
	return e->fail_ok;
}
