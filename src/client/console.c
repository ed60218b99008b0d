/* console.c - the `kizuna` console; see console.h.
 *
 * The console knows no commands: TAB sends the line up to the cursor as a
 * completion request and `?` as a help request, and the daemon's answer is
 * shown the way a router shows it.  Only the editing (libedit), history and
 * printing happen here. */
#include "client/console.h"
#include "config/render.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "lib/err.h"
#include "lib/mem.h"

#define CON_HISTORY_FILE ".kizuna_history"
#define CON_HISTORY_SIZE 1000
#define CON_MAX_CANDIDATES 1024 /* a longer completion list is cut */

static volatile sig_atomic_t con_sigint; /* Ctrl-C: drop the line */
static volatile sig_atomic_t con_sigend; /* hangup or kill: leave, saving history */

const char *console_lang(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strncmp(v, "ja", 2) == 0 ? "ja" : "en";
	}
	return "en";
}

void console_join_words(struct strbuf *out, int argc, char *const *argv)
{
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (i)
			sb_putn(out, " ", 1);
		/* Quoted and escaped as the daemon's lexer reads it back. */
		kz_put_word(out, w);
	}
}

static void con_print(FILE *f, const char *p, size_t len)
{
	if (!len)
		return;
	fwrite(p, 1, len, f);
	if (p[len - 1] != '\n')
		fputc('\n', f);
}

/* Error text goes to stderr, after whatever stdout still holds, so the two
 * streams interleave as the commands ran. */
static void con_print_err(const char *p, size_t len)
{
	fflush(stdout);
	con_print(stderr, p, len);
	fflush(stderr);
}

static void con_set_prompt(struct console *con, const struct ctl_response *resp)
{
	size_t n = resp->prompt_len;

	if (!n)
		return; /* a goodbye or a refusal: keep the last prompt */
	if (n > CTL_MAX_PROMPT)
		n = CTL_MAX_PROMPT;
	memcpy(con->prompt, resp->prompt, n);
	con->prompt[n] = '\0';
}

/* One request.  Returns 0 with a response; a negative KZ_E* after printing
 * why.  When the connection is gone (con->cc.fd < 0) the session is over. */
static int con_call(struct console *con, uint8_t type, const char *text, size_t len,
		    struct ctl_response *resp)
{
	int r, e, connected = con->cc.fd >= 0;

	r = ctl_client_call(&con->cc, type, text, len, resp);
	if (r == 0) {
		con_set_prompt(con, resp);
		return 0;
	}
	e = errno;
	if (con->midline)
		fputc('\n', stdout); /* below the line being typed */
	fflush(stdout);
	if (connected && con->cc.fd >= 0) {
		/* Refused before sending: the daemon never saw the line. */
		if (r == KZ_ETOOBIG)
			fprintf(stderr, "%% line too long (at most %u bytes)\n",
				CTL_MAX_REQUEST - 1);
		else if (r == KZ_EPROTO)
			fprintf(stderr, "%% line holds a character that cannot be sent\n");
		else
			fprintf(stderr, "kizuna: %s\n", kz_strerror(r));
	} else if (r == KZ_EPROTO) {
		fprintf(stderr, "kizuna: malformed response from kizunad at %s\n", con->path);
	} else if (e == 0) {
		fprintf(stderr, "kizuna: kizunad at %s closed the connection\n", con->path);
	} else {
		fprintf(stderr, "kizuna: connection to kizunad at %s lost: %s\n", con->path,
			strerror(e));
	}
	return r;
}

/* The exit status a failed call leaves. */
static int con_call_status(const struct console *con)
{
	return con->cc.fd < 0 ? KZ_EXIT_NOCONN : KZ_EXIT_FAIL;
}

