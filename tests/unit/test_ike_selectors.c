/* test_ike_selectors.c - several selector pairs under one IKE SA, each its
 * own Quick Mode and SA pair (both come up, each is rekeyed on its own, a
 * pair the responder lacks fails alone), narrowing (the responder takes an
 * initiator's /32 inside its /24), protocol and ports (kept when the
 * responder's pair names them, refused when it does not), and Quick Mode
 * IDs as peers send them (ranges that are prefixes, ranges that are not). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_world.h"
#include "ike/exchange.h"
#include "ike/isakmp.h"
#include "lib/err.h"
#include "lib/strbuf.h"

static uint32_t Life; /* IPsec SA lifetime of start_sel (0: default) */

static int setup(void **state)
{
	(void)state;
	Life = 0;
	world_setup(0);
	return 0;
}

static struct kz_ipsec_policy *ipol(struct node *n)
{
	return &n->cfg->ipsec_policies.v[0];
}

static struct kz_selector sel(const char *l, unsigned ll, const char *r, unsigned rl)
{
	struct kz_selector s = { 0 };

	s.local = pfx(l, ll);
	s.remote = pfx(r, rl);
	return s;
}

/* Configs as start() makes them, with extra selector lines, then the
 * first exchanges. */
static void start_sel(const struct kz_selector *sa, unsigned na, const struct kz_selector *sb,
		      unsigned nb)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.esp_life = b.esp_life = Life;
	W.b.cfg = make_cfg(&b);
	W.a.cfg = make_cfg(&a);
	for (unsigned i = 0; i < na; i++)
		ipol(&W.a)->sel[ipol(&W.a)->nsel++] = sa[i];
	for (unsigned i = 0; i < nb; i++)
		ipol(&W.b)->sel[ipol(&W.b)->nsel++] = sb[i];
	start_cfg("198.51.100.2");
}

/* Index of B's pair whose inbound SPI is A's outbound SPI of A's pair i. */
static int b_peer_of(int i)
{
	for (int j = 0; j < W.b.nchild; j++)
		if (W.b.in[j].spi == W.a.out[i].spi)
			return j;
	return -1;
}

static void assert_mirrored(int i)
{
	int j = b_peer_of(i);

	assert_true(j >= 0);
	assert_int_equal(W.a.in[i].spi, W.b.out[j].spi);
	assert_memory_equal(W.a.in[i].enc_key, W.b.out[j].enc_key, W.a.in[i].enc_key_len);
	assert_memory_equal(W.a.out[i].enc_key, W.b.in[j].enc_key, W.a.out[i].enc_key_len);
	assert_true(kz_prefix_equal(&W.a.in[i].local_ts, &W.b.in[j].remote_ts));
	assert_true(kz_prefix_equal(&W.a.in[i].remote_ts, &W.b.in[j].local_ts));
	assert_int_equal(W.a.in[i].ts_proto, W.b.in[j].ts_proto);
	assert_int_equal(W.a.in[i].ts_lport, W.b.in[j].ts_rport);
	assert_int_equal(W.a.in[i].ts_rport, W.b.in[j].ts_lport);
}

static bool a_has_pair(const char *l, unsigned ll, const char *r, unsigned rl)
{
	struct kz_prefix pl = pfx(l, ll), pr = pfx(r, rl);

	for (int i = 0; i < W.a.nchild; i++)
		if (W.a.up[i] && kz_prefix_equal(&W.a.out[i].local_ts, &pl) &&
		    kz_prefix_equal(&W.a.out[i].remote_ts, &pr))
			return true;
	return false;
}

