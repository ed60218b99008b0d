/* esp_bench.c - one-core throughput of the ESP packet core (src/esp/):
 * encapsulation, decapsulation and both, for 1400-byte inner packets, per
 * cipher suite; and the cost of the two ways to make a CBC IV.  Prints
 * numbers, checks nothing.
 *
 * Rates are per CPU second of this thread (as `openssl speed` measures
 * user time), so a busy shared machine does not distort them; the wall
 * clock figure is printed next to it.
 *
 * Built with the tree (build/bench/esp_bench).  By hand, after building kz_esp:
 *   cc -O2 -Isrc bench/esp_bench.c BUILD/libkz_esp.a BUILD/libkz_lib.a \
 *      -lcrypto -o esp_bench
 * Compare with `openssl speed -evp aes-128-gcm` on the same machine. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "esp/esp.h"

#define PKT 1400
#define SECONDS 2.0

static double wall0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct esp_sa *mk(enum kz_enc enc, enum kz_auth auth, size_t ek, size_t ak,
			 enum kz_child_dir dir, uint32_t window)
{
	struct kz_child_sa p;

	memset(&p, 0, sizeof(p));
	p.dir = dir;
	p.spi = 0x1000;
	p.enc = enc;
	p.auth = auth;
	p.enc_key_len = ek;
	p.auth_key_len = ak;
	RAND_bytes(p.enc_key, sizeof(p.enc_key));
	RAND_bytes(p.auth_key, sizeof(p.auth_key));
	/* Both SAs need the same keys: a fixed pattern. */
	memset(p.enc_key, 0x11, ek);
	memset(p.auth_key, 0x22, ak);
	p.replay_window = window;
	return esp_sa_new(&p, NULL);
}

static void run(const char *name, enum kz_enc enc, enum kz_auth auth, size_t ek, size_t ak)
{
	struct esp_sa *out = mk(enc, auth, ek, ak, KZ_CHILD_OUT, 0);
	struct esp_sa *in = mk(enc, auth, ek, ak, KZ_CHILD_IN, 1024);
	static uint8_t inner[PKT], pkt[PKT + ESP_MAX_OVERHEAD], back[PKT + ESP_MAX_OVERHEAD];
	size_t n = 0, m;
	enum esp_drop why;
	double t0, t, enc_mbs, dec_mbs, both_mbs;
	unsigned long i, cnt;

	if (!out || !in) {
		fprintf(stderr, "%s: SA set-up failed\n", name);
		exit(1);
	}
	memset(inner, 0x5a, sizeof(inner));
	inner[0] = 0x45;
	inner[2] = PKT >> 8;
	inner[3] = PKT & 0xff;

	/* Encapsulation alone. */
	t0 = now();
	for (cnt = 0; (t = now()) - t0 < SECONDS; cnt += 1000)
		for (i = 0; i < 1000; i++)
			if (esp_encap(out, inner, PKT, pkt, sizeof(pkt), &n) != 0)
				exit(1);
	enc_mbs = (double)cnt * PKT / (t - t0) / 1e6;

	/* Decapsulation alone: one packet, replay off in a second SA. */
	esp_sa_free(in);
	in = mk(enc, auth, ek, ak, KZ_CHILD_IN, 0);
	t0 = now();
	for (cnt = 0; (t = now()) - t0 < SECONDS; cnt += 1000)
		for (i = 0; i < 1000; i++)
			if (esp_decap(in, pkt, n, back, sizeof(back), &m, &why) != 0)
				exit(1);
	dec_mbs = (double)cnt * PKT / (t - t0) / 1e6;

	/* Both, with the replay window on (1024 bits). */
	esp_sa_free(in);
	in = mk(enc, auth, ek, ak, KZ_CHILD_IN, 1024);
	wall0 = wall();
	t0 = now();
	for (cnt = 0; (t = now()) - t0 < SECONDS; cnt += 1000)
		for (i = 0; i < 1000; i++)
			if (esp_encap(out, inner, PKT, pkt, sizeof(pkt), &n) != 0 ||
			    esp_decap(in, pkt, n, back, sizeof(back), &m, &why) != 0)
				exit(1);
	both_mbs = (double)cnt * PKT / (t - t0) / 1e6;

	printf("%-26s encap %5.0f MB/s  decap %5.0f MB/s  encap+decap %5.0f MB/s "
	       "(%.0f kpps; wall clock %.0f MB/s)\n",
	       name, enc_mbs, dec_mbs, both_mbs, both_mbs * 1e6 / PKT / 1e3,
	       (double)cnt * PKT / (wall() - wall0) / 1e6);
	esp_sa_free(out);
	esp_sa_free(in);
}

/* What an IV costs: RAND_bytes vs AES-ECB of a counter under a secret key
 * (what esp.c does). */
static void iv_cost(void)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t key[16] = { 1 }, in[16] = { 0 }, iv[32];
	unsigned long i, cnt = 0;
	double t0, t;
	int len;

	t0 = now();
	for (cnt = 0; (t = now()) - t0 < 1.0; cnt += 1000)
		for (i = 0; i < 1000; i++)
			RAND_bytes(iv, 16);
	printf("CBC IV by RAND_bytes(16):  %6.1f ns\n", (t - t0) / (double)cnt * 1e9);
	EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(c, 0);
	t0 = now();
	for (cnt = 0; (t = now()) - t0 < 1.0; cnt += 1000)
		for (i = 0; i < 1000; i++) {
			in[7] = (uint8_t)i;
			EVP_EncryptUpdate(c, iv, &len, in, 16);
		}
	printf("CBC IV by AES-ECB(counter): %6.1f ns\n", (t - t0) / (double)cnt * 1e9);
	EVP_CIPHER_CTX_free(c);
}

int main(void)
{
	printf("one core, %d-byte inner packets, %.0f CPU s per figure\n", PKT, SECONDS);
	run("aes-cbc-256/hmac-sha2-256", KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256, 32, 32);
	run("aes-cbc-128/hmac-sha1", KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, 16, 20);
	run("aes-gcm-128", KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, 20, 0);
	run("aes-gcm-256", KZ_ENC_AES_GCM_256, KZ_AUTH_NONE, 36, 0);
	run("3des-cbc/hmac-sha1", KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_SHA1, 24, 20);
	iv_cost();
	return 0;
}
