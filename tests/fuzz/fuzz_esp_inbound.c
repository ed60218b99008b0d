/* fuzz_esp_inbound.c - esp_decap and the port 4500 classifier on arbitrary
 * bytes.
 *
 * Two fixed inbound SAs (AES-256-CBC + HMAC-SHA2-256 and AES-128-GCM)
 * with known keys; bit 0 of the first input byte picks the SA, the rest is
 * the packet.  The seed corpus holds valid packets for both.  A fuzzer
 * cannot forge an ICV, so with bit 1 set the rest is instead a plaintext
 * ESP payload (trailer included) that the harness seals for the GCM SA
 * with one-shot OpenSSL: that reaches the padding, next-header,
 * inner-header and selector checks behind the ICV.  A fresh SA per input keeps runs reproducible (the
 * replay window would otherwise remember earlier inputs).
 *
 * Checks: nothing reads out of bounds, a drop always names a reason and
 * leaves no inner packet, and an accepted packet is a whole IPv4 packet
 * inside the SA's selectors. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "esp/esp.h"
#include "lib/err.h"

#include "../unit/esp_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct esp_sa *fuzz_sa(int gcm)
{
	struct kz_child_sa p;

	esp_fixture_params(&p, 0xc0ffee01, gcm ? KZ_ENC_AES_GCM_128 : KZ_ENC_AES_CBC_256,
			   gcm ? KZ_AUTH_NONE : KZ_AUTH_HMAC_SHA2_256, KZ_CHILD_IN);
	return esp_sa_new(&p, NULL);
}

/* SPI | seq 1 | IV | AES-128-GCM(body) | tag with fuzz_sa(1)'s key. */
static size_t seal_gcm(const uint8_t *body, size_t len, uint8_t *out)
{
	static const uint8_t hdr[16] = {
		0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1
	};
	uint8_t key[20], nonce[12];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t i;
	int n;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	memcpy(nonce, key + 16, 4);
	memcpy(nonce + 4, hdr + 8, 8);
	memcpy(out, hdr, sizeof(hdr));
	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, nonce) ||
	    !EVP_EncryptUpdate(c, NULL, &n, hdr, 8) ||
	    !EVP_EncryptUpdate(c, out + 16, &n, body, (int)len) ||
	    !EVP_EncryptFinal_ex(c, out + 16 + len, &n) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 16 + len))
		abort();
	EVP_CIPHER_CTX_free(c);
	return 16 + len + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t sealed[70000];
	static uint8_t inner[70000];
	const uint8_t *pkt;
	struct esp_sa *sa;
	enum esp_drop why;
	size_t plen, n = 1;
	uint32_t v;
	int r;

	if (size < 1)
		return 0;
	pkt = data + 1;
	plen = size - 1;
	(void)esp_udp_classify(pkt, plen);
	(void)esp_packet_spi(pkt, plen, &v);
	if ((data[0] & 2) && plen <= sizeof(sealed) - 32) {
		/* Sealed mode: bodies that are not 4-aligned stay misaligned. */
		plen = seal_gcm(pkt, plen, sealed);
		pkt = sealed;
		sa = fuzz_sa(1);
	} else {
		sa = fuzz_sa(data[0] & 1);
	}
	if (!sa)
		abort();
	/* The same packet twice: the second must be a replay. */
	r = esp_decap(sa, pkt, plen, inner, sizeof(inner), &n, &why);
	if (r == 0) {
		if (why != ESP_DROP_NONE || n < 20 || n > plen || (inner[0] >> 4) != 4 ||
		    inner[12] != 192 || inner[14] != 2 || inner[16] != 192 || inner[18] != 1)
			abort();
		r = esp_decap(sa, pkt, plen, inner, sizeof(inner), &n, &why);
		if (r == 0 || why != ESP_DROP_REPLAY)
			abort();
	} else if (why == ESP_DROP_NONE || n != 0 || esp_sa_drops(sa, why) != 1) {
		abort();
	}
	esp_sa_free(sa);
	return 0;
}
