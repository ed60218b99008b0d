/* ike.h - the IKEv1 engine: phase 1 (Main and Aggressive mode, pre-shared
 * keys), Quick Mode, informational exchanges and NAT-Traversal.
 *
 * The engine owns no socket, timer or clock: the daemon (or a test) gives
 * it datagrams and the time, and it answers through struct ike_io.  So the
 * same code runs in kizunad and in deterministic in-process tests (fake
 * transport, seeded randomness, injected clock). */
#ifndef KZ_IKE_H
#define KZ_IKE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/model.h"
#include "lib/childsa.h"
#include "lib/emit.h"
#include "lib/strbuf.h"

struct ike_engine;
struct ike_dh;
struct ike_dh_job; /* dh_pool.h */

struct ike_io {
	void *arg;
	/* Sends one datagram from local to peer (ports 500 or 4500; with
	 * `natt_marker` the 4-byte non-ESP marker is prepended by the
	 * caller). */
	int (*send)(void *arg, const struct sockaddr_in *local, const struct sockaddr_in *peer,
		    const void *data, size_t len, bool natt_marker);
	/* Milliseconds, monotonic. */
	uint64_t (*now_ms)(void *arg);
	/* Wall-clock seconds (for `last:` and event times). */
	int64_t (*wall)(void *arg);
	/* Random bytes (cookies, nonces, SPIs, IVs).  0 or KZ_E*. */
	int (*random)(void *arg, void *buf, size_t len);
	/* An IPsec SA pair is up (both directions) or gone. */
	void (*child_up)(void *arg, const struct kz_child_sa *in, const struct kz_child_sa *out);
	void (*child_down)(void *arg, uint32_t spi_in, uint32_t spi_out);
	/* Counters of an SA from the data plane (NULL: none). */
	void (*child_stats)(void *arg, uint32_t spi, enum kz_child_dir dir,
			    struct kz_child_stats *st);
	/* The local address of MobileEthernet0.0 now (0 when none). */
	struct in_addr (*local_addr)(void *arg);
	/* Resolves a `peer FQDN` to an IPv4 address; 0 or KZ_ENOENT.  NULL:
	 * FQDN peers cannot be initiated to. */
	int (*resolve)(void *arg, const char *name, struct in_addr *out);
	/* Diffie-Hellman off the control thread (dh_pool.h).  dh_submit
	 * takes a job: 0, and its result comes back through ike_dh_done()
	 * on this thread; or KZ_EBUSY (queue full), and the job stays the
	 * engine's.  dh_cancel: the result of job `id` is not wanted any
	 * more.  dh_keypair: a fresh key pair of group g made ahead, which
	 * the engine then uses once, or NULL.  All NULL: the engine does the
	 * work inline (unit tests). */
	int (*dh_submit)(void *arg, struct ike_dh_job *job);
	void (*dh_cancel)(void *arg, uint64_t id);
	struct ike_dh *(*dh_keypair)(void *arg, enum kz_group g);
};

struct ike_engine *ike_engine_new(const struct ike_io *io);
void ike_engine_free(struct ike_engine *e);

/* The running config changed (start-up, reload, console).  The engine keeps
 * a pointer; it must stay valid until the next call. */
void ike_engine_set_config(struct ike_engine *e, const struct kz_config *cfg);

/* A datagram for the engine: from peer to local.  On port 4500 the caller
 * has already removed the non-ESP marker (natt is then true). */
void ike_input(struct ike_engine *e, const struct sockaddr_in *local,
	       const struct sockaddr_in *peer, const uint8_t *data, size_t len, bool natt);

/* A job handed to io->dh_submit is done: the exchange that waits for it
 * goes on (the message that needed it is processed again).  The engine
 * takes the job and frees it; a job whose SA or exchange is gone is just
 * freed. */
void ike_dh_done(struct ike_engine *e, struct ike_dh_job *job);

/* ESP arrived from peer (to local; its address may be 0) for an SPI we
 * have no SA for.  A peer we would talk to and hold no IKE SA with gets an
 * unprotected INVALID-SPI notify, rate-limited: we probably restarted. */
void ike_esp_no_sa(struct ike_engine *e, const struct sockaddr_in *local,
		   const struct sockaddr_in *peer, uint32_t spi);

/* Runs what is due (retransmissions, lifetimes, retries); returns the
 * milliseconds until the next deadline (or -1: none). */
int64_t ike_run_timers(struct ike_engine *e);

/* Starts negotiation for a profile now (initiate auto at start-up, the first
 * packet routed to IPsec<N> for on-demand, or the console). */
int ike_initiate(struct ike_engine *e, const char *profile);

