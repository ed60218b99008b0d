/* test_cli_config.c - the config language: lexer, grammar engine, parser
 * errors, the model it builds, rendering and the round-trip fixed point. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/lexer.h"
#include "config/render.h"
#include "lib/emit.h"
#include "lib/err.h"

#define MAXERR 32

static const char *srcdir(void)
{
	const char *d = getenv("KZ_SOURCE_DIR");

	return d ? d : KZ_SOURCE_DIR;
}

static struct kz_config *load_ok(const char *text)
{
	struct cli_load_error e[MAXERR];
	struct kz_config *c = NULL;
	size_t ne = 0;
	int r = cli_load_text(text, strlen(text), &c, e, MAXERR, &ne);

	if (r != 0)
		for (size_t i = 0; i < ne && i < MAXERR; i++)
			fprintf(stderr, "line %u col %zu: %s\n", e[i].line, e[i].col, e[i].msg);
	assert_int_equal(r, 0);
	assert_non_null(c);
	return c;
}

/* Loading must fail, with the first error at line:col containing what. */
static void load_fails(const char *text, size_t len, unsigned line, size_t col, const char *what)
{
	struct cli_load_error e[MAXERR];
	struct kz_config *c = (struct kz_config *)1;
	size_t ne = 0;
	int r = cli_load_text(text, len, &c, e, MAXERR, &ne);

	assert_int_equal(r, KZ_ESYNTAX);
	assert_null(c);
	assert_true(ne >= 1);
	if (!strstr(e[0].msg, what) || (line && e[0].line != line) || (col && e[0].col != col))
		fail_msg("got line %u col %zu '%s', want line %u col %zu '%s'", e[0].line, e[0].col,
			 e[0].msg, line, col, what);
}

