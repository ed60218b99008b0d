/* test_ike_engine.c - two IKE engines in one process, wired by a fake
 * transport (a queue of datagrams that can drop, duplicate, reorder and
 * NAT-rewrite), with seeded randomness and an injected clock: Main and
 * Aggressive mode with and without NAT-T, Quick Mode with and without PFS,
 * every failure class, retransmission and repeats, the QM-before-AM3
 * reordering, Delete handling, and the show output. */
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
#include "ike/crypto.h"
#include "ike/exchange.h" /* eng_fail, for the failure history ring */
#include "ike/isakmp.h"
#include "lib/err.h"

/* Every scenario runs twice: Diffie-Hellman inline, then handed to the
 * fake pool, whose results come late and out of order; the outcomes must
 * be the same. */
static unsigned Flags;

static int setup(void **state)
{
	world_setup(Flags);
	return 0;
}

static int dh_inline(void **state)
{
	Flags = 0;
	return 0;
}

static int dh_deferred(void **state)
{
	Flags = IW_DH_DEFERRED;
	return 0;
}

/* ---- tests ---- */

static void test_main_mode(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	start(&a, &b, "198.51.100.2");
	assert_children(1, 1);
	assert_pair_matches(0);
	assert_int_equal(W.a.in[0].life_seconds, 28800);
	assert_false(W.a.in[0].udp_encap);
	assert_int_equal(W.a.in[0].ipsec_unit, 0);
	assert_true(status(&W.a)->established);
	assert_true(status(&W.b)->established);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NONE);
	assert_non_null(strstr(show_ike(&W.a),
			       "Direction is initiator\n"
			       "Exchange type is Main mode\n"
			       "IKE PH1 established\n"
			       "authentication method:pre-shared key\n"
			       "encrypt:AES-CBC 256 bits\n"
			       "hash:SHA256\n"
			       "dh_group:256-bit ECP group\n"
			       "Remaining lifetime is 28800 seconds\n"
			       "phase2 count=1\n"
			       "profile: HQ\n"));
	assert_non_null(strstr(show_ike(&W.b),
			       "remote: 198.51.100.2 (UDP [500])\n"
			       "local: 203.0.113.2 (UDP [500])\n"));
	assert_non_null(strstr(show_ike(&W.b), "Direction is responder\n"));
	advance(10000);
	assert_non_null(strstr(show_ike(&W.a), "Remaining lifetime is 28790 seconds\n"));
}

static void test_main_mode_pfs_modp2048(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.group = b.group = KZ_GROUP_MODP2048;
	a.pfs = b.pfs = KZ_GROUP_MODP2048;
	start(&a, &b, "198.51.100.2");
	assert_children(1, 1);
	assert_pair_matches(0);
	assert_non_null(strstr(show_ike(&W.a), "dh_group:2048-bit MODP group\n"));
}

static void test_aggressive_no_natt(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	start(&a, &b, "198.51.100.2");
	assert_children(1, 1);
	assert_pair_matches(0);
	assert_non_null(strstr(show_ike(&W.a), "Exchange type is Aggressive mode\n"));
	assert_non_null(strstr(show_ike(&W.a), "(UDP [500])"));
}

static void test_aggressive_natt_behind_nat(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	a.natt = b.natt = true;
	W.nat_a = true;
	start(&a, &b, "100.64.0.2");
	assert_children(1, 1);
	assert_pair_matches(0);
	assert_true(W.a.in[0].udp_encap);
	assert_int_equal(ntohs(W.a.out[0].peer.sin_port), 4500);
	assert_int_equal(ntohs(W.a.out[0].local.sin_port), 4500);
	/* the responder follows the NAT mapping of the floated traffic */
	assert_int_equal(W.b.out[0].peer.sin_addr.s_addr, ip(NAT_PUB).s_addr);
	assert_int_equal(ntohs(W.b.out[0].peer.sin_port), 14500);
	assert_true(status(&W.a)->nat_local);
	assert_true(status(&W.b)->nat_peer);
	assert_non_null(strstr(show_ike(&W.a),
			       "remote: 203.0.113.2 (UDP [4500])\n"
			       "local: 100.64.0.2 (UDP [4500])\n"));
	assert_non_null(strstr(show_ipsec(&W.a, false),
			       "Outbound:\n100.64.0.2(UDP [4500]) -> "
			       "203.0.113.2(UDP [4500])\n"));
}

static void test_main_natt_no_nat(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.natt = b.natt = true;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	/* NAT-T announced but no NAT: stays on 500, plain ESP */
	assert_false(W.a.in[0].udp_encap);
	assert_false(status(&W.a)->nat_detected);
	assert_non_null(strstr(show_ike(&W.a), "(UDP [500])"));
}

static void test_natt_vid_is_md5_of_rfc3947(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_chunk c = { "RFC 3947", 8 };
	uint8_t md5[16];
	bool found = false;

	a.natt = b.natt = true;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(ike_hash(KZ_HASH_MD5, &c, 1, md5), 0);
	for (size_t i = 0; i + 16 <= W.first_a_len; i++)
		found |= !memcmp(W.first_a + i, md5, 16);
	assert_true(found);
}

static void test_natt_without_policy_not_announced(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_chunk c = { "RFC 3947", 8 };
	uint8_t md5[16];

	b.natt = true; /* only the responder */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(ike_hash(KZ_HASH_MD5, &c, 1, md5), 0);
	for (size_t i = 0; i + 16 <= W.first_a_len; i++)
		assert_memory_not_equal(W.first_a + i, md5, 16);
	assert_int_equal(W.a.nchild, 1);
}

static void test_qm_before_am3(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	struct ike_counters c;

	W.swap_am3_qm1 = true;
	start(&a, &b, "198.51.100.2");
	assert_false(W.swap_am3_qm1); /* the swap happened */
	assert_children(1, 1);
	assert_pair_matches(0);
	ike_get_counters(W.b.e, &c);
	assert_int_equal(c.retransmits, 0);
}

static void test_proposal_mismatch(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	const struct ike_profile_status *st;

	b.ike_enc = KZ_ENC_AES_CBC_128;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	st = status(&W.b);
	assert_int_equal(st->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_int_equal(st->phase, 1);
	assert_string_equal(st->our_offer, "aes-cbc-128/sha2-256/ecp256");
	assert_string_equal(st->their_offer, "aes-cbc-256/sha2-256/ecp256");
	/* the initiator heard NO-PROPOSAL-CHOSEN */
	st = status(&W.a);
	assert_int_equal(st->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_int_equal(st->peer_notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	assert_non_null(strstr(st->detail, "NO-PROPOSAL-CHOSEN"));
	assert_string_equal(st->our_offer, "aes-cbc-256/sha2-256/ecp256");
}

static void test_phase2_proposal_mismatch(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	b.pfs = KZ_GROUP_ECP256; /* only B wants PFS */
	start(&a, &b, "198.51.100.2");
	assert_children(0, 0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_int_equal(status(&W.b)->phase, 2);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NO_PROPOSAL);
	assert_int_equal(status(&W.a)->phase, 2);
	assert_true(status(&W.a)->established); /* phase 1 is up */
}

static void test_ts_mismatch(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	b.rnet = "192.168.9.0";
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.b.nchild, 0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_TS_MISMATCH);
	assert_non_null(strstr(status(&W.b)->id_received, "192.168.1.0/24"));
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_TS_MISMATCH);
	assert_int_equal(status(&W.a)->peer_notify, ISAKMP_N_INVALID_ID_INFORMATION);
}

static void test_id_mismatch_keyid(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	const struct ike_profile_status *st;
	struct ike_counters c;

	a.local_id = "site-x";
	start(&a, &b, "198.51.100.2");
	st = status(&W.b);
	assert_int_equal(st->last_class, IKE_FAIL_ID_MISMATCH);
	assert_string_equal(st->id_received, "key-id site-x");
	assert_string_equal(st->id_expected, "key-id site-a");
	assert_non_null(strstr(st->detail, "sent key-id site-x, no profile expects it"));
	/* the responder kept nothing and said nothing */
	assert_string_equal(show_ike(&W.b), "");
	ike_get_counters(W.b.e, &c);
	assert_int_equal(c.tx, 0);
	assert_int_equal(c.drop_no_profile, 1);
}

static void test_psk_mismatch_main(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	b.psk = "another key";
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	assert_int_equal(status(&W.b)->last_class, IKE_FAIL_PSK_MISMATCH);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_PSK_MISMATCH);
	assert_string_equal(show_ike(&W.b), "");
}