int console_open(struct console *con, const char *path)
{
	struct ctl_response resp;
	char hello[32];
	int r;

	memset(con, 0, sizeof(*con));
	ctl_client_init(&con->cc);
	sb_init(&con->banner);
	con->path = path;
	con->cc.cancel = &con_sigint;
	if (ctl_client_connect(&con->cc, path) < 0) {
		int e = errno;

		fprintf(stderr, "kizuna: cannot connect to kizunad at %s: %s%s\n", path,
			strerror(e),
			(e == ENOENT || e == ECONNREFUSED) ? " (is kizunad running?)" : "");
		return KZ_EXIT_NOCONN;
	}
	snprintf(hello, sizeof(hello), "lang=%s", console_lang());
	r = con_call(con, CTL_REQ_HELLO, hello, strlen(hello), &resp);
	if (r < 0)
		return KZ_EXIT_NOCONN;
	if (resp.status != CTL_ST_OK) {
		/* Turned away (too many sessions, ...): the output says why. */
		if (resp.output_len)
			con_print_err(resp.output, resp.output_len);
		else
			fprintf(stderr, "kizuna: kizunad at %s refused the session\n", path);
		return KZ_EXIT_NOCONN;
	}
	sb_putn(&con->banner, resp.output, resp.output_len);
	return 0;
}

void console_close(struct console *con)
{
	ctl_client_close(&con->cc);
	sb_free(&con->banner);
}

/* A first line of only blanks and a caret points at a column of the
 * command line as it stood after the prompt. */
static bool con_starts_with_caret(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == ' ')
		i++;
	return i < len && p[i] == '^' && (i + 1 == len || p[i + 1] == '\n');
}

/* Runs one line and prints its answer.  shown: the prompt and the line are
 * already on the screen (typed, or echoed); if not, an error that points
 * into the line gets them printed above it so the caret means something.
 * Returns KZ_EXIT_OK, KZ_EXIT_FAIL, or KZ_EXIT_NOCONN when the session
 * cannot go on. */
static int con_exec(struct console *con, const char *line, size_t len, bool shown)
{
	char before[CTL_MAX_PROMPT + 1];
	struct ctl_response resp;

	memcpy(before, con->prompt, sizeof(before));
	if (con_call(con, CTL_REQ_EXEC, line, len, &resp) < 0)
		return con_call_status(con);
	/* A streamed screen (ping, traceroute): each part as it comes.  Ctrl-C
	 * does not cut it (the command ends on its own, as on routers), so
	 * the session stays. */
	while (resp.status == CTL_ST_MORE) {
		volatile sig_atomic_t *cancel = con->cc.cancel;
		int r;

		fwrite(resp.output, 1, resp.output_len, stdout);
		fflush(stdout);
		con->cc.cancel = NULL;
		r = ctl_client_next(&con->cc, &resp);
		con->cc.cancel = cancel;
		if (r < 0) {
			fprintf(stderr, "kizuna: connection to kizunad at %s lost\n", con->path);
			return con_call_status(con);
		}
		con_set_prompt(con, &resp);
	}
	switch (resp.status) {
	case CTL_ST_OK:
		con_print(stdout, resp.output, resp.output_len);
		return KZ_EXIT_OK;
	case CTL_ST_OK_PROBLEM:
	case CTL_ST_OK_UNJUDGED:
		/* the command ran; its verdict is the exit status of a
		 * one-shot `kizuna diagnose ipsec` */
		con_print(stdout, resp.output, resp.output_len);
		con->verdict = resp.status == CTL_ST_OK_PROBLEM ? 1 : 2;
		return KZ_EXIT_OK;
	case CTL_ST_BYE:
		con_print(stdout, resp.output, resp.output_len);
		con->bye = true;
		return KZ_EXIT_OK;
	default:
		if (!shown && con_starts_with_caret(resp.output, resp.output_len)) {
			fflush(stdout);
			fprintf(stderr, "%s %.*s\n", before, (int)len, line);
		}
		con_print_err(resp.output, resp.output_len);
		return KZ_EXIT_FAIL;
	}
}

