/* test_cli_habits.c - the router habits of the grammar engine: output
 * filters (cli/filter.c and cli_execute), the ambiguous abbreviation of
 * several commands, "did you mean", and `do` in TAB and `?`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "lib/emit.h"
#include "lib/err.h"
#include "test_main.h"

static int screen(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	(void)s;
	(void)a;
	emit_text(e, "hostname site-a\n  peer 203.0.113.2\n!\nipsec profile HQ\n  peer any\nend\n");
	return 0;
}

#define X CLI_IN(CLI_NODE_EXEC)
static const struct cli_cmd rows[] = {
	{ X, "show running-config [json]", "", .exec = screen },
	{ X, "show ip route [json]", "", .exec = screen },
	{ X, "show ike sa [json]", "", .exec = screen },
	{ X, "show ipsec sa [json]", "", .exec = screen },
};

static struct kz_config *cfg;

static int setup(void **state)
{
	(void)state;
	cli_install(rows, sizeof(rows) / sizeof(rows[0]));
	cfg = kz_config_new();
	return cfg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kz_config_free(cfg);
	return 0;
}

/* Runs line in exec (or config) mode: its output, or "ERR col:msg". */
static char *run(enum cli_node node, const char *line)
{
	struct cli_session s;
	struct cli_error err;
	struct strbuf out;
	char *r;

	cli_session_init(&s, cfg, node);
	s.exec = true;
	sb_init(&out);
	if (cli_execute(&s, line, &out, &err) < 0) {
		sb_reset(&out);
		sb_printf(&out, "ERR %zu:%s", err.col, err.msg);
	}
	r = strdup(out.s ? out.s : "");
	sb_free(&out);
	return r;
}

#define EXPECT(node, line, want)                 \
	do {                                     \
		char *got_ = run(node, line);    \
		assert_string_equal(got_, want); \
		free(got_);                      \
	} while (0)

static void test_filters(void **state)
{
	(void)state;
	EXPECT(CLI_NODE_EXEC, "show running-config | include peer",
	       "  peer 203.0.113.2\n  peer any\n");
	EXPECT(CLI_NODE_EXEC, "sh run | i peer (any|none)$", "  peer any\n");
	/* the rest of the line, trailing blanks dropped: quote them */
	EXPECT(CLI_NODE_EXEC, "sh run | exc \"^  \"",
	       "hostname site-a\n!\nipsec profile HQ\nend\n");
	EXPECT(CLI_NODE_EXEC, "sh run | beg ^ipsec", "ipsec profile HQ\n  peer any\nend\n");
	EXPECT(CLI_NODE_EXEC, "sh run | cou", "Number of lines = 6\n");
	EXPECT(CLI_NODE_EXEC, "sh run | count \"peer \"",
	       "Number of lines which match regexp = 2\n");
	EXPECT(CLI_NODE_EXEC, "sh run | inc nothing-like-this", "");
	/* from config mode, through `do` */
	EXPECT(CLI_NODE_CONFIG, "do sh run | inc ^end", "end\n");
	/* errors: the caret under the bar */
	EXPECT(CLI_NODE_EXEC, "sh run | frob x",
	       "ERR 8:unknown output filter 'frob'; expected one of: begin, count, exclude, "
	       "include");
	EXPECT(CLI_NODE_EXEC, "sh run | include",
	       "ERR 8:output filter 'include' needs a regular expression");
	EXPECT(CLI_NODE_EXEC, "sh run |",
	       "ERR 8:output filter missing after '|'; expected one "
	       "of: begin, count, exclude, include");
	EXPECT(CLI_NODE_EXEC, "sh run json | inc x",
	       "ERR 13:output filters apply to text, not to json");
	EXPECT(CLI_NODE_CONFIG, "hostname x | inc x",
	       "ERR 12:output filters apply to exec commands (show ...) only");
	/* found by fuzz_cli_line: regcomp copies what + and {n} repeat, so
	 * stacked ones took minutes and gigabytes in the daemon's loop */
	EXPECT(CLI_NODE_EXEC, "sh run | i a+++++++++++++++++++++++++",
	       "ERR 8:regular expression 'a+++++++++++++++++++++++++' refused: too complex "
	       "(repetitions such as + and {n} multiply what they repeat; simplify it)");
	EXPECT(CLI_NODE_EXEC, "sh run | i ((peer){40}){60}",
	       "ERR 8:regular expression '((peer){40}){60}' refused: too complex (repetitions "
	       "such as + and {n} multiply what they repeat; simplify it)");
	EXPECT(CLI_NODE_EXEC, "sh run | i (peer) \\1",
	       "ERR 8:regular expression '(peer) \\1' refused: back-references (\\1 to \\9) "
	       "are not supported");
	/* what people type still works: intervals, classes, alternatives */
	EXPECT(CLI_NODE_EXEC, "sh run | i ^ {2}peer (a[n]y|none)+$", "  peer any\n");
	EXPECT(CLI_NODE_EXEC, "sh run | i [[:digit:]]{1,3}(\\.[0-9]{1,3}){3}",
	       "  peer 203.0.113.2\n");
}

