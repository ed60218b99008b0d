/* ike_show.c - `show ike sa`, `show ipsec sa` and the failure lines of
 * `show ipsec profile`, in the exact layout of shared/spec/show-output.md,
 * and their JSON forms.  Remaining lifetimes count down from io->now_ms;
 * data-plane counters come from io->child_stats. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike/exchange.h"

/* The words of `show ike sa` for an algorithm; "?" where it has none. */
static const char *show_name(const struct kz_alg_names *n)
{
	return n->show ? n->show : "?";
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

void ike_emit_ike_sa(struct ike_engine *e, struct emit *em)
{
	uint64_t now = eng_now(e);
	struct ike_sa **v;
	size_t n = sa_array(e, &v);
	bool down = ike_wan_down(e);

	emit_obj_begin(em, NULL);
	emit_list_begin(em, "ike_sa");
	for (size_t i = 0; i < n; i++) {
		const struct ike_sa *sa = v[i];
		char ra[INET_ADDRSTRLEN], la[INET_ADDRSTRLEN], idx[33];
		uint64_t rem = sa->state == IKE_ST_ESTABLISHED ? remaining_s(sa->expire_ms, now)
							       : sa->p1.lifetime;
		unsigned rport = ntohs(sa->peer.sin_port), lport = ntohs(sa->local.sin_port);
		const char *dir = sa->initiator ? "initiator" : "responder";
		const char *mode = sa->mode == KZ_MODE_MAIN ? "Main mode" : "Aggressive mode";
		const char *state = sa_state_str(sa, now), *psk = "pre-shared key";
		/* an initiator has chosen nothing until the peer's answer to
		 * its offer (MM2/AM2); a responder chose on the first message */
		bool chosen = !(sa->initiator && (sa->state == MM_I1 || sa->state == AM_I1));
		const char *enc = chosen ? show_name(kz_enc_names(sa->p1.enc)) : "-";
		const char *hash = chosen ? show_name(kz_hash_names(sa->p1.hash)) : "-";
		const char *group = chosen ? show_name(kz_group_names(sa->p1.group)) : "-";

		inet_ntop(AF_INET, &sa->peer.sin_addr, ra, sizeof(ra));
		inet_ntop(AF_INET, &sa->local.sin_addr, la, sizeof(la));
		hex(sa->icookie, 8, idx);
		hex(sa->rcookie, 8, idx + 16);
		if (i)
			emit_text(em, "\n");
		emit_obj_begin(em, NULL);
		emit_str(em, "remote", ra, "remote: %s", ra);
		emit_u64(em, "remote_port", rport, " (UDP [%u])\n", rport);
		emit_str(em, "local", la, "local: %s", la);
		emit_u64(em, "local_port", lport, " (UDP [%u])\n", lport);
		/* key, the text before the value on its line, the value */
		const char *const line[][3] = {
			{ "index", "index:", idx },
			{ "direction", "Direction is ", dir },
			{ "exchange_type", "Exchange type is ", mode },
			{ "state", "IKE PH1 ", state },
			{ "authentication", "authentication method:", psk },
			{ "encrypt", "encrypt:", enc },
			{ "hash", "hash:", hash },
			{ "dh_group", "dh_group:", group },
		};
		for (size_t j = 0; j < sizeof(line) / sizeof(line[0]); j++)
			emit_str(em, line[j][0], line[j][2], "%s%s\n", line[j][1], line[j][2]);
		emit_u64(em, "remaining_lifetime", rem, "Remaining lifetime is %llu seconds\n",
			 (unsigned long long)rem);
		emit_u64(em, "phase2_count", sa->phase2_count, "phase2 count=%u\n",
			 sa->phase2_count);
		/* one line past the spec's block (show-output.md, extensions) */
		emit_str(em, "profile", sa->profile, "profile: %s\n",
			 sa->profile[0] ? sa->profile : "-");
		emit_bool(em, "nat_t", sa->natt.floated, NULL);
		emit_bool(em, "nat_local", sa->natt.nat_local, NULL);
		emit_bool(em, "nat_peer", sa->natt.nat_peer, NULL);
		/* after the spec's lines, so a screen still matches the manual
		 * line by line up to here */
		emit_bool(em, "down", down, down ? IKE_WAN_DOWN_TEXT "\n" : NULL);
		emit_obj_end(em);
	}
	emit_list_end(em);
	emit_obj_end(em);
	free(v);
}

/* A whole show command through one emitter into out. */
static void show_all(struct ike_engine *e, bool json, struct strbuf *out,
		     void (*fn)(struct ike_engine *e, struct emit *em))
{
	struct emit em;

	emit_init(&em, out, json);
	fn(e, &em);
	emit_done(&em);
}

void ike_show_ike_sa(struct ike_engine *e, bool json, struct strbuf *out)
{
	show_all(e, json, out, ike_emit_ike_sa);
}

/* "192.0.2.1(UDP [4500])", or the address alone without NAT-T. */
static void endpoint(struct emit *em, const char *key, const struct sockaddr_in *a, bool udp)
{
	char s[INET_ADDRSTRLEN], port_key[16];
	unsigned port = ntohs(a->sin_port);

	inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
	snprintf(port_key, sizeof(port_key), "%s_port", key);
	emit_str(em, key, s, "%s", s);
	emit_u64(em, port_key, port, udp ? "(UDP [%u])" : NULL, port);
}

static void last_str(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = 0;
	if (t > 0 && localtime_r(&tt, &tm))
		strftime(out, cap, "%Y/%m/%d %H:%M:%S", &tm);
}

/* Something seen at wall time t (0: never), under key: "    <label>: -"
 * and null when never (false: nothing more to write), else the object
 * begins and when[32] holds the time; dated_end() closes it with "at". */
static bool dated_begin(struct emit *em, const char *key, const char *label, int64_t t,
			char when[32])
{
	if (!t) {
		emit_null(em, key, "    %s: -\n", label);
		return false;
	}
	last_str(t, when, 32);
	emit_obj_begin(em, key);
	return true;
}

static void dated_end(struct emit *em, const char *when)
{
	emit_str(em, "at", when[0] ? when : NULL, NULL);
	emit_obj_end(em);
}

/* A list of names the peer sent, with when it was last seen:
 * "    <label> (<when>): a, b" (none_text when the list is empty), or
 * "    <label>: -" when nothing was ever seen.  The names are n
 * strings of stride bytes from names. */
static void peer_names(struct emit *em, const char *key, const char *label, int64_t wall,
		       const char *names, size_t stride, unsigned n, const char *none_text)
{
	char when[32];

	if (!dated_begin(em, key, label, wall, when))
		return;
	emit_text(em, "    %s (%s): ", label, when);
	emit_list_begin(em, "names");
	for (unsigned i = 0; i < n; i++)
		emit_str(em, NULL, names + i * stride, "%s%s", i ? ", " : "", names + i * stride);
	emit_list_end(em);
	emit_text(em, "%s\n", n ? "" : none_text);
	dated_end(em, when);
}

/* The SA's selector as the config says it (local, remote, protocol,
 * ports): a line of its own when the profile has several pairs or the
 * pair a protocol (one pair of networks keeps the block as it always
 * was); always in JSON. */
static void sa_selector(struct ike_engine *e, const struct ike_child *c,
			const struct kz_child_sa *s, struct emit *em)
{
	const struct kz_ipsec_policy *ipol = eng_ipsec_policy(e, eng_profile(e, c->profile));
	bool line = s->ts_proto || (ipol && ipol->nsel);
	char l[24], r[24], pr[8], lp[20] = "", rp[20] = "";

	kz_prefix_str(&s->local_ts, l, sizeof(l));
	kz_prefix_str(&s->remote_ts, r, sizeof(r));
	kz_proto_str(s->ts_proto, pr, sizeof(pr));
	emit_obj_begin(em, "selector");
	emit_str(em, "local", l, NULL);
	emit_str(em, "remote", r, NULL);
	emit_str(em, "protocol", pr, NULL);
	emit_u64(em, "local_port", s->ts_lport, NULL);
	emit_u64(em, "remote_port", s->ts_rport, NULL);
	emit_obj_end(em);
	if (!line)
		return;
	if (s->ts_lport)
		snprintf(lp, sizeof(lp), " local-port %u", s->ts_lport);
	if (s->ts_rport)
		snprintf(rp, sizeof(rp), " remote-port %u", s->ts_rport);
	emit_text(em, "selector: local %s remote %s%s%s%s%s\n", l, r,
		  s->ts_proto ? " protocol " : "", s->ts_proto ? pr : "", lp, rp);
}

static void one_sa(struct ike_engine *e, const struct ike_child *c, const struct kz_child_sa *s,
		   uint64_t now, struct emit *em)
{
	struct kz_child_stats st = { 0 };
	unsigned bits;
	const char *enc = esp_enc_show(s->enc, &bits);
	const char *auth = kz_auth_name(s->auth);
	const char *status;
	uint64_t rem = remaining_s(c->expire_ms, now), left = 0;
	char last[32];
	bool out = s->dir == KZ_CHILD_OUT, down = ike_wan_down(e);
	const struct sockaddr_in *from = out ? &s->local : &s->peer;
	const struct sockaddr_in *to = out ? &s->peer : &s->local;

	if (e->io.child_stats)
		e->io.child_stats(e->io.arg, s->spi, s->dir, &st);
	last_str(st.last_unix, last, sizeof(last));
	if (s->life_kbytes) {
		uint64_t lim = s->life_kbytes * 1024u;

		left = st.bytes < lim ? lim - st.bytes : 0;
	}
	status = rem ? "established" : "expired";
	emit_obj_begin(em, NULL);
	emit_str(em, "direction", out ? "outbound" : "inbound", "%s\n",
		 out ? "Outbound:" : "Inbound:");
	endpoint(em, "from", from, s->udp_encap);
	emit_text(em, " -> ");
	endpoint(em, "to", to, s->udp_encap);
	emit_bool(em, "udp_encap", s->udp_encap, "\n");
	emit_str(em, "mode", "tunnel", "mode: %s\n", "tunnel");
	sa_selector(e, c, s, em);
	emit_u64(em, "spi", s->spi, "satype: esp spi=%u(0x%08x)\n", s->spi, s->spi);
	emit_str(em, "enc", enc, "enc algorithm: %s\n", enc);
	emit_u64(em, "key_length", bits, "key length: %u\n", bits);
	emit_str(em, "auth", auth, "auth algorithm: %s\n", auth);
	emit_u64(em, "replay_window", s->replay_window, "replay window size is %u bits\n",
		 s->replay_window);
	emit_str(em, "status", status, "SA status is %s\n", status);
	emit_u64(em, "remaining_lifetime", rem, "Remaining lifetime is %llu seconds\n",
		 (unsigned long long)rem);
	if (s->life_kbytes)
		emit_u64(em, "remaining_lifebytes", left, "Remaining lifebytes is %llu bytes\n",
			 (unsigned long long)left);
	else
		emit_null(em, "remaining_lifebytes", "Remaining lifebytes is - bytes\n");
	emit_bool(em, "down", down, NULL);
	emit_u64(em, "packets", st.packets, "%llu [packets] ", (unsigned long long)st.packets);
	emit_u64(em, "bytes", st.bytes, "%llu [bytes] ", (unsigned long long)st.bytes);
	emit_str(em, "last", last[0] ? last : NULL, "last:%s\n", last);
	if (down)
		emit_text(em, IKE_WAN_DOWN_TEXT "\n");
	emit_obj_end(em);
}

void ike_emit_ipsec_sa(struct ike_engine *e, struct emit *em)
{
	uint64_t now = eng_now(e);
	unsigned configured = 0, created = 0;

	for (size_t i = 0; e->cfg && i < e->cfg->ipsec_ifs.n; i++) {
		const struct kz_if_ipsec *ifc = &e->cfg->ipsec_ifs.v[i];

		configured += ifc->map[0] && kz_find_profile(e->cfg, ifc->map);
	}
	for (struct ike_child *c = e->children; c; c = c->next)
		created += c->dying ? 0 : 2;
	emit_obj_begin(em, NULL);
	emit_u64(em, "configured", configured, "IPsec SA - %u configured, ", configured);
	emit_u64(em, "created", created, "%u created\n", created);
	emit_list_begin(em, "interfaces");
	for (unsigned unit = 0; unit < KZ_MAX_IPSEC_IF; unit++) {
		char name[16];
		int cnt = 0;

		for (const struct ike_child *c = e->children; c; c = c->next)
			cnt += !c->dying && c->in.ipsec_unit == unit;
		if (!cnt)
			continue;
		snprintf(name, sizeof(name), "IPsec%u", unit);
		emit_obj_begin(em, NULL);
		emit_str(em, "interface", name, "Interface %s\n", name);
		emit_list_begin(em, "sas");
		/* oldest pair first (the list is newest first) */
		for (int want = cnt - 1; want >= 0; want--) {
			const struct ike_child *pick = NULL;
			int k = 0;

			for (const struct ike_child *c = e->children; c; c = c->next)
				if (!c->dying && c->in.ipsec_unit == unit && k++ == want)
					pick = c;
			if (!pick)
				break;
			one_sa(e, pick, &pick->out, now, em);
			one_sa(e, pick, &pick->in, now, em);
		}
		emit_list_end(em);
		emit_obj_end(em);
	}
	emit_list_end(em);
	emit_obj_end(em);
}

void ike_show_ipsec_sa(struct ike_engine *e, bool json, struct strbuf *out)
{
	show_all(e, json, out, ike_emit_ipsec_sa);
}

/* The state of a profile's SAs for `show ipsec profile`: on the screen a
 * line when the SAs kept while the WAN has no address are down (said once,
 * as `show ike sa` says it per SA), or when an initiator without an IKE SA
 * is negotiating or waits its back-off, then the last failure with time
 * and count; in JSON the object "state" (null for a profile the engine
 * does not know). */
void ike_emit_profile_state(struct ike_engine *e, const char *key, const char *profile,
			    struct emit *em)
{
	const struct ike_profile_status *st = e ? ike_profile_status(e, profile) : NULL;
	bool down, wait;
	char when[32];

	if (!st) {
		emit_null(em, key, NULL);
		return;
	}
	down = st->wan_down && st->has_sas;
	wait = !st->established && !st->negotiating && st->retry_scheduled;
	emit_obj_begin(em, key);
	emit_bool(em, "established", st->established, NULL);
	emit_bool(em, "down", down, down ? "  " IKE_WAN_DOWN_TEXT "\n" : NULL);
	emit_str(em, "down_reason", down ? KZ_MOBILE_IFNAME " has no usable address" : NULL, NULL);
	emit_bool(em, "negotiating", st->negotiating,
		  !down && !st->established && st->negotiating ? "  Negotiating now\n" : NULL);
	if (wait && !down) {
		emit_text(em, "  Next attempt in %u seconds", st->retry_in_s);
		if (st->backoff_s)
			emit_text(em, " (back-off %u s, max %u s)", st->backoff_s,
				  st->backoff_max_s);
		emit_text(em, "\n");
	}
	if (wait) {
		emit_u64(em, "next_attempt_in", st->retry_in_s, NULL);
		emit_u64(em, "backoff", st->backoff_s, NULL);
	} else {
		emit_null(em, "next_attempt_in", NULL);
		emit_null(em, "backoff", NULL);
	}
	emit_u64(em, "backoff_max", st->backoff_max_s, NULL);
	emit_str(em, "dpd", ike_dpd_state_name(st->dpd), NULL);
	if (st->dpd == IKE_DPD_OFF_PEER) {
		uint32_t left = st->dpd_off_ipsec_left_s ? st->dpd_off_ipsec_left_s
							 : st->dpd_off_ike_left_s;

		emit_text(em,
			  "  DPD off: the peer did not announce DPD (RFC 3706), so a dead peer "
			  "is not noticed:\n"
			  "    its SAs are kept until their lifetime ends (in %u s) or the peer "
			  "starts over with INITIAL-CONTACT\n",
			  left);
		emit_u64(em, "dpd_recovery_in", left, NULL);
	} else {
		emit_null(em, "dpd_recovery_in", NULL);
	}
	emit_obj_end(em);
	if (!st->count || st->last_class == IKE_FAIL_NONE)
		return;
	last_str(st->last_wall, when, sizeof(when));
	emit_text(em, "%s : phase %d failed %u time(s), last at %s: %s\n", profile, st->phase,
		  st->count, when, st->detail);
}

void ike_show_profile_state_json(struct ike_engine *e, const char *profile, struct strbuf *out)
{
	struct emit em;

	emit_init(&em, out, true);
	ike_emit_profile_state(e, NULL, profile, &em);
	emit_done_bare(&em);
}

void ike_show_profile_status(struct ike_engine *e, const char *profile, struct strbuf *out)
{
	struct emit em;

	emit_init(&em, out, false);
	ike_emit_profile_state(e, NULL, profile, &em);
	emit_done(&em);
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

/* "    phase 1 proposal (the peer chose, <time>): <text>", or under key
 * {"text","chosen","at"}; "-" and null when nothing came. */
static void detail_offer(struct emit *em, const char *key, const char *what, const char *text,
			 bool chosen, int64_t t)
{
	char when[32];

	if (!dated_begin(em, key, what, t, when))
		return;
	emit_str(em, "text", text, "    %s (%s, %s): %s\n", what,
		 chosen ? "the peer chose" : "the peer offered", when, text);
	emit_bool(em, "chosen", chosen, NULL);
	dated_end(em, when);
}

static void detail_peer(const struct ike_peer_seen *ps, struct emit *em)
{
	char when[32], ci[40], cr[40];

	emit_obj_begin(em, "peer");
	emit_text(em, "  received from the peer:\n");
	detail_offer(em, "phase1_proposal", "phase 1 proposal", ps->p1_offer, ps->p1_chosen,
		     ps->p1_wall);
	detail_offer(em, "phase2_proposal", "phase 2 proposal", ps->p2_offer, ps->p2_chosen,
		     ps->p2_wall);
	if (ps->id_wall) {
		last_str(ps->id_wall, when, sizeof(when));
		emit_obj_begin(em, "id");
		emit_str(em, "type", ps->id_type, "    ID (%s): %s", when, ps->id_type);
		emit_str(em, "value", ps->id_value, "%s%s\n", ps->id_value[0] ? " " : "",
			 ps->id_value);
		emit_str(em, "at", when[0] ? when : NULL, NULL);
		emit_obj_end(em);
	} else {
		emit_null(em, "id", "    ID: -\n");
	}
	if (ps->ts_set) {
		kz_prefix_str(&ps->ts_ci, ci, sizeof(ci));
		kz_prefix_str(&ps->ts_cr, cr, sizeof(cr));
		if (ps->ts_ci_text[0]) { /* a range that is no prefix */
			snprintf(ci, sizeof(ci), "%s", ps->ts_ci_text);
			snprintf(cr, sizeof(cr), "%s", ps->ts_cr_text);
		}
		last_str(ps->ts_wall, when, sizeof(when));
		emit_obj_begin(em, "selectors");
		emit_str(em, "idci", ci, "    selectors (%s): IDci %s", when, ci);
		emit_str(em, "idcr", cr, ", IDcr %s\n", cr);
		emit_str(em, "at", when[0] ? when : NULL, NULL);
		emit_obj_end(em);
	} else {
		emit_null(em, "selectors", "    selectors: -\n");
	}
	peer_names(em, "vendor_ids", "vendor IDs", ps->vid_wall, ps->vids[0], sizeof(ps->vids[0]),
		   ps->nvids, "none");
	peer_names(em, "status_notifies", "status notifies", ps->notes_wall, ps->notes[0],
		   sizeof(ps->notes[0]), ps->nnotes, "");
	emit_obj_end(em);
}

/* "  lifetimes in force:" of the newest established IKE SA and IPsec SA
 * pair of the profile, each with where it came from. */
static void detail_lifetimes(struct ike_engine *e, const char *profile, struct emit *em)
{
	const struct ike_sa *sa = NULL;
	const struct ike_child *c = NULL;

	for (const struct ike_sa *s = e ? e->sas : NULL; s && !sa; s = s->next)
		if (!s->dying && s->state == IKE_ST_ESTABLISHED && !strcmp(s->profile, profile))
			sa = s;
	for (const struct ike_child *k = e ? e->children : NULL; k && !c; k = k->next)
		if (!k->dying && !strcmp(k->profile, profile))
			c = k;
	emit_obj_begin(em, "lifetimes");
	emit_text(em, "  lifetimes in force:\n");
	if (sa) {
		const char *src = ike_life_src_name((enum ike_life_src)sa->p1.life_src);

		emit_obj_begin(em, "ike");
		emit_u64(em, "seconds", sa->p1.lifetime, "    IKE SA: %u s", sa->p1.lifetime);
		emit_str(em, "source", src, " (%s)\n", src);
		emit_obj_end(em);
	} else {
		emit_null(em, "ike", "    IKE SA: -\n");
	}
	if (c) {
		const char *src = ike_life_src_name((enum ike_life_src)c->life_src);

		emit_obj_begin(em, "ipsec");
		emit_u64(em, "spi", c->in.spi, "    IPsec SA (in spi 0x%08x): ", c->in.spi);
		emit_u64(em, "seconds", c->in.life_seconds, "%u s", c->in.life_seconds);
		if (c->in.life_kbytes)
			emit_u64(em, "kilobytes", c->in.life_kbytes, ", %llu KB",
				 (unsigned long long)c->in.life_kbytes);
		else
			emit_null(em, "kilobytes", NULL);
		emit_str(em, "source", src, " (%s)\n", src);
		emit_obj_end(em);
	} else {
		emit_null(em, "ipsec", "    IPsec SA: -\n");
	}
	emit_obj_end(em);
}

void ike_emit_profile_detail(struct ike_engine *e, const char *key, const char *profile,
			     struct emit *em)
{
	const struct ike_profile_detail *d = ike_profile_detail(e, profile);
	static const struct ike_profile_detail none;

	/* a profile the engine has not seen yet (just configured) */
	if (!d)
		d = &none;
	emit_obj_begin(em, key);
	detail_lifetimes(e, profile, em);
	detail_peer(&d->peer, em);
	emit_text(em, "  failures (newest first, last %u kept):%s\n", IKE_FAIL_HISTORY,
		  d->hist_n ? "" : " none");
	emit_list_begin(em, "failures");
	for (unsigned i = 0; i < d->hist_n; i++) {
		const struct ike_fail_run *r = ike_fail_run_get(d, i);
		const char *cls = ike_fail_class_name(r->cls);
		char first[32], last[32];

		last_str(r->first_wall, first, sizeof(first));
		last_str(r->last_wall, last, sizeof(last));
		emit_obj_begin(em, NULL);
		emit_str(em, "class", cls, "    %u. phase %d %s: ", i + 1, r->phase, cls);
		emit_int(em, "phase", r->phase, NULL);
		emit_u64(em, "count", r->count, "%u time(s), ", r->count);
		emit_str(em, "first", first[0] ? first : NULL, "first %s, ", first);
		emit_str(em, "last", last[0] ? last : NULL, "last %s\n", last);
		emit_str(em, "detail", r->detail, "       %s\n", r->detail);
		emit_obj_end(em);
	}
	emit_list_end(em);
	emit_obj_end(em);
}

void ike_show_profile_detail(struct ike_engine *e, const char *profile, bool json,
			     struct strbuf *out)
{
	struct emit em;

	emit_init(&em, out, json);
	ike_emit_profile_detail(e, NULL, profile, &em);
	emit_done_bare(&em);
}
