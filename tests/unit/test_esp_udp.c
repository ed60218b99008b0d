/* test_esp_udp.c - UDP port 4500 demultiplexing (RFC 3948) and the
 * SPI / sequence number readers of src/esp/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "esp/esp.h"
#include "lib/err.h"
#include "test_main.h"

static void test_classify(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		enum esp_udp_kind want;
	} t[] = {
		{ "", 0, ESP_UDP_INVALID },
		{ "\xff", 1, ESP_UDP_KEEPALIVE }, /* RFC 3948 2.3 */
		{ "\x00", 1, ESP_UDP_INVALID },
		{ "\xfe", 1, ESP_UDP_INVALID },
		{ "\xff\xff", 2, ESP_UDP_INVALID },
		{ "\x00\x00\x00", 3, ESP_UDP_INVALID },
		{ "\x00\x00\x00\x00", 4, ESP_UDP_IKE }, /* marker, IKE empty */
		{ "\x00\x00\x00\x00\x11\x22\x33\x44\x55", 9, ESP_UDP_IKE },
		{ "\x00\x00\x00\x01", 4, ESP_UDP_INVALID }, /* SPI, no seq */
		{ "\x00\x00\x00\x01\x00\x00\x00", 7, ESP_UDP_INVALID },
		{ "\x00\x00\x00\x01\x00\x00\x00\x01", 8, ESP_UDP_ESP },
		{ "\xc0\xff\xee\x01\x00\x00\x00\x05\xaa", 9, ESP_UDP_ESP },
		{ "\xff\x00\x00\x00\x00\x00\x00\x00", 8, ESP_UDP_ESP },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum esp_udp_kind k = esp_udp_classify((const uint8_t *)t[i].bytes, t[i].len);

		if (k != t[i].want)
			fail_msg("case %zu: %s, want %s", i, esp_udp_kind_name(k),
				 esp_udp_kind_name(t[i].want));
	}
	assert_int_equal(esp_udp_classify(NULL, 0), ESP_UDP_INVALID);
	assert_string_equal(esp_udp_kind_name(ESP_UDP_KEEPALIVE), "nat-keepalive");
}

static void test_keepalive(void **state)
{
	uint8_t b[4] = { 0 };

	assert_int_equal(esp_udp_keepalive(b, 0), KZ_ENOSPC);
	assert_int_equal(esp_udp_keepalive(b, sizeof(b)), 1);
	assert_int_equal(b[0], 0xff);
	assert_int_equal(esp_udp_classify(b, 1), ESP_UDP_KEEPALIVE);
}

static void test_spi_seq(void **state)
{
	const uint8_t p[] = { 0xc0, 0xff, 0xee, 0x01, 0x00, 0x00, 0x01, 0x02, 0x99 };
	const uint8_t z[] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	uint32_t v = 0;

	assert_int_equal(esp_packet_spi(p, sizeof(p), &v), 0);
	assert_int_equal(v, 0xc0ffee01);
	assert_int_equal(esp_packet_seq(p, sizeof(p), &v), 0);
	assert_int_equal(v, 0x102);
	assert_int_equal(esp_packet_spi(p, 7, &v), KZ_ETRUNC);
	assert_int_equal(esp_packet_seq(p, 7, &v), KZ_ETRUNC);
	assert_int_equal(esp_packet_spi(z, sizeof(z), &v), KZ_EPROTO);
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_classify), cmocka_unit_test(test_keepalive),
	     cmocka_unit_test(test_spi_seq))
