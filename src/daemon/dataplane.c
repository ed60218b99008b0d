/* dataplane.c - moves packets: IPsec<N>'s TUN device <-> ESP (RFC 4303)
 * on the WAN, as plain ESP (IP protocol 50, raw socket) or ESP-in-UDP on
 * port 4500 (RFC 3948), with the SAs the IKE engine established.
 *
 * Outbound: a packet routed into ipsec<N> is matched against the traffic
 * selectors of IPsec<N>'s outbound SAs (a packet outside them is dropped
 * and counted, never sent in clear), encrypted and sent to the peer.
 * Inbound: the SPI finds the SA, esp_decap() verifies, decrypts and checks
 * the selectors, and only then the inner packet is written to the TUN
 * device of the SA's interface.  The peer's translated address and port are
 * learnt from authenticated ESP-in-UDP only.
 *
 * Packets are handled in the event loop in batches per wake-up; buffers are
 * allocated once, never per packet. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../esp/esp.h"
#include "../ike/ike.h"
#include "../lib/err.h"
#include "../lib/log.h"
#include "../lib/mem.h"
#include "daemon.h"
#include "mss.h"

#define DP_MAX_PAIRS 1024
#define DP_BUF 65600
#define DP_BATCH 64

struct dp_pair {
	struct kz_child_sa in, out; /* keys wiped: only addresses and selectors kept */
	struct esp_sa *esp_in, *esp_out;
	uint64_t keepalive_due_ms;
};

struct kzd_dataplane {
	struct dp_pair *v;
	size_t n, cap;
	int raw_fd; /* IP protocol 50 */
	struct event *ev_raw, *ev_keepalive;
	uint8_t *pkt, *out;
	uint64_t drop_no_sa, drop_selector, drop_not_ipv4, drop_send, tx_no_sa;
	uint64_t on_demand_kicks;
};

static struct kzd_dataplane *dp_get(struct kzd *d)
{
	if (!d->dp) {
		d->dp = calloc(1, sizeof(*d->dp));
		if (d->dp) {
			d->dp->raw_fd = -1;
			d->dp->pkt = malloc(DP_BUF);
			d->dp->out = malloc(DP_BUF);
			if (!d->dp->pkt || !d->dp->out) {
				free(d->dp->pkt);
				free(d->dp->out);
				free(d->dp);
				d->dp = NULL;
			}
		}
	}
	return d->dp;
}

static bool in_prefix(uint32_t addr_n, const struct kz_prefix *p)
{
	uint32_t mask = p->len ? 0xffffffffu << (32 - p->len) : 0;

	return p->set && (ntohl(addr_n) & mask) == (ntohl(p->addr.s_addr) & mask);
}

/* Bursts of ESP arrive faster than one wake-up reads them: room for a few
 * thousand packets (root may exceed the sysctl limits: *BUFFORCE). */
void kzd_socket_buffers(int fd)
{
	int rcv = 8 << 20, snd = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
}

/* ---- SA table ---- */

void kzd_dataplane_add(struct kzd *d, const struct kz_child_sa *in, const struct kz_child_sa *out)
{
	struct kzd_dataplane *dp = dp_get(d);
	struct dp_pair *p;
	int e1 = 0, e2 = 0;

	if (!dp)
		return;
	if (dp->n == dp->cap) {
		size_t cap = dp->cap ? dp->cap * 2 : 8;
		void *v;

		if (cap > DP_MAX_PAIRS || !(v = realloc(dp->v, cap * sizeof(*dp->v)))) {
			log_err("data plane: no room for another IPsec SA pair");
			return;
		}
		dp->v = v;
		dp->cap = cap;
	}
	p = &dp->v[dp->n];
	memset(p, 0, sizeof(*p));
	p->esp_in = esp_sa_new(in, &e1);
	p->esp_out = esp_sa_new(out, &e2);
	if (!p->esp_in || !p->esp_out) {
		log_err("data plane: cannot prepare the IPsec SA pair 0x%08x/0x%08x: %s", in->spi,
			out->spi, kz_strerror(e1 ? e1 : e2));
		esp_sa_free(p->esp_in);
		esp_sa_free(p->esp_out);
		return;
	}
	p->in = *in;
	p->out = *out;
	/* The esp_sa objects hold the keys now. */
	kz_wipe(p->in.enc_key, sizeof(p->in.enc_key));
	kz_wipe(p->in.auth_key, sizeof(p->in.auth_key));
	kz_wipe(p->out.enc_key, sizeof(p->out.enc_key));
	kz_wipe(p->out.auth_key, sizeof(p->out.auth_key));
	dp->n++;
	log_info("IPsec SA up on IPsec%u: in spi 0x%08x, out spi 0x%08x%s", in->ipsec_unit,
		 in->spi, out->spi, out->udp_encap ? " (ESP in UDP)" : "");
}

