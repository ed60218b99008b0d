/* test_esp_packet.c - ESP encapsulation and decapsulation (src/esp/esp.c):
 * round trips for every cipher and integrity pair of the config language,
 * tampering with every region of a packet, padding and inner-header
 * errors, truncation at every length, traffic selectors, sequence number
 * exhaustion and the byte lifetime.
 *
 * Packets with deliberately bad contents are sealed by an independent
 * one-shot OpenSSL implementation in this file, so the checks after the
 * ICV can be reached. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include <openssl/evp.h>

#include "esp/esp.h"
#include "lib/err.h"

#include "esp_fixture.h"
#include "test_main.h"

#define SPI_AB 0xc0ffee01u

struct combo {
	enum kz_enc enc;
	enum kz_auth auth;
};

static const struct combo combos[] = {
	{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1 },
	{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_MD5 },
	{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_256 },
	{ KZ_ENC_AES_CBC_192, KZ_AUTH_HMAC_SHA2_384 },
	{ KZ_ENC_AES_CBC_192, KZ_AUTH_HMAC_SHA1 },
	{ KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256 },
	{ KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_384 },
	{ KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_512 },
	{ KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_MD5 },
	{ KZ_ENC_AES_GCM_128, KZ_AUTH_NONE },
	{ KZ_ENC_AES_GCM_256, KZ_AUTH_NONE },
	{ KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_SHA1 },
	{ KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_MD5 },
	{ KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_SHA2_256 },
	{ KZ_ENC_NULL, KZ_AUTH_HMAC_SHA1 },
	{ KZ_ENC_NULL, KZ_AUTH_HMAC_SHA2_256 },
	{ KZ_ENC_NULL, KZ_AUTH_HMAC_SHA2_512 },
	{ KZ_ENC_NULL, KZ_AUTH_HMAC_MD5 },
};

static void params(struct kz_child_sa *p, enum kz_enc enc, enum kz_auth auth, enum kz_child_dir dir)
{
	esp_fixture_params(p, SPI_AB, enc, auth, dir);
}

static struct esp_sa *sa_make(enum kz_enc enc, enum kz_auth auth, enum kz_child_dir dir)
{
	struct kz_child_sa p;
	struct esp_sa *sa;
	int err;

	params(&p, enc, auth, dir);
	sa = esp_sa_new(&p, &err);
	if (!sa)
		fail_msg("esp_sa_new(%d, %d): %d", enc, auth, err);
	return sa;
}

/* An IPv4 packet of len bytes (>= 20) from src to dst. */
#define ipv4 esp_fixture_ipv4

#define SRC_OK 0xc0a8020au /* 192.168.2.10 */
#define DST_OK 0xc0a8010au /* 192.168.1.10 */

#define be32 esp_fixture_be32

static void test_roundtrip_all(void **state)
{
	static const size_t lens[] = { 20, 21, 22, 23, 24, 31, 32, 33, 64, 100, 1400, 1500 };
	uint8_t inner[1500], pkt[1600], back[1600];
	size_t c, l, outlen, inlen;
	enum esp_drop why;

	for (c = 0; c < sizeof(combos) / sizeof(combos[0]); c++) {
		struct esp_sa *out = sa_make(combos[c].enc, combos[c].auth, KZ_CHILD_OUT);
		struct esp_sa *in = sa_make(combos[c].enc, combos[c].auth, KZ_CHILD_IN);
		struct kz_child_stats st;
		uint64_t bytes = 0;

		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			size_t blk = esp_sa_block_len(out);
			size_t ctlen;

			ipv4(inner, lens[l], SRC_OK, DST_OK, (uint8_t)c);
			assert_int_equal(esp_encap(out, inner, lens[l], pkt, sizeof(pkt), &outlen),
					 0);
			assert_int_equal(outlen, esp_sa_encap_len(out, lens[l]));
			assert_int_equal(be32(pkt), SPI_AB);
			assert_int_equal(be32(pkt + 4), l + 1);
			ctlen = outlen - 8 - esp_sa_iv_len(out) - esp_sa_icv_len(out);
			assert_int_equal(ctlen % blk, 0);
			/* Minimal padding: less than one block added. */
			assert_true(ctlen - lens[l] - 2 < blk);
			assert_int_equal(outlen % 4, 0);
			assert_int_equal(
				esp_decap(in, pkt, outlen, back, sizeof(back), &inlen, &why), 0);
			assert_int_equal(why, ESP_DROP_NONE);
			assert_int_equal(inlen, lens[l]);
			assert_memory_equal(back, inner, lens[l]);
			bytes += lens[l];
		}
		esp_sa_stats(in, &st);
		assert_int_equal(st.packets, l);
		assert_int_equal(st.bytes, bytes);
		assert_true(st.last_unix > 0);
		assert_int_equal(st.drops, 0);
		esp_sa_stats(out, &st);
		assert_int_equal(st.packets, l);
		assert_int_equal(st.bytes, bytes);
		esp_sa_free(out);
		esp_sa_free(in);
	}
}