int console_oneshot(struct console *con, int argc, char *const *argv)
{
	struct strbuf line;
	int rc;

	sb_init(&line);
	/* `kizuna 'show run | inc peer'`: one argument holding blanks is a
	 * whole line (no command word has a blank), sent as typed. */
	if (argc == 1 && strpbrk(argv[0], " \t"))
		sb_puts(&line, argv[0]);
	else
		console_join_words(&line, argc, argv);
	if (line.truncated || line.len > CTL_MAX_REQUEST - 1) {
		fprintf(stderr, "kizuna: command too long\n");
		rc = KZ_EXIT_USAGE;
		goto out;
	}
	con->verdict = 0;
	rc = con_exec(con, sb_str(&line), line.len, false);
	if (rc == KZ_EXIT_OK && con->verdict)
		rc = con->verdict;
out:
	fflush(stdout);
	sb_free(&line);
	return rc;
}

static bool con_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* The prompt as shown: the daemon sends "site-a#", a router shows
 * "site-a# " before what is typed. */
static const char *con_shown_prompt(const struct console *con, char *buf, size_t len)
{
	size_t n = strlen(con->prompt);

	if (n && con->prompt[n - 1] != ' ')
		snprintf(buf, len, "%s ", con->prompt);
	else
		snprintf(buf, len, "%s", con->prompt);
	return buf;
}

int console_batch(struct console *con, FILE *in, bool echo)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int status = KZ_EXIT_OK;

	while (!con->bye && (n = getline(&line, &cap, in)) >= 0) {
		size_t len = (size_t)n;
		int rc;

		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		line[len] = '\0';
		if (echo) {
			char shown[CTL_MAX_PROMPT + 2];

			/* No trailing blank after the prompt of an empty line. */
			if (len)
				printf("%s%s\n", con_shown_prompt(con, shown, sizeof(shown)), line);
			else
				printf("%s\n", con->prompt);
		}
		if (con_blank(line, len))
			continue;
		rc = con_exec(con, line, len, echo);
		if (rc == KZ_EXIT_NOCONN) {
			status = rc;
			break;
		}
		if (rc != KZ_EXIT_OK)
			status = KZ_EXIT_FAIL;
	}
	fflush(stdout);
	free(line);
	return status;
}

/* ---- interactive ---------------------------------------------------- */

struct con_edit {
	struct console *con;
	EditLine *el;
	History *hist;    /* what the arrows recall: every line */
	History *persist; /* what is saved: lines without secrets */
	char hist_path[4096];
	char shown[CTL_MAX_PROMPT + 2];
};

static void con_signal_handler(int sig)
{
	if (sig == SIGINT)
		con_sigint = 1;
	else
		con_sigend = 1;
}

static char *con_prompt_fn(EditLine *el)
{
	struct con_edit *ed;

	el_get(el, EL_CLIENTDATA, &ed);
	return (char *)con_shown_prompt(ed->con, ed->shown, sizeof(ed->shown));
}

/* Characters (not bytes) in p[0..len), for libedit's cursor arithmetic. */
static int con_mbchars(const char *p, size_t len)
{
	mbstate_t st;
	int count = 0;

	memset(&st, 0, sizeof(st));
	while (len) {
		size_t n = mbrlen(p, len, &st);

		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&st, 0, sizeof(st));
			n = 1;
		} else if (n == 0) {
			n = 1;
		}
		p += n;
		len -= n;
		count++;
	}
	return count;
}

/* An odd number of quotes before the cursor: we are inside "...", where
 * `?` is an ordinary character of a key or an id. */
static bool con_in_quotes(const char *p, size_t len)
{
	bool in = false;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '"')
			in = !in;
	return in;
}

/* A candidate that describes a value rather than spelling a word ("<cr>",
 * "<1-255>"): listed, never typed in for the user. */
static bool con_is_placeholder(const char *w)
{
	return strpbrk(w, "< \t") != NULL;
}

