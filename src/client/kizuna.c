/* kizuna.c - main of `kizuna`, the console of kizunad.
 *
 *   kizuna [-s SOCKET] [COMMAND WORDS...]   one command, or the console
 *   kizuna check FILE [PEER-FILE]           offline config check
 *   kizuna peer-config FILE PROFILE [...]   the other site's config
 *
 * Chooses the mode and the socket; the console itself is console.c, the
 * offline check check_main.c, peer-config peer_main.c. */
#include <getopt.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/check_main.h"
#include "client/genkey.h"
#include "client/console.h"
#include "client/peer_main.h"

#ifndef KZ_VERSION
#define KZ_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kizuna [-s SOCKET] [COMMAND WORDS...]\n"
		"       kizuna check FILE [PEER-FILE]\n"
		"       kizuna peer-config FILE PROFILE [--format kizuna|swanctl|both]\n"
		"                          [--address ADDRESS]\n"
		"       kizuna genkey\n"
		"\n"
		"With COMMAND WORDS, runs that one command on kizunad and exits\n"
		"(kizuna show ike sa; one quoted argument is a whole line:\n"
		"kizuna 'show run | inc peer').  Without, opens the interactive console (line\n"
		"editing, history, TAB completion, ? for help); when standard input is\n"
		"not a terminal, runs its lines one by one instead.\n"
		"`kizuna check` checks config files offline, with no daemon.\n"
		"`kizuna peer-config` prints the config the other site needs to match\n"
		"a profile (kizuna and strongSwan swanctl.conf); it contains the key.\n"
		"`kizuna genkey` prints a random key (142 bits) for pre-shared-key ascii.\n"
		"\n"
		"options:\n"
		"  -s, --socket PATH  kizunad's console socket\n"
		"                     (default: $KIZUNA_SOCKET, else %s)\n"
		"  -h, --help         show this help and exit\n"
		"  -V, --version      show the version and exit\n"
		"\n"
		"environment:\n"
		"  KIZUNA_SOCKET      the socket when -s is not given\n"
		"  KIZUNA_ECHO=1      with commands on standard input, print the prompt\n"
		"                     and each line before its output\n"
		"  LC_ALL, LC_MESSAGES, LANG\n"
		"                     the first one set choosing ja* asks for Japanese\n"
		"\n"
		"exit status:\n"
		"  0  every command succeeded\n"
		"  1  a command failed (its message is on standard error)\n"
		"  2  bad usage, or a command line too long to send\n"
		"  3  kizunad could not be reached (not running?) or the connection\n"
		"     was lost\n"
		"  kizuna diagnose ipsec: 0 no problem found, 1 a problem ([NG])\n"
		"  found, 2 a tunnel is down and its cause could not be judged\n"
		"  kizuna check: 0 clean, 1 a check failed, 2 a file unreadable or\n"
		"  unparsable\n"
		"  kizuna peer-config: 0 printed, 1 profile missing or incomplete,\n"
		"  2 bad usage or a file unreadable or unparsable\n",
		CTL_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *env;
	struct console con;
	int c, rc;

	/* Multibyte input (Japanese ids, messages) in the line editor. */
	setlocale(LC_CTYPE, "");

	/* "+": options end at the first command word, so a command may carry
	 * words that start with '-'. */
	while ((c = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return KZ_EXIT_OK;
		case 'V':
			printf("kizuna %s\n", KZ_VERSION);
			return KZ_EXIT_OK;
		default:
			fprintf(stderr, "Try 'kizuna --help'.\n");
			return KZ_EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind], "check") == 0)
		return kizuna_check_main(argc - optind, argv + optind);
	if (optind < argc && strcmp(argv[optind], "peer-config") == 0)
		return kizuna_peer_config_main(argc - optind, argv + optind);
	if (optind < argc && strcmp(argv[optind], "genkey") == 0)
		return kizuna_genkey_main(argc - optind, argv + optind);

	if (!path) {
		env = getenv("KIZUNA_SOCKET");
		path = (env && *env) ? env : CTL_DEFAULT_SOCKET;
	}
	if (!*path) {
		fprintf(stderr, "kizuna: empty socket path\n");
		return KZ_EXIT_USAGE;
	}

	rc = console_open(&con, path);
	if (rc != 0)
		goto out;
	if (optind < argc) {
		rc = console_oneshot(&con, argc - optind, argv + optind);
	} else if (isatty(STDIN_FILENO)) {
		rc = console_interactive(&con);
	} else {
		env = getenv("KIZUNA_ECHO");
		rc = console_batch(&con, stdin, env && strcmp(env, "1") == 0);
	}
out:
	console_close(&con);
	return rc;
}
