/* ike_world.c - the fake IKE world the engine tests share: two engines (A
 * at 198.51.100.2, B at 203.0.113.2) wired by a queue of datagrams that
 * can drop, duplicate, reorder, truncate and NAT-rewrite, with seeded
 * randomness, an injected clock, a fake data plane that records every
 * IPsec SA pair and its counters, and a fake Diffie-Hellman pool whose
 * results come late and out of order.  Or a timed network, run event by
 * event, with its own delay per datagram and seeded loss, and data planes
 * that send on the pair they would use (world_run). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_chain.h"
#include "ike_world.h"
#include "ike/dh_pool.h"
#include "ike/isakmp.h"
#include "lib/err.h"

struct world W;

uint64_t iw_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void iw_trace(const struct node *n, const char *fmt, ...)
{
	va_list ap;

	if (!W.trace)
		return;
	fprintf(stderr, "+%llu %s: ", (unsigned long long)(W.now - IW_T0), n ? n->name : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *exch_name(const uint8_t *d, size_t len)
{
	if (len < 20)
		return "?";
	switch (d[18]) {
	case ISAKMP_XCHG_IDPROT:
		return "MM";
	case ISAKMP_XCHG_AGGR:
		return "AM";
	case ISAKMP_XCHG_QUICK:
		return "QM";
	case ISAKMP_XCHG_INFO:
		return "INFO";
	default:
		return "?";
	}
}

struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct node *node_of(void *arg)
{
	return arg;
}

static int io_send(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		   const void *data, size_t len, bool marker)
{
	struct node *n = node_of(arg);
	struct pkt *p;

	assert_true(len <= sizeof(p->data));
	/* port 4500 carries the non-ESP marker, port 500 never */
	assert_int_equal(marker, ntohs(local->sin_port) == 4500);
	n->sent++;
	if (len > 18 && ((const uint8_t *)data)[18] == ISAKMP_XCHG_INFO)
		n->info_sent++;
	if (getenv("KZ_TDEBUG"))
		fprintf(stderr, "send %s at %llu\n", n->name,
			(unsigned long long)(W.now - 1000000));
	if (n == &W.a && len > 18 && ((const uint8_t *)data)[18] == ISAKMP_XCHG_QUICK)
		W.a_children_at_qm = n->nchild;
	if (n == &W.a && W.drop_qm_to_b > 0 && len > 18 &&
	    ((const uint8_t *)data)[18] == ISAKMP_XCHG_QUICK) {
		W.drop_qm_to_b--;
		return 0;
	}
	if (n == &W.a && W.fail_sends_a > 0) {
		W.fail_sends_a--;
		return KZ_ESYS;
	}
	if (n == &W.a && W.first_a_len == 0) {
		memcpy(W.first_a, data, len);
		W.first_a_len = len;
	}
	/* the timed network's seeded loss */
	if (W.now < W.loss_until && W.drops < W.max_drops &&
	    iw_xorshift(&W.net_rng) % 1000u < W.loss_pm) {
		W.drops++;
		iw_trace(n, "sends %s %02x%02x.. (lost)", exch_name(data, len),
			 ((const uint8_t *)data)[0], ((const uint8_t *)data)[1]);
		return 0;
	}
	if (W.lat_max) /* the timed network loses nothing else */
		assert_true(W.nq < MAXPKT);
	if (W.nq >= MAXPKT || W.drop_all)
		return 0;
	p = &W.q[W.nq++];
	p->src = *local;
	p->dst = *peer;
	memcpy(p->data, data, len);
	p->len = len;
	p->at = W.now;
	if (W.lat_max)
		p->at += W.lat_min + iw_xorshift(&W.net_rng) % (W.lat_max - W.lat_min + 1);
	p->seq = W.seq++;
	iw_trace(n, "sends %s %02x%02x.. #%llu, arrives +%llu", exch_name(data, len), p->data[0],
		 p->data[1], (unsigned long long)p->seq, (unsigned long long)(p->at - IW_T0));
	if (n == &W.a && W.nat_a) {
		p->src.sin_addr = ip(NAT_PUB);
		p->src.sin_port = htons(ntohs(local->sin_port) + 10000);
	}
	return 0;
}

static uint64_t io_now(void *arg)
{
	return W.now;
}

static int64_t io_wall(void *arg)
{
	return 1700000000 + (int64_t)(W.now / 1000);
}

static int io_random(void *arg, void *buf, size_t len)
{
	struct node *n = node_of(arg);
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(iw_xorshift(&n->rng) >> 24);
	return 0;
}