/* Drops repeated candidates (a keyword offered by several commands). */
static size_t con_dedup(char **v, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < out; j++)
			if (strcmp(v[j], v[i]) == 0)
				break;
		if (j == out)
			v[out++] = v[i];
	}
	return out;
}

static size_t con_term_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Lists words in columns, like a shell or a router does for TAB. */
static void con_list(char **v, size_t n)
{
	size_t w = 0, cols, width = con_term_width();

	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) > w)
			w = strlen(v[i]);
	w += 2;
	cols = width / w ? width / w : 1;
	for (size_t i = 0; i < n; i++) {
		bool eol = (i + 1) % cols == 0 || i + 1 == n;

		if (eol)
			printf("%s\n", v[i]);
		else
			printf("%-*s", (int)w, v[i]);
	}
}

/* Splits text (NUL-terminated, ours to modify) into its non-empty lines. */
static size_t con_split_lines(char *p, char **v, size_t max)
{
	size_t n = 0;

	while (*p && n < max) {
		size_t len = strcspn(p, "\n");
		char *next = p[len] ? p + len + 1 : p + len;

		p[len] = '\0';
		if (len && p[len - 1] == '\r')
			p[len - 1] = '\0';
		if (*p)
			v[n++] = p;
		p = next;
	}
	return n;
}

/* Replaces the partial word before the cursor with text. */
static void con_replace_word(EditLine *el, const char *partial, size_t plen, const char *text)
{
	if (plen)
		el_deletestr(el, con_mbchars(partial, plen));
	el_insertstr(el, text);
}

static unsigned char con_complete_fn(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	char *cand[CON_MAX_CANDIDATES], *text = NULL;
	char word[CTL_MAX_PROMPT + CTL_MAX_REQUEST];
	const char *partial;
	struct ctl_response resp;
	struct con_edit *ed;
	size_t upto, plen, n, first = 0, ninsert = 0, common = 0;
	unsigned char ret;
	int r;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &ed);
	upto = (size_t)(li->cursor - li->buffer);
	partial = li->cursor;
	while (partial > li->buffer && partial[-1] != ' ' && partial[-1] != '\t')
		partial--;
	plen = (size_t)(li->cursor - partial);
	ed->con->midline = true;
	r = con_call(ed->con, CTL_REQ_COMPLETE, li->buffer, upto, &resp);
	ed->con->midline = false;
	if (r < 0)
		return ed->con->cc.fd < 0 ? CC_EOF : CC_REDISPLAY;
	if (resp.status != CTL_ST_OK) {
		printf("\n");
		con_print_err(resp.output, resp.output_len);
		return CC_REDISPLAY;
	}
	text = strndup(resp.output, resp.output_len);
	if (!text)
		return CC_ERROR;
	n = con_dedup(cand, con_split_lines(text, cand, CON_MAX_CANDIDATES));
	if (n == 0) {
		ret = CC_REFRESH_BEEP;
		goto out;
	}
	/* Only words that continue what is typed can be typed in for the
	 * user; the common part of those is what TAB may add. */
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (con_is_placeholder(cand[i]) || strncasecmp(cand[i], partial, plen) != 0)
			continue;
		if (ninsert++ == 0) {
			first = i;
			common = strlen(cand[i]);
			continue;
		}
		while (k < common &&
		       tolower((unsigned char)cand[i][k]) == tolower((unsigned char)cand[first][k]))
			k++;
		common = k;
	}
	if (n == 1 && ninsert == 1) {
		/* One way on: complete the word and step past it.  The buffer
		 * past lastchar is stale, not a terminator. */
		bool space_next = li->cursor < li->lastchar && *li->cursor == ' ';

		snprintf(word, sizeof(word), "%s%s", cand[first], space_next ? "" : " ");
		con_replace_word(el, partial, plen, word);
		ret = CC_REFRESH;
		goto out;
	}
	if (ninsert && common > plen) {
		snprintf(word, sizeof(word), "%.*s", (int)common, cand[first]);
		con_replace_word(el, partial, plen, word);
	}
	printf("\n");
	con_list(cand, n);
	fflush(stdout);
	ret = CC_REDISPLAY;