static void test_psk_mismatch_aggressive(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	b.psk = "another key";
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_PSK_MISMATCH);
	assert_non_null(strstr(status(&W.a)->detail, "HASH_R"));
}

/* The responder's half of a failed aggressive mode: AM2 sent, no AM3
 * (the initiator rejected our HASH_R) is kept with the peer, its ID and
 * the times; a settings change supersedes it. */
static void test_halfopen_responder_aggressive(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	const struct ike_profile_status *st;
	struct kz_config *old;

	b.psk = "another key";
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	st = status(&W.b);
	assert_false(st->halfopen.set);
	assert_int_equal(st->last_class, IKE_FAIL_NONE);
	advance(16000);
	st = status(&W.b);
	assert_true(st->halfopen.set);
	assert_false(st->halfopen.initiator);
	assert_true(st->halfopen.aggressive);
	assert_int_equal(st->halfopen.phase, 1);
	assert_int_equal(st->halfopen.msg_sent, 2);
	assert_int_equal(st->halfopen.peer.s_addr, ip("198.51.100.2").s_addr);
	assert_int_equal(st->halfopen.peer_port, 500);
	assert_string_equal(st->halfopen.peer_id, "key-id site-a");
	assert_int_equal(st->halfopen.count, 1);
	assert_true(st->halfopen.last_wall >= st->halfopen.first_wall + 14);
	/* a change of the profile's settings: not the profile's state any more */
	b.psk = a.psk;
	old = W.b.cfg;
	W.b.cfg = make_cfg(&b);
	ike_engine_set_config(W.b.e, W.b.cfg);
	kz_config_free(old);
	assert_false(status(&W.b)->halfopen.set);
}

/* An initiator waiting for an answer: how often its message went out and
 * for how long, while it is still trying; a negotiating SA shows "-" for
 * what it has not chosen yet and names its profile. */
static void test_inflight_initiator(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	const struct ike_profile_status *st;

	W.drop_all = true;
	start(&a, &b, "198.51.100.2");
	advance(7000);
	st = status(&W.a);
	assert_true(st->inflight.set);
	assert_true(st->inflight.initiator);
	assert_int_equal(st->inflight.msg_sent, 1);
	assert_int_equal(st->inflight.tries, 3); /* 0, 2, 6 s */
	assert_true(st->inflight.last_wall - st->inflight.first_wall >= 6);
	assert_int_equal(st->inflight.peer.s_addr, ip("203.0.113.2").s_addr);
	assert_non_null(strstr(show_ike(&W.a),
			       "IKE PH1 negotiating\n"
			       "authentication method:pre-shared key\n"
			       "encrypt:-\nhash:-\ndh_group:-\n"));
	assert_non_null(strstr(show_ike(&W.a), "profile: HQ\n"));
	advance(60000);
	st = status(&W.a);
	assert_int_equal(st->last_class, IKE_FAIL_NO_ANSWER);
	assert_true(st->halfopen.set);
	assert_int_equal(st->halfopen.tries, 5);
}

static void test_no_answer_and_backoff(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters c;

	W.drop_all = true;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.sent, 1);
	advance(61000);
	assert_int_equal(W.a.sent, 5); /* 0, 2, 6, 14, 30 s */
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NONE);
	advance(1500);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NO_ANSWER);
	assert_int_equal(status(&W.a)->count, 1);
	ike_get_counters(W.a.e, &c);
	assert_int_equal(c.retransmits, 4);
	/* back-off: the next attempt 5 s later */
	advance(4000);
	assert_int_equal(W.a.sent, 5);
	advance(1500);
	assert_int_equal(W.a.sent, 6);
	advance(63000);
	assert_int_equal(status(&W.a)->count, 2);
}

/* A WAN with its new address but no route yet: the first sends fail here.
 * They are tried again every 250 ms, not after the peer's 2 s retransmit
 * step, and do not use up the five transmissions; a WAN that stays
 * unusable still ends in "no answer". */
static void test_local_send_failure(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	W.fail_sends_a = 2;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	advance(500); /* the first retry fails too */
	assert_int_equal(W.a.nchild, 0);
	advance(500); /* the third send gets through, 1 s in, not 2 s */
	assert_int_equal(W.fail_sends_a, 0);
	assert_children(1, 1);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NONE);
}

static void test_local_send_failure_persists(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	W.fail_sends_a = 1000000;
	start(&a, &b, "198.51.100.2");
	/* 20 quick retries (the clock here steps 500 ms: 10 s), then the
	 * normal five tries (62 s) */
	advance(64000);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NONE);
	advance(16000);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NO_ANSWER);
}

/* strongSwan drops a QM1 that it takes before AM3 ("phase 1 is
 * incomplete"): the QM1 that follows AM3 is retransmitted after 300 ms,
 * not after the usual 2 s. */
static void test_qm1_after_am3_early_retransmit(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	W.drop_qm_to_b = 1;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	advance(500);
	assert_int_equal(W.drop_qm_to_b, 0);
	assert_children(1, 1);
}

/* The Quick Mode initiator installs the pair before QM3 leaves: the
 * responder installs on QM3 and may send on the new pair at once. */
static void test_qm_installed_before_qm3(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.a_children_at_qm, 1);
}

/* An Aggressive-mode initiator that put INITIAL-CONTACT in AM3 repeats it
 * in an Informational once the first Quick Mode is done (some peers act on
 * it only there); the pair just made survives it.  Main
 * mode carries it in MM5, where every peer acts on it: no repeat. */
static void test_initial_contact_informational(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.a.info_sent, 1);
	assert_int_equal(W.b.nchild, 1);
	assert_int_equal(W.b.ndown, 0);
	assert_int_equal(W.a.ndown, 0);
	advance(5000);
	assert_int_equal(W.a.info_sent, 1); /* once */
	assert_int_equal(W.b.ndown, 0);
}

static void test_initial_contact_no_informational_in_main(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.a.info_sent, 0);
}

static void test_malformed_truncated(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters c;

	W.truncate_next_to_b = 1;
	start(&a, &b, "198.51.100.2");
	ike_get_counters(W.b.e, &c);
	assert_int_equal(c.drop_malformed, 1);
	assert_string_equal(show_ike(&W.b), "");
	/* the retransmission gets through */
	advance(2500);
	assert_children(1, 1);
}

static void test_duplicates(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters c;
	const char *s;

	W.dup = true;
	start(&a, &b, "198.51.100.2");
	assert_children(1, 1);
	assert_pair_matches(0);
	ike_get_counters(W.b.e, &c);
	assert_true(c.retransmits >= 3); /* repeats answered again */
	/* one IKE SA on each side */
	s = show_ike(&W.b);
	assert_null(strstr(s, "\n\n"));
	W.dup = false;
	pump();
	assert_children(1, 1);
}

static void test_lost_answer_retransmit(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	W.drop_to_b = true;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	W.drop_to_b = false;
	advance(2500);
	assert_children(1, 1);
}

static void test_lost_reply_answered_again(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_counters c;

	W.drop_next_to_a = 1; /* MM2 is lost: the repeated MM1 gets it again */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	advance(2500);
	assert_children(1, 1);
	assert_pair_matches(0);
	ike_get_counters(W.b.e, &c);
	assert_int_equal(c.retransmits, 1);
	assert_null(strstr(show_ike(&W.b), "\n\n")); /* still one IKE SA */
}

static void test_delete(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.initiate = KZ_INITIATE_ON_DEMAND;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 0);
	assert_int_equal(ike_initiate(W.a.e, "HQ"), 0);
	pump();
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(ike_clear_ipsec(W.a.e), 0);
	pump();
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(W.b.ndown, 1);
	assert_int_equal(ike_clear_ike(W.a.e, NULL), 0);
	pump();
	assert_string_equal(show_ike(&W.a), "");
	assert_string_equal(show_ike(&W.b), "");
}