static void test_icv_lengths(void **state)
{
	static const struct {
		enum kz_enc enc;
		enum kz_auth auth;
		size_t icv, iv;
	} t[] = {
		{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, 12, 16 },
		{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_MD5, 12, 16 },
		{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_256, 16, 16 },
		{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_384, 24, 16 },
		{ KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_512, 32, 16 },
		{ KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, 16, 8 },
		{ KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_SHA1, 12, 8 },
		{ KZ_ENC_NULL, KZ_AUTH_HMAC_SHA1, 12, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct esp_sa *sa = sa_make(t[i].enc, t[i].auth, KZ_CHILD_OUT);

		assert_int_equal(esp_sa_icv_len(sa), t[i].icv);
		assert_int_equal(esp_sa_iv_len(sa), t[i].iv);
		esp_sa_free(sa);
	}
}

static void test_bad_params(void **state)
{
	struct kz_child_sa p;
	int err;

	params(&p, KZ_ENC_AES_GCM_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_IN);
	assert_null(esp_sa_new(&p, &err));
	assert_int_equal(err, KZ_EINVAL);
	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_NONE, KZ_CHILD_IN);
	assert_null(esp_sa_new(&p, &err));
	params(&p, KZ_ENC_NULL, KZ_AUTH_NONE, KZ_CHILD_IN);
	assert_null(esp_sa_new(&p, &err));
	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_IN);
	p.enc_key_len = 32;
	assert_null(esp_sa_new(&p, &err));
	params(&p, KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_IN);
	p.enc_key_len = 16; /* no salt */
	assert_null(esp_sa_new(&p, &err));
	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_IN);
	p.auth_key_len = 20;
	assert_null(esp_sa_new(&p, &err));
	params(&p, KZ_ENC_DES_CBC, KZ_AUTH_HMAC_SHA1, KZ_CHILD_IN);
	assert_null(esp_sa_new(&p, &err));
	assert_int_equal(err, KZ_ENOTSUP);
	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_IN);
	p.replay_window = 1025;
	assert_null(esp_sa_new(&p, &err));
	assert_int_equal(err, KZ_ERANGE);
	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_IN);
	p.spi = 0;
	assert_null(esp_sa_new(&p, &err));
	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_IN);
	p.replay_window = 1024;
	esp_sa_free(esp_sa_new(&p, &err));
	assert_int_equal(err, 0);
	esp_sa_free(NULL);
}

static void test_wrong_direction(void **state)
{
	struct esp_sa *out = sa_make(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_OUT);
	struct esp_sa *in = sa_make(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_IN);
	uint8_t inner[40], pkt[200], back[200];
	size_t n, m;
	enum esp_drop why;

	ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 0);
	assert_int_equal(esp_encap(in, inner, sizeof(inner), pkt, sizeof(pkt), &n), KZ_EINVAL);
	assert_int_equal(esp_encap(out, inner, 0, pkt, sizeof(pkt), &n), KZ_EINVAL);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(esp_decap(out, pkt, n, back, sizeof(back), &m, &why), KZ_EINVAL);
	/* Too small an output buffer, both ways; nothing consumed. */
	assert_int_equal(
		esp_encap(out, inner, sizeof(inner), pkt, esp_sa_encap_len(out, 40) - 1, &n),
		KZ_ENOSPC);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(be32(pkt + 4), 2);
	assert_int_equal(esp_decap(in, pkt, n, back, 40, &m, &why), KZ_ENOSPC);
	assert_int_equal(why, ESP_DROP_NO_SPACE);
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
	/* Larger than any datagram. */
	{
		static uint8_t huge[ESP_MAX_PACKET + 1], hback[ESP_MAX_PACKET + 1];

		memcpy(huge, pkt, n);
		assert_int_equal(esp_decap(in, huge, sizeof(huge), hback, sizeof(hback), &m, &why),
				 KZ_EPROTO);
		assert_int_equal(why, ESP_DROP_OVERSIZE);
	}
	esp_sa_free(out);
	esp_sa_free(in);
}