static void test_two_pairs_one_ike_sa(void **state)
{
	struct kz_selector sa = sel("10.1.0.0", 16, "10.2.0.0", 16);
	struct kz_selector sb = sel("10.2.0.0", 16, "10.1.0.0", 16);
	char *show;

	start_sel(&sa, 1, &sb, 1);
	assert_int_equal(W.a.nchild, 2);
	assert_int_equal(W.b.nchild, 2);
	assert_mirrored(0);
	assert_mirrored(1);
	assert_true(a_has_pair("192.168.1.0", 24, "192.168.2.0", 24));
	assert_true(a_has_pair("10.1.0.0", 16, "10.2.0.0", 16));
	/* two Quick Modes under one IKE SA */
	show = show_ike(&W.a);
	assert_non_null(strstr(show, "phase2 count=2\n"));
	assert_null(strstr(strstr(show, "IKE PH1 established") + 1, "IKE PH1 established"));
	/* show ipsec sa: both pairs, each block naming its selector */
	show = show_ipsec(&W.a, false);
	assert_non_null(strstr(show, "IPsec SA - 1 configured, 4 created\n"));
	assert_non_null(strstr(show,
			       "mode: tunnel\nselector: local 10.1.0.0/16 remote 10.2.0.0/16\n"
			       "satype: esp"));
	assert_non_null(strstr(show,
			       "mode: tunnel\nselector: local 192.168.1.0/24 "
			       "remote 192.168.2.0/24\nsatype: esp"));
	assert_non_null(strstr(show_ipsec(&W.a, true), "\"selector\":{\"local\":\"10.1.0.0/16\""));
	/* nothing more is negotiated while both pairs live */
	advance(20000);
	assert_int_equal(W.a.nchild, 2);
	assert_int_equal(W.b.nchild, 2);
}

static void test_two_pairs_rekeyed_each(void **state)
{
	struct kz_selector sa = sel("10.1.0.0", 16, "10.2.0.0", 16);
	struct kz_selector sb = sel("10.2.0.0", 16, "10.1.0.0", 16);
	uint64_t t0;

	/* a short lifetime: both pairs renewed, each by its own Quick Mode */
	Life = 600;
	start_sel(&sa, 1, &sb, 1);
	assert_int_equal(W.a.nchild, 2);
	t0 = W.now;
	while (W.a.nchild < 4 && W.now - t0 < 600000)
		advance(500);
	assert_int_equal(W.a.nchild, 4);
	assert_int_equal(W.b.nchild, 4);
	assert_mirrored(2);
	assert_mirrored(3);
	advance(6000);
	/* the two old pairs went, the two new ones stay, one per selector */
	assert_int_equal(W.a.ndown, 2);
	assert_int_equal(W.b.ndown, 2);
	assert_int_equal(iw_pairs_up(&W.a), 2);
	assert_true(a_has_pair("192.168.1.0", 24, "192.168.2.0", 24));
	assert_true(a_has_pair("10.1.0.0", 16, "10.2.0.0", 16));
}

static void test_pair_missing_at_responder(void **state)
{
	struct kz_selector sa = sel("10.1.0.0", 16, "10.2.0.0", 16);

	start_sel(&sa, 1, NULL, 0);
	/* the first pair comes up, the second is refused alone */
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_true(a_has_pair("192.168.1.0", 24, "192.168.2.0", 24));
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_TS_MISMATCH);
	assert_non_null(strstr(status(&W.b)->id_received, "10.2.0.0/16 -> 10.1.0.0/16"));
	assert_non_null(strstr(status(&W.b)->id_expected, "192.168.2.0/24 -> 192.168.1.0/24"));
	assert_int_equal(status(&W.a)->peer_notify, ISAKMP_N_INVALID_ID_INFORMATION);
}

/* Main mode, A asking for remote_ts addr/len. */
static void start_remote_ts(const char *addr, unsigned len)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	W.b.cfg = make_cfg(&b);
	W.a.cfg = make_cfg(&a);
	ipol(&W.a)->remote_ts = pfx(addr, len);
	start_cfg("198.51.100.2");
}

static void test_narrowing_host_in_subnet(void **state)
{
	/* A asks for one host of B's /24 */
	start_remote_ts("192.168.2.10", 32);
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_mirrored(0);
	/* B uses the narrower selector */
	assert_int_equal(W.b.in[0].local_ts.len, 32);
	assert_int_equal(W.b.in[0].local_ts.addr.s_addr, ip("192.168.2.10").s_addr);
	assert_int_equal(W.b.in[0].remote_ts.len, 24);
}

/* wider than B's pair: refused */
static void test_wider_refused(void **state)
{
	start_remote_ts("192.168.0.0", 16);
	assert_int_equal(W.b.nchild, 0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_TS_MISMATCH);
}

