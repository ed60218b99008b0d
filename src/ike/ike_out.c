/* ike_out.c - building and sending messages, repeats of the last answer
 * and the retransmission schedule (doubling from IKE_RETRANS_FIRST_MS),
 * unprotected notifies (rate-limited). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

void msg_hash(const uint8_t *p, size_t len, uint8_t out[32])
{
	struct ike_chunk c = { p, len };

	if (ike_hash(KZ_HASH_SHA2_256, &c, 1, out))
		memset(out, 0, 32);
}

void out_begin(struct ike_out *o, const struct ike_sa *sa, uint8_t exch, uint32_t msgid)
{
	struct isakmp_hdr h;

	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, ISAKMP_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, ISAKMP_COOKIE_LEN);
	h.version = ISAKMP_VERSION;
	h.exch = exch;
	h.msgid = msgid;
	wbuf_init(&o->w, o->buf, sizeof(o->buf));
	(void)isakmp_put_hdr(&o->w, &h);
	isakmp_chain_init(&o->c, &o->w);
}

static int io_send(struct ike_engine *e, const struct sockaddr_in *local,
		   const struct sockaddr_in *peer, const uint8_t *p, size_t len)
{
	e->ctr.tx++;
	return e->io.send(e->io.arg, local, peer, p, len, ntohs(local->sin_port) == 4500);
}

/* When the next transmission of tx is due.  A send that failed here (the
 * WAN has its new address but not yet its route: ENETUNREACH) never
 * reached the peer, so it is tried again soon and not counted against the
 * peer's retransmission limit; after IKE_RETRANS_LOCAL_MAX such failures
 * it counts, so a WAN that stays unusable still ends in "no answer". */
void tx_schedule(struct ike_engine *e, struct ike_tx *tx, int sent)
{
	uint64_t now = eng_now(e);

	if (sent < 0 && tx->local_fails < IKE_RETRANS_LOCAL_MAX) {
		tx->local_fails++;
		tx->tries--;
		tx->next_ms = now + IKE_RETRANS_LOCAL_MS;
		return;
	}
	tx->next_ms = now + ((uint64_t)IKE_RETRANS_FIRST_MS << (tx->tries - 1));
}

int out_send(struct ike_engine *e, struct ike_sa *sa, struct ike_out *o, uint8_t *iv,
	     struct ike_tx *tx, bool await_reply)
{
	int sent;

	if (o->w.overflow || o->w.len < ISAKMP_HDR_LEN)
		return KZ_ENOSPC;
	o->buf[16] = o->c.first;
	eng_trace_out(e, sa, o->buf, o->w.len, iv != NULL, false);
	if (iv) {
		/* RFC 2408 3.1: the body is padded to the cipher block with
		 * zeros and encrypted; the header stays in the clear. */
		size_t bl = sa->keys.block, body = o->w.len - ISAKMP_HDR_LEN;
		static const uint8_t zero[IKE_MAX_BLOCK];

		if (bl && body % bl)
			(void)wbuf_put_bytes(&o->w, zero, bl - body % bl);
		if (o->w.overflow)
			return KZ_ENOSPC;
		o->buf[19] |= ISAKMP_FLAG_ENC;
		if (ike_encrypt(&sa->keys, iv, o->buf + ISAKMP_HDR_LEN, o->w.len - ISAKMP_HDR_LEN))
			return KZ_EINVAL;
	}
	if (wbuf_patch_u32(&o->w, 24, (uint32_t)o->w.len))
		return KZ_ENOSPC;
	sent = io_send(e, &sa->local, &sa->peer, o->buf, o->w.len);
	if (tx) {
		uint8_t *copy = malloc(o->w.len);

		if (!copy)
			return KZ_ENOMEM;
		memcpy(copy, o->buf, o->w.len);
		free(tx->buf);
		tx->buf = copy;
		tx->len = o->w.len;
		tx->local = sa->local;
		tx->peer = sa->peer;
		tx->armed = await_reply;
		e->armed_in_timers |= await_reply;
		tx->tries = 1;
		tx->local_fails = 0;
		tx_schedule(e, tx, sent);
	}
	return 0;
}

