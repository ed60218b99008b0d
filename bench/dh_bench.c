/* dh_bench.c - Diffie-Hellman cost per handshake side: one key generation
 * plus one shared secret, per second, on one core.  MODP groups with the
 * exponent ike_dh_new() uses and, for comparison, full length (as
 * strongSwan uses); ECP for reference.
 *
 * Not part of the test suite.  Build against a build tree, e.g.:
 *   cc -O2 -Isrc bench/dh_bench.c src/ike/dh.c src/ike/crypto.c \
 *      build/libkz_config.a build/libkz_lib.a -lcrypto -o dh_bench
 *   ./dh_bench [seconds-per-row]  */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ike/crypto.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns operations per second, or -1 when a step failed. */
static double run(enum kz_group g, int bits, double secs)
{
	uint8_t peer[512], sec[512];
	size_t pl = ike_dh_pub_len(g), sl;
	struct ike_dh *b = ike_dh_new(g), *a;
	double t0, t;
	long n = 0;

	if (!b || ike_dh_public(b, peer, pl))
		return -1;
	t0 = now();
	do {
		a = ike_dh_new_bits(g, bits);
		sl = sizeof(sec);
		if (!a || ike_dh_shared(a, peer, pl, sec, &sl)) {
			ike_dh_free(a);
			ike_dh_free(b);
			return -1;
		}
		ike_dh_free(a);
		n++;
		t = now() - t0;
	} while (t < secs);
	ike_dh_free(b);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	static const struct {
		enum kz_group g;
		const char *name;
		int full; /* full-length exponent: bits(p) - 1 */
	} rows[] = {
		{ KZ_GROUP_MODP1024, "modp1024 (2)", 1023 },
		{ KZ_GROUP_MODP1536, "modp1536 (5)", 1535 },
		{ KZ_GROUP_MODP2048, "modp2048 (14)", 2047 },
		{ KZ_GROUP_MODP3072, "modp3072 (15)", 3071 },
		{ KZ_GROUP_MODP4096, "modp4096 (16)", 4095 },
		{ KZ_GROUP_ECP256, "ecp256 (19)", 0 },
		{ KZ_GROUP_ECP384, "ecp384 (20)", 0 },
	};
	double secs = argc > 1 ? atof(argv[1]) : 1.0, r1, r2;
	size_t i;

	if (ike_crypto_init())
		fprintf(stderr, "warning: a provider is missing\n");
	printf("%-14s %9s %12s %12s %7s\n", "group", "exp bits", "keygen+dh/s", "full-len/s",
	       "ratio");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r1 = run(rows[i].g, 0, secs);
		if (!rows[i].full) {
			printf("%-14s %9s %12.0f %12s %7s\n", rows[i].name, "-", r1, "-", "-");
			continue;
		}
		r2 = run(rows[i].g, rows[i].full, secs);
		printf("%-14s %9d %12.0f %12.0f %6.1fx\n", rows[i].name,
		       ike_dh_priv_bits(rows[i].g), r1, r2, r2 > 0 ? r1 / r2 : 0.0);
	}
	return 0;
}
