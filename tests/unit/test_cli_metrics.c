/* test_cli_metrics.c - `metrics file PATH [interval SECONDS]` in a config
 * file: the model, the default interval, show running-config (text and
 * JSON) and back, `no metrics`, and the errors of a bad path or interval. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/model.h"
#include "config/render.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "test_main.h"

#define MAXERR 8

static struct kz_config *load(const char *text, const char *err_want)
{
	struct cli_load_error e[MAXERR];
	struct kz_config *c = NULL;
	size_t ne = 0;
	int r = cli_load_text(text, strlen(text), &c, e, MAXERR, &ne);

	if (!err_want) {
		if (r)
			fail_msg("'%s': %s", text, ne ? e[0].msg : "error");
		return c;
	}
	assert_int_equal(r, KZ_ESYNTAX);
	assert_true(ne >= 1);
	if (!strstr(e[0].msg, err_want))
		fail_msg("got '%s', want '%s'", e[0].msg, err_want);
	return NULL;
}

static void test_metrics_line(void **state)
{
	struct kz_config *c = load("metrics file /var/lib/prometheus/node-exporter/kizuna.prom "
				   "interval 30\n",
				   NULL);
	struct kz_config *c2;
	struct strbuf sb;

	assert_true(c->metrics.set);
	assert_string_equal(c->metrics.path, "/var/lib/prometheus/node-exporter/kizuna.prom");
	assert_int_equal(c->metrics.interval, 30);
	sb_init(&sb);
	kz_render_config(c, &sb);
	assert_non_null(strstr(sb_str(&sb),
			       "hostname kizuna\n!\nmetrics file "
			       "/var/lib/prometheus/node-exporter/kizuna.prom "
			       "interval 30\n!\n"));
	/* what show running-config prints loads to the same */
	c2 = load(sb_str(&sb), NULL);
	assert_true(c2->metrics.set);
	assert_string_equal(c2->metrics.path, c->metrics.path);
	assert_int_equal(c2->metrics.interval, 30);
	sb_reset(&sb);
	kz_render_config_json(c, &sb);
	assert_non_null(strstr(sb_str(&sb), "\"metrics\""));
	assert_non_null(strstr(sb_str(&sb), "\"interval\":30"));
	sb_free(&sb);
	kz_config_free(c);
	kz_config_free(c2);
}

static void test_metrics_default_and_no(void **state)
{
	struct kz_config *c = load("metrics file \"/run/kizuna/a b.prom\"\n", NULL);
	struct strbuf sb;

	assert_int_equal(c->metrics.interval, KZ_DEF_METRICS_INTERVAL);
	assert_string_equal(c->metrics.path, "/run/kizuna/a b.prom");
	sb_init(&sb);
	kz_render_config(c, &sb);
	assert_non_null(strstr(sb_str(&sb), "metrics file \"/run/kizuna/a b.prom\" interval 15\n"));
	sb_free(&sb);
	kz_config_free(c);

	c = load("metrics file /tmp/x.prom interval 5\nno metrics\n", NULL);
	assert_false(c->metrics.set);
	sb_init(&sb);
	kz_render_config(c, &sb);
	assert_null(strstr(sb_str(&sb), "metrics"));
	sb_reset(&sb);
	kz_render_config_json(c, &sb);
	assert_null(strstr(sb_str(&sb), "metrics"));
	sb_free(&sb);
	kz_config_free(c);
}

static void test_metrics_errors(void **state)
{
	load("metrics file kizuna.prom\n", "an absolute file name");
	load("metrics file /var/lib/\n", "not ending in /");
	load("metrics file /x.prom interval 0\n", "out of range");
	load("metrics file /x.prom interval 3601\n", "out of range");
	load("metrics file\n", "incomplete");
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(test_metrics_line),
	     cmocka_unit_test(test_metrics_default_and_no), cmocka_unit_test(test_metrics_errors))