/* The peer deleted everything and went away (a restart): the auto profile
 * negotiates again from ike_run_timers, and the deadline that call returns
 * must cover the new exchange's retransmission, or the daemon would sleep
 * past it (its event loop arms its timer from this value only). */
static void test_retry_after_delete_reports_deadline(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	unsigned sent;
	int64_t next;
	int spins = 0;

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(ike_clear_ipsec(W.b.e), 0);
	assert_int_equal(ike_clear_ike(W.b.e, NULL), 0);
	W.drop_all = true; /* the peer is gone now */
	pump();
	assert_int_equal(W.a.ndown, 1);
	sent = W.a.sent;
	W.now += 1000;
	do
		next = ike_run_timers(W.a.e);
	while (next == 0 && ++spins < 10);
	assert_int_equal(W.a.sent, sent + 1); /* MM1 */
	assert_true(next > 0 && next <= IKE_RETRANS_FIRST_MS);
	W.now += (uint64_t)next;
	(void)ike_run_timers(W.a.e);
	assert_int_equal(W.a.sent, sent + 2); /* its retransmission, on time */
}

static void test_initial_contact(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.initiate = KZ_INITIATE_ON_DEMAND;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(ike_initiate(W.a.e, "HQ"), 0);
	pump();
	assert_int_equal(W.b.nchild, 1);
	/* A "reboots": a fresh engine with the same config */
	ike_engine_free(W.a.e);
	{
		struct node save = W.a;

		node_init(&W.a, "a", "198.51.100.2", 0x55aa55aa55aa55aaull);
		W.a.cfg = save.cfg;
	}
	ike_engine_set_config(W.a.e, W.a.cfg);
	assert_int_equal(ike_initiate(W.a.e, "HQ"), 0);
	pump();
	/* B dropped the old IKE SA and the old IPsec SA pair */
	assert_int_equal(W.b.ndown, 1);
	assert_null(strstr(show_ike(&W.b), "\n\n"));
	assert_int_equal(W.b.nchild, 2);
}

static void test_show_ipsec_sa(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct strbuf sb;
	char want[2048];
	const struct kz_child_sa *o, *i;

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	o = &W.a.out[0];
	i = &W.a.in[0];
	sb_init(&sb);
	ike_show_ipsec_sa(W.a.e, false, &sb);
	snprintf(want, sizeof(want),
		 "IPsec SA - 1 configured, 2 created\n"
		 "Interface IPsec0\n"
		 "Outbound:\n"
		 "198.51.100.2 -> 203.0.113.2\n"
		 "mode: tunnel\n"
		 "satype: esp spi=%u(0x%08x)\n"
		 "enc algorithm: aes-cbc\n"
		 "key length: 256\n"
		 "auth algorithm: hmac-sha2-256\n"
		 "replay window size is 64 bits\n"
		 "SA status is established\n"
		 "Remaining lifetime is 28800 seconds\n"
		 "Remaining lifebytes is - bytes\n"
		 "12 [packets] 1680 [bytes] last:",
		 o->spi, o->spi);
	assert_int_equal(strncmp(sb_str(&sb), want, strlen(want)), 0);
	snprintf(want, sizeof(want),
		 "Inbound:\n"
		 "203.0.113.2 -> 198.51.100.2\n"
		 "mode: tunnel\n"
		 "satype: esp spi=%u(0x%08x)\n",
		 i->spi, i->spi);
	assert_non_null(strstr(sb_str(&sb), want));
	assert_non_null(strstr(sb_str(&sb), "0 [packets] 0 [bytes] last:\n"));
	sb_reset(&sb);
	ike_show_ipsec_sa(W.a.e, true, &sb);
	assert_non_null(strstr(sb_str(&sb), "\"configured\":1,\"created\":2"));
	sb_reset(&sb);
	ike_show_ike_sa(W.a.e, true, &sb);
	assert_non_null(strstr(sb_str(&sb), "\"phase2_count\":1"));
	sb_reset(&sb);
	ike_show_profile_status(W.a.e, "HQ", &sb);
	assert_string_equal(sb_str(&sb), "");
	sb_free(&sb);
}

static void test_show_profile_status_failure(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct strbuf sb;

	b.ike_enc = KZ_ENC_AES_CBC_128;
	start(&a, &b, "198.51.100.2");
	sb_init(&sb);
	ike_show_profile_status(W.b.e, "HQ", &sb);
	assert_non_null(strstr(sb_str(&sb), "HQ : phase 1 failed 1 time(s), last at "));
	assert_non_null(strstr(sb_str(&sb),
			       "no proposal chosen: we offered aes-cbc-128/"
			       "sha2-256/ecp256, the peer offered aes-cbc-256/"
			       "sha2-256/ecp256\n"));
	sb_free(&sb);
}

/* An unprotected AUTHENTICATION-FAILED notify in an exchange of type
 * exch, with the cookies of A's established IKE SA, as B would send it. */
static size_t forge_notify(uint8_t *msg, size_t cap, uint8_t exch)
{
	struct wbuf w;
	struct isakmp_chain c;
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exch = exch };
	const char *s = show_ike(&W.a);
	const char *idx = strstr(s, "index:") + 6;

	memcpy(h.icookie, W.first_a, 8);
	for (int k = 0; k < 8; k++) {
		unsigned v;

		sscanf(idx + 16 + 2 * k, "%2x", &v);
		h.rcookie[k] = (uint8_t)v;
	}
	wbuf_init(&w, msg, cap);
	assert_int_equal(isakmp_put_hdr(&w, &h), 0);
	isakmp_chain_init(&c, &w);
	assert_int_equal(isakmp_put_notify(&c, ISAKMP_PROTO_ISAKMP, NULL, 0,
					   ISAKMP_N_AUTHENTICATION_FAILED, NULL, 0),
			 0);
	msg[16] = c.first;
	assert_int_equal(wbuf_patch_u32(&w, 24, (uint32_t)w.len), 0);
	return w.len;
}

/* Main mode up, then the forged notify in an exchange of type exch from B
 * to A: A's drop_state count goes up by one and its IKE SA stays up with
 * no failure recorded. */
static void assert_forged_dropped(uint8_t exch)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct sockaddr_in l = { .sin_family = AF_INET, .sin_port = htons(500) };
	struct sockaddr_in p = l;
	struct ike_counters before, after;
	uint8_t msg[64];
	size_t len;

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	len = forge_notify(msg, sizeof(msg), exch);
	l.sin_addr = W.a.addr;
	p.sin_addr = W.b.addr;
	ike_get_counters(W.a.e, &before);
	ike_input(W.a.e, &l, &p, msg, len, false);
	ike_get_counters(W.a.e, &after);
	assert_int_equal(after.drop_state, before.drop_state + 1);
	assert_true(status(&W.a)->established);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NONE);
}

static void test_unprotected_notify_ignored_after_phase1(void **state)
{
	assert_forged_dropped(ISAKMP_XCHG_INFO);
}

/* An exchange type no row of the state table has (Base, RFC 2408 4.4)
 * with the cookies of an established SA finds no transition. */
static void test_unknown_exchange_dropped(void **state)
{
	assert_forged_dropped(1);
}

static void test_simultaneous_initiation(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	/* both name each other and start at once: config-language.md allows it */
	b.initiate = KZ_INITIATE_AUTO;
	W.b.cfg = make_cfg(&b);
	W.a.cfg = make_cfg(&a);
	ike_engine_set_config(W.b.e, W.b.cfg);
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_children(2, 2);
	/* both pairs agree across the two sides */
	for (int i = 0; i < 2; i++) {
		int j = W.a.in[i].spi == W.b.out[0].spi ? 0 : 1;

		assert_int_equal(W.a.in[i].spi, W.b.out[j].spi);
		assert_int_equal(W.a.out[i].spi, W.b.in[j].spi);
		assert_memory_equal(W.a.in[i].enc_key, W.b.out[j].enc_key, 32);
	}
	assert_non_null(strstr(show_ike(&W.a), "Direction is initiator"));
	assert_non_null(strstr(show_ike(&W.a), "Direction is responder"));
	/* the pair initiated by the higher address (B) goes once A's carries
	 * traffic */
	advance(1000);
	assert_int_equal(W.a.ndown + W.b.ndown, 0);
	W.in_traffic = true;
	advance(1000);
	assert_int_equal(W.b.ndown, 1);
	assert_int_equal(W.a.ndown, 1);
	advance(5000);
	assert_int_equal(W.a.nchild, 2); /* nothing re-negotiated */
}


