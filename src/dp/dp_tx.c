/* dp_tx.c - a data-plane worker's outbound path: frames from its
 * queue of IPsec<N>'s TUN device, matched against the outbound SAs'
 * selectors, cut (TSO super-packets, esp/vnet.c), encrypted in place with
 * the worker's own copy of the SA (esp_sa_new_shared: its own OpenSSL
 * contexts, the shared sequence number) and sent in batches: UDP GSO runs
 * for ESP-in-UDP, sendmmsg for both.  See dp.c for the design. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp/dp_int.h"
#include "dp/mss.h"
#include "lib/err.h"
#include "lib/log.h"

static bool in_prefix(uint32_t addr_n, const struct kz_prefix *p)
{
	uint32_t mask = p->len ? 0xffffffffu << (32 - p->len) : 0;

	return p->set && (ntohl(addr_n) & mask) == (ntohl(p->addr.s_addr) & mask);
}

/* Starts message m of x with iov[i] (len bytes at pkt) to the SA's peer
 * from its local address (IP_PKTINFO). */
static void msg_start(struct dp_tx *x, int m, int i, const struct dp_sa *p, uint8_t *pkt,
		      size_t len)
{
	struct msghdr *h = &x->msg[m].msg_hdr;
	struct in_pktinfo pi = { .ipi_spec_dst = p->out.local.sin_addr };
	struct cmsghdr *cm;

	dp_peer_unpack(atomic_load_explicit(&p->peer, memory_order_relaxed), &x->addr[m]);
	x->iov[i].iov_base = pkt;
	x->iov[i].iov_len = len;
	memset(h, 0, sizeof(*h));
	h->msg_name = &x->addr[m];
	h->msg_namelen = sizeof(x->addr[m]);
	h->msg_iov = &x->iov[i];
	h->msg_iovlen = 1;
	memset(&x->ctl[m], 0, sizeof(x->ctl[m]));
	h->msg_control = x->ctl[m].buf;
	h->msg_controllen = CMSG_SPACE(sizeof(pi));
	cm = CMSG_FIRSTHDR(h);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
}

/* Message m carries several ESP-in-UDP packets back to back: the kernel
 * cuts them into datagrams of the first one's size (UDP GSO), so the whole
 * run crosses the stack as one packet. */
static void msg_gso(struct dp_tx *x, int m)
{
	struct msghdr *h = &x->msg[m].msg_hdr;
	struct cmsghdr *cm;
	uint16_t seg = (uint16_t)h->msg_iov[0].iov_len;

	if (h->msg_iovlen < 2)
		return;
	h->msg_controllen = sizeof(x->ctl[m].buf);
	cm = CMSG_NXTHDR(h, CMSG_FIRSTHDR(h));
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
}

/* Sends msg[from..to) on fd with as few system calls as the socket
 * takes; what it refuses is counted. */
static void flush(struct dp *dp, struct mmsghdr *msg, int fd, int from, int to)
{
	while (from < to) {
		int r = fd >= 0 ? sendmmsg(fd, &msg[from], (unsigned)(to - from), MSG_DONTWAIT)
				: -1;

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			/* Skip the one that failed (unreachable, no buffer). */
			dp_count(&dp->drop_send);
			r = 1;
		}
		from += r;
	}
}

/* Sends everything queued and empties the arena. */
static void tx_flush(struct dp *dp, struct dp_tx *x)
{
	if (x->m > 0) {
		msg_gso(x, x->m - 1);
		flush(dp, x->msg, x->cur_fd, x->start, x->m);
	}
	x->used = 0;
	x->k = x->m = x->start = 0;
	x->cur_fd = -1;
	x->run = NULL;
	x->run_bytes = 0;
}

/* Room for one more packet of up to need bytes (and a message for it). */
static uint8_t *tx_room(struct dp *dp, struct dp_tx *x, size_t need)
{
	if (x->used + need > DP_TX_ARENA || x->k >= DP_TX_PKTS || x->m >= DP_TX_MSGS)
		tx_flush(dp, x);
	return x->arena + x->used;
}

/* Queues the olen bytes just encrypted at the arena's end for p's peer on
 * ofd: they join the previous message when that is a UDP GSO run of the
 * same SA that can take them, else they start a message. */
