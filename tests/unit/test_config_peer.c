/* test_config_peer.c - the other site's config built by kz_peer_build():
 * mirrored selectors, swapped ids, same proposals, the opposite role, the
 * missing-block messages, and both renderings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config/model.h"
#include "config/peer.h"
#include "config/render.h"
#include "lib/err.h"

#include "cfg_chain.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct kz_prefix pfx(const char *s, uint8_t len)
{
	struct kz_prefix p = { true, ip(s), len };

	return p;
}

/* site-a of config-language.md: aggressive initiator, key-id, NAT-T; with
 * a second, non-default IKE proposal and DPD to see every parameter kept. */
static struct kz_config *site_a(void)
{
	struct kz_config *c = kz_config_new();
	struct kz_ike_proposal *ip2;
	struct cfg_chain k;
	int err = 0;

	assert_non_null(c);
	strcpy(c->hostname, "site-a");
	c->mobile.present = true;
	strcpy(c->mobile.device, "eth7");
	assert_true(cfg_chain_add(c, &k, "IKEP", "IKEPOL", "ESPP", "IPSECPOL", "HQ", 4));
	k.pol->mode = KZ_MODE_AGGRESSIVE;
	strcpy(k.pol->proposals[1], "IKEP2");
	k.pol->nproposals = 2;
	cfg_chain_psk(k.pol, "correct horse");
	k.pol->local_id.type = KZ_ID_KEY_ID;
	strcpy(k.pol->local_id.value, "site-a");
	k.pol->natt = true;
	k.pol->keepalive = 15;
	k.pol->dpd = true;
	k.pol->dpd_interval = 10;
	k.pol->dpd_retry = 5;
	k.ep->enc = KZ_ENC_AES_GCM_128;
	k.ep->auth = KZ_AUTH_NONE;
	k.ep->lifetime_kbytes = 1000;
	k.ipol->local_ts = pfx("192.168.1.0", 24);
	k.ipol->remote_ts = pfx("192.168.2.0", 24);
	k.ipol->pfs = KZ_GROUP_MODP3072;
	k.ipol->replay_window = 128;
	k.pr->peer_type = KZ_PEER_ADDR;
	k.pr->peer_addr = ip("203.0.113.2");
	/* after the chain: k.ikp is not used past here */
	ip2 = kz_add_ike_proposal(c, "IKEP2", &err);
	assert_non_null(ip2);
	ip2->enc = KZ_ENC_AES_CBC_128;
	ip2->hash = KZ_HASH_SHA1;
	ip2->group = KZ_GROUP_ECP256;
	ip2->lifetime = 3600;
	assert_non_null(kz_add_ike_proposal(c, "UNUSED", &err));
	return c;
}