void kzd_dataplane_del(struct kzd *d, uint32_t spi_in, uint32_t spi_out)
{
	struct kzd_dataplane *dp = d->dp;

	for (size_t i = 0; dp && i < dp->n; i++)
		if (dp->v[i].in.spi == spi_in && dp->v[i].out.spi == spi_out) {
			log_info("IPsec SA down: in spi 0x%08x, out spi 0x%08x", spi_in, spi_out);
			esp_sa_free(dp->v[i].esp_in);
			esp_sa_free(dp->v[i].esp_out);
			dp->v[i] = dp->v[--dp->n];
			return;
		}
}

void kzd_dataplane_stats(struct kzd *d, uint32_t spi, enum kz_child_dir dir,
			 struct kz_child_stats *st)
{
	struct kzd_dataplane *dp = d->dp;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; dp && i < dp->n; i++) {
		if (dir == KZ_CHILD_IN && dp->v[i].in.spi == spi)
			esp_sa_stats(dp->v[i].esp_in, st);
		else if (dir == KZ_CHILD_OUT && dp->v[i].out.spi == spi)
			esp_sa_stats(dp->v[i].esp_out, st);
	}
}

/* ---- outbound ---- */

static int send_esp(struct kzd *d, const struct dp_pair *p, const uint8_t *pkt, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	static const uint8_t none[1];
	struct iovec iov = { (void *)pkt, len };
	struct msghdr msg = { .msg_name = (void *)&p->out.peer, .msg_namelen = sizeof(p->out.peer),
			      .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	struct in_pktinfo pi = { .ipi_spec_dst = p->out.local.sin_addr };
	int fd = p->out.udp_encap ? d->ike_fd4500 : d->dp->raw_fd;

	(void)none;
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (fd < 0 || sendmsg(fd, &msg, MSG_DONTWAIT) < 0) {
		d->dp->drop_send++;
		return KZ_ESYS;
	}
	return 0;
}

/* The outbound SA of IPsec<unit> whose selectors hold the packet; the
 * newest pair wins (make-before-break rekeys add the new pair last). */
static struct dp_pair *find_out(struct kzd_dataplane *dp, unsigned unit, uint32_t src,
				uint32_t dst)
{
	for (size_t i = dp->n; i-- > 0;) {
		struct dp_pair *p = &dp->v[i];

		if (p->out.ipsec_unit == unit && esp_sa_state(p->esp_out) == ESP_SA_ACTIVE &&
		    in_prefix(src, &p->out.local_ts) && in_prefix(dst, &p->out.remote_ts))
			return p;
	}
	return NULL;
}

static void on_demand(struct kzd *d, unsigned unit)
{
	const struct kz_if_ipsec *f = kz_find_ipsec_if(d->running, unit);
	const struct kz_ipsec_profile *p = f && f->map[0] ? kz_find_profile(d->running, f->map)
							    : NULL;

	if (p && p->initiate == KZ_INITIATE_ON_DEMAND && d->ike) {
		d->dp->on_demand_kicks++;
		ike_initiate(d->ike, p->name);
		kzd_ike_config_changed(d); /* reschedules the engine's timer */
	}
}

static void on_tun(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct kzd_dataplane *dp = d->dp;
	unsigned unit = 0;

	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if (d->tun[u].open && d->tun[u].fd == fd)
			unit = u;
	for (int n = 0; n < DP_BATCH; n++) {
		ssize_t len = read(fd, dp->pkt, DP_BUF);
		struct dp_pair *p;
		uint32_t src, dst;
		size_t olen;
		int r;

		if (len <= 0)
			break;
		if (len < 20 || (dp->pkt[0] >> 4) != 4) {
			dp->drop_not_ipv4++;
			continue;
		}
		memcpy(&src, dp->pkt + 12, 4);
		memcpy(&dst, dp->pkt + 16, 4);
		p = find_out(dp, unit, src, dst);
		if (!p) {
			/* Outside every selector, or no SA yet: never in clear. */
			dp->tx_no_sa++;
			on_demand(d, unit);
			continue;
		}
		kzd_mss_clamp(d, unit, dp->pkt, (size_t)len);
		r = esp_encap(p->esp_out, dp->pkt, (size_t)len, dp->out, DP_BUF, &olen);
		if (r < 0) {
			if (r == KZ_ERANGE)
				log_info("IPsec SA 0x%08x can send no more (%s); rekey needed",
					 p->out.spi, esp_sa_state(p->esp_out) == ESP_SA_SEQ_EXHAUSTED
							     ? "sequence numbers used up"
							     : "lifetime bytes reached");
			continue;
		}
		send_esp(d, p, dp->out, olen);
	}
}

void kzd_dataplane_tun_open(struct kzd *d, unsigned unit)
{
	struct kzd_tun *t = &d->tun[unit];

	if (!dp_get(d))
		return;
	t->ev = event_new(d->base, t->fd, EV_READ | EV_PERSIST, on_tun, d);
	if (!t->ev || event_add(t->ev, NULL) < 0)
		log_err("data plane: cannot watch %s", t->ifname);
}

void kzd_dataplane_tun_close(struct kzd *d, unsigned unit)
{
	if (d->tun[unit].ev) {
		event_free(d->tun[unit].ev);
		d->tun[unit].ev = NULL;
	}
}

/* ---- inbound ---- */

static void inbound(struct kzd *d, const struct sockaddr_in *from, const uint8_t *esp, size_t len,
		    bool udp)
{
	struct kzd_dataplane *dp = d->dp;
	struct dp_pair *p = NULL;
	enum esp_drop why;
	size_t ilen;
	uint32_t spi;

	if (esp_packet_spi(esp, len, &spi) < 0) {
		dp->drop_no_sa++;
		return;
	}
	for (size_t i = 0; i < dp->n && !p; i++)
		if (dp->v[i].in.spi == spi)
			p = &dp->v[i];
	if (!p) {
		dp->drop_no_sa++;
		return;
	}
	if (esp_decap(p->esp_in, esp, len, dp->pkt, DP_BUF, &ilen, &why) < 0) {
		log_debug("ESP spi 0x%08x from %s dropped: %s", spi, inet_ntoa(from->sin_addr),
			  esp_drop_name(why));
		return;
	}
	/* Authenticated: the peer may have moved behind its NAT. */
	if (udp && (from->sin_addr.s_addr != p->out.peer.sin_addr.s_addr ||
		    from->sin_port != p->out.peer.sin_port)) {
		log_info("IPsec SA 0x%08x: the peer is now at %s:%u", p->out.spi,
			 inet_ntoa(from->sin_addr), ntohs(from->sin_port));
		p->out.peer = *from;
	}
	kzd_mss_clamp(d, p->in.ipsec_unit, dp->pkt, ilen);
	if (d->tun[p->in.ipsec_unit].open &&
	    write(d->tun[p->in.ipsec_unit].fd, dp->pkt, ilen) < 0)
		dp->drop_send++;
}

void kzd_dataplane_udp_esp(struct kzd *d, const struct sockaddr_in *local,
			   const struct sockaddr_in *peer, const uint8_t *pkt, size_t len)
{
	if (dp_get(d))
		inbound(d, peer, pkt, len, true);
}

static void on_raw(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct kzd_dataplane *dp = d->dp;

	for (int n = 0; n < DP_BATCH; n++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(fd, dp->out, DP_BUF, 0, (struct sockaddr *)&from, &fl);
		size_t ihl;

		if (len <= 0)
			break;
		/* A raw socket hands over the IPv4 header too. */
		if (len < 20 || (dp->out[0] >> 4) != 4)
			continue;
		ihl = (size_t)(dp->out[0] & 0x0f) * 4;
		if (ihl < 20 || (size_t)len < ihl)
			continue;
		inbound(d, &from, dp->out + ihl, (size_t)len - ihl, false);
	}
}

/* ---- NAT keepalives (RFC 3948 2.3) ---- */

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct kzd_dataplane *dp = d->dp;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (size_t i = 0; i < dp->n; i++) {
		struct dp_pair *p = &dp->v[i];
		uint8_t ka[ESP_UDP_KEEPALIVE_LEN];
		const struct kz_ike_policy *pol;
		const struct kz_if_ipsec *f;
		const struct kz_ipsec_profile *prof;
		uint32_t every = KZ_DEF_KEEPALIVE;

		if (!p->out.udp_encap || now < p->keepalive_due_ms)
			continue;
		f = kz_find_ipsec_if(d->running, p->out.ipsec_unit);
		prof = f ? kz_find_profile(d->running, f->map) : NULL;
		pol = prof ? kz_find_ike_policy(d->running, prof->ike_policy) : NULL;
		if (pol && pol->natt)
			every = pol->keepalive;
		p->keepalive_due_ms = now + (uint64_t)every * 1000u;
		if (esp_udp_keepalive(ka, sizeof(ka)) > 0)
			send_esp(d, p, ka, sizeof(ka));
	}
}

