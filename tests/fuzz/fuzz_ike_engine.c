/* fuzz_ike_engine.c - the IKE engine behind the parser: two engines (A the
 * initiator at 198.51.100.2, B the responder at 203.0.113.2) with fixed
 * keys, seeded randomness and an injected clock, wired by a queue of
 * datagrams that the input drives.
 *
 * The first byte picks the setup: Main or Aggressive mode, NAT-T, DPD,
 * PFS, and whether Diffie-Hellman is deferred (a fake pool whose jobs
 * finish only when the input says, so the suspended paths run).  Then
 * each byte is an operation:
 *   0 deliver the next datagram      1 deliver it with one byte changed
 *   2 drop it                        3 time passes (n x 250 ms), timers run
 *   4 raw bytes to B from A          5 raw bytes to A from B
 *   6 a DH job finishes              7 the next datagram twice
 *   8 a console action: clear ike sa, clear ipsec sa, a changed config
 *     (renegotiate), ESP for an unknown SPI, initiate
 *   9 deliver it truncated
 * Lifetimes are short (phase 1 180 s, phase 2 60 s) and DPD is 10 s, so
 * rekeys, Deletes, DPD and expiry happen within an input.  Nothing of the
 * engine is stubbed: real OpenSSL crypto and DH. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/cfg_chain.h"
#include "ike/dh_pool.h"
#include "ike/ike.h"
#include "lib/err.h"
#include "lib/log.h"

#define QMAX 64
#define DHMAX 32
#define OPS_MAX 3000

struct dgram {
	struct sockaddr_in src, dst;
	size_t len;
	uint8_t data[2048];
};

struct fnode {
	struct ike_engine *e;
	struct kz_config *cfg;
	struct in_addr addr;
	uint64_t rng;
};

static struct {
	struct fnode a, b;
	struct dgram q[QMAX];
	unsigned nq;
	uint64_t now;
	bool dh_deferred;
	struct {
		struct fnode *n;
		struct ike_dh_job *j;
	} dh[DHMAX];
	unsigned ndh;
} F;

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int io_send(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		   const void *data, size_t len, bool marker)
{
	struct dgram *d;

	(void)arg;
	(void)marker;
	if (F.nq >= QMAX || len > sizeof(d->data))
		return 0;
	d = &F.q[F.nq++];
	d->src = *local;
	d->dst = *peer;
	d->len = len;
	memcpy(d->data, data, len);
	return 0;
}

static uint64_t io_now(void *arg)
{
	(void)arg;
	return F.now;
}

static int64_t io_wall(void *arg)
{
	(void)arg;
	return 1700000000 + (int64_t)(F.now / 1000);
}

static int io_random(void *arg, void *buf, size_t len)
{
	struct fnode *n = arg;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(xs(&n->rng) >> 24);
	return 0;
}

static void io_child_up(void *arg, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	(void)arg;
	(void)in;
	(void)out;
}

static void io_child_down(void *arg, uint32_t spi_in, uint32_t spi_out)
{
	(void)arg;
	(void)spi_in;
	(void)spi_out;
}

static struct in_addr io_local(void *arg)
{
	return ((struct fnode *)arg)->addr;
}

static int io_dh_submit(void *arg, struct ike_dh_job *j)
{
	if (F.ndh >= DHMAX)
		return KZ_EBUSY;
	F.dh[F.ndh].n = arg;
	F.dh[F.ndh++].j = j;
	return 0;
}

static void io_dh_cancel(void *arg, uint64_t id)
{
	for (unsigned i = 0; i < F.ndh; i++) {
		if (F.dh[i].n != arg || F.dh[i].j->id != id)
			continue;
		ike_dh_job_free(F.dh[i].j);
		memmove(&F.dh[i], &F.dh[i + 1], (F.ndh - i - 1) * sizeof(F.dh[0]));
		F.ndh--;
		return;
	}
}

static struct kz_config *make(bool initiator, uint8_t setup, unsigned variant)
{
	struct kz_config *c = kz_config_new();
	struct cfg_chain k;

	if (!c || !cfg_chain_add(c, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", "HQ", 0)) {
		kz_config_free(c);
		return NULL;
	}
	k.ikp->enc = KZ_ENC_AES_CBC_128;
	k.ikp->group = KZ_GROUP_MODP2048;
	k.ikp->lifetime = 180 + variant;
	k.pol->mode = setup & 1 ? KZ_MODE_AGGRESSIVE : KZ_MODE_MAIN;
	cfg_chain_psk(k.pol, "fuzzing key, fixed");
	if (k.pol->mode == KZ_MODE_AGGRESSIVE) {
		struct kz_ident *id = initiator ? &k.pol->local_id : &k.pol->remote_id;

		id->type = KZ_ID_KEY_ID;
		strcpy(id->value, "site-a");
	}
	k.pol->natt = setup & 2;
	k.pol->dpd = setup & 4;
	k.pol->dpd_interval = 10;
	k.pol->dpd_retry = 2;
	k.ep->lifetime_time = 60;
	k.ipol->local_ts.set = k.ipol->remote_ts.set = true;
	k.ipol->local_ts.len = k.ipol->remote_ts.len = 24;
	inet_pton(AF_INET, initiator ? "192.168.1.0" : "192.168.2.0", &k.ipol->local_ts.addr);
	inet_pton(AF_INET, initiator ? "192.168.2.0" : "192.168.1.0", &k.ipol->remote_ts.addr);
	k.ipol->pfs = setup & 8 ? KZ_GROUP_MODP2048 : KZ_GROUP_NONE;
	if (initiator) {
		k.pr->peer_type = KZ_PEER_ADDR;
		inet_pton(AF_INET, "203.0.113.2", &k.pr->peer_addr);
		k.pr->initiate = KZ_INITIATE_AUTO;
	} else {
		k.pr->peer_type = k.pol->mode == KZ_MODE_MAIN ? KZ_PEER_ADDR : KZ_PEER_ANY;
		inet_pton(AF_INET, "198.51.100.2", &k.pr->peer_addr);
		k.pr->initiate = KZ_INITIATE_ON_DEMAND;
	}
	return c;
}

static bool node_init(struct fnode *n, const char *addr, uint64_t seed)
{
	struct ike_io io = {
		.arg = n,
		.send = io_send,
		.now_ms = io_now,
		.wall = io_wall,
		.random = io_random,
		.child_up = io_child_up,
		.child_down = io_child_down,
		.local_addr = io_local,
		.dh_submit = F.dh_deferred ? io_dh_submit : NULL,
		.dh_cancel = F.dh_deferred ? io_dh_cancel : NULL,
	};

	memset(n, 0, sizeof(*n));
	inet_pton(AF_INET, addr, &n->addr);
	n->rng = seed;
	n->e = ike_engine_new(&io);
	return n->e != NULL;
}

static struct fnode *node_at(struct in_addr a)
{
	if (a.s_addr == F.a.addr.s_addr)
		return &F.a;
	if (a.s_addr == F.b.addr.s_addr)
		return &F.b;
	return NULL;
}

static void to(struct fnode *n, const struct sockaddr_in *src, const struct sockaddr_in *dst,
	       const uint8_t *p, size_t len)
{
	ike_input(n->e, dst, src, p, len, ntohs(dst->sin_port) == 4500);
}

/* The head of the queue, taken off; false when empty. */
static bool take(struct dgram *d)
{
	if (!F.nq)
		return false;
	*d = F.q[0];
	memmove(&F.q[0], &F.q[1], (F.nq - 1) * sizeof(F.q[0]));
	F.nq--;
	return true;
}

