/* cli_int.h - internals shared by the grammar engine and the command tables. */
#ifndef KZ_CLI_INT_H
#define KZ_CLI_INT_H

#include "cli/cli.h"
#include "cli/lexer.h"

/* The config commands, in the order the engine tries and lists them:
 * top level, modes and interfaces (cmd_config.c), then the IKE and IPsec
 * blocks (cmd_ike.c). */
extern const struct cli_cmd cli_config_cmds[];
extern const size_t cli_config_ncmds;
extern const struct cli_cmd cli_ike_cmds[];
extern const size_t cli_ike_ncmds;

/* The line began with `no`. */
bool cli_is_no(const struct cli_args *a);
/* The A.B.C.D/M of a line as a network: KZ_EINVAL (err filled) when it
 * has host bits set. */
int cli_get_network(const struct cli_args *a, struct kz_prefix *p, struct cli_error *err);

/* Value types of grammar VARs (types.c). */
struct cli_vartype {
	const char *name; /* "NAME", "A.B.C.D/M", ... as written in grammars */
	const char *help; /* for `?` */
	/* Returns NULL when the word is valid, else why not (static text). */
	const char *(*check)(const char *word, long long lo, long long hi);
	bool numeric; /* ranges apply */
	int complete; /* CLI_COMPLETE_* source of names for TAB */
};

enum {
	CLI_COMPLETE_NONE,
	CLI_COMPLETE_PROFILE,
	CLI_COMPLETE_IKE_PROPOSAL,
	CLI_COMPLETE_IKE_POLICY,
	CLI_COMPLETE_IPSEC_PROPOSAL,
	CLI_COMPLETE_IPSEC_POLICY,
	CLI_COMPLETE_IPSEC_IF,
};

const struct cli_vartype *cli_vartype_find(const char *name, size_t len);
/* Keyword help for `?` (cmd_help.c); NULL when there is none. */
const char *cli_keyword_help(const char *keyword);

/* The words bound by a match. */
#define CLI_MAX_ARGS CLI_MAX_WORDS
struct cli_binding {
	const char *label; /* keyword text or VAR name (points into the grammar) */
	size_t label_len;
	const char *value; /* the word as typed (unquoted) */
	size_t col;
};

struct cli_args {
	struct cli_binding b[CLI_MAX_ARGS];
	size_t n;
};

size_t cli_arg_col(const struct cli_args *a, const char *var);

/* Handler helpers: fill err for the word bound to var (or the line). */
int cli_fail(struct cli_error *err, const struct cli_args *a, const char *var, int code,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Numbers already range-checked by the grammar. */
unsigned long long cli_arg_num(const struct cli_args *a, const char *var);
/* Parses "A.B.C.D/M"; 0 or KZ_EINVAL. */
int cli_parse_prefix(const char *s, struct kz_prefix *p);

/* Block bookkeeping while loading a file: a block defined twice is an
 * error there (a typo would otherwise merge two blocks silently). */
int cli_block_open(struct cli_session *s, const char *kind, const char *name,
		   const struct cli_args *a, struct cli_error *err);

/* Load context hung on a session in file mode. */
struct cli_file_ctx {
	unsigned line;
	struct cli_block_seen {
		char kind[24];
		char name[KZ_NAME_MAX];
		unsigned line;
	} * seen;
	size_t nseen, capseen;
	/* references resolved at the end of the file */
	struct cli_ref {
		int kind; /* 0: ipsec map PROFILE, 1: ip route via IPsec<N> */
		char name[KZ_NAME_MAX];
		unsigned unit;
		unsigned line;
		size_t col;
	} * refs;
	size_t nrefs, caprefs;
};

void cli_file_ref(struct cli_session *s, int kind, const char *name, unsigned unit, size_t col);

/* Output filters after an exec command (filter.c): `| include RE`,
 * `| exclude RE`, `| begin RE`, `| count [RE]`. */
#include <regex.h>
#include <sys/types.h>
enum {
	CLI_FILTER_NONE,
	CLI_FILTER_INCLUDE,
	CLI_FILTER_EXCLUDE,
	CLI_FILTER_BEGIN,
	CLI_FILTER_COUNT
};
struct cli_filter {
	int kind;
	bool has_re;
	regex_t re;
};
/* Offset of the `|` that starts a filter (a word of its own, unquoted), or -1. */
ssize_t cli_filter_find(const char *line);
/* Parses what follows the `|`; KZ_ESYNTAX with msg filled. */
int cli_filter_parse(const char *spec, struct cli_filter *f, char *msg, size_t msglen);
void cli_filter_apply(const struct cli_filter *f, const char *text, size_t len, struct strbuf *out);
void cli_filter_free(struct cli_filter *f);

#endif
