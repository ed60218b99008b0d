/* test_esp_kat.c - known answers for the ESP crypto (src/esp/esp.c).
 *
 * 1. The AES-GCM test cases 1-4 of McGrew and Viega, "The Galois/Counter
 *    Mode of Operation (GCM)", run through the same EVP calls the data
 *    plane makes (key set once, then IV, AAD, data, tag), to pin down the
 *    primitive usage.
 * 2. RFC 4106 ESP: a packet from esp_encap must equal, byte for byte, the
 *    one spelled out here with one-shot EVP: nonce = salt | explicit IV,
 *    explicit IV = the sequence number, AAD = SPI | sequence number.  With
 *    the McGrew-Viega key and salt cafebabe the nonce for sequence
 *    0xfacedbad_decaf888 is test case 3's IV.
 * 3. CBC + HMAC: the packet from esp_encap decrypts and authenticates
 *    with one-shot EVP (RFC 3602, RFC 4868 truncation), padding 1, 2, 3. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "esp/esp.h"
#include "lib/err.h"
#include "test_main.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (h[0] && h[1]) {
		char b[3] = { h[0], h[1], 0 };

		out[n++] = (uint8_t)strtoul(b, NULL, 16);
		h += 2;
	}
	return n;
}

struct gcm_tc {
	const char *k, *p, *a, *iv, *c, *t;
};

static const struct gcm_tc gcm_tcs[] = {
	/* Test Case 1 */
	{ "00000000000000000000000000000000", "", "", "000000000000000000000000", "",
	  "58e2fccefa7e3061367f1d57a4e7455a" },
	/* Test Case 2 */
	{ "00000000000000000000000000000000", "00000000000000000000000000000000", "",
	  "000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
	  "ab6e47d42cec13bdf53a67b21257bddf" },
	/* Test Case 3 */
	{ "feffe9928665731c6d6a8f9467308308",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  "", "cafebabefacedbaddecaf888",
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	  "4d5c2af327cd64a62cf35abd2ba6fab4" },
	/* Test Case 4 */
	{ "feffe9928665731c6d6a8f9467308308",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2", "cafebabefacedbaddecaf888",
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
};

static void test_gcm_mcgrew_viega(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(gcm_tcs) / sizeof(gcm_tcs[0]); i++) {
		uint8_t k[16], p[64], a[32], iv[12], c[64], t[16], out[80], tag[16];
		size_t pl = unhex(gcm_tcs[i].p, p), al = unhex(gcm_tcs[i].a, a);
		EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
		int n, round;

		unhex(gcm_tcs[i].k, k);
		unhex(gcm_tcs[i].iv, iv);
		unhex(gcm_tcs[i].c, c);
		unhex(gcm_tcs[i].t, t);
		/* Key once, then per "packet" only the IV: twice, to show the
		 * context is reusable as esp.c reuses it. */
		assert_true(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k, NULL));
		for (round = 0; round < 2; round++) {
			assert_true(EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv));
			if (al)
				assert_true(EVP_EncryptUpdate(ctx, NULL, &n, a, (int)al));
			assert_true(EVP_EncryptUpdate(ctx, out, &n, p, (int)pl));
			assert_true(EVP_EncryptFinal_ex(ctx, out + pl, &n));
			assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag));
			if (pl)
				assert_memory_equal(out, c, pl);
			if (memcmp(tag, t, 16) != 0)
				fail_msg("test case %zu: tag mismatch", i + 1);
		}
		/* And open it: the right tag passes, a wrong one fails. */
		assert_true(EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k, iv));
		assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, t));
		if (al)
			assert_true(EVP_DecryptUpdate(ctx, NULL, &n, a, (int)al));
		assert_true(EVP_DecryptUpdate(ctx, out, &n, c, (int)pl));
		assert_int_equal(EVP_DecryptFinal_ex(ctx, out + pl, &n), 1);
		t[15] ^= 1;
		assert_true(EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv));
		assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, t));
		if (al)
			assert_true(EVP_DecryptUpdate(ctx, NULL, &n, a, (int)al));
		assert_true(EVP_DecryptUpdate(ctx, out, &n, c, (int)pl));
		assert_true(EVP_DecryptFinal_ex(ctx, out + pl, &n) <= 0);
		EVP_CIPHER_CTX_free(ctx);
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An IPv4 packet from 192.168.2.10 to 192.168.1.10. */
static void ipv4(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 3);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	put32(p + 12, 0xc0a8020a);
	put32(p + 16, 0xc0a8010a);
}

static void sa_params(struct kz_child_sa *p, enum kz_enc enc, enum kz_auth auth, const char *ekey,
		      const char *akey, uint32_t spi)
{
	memset(p, 0, sizeof(*p));
	p->dir = KZ_CHILD_OUT;
	p->spi = spi;
	p->enc = enc;
	p->auth = auth;
	p->enc_key_len = unhex(ekey, p->enc_key);
	p->auth_key_len = akey ? unhex(akey, p->auth_key) : 0;
	p->replay_window = 64;
}