/* ---- Dead Peer Detection (RFC 3706) ---- */

static void dpd_sites(struct site *a, struct site *b, unsigned ivl, unsigned retry)
{
	*a = site_a(KZ_MODE_MAIN);
	*b = site_b(KZ_MODE_MAIN);
	a->dpd_interval = b->dpd_interval = ivl;
	a->dpd_retry = b->dpd_retry = retry;
}

static void advance_until_down(struct node *n, int ndown, uint64_t max_ms)
{
	for (uint64_t t = 0; t < max_ms && n->ndown < ndown; t += 500)
		advance(500);
}

static void test_dpd_dead_peer(void **state)
{
	struct site a, b;
	uint64_t t0;
	unsigned info0, sent0;

	dpd_sites(&a, &b, 10, 3);
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	/* the peer vanishes (SIGKILL, cable cut): nothing reaches either side */
	t0 = W.now;
	info0 = W.a.info_sent;
	W.drop_all = true;
	advance_until_down(&W.a, 1, 120000);
	assert_int_equal(W.a.ndown, 1);
	/* dead after interval x (retry + 1) of silence, within the bound */
	assert_true(W.a.down_at - t0 <= 10u * 4u * 1000u + 1000u);
	assert_true(W.a.down_at - t0 >= 10u * 4u * 1000u - 1000u);
	/* retry + 1 probes, no Delete to a dead peer */
	assert_int_equal(W.a.info_sent - info0, 4);
	assert_string_equal(show_ike(&W.a), "");
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NO_ANSWER);
	assert_non_null(strstr(status(&W.a)->detail, "dead peer detection"));
	/* the initiator negotiates again after its back-off (5 s), not at once */
	sent0 = W.a.sent;
	advance(4000);
	assert_int_equal(W.a.sent, sent0);
	advance(1500);
	assert_int_equal(W.a.sent, sent0 + 1);
	/* B cleared A too (it probes as well) */
	advance_until_down(&W.b, 1, 20000);
	assert_int_equal(W.b.ndown, 1);
	/* the network comes back: one IKE SA and one new pair each */
	W.drop_all = false;
	advance(70000);
	assert_children(2, 2);
	assert_pair_matches(1);
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(W.b.ndown, 1);
	assert_true(status(&W.a)->established);
	assert_null(strstr(show_ike(&W.a), "\n\n"));
	assert_null(strstr(show_ike(&W.b), "\n\n"));
}

static void test_dpd_traffic_suppresses_probes(void **state)
{
	struct site a, b;
	unsigned info0;

	dpd_sites(&a, &b, 10, 3);
	start(&a, &b, "198.51.100.2");
	/* ESP keeps arriving: no probe at all */
	W.in_traffic = true;
	W.flowing = true;
	info0 = W.a.info_sent + W.b.info_sent;
	advance(120000);
	assert_int_equal(W.a.info_sent + W.b.info_sent, info0);
	assert_int_equal(W.a.ndown, 0);
	/* traffic stops: probes after the interval, the peer answers, nothing
	 * is torn down; about one probe per interval from each side, each
	 * answered by an ACK */
	W.flowing = false;
	info0 = W.a.info_sent;
	advance(9000);
	assert_int_equal(W.a.info_sent, info0);
	advance(2000);
	assert_true(W.a.info_sent > info0);
	info0 = W.a.info_sent;
	advance(100000);
	assert_true(W.a.info_sent - info0 >= 10 && W.a.info_sent - info0 <= 22);
	assert_int_equal(W.a.ndown, 0);
	assert_int_equal(W.b.ndown, 0);
	assert_int_equal(W.a.nchild, 1);
}

static void test_dpd_ack_resets(void **state)
{
	struct site a, b;
	unsigned info0;

	dpd_sites(&a, &b, 10, 3);
	b.dpd_interval = 3600; /* B announces DPD, answers, never probes here */
	start(&a, &b, "198.51.100.2");
	info0 = W.a.info_sent;
	/* three ACKs lost: the fourth probe is answered in time */
	W.drop_next_to_a = 3;
	advance(10000 + 3 * 7500 + 1000);
	assert_int_equal(W.a.info_sent - info0, 4);
	assert_int_equal(W.drop_next_to_a, 0);
	advance(8000);
	assert_int_equal(W.a.ndown, 0);
	/* the count started again: the next probe only after a full interval
	 * of silence (42.5 s), and 40 s after the ACK (32.5 s) with 4 more
	 * unanswered the peer is dead (72.5 s); now is 41.5 s */
	W.drop_next_to_a = 4;
	advance(30000);
	assert_int_equal(W.a.ndown, 0);
	assert_int_equal(W.drop_next_to_a, 0);
	advance(1500);
	assert_int_equal(W.a.ndown, 1);
}

static void test_dpd_off_when_peer_silent_on_it(void **state)
{
	struct site a, b;
	unsigned info0;

	dpd_sites(&a, &b, 10, 3);
	b.dpd_interval = 0; /* B does not announce the DPD vendor ID */
	start(&a, &b, "198.51.100.2");
	info0 = W.a.info_sent;
	W.drop_all = true;
	advance(100000);
	assert_int_equal(W.a.info_sent, info0);
	assert_int_equal(W.a.ndown, 0);
}

/* ---- rekeying ---- */

static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_rekey_ipsec_make_before_break(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	uint32_t old_a, old_b;
	uint64_t t0;

	a.esp_life = b.esp_life = 600;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	old_a = W.a.in[0].spi;
	old_b = W.b.in[0].spi;
	/* nothing before the soft lifetime (85-90 % of 600 s on A); A, the
	 * initiator, renegotiates before B would (95 %) */
	t0 = W.now;
	while (W.a.nchild < 2 && W.now - t0 < 600000)
		advance(500);
	assert_true(W.now - t0 >= 510000 && W.now - t0 <= 540500);
	assert_children(2, 2);
	assert_pair_matches(1);
	/* A, which sent QM3, sends on the new pair only a second later; B at
	 * once; the first pair had no predecessor and no hold */
	assert_int_equal(W.a.out[1].out_after_ms, W.a.out[1].created_ms + 1000);
	assert_int_equal(W.b.out[1].out_after_ms, 0);
	assert_int_equal(W.a.out[0].out_after_ms, 0);
	/* both pairs live for the overlap: nothing deleted yet */
	assert_int_equal(W.a.ndown, 0);
	assert_int_equal(W.b.ndown, 0);
	/* ... then the old pair goes on both sides, by A's Delete */
	advance(5500);
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(W.b.ndown, 1);
	assert_int_equal(W.a.last_down_in, old_a);
	assert_int_equal(W.b.last_down_in, old_b);
	/* the new pair lives on past the old one's hard lifetime, and is
	 * renewed in turn */
	advance(100000);
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(W.a.nchild, 2);
	advance(500000);
	assert_children(3, 3);
	assert_pair_matches(2);
	advance(6000);
	assert_int_equal(W.a.ndown, 2);
	assert_int_equal(W.b.ndown, 2);
	assert_int_equal(count_str(show_ike(&W.a), "IKE PH1 established"), 1);
}

static void test_rekey_responder_when_initiator_does_not(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.esp_life = b.esp_life = 600;
	start(&a, &b, "198.51.100.2");
	/* A stops talking IKE (its Quick Modes are lost): B renews at 95 % */
	W.drop_to_b = true;
	advance(565000);
	assert_int_equal(W.b.nchild, 1);
	W.drop_to_b = false;
	/* A's own attempts keep going on; the first to finish wins */
	advance(20000);
	assert_true(W.b.nchild >= 2);
	assert_int_equal(W.a.nchild, W.b.nchild);
	advance(10000);
	/* one old pair gone, no pair lost twice */
	assert_true(W.a.ndown >= 1);
	assert_int_equal(W.a.nchild - W.a.ndown, 1);
	assert_int_equal(W.b.nchild - W.b.ndown, 1);
}

