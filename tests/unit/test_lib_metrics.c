/* test_lib_metrics.c - the Prometheus text of kizunad's metrics file: the
 * exact exposition of a small snapshot (every family with HELP and TYPE,
 * samples in order, SPI labels in hex), label escaping, and a snapshot
 * with nothing in it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/metrics.h"
#include "lib/strbuf.h"
#include "test_main.h"

static void base(struct kzm_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->version = "0.1.0";
	s->hostname = "site-a";
	s->fail_classes[0] = "no_answer";
	s->fail_classes[1] = "psk_mismatch";
	s->nfail_classes = 2;
	s->sa_drop_reasons[0] = "replay";
	s->sa_drop_reasons[1] = "icv";
	s->nsa_drop_reasons = 2;
	s->dp_drops[0] = (struct kzm_count){ "no_sa", 7 };
	s->ndp_drops = 1;
	s->ike_rx = 12;
	s->ike_tx = 13;
	s->ike_retransmits = 1;
	s->ike_drops[0] = (struct kzm_count){ "malformed", 2 };
	s->nike_drops = 1;
	s->nworkers = 2;
	s->worker_in[0] = 30;
	s->worker_out[1] = 31;
}

static const char expected[] =
	"# HELP kizuna_build_info Version and host name of this kizunad; always 1.\n"
	"# TYPE kizuna_build_info gauge\n"
	"kizuna_build_info{version=\"0.1.0\",hostname=\"site-a\"} 1\n"
	"# HELP kizuna_tunnel_up 1 while an IPsec SA pair of the profile carries its traffic, "
	"else 0.\n"
	"# TYPE kizuna_tunnel_up gauge\n"
	"kizuna_tunnel_up{profile=\"HQ\"} 1\n"
	"# HELP kizuna_tunnel_uptime_seconds Seconds since the tunnel of the profile came up; 0 "
	"while it is down.\n"
	"# TYPE kizuna_tunnel_uptime_seconds gauge\n"
	"kizuna_tunnel_uptime_seconds{profile=\"HQ\"} 3600\n"
	"# HELP kizuna_ike_sas Established IKE (phase 1) SAs of the profile.\n"
	"# TYPE kizuna_ike_sas gauge\n"
	"kizuna_ike_sas{profile=\"HQ\"} 1\n"
	"# HELP kizuna_ipsec_sas IPsec SAs of the profile, both directions (two per pair, as "
	"show ipsec sa).\n"
	"# TYPE kizuna_ipsec_sas gauge\n"
	"kizuna_ipsec_sas{profile=\"HQ\"} 2\n"
	"# HELP kizuna_ike_rekeys_total IKE SAs made to replace an older one of the profile "
	"(either side began).\n"
	"# TYPE kizuna_ike_rekeys_total counter\n"
	"kizuna_ike_rekeys_total{profile=\"HQ\"} 4\n"
	"# HELP kizuna_ipsec_rekeys_total IPsec SA pairs made to replace an older one of the "
	"profile (either side began).\n"
	"# TYPE kizuna_ipsec_rekeys_total counter\n"
	"kizuna_ipsec_rekeys_total{profile=\"HQ\"} 5\n"
	"# HELP kizuna_failures_total Failed negotiations of the profile by class (show ipsec "
	"profile).\n"
	"# TYPE kizuna_failures_total counter\n"
	"kizuna_failures_total{profile=\"HQ\",class=\"no_answer\"} 6\n"
	"kizuna_failures_total{profile=\"HQ\",class=\"psk_mismatch\"} 0\n"
	"# HELP kizuna_dpd_verdicts_total Dead Peer Detection verdicts: alive (the peer answered "
	"while our R-U-THEREs were out), dead (the peer was declared dead).\n"
	"# TYPE kizuna_dpd_verdicts_total counter\n"
	"kizuna_dpd_verdicts_total{profile=\"HQ\",verdict=\"alive\"} 8\n"
	"kizuna_dpd_verdicts_total{profile=\"HQ\",verdict=\"dead\"} 9\n"
	"# HELP kizuna_ipsec_sa_packets_total Packets through one direction of an IPsec SA "
	"(show ipsec sa).\n"
	"# TYPE kizuna_ipsec_sa_packets_total counter\n"
	"kizuna_ipsec_sa_packets_total{profile=\"HQ\",interface=\"IPsec0\",spi=\"0x0000abcd\","
	"direction=\"out\"} 31\n"
	"kizuna_ipsec_sa_packets_total{profile=\"HQ\",interface=\"IPsec0\",spi=\"0xc0ffee01\","
	"direction=\"in\"} 30\n"
	"# HELP kizuna_ipsec_sa_bytes_total Inner (plaintext) bytes through one direction of an "
	"IPsec SA (show ipsec sa).\n"
	"# TYPE kizuna_ipsec_sa_bytes_total counter\n"
	"kizuna_ipsec_sa_bytes_total{profile=\"HQ\",interface=\"IPsec0\",spi=\"0x0000abcd\","
	"direction=\"out\"} 3100\n"
	"kizuna_ipsec_sa_bytes_total{profile=\"HQ\",interface=\"IPsec0\",spi=\"0xc0ffee01\","
	"direction=\"in\"} 3000\n"
	"# HELP kizuna_ipsec_sa_drops_total Inbound ESP packets of an IPsec SA dropped, by reason "
	"(show ipsec statistics).\n"
	"# TYPE kizuna_ipsec_sa_drops_total counter\n"
	"kizuna_ipsec_sa_drops_total{profile=\"HQ\",interface=\"IPsec0\",spi=\"0xc0ffee01\","
	"reason=\"replay\"} 2\n"
	"kizuna_ipsec_sa_drops_total{profile=\"HQ\",interface=\"IPsec0\",spi=\"0xc0ffee01\","
	"reason=\"icv\"} 0\n"
	"# HELP kizuna_dataplane_drops_total Packets the data plane dropped outside any SA, by "
	"reason (show ipsec statistics).\n"
	"# TYPE kizuna_dataplane_drops_total counter\n"
	"kizuna_dataplane_drops_total{reason=\"no_sa\"} 7\n"
	"# HELP kizuna_worker_esp_packets_total ESP packets a data-plane worker decrypted (in) and "
	"encrypted (out).\n"
	"# TYPE kizuna_worker_esp_packets_total counter\n"
	"kizuna_worker_esp_packets_total{worker=\"0\",direction=\"in\"} 30\n"
	"kizuna_worker_esp_packets_total{worker=\"0\",direction=\"out\"} 0\n"
	"kizuna_worker_esp_packets_total{worker=\"1\",direction=\"in\"} 0\n"
	"kizuna_worker_esp_packets_total{worker=\"1\",direction=\"out\"} 31\n"
	"# HELP kizuna_ike_messages_total IKE messages received and sent, retransmissions "
	"included.\n"
	"# TYPE kizuna_ike_messages_total counter\n"
	"kizuna_ike_messages_total{direction=\"in\"} 12\n"
	"kizuna_ike_messages_total{direction=\"out\"} 13\n"
	"# HELP kizuna_ike_retransmits_total IKE messages sent again.\n"
	"# TYPE kizuna_ike_retransmits_total counter\n"
	"kizuna_ike_retransmits_total 1\n"
	"# HELP kizuna_ike_drops_total IKE messages dropped before any profile saw them, by "
	"reason.\n"
	"# TYPE kizuna_ike_drops_total counter\n"
	"kizuna_ike_drops_total{reason=\"malformed\"} 2\n";

static void test_render_exact(void **state)
{
	struct kzm_snapshot s;
	struct kzm_profile p = { .name = "HQ",
				 .up = true,
				 .uptime_s = 3600,
				 .ike_sas = 1,
				 .ipsec_sas = 2,
				 .ike_rekeys = 4,
				 .ipsec_rekeys = 5,
				 .dpd_alive = 8,
				 .dpd_dead = 9,
				 .failures = { 6, 0 } };
	struct kzm_sa sas[2] = {
		{ .profile = "HQ",
		  .unit = 0,
		  .spi = 0xabcd,
		  .out = true,
		  .packets = 31,
		  .bytes = 3100 },
		{ .profile = "HQ",
		  .unit = 0,
		  .spi = 0xc0ffee01,
		  .packets = 30,
		  .bytes = 3000,
		  .drops = { 2, 0 } },
	};
	struct strbuf sb;

	base(&s);
	s.profiles = &p;
	s.nprofiles = 1;
	s.sas = sas;
	s.nsas = 2;
	sb_init(&sb);
	kz_metrics_render(&s, &sb);
	if (strcmp(sb_str(&sb), expected)) {
		fprintf(stderr, "got:\n%s", sb_str(&sb));
		fail_msg("the exposition differs");
	}
	sb_free(&sb);
}

/* Label values escape backslash, double quote and newline (the text
 * format's three escapes); nothing else changes. */
