/* console.h - the `kizuna` console: one command, a script on stdin, or the
 * interactive router prompt with line editing, TAB completion and `?` help.
 *
 * All grammar lives in the daemon; the console only carries lines over the
 * control socket (ctl_client.h) and prints what comes back: command output
 * on stdout, error text on stderr (stdout flushed first, so `2>&1` keeps the
 * screen in order). */
#ifndef KZ_CONSOLE_H
#define KZ_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/ctlproto.h"
#include "lib/strbuf.h"
#include "client/ctl_client.h"

/* Exit statuses of `kizuna` (not of `kizuna check`, which has its own). */
#define KZ_EXIT_OK 0     /* every command succeeded */
#define KZ_EXIT_FAIL 1   /* a command failed (its error is on stderr) */
#define KZ_EXIT_USAGE 2  /* bad options or an unsendable command line */
#define KZ_EXIT_NOCONN 3 /* kizunad unreachable, or the connection was lost */

struct console {
	struct ctl_client cc;
	const char *path;                /* the socket, for messages */
	char prompt[CTL_MAX_PROMPT + 1]; /* as the daemon sent it */
	struct strbuf banner;            /* output of the hello, if any */
	bool bye;                        /* the daemon ended the session */
	int verdict;  /* the last command's verdict (diagnose: 1 problem, 2 not judged) */
	bool midline; /* a line is being edited on screen */
};

/* "ja" when the first non-empty of LC_ALL, LC_MESSAGES, LANG starts with
 * "ja", else "en". */
const char *console_lang(void);

/* Joins command words into one line, quoting a word that holds a space or
 * tab (or is empty) with "..." as the config language does. */
void console_join_words(struct strbuf *out, int argc, char *const *argv);

/* Connects and says hello.  Prints why on failure and returns the exit
 * status to use; 0 on success. */
int console_open(struct console *con, const char *path);
void console_close(struct console *con);

/* One command from argv words: its output on stdout; exit status. */
int console_oneshot(struct console *con, int argc, char *const *argv);

/* Lines from in, one command each, no editing.  With echo, each line is
 * printed after the prompt first, as on a router's screen. */
int console_batch(struct console *con, FILE *in, bool echo);

/* The interactive prompt on a terminal (libedit); history in memory and in
 * ~/.kizuna_history. */
int console_interactive(struct console *con);

#endif
