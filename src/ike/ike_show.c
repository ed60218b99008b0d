/* ike_show.c - `show ike sa`, `show ipsec sa` and the failure lines of
 * `show ipsec profile`, in the exact layout of shared/spec/show-output.md,
 * and their JSON forms.  Remaining lifetimes count down from io->now_ms;
 * data-plane counters come from io->child_stats. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exchange.h"

static const char *show_enc(enum kz_enc e)
{
	switch (e) {
	case KZ_ENC_AES_CBC_128:
		return "AES-CBC 128 bits";
	case KZ_ENC_AES_CBC_192:
		return "AES-CBC 192 bits";
	case KZ_ENC_AES_CBC_256:
		return "AES-CBC 256 bits";
	case KZ_ENC_3DES_CBC:
		return "3DES-CBC";
	case KZ_ENC_DES_CBC:
		return "DES-CBC";
	default:
		return "?";
	}
}

static const char *show_hash(enum kz_hash h)
{
	static const char *const n[KZ_HASH_COUNT] = {
		[KZ_HASH_MD5] = "MD5",         [KZ_HASH_SHA1] = "SHA1",
		[KZ_HASH_SHA2_256] = "SHA256", [KZ_HASH_SHA2_384] = "SHA384",
		[KZ_HASH_SHA2_512] = "SHA512",
	};
	return (unsigned)h < KZ_HASH_COUNT ? n[h] : "?";
}

static const char *show_group(enum kz_group g)
{
	static const char *const n[KZ_GROUP_COUNT] = {
		[KZ_GROUP_NONE] = "none",
		[KZ_GROUP_MODP768] = "768-bit MODP group",
		[KZ_GROUP_MODP1024] = "1024-bit MODP group",
		[KZ_GROUP_MODP1536] = "1536-bit MODP group",
		[KZ_GROUP_MODP2048] = "2048-bit MODP group",
		[KZ_GROUP_MODP3072] = "3072-bit MODP group",
		[KZ_GROUP_MODP4096] = "4096-bit MODP group",
		[KZ_GROUP_ECP256] = "256-bit ECP group",
		[KZ_GROUP_ECP384] = "384-bit ECP group",
	};
	return (unsigned)g < KZ_GROUP_COUNT ? n[g] : "?";
}

static const char *esp_enc_show(enum kz_enc e, unsigned *bits)
{
	switch (e) {
	case KZ_ENC_AES_CBC_128:
	case KZ_ENC_AES_CBC_192:
	case KZ_ENC_AES_CBC_256:
		*bits = (unsigned)esp_enc_keylen(e) * 8;
		return "aes-cbc";
	case KZ_ENC_AES_GCM_128:
	case KZ_ENC_AES_GCM_256:
		*bits = (unsigned)(esp_enc_keylen(e) - 4) * 8;
		return "aes-gcm";
	case KZ_ENC_3DES_CBC:
		*bits = 192;
		return "3des-cbc";
	case KZ_ENC_DES_CBC:
		*bits = 64;
		return "des-cbc";
	default:
		*bits = 0;
		return "null";
	}
}

static uint64_t remaining_s(uint64_t expire_ms, uint64_t now)
{
	return expire_ms > now ? (expire_ms - now) / 1000u : 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static const char *sa_state_str(const struct ike_sa *sa, uint64_t now)
{
	if (sa->state != IKE_ST_ESTABLISHED)
		return "negotiating";
	return sa->expire_ms && now >= sa->expire_ms ? "expired" : "established";
}

/* SAs in creation order (the list is newest first). */
static size_t sa_array(struct ike_engine *e, struct ike_sa ***out)
{
	size_t n = 0, i = 0;

	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		n += !sa->dying;
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	if (!*out)
		return 0;
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying)
			(*out)[n - 1 - i++] = sa;
	return n;
}

