/* apply.c - make the kernel match the running config: the WAN device's
 * admin state, one TUN device per `interface IPsec<N>`, their addresses,
 * MTU and state, and the `ip route` entries.
 *
 * Link state is set only when a command (or start-up, or a reload) asks
 * for it: a change made outside kizuna afterwards is observed and reported,
 * not undone (config-language.md).  Routes are reconciled whenever links
 * change, since the kernel drops routes through a device that goes down;
 * each route to IPsec<N> has a fail-closed `unreachable` route beneath it
 * (apply_routes). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "net/netlink.h"
#include "net/tun.h"
#include "daemon/daemon.h"

void kzd_tun_name(unsigned unit, char *out, size_t len)
{
	snprintf(out, len, "ipsec%u", unit);
}

static void apply_mobile_admin(struct kzd *d)
{
	const struct kz_if_mobile *m = &d->running->mobile;
	int r;

	if (!m->present || !m->device[0])
		return;
	r = kz_net_link_set_up(m->device, !m->shutdown);
	if (r < 0)
		log_warn("interface %s: cannot set device %s %s: %s", KZ_MOBILE_IFNAME, m->device,
			 m->shutdown ? "down" : "up",
			 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
	else
		log_info("interface %s (%s) set %s", KZ_MOBILE_IFNAME, m->device,
			 m->shutdown ? "administratively down" : "up");
}

/* Without `mtu`, IPsec<N> takes the WAN's MTU less the worst ESP-in-UDP
 * overhead of the proposals we offer: outer IPv4 20 + UDP 8 + ESP header 8
 * + IV 16 + padding up to 15 + pad length and next header 2 + ICV up to 32
 * (HMAC-SHA2-512-256), rounded up to 104. */
#define KZD_IPSEC_OVERHEAD 104u
#define KZD_DEFAULT_WAN_MTU 1500u

static void apply_tun_mtu(struct kzd *d, const struct kz_if_ipsec *f, struct kzd_tun *t)
{
	struct kz_link_state wan, st;
	unsigned mtu = f->mtu;

	if (!mtu) {
		unsigned wmtu = KZD_DEFAULT_WAN_MTU;

		if (d->running->mobile.device[0] &&
		    kz_net_link_get(d->running->mobile.device, &wan) == 0 && wan.mtu)
			wmtu = wan.mtu;
		mtu = wmtu > KZD_IPSEC_OVERHEAD + 576 ? wmtu - KZD_IPSEC_OVERHEAD : 576;
	}
	t->mtu = mtu;
	if (kz_net_link_get(t->ifname, &st) == 0 && st.mtu == mtu)
		return;
	if (kz_net_link_set_mtu(t->ifname, mtu) < 0)
		log_warn("interface IPsec%u: cannot set MTU %u: %s", f->unit, mtu, kz_net_errmsg());
}

