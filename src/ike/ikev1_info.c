/* ikev1_info.c - informational exchanges (RFC 2408 4.8, RFC 2409 5.7):
 * Notify and Delete, sent and received, and the `clear` commands.
 *
 * After phase 1 every informational message is protected:
 *   HDR*, HASH(1), N/D     HASH(1) = prf(SKEYID_a, M-ID | N/D)
 * with its own IV from the last phase 1 block and its message ID.
 * Unprotected notifies during phase 1 are recorded as "the peer said X"
 * and end that negotiation; they are never trusted to tear down an
 * established SA.  Payloads after a Delete in the same message are ignored
 * (the Delete may have removed what they refer to).
 *
 * A restarted gateway gets ESP for SAs it no longer knows.  It answers
 * with an unprotected INVALID-SPI notify (RFC 2408 4.8 and 5.5: there is
 * no ISAKMP SA to protect it with), at most one per IKE_NOTIFY_RATE_MS for
 * all peers, and only to an address one of its profiles would accept.  The
 * sender of the ESP takes it as a hint to probe with DPD at once
 * (ikev1_dpd.c), never as a reason to delete anything. */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"

static int info_hash(const struct ike_sa *sa, uint32_t msgid, const uint8_t *p, size_t len,
		     uint8_t *out)
{
	uint8_t mid[4] = { (uint8_t)(msgid >> 24), (uint8_t)(msgid >> 16), (uint8_t)(msgid >> 8),
			   (uint8_t)msgid };
	struct ike_chunk c[2] = { { mid, 4 }, { p, len } };

	return ike_prf(sa->keys.hash, sa->keys.skeyid_a, sa->keys.hlen, c, 2, out);
}

/* kind: ISAKMP_NP_N or ISAKMP_NP_D */
static int info_send(struct ike_engine *e, struct ike_sa *sa, uint8_t kind, uint8_t proto,
		     const uint8_t *spi, uint8_t spi_size, uint16_t type, const void *data,
		     size_t dlen)
{
	static const uint8_t zero[IKE_MAX_HASH];
	struct ike_out *o;
	uint8_t iv[IKE_MAX_BLOCK];
	uint32_t msgid = 0;
	size_t hl, at;
	int r;

	if (sa->state != IKE_ST_ESTABLISHED || !sa->have_keys)
		return KZ_EINVAL;
	while (msgid == 0)
		if ((r = eng_random(e, &msgid, sizeof(msgid))))
			return r;
	r = ike_iv_phase2(&sa->keys, sa->p1_last, msgid, iv);
	if (r)
		return r;
	o = malloc(sizeof(*o));
	if (!o)
		return KZ_ENOMEM;
	hl = ike_hash_len(sa->p1.hash);
	out_begin(o, sa, ISAKMP_XCHG_INFO, msgid);
	at = o->w.len + ISAKMP_GENERIC_LEN;
	(void)isakmp_put_payload(&o->c, ISAKMP_NP_HASH, zero, hl);
	if (kind == ISAKMP_NP_N)
		(void)isakmp_put_notify(&o->c, proto, spi, spi_size, type, data, dlen);
	else
		(void)isakmp_put_delete(&o->c, proto, spi_size, spi, 1);
	r = o->w.overflow ? KZ_ENOSPC
			  : info_hash(sa, msgid, o->buf + at + hl, o->w.len - at - hl, o->buf + at);
	if (!r)
		r = out_send(e, sa, o, iv, NULL, false);
	free(o);
	return r;
}

int info_send_notify(struct ike_engine *e, struct ike_sa *sa, uint8_t proto, uint32_t spi,
		     uint16_t type)
{
	uint32_t n = htonl(spi);

	return info_send(e, sa, ISAKMP_NP_N, proto, (const uint8_t *)&n, spi ? 4 : 0, type, NULL,
			 0);
}

/* RFC 2407 4.6.3.3 INITIAL-CONTACT in an Informational exchange, the form
 * RFC 2407 describes: some peers act on it only there, not inside
 * Aggressive mode's message 3. */
int info_send_initial_contact(struct ike_engine *e, struct ike_sa *sa)
{
	uint8_t spi[16];

	memcpy(spi, sa->icookie, 8);
	memcpy(spi + 8, sa->rcookie, 8);
	return info_send(e, sa, ISAKMP_NP_N, ISAKMP_PROTO_ISAKMP, spi, 16, ISAKMP_N_INITIAL_CONTACT,
			 NULL, 0);
}