/* The RFC 4106 packet, spelled out with one-shot EVP. */
static size_t rfc4106_seal(const uint8_t *key, size_t keylen, const uint8_t salt[4], uint32_t spi,
			   uint32_t seq, const uint8_t *inner, size_t len, uint8_t *out)
{
	uint8_t nonce[12], body[1600];
	size_t pad = (4 - (len + 2) % 4) % 4, blen = len + pad + 2, i;
	int n;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	put32(out, spi);
	put32(out + 4, seq);
	memset(out + 8, 0, 4); /* explicit IV: the 64-bit sequence number */
	put32(out + 12, seq);
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, out + 8, 8);
	memcpy(body, inner, len);
	for (i = 0; i < pad; i++)
		body[len + i] = (uint8_t)(i + 1);
	body[len + pad] = (uint8_t)pad;
	body[len + pad + 1] = 4;
	assert_true(EVP_EncryptInit_ex(c, keylen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(),
				       NULL, key, nonce));
	assert_true(EVP_EncryptUpdate(c, NULL, &n, out, 8));
	assert_true(EVP_EncryptUpdate(c, out + 16, &n, body, (int)blen));
	assert_true(EVP_EncryptFinal_ex(c, out + 16 + blen, &n));
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 16 + blen));
	EVP_CIPHER_CTX_free(c);
	return 16 + blen + 16;
}

static void test_rfc4106_packet(void **state)
{
	static const struct {
		enum kz_enc enc;
		const char *key; /* key | salt */
	} t[] = {
		{ KZ_ENC_AES_GCM_128,
		  "feffe9928665731c6d6a8f9467308308"
		  "cafebabe" },
		{ KZ_ENC_AES_GCM_256,
		  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
		  "cafebabe" },
	};
	static const size_t lens[] = { 20, 21, 22, 23, 60, 1400 };
	size_t i, l;

	for (i = 0; i < 2; i++) {
		struct kz_child_sa p;
		struct esp_sa *out, *in;
		uint8_t inner[1400], got[1500], want[1500], back[1500];
		size_t n, wn, m;
		enum esp_drop why;

		sa_params(&p, t[i].enc, KZ_AUTH_NONE, t[i].key, NULL, 0x0000a5f8);
		out = esp_sa_new(&p, NULL);
		p.dir = KZ_CHILD_IN;
		in = esp_sa_new(&p, NULL);
		assert_non_null(out);
		assert_non_null(in);
		/* decaf888: with salt cafebabe and SPI-independent nonce the
		 * nonce is cafebabe 00000000 decaf888. */
		assert_int_equal(esp_sa_impair_seq(out, 0xdecaf888), 0);
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			uint32_t seq = 0xdecaf888 + (uint32_t)l;

			ipv4(inner, lens[l]);
			assert_int_equal(esp_encap(out, inner, lens[l], got, sizeof(got), &n), 0);
			wn = rfc4106_seal(p.enc_key, p.enc_key_len - 4,
					  p.enc_key + p.enc_key_len - 4, 0x0000a5f8, seq, inner,
					  lens[l], want);
			assert_int_equal(n, wn);
			assert_memory_equal(got, want, n);
			assert_int_equal(esp_decap(in, want, wn, back, sizeof(back), &m, &why), 0);
			assert_int_equal(m, lens[l]);
			assert_memory_equal(back, inner, m);
		}
		esp_sa_free(out);
		esp_sa_free(in);
	}
}

/* A fixed packet: AES-128-GCM with the key and salt of McGrew-Viega test
 * case 3, SPI 0x0000a5f8, sequence 0x0000000a, explicit IV
 * facedbaddecaf888, so the nonce is test case 3's IV and the key stream
 * is test case 3's C XOR P.  The ciphertext is built from that key stream
 * alone; esp_decap must open it. */
static void test_rfc4106_keystream(void **state)
{
	uint8_t p3[64], c3[64], body[24], pkt[80], back[80], nonce[12];
	struct kz_child_sa p;
	struct esp_sa *in;
	EVP_CIPHER_CTX *c;
	size_t i, m;
	int n;
	enum esp_drop why;

	unhex(gcm_tcs[2].p, p3);
	unhex(gcm_tcs[2].c, c3);
	ipv4(body, 20);
	put32(pkt, 0x0000a5f8);
	put32(pkt + 4, 0x0000000a);
	unhex("facedbaddecaf888", pkt + 8);
	/* 20-byte inner packet | padding 1, 2 | pad length 2 | next header 4. */
	body[20] = 1, body[21] = 2, body[22] = 2, body[23] = 4;
	for (i = 0; i < 24; i++)
		pkt[16 + i] = body[i] ^ p3[i] ^ c3[i];
	/* The tag, from one-shot EVP with AAD = SPI | seq. */
	unhex("cafebabefacedbaddecaf888", nonce);
	c = EVP_CIPHER_CTX_new();
	assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL,
				       (const uint8_t *)"\xfe\xff\xe9\x92\x86\x65\x73\x1c"
							"\x6d\x6a\x8f\x94\x67\x30\x83\x08",
				       nonce));
	assert_true(EVP_EncryptUpdate(c, NULL, &n, pkt, 8));
	assert_true(EVP_EncryptUpdate(c, back, &n, body, 24));
	assert_memory_equal(back, pkt + 16, 24); /* key stream agrees */
	assert_true(EVP_EncryptFinal_ex(c, back + 24, &n));
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, pkt + 40));
	EVP_CIPHER_CTX_free(c);

	sa_params(&p, KZ_ENC_AES_GCM_128, KZ_AUTH_NONE, "feffe9928665731c6d6a8f9467308308cafebabe",
		  NULL, 0x0000a5f8);
	p.dir = KZ_CHILD_IN;
	in = esp_sa_new(&p, NULL);
	assert_non_null(in);
	assert_int_equal(esp_decap(in, pkt, 56, back, sizeof(back), &m, &why), 0);
	assert_int_equal(m, 20);
	assert_memory_equal(back, body, 20);
	esp_sa_free(in);
}

