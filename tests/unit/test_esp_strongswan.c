/* test_esp_strongswan.c - esp_decap on real packets: ESP-in-UDP captured
 * between two strongSwan 5.9.8 charons in the namespace lab, with the
 * CHILD_SA keys from charon's level-4 log (tests/unit/data/esp/, one file per suite:
 * AES-CBC-256 + HMAC-SHA2-256-128, and AES-GCM-128 with a 16-byte ICV,
 * both directions).  Every packet must open to the ICMP packet between
 * lan-a and lan-b, inside the SA's selectors; a flipped bit must not; a
 * second copy is a replay.  Also checks that our own encapsulation under
 * the same keys opens with the same SA (interoperable layout). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp/esp.h"
#include "lib/err.h"

#define MAX_PKTS 16
#define MAX_PKT 2048

struct capture_sa {
	struct kz_child_sa p;
	size_t npkts;
	size_t len[MAX_PKTS];
	uint8_t pkt[MAX_PKTS][MAX_PKT];
};

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (h[0] && h[1] && h[0] != '\n' && n < cap) {
		char b[3] = { h[0], h[1], 0 };

		out[n++] = (uint8_t)strtoul(b, NULL, 16);
		h += 2;
	}
	return n;
}

static void prefix(const char *s, struct kz_prefix *p)
{
	char a[32];
	unsigned len;

	assert_int_equal(sscanf(s, "%31[0-9.]/%u", a, &len), 2);
	assert_int_equal(inet_pton(AF_INET, a, &p->addr), 1);
	p->len = (uint8_t)len;
	p->set = true;
}

struct name_val {
	const char *name;
	int val;
};

/* The value named s in t, or a failed test naming what. */
static int val_of(const char *what, const char *s, const struct name_val *t, size_t n, int none)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, t[i].name) == 0)
			return t[i].val;
	fail_msg("%s %s", what, s);
	return none;
}

static enum kz_enc enc_of(const char *s)
{
	static const struct name_val t[] = { { "aes-cbc-256", KZ_ENC_AES_CBC_256 },
					     { "aes-gcm-128", KZ_ENC_AES_GCM_128 } };

	return (enum kz_enc)val_of("cipher", s, t, 2, KZ_ENC_COUNT);
}

static enum kz_auth auth_of(const char *s)
{
	static const struct name_val t[] = { { "hmac-sha2-256", KZ_AUTH_HMAC_SHA2_256 },
					     { "none", KZ_AUTH_NONE } };

	return (enum kz_auth)val_of("auth", s, t, 2, KZ_AUTH_COUNT);
}

/* Reads up to two SAs from a capture file. */
static size_t load(const char *name, struct capture_sa *sas)
{
	const char *dir = getenv("KZ_SOURCE_DIR");
	char path[512], line[8192], enc[32], auth[32], lts[32], rts[32];
	struct capture_sa *cur = NULL;
	size_t n = 0;
	unsigned spi;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/data/esp/%s", dir ? dir : KZ_SOURCE_DIR, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot open", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "sa %x %31s %31s %31s %31s", &spi, enc, auth, lts, rts) == 5) {
			assert_true(n < 2);
			cur = &sas[n++];
			memset(cur, 0, sizeof(*cur));
			cur->p.dir = KZ_CHILD_IN;
			cur->p.spi = spi;
			cur->p.enc = enc_of(enc);
			cur->p.auth = auth_of(auth);
			cur->p.replay_window = 64;
			prefix(lts, &cur->p.local_ts);
			prefix(rts, &cur->p.remote_ts);
		} else if (cur && strncmp(line, "enc_key ", 8) == 0) {
			cur->p.enc_key_len =
				unhex(line + 8, cur->p.enc_key, sizeof(cur->p.enc_key));
		} else if (cur && strncmp(line, "auth_key ", 9) == 0) {
			cur->p.auth_key_len =
				unhex(line + 9, cur->p.auth_key, sizeof(cur->p.auth_key));
		} else if (cur && strncmp(line, "pkt ", 4) == 0) {
			assert_true(cur->npkts < MAX_PKTS);
			cur->len[cur->npkts] = unhex(line + 4, cur->pkt[cur->npkts], MAX_PKT);
			cur->npkts++;
		}
	}
	fclose(f);
	return n;
}

static void check_capture(const char *name)
{
	static struct capture_sa sas[2];
	static uint8_t inner[MAX_PKT], bad[MAX_PKT], last[MAX_PKT];
	size_t n = load(name, sas), i, k, m, lastlen = 0;
	enum esp_drop why;

	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		struct capture_sa *c = &sas[i];
		struct esp_sa *sa;
		struct esp_sa *out;
		int err;

		assert_true(c->npkts >= 3);
		sa = esp_sa_new(&c->p, &err);
		if (!sa)
			fail_msg("%s SA %08x: %d", name, c->p.spi, err);
		for (k = 0; k < c->npkts; k++) {
			uint32_t spi;

			assert_int_equal(esp_udp_classify(c->pkt[k], c->len[k]), ESP_UDP_ESP);
			assert_int_equal(esp_packet_spi(c->pkt[k], c->len[k], &spi), 0);
			assert_int_equal(spi, c->p.spi);
			/* A flipped bit in the middle first: refused, window untouched. */
			memcpy(bad, c->pkt[k], c->len[k]);
			bad[c->len[k] / 2] ^= 0x10;
			assert_int_not_equal(
				esp_decap(sa, bad, c->len[k], inner, sizeof(inner), &m, &why), 0);
			assert_int_equal(why, ESP_DROP_ICV);
			err = esp_decap(sa, c->pkt[k], c->len[k], inner, sizeof(inner), &m, &why);
			if (err)
				fail_msg("%s SA %08x packet %zu: %s", name, c->p.spi, k,
					 esp_drop_name(why));
			/* ICMP, between the two LANs, in the SA's direction. */
			assert_int_equal(inner[0], 0x45);
			assert_int_equal(inner[9], 1);
			assert_int_equal((size_t)(inner[2] << 8 | inner[3]), m);
			assert_memory_equal(inner + 12, &c->p.remote_ts.addr, 3);
			assert_memory_equal(inner + 16, &c->p.local_ts.addr, 3);
			memcpy(last, inner, m);
			lastlen = m;
		}
		assert_int_equal(
			esp_decap(sa, c->pkt[0], c->len[0], inner, sizeof(inner), &m, &why),
			KZ_EPROTO);
		assert_int_equal(why, ESP_DROP_REPLAY);

		/* Our encapsulation with strongSwan's keys opens the same way. */
		c->p.dir = KZ_CHILD_OUT;
		out = esp_sa_new(&c->p, NULL);
		assert_non_null(out);
		assert_int_equal(esp_sa_impair_seq(out, 100), 0);
		{
			uint8_t pkt[MAX_PKT];
			size_t pl;

			assert_int_equal(esp_encap(out, last, lastlen, pkt, sizeof(pkt), &pl), 0);
			assert_int_equal(esp_decap(sa, pkt, pl, inner, sizeof(inner), &m, &why), 0);
			assert_int_equal(m, lastlen);
			assert_memory_equal(inner, last, lastlen);
		}
		esp_sa_free(out);
		esp_sa_free(sa);
	}
}

static void test_strongswan_cbc(void **state)
{
	check_capture("strongswan-aes-cbc-256-hmac-sha2-256.txt");
}

static void test_strongswan_gcm(void **state)
{
	check_capture("strongswan-aes-gcm-128.txt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strongswan_cbc),
		cmocka_unit_test(test_strongswan_gcm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
