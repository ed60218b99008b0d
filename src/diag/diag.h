/* diag.h - the troubleshooter behind `diagnose ipsec`: the checklist of
 * shared/spec/troubleshooting.md (A1-A8, M1-M3) run over a snapshot.
 *
 * diag_run() is a pure function: a snapshot (the config, the state of
 * MobileEthernet0.0 and of the IPsec interfaces, per profile what IKE saw
 * and the SA counters, the kernel's routes into IPsec<N>, optionally the
 * peer's config) in, findings with check ids, cause, evidence and remedy
 * commands out.  The daemon builds the snapshot (src/daemon/diagnose.c);
 * unit tests build it from fixtures.  Nothing here touches a socket, a
 * clock or the locale.
 *
 * Rules the engine keeps (troubleshooting.md, "Output of diagnose ipsec"):
 * A3/M3 report state, never a cause, so the first [NG] names the cause;
 * a check that cannot be judged is [--] and says how to get the evidence;
 * [WARN] lines come after the checks and are not problems.
 *
 * Messages: English msgids marked with DIAG_N(); a struct diag_lang maps
 * them to another language.  The catalogue is po/ja.po compiled by msgfmt
 * into a .mo file, read here by diag_lang_load() (see diag_lang.c for why
 * the process locale is not used). */
#ifndef KZ_DIAG_H
#define KZ_DIAG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/model.h"
#include "lib/mobile_view.h"
#include "lib/emit.h"
#include "lib/strbuf.h"

/* Marks a msgid for xgettext (keyword DIAG_N) without translating it. */
#define DIAG_N(s) s

/* ---- languages ------------------------------------------------------ */

struct diag_lang;

/* English: every lookup returns its msgid.  Never NULL. */
const struct diag_lang *diag_lang_en(void);
/* Loads a compiled message catalogue (GNU .mo, either byte order).  A
 * translation whose printf conversions differ from its msgid's is dropped
 * (the msgid is used), so a broken catalogue cannot break a format.
 * 0, KZ_EIO (unreadable), KZ_EPROTO (not a .mo) or KZ_ENOMEM. */
int diag_lang_load(const char *path, const char *code, struct diag_lang **out);
void diag_lang_free(struct diag_lang *l);
/* "en", "ja", ... */
const char *diag_lang_code(const struct diag_lang *l);
/* The translation of msgid, or msgid itself. */
const char *diag_tr(const struct diag_lang *l, const char *msgid) __attribute__((format_arg(2)));

/* ---- the snapshot --------------------------------------------------- */

/* Mirrors enum ike_fail_class (src/ike/ike.h); diag/ may not include ike/. */
enum diag_fail {
	DIAG_FAIL_NONE,
	DIAG_FAIL_NO_PROPOSAL,
	DIAG_FAIL_ID_MISMATCH,
	DIAG_FAIL_PSK_MISMATCH,
	DIAG_FAIL_TS_MISMATCH,
	DIAG_FAIL_NO_ANSWER,
	DIAG_FAIL_PEER_NOTIFY,
	DIAG_FAIL_MALFORMED,
	DIAG_FAIL_NATT,
	DIAG_FAIL_CONFIG,
	DIAG_FAIL_COUNT
};

/* MobileEthernet0.0 as `show ip address` sees it. */
struct diag_mobile {
	bool exists;   /* the Linux device is configured and exists */
	bool admin_up; /* IFF_UP */
	bool lower_up; /* carrier */
	bool has_addr;
	struct in_addr addr;
	uint8_t plen;
};

/* One configured IPsec<N>. */
struct diag_ipsec_if {
	unsigned unit;
	bool exists; /* its TUN device is open */
	bool admin_up;
};

/* A kernel route whose output device is IPsec<unit>. */
struct diag_route {
	struct kz_prefix dest;
	unsigned unit;
};

/* One exchange that started and did not finish (mirrors struct
 * ike_exch_rec of src/ike/ike.h): how far it got, with whom, when. */
struct diag_exch {
	bool set;
	bool initiator;    /* this site started it */
	bool aggressive;   /* phase 1 in Aggressive mode */
	int phase;         /* 1, or 2 for Quick Mode */
	unsigned msg_sent; /* the last message this site sent in it (AM2: 2) */
	unsigned tries;    /* its transmissions */
	struct in_addr peer;
	uint16_t peer_port;
	char peer_id[128];             /* the ID the peer sent, "" none */
	int64_t first_wall, last_wall; /* started; given up (in flight: now) */
	unsigned count;                /* given up this way in a row */
};