static void io_child_up(void *arg, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct node *n = node_of(arg);

	assert_true(n->nchild < MAXCHILD);
	n->in[n->nchild] = *in;
	n->out[n->nchild] = *out;
	n->up[n->nchild] = true;
	n->rx[n->nchild] = 0;
	n->nchild++;
}

static void io_child_down(void *arg, uint32_t spi_in, uint32_t spi_out)
{
	struct node *n = node_of(arg);

	for (int i = 0; i < n->nchild; i++)
		if (n->up[i] && n->in[i].spi == spi_in && n->out[i].spi == spi_out) {
			n->up[i] = false;
			n->ndown++;
			n->down_at = W.now;
			n->last_down_in = spi_in;
			return;
		}
	fail_msg("child_down for a pair that is not up (0x%08x)", spi_in);
}

/* With W.rate: A sends on its newest pair from when its hold ends, so pair
 * k of A carried rate bytes per ms from its start to the next one's; B's
 * inbound SA of that pair (the same SPI) counts the same. */
static bool rate_stats(void *arg, uint32_t spi, enum kz_child_dir dir, struct kz_child_stats *st)
{
	const struct node *n = node_of(arg);

	if (!W.rate || (n == &W.a) != (dir == KZ_CHILD_OUT))
		return false;
	for (int k = 0; k < W.a.nchild; k++) {
		const struct kz_child_sa *o = &W.a.out[k];
		uint64_t from = o->out_after_ms > o->created_ms ? o->out_after_ms : o->created_ms;
		uint64_t to = W.now;

		if (o->spi != spi)
			continue;
		if (k + 1 < W.a.nchild) {
			const struct kz_child_sa *nx = &W.a.out[k + 1];

			to = nx->out_after_ms > nx->created_ms ? nx->out_after_ms : nx->created_ms;
		}
		st->packets = 1;
		st->bytes = to > from ? (to < W.now ? to : W.now) - from : 0;
		st->bytes *= W.rate;
		return true;
	}
	return false;
}

void io_child_stats(void *arg, uint32_t spi, enum kz_child_dir dir, struct kz_child_stats *st)
{
	const struct node *n = node_of(arg);

	if (W.flags & IW_RX_STATS) {
		for (int i = 0; dir == KZ_CHILD_IN && i < n->nchild; i++)
			if (n->up[i] && n->in[i].spi == spi)
				st->packets = n->rx[i];
		return;
	}
	if (rate_stats(arg, spi, dir, st))
		return;
	if (dir == KZ_CHILD_OUT) {
		st->packets = 12;
		st->bytes = 1680 + (spi == W.bytes_spi ? W.extra_bytes : 0);
		st->last_unix = 1700000100;
	} else if (W.in_traffic) {
		st->packets = 1 + W.in_count;
	}
}

static struct in_addr io_local(void *arg)
{
	return node_of(arg)->addr;
}

/* The fake Diffie-Hellman pool (IW_DH_DEFERRED): jobs wait until no
 * datagram is queued and then finish newest first, so results come late,
 * out of order, after repeats, retransmissions and Deletes of their SA. */
struct dh_slot Dh[MAXDH];
int Ndh;
int Dh_cap = MAXDH;
bool Dh_nocancel;

static int io_dh_submit(void *arg, struct ike_dh_job *j)
{
	if (Ndh >= Dh_cap)
		return KZ_EBUSY;
	Dh[Ndh].n = node_of(arg);
	Dh[Ndh++].j = j;
	return 0;
}

static void io_dh_cancel(void *arg, uint64_t id)
{
	if (Dh_nocancel)
		return;
	for (int i = 0; i < Ndh; i++) {
		if (Dh[i].n != node_of(arg) || Dh[i].j->id != id)
			continue;
		ike_dh_job_free(Dh[i].j);
		memmove(&Dh[i], &Dh[i + 1], (size_t)(Ndh - i - 1) * sizeof(Dh[0]));
		Ndh--;
		return;
	}
}

bool dh_finish_one(void)
{
	struct ike_dh_job *j;
	struct node *n;

	if (!Ndh)
		return false;
	Ndh--;
	n = Dh[Ndh].n;
	j = Dh[Ndh].j;
	(void)ike_dh_job_run(j);
	ike_dh_done(n->e, j);
	return true;
}