static void cbc_check(enum kz_enc enc, const char *cname, const char *ekey, enum kz_auth auth,
		      const char *digest, const char *akey, size_t icv, size_t ivl)
{
	struct kz_child_sa p;
	struct esp_sa *out;
	uint8_t inner[101], pkt[300], plain[300], md[64];
	size_t n, mdlen, ctlen, i, padlen;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int k;

	sa_params(&p, enc, auth, ekey, akey, 0x12345678);
	out = esp_sa_new(&p, NULL);
	assert_non_null(out);
	ipv4(inner, sizeof(inner));
	assert_int_equal(esp_encap(out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	ctlen = n - 8 - ivl - icv;
	/* RFC 4303 3.3.4: ICV = truncated HMAC over SPI .. ciphertext. */
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, p.auth_key, p.auth_key_len, pkt,
				  n - icv, md, sizeof(md), &mdlen));
	assert_memory_equal(pkt + n - icv, md, icv);
	if (cname) {
		EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, cname, NULL);

		assert_non_null(ci);
		assert_true(EVP_DecryptInit_ex(c, ci, NULL, p.enc_key, pkt + 8));
		EVP_CIPHER_CTX_set_padding(c, 0);
		assert_true(EVP_DecryptUpdate(c, plain, &k, pkt + 8 + ivl, (int)ctlen));
		assert_int_equal(k, ctlen);
		EVP_CIPHER_free(ci);
	} else {
		memcpy(plain, pkt + 8, ctlen);
	}
	assert_memory_equal(plain, inner, sizeof(inner));
	padlen = plain[ctlen - 2];
	assert_int_equal(plain[ctlen - 1], 4);
	assert_int_equal(sizeof(inner) + padlen + 2, ctlen);
	for (i = 0; i < padlen; i++)
		assert_int_equal(plain[sizeof(inner) + i], i + 1);
	EVP_CIPHER_CTX_free(c);
	esp_sa_free(out);
}

static void test_cbc_hmac_independent(void **state)
{
	const char *k16 = "000102030405060708090a0b0c0d0e0f";
	const char *k24 = "000102030405060708090a0b0c0d0e0f1011121314151617";
	const char *k32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	const char *k48 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
			  "00112233445566778899aabbccddeeff";
	const char *k64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
			  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	const char *k20 = "0102030405060708090a0b0c0d0e0f1011121314";

	cbc_check(KZ_ENC_AES_CBC_128, "AES-128-CBC", k16, KZ_AUTH_HMAC_SHA1, "SHA1", k20, 12, 16);
	cbc_check(KZ_ENC_AES_CBC_192, "AES-192-CBC", k24, KZ_AUTH_HMAC_MD5, "MD5", k16, 12, 16);
	cbc_check(KZ_ENC_AES_CBC_256, "AES-256-CBC", k32, KZ_AUTH_HMAC_SHA2_256, "SHA256", k32, 16,
		  16);
	cbc_check(KZ_ENC_AES_CBC_256, "AES-256-CBC", k32, KZ_AUTH_HMAC_SHA2_384, "SHA384", k48, 24,
		  16);
	cbc_check(KZ_ENC_AES_CBC_256, "AES-256-CBC", k32, KZ_AUTH_HMAC_SHA2_512, "SHA512", k64, 32,
		  16);
	cbc_check(KZ_ENC_3DES_CBC, "DES-EDE3-CBC", k24, KZ_AUTH_HMAC_SHA1, "SHA1", k20, 12, 8);
	cbc_check(KZ_ENC_NULL, NULL, "", KZ_AUTH_HMAC_SHA2_256, "SHA256", k32, 16, 0);
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_gcm_mcgrew_viega),
	     cmocka_unit_test(test_rfc4106_packet), cmocka_unit_test(test_rfc4106_keystream),
	     cmocka_unit_test(test_cbc_hmac_independent))