void ike_show_ike_sa(struct ike_engine *e, bool json, struct strbuf *out)
{
	uint64_t now = eng_now(e);
	struct ike_sa **v;
	size_t n = sa_array(e, &v);
	bool down = ike_wan_down(e);

	if (json)
		sb_puts(out, "{\"ike_sa\":[");
	for (size_t i = 0; i < n; i++) {
		const struct ike_sa *sa = v[i];
		char ra[INET_ADDRSTRLEN], la[INET_ADDRSTRLEN], idx[33];
		uint64_t rem = sa->state == IKE_ST_ESTABLISHED ? remaining_s(sa->expire_ms, now)
							       : sa->p1.lifetime;

		inet_ntop(AF_INET, &sa->peer.sin_addr, ra, sizeof(ra));
		inet_ntop(AF_INET, &sa->local.sin_addr, la, sizeof(la));
		hex(sa->icookie, 8, idx);
		hex(sa->rcookie, 8, idx + 16);
		if (json) {
			sb_printf(out,
				  "%s{\"profile\":", i ? "," : "");
			sb_json_str(out, sa->profile);
			sb_printf(out,
				  ",\"remote\":\"%s\",\"remote_port\":%u,\"local\":\"%s\","
				  "\"local_port\":%u,\"index\":\"%s\",\"direction\":\"%s\","
				  "\"exchange_type\":\"%s\",\"state\":\"%s\","
				  "\"authentication\":\"pre-shared key\",\"encrypt\":\"%s\","
				  "\"hash\":\"%s\",\"dh_group\":\"%s\",\"remaining_lifetime\":%llu,"
				  "\"phase2_count\":%u,\"nat_t\":%s,\"nat_local\":%s,"
				  "\"nat_peer\":%s,\"down\":%s}",
				  ra, ntohs(sa->peer.sin_port), la, ntohs(sa->local.sin_port), idx,
				  sa->initiator ? "initiator" : "responder",
				  sa->mode == KZ_MODE_MAIN ? "Main mode" : "Aggressive mode",
				  sa_state_str(sa, now), show_enc(sa->p1.enc), show_hash(sa->p1.hash),
				  show_group(sa->p1.group), (unsigned long long)rem, sa->phase2_count,
				  sa->natt.floated ? "true" : "false",
				  sa->natt.nat_local ? "true" : "false",
				  sa->natt.nat_peer ? "true" : "false", down ? "true" : "false");
			continue;
		}
		if (i)
			sb_puts(out, "\n");
		sb_printf(out, "remote: %s (UDP [%u])\n", ra, ntohs(sa->peer.sin_port));
		sb_printf(out, "local: %s (UDP [%u])\n", la, ntohs(sa->local.sin_port));
		sb_printf(out, "index:%s\n", idx);
		sb_printf(out, "Direction is %s\n", sa->initiator ? "initiator" : "responder");
		sb_printf(out, "Exchange type is %s\n",
			  sa->mode == KZ_MODE_MAIN ? "Main mode" : "Aggressive mode");
		sb_printf(out, "IKE PH1 %s\n", sa_state_str(sa, now));
		sb_puts(out, "authentication method:pre-shared key\n");
		sb_printf(out, "encrypt:%s\n", show_enc(sa->p1.enc));
		sb_printf(out, "hash:%s\n", show_hash(sa->p1.hash));
		sb_printf(out, "dh_group:%s\n", show_group(sa->p1.group));
		sb_printf(out, "Remaining lifetime is %llu seconds\n", (unsigned long long)rem);
		sb_printf(out, "phase2 count=%u\n", sa->phase2_count);
		/* after the spec's lines, so a screen still matches the manual
		 * line by line up to here */
		if (down)
			sb_puts(out, IKE_WAN_DOWN_TEXT "\n");
	}
	if (json)
		sb_puts(out, "]}\n");
	free(v);
}

static void endpoint(struct strbuf *out, const struct sockaddr_in *a, bool udp)
{
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
	if (udp)
		sb_printf(out, "%s(UDP [%u])", s, ntohs(a->sin_port));
	else
		sb_puts(out, s);
}

static void last_str(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = 0;
	if (t > 0 && localtime_r(&tt, &tm))
		strftime(out, cap, "%Y/%m/%d %H:%M:%S", &tm);
}

