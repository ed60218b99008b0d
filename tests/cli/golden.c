/* golden.c - the golden console transcripts, in one process.
 *
 * Each transcript in tests/cli/golden/ (*.txt) is a router screen.  Its first line names the
 * startup config (`# config: FILE`, relative to tests/cli/); every line that
 * starts with a prompt (`site-a#`, `site-a(config-if)#`, ...) is typed into
 * the console, everything else is the expected screen.
 *
 * The daemon's own code runs here: its grammar, command handlers, apply
 * and IKE steps (kzd.c: load, open, bring up, close) with no console
 * socket, and the console's own batch loop (client/console.c) prints the
 * screen.  Between the two, in place of the socket, each request goes
 * through kzd_session_ops and ctl_server_answer as the server answers it,
 * and its response through the control protocol's frame encoder and
 * parser, as the client reads it.
 *
 * Each transcript runs in a child process inside a user and network
 * namespace of its own (or, for root without user namespaces, a network
 * namespace), with wan0 at 100.64.0.2/24 - what gw-a has in the lab's
 * carrier NAT mode - so the interface state is the kernel's: no root and no
 * lab.  The TUN devices are stood in for (fake_tun.c): /dev/net/tun is the
 * one thing a user namespace cannot open.
 *
 * usage: golden CLI_DIR [TRANSCRIPT...]
 *   KZ_GOLDEN_UPDATE=1 rewrites the transcripts from what the console
 *   printed (review the diff before committing it).
 * Exit: 0 all passed, 1 a failure, 77 no namespace could be made. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <glob.h>
#include <regex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/ctlproto.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "client/console.h"
#include "daemon/ctl_server.h"
#include "daemon/daemon.h"

#define SKIP 77
#define PROMPT_RE "^[A-Za-z0-9_.-]+(\\([a-z-]+\\))?# ?"

/* ---- the console's connection, in this process -------------------- */

static struct kzd *g_d;
static void *g_sess;
static struct strbuf g_out, g_frame;

/* What the daemon's loop would have done between two requests: netlink
 * events, timers, IKE input. */
static void pump(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(g_d->base, EVLOOP_NONBLOCK);
}

void ctl_client_init(struct ctl_client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int ctl_client_connect(struct ctl_client *c, const char *path)
{
	(void)path;
	g_sess = kzd_session_ops.session_open(g_d, getuid(), getgid());
	if (!g_sess) {
		errno = ECONNREFUSED;
		return KZ_ESYS;
	}
	c->fd = 0; /* connected */
	return 0;
}

int ctl_client_call(struct ctl_client *c, uint8_t type, const char *text, size_t len,
		    struct ctl_response *resp)
{
	struct ctl_request req = { .type = type, .text = text, .len = len };
	char prompt[CTL_MAX_PROMPT + 1];
	uint8_t status;
	struct buf b, body;
	int r;

	if (c->fd < 0) {
		errno = 0;
		return KZ_EIO;
	}
	pump();
	r = ctl_server_answer(&kzd_session_ops, g_sess, &req, &g_out, &status, prompt,
			      sizeof(prompt));
	pump();
	if (r == CTL_SERVER_DEFER)
		return KZ_EPROTO; /* streamed output needs the socket (ping) */
	/* The response as the socket carries it and the client reads it. */
	sb_reset(&g_frame);
	r = ctl_build_response(&g_frame, status, prompt, g_out.s, g_out.len);
	if (r < 0)
		return r;
	buf_init(&b, g_frame.s, g_frame.len);
	r = ctl_parse_frame(&b, CTL_MAX_FRAME, &body);
	if (r == 0)
		r = ctl_parse_response(&body, resp);
	if (r < 0)
		return KZ_EPROTO;
	if (status == CTL_ST_BYE)
		c->fd = -1;
	return 0;
}

/* Nothing here streams (CTL_ST_MORE needs the socket: ping, traceroute). */
int ctl_client_next(struct ctl_client *c, struct ctl_response *resp)
{
	(void)resp;
	c->fd = -1;
	errno = 0;
	return KZ_EIO;
}

void ctl_client_close(struct ctl_client *c)
{
	if (g_sess)
		kzd_session_ops.session_close(g_sess);
	g_sess = NULL;
	c->fd = -1;
}

/* ---- one transcript, in a child ----------------------------------- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A namespace of our own: user and network, or network alone for root. */
static int enter_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (write_file("/proc/self/uid_map", map) < 0)
			return -1;
		if (write_file("/proc/self/setgroups", "deny") < 0)
			return -1;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		return write_file("/proc/self/gid_map", map);
	}
	if (uid == 0 && unshare(CLONE_NEWNET) == 0)
		return 0;
	return -1;
}

