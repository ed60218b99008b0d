/* test_esp_threads.c - one outbound SA sent on by two threads at once, as
 * the data-plane workers do (each with its own esp_sa_new_shared() copy):
 * the sequence numbers they get are disjoint and complete, exhaustion
 * near 2^32 - 1 uses no number twice and never wraps, and the packet and
 * byte counters and the byte lifetime add up exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "esp/esp.h"
#include "lib/err.h"

#include "esp_fixture.h"
#include "test_main.h"

#define SPI 0x5eed0001u
#define INNER 100
#define PER_THREAD 20000
#define ROUNDS 20

static void params(struct kz_child_sa *p, enum kz_enc enc, enum kz_auth auth, enum kz_child_dir dir)
{
	esp_fixture_params(p, SPI, enc, auth, dir);
}

/* 192.168.2.10 -> 192.168.1.10, as the inbound selectors want. */
static void ipv4(uint8_t *p, size_t len)
{
	esp_fixture_ipv4(p, len, 0xc0a8020au, 0xc0a8010au, 0xab);
}

#define be32 esp_fixture_be32

struct sender {
	struct esp_sa *sa;
	pthread_barrier_t *go;
	size_t max;    /* packets to send at most */
	size_t n;      /* sent */
	uint32_t *seq; /* their sequence numbers */
	int last_err;  /* what stopped it: 0 (max reached) or the error */
	uint8_t first[256], last[256];
	size_t first_len, last_len;
};

static void *send_loop(void *arg)
{
	struct sender *s = arg;
	uint8_t inner[INNER], pkt[256];
	size_t len;

	ipv4(inner, sizeof(inner));
	pthread_barrier_wait(s->go);
	s->last_err = 0;
	while (s->n < s->max) {
		int r = esp_encap(s->sa, inner, sizeof(inner), pkt, sizeof(pkt), &len);

		if (r < 0) {
			s->last_err = r;
			break;
		}
		s->seq[s->n++] = be32(pkt + 4);
		if (s->n == 1) {
			memcpy(s->first, pkt, len);
			s->first_len = len;
		}
		memcpy(s->last, pkt, len);
		s->last_len = len;
	}
	return NULL;
}