out:
	free(text);
	return ret;
}

static unsigned char con_help_fn(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	struct ctl_response resp;
	struct con_edit *ed;
	size_t upto;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &ed);
	upto = (size_t)(li->cursor - li->buffer);
	if (con_in_quotes(li->buffer, upto)) {
		el_insertstr(el, "?");
		return CC_REFRESH;
	}
	/* Show the `?` where it was typed, as a router does, then the help
	 * below it; the line itself is left as it was. */
	printf("%s\n", li->cursor == li->lastchar ? "?" : "");
	fflush(stdout);
	if (con_call(ed->con, CTL_REQ_HELP, li->buffer, upto, &resp) < 0)
		return ed->con->cc.fd < 0 ? CC_EOF : CC_REDISPLAY;
	if (resp.status == CTL_ST_OK)
		con_print(stdout, resp.output, resp.output_len);
	else
		con_print_err(resp.output, resp.output_len);
	fflush(stdout);
	return CC_REDISPLAY;
}

/* In a configuration mode: the prompt says "(config...)". */
static bool con_in_config(const struct console *con)
{
	return strstr(con->prompt, "(config") != NULL;
}

/* Drops the line being edited: the cursor goes to its end, then all of it
 * is deleted. */
static void con_drop_line(EditLine *el)
{
	const LineInfo *li = el_line(el);

	if (li->lastchar > li->cursor)
		el_cursor(el, con_mbchars(li->cursor, (size_t)(li->lastchar - li->cursor)));
	li = el_line(el);
	if (li->cursor > li->buffer)
		el_deletestr(el, con_mbchars(li->buffer, (size_t)(li->cursor - li->buffer)));
}

/* Ctrl-C while editing: the line is dropped, a fresh prompt below. */
static unsigned char con_cancel_fn(EditLine *el, int ch)
{
	(void)ch;
	printf("^C\n");
	fflush(stdout);
	con_drop_line(el);
	return CC_REDISPLAY;
}

static int con_exec(struct console *con, const char *line, size_t len, bool shown);

/* Ctrl-Z leaves configuration mode, as on routers: the line being typed is
 * dropped and `end` runs.  The terminal sends no signal while a line is
 * edited (console_interactive), so the key reaches us as a character and
 * the console is never stopped. */
static unsigned char con_ctrlz_fn(EditLine *el, int ch)
{
	struct con_edit *ed;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &ed);
	if (!con_in_config(ed->con))
		return CC_REFRESH_BEEP;
	printf("^Z\n");
	fflush(stdout);
	con_drop_line(el);
	ed->con->midline = true;
	con_exec(ed->con, "end", 3, true);
	ed->con->midline = false;
	fflush(stdout);
	return ed->con->cc.fd < 0 ? CC_EOF : CC_REDISPLAY;
}

/* Before the console is left: with changes not yet written to the startup
 * file, asks whether to write them (interactive only).  False: stay. */
static bool con_offer_save(struct console *con)
{
	static const char q[] = "show running-config status json";
	struct ctl_response resp;
	char *ans = NULL;
	size_t cap = 0;
	bool leave = true;

	const char *k;

	if (con->cc.fd < 0 || con_call(con, CTL_REQ_EXEC, q, strlen(q), &resp) < 0 ||
	    resp.status != CTL_ST_OK ||
	    !(k = memmem(resp.output, resp.output_len, "\"unsaved\"", 9)))
		return true;
	k += 9;
	while (k < resp.output + resp.output_len && (*k == ' ' || *k == ':'))
		k++;
	if ((size_t)(resp.output + resp.output_len - k) < 4 || memcmp(k, "true", 4) != 0)
		return true;
	for (;;) {
		ssize_t n;

		printf("The running configuration has unsaved changes. Save them to the startup "
		       "file? [yes/no/cancel]: ");
		fflush(stdout);
		n = getline(&ans, &cap, stdin);
		if (n < 0) {
			printf("\n");
			break;
		}
		while (n && (ans[n - 1] == '\n' || ans[n - 1] == '\r' || ans[n - 1] == ' '))
			ans[--n] = '\0';
		if (n && !strncasecmp(ans, "yes", (size_t)n)) {
			con_exec(con, "write memory", 12, true);
			break;
		}
		if (n && !strncasecmp(ans, "no", (size_t)n))
			break;
		if (n && !strncasecmp(ans, "cancel", (size_t)n)) {
			leave = false;
			break;
		}
	}
	free(ans);
	return leave;
}

