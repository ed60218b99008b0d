/* esp_udp.c - demultiplexing UDP port 4500 (RFC 3948): NAT keepalives,
 * IKE after the non-ESP marker, and ESP-in-UDP. */
#include "esp/esp.h"
#include "lib/buf.h"
#include "lib/enum_name.h"
#include "lib/err.h"

enum esp_udp_kind esp_udp_classify(const uint8_t *dgram, size_t len)
{
	struct buf b;
	uint32_t first;
	uint8_t c;

	buf_init(&b, dgram, len);
	/* RFC 3948 2.3: a NAT-keepalive is the single byte 0xFF. */
	if (len == ESP_UDP_KEEPALIVE_LEN)
		return buf_get_u8(&b, &c) == 0 && c == 0xff ? ESP_UDP_KEEPALIVE : ESP_UDP_INVALID;
	if (buf_get_u32(&b, &first) < 0)
		return ESP_UDP_INVALID;
	/* RFC 3948 2.2: four zero bytes (where the SPI would be) say IKE
	 * follows. */
	if (first == 0)
		return ESP_UDP_IKE;
	/* RFC 3948 2.1: otherwise ESP, which has at least SPI and
	 * sequence number. */
	return len >= ESP_HDR_LEN ? ESP_UDP_ESP : ESP_UDP_INVALID;
}

const char *esp_udp_kind_name(enum esp_udp_kind k)
{
	static const char *const n[] = {
		[ESP_UDP_INVALID] = "invalid",
		[ESP_UDP_KEEPALIVE] = "nat-keepalive",
		[ESP_UDP_IKE] = "ike",
		[ESP_UDP_ESP] = "esp",
	};
	return KZ_ENUM_NAME(n, k, "?");
}

int esp_udp_keepalive(uint8_t *out, size_t cap)
{
	if (cap < ESP_UDP_KEEPALIVE_LEN)
		return KZ_ENOSPC;
	out[0] = 0xff;
	return ESP_UDP_KEEPALIVE_LEN;
}
