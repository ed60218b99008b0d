/* ike_setup.c - IKE setup load generator: many kizuna IKEv1 initiator
 * engines (kz_ike) over real UDP sockets, against one responder (kizunad
 * or strongSwan's charon), counting completed Main mode + Quick Mode
 * exchanges (child_up callbacks) per second.
 *
 * Each in-flight slot has its own source address (several addresses on the
 * WAN interface), its own socket bound to that address and an ephemeral
 * port, and one engine.  When the slot's IPsec SA pair is up, the engine is
 * freed without sending a Delete and a fresh engine starts a new IKE SA, so
 * every setup is a full Main mode (new cookies, new DH) plus Quick Mode.
 * The initiator's INITIAL-CONTACT in MM5 makes the responder drop the SAs
 * it still holds for that address (RFC 2407 4.6.3.3), so the responder's
 * tables stay bounded by the number of addresses during a rate run.
 *
 * The generator only has to produce valid exchanges, so by default each
 * thread reuses one DH key pair per group for all its setups (the engine's
 * dh_keypair hook); that halves its DH work.  A gateway must never do
 * this; -F makes a fresh key pair per exchange, as a real peer would.
 *
 * Modes:
 *   rate (default)  K slots in flight for -t seconds; prints per-second
 *                   progress on stderr and one summary line on stdout.
 *   hold (-H)       every slot sets up one tunnel and keeps it; exits when
 *                   all are up (or -t passed) without deleting anything, so
 *                   the responder's memory per tunnel can be measured.
 *
 * Not a test.  Usage: see usage() or bench/README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/model.h"
#include "ike/crypto.h"
#include "ike/ike.h"
#include "lib/err.h"
#include "lib/ikemsg.h"
#include "lib/log.h"
#include "lib/mem.h"

#include "../tests/unit/cfg_chain.h"

#define PROFILE "BENCH"
#define RX_MAX 65536
#define SETUP_TIMEOUT_MS 30000u
#define MAX_SLOTS 1024
#define MAX_THREADS 16
#define LAT_BUCKETS 4096 /* latency histogram, 1 ms buckets; last = overflow */

struct opts {
	struct in_addr first_src, responder;
	unsigned naddr, inflight, threads, seconds;
	enum kz_group group, pfs;
	bool natt, hold, quiet, fresh_dh;
	uint8_t psk[64];
	size_t psk_len;
};

struct slot {
	struct thr *t;
	int fd;
	struct in_addr src;
	struct ike_engine *e;
	uint64_t started_ms;
	bool up;      /* child_up seen for the current engine */
	bool holding; /* hold mode: done, keep it */
};

struct thr {
	pthread_t tid;
	unsigned idx;
	struct slot *slots;
	unsigned nslots;
	uint8_t *rx;
	atomic_uint_fast64_t done, failed, timeouts, lat_sum_ms;
	uint64_t lat_hist[LAT_BUCKETS];
	struct ike_dh *dh[KZ_GROUP_COUNT]; /* reused key pairs (not -F) */
};

static struct opts O;
static struct kz_config *Cfg;
static atomic_bool Stop;
static uint64_t T0;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- engine I/O ---- */

static int io_send(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		   const void *data, size_t len, bool natt_marker)
{
	struct slot *s = arg;
	struct iovec iov[2];
	struct msghdr msg = { 0 };

	(void)local; /* the slot's socket is bound to its source address */
	kz_ike_msg(&msg, iov, peer, data, len, natt_marker);
	return sendmsg(s->fd, &msg, 0) < 0 ? KZ_ESYS : 0;
}

static uint64_t io_now_ms(void *arg)
{
	(void)arg;
	return mono_ms();
}

