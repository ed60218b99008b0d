/* exchange.h - internal types of the IKEv1 engine: the IKE (ISAKMP) SA, the
 * Quick Mode exchanges in progress, the established IPsec SA pairs, the
 * state and transition table, and the helpers the per-exchange files
 * (ikev1_phase1.c, ikev1_main.c, ikev1_aggr.c, ikev1_quick.c,
 * ikev1_info.c, ikev1_natt.c, ikev1_dpd.c) share with the engine.
 *
 * Flow of a datagram (dispatch.c): header parse -> SA lookup by cookies ->
 * duplicate check (hash of the last request: answer again) -> decrypt into a
 * scratch copy -> payload digest (isakmp_parse.c) -> transition row by
 * (exchange, state, role) in ikev1_states.c -> rule check (required /
 * allowed payloads, how many, encryption) -> handler -> the dispatcher
 * commits the row's next state and the deadline of its timeout rule.  A
 * handler never frees the SA it runs on and never sets its state: it
 * returns a result, and a message that must wait goes on the SA's queue,
 * processed after the current message. */
#ifndef KZ_IKE_EXCHANGE_H
#define KZ_IKE_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "ike/crypto.h"
#include "ike/ike.h"
#include "ike/isakmp.h"
#include "lib/err.h"
#include "lib/log.h"
#include "ike/prof_hash.h"

#define IKE_RETRANS_FIRST_MS 2000u /* first retransmission, doubling */
#define IKE_RETRANS_TRIES 5u       /* transmissions before "no answer" */
#define IKE_RETRANS_LOCAL_MS 250u  /* a send that failed here (no route yet) */
#define IKE_RETRANS_LOCAL_MAX \
	20u                    /* ... is tried again this often before it
				    * counts as a transmission: a WAN that just
				    * got its address gets its route a moment
				    * later */
#define IKE_HALF_OPEN_MAX 512u /* responder SAs not yet authenticated */
/* its share-out by source address (admit.c) */
#define IKE_HALF_OPEN_PER_SRC 4u    /* half-open SAs one unknown source holds */
#define IKE_HALF_OPEN_PER_KNOWN 32u /* ... one known source (a peer of ours) */
#define IKE_HALF_OPEN_RESERVE 64u   /* the last slots: known sources only */
#define IKE_SRC_SLOTS 1024u         /* sources with half-open SAs (hash) */
#define IKE_KNOWN_RECENT 16u        /* addresses phase 1 completed with lately */
#define IKE_LOG_SRC_MS 10000u       /* failure lines: in this window ... */
#define IKE_LOG_SRC_LINES 5u        /* ... this many per source ... */
#define IKE_LOG_BURST 20u           /* ... and this many in all */
#define IKE_LOG_SOURCES 64u         /* sources whose last line is remembered */
#define IKE_HALF_OPEN_MS \
	15000u /* a half-open SA lives this long: a flood
				    * of first messages ties the table up for
				    * no longer than this after it stops */
#define IKE_QM_DONE_KEEP_MS \
	15000u                   /* a finished Quick Mode is kept this long after
				    * its deadline (30 s from its start): the peer
				    * retransmits QM1 for 2 + 4 + 8 + 16 s */
#define IKE_QM_AFTER_AM3_MS 300u /* first QM1 retransmission after AM3 */
#define IKE_HOLD_QM_MS 2000u     /* a QM1 that overtook the last phase 1 message */
/* The initiator's back-off after a failure comes from the profile
 * (`retry interval N max M`, config/model.h KZ_DEF_RETRY_*): records.c. */
#define IKE_DEDUP_GRACE_MS \
	3000u                    /* simultaneous initiation: see dedup_children,
				   * ikev1_rekey.c */
#define IKE_NOTIFY_RATE_MS 1000u /* unprotected notifies: one per second */
#define IKE_NONCE_LEN 32u
#define IKE_MAX_NONCE 256u /* RFC 2409 5: 8..256 bytes */
#define IKE_MAX_DH 512u    /* MODP-4096 public value */
#define IKE_MAX_ID 260u
#define IKE_OUT_MAX 4096u

enum ike_state {
	IKE_ST_NONE, /* a responder SA being created by its first message */
	MM_I1,       /* sent MM1, waiting for MM2 */
	MM_I2,       /* sent MM3, waiting for MM4 */
	MM_I3,       /* sent MM5, waiting for MM6 */
	MM_R1,       /* sent MM2, waiting for MM3 */
	MM_R2,       /* sent MM4, waiting for MM5 */
	AM_I1,       /* sent AM1, waiting for AM2 */
	AM_R1,       /* sent AM2, waiting for AM3 */
	IKE_ST_ESTABLISHED,
	IKE_ST_COUNT
};

enum qm_state { QM_NONE, QM_I1, QM_R1, QM_DONE };

/* The last message we sent in one exchange (answered again when the peer
 * repeats its request, or retransmitted on a timer) and a hash of the last
 * message received in it. */
struct ike_tx {
	uint8_t *buf;
	size_t len;
	struct sockaddr_in local, peer;
	bool armed;           /* retransmit on the timer until answered */
	unsigned tries;       /* transmissions so far */
	unsigned local_fails; /* sends that failed here, not counted in tries */
	uint64_t next_ms;
	uint8_t rx_hash[32];
	bool rx_set;
};