/* `clear ike sa [peer]` / `clear ipsec sa`: sends Deletes, removes SAs. */
int ike_clear_ike(struct ike_engine *e, const struct in_addr *peer);
int ike_clear_ipsec(struct ike_engine *e);
/* The same for the SAs of one profile; returns how many went. */
int ike_clear_ike_profile(struct ike_engine *e, const char *profile);
int ike_clear_ipsec_profile(struct ike_engine *e, const char *profile);

/* `show ike sa` / `show ipsec sa` as shared/spec/show-output.md, or JSON. */
void ike_show_ike_sa(struct ike_engine *e, bool json, struct strbuf *out);
void ike_show_ipsec_sa(struct ike_engine *e, bool json, struct strbuf *out);
/* Lines for `show ipsec profile`: what the profile's SAs are doing now
 * (down with the WAN, negotiating, or when the next attempt is due), then
 * the last failure with time and count; nothing when all is well. */
void ike_show_profile_status(struct ike_engine *e, const char *profile, struct strbuf *out);
/* The same as a JSON object (`"state":{...}`), for `show ipsec profile json`. */
void ike_show_profile_state_json(struct ike_engine *e, const char *profile, struct strbuf *out);
/* The above through the show emitter (lib/emit.h): key names the member
 * of the enclosing JSON object. */
void ike_emit_ike_sa(struct ike_engine *e, struct emit *em);
void ike_emit_ipsec_sa(struct ike_engine *e, struct emit *em);
void ike_emit_profile_state(struct ike_engine *e, const char *key, const char *profile,
			    struct emit *em);
void ike_emit_profile_detail(struct ike_engine *e, const char *key, const char *profile,
			     struct emit *em);

/* Counters of dropped input, by reason (for tests and `show`). */
struct ike_counters {
	uint64_t rx, tx, retransmits;
	uint64_t drop_malformed, drop_unknown_sa, drop_decrypt, drop_hash, drop_state,
		drop_half_open_limit, drop_no_profile;
	/* Diffie-Hellman handed to io->dh_submit; messages dropped because
	 * its queue was full (a new half-open exchange is not started, the
	 * peer's retransmission tries again) or because their exchange
	 * already waits for a result; results whose exchange was gone */
	uint64_t dh_async, drop_dh_busy, drop_dh_pending, dh_stale;
};
void ike_get_counters(const struct ike_engine *e, struct ike_counters *c);
/* `debug ike [PROFILE]` / `no debug ike`: a line per IKE message (names
 * and numbers only, never keys) for every profile or one (trace.c). */
void ike_debug_set(struct ike_engine *e, bool on, const char *profile);
bool ike_debug_get(const struct ike_engine *e, const char **profile);

/* ---- failure classification (for `show ipsec profile` and diagnose) ---- */

/* What made the last negotiation of a profile fail; the troubleshooter
 * maps these to the checks of shared/spec/troubleshooting.md. */
enum ike_fail_class {
	IKE_FAIL_NONE,
	IKE_FAIL_NO_PROPOSAL,  /* A5.4: no proposal in common (phase 1 or 2) */
	IKE_FAIL_ID_MISMATCH,  /* A5.1/A5.2: the peer's ID is not the one expected */
	IKE_FAIL_PSK_MISMATCH, /* A5.5: a HASH did not verify / MM5-6 did not decrypt */
	IKE_FAIL_TS_MISMATCH,  /* A5.3: Quick Mode IDs (selectors) not mirrored */
	IKE_FAIL_NO_ANSWER,    /* A6: retransmitted with no answer */
	IKE_FAIL_PEER_NOTIFY,  /* the peer sent an error notify not covered above */
	IKE_FAIL_MALFORMED,    /* a message that did not parse */
	IKE_FAIL_NATT,         /* A7: NAT-T needed but not enabled, or mode mismatch */
	IKE_FAIL_CONFIG,       /* the profile cannot negotiate (no address, no policy) */
	IKE_FAIL_COUNT
};

#define IKE_FAIL_HISTORY 8 /* failure runs kept per profile */
#define IKE_PEER_VIDS 8    /* vendor IDs kept from the peer's last message */
#define IKE_PEER_NOTES 4   /* status notifies kept from the peer's messages */

/* One run of failures of the same class and phase. */
struct ike_fail_run {
	enum ike_fail_class cls;
	int phase;
	int64_t first_wall, last_wall;
	unsigned count;
	char detail[200]; /* the last log line of the run, cut */
};

/* The last things a profile's peer sent, each with the wall-clock time it
 * arrived (0: never).  Filled as messages are parsed, so it also shows
 * what a failed negotiation got before it failed. */
