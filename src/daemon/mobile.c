/* mobile.c - MobileEthernet0.0 backed by a ModemManager modem (`modem`
 * in the interface block): the sd-bus client of src/mobile/ in the
 * libevent loop, and what kizuna does with what it sees.
 *
 *   - the SIM asks for its PIN: the configured `pin` is sent once; a PIN
 *     the SIM refused is never sent again until the config changes it
 *   - registered and not connected: Simple.Connect with the `apn`; after
 *     a failure or a drop the next attempt waits 5 s, doubled up to 300 s
 *   - `shutdown`: Simple.Disconnect
 *   - the bearer's Interface becomes the interface's device; with
 *     Ip4Config method static its address/prefix and a default route
 *     (metric KZD_MOBILE_METRIC) are put on it, with dhcp the address the
 *     system's DHCP client sets is followed.  The netlink watch then sees
 *     the address, which is the WAN change IKE reacts to.
 *   - Signal.Setup asks for extended signal values (RSRP, RSRQ, SINR).
 *
 * Without `modem` nothing here runs. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/privmsg.h"
#include "mobile/mm.h"
#include "net/netlink.h"
#include "daemon/daemon.h"

#define KZD_MOBILE_METRIC 0xfff1u
#define BACKOFF_FIRST 5u
#define BACKOFF_MAX 300u
#define SIGNAL_RATE 10u /* seconds between extended signal readings */
#define BUS_RETRY 10    /* seconds before the system bus is tried again */

struct kzd_mobile {
	struct mm_world w;
	struct mm_bus *bus;
	struct event *ev_bus, *ev_timer;
	struct kz_mobile_view own;     /* kizuna's fields: PIN, connect, bus */
	char pin_rejected[KZ_PIN_MAX]; /* the PIN the SIM refused (wiped) */
	char pin_sim[MM_PATH_MAX];     /* the SIM the PIN was sent to */
	bool pin_inflight, connecting, disconnecting;
	char signal_setup[MM_PATH_MAX]; /* the modem asked for extended values */
	char apn[KZ_APN_MAX];           /* the APN of the last attempt */
	bool was_connected;
	bool in_step;
	/* what kizuna put on the device (static method) */
	char dev[KZ_IFNAME_MAX];
	bool addr_set, route_set;
	struct in_addr addr, gw;
	unsigned plen;
};

static int64_t wall(void *arg)
{
	return (int64_t)time(NULL);
}

static void step(struct kzd *d);
static void arm_bus(struct kzd *d);

static void bus_close(struct kzd *d)
{
	struct kzd_mobile *mo = d->mobile;

	kzd_event_free(&mo->ev_bus);
	mm_bus_close(mo->bus);
	mo->bus = NULL;
	mo->pin_inflight = mo->connecting = mo->disconnecting = false;
	mm_world_clear(&mo->w);
}

static void on_changed(void *arg)
{
	step(arg);
}

static void on_reply(void *arg, enum mm_call call, int err, const char *name, const char *msg)
{
	struct kzd *d = arg;
	struct kzd_mobile *mo = d->mobile;
	char text[sizeof(mo->own.connect_error)];

	snprintf(text, sizeof(text), "%s%s%s", name ? name : "", msg && msg[0] ? ": " : "",
		 msg ? msg : "");
	switch (call) {
	case MM_CALL_SEND_PIN:
		mo->pin_inflight = false;
		if (err) {
			/* never again with this PIN: a SIM locks after 3 */
			kz_strlcpy(mo->pin_rejected, d->running->mobile.pin,
				   sizeof(mo->pin_rejected));
			mo->own.pin_rejected = true;
			kz_strlcpy(mo->own.pin_error, text, sizeof(mo->own.pin_error));
			if (name && strstr(name, "Unauthorized"))
				/* polkit said no, the SIM never saw it */
				log_warn("%s: ModemManager does not let this user send the PIN "
					 "(%s): polkit must grant it "
					 "org.freedesktop.ModemManager1.Device.Control "
					 "(kizunad(8), The modem); not sent again until `pin` is "
					 "changed",
					 KZ_MOBILE_IFNAME, name);
			else
				log_warn("%s: the SIM refused the configured PIN (%s); it is not "
					 "sent again until `pin` is changed",
					 KZ_MOBILE_IFNAME, name ? name : "error");
		} else {
			log_info("%s: SIM unlocked with the configured PIN", KZ_MOBILE_IFNAME);
		}
		break;
	case MM_CALL_CONNECT:
		mo->connecting = false;
		if (err) {
			kz_strlcpy(mo->own.connect_error, text, sizeof(mo->own.connect_error));
			mo->own.backoff = mo->own.backoff ? mo->own.backoff * 2 : BACKOFF_FIRST;
			if (mo->own.backoff > BACKOFF_MAX)
				mo->own.backoff = BACKOFF_MAX;
			mo->own.next_connect = wall(NULL) + mo->own.backoff;
			log_warn("%s: connecting with apn %s failed: %s; next attempt in %u s",
				 KZ_MOBILE_IFNAME, d->running->mobile.apn, text, mo->own.backoff);
		} else {
			mo->own.connect_error[0] = '\0';
			log_info("%s: bearer connected (apn %s)", KZ_MOBILE_IFNAME,
				 d->running->mobile.apn);
		}
		break;
	case MM_CALL_DISCONNECT:
		mo->disconnecting = false;
		if (err)
			log_warn("%s: disconnecting the bearer failed: %s", KZ_MOBILE_IFNAME, text);
		break;
	case MM_CALL_SIGNAL_SETUP:
		if (err)
			log_info("%s: the modem gives no extended signal values (%s)",
				 KZ_MOBILE_IFNAME, text);
		break;
	}
	step(d);
}

