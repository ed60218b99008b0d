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

#include "../config/model.h"
#include "../lib/childsa.h"
#include "../lib/strbuf.h"

struct ike_engine;

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

/* Runs what is due (retransmissions, lifetimes, retries); returns the
 * milliseconds until the next deadline (or -1: none). */
int64_t ike_run_timers(struct ike_engine *e);

/* Starts negotiation for a profile now (initiate auto at start-up, the first
 * packet routed to IPsec<N> for on-demand, or the console). */
int ike_initiate(struct ike_engine *e, const char *profile);

/* `clear ike sa [peer]` / `clear ipsec sa`: sends Deletes, removes SAs. */
int ike_clear_ike(struct ike_engine *e, const struct in_addr *peer);
int ike_clear_ipsec(struct ike_engine *e);

/* `show ike sa` / `show ipsec sa` as shared/spec/show-output.md, or JSON. */
void ike_show_ike_sa(struct ike_engine *e, bool json, struct strbuf *out);
void ike_show_ipsec_sa(struct ike_engine *e, bool json, struct strbuf *out);
/* Lines for `show ipsec profile`: the last failure of a profile with time
 * and count, or nothing. */
void ike_show_profile_status(struct ike_engine *e, const char *profile, struct strbuf *out);

/* Counters of dropped input, by reason (for tests and `show`). */
struct ike_counters {
	uint64_t rx, tx, retransmits;
	uint64_t drop_malformed, drop_unknown_sa, drop_decrypt, drop_hash, drop_state,
		drop_half_open_limit, drop_no_profile;
};
void ike_get_counters(const struct ike_engine *e, struct ike_counters *c);

#endif