static void test_filter_find(void **state)
{
	(void)state;
	assert_int_equal(cli_filter_find("show run | inc x"), 9);
	assert_int_equal(cli_filter_find("show run|inc x"), -1);         /* not a word */
	assert_int_equal(cli_filter_find("key \"a | b\" x"), -1);        /* quoted */
	assert_int_equal(cli_filter_find("key \"a \\\" | b\" | c"), 15); /* escaped quote */
	assert_int_equal(cli_filter_find("|"), -1);
}

static void test_ambiguous(void **state)
{
	(void)state;
	EXPECT(CLI_NODE_EXEC, "sh i", "ERR 0:Ambiguous command: \"sh i\"\n  ike ip ipsec");
	EXPECT(CLI_NODE_CONFIG, "do sh i", "ERR 0:Ambiguous command: \"do sh i\"\n  ike ip ipsec");
	/* a full keyword is no abbreviation */
	EXPECT(CLI_NODE_EXEC, "show ip", "ERR 8:incomplete command; expected route after 'ip'");
}

static void test_did_you_mean(void **state)
{
	struct cli_load_error errs[2];
	struct kz_config *c = NULL;
	size_t n = 0;
	static const char text[] = "ike policy P\n  exchange-mod main\n";

	(void)state;
	assert_int_equal(cli_load_text(text, sizeof(text) - 1, &c, errs, 2, &n), KZ_ESYNTAX);
	assert_null(c);
	assert_int_equal(n, 1);
	assert_string_equal(errs[0].msg,
			    "unknown command 'exchange-mod'; did you mean 'exchange-mode'?");
	EXPECT(CLI_NODE_EXEC, "shoe ip route",
	       "ERR 1:unknown command 'shoe'; did you mean 'show'?");
	/* too far from anything: no guess */
	EXPECT(CLI_NODE_EXEC, "frobnicate", "ERR 1:unknown command 'frobnicate'");
}

static void test_do_help(void **state)
{
	struct cli_session s;
	struct strbuf out;

	(void)state;
	cli_session_init(&s, cfg, CLI_NODE_CONFIG);
	s.exec = true;
	sb_init(&out);
	assert_int_equal(cli_complete(&s, "d", &out), 0);
	assert_non_null(strstr(sb_str(&out), "do\n"));
	sb_reset(&out);
	assert_int_equal(cli_complete(&s, "do sh r", &out), 0);
	assert_string_equal(sb_str(&out), "running-config\n");
	sb_reset(&out);
	assert_int_equal(cli_help(&s, "do show ", &out), 0);
	assert_non_null(strstr(sb_str(&out), "  running-config "));
	assert_non_null(strstr(sb_str(&out), "  ipsec "));
	sb_reset(&out);
	assert_int_equal(cli_help(&s, "", &out), 0);
	assert_non_null(strstr(sb_str(&out), "  do "));
	sb_free(&out);
}

KZ_TEST_MAIN(setup, teardown, cmocka_unit_test(test_filters), cmocka_unit_test(test_filter_find),
	     cmocka_unit_test(test_ambiguous), cmocka_unit_test(test_did_you_mean),
	     cmocka_unit_test(test_do_help))