static void test_initiator_aggressive(void **state)
{
	struct kz_config *c = site_a();
	struct kz_peer pr;
	char why[256];
	const struct kz_ike_policy *ike;
	const struct kz_ipsec_policy *ips;
	const struct kz_ipsec_profile *p;
	const struct kz_ike_proposal *x;
	const struct kz_ipsec_proposal *e;
	const struct kz_if_ipsec *f;

	(void)state;
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, why, sizeof(why)), 0);
	assert_string_equal(pr.cfg->hostname, "site-a-peer");
	assert_true(pr.cfg->mobile.present);
	assert_string_equal(pr.cfg->mobile.device, "wwan0");
	assert_false(pr.cfg->mobile.shutdown);
	assert_false(pr.peer_unknown);
	assert_string_equal(pr.own_addr, "203.0.113.2");

	/* Only the proposals the profile uses, every parameter kept. */
	assert_int_equal(pr.cfg->ike_proposals.n, 2);
	assert_null(kz_find_ike_proposal(pr.cfg, "UNUSED"));
	x = kz_find_ike_proposal(pr.cfg, "IKEP2");
	assert_non_null(x);
	assert_int_equal(x->enc, KZ_ENC_AES_CBC_128);
	assert_int_equal(x->hash, KZ_HASH_SHA1);
	assert_int_equal(x->group, KZ_GROUP_ECP256);
	assert_int_equal(x->lifetime, 3600);
	e = kz_find_ipsec_proposal(pr.cfg, "ESPP");
	assert_non_null(e);
	assert_int_equal(e->enc, KZ_ENC_AES_GCM_128);
	assert_int_equal(e->lifetime_kbytes, 1000);

	ike = kz_find_ike_policy(pr.cfg, "IKEPOL");
	assert_non_null(ike);
	assert_int_equal(ike->mode, KZ_MODE_AGGRESSIVE);
	assert_int_equal(ike->nproposals, 2);
	assert_string_equal(ike->proposals[1], "IKEP2");
	assert_true(ike->psk.set);
	assert_int_equal(ike->psk.len, 13);
	assert_memory_equal(ike->psk.key, "correct horse", 13);
	/* The initiator's local-id is what the responder expects. */
	assert_int_equal(ike->local_id.type, KZ_ID_NONE);
	assert_int_equal(ike->remote_id.type, KZ_ID_KEY_ID);
	assert_string_equal(ike->remote_id.value, "site-a");
	assert_true(ike->natt);
	assert_int_equal(ike->keepalive, 15);
	assert_true(ike->dpd);
	assert_int_equal(ike->dpd_interval, 10);
	assert_int_equal(ike->dpd_retry, 5);

	ips = kz_find_ipsec_policy(pr.cfg, "IPSECPOL");
	assert_non_null(ips);
	assert_true(kz_prefix_equal(&ips->local_ts, &c->ipsec_policies.v[0].remote_ts));
	assert_true(kz_prefix_equal(&ips->remote_ts, &c->ipsec_policies.v[0].local_ts));
	assert_int_equal(ips->pfs, KZ_GROUP_MODP3072);
	assert_int_equal(ips->replay_window, 128);

	p = kz_find_profile(pr.cfg, "HQ");
	assert_non_null(p);
	assert_int_equal(p->peer_type, KZ_PEER_ANY);
	assert_true(p->source_set);
	f = kz_find_if_mapping(pr.cfg, "HQ");
	assert_non_null(f);
	assert_int_equal(f->unit, 0);
	assert_false(f->shutdown);
	assert_int_equal(pr.cfg->routes.n, 1);
	assert_true(kz_prefix_equal(&pr.cfg->routes.v[0].dest, &c->ipsec_policies.v[0].local_ts));
	assert_int_equal(pr.cfg->routes.v[0].via, KZ_VIA_IPSEC);
	kz_peer_free(&pr);
	kz_config_free(c);
}

/* Our responder: the other side initiates to the address we give, and
 * takes our expected remote-id as its local-id. */
static void test_responder(void **state)
{
	struct kz_config *c = site_a();
	struct kz_ike_policy *ike = &c->ike_policies.v[0];
	struct kz_peer pr;
	const struct kz_ipsec_profile *p;
	const struct kz_ike_policy *pi;

	(void)state;
	ike->remote_id = ike->local_id;
	ike->local_id.type = KZ_ID_FQDN;
	strcpy(ike->local_id.value, "hq.example");
	c->profiles.v[0].peer_type = KZ_PEER_ANY;

	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, NULL, 0), 0);
	assert_true(pr.peer_unknown);
	assert_int_equal(kz_find_profile(pr.cfg, "HQ")->peer_type, KZ_PEER_UNSET);
	kz_peer_free(&pr);

	assert_int_equal(kz_peer_build(c, "HQ", "198.51.100.7", &pr, NULL, 0), 0);
	assert_false(pr.peer_unknown);
	p = kz_find_profile(pr.cfg, "HQ");
	assert_int_equal(p->peer_type, KZ_PEER_ADDR);
	assert_int_equal(p->peer_addr.s_addr, ip("198.51.100.7").s_addr);
	pi = kz_find_ike_policy(pr.cfg, "IKEPOL");
	assert_int_equal(pi->local_id.type, KZ_ID_KEY_ID);
	assert_string_equal(pi->local_id.value, "site-a");
	assert_int_equal(pi->remote_id.type, KZ_ID_FQDN);
	assert_string_equal(pi->remote_id.value, "hq.example");
	kz_peer_free(&pr);

	assert_int_equal(kz_peer_build(c, "HQ", "gw.example.net", &pr, NULL, 0), 0);
	assert_int_equal(kz_find_profile(pr.cfg, "HQ")->peer_type, KZ_PEER_FQDN);
	assert_string_equal(kz_find_profile(pr.cfg, "HQ")->peer_fqdn, "gw.example.net");
	kz_peer_free(&pr);
	assert_int_equal(kz_peer_build(c, "HQ", "bad addr", &pr, NULL, 0), KZ_EINVAL);
	assert_null(pr.cfg);
	kz_config_free(c);
}

