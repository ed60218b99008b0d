/* dp_rx.c - a data-plane worker's inbound path and its loop: ESP
 * from its raw socket and its port 4500 socket (the socket filter and the
 * reuseport program of dp.c send each SPI to one worker), verified
 * and decrypted with the SA's replay window held by this worker alone,
 * joined again (GRO in userspace) and written to its own queue of the
 * SA's TUN device.  IKE on 4500 and ESP for no SA go to the control
 * thread.  See dp.c for the design. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp/dp_int.h"
#include "dp/mss.h"
#include "lib/err.h"
#include "lib/log.h"

/* ESP for an SPI we do not know: hand one now and then to the control
 * thread.  local is NULL for plain ESP (the raw socket does not say). */
static void stray(struct dp_worker *w, const struct sockaddr_in *local,
		  const struct sockaddr_in *from, uint32_t spi)
{
	struct dp *dp = w->dp;
	uint64_t now = dp_now_ms();
	bool wake = false;

	/* Per worker: each may report one every DP_STRAY_MS, and the one
	 * slot keeps the control thread's work bounded all the same. */
	if (w->stray_last_ms && now - w->stray_last_ms < DP_STRAY_MS)
		return;
	w->stray_last_ms = now;
	pthread_mutex_lock(&dp->ike_lock);
	if (!dp->stray_set) {
		dp->stray_set = wake = true;
		dp->stray_peer = *from;
		dp->stray_spi = spi;
		memset(&dp->stray_local, 0, sizeof(dp->stray_local));
		dp->stray_local.sin_family = AF_INET;
		if (local) {
			dp->stray_local = *local;
		} else {
			/* plain ESP: IKE answers from port 500 to port 500 */
			dp->stray_local.sin_port = htons(500);
			dp->stray_peer.sin_port = htons(500);
		}
	}
	pthread_mutex_unlock(&dp->ike_lock);
	if (wake)
		dp_note(dp, NOTE_STRAY);
}

/* Writes the packet of len bytes at buf + VNET_HDR_LEN to IPsec<unit> on
 * fd, behind a virtio-net header when the device takes one (a complete
 * packet: no GSO, checksums as they came). */
static int tun_write(const struct dp_table *t, unsigned unit, int fd, uint8_t *buf, size_t len)
{
	if (!t->vnet[unit])
		return write(fd, buf + VNET_HDR_LEN, len) < 0 ? KZ_ESYS : 0;
	vnet_hdr_plain(buf);
	return write(fd, buf, len + VNET_HDR_LEN) < 0 ? KZ_ESYS : 0;
}

/* Writes the TCP segments joined so far (if any) to their TUN device, on
 * the worker's own queue. */
void dp_gro_flush(struct dp_worker *w, const struct dp_table *t)
{
	size_t n = vnet_gro_finish(&w->gro);
	int fd = t->tun_fd[w->gro_unit][w->id];

	if (n && (fd < 0 || write(fd, w->gro.buf, n) < 0))
		dp_count(&w->dp->drop_send);
}

/* An authentic inner packet (len bytes at buf + VNET_HDR_LEN) for
 * IPsec<unit>: joined to the TCP segments before it when it continues them
 * (esp/vnet.h: GRO in userspace, one write for a whole burst), else
 * written after them.  The batch's end writes what is still held. */
static void tun_deliver(struct dp_worker *w, const struct dp_table *t, unsigned unit, uint8_t *buf,
			size_t len)
{
	int fd = t->tun_fd[unit][w->id];
	const uint8_t *pkt = buf + VNET_HDR_LEN;
	int taken;

	if (t->vnet[unit]) {
		if (w->gro.len && w->gro_unit != unit)
			dp_gro_flush(w, t);
		w->gro_unit = unit;
		taken = vnet_gro_add(&w->gro, pkt, len);
		if (!taken && w->gro.len) {
			dp_gro_flush(w, t);
			taken = vnet_gro_add(&w->gro, pkt, len);
		}
		if (taken) {
			if (w->gro.closed)
				dp_gro_flush(w, t);
			return;
		}
	}
	if (fd < 0 || tun_write(t, unit, fd, buf, len) < 0)
		dp_count(&w->dp->drop_send);
}

