/* render.h - `show running-config`: the config model as config text.
 *
 * Every parameter is printed explicitly (defaults too), blocks end with `!`,
 * and the output parses back into an equal model (round-trip). */
#ifndef KZ_RENDER_H
#define KZ_RENDER_H

#include "lib/strbuf.h"
#include "config/model.h"

void kz_render_config(const struct kz_config *c, struct strbuf *out);
/* The same with every key shown as KZ_PSK_HIDDEN, which the parser
 * refuses (cli/types.c): `show running-config` for everyone but an admin
 * asking for `secrets`. */
void kz_render_config_hidden(const struct kz_config *c, struct strbuf *out);
/* One word of the config language: quoted ("...", with \" and \\) when it
 * is empty, starts a comment or holds blanks, quotes or backslashes. */
void kz_put_word(struct strbuf *out, const char *s);
/* JSON form of the same facts (keys are never included: "psk-set":true). */
void kz_render_config_json(const struct kz_config *c, struct strbuf *out);

#endif