/* What IKE and the data plane know about one profile. */
struct diag_profile_state {
	char profile[KZ_NAME_MAX];
	bool known; /* false: the engine never saw this profile */
	/* IKE SA */
	bool ike_up;
	bool ike_negotiating;
	/* the SAs are kept while MobileEthernet0.0 has no usable address, but
	 * nothing passes them: down, whatever ike_up and ipsec_up say */
	bool sas_down;
	bool ike_natt_floated; /* the established IKE SA runs on UDP 4500 */
	int64_t ike_up_since;  /* wall clock, 0 unknown */
	/* NAT as NAT-D showed it (RFC 3947), from the last exchange */
	bool nat_known, nat_local, nat_peer;
	/* IPsec SA pair */
	bool ipsec_up;
	unsigned unit;
	uint32_t spi_in, spi_out;
	struct kz_prefix local_ts, remote_ts; /* as negotiated */
	uint64_t out_packets, in_packets;
	int64_t out_last, in_last; /* wall clock of the last packet, 0 none */
	int64_t ipsec_up_since;
	/* outbound packets dropped for falling outside every SA's selectors
	 * while this pair was up (the data plane's counter) */
	bool outside_known;
	uint64_t outside_drops;
	/* the last failure of a run of failures */
	enum diag_fail fail;
	int phase;
	unsigned count;
	int64_t first_wall, last_wall;
	uint16_t peer_notify;
	char notify_name[48];
	char our_offer[256], their_offer[256];
	bool pfs_mismatch; /* the proposals differ in PFS alone: */
	enum kz_group pfs_ours, pfs_theirs;
	char id_received[160], id_expected[160];
	char detail[512];
	/* the IKE SA is up but the peer did not announce DPD (RFC 3706): a
	 * dead peer is noticed only when the SAs end, in this many seconds */
	bool dpd_off_peer;
	uint32_t dpd_recovery_s;
	/* the last exchange given up unfinished, and ours under way now */
	struct diag_exch halfopen, inflight;
};

struct diag_snapshot {
	const struct kz_config *cfg;
	const struct kz_config *peer_cfg; /* optional: the other site's config */
	const char *peer_name;            /* how texts name it ("peer.conf") */
	const char *only_profile;         /* NULL: every profile */
	int64_t now;                      /* wall clock */
	struct diag_mobile mobile;
	struct kz_mobile_view modem; /* with `modem`: what ModemManager shows */
	const struct diag_ipsec_if *ifs;
	size_t nifs;
	bool routes_known; /* the kernel's routing table could be read */
	const struct diag_route *routes;
	size_t nroutes;
	const struct diag_profile_state *states;
	size_t nstates;
};

/* ---- the report ----------------------------------------------------- */

enum diag_result { DIAG_OK, DIAG_NG, DIAG_NA };

#define DIAG_ID_MAX 8
#define DIAG_TEXT_MAX 384
#define DIAG_CAUSE_MAX 768
#define DIAG_REMEDY_MAX 8
#define DIAG_LINE_MAX 192
#define DIAG_MAX_CHECKS 16
#define DIAG_MAX_WARN 12

struct diag_check {
	char id[DIAG_ID_MAX]; /* "A5.5"; "A1" for a whole check OK */
	enum diag_result result;
	char text[DIAG_TEXT_MAX];
	char cause[DIAG_CAUSE_MAX];    /* "" none */
	char evidence[DIAG_CAUSE_MAX]; /* what was seen; "" none */
	char remedy[DIAG_REMEDY_MAX][DIAG_LINE_MAX];
	unsigned nremedy;
};

struct diag_profile_report {
	char profile[KZ_NAME_MAX];
	char role[16]; /* "initiator", "responder", "none" */
	char mode[16]; /* "aggressive", "main" */
	char header[DIAG_TEXT_MAX];
	struct diag_check checks[DIAG_MAX_CHECKS];
	size_t nchecks;
	char warnings[DIAG_MAX_WARN][DIAG_TEXT_MAX];
	size_t nwarnings;
	unsigned problems;
	/* no [NG], but the profile should have SAs and has none: the
	 * summary says so and what is not known yet (never "no problem") */
	bool down_unknown;
	char unknown[DIAG_TEXT_MAX];
};

/* The verdict of a report, as `kizuna diagnose ipsec` exits with it. */
enum diag_verdict {
	DIAG_VERDICT_OK = 0,      /* no problem found */
	DIAG_VERDICT_NG = 1,      /* an [NG] */
	DIAG_VERDICT_UNKNOWN = 2, /* a tunnel is down and no cause is known */
};

struct diag_report {
	struct diag_profile_report *v;
	size_t n;
	char error[DIAG_TEXT_MAX]; /* "no ipsec profile X", "" */
};

/* Runs the checklist for every profile (or s->only_profile) into *out
 * (diag_report_free() it).  Texts in language lang (NULL: English).
 * 0, KZ_ENOENT (only_profile does not exist; out->error says so),
 * KZ_EINVAL or KZ_ENOMEM. */
int diag_run(const struct diag_snapshot *s, const struct diag_lang *lang, struct diag_report *out);
void diag_report_free(struct diag_report *r);

/* The report as troubleshooting.md shows it, text or JSON as e says; the
 * two below are it with an emitter of their own. */
void diag_render(const struct diag_report *r, const struct diag_lang *lang, struct emit *e);
void diag_render_text(const struct diag_report *r, const struct diag_lang *lang,
		      struct strbuf *out);
void diag_render_json(const struct diag_report *r, struct strbuf *out);

/* The verdict of the whole report: NG if any profile has an [NG], else
 * UNKNOWN if a profile's tunnel is down with no cause found, else OK. */
enum diag_verdict diag_verdict(const struct diag_report *r);

/* The first [NG] id of profile i ("" none), for scripts and tests. */
const char *diag_first_ng(const struct diag_report *r, size_t i);

#endif