void dp_inbound(struct dp_worker *w, const struct dp_table *t, const struct sockaddr_in *local,
		const struct sockaddr_in *from, const uint8_t *esp, size_t len, bool udp)
{
	struct dp *dp = w->dp;
	struct dp_sa *p;
	enum esp_drop why;
	size_t ilen;
	uint32_t spi;
	int r;

	if (esp_packet_spi(esp, len, &spi) < 0) {
		dp_count(&dp->drop_no_sa);
		return;
	}
	p = dp_find_in(t, spi);
	if (!p) {
		dp_count(&dp->drop_no_sa);
		dp_count(&w->no_sa);
		stray(w, udp ? local : NULL, from, spi);
		return;
	}
	/* The SA was negotiated for one encapsulation (RFC 3948 UDP or plain
	 * IP protocol 50); the other one is not how the peer sends it. */
	if (p->in.udp_encap != udp) {
		esp_sa_count_drop(p->esp_in, ESP_DROP_WRONG_ENCAP);
		return;
	}
	pthread_mutex_lock(&p->in_lock);
	r = esp_decap(p->esp_in, esp, len, w->inner + VNET_HDR_LEN, DP_BUF - VNET_HDR_LEN, &ilen,
		      &why);
	pthread_mutex_unlock(&p->in_lock);
	if (r < 0) {
		log_debug("ESP spi 0x%08x from %s dropped: %s", spi, inet_ntoa(from->sin_addr),
			  esp_drop_name(why));
		return;
	}
	atomic_fetch_add_explicit(&w->pkts_in, 1, memory_order_relaxed);
	/* Authenticated: the peer may have moved behind its NAT. */
	if (udp) {
		uint64_t now = dp_peer_pack(from);

		if (atomic_load_explicit(&p->peer, memory_order_relaxed) != now) {
			atomic_store_explicit(&p->peer, now, memory_order_relaxed);
			log_info("IPsec SA 0x%08x: the peer is now at %s:%u", p->out.spi,
				 inet_ntoa(from->sin_addr), ntohs(from->sin_port));
		}
	}
	if (t->mss[p->in.ipsec_unit])
		dp_mss_clamp(w->inner + VNET_HDR_LEN, ilen, t->mss[p->in.ipsec_unit]);
	tun_deliver(w, t, p->in.ipsec_unit, w->inner, ilen);
}

static void prep_recv(struct dp_worker *w, bool pktinfo)
{
	for (int i = 0; i < DP_BATCH; i++) {
		struct msghdr *m = &w->msg[i].msg_hdr;

		w->iov[i].iov_base = w->rbuf[i];
		w->iov[i].iov_len = DP_BUF;
		memset(m, 0, sizeof(*m));
		m->msg_name = &w->addr[i];
		m->msg_namelen = sizeof(w->addr[i]);
		m->msg_iov = &w->iov[i];
		m->msg_iovlen = 1;
		if (pktinfo) {
			m->msg_control = w->ctl[i].buf;
			m->msg_controllen = sizeof(w->ctl[i].buf);
		}
	}
}

static void worker_raw(struct dp_worker *w, const struct dp_table *t)
{
	int n;

	prep_recv(w, false);
	n = recvmmsg(w->raw_fd, w->msg, DP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		const uint8_t *b = w->rbuf[i];
		size_t len = w->msg[i].msg_len, ihl;

		/* A raw socket hands over the IPv4 header too. */
		if (len < 20 || (b[0] >> 4) != 4)
			continue;
		ihl = (size_t)(b[0] & 0x0f) * 4;
		if (ihl < 20 || len < ihl)
			continue;
		dp_inbound(w, t, NULL, &w->addr[i], b + ihl, len - ihl, false);
	}
	dp_gro_flush(w, t);
}