/* A line that ends the session from exec mode: `exit` or `quit`, maybe
 * abbreviated as the grammar takes them. */
static bool con_is_leave(const struct console *con, const char *line)
{
	size_t n;

	if (con_in_config(con))
		return false;
	while (*line == ' ' || *line == '\t')
		line++;
	n = strcspn(line, " \t");
	if (line[n + strspn(line + n, " \t")] != '\0')
		return false;
	return (n >= 2 && !strncasecmp(line, "exit", n) && n <= 4) ||
		(n >= 1 && n <= 4 && !strncasecmp(line, "quit", n));
}

/* Lines that set a pre-shared key are kept out of the history file: the
 * file outlives the session and the key must not sit in a home directory.
 * Keywords may be abbreviated, so any word that starts "pre-shared-key"
 * with at least "pre" counts. */
static bool con_has_secret(const char *line)
{
	static const char kw[] = "pre-shared-key";
	const char *p = line;

	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n >= 3 && n < sizeof(kw) && strncasecmp(p, kw, n) == 0)
			return true;
		p += n;
	}
	return false;
}

static void con_history_open(struct con_edit *ed)
{
	const char *home = getenv("HOME");
	HistEvent ev;

	ed->hist = history_init();
	ed->persist = history_init();
	if (!ed->hist || !ed->persist)
		return;
	history(ed->hist, &ev, H_SETSIZE, CON_HISTORY_SIZE);
	history(ed->hist, &ev, H_SETUNIQUE, 1);
	history(ed->persist, &ev, H_SETSIZE, CON_HISTORY_SIZE);
	history(ed->persist, &ev, H_SETUNIQUE, 1);
	if (!home || !*home)
		return;
	if ((size_t)snprintf(ed->hist_path, sizeof(ed->hist_path), "%s/%s", home,
			     CON_HISTORY_FILE) >= sizeof(ed->hist_path)) {
		ed->hist_path[0] = '\0';
		return;
	}
	/* A missing file is the normal first run. */
	history(ed->hist, &ev, H_LOAD, ed->hist_path);
	history(ed->persist, &ev, H_LOAD, ed->hist_path);
}

static void con_history_add(struct con_edit *ed, const char *line)
{
	HistEvent ev;

	if (ed->hist)
		history(ed->hist, &ev, H_ENTER, line);
	if (ed->persist && !con_has_secret(line))
		history(ed->persist, &ev, H_ENTER, line);
}

/* Saves with mode 0600 whatever the umask: commands name peers and
 * networks.  An unwritable home just means no saved history. */