static void on_bus(evutil_socket_t fd, short what, void *arg)
{
	struct kzd *d = arg;
	struct kzd_mobile *mo = d->mobile;

	if (!mo->bus)
		return;
	if (mm_bus_process(mo->bus) < 0) {
		bus_close(d);
		mo->own.bus_ok = false;
		step(d);
		return;
	}
	arm_bus(d);
}

static void arm_bus(struct kzd *d)
{
	struct kzd_mobile *mo = d->mobile;
	int ev = mm_bus_events(mo->bus);
	uint64_t t = mm_bus_timeout(mo->bus);
	struct timeval tv, *tvp = NULL;
	short what = 0;

	if (ev & POLLIN)
		what |= EV_READ;
	if (ev & POLLOUT)
		what |= EV_WRITE;
	if (t != UINT64_MAX) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		t = t > now ? t - now : 0;
		tv.tv_sec = (time_t)(t / 1000000u);
		tv.tv_usec = (suseconds_t)(t % 1000000u);
		tvp = &tv;
	}
	kzd_event_free(&mo->ev_bus);
	mo->ev_bus = event_new(d->base, mm_bus_fd(mo->bus), what, on_bus, d);
	if (!mo->ev_bus || event_add(mo->ev_bus, tvp) < 0)
		log_err("%s: cannot watch the system bus", KZ_MOBILE_IFNAME);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	step(arg);
}

static void arm_timer(struct kzd *d, int64_t at)
{
	struct kzd_mobile *mo = d->mobile;
	int64_t now = wall(NULL);
	struct timeval tv = { .tv_sec = at > now ? at - now : 0 };

	if (!mo->ev_timer)
		mo->ev_timer = evtimer_new(d->base, on_timer, d);
	if (mo->ev_timer)
		evtimer_add(mo->ev_timer, &tv);
}

static void bus_open(struct kzd *d)
{
	struct kzd_mobile *mo = d->mobile;
	struct mm_bus_ops ops = { .changed = on_changed, .reply = on_reply, .now = wall, .arg = d };

	int fd = -1;

	if (mo->bus)
		return;
	/* privilege-separated: the parent connects as our user (privsep.c) */
	if (privmsg_broker && (fd = kzd_privsep_bus_open()) < 0) {
		mo->own.bus_ok = false;
		arm_timer(d, wall(NULL) + BUS_RETRY);
		return;
	}
	mo->own.bus_ok = mm_bus_open(&mo->bus, &mo->w, &ops, fd) == 0;
	if (!mo->own.bus_ok) {
		arm_timer(d, wall(NULL) + BUS_RETRY);
		return;
	}
	arm_bus(d);
}

/* Takes what kizuna put on the old device away. */
static void unset_addr(struct kzd_mobile *mo)
{
	if (mo->route_set)
		kz_net_route_del_type(KZ_NET_RTN_UNICAST, (struct in_addr){ 0 }, 0,
				      KZD_MOBILE_METRIC, mo->dev, mo->gw.s_addr ? &mo->gw : NULL);
	if (mo->addr_set) {
		char a[INET_ADDRSTRLEN];

		kz_net_addr_del(mo->dev, mo->addr, mo->plen);
		log_info("%s (%s): bearer address %s/%u removed", KZ_MOBILE_IFNAME, mo->dev,
			 inet_ntop(AF_INET, &mo->addr, a, sizeof(a)), mo->plen);
	}
	mo->addr_set = mo->route_set = false;
}