/* Flip one bit at every offset: each region gives its own reason, and
 * none of the forgeries moves the window, so the genuine packet passes
 * afterwards. */
static void tamper_all(enum kz_enc enc, enum kz_auth auth)
{
	struct esp_sa *out = sa_make(enc, auth, KZ_CHILD_OUT);
	struct esp_sa *in = sa_make(enc, auth, KZ_CHILD_IN);
	uint8_t inner[77], pkt[300], bad[300], back[300];
	size_t n, m, i, ivl = esp_sa_iv_len(out), icvl = esp_sa_icv_len(out);
	uint64_t icv_drops = 0;
	enum esp_drop why;
	int bit;

	ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 3);
	/* Sequence 0x101 so that one flipped bit never makes it 0. */
	assert_int_equal(esp_sa_impair_seq(out, 0x101), 0);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			enum esp_drop want;

			memcpy(bad, pkt, n);
			bad[i] ^= (uint8_t)(1u << bit);
			if (i < 4)
				want = ESP_DROP_BAD_SPI;
			else
				want = ESP_DROP_ICV; /* seq, IV, ciphertext, ICV */
			assert_int_not_equal(esp_decap(in, bad, n, back, sizeof(back), &m, &why),
					     0);
			if (why != want)
				fail_msg("enc %d offset %zu (iv %zu icv %zu): %s, want %s", enc, i,
					 ivl, icvl, esp_drop_name(why), esp_drop_name(want));
			assert_int_equal(m, 0);
			if (want == ESP_DROP_ICV)
				icv_drops++;
		}
	}
	assert_int_equal(esp_sa_drops(in, ESP_DROP_ICV), icv_drops);
	assert_int_equal(esp_sa_drops(in, ESP_DROP_BAD_SPI), 8);
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
	assert_memory_equal(back, inner, sizeof(inner));
	/* And now it is a replay. */
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), KZ_EPROTO);
	assert_int_equal(why, ESP_DROP_REPLAY);
	assert_int_equal(esp_sa_drops(in, ESP_DROP_REPLAY), 1);
	esp_sa_free(out);
	esp_sa_free(in);
}

static void test_tamper(void **state)
{
	tamper_all(KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256);
	tamper_all(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE);
	tamper_all(KZ_ENC_AES_GCM_256, KZ_AUTH_NONE);
	tamper_all(KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_SHA1);
	tamper_all(KZ_ENC_NULL, KZ_AUTH_HMAC_SHA2_512);
}

/* Every prefix of a valid packet is refused with the reason its length
 * deserves. */
static void truncate_all(enum kz_enc enc, enum kz_auth auth)
{
	struct esp_sa *out = sa_make(enc, auth, KZ_CHILD_OUT);
	struct esp_sa *in = sa_make(enc, auth, KZ_CHILD_IN);
	uint8_t inner[60], pkt[300], back[300];
	size_t n, m, l, fixed;
	size_t blk = esp_sa_block_len(out);
	enum esp_drop why;

	ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 9);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	fixed = 8 + esp_sa_iv_len(out) + esp_sa_icv_len(out);
	for (l = 0; l < n; l++) {
		enum esp_drop want;

		if (l <= fixed)
			want = ESP_DROP_TRUNCATED;
		else if ((l - fixed) % blk)
			want = ESP_DROP_MISALIGNED;
		else
			want = ESP_DROP_ICV;
		assert_int_not_equal(esp_decap(in, pkt, l, back, sizeof(back), &m, &why), 0);
		if (why != want)
			fail_msg("enc %d length %zu: %s, want %s", enc, l, esp_drop_name(why),
				 esp_drop_name(want));
	}
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
	/* Extra bytes at the end shift the ICV: refused too. */
	pkt[n] = 0;
	assert_int_not_equal(esp_decap(in, pkt, n + blk, back, sizeof(back), &m, &why), 0);
	esp_sa_free(out);
	esp_sa_free(in);
}