/* The devices the configs name, as the lab's gw-a has them. */
static int make_links(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		/* Peers up, so each device has a carrier once the daemon
		 * sets it up (a TUN device has one while the daemon holds
		 * it). */
		"ip link add wan0 type veth peer name wan0p",
		"ip link set wan0p up",
		"ip link set wan0 up",
		"ip addr add 100.64.0.2/24 dev wan0",
		"ip link add ipsec0 type veth peer name ipsec0p",
		"ip link set ipsec0p up",
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (system(cmds[i]) != 0) {
			fprintf(stderr, "golden: '%s' failed\n", cmds[i]);
			return -1;
		}
	return 0;
}

/* The typed lines of transcript t, prompts removed, into a file. */
static FILE *typed_lines(FILE *t)
{
	FILE *in = tmpfile();
	char *line = NULL;
	size_t cap = 0;
	regex_t re;
	regmatch_t m;

	if (!in || regcomp(&re, PROMPT_RE, REG_EXTENDED) != 0)
		return NULL;
	while (getline(&line, &cap, t) >= 0)
		if (regexec(&re, line, 1, &m, 0) == 0)
			fputs(line + m.rm_eo, in);
	regfree(&re);
	free(line);
	rewind(in);
	return in;
}

/* Runs transcript t (its first line already read as head, the config conf
 * copied to work/conf) with the screen going to out and the daemon's log
 * to logf.  The child's exit status. */
static int run_one(FILE *t, const char *head, const char *conf, int out, FILE *logf)
{
	struct console con;
	struct kzd *d;
	FILE *in;
	int rc;

	if (enter_namespace() < 0)
		return SKIP;
	if (make_links() < 0)
		return 1;
	in = typed_lines(t);
	if (!in)
		return 1;
	kz_log_open("kizunad", 1, KZ_LOG_INFO);
	kz_log_to(logf);
	kzd_commands_install();
	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->config_path = conf;
	d->ike_fd500 = d->ike_fd4500 = -1;
	if (kzd_load(conf, &d->running, NULL) || kzd_open(d) < 0 || kzd_bring_up(d) < 0) {
		fprintf(stderr, "golden: the daemon did not start (see its log)\n");
		return 1;
	}
	g_d = d;
	sb_init(&g_out);
	sb_init(&g_frame);
	/* The screen: what the console prints on stdout and stderr. */
	fflush(stdout);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
		return 1;
	fputs(head, stdout);
	rc = console_open(&con, "(in-process)");
	if (rc == 0)
		console_batch(&con, in, true);
	fflush(stdout);
	console_close(&con);
	kzd_close(d, true);
	sb_free(&g_out);
	sb_free(&g_frame);
	fclose(in);
	return rc == 0 ? 0 : 1;
}