static int64_t io_wall(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

static int io_random(void *arg, void *buf, size_t len)
{
	(void)arg;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : KZ_ESYS;
}

static void io_child_up(void *arg, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct slot *s = arg;

	(void)in;
	(void)out;
	s->up = true;
}

static void io_child_down(void *arg, uint32_t spi_in, uint32_t spi_out)
{
	(void)arg;
	(void)spi_in;
	(void)spi_out;
}

static struct in_addr io_local_addr(void *arg)
{
	return ((struct slot *)arg)->src;
}

/* The thread's key pair of group g, made once and handed out again for
 * every setup (a load generator may; the engine itself never reuses). */
static struct ike_dh *io_dh_keypair(void *arg, enum kz_group g)
{
	struct thr *t = ((struct slot *)arg)->t;

	if ((unsigned)g >= KZ_GROUP_COUNT)
		return NULL;
	if (!t->dh[g])
		t->dh[g] = ike_dh_new(g);
	return ike_dh_dup(t->dh[g]);
}

/* ---- config: one profile, the responder as peer ---- */

static struct kz_config *make_config(void)
{
	struct kz_config *c = kz_config_new();
	struct cfg_chain k;

	if (!c)
		return NULL;
	if (!cfg_chain_add(c, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", PROFILE, -1)) {
		kz_config_free(c);
		return NULL;
	}
	/* the same suite as examples/main-*.conf: aes-cbc-256, sha2-256 */
	k.ikp->group = O.group;
	k.pol->mode = KZ_MODE_MAIN;
	k.pol->psk.set = true;
	k.pol->psk.len = O.psk_len;
	memcpy(k.pol->psk.key, O.psk, O.psk_len);
	k.pol->natt = O.natt;
	k.ipol->local_ts = (struct kz_prefix){ .set = true, .len = 24 };
	inet_pton(AF_INET, "192.168.1.0", &k.ipol->local_ts.addr);
	k.ipol->remote_ts = (struct kz_prefix){ .set = true, .len = 24 };
	inet_pton(AF_INET, "192.168.2.0", &k.ipol->remote_ts.addr);
	k.ipol->pfs = O.pfs;
	k.pr->peer_type = KZ_PEER_ADDR;
	k.pr->peer_addr = O.responder;
	/* we start each negotiation ourselves; no automatic retries */
	k.pr->initiate = KZ_INITIATE_ON_DEMAND;
	return c;
}

/* ---- slots ---- */

static int slot_open(struct slot *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = s->src };
	int sz = 1 << 20;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return KZ_ESYS;
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "ike_setup: bind %s: %s\n", inet_ntoa(s->src), strerror(errno));
		close(s->fd);
		s->fd = -1;
		return KZ_ESYS;
	}
	return 0;
}

static int slot_start(struct slot *s)
{
	struct ike_io io = {
		.arg = s,
		.send = io_send,
		.now_ms = io_now_ms,
		.wall = io_wall,
		.random = io_random,
		.child_up = io_child_up,
		.child_down = io_child_down,
		.local_addr = io_local_addr,
		.dh_keypair = O.fresh_dh ? NULL : io_dh_keypair,
	};
	int r;

	/* freeing the engine sends no Delete: the responder keeps the SA
	 * until INITIAL-CONTACT of the next setup from this address */
	ike_engine_free(s->e);
	s->e = ike_engine_new(&io);
	if (!s->e)
		return KZ_ENOMEM;
	ike_engine_set_config(s->e, Cfg);
	s->up = false;
	s->started_ms = mono_ms();
	r = ike_initiate(s->e, PROFILE);
	if (r)
		fprintf(stderr, "ike_setup: initiate from %s: %s\n", inet_ntoa(s->src),
			kz_strerror(r));
	return r;
}

static void slot_done(struct thr *t, struct slot *s)
{
	uint64_t lat = mono_ms() - s->started_ms;

	atomic_fetch_add(&t->done, 1);
	atomic_fetch_add(&t->lat_sum_ms, lat);
	t->lat_hist[lat < LAT_BUCKETS ? lat : LAT_BUCKETS - 1]++;
	if (O.hold) {
		s->holding = true;
		return;
	}
	(void)slot_start(s);
}