static void one_sa(struct ike_engine *e, const struct ike_child *c, const struct kz_child_sa *s,
		   uint64_t now, bool json, bool first, struct strbuf *out)
{
	struct kz_child_stats st = { 0 };
	unsigned bits;
	const char *enc = esp_enc_show(s->enc, &bits);
	uint64_t rem = remaining_s(c->expire_ms, now);
	char last[32], rb[32];
	const struct sockaddr_in *from = s->dir == KZ_CHILD_OUT ? &s->local : &s->peer;
	const struct sockaddr_in *to = s->dir == KZ_CHILD_OUT ? &s->peer : &s->local;

	if (e->io.child_stats)
		e->io.child_stats(e->io.arg, s->spi, s->dir, &st);
	last_str(st.last_unix, last, sizeof(last));
	if (s->life_kbytes) {
		uint64_t lim = s->life_kbytes * 1024u;

		snprintf(rb, sizeof(rb), "%llu",
			 (unsigned long long)(st.bytes < lim ? lim - st.bytes : 0));
	} else {
		snprintf(rb, sizeof(rb), "-");
	}
	if (json) {
		char fa[INET_ADDRSTRLEN], ta[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &from->sin_addr, fa, sizeof(fa));
		inet_ntop(AF_INET, &to->sin_addr, ta, sizeof(ta));
		sb_printf(out,
			  "%s{\"direction\":\"%s\",\"from\":\"%s\",\"from_port\":%u,\"to\":\"%s\","
			  "\"to_port\":%u,\"udp_encap\":%s,\"mode\":\"tunnel\",\"spi\":%u,"
			  "\"enc\":\"%s\",\"key_length\":%u,\"auth\":\"%s\",\"replay_window\":%u,"
			  "\"status\":\"%s\",\"remaining_lifetime\":%llu,\"remaining_lifebytes\":%s,"
			  "\"down\":%s,\"packets\":%llu,\"bytes\":%llu,\"last\":",
			  first ? "" : ",", s->dir == KZ_CHILD_OUT ? "outbound" : "inbound", fa,
			  ntohs(from->sin_port), ta, ntohs(to->sin_port),
			  s->udp_encap ? "true" : "false", s->spi, enc, bits, kz_auth_name(s->auth),
			  s->replay_window, rem ? "established" : "expired", (unsigned long long)rem,
			  s->life_kbytes ? rb : "null", ike_wan_down(e) ? "true" : "false",
			  (unsigned long long)st.packets,
			  (unsigned long long)st.bytes);
		if (last[0])
			sb_json_str(out, last);
		else
			sb_puts(out, "null");
		sb_puts(out, "}");
		return;
	}
	sb_puts(out, s->dir == KZ_CHILD_OUT ? "Outbound:\n" : "Inbound:\n");
	endpoint(out, from, s->udp_encap);
	sb_puts(out, " -> ");
	endpoint(out, to, s->udp_encap);
	sb_puts(out, "\nmode: tunnel\n");
	sb_printf(out, "satype: esp spi=%u(0x%08x)\n", s->spi, s->spi);
	sb_printf(out, "enc algorithm: %s\n", enc);
	sb_printf(out, "key length: %u\n", bits);
	sb_printf(out, "auth algorithm: %s\n", kz_auth_name(s->auth));
	sb_printf(out, "replay window size is %u bits\n", s->replay_window);
	sb_printf(out, "SA status is %s\n", rem ? "established" : "expired");
	sb_printf(out, "Remaining lifetime is %llu seconds\n", (unsigned long long)rem);
	sb_printf(out, "Remaining lifebytes is %s bytes\n", rb);
	sb_printf(out, "%llu [packets] %llu [bytes] last:%s\n", (unsigned long long)st.packets,
		  (unsigned long long)st.bytes, last);
	if (ike_wan_down(e))
		sb_puts(out, IKE_WAN_DOWN_TEXT "\n");
}

