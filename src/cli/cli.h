/* cli.h - the command grammar engine and the one grammar of kizuna.
 *
 * Every command, in the startup file, in `configure terminal` and in the
 * exec mode of the console, is one row {nodes, grammar, help, handler}:
 * the config commands in cli/cmd_*.c beside their handlers, the exec
 * commands beside theirs in the daemon (daemon/show.c), which installs
 * them with cli_install().  The same rows parse config files (the daemon's
 * startup file and `kizuna check`), drive TAB completion and `?` help in
 * the console, and print errors that name the column, the word and what
 * was expected there.
 *
 * Grammar strings:  keyword   (a | b c | d)   [optional]   VAR   NAME...
 *   keywords are lower case and match case-insensitively (unique prefixes
 *   are accepted in the console, full words are printed); VARs are upper case
 *   and name a value type (NAME, A.B.C.D, A.B.C.D/M, SECONDS, ...); a VAR
 *   followed by `...` takes one or more words. */
#ifndef KZ_CLI_H
#define KZ_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"
#include "lib/strbuf.h"

enum cli_node {
	CLI_NODE_EXEC,
	CLI_NODE_CONFIG,
	CLI_NODE_IF_MOBILE,
	CLI_NODE_IF_IPSEC,
	CLI_NODE_IKE_PROPOSAL,
	CLI_NODE_IKE_POLICY,
	CLI_NODE_IPSEC_PROPOSAL,
	CLI_NODE_IPSEC_POLICY,
	CLI_NODE_IPSEC_PROFILE,
	CLI_NODE_COUNT
};

/* What a config command changed, so the daemon applies just that to the
 * system (set in cli_session.effects by the handlers). */
#define CLI_EFF_MOBILE_ADMIN 0x01  /* [no] shutdown on MobileEthernet0.0 */
#define CLI_EFF_MOBILE_DEVICE 0x02 /* device LINUX-IFNAME changed */
#define CLI_EFF_IPSEC_IF 0x04      /* an IPsec<N> created, deleted or changed */
#define CLI_EFF_IPSEC_ADMIN 0x08   /* [no] shutdown on an IPsec<N> (eff_unit) */
#define CLI_EFF_ROUTES 0x10        /* ip route added or removed */
#define CLI_EFF_IKE 0x20           /* proposals, policies or profiles changed */
#define CLI_EFF_HOSTNAME 0x40

/* The words a matched command bound: keywords by their name, values by the
 * VAR name of the grammar ("NAME", "A.B.C.D/M", "SECONDS", ...). */
struct cli_args;
const char *cli_arg(const struct cli_args *a, const char *var);
size_t cli_arg_count(const struct cli_args *a, const char *var);
const char *cli_arg_n(const struct cli_args *a, const char *var, size_t i);
bool cli_has(const struct cli_args *a, const char *keyword);
/* "IPsec12" -> 12, for a word the grammar validated as IPsec<N>. */
unsigned cli_parse_ipsec_if(const char *s);

struct cli_session;
struct cli_error;
struct emit;

/* The nodes (modes) form a tree: a line is tried in the current node,
 * then in its parent and so on up (a top-level command leaves a block;
 * exec commands run from config mode).  CLI_NODE_COUNT: no parent. */
enum cli_node cli_node_parent(enum cli_node n);

/* Which nodes a command belongs to. */
#define CLI_IN(node) (1u << (node))
#define CLI_IN_SUBNODES                                                                           \
	(CLI_IN(CLI_NODE_IF_MOBILE) | CLI_IN(CLI_NODE_IF_IPSEC) | CLI_IN(CLI_NODE_IKE_PROPOSAL) | \
	 CLI_IN(CLI_NODE_IKE_POLICY) | CLI_IN(CLI_NODE_IPSEC_PROPOSAL) |                          \
	 CLI_IN(CLI_NODE_IPSEC_POLICY) | CLI_IN(CLI_NODE_IPSEC_PROFILE))

/* A config or mode command: changes s->cfg or s->node. */
typedef int (*cli_handler_fn)(struct cli_session *s, const struct cli_args *a, struct strbuf *out,
			      struct cli_error *err);