static void test_truncated(void **state)
{
	truncate_all(KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1);
	truncate_all(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE);
	truncate_all(KZ_ENC_3DES_CBC, KZ_AUTH_HMAC_SHA2_384);
	truncate_all(KZ_ENC_NULL, KZ_AUTH_HMAC_MD5);
}

/* A selector with protocol and ports (RFC 4301 5.2): UDP from the remote
 * port 5353 to the local port 53 only; other ports, another protocol and
 * a later fragment are dropped as outside the selector. */
static void test_selector_ports(void **state)
{
	static const struct {
		uint8_t proto;
		uint16_t sport, dport, frag;
		enum esp_drop want;
	} t[] = {
		{ 17, 5353, 53, 0, ESP_DROP_NONE },
		{ 17, 5353, 54, 0, ESP_DROP_SELECTOR },
		{ 17, 5354, 53, 0, ESP_DROP_SELECTOR },
		{ 6, 5353, 53, 0, ESP_DROP_SELECTOR },
		/* the first fragment (MF set) has the ports; a later one not */
		{ 17, 5353, 53, 0x2000, ESP_DROP_NONE },
		{ 17, 5353, 53, 0x0010, ESP_DROP_SELECTOR },
	};
	struct kz_child_sa p;
	struct esp_sa *out, *in;
	uint8_t inner[48], pkt[200], back[200];
	size_t n, m;
	enum esp_drop why;
	int err;

	(void)state;
	params(&p, KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_OUT);
	out = esp_sa_new(&p, &err);
	params(&p, KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_IN);
	p.ts_proto = 17;
	p.ts_lport = 53;
	p.ts_rport = 5353;
	in = esp_sa_new(&p, &err);
	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 0);
		inner[9] = t[i].proto;
		inner[6] = (uint8_t)(t[i].frag >> 8);
		inner[7] = (uint8_t)t[i].frag;
		inner[20] = (uint8_t)(t[i].sport >> 8);
		inner[21] = (uint8_t)t[i].sport;
		inner[22] = (uint8_t)(t[i].dport >> 8);
		inner[23] = (uint8_t)t[i].dport;
		assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
		esp_decap(in, pkt, n, back, sizeof(back), &m, &why);
		if (why != t[i].want)
			fail_msg("case %zu: %s", i, esp_drop_name(why));
	}
	esp_sa_free(out);
	esp_sa_free(in);
}

static void test_selectors(void **state)
{
	static const struct {
		uint32_t src, dst;
		enum esp_drop want;
	} t[] = {
		{ SRC_OK, DST_OK, ESP_DROP_NONE },
		{ 0xc0a802feu, 0xc0a80101u, ESP_DROP_NONE },
		{ 0xc0a8030au, DST_OK, ESP_DROP_SELECTOR }, /* src outside remote */
		{ SRC_OK, 0x0a000001u, ESP_DROP_SELECTOR }, /* dst outside local */
		{ DST_OK, SRC_OK, ESP_DROP_SELECTOR },      /* reversed */
		{ 0xc0a8020au, 0xc0a8000au, ESP_DROP_SELECTOR },
	};
	struct esp_sa *out = sa_make(KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_OUT);
	struct esp_sa *in = sa_make(KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_IN);
	uint8_t inner[48], pkt[200], back[200];
	size_t i, n, m;
	enum esp_drop why;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ipv4(inner, sizeof(inner), t[i].src, t[i].dst, 0);
		assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
		esp_decap(in, pkt, n, back, sizeof(back), &m, &why);
		if (why != t[i].want)
			fail_msg("case %zu: %s", i, esp_drop_name(why));
	}
	assert_int_equal(esp_sa_drops(in, ESP_DROP_SELECTOR), 4);
	esp_sa_free(out);
	esp_sa_free(in);

	/* Unset selectors (or /0) let everything through. */
	{
		struct kz_child_sa p;

		params(&p, KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_OUT);
		out = esp_sa_new(&p, NULL);
		p.dir = KZ_CHILD_IN;
		p.local_ts.set = false;
		p.remote_ts.len = 0;
		in = esp_sa_new(&p, NULL);
		assert_non_null(out);
		assert_non_null(in);
		ipv4(inner, sizeof(inner), 0x08080808u, 0x01020304u, 0);
		assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
		assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
		esp_sa_free(out);
		esp_sa_free(in);
	}
}

