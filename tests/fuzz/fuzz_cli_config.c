/* fuzz_cli_config.c - libFuzzer target: config file text into the loader.
 * A loaded config must render and load again (round trip), never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_load_error errs[8];
	struct kz_config *c = NULL, *c2 = NULL;
	size_t n = 0;

	if (cli_load_text((const char *)data, size, &c, errs, 8, &n) == 0) {
		struct strbuf a, b;

		sb_init(&a);
		sb_init(&b);
		kz_render_config(c, &a);
		if (cli_load_text(a.s, a.len, &c2, errs, 8, &n) != 0)
			abort(); /* what we print must load */
		kz_render_config(c2, &b);
		if (a.len != b.len || memcmp(a.s, b.s, a.len) != 0)
			abort(); /* and be a fixed point */
		sb_reset(&a);
		kz_render_config_json(c, &a);
		sb_free(&a);
		sb_free(&b);
		kz_config_free(c2);
	}
	kz_config_free(c);
	return 0;
}
