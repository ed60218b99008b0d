/* diag_int.h - what the files of diag_run() share: the state of the check
 * of one profile, and the helpers that add checks, causes, evidence and
 * remedies to its report.  Not for use outside src/diag/. */
#ifndef KZ_DIAG_INT_H
#define KZ_DIAG_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/check.h"
#include "diag/diag.h"

/* A8.3: outbound traffic with nothing back for this long is a finding. */
#define DIAG_SILENT_S 10

struct diag_ctx {
	const struct diag_snapshot *s;
	const struct diag_lang *L;
	const struct kz_ipsec_profile *p;
	const struct kz_ike_policy *ike;
	const struct kz_ipsec_policy *ipol;
	const struct kz_if_ipsec *ifc;
	const struct diag_profile_state *st; /* the evidence that counts: */
	struct diag_profile_state stc;       /* a copy without stale records */
	const struct diag_exch *half;        /* the half-open exchange, or NULL */
	const struct diag_exch *infl;        /* ours in flight, or NULL */
	struct diag_profile_report *pr;
	struct kz_findings cross; /* with the peer's config */
	const char *peer_name;
	bool aggr, responder, sas_up;
	bool blocked;                /* A2 or A4 failed: IKE cannot have run as configured */
	bool reached;                /* the peer answered, or an initiator reached us */
	char detail[DIAG_CAUSE_MAX]; /* diag_detail()'s text */
	bool should_up;              /* mapped to an IPsec<N> not shut down: SAs expected */
};

/* IKE's record of the failure: its log line in English, in another
 * language the failure class and phase (the log line is English). */
const char *diag_detail(struct diag_ctx *x);
/* "Aggressive mode message 2", "Quick Mode message 1" of an exchange. */
void diag_exch_msg(struct diag_ctx *x, const struct diag_exch *h, unsigned n, char *out,
		   size_t cap);
/* "198.51.100.1:4500 (key-id site-a)" */
void diag_exch_peer(struct diag_ctx *x, const struct diag_exch *h, char *out, size_t cap);
/* Our phase 1 in flight has gone unanswered past its second
 * retransmission (message 1: no reply at all). */
bool diag_infl_unanswered(const struct diag_ctx *x);

#define TR(s) diag_tr(x->L, s)

/* A check with result res, id and text appended to the profile's report
 * (past DIAG_MAX_CHECKS it is written but not shown); then its cause,
 * evidence and remedy lines (at most DIAG_REMEDY_MAX). */
struct diag_check *diag_add(struct diag_ctx *x, enum diag_result res, const char *id,
			    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_cause(struct diag_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_evidence(struct diag_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void diag_remedy(struct diag_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A [WARN] line of the profile. */
void diag_warn(struct diag_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void diag_clock_str(int64_t t, char *out, size_t cap);
/* out has INET_ADDRSTRLEN bytes. */
const char *diag_addr_str(struct in_addr a, char *out);
bool diag_local_behind_nat(struct diag_ctx *x);
void diag_local_addr_text(struct diag_ctx *x, char *out, size_t cap);
const char *diag_role_text(struct diag_ctx *x);
void diag_times_text(struct diag_ctx *x, char *out, size_t cap);
bool diag_failed(const struct diag_ctx *x, enum diag_fail f);
/* The first cross-site [NG] whose id starts with prefix, or NULL. */
const struct kz_finding *diag_cross_find(const struct diag_ctx *x, const char *prefix);
void diag_add_cross(struct diag_ctx *x, const struct kz_finding *f);

/* The checks, in diag_site.c (this site alone) and diag_peer.c (the peer
 * and the path to it); run_profile() in diag.c calls them in order. */
void diag_check_a1(struct diag_ctx *x);
void diag_check_m1(struct diag_ctx *x);
void diag_check_a2(struct diag_ctx *x, const char *base);
void diag_check_a3(struct diag_ctx *x, const char *base);
void diag_check_a4(struct diag_ctx *x);
void diag_check_a5(struct diag_ctx *x);
void diag_check_a6(struct diag_ctx *x);
void diag_check_a7(struct diag_ctx *x);
void diag_check_a8(struct diag_ctx *x);
void diag_warnings(struct diag_ctx *x);
/* diag_mobile.c: with `modem`, A2/M2's [NG] with the modem's cause; A1's
 * evidence from the bearer (c may be NULL). */
struct diag_check *diag_a2_modem(struct diag_ctx *x, const char *id);
void diag_a1_modem(struct diag_ctx *x, struct diag_check *c);

#endif