int info_send_responder_life(struct ike_engine *e, struct ike_sa *sa)
{
	uint8_t spi[16], data[32];
	size_t n = life_notify_data(true, sa->p1.lifetime, 0, data, sizeof(data));

	memcpy(spi, sa->icookie, 8);
	memcpy(spi + 8, sa->rcookie, 8);
	return info_send(e, sa, ISAKMP_NP_N, ISAKMP_PROTO_ISAKMP, spi, 16,
			 ISAKMP_N_RESPONDER_LIFETIME, data, n);
}

int info_send_dpd(struct ike_engine *e, struct ike_sa *sa, uint16_t type, uint32_t seq)
{
	/* RFC 3706 5.1: SPI = the two cookies, data = the sequence number */
	uint8_t spi[16],
		d[4] = { (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
			 (uint8_t)seq };

	memcpy(spi, sa->icookie, 8);
	memcpy(spi + 8, sa->rcookie, 8);
	return info_send(e, sa, ISAKMP_NP_N, ISAKMP_PROTO_ISAKMP, spi, 16, type, d, 4);
}

int info_send_delete(struct ike_engine *e, struct ike_sa *sa, uint8_t proto, const uint32_t *spi)
{
	uint8_t b[16];

	if (proto == ISAKMP_PROTO_ISAKMP) {
		memcpy(b, sa->icookie, 8);
		memcpy(b + 8, sa->rcookie, 8);
		return info_send(e, sa, ISAKMP_NP_D, proto, b, 16, 0, NULL, 0);
	}
	{
		uint32_t n = htonl(*spi);

		memcpy(b, &n, 4);
	}
	return info_send(e, sa, ISAKMP_NP_D, proto, b, 4, 0, NULL, 0);
}

void child_remove(struct ike_engine *e, struct ike_child *c, bool send_delete)
{
	if (c->dying)
		return;
	if (send_delete) {
		for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
			if (!sa->dying && sa->state == IKE_ST_ESTABLISHED &&
			    !strcmp(sa->profile, c->profile) &&
			    sa->peer.sin_addr.s_addr == c->out.peer.sin_addr.s_addr) {
				/* we delete our inbound SA: its SPI is ours */
				(void)info_send_delete(e, sa, ISAKMP_PROTO_ESP, &c->in.spi);
				break;
			}
	}
	if (e->io.child_down)
		e->io.child_down(e->io.arg, c->in.spi, c->out.spi);
	c->dying = true;
}

/* o is an SA with the same peer as sa: same address, or (the peer's
 * address changed: new carrier address or NAT mapping) the same identity
 * under the same profile. */
static bool same_peer(const struct ike_sa *o, const struct ike_sa *sa)
{
	return !strcmp(o->profile, sa->profile) &&
		(o->peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr ||
		 (sa->peer_id[0] && !strcmp(o->peer_id, sa->peer_id)));
}

void info_initial_contact(struct ike_engine *e, struct ike_sa *sa)
{
	unsigned nike = 0, nchild = 0;
	char a[INET_ADDRSTRLEN];

	/* RFC 2407 4.6.3.3: the peer has no other SA with us; what we still
	 * hold for it is stale */
	for (struct ike_sa *o = e->sas; o; o = o->next)
		if (o != sa && !o->dying && o->state == IKE_ST_ESTABLISHED &&
		    o->established_ms <= sa->created_ms && same_peer(o, sa)) {
			/* a negotiation running now is not stale */
			o->dying = true;
			nike++;
			/* and the IPsec SAs it made, wherever the peer was */
			for (struct ike_child *c = e->children; c; c = c->next)
				if (!c->dying && c->in.ike_serial == o->serial &&
				    c->out.created_ms <= sa->created_ms) {
					child_remove(e, c, false);
					nchild++;
				}
		}
	/* (never what this IKE SA made: INITIAL-CONTACT may come again in an
	 * Informational after the first Quick Mode) */
	for (struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && c->out.peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr &&
		    c->in.ike_serial != sa->serial && c->out.created_ms <= sa->created_ms &&
		    !strcmp(c->profile, sa->profile)) {
			child_remove(e, c, false);
			nchild++;
		}
	/* the trace of a peer that restarted (or moved) */
	if (nike || nchild)
		eng_sa_log(KZ_LOG_INFO, sa,
			   "%s: INITIAL-CONTACT from %s: %u stale IKE SA(s) and %u stale IPsec "
			   "SA pair(s) dropped",
			   sa->profile, inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a)), nike,
			   nchild);
}