/* Where the lifetime in force of an SA came from (ike_life_src_name). */
enum ike_life_src {
	IKE_LIFE_OURS,      /* we initiated: ours, the peer accepted it */
	IKE_LIFE_BOTH,      /* we answered: both sides have the same */
	IKE_LIFE_PEER,      /* the peer's proposal, shorter than ours */
	IKE_LIFE_SENT,      /* ours, shorter: sent as RESPONDER-LIFETIME */
	IKE_LIFE_RECEIVED,  /* the peer's RESPONDER-LIFETIME shortened it */
	IKE_LIFE_PEER_REPLY /* we initiated and the peer chose a shorter one */
};
const char *ike_life_src_name(enum ike_life_src s);

struct p1_choice {
	enum kz_enc enc;
	enum kz_hash hash;
	enum kz_group group;
	uint32_t lifetime; /* in force */
	uint8_t tnum;      /* the transform number taken */
	uint8_t life_src;  /* enum ike_life_src */
	/* responder: the initiator's transform, answered unchanged; we then
	 * send RESPONDER-LIFETIME when ours is shorter (respond_life) */
	struct isakmp_transform peer_t;
	bool have_peer_t;
	bool respond_life;
};

struct p2_choice {
	enum kz_enc enc;
	enum kz_auth auth;
	enum kz_group pfs;
	uint32_t life_s; /* in force */
	uint64_t life_kb;
	uint16_t encap;
	uint8_t life_src;               /* enum ike_life_src (seconds) */
	struct isakmp_transform peer_t; /* as struct p1_choice */
	bool have_peer_t;
	bool respond_life;
};

struct ike_natt {
	bool peer_rfc;   /* the peer sent the RFC 3947 VID */
	bool peer_draft; /* a draft-02/02n/03 VID */
	bool on;         /* negotiated: both announced and our policy allows */
	bool nat_local;  /* we are behind a NAT (NAT-D) */
	bool nat_peer;   /* the peer is */
	bool floated;    /* moved to UDP 4500 */
	bool peer_dpd;
};

/* Dead Peer Detection state of an established IKE SA (RFC 3706). */
struct ike_dpd {
	uint64_t last_rx_ms;    /* the last sign of life: IKE message or ESP */
	uint64_t next_probe_ms; /* the next R-U-THERE (retransmission) */
	uint32_t seq;           /* the last R-U-THERE sequence number sent */
	bool seq_set;
	unsigned unanswered; /* R-U-THERE sent since the last sign of life */
	uint64_t hint_ms;    /* the last INVALID-SPI hint acted on (0: none) */
	bool hinted;         /* probing because of it, until the next sign of life */
};

/* Diffie-Hellman handed to the pool for one exchange (dh_wait.c): the job
 * in flight and the message that asked for it, which is processed again
 * when the result is back.  A handler that finds `done` takes it. */
struct ike_dh_wait {
	uint64_t job; /* id of the job in flight, 0: none */
	struct ike_dh_job *done;
	uint8_t *msg;
	size_t msg_len;
	struct sockaddr_in local, peer;
	bool natt;
};

struct ike_qm {
	struct ike_qm *next;
	uint32_t msgid;
	bool initiator;
	enum qm_state state;
	bool dying;
	uint8_t iv[IKE_MAX_BLOCK];
	uint8_t ni[IKE_MAX_NONCE], nr[IKE_MAX_NONCE];
	size_t nilen, nrlen;
	struct ike_dh *dh;
	uint8_t gqm[IKE_MAX_DH];
	size_t gqmlen;
	uint32_t spi_in, spi_out;
	struct p2_choice p2;
	struct kz_prefix lts, rts;
	uint8_t ts_proto;            /* selector protocol (0: any) ... */
	uint16_t ts_lport, ts_rport; /* ... and ports (0: any) */
	struct ike_tx tx;
	uint64_t started_ms;
	uint64_t deadline_ms; /* given up then (the row's timeout rule) */
	struct ike_dh_wait dhw;
};

struct ike_sa {
	struct ike_sa *next;
	uint64_t serial;
	uint8_t icookie[ISAKMP_COOKIE_LEN], rcookie[ISAKMP_COOKIE_LEN];
	bool initiator;
	enum kz_exchange_mode mode;
	enum ike_state state;
	bool dying;
	bool half_open;         /* counted in the engine's half-open total */
	uint32_t half_open_src; /* ... under this source address (admit.c) */
	char profile[KZ_NAME_MAX];
	struct sockaddr_in local, peer;

	struct p1_choice p1;
	struct ike_keys keys;
	bool have_keys;
	bool ic_info_due; /* INITIAL-CONTACT went in AM3: repeat it in an
			    * Informational once the first Quick Mode is done */
	struct ike_dh *dh;
	uint8_t gxi[IKE_MAX_DH], gxr[IKE_MAX_DH];
	size_t gxilen, gxrlen;
	uint8_t ni[IKE_MAX_NONCE], nr[IKE_MAX_NONCE];
	size_t nilen, nrlen;
	uint8_t *sai_b; /* the initiator's SA payload body (HASH_I/HASH_R) */
	size_t sai_len;
	uint8_t idi_b[IKE_MAX_ID], idr_b[IKE_MAX_ID]; /* ID payload bodies */
	size_t idi_len, idr_len;
	uint8_t iv[IKE_MAX_BLOCK];      /* phase 1 CBC chain */
	uint8_t p1_last[IKE_MAX_BLOCK]; /* last phase 1 CBC block (phase 2 IVs) */

	struct ike_natt natt;
	struct ike_tx tx;
	uint64_t created_ms, established_ms, expire_ms;
	uint64_t deadline_ms; /* before established: given up then (0: never;
			       * the row's timeout rule) */
	unsigned phase2_count;
	struct ike_qm *qm;

	/* Messages waiting (a QM1 that overtook AM3 or MM5, DH results). */
	struct ike_queued *inq;

	struct ike_dh_wait dhw; /* phase 1 g^xy in the pool */