/* ---- the transcripts ------------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		s = malloc((size_t)n + 1);
		if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		}
		if (s) {
			s[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return s;
}

/* 0 passed (or updated), 1 failed, SKIP. */
static int transcript(const char *cli, const char *work, const char *t)
{
	const char *base = strrchr(t, '/') ? strrchr(t, '/') + 1 : t;
	char head[512], conf_src[4096], conf[4096], outp[4096], logp[4096], cmd[16384];
	char *want = NULL, *got = NULL;
	size_t wlen = 0, glen = 0;
	int status, out, r = 1;
	FILE *tf, *logf;
	pid_t pid;

	tf = fopen(t, "r");
	if (!tf || !fgets(head, sizeof(head), tf) || strncmp(head, "# config:", 9) != 0) {
		printf("golden %s: first line must be '# config: FILE'\n", base);
		if (tf)
			fclose(tf);
		return 1;
	}
	snprintf(conf_src, sizeof(conf_src), "%s/%s", cli, head + 9 + strspn(head + 9, " "));
	conf_src[strcspn(conf_src, "\n")] = '\0';
	snprintf(conf, sizeof(conf), "%s/%s.conf", work, base);
	snprintf(outp, sizeof(outp), "%s/%s.out", work, base);
	snprintf(logp, sizeof(logp), "%s/%s.log", work, base);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", conf_src, conf);
	out = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	logf = fopen(logp, "w");
	if (system(cmd) != 0 || out < 0 || !logf) {
		printf("golden %s: cannot set up (%s)\n", base, conf_src);
		goto done;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(run_one(tf, head, conf, out, logf));
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		printf("golden %s: cannot fork\n", base);
		goto done;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP) {
		r = SKIP;
		goto done;
	}
	want = slurp(t, &wlen);
	got = slurp(outp, &glen);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
		printf("golden %s: FAILED to run (%s %d)\n", base,
		       WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	} else if (getenv("KZ_GOLDEN_UPDATE") && !strcmp(getenv("KZ_GOLDEN_UPDATE"), "1")) {
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", outp, t);
		r = system(cmd) != 0;
		printf("golden %s: %s\n", base, r ? "cannot update" : "updated");
		goto done;
	} else if (want && wlen == glen && !memcmp(want, got, wlen)) {
		printf("golden %s: ok\n", base);
		r = 0;
		goto done;
	} else {
		printf("golden %s: FAILED (expected - / got +)\n", base);
		fflush(stdout);
		snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s'", t, outp);
		if (system(cmd) == -1)
			printf("(no diff)\n");
	}
	printf("--- kizunad log:\n");
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "cat '%s'", logp);
	if (system(cmd) == -1)
		printf("(no log)\n");
done:
	free(want);
	free(got);
	if (out >= 0)
		close(out);
	if (logf)
		fclose(logf);
	fclose(tf);
	return r;
}

int main(int argc, char **argv)
{
	char work[] = "/tmp/kz-golden.XXXXXX", pattern[4096], cmd[4200];
	unsigned pass = 0, fail = 0;
	bool skipped = false;
	glob_t g = { 0 };
	char **list;
	size_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: golden CLI_DIR [TRANSCRIPT...]\n");
		return 2;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		printf("golden: needs ip (apt-get install iproute2)\n");
		return SKIP;
	}
	if (argc > 2) {
		list = argv + 2;
		n = (size_t)argc - 2;
	} else {
		snprintf(pattern, sizeof(pattern), "%s/golden/*.txt", argv[1]);
		if (glob(pattern, 0, NULL, &g) != 0) {
			printf("golden: no transcripts in %s/golden\n", argv[1]);
			return 1;
		}
		list = g.gl_pathv;
		n = g.gl_pathc;
	}
	if (!mkdtemp(work))
		return 1;
	for (size_t i = 0; i < n; i++) {
		int r = transcript(argv[1], work, list[i]);

		if (r == SKIP) {
			printf("golden: needs user namespaces (unshare -rn) or root\n");
			skipped = true;
			break;
		}
		r ? fail++ : pass++;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd) != 0)
		fprintf(stderr, "golden: cannot remove %s\n", work);
	globfree(&g);
	if (skipped)
		return SKIP;
	printf("golden: %u passed, %u failed\n", pass, fail);
	return fail ? 1 : 0;
}
