/* metrics.h - kizunad's counters in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector.
 *
 * The daemon fills a snapshot with plain values (daemon/metrics.c) and
 * kz_metrics_render() turns it into the text; the names, labels and HELP
 * lines are documented in docs/metrics.md.  A pure function of the
 * snapshot, so the exact text is unit-tested (test_lib_metrics.c). */
#ifndef KZ_METRICS_H
#define KZ_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

#define KZM_NAME_MAX 64
#define KZM_MAX_CLASSES 16 /* failure classes */
#define KZM_MAX_REASONS 24 /* drop reasons of one kind */
#define KZM_MAX_WORKERS 8

/* One named counter ("replay", 3).  name points to a static string. */
struct kzm_count {
	const char *name;
	uint64_t v;
};

struct kzm_profile {
	char name[KZM_NAME_MAX];
	bool up;           /* an IPsec SA pair carries its traffic */
	uint64_t uptime_s; /* since the tunnel came up (0 while down) */
	unsigned ike_sas;  /* established */
	unsigned ipsec_sas;
	uint64_t ike_rekeys, ipsec_rekeys;
	uint64_t dpd_alive, dpd_dead;
	uint64_t failures[KZM_MAX_CLASSES]; /* by snapshot.fail_classes */
};

/* One direction of an IPsec SA. */
struct kzm_sa {
	char profile[KZM_NAME_MAX];
	unsigned unit; /* IPsec<unit> */
	uint32_t spi;
	bool out;
	uint64_t packets, bytes;
	uint64_t drops[KZM_MAX_REASONS]; /* inbound: by snapshot.sa_drop_reasons */
};

struct kzm_snapshot {
	const char *version;
	const char *hostname;
	const char *fail_classes[KZM_MAX_CLASSES]; /* label values */
	unsigned nfail_classes;
	const char *sa_drop_reasons[KZM_MAX_REASONS];
	unsigned nsa_drop_reasons;
	const struct kzm_profile *profiles;
	size_t nprofiles;
	const struct kzm_sa *sas;
	size_t nsas;
	struct kzm_count dp_drops[KZM_MAX_REASONS]; /* data plane, not per SA */
	unsigned ndp_drops;
	uint64_t ike_rx, ike_tx, ike_retransmits;
	struct kzm_count ike_drops[KZM_MAX_REASONS];
	unsigned nike_drops;
	unsigned nworkers;
	uint64_t worker_in[KZM_MAX_WORKERS], worker_out[KZM_MAX_WORKERS];
};

/* Appends the whole exposition: every family with its HELP and TYPE
 * lines, families in a fixed order, samples in snapshot order. */
void kz_metrics_render(const struct kzm_snapshot *s, struct strbuf *out);

#endif
