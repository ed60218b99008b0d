/* emit.h - one writer for the output of the show commands.
 *
 * A show handler describes what it shows once, as objects, lists and
 * key/value pairs; the emitter makes either the console text of
 * shared/spec/show-output.md or one JSON document of it.  Each value call
 * carries both forms: the JSON key and value, and the text (a printf
 * format and its arguments) that stands for it on the screen.  A NULL key
 * or a NULL format leaves out that form: a text-only line, a JSON-only
 * fact.  The JSON is built and escaped by json-c.
 *
 *	emit_obj_begin(e, NULL);
 *	emit_str(e, "hash", h, "hash:%s\n", h);
 *	emit_u64(e, "phase2_count", n, "phase2 count=%u\n", n);
 *	emit_obj_end(e);
 *
 * Text goes to the strbuf as it is emitted; JSON is written by emit_done(),
 * followed by a newline as every show ends. */
#ifndef KZ_EMIT_H
#define KZ_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/strbuf.h"

#define EMIT_DEPTH 16

struct json_object;

struct emit {
	struct strbuf *out;
	bool json;
	bool failed;    /* emit_error: no JSON document at the end */
	unsigned depth; /* JSON containers open */
	struct json_object *root;
	bool rooted; /* the document has its value (root may be null) */
	struct json_object *stack[EMIT_DEPTH];
};

#define EMIT_FMT(n) __attribute__((format(printf, n, n + 1)))

void emit_init(struct emit *e, struct strbuf *out, bool json);
/* JSON: writes the document and a newline.  Frees what the emitter holds
 * in either mode. */
void emit_done(struct emit *e);
/* The same without the newline: a part of a document (unit tests). */
void emit_done_bare(struct emit *e);
bool emit_is_json(const struct emit *e);

/* Containers: key names the member in the enclosing object; NULL for the
 * document itself or an element of a list. */
void emit_obj_begin(struct emit *e, const char *key);
void emit_obj_end(struct emit *e);
void emit_list_begin(struct emit *e, const char *key);
void emit_list_end(struct emit *e);

/* Text only: a line (or part of one) of the console form. */
void emit_text(struct emit *e, const char *fmt, ...) EMIT_FMT(2);

/* A value: v (NULL: JSON null) under key, and fmt with its arguments on
 * the screen. */
void emit_str(struct emit *e, const char *key, const char *v, const char *fmt, ...) EMIT_FMT(4);
void emit_u64(struct emit *e, const char *key, uint64_t v, const char *fmt, ...) EMIT_FMT(4);
void emit_int(struct emit *e, const char *key, int64_t v, const char *fmt, ...) EMIT_FMT(4);
void emit_bool(struct emit *e, const char *key, bool v, const char *fmt, ...) EMIT_FMT(4);
void emit_double(struct emit *e, const char *key, double v, const char *fmt, ...) EMIT_FMT(4);
/* key: null in JSON.  Later values under the same key in the same object
 * replace it in place, so a JSON member can keep its position when the
 * screen shows the fact later (emit_str & co. do the replacing). */
void emit_null(struct emit *e, const char *key, const char *fmt, ...) EMIT_FMT(3);

/* A failure: what is written so far of the JSON document is dropped, the
 * message goes to the screen in either mode. */
void emit_error(struct emit *e, const char *fmt, ...) EMIT_FMT(2);

#endif