/* The engine gave up (no answer, error notify) or took too long. */
static void slot_check(struct thr *t, struct slot *s, uint64_t now)
{
	const struct ike_profile_status *st;

	if (s->holding || !s->e)
		return;
	st = ike_profile_status(s->e, PROFILE);
	if (st && st->failures_total) {
		atomic_fetch_add(&t->failed, 1);
		if (!O.quiet)
			fprintf(stderr, "ike_setup: %s: %s\n", inet_ntoa(s->src), st->detail);
		(void)slot_start(s);
	} else if (now - s->started_ms > SETUP_TIMEOUT_MS) {
		atomic_fetch_add(&t->timeouts, 1);
		(void)slot_start(s);
	}
}

static void slot_input(struct thr *t, struct slot *s)
{
	for (int budget = 32; budget > 0; budget--) {
		struct sockaddr_in peer, local = { .sin_family = AF_INET, .sin_addr = s->src };
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(s->fd, t->rx, RX_MAX, 0, (struct sockaddr *)&peer, &pl);
		bool natt = false;
		const uint8_t *p = t->rx;

		if (n < 0)
			break;
		/* RFC 3948 2.2: four zero bytes (the non-ESP marker) cannot
		 * start an ISAKMP header, whose initiator cookie is never
		 * zero; anything else shorter is a keepalive or junk */
		if (n >= 4 && !p[0] && !p[1] && !p[2] && !p[3]) {
			natt = true;
			p += 4;
			n -= 4;
		} else if (n < 28) {
			continue;
		}
		local.sin_port = htons(natt ? 4500 : 500);
		if (!s->e || s->holding)
			continue;
		ike_input(s->e, &local, &peer, p, (size_t)n, natt);
		if (s->up)
			slot_done(t, s);
	}
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct pollfd *pfd = calloc(t->nslots, sizeof(*pfd));
	uint64_t last_check = 0;

	if (!pfd)
		return NULL;
	for (unsigned i = 0; i < t->nslots; i++) {
		pfd[i].fd = t->slots[i].fd;
		pfd[i].events = POLLIN;
		(void)slot_start(&t->slots[i]);
	}
	while (!atomic_load(&Stop)) {
		uint64_t now;
		int n = poll(pfd, t->nslots, 50);

		for (unsigned i = 0; n > 0 && i < t->nslots; i++)
			if (pfd[i].revents & POLLIN)
				slot_input(t, &t->slots[i]);
		now = mono_ms();
		if (now - last_check >= 50) {
			last_check = now;
			for (unsigned i = 0; i < t->nslots; i++) {
				struct slot *s = &t->slots[i];

				if (s->e && !s->holding)
					(void)ike_run_timers(s->e);
				slot_check(t, s, now);
			}
		}
	}
	free(pfd);
	return NULL;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: ike_setup_bench -r RESPONDER -s FIRST_SRC [-n NADDR] [-k INFLIGHT]\n"
		"                       [-t SECONDS] [-T THREADS] [-g GROUP] [-P PFS|none]\n"
		"                       [-x PSK_HEX | -a PSK_ASCII] [-u] [-H] [-F] [-q]\n"
		"  -r  responder address (port 500)\n"
		"  -s  first source address; slot i uses FIRST_SRC + (i mod NADDR)\n"
		"  -n  number of source addresses (default: INFLIGHT)\n"
		"  -k  setups in flight (default 16)\n"
		"  -t  seconds to run (default 10); in hold mode the time limit\n"
		"  -T  threads (default 1)\n"
		"  -g  phase 1 group: modp1024, modp2048 (default), modp3072, ecp256\n"
		"  -P  Quick Mode PFS group or none (default modp2048)\n"
		"  -u  announce NAT-Traversal\n"
		"  -H  hold: one tunnel per slot, keep them, exit when all are up\n"
		"  -F  a fresh DH key pair per exchange (default: one per thread, reused)\n"
		"  -q  no per-failure lines\n");
	exit(2);
}

