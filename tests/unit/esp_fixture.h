/* esp_fixture.h - the child SA parameters the ESP tests and the ESP fuzz
 * harness build their SAs from: fixed keys (byte i of the cipher key is
 * i * 7 + 1, of the integrity key i * 13 + 5), a window of 64 and the
 * inbound selectors 192.168.2.0/24 -> 192.168.1.0/24. */
#ifndef KZ_TESTS_ESP_FIXTURE_H
#define KZ_TESTS_ESP_FIXTURE_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "lib/childsa.h"

/* Key bytes an algorithm takes, GCM's 4-byte salt included. */
static inline size_t esp_fixture_enc_key_len(enum kz_enc e)
{
	switch (e) {
	case KZ_ENC_AES_CBC_128:
		return 16;
	case KZ_ENC_AES_CBC_192:
		return 24;
	case KZ_ENC_AES_CBC_256:
		return 32;
	case KZ_ENC_AES_GCM_128:
		return 20;
	case KZ_ENC_AES_GCM_256:
		return 36;
	case KZ_ENC_3DES_CBC:
		return 24;
	default:
		return 0;
	}
}

static inline size_t esp_fixture_auth_key_len(enum kz_auth a)
{
	static const size_t n[KZ_AUTH_COUNT] = { 0, 16, 20, 32, 48, 64 };
	return n[a];
}

static inline void esp_fixture_params(struct kz_child_sa *p, uint32_t spi, enum kz_enc enc,
				      enum kz_auth auth, enum kz_child_dir dir)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->spi = spi;
	p->enc = enc;
	p->auth = auth;
	p->enc_key_len = esp_fixture_enc_key_len(enc);
	p->auth_key_len = esp_fixture_auth_key_len(auth);
	for (i = 0; i < p->enc_key_len; i++)
		p->enc_key[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < p->auth_key_len; i++)
		p->auth_key[i] = (uint8_t)(i * 13 + 5);
	p->replay_window = 64;
	p->local_ts.set = true;
	p->local_ts.addr.s_addr = htonl(0xc0a80100);
	p->local_ts.len = 24;
	p->remote_ts.set = true;
	p->remote_ts.addr.s_addr = htonl(0xc0a80200);
	p->remote_ts.len = 24;
}

/* An IPv4 packet of len bytes (>= 20) from src to dst: UDP, TTL 64, byte i
 * of the rest fill + i. */
static inline void esp_fixture_ipv4(uint8_t *p, size_t len, uint32_t src, uint32_t dst,
				    uint8_t fill)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(fill + i);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	p[12] = (uint8_t)(src >> 24), p[13] = (uint8_t)(src >> 16);
	p[14] = (uint8_t)(src >> 8), p[15] = (uint8_t)src;
	p[16] = (uint8_t)(dst >> 24), p[17] = (uint8_t)(dst >> 16);
	p[18] = (uint8_t)(dst >> 8), p[19] = (uint8_t)dst;
}

static inline uint32_t esp_fixture_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071 the slow way, to check the fast code against: the 16-bit
 * big-endian words of p added to s, unfolded. */
static inline uint32_t esp_fixture_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t esp_fixture_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#endif