/* An IKE datagram for the control thread (copied: IKE is not the hot
 * path; the queue is bounded against floods). */
static void queue_ike(struct dp *dp, const struct sockaddr_in *local,
		      const struct sockaddr_in *peer, const uint8_t *ike, size_t len)
{
	struct dp_ike_msg *m = NULL;
	bool wake = false;

	pthread_mutex_lock(&dp->ike_lock);
	if (dp->ike_n < DP_IKE_QUEUE_MAX && (m = malloc(sizeof(*m) + len))) {
		m->next = NULL;
		m->local = *local;
		m->peer = *peer;
		m->len = len;
		memcpy(m->data, ike, len);
		*dp->ike_tail = m;
		dp->ike_tail = &m->next;
		wake = dp->ike_n++ == 0;
	}
	pthread_mutex_unlock(&dp->ike_lock);
	if (!m)
		dp_count(&dp->drop_ike_queue);
	if (wake)
		dp_note(dp, NOTE_IKE);
}

/* One datagram from port 4500.  RFC 3948 2.2/2.3: keepalive, non-ESP
 * marker (IKE), or ESP. */
static void natt_one(struct dp_worker *w, const struct dp_table *t, const struct sockaddr_in *local,
		     const struct sockaddr_in *from, const uint8_t *b, size_t len)
{
	switch (esp_udp_classify(b, len)) {
	case ESP_UDP_ESP:
		dp_inbound(w, t, local, from, b, len, true);
		break;
	case ESP_UDP_IKE:
		queue_ike(w->dp, local, from, b + ESP_UDP_MARKER_LEN, len - ESP_UDP_MARKER_LEN);
		break;
	case ESP_UDP_KEEPALIVE:
		break;
	case ESP_UDP_INVALID:
		/* Neither keepalive, IKE nor ESP (empty, 1-7 bytes, or a
		 * short one with a non-zero "SPI"). */
		dp_count(&w->dp->drop_malformed);
		break;
	}
}

static void worker_natt(struct dp_worker *w, const struct dp_table *t, int fd)
{
	int n;

	prep_recv(w, true);
	n = recvmmsg(fd, w->msg, DP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &w->msg[i].msg_hdr;
		struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(4500) };
		const uint8_t *b = w->rbuf[i];
		size_t len = w->msg[i].msg_len, seg = len;

		for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				local.sin_addr = pi.ipi_addr;
			} else if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
				int g;

				/* UDP GRO: datagrams of g bytes back to back,
				 * the last one possibly shorter. */
				memcpy(&g, CMSG_DATA(cm), sizeof(g));
				if (g > 0)
					seg = (size_t)g;
			}
		}
		if (len == 0) /* an empty datagram is malformed too */
			natt_one(w, t, &local, &w->addr[i], b, 0);
		for (size_t off = 0; off < len; off += seg)
			natt_one(w, t, &local, &w->addr[i], b + off,
				 len - off < seg ? len - off : seg);
	}
	dp_gro_flush(w, t);
}

void *dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	struct epoll_event ev[16];

	while (!atomic_load(&dp->stop)) {
		int n = epoll_wait(w->epfd, ev, 16, -1);
		const struct dp_table *t;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("data plane: epoll: %s", strerror(errno));
			break;
		}
		/* Section: the table loaded here stays valid until it ends. */
		atomic_fetch_add(&w->section, 1);
		t = atomic_load(&dp->table);
		for (int i = 0; i < n; i++) {
			uint32_t tag = ev[i].data.u32;
			int fd;

			if (tag < KZ_MAX_IPSEC_IF)
				dp_worker_tun(w, t, tag);
			else if (tag == TAG_RAW)
				worker_raw(w, t);
			else if (tag == TAG_NATT && (fd = atomic_load(&w->natt_fd)) >= 0)
				worker_natt(w, t, fd);
		}
		atomic_fetch_add(&w->section, 1);
	}
	return NULL;
}