/* The device and, for method static, its address and default route. */
static void follow_bearer(struct kzd *d, const struct kz_mobile_view *v)
{
	struct kzd_mobile *mo = d->mobile;
	const char *dev = v->found && v->bearer && v->connected ? v->iface : "";
	bool stat = dev[0] && v->ip_method == KZ_MM_IP_STATIC && v->has_ip;

	if (mo->addr_set &&
	    (!stat || strcmp(dev, mo->dev) || v->addr.s_addr != mo->addr.s_addr ||
	     v->plen != mo->plen || v->gateway.s_addr != mo->gw.s_addr))
		unset_addr(mo);
	if (strcmp(d->running->mobile.device, dev)) {
		log_info("%s: device %s (from the bearer)", KZ_MOBILE_IFNAME,
			 dev[0] ? dev : "none");
		kz_strlcpy(d->running->mobile.device, dev, sizeof(d->running->mobile.device));
		kzd_apply(d, CLI_EFF_MOBILE_DEVICE, 0);
		kzd_ike_config_changed(d);
	}
	if (stat && !mo->addr_set) {
		char a[INET_ADDRSTRLEN];
		int r;

		kz_strlcpy(mo->dev, dev, sizeof(mo->dev));
		mo->addr = v->addr;
		mo->plen = v->plen;
		mo->gw = v->gateway;
		r = kz_net_addr_add(dev, v->addr, v->plen);
		inet_ntop(AF_INET, &v->addr, a, sizeof(a));
		if (r < 0 && r != KZ_EEXIST)
			log_warn("%s (%s): cannot add the bearer address %s/%u: %s",
				 KZ_MOBILE_IFNAME, dev, a, v->plen,
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
		else {
			log_info("%s (%s): bearer address %s/%u (static)", KZ_MOBILE_IFNAME, dev, a,
				 v->plen);
			mo->addr_set = true;
		}
		r = kz_net_route_add_type(KZ_NET_RTN_UNICAST, (struct in_addr){ 0 }, 0,
					  KZD_MOBILE_METRIC, dev,
					  v->gateway.s_addr ? &v->gateway : NULL);
		if (r < 0 && r != KZ_EEXIST)
			log_warn("%s (%s): cannot add the default route: %s", KZ_MOBILE_IFNAME, dev,
				 kz_net_errmsg()[0] ? kz_net_errmsg() : kz_strerror(r));
		else
			mo->route_set = true;
	}
}

void kzd_mobile_view(struct kzd *d, struct kz_mobile_view *v)
{
	struct kzd_mobile *mo = d->mobile;

	memset(v, 0, sizeof(*v));
	v->pin_retries = -1;
	v->bound = d->running->mobile.present && d->running->mobile.modem[0];
	if (!mo || !v->bound)
		return;
	*v = mo->own;
	v->bound = true;
	v->mm_running = mm_bus_mm_running(mo->bus);
	mm_world_view(&mo->w, d->running->mobile.modem, v);
}

static void step(struct kzd *d)
{
	struct kzd_mobile *mo = d->mobile;
	const struct kz_if_mobile *cfg = &d->running->mobile;
	struct kz_mobile_view v;
	int64_t now = wall(NULL);

	if (!mo || mo->in_step)
		return;
	mo->in_step = true;
	if (!mo->bus)
		bus_open(d);
	kzd_mobile_view(d, &v);
	if (!v.found) {
		follow_bearer(d, &v);
		goto out;
	}
	/* a new apn: start afresh, on a bearer of the new one */
	if (strcmp(mo->apn, cfg->apn)) {
		if (mo->apn[0] && v.connected && !mo->disconnecting &&
		    mm_bus_disconnect(mo->bus, v.path) == 0) {
			mo->disconnecting = true;
			log_info("%s: apn changed: reconnecting", KZ_MOBILE_IFNAME);
		}
		kz_strlcpy(mo->apn, cfg->apn, sizeof(mo->apn));
		mo->own.backoff = 0;
		mo->own.next_connect = 0;
		mo->own.connect_error[0] = '\0';
	}
	/* the PIN, once */
	if (mo->own.pin_rejected && strcmp(mo->pin_rejected, cfg->pin)) {
		mo->own.pin_rejected = false;
		mo->own.pin_error[0] = '\0';
		kz_wipe(mo->pin_rejected, sizeof(mo->pin_rejected));
		mo->pin_sim[0] = '\0';
	}
	if (v.unlock_required == KZ_MM_LOCK_SIM_PIN && v.state == KZ_MM_STATE_LOCKED &&
	    cfg->pin[0] && !mo->own.pin_rejected && !mo->pin_inflight) {
		const struct mm_modem *m = mm_world_pick(&mo->w, cfg->modem);

		if (m && m->sim[0] && strcmp(m->sim, "/") && strcmp(mo->pin_sim, m->sim)) {
			kz_strlcpy(mo->pin_sim, m->sim, sizeof(mo->pin_sim));
			if (mm_bus_send_pin(mo->bus, m->sim, cfg->pin) == 0) {
				mo->pin_inflight = true;
				mo->own.pin_sent = true;
				log_info("%s: the SIM asks for its PIN: sending the configured one",
					 KZ_MOBILE_IFNAME);
			}
		}
	}
	/* extended signal values */
	if (strcmp(mo->signal_setup, v.path)) {
		const struct mm_modem *m = mm_world_pick(&mo->w, cfg->modem);

		if (m && m->has_signal && !m->signal_rate && v.state >= KZ_MM_STATE_ENABLED) {
			kz_strlcpy(mo->signal_setup, v.path, sizeof(mo->signal_setup));
			mm_bus_signal_setup(mo->bus, v.path, SIGNAL_RATE);
		}
	}
	/* a drop */
	if (mo->was_connected && !v.connected && !cfg->shutdown && !mo->disconnecting) {
		log_warn("%s: the bearer dropped%s%s", KZ_MOBILE_IFNAME,
			 v.conn_error[0] ? ": " : "", v.conn_error);
		if (!mo->own.backoff)
			mo->own.backoff = BACKOFF_FIRST;
		mo->own.next_connect = now + mo->own.backoff;
	}
	mo->was_connected = v.connected;
	if (v.connected) {
		mo->own.backoff = 0;
		mo->own.next_connect = 0;
	}
	if (cfg->shutdown) {
		if ((v.connected || v.state == KZ_MM_STATE_CONNECTED) && !mo->disconnecting &&
		    mm_bus_disconnect(mo->bus, v.path) == 0) {
			mo->disconnecting = true;
			log_info("%s: shutdown: disconnecting the bearer", KZ_MOBILE_IFNAME);
		}
	} else if (cfg->apn[0] && !v.connected && !mo->connecting &&
		   v.state >= KZ_MM_STATE_REGISTERED && v.state != KZ_MM_STATE_CONNECTING &&
		   v.state != KZ_MM_STATE_DISCONNECTING) {
		if (now < mo->own.next_connect) {
			arm_timer(d, mo->own.next_connect);
		} else {
			struct mm_connect c = {
				.apn = cfg->apn,
				.ipv4 = cfg->apn_ipv4,
				.auth = cfg->apn_auth == KZ_APN_AUTH_PAP    ? 2u
					: cfg->apn_auth == KZ_APN_AUTH_CHAP ? 4u
									    : 0u,
				.user = cfg->apn_user,
				.password = cfg->apn_password,
			};

			if (mm_bus_connect(mo->bus, v.path, &c) == 0) {
				mo->connecting = true;
				log_info("%s: connecting the bearer with apn %s", KZ_MOBILE_IFNAME,
					 cfg->apn);
			}
		}
	}
	follow_bearer(d, &v);
out:
	mo->in_step = false;
}

void kzd_mobile_config(struct kzd *d)
{
	bool bound = d->running->mobile.present && d->running->mobile.modem[0];

	if (!bound) {
		if (d->mobile) {
			unset_addr(d->mobile);
			bus_close(d);
			kzd_event_free(&d->mobile->ev_timer);
			kz_wipe(d->mobile, sizeof(*d->mobile));
			free(d->mobile);
			d->mobile = NULL;
			log_info("%s: no modem followed", KZ_MOBILE_IFNAME);
		}
		return;
	}
	if (!d->mobile) {
		d->mobile = calloc(1, sizeof(*d->mobile));
		if (!d->mobile) {
			log_err("%s: out of memory", KZ_MOBILE_IFNAME);
			return;
		}
		log_info("%s: following modem %s through ModemManager", KZ_MOBILE_IFNAME,
			 d->running->mobile.modem);
	}
	/* The device is the bearer's: after a reload or a `device` line
	 * follow_bearer() puts it back (and applies it). */
	step(d);
}

bool kzd_mobile_route_ours(struct kzd *d, const struct kz_net_route *r)
{
	return d->mobile && d->mobile->route_set && r->metric == KZD_MOBILE_METRIC && r->plen == 0;
}

void kzd_mobile_stop(struct kzd *d)
{
	if (!d->mobile)
		return;
	bus_close(d);
	kzd_event_free(&d->mobile->ev_timer);
	kz_wipe(d->mobile, sizeof(*d->mobile));
	free(d->mobile);
	d->mobile = NULL;
}