static void deliver(const struct dgram *d)
{
	struct fnode *n = node_at(d->dst.sin_addr);

	if (n)
		to(n, &d->src, &d->dst, d->data, d->len);
}

static void raw(struct fnode *n, const struct fnode *from, const uint8_t *p, size_t len, bool natt)
{
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };

	s.sin_addr = from->addr;
	d.sin_addr = n->addr;
	s.sin_port = d.sin_port = htons(natt ? 4500 : 500);
	to(n, &s, &d, p, len);
}

static void timers(void)
{
	(void)ike_run_timers(F.a.e);
	(void)ike_run_timers(F.b.e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	size_t i = 1;
	unsigned ops = 0, variant = 0;
	struct dgram d;
	uint8_t setup;

	if (!quiet) {
		/* KZ_FUZZ_LOG=1: the engine's log, to see what a seed reaches */
		if (!getenv("KZ_FUZZ_LOG"))
			kz_log_set_level(KZ_LOG_ERR);
		quiet = true;
	}
	if (size < 1)
		return 0;
	setup = data[0];
	memset(&F, 0, sizeof(F));
	F.now = 1000000;
	F.dh_deferred = setup & 16;
	if (!node_init(&F.a, "198.51.100.2", 0x1234567) ||
	    !node_init(&F.b, "203.0.113.2", 0x89abcdef))
		goto out;
	F.a.cfg = make(true, setup, 0);
	F.b.cfg = make(false, setup, 0);
	if (!F.a.cfg || !F.b.cfg)
		goto out;
	ike_engine_set_config(F.b.e, F.b.cfg);
	ike_engine_set_config(F.a.e, F.a.cfg);
	while (i < size && ops++ < OPS_MAX) {
		uint8_t op = data[i++] % 10, arg = i < size ? data[i] : 0;

		switch (op) {
		case 0:
			if (take(&d))
				deliver(&d);
			break;
		case 1:
			if (i + 2 < size && take(&d) && d.len) {
				d.data[((size_t)data[i] << 8 | data[i + 1]) % d.len] ^= data[i + 2];
				i += 3;
				deliver(&d);
			}
			break;
		case 2:
			(void)take(&d);
			break;
		case 3:
			i++;
			F.now += 250u * (arg + 1u);
			timers();
			break;
		case 4:
		case 5: {
			size_t n = arg;

			i++;
			if (n > size - i)
				n = size - i;
			if (op == 4)
				raw(&F.b, &F.a, data + i, n, n & 1);
			else
				raw(&F.a, &F.b, data + i, n, n & 1);
			i += n;
			break;
		}
		case 6:
			if (F.ndh) {
				unsigned k = arg % F.ndh;
				struct fnode *n = F.dh[k].n;
				struct ike_dh_job *j = F.dh[k].j;

				i++;
				memmove(&F.dh[k], &F.dh[k + 1], (F.ndh - k - 1) * sizeof(F.dh[0]));
				F.ndh--;
				(void)ike_dh_job_run(j);
				ike_dh_done(n->e, j);
			}
			break;
		case 7:
			if (F.nq && F.nq < QMAX)
				F.q[F.nq++] = F.q[0];
			break;
		case 8: {
			struct sockaddr_in l = { .sin_family = AF_INET },
					   p = { .sin_family = AF_INET };
			struct fnode *n = arg & 8 ? &F.b : &F.a;
			struct kz_config *c;

			i++;
			switch (arg % 5) {
			case 0:
				(void)ike_clear_ike(n->e, NULL);
				break;
			case 1:
				(void)ike_clear_ipsec(n->e);
				break;
			case 2:
				c = make(n == &F.a, setup, ++variant);
				if (c) {
					ike_engine_set_config(n->e, c);
					kz_config_free(n->cfg);
					n->cfg = c;
				}
				break;
			case 3:
				l.sin_addr = n->addr;
				p.sin_addr = (n == &F.a ? &F.b : &F.a)->addr;
				ike_esp_no_sa(n->e, &l, &p, 0x1000u + arg);
				break;
			default:
				(void)ike_initiate(n->e, "HQ");
			}
			break;
		}
		case 9:
			if (take(&d)) {
				d.len = d.len < arg ? d.len : arg;
				i++;
				deliver(&d);
			}
			break;
		}
	}
out:
	if (F.a.e)
		ike_engine_free(F.a.e);
	if (F.b.e)
		ike_engine_free(F.b.e);
	for (unsigned k = 0; k < F.ndh; k++)
		ike_dh_job_free(F.dh[k].j);
	kz_config_free(F.a.cfg);
	kz_config_free(F.b.cfg);
	return 0;
}