int kzd_dataplane_start(struct kzd *d)
{
	struct kzd_dataplane *dp = dp_get(d);
	struct timeval one = { 1, 0 };
	int one_i = 1;

	if (!dp)
		return KZ_ENOMEM;
	dp->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
	if (dp->raw_fd >= 0)
		kzd_socket_buffers(dp->raw_fd);
	if (dp->raw_fd < 0 ||
	    setsockopt(dp->raw_fd, IPPROTO_IP, IP_PKTINFO, &one_i, sizeof(one_i)) < 0) {
		log_err("data plane: cannot open the ESP socket: %s", strerror(errno));
		return KZ_ESYS;
	}
	dp->ev_raw = event_new(d->base, dp->raw_fd, EV_READ | EV_PERSIST, on_raw, d);
	dp->ev_keepalive = event_new(d->base, -1, EV_PERSIST, on_keepalive, d);
	if (!dp->ev_raw || !dp->ev_keepalive || event_add(dp->ev_raw, NULL) < 0 ||
	    event_add(dp->ev_keepalive, &one) < 0)
		return KZ_ENOMEM;
	return 0;
}

void kzd_dataplane_show_stats(struct kzd *d, bool json, struct strbuf *out)
{
	struct kzd_dataplane *dp = d->dp;
	static const struct kzd_dataplane none;
	const struct kzd_dataplane *z = dp ? dp : &none;

	if (json)
		sb_printf(out, "{\"no_sa\":%llu,\"outbound_no_sa\":%llu,\"not_ipv4\":%llu,"
			       "\"send_errors\":%llu,\"sas\":[",
			  (unsigned long long)z->drop_no_sa, (unsigned long long)z->tx_no_sa,
			  (unsigned long long)z->drop_not_ipv4, (unsigned long long)z->drop_send);
	else
		sb_printf(out,
			  "inbound ESP for no SA: %llu\n"
			  "outbound packets outside every SA's selectors (not sent): %llu\n"
			  "outbound packets not IPv4: %llu\n"
			  "send errors: %llu\n",
			  (unsigned long long)z->drop_no_sa, (unsigned long long)z->tx_no_sa,
			  (unsigned long long)z->drop_not_ipv4, (unsigned long long)z->drop_send);
	for (size_t i = 0; dp && i < dp->n; i++) {
		const struct esp_sa *sa = dp->v[i].esp_in;

		if (json)
			sb_printf(out, "%s{\"spi\":%u,\"interface\":\"IPsec%u\",\"drops\":{", i ? "," : "",
				  dp->v[i].in.spi, dp->v[i].in.ipsec_unit);
		else
			sb_printf(out, "Inbound SA spi=%u(0x%08x) on IPsec%u drops:", dp->v[i].in.spi,
				  dp->v[i].in.spi, dp->v[i].in.ipsec_unit);
		for (int w = ESP_DROP_NONE + 1, k = 0; w < ESP_DROP_COUNT; w++) {
			uint64_t c = esp_sa_drops(sa, (enum esp_drop)w);

			if (json)
				sb_printf(out, "%s\"%s\":%llu", k++ ? "," : "",
					  esp_drop_name((enum esp_drop)w), (unsigned long long)c);
			else
				sb_printf(out, " %s %llu", esp_drop_name((enum esp_drop)w),
					  (unsigned long long)c);
		}
		sb_puts(out, json ? "}}" : "\n");
	}
	if (json)
		sb_puts(out, "]}\n");
}

void kzd_dataplane_free(struct kzd *d)
{
	struct kzd_dataplane *dp = d->dp;

	if (!dp)
		return;
	for (size_t i = 0; i < dp->n; i++) {
		esp_sa_free(dp->v[i].esp_in);
		esp_sa_free(dp->v[i].esp_out);
	}
	if (dp->ev_raw)
		event_free(dp->ev_raw);
	if (dp->ev_keepalive)
		event_free(dp->ev_keepalive);
	if (dp->raw_fd >= 0)
		close(dp->raw_fd);
	free(dp->v);
	free(dp->pkt);
	free(dp->out);
	free(dp);
	d->dp = NULL;
}