static void test_label_escaping(void **state)
{
	struct kzm_snapshot s;
	struct strbuf sb;

	base(&s);
	s.hostname = "a\"b\\c\nd e";
	sb_init(&sb);
	kz_metrics_render(&s, &sb);
	assert_non_null(
		strstr(sb_str(&sb),
		       "kizuna_build_info{version=\"0.1.0\",hostname=\"a\\\"b\\\\c\\nd e\"} 1\n"));
	sb_free(&sb);
}

/* No profile, no SA: every family still has its HELP and TYPE, and only
 * the global samples are there. */
static void test_render_empty(void **state)
{
	struct kzm_snapshot s;
	struct strbuf sb;
	const char *t;
	unsigned help = 0, type = 0;

	base(&s);
	sb_init(&sb);
	kz_metrics_render(&s, &sb);
	t = sb_str(&sb);
	for (const char *p = t; (p = strstr(p, "# HELP ")); p++)
		help++;
	for (const char *p = t; (p = strstr(p, "# TYPE ")); p++)
		type++;
	assert_int_equal(help, 17);
	assert_int_equal(type, 17);
	assert_null(strstr(t, "profile="));
	assert_null(strstr(t, "spi="));
	assert_non_null(strstr(t, "\nkizuna_ike_retransmits_total 1\n"));
	sb_free(&sb);
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_render_exact), cmocka_unit_test(test_label_escaping),
	     cmocka_unit_test(test_render_empty))
