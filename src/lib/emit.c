/* emit.c - see emit.h. */
#include "lib/emit.h"

#include <json.h>
#include <stdarg.h>

void emit_init(struct emit *e, struct strbuf *out, bool json)
{
	*e = (struct emit){ .out = out, .json = json };
}

static void emit_free(struct emit *e)
{
	json_object_put(e->root);
	e->root = NULL;
	e->rooted = false;
	e->depth = 0;
}

static void emit_finish(struct emit *e, const char *tail)
{
	if (e->json && !e->failed && e->rooted) {
		/* a NULL root is the document `null` */
		sb_puts(e->out,
			json_object_to_json_string_ext(
				e->root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		sb_puts(e->out, tail);
	}
	emit_free(e);
}

void emit_done(struct emit *e)
{
	emit_finish(e, "\n");
}

void emit_done_bare(struct emit *e)
{
	emit_finish(e, "");
}

bool emit_is_json(const struct emit *e)
{
	return e->json;
}

/* The innermost open container; NULL at the top or past EMIT_DEPTH. */
static struct json_object *top(const struct emit *e)
{
	return e->depth && e->depth <= EMIT_DEPTH ? e->stack[e->depth - 1] : NULL;
}

/* Puts v into the innermost container, which takes the reference; false
 * (v dropped) when there is no place for it. */
static bool attach(struct emit *e, const char *key, struct json_object *v)
{
	struct json_object *c = top(e);

	if (e->failed || (!c && (e->depth || e->rooted))) {
		json_object_put(v);
		return false;
	}
	if (!c) {
		e->root = v;
		e->rooted = true;
	} else if (json_object_is_type(c, json_type_array))
		json_object_array_add(c, v);
	else /* replaces a member of the same key where it stands */
		json_object_object_add(c, key ? key : "", v);
	return true;
}

static void push(struct emit *e, const char *key, struct json_object *v)
{
	if (!e->json)
		return;
	if (e->depth < EMIT_DEPTH) {
		e->stack[e->depth] = v && attach(e, key, v) ? v : NULL;
	} else {
		json_object_put(v);
	}
	e->depth++;
}

static void pop(struct emit *e)
{
	if (e->json && e->depth)
		e->depth--;
}

void emit_obj_begin(struct emit *e, const char *key)
{
	push(e, key, e->json ? json_object_new_object() : NULL);
}

void emit_obj_end(struct emit *e)
{
	pop(e);
}

void emit_list_begin(struct emit *e, const char *key)
{
	push(e, key, e->json ? json_object_new_array() : NULL);
}

void emit_list_end(struct emit *e)
{
	pop(e);
}

__attribute__((format(printf, 2, 0))) static void text(struct emit *e, const char *fmt, va_list ap)
{
	if (!e->json && fmt)
		sb_vprintf(e->out, fmt, ap);
}

void emit_text(struct emit *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text(e, fmt, ap);
	va_end(ap);
}

/* One value: the JSON member when key or a list wants it, the text when
 * fmt is given. */
#define EMIT_VALUE(e, key, make, fmt)                     \
	do {                                              \
		va_list ap;                               \
		if ((e)->json) {                          \
			(void)attach((e), (key), (make)); \
			return;                           \
		}                                         \
		va_start(ap, fmt);                        \
		text((e), (fmt), ap);                     \
		va_end(ap);                               \
	} while (0)

void emit_str(struct emit *e, const char *key, const char *v, const char *fmt, ...)
{
	EMIT_VALUE(e, key, v ? json_object_new_string(v) : NULL, fmt);
}

void emit_u64(struct emit *e, const char *key, uint64_t v, const char *fmt, ...)
{
	EMIT_VALUE(e, key, json_object_new_uint64(v), fmt);
}

void emit_int(struct emit *e, const char *key, int64_t v, const char *fmt, ...)
{
	EMIT_VALUE(e, key, json_object_new_int64(v), fmt);
}

void emit_double(struct emit *e, const char *key, double v, const char *fmt, ...)
{
	EMIT_VALUE(e, key, json_object_new_double(v), fmt);
}

void emit_bool(struct emit *e, const char *key, bool v, const char *fmt, ...)
{
	EMIT_VALUE(e, key, json_object_new_boolean(v), fmt);
}

void emit_null(struct emit *e, const char *key, const char *fmt, ...)
{
	EMIT_VALUE(e, key, NULL, fmt);
}

void emit_error(struct emit *e, const char *fmt, ...)
{
	va_list ap;

	e->failed = true;
	emit_free(e);
	va_start(ap, fmt);
	sb_vprintf(e->out, fmt, ap);
	va_end(ap);
}