static bool qm_pending(struct ike_sa *sa, bool kill)
{
	bool any = false;

	for (struct ike_qm *q = sa->qm; q; q = q->next)
		if (!q->dying && q->initiator && q->state == QM_I1) {
			any = true;
			if (kill)
				q->dying = true;
		}
	return any;
}

/* A notify error from the peer: classified for diagnosis. */
static void peer_error(struct ike_engine *e, struct ike_sa *sa, uint16_t type, bool protected_)
{
	const char *name = isakmp_notify_name(type);
	int phase = sa->state == IKE_ST_ESTABLISHED ? 2 : 1;
	enum ike_fail_class cls;

	switch (type) {
	case ISAKMP_N_NO_PROPOSAL_CHOSEN:
		cls = IKE_FAIL_NO_PROPOSAL;
		break;
	case ISAKMP_N_INVALID_ID_INFORMATION:
		cls = phase == 2 ? IKE_FAIL_TS_MISMATCH : IKE_FAIL_ID_MISMATCH;
		break;
	case ISAKMP_N_INVALID_HASH_INFORMATION:
	case ISAKMP_N_AUTHENTICATION_FAILED:
		/* Refused right after our AM1, before any HASH: the peer
		 * found no config for the ID we sent (strongSwan: "no peer
		 * config found"), so the key was never looked at. */
		cls = sa->initiator && sa->state == AM_I1 ? IKE_FAIL_ID_MISMATCH
							  : IKE_FAIL_PSK_MISMATCH;
		break;
	case ISAKMP_N_PAYLOAD_MALFORMED:
	case ISAKMP_N_INVALID_PAYLOAD_TYPE:
		/* a peer that cannot read our encrypted MM5 has other keys */
		cls = sa->state == MM_I3 ? IKE_FAIL_PSK_MISMATCH : IKE_FAIL_MALFORMED;
		break;
	default:
		cls = IKE_FAIL_PEER_NOTIFY;
	}
	sa->peer_notify = type;
	eng_fail(e, sa->profile, cls, phase, type, "%s: the peer said %s%s",
		 ike_fail_class_name(cls), name, protected_ ? "" : " (unprotected)");
	if (cls == IKE_FAIL_NO_PROPOSAL) {
		struct ike_prof_rt *rt = eng_prof_rt(e, sa->profile);
		const struct kz_ipsec_profile *p = eng_profile(e, sa->profile);

		if (rt && phase == 1 && eng_ike_policy(e, p))
			p1_offer_str(e, eng_ike_policy(e, p), rt->st.our_offer,
				     sizeof(rt->st.our_offer));
		else if (rt && eng_ipsec_policy(e, p))
			p2_offer_str(e, eng_ipsec_policy(e, p), rt->st.our_offer,
				     sizeof(rt->st.our_offer));
	}
}

enum ike_res info_plain_in(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	if (m->peer.sin_addr.s_addr != sa->peer.sin_addr.s_addr) {
		e->ctr.drop_unknown_sa++;
		return IKE_IGNORE;
	}
	for (size_t i = 0; i < m->d.n; i++) {
		struct isakmp_notify n;

		if (m->d.p[i].type != ISAKMP_NP_N || isakmp_parse_notify(&m->d.p[i].body, &n))
			continue;
		if (sa->state == IKE_ST_ESTABLISHED) {
			log_debug("%s: unprotected %s after phase 1 ignored", sa->profile,
				  isakmp_notify_name(n.type));
			e->ctr.drop_state++;
			return IKE_IGNORE;
		}
		if (n.type >= 16384)
			continue; /* status, not an error */
		peer_error(e, sa, n.type, false);
		return IKE_FAIL;
	}
	return IKE_DONE;
}