static void test_protocol_ports_kept(void **state)
{
	struct kz_selector sa = sel("10.1.0.0", 16, "10.2.0.0", 16);
	struct kz_selector sb = sel("10.2.0.0", 16, "10.1.0.0", 16);
	int j;

	sa.proto = sb.proto = 6;
	sa.rport = 80; /* A to B's web server */
	sb.lport = 80;
	start_sel(&sa, 1, &sb, 1);
	assert_int_equal(W.a.nchild, 2);
	assert_int_equal(W.b.nchild, 2);
	for (int i = 0; i < 2; i++) {
		assert_mirrored(i);
		if (W.a.out[i].ts_proto) {
			assert_int_equal(W.a.out[i].ts_proto, 6);
			assert_int_equal(W.a.out[i].ts_rport, 80);
			assert_int_equal(W.a.out[i].ts_lport, 0);
			j = b_peer_of(i);
			assert_int_equal(W.b.in[j].ts_lport, 80);
		}
	}
	assert_non_null(strstr(show_ipsec(&W.b, false),
			       "selector: local 10.2.0.0/16 remote 10.1.0.0/16 "
			       "protocol tcp local-port 80\n"));
}

static void test_protocol_not_configured_refused(void **state)
{
	struct kz_selector sa = sel("10.1.0.0", 16, "10.2.0.0", 16);
	struct kz_selector sb = sel("10.2.0.0", 16, "10.1.0.0", 16);

	sa.proto = 17;
	sa.rport = 53;
	start_sel(&sa, 1, &sb, 1);
	/* B's pair names no protocol: the UDP one is refused, the first
	 * pair stands */
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_TS_MISMATCH);
	assert_non_null(strstr(status(&W.b)->id_received,
			       "10.2.0.0/16 -> 10.1.0.0/16 protocol udp local-port 53"));
}

/* An ID payload body: type, protocol, port, data. */
static void id_payload(struct isakmp_payload *pl, uint8_t *body, uint8_t type, const char *x,
		       const char *y)
{
	struct in_addr a = ip(x), b = ip(y);

	body[0] = type;
	body[1] = 0;
	body[2] = body[3] = 0;
	memcpy(body + 4, &a, 4);
	memcpy(body + 8, &b, 4);
	memset(pl, 0, sizeof(*pl));
	pl->type = ISAKMP_NP_ID;
	buf_init(&pl->body, body, 12);
}

static void test_id_range_and_subnet(void **state)
{
	struct isakmp_payload pl;
	struct ts_side s;
	uint8_t body[12];
	char text[40];

	(void)state;
	/* a range that is a prefix */
	id_payload(&pl, body, 7, "192.168.1.0", "192.168.1.255");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), 0);
	assert_int_equal(s.net.len, 24);
	assert_int_equal(s.net.addr.s_addr, ip("192.168.1.0").s_addr);
	id_payload(&pl, body, 7, "10.0.0.7", "10.0.0.7");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), 0);
	assert_int_equal(s.net.len, 32);
	id_payload(&pl, body, 7, "0.0.0.0", "255.255.255.255");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), 0);
	assert_int_equal(s.net.len, 0);
	/* one that is not */
	id_payload(&pl, body, 7, "192.168.1.10", "192.168.1.20");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), KZ_ERANGE);
	assert_string_equal(text, "192.168.1.10-192.168.1.20");
	id_payload(&pl, body, 7, "192.168.1.1", "192.168.1.0");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), KZ_ERANGE);
	/* a subnet with host bits is its network; a broken mask is not */
	id_payload(&pl, body, 4, "192.168.1.9", "255.255.255.0");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), 0);
	assert_int_equal(s.net.addr.s_addr, ip("192.168.1.0").s_addr);
	id_payload(&pl, body, 4, "192.168.1.0", "255.0.255.0");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), KZ_EPROTO);
	/* IPv6 is not taken */
	id_payload(&pl, body, 5, "192.168.1.0", "255.0.255.0");
	assert_int_equal(ts_parse(&pl, &s, text, sizeof(text)), KZ_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_two_pairs_one_ike_sa),
		WORLD_TEST(test_two_pairs_rekeyed_each),
		WORLD_TEST(test_pair_missing_at_responder),
		WORLD_TEST(test_narrowing_host_in_subnet),
		WORLD_TEST(test_wider_refused),
		WORLD_TEST(test_protocol_ports_kept),
		WORLD_TEST(test_protocol_not_configured_refused),
		cmocka_unit_test(test_id_range_and_subnet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