static void test_rekey_bytes(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	a.esp_kbytes = b.esp_kbytes = 2; /* 2048 bytes */
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.a.in[0].life_kbytes, 2);
	advance(5000);
	assert_int_equal(W.a.nchild, 1);
	/* past the soft byte lifetime (<= 90 % = 1843 bytes) */
	W.bytes_spi = W.a.out[0].spi;
	W.extra_bytes = 1880 - 1680;
	advance(1500);
	assert_children(2, 2);
	assert_int_equal(W.a.ndown, 0);
	advance(6000);
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(W.b.ndown, 1);
	/* the hard byte limit removes a pair at once */
	W.bytes_spi = W.a.out[1].spi;
	W.extra_bytes = 4000;
	advance(1500);
	assert_int_equal(W.a.ndown, 2);
	assert_int_equal(W.a.last_down_in, W.a.in[1].spi);
}

static void test_rekey_bytes_fast(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	uint64_t hard;

	/* 40 MB/s against a byte lifetime of 8 s at that rate: 85-90 % leaves
	 * 0.8-1.2 s, less than the poll, Quick Mode and switch-over take, and
	 * B's 95 % falls within the same poll */
	a.esp_kbytes = b.esp_kbytes = 312500;
	hard = 312500u * 1024u;
	start(&a, &b, "198.51.100.2");
	W.rate = 40000;
	for (int i = 0; i < 120; i++) {
		advance(500);
		/* never more than the old and the new pair: no second
		 * successor from both sides rekeying at once */
		assert_true(W.a.nchild - W.a.ndown <= 2);
		assert_true(W.b.nchild - W.b.ndown <= 2);
	}
	/* no pair carried more than its lifetime before A moved to the next */
	for (int k = 0; k + 1 < W.a.nchild; k++) {
		struct kz_child_stats st = { 0 };

		io_child_stats(&W.a, W.a.out[k].spi, KZ_CHILD_OUT, &st);
		assert_true(st.bytes < hard);
		assert_true(st.bytes > hard / 2);
	}
	/* a rekey every 5-6 s, both sides agree on every pair */
	assert_true(W.a.nchild >= 10);
	assert_int_equal(W.a.nchild, W.b.nchild);
	for (int k = 0; k < W.a.nchild; k++)
		assert_int_equal(W.a.out[k].spi, W.b.in[k].spi);
	W.rate = 0;
}

static void test_rekey_ike_children_survive(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);

	uint64_t t0;

	a.ike_life = b.ike_life = 600;
	a.esp_life = b.esp_life = 1200;
	start(&a, &b, "198.51.100.2");
	t0 = W.now;
	while (count_str(show_ike(&W.a), "IKE PH1 established") < 2 && W.now - t0 < 600000)
		advance(500);
	assert_true(W.now - t0 >= 510000 && W.now - t0 <= 540500);
	/* a second IKE SA next to the first, no new IPsec SA */
	assert_int_equal(count_str(show_ike(&W.a), "IKE PH1 established"), 2);
	assert_int_equal(count_str(show_ike(&W.b), "IKE PH1 established"), 2);
	assert_int_equal(W.a.nchild, 1);
	advance(5500);
	assert_int_equal(count_str(show_ike(&W.a), "IKE PH1 established"), 1);
	assert_int_equal(count_str(show_ike(&W.b), "IKE PH1 established"), 1);
	/* the IPsec SAs survive the old IKE SA and its hard lifetime */
	advance(100000);
	assert_int_equal(W.a.nchild, 1);
	assert_int_equal(W.a.ndown, 0);
	assert_int_equal(W.b.ndown, 0);
	/* and are renewed through the new IKE SA (and phase 1 again) */
	advance(1245000 - (W.now - t0));
	assert_true(W.a.nchild >= 2);
	assert_int_equal(W.a.nchild, W.b.nchild);
	assert_int_equal(W.a.nchild - W.a.ndown, 1);
	assert_int_equal(count_str(show_ike(&W.a), "IKE PH1 established"), 1);
}

static void test_rekey_hundred_times(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct strbuf sb;

	a.esp_life = b.esp_life = 60;
	a.ike_life = b.ike_life = 120;
	start(&a, &b, "198.51.100.2");
	/* 100 IPsec rekeys (every 51-54 s) and about 45 IKE rekeys; what
	 * the engine holds must not grow (LeakSanitizer checks the heap) */
	while (W.a.nchild + W.b.nchild < 2 + 2 * 100)
		advance(500);
	advance(6000);
	assert_true(W.a.nchild >= 51);
	assert_int_equal(W.a.nchild, W.b.nchild);
	assert_int_equal(W.a.nchild - W.a.ndown, 1);
	assert_int_equal(W.b.nchild - W.b.ndown, 1);
	assert_int_equal(count_str(show_ike(&W.a), "IKE PH1 established"), 1);
	assert_int_equal(count_str(show_ike(&W.b), "IKE PH1 established"), 1);
	sb_init(&sb);
	ike_show_ipsec_sa(W.a.e, false, &sb);
	assert_int_equal(count_str(sb_str(&sb), "Inbound:"), 1);
	sb_free(&sb);
}

/* ---- WAN events ---- */

static void test_wan_address_change(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	unsigned sent0;

	start(&a, &b, "198.51.100.2");
	assert_children(1, 1);
	/* a config event without a change of address changes nothing */
	sent0 = W.a.sent;
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_int_equal(W.a.sent, sent0);
	assert_int_equal(W.a.ndown, 0);
	/* the carrier hands out a new address: A starts over from it at once,
	 * without waiting for a timer, and B replaces the stale SAs (the
	 * peer's address differs, its identity is the same) */
	W.a.addr = ip("198.51.100.7");
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_int_equal(W.a.ndown, 1);
	assert_children(2, 2);
	assert_int_equal(W.b.ndown, 1);
	assert_pair_matches(1);
	assert_int_equal(W.a.out[1].local.sin_addr.s_addr, ip("198.51.100.7").s_addr);
	assert_int_equal(W.b.out[1].peer.sin_addr.s_addr, ip("198.51.100.7").s_addr);
	assert_int_equal(count_str(show_ike(&W.a), "IKE PH1 established"), 1);
	assert_int_equal(count_str(show_ike(&W.b), "IKE PH1 established"), 1);
	assert_non_null(strstr(show_ike(&W.b), "remote: 198.51.100.7"));
}

static void test_wan_link_back(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	unsigned sent0;

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	/* the link goes away: nothing can be sent, the SAs wait */
	W.a.addr.s_addr = 0;
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_int_equal(W.a.ndown, 0);
	/* a long outage: attempts back off meanwhile */
	advance(60000);
	/* it comes back with the same address: A negotiates again at once,
	 * with INITIAL-CONTACT, and B drops the old pair */
	W.a.addr = ip("198.51.100.2");
	sent0 = W.a.sent;
	ike_engine_set_config(W.a.e, W.a.cfg);
	assert_true(W.a.sent > sent0);
	pump();
	assert_int_equal(W.a.ndown, 1);
	assert_int_equal(W.b.ndown, 1);
	assert_children(2, 2);
	assert_pair_matches(1);
	assert_int_equal(count_str(show_ike(&W.b), "IKE PH1 established"), 1);
}

static void test_wan_responder_keeps_sas(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.b.nchild, 1);
	/* B (peer any, cannot initiate) has its link bounce with the same
	 * address: its SAs stay; nothing is sent */
	W.b.addr.s_addr = 0;
	ike_engine_set_config(W.b.e, W.b.cfg);
	W.b.addr = ip("203.0.113.2");
	ike_engine_set_config(W.b.e, W.b.cfg);
	pump();
	assert_int_equal(W.b.ndown, 0);
	assert_int_equal(W.a.ndown, 0);
}

/* ---- back-off after failures (`retry interval N max M`) ---- */

/* The times (ms after the first) at which A started a phase 1, while the
 * clock runs for ms: a retransmission would show as an attempt too, but a
 * proposal mismatch is answered at once, so each attempt is one MM1. */
static int attempt_times(uint64_t ms, uint64_t t0, uint64_t *at, int max)
{
	int n = 0;

	for (uint64_t t = 0; t < ms; t += 500) {
		unsigned sent = W.a.sent;

		advance(500);
		if (W.a.sent != sent && n < max)
			at[n++] = W.now - t0;
	}
	return n;
}