void node_init(struct node *n, const char *name, const char *addr, uint64_t seed)
{
	struct ike_io io = {
		.arg = n,
		.send = io_send,
		.now_ms = io_now,
		.wall = io_wall,
		.random = io_random,
		.child_up = io_child_up,
		.child_down = io_child_down,
		.child_stats = W.flags & IW_NO_STATS ? NULL : io_child_stats,
		.local_addr = io_local,
		.dh_submit = W.flags & IW_DH_DEFERRED ? io_dh_submit : NULL,
		.dh_cancel = W.flags & IW_DH_DEFERRED ? io_dh_cancel : NULL,
	};

	memset(n, 0, sizeof(*n));
	n->name = name;
	n->addr = ip(addr);
	n->rng = seed;
	n->timer_at = UINT64_MAX;
	n->e = ike_engine_new(&io);
	assert_non_null(n->e);
}

struct node *node_at(struct in_addr a)
{
	if (a.s_addr == W.a.addr.s_addr)
		return &W.a;
	if (a.s_addr == W.b.addr.s_addr)
		return &W.b;
	return NULL;
}

void deliver(struct pkt *p)
{
	struct node *n;

	if (W.nat_a && p->dst.sin_addr.s_addr == ip(NAT_PUB).s_addr) {
		p->dst.sin_addr = W.a.addr;
		p->dst.sin_port = htons(ntohs(p->dst.sin_port) - 10000);
	}
	n = node_at(p->dst.sin_addr);
	if (!n || n->stopped)
		return;
	if (n == &W.b && W.drop_to_b)
		return;
	if (n == &W.a && W.drop_next_to_a > 0) {
		W.drop_next_to_a--;
		return;
	}
	if (n == &W.b && W.truncate_next_to_b) {
		W.truncate_next_to_b = 0;
		p->len = p->len / 2;
	}
	iw_trace(n, "gets #%llu", (unsigned long long)p->seq);
	ike_input(n->e, &p->dst, &p->src, p->data, p->len, ntohs(p->dst.sin_port) == 4500);
	if (W.dup)
		ike_input(n->e, &p->dst, &p->src, p->data, p->len, ntohs(p->dst.sin_port) == 4500);
	n->kick = true;
}

void pump(void)
{
	for (int guard = 0; guard < 1000; guard++) {
		struct pkt p;

		if (W.nq == 0 && dh_finish_one())
			continue;
		if (W.nq == 0)
			break;

		if (W.swap_am3_qm1 && W.nq >= 2 && W.q[0].data[18] == ISAKMP_XCHG_AGGR &&
		    (W.q[0].data[19] & ISAKMP_FLAG_ENC) && W.q[1].data[18] == ISAKMP_XCHG_QUICK) {
			struct pkt t = W.q[0];

			W.q[0] = W.q[1];
			W.q[1] = t;
			W.swap_am3_qm1 = false;
		}
		p = W.q[0];
		memmove(&W.q[0], &W.q[1], (size_t)(W.nq - 1) * sizeof(W.q[0]));
		W.nq--;
		deliver(&p);
	}
}

/* Advances the clock by ms in small steps, running both engines' timers. */
void advance(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 500) {
		W.now += 500;
		if (W.flowing)
			W.in_count++;
		ike_run_timers(W.a.e);
		ike_run_timers(W.b.e);
		pump();
	}
}

/* ---- the timed world ---- */

int sending_pair(const struct node *n)
{
	int held = -1;

	for (int i = n->nchild; i-- > 0;) {
		if (!n->up[i])
			continue;
		if (W.now >= n->out[i].out_after_ms)
			return i;
		if (held < 0)
			held = i;
	}
	return held;
}

/* Each side sends one packet on the pair it would use; the other side's
 * inbound SA of that SPI counts it, or it is lost. */
static void traffic_tick(void)
{
	struct node *ns[2] = { &W.a, &W.b };

	for (int k = 0; k < 2; k++) {
		int s = sending_pair(ns[k]);
		struct node *o = ns[1 - k];
		bool got = false;

		if (s < 0)
			continue;
		for (int i = 0; i < o->nchild && !got; i++)
			if (o->up[i] && o->in[i].spi == ns[k]->out[s].spi) {
				o->rx[i]++;
				got = true;
			}
		if (!got) {
			W.lost_ticks++;
			W.last_lost = W.now;
		}
	}
}

static void run_timers(struct node *n)
{
	int64_t ms;

	n->kick = false;
	iw_trace(n, "timers");
	ms = ike_run_timers(n->e);
	n->timer_at = ms < 0 ? UINT64_MAX : W.now + (uint64_t)ms;
}

