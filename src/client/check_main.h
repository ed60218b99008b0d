/* check_main.h - `kizuna check FILE [PEER-FILE]`: config files checked
 * offline, with no daemon.
 *
 * Output (stdout), in this order, each line starting with the file name as
 * given on the command line:
 *
 *   1. Parse errors, every one the loader returns, for FILE then PEER-FILE:
 *        <file>:<line>:<column>: error: <what was found, what was expected>
 *      followed, when the loader stopped counting, by
 *        <file>: error: <n> more error(s) not shown
 *      Nothing else is checked when any file has an error.
 *   2. For each file (FILE, then PEER-FILE), for each profile in definition
 *      order: the config check (A4), then what that config alone decides
 *      about the profile (M1.2, warnings); then the warnings about the
 *      config as a whole (unused objects, ...).  A shared object is warned
 *      about once.
 *        <file>: [OK] A4 <profile> : config check ok
 *        <file>: [NG] <id> <result text>          e.g. [NG] A4.3 no mapped [HQ]
 *            cause: <sentence>
 *            remedy:
 *              <command>                           (as many as needed)
 *        <file>: [WARN] <text>                     (one line)
 *   3. With PEER-FILE, the cross-site checks, pair by pair (pairs in the
 *      order of FILE's profiles): findings as above, each against the file
 *      whose config should change; when a pair has no NG finding
 *        <file>: [OK] A5 <profile> : cross-site check ok (<peer-file> <peer profile>)
 *      and for a profile with no counterpart in the other file
 *        <file>: [--] A5 <profile> : no counterpart in <other file>
 *
 * Errors of the program itself go to stderr: `kizuna: cannot read <file>:
 * <strerror>`, and the usage text for bad arguments.
 *
 * Exit status: 0 when no check fails (warnings and [--] alone leave it 0),
 * 1 when a check fails ([NG]), 2 when a file cannot be read or parsed or
 * the arguments are wrong.  `kizuna check -h` prints the usage on stdout
 * and exits 0. */
#ifndef KZ_CHECK_MAIN_H
#define KZ_CHECK_MAIN_H

#define KZ_CHECK_EXIT_OK 0
#define KZ_CHECK_EXIT_PROBLEMS 1
#define KZ_CHECK_EXIT_UNREADABLE 2

#include <stdbool.h>

/* The next command-line word of an offline subcommand (check,
 * peer-config): advances *i (start at 0) to it and says what it is.
 * While *opts, "--" ends the options (it clears *opts and is skipped),
 * -h and --help print usage on stdout, another word starting with '-' is
 * an option; anything else is an operand.  KZ_ARGV_END after the last. */
enum kz_argv_kind { KZ_ARGV_END, KZ_ARGV_OPERAND, KZ_ARGV_HELP, KZ_ARGV_OPTION };
enum kz_argv_kind kz_argv_next(int argc, char **argv, int *i, bool *opts, const char *usage);

/* argv[0] is "check"; the rest are the command's arguments. */
int kizuna_check_main(int argc, char **argv);

#endif
