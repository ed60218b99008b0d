/* daemon.h - kizunad's state, shared by its parts (main, apply, session,
 * show, ike_io, dp_ctl, diagnose).  Only this folder knows about
 * processes, signals, the event loop and the console and IKE sockets; the
 * data plane's sockets and threads are its own (src/dp/). */
#ifndef KZ_DAEMON_H
#define KZ_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/role.h"
#include "cli/cli.h"
#include "config/check.h"
#include "config/model.h"
#include "dp/dp.h"

struct event_base;
struct event;
struct ctl_server;
struct ctl_server_ops;
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
	struct kz_role_groups roles; /* --admin-group, --operator-group */
	unsigned console_idle_s;     /* --console-idle */
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
	unsigned workers;  /* data-plane workers asked for; 0: one per CPU */
	uint64_t t_listen; /* when the console began to listen (ms, monotonic) */
	/* The WAN's gateway toward the peers, learnt from the kernel's routes
	 * through MobileEthernet0.0 before a route into a tunnel covered them
	 * (apply.c: pinned peer routes). */
	struct in_addr wan_gw;
	bool wan_gw_set;
	/* Whose console request runs now (session.c): who saved a version. */
	uid_t req_uid;
	bool req_uid_known;
	/* The modem behind MobileEthernet0.0 (mobile.c); NULL without `modem`. */
	struct kzd_mobile *mobile;
	/* Last config check result per profile, to log changes once. */
	char **last_check;
	size_t nlast_check;
	/* edit.c: during a console edit, the config IKE still runs on (the
	 * running config of before the edit), and the idle timer ending it. */
	struct kz_config *ike_cfg;
	struct event *ev_edit;
};

/* check_config.c: `kizunad --check-config`: loads path and runs the
 * offline config check, printing what it finds; 0 when kizunad would take
 * the file and the check found no problem, else 1. */
int kzd_check_config(const char *path);

/* metrics.c: the metrics file of `metrics file PATH interval N`: a 1 s
 * timer writes it when due; stop removes the file it wrote. */
int kzd_metrics_start(struct kzd *d);
void kzd_metrics_stop(struct kzd *d);

/* kzd.c: the daemon's life, in this order.  kzd_load reads and parses a
 * startup file, logging every error with file:line:column; 0 or the error
 * count (*unreadable: the file could not be read at all).  kzd_open
 * creates the event loop, the console socket (none when socket_path is
 * NULL), the netlink watch and the signal events; kzd_bring_up applies the
 * running config and starts the data plane and IKE; kzd_close undoes all
 * of it and frees d (clean: a requested stop, which removes our routes,
 * the fail-closed ones too). */
int kzd_load(const char *path, struct kz_config **out, bool *unreadable);
int kzd_open(struct kzd *d);
int kzd_bring_up(struct kzd *d);
void kzd_close(struct kzd *d, bool clean);
/* Frees *ev if it is set and clears it. */
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

/* session.c: console sessions on the control socket.  The ops are the
 * sessions' own (session_open takes the struct kzd): the socket calls them,
 * and so do the golden transcripts (tests/cli/golden.c) without one. */
int kzd_sessions_start(struct kzd *d);
extern const struct ctl_server_ops kzd_session_ops;
void kzd_sessions_rebind(struct kzd *d); /* after the running config was replaced */

/* show.c: the exec commands, installed into the console's grammar (once,
 * before the first session). */
void kzd_commands_install(void);
/* The running config differs from the startup file (show.c). */
bool kzd_config_unsaved(struct kzd *d);
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
/* *verdict: enum diag_verdict of the report (unchanged on an error). */
int kzd_diagnose(struct kzd *d, const char *profile, const char *lang, struct emit *e,
		 int *verdict);

/* ping.c: `ping` and `traceroute` (exec rows in show.c), whose output
 * streams after the request returned; a session with one running waits
 * for it (kzd_job_pending) and stops it when it closes. */
int kzd_x_ping(struct cli_session *s, const struct cli_args *a, struct emit *e);
int kzd_x_traceroute(struct cli_session *s, const struct cli_args *a, struct emit *e);
bool kzd_job_pending(const struct cli_session *s);
/* Starts ping (PRIVMSG_TOOL_PING: count, size) or traceroute, output on a
 * pipe (*fd, read end); 0 or an errno.  _privsep_: the child asks the
 * parent, which runs kzd_job_spawn; *pid is the parent's child, whose wait
 * status kzd_privsep_job_end returns (kill: SIGTERM first). */
struct in_addr;
int kzd_job_spawn(unsigned tool, struct in_addr dst, const struct in_addr *src, unsigned count,
		  unsigned size, pid_t *pid, int *fd);
int kzd_privsep_job_start(unsigned tool, struct in_addr dst, const struct in_addr *src,
			  unsigned count, unsigned size, pid_t *pid, int *fd);
int kzd_privsep_job_end(pid_t pid, bool kill_it);
/* metrics.c in the child: the parent writes (text) or removes (NULL) the
 * metrics file, if its copy of the startup file names that path; -1 and
 * errno. */