uint64_t world_next_event(void)
{
	uint64_t t = W.a.timer_at < W.b.timer_at ? W.a.timer_at : W.b.timer_at;

	if (W.a.kick || W.b.kick)
		return W.now;
	for (int i = 0; i < W.nq; i++)
		if (W.q[i].at < t)
			t = W.q[i].at;
	if (W.traffic && W.next_tick < t)
		t = W.next_tick;
	return t;
}

/* The datagram due first (by time, then by sending order), or -1. */
static int due_pkt(void)
{
	int best = -1;

	for (int i = 0; i < W.nq; i++)
		if (W.q[i].at <= W.now &&
		    (best < 0 || W.q[i].at < W.q[best].at ||
		     (W.q[i].at == W.q[best].at && W.q[i].seq < W.q[best].seq)))
			best = i;
	return best;
}

void world_step(void)
{
	int i;

	while ((i = due_pkt()) >= 0) {
		struct pkt p = W.q[i];

		W.q[i] = W.q[--W.nq];
		deliver(&p);
	}
	if (W.a.kick || W.a.timer_at <= W.now)
		run_timers(&W.a);
	if (W.b.kick || W.b.timer_at <= W.now)
		run_timers(&W.b);
	if (W.traffic && W.next_tick <= W.now) {
		traffic_tick();
		W.next_tick = W.now + IW_TICK_MS;
	}
}

void world_run(uint64_t end)
{
	while (W.now < end) {
		uint64_t t = world_next_event();

		W.now = t < end ? t : end;
		world_step();
	}
}

/* ---- configs ---- */

struct kz_prefix pfx(const char *a, unsigned len)
{
	struct kz_prefix p = { .set = true, .len = (uint8_t)len };

	p.addr = ip(a);
	return p;
}

struct kz_config *make_cfg(const struct site *s)
{
	struct kz_config *c = kz_config_new();
	struct cfg_chain k;