	char peer_id[128]; /* what the peer identified as, for show/diagnosis */
	uint16_t peer_notify;
	struct ike_dpd dpd;
	/* rekeying (ikev1_rekey.c) */
	uint64_t soft_ms;    /* renegotiate from here on (0: not yet computed) */
	uint64_t retire_ms;  /* replaced: Delete and go at this time (0: no) */
	bool rekeyed;        /* a successor was started */
	bool replaces;       /* this SA was started as a successor */
	uint64_t rx_auth_ms; /* the last authenticated message on it (Quick
			      * Mode, Informational) */
};

/* An established IPsec SA pair. */
struct ike_child {
	struct ike_child *next;
	struct kz_child_sa in, out;
	char profile[KZ_NAME_MAX];
	uint64_t expire_ms;
	bool initiator; /* we started its Quick Mode */
	bool dying;
	uint64_t dpd_in_packets; /* inbound packets when DPD last looked */
	/* rekeying (ikev1_rekey.c) */
	uint64_t soft_ms;                /* renegotiate from here on */
	uint64_t soft_bytes, hard_bytes; /* byte lifetime (0: none) */
	uint64_t retire_ms;              /* replaced: Delete and go at this time */
	uint64_t rekey_started_ms;       /* 0: no successor asked for */
	uint64_t poll_bytes, poll_ms;    /* byte count at the last poll ... */
	uint64_t rate;                   /* ... and bytes per ms since the one before */
	bool successor;                  /* negotiated by us to replace a pair */
	uint8_t life_src;                /* enum ike_life_src of its lifetime */
};

/* Runtime state of one profile (by name; survives config changes). */
struct ike_prof_rt {
	struct ike_profile_status st;
	uint64_t retry_at;   /* 0: none scheduled */
	uint64_t backoff_ms; /* the wait before the retry now scheduled (0: none
			      * since the last success; the next failure waits
			      * the profile's interval) */
	uint64_t last_try_ms;
	bool seen;        /* still in the config */
	bool wan_restart; /* the WAN (or its settings) changed under its SAs:
			      * negotiate now */
	/* ike_prof_fingerprint of the settings its SAs were made with */
	uint8_t fp[IKE_PROF_FP_LEN];
	bool fp_set;
	bool fp_changed; /* the settings changed: its SAs go, negotiate again */
};

struct ike_engine {
	struct ike_io io;
	bool armed_in_timers; /* a retransmission was armed: see ike_run_timers */
	const struct kz_config *cfg;
	struct ike_sa *sas;
	struct ike_child *children;
	uint64_t next_serial;
	unsigned half_open;
	struct ike_counters ctr;
	struct ike_prof_rt *prof;
	size_t nprof;
	uint64_t last_notify_ms;
	bool notify_sent;
	struct in_addr wan; /* the WAN address last seen (0: none) */
	bool wan_known;
	uint64_t dh_next_id; /* jobs handed to io->dh_submit */
	/* admit.c: half-open SAs per source, known peers, failure lines */
	struct ike_src {
		uint32_t addr;
		unsigned n; /* 0: empty slot */
	} src[IKE_SRC_SLOTS];
	struct in_addr known[IKE_KNOWN_RECENT];
	unsigned known_next;
	struct ike_log_src {
		uint32_t addr;
		bool used;
		uint64_t last_ms, window_ms;
		unsigned lines;
	} logsrc[IKE_LOG_SOURCES];
	uint64_t log_window_ms;
	unsigned log_in_window, log_suppressed;
	struct in_addr fail_src; /* the message being handled came from here */
	/* The SA of the message or timer being handled: failure lines name its
	 * peer (address and port) and the ID it sent (records.c). */
	const struct ike_sa *fail_sa;
	bool debug_on; /* trace.c: `debug ike [PROFILE]` */
	char debug_profile[KZ_NAME_MAX];
	bool fail_decided, fail_ok;
};

/* A message that waits on its SA (dispatch.c): a Quick Mode message that
 * overtook the end of phase 1 (held, until phase 1 completes or `until`),
 * or one whose Diffie-Hellman result came back from the pool. */
struct ike_queued {
	struct ike_queued *next;
	uint8_t *msg;
	size_t len;
	struct sockaddr_in local, peer;
	bool natt;
	bool held;
	uint64_t until;
};

struct ike_transition;

/* A received message, as handlers see it. */
struct ike_msg {
	struct isakmp_digest d;
	const uint8_t *raw; /* the whole datagram (header first) */
	size_t raw_len;
	struct sockaddr_in local, peer;
	bool natt; /* arrived on UDP 4500 */
	bool encrypted;
	struct ike_qm *qm;              /* Quick Mode exchange it belongs to */
	const struct ike_transition *t; /* the row it is handled by */
	uint16_t notify;                /* IKE_FAIL: the error notify to answer with (0: none) */
	uint8_t hash[32];               /* of the datagram: what a repeat is recognised by */
};

struct ike_out {
	uint8_t buf[IKE_OUT_MAX];
	struct wbuf w;
	struct isakmp_chain c;
};

/* What a handler made of a message; the dispatcher acts on it. */
enum ike_res {
	IKE_DONE,    /* accepted: the row's next state, the chain advances */
	IKE_IGNORE,  /* dropped, nothing changes (a new exchange is not kept) */
	IKE_FAIL,    /* the exchange fails: it goes, with m->notify if set */
	IKE_SUSPEND, /* waits for Diffie-Hellman: the message comes again */
};

/* A handler's int result: 0 done, KZ_EINCOMPLETE suspended, else ignored. */
static inline enum ike_res ike_res_of(int r)
{
	return r == 0 ? IKE_DONE : r == KZ_EINCOMPLETE ? IKE_SUSPEND : IKE_IGNORE;
}