static void tx_queue(struct dp *dp, struct dp_tx *x, const struct dp_sa *p, int ofd, size_t olen)
{
	uint8_t *pkt = x->arena + x->used;
	struct msghdr *h = x->m > 0 ? &x->msg[x->m - 1].msg_hdr : NULL;

	/* Keep the next packet 16-byte aligned for the cipher. */
	x->used += (olen + 15) & ~(size_t)15;
	if (x->run == p && olen <= h->msg_iov[0].iov_len && x->run_bytes + olen <= DP_GSO_MAX &&
	    h->msg_iovlen < DP_GSO_SEGS) {
		/* Only the last datagram of a GSO message may be shorter: a
		 * short one closes the run. */
		x->iov[x->k].iov_base = pkt;
		x->iov[x->k].iov_len = olen;
		if (olen < h->msg_iov[0].iov_len)
			x->run = NULL;
		h->msg_iovlen++;
		x->run_bytes += olen;
		x->k++;
		return;
	}
	if (x->m > 0)
		msg_gso(x, x->m - 1);
	if (x->m > x->start && ofd != x->cur_fd) {
		flush(dp, x->msg, x->cur_fd, x->start, x->m);
		x->start = x->m;
	}
	x->cur_fd = ofd;
	msg_start(x, x->m++, x->k++, p, pkt, olen);
	x->run = p->out.udp_encap ? p : NULL;
	x->run_bytes = olen;
}

/* A selector's protocol and ports (set: ts_proto != 0) against an
 * outbound packet: from the local side, so the source port is the local
 * one.  With ports, a fragment other than the first cannot be judged and
 * matches no such pair (nor goes out in clear: it is dropped). */
static bool l4_match(const struct kz_child_sa *s, const uint8_t *ip, size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	if (ip[9] != s->ts_proto)
		return false;
	if (!s->ts_lport && !s->ts_rport)
		return true;
	if ((((size_t)ip[6] << 8 | ip[7]) & 0x1fff) || hl < 20 || hl + 4 > len)
		return false;
	return (!s->ts_lport || ((unsigned)ip[hl] << 8 | ip[hl + 1]) == s->ts_lport) &&
		(!s->ts_rport || ((unsigned)ip[hl + 2] << 8 | ip[hl + 3]) == s->ts_rport);
}

/* The outbound SA of IPsec<unit> whose selectors hold the packet; the
 * newest pair wins (make-before-break rekeys add the new pair last), unless
 * it is still held back (out_after_ms) and an older pair can carry it.
 * Only IPsec<unit>'s pairs are looked at (the table groups them). */
static struct dp_sa *find_out(const struct dp_table *t, unsigned unit, uint32_t src, uint32_t dst,
			      const uint8_t *ip, size_t len, uint64_t now)
{
	struct dp_sa *held = NULL;

	for (uint32_t i = t->out_at[unit + 1]; i-- > t->out_at[unit];) {
		struct dp_sa *p = t->out[i];

		if (esp_sa_state(p->esp_out[0]) == ESP_SA_ACTIVE &&
		    in_prefix(src, &p->out.local_ts) && in_prefix(dst, &p->out.remote_ts) &&
		    (!p->out.ts_proto || l4_match(&p->out, ip, len))) {
			if (now < p->out.out_after_ms) {
				if (!held)
					held = p;
				continue;
			}
			return p;
		}
	}
	return held;
}

static void on_demand_note(struct dp *dp, unsigned unit)
{
	if (!atomic_exchange(&dp->od_pending[unit], true))
		dp_note(dp, NOTE_ON_DEMAND);
}

/* Workers sending on one SA take interleaved sequence numbers, and what
 * one still holds in its arena while another sends reaches the peer late:
 * behind the peer's replay window (64 packets by default) it is dropped.
 * So with several workers, one that encrypts on an SA holds the SA's
 * tx_lock until it has sent what it took numbers for (the end of its
 * batch): another one's numbers come after them.  Uncontended in the
 * usual case, an SA that one worker sends on alone (a flow stays on one
 * TUN queue, and the kernel moves a flow to the queue of the worker that
 * writes its packets in).  A worker never waits for a lock while it holds
 * another: it sends what it has and lets go of all first. */
static void tx_release(struct dp *dp, struct dp_worker *w)
{
	tx_flush(dp, &w->tx);
	while (w->nheld > 0)
		pthread_mutex_unlock(&w->held[--w->nheld]->tx_lock);
}

static void tx_hold(struct dp *dp, struct dp_worker *w, struct dp_sa *p)
{
	for (unsigned i = 0; i < w->nheld; i++)
		if (w->held[i] == p)
			return;
	if (w->nheld == DP_BATCH || pthread_mutex_trylock(&p->tx_lock) != 0) {
		tx_release(dp, w);
		pthread_mutex_lock(&p->tx_lock);
	}
	w->held[w->nheld++] = p;
}

/* True while p was sent on by more than one worker within DP_SHARED_MS
 * (and for that long after its first packet): then sends are cut into
 * bursts of DP_SHARED_BURST packets, which the stack takes through the
 * host one by one, so that two CPUs do not reorder them much either. */