static enum kz_group group_arg(const char *s)
{
	for (int g = 0; g < KZ_GROUP_COUNT; g++)
		if (!strcmp(s, kz_group_name((enum kz_group)g)))
			return (enum kz_group)g;
	fprintf(stderr, "ike_setup: unknown group %s\n", s);
	usage();
	return KZ_GROUP_NONE;
}

static int hex_arg(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return KZ_EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return KZ_EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&Stop, true);
}

static uint64_t percentile(const uint64_t *h, uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), acc = 0;

	for (unsigned i = 0; i < LAT_BUCKETS; i++) {
		acc += h[i];
		if (acc > want)
			return i;
	}
	return LAT_BUCKETS - 1;
}

int main(int argc, char **argv)
{
	static struct thr thr[MAX_THREADS];
	static uint64_t hist[LAT_BUCKETS];
	struct slot *slots;
	uint64_t done = 0, failed = 0, tmo = 0, lat = 0, prev = 0, t_end;
	double secs, cpu_s;
	struct rusage ru;
	int c;

	O.inflight = 16;
	O.threads = 1;
	O.seconds = 10;
	O.group = KZ_GROUP_MODP2048;
	O.pfs = KZ_GROUP_MODP2048;
	/* the key of examples/main-*.conf */
	(void)hex_arg("8f1e0c5a3b7d92e4a6c0f81d2b5e7093c4a8d6f1e2b3c4d5", O.psk, sizeof(O.psk),
		      &O.psk_len);
	while ((c = getopt(argc, argv, "r:s:n:k:t:T:g:P:x:a:uHFqh")) != -1) {
		switch (c) {
		case 'r':
			if (inet_pton(AF_INET, optarg, &O.responder) != 1)
				usage();
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &O.first_src) != 1)
				usage();
			break;
		case 'n':
			O.naddr = (unsigned)atoi(optarg);
			break;
		case 'k':
			O.inflight = (unsigned)atoi(optarg);
			break;
		case 't':
			O.seconds = (unsigned)atoi(optarg);
			break;
		case 'T':
			O.threads = (unsigned)atoi(optarg);
			break;
		case 'g':
			O.group = group_arg(optarg);
			break;
		case 'P':
			O.pfs = group_arg(optarg);
			break;
		case 'x':
			if (hex_arg(optarg, O.psk, sizeof(O.psk), &O.psk_len))
				usage();
			break;
		case 'a':
			O.psk_len = strlen(optarg);
			if (O.psk_len > sizeof(O.psk))
				usage();
			memcpy(O.psk, optarg, O.psk_len);
			break;
		case 'u':
			O.natt = true;
			break;
		case 'H':
			O.hold = true;
			break;
		case 'F':
			O.fresh_dh = true;
			break;
		case 'q':
			O.quiet = true;
			break;
		default:
			usage();
		}
	}
	if (!O.responder.s_addr || !O.first_src.s_addr || O.inflight == 0 ||
	    O.inflight > MAX_SLOTS || O.threads == 0 || O.threads > MAX_THREADS ||
	    O.threads > O.inflight || O.seconds == 0)
		usage();
	if (!O.naddr)
		O.naddr = O.inflight;
	if (O.naddr < O.inflight)
		fprintf(stderr,
			"ike_setup: note: %u slots share %u addresses; INITIAL-CONTACT "
			"may delete a slot's SA at the responder\n",
			O.inflight, O.naddr);

	kz_log_open("ike_setup", 1, KZ_LOG_ERR);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	Cfg = make_config();
	slots = calloc(O.inflight, sizeof(*slots));
	if (!Cfg || !slots)
		return 1;
	for (unsigned i = 0; i < O.inflight; i++) {
		slots[i].src.s_addr = htonl(ntohl(O.first_src.s_addr) + i % O.naddr);
		if (slot_open(&slots[i]))
			return 1;
	}
	/* slots of thread k are a contiguous run */
	for (unsigned k = 0, at = 0; k < O.threads; k++) {
		unsigned n = O.inflight / O.threads + (k < O.inflight % O.threads);

		thr[k].idx = k;
		thr[k].slots = slots + at;
		thr[k].nslots = n;
		thr[k].rx = malloc(RX_MAX);
		if (!thr[k].rx)
			return 1;
		for (unsigned i = 0; i < n; i++)
			slots[at + i].t = &thr[k];
		at += n;
	}
	T0 = mono_ms();
	t_end = T0 + (uint64_t)O.seconds * 1000u;
	for (unsigned k = 0; k < O.threads; k++)
		if (pthread_create(&thr[k].tid, NULL, thr_main, &thr[k]))
			return 1;
	for (unsigned sec = 1; !atomic_load(&Stop); sec++) {
		uint64_t target = T0 + (uint64_t)sec * 1000u, now = mono_ms(), d = 0;

		while (now < target && now < t_end && !atomic_load(&Stop)) {
			usleep((useconds_t)((target - now > 100 ? 100 : target - now) * 1000u));
			now = mono_ms();
			if (O.hold) {
				d = 0;
				for (unsigned k = 0; k < O.threads; k++)
					d += atomic_load(&thr[k].done);
				if (d >= O.inflight)
					break;
			}
		}
		d = 0;
		for (unsigned k = 0; k < O.threads; k++)
			d += atomic_load(&thr[k].done);
		if (!O.quiet)
			fprintf(stderr, "ike_setup: %2us %6llu setups/s (total %llu)\n", sec,
				(unsigned long long)(d - prev), (unsigned long long)d);
		prev = d;
		if (now >= t_end || (O.hold && d >= O.inflight))
			break;
	}
	atomic_store(&Stop, true);
	secs = (double)(mono_ms() - T0) / 1000.0;
	for (unsigned k = 0; k < O.threads; k++) {
		pthread_join(thr[k].tid, NULL);
		done += atomic_load(&thr[k].done);
		failed += atomic_load(&thr[k].failed);
		tmo += atomic_load(&thr[k].timeouts);
		lat += atomic_load(&thr[k].lat_sum_ms);
		for (unsigned i = 0; i < LAT_BUCKETS; i++)
			hist[i] += thr[k].lat_hist[i];
	}
	/* the generator's own CPU (all threads), to tell who was the limit */
	cpu_s = 0;
	if (!getrusage(RUSAGE_SELF, &ru))
		cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("mode=%s inflight=%u addrs=%u threads=%u group=%s pfs=%s natt=%s seconds=%.2f "
	       "setups=%llu rate=%.1f failed=%llu timeouts=%llu lat_avg_ms=%.1f lat_p50_ms=%llu "
	       "lat_p99_ms=%llu gen_cpu_s=%.2f\n",
	       O.hold ? "hold" : "rate", O.inflight, O.naddr, O.threads, kz_group_name(O.group),
	       kz_group_name(O.pfs), O.natt ? "yes" : "no", secs, (unsigned long long)done,
	       secs > 0 ? (double)done / secs : 0.0, (unsigned long long)failed,
	       (unsigned long long)tmo, done ? (double)lat / (double)done : 0.0,
	       (unsigned long long)percentile(hist, done, 0.5),
	       (unsigned long long)percentile(hist, done, 0.99), cpu_s);
	fflush(stdout);
	for (unsigned i = 0; i < O.inflight; i++) {
		ike_engine_free(slots[i].e);
		close(slots[i].fd);
	}
	for (unsigned k = 0; k < O.threads; k++) {
		free(thr[k].rx);
		for (int g = 0; g < KZ_GROUP_COUNT; g++)
			ike_dh_free(thr[k].dh[g]);
	}
	free(slots);
	kz_config_free(Cfg);
	return O.hold && done < O.inflight ? 1 : 0;
}
