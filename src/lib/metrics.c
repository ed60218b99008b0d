/* metrics.c - the Prometheus text format of kizunad's counters; see
 * metrics.h and docs/metrics.md. */
#include "lib/metrics.h"

#include <inttypes.h>
#include <stdio.h>

/* A label value: backslash, double quote and newline escaped. */
static void label(struct strbuf *out, const char *name, const char *value, bool first)
{
	sb_printf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			sb_printf(out, "\\%c", *p);
		else if (*p == '\n')
			sb_puts(out, "\\n");
		else
			sb_putn(out, p, 1);
	}
	sb_puts(out, "\"");
}

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	sb_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value(struct strbuf *out, uint64_t v)
{
	sb_printf(out, "} %" PRIu64 "\n", v);
}

/* name{profile="P"} v for every profile */
static void per_profile(struct strbuf *out, const struct kzm_snapshot *s, const char *name,
			const char *type, const char *help, size_t off)
{
	family(out, name, type, help);
	for (size_t i = 0; i < s->nprofiles; i++) {
		const struct kzm_profile *p = &s->profiles[i];
		uint64_t v = *(const uint64_t *)((const char *)p + off);

		sb_printf(out, "%s{", name);
		label(out, "profile", p->name, true);
		value(out, v);
	}
}

static void sa_labels(struct strbuf *out, const struct kzm_sa *sa)
{
	char ifname[16], spi[16];

	snprintf(ifname, sizeof(ifname), "IPsec%u", sa->unit);
	snprintf(spi, sizeof(spi), "0x%08" PRIx32, sa->spi);
	label(out, "profile", sa->profile, true);
	label(out, "interface", ifname, false);
	label(out, "spi", spi, false);
}

static void counts(struct strbuf *out, const char *name, const char *type, const char *help,
		   const struct kzm_count *c, unsigned n)
{
	family(out, name, type, help);
	for (unsigned i = 0; i < n; i++) {
		sb_printf(out, "%s{", name);
		label(out, "reason", c[i].name, true);
		value(out, c[i].v);
	}
}