struct ike_peer_seen {
	char p1_offer[256]; /* the peer's phase 1 proposal (it offered or chose) */
	bool p1_chosen;     /* it is the transform the peer chose (we initiated) */
	int64_t p1_wall;
	char p2_offer[256];
	bool p2_chosen;
	int64_t p2_wall;
	char id_type[16]; /* "key-id", "fqdn", "user-fqdn", "address", "type N" */
	char id_value[128];
	int64_t id_wall;
	struct kz_prefix ts_ci, ts_cr; /* Quick Mode IDci / IDcr (RFC 2409 5.5) */
	/* an ID that is no prefix (an address range "A-B"), instead of ts_ci /
	 * ts_cr; "" otherwise */
	char ts_ci_text[40], ts_cr_text[40];
	bool ts_set;
	int64_t ts_wall;
	char vids[IKE_PEER_VIDS][40]; /* named, or "unknown " + a hex prefix */
	unsigned nvids;
	int64_t vid_wall;
	/* status notifies inside the peer's exchange messages (RESPONDER-
	 * LIFETIME, ...), newest last, the oldest dropped */
	char notes[IKE_PEER_NOTES][64];
	unsigned nnotes;
	int64_t notes_wall;
};

/* Kept next to the status of each profile (all times are io->wall). */
struct ike_profile_detail {
	struct ike_peer_seen peer;
	struct ike_fail_run hist[IKE_FAIL_HISTORY]; /* ring: hist_next is the oldest slot */
	unsigned hist_n, hist_next;
};

/* Dead Peer Detection of a profile's established IKE SA (RFC 3706). */
enum ike_dpd_state {
	IKE_DPD_NO_SA,    /* no IKE SA is established */
	IKE_DPD_ON,       /* both announced it and our policy has an interval */
	IKE_DPD_OFF_OURS, /* our IKE policy has no `dpd` */
	IKE_DPD_OFF_PEER, /* the peer did not send the DPD vendor ID */
};
const char *ike_dpd_state_name(enum ike_dpd_state s); /* "on", "off-peer", ... */

/* One exchange of a profile that started and did not (yet) finish: the
 * troubleshooter judges from how far it got (troubleshooting.md,
 * "Extensions").  All times are io->wall. */
struct ike_exch_rec {
	bool set;
	bool initiator;    /* we started it */
	bool aggressive;   /* phase 1 in Aggressive mode (else Main mode) */
	int phase;         /* 1, or 2 for Quick Mode */
	unsigned msg_sent; /* the number of the last message we sent in it:
			    * AM2 sent and no AM3 is 2, MM5 sent and no MM6 5 */
	unsigned tries;    /* transmissions of that message */
	struct in_addr peer;
	uint16_t peer_port;
	char peer_id[128];             /* the ID the peer sent, "" none yet */
	int64_t first_wall, last_wall; /* started; given up (or now) */
	unsigned count;                /* ends in a row at the same message */
};

struct ike_profile_status {
	char profile[KZ_NAME_MAX];
	enum ike_fail_class last_class; /* IKE_FAIL_NONE: never failed */
	int phase;                      /* 1 or 2 */
	int64_t first_wall, last_wall;  /* io->wall of the first/last of the run */
	unsigned count;                 /* consecutive failures of this class */
	uint16_t peer_notify;           /* notify type the peer sent, 0 none */
	char our_offer[256];            /* proposal mismatch: what each side offered */
	char their_offer[256];
	bool pfs_mismatch;                  /* proposal mismatch: PFS alone differs ... */
	enum kz_group pfs_ours, pfs_theirs; /* ... these */
	char id_received[160];              /* ID mismatch: the ID the peer sent ... */
	char id_expected[160];              /* ... and what we expected */
	char detail[512];                   /* the one log line, without the profile */
	/* the last success */
	bool established; /* an IKE SA of this profile is up */
	int64_t established_wall;
	bool nat_detected, nat_local, nat_peer;
	bool nat_measured; /* NAT-D was exchanged (NAT-T agreed): the three
			    * above are a measurement, else unknown */
	uint64_t failures_total;
	/* for the metrics file (ike_metrics.c): failures by class, rekeys
	 * (a new SA while an older one of the profile is up, either side
	 * negotiated it) and DPD verdicts (an answer while our R-U-THEREs were
	 * out; a dead peer) */
	uint64_t fail_by_class[IKE_FAIL_COUNT];
	uint64_t ike_rekeys, ipsec_rekeys;
	uint64_t dpd_alive, dpd_dead;
	struct ike_profile_detail more; /* for `detail` */
	/* the last exchange given up unfinished (time-out, no next message);
	 * cleared by a success and by a change of the profile's settings */
	struct ike_exch_rec halfopen;
	/* now: the exchange of ours under way, with how often its last
	 * message went out (filled by each ike_profile_status() call) */
	struct ike_exch_rec inflight;
	/* now, filled by each ike_profile_status() call */
	bool has_sas;           /* an IKE or IPsec SA of the profile exists */
	bool wan_down;          /* MobileEthernet0.0 has no usable address */
	bool negotiating;       /* phase 1 or Quick Mode under way */
	bool retry_scheduled;   /* a retry after a failure is waiting: */
	uint32_t retry_in_s;    /* due in this many seconds (rounded up), */
	uint32_t backoff_s;     /* the back-off step it waits (0: a plain restart) */
	uint32_t backoff_max_s; /* the profile's ceiling */
	enum ike_dpd_state dpd; /* of the newest established IKE SA */
	/* DPD off: when the SAs end by themselves (seconds from now; 0: no
	 * IPsec SA), which is when a dead peer is noticed at the latest */
	uint32_t dpd_off_ipsec_left_s, dpd_off_ike_left_s;
};