/* An exec command: writes its screen through e, in JSON when the line
 * ended in `json`.  Returns 0, or a negative KZ_E* with the reason
 * written (emit_error). */
typedef int (*cli_exec_fn)(struct cli_session *s, const struct cli_args *a, struct emit *e);

struct cli_cmd {
	unsigned nodes; /* CLI_IN(...) mask */
	const char *grammar;
	const char *help;  /* what the command does, one line */
	cli_handler_fn fn; /* config and mode commands */
	cli_exec_fn exec;  /* exec commands (run only where s->exec is set) */
};

/* Adds commands to the grammar (rows must stay valid; the table is not
 * copied).  Call before the first session; a row whose grammar does not
 * compile aborts, as a bug in the table. */
void cli_install(const struct cli_cmd *rows, size_t n);

struct cli_session {
	enum cli_node node;
	char ctx_name[KZ_NAME_MAX]; /* block being edited (proposal, policy, ...) */
	unsigned ctx_unit;          /* IPsec<N> being edited */
	struct kz_config *cfg;      /* what config commands change */
	bool file_mode;             /* loading a file: no exec commands, no abbreviations */
	unsigned effects;           /* CLI_EFF_* of the last command */
	unsigned eff_unit;          /* IPsec unit for CLI_EFF_IPSEC_* */
	bool quit;                  /* `exit` at the exec level: the client leaves */
	bool exec;                  /* exec commands may run (the daemon's console) */
	void *opaque;               /* for the exec handlers */
	char lang[32];              /* "ja" or "en": the console client's language */
	struct cli_file_ctx *file;  /* file_mode: block and reference bookkeeping */
	enum cli_node block_hint;   /* the block the last line could also have opened */
	bool secret;                /* the last line carried a secret: never log it */
	bool read_only;             /* an operator (lib/role.h): show, diagnose, ping */
	int verdict;                /* the last line's verdict (diagnose: 0 no problem,
				     * 1 a problem, 2 not judged), the client's exit */
	const char *secret_what;    /* its name for the log; NULL: "pre-shared-key" */
};

void cli_session_init(struct cli_session *s, struct kz_config *cfg, enum cli_node node);

/* The router prompt for this session: "site-a#", "site-a(config-if)#". */
void cli_prompt(const struct cli_session *s, char *out, size_t len);

struct cli_error {
	size_t col;    /* 1-based column of the offending word (or end of line) */
	char msg[512]; /* "unknown word 'x'; expected one of: a, b" */
};

/* Runs one line: a comment or empty line does nothing; a config command
 * changes s->cfg only when the whole line is valid.  Returns 0, or a
 * negative KZ_E* with *err filled in. */
int cli_execute(struct cli_session *s, const char *line, struct strbuf *out, struct cli_error *err);

/* Candidates for the last (partial) word of line, one per output line. */
int cli_complete(struct cli_session *s, const char *line, struct strbuf *out);
/* `?` help: what may come next after line, "  word  help" per output line. */
int cli_help(struct cli_session *s, const char *line, struct strbuf *out);

/* Config text loading: every line run in config mode onto a new config.
 * On any error *out is NULL and the errors (up to maxerr) are listed. */
struct cli_load_error {
	unsigned line;
	size_t col;
	char msg[512];
};

#define CLI_MAX_LINE 4096       /* longer lines are an error, not truncated */
#define CLI_MAX_FILE (1u << 20) /* config files larger than 1 MiB are refused */

int cli_load_text(const char *text, size_t len, struct kz_config **out, struct cli_load_error *errs,
		  size_t maxerr, size_t *nerr);
/* Reads path (at most CLI_MAX_FILE) and loads it.  KZ_EIO when unreadable
 * (errno kept), KZ_ESYNTAX when the text has errors. */
int cli_load_file(const char *path, struct kz_config **out, struct cli_load_error *errs,
		  size_t maxerr, size_t *nerr);
/* Whether the file at path, which holds config c, gives its pre-shared
 * keys away: group- or world-readable (or writable) with a key in it.
 * true with the warning text in msg. */
bool cli_file_exposed(const char *path, const struct kz_config *c, char *msg, size_t len);

#endif