	assert_non_null(c);
	assert_true(cfg_chain_add(c, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", "HQ", 0));
	k.ikp->enc = s->ike_enc;
	k.ikp->group = s->group;
	k.pol->mode = s->mode;
	cfg_chain_psk(k.pol, s->psk);
	if (s->local_id) {
		k.pol->local_id.type = KZ_ID_KEY_ID;
		strcpy(k.pol->local_id.value, s->local_id);
	}
	if (s->remote_id) {
		k.pol->remote_id.type = KZ_ID_KEY_ID;
		strcpy(k.pol->remote_id.value, s->remote_id);
	}
	k.pol->natt = s->natt;
	k.pol->dpd = s->dpd_interval != 0;
	k.pol->dpd_interval = s->dpd_interval;
	k.pol->dpd_retry = s->dpd_retry;
	if (s->ike_life)
		k.ikp->lifetime = s->ike_life;
	if (s->esp_life)
		k.ep->lifetime_time = s->esp_life;
	k.ep->lifetime_kbytes = s->esp_kbytes;
	k.ipol->local_ts = pfx(s->lnet, 24);
	k.ipol->remote_ts = pfx(s->rnet, 24);
	k.ipol->pfs = s->pfs;
	if (s->peer) {
		k.pr->peer_type = KZ_PEER_ADDR;
		k.pr->peer_addr = ip(s->peer);
	} else {
		k.pr->peer_type = KZ_PEER_ANY;
	}
	k.pr->initiate = s->initiate;
	if (s->retry_interval)
		k.pr->retry_interval = s->retry_interval;
	if (s->retry_max)
		k.pr->retry_max = s->retry_max;
	return c;
}

/* What both sites share: mode, key, proposals, their own and the other's
 * network. */
static struct site site_base(enum kz_exchange_mode mode, const char *lnet, const char *rnet)
{
	struct site s = {
		.mode = mode,
		.psk = "correct horse battery staple",
		.ike_enc = KZ_ENC_AES_CBC_256,
		.group = KZ_GROUP_ECP256,
		.pfs = KZ_GROUP_NONE,
		.lnet = lnet,
		.rnet = rnet,
	};
	return s;
}

struct site site_a(enum kz_exchange_mode mode)
{
	struct site s = site_base(mode, "192.168.1.0", "192.168.2.0");

	s.peer = "203.0.113.2";
	s.local_id = mode == KZ_MODE_AGGRESSIVE ? "site-a" : NULL;
	s.initiate = KZ_INITIATE_AUTO;
	return s;
}

struct site site_b(enum kz_exchange_mode mode)
{
	struct site s = site_base(mode, "192.168.2.0", "192.168.1.0");

	s.peer = mode == KZ_MODE_MAIN ? "198.51.100.2" : NULL;
	s.remote_id = mode == KZ_MODE_AGGRESSIVE ? "site-a" : NULL;
	s.initiate = KZ_INITIATE_ON_DEMAND;
	return s;
}

void start_cfg(const char *a_addr)
{
	ike_engine_set_config(W.b.e, W.b.cfg);
	W.a.addr = ip(a_addr);
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
}

void start(const struct site *a, const struct site *b, const char *a_addr)
{
	W.b.cfg = make_cfg(b);
	W.a.cfg = make_cfg(a);
	start_cfg(a_addr);
}

void world_setup(unsigned flags)
{
	memset(&W, 0, sizeof(W));
	W.flags = flags;
	node_init(&W.a, "a", "198.51.100.2", 0x1234567887654321ull);
	node_init(&W.b, "b", "203.0.113.2", 0x0fedcba987654321ull);
	W.now = IW_T0;
}

void world_teardown(void)
{
	ike_engine_free(W.a.e);
	ike_engine_free(W.b.e);
	/* freeing an engine cancels every job of its SAs */
	if (!Dh_nocancel)
		assert_int_equal(Ndh, 0);
	while (Ndh > 0)
		ike_dh_job_free(Dh[--Ndh].j);
	Dh_cap = MAXDH;
	Dh_nocancel = false;
	kz_config_free(W.a.cfg);
	kz_config_free(W.b.cfg);
}

int world_test_teardown(void **state)
{
	(void)state;
	world_teardown();
	return 0;
}

int iw_pairs_up(const struct node *n)
{
	int k = 0;

	for (int i = 0; i < n->nchild; i++)
		k += n->up[i];
	return k;
}

void assert_pair_matches(int i)
{
	const struct kz_child_sa *ai = &W.a.in[i], *ao = &W.a.out[i];
	const struct kz_child_sa *bi = &W.b.in[i], *bo = &W.b.out[i];

	assert_true(ai->spi >= 256 && bi->spi >= 256);
	assert_int_equal(ai->spi, bo->spi);
	assert_int_equal(ao->spi, bi->spi);
	assert_int_equal(ai->enc_key_len, bo->enc_key_len);
	assert_memory_equal(ai->enc_key, bo->enc_key, ai->enc_key_len);
	assert_memory_equal(ai->auth_key, bo->auth_key, ai->auth_key_len);
	assert_memory_equal(ao->enc_key, bi->enc_key, ao->enc_key_len);
	assert_memory_equal(ao->auth_key, bi->auth_key, ao->auth_key_len);
	/* the two directions must not share keys */
	assert_memory_not_equal(ai->enc_key, ao->enc_key, ai->enc_key_len);
	assert_int_equal(ai->enc_key_len, 32);
	assert_int_equal(ai->auth_key_len, 32);
	assert_int_equal(ai->dir, KZ_CHILD_IN);
	assert_int_equal(ao->dir, KZ_CHILD_OUT);
	assert_true(kz_prefix_equal(&ai->local_ts, &bi->remote_ts));
	assert_true(kz_prefix_equal(&ai->remote_ts, &bi->local_ts));
	assert_int_equal(ai->replay_window, 64);
	assert_int_equal(ai->life_seconds, bi->life_seconds);
	assert_int_equal(ai->udp_encap, bi->udp_encap);
}

const struct ike_profile_status *status(struct node *n)
{
	return ike_profile_status(n->e, "HQ");
}

/* What sb holds, kept in out (len bytes); sb is freed. */
static char *sb_keep(struct strbuf *sb, char *out, size_t len)
{
	snprintf(out, len, "%s", sb_str(sb));
	sb_free(sb);
	return out;
}

char *show_ike(struct node *n)
{
	struct strbuf sb;
	static char out[8192];

	sb_init(&sb);
	ike_show_ike_sa(n->e, false, &sb);
	return sb_keep(&sb, out, sizeof(out));
}

char *show_ipsec(struct node *n, bool json)
{
	struct strbuf sb;
	static char out[32768];

	sb_init(&sb);
	ike_show_ipsec_sa(n->e, json, &sb);
	return sb_keep(&sb, out, sizeof(out));
}

char *show_status(struct node *n)
{
	struct strbuf sb;
	static char out[4096];

	sb_init(&sb);
	ike_show_profile_status(n->e, "HQ", &sb);
	return sb_keep(&sb, out, sizeof(out));
}

char *show_detail(struct node *n, bool json)
{
	struct strbuf sb;
	static char out[8192];

	sb_init(&sb);
	ike_show_profile_detail(n->e, "HQ", json, &sb);
	return sb_keep(&sb, out, sizeof(out));
}

/* ---- tests ---- */