/* The TUN device carries exactly the configured address (or none). */
static void apply_tun_address(const struct kz_if_ipsec *f, const struct kzd_tun *t)
{
	struct kz_link_state st;
	bool have = false;
	int r;

	if (kz_net_link_get(t->ifname, &st) < 0)
		return;
	for (size_t i = 0; i < st.naddr; i++) {
		if (f->address.set && st.addr[i].addr.s_addr == f->address.addr.s_addr &&
		    st.addr[i].plen == f->address.len)
			have = true;
		else
			kz_net_addr_del(t->ifname, st.addr[i].addr, st.addr[i].plen);
	}
	if (f->address.set && !have) {
		r = kz_net_addr_add(t->ifname, f->address.addr, f->address.len);
		if (r < 0)
			log_warn("interface IPsec%u: cannot set its address: %s", f->unit,
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
	}
}

/* TUN devices: open for configured units, closed for removed ones. */
static void apply_tuns(struct kzd *d, bool set_admin, unsigned only_unit, bool only)
{
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++) {
		const struct kz_if_ipsec *f = kz_find_ipsec_if(d->running, u);
		struct kzd_tun *t = &d->tun[u];
		bool created = false;
		int r;

		if (!f) {
			if (t->open) {
				kzd_dataplane_tun_close(d, u);
				kz_tun_close(t->fd);
				t->open = false;
				log_info("interface IPsec%u removed (%s)", u, t->ifname);
			}
			continue;
		}
		if (only && u != only_unit)
			continue;
		if (!t->open) {
			kzd_tun_name(u, t->ifname, sizeof(t->ifname));
			/* Offloads: one read brings a whole TCP burst
			 * (src/dp segments it).  With more than one
			 * data-plane worker, a queue each: this is the first,
			 * the data plane opens the others. */
			r = kz_tun_create(
				t->ifname,
				KZ_TUN_OFFLOAD |
					(kzd_dataplane_workers(d) > 1 ? KZ_TUN_MULTI_QUEUE : 0),
				&t->fd);
			if (r < 0) {
				log_err("interface IPsec%u: cannot create TUN device %s: %s", u,
					t->ifname, kz_strerror(r));
				continue;
			}
			t->open = true;
			created = true;
			kzd_dataplane_tun_open(d, u);
			log_info("interface IPsec%u is TUN device %s", u, t->ifname);
		}
		apply_tun_mtu(d, f, t);
		apply_tun_address(f, t);
		if (set_admin || created) {
			r = kz_net_link_set_up(t->ifname, !f->shutdown);
			if (r < 0)
				log_warn("interface IPsec%u: cannot set %s: %s", u,
					 f->shutdown ? "down" : "up", kz_strerror(r));
		}
	}
}

/* The kernel route a config route stands for; false when it cannot exist
 * now (its device is missing). */
static bool route_target(struct kzd *d, const struct kz_route *rt, const char **oif, char *tun,
			 size_t tunlen)
{
	*oif = NULL;
	if (rt->via == KZ_VIA_IPSEC) {
		if (!d->tun[rt->ipsec_unit].open)
			return false;
		kzd_tun_name(rt->ipsec_unit, tun, tunlen);
		*oif = tun;
	} else if (rt->via == KZ_VIA_MOBILE) {
		if (!d->running->mobile.device[0])
			return false;
		*oif = d->running->mobile.device;
	}
	return true;
}

/* Route-based tunnels: when an `ip route P IPsec<N>` covers a profile's
 * peer (0.0.0.0/0 into the tunnel, as AWS, VTI and proxy-ID-less peers
 * are set up), IKE, NAT-T keepalives and ESP to that peer must still leave
 * by MobileEthernet0.0, not enter the tunnel they carry.  kizunad keeps a
 * host route PEER/32 through the WAN (its gateway as the kernel's routes
 * through the WAN device had it before the tunnel route covered the peer;
 * remembered, and taken from our own host route after a restart).  A
 * configured `ip route PEER/32 ...` is the user's choice and wins. */
static bool peer_needs_pin(const struct kz_config *c, struct in_addr peer)
{
	bool covered = false;

	for (size_t k = 0; k < c->routes.n; k++) {
		const struct kz_route *rt = &c->routes.v[k];
		uint32_t m = rt->dest.len ? htonl(0xffffffffu << (32 - rt->dest.len)) : 0;

		if (rt->dest.len == 32 && rt->dest.addr.s_addr == peer.s_addr)
			return false;
		if (rt->via == KZ_VIA_IPSEC && ((rt->dest.addr.s_addr ^ peer.s_addr) & m) == 0)
			covered = true;
	}
	return covered;
}

static bool is_pinned_peer(const struct kz_config *c, struct in_addr a)
{
	for (size_t i = 0; i < c->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &c->profiles.v[i];

		if (p->peer_type == KZ_PEER_ADDR && p->peer_addr.s_addr == a.s_addr &&
		    peer_needs_pin(c, a))
			return true;
	}
	return false;
}

/* The longest route through the WAN device to a, from the kernel's list
 * (ours included: a pin made before), and its gateway. */
