/* peer_notes.c - what a peer puts in an exchange message besides what the
 * exchange needs: status notifies (RESPONDER-LIFETIME, INITIAL-CONTACT,
 * vendors' own) and vendor IDs, in any message (Cisco, Yamaha and
 * libreswan send them in MM2, MM4, AM2, QM2).  They are recorded for `show
 * ipsec profile NAME detail`; a RESPONDER-LIFETIME shortens our SA
 * (RFC 2407 4.6.3.1); nothing else in them fails the message. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/log.h"

static bool known_vid(const struct ike_peer_seen *ps, const char *name)
{
	for (unsigned i = 0; i < ps->nvids; i++)
		if (!strcmp(ps->vids[i], name))
			return true;
	return false;
}

/* The vendor IDs of a message whose handler did not record them (all but
 * the phase 1 messages with the SA payload): added to the list. */
static void late_vids(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_profile_status *st;

	/* The status walks every SA: only for a message that has a VID
	 * (most have none; with many peers the walk per message showed
	 * as 3-7 % of the responder's CPU in the setup benchmark). */
	if (!isakmp_find(&m->d, ISAKMP_NP_VID))
		return;
	st = ike_profile_status(e, sa->profile);

	for (size_t i = 0; st && i < m->d.n; i++) {
		const struct isakmp_payload *p = &m->d.p[i];
		char name[40];

		if (p->type != ISAKMP_NP_VID)
			continue;
		ike_vid_name(p->body.data, p->body.len, name, sizeof(name));
		if (!known_vid(&st->more.peer, name))
			ike_seen_vid(e, sa->profile, p->body.data, p->body.len, false);
	}
}

static void life_text(char *out, size_t cap, int phase, uint32_t secs, uint64_t kb)
{
	int n = snprintf(out, cap, "RESPONDER-LIFETIME phase %d", phase);

	if (n < 0 || (size_t)n >= cap)
		return;
	if (secs)
		n += snprintf(out + n, cap - (size_t)n, " %u s", secs);
	if (kb && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "%s %llu KB", secs ? "," : "",
			 (unsigned long long)kb);
}

void eng_peer_notes(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t x = m->d.hdr.exch;
	bool phase1 = x == ISAKMP_XCHG_IDPROT || x == ISAKMP_XCHG_AGGR;

	if (!phase1 || !isakmp_find(&m->d, ISAKMP_NP_SA)) {
		late_vids(e, sa, m);
		if (phase1)
			natt_read_vids(sa, m); /* a DPD VID in MM4 or later */
	}
	for (size_t i = 0; i < m->d.n; i++) {
		struct isakmp_notify n;
		char text[64];

		if (m->d.p[i].type != ISAKMP_NP_N || isakmp_parse_notify(&m->d.p[i].body, &n))
			continue;
		if (n.type == ISAKMP_N_RESPONDER_LIFETIME) {
			uint32_t secs;
			uint64_t kb;

			life_notify_read(n.proto == ISAKMP_PROTO_ISAKMP, &n.data, &secs, &kb);
			life_text(text, sizeof(text), n.proto == ISAKMP_PROTO_ISAKMP ? 1 : 2, secs,
				  kb);
			/* phase 1: ours is in sa->p1 now (MM2, AM2 chose it);
			 * phase 2: the Quick Mode handler took it already */
			if (phase1 && sa->initiator && n.proto == ISAKMP_PROTO_ISAKMP && secs &&
			    secs < sa->p1.lifetime) {
				eng_sa_log(KZ_LOG_INFO, sa,
					   "%s: the peer's RESPONDER-LIFETIME shortens the IKE SA "
					   "to %u s",
					   sa->profile, secs);
				sa->p1.lifetime = secs;
				sa->p1.life_src = IKE_LIFE_RECEIVED;
			}
		} else {
			snprintf(text, sizeof(text), "%s%s", isakmp_notify_name(n.type),
				 n.type < 8192 ? " (error, ignored here)" : "");
		}
		ike_seen_note(e, sa->profile, text);
	}
}

/* The soft point of a lifetime shortened after the SA was made: as
 * ikev1_rekey.c puts it (85-90 % on the initiator, 95-97.5 % on the
 * responder), at the middle. */
static uint64_t soft_at(uint64_t start_ms, uint64_t life_ms, bool initiator)
{
	return start_ms + life_ms / 1000u * (initiator ? 875u : 962u);
}