/* Main mode: both name each other; our `local-id address` is the peer. */
static void test_main_mode(void **state)
{
	struct kz_config *c = site_a();
	struct kz_ike_policy *ike = &c->ike_policies.v[0];
	struct kz_peer pr;
	const struct kz_ipsec_profile *p;

	(void)state;
	ike->mode = KZ_MODE_MAIN;
	ike->local_id.type = KZ_ID_ADDRESS;
	ike->local_id.addr = ip("198.51.100.2");
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, NULL, 0), 0);
	p = kz_find_profile(pr.cfg, "HQ");
	assert_int_equal(p->peer_type, KZ_PEER_ADDR);
	assert_int_equal(p->peer_addr.s_addr, ip("198.51.100.2").s_addr);
	assert_int_equal(kz_find_ike_policy(pr.cfg, "IKEPOL")->remote_id.type, KZ_ID_ADDRESS);
	kz_peer_free(&pr);
	kz_config_free(c);
}

static void test_missing(void **state)
{
	struct kz_config *c = site_a();
	struct kz_peer pr;
	char why[256];

	(void)state;
	assert_int_equal(kz_peer_build(c, "NOPE", NULL, &pr, why, sizeof(why)), KZ_ENOENT);
	assert_non_null(strstr(why, "NOPE"));
	strcpy(c->ike_policies.v[0].proposals[1], "GONE");
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, why, sizeof(why)), KZ_EINCOMPLETE);
	assert_string_equal(why, "ike proposal GONE (named by ike policy IKEPOL) does not exist");
	strcpy(c->ike_policies.v[0].proposals[1], "IKEP2");
	c->ipsec_policies.v[0].remote_ts.set = false;
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, why, sizeof(why)), KZ_EINCOMPLETE);
	assert_string_equal(why, "ipsec policy IPSECPOL has no remote-id");
	c->ipsec_policies.v[0].remote_ts.set = true;
	c->ike_policies.v[0].psk.set = false;
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, why, sizeof(why)), KZ_EINCOMPLETE);
	assert_string_equal(why, "ike policy IKEPOL has no pre-shared-key");
	strcpy(c->profiles.v[0].ipsec_policy, "X");
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, why, sizeof(why)), KZ_EINCOMPLETE);
	assert_string_equal(why, "ipsec policy X (named by ipsec profile HQ) does not exist");
	assert_null(pr.cfg);
	kz_config_free(c);
}

/* Each of the strings is somewhere in s. */
static void assert_has(const char *s, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strstr(s, want[i]))
			fail_msg("\"%s\" not in:\n%s", want[i], s);
}