int tx_resend(struct ike_engine *e, struct ike_sa *sa, struct ike_tx *tx)
{
	if (!tx->buf)
		return 0;
	e->ctr.retransmits++;
	eng_trace_out(e, sa, tx->buf, tx->len, false, true);
	/* follow the peer if NAT-T moved it */
	return io_send(e, &sa->local, &sa->peer, tx->buf, tx->len);
}

void msg_after_hash(const struct ike_msg *m, const uint8_t **p, size_t *len)
{
	const struct isakmp_payload *last;

	if (m->d.n < 2) {
		*p = NULL;
		*len = 0;
		return;
	}
	last = &m->d.p[m->d.n - 1];
	*p = m->d.p[1].raw;
	*len = (size_t)(last->raw + last->raw_len - m->d.p[1].raw);
}

/* At most one unprotected notify per IKE_NOTIFY_RATE_MS, whatever made
 * it: a flood of bad first messages or of stale ESP must not make us a
 * reflector. */
bool eng_plain_notify_allowed(struct ike_engine *e)
{
	return !e->notify_sent || eng_now(e) - e->last_notify_ms >= IKE_NOTIFY_RATE_MS;
}

/* An unprotected Informational notify with the cookies and addresses of
 * tmp; the caller asked eng_plain_notify_allowed() first. */
void eng_plain_notify_send(struct ike_engine *e, struct ike_sa *tmp, uint8_t proto, const void *spi,
			   uint8_t spilen, uint16_t type)
{
	struct ike_out *o = malloc(sizeof(*o));

	if (!o)
		return;
	e->notify_sent = true;
	e->last_notify_ms = eng_now(e);
	out_begin(o, tmp, ISAKMP_XCHG_INFO, 0);
	(void)isakmp_put_notify(&o->c, proto, spi, spilen, type, NULL, 0);
	(void)out_send(e, tmp, o, NULL, NULL, false);
	free(o);
}

void eng_notify_plain(struct ike_engine *e, const struct ike_msg *m, uint16_t type)
{
	struct ike_sa tmp;
	uint8_t spi[16];

	if (!eng_plain_notify_allowed(e))
		return;
	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.icookie, m->d.hdr.icookie, 8);
	memcpy(tmp.rcookie, m->d.hdr.rcookie, 8);
	tmp.local = m->local;
	tmp.peer = m->peer;
	memcpy(spi, tmp.icookie, 8);
	memcpy(spi + 8, tmp.rcookie, 8);
	eng_plain_notify_send(e, &tmp, ISAKMP_PROTO_ISAKMP, spi, 16, type);
}

void eng_next_min(int64_t *next, uint64_t at, uint64_t now)
{
	int64_t d = at > now ? (int64_t)(at - now) : 0;

	if (*next < 0 || d < *next)
		*next = d;
}

bool tx_due(struct ike_engine *e, struct ike_sa *sa, struct ike_tx *tx, uint64_t now, int64_t *next)
{
	if (!tx->armed)
		return false;
	if (now >= tx->next_ms) {
		if (tx->tries >= IKE_RETRANS_TRIES) {
			tx->armed = false;
			return true; /* no answer */
		}
		tx->tries++;
		if (tx->local_fails == 0 || tx->local_fails >= IKE_RETRANS_LOCAL_MAX) {
			/* one line per timer retransmission: at most
			 * IKE_RETRANS_TRIES per exchange, never per packet
			 * received */
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &tx->peer.sin_addr, a, sizeof(a));
			log_info("%s: no answer from %s:%u yet: %s message sent again "
				 "(transmission %u of %u), id %s",
				 sa->profile, a, ntohs(tx->peer.sin_port),
				 tx->len > 18 ? isakmp_exch_name(tx->buf[18]) : "?", tx->tries,
				 IKE_RETRANS_TRIES, sa->peer_id[0] ? sa->peer_id : "-");
		}
		tx_schedule(e, tx, tx_resend(e, sa, tx));
	}
	eng_next_min(next, tx->next_ms, now);
	return false;
}