static void test_seq_exhaustion(void **state)
{
	struct esp_sa *out = sa_make(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_OUT);
	struct esp_sa *in = sa_make(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, KZ_CHILD_IN);
	uint8_t inner[40], pkt[200], back[200];
	size_t n, m;
	enum esp_drop why;

	ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 0);
	assert_int_equal(esp_sa_impair_seq(out, 0), KZ_EINVAL);
	assert_int_equal(esp_sa_impair_seq(out, UINT32_MAX - 1), 0);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(be32(pkt + 4), UINT32_MAX - 1);
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(be32(pkt + 4), UINT32_MAX);
	/* GCM explicit IV = the sequence number, zero-extended. */
	assert_memory_equal(pkt + 8, "\0\0\0\0\xff\xff\xff\xff", 8);
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
	assert_int_equal(esp_sa_state(out), ESP_SA_ACTIVE);
	/* Never wraps to 0. */
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), KZ_ERANGE);
	assert_int_equal(esp_sa_state(out), ESP_SA_SEQ_EXHAUSTED);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), KZ_ERANGE);
	esp_sa_free(out);
	esp_sa_free(in);
}

static void test_byte_lifetime(void **state)
{
	struct kz_child_sa p;
	struct esp_sa *out, *in;
	uint8_t inner[400], pkt[600], back[600];
	size_t n, m;
	enum esp_drop why;
	int i;

	params(&p, KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_OUT);
	p.life_kbytes = 1; /* 1024 bytes */
	out = esp_sa_new(&p, NULL);
	p.dir = KZ_CHILD_IN;
	in = esp_sa_new(&p, NULL);
	assert_non_null(out);
	assert_non_null(in);
	ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 0);
	/* 0, 400, 800 bytes sent before: below the limit, so allowed. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
		assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), 0);
	}
	assert_int_equal(esp_sa_state(out), ESP_SA_ACTIVE);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), KZ_ERANGE);
	assert_int_equal(esp_sa_state(out), ESP_SA_EXPIRED_BYTES);
	/* Inbound past the limit: dropped as expired. */
	assert_int_equal(esp_sa_impair_seq(out, 100), 0);
	esp_sa_free(out);
	p.dir = KZ_CHILD_OUT;
	p.life_kbytes = 0;
	out = esp_sa_new(&p, NULL);
	assert_int_equal(esp_sa_impair_seq(out, 100), 0);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(esp_decap(in, pkt, n, back, sizeof(back), &m, &why), KZ_EPROTO);
	assert_int_equal(why, ESP_DROP_EXPIRED);
	assert_int_equal(esp_sa_state(in), ESP_SA_EXPIRED_BYTES);
	esp_sa_free(out);
	esp_sa_free(in);
}

static void test_cbc_iv_unique(void **state)
{
	struct esp_sa *out = sa_make(KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_OUT);
	struct esp_sa *out2 = sa_make(KZ_ENC_AES_CBC_128, KZ_AUTH_HMAC_SHA1, KZ_CHILD_OUT);
	uint8_t inner[40], a[200], b[200], c[200];
	size_t n;

	ipv4(inner, sizeof(inner), SRC_OK, DST_OK, 0);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), a, sizeof(a), &n), 0);
	assert_int_equal(esp_encap(out, inner, sizeof(inner), b, sizeof(b), &n), 0);
	assert_int_equal(esp_encap(out2, inner, sizeof(inner), c, sizeof(c), &n), 0);
	assert_memory_not_equal(a + 8, b + 8, 16);
	/* Same keys and sequence number, another SA: the IV key is random. */
	assert_memory_not_equal(a + 8, c + 8, 16);
	assert_memory_not_equal(a + 24, b + 24, 16);
	esp_sa_free(out);
	esp_sa_free(out2);
}

