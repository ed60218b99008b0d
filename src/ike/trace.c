/* trace.c - `debug ike [PROFILE]`: a message-level trace at run time.
 *
 * One line per IKE message received (once its handler ran, so a first
 * message names the profile it was taken for) and sent: the profile, the
 * direction, the peer's address and port, the exchange, the message (the
 * state-table row), the payloads in order and the notify types.  Only
 * names and numbers: never a key, a nonce, a hash or any payload body.
 * The lines are written at the info level, so they show without -v, and
 * go into the log ring (`show logging`). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ike/exchange.h"
#include "lib/log.h"
#include "lib/mem.h"

void ike_debug_set(struct ike_engine *e, bool on, const char *profile)
{
	e->debug_on = on;
	kz_strlcpy(e->debug_profile, on && profile ? profile : "", sizeof(e->debug_profile));
	log_notice("ike: message trace %s%s%s", on ? "on" : "off",
		   on && profile && *profile ? " for profile " : "", on && profile ? profile : "");
}

bool ike_debug_get(const struct ike_engine *e, const char **profile)
{
	if (profile)
		*profile = e->debug_profile;
	return e->debug_on;
}

static bool traced(const struct ike_engine *e, const char *profile)
{
	return e->debug_on && (!e->debug_profile[0] || !strcmp(e->debug_profile, profile));
}

/* "SA KE NONCE ID VID; notify INITIAL-CONTACT" */
static void payloads(const struct isakmp_digest *d, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < d->n && off < len; i++) {
		int k = snprintf(out + off, len - off, "%s%s", i ? " " : "",
				 isakmp_payload_name(d->p[i].type));
		struct isakmp_notify n;

		if (k < 0)
			break;
		off += (size_t)k;
		if (d->p[i].type == ISAKMP_NP_N && off < len &&
		    isakmp_parse_notify(&d->p[i].body, &n) == 0) {
			k = snprintf(out + off, len - off, "(%s)", isakmp_notify_name(n.type));
			if (k > 0)
				off += (size_t)k;
		}
	}
}

void eng_trace_in(struct ike_engine *e, const struct ike_sa *sa, const struct ike_msg *m,
		  const char *result)
{
	char a[INET_ADDRSTRLEN], pl[300];

	if (!sa || !traced(e, sa->profile))
		return;
	inet_ntop(AF_INET, &m->peer.sin_addr, a, sizeof(a));
	payloads(&m->d, pl, sizeof(pl));
	log_info("%s: debug ike: <- %s:%u %s %s msgid 0x%08x%s [%s] %s, id %s",
		 sa->profile[0] ? sa->profile : "-", a, ntohs(m->peer.sin_port),
		 isakmp_exch_name(m->d.hdr.exch), m->t ? m->t->name : "?", m->d.hdr.msgid,
		 m->encrypted ? " encrypted" : "", pl, result, sa->peer_id[0] ? sa->peer_id : "-");
}

/* msg: the message as built, before encryption (the length field may not
 * be set yet), or a retransmission as sent (then encrypted bodies are not
 * read). */
void eng_trace_out(struct ike_engine *e, const struct ike_sa *sa, const uint8_t *msg, size_t len,
		   bool encrypted, bool retransmit)
{
	char a[INET_ADDRSTRLEN], pl[300] = "";
	struct isakmp_digest d;
	struct buf b;
	uint32_t msgid;

	if (!sa || !traced(e, sa->profile) || len < ISAKMP_HDR_LEN)
		return;
	inet_ntop(AF_INET, &sa->peer.sin_addr, a, sizeof(a));
	memset(&d, 0, sizeof(d));
	msgid = (uint32_t)msg[20] << 24 | (uint32_t)msg[21] << 16 | (uint32_t)msg[22] << 8 |
		msg[23];
	if (!retransmit || !(msg[19] & ISAKMP_FLAG_ENC)) {
		buf_init(&b, msg + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN);
		if (isakmp_parse_payloads(&b, msg[16], &d) == 0)
			payloads(&d, pl, sizeof(pl));
	}
	log_info("%s: debug ike: -> %s:%u %s msgid 0x%08x%s%s [%s], id %s", sa->profile, a,
		 ntohs(sa->peer.sin_port), isakmp_exch_name(msg[18]), msgid,
		 encrypted || (msg[19] & ISAKMP_FLAG_ENC) ? " encrypted" : "",
		 retransmit ? " (retransmission)" : "", pl[0] ? pl : "-",
		 sa->peer_id[0] ? sa->peer_id : "-");
}