static char *render(const struct kz_config *c)
{
	struct strbuf sb;
	char *s;

	sb_init(&sb);
	kz_render_config(c, &sb);
	s = strdup(sb_str(&sb));
	sb_free(&sb);
	return s;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- lexer ---- */

static void test_lexer(void **state)
{
	struct cli_words w;
	char msg[128];
	size_t col;

	assert_int_equal(cli_lex("  ike  policy \"a b\" x", 21, &w, &col, msg, sizeof(msg)), 0);
	assert_int_equal(w.n, 4);
	assert_string_equal(w.w[2].text, "a b");
	assert_int_equal(w.w[0].col, 3);
	assert_int_equal(w.w[2].col, 15);
	assert_true(w.w[2].quoted);
	assert_int_equal(cli_lex("", 0, &w, &col, msg, sizeof(msg)), 0);
	assert_int_equal(w.n, 0);
	assert_int_equal(cli_lex("  ! comment", 11, &w, &col, msg, sizeof(msg)), 0);
	assert_true(w.comment && w.bang);
	assert_int_equal(cli_lex("# c", 3, &w, &col, msg, sizeof(msg)), 0);
	assert_true(w.comment && !w.bang);
	assert_int_equal(cli_lex("a \"b\\\"c\" d", 10, &w, &col, msg, sizeof(msg)), 0);
	assert_string_equal(w.w[1].text, "b\"c");
	/* unterminated quote, control bytes, junk after a quote */
	assert_int_equal(cli_lex("key \"abc", 8, &w, &col, msg, sizeof(msg)), KZ_ESYNTAX);
	assert_int_equal(col, 5);
	assert_int_equal(cli_lex("ab\x01", 3, &w, &col, msg, sizeof(msg)), KZ_ESYNTAX);
	assert_int_equal(col, 3);
	assert_int_equal(cli_lex("\"a\"b", 4, &w, &col, msg, sizeof(msg)), KZ_ESYNTAX);
	assert_int_equal(cli_lex("a\"b", 3, &w, &col, msg, sizeof(msg)), KZ_ESYNTAX);
}

static void test_lexer_limits(void **state)
{
	struct cli_words w;
	char msg[128], *line;
	size_t col;

	line = malloc(CLI_MAX_LINE + 10);
	memset(line, 'a', CLI_MAX_LINE + 10);
	assert_int_equal(cli_lex(line, CLI_MAX_LINE + 1, &w, &col, msg, sizeof(msg)), KZ_ESYNTAX);
	assert_non_null(strstr(msg, "too long"));
	/* a single word longer than a word may be */
	assert_int_equal(cli_lex(line, CLI_MAX_WORD + 5, &w, &col, msg, sizeof(msg)), KZ_ESYNTAX);
	/* more words than a line may have */
	for (int i = 0; i < CLI_MAX_LINE; i++)
		line[i] = i % 2 ? ' ' : 'w';
	assert_int_equal(cli_lex(line, 2 * CLI_MAX_WORDS + 2, &w, &col, msg, sizeof(msg)),
			 KZ_ESYNTAX);
	assert_non_null(strstr(msg, "too many words"));
	free(line);
}

/* ---- model from the example sites ---- */

static void test_example_site_a(void **state)
{
	char path[512];
	struct cli_load_error e[MAXERR];
	struct kz_config *c;
	size_t ne;
	struct kz_ike_policy *pol;
	struct kz_ipsec_policy *ip;
	struct kz_ipsec_profile *pr;
	char buf[32];

	snprintf(path, sizeof(path), "%s/tests/cli/configs/site-a.conf", srcdir());
	assert_int_equal(cli_load_file(path, &c, e, MAXERR, &ne), 0);
	assert_string_equal(c->hostname, "site-a");
	assert_true(c->mobile.present);
	assert_string_equal(c->mobile.device, "wwan0");
	assert_false(c->mobile.shutdown);
	pol = kz_find_ike_policy(c, "IKEPOL");
	assert_non_null(pol);
	assert_int_equal(pol->mode, KZ_MODE_AGGRESSIVE);
	assert_int_equal(pol->nproposals, 1);
	assert_string_equal(pol->proposals[0], "IKEP");
	assert_true(pol->psk.set);
	assert_int_equal(pol->psk.len, strlen("correct horse battery staple"));
	assert_memory_equal(pol->psk.key, "correct horse battery staple", pol->psk.len);
	assert_int_equal(pol->local_id.type, KZ_ID_KEY_ID);
	assert_string_equal(pol->local_id.value, "site-a");
	assert_int_equal(pol->remote_id.type, KZ_ID_NONE);
	assert_true(pol->natt);
	assert_int_equal(pol->keepalive, 20);
	assert_false(pol->dpd);
	ip = kz_find_ipsec_policy(c, "IPSECPOL");
	kz_prefix_str(&ip->local_ts, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.0/24");
	assert_int_equal(ip->pfs, KZ_GROUP_NONE);
	assert_int_equal(ip->replay_window, 64);
	pr = kz_find_profile(c, "HQ");
	assert_int_equal(pr->peer_type, KZ_PEER_ADDR);
	assert_int_equal(pr->peer_addr.s_addr, inet_addr("203.0.113.2"));
	assert_true(pr->source_set);
	assert_int_equal(pr->initiate, KZ_INITIATE_AUTO);
	assert_non_null(kz_find_if_mapping(c, "HQ"));
	assert_false(kz_find_ipsec_if(c, 0)->shutdown);
	assert_int_equal(c->routes.n, 1);
	assert_int_equal(c->routes.v[0].via, KZ_VIA_IPSEC);
	kz_config_free(c);
}

static void test_defaults(void **state)
{
	struct kz_config *c = load_ok("ike proposal P\nipsec proposal E\nipsec policy X\n"
				      "ike policy I\ninterface IPsec3\n");
	struct kz_ike_proposal *p = kz_find_ike_proposal(c, "P");
	struct kz_ipsec_proposal *e = kz_find_ipsec_proposal(c, "E");

	assert_int_equal(p->enc, KZ_ENC_AES_CBC_256);
	assert_int_equal(p->hash, KZ_HASH_SHA2_256);
	assert_int_equal(p->group, KZ_GROUP_MODP2048);
	assert_int_equal(p->lifetime, 28800);
	assert_int_equal(e->enc, KZ_ENC_AES_CBC_256);
	assert_int_equal(e->auth, KZ_AUTH_HMAC_SHA2_256);
	assert_int_equal(e->lifetime_time, 28800);
	assert_int_equal(e->lifetime_kbytes, 0);
	assert_int_equal(kz_find_ike_policy(c, "I")->mode, KZ_MODE_MAIN);
	assert_false(kz_find_ike_policy(c, "I")->natt);
	assert_true(kz_find_ipsec_if(c, 3)->shutdown);
	assert_string_equal(c->hostname, "kizuna");
	kz_config_free(c);
}

/* `retry interval N [max M]`: the initiator's back-off after a failure.
 * Defaults 5 and 600, always rendered, the ceiling never below the
 * interval, `no retry` back to the defaults. */
static void roundtrip_text(const char *name, const char *text, size_t len);

static void test_retry(void **state)
{
	struct kz_config *c = load_ok("ipsec profile A\n peer 192.0.2.1\n"
				      "ipsec profile B\n peer any\n retry interval 2 max 10\n"
				      "ipsec profile C\n retry interval 900\n"
				      "ipsec profile D\n retry interval 3600 max 86400\n");
	char *r = render(c);

	(void)state;
	assert_int_equal(kz_find_profile(c, "A")->retry_interval, 5);
	assert_int_equal(kz_find_profile(c, "A")->retry_max, 600);
	assert_int_equal(kz_find_profile(c, "B")->retry_interval, 2);
	assert_int_equal(kz_find_profile(c, "B")->retry_max, 10);
	/* no max and an interval above the default ceiling: the ceiling is
	 * the interval */
	assert_int_equal(kz_find_profile(c, "C")->retry_interval, 900);
	assert_int_equal(kz_find_profile(c, "C")->retry_max, 900);
	assert_int_equal(kz_find_profile(c, "D")->retry_max, 86400);
	assert_non_null(strstr(r,
			       "  initiate auto\n  retry interval 5 max 600\n!\n"
			       "ipsec profile B\n"));
	assert_non_null(strstr(r, "  retry interval 2 max 10\n"));
	assert_non_null(strstr(r, "  retry interval 900 max 900\n"));
	roundtrip_text("retry", r, strlen(r));
	free(r);
	kz_config_free(c);

	c = load_ok("ipsec profile A\n retry interval 2 max 10\n no retry\n");
	assert_int_equal(kz_find_profile(c, "A")->retry_interval, 5);
	assert_int_equal(kz_find_profile(c, "A")->retry_max, 600);
	kz_config_free(c);

	load_fails("ipsec profile A\n retry interval 60 max 30\n", 42, 2, 24,
		   "retry max 30 is below the retry interval 60");
	load_fails("ipsec profile A\n retry interval 0\n", 34, 2, 17, "out of range (1-3600)");
	load_fails("ipsec profile A\n retry interval 3601\n", 37, 2, 17, "out of range (1-3600)");
	load_fails("ipsec profile A\n retry interval 5 max 86401\n", 44, 2, 23,
		   "out of range (1-86400)");
	load_fails("ipsec profile A\n retry interval\n", 32, 2, 16, "incomplete command");
}

/* modem, apn, pin: rendered as typed (a device line is not), the JSON
 * says only whether the secrets are set; bad values are refused. */
static void test_modem(void **state)
{
	struct kz_config *c = load_ok("interface MobileEthernet0.0\n device wwan0\n modem auto\n"
				      " apn internet.example ip-type ipv4 auth chap u1 \"p w\"\n"
				      " pin 1234\n");
	char *r = render(c);
	struct strbuf sb;

	(void)state;
	assert_string_equal(c->mobile.modem, "auto");
	assert_string_equal(c->mobile.apn, "internet.example");
	assert_true(c->mobile.apn_ipv4);
	assert_int_equal(c->mobile.apn_auth, KZ_APN_AUTH_CHAP);
	assert_string_equal(c->mobile.apn_password, "p w");
	assert_non_null(strstr(r,
			       "interface MobileEthernet0.0\n  modem auto\n"
			       "  apn internet.example ip-type ipv4 auth chap u1 \"p w\"\n"
			       "  pin 1234\n  no shutdown\n"));
	assert_null(strstr(r, "device"));
	roundtrip_text("modem", r, strlen(r));
	sb_init(&sb);
	kz_render_config_json(c, &sb);
	assert_true(strstr(sb_str(&sb), "\"pin_set\":true") ||
		    strstr(sb_str(&sb), "\"pin_set\": true"));
	assert_null(strstr(sb_str(&sb), "1234"));
	assert_null(strstr(sb_str(&sb), "p w"));
	sb_free(&sb);
	free(r);
	kz_config_free(c);

	c = load_ok("interface MobileEthernet0.0\n modem 356938035643809\n no modem\n"
		    " device wwan0\n");
	r = render(c);
	assert_non_null(strstr(r, "  device wwan0\n"));
	assert_null(strstr(r, "modem"));
	free(r);
	kz_config_free(c);
#define MOBILE_FAILS(text, what) load_fails(text, sizeof(text) - 1, 2, 0, what)
	MOBILE_FAILS("interface MobileEthernet0.0\n modem 12345\n", "expected one of: auto, IMEI");
	MOBILE_FAILS("interface MobileEthernet0.0\n pin 12\n", "a SIM PIN is 4-8 digits");
	MOBILE_FAILS("interface MobileEthernet0.0\n apn bad_apn\n",
		     "an APN has only A-Z a-z 0-9 - and dots");
#undef MOBILE_FAILS
}

/* ---- round trip ---- */

static void roundtrip_text(const char *name, const char *text, size_t len)
{
	struct cli_load_error e[MAXERR];
	struct kz_config *c1, *c2;
	char *r1, *r2;
	size_t ne;

	if (cli_load_text(text, len, &c1, e, MAXERR, &ne) != 0)
		fail_msg("%s: line %u: %s", name, e[0].line, e[0].msg);
	r1 = render(c1);
	if (cli_load_text(r1, strlen(r1), &c2, e, MAXERR, &ne) != 0)
		fail_msg("%s: rendered config does not load: line %u: %s\n%s", name, e[0].line,
			 e[0].msg, r1);
	r2 = render(c2);
	if (strcmp(r1, r2) != 0)
		fail_msg("%s: not a fixed point:\n%s\n---\n%s", name, r1, r2);
	kz_config_free(c1);
	kz_config_free(c2);
	free(r1);
	free(r2);
}

static int roundtrip_dir(const char *sub)
{
	char dir[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/%s", srcdir(), sub);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[1024];
		size_t len;
		char *text;

		/* parse-error*.conf are there to fail */
		if (!strstr(de->d_name, ".conf") || !strncmp(de->d_name, "parse-error", 11))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = slurp(path, &len);
		roundtrip_text(de->d_name, text, len);
		free(text);
		n++;
	}
	closedir(d);
	return n;
}

/* Every config the tests and examples use: both example sites, the
 * console and check fixtures. */
static void test_roundtrip_corpus(void **state)
{
	assert_true(roundtrip_dir("tests/cli/configs") >= 3);
	assert_true(roundtrip_dir("tests/cli/check") >= 20);
	assert_true(roundtrip_dir("examples") >= 2);
}

static void test_roundtrip_everything(void **state)
{
	const char *t =
		"hostname gw.1\ninterface MobileEthernet0.0\n device eth1\n shutdown\n"
		"ike proposal A\n encryption 3des-cbc\n hash md5\n group modp768\n lifetime 600\n"
		"ike proposal B\n encryption aes-cbc-128\n hash sha2-512\n group ecp384\n"
		"ike policy P\n exchange-mode main\n proposal B A\n pre-shared-key hex 0A0b0c\n"
		" local-id address 198.51.100.2\n remote-id fqdn gw.example.net\n"
		" nat-traversal keepalive 5\n dpd interval 10 retry 2\n"
		"ike policy Q\n local-id user-fqdn a@b.example\n remote-id key-id \"with space\"\n"
		" pre-shared-key ascii \"q\\\"uote\\\\d\"\n"
		"ipsec proposal G\n encryption aes-gcm-128\n lifetime bytes 1000\n"
		"ipsec proposal N\n encryption null\n authentication hmac-md5\n"
		"ipsec policy S\n proposal G N\n local-id 10.0.0.0/8\n remote-id 0.0.0.0/0\n"
		" pfs ecp256\n anti-replay window 0\n"
		"ipsec profile R\n peer vpn.example.org\n ike policy P\n ipsec policy S\n"
		" initiate on-demand\n"
		"ipsec profile T\n peer any\n"
		"interface IPsec7\n ipsec map R\n ip address 10.9.9.1/30\n mtu 1400\n tcp-mss "
		"1360\n"
		"interface IPsec2\n ipsec map T\n tcp-mss auto\n no shutdown\n"
		"ip route 10.1.0.0/16 IPsec7\nip route 0.0.0.0/0 198.51.100.1\n"
		"ip route 172.16.0.0/12 MobileEthernet0.0\n";

	roundtrip_text("everything", t, strlen(t));
	struct kz_config *c = load_ok(t);
	char *r = render(c);
	/* every parameter explicit, keys as typed */
	assert_non_null(strstr(r, "  pre-shared-key hex 0a0b0c\n"));
	assert_non_null(strstr(r, "  pre-shared-key ascii \"q\\\"uote\\\\d\"\n"));
	assert_non_null(strstr(r, "  remote-id key-id \"with space\"\n"));
	assert_null(strstr(r, "  no pfs"));
	assert_non_null(strstr(r, "  pfs ecp256\n"));
	assert_non_null(strstr(r, "  no dpd\n"));
	assert_non_null(strstr(r, "  lifetime 28800\n"));
	/* IPsec interfaces in unit order */
	assert_true(strstr(r, "interface IPsec2") < strstr(r, "interface IPsec7"));
	assert_memory_equal(kz_find_ike_policy(c, "P")->psk.key, "\x0a\x0b\x0c", 3);
	assert_int_equal(kz_find_ipsec_proposal(c, "G")->auth, KZ_AUTH_NONE);
	free(r);
	kz_config_free(c);
}

/* `selector` lines: added in order, a repeat kept once, rendered as typed,
 * removed one by one or all; at most KZ_MAX_SELECTORS; ports need tcp or
 * udp; no host bits. */
static void test_selector_lines(void **state)
{
	char text[4096];
	size_t n;
	struct kz_config *c;
	const struct kz_ipsec_policy *p;
	char *r;

	(void)state;
	c = load_ok("ipsec policy S\n local-id 192.168.1.0/24\n remote-id 192.168.2.0/24\n"
		    " selector local 10.1.0.0/16 remote 10.2.0.0/16\n"
		    " selector local 10.1.0.0/16 remote 10.2.0.0/16\n"
		    " selector local 10.1.0.0/16 remote 10.3.0.0/16 protocol tcp remote-port 443\n"
		    " selector local 10.1.0.0/16 remote 10.4.0.0/16 protocol 47\n"
		    " selector local 0.0.0.0/0 remote 10.5.0.0/16 protocol udp local-port 53\n"
		    " no selector local 10.1.0.0/16 remote 10.4.0.0/16 protocol 47\n");
	p = kz_find_ipsec_policy(c, "S");
	assert_int_equal(p->nsel, 3);
	assert_int_equal(p->sel[1].proto, 6);
	assert_int_equal(p->sel[1].rport, 443);
	assert_int_equal(p->sel[2].lport, 53);
	r = render(c);
	assert_non_null(strstr(r,
			       "  remote-id 192.168.2.0/24\n"
			       "  selector local 10.1.0.0/16 remote 10.2.0.0/16\n"
			       "  selector local 10.1.0.0/16 remote 10.3.0.0/16 protocol tcp "
			       "remote-port 443\n"
			       "  selector local 0.0.0.0/0 remote 10.5.0.0/16 protocol udp "
			       "local-port 53\n"));
	roundtrip_text("selectors", r, strlen(r));
	free(r);
	kz_config_free(c);
	c = load_ok("ipsec policy S\n selector local 10.1.0.0/16 remote 10.2.0.0/16\n"
		    " no selector\n");
	assert_int_equal(kz_find_ipsec_policy(c, "S")->nsel, 0);
	kz_config_free(c);
	/* 16 lines, then no more */
	n = (size_t)snprintf(text, sizeof(text), "ipsec policy S\n");
	for (int i = 0; i < KZ_MAX_SELECTORS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      " selector local 10.%d.0.0/16 remote 10.200.0.0/16\n", i);
	c = load_ok(text);
	assert_int_equal(kz_find_ipsec_policy(c, "S")->nsel, KZ_MAX_SELECTORS);
	kz_config_free(c);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      " selector local 10.99.0.0/16 remote 10.200.0.0/16\n");
	load_fails(text, n, KZ_MAX_SELECTORS + 2, 0, "at most 16 selector lines");
	load_fails("ipsec policy S\n selector local 10.1.0.0/16 remote 10.2.0.0/16 local-port "
		   "80\n",
		   76, 2, 0, "ports need protocol tcp or udp");
	load_fails("ipsec policy S\n selector local 10.1.0.1/16 remote 10.2.0.0/16\n", 61, 2, 0,
		   "has host bits set");
}

/* ---- errors: file:line:column, the word, what was expected ---- */

static void test_errors(void **state)
{
	load_fails("hostname a\nfoo bar\n", 19, 2, 1, "unknown command 'foo'");
	load_fails("ike proposal P\n  encryption aes-cbc-512\n", 40, 2, 14,
		   "expected one of: aes-cbc-128, aes-cbc-192, aes-cbc-256, 3des-cbc, des-cbc");
	load_fails("ike proposal P\n lifetime 10\n", 28, 2, 11, "out of range (60-604800)");
	load_fails("ike proposal P\n lifetime 99999999999999999999\n", 45, 2, 11, "out of range");
	load_fails("ike proposal P\n lifetime\n", 25, 2, 10, "incomplete command");
	load_fails(
		"ike proposal ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM\n",
		78, 1, 14, "1-63 characters");
	load_fails("ike proposal a/b\n", 17, 1, 14, "may contain only");
	load_fails("ike proposal P\nike proposal P\n", 30, 2, 1,
		   "duplicate block 'ike proposal P' (first defined on line 1)");
	load_fails("interface IPsec0\ninterface ipsec0\n", 34, 2, 1, "duplicate block");
	load_fails("interface IPsec256\n", 19, 1, 11, "out of range");
	/* a block after a profile without closing it: the error says how */
	load_fails("ipsec profile HQ\n ike policy P\n proposal X\n", 43, 3, 2,
		   "end the profile with '!' or 'exit'");
	load_fails("interface IPsec0\n ipsec map NOPE\n", 33, 2, 12, "no ipsec profile NOPE");
	load_fails("ip route 10.0.0.0/8 IPsec4\n", 27, 1, 21, "no interface IPsec4");
	load_fails("ip route 10.0.0.1/8 IPsec4\n", 27, 1, 10,
		   "host bits set; did you mean 10.0.0.0/8");
	load_fails("ip route 10.0.0.0/33 IPsec4\n", 28, 1, 10, "not an IPv4 prefix");
	load_fails("ipsec proposal G\n encryption aes-gcm-256\n authentication hmac-sha1\n", 67, 3,
		   2, "authentication is not used");
	load_fails("ike policy P\n proposal A A\n", 27, 2, 11, "listed twice");
	load_fails("ike policy P\n pre-shared-key hex 0g\n", 36, 2, 21, "0-9 a-f");
	load_fails("ike policy P\n pre-shared-key hex abc\n", 37, 2, 21, "even number");
	/* abbreviations are for the console; files spell keywords out */
	load_fails("ike proposal P\n encr des-cbc\n", 29, 2, 2, "unknown command 'encr'");
	/* show commands are not configuration */
	load_fails("show ike sa\n", 12, 1, 1, "unknown command 'show'");
	/* a sub-command outside its block */
	load_fails("encryption des-cbc\n", 19, 1, 1, "unknown command 'encryption'");
	/* several errors are all reported */
	{
		struct cli_load_error e[MAXERR];
		struct kz_config *c;
		size_t ne;
		const char *t = "bad1\nhostname x\nbad2\n";

		assert_int_equal(cli_load_text(t, strlen(t), &c, e, MAXERR, &ne), KZ_ESYNTAX);
		assert_int_equal(ne, 2);
		assert_int_equal(e[1].line, 3);
	}
}

static void test_bad_input(void **state)
{
	struct cli_load_error e[MAXERR];
	struct kz_config *c;
	size_t ne, big = (1u << 20) + 100;
	char *junk = malloc(big);
	unsigned seed = 12345;

	/* binary junk */
	for (size_t i = 0; i < 4096; i++) {
		seed = seed * 1103515245u + 12345u;
		junk[i] = (char)(seed >> 16);
	}
	assert_int_equal(cli_load_text(junk, 4096, &c, e, MAXERR, &ne), KZ_ESYNTAX);
	assert_null(c);
	/* NUL bytes */
	assert_int_equal(cli_load_text("hostname a\n\0\n", 13, &c, e, MAXERR, &ne), KZ_ESYNTAX);
	assert_non_null(strstr(e[0].msg, "NUL"));
	/* over 1 MiB */
	memset(junk, '!', big);
	assert_int_equal(cli_load_text(junk, big, &c, e, MAXERR, &ne), KZ_ESYNTAX);
	assert_non_null(strstr(e[0].msg, "too large"));
	/* one long line */
	memset(junk, 'a', 100000);
	assert_int_equal(cli_load_text(junk, 100000, &c, e, MAXERR, &ne), KZ_ESYNTAX);
	assert_non_null(strstr(e[0].msg, "line too long"));
	/* empty and comment-only files are fine */
	c = load_ok("");
	kz_config_free(c);
	c = load_ok("! nothing\n# here\n\n");
	kz_config_free(c);
	/* a file that does not exist */
	assert_int_equal(cli_load_file("/nonexistent/kizuna.conf", &c, e, MAXERR, &ne), KZ_EIO);
	assert_int_equal(cli_load_file("/", &c, e, MAXERR, &ne), KZ_EIO);
	free(junk);
}

/* The manual's config check reports dangling references between the
 * blocks (A4.4-A4.7): such files must load. */
static void test_dangling_refs_load(void **state)
{
	struct kz_config *c = load_ok("ipsec profile HQ\n peer any\n ike policy NOPE\n"
				      " ipsec policy NOPE2\n"
				      "!\nike policy P\n proposal MISSING\n"
				      "ipsec policy S\n proposal MISSING2\n");

	assert_string_equal(kz_find_profile(c, "HQ")->ike_policy, "NOPE");
	kz_config_free(c);
}

/* ---- console sessions ---- */

struct fake_exec {
	int calls;
	const char *last;
	char arg[64];
};

static int fake_exec(struct cli_session *s, const char *what, const struct cli_args *a,
		     struct emit *e)
{
	struct fake_exec *f = s->opaque;
	const char *p = cli_arg(a, "PROFILE");

	f->calls++;
	f->last = what;
	snprintf(f->arg, sizeof(f->arg), "%s%s", p ? p : "", cli_has(a, "json") ? "+json" : "");
	emit_text(e, "shown\n");
	return 0;
}

static int fake_profile(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	return fake_exec(s, "show ipsec profile", a, e);
}

static int fake_other(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	return fake_exec(s, "other", a, e);
}

/* Exec commands as the daemon installs them (daemon/show.c), with handlers
 * that note what ran. */
static const struct cli_cmd fake_cmds[] = {
	{ CLI_IN(CLI_NODE_EXEC), "show running-config [json]", "config", .exec = fake_other },
	{ CLI_IN(CLI_NODE_EXEC), "show ipsec profile [PROFILE] [detail] [json]", "profiles",
	  .exec = fake_profile },
};

static int run(struct cli_session *s, const char *line, struct cli_error *e)
{
	struct strbuf o;
	int r;

	sb_init(&o);
	r = cli_execute(s, line, &o, e);
	sb_free(&o);
	return r;
}

static void prompt_is(struct cli_session *s, const char *want)
{
	char p[64];

	cli_prompt(s, p, sizeof(p));
	assert_string_equal(p, want);
}

static void test_console_modes(void **state)
{
	struct kz_config *c = load_ok("hostname site-a\n");
	struct fake_exec fx = { 0 };
	struct cli_session s;
	struct cli_error e;

	cli_session_init(&s, c, CLI_NODE_EXEC);
	cli_install(fake_cmds, sizeof(fake_cmds) / sizeof(fake_cmds[0]));
	s.exec = true;
	s.opaque = &fx;
	prompt_is(&s, "site-a#");
	assert_int_equal(run(&s, "conf t", &e), 0);
	prompt_is(&s, "site-a(config)#");
	assert_int_equal(run(&s, "interface MobileEthernet0.0", &e), 0);
	prompt_is(&s, "site-a(config-if)#");
	assert_int_equal(run(&s, "shutdown", &e), 0);
	assert_true(s.effects & CLI_EFF_MOBILE_ADMIN);
	assert_true(c->mobile.shutdown);
	assert_int_equal(run(&s, "no sh", &e), 0);
	assert_false(c->mobile.shutdown);
	/* a top-level command leaves the block */
	assert_int_equal(run(&s, "ike proposal P", &e), 0);
	prompt_is(&s, "site-a(config-ike-proposal)#");
	assert_int_equal(run(&s, "encryption des-cbc", &e), 0);
	assert_int_equal(run(&s, "no encryption", &e), 0);
	assert_int_equal(kz_find_ike_proposal(c, "P")->enc, KZ_ENC_AES_CBC_256);
	/* show works from config mode, and takes json */
	assert_int_equal(run(&s, "show ipsec profile HQ json", &e), 0);
	assert_string_equal(fx.last, "show ipsec profile");
	assert_string_equal(fx.arg, "HQ+json");
	prompt_is(&s, "site-a(config-ike-proposal)#");
	/* `json` is a keyword first, a profile name only when nothing else */
	assert_int_equal(run(&s, "show ipsec profile json", &e), 0);
	assert_string_equal(fx.arg, "+json");
	assert_int_equal(run(&s, "exit", &e), 0);
	prompt_is(&s, "site-a(config)#");
	assert_int_equal(run(&s, "hostname gw2", &e), 0);
	prompt_is(&s, "gw2(config)#");
	assert_int_equal(run(&s, "interface IPsec0", &e), 0);
	assert_int_equal(run(&s, "end", &e), 0);
	prompt_is(&s, "gw2#");
	assert_int_equal(run(&s, "exit", &e), 0);
	assert_true(s.quit);
	kz_config_free(c);
}

static void test_console_errors_change_nothing(void **state)
{
	struct kz_config *c = load_ok("ipsec profile HQ\n peer any\n");
	struct cli_session s;
	struct cli_error e;
	char *before, *after;

	cli_session_init(&s, c, CLI_NODE_CONFIG);
	before = render(c);
	assert_int_equal(run(&s, "interface IPsec0", &e), 0);
	free(before);
	before = render(c);
	assert_int_equal(run(&s, "ipsec map NOPE", &e), KZ_ENOENT);
	assert_int_equal(e.col, 11);
	assert_int_equal(run(&s, "ip address 1.2.3.4/40", &e), KZ_ESYNTAX);
	assert_int_equal(run(&s, "mtu 100", &e), KZ_ESYNTAX);
	assert_non_null(strstr(e.msg, "576-9000"));
	assert_int_equal(run(&s, "ip route 10.0.0.0/8 IPsec9", &e), KZ_ENOENT);
	assert_int_equal(run(&s, "ipsec map", &e), KZ_ESYNTAX);
	after = render(c);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* unmapping a profile mapped elsewhere */
	assert_int_equal(run(&s, "ipsec map HQ", &e), 0);
	assert_int_equal(run(&s, "interface IPsec1", &e), 0);
	assert_int_equal(run(&s, "ipsec map HQ", &e), KZ_EEXIST);
	assert_non_null(strstr(e.msg, "already mapped to IPsec0"));
	kz_config_free(c);
}

static void test_console_ambiguous(void **state)
{
	struct kz_config *c = load_ok("");
	struct cli_session s;
	struct cli_error e;

	cli_session_init(&s, c, CLI_NODE_CONFIG);
	assert_int_equal(run(&s, "ike proposal P", &e), 0);
	assert_int_equal(run(&s, "encryption aes", &e), KZ_ESYNTAX);
	assert_non_null(strstr(
		e.msg, "ambiguous 'aes'; it could be: aes-cbc-128, aes-cbc-192, aes-cbc-256"));
	assert_null(strstr(e.msg, "des-cbc"));
	assert_int_equal(run(&s, "encryption aes-cbc-12", &e), 0);
	assert_int_equal(kz_find_ike_proposal(c, "P")->enc, KZ_ENC_AES_CBC_128);
	if (run(&s, "gr modp2", &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(kz_find_ike_proposal(c, "P")->group, KZ_GROUP_MODP2048);
	kz_config_free(c);
}

static void test_complete_and_help(void **state)
{
	struct kz_config *c = load_ok("ipsec profile HQ\nipsec profile HQ2\nipsec profile X\n"
				      "interface IPsec0\n");
	struct cli_session s;
	struct strbuf o;

	cli_session_init(&s, c, CLI_NODE_CONFIG);
	sb_init(&o);
	assert_int_equal(cli_complete(&s, "int", &o), 0);
	assert_string_equal(sb_str(&o), "interface\n");
	sb_reset(&o);
	cli_complete(&s, "interface IPsec0", &o);
	assert_string_equal(sb_str(&o), "IPsec0\n");
	sb_reset(&o);
	assert_int_equal(run(&s, "interface IPsec0", &(struct cli_error){ 0 }), 0);
	cli_complete(&s, "ipsec map H", &o);
	assert_string_equal(sb_str(&o), "HQ\nHQ2\n");
	sb_reset(&o);
	cli_help(&s, "mtu ", &o);
	assert_non_null(strstr(sb_str(&o), "<576-9000>"));
	sb_reset(&o);
	cli_help(&s, "", &o);
	assert_non_null(strstr(sb_str(&o), "  ipsec "));
	assert_non_null(strstr(sb_str(&o), "  shutdown "));
	sb_reset(&o);
	cli_help(&s, "shutdown ", &o);
	assert_non_null(strstr(sb_str(&o), "<cr>"));
	sb_free(&o);
	kz_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_lexer_limits),
		cmocka_unit_test(test_example_site_a),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_modem),
		cmocka_unit_test(test_roundtrip_corpus),
		cmocka_unit_test(test_roundtrip_everything),
		cmocka_unit_test(test_selector_lines),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_dangling_refs_load),
		cmocka_unit_test(test_console_modes),
		cmocka_unit_test(test_console_errors_change_nothing),
		cmocka_unit_test(test_console_ambiguous),
		cmocka_unit_test(test_complete_and_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