static void test_backoff_sequence(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	uint64_t t0, at[16];
	int n;

	b.ike_enc = KZ_ENC_AES_CBC_128; /* every attempt fails at once */
	a.retry_interval = 2;
	a.retry_max = 10;
	start(&a, &b, "198.51.100.2");
	t0 = W.now;
	assert_int_equal(W.a.sent, 1);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NO_PROPOSAL);
	/* waits of 2, 4, 8, 10, 10 s: attempts at 2, 6, 14, 24, 34 s */
	n = attempt_times(35000, t0, at, 16);
	assert_int_equal(n, 5);
	assert_int_equal(at[0], 2000);
	assert_int_equal(at[1], 6000);
	assert_int_equal(at[2], 14000);
	assert_int_equal(at[3], 24000);
	assert_int_equal(at[4], 34000);
	assert_int_equal(status(&W.a)->count, 6);
	assert_int_equal(status(&W.a)->backoff_s, 10);
	assert_int_equal(status(&W.a)->backoff_max_s, 10);
}

/* The show line counts down to the attempt; a new ceiling applies to the
 * next step; a success resets the sequence to the interval. */
static void test_backoff_show_and_reset(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	const struct ike_profile_status *st;
	uint64_t at[4];

	b.ike_enc = KZ_ENC_AES_CBC_128;
	a.retry_interval = 4;
	a.retry_max = 100;
	start(&a, &b, "198.51.100.2");
	st = status(&W.a);
	assert_true(st->retry_scheduled);
	assert_false(st->negotiating);
	assert_int_equal(st->retry_in_s, 4);
	assert_non_null(strstr(show_status(&W.a),
			       "  Next attempt in 4 seconds (back-off 4 s, "
			       "max 100 s)\nHQ : phase 1 failed 1 time(s), "
			       "last at "));
	advance(1000);
	assert_non_null(strstr(show_status(&W.a),
			       "  Next attempt in 3 seconds (back-off 4 s, "
			       "max 100 s)\n"));
	advance(2500);
	assert_non_null(strstr(show_status(&W.a),
			       "  Next attempt in 1 seconds (back-off 4 s, "
			       "max 100 s)\n"));
	/* the state line comes before the failure line */
	assert_true(strstr(show_status(&W.a), "  Next") < strstr(show_status(&W.a), "HQ : "));
	advance(500); /* the attempt at 4 s fails: 8 s now */
	assert_non_null(strstr(show_status(&W.a),
			       "  Next attempt in 8 seconds (back-off 8 s, "
			       "max 100 s)\n"));
	/* a lower ceiling takes effect at the next step: 16 s becomes 10 s */
	kz_find_profile(W.a.cfg, "HQ")->retry_max = 10;
	ike_engine_set_config(W.a.e, W.a.cfg);
	assert_int_equal(attempt_times(8000, W.now, at, 4), 1);
	assert_non_null(strstr(show_status(&W.a), "(back-off 10 s, max 10 s)\n"));
	/* B is fixed: the next attempt gets through and the lines go */
	kz_find_ike_proposal(W.b.cfg, "IKEP")->enc = KZ_ENC_AES_CBC_256;
	ike_engine_set_config(W.b.e, W.b.cfg);
	advance(10000);
	assert_int_equal(W.a.nchild, 1);
	st = status(&W.a);
	assert_true(st->established);
	assert_false(st->retry_scheduled);
	assert_string_equal(show_status(&W.a), "");
	/* broken again and torn down: the first wait is the interval again,
	 * not the 10 s reached before the success */
	kz_find_ike_proposal(W.b.cfg, "IKEP")->enc = KZ_ENC_AES_CBC_128;
	ike_engine_set_config(W.b.e, W.b.cfg);
	assert_int_equal(ike_clear_ike(W.a.e, NULL), 0);
	assert_int_equal(ike_clear_ipsec(W.a.e), 0);
	pump();
	advance(1500); /* the auto profile comes back by itself, and fails */
	st = status(&W.a);
	assert_false(st->established);
	assert_true(st->retry_scheduled);
	assert_int_equal(st->backoff_s, 4);
	assert_non_null(strstr(show_status(&W.a), "(back-off 4 s, max 10 s)\n"));
}

/* While a phase 1 is under way the line says so; in JSON too. */
static void test_backoff_negotiating_json(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct strbuf sb;

	W.drop_all = true;
	start(&a, &b, "198.51.100.2");
	assert_true(status(&W.a)->negotiating);
	assert_string_equal(show_status(&W.a), "  Negotiating now\n");
	sb_init(&sb);
	ike_show_profile_state_json(W.a.e, "HQ", &sb);
	assert_string_equal(sb_str(&sb),
			    "{\"established\":false,\"down\":false,\"down_reason\":"
			    "null,\"negotiating\":true,\"next_attempt_in\":null,"
			    "\"backoff\":null,\"backoff_max\":600,\"dpd\":\"no-sa\","
			    "\"dpd_recovery_in\":null}");
	advance(63000); /* no answer after five tries: back off 5 s */
	sb_reset(&sb);
	ike_show_profile_state_json(W.a.e, "HQ", &sb);
	assert_non_null(strstr(sb_str(&sb), "\"negotiating\":false,\"next_attempt_in\":"));
	assert_non_null(strstr(sb_str(&sb), ",\"backoff\":5,\"backoff_max\":600,"));
	sb_free(&sb);
	/* the responder never retries and shows nothing */
	assert_string_equal(show_status(&W.b), "");
}

/* An on-demand profile in its back-off: a packet does not start a
 * negotiation before the wait is over. */
static void test_backoff_on_demand(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	unsigned sent;

	b.ike_enc = KZ_ENC_AES_CBC_128;
	a.initiate = KZ_INITIATE_ON_DEMAND;
	a.retry_interval = 30;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.sent, 0);
	assert_int_equal(ike_initiate(W.a.e, "HQ"), 0); /* the first packet */
	pump();
	assert_int_equal(W.a.sent, 1);
	assert_int_equal(status(&W.a)->last_class, IKE_FAIL_NO_PROPOSAL);
	sent = W.a.sent;
	for (int i = 0; i < 28; i++) {
		advance(1000);
		assert_int_equal(ike_initiate(W.a.e, "HQ"), 0); /* more packets */
		pump();
	}
	assert_int_equal(W.a.sent, sent);
	assert_non_null(strstr(show_status(&W.a),
			       "  Next attempt in 2 seconds (back-off 30 s, "
			       "max 600 s)\n"));
	advance(2000);
	/* due, but an on-demand profile waits for a packet, not for a time */
	assert_int_equal(W.a.sent, sent);
	assert_null(strstr(show_status(&W.a), "Next attempt"));
	assert_int_equal(ike_initiate(W.a.e, "HQ"), 0);
	pump();
	assert_int_equal(W.a.sent, sent + 1);
	assert_non_null(strstr(show_status(&W.a), "(back-off 60 s, max 600 s)\n"));
}

/* ---- the WAN without an address: SAs are kept but said to be down ---- */