void kz_metrics_render(const struct kzm_snapshot *s, struct strbuf *out)
{
	family(out, "kizuna_build_info", "gauge",
	       "Version and host name of this kizunad; always 1.");
	sb_puts(out, "kizuna_build_info{");
	label(out, "version", s->version, true);
	label(out, "hostname", s->hostname, false);
	value(out, 1);

	family(out, "kizuna_tunnel_up", "gauge",
	       "1 while an IPsec SA pair of the profile carries its traffic, else 0.");
	for (size_t i = 0; i < s->nprofiles; i++) {
		sb_puts(out, "kizuna_tunnel_up{");
		label(out, "profile", s->profiles[i].name, true);
		value(out, s->profiles[i].up);
	}
	per_profile(out, s, "kizuna_tunnel_uptime_seconds", "gauge",
		    "Seconds since the tunnel of the profile came up; 0 while it is down.",
		    offsetof(struct kzm_profile, uptime_s));
	family(out, "kizuna_ike_sas", "gauge", "Established IKE (phase 1) SAs of the profile.");
	for (size_t i = 0; i < s->nprofiles; i++) {
		sb_puts(out, "kizuna_ike_sas{");
		label(out, "profile", s->profiles[i].name, true);
		value(out, s->profiles[i].ike_sas);
	}
	family(out, "kizuna_ipsec_sas", "gauge",
	       "IPsec SAs of the profile, both directions (two per pair, as show ipsec sa).");
	for (size_t i = 0; i < s->nprofiles; i++) {
		sb_puts(out, "kizuna_ipsec_sas{");
		label(out, "profile", s->profiles[i].name, true);
		value(out, s->profiles[i].ipsec_sas);
	}
	per_profile(out, s, "kizuna_ike_rekeys_total", "counter",
		    "IKE SAs made to replace an older one of the profile (either side began).",
		    offsetof(struct kzm_profile, ike_rekeys));
	per_profile(out, s, "kizuna_ipsec_rekeys_total", "counter",
		    "IPsec SA pairs made to replace an older one of the profile (either side "
		    "began).",
		    offsetof(struct kzm_profile, ipsec_rekeys));
	family(out, "kizuna_failures_total", "counter",
	       "Failed negotiations of the profile by class (show ipsec profile).");
	for (size_t i = 0; i < s->nprofiles; i++)
		for (unsigned k = 0; k < s->nfail_classes && k < KZM_MAX_CLASSES; k++) {
			sb_puts(out, "kizuna_failures_total{");
			label(out, "profile", s->profiles[i].name, true);
			label(out, "class", s->fail_classes[k], false);
			value(out, s->profiles[i].failures[k]);
		}
	family(out, "kizuna_dpd_verdicts_total", "counter",
	       "Dead Peer Detection verdicts: alive (the peer answered while our R-U-THEREs were "
	       "out), dead (the peer "
	       "was declared dead).");
	for (size_t i = 0; i < s->nprofiles; i++) {
		sb_puts(out, "kizuna_dpd_verdicts_total{");
		label(out, "profile", s->profiles[i].name, true);
		label(out, "verdict", "alive", false);
		value(out, s->profiles[i].dpd_alive);
		sb_puts(out, "kizuna_dpd_verdicts_total{");
		label(out, "profile", s->profiles[i].name, true);
		label(out, "verdict", "dead", false);
		value(out, s->profiles[i].dpd_dead);
	}

	family(out, "kizuna_ipsec_sa_packets_total", "counter",
	       "Packets through one direction of an IPsec SA (show ipsec sa).");
	for (size_t i = 0; i < s->nsas; i++) {
		sb_puts(out, "kizuna_ipsec_sa_packets_total{");
		sa_labels(out, &s->sas[i]);
		label(out, "direction", s->sas[i].out ? "out" : "in", false);
		value(out, s->sas[i].packets);
	}
	family(out, "kizuna_ipsec_sa_bytes_total", "counter",
	       "Inner (plaintext) bytes through one direction of an IPsec SA (show ipsec sa).");
	for (size_t i = 0; i < s->nsas; i++) {
		sb_puts(out, "kizuna_ipsec_sa_bytes_total{");
		sa_labels(out, &s->sas[i]);
		label(out, "direction", s->sas[i].out ? "out" : "in", false);
		value(out, s->sas[i].bytes);
	}
	family(out, "kizuna_ipsec_sa_drops_total", "counter",
	       "Inbound ESP packets of an IPsec SA dropped, by reason (show ipsec statistics).");
	for (size_t i = 0; i < s->nsas; i++) {
		if (s->sas[i].out)
			continue;
		for (unsigned k = 0; k < s->nsa_drop_reasons && k < KZM_MAX_REASONS; k++) {
			sb_puts(out, "kizuna_ipsec_sa_drops_total{");
			sa_labels(out, &s->sas[i]);
			label(out, "reason", s->sa_drop_reasons[k], false);
			value(out, s->sas[i].drops[k]);
		}
	}
	counts(out, "kizuna_dataplane_drops_total", "counter",
	       "Packets the data plane dropped outside any SA, by reason (show ipsec "
	       "statistics).",
	       s->dp_drops, s->ndp_drops);
	family(out, "kizuna_worker_esp_packets_total", "counter",
	       "ESP packets a data-plane worker decrypted (in) and encrypted (out).");
	for (unsigned w = 0; w < s->nworkers && w < KZM_MAX_WORKERS; w++) {
		char id[12];

		snprintf(id, sizeof(id), "%u", w);
		sb_puts(out, "kizuna_worker_esp_packets_total{");
		label(out, "worker", id, true);
		label(out, "direction", "in", false);
		value(out, s->worker_in[w]);
		sb_puts(out, "kizuna_worker_esp_packets_total{");
		label(out, "worker", id, true);
		label(out, "direction", "out", false);
		value(out, s->worker_out[w]);
	}

	family(out, "kizuna_ike_messages_total", "counter",
	       "IKE messages received and sent, retransmissions included.");
	sb_puts(out, "kizuna_ike_messages_total{");
	label(out, "direction", "in", true);
	value(out, s->ike_rx);
	sb_puts(out, "kizuna_ike_messages_total{");
	label(out, "direction", "out", true);
	value(out, s->ike_tx);
	family(out, "kizuna_ike_retransmits_total", "counter", "IKE messages sent again.");
	sb_printf(out, "kizuna_ike_retransmits_total %" PRIu64 "\n", s->ike_retransmits);
	counts(out, "kizuna_ike_drops_total", "counter",
	       "IKE messages dropped before any profile saw them, by reason.", s->ike_drops,
	       s->nike_drops);
}