int kzd_privsep_metrics(const char *path, const char *text, size_t len);
/* session.c: a console peer's role by its groups, its name in user;
 * _privsep_: the child asks the parent, which runs the former. */
enum kz_role kzd_session_role(const struct kzd *d, uid_t uid, gid_t gid, char *user, size_t len);
enum kz_role kzd_privsep_role(uid_t uid, gid_t gid, char *user, size_t len);
/* mobile.c in the child: a socket connected to the system bus by the
 * parent as the child's user (PRIVMSG_BUS_OPEN), or -1 (logged). */
int kzd_privsep_bus_open(void);
void kzd_job_abort(const struct cli_session *s);

/* edit.c: one renegotiation per console edit.  before: a copy of the
 * running config when a line is typed in a config mode and no edit runs
 * (NULL otherwise); after: with what the line did and the node it left
 * the session in.  commit: the edit is over, IKE takes the running
 * config; drop: the running config was replaced (reload). */
struct kz_config *kzd_edit_before(struct kzd *d, enum cli_node node);
void kzd_edit_after(struct kzd *d, struct kz_config *pre, enum cli_node was, enum cli_node now,
		    unsigned effects);
void kzd_edit_commit(struct kzd *d);
/* TAB or `?` in a config mode: input, the idle time starts again. */
void kzd_edit_touch(struct kzd *d, enum cli_node node);
void kzd_edit_drop(struct kzd *d);
void kzd_edit_free(struct kzd *d);

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

/* privsep.c: the daemon as a privileged parent and an unprivileged
 * child (user, chroot, no capabilities, seccomp).  kzd_privsep_user looks
 * the user up (a message on stderr and -1 if there is none);
 * kzd_privsep_run forks the child, serves its requests until SIGTERM or
 * SIGINT, then removes our routes and frees d; the exit status. */
struct kzd_privsep {
	const char *user;
	uid_t uid;
	gid_t gid;
	pid_t parent;  /* set by kzd_privsep_run */
	char root[64]; /* the child's root (privsep_int.h), the same */
};
int kzd_privsep_user(struct kzd_privsep *ps, const char *user);
int kzd_privsep_run(struct kzd *d, struct kzd_privsep *ps);
/* Files of the daemon: version 0 is the startup file, 1..KZD_ARCHIVE_KEEP
 * the archive's (archive.c); at most CLI_MAX_FILE, NUL-terminated, free()
 * it (kz_wipe first: keys); NULL with errno.  In the child they come from
 * the parent. */
char *kzd_file_read(struct kzd *d, unsigned version, size_t *len);
/* file.c: a file replaced whole: PATH.tmp made new (O_EXCL|O_NOFOLLOW,
 * MODE whatever the umask), written, fsync'ed when sync, renamed over
 * PATH; on failure PATH is as it was.  -1 with errno. */
struct kzd_file {
	int fd;
	char path[4096], tmp[4100];
};
int kzd_file_begin(struct kzd_file *f, const char *path, mode_t mode);
int kzd_file_write(struct kzd_file *f, const void *p, size_t len);
int kzd_file_commit(struct kzd_file *f, bool sync);
void kzd_file_abort(struct kzd_file *f);
int kzd_file_replace(const char *path, const void *p, size_t len, mode_t mode, bool sync);
/* FROM (a regular file, at most max bytes; follow: through a symbolic
 * link) copied to TO as above; the bounce buffer is wiped. */
int kzd_file_copy(const char *from, bool follow, size_t max, const char *to, mode_t mode,
		  bool sync);
/* show.c: write memory's file work: <config>.tmp (0600, O_EXCL), the old
 * file kept as <config>.bak, rename, archive version 1 saved by
 * d->req_uid; -1 with errno.  In the child the parent does it
 * (kzd_privsep_save). */
int kzd_save_config(struct kzd *d, const char *text, size_t len);
int kzd_privsep_save(struct kzd *d, const char *text, size_t len);
/* diagnose.c: reads the message catalogue now (before the chroot). */
void kzd_diagnose_preload(void);

/* kzd.c: removes every route of ours (a clean stop). */
void kzd_routes_flush(void);
/* kzd.c: reload the startup file (SIGHUP); 0 or the error count. */
int kzd_reload(struct kzd *d);
/* The same from another file (configure replace): only profiles whose
 * settings changed renegotiate. */
int kzd_reload_from(struct kzd *d, const char *path);

/* archive.c: the last KZD_ARCHIVE_KEEP saved versions of the startup
 * file, <config>.1 (newest) .. <config>.10, mode 0600, each beginning
 * with a comment saying when and by whom (uid) it was saved. */
#define KZD_ARCHIVE_KEEP 10
void kzd_archive_save(struct kzd *d, const char *text, size_t len);
int kzd_x_show_archive(struct cli_session *s, const struct cli_args *a, struct emit *e);
int kzd_x_configure_replace(struct cli_session *s, const struct cli_args *a, struct emit *e);

#endif