static void test_wan_down_shown(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct strbuf sb;

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	assert_false(ike_wan_down(W.a.e));
	assert_null(strstr(show_ike(&W.a), "SA is down"));
	W.a.addr.s_addr = 0;
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_true(ike_wan_down(W.a.e));
	assert_int_equal(W.a.ndown, 0); /* kept, not deleted */
	/* after the spec's lines of the block, once per SA */
	assert_non_null(strstr(show_ike(&W.a),
			       "phase2 count=1\nprofile: HQ\nSA is down: MobileEthernet0.0 "
			       "has no usable address\n"));
	sb_init(&sb);
	ike_show_ipsec_sa(W.a.e, false, &sb);
	assert_int_equal(count_str(sb_str(&sb), " last:"), 2);
	assert_int_equal(count_str(sb_str(&sb),
				   "\nSA is down: MobileEthernet0.0 has no usable "
				   "address\n"),
			 2);
	/* each after its SA's counter line, the last line of the spec's block */
	assert_non_null(strstr(sb_str(&sb),
			       "\nSA is down: MobileEthernet0.0 has no usable "
			       "address\nInbound:\n"));
	sb_reset(&sb);
	ike_show_ipsec_sa(W.a.e, true, &sb);
	assert_int_equal(count_str(sb_str(&sb), "\"down\":true"), 2);
	sb_reset(&sb);
	ike_show_ike_sa(W.a.e, true, &sb);
	assert_int_equal(count_str(sb_str(&sb), "\"down\":true"), 1);
	sb_reset(&sb);
	ike_show_profile_state_json(W.a.e, "HQ", &sb);
	assert_non_null(strstr(sb_str(&sb),
			       "\"down\":true,\"down_reason\":\"MobileEthernet0.0 "
			       "has no usable address\""));
	assert_string_equal(show_status(&W.a),
			    "  SA is down: MobileEthernet0.0 has no usable "
			    "address\n");
	assert_true(status(&W.a)->wan_down);
	/* the responder's engine still has its address: nothing down there */
	assert_null(strstr(show_ike(&W.b), "SA is down"));
	/* back: new SAs, nothing down */
	W.a.addr = ip("198.51.100.2");
	ike_engine_set_config(W.a.e, W.a.cfg);
	pump();
	assert_false(ike_wan_down(W.a.e));
	assert_null(strstr(show_ike(&W.a), "SA is down"));
	sb_reset(&sb);
	ike_show_ipsec_sa(W.a.e, true, &sb);
	assert_null(strstr(sb_str(&sb), "\"down\":true"));
	assert_non_null(strstr(sb_str(&sb), "\"down\":false"));
	assert_string_equal(show_status(&W.a), "");
	sb_free(&sb);
}

/* ---- `show ipsec profile NAME detail`: what the peer sent ---- */

static void test_detail_keyid_mismatch_then_success(void **state)
{
	struct site a = site_a(KZ_MODE_AGGRESSIVE), b = site_b(KZ_MODE_AGGRESSIVE);
	const struct ike_profile_detail *d;
	const struct ike_fail_run *r;
	struct kz_config *old;
	char ci[24], cr[24];

	a.local_id = "site-x";
	start(&a, &b, "198.51.100.2");
	advance(2500); /* A sends AM1 again after 2 s */
	d = ike_profile_detail(W.b.e, "HQ");
	assert_non_null(d);
	assert_string_equal(d->peer.id_type, "key-id");
	assert_string_equal(d->peer.id_value, "site-x");
	assert_true(d->peer.id_wall > 0);
	assert_true(d->peer.vid_wall > 0); /* AM1 carried vendor IDs or none */
	assert_int_equal(d->hist_n, 1);
	r = ike_fail_run_get(d, 0);
	assert_non_null(r);
	assert_int_equal(r->cls, IKE_FAIL_ID_MISMATCH);
	assert_int_equal(r->phase, 1);
	assert_int_equal(r->count, 2);
	assert_true(r->last_wall > r->first_wall);
	assert_null(ike_fail_run_get(d, 1));
	/* nothing beyond the ID was looked at: no proposal, no selectors */
	assert_int_equal(d->peer.p1_wall, 0);
	assert_false(d->peer.ts_set);
	assert_non_null(strstr(show_detail(&W.b, false), "    ID ("));
	assert_non_null(strstr(show_detail(&W.b, false), "): key-id site-x\n"));
	assert_non_null(
		strstr(show_detail(&W.b, false), "    1. phase 1 ID mismatch: 2 time(s), first "));
	assert_non_null(strstr(show_detail(&W.b, false), "    selectors: -\n"));
	assert_non_null(strstr(show_detail(&W.b, true),
			       "\"id\":{\"type\":\"key-id\",\"value\":\"site-x\",\"at\":"));
	assert_non_null(
		strstr(show_detail(&W.b, true),
		       "\"failures\":[{\"class\":\"ID mismatch\",\"phase\":1,\"count\":2,"));

	/* fixed on A: the settings changed, so the attempt with the old ID
	 * is dropped and a new one comes up at once, with no back-off */
	a.local_id = "site-a";
	old = W.a.cfg;
	W.a.cfg = make_cfg(&a);
	ike_engine_set_config(W.a.e, W.a.cfg);
	kz_config_free(old);
	advance(3000);
	assert_int_equal(W.b.nchild, 1);
	assert_true(status(&W.b)->established);
	d = ike_profile_detail(W.b.e, "HQ");
	assert_string_equal(d->peer.id_value, "site-a");
	/* the responder saw the offers, the initiator the choices */
	assert_string_equal(d->peer.p1_offer, "aes-cbc-256/sha2-256/ecp256");
	assert_false(d->peer.p1_chosen);
	assert_true(d->peer.p2_wall > 0);
	assert_false(d->peer.p2_chosen);
	assert_true(d->peer.ts_set);
	kz_prefix_str(&d->peer.ts_ci, ci, sizeof(ci));
	kz_prefix_str(&d->peer.ts_cr, cr, sizeof(cr));
	assert_string_equal(ci, "192.168.1.0/24");
	assert_string_equal(cr, "192.168.2.0/24");
	assert_non_null(
		strstr(show_detail(&W.b, false), "): IDci 192.168.1.0/24, IDcr 192.168.2.0/24\n"));
	/* the history outlives the success */
	assert_int_equal(d->hist_n, 1);
	assert_int_equal(ike_fail_run_get(d, 0)->count, 2); /* AM1 at 0 and 2 s */
	d = ike_profile_detail(W.a.e, "HQ");
	assert_true(d->peer.p1_chosen);
	assert_string_equal(d->peer.p1_offer, "aes-cbc-256/sha2-256/ecp256");
	assert_true(d->peer.p2_chosen);
	assert_string_equal(d->peer.p2_offer, ike_profile_detail(W.b.e, "HQ")->peer.p2_offer);
	assert_string_equal(d->peer.id_type, "address"); /* B has no local-id */
	assert_string_equal(d->peer.id_value, "203.0.113.2");
	assert_non_null(strstr(show_detail(&W.a, false), "phase 1 proposal (the peer chose, "));
}

static void test_detail_proposal_vids_and_ring(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	const struct ike_profile_detail *d;
	static const uint8_t frag[20] = { 0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8,
					  0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6,
					  0xc2, 0xd3, 0x80, 0,    0,    0 };
	static const uint8_t sswan[16] = { 0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc,
					   0x22, 0x51, 0x61, 0x3b, 0x2e, 0xbe, 0x5b, 0xeb };
	static const uint8_t odd[12] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8 };
	char name[40];

	a.natt = b.natt = true;
	b.ike_enc = KZ_ENC_AES_CBC_128;
	start(&a, &b, "198.51.100.2");
	d = ike_profile_detail(W.b.e, "HQ");
	assert_string_equal(d->peer.p1_offer, "aes-cbc-256/sha2-256/ecp256");
	assert_int_equal(d->peer.nvids, 4);
	assert_string_equal(d->peer.vids[0], "RFC 3947 NAT-T");
	assert_string_equal(d->peer.vids[1], "NAT-T draft-03");
	assert_string_equal(d->peer.vids[2], "NAT-T draft-02n");
	assert_string_equal(d->peer.vids[3], "NAT-T draft-02");
	assert_non_null(
		strstr(show_detail(&W.b, false),
		       "): RFC 3947 NAT-T, NAT-T draft-03, NAT-T draft-02n, NAT-T draft-02\n"));
	assert_non_null(strstr(show_detail(&W.b, false), "phase 1 proposal (the peer offered, "));
	assert_int_equal(ike_fail_run_get(d, 0)->cls, IKE_FAIL_NO_PROPOSAL);

	ike_vid_name(frag, sizeof(frag), name, sizeof(name));
	assert_string_equal(name, "Cisco fragmentation");
	ike_vid_name(sswan, sizeof(sswan), name, sizeof(name));
	assert_string_equal(name, "strongSwan");
	ike_vid_name(sswan, 15, name, sizeof(name));
	assert_string_equal(name, "unknown 882fe56d6fd20dbc...");
	ike_vid_name(odd, sizeof(odd), name, sizeof(name));
	assert_string_equal(name, "unknown deadbeef01020304...");
	ike_vid_name(odd, 3, name, sizeof(name));
	assert_string_equal(name, "unknown deadbe");

	/* ten runs of alternating classes: the ring keeps the newest eight */
	for (int i = 0; i < 10; i++) {
		W.now += 1000;
		eng_fail(W.b.e, "HQ", i % 2 ? IKE_FAIL_PSK_MISMATCH : IKE_FAIL_NO_ANSWER, 1, 0,
			 "run %d", i);
		eng_fail(W.b.e, "HQ", i % 2 ? IKE_FAIL_PSK_MISMATCH : IKE_FAIL_NO_ANSWER, 1, 0,
			 "run %d again", i);
	}
	assert_int_equal(d->hist_n, IKE_FAIL_HISTORY);
	assert_string_equal(ike_fail_run_get(d, 0)->detail, "run 9 again");
	assert_int_equal(ike_fail_run_get(d, 0)->cls, IKE_FAIL_PSK_MISMATCH);
	assert_int_equal(ike_fail_run_get(d, 0)->count, 2);
	assert_string_equal(ike_fail_run_get(d, 7)->detail, "run 2 again");
	assert_null(ike_fail_run_get(d, 8));
	assert_non_null(strstr(show_detail(&W.b, false), "    8. phase 1 no answer: 2 time(s)"));
	assert_null(strstr(show_detail(&W.b, false), "    9. "));
	/* the same class in the other phase is a run of its own */
	eng_fail(W.b.e, "HQ", IKE_FAIL_PSK_MISMATCH, 2, 0, "phase two");
	assert_int_equal(ike_fail_run_get(d, 0)->phase, 2);
	assert_int_equal(ike_fail_run_get(d, 0)->count, 1);
	assert_int_equal(ike_fail_run_get(d, 1)->count, 2);
	assert_string_equal(ike_fail_run_get(d, 1)->detail, "run 9 again");
}