static void con_history_save(struct con_edit *ed)
{
	HistEvent ev;
	FILE *f;
	int fd;

	if (!ed->persist || !ed->hist_path[0])
		return;
	fd = open(ed->hist_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	(void)fchmod(fd, 0600);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	history(ed->persist, &ev, H_SAVE_FP, f);
	fclose(f);
}

static void con_history_close(struct con_edit *ed)
{
	if (ed->hist)
		history_end(ed->hist);
	if (ed->persist)
		history_end(ed->persist);
}

int console_interactive(struct console *con)
{
	struct sigaction sa, old_int, old_hup, old_term;
	struct con_edit ed;
	struct sigaction old_tstp;
	int status = KZ_EXIT_OK;

	memset(&ed, 0, sizeof(ed));
	ed.con = con;
	ed.el = el_init("kizuna", stdin, stdout, stderr);
	if (!ed.el) {
		fprintf(stderr, "kizuna: cannot set up line editing\n");
		return console_batch(con, stdin, false);
	}
	con_history_open(&ed);
	el_set(ed.el, EL_CLIENTDATA, &ed);
	el_set(ed.el, EL_EDITOR, "emacs");
	el_set(ed.el, EL_SIGNAL, 1);
	el_set(ed.el, EL_PROMPT, con_prompt_fn);
	if (ed.hist)
		el_set(ed.el, EL_HIST, history, ed.hist);
	el_set(ed.el, EL_ADDFN, "kz-complete", "complete the word at the cursor", con_complete_fn);
	el_set(ed.el, EL_ADDFN, "kz-help", "show what may come next", con_help_fn);
	el_set(ed.el, EL_BIND, "^I", "kz-complete", NULL);
	el_set(ed.el, EL_BIND, "?", "kz-help", NULL);
	/* While a line is edited the terminal sends no signals: Ctrl-Z and
	 * Ctrl-C arrive as characters, for `end` and for dropping the line.
	 * While a command runs, Ctrl-C interrupts it and Ctrl-Z is ignored:
	 * a router's console is never suspended. */
	el_set(ed.el, EL_SETTY, "-d", "-isig", NULL);
	el_set(ed.el, EL_ADDFN, "kz-end", "leave configuration mode", con_ctrlz_fn);
	el_set(ed.el, EL_BIND, "^Z", "kz-end", NULL);
	el_set(ed.el, EL_ADDFN, "kz-cancel", "drop the line", con_cancel_fn);
	el_set(ed.el, EL_BIND, "^C", "kz-cancel", NULL);
	/* The user's ~/.editrc comes last, so it may rebind even these. */
	el_source(ed.el, NULL);

	/* Ctrl-C abandons the line being typed, not the console; a hangup or
	 * kill ends the console as Ctrl-D does, so history is still saved.  No
	 * SA_RESTART: the interrupted read returns and the loop decides. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = con_signal_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTSTP, &sa, &old_tstp);

	if (con->banner.len)
		con_print(stdout, con->banner.s, con->banner.len);
	while (!con->bye) {
		const char *got;
		char *line;
		size_t len;
		int count, rc;

		con_sigint = 0;
		got = el_gets(ed.el, &count);
		if (con_sigend)
			break;
		if (!got) {
			if (count < 0 && errno == EINTR && con_sigint) {
				printf("^C\n");
				fflush(stdout);
				el_reset(ed.el);
				continue;
			}
			if (con->cc.fd >= 0)
				printf("\n"); /* Ctrl-D: leave the prompt's line clean */
			if (!con_offer_save(con))
				continue;
			break;
		}
		if (con->cc.fd < 0) {
			status = KZ_EXIT_NOCONN; /* lost during TAB or `?` */
			break;
		}
		line = strdup(got);
		if (!line) {
			status = KZ_EXIT_FAIL;
			break;
		}
		len = strlen(line);
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (con_is_leave(con, line) && !con_offer_save(con)) {
			free(line);
			continue;
		}
		if (!con_blank(line, len)) {
			con_history_add(&ed, line);
			rc = con_exec(con, line, len, true);
			if (rc == KZ_EXIT_NOCONN)
				status = rc;
		}
		free(line);
		fflush(stdout);
		if (status == KZ_EXIT_NOCONN)
			break;
	}
	if (con->cc.fd < 0 && !con->bye)
		status = KZ_EXIT_NOCONN;
	/* Save before the old handlers return: a hangup arriving now (the
	 * terminal closing) must not end us with the history unwritten. */
	con_history_save(&ed);
	el_end(ed.el);
	sigaction(SIGTSTP, &old_tstp, NULL);
	con_history_close(&ed);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return status;
}