/* Runs two senders (the SA and its copy) to completion. */
static void run_two(struct esp_sa *a, struct esp_sa *b, struct sender s[2], size_t max)
{
	pthread_barrier_t go;
	pthread_t t[2];

	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].sa = i ? b : a;
		s[i].go = &go;
		s[i].max = max;
		s[i].seq = calloc(max ? max : 1, sizeof(uint32_t));
		assert_non_null(s[i].seq);
		assert_int_equal(pthread_create(&t[i], NULL, send_loop, &s[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
}

/* Every number of [lo, lo + count) exactly once over both senders. */
static void assert_complete(struct sender s[2], uint64_t lo, size_t count)
{
	uint8_t *seen = calloc(count, 1);

	assert_non_null(seen);
	assert_int_equal(s[0].n + s[1].n, count);
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < s[i].n; k++) {
			uint64_t q = s[i].seq[k];

			if (q < lo || q >= lo + count)
				fail_msg("sequence number %llu outside [%llu, %llu)",
					 (unsigned long long)q, (unsigned long long)lo,
					 (unsigned long long)(lo + count));
			if (seen[q - lo]++)
				fail_msg("sequence number %llu used twice", (unsigned long long)q);
		}
	free(seen);
}

/* A packet the copy sealed opens with the inbound SA: the copy's own
 * contexts carry the same keys. */
static void assert_opens(enum kz_enc enc, enum kz_auth auth, const uint8_t *pkt, size_t len)
{
	struct kz_child_sa p;
	struct esp_sa *in;
	uint8_t back[256];
	size_t m;
	enum esp_drop why;

	params(&p, enc, auth, KZ_CHILD_IN);
	in = esp_sa_new(&p, NULL);
	assert_non_null(in);
	assert_int_equal(esp_decap(in, pkt, len, back, sizeof(back), &m, &why), 0);
	assert_int_equal(m, INNER);
	esp_sa_free(in);
}

static void senders_free(struct sender s[2])
{
	free(s[0].seq);
	free(s[1].seq);
}

static void pair_new(enum kz_enc enc, enum kz_auth auth, uint64_t life_kbytes, struct esp_sa **a,
		     struct esp_sa **b)
{
	struct kz_child_sa p;

	params(&p, enc, auth, KZ_CHILD_OUT);
	p.life_kbytes = life_kbytes;
	*a = esp_sa_new(&p, NULL);
	assert_non_null(*a);
	*b = esp_sa_new_shared(&p, *a, NULL);
	assert_non_null(*b);
}

static void test_shared_refused(void **state)
{
	struct kz_child_sa p;
	struct esp_sa *a, *in;
	int err = 0;

	(void)state;
	params(&p, KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_OUT);
	a = esp_sa_new(&p, NULL);
	p.spi++;
	assert_null(esp_sa_new_shared(&p, a, &err));
	assert_int_equal(err, KZ_EINVAL);
	params(&p, KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_IN);
	in = esp_sa_new(&p, NULL);
	assert_null(esp_sa_new_shared(&p, in, &err));
	esp_sa_free(in);
	esp_sa_free(a);
}

static void disjoint(enum kz_enc enc, enum kz_auth auth)
{
	struct sender s[2];
	struct esp_sa *a, *b;
	struct kz_child_stats st;

	pair_new(enc, auth, 0, &a, &b);
	run_two(a, b, s, PER_THREAD);
	assert_int_equal(s[0].last_err, 0);
	assert_int_equal(s[1].last_err, 0);
	assert_complete(s, 1, 2 * PER_THREAD);
	/* Each thread's numbers rise: a fetch-add per packet. */
	for (int i = 0; i < 2; i++)
		for (size_t k = 1; k < s[i].n; k++)
			assert_true(s[i].seq[k] > s[i].seq[k - 1]);
	/* The counters are the first SA's, seen through either. */
	esp_sa_stats(b, &st);
	assert_int_equal(st.packets, 2 * PER_THREAD);
	assert_int_equal(st.bytes, 2 * PER_THREAD * INNER);
	esp_sa_stats(a, &st);
	assert_int_equal(st.packets, 2 * PER_THREAD);
	assert_int_equal(esp_sa_state(b), ESP_SA_ACTIVE);
	assert_opens(enc, auth, s[0].first, s[0].first_len);
	assert_opens(enc, auth, s[1].first, s[1].first_len);
	senders_free(s);
	esp_sa_free(b);
	esp_sa_free(a);
}

static void test_disjoint_gcm(void **state)
{
	(void)state;
	disjoint(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE);
}

static void test_disjoint_cbc(void **state)
{
	(void)state;
	disjoint(KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_256);
}

/* The last 1000 numbers, raced for by both threads, many times. */
static void test_exhaustion(void **state)
{
	const size_t left = 1000;

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		struct sender s[2];
		struct esp_sa *a, *b;
		struct kz_child_stats st;

		pair_new(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, 0, &a, &b);
		/* Set through the copy: it moves the shared counter. */
		assert_int_equal(esp_sa_impair_seq(b, (uint32_t)(UINT32_MAX - left + 1)), 0);
		run_two(a, b, s, left + 10);
		assert_int_equal(s[0].last_err, KZ_ERANGE);
		assert_int_equal(s[1].last_err, KZ_ERANGE);
		assert_complete(s, (uint64_t)UINT32_MAX - left + 1, left);
		assert_int_equal(esp_sa_state(a), ESP_SA_SEQ_EXHAUSTED);
		assert_int_equal(esp_sa_state(b), ESP_SA_SEQ_EXHAUSTED);
		esp_sa_stats(a, &st);
		assert_int_equal(st.packets, left);
		assert_int_equal(st.bytes, left * INNER);
		/* The one who sent UINT32_MAX sent it last, and it opens. */
		for (int i = 0; i < 2; i++)
			if (s[i].n && s[i].seq[s[i].n - 1] == UINT32_MAX)
				assert_opens(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, s[i].last,
					     s[i].last_len);
		senders_free(s);
		esp_sa_free(b);
		esp_sa_free(a);
	}
}

/* 8 KB of lifetime: packets of INNER bytes are sent while fewer than the
 * limit went before, by both threads together, exactly as by one. */
static void test_byte_lifetime(void **state)
{
	const uint64_t limit = 8 * 1024;
	const size_t want = (size_t)((limit + INNER - 1) / INNER);

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		struct sender s[2];
		struct esp_sa *a, *b;
		struct kz_child_stats st;

		pair_new(KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_256, limit / 1024, &a, &b);
		run_two(a, b, s, want + 10);
		assert_int_equal(s[0].last_err, KZ_ERANGE);
		assert_int_equal(s[1].last_err, KZ_ERANGE);
		assert_int_equal(s[0].n + s[1].n, want);
		esp_sa_stats(a, &st);
		assert_int_equal(st.packets, want);
		assert_int_equal(st.bytes, want * INNER);
		assert_int_equal(esp_sa_state(b), ESP_SA_EXPIRED_BYTES);
		/* Refused packets may have taken numbers; sent ones are
		 * still distinct. */
		for (size_t i = 0; i < s[0].n; i++)
			for (size_t k = 0; k < s[1].n; k++)
				assert_true(s[0].seq[i] != s[1].seq[k]);
		senders_free(s);
		esp_sa_free(b);
		esp_sa_free(a);
	}
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_shared_refused), cmocka_unit_test(test_disjoint_gcm),
	     cmocka_unit_test(test_disjoint_cbc), cmocka_unit_test(test_exhaustion),
	     cmocka_unit_test(test_byte_lifetime))