typedef enum ike_res (*ike_handler)(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);

#define IKE_ST_ANY (-1)  /* transition.from: any state */
#define IKE_ST_SAME (-1) /* transition.to: the state stays */
/* transition.from: a row for our own first message (no message is
 * matched against it) */
#define IKE_ST_START (-2)

enum ike_role { IKE_ROLE_ANY, IKE_ROLE_I, IKE_ROLE_R };
enum ike_enc {
	IKE_ENC_ANY,   /* clear or encrypted */
	IKE_ENC_MUST,  /* must arrive encrypted */
	IKE_ENC_PLAIN, /* the row is for clear messages only */
};

/* How long what a row leaves behind may wait for the peer before it is
 * given up (silently: the timers free it).  Set by the dispatcher when it
 * commits the row's next state, and when a new SA or exchange waits for
 * its Diffie-Hellman. */
enum ike_tmo {
	IKE_TMO_SAME,  /* the deadline stays as it is */
	IKE_TMO_NONE,  /* no deadline: our retransmissions running out, or the
			* lifetime, end it */
	IKE_TMO_START, /* tmo_ms after the exchange started (phase 1: the SA
			* was made; Quick Mode: the exchange was) */
};

/* One row of the state table (ikev1_states.c). */
struct ike_transition {
	uint8_t exch;
	int from;           /* enum ike_state; enum qm_state for Quick Mode */
	enum ike_role role; /* of the SA (phase 1) or of the exchange (QM) */
	int to;
	enum ike_enc enc;
	bool hash_first;   /* RFC 2409 5.5, 5.7: HASH is the first payload */
	uint32_t required; /* PBIT() of payload types */
	uint32_t allowed;  /* beyond required; P_ANY: anything */
	uint32_t once;     /* at most one of each of these */
	bool retransmit;   /* the answer is retransmitted (IKE_RETRANS_*) until
			     * the peer's next message, rather than only sent
			     * again when the peer repeats this one */
	enum ike_tmo tmo;  /* the timeout rule of the next state */
	uint32_t tmo_ms;
	ike_handler handler; /* NULL: an IKE_ST_START row */
	const char *name;    /* NULL: the end of the table */
};
extern const struct ike_transition ike_transitions[];

/* Payload type -> bit (the NAT-T draft numbers get bits 30 and 31, which
 * no RFC payload uses). */
#define PBIT(t)                                                                       \
	((unsigned)(t) < 30u                              ? 1u << ((unsigned)(t)&31u) \
		 : (unsigned)(t) == ISAKMP_NP_NATD_DRAFT  ? 1u << 30                  \
		 : (unsigned)(t) == ISAKMP_NP_NATOA_DRAFT ? 1u << 31                  \
							  : 0u)
#define P_NATD (PBIT(ISAKMP_NP_NATD) | PBIT(ISAKMP_NP_NATD_DRAFT))
#define P_ANY 0xffffffffu

/* ---- engine.c, ike_sa.c, ike_out.c, timers.c: shared helpers ---- */
bool is_zero(const uint8_t *p, size_t n);
/* SHA-256 of a datagram: what a repeat is recognised by */
void msg_hash(const uint8_t *p, size_t len, uint8_t out[32]);
struct ike_sa *sa_lookup(struct ike_engine *e, const struct isakmp_hdr *h);
bool profile_has_sa(struct ike_engine *e, const char *name);
bool profile_has_child(struct ike_engine *e, const char *name);
/* Something of the profile is being negotiated. */
bool profile_busy(struct ike_engine *e, const char *name);
bool profile_wants_auto(struct ike_engine *e, const struct kz_ipsec_profile *p);
/* Sends tx's message again (to the peer's current address). */
int tx_resend(struct ike_engine *e, struct ike_sa *sa, struct ike_tx *tx);
/* A retransmission of tx is due (and sent): the next one is scheduled;
 * true when the last one went unanswered. */
bool tx_due(struct ike_engine *e, struct ike_sa *sa, struct ike_tx *tx, uint64_t now,
	    int64_t *next);
const struct kz_ipsec_profile *eng_profile(struct ike_engine *e, const char *name);
const struct kz_ike_policy *eng_ike_policy(struct ike_engine *e, const struct kz_ipsec_profile *p);
const struct kz_ipsec_policy *eng_ipsec_policy(struct ike_engine *e,
					       const struct kz_ipsec_profile *p);
struct ike_prof_rt *eng_prof_rt(struct ike_engine *e, const char *name);
/* ike_metrics.c: the counters of the metrics file. */
void eng_metric_dpd(struct ike_engine *e, const char *profile, bool alive);
void eng_metric_child_rekey(struct ike_engine *e, struct ike_child *c);
void eng_metric_ike_rekey(struct ike_engine *e, const struct ike_sa *sa);
uint64_t eng_now(struct ike_engine *e);
int eng_random(struct ike_engine *e, void *buf, size_t len);

struct ike_sa *eng_sa_new(struct ike_engine *e, bool initiator, const char *profile);
void eng_sa_kill(struct ike_engine *e, struct ike_sa *sa);
/* Frees what is marked dying. */
void eng_reap(struct ike_engine *e);
struct ike_qm *eng_qm_new(struct ike_engine *e, struct ike_sa *sa, uint32_t msgid);

void out_begin(struct ike_out *o, const struct ike_sa *sa, uint8_t exch, uint32_t msgid);
/* Finishes the header, pads and encrypts with iv when iv != NULL, sends, and
 * keeps the message in tx (when tx != NULL) for repeats/retransmission. */