static bool tx_shared(struct dp_worker *w, struct dp_sa *p, uint64_t now)
{
	if (w->dp->nw < 2)
		return false;
	if (atomic_load_explicit(&p->tx_worker, memory_order_relaxed) != w->id) {
		atomic_store_explicit(&p->tx_worker, w->id, memory_order_relaxed);
		atomic_store_explicit(&p->shared_until_ms, now + DP_SHARED_MS,
				      memory_order_relaxed);
		return true;
	}
	return now < atomic_load_explicit(&p->shared_until_ms, memory_order_relaxed);
}

/* Up to DP_BATCH frames from w's queue of IPsec<unit>'s TUN device (the
 * kernel picks the queue by flow hash).  With offloads a
 * frame may be a TCP (or UDP) super-packet of up to 64 KB: it is cut into
 * segments (esp/vnet.c) that are written straight to where esp_encap
 * puts the payload, encrypted in place and queued; ESP-in-UDP packets of
 * one SA and one size join one UDP GSO message.  So one read and one send
 * carry what took some 40 of each. */
void dp_worker_tun(struct dp_worker *w, const struct dp_table *t, unsigned unit)
{
	struct dp *dp = w->dp;
	struct dp_tx *x = &w->tx;
	int fd = t->tun_fd[unit][w->id];
	int natt = atomic_load_explicit(&w->natt_fd, memory_order_acquire);
	uint64_t now;

	if (fd < 0)
		return;
	/* A worker without a 4500 socket of its own sends on worker 0's
	 * (sendmmsg on one socket from two threads is safe). */
	if (natt < 0)
		natt = atomic_load_explicit(&dp->w[0]->natt_fd, memory_order_acquire);
	now = dp_now_ms();
	for (int n = 0; n < DP_BATCH; n++) {
		ssize_t len = read(fd, w->inner, DP_BUF);
		struct vnet_pkt vp;
		struct dp_sa *p;
		struct esp_sa *sa;
		uint32_t src, dst;
		size_t hdr, off;
		bool shared;
		int ofd;

		if (len <= 0)
			break;
		if (t->vnet[unit]) {
			/* A frame the kernel built that we cannot cut: not
			 * IPv4 (GSO types we did not ask for) or broken. */
			if (vnet_parse(w->inner, (size_t)len, &vp) < 0) {
				dp_count(&dp->drop_not_ipv4);
				continue;
			}
		} else {
			memset(&vp, 0, sizeof(vp));
			vp.ip = w->inner;
			vp.len = (size_t)len;
			vp.kind = VNET_PLAIN;
			vp.nseg = 1;
		}
		if (vp.len < 20 || (vp.ip[0] >> 4) != 4) {
			dp_count(&dp->drop_not_ipv4);
			continue;
		}
		memcpy(&src, vp.ip + 12, 4);
		memcpy(&dst, vp.ip + 16, 4);
		p = find_out(t, unit, src, dst, vp.ip, vp.len, now);
		if (!p) {
			/* Outside every selector, or no SA yet: never in clear. */
			dp_count(&dp->tx_no_sa);
			on_demand_note(dp, unit);
			continue;
		}
		sa = p->esp_out[w->id];
		ofd = p->out.udp_encap ? natt : w->raw_fd;
		hdr = ESP_HDR_LEN + esp_sa_iv_len(sa);
		shared = tx_shared(w, p, now);
		if (dp->nw > 1)
			tx_hold(dp, w, p);
		for (size_t i = 0; i < vp.nseg; i++) {
			size_t slen = vnet_seg_len(&vp, i), olen;
			size_t need = esp_sa_encap_len(sa, slen);
			uint8_t *out;
			int r;

			/* Short sends: the stack takes each one through
			 * the host at once, before the next worker's turn. */
			if (shared && x->k >= DP_SHARED_BURST)
				tx_flush(dp, x);
			out = tx_room(dp, x, need);

			/* The segment goes where esp_encap puts the inner
			 * packet: no copy in between. */
			off = DP_TX_ARENA - x->used;
			if (vnet_segment(&vp, i, out + hdr, off - hdr, &slen) < 0) {
				dp_count(&dp->drop_not_ipv4);
				break;
			}
			if (t->mss[unit])
				dp_mss_clamp(out + hdr, slen, t->mss[unit]);
			r = esp_encap(sa, out + hdr, slen, out, off, &olen);
			if (r < 0) {
				if (r == KZ_ERANGE && !atomic_exchange(&p->warned, true)) {
					log_info("IPsec SA 0x%08x can send no more (%s); rekey "
						 "needed",
						 p->out.spi,
						 esp_sa_state(sa) == ESP_SA_SEQ_EXHAUSTED
							 ? "sequence numbers used up"
							 : "lifetime bytes reached");
				}
				break;
			}
			tx_queue(dp, x, p, ofd, olen);
			atomic_fetch_add_explicit(&w->pkts_out, 1, memory_order_relaxed);
		}
	}
	tx_release(dp, w);
}