/* ---- packets with chosen plaintext, sealed independently ---- */

static const char *cipher_name(enum kz_enc e)
{
	return e == KZ_ENC_AES_CBC_256    ? "AES-256-CBC"
		: e == KZ_ENC_AES_GCM_128 ? "AES-128-GCM"
					  : NULL;
}

/* SPI | seq | IV | E(body) | ICV with the keys of params(). */
static size_t seal(enum kz_enc enc, enum kz_auth auth, uint32_t seq, const uint8_t *body,
		   size_t blen, uint8_t *out)
{
	struct kz_child_sa p;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_CIPHER *ci = NULL;
	size_t ivl = 0, off, mdlen;
	int n;

	params(&p, enc, auth, KZ_CHILD_OUT);
	out[0] = SPI_AB >> 24, out[1] = (SPI_AB >> 16) & 0xff, out[2] = (SPI_AB >> 8) & 0xff;
	out[3] = SPI_AB & 0xff;
	out[4] = (uint8_t)(seq >> 24), out[5] = (uint8_t)(seq >> 16), out[6] = (uint8_t)(seq >> 8);
	out[7] = (uint8_t)seq;
	if (cipher_name(enc))
		ci = EVP_CIPHER_fetch(NULL, cipher_name(enc), NULL);
	if (enc == KZ_ENC_AES_GCM_128) {
		uint8_t nonce[12];

		ivl = 8;
		memcpy(out + 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
		memcpy(nonce, p.enc_key + 16, 4);
		memcpy(nonce + 4, out + 8, 8);
		off = 16;
		assert_true(EVP_EncryptInit_ex(c, ci, NULL, p.enc_key, nonce));
		assert_true(EVP_EncryptUpdate(c, NULL, &n, out, 8));
		assert_true(EVP_EncryptUpdate(c, out + off, &n, body, (int)blen));
		assert_true(EVP_EncryptFinal_ex(c, out + off + blen, &n));
		assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + off + blen));
		mdlen = 16;
	} else {
		uint8_t md[64];

		if (ci) {
			ivl = 16;
			memset(out + 8, 0xa5, ivl);
			off = 8 + ivl;
			assert_true(EVP_EncryptInit_ex(c, ci, NULL, p.enc_key, out + 8));
			EVP_CIPHER_CTX_set_padding(c, 0);
			assert_true(EVP_EncryptUpdate(c, out + off, &n, body, (int)blen));
			assert_int_equal(n, blen);
		} else {
			off = 8;
			memcpy(out + off, body, blen);
		}
		assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, p.auth_key, 32, out,
					  off + blen, md, sizeof(md), &mdlen));
		mdlen = 16;
		memcpy(out + off + blen, md, mdlen);
	}
	EVP_CIPHER_free(ci);
	EVP_CIPHER_CTX_free(c);
	return off + blen + mdlen;
}

struct body_case {
	const char *what;
	size_t iplen;    /* inner IPv4 packet; its total length field */
	uint16_t totlen; /* 0: = iplen */
	uint8_t vihl;    /* 0: 0x45 */
	size_t tfc;      /* TFC padding after the packet */
	int padmode;     /* 0 good, 1 a wrong pad byte, 2 pad length too long */
	uint8_t nh;
	enum esp_drop want;
	size_t want_len;
};