int out_send(struct ike_engine *e, struct ike_sa *sa, struct ike_out *o, uint8_t *iv,
	     struct ike_tx *tx, bool await_reply);
void tx_clear(struct ike_tx *tx);

/* The raw bytes after the first (HASH) payload up to the end of the last
 * payload: what HASH(1), HASH(2) and the informational HASH cover. */
void msg_after_hash(const struct ike_msg *m, const uint8_t **p, size_t *len);
/* Our own ID payload body (type, proto, port, data) for phase 1. */
size_t id_body_local(struct ike_engine *e, const struct kz_ike_policy *pol, const struct ike_sa *sa,
		     uint8_t *out, size_t cap);
/* Whether a peer ID payload body matches an identity; text of the ID. */
bool id_matches(const struct kz_ident *want, const uint8_t *body, size_t len);
void id_body_str(const uint8_t *body, size_t len, char *out, size_t cap);
void ident_str(const struct kz_ident *id, char *out, size_t cap);

/* Lines about an SA end with ", peer ADDR:PORT, id ID" (records.c): the
 * ID as the peer sent it, verified or not yet ("-": none yet).  A pair
 * names the IKE SA that made it, else the newest with its peer, else its
 * own peer address. */
void eng_sa_who(const struct ike_sa *sa, char *out, size_t len);
void eng_child_who(const struct ike_engine *e, const struct ike_child *c, char *out, size_t len);
void eng_sa_log(enum kz_log_level lvl, const struct ike_sa *sa, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void eng_child_log(enum kz_log_level lvl, const struct ike_engine *e, const struct ike_child *c,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Failure recording (per profile): one log line, count of repeats,
 * initiator back-off. */
void eng_fail(struct ike_engine *e, const char *profile, enum ike_fail_class cls, int phase,
	      uint16_t notify, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* A proposal mismatch with both sides' offers as text. */
void eng_fail_proposal(struct ike_engine *e, const char *profile, int phase, const char *ours,
		       const char *theirs);
/* A phase 2 mismatch that is PFS alone: our group against the peer's. */
void eng_fail_pfs(struct ike_engine *e, const char *profile, const char *ours, const char *theirs,
		  enum kz_group our_pfs, enum kz_group their_pfs);
void eng_success(struct ike_engine *e, const char *profile, const struct ike_sa *sa);
/* An SA (q NULL) or a Quick Mode exchange given up before it finished:
 * kept as the profile's half-open record. */
void eng_halfopen_end(struct ike_engine *e, const struct ike_sa *sa, const struct ike_qm *q);
/* The profile's settings changed: its failure and half-open records no
 * longer describe it (the history of `detail` keeps them). */
void eng_records_superseded(struct ike_engine *e, const char *profile);
/* One unprotected notify (rate-limited) in reply to a phase 1 message. */
void eng_notify_plain(struct ike_engine *e, const struct ike_msg *m, uint16_t type);
bool eng_plain_notify_allowed(struct ike_engine *e);
void eng_plain_notify_send(struct ike_engine *e, struct ike_sa *tmp, uint8_t proto, const void *spi,
			   uint8_t spilen, uint16_t type);

/* Our first message of exchange exch went out on sa (q: the Quick Mode
 * exchange, NULL for phase 1): the state and the timeout of its
 * IKE_ST_START row. */
void eng_started(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q, uint8_t exch);

/* Phase 1 is complete: count, start or release Quick Mode. */
void eng_phase1_done(struct ike_engine *e, struct ike_sa *sa);

/* ---- proposal.c ---- */
struct isakmp_sa *p1_offer(struct ike_engine *e, const struct kz_ike_policy *pol, bool aggressive);
int p1_match(struct ike_engine *e, const struct kz_ike_policy *pol, const struct isakmp_sa *peer,
	     enum kz_group want_group, struct p1_choice *out, uint8_t *pnum);
int p1_from_reply(struct ike_engine *e, const struct kz_ike_policy *pol,
		  const struct isakmp_sa *reply, struct p1_choice *out);
struct isakmp_sa *p1_reply(const struct p1_choice *c, uint8_t pnum);
void p1_offer_str(struct ike_engine *e, const struct kz_ike_policy *pol, char *out, size_t cap);
void p1_peer_str(const struct isakmp_sa *sa, char *out, size_t cap);
struct isakmp_sa *p2_offer(struct ike_engine *e, const struct kz_ipsec_policy *pol, uint16_t encap,
			   uint32_t spi);
int p2_match(struct ike_engine *e, const struct kz_ipsec_policy *pol, const struct isakmp_sa *peer,
	     const struct ike_sa *sa, struct p2_choice *out, uint32_t *peer_spi, uint8_t *pnum,
	     uint8_t *tnum);
/* Decodes the one transform of a Quick Mode reply, checked against ours. */
int p2_from_reply(struct ike_engine *e, const struct kz_ipsec_policy *pol,
		  const struct isakmp_sa *reply, const struct ike_sa *sa, struct p2_choice *out,
		  uint32_t *peer_spi);
struct isakmp_sa *p2_reply(const struct p2_choice *c, uint32_t spi, uint8_t pnum, uint8_t tnum);
void p2_offer_str(struct ike_engine *e, const struct kz_ipsec_policy *pol, char *out, size_t cap);
void p2_peer_str(const struct isakmp_sa *sa, char *out, size_t cap);
/* A phase 2 offer none of which matched: whether one would have, but for
 * PFS (our `pfs GROUP` against another group or none); *theirs: the
 * peer's PFS group in that transform. */
bool p2_pfs_only(struct ike_engine *e, const struct kz_ipsec_policy *pol,
		 const struct isakmp_sa *peer, const struct ike_sa *sa, enum kz_group *theirs);

/* ---- peer_notes.c ---- */
/* After a handler accepted a message of phase 1 or Quick Mode: the
 * vendor IDs and status notifies it carried are recorded; a phase 1
 * RESPONDER-LIFETIME shortens the IKE SA of an initiator. */
void eng_peer_notes(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m);
/* A RESPONDER-LIFETIME in an Informational: the IKE SA (protocol ISAKMP)
 * or the IPsec SA pair with that SPI shortened, recorded. */
void eng_peer_life_info(struct ike_engine *e, struct ike_sa *sa, const struct isakmp_notify *n);
/* QM2: the responder's RESPONDER-LIFETIME shortens q's SA pair. */
void p2_peer_life(struct ike_engine *e, const struct ike_sa *sa, struct ike_qm *q,
		  const struct ike_msg *m);
/* Our RESPONDER-LIFETIME: phase 1 with the cookies as SPI, phase 2 with
 * our SPI of the pair. */
int p_put_responder_life(struct isakmp_chain *c, const struct ike_sa *sa, bool phase1, uint32_t spi,
			 uint32_t secs, uint64_t kb);
/* RESPONDER-LIFETIME (RFC 2407 4.6.3.1): the attributes of our shorter
 * lifetime (phase 1 numbering when phase1), into out; its length. */
size_t life_notify_data(bool phase1, uint32_t secs, uint64_t kb, uint8_t *out, size_t cap);
/* A received RESPONDER-LIFETIME's data: the seconds (0: none) and
 * kilobytes (0: none) it gives. */
void life_notify_read(bool phase1, const struct buf *data, uint32_t *secs, uint64_t *kb);
size_t esp_enc_keylen(enum kz_enc enc);
size_t esp_auth_keylen(enum kz_auth a);

/* ---- dh_wait.c: Diffie-Hellman, inline or on the pool ---- */
/* The DH step of an exchange: a key pair (*dh, the initiator's; NULL: one
 * is made with the shared secret, for a responder) and g^xy with the
 * peer's public value.  q: the Quick Mode exchange, NULL for phase 1.
 * 0: *dh is the key pair, out / *outlen g^xy.  KZ_EINCOMPLETE: the work
 * went to the pool and m is processed again when it is done, so the
 * handler stops without failing the exchange.  KZ_EBUSY: the pool is full,
 * m is dropped (counted); the peer's retransmission tries again. */
int eng_dh_step(struct ike_engine *e, struct ike_sa *sa, struct ike_qm *q, const struct ike_msg *m,
		enum kz_group g, struct ike_dh **dh, const uint8_t *peer, size_t plen, uint8_t *out,
		size_t *outlen);
/* The result of eng_dh_step is not there yet: not a failure. */
static inline bool eng_dh_later(int r)
{
	return r == KZ_EINCOMPLETE || r == KZ_EBUSY;
}
/* Puts a message on sa's queue (taking msg); it is processed from the top
 * once the current message is done (held: once phase 1 is complete). */
void eng_queue(struct ike_engine *e, struct ike_sa *sa, uint8_t *msg, size_t len,
	       const struct sockaddr_in *local, const struct sockaddr_in *peer, bool natt,
	       bool held);
/* Processes what waits on the queues of the SAs (dispatch.c). */
void eng_drain(struct ike_engine *e);
void eng_queued_free(struct ike_queued *qd);
/* A key pair for our KE as initiator: made ahead by the pool, or now. */
struct ike_dh *eng_dh_keypair(struct ike_engine *e, enum kz_group g);
/* Cancels the job of w and frees what it holds (SA or exchange freed). */
void eng_dh_wait_clear(struct ike_engine *e, struct ike_dh_wait *w);

/* ---- ikev1_phase1.c: the steps Main and Aggressive mode share ---- */
const struct kz_ike_policy *p1_policy(struct ike_engine *e, const struct ike_sa *sa);
/* The profile can answer a phase 1 (key, proposals, IPsec policy). */
bool p1_usable(struct ike_engine *e, const struct kz_ipsec_profile *p,
	       const struct kz_ike_policy **pol);
/* Responder: our choice of the initiator's proposal (IKE_FAIL with
 * NO-PROPOSAL-CHOSEN, both offers recorded; *pnum: its number), then our
 * cookie, SAi_b and the NAT-T flags. */
enum ike_res p1_choose(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m,
		       const struct kz_ike_policy *pol, uint8_t *pnum);
/* Our SA payload with the one transform chosen. */
int p1_put_choice(struct ike_sa *sa, struct ike_out *o, uint8_t pnum);
/* Initiator: our offer, its body kept as SAi_b. */
int p1_put_offer(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
		 struct ike_out *o);
/* Initiator: our first message (MM1, AM1) with the offer, sent and
 * retransmitted until answered. */
int p1_send_offer(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol);
/* Initiator: our policy (*pol; IKE_IGNORE without one), the responder's
 * choice checked against our offer, then its cookie and the NAT-T flags
 * (IKE_FAIL: a transform we did not offer). */
enum ike_res p1_accept(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
		       const struct kz_ike_policy **pol);
/* Keeps SAi_b (HASH_I and HASH_R cover it). */
int p1_keep_sai(struct ike_sa *sa, const uint8_t *body, size_t len);
/* The peer's NAT-T VIDs and whether NAT-T is on. */
void p1_natt_flags(struct ike_sa *sa, const struct ike_msg *m, const struct kz_ike_policy *pol);
/* Our KE and nonce by role. */
void p1_put_ke_nonce(const struct ike_sa *sa, struct isakmp_chain *c);
/* Our ID (made now) and HASH_I or HASH_R by role; with_id false: HASH. */
int p1_put_auth(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
		struct isakmp_chain *c, bool with_id);
/* INITIAL-CONTACT when p1_want_initial_contact; true: it was put. */
bool p1_put_initial_contact(const struct ike_engine *e, const struct ike_sa *sa,
			    struct isakmp_chain *c);
/* g^xy with the peer's KE (and, as responder, our KE and nonce made with
 * it), then SKEYID.. and the phase 1 IV.  KZ_EINCOMPLETE / KZ_EBUSY as
 * eng_dh_step. */
int p1_dh(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
	  const struct kz_ike_policy *pol);
/* HASH_I (initiator = true) or HASH_R over the stored SAi_b and IDs. */
int p1_auth_hash(const struct ike_sa *sa, bool initiator, uint8_t *out);
/* Checks the peer's HASH payload; records a PSK mismatch naming msg. */
int p1_verify_hash(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
		   const char *msg);
/* The peer's ID against remote-id (records an ID mismatch). */
int p1_check_peer_id(struct ike_engine *e, struct ike_sa *sa, const struct kz_ike_policy *pol,
		     const struct ike_msg *m);
/* Stores a KE and a nonce payload of the peer. */
int p1_take_ke_nonce(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m);
/* Our KE and nonce as initiator, generated now. */
int p1_make_ke_nonce(struct ike_engine *e, struct ike_sa *sa);
/* Stores the peer's ID payload body (idi_b or idr_b by role). */
int p1_store_peer_id(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m);
bool p1_has_initial_contact(const struct ike_msg *m);
bool p1_want_initial_contact(const struct ike_engine *e, const struct ike_sa *sa);
/* Puts an ID payload from a stored body. */
int p1_put_id(struct isakmp_chain *c, const uint8_t *body, size_t len);
void info_initial_contact(struct ike_engine *e, struct ike_sa *sa);

/* ---- per-exchange files: the handlers of the state table ---- */
int mm_outI1(struct ike_engine *e, struct ike_sa *sa);
int am_outI1(struct ike_engine *e, struct ike_sa *sa);
/* Quick Mode for each selector pair of the profile that has neither a
 * live SA pair nor a Quick Mode of ours under way (selectors.c). */
int qm_outI1(struct ike_engine *e, struct ike_sa *sa);
/* ... for every pair without a Quick Mode of ours under way. */
int qm_outI1_all(struct ike_engine *e, struct ike_sa *sa);
/* Quick Mode for one pair (ikev1_quick.c). */
int qm_outI1_sel(struct ike_engine *e, struct ike_sa *sa, const struct kz_selector *sel);
enum ike_res mm_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res mm_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res mm_inI2_outR2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res mm_inR2_outI3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res mm_inI3_outR3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res mm_inR3(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res am_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res am_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res am_inI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res qm_inI1_outR1(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res qm_inR1_outI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
enum ike_res qm_inI2(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
/* A protected Informational: notifies, DPD, Delete. */
enum ike_res info_in(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
/* An unprotected notify during phase 1 ("the peer said X"). */
enum ike_res info_plain_in(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m);
/* An unprotected informational for no SA we know (a restarted peer's
 * INVALID-SPI); body: the payloads after the header. */
void info_stray_input(struct ike_engine *e, struct ike_msg *m, struct buf *body);
int info_send_notify(struct ike_engine *e, struct ike_sa *sa, uint8_t proto, uint32_t spi,
		     uint16_t type);
int info_send_delete(struct ike_engine *e, struct ike_sa *sa, uint8_t proto, const uint32_t *spi);
void child_remove(struct ike_engine *e, struct ike_child *c, bool send_delete);

/* ---- selectors.c: Quick Mode IDs and selector pairs ---- */
struct ts_side {
	struct kz_prefix net;
	uint8_t proto;
	uint16_t port;
};
int ts_put(struct isakmp_chain *c, const struct kz_prefix *p, uint8_t proto, uint16_t port);
/* An IDci / IDcr: 0, KZ_EPROTO (malformed, not IPv4), KZ_ERANGE (a range
 * that is not a prefix; text gets "A-B"). */
int ts_parse(const struct isakmp_payload *pl, struct ts_side *out, char *text, size_t cap);
/* The profile's pairs, an unset first side filled with the gateway's
 * address; how many (0: no IPsec policy). */
unsigned ts_pairs(struct ike_engine *e, const struct ike_sa *sa, struct kz_selector *out);
/* Responder: the pair to use for what the initiator asked (in our view);
 * KZ_ENOENT: within none of ours. */
int ts_choose(struct ike_engine *e, const struct ike_sa *sa, const struct kz_selector *asked,
	      struct kz_selector *out);
void ts_pairs_str(struct ike_engine *e, const struct ike_sa *sa, char *out, size_t cap);
void ts_of_child(const struct ike_child *c, struct kz_selector *out);
bool qm_running_sel(const struct ike_sa *sa, const struct kz_selector *p);
/* A pair of the profile has no live SA pair. */
bool profile_missing_pair(struct ike_engine *e, const char *name);

/* ikev1_natt.c */
/* The NAT-T VIDs (RFC 3947 and drafts) and the DPD VID (RFC 3706). */
void natt_add_vids(struct ike_engine *e, struct isakmp_chain *c, bool natt, bool dpd);
void natt_read_vids(struct ike_sa *sa, const struct ike_msg *m);
/* NAT-D pair for the message we are about to send (after natt.on). */
int natt_add_natd(struct ike_sa *sa, struct isakmp_chain *c);
/* Compares the peer's NAT-D payloads; sets nat_local / nat_peer. */
int natt_check_natd(struct ike_sa *sa, const struct ike_msg *m);
/* Floats to UDP 4500 when a NAT was seen (initiator). */
void natt_float(struct ike_sa *sa);
/* The peer's address changed under authenticated traffic. */
void natt_update_peer(struct ike_sa *sa, const struct ike_msg *m);
uint16_t natt_encap_mode(const struct ike_sa *sa);
bool natt_encap_ok(const struct ike_sa *sa, uint16_t mode);
bool natt_vid_is_dpd(const uint8_t *p, size_t len);

/* ikev1_rekey.c: make-before-break rekeying of IKE and IPsec SAs */
#define IKE_REKEY_OVERLAP_MS 5000u /* old SA kept this long after the new one */
#define IKE_REKEY_RETRY_MS 10000u  /* a rekey that brought nothing is tried again */
#define IKE_REKEY_POLL_MS 1000u    /* byte counters looked at this often */
#define IKE_REKEY_SWITCH_MS \
	1000u /* a rekey's initiator sends on the new
				     * pair this long after QM3 */
/* Byte lifetimes at a high rate: the initiator renegotiates when the bytes
 * left would last less than IKE_REKEY_LEAD_MS at the last poll's rate (one
 * poll, the Quick Mode and the switch-over), the other side not before they
 * would last less than IKE_REKEY_LEAD_LATE_MS.  The two points are more than
 * a poll apart, so at a steady rate the two sides never rekey at once. */
#define IKE_REKEY_LEAD_MS 3500u
#define IKE_REKEY_LEAD_LATE_MS 1500u
/* Before a new pair goes to the data plane: holds its outbound back when
 * we initiated it and an older pair for the same selectors is live. */
void rekey_child_hold(struct ike_engine *e, struct ike_child *c);
/* A new IPsec SA pair: its soft lifetime; the pairs it replaces retire. */
void rekey_child_new(struct ike_engine *e, struct ike_child *c);
/* A phase 1 completed: its soft lifetime; the SAs it replaces retire. */
void rekey_ike_new(struct ike_engine *e, struct ike_sa *sa);
/* The peer deleted IKE SA sa: pairs we made on it unconfirmed go too. */
void rekey_ike_deleted(struct ike_engine *e, const struct ike_sa *sa);
void rekey_run(struct ike_engine *e, uint64_t now, int64_t *next);
/* A new phase 1 for a profile (engine.c); replaces: a rekey. */
int eng_phase1_start(struct ike_engine *e, const char *name, bool replaces);
bool eng_profile_is_initiator(struct ike_engine *e, const char *name);

/* ikev1_dpd.c: Dead Peer Detection (RFC 3706) */
#define IKE_DPD_POLL_MS 500u       /* how often inbound ESP counters are looked at */
#define IKE_DPD_HINT_STEP_MS 1000u /* R-U-THERE spacing after an INVALID-SPI hint */
/* An authenticated IKE message arrived on sa: the peer is alive. */
void dpd_activity(struct ike_engine *e, struct ike_sa *sa);
/* An R-U-THERE-ACK with sequence number seq. */
void dpd_ack_input(struct ike_engine *e, struct ike_sa *sa, uint32_t seq);
/* The peer said, unauthenticated, that it knows no IPsec SA spi of ours
 * (INVALID-SPI for ESP we sent it: it may have restarted).  Only a reason
 * to probe now; the verdict still takes unanswered R-U-THEREs. */
void dpd_hint(struct ike_engine *e, struct ike_sa *sa, uint32_t spi);
/* Probes, retransmits, or declares the peer dead (clears its SAs). */
void dpd_run(struct ike_engine *e, struct ike_sa *sa, uint64_t now, int64_t *next);
/* R-U-THERE or R-U-THERE-ACK, HASH-protected (ikev1_info.c). */
int info_send_initial_contact(struct ike_engine *e, struct ike_sa *sa);
/* The responder's shorter phase 1 lifetime, in an Informational right
 * after phase 1 (RFC 2407 4.6.3.1, as Cisco IOS sends it). */
int info_send_responder_life(struct ike_engine *e, struct ike_sa *sa);
int info_send_dpd(struct ike_engine *e, struct ike_sa *sa, uint16_t type, uint32_t seq);
/* Shortest of *next and at - now (ike_out.c). */
void eng_next_min(int64_t *next, uint64_t at, uint64_t now);

/* trace.c: `debug ike` lines for a message in (after its handler, with
 * what became of it) and out */
void eng_trace_in(struct ike_engine *e, const struct ike_sa *sa, const struct ike_msg *m,
		  const char *result);
void eng_trace_out(struct ike_engine *e, const struct ike_sa *sa, const uint8_t *msg, size_t len,
		   bool encrypted, bool retransmit);

/* admit.c */
void eng_half_open_add(struct ike_engine *e, struct ike_sa *sa);
void eng_half_open_drop(struct ike_engine *e, struct ike_sa *sa);
unsigned eng_half_open_of(struct ike_engine *e, struct in_addr a);
/* A phase 1 completed with a: its source is known from now on. */
void eng_known_peer(struct ike_engine *e, struct in_addr a);
/* Whether a first message from src may open a half-open SA (perhaps in
 * place of a flooding source's oldest one, given up here). */
bool eng_admit_first(struct ike_engine *e, struct in_addr src);
/* Whether a failure line may be written for a message from src; with
 * *suppressed the lines held back since the last one written. */
bool eng_log_source_allowed(struct ike_engine *e, struct in_addr src, unsigned *suppressed);
/* The same for the message being handled (e->fail_src), decided once per
 * message so all its lines go or none. */
bool eng_fail_line_allowed(struct ike_engine *e);

#endif