#define ASSERT_HAS(s, ...)                                    \
	assert_has((s), (const char *const[]){ __VA_ARGS__ }, \
		   sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void test_render(void **state)
{
	struct kz_config *c = site_a();
	struct kz_peer pr;
	struct strbuf sb;
	const char *s;

	(void)state;
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, NULL, 0), 0);
	sb_init(&sb);
	kz_peer_render_kizuna(&pr, &sb);
	s = sb_str(&sb);
	ASSERT_HAS(s, "pre-shared key in clear text", "hostname site-a-peer\n",
		   "  remote-id key-id site-a\n",
		   "  local-id 192.168.2.0/24\n  remote-id 192.168.1.0/24\n", "  peer any\n",
		   "ip route 192.168.1.0/24 IPsec0\n",
		   "  pre-shared-key ascii \"correct horse\"\n");
	assert_null(strstr(s, "EDIT"));
	sb_reset(&sb);
	kz_peer_render_swanctl(&pr, &sb);
	ASSERT_HAS(sb_str(&sb), "    aggressive = yes\n",
		   "i_dont_care_about_security_and_use_aggressive_mode_psk = yes",
		   "    local_addrs = 203.0.113.2\n    remote_addrs = %any\n",
		   "    proposals = aes256-sha256-modp2048,aes128-sha1-ecp256\n",
		   "      id = \"keyid:site-a\"\n",
		   "        local_ts = 192.168.2.0/24\n"
		   "        remote_ts = 192.168.1.0/24\n",
		   "        esp_proposals = aes128gcm16-modp3072\n",
		   "        life_bytes = 1024000\n", "    dpd_delay = 10s\n    dpd_timeout = 60s\n",
		   "        start_action = none\n", "    secret = \"correct horse\"\n");
	kz_peer_free(&pr);

	/* Unknown peer address: flagged outside the block (a `!` ends it). */
	c->profiles.v[0].peer_type = KZ_PEER_ANY;
	c->ike_policies.v[0].psk.hex = true;
	strcpy(c->ike_policies.v[0].psk.text, "0a0b");
	assert_int_equal(kz_peer_build(c, "HQ", NULL, &pr, NULL, 0), 0);
	sb_reset(&sb);
	kz_peer_render_kizuna(&pr, &sb);
	assert_non_null(strstr(sb_str(&sb),
			       "! EDIT: replace `no peer` below with `peer <the "
			       "address or FQDN of site-a>`\nipsec profile HQ\n"
			       "  no peer\n"));
	sb_reset(&sb);
	kz_peer_render_swanctl(&pr, &sb);
	ASSERT_HAS(sb_str(&sb), "    # EDIT: remote_addrs =", "    secret = 0x0a0b\n",
		   "        start_action = start\n");
	kz_peer_free(&pr);
	sb_free(&sb);
	kz_config_free(c);
}

static void test_swan_names(void **state)
{
	(void)state;
	assert_string_equal(kz_enc_names(KZ_ENC_AES_CBC_256)->swan, "aes256");
	assert_string_equal(kz_enc_names(KZ_ENC_AES_GCM_256)->swan, "aes256gcm16");
	assert_string_equal(kz_enc_names(KZ_ENC_3DES_CBC)->swan, "3des");
	assert_string_equal(kz_enc_names(KZ_ENC_DES_CBC)->swan, "des");
	assert_string_equal(kz_hash_names(KZ_HASH_SHA2_512)->swan, "sha512");
	assert_string_equal(kz_hash_names(KZ_HASH_MD5)->swan, "md5");
	assert_string_equal(kz_auth_names(KZ_AUTH_HMAC_SHA2_256)->swan, "sha256");
	assert_string_equal(kz_auth_names(KZ_AUTH_HMAC_MD5)->swan, "md5");
	assert_null(kz_auth_names(KZ_AUTH_NONE)->swan);
	assert_null(kz_group_names(KZ_GROUP_NONE)->swan);
	assert_string_equal(kz_group_names(KZ_GROUP_ECP384)->swan, "ecp384");
	assert_string_equal(kz_group_names(KZ_GROUP_MODP768)->swan, "modp768");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initiator_aggressive),
		cmocka_unit_test(test_responder),
		cmocka_unit_test(test_main_mode),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_swan_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