static bool wan_route_to(const struct kz_net_route *cur, size_t n, const char *wan,
			 struct in_addr a, bool *has_gw, struct in_addr *gw)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		uint32_t m = cur[i].plen ? htonl(0xffffffffu << (32 - cur[i].plen)) : 0;

		if (cur[i].type != KZ_NET_RTN_UNICAST || strcmp(cur[i].oif_name, wan) ||
		    ((cur[i].dst.s_addr ^ a.s_addr) & m) != 0)
			continue;
		if (best < 0 || cur[i].plen > cur[best].plen)
			best = (int)i;
	}
	if (best < 0)
		return false;
	*has_gw = cur[best].has_gw;
	*gw = cur[best].gw;
	return true;
}

static void apply_peer_pins(struct kzd *d, const struct kz_net_route *cur, size_t n)
{
	const char *wan = d->running->mobile.device;

	if (!wan[0])
		return;
	for (size_t i = 0; i < d->running->profiles.n; i++) {
		const struct kz_ipsec_profile *p = &d->running->profiles.v[i];
		char a[INET_ADDRSTRLEN];
		struct in_addr gw = { 0 };
		bool has_gw = false;
		int r;

		if (p->peer_type != KZ_PEER_ADDR || !peer_needs_pin(d->running, p->peer_addr))
			continue;
		inet_ntop(AF_INET, &p->peer_addr, a, sizeof(a));
		if (wan_route_to(cur, n, wan, p->peer_addr, &has_gw, &gw)) {
			if (has_gw) {
				d->wan_gw = gw;
				d->wan_gw_set = true;
			}
		} else if (d->wan_gw_set) {
			has_gw = true;
			gw = d->wan_gw;
		} else {
			log_warn("ipsec profile %s: a route into a tunnel covers the peer %s and "
				 "no route through %s to it is known: IKE and ESP to the peer "
				 "would enter the tunnel",
				 p->name, a, KZ_MOBILE_IFNAME);
			continue;
		}
		r = kz_net_route_add(p->peer_addr, 32, wan, has_gw ? &gw : NULL);
		if (r < 0 && r != KZ_EBUSY)
			log_warn("ipsec profile %s: cannot keep the peer %s on %s: %s", p->name, a,
				 KZ_MOBILE_IFNAME,
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
		else
			log_debug("ipsec profile %s: peer %s kept on %s", p->name, a,
				  KZ_MOBILE_IFNAME);
	}
}

static bool route_is_failclosed(const struct kz_net_route *r)
{
	return r->type == KZ_NET_RTN_UNREACHABLE && r->metric == KZ_RTMETRIC_FAILCLOSED;
}

/* Whether a route of ours in the kernel stands for a config route: the
 * unicast one (metric 0) for any `ip route` of its prefix, since adding
 * replaces its next hop; the fail-closed one only under a route to
 * IPsec<N>.  Anything else of ours is left from an older config or run.
 * (kz_net_route_list() reports the main table only.) */
static bool route_wanted(const struct kz_config *c, const struct kz_net_route *cur)
{
	if (cur->plen == 32 && cur->type == KZ_NET_RTN_UNICAST && cur->metric == 0 &&
	    is_pinned_peer(c, cur->dst))
		return true;
	for (size_t k = 0; k < c->routes.n; k++) {
		const struct kz_route *rt = &c->routes.v[k];

		if (rt->dest.len != cur->plen || rt->dest.addr.s_addr != cur->dst.s_addr)
			continue;
		if (route_is_failclosed(cur))
			return rt->via == KZ_VIA_IPSEC;
		return cur->type == KZ_NET_RTN_UNICAST && cur->metric == 0 && cur->tos == 0;
	}
	return false;
}

/* Routes: ours are marked (KZ_RTPROT).  Reconcile without a gap: first
 * the fail-closed route under every route to IPsec<N>, then remove ours
 * that the config no longer has, then add or replace the others.
 *
 * The fail-closed route (`unreachable`, metric KZ_RTMETRIC_FAILCLOSED) is
 * wanted exactly while its `ip route ... IPsec<N>` is configured, whether
 * the TUN device exists or is up: that is when it matters.  It stays when
 * kizunad dies, so the prefix is refused rather than routed out of the WAN
 * in the clear, and a new kizunad keeps it (adding replaces it in place)
 * while it creates the devices again.  `shutdown` on IPsec<N> sets the
 * device down and the kernel drops the route through it: the prefix is
 * refused as well, since a tunnel switched off still must not leak what it
 * protects.  Only a clean stop removes it (main.c).
 *
 * A route through a device that is down cannot exist in the kernel; it is
 * added again when the device comes up (a link event). */
static void apply_routes(struct kzd *d)
{
	struct kz_net_route *cur = NULL;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < d->running->routes.n; i++) {
		const struct kz_route *rt = &d->running->routes.v[i];
		char dst[32];

		if (rt->via != KZ_VIA_IPSEC)
			continue;
		kz_prefix_str(&rt->dest, dst, sizeof(dst));
		r = kz_net_route_add_type(KZ_NET_RTN_UNREACHABLE, rt->dest.addr, rt->dest.len,
					  KZ_RTMETRIC_FAILCLOSED, NULL, NULL);
		if (r < 0)
			log_warn("ip route %s IPsec%u: cannot install its fail-closed route: %s",
				 dst, rt->ipsec_unit,
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
	}
	if (kz_net_route_list(&cur, &n) == 0) {
		/* the peers stay on the WAN before a tunnel route covers them */
		apply_peer_pins(d, cur, n);
		for (size_t i = 0; i < n; i++) {
			if (cur[i].protocol != KZ_RTPROT || route_wanted(d->running, &cur[i]) ||
			    kzd_mobile_route_ours(d, &cur[i]))
				continue;
			r = kz_net_route_del_own(&cur[i]);
			if (r < 0 && r != KZ_ENOENT)
				log_warn("cannot remove a route of an older config: %s",
					 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
		}
		free(cur);
	}
	for (size_t i = 0; i < d->running->routes.n; i++) {
		const struct kz_route *rt = &d->running->routes.v[i];
		char dst[32], tun[16];
		const char *oif;

		if (!route_target(d, rt, &oif, tun, sizeof(tun)))
			continue;
		kz_prefix_str(&rt->dest, dst, sizeof(dst));
		r = kz_net_route_add(rt->dest.addr, rt->dest.len, oif,
				     rt->via == KZ_VIA_GATEWAY ? &rt->gateway : NULL);
		if (r < 0 && r != KZ_EBUSY)
			log_warn("ip route %s: %s", dst,
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
		else
			log_debug("ip route %s: %s", dst,
				  r < 0 ? "waits for its device" : "installed");
	}
}

void kzd_apply(struct kzd *d, unsigned eff, unsigned unit)
{
	bool all = eff == KZD_APPLY_ALL;

	if (eff & (CLI_EFF_MOBILE_ADMIN | CLI_EFF_MOBILE_DEVICE))
		apply_mobile_admin(d);
	if (eff & (CLI_EFF_IPSEC_IF | CLI_EFF_IPSEC_ADMIN))
		apply_tuns(d, all || (eff & CLI_EFF_IPSEC_ADMIN), unit, !all);
	if (eff &
	    (CLI_EFF_ROUTES | CLI_EFF_IPSEC_IF | CLI_EFF_IPSEC_ADMIN | CLI_EFF_MOBILE_ADMIN |
	     CLI_EFF_MOBILE_DEVICE))
		apply_routes(d);
	if (eff & (CLI_EFF_MOBILE_ADMIN | CLI_EFF_MOBILE_DEVICE))
		kzd_mobile_config(d);
	kzd_log_checks(d);
}

void kzd_net_changed(struct kzd *d)
{
	apply_routes(d);
	kzd_log_checks(d);
}

/* Closes the TUN devices; the kernel drops the routes through them.  Our
 * routes themselves, the fail-closed ones included, are main.c's to flush,
 * and only on a clean stop: a start that fails half-way after a crash
 * must not open what the crash left closed. */
void kzd_apply_close(struct kzd *d)
{
	for (unsigned u = 0; u < KZ_MAX_IPSEC_IF; u++)
		if (d->tun[u].open) {
			kzd_dataplane_tun_close(d, u);
			kz_tun_close(d->tun[u].fd);
			d->tun[u].open = false;
		}
}