/* Status of a profile, or NULL when the engine does not know it. */
const struct ike_profile_status *ike_profile_status(struct ike_engine *e, const char *profile);
/* MobileEthernet0.0 had no usable address at the last ike_engine_set_config():
 * every SA is down until it comes back (they are kept, and dropped and made
 * again when it does). */
bool ike_wan_down(const struct ike_engine *e);
/* The line `show ipsec profile` and `show ike sa` print for an SA then. */
#define IKE_WAN_DOWN_TEXT "SA is down: MobileEthernet0.0 has no usable address"

/* The SAs of one profile now, for `diagnose ipsec` (check A3/A8). */
struct ike_profile_sas {
	bool ike_up;          /* an IKE SA is established */
	bool ike_negotiating; /* an IKE SA is being negotiated */
	bool ike_natt;        /* the established IKE SA floated to UDP 4500 */
	bool ipsec_up;        /* an IPsec SA pair (the newest) is up */
	unsigned unit;        /* its IPsec<N> */
	uint32_t spi_in, spi_out;
	struct kz_prefix local_ts, remote_ts;
	int64_t ipsec_up_wall; /* wall clock when the pair was made */
};
void ike_profile_sas(struct ike_engine *e, const char *profile, struct ike_profile_sas *out);

/* ---- metrics (kizunad's metrics file; ike_metrics.c) ---- */

/* The SAs of a profile now: established IKE SAs, IPsec SAs (two per
 * pair, as `show ipsec sa` counts them). */
void ike_profile_sa_counts(struct ike_engine *e, const char *profile, unsigned *ike_sas,
			   unsigned *ipsec_sas);
/* Calls fn for every IPsec SA pair, oldest first, with its profile, its
 * IPsec<unit> and its SPIs; bytes and packets are the data plane's. */
void ike_each_child(struct ike_engine *e,
		    void (*fn)(void *arg, const char *profile, unsigned unit, uint32_t spi_in,
			       uint32_t spi_out),
		    void *arg);

/* "no proposal chosen", "pre-shared key mismatch", ... */
const char *ike_fail_class_name(enum ike_fail_class c);

/* ---- what the peer offered (`show ipsec profile NAME detail`) ---- */

/* The detail of a profile, or NULL when the engine does not know it. */
const struct ike_profile_detail *ike_profile_detail(struct ike_engine *e, const char *profile);
/* The n-th failure run, newest first (n < hist_n), or NULL. */
const struct ike_fail_run *ike_fail_run_get(const struct ike_profile_detail *d, unsigned n);
/* The lines (or the JSON object) of `show ipsec profile NAME detail`. */
void ike_show_profile_detail(struct ike_engine *e, const char *profile, bool json,
			     struct strbuf *out);
/* The name of a vendor ID payload body ("RFC 3947 NAT-T", "DPD", ...), or
 * "unknown " and the first bytes in hex. */
void ike_vid_name(const uint8_t *vid, size_t len, char *out, size_t cap);

/* Recording, called by the exchange files as they parse the peer's
 * messages (profile may be empty: nothing is recorded). */
void ike_seen_offer(struct ike_engine *e, const char *profile, int phase, bool chosen,
		    const char *text);
void ike_seen_id(struct ike_engine *e, const char *profile, const uint8_t *body, size_t len);
void ike_seen_ts(struct ike_engine *e, const char *profile, const struct kz_prefix *ci,
		 const struct kz_prefix *cr);
/* IDs that could not be taken as prefixes (NULL: that one was one). */
void ike_seen_ts_text(struct ike_engine *e, const char *profile, const char *ci, const char *cr);
/* Vendor IDs: first starts the list of a new message. */
void ike_seen_vid(struct ike_engine *e, const char *profile, const uint8_t *vid, size_t len,
		  bool first);
/* A status notify the peer put in an exchange message, as text. */
void ike_seen_note(struct ike_engine *e, const char *profile, const char *text);
/* All the vendor IDs of one parsed message (isakmp.h). */
struct isakmp_digest;
void ike_seen_vids(struct ike_engine *e, const char *profile, const struct isakmp_digest *d);

#endif