void ike_show_ipsec_sa(struct ike_engine *e, bool json, struct strbuf *out)
{
	uint64_t now = eng_now(e);
	unsigned configured = 0, created = 0;
	bool first_if = true;

	for (size_t i = 0; e->cfg && i < e->cfg->ipsec_ifs.n; i++) {
		const struct kz_if_ipsec *ifc = &e->cfg->ipsec_ifs.v[i];

		configured += ifc->map[0] && kz_find_profile(e->cfg, ifc->map);
	}
	for (struct ike_child *c = e->children; c; c = c->next)
		created += c->dying ? 0 : 2;
	if (json)
		sb_printf(out, "{\"configured\":%u,\"created\":%u,\"interfaces\":[", configured,
			  created);
	else
		sb_printf(out, "IPsec SA - %u configured, %u created\n", configured, created);
	for (unsigned unit = 0; unit < KZ_MAX_IPSEC_IF; unit++) {
		bool any = false, first = true;

		for (struct ike_child *c = e->children; c; c = c->next)
			any |= !c->dying && c->in.ipsec_unit == unit;
		if (!any)
			continue;
		if (json)
			sb_printf(out, "%s{\"interface\":\"IPsec%u\",\"sas\":[", first_if ? "" : ",",
				  unit);
		else
			sb_printf(out, "Interface IPsec%u\n", unit);
		first_if = false;
		/* oldest pair first (the list is newest first) */
		int cnt = 0;

		for (const struct ike_child *c = e->children; c; c = c->next)
			cnt += !c->dying && c->in.ipsec_unit == unit;
		for (int want = cnt - 1; want >= 0; want--) {
			const struct ike_child *pick = NULL;
			int k = 0;

			for (const struct ike_child *c = e->children; c; c = c->next)
				if (!c->dying && c->in.ipsec_unit == unit && k++ == want)
					pick = c;
			if (!pick)
				break;
			one_sa(e, pick, &pick->out, now, json, first, out);
			first = false;
			one_sa(e, pick, &pick->in, now, json, false, out);
		}
		if (json)
			sb_puts(out, "]}");
	}
	if (json)
		sb_puts(out, "]}\n");
}

/* The state line of `show ipsec profile`: the SAs kept while the WAN has
 * no address are down (said once, as `show ike sa` says it per SA); an
 * initiator without an IKE SA is negotiating, or waits its back-off. */
static void profile_state_text(const struct ike_profile_status *st, struct strbuf *out)
{
	if (st->wan_down && st->has_sas) {
		sb_puts(out, "  " IKE_WAN_DOWN_TEXT "\n");
		return;
	}
	if (st->established)
		return;
	if (st->negotiating) {
		sb_puts(out, "  Negotiating now\n");
	} else if (st->retry_scheduled) {
		sb_printf(out, "  Next attempt in %u seconds", st->retry_in_s);
		if (st->backoff_s)
			sb_printf(out, " (back-off %u s, max %u s)", st->backoff_s,
				  st->backoff_max_s);
		sb_puts(out, "\n");
	}
}

void ike_show_profile_state_json(struct ike_engine *e, const char *profile, struct strbuf *out)
{
	const struct ike_profile_status *st = e ? ike_profile_status(e, profile) : NULL;

	if (!st) {
		sb_puts(out, "null");
		return;
	}
	sb_printf(out, "{\"established\":%s,\"down\":%s,\"down_reason\":",
		  st->established ? "true" : "false",
		  st->wan_down && st->has_sas ? "true" : "false");
	if (st->wan_down && st->has_sas)
		sb_puts(out, "\"" KZ_MOBILE_IFNAME " has no usable address\"");
	else
		sb_puts(out, "null");
	sb_printf(out, ",\"negotiating\":%s,\"next_attempt_in\":",
		  st->negotiating ? "true" : "false");
	if (!st->established && !st->negotiating && st->retry_scheduled)
		sb_printf(out, "%u,\"backoff\":%u", st->retry_in_s, st->backoff_s);
	else
		sb_puts(out, "null,\"backoff\":null");
	sb_printf(out, ",\"backoff_max\":%u}", st->backoff_max_s);
}

void ike_show_profile_status(struct ike_engine *e, const char *profile, struct strbuf *out)
{
	const struct ike_profile_status *st = e ? ike_profile_status(e, profile) : NULL;
	char when[32];

	if (!st)
		return;
	profile_state_text(st, out);
	if (!st->count || st->last_class == IKE_FAIL_NONE)
		return;
	last_str(st->last_wall, when, sizeof(when));
	sb_printf(out, "%s : phase %d failed %u time(s), last at %s: %s\n", profile, st->phase,
		  st->count, when, st->detail);
}