/* B's SAs of the profile in state st (walks the engine's table). */
static int b_sas_in(int st)
{
	int n = 0;

	for (struct ike_sa *sa = W.b.e->sas; sa; sa = sa->next)
		if (!sa->dying && (int)sa->state == st)
			n++;
	return n;
}

/* The state table's timeout rule: a responder SA whose initiator never
 * hears its answer (MM_R1, AM_R1) is given up IKE_HALF_OPEN_MS after the
 * first message, not before, and leaves the half-open count. */
static void half_open_given_up(enum kz_exchange_mode mode, int st)
{
	struct site a = site_a(mode), b = site_b(mode);
	const struct ike_sa *sa;

	W.drop_next_to_a = 1000;
	start(&a, &b, "198.51.100.2");
	assert_int_equal(b_sas_in(st), 1);
	sa = W.b.e->sas;
	assert_int_equal(sa->deadline_ms, sa->created_ms + IKE_HALF_OPEN_MS);
	assert_int_equal(W.b.e->half_open, 1);
	advance(IKE_HALF_OPEN_MS - 500);
	assert_int_equal(b_sas_in(st), 1);
	advance(1000);
	assert_int_equal(b_sas_in(st), 0);
	assert_null(W.b.e->sas);
	assert_int_equal(W.b.e->half_open, 0);
}

static void test_half_open_mm_r1_given_up(void **state)
{
	half_open_given_up(KZ_MODE_MAIN, MM_R1);
}

static void test_half_open_am_r1_given_up(void **state)
{
	half_open_given_up(KZ_MODE_AGGRESSIVE, AM_R1);
}

/* A finished Quick Mode is kept by its row's rule: IKE_HALF_OPEN_MS plus
 * IKE_QM_DONE_KEEP_MS after it started, on both sides. */
static void test_qm_done_kept_by_row(void **state)
{
	struct site a = site_a(KZ_MODE_MAIN), b = site_b(KZ_MODE_MAIN);
	struct ike_sa *sa;

	start(&a, &b, "198.51.100.2");
	assert_int_equal(W.a.nchild, 1);
	for (sa = W.b.e->sas; sa && sa->state != IKE_ST_ESTABLISHED; sa = sa->next)
		;
	assert_non_null(sa);
	assert_non_null(sa->qm);
	assert_int_equal(sa->qm->state, QM_DONE);
	assert_int_equal(sa->qm->deadline_ms,
			 sa->qm->started_ms + IKE_HALF_OPEN_MS + IKE_QM_DONE_KEEP_MS);
	assert_int_equal(W.a.e->sas->qm->deadline_ms,
			 W.a.e->sas->qm->started_ms + IKE_HALF_OPEN_MS + IKE_QM_DONE_KEEP_MS);
	advance(IKE_HALF_OPEN_MS + IKE_QM_DONE_KEEP_MS - 1000);
	assert_non_null(sa->qm);
	advance(1500);
	assert_null(sa->qm);
	assert_null(W.a.e->sas->qm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		WORLD_TEST(test_main_mode),
		WORLD_TEST(test_main_mode_pfs_modp2048),
		WORLD_TEST(test_aggressive_no_natt),
		WORLD_TEST(test_aggressive_natt_behind_nat),
		WORLD_TEST(test_main_natt_no_nat),
		WORLD_TEST(test_natt_vid_is_md5_of_rfc3947),
		WORLD_TEST(test_natt_without_policy_not_announced),
		WORLD_TEST(test_qm_before_am3),
		WORLD_TEST(test_proposal_mismatch),
		WORLD_TEST(test_phase2_proposal_mismatch),
		WORLD_TEST(test_ts_mismatch),
		WORLD_TEST(test_id_mismatch_keyid),
		WORLD_TEST(test_psk_mismatch_main),
		WORLD_TEST(test_psk_mismatch_aggressive),
		WORLD_TEST(test_halfopen_responder_aggressive),
		WORLD_TEST(test_inflight_initiator),
		WORLD_TEST(test_no_answer_and_backoff),
		WORLD_TEST(test_local_send_failure),
		WORLD_TEST(test_local_send_failure_persists),
		WORLD_TEST(test_retry_after_delete_reports_deadline),
		WORLD_TEST(test_qm1_after_am3_early_retransmit),
		WORLD_TEST(test_qm_installed_before_qm3),
		WORLD_TEST(test_initial_contact_informational),
		WORLD_TEST(test_initial_contact_no_informational_in_main),
		WORLD_TEST(test_malformed_truncated),
		WORLD_TEST(test_duplicates),
		WORLD_TEST(test_lost_answer_retransmit),
		WORLD_TEST(test_lost_reply_answered_again),
		WORLD_TEST(test_delete),
		WORLD_TEST(test_initial_contact),
		WORLD_TEST(test_show_ipsec_sa),
		WORLD_TEST(test_simultaneous_initiation),
		WORLD_TEST(test_show_profile_status_failure),
		WORLD_TEST(test_dpd_dead_peer),
		WORLD_TEST(test_wan_address_change),
		WORLD_TEST(test_wan_link_back),
		WORLD_TEST(test_wan_responder_keeps_sas),
		WORLD_TEST(test_backoff_sequence),
		WORLD_TEST(test_backoff_show_and_reset),
		WORLD_TEST(test_backoff_negotiating_json),
		WORLD_TEST(test_backoff_on_demand),
		WORLD_TEST(test_wan_down_shown),
		WORLD_TEST(test_rekey_ipsec_make_before_break),
		WORLD_TEST(test_rekey_responder_when_initiator_does_not),
		WORLD_TEST(test_rekey_bytes),
		WORLD_TEST(test_rekey_bytes_fast),
		WORLD_TEST(test_rekey_hundred_times),
		WORLD_TEST(test_rekey_ike_children_survive),
		WORLD_TEST(test_dpd_traffic_suppresses_probes),
		WORLD_TEST(test_dpd_ack_resets),
		WORLD_TEST(test_dpd_off_when_peer_silent_on_it),
		WORLD_TEST(test_unprotected_notify_ignored_after_phase1),
		WORLD_TEST(test_unknown_exchange_dropped),
		WORLD_TEST(test_detail_keyid_mismatch_then_success),
		WORLD_TEST(test_detail_proposal_vids_and_ring),
		WORLD_TEST(test_half_open_mm_r1_given_up),
		WORLD_TEST(test_half_open_am_r1_given_up),
		WORLD_TEST(test_qm_done_kept_by_row),
	};

	int failed = cmocka_run_group_tests_name("DH inline", tests, dh_inline, NULL);

	return failed + cmocka_run_group_tests_name("DH deferred", tests, dh_deferred, NULL);
}