void info_stray_input(struct ike_engine *e, struct ike_msg *m, struct buf *body)
{
	if (isakmp_parse_payloads(body, m->d.hdr.np, &m->d)) {
		e->ctr.drop_malformed++;
		return;
	}
	for (size_t i = 0; i < m->d.n; i++) {
		struct isakmp_notify n;
		struct buf sb;
		uint32_t spi;

		if (m->d.p[i].type != ISAKMP_NP_N || isakmp_parse_notify(&m->d.p[i].body, &n) ||
		    n.type != ISAKMP_N_INVALID_SPI || n.proto != ISAKMP_PROTO_ESP || n.spi.len != 4)
			continue;
		sb = n.spi;
		if (buf_get_u32(&sb, &spi))
			continue;
		/* only for an SA we send on, to the address that answered:
		 * the peer's inbound SA is our outbound one */
		for (struct ike_child *c = e->children; c; c = c->next) {
			if (c->dying || c->out.spi != spi ||
			    c->out.peer.sin_addr.s_addr != m->peer.sin_addr.s_addr)
				continue;
			for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
				if (!sa->dying && sa->state == IKE_ST_ESTABLISHED &&
				    sa->peer.sin_addr.s_addr == m->peer.sin_addr.s_addr &&
				    !strcmp(sa->profile, c->profile)) {
					dpd_hint(e, sa, spi);
					return;
				}
		}
	}
	e->ctr.drop_unknown_sa++;
}

/* Would a profile of ours talk IKE with this address? */
static bool profile_for(const struct kz_config *cfg, const struct in_addr *peer)
{
	for (size_t i = 0; cfg && i < cfg->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &cfg->profiles.v[i];

		if (p->peer_type == KZ_PEER_ANY ||
		    (p->peer_type == KZ_PEER_ADDR && p->peer_addr.s_addr == peer->s_addr))
			return true;
	}
	return false;
}

void ike_esp_no_sa(struct ike_engine *e, const struct sockaddr_in *local,
		   const struct sockaddr_in *peer, uint32_t spi)
{
	struct ike_sa tmp;
	uint32_t nspi = htonl(spi);
	char a[INET_ADDRSTRLEN];

	if (!profile_for(e->cfg, &peer->sin_addr))
		return;
	/* With an IKE SA up the peer is not one that restarted: DPD and
	 * Deletes sort out the rest. */
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next)
		if (!sa->dying && sa->state == IKE_ST_ESTABLISHED &&
		    sa->peer.sin_addr.s_addr == peer->sin_addr.s_addr)
			return;
	/* shares the budget of the other unprotected notifies: a flood of
	 * stale ESP gets no more out of us than a flood of bad IKE */
	if (!eng_plain_notify_allowed(e))
		return;
	memset(&tmp, 0, sizeof(tmp));
	/* RFC 2408 3.1: a new exchange, so a fresh initiator cookie; there is
	 * no responder cookie */
	if (eng_random(e, tmp.icookie, sizeof(tmp.icookie)))
		return;
	tmp.local = *local;
	if (!tmp.local.sin_addr.s_addr && e->io.local_addr)
		tmp.local.sin_addr = e->io.local_addr(e->io.arg);
	tmp.peer = *peer;
	log_debug("ESP for unknown spi 0x%08x from %s:%u: INVALID-SPI sent", spi,
		  inet_ntop(AF_INET, &peer->sin_addr, a, sizeof(a)), ntohs(peer->sin_port));
	eng_plain_notify_send(e, &tmp, ISAKMP_PROTO_ESP, &nspi, 4, ISAKMP_N_INVALID_SPI);
}

static void handle_delete(struct ike_engine *e, struct ike_sa *sa, const struct isakmp_delete *d)
{
	struct buf b = d->spis;

	for (uint16_t i = 0; i < d->nspi; i++) {
		uint8_t spi[16];

		if (d->spi_size > sizeof(spi) || buf_get_bytes(&b, spi, d->spi_size))
			return;
		if (d->proto == ISAKMP_PROTO_ISAKMP && d->spi_size == 16) {
			for (struct ike_sa *o = e->sas; o; o = o->next)
				if (!o->dying && !memcmp(o->icookie, spi, 8) &&
				    !memcmp(o->rcookie, spi + 8, 8) &&
				    o->peer.sin_addr.s_addr == sa->peer.sin_addr.s_addr) {
					eng_sa_log(KZ_LOG_INFO, o,
						   "%s: the peer deleted the IKE SA", o->profile);
					o->dying = true; /* reaped after this message */
					rekey_ike_deleted(e, o);
				}
		} else if (d->proto == ISAKMP_PROTO_ESP && d->spi_size == 4) {
			uint32_t v;

			memcpy(&v, spi, 4);
			v = ntohl(v);
			/* the peer deletes its inbound SA: our outbound */
			for (struct ike_child *c = e->children; c; c = c->next)
				if (!c->dying && c->out.spi == v &&
				    !strcmp(c->profile, sa->profile)) {
					eng_child_log(KZ_LOG_INFO, e, c,
						      "%s: the peer deleted IPsec SA spi 0x%08x",
						      c->profile, v);
					child_remove(e, c, false);
				}
		}
	}
}