void ike_profile_sas(struct ike_engine *e, const char *profile, struct ike_profile_sas *out)
{
	uint64_t now = eng_now(e);

	memset(out, 0, sizeof(*out));
	for (const struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || strcmp(sa->profile, profile))
			continue;
		if (sa->state == IKE_ST_ESTABLISHED && !(sa->expire_ms && now >= sa->expire_ms)) {
			out->ike_up = true;
			out->ike_natt |= sa->natt.floated;
		} else if (sa->state != IKE_ST_ESTABLISHED) {
			out->ike_negotiating = true;
		}
	}
	/* the list is newest first: the first live pair is the newest */
	for (const struct ike_child *c = e->children; c; c = c->next) {
		if (c->dying || strcmp(c->profile, profile) || remaining_s(c->expire_ms, now) == 0)
			continue;
		out->ipsec_up = true;
		out->unit = c->in.ipsec_unit;
		out->spi_in = c->in.spi;
		out->spi_out = c->out.spi;
		out->local_ts = c->out.local_ts;
		out->remote_ts = c->out.remote_ts;
		if (c->out.created_ms && c->out.created_ms <= now)
			out->ipsec_up_wall = e->io.wall(e->io.arg) -
					     (int64_t)((now - c->out.created_ms) / 1000u);
		break;
	}
}

/* ---- `show ipsec profile NAME detail`: what the peer sent last ---- */

/* A time for the JSON form: the console's text, or null when never. */
static void json_time(struct strbuf *out, int64_t t)
{
	char when[32];

	last_str(t, when, sizeof(when));
	if (when[0])
		sb_json_str(out, when);
	else
		sb_puts(out, "null");
}

static void detail_offer_text(struct strbuf *out, const char *what, const char *text, bool chosen,
			      int64_t t)
{
	char when[32];

	if (!t) {
		sb_printf(out, "    %s: -\n", what);
		return;
	}
	last_str(t, when, sizeof(when));
	sb_printf(out, "    %s (%s, %s): %s\n", what, chosen ? "the peer chose" : "the peer offered",
		  when, text);
}

static void detail_offer_json(struct strbuf *out, const char *sep, const char *key,
			      const char *text, bool chosen, int64_t t)
{
	sb_printf(out, "%s\"%s\":", sep, key);
	if (!t) {
		sb_puts(out, "null");
		return;
	}
	sb_puts(out, "{\"text\":");
	sb_json_str(out, text);
	sb_printf(out, ",\"chosen\":%s,\"at\":", chosen ? "true" : "false");
	json_time(out, t);
	sb_puts(out, "}");
}

static void detail_text(const struct ike_profile_detail *d, struct strbuf *out)
{
	const struct ike_peer_seen *ps = &d->peer;
	char when[32], ci[INET_ADDRSTRLEN + 4], cr[INET_ADDRSTRLEN + 4];

	sb_puts(out, "  received from the peer:\n");
	detail_offer_text(out, "phase 1 proposal", ps->p1_offer, ps->p1_chosen, ps->p1_wall);
	detail_offer_text(out, "phase 2 proposal", ps->p2_offer, ps->p2_chosen, ps->p2_wall);
	if (ps->id_wall) {
		last_str(ps->id_wall, when, sizeof(when));
		sb_printf(out, "    ID (%s): %s%s%s\n", when, ps->id_type, ps->id_value[0] ? " " : "",
			  ps->id_value);
	} else {
		sb_puts(out, "    ID: -\n");
	}
	if (ps->ts_set) {
		kz_prefix_str(&ps->ts_ci, ci, sizeof(ci));
		kz_prefix_str(&ps->ts_cr, cr, sizeof(cr));
		last_str(ps->ts_wall, when, sizeof(when));
		sb_printf(out, "    selectors (%s): IDci %s, IDcr %s\n", when, ci, cr);
	} else {
		sb_puts(out, "    selectors: -\n");
	}
	if (ps->vid_wall) {
		last_str(ps->vid_wall, when, sizeof(when));
		sb_printf(out, "    vendor IDs (%s): ", when);
		for (unsigned i = 0; i < ps->nvids; i++)
			sb_printf(out, "%s%s", i ? ", " : "", ps->vids[i]);
		sb_puts(out, ps->nvids ? "\n" : "none\n");
	} else {
		sb_puts(out, "    vendor IDs: -\n");
	}
	sb_printf(out, "  failures (newest first, last %u kept):%s\n", IKE_FAIL_HISTORY,
		  d->hist_n ? "" : " none");
	for (unsigned i = 0; i < d->hist_n; i++) {
		const struct ike_fail_run *r = ike_fail_run_get(d, i);
		char first[32];

		last_str(r->first_wall, first, sizeof(first));
		last_str(r->last_wall, when, sizeof(when));
		sb_printf(out, "    %u. phase %d %s: %u time(s), first %s, last %s\n", i + 1,
			  r->phase, ike_fail_class_name(r->cls), r->count, first, when);
		sb_printf(out, "       %s\n", r->detail);
	}
}