static const struct body_case bodies[] = {
	{ "good", 40, 0, 0, 0, 0, 4, ESP_DROP_NONE, 40 },
	{ "tfc padding cut off", 40, 0, 0, 24, 0, 4, ESP_DROP_NONE, 40 },
	{ "pad byte wrong", 40, 0, 0, 0, 1, 4, ESP_DROP_PADDING, 0 },
	{ "pad length past start", 40, 0, 0, 0, 2, 4, ESP_DROP_PADDING, 0 },
	{ "dummy packet", 40, 0, 0, 0, 0, 59, ESP_DROP_DUMMY, 0 },
	{ "ipv6 inside", 40, 0, 0, 0, 0, 41, ESP_DROP_NEXT_HEADER, 0 },
	{ "next header 0", 40, 0, 0, 0, 0, 0, ESP_DROP_NEXT_HEADER, 0 },
	{ "version 6", 40, 0, 0x65, 0, 0, 4, ESP_DROP_INNER_HEADER, 0 },
	{ "ihl 4", 40, 0, 0x44, 0, 0, 4, ESP_DROP_INNER_HEADER, 0 },
	{ "ihl past total", 40, 0, 0x4f, 0, 0, 4, ESP_DROP_INNER_HEADER, 0 },
	{ "total length too big", 40, 41, 0, 0, 0, 4, ESP_DROP_INNER_HEADER, 0 },
	{ "total length < header", 40, 19, 0, 0, 0, 4, ESP_DROP_INNER_HEADER, 0 },
	{ "shorter than a header", 12, 12, 0, 0, 0, 4, ESP_DROP_INNER_HEADER, 0 },
};

static void chosen_bodies(enum kz_enc enc, enum kz_auth auth, size_t blk)
{
	struct esp_sa *in = sa_make(enc, auth, KZ_CHILD_IN);
	uint8_t body[400], pkt[600], back[600];
	size_t i, m, n;
	enum esp_drop why;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const struct body_case *bc = &bodies[i];
		size_t len = bc->iplen + bc->tfc, padlen, k;
		int r;

		ipv4(body, bc->iplen < 20 ? 20 : bc->iplen, SRC_OK, DST_OK, 1);
		if (bc->totlen) {
			body[2] = (uint8_t)(bc->totlen >> 8);
			body[3] = (uint8_t)bc->totlen;
		}
		if (bc->vihl)
			body[0] = bc->vihl;
		memset(body + bc->iplen, 0, bc->tfc);
		padlen = (blk - (len + 2) % blk) % blk;
		if (padlen < 3)
			padlen += blk; /* room for a wrong byte */
		for (k = 0; k < padlen; k++)
			body[len + k] = (uint8_t)(k + 1);
		if (bc->padmode == 1)
			body[len + 2] = 9;
		body[len + padlen] = (uint8_t)padlen;
		if (bc->padmode == 2)
			body[len + padlen] = (uint8_t)(len + padlen + 1);
		body[len + padlen + 1] = bc->nh;
		n = seal(enc, auth, (uint32_t)i + 1, body, len + padlen + 2, pkt);
		r = esp_decap(in, pkt, n, back, sizeof(back), &m, &why);
		if (why != bc->want)
			fail_msg("%s (enc %d): %s", bc->what, enc, esp_drop_name(why));
		assert_int_equal(r == 0, bc->want == ESP_DROP_NONE);
		assert_int_equal(m, bc->want_len);
		if (bc->want_len)
			assert_memory_equal(back, body, bc->want_len);
	}
	esp_sa_free(in);
}

static void test_chosen_bodies(void **state)
{
	chosen_bodies(KZ_ENC_AES_CBC_256, KZ_AUTH_HMAC_SHA2_256, 16);
	chosen_bodies(KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, 4);
	chosen_bodies(KZ_ENC_NULL, KZ_AUTH_HMAC_SHA2_256, 4);
}

static void test_drop_names(void **state)
{
	assert_string_equal(esp_drop_name(ESP_DROP_ICV), "icv");
	assert_string_equal(esp_drop_name(ESP_DROP_REPLAY), "replay");
	assert_string_equal(esp_drop_name(ESP_DROP_SELECTOR), "selector");
	assert_string_equal(esp_drop_name(ESP_DROP_INNER_HEADER), "inner-header");
	assert_string_equal(esp_drop_name(ESP_DROP_COUNT), "?");
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_roundtrip_all), cmocka_unit_test(test_icv_lengths),
	     cmocka_unit_test(test_bad_params), cmocka_unit_test(test_wrong_direction),
	     cmocka_unit_test(test_tamper), cmocka_unit_test(test_truncated),
	     cmocka_unit_test(test_selectors), cmocka_unit_test(test_seq_exhaustion),
	     cmocka_unit_test(test_byte_lifetime), cmocka_unit_test(test_cbc_iv_unique),
	     cmocka_unit_test(test_chosen_bodies), cmocka_unit_test(test_drop_names),
	     cmocka_unit_test(test_selector_ports))