/* HASH first, the state and the encryption: the state table's row. */
enum ike_res info_in(struct ike_engine *e, struct ike_sa *sa, struct ike_msg *m)
{
	uint8_t want[IKE_MAX_HASH];
	size_t hl = ike_hash_len(sa->p1.hash);
	const uint8_t *rest;
	size_t restlen;

	if (m->d.n < 2 || m->d.p[0].body.len != hl) {
		e->ctr.drop_malformed++;
		return IKE_IGNORE;
	}
	msg_after_hash(m, &rest, &restlen);
	if (info_hash(sa, m->d.hdr.msgid, rest, restlen, want) ||
	    CRYPTO_memcmp(want, m->d.p[0].body.data, hl)) {
		e->ctr.drop_hash++;
		return IKE_IGNORE;
	}
	natt_update_peer(sa, m);
	dpd_activity(e, sa);
	for (size_t i = 1; i < m->d.n; i++) {
		const struct isakmp_payload *p = &m->d.p[i];

		if (p->type == ISAKMP_NP_N) {
			struct isakmp_notify n;

			if (isakmp_parse_notify(&p->body, &n))
				continue;
			if (n.type == ISAKMP_N_INITIAL_CONTACT) {
				info_initial_contact(e, sa);
			} else if (n.type == ISAKMP_N_RESPONDER_LIFETIME) {
				eng_peer_life_info(e, sa, &n);
			} else if ((n.type == ISAKMP_N_DPD_R_U_THERE ||
				    n.type == ISAKMP_N_DPD_R_U_THERE_ACK) &&
				   n.data.len == 4) {
				struct buf db = n.data;
				uint32_t seq;

				if (buf_get_u32(&db, &seq))
					continue;
				/* RFC 3706 5.3: answer with the same number */
				if (n.type == ISAKMP_N_DPD_R_U_THERE)
					(void)info_send_dpd(e, sa, ISAKMP_N_DPD_R_U_THERE_ACK, seq);
				else
					dpd_ack_input(e, sa, seq);
			} else if (n.type < 16384) {
				bool pending = qm_pending(sa, true);

				if (pending)
					peer_error(e, sa, n.type, true);
				else
					eng_sa_log(KZ_LOG_INFO, sa, "%s: the peer said %s",
						   sa->profile, isakmp_notify_name(n.type));
			}
		} else if (p->type == ISAKMP_NP_D) {
			struct isakmp_delete d;

			if (!isakmp_parse_delete(&p->body, &d))
				handle_delete(e, sa, &d);
			break; /* nothing after a Delete is looked at */
		}
	}
	return IKE_DONE;
}

int ike_clear_ike(struct ike_engine *e, const struct in_addr *peer)
{
	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || (peer && sa->peer.sin_addr.s_addr != peer->s_addr))
			continue;
		if (sa->state == IKE_ST_ESTABLISHED)
			(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
		sa->dying = true;
	}
	eng_reap(e);
	return 0;
}

int ike_clear_ipsec(struct ike_engine *e)
{
	for (struct ike_child *c = e->children; c; c = c->next)
		child_remove(e, c, true);
	eng_reap(e);
	return 0;
}

int ike_clear_ike_profile(struct ike_engine *e, const char *profile)
{
	int n = 0;

	for (struct ike_sa *sa = e->sas; sa; sa = sa->next) {
		if (sa->dying || strcmp(sa->profile, profile))
			continue;
		if (sa->state == IKE_ST_ESTABLISHED)
			(void)info_send_delete(e, sa, ISAKMP_PROTO_ISAKMP, NULL);
		sa->dying = true;
		n++;
	}
	eng_reap(e);
	return n;
}

int ike_clear_ipsec_profile(struct ike_engine *e, const char *profile)
{
	int n = 0;

	for (struct ike_child *c = e->children; c; c = c->next)
		if (!c->dying && !strcmp(c->profile, profile)) {
			child_remove(e, c, true);
			n++;
		}
	eng_reap(e);
	return n;
}