void eng_peer_life_info(struct ike_engine *e, struct ike_sa *sa, const struct isakmp_notify *n)
{
	bool phase1 = n->proto == ISAKMP_PROTO_ISAKMP;
	uint32_t secs;
	uint64_t kb;
	char text[64];

	life_notify_read(phase1, &n->data, &secs, &kb);
	life_text(text, sizeof(text), phase1 ? 1 : 2, secs, kb);
	ike_seen_note(e, sa->profile, text);
	if (phase1) {
		if (!secs || secs >= sa->p1.lifetime || !sa->established_ms)
			return;
		eng_sa_log(KZ_LOG_INFO, sa,
			   "%s: the peer's RESPONDER-LIFETIME shortens the IKE SA to %u s",
			   sa->profile, secs);
		sa->p1.lifetime = secs;
		sa->p1.life_src = IKE_LIFE_RECEIVED;
		sa->expire_ms = sa->established_ms + (uint64_t)secs * 1000u;
		if (!sa->soft_ms ||
		    sa->soft_ms > soft_at(sa->established_ms, secs * 1000ull, sa->initiator))
			sa->soft_ms = soft_at(sa->established_ms, secs * 1000ull, sa->initiator);
		return;
	}
	if (n->proto != ISAKMP_PROTO_ESP || n->spi.len != 4)
		return;
	for (struct ike_child *c = e->children; c; c = c->next) {
		struct buf b = n->spi;
		uint32_t spi;
		uint64_t made;

		if (buf_get_u32(&b, &spi) || c->dying || strcmp(c->profile, sa->profile) ||
		    (c->in.spi != spi && c->out.spi != spi))
			continue;
		made = c->out.created_ms;
		if (secs && secs < c->in.life_seconds) {
			eng_sa_log(KZ_LOG_INFO, sa,
				   "%s: the peer's RESPONDER-LIFETIME shortens IPsec SA spi 0x%08x "
				   "to %u s",
				   sa->profile, c->in.spi, secs);
			c->in.life_seconds = c->out.life_seconds = secs;
			c->expire_ms = made + (uint64_t)secs * 1000u;
			if (c->soft_ms > soft_at(made, secs * 1000ull, c->initiator))
				c->soft_ms = soft_at(made, secs * 1000ull, c->initiator);
			c->life_src = IKE_LIFE_RECEIVED;
		}
		if (kb && (!c->in.life_kbytes || kb < c->in.life_kbytes)) {
			c->in.life_kbytes = c->out.life_kbytes = kb;
			c->hard_bytes = kb * 1024u;
			if (c->soft_bytes > c->hard_bytes / 1000u * 875u)
				c->soft_bytes = c->hard_bytes / 1000u * 875u;
		}
		return;
	}
}

void p2_peer_life(struct ike_engine *e, const struct ike_sa *sa, struct ike_qm *q,
		  const struct ike_msg *m)
{
	for (size_t i = 0; i < m->d.n; i++) {
		struct isakmp_notify n;
		uint32_t secs;
		uint64_t kb;

		if (m->d.p[i].type != ISAKMP_NP_N || isakmp_parse_notify(&m->d.p[i].body, &n) ||
		    n.type != ISAKMP_N_RESPONDER_LIFETIME || n.proto != ISAKMP_PROTO_ESP)
			continue;
		life_notify_read(false, &n.data, &secs, &kb);
		if (secs && secs < q->p2.life_s) {
			eng_sa_log(
				KZ_LOG_INFO, sa,
				"%s: the peer's RESPONDER-LIFETIME shortens the IPsec SA to %u s",
				sa->profile, secs);
			q->p2.life_s = secs;
			q->p2.life_src = IKE_LIFE_RECEIVED;
		}
		if (kb && (!q->p2.life_kb || kb < q->p2.life_kb))
			q->p2.life_kb = kb;
	}
	(void)e;
}

int p_put_responder_life(struct isakmp_chain *c, const struct ike_sa *sa, bool phase1, uint32_t spi,
			 uint32_t secs, uint64_t kb)
{
	uint8_t data[32], spib[16];
	size_t n = life_notify_data(phase1, secs, kb, data, sizeof(data));
	uint32_t nspi = htonl(spi);

	if (phase1) {
		memcpy(spib, sa->icookie, 8);
		memcpy(spib + 8, sa->rcookie, 8);
		return isakmp_put_notify(c, ISAKMP_PROTO_ISAKMP, spib, 16,
					 ISAKMP_N_RESPONDER_LIFETIME, data, n);
	}
	memcpy(spib, &nspi, 4);
	return isakmp_put_notify(c, ISAKMP_PROTO_ESP, spib, 4, ISAKMP_N_RESPONDER_LIFETIME, data,
				 n);
}
