/* test_lib_privmsg.c - the privilege-separation messages: round trips of
 * every type, and each field the parent must refuse. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "lib/err.h"
#include "lib/privmsg.h"

static uint8_t wire[PRIVMSG_MAX];

static int round_trip(const struct privmsg *in, struct privmsg *out)
{
	size_t len;
	int r = privmsg_encode(in, wire, sizeof(wire), &len);

	return r ? r : privmsg_decode(wire, len, out);
}

static void test_round_trips(void **state)
{
	struct privmsg m, o;
	const char *text = "hostname site-a\n";

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_ROUTE_ADD;
	m.rtype = 1;
	m.addr = inet_addr("192.168.2.0");
	m.plen = 24;
	m.metric = 65520;
	strcpy(m.ifname, "ipsec0");
	m.has_gw = true;
	m.gw = inet_addr("203.0.113.1");
	assert_int_equal(round_trip(&m, &o), 0);
	assert_int_equal(o.type, PRIVMSG_ROUTE_ADD);
	assert_int_equal(o.plen, 24);
	assert_int_equal(o.metric, 65520);
	assert_string_equal(o.ifname, "ipsec0");
	assert_true(o.has_gw);
	assert_int_equal(o.gw, m.gw);
	assert_int_equal(o.addr, m.addr);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_SAVE_CONFIG;
	m.uid = 1000;
	m.text = (const uint8_t *)text;
	m.text_len = strlen(text);
	assert_int_equal(round_trip(&m, &o), 0);
	assert_int_equal(o.uid, 1000);
	assert_int_equal(o.text_len, strlen(text));
	assert_memory_equal(o.text, text, strlen(text));

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_TUN_OPEN;
	strcpy(m.ifname, "ipsec3");
	m.flags = 3;
	assert_int_equal(round_trip(&m, &o), 0);
	assert_int_equal(o.flags, 3);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_REPLY;
	m.rc = KZ_ENOENT;
	assert_int_equal(round_trip(&m, &o), 0);
	assert_int_equal(o.rc, KZ_ENOENT);
	assert_int_equal(o.text_len, 0);

	m.type = PRIVMSG_ESP_OPEN;
	assert_int_equal(round_trip(&m, &o), 0);
	assert_int_equal(o.type, PRIVMSG_ESP_OPEN);
}

/* BUS_OPEN is the type alone: two bytes, nothing may follow. */
static void test_bus_open(void **state)
{
	struct privmsg m = { .type = PRIVMSG_BUS_OPEN }, o;
	uint8_t out[8], want[3] = { 0, PRIVMSG_BUS_OPEN, 0 };
	size_t len;

	(void)state;
	assert_int_equal(privmsg_encode(&m, out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(out, want, 2);
	assert_int_equal(privmsg_decode(want, 2, &o), 0);
	assert_int_equal(o.type, PRIVMSG_BUS_OPEN);
	assert_int_equal(privmsg_decode(want, 3, &o), KZ_EPROTO); /* trailing */
	assert_int_equal(privmsg_decode(want, 1, &o), KZ_ETRUNC);
	assert_int_equal(privmsg_encode(&m, out, 1, &len), KZ_ENOSPC);
	assert_string_equal(privmsg_type_name(PRIVMSG_BUS_OPEN), "bus-open");
}

static void test_refused_fields(void **state)
{
	struct privmsg m, o;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_UDP_OPEN;
	m.port = 500;
	assert_int_equal(round_trip(&m, &o), 0);
	m.port = 22;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_ADDR_ADD;
	strcpy(m.ifname, "wan0");
	m.plen = 33;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.plen = 32;
	assert_int_equal(round_trip(&m, &o), 0);
	strcpy(m.ifname, "../x");
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	strcpy(m.ifname, "..");
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.ifname[0] = '\0';
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL); /* a device is needed */

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_LINK_MTU;
	strcpy(m.ifname, "ipsec0");
	m.mtu = 67;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_TUN_OPEN;
	strcpy(m.ifname, "ipsec0");
	m.flags = 4;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_READ_ARCHIVE;
	m.version = 0;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.version = 11;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.version = 10;
	assert_int_equal(round_trip(&m, &o), 0);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_ROUTE_ADD;
	m.rtype = 0; /* "any type" only deletes */
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.type = PRIVMSG_ROUTE_DEL;
	assert_int_equal(round_trip(&m, &o), 0);
	m.rtype = 2; /* local: never ours */
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_JOB_START;
	m.tool = PRIVMSG_TOOL_PING;
	m.count = 5;
	m.size = 56;
	assert_int_equal(round_trip(&m, &o), 0);
	m.tool = 3; /* only ping and traceroute */
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.tool = PRIVMSG_TOOL_PING;
	m.count = 1001;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.count = 1;
	m.size = 65508;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_JOB_END;
	m.id = 0; /* never "every process" */
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	m.id = -1;
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);

	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_METRICS_WRITE;
	strcpy(m.path, "/var/lib/prometheus/node-exporter/kizuna.prom");
	assert_int_equal(round_trip(&m, &o), 0);
	assert_string_equal(o.path, m.path);
	strcpy(m.path, "/var/lib/../../etc/shadow");
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);
	strcpy(m.path, "kizuna.prom"); /* relative */
	assert_int_equal(round_trip(&m, &o), KZ_EINVAL);

	/* text over the cap is refused on both sides */
	memset(&m, 0, sizeof(m));
	m.type = PRIVMSG_SAVE_CONFIG;
	m.text = wire;
	m.text_len = PRIVMSG_TEXT_MAX + 1;
	assert_int_equal(privmsg_encode(&m, wire, sizeof(wire), &len), KZ_EINVAL);
}

static void test_wire_errors(void **state)
{
	/* type 4 (ADDR_ADD), name length 4 "wan0", addr, plen */
	uint8_t ok[] = { 0, 4, 4, 'w', 'a', 'n', '0', 192, 0, 2, 1, 24 };
	uint8_t buf[sizeof(ok) + 1];
	struct privmsg m;

	(void)state;
	assert_int_equal(privmsg_decode(ok, sizeof(ok), &m), 0);
	assert_string_equal(m.ifname, "wan0");
	for (size_t n = 0; n < sizeof(ok); n++)
		assert_int_equal(privmsg_decode(ok, n, &m), KZ_ETRUNC);
	memcpy(buf, ok, sizeof(ok));
	buf[sizeof(ok)] = 0;
	assert_int_equal(privmsg_decode(buf, sizeof(buf), &m), KZ_EPROTO); /* trailing */
	buf[1] = 0;
	assert_int_equal(privmsg_decode(buf, sizeof(ok), &m), KZ_EPROTO); /* type 0 */
	buf[1] = PRIVMSG_TYPE_MAX;
	assert_int_equal(privmsg_decode(buf, sizeof(ok), &m), KZ_EPROTO);
	memcpy(buf, ok, sizeof(ok));
	buf[4] = '\0'; /* NUL inside the name */
	assert_int_equal(privmsg_decode(buf, sizeof(ok), &m), KZ_EINVAL);
	buf[4] = '/';
	assert_int_equal(privmsg_decode(buf, sizeof(ok), &m), KZ_EINVAL);
	memcpy(buf, ok, sizeof(ok));
	buf[2] = 16; /* name too long */
	assert_int_equal(privmsg_decode(buf, sizeof(ok), &m), KZ_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_refused_fields),
		cmocka_unit_test(test_wire_errors),
		cmocka_unit_test(test_bus_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
