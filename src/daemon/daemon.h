/* daemon.h - kizunad's state, shared by its parts (main, apply, session,
 * show, ike_io, dp_ctl, diagnose).  Only this folder knows about
 * processes, signals, the event loop and the console and IKE sockets; the
 * data plane's sockets and threads are its own (src/dp/). */
#ifndef KZ_DAEMON_H
#define KZ_DAEMON_H

#include <stdbool.h>

#include "cli/cli.h"
#include "config/check.h"
#include "config/model.h"
#include "dp/dp.h"

struct event_base;
struct event;
struct ctl_server;
struct kz_net_watch;
struct ike_engine;
struct dh_pool;

#define KZD_DEFAULT_CONFIG "/etc/kizuna/kizuna.conf"
#define KZD_DEFAULT_SOCKET "/run/kizuna/kizuna.sock"
/* Data-plane worker threads at most (kizunad --workers). */
#define KZD_MAX_WORKERS DP_MAX_WORKERS

/* The TUN device of one configured IPsec<N>. */
struct kzd_tun {
	bool open;
	int fd;
	char ifname[16]; /* "ipsec<N>" */
	unsigned mtu;    /* as set by apply.c */
};

struct kzd_session;

struct kzd {
	struct kz_config *running;
	const char *config_path;
	const char *socket_path;
	struct event_base *base;
	struct ctl_server *ctl;
	struct kz_net_watch *watch;
	struct event *ev_watch, *ev_hup, *ev_term, *ev_int;
	struct kzd_tun tun[KZ_MAX_IPSEC_IF];
	struct kzd_session *sessions; /* open console sessions */
	bool links_changed;           /* set while netlink events are read */
	/* IKE: the engine, its sockets and timer (ike_io.c). */
	struct ike_engine *ike;
	int ike_fd500, ike_fd4500;
	struct event *ev_ike500, *ev_ike4500, *ev_ike_timer;
	/* Diffie-Hellman worker pool and its results' eventfd (ike_io.c);
	 * NULL: the engine computes inline. */
	struct dh_pool *dh_pool;
	struct event *ev_dh;
	uint8_t *rx;
	/* The data plane (src/dp/), its notifications and timers (dp_ctl.c). */
	struct dp *dp;
	struct event *ev_dp_note, *ev_dp_tick, *ev_dp_reclaim;
	unsigned workers; /* data-plane workers asked for; 0: one per CPU */
	/* The modem behind MobileEthernet0.0 (mobile.c); NULL without `modem`. */
	struct kzd_mobile *mobile;
	/* Last config check result per profile, to log changes once. */
	char **last_check;
	size_t nlast_check;
};

/* main.c: frees *ev if it is set and clears it. */
void kzd_event_free(struct event **ev);

/* apply.c: make the system match the running config.  effects is a
 * CLI_EFF_* mask; KZD_APPLY_ALL applies everything (start-up, reload). */
#define KZD_APPLY_ALL 0xffffffffu
void kzd_apply(struct kzd *d, unsigned effects, unsigned unit);
void kzd_apply_close(struct kzd *d);
/* Linux name of the TUN device of IPsec<unit>. */
void kzd_tun_name(unsigned unit, char *out, size_t len);
/* Reacts to a netlink event (link, address, route change). */
void kzd_net_changed(struct kzd *d);

/* session.c: console sessions on the control socket. */
int kzd_sessions_start(struct kzd *d);
void kzd_sessions_rebind(struct kzd *d); /* after the running config was replaced */

/* show.c: the exec commands, installed into the console's grammar (once,
 * before the first session). */
void kzd_commands_install(void);
/* The live config check of a profile. */
int kzd_check_profile(struct kzd *d, const struct kz_ipsec_profile *p, struct kz_finding *f);
/* Logs the weak choices of the config (at start-up and reload). */
void kzd_log_warnings(struct kzd *d);
/* Logs config check results that changed since the last call. */
void kzd_log_checks(struct kzd *d);

/* ike_io.c: the IKE engine in the event loop. */
int kzd_ike_start(struct kzd *d);
void kzd_ike_config_changed(struct kzd *d); /* the running config was changed */
void kzd_ike_stop(struct kzd *d);

/* ike_io.c: an IKE message that came to port 4500 and was read by the
 * data plane, the non-ESP marker already removed. */
void kzd_ike_natt_input(struct kzd *d, const struct sockaddr_in *local,
			const struct sockaddr_in *peer, const uint8_t *ike, size_t len);

/* dp_ctl.c: the data plane in the daemon; ike_io.c installs the SAs and
 * hands over port 4500 with dp.h's calls on d->dp. */
/* How many data-plane workers run (each with its own TUN queue). */
unsigned kzd_dataplane_workers(struct kzd *d);
/* Starts the workers, the notifications and the timer. */
int kzd_dataplane_start(struct kzd *d);
void kzd_dataplane_free(struct kzd *d);
/* `show ipsec statistics`: global drop counters, ESP packets per worker
 * and per-SA drop counters. */
void kzd_dataplane_show_stats(struct kzd *d, struct emit *e);
uint64_t kzd_dataplane_outside_count(struct kzd *d);
/* The TUN device of IPsec<unit> was opened / is about to be closed. */
void kzd_dataplane_tun_open(struct kzd *d, unsigned unit);
void kzd_dataplane_tun_close(struct kzd *d, unsigned unit);

/* diagnose.c: `diagnose ipsec [PROFILE] [json]` (troubleshooting.md) for
 * one profile or all (profile NULL), in language lang ("ja", "en"). */
struct emit;
int kzd_diagnose(struct kzd *d, const char *profile, const char *lang, struct emit *e);

/* mobile.c: the modem of `modem` through ModemManager.  _config after
 * every apply (start-up, reload, console); _view fills what `show mobile`
 * and diagnose read; _route_ours: the default route mobile.c put on the
 * bearer's device, which apply.c leaves alone. */
struct kz_mobile_view;
struct kz_net_route;
void kzd_mobile_config(struct kzd *d);
void kzd_mobile_view(struct kzd *d, struct kz_mobile_view *v);
bool kzd_mobile_route_ours(struct kzd *d, const struct kz_net_route *r);
void kzd_mobile_stop(struct kzd *d);
/* show_mobile.c: `show mobile [json]`; the one-line summary of `show ip
 * address` ("" without `modem`). */
void kzd_mobile_commands_install(void);
void kzd_mobile_summary(struct kzd *d, char *out, size_t len);

/* main.c: reload the startup file (SIGHUP); 0 or the error count. */
int kzd_reload(struct kzd *d);

#endif