static void detail_json(const struct ike_profile_detail *d, struct strbuf *out)
{
	const struct ike_peer_seen *ps = &d->peer;
	char ci[INET_ADDRSTRLEN + 4], cr[INET_ADDRSTRLEN + 4];

	sb_puts(out, "{\"peer\":{");
	detail_offer_json(out, "", "phase1_proposal", ps->p1_offer, ps->p1_chosen, ps->p1_wall);
	detail_offer_json(out, ",", "phase2_proposal", ps->p2_offer, ps->p2_chosen, ps->p2_wall);
	sb_puts(out, ",\"id\":");
	if (ps->id_wall) {
		sb_puts(out, "{\"type\":");
		sb_json_str(out, ps->id_type);
		sb_puts(out, ",\"value\":");
		sb_json_str(out, ps->id_value);
		sb_puts(out, ",\"at\":");
		json_time(out, ps->id_wall);
		sb_puts(out, "}");
	} else {
		sb_puts(out, "null");
	}
	sb_puts(out, ",\"selectors\":");
	if (ps->ts_set) {
		kz_prefix_str(&ps->ts_ci, ci, sizeof(ci));
		kz_prefix_str(&ps->ts_cr, cr, sizeof(cr));
		sb_printf(out, "{\"idci\":\"%s\",\"idcr\":\"%s\",\"at\":", ci, cr);
		json_time(out, ps->ts_wall);
		sb_puts(out, "}");
	} else {
		sb_puts(out, "null");
	}
	sb_puts(out, ",\"vendor_ids\":");
	if (ps->vid_wall) {
		sb_puts(out, "{\"names\":[");
		for (unsigned i = 0; i < ps->nvids; i++) {
			if (i)
				sb_puts(out, ",");
			sb_json_str(out, ps->vids[i]);
		}
		sb_puts(out, "],\"at\":");
		json_time(out, ps->vid_wall);
		sb_puts(out, "}");
	} else {
		sb_puts(out, "null");
	}
	sb_puts(out, "},\"failures\":[");
	for (unsigned i = 0; i < d->hist_n; i++) {
		const struct ike_fail_run *r = ike_fail_run_get(d, i);

		sb_printf(out, "%s{\"class\":", i ? "," : "");
		sb_json_str(out, ike_fail_class_name(r->cls));
		sb_printf(out, ",\"phase\":%d,\"count\":%u,\"first\":", r->phase, r->count);
		json_time(out, r->first_wall);
		sb_puts(out, ",\"last\":");
		json_time(out, r->last_wall);
		sb_puts(out, ",\"detail\":");
		sb_json_str(out, r->detail);
		sb_puts(out, "}");
	}
	sb_puts(out, "]}");
}

void ike_show_profile_detail(struct ike_engine *e, const char *profile, bool json,
			     struct strbuf *out)
{
	const struct ike_profile_detail *d = ike_profile_detail(e, profile);
	static const struct ike_profile_detail none;

	/* a profile the engine has not seen yet (just configured) */
	if (!d)
		d = &none;
	if (json)
		detail_json(d, out);
	else
		detail_text(d, out);
}
