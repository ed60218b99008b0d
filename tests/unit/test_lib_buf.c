/* test_lib_buf.c - the bounds-checked buffer: every getter on short,
 * zero-length and exact input, sub-views that cannot read past their
 * payload, and writers that refuse to overflow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/emit.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/strbuf.h"

static void test_get_exact(void **state)
{
	static const uint8_t d[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				     0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	struct buf b;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	buf_init(&b, d, sizeof(d));
	assert_int_equal(buf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(buf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(buf_get_u32(&b, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(buf_get_u64(&b, &u64), 0);
	assert_true(u64 == 0x08090a0b0c0d0e0full);
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(buf_get_u8(&b, &u8), KZ_ETRUNC);
}

/* Each getter on every length shorter than it needs: an error, the cursor
 * not moved, the output not touched. */
static void test_truncated(void **state)
{
	static const uint8_t d[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct buf b;

	for (size_t len = 0; len < 8; len++) {
		uint16_t u16 = 0x1234;
		uint32_t u32 = 0x12345678;
		uint64_t u64 = 42;
		uint8_t out[8] = { 0 };

		buf_init(&b, d, len);
		if (len < 2) {
			assert_int_equal(buf_get_u16(&b, &u16), KZ_ETRUNC);
			assert_int_equal(u16, 0x1234);
		}
		if (len < 4) {
			assert_int_equal(buf_get_u32(&b, &u32), KZ_ETRUNC);
			assert_int_equal(u32, 0x12345678);
		}
		assert_int_equal(buf_get_u64(&b, &u64), KZ_ETRUNC);
		assert_int_equal(u64, 42);
		assert_int_equal(buf_get_bytes(&b, out, len + 1), KZ_ETRUNC);
		assert_int_equal(out[0], 0);
		assert_int_equal(b.off, 0);
	}
}

static void test_zero_length(void **state)
{
	struct buf b, sub;
	uint8_t u8;
	const uint8_t *p;

	buf_init(&b, NULL, 100); /* NULL data is an empty view, whatever len says */
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(buf_get_u8(&b, &u8), KZ_ETRUNC);
	assert_int_equal(buf_peek_u8(&b, 0, &u8), KZ_ETRUNC);
	assert_int_equal(buf_get_sub(&b, 0, &sub), 0);
	assert_int_equal(buf_left(&sub), 0);
	assert_int_equal(buf_get_ptr(&b, 0, &p), 0);
	assert_int_equal(buf_skip(&b, 0), 0);
	assert_int_equal(buf_skip(&b, 1), KZ_ETRUNC);
}

static void test_oversized_lengths(void **state)
{
	static const uint8_t d[4] = { 1, 2, 3, 4 };
	struct buf b, sub;

	buf_init(&b, d, sizeof(d));
	assert_int_equal(buf_skip(&b, 1), 0);
	/* lengths that would wrap a pointer or size_t */
	assert_int_equal(buf_get_sub(&b, SIZE_MAX, &sub), KZ_ETRUNC);
	assert_int_equal(buf_skip(&b, SIZE_MAX - 1), KZ_ETRUNC);
	assert_int_equal(buf_get_sub(&b, 4, &sub), KZ_ETRUNC);
	assert_int_equal(buf_peek_u8(&b, SIZE_MAX, &(uint8_t){ 0 }), KZ_ETRUNC);
	assert_int_equal(b.off, 1);
}

static void test_sub_view_is_bounded(void **state)
{
	static const uint8_t d[] = { 0, 3, 'a', 'b', 'c', 0xde, 0xad };
	struct buf b, sub;
	uint16_t len;
	uint8_t c;

	buf_init(&b, d, sizeof(d));
	assert_int_equal(buf_get_u16(&b, &len), 0);
	assert_int_equal(buf_get_sub(&b, len, &sub), 0);
	assert_int_equal(buf_left(&b), 2); /* parent moved past the payload */
	for (int i = 0; i < 3; i++)
		assert_int_equal(buf_get_u8(&sub, &c), 0);
	assert_int_equal(c, 'c');
	/* the next byte exists in memory but not in the view */
	assert_int_equal(buf_get_u8(&sub, &c), KZ_ETRUNC);
	assert_int_equal(buf_peek_u8(&sub, 0, &c), KZ_ETRUNC);
}

static void test_writer(void **state)
{
	uint8_t mem[8];
	struct wbuf w;
	long at;

	wbuf_init(&w, mem, sizeof(mem));
	at = wbuf_reserve(&w, 2);
	assert_int_equal(at, 0);
	assert_int_equal(wbuf_put_u16(&w, 0xabcd), 0);
	assert_int_equal(wbuf_put_u32(&w, 0x01020304), 0);
	assert_int_equal(wbuf_patch_u16(&w, (size_t)at, (uint16_t)w.len), 0);
	assert_int_equal(mem[1], 8);
	assert_int_equal(mem[2], 0xab);
	/* full: refused and sticky, nothing written past the end */
	assert_int_equal(wbuf_put_u8(&w, 1), KZ_ENOSPC);
	assert_true(w.overflow);
	assert_int_equal(w.len, 8);
	/* a patch outside what was written */
	assert_int_equal(wbuf_patch_u32(&w, 6, 0), KZ_ERANGE);
	assert_int_equal(wbuf_patch_u16(&w, SIZE_MAX, 0), KZ_ERANGE);
	wbuf_init(&w, NULL, 5);
	assert_int_equal(wbuf_put_u8(&w, 1), KZ_ENOSPC);
	assert_int_equal(wbuf_reserve(&w, 1), -1);
}

static void test_errors_named(void **state)
{
	assert_string_equal(kz_errname(KZ_ETRUNC), "KZ_ETRUNC");
	assert_string_equal(kz_strerror(KZ_ETRUNC), "input truncated");
	assert_string_equal(kz_errname(0), "KZ_OK");
	assert_string_equal(kz_errname(-999), "KZ_E?");
	assert_string_equal(kz_strerror(12345), "unknown error");
}

static void test_strbuf(void **state)
{
	struct strbuf sb;
	char *big = malloc(KZ_STRBUF_MAX + 10);

	sb_init(&sb);
	assert_string_equal(sb_str(&sb), "");
	sb_printf(&sb, "%d-%s", 7, "x");
	assert_string_equal(sb_str(&sb), "7-x");
	/* bounded: stops growing, marks itself truncated */
	memset(big, 'z', KZ_STRBUF_MAX + 9);
	big[KZ_STRBUF_MAX + 9] = '\0';
	sb_puts(&sb, big);
	assert_true(sb.truncated);
	assert_true(sb.len < KZ_STRBUF_MAX);
	sb_free(&sb);
	free(big);
}

/* One description, two forms: the text and the JSON (escaped by json-c). */
static void emit_sample(struct emit *e)
{
	emit_obj_begin(e, NULL);
	emit_str(e, "name", "a\"b\\c\n\x01/d", "name: %s\n", "abc");
	emit_u64(e, "n", 7, "n=%u\n", 7u);
	emit_null(e, "later", NULL);
	emit_list_begin(e, "list");
	emit_str(e, NULL, "x", "  x\n");
	emit_obj_begin(e, NULL);
	emit_bool(e, "ok", true, NULL);
	emit_obj_end(e);
	emit_list_end(e);
	emit_int(e, "later", -1, "later: %d\n", -1);
	emit_text(e, "end\n");
	emit_obj_end(e);
}

static void test_emit(void **state)
{
	struct strbuf sb;
	struct emit e;

	sb_init(&sb);
	emit_init(&e, &sb, false);
	emit_sample(&e);
	emit_done(&e);
	assert_string_equal(sb_str(&sb), "name: abc\nn=7\n  x\nlater: -1\nend\n");
	sb_reset(&sb);
	emit_init(&e, &sb, true);
	emit_sample(&e);
	emit_done(&e);
	assert_string_equal(sb_str(&sb),
			    "{\"name\":\"a\\\"b\\\\c\\n\\u0001/d\",\"n\":7,"
			    "\"later\":-1,\"list\":[\"x\",{\"ok\":true}]}\n");
	/* an error replaces the document */
	sb_reset(&sb);
	emit_init(&e, &sb, true);
	emit_obj_begin(&e, NULL);
	emit_list_begin(&e, "v");
	emit_error(&e, "%% no %s\n", "such");
	emit_list_end(&e);
	emit_obj_end(&e);
	emit_done(&e);
	assert_string_equal(sb_str(&sb), "% no such\n");
	/* a document that is a single null */
	sb_reset(&sb);
	emit_init(&e, &sb, true);
	emit_null(&e, "state", NULL);
	emit_done_bare(&e);
	assert_string_equal(sb_str(&sb), "null");
	sb_free(&sb);
}

static void test_mem(void **state)
{
	char d[4];
	uint8_t k[16];

	assert_int_equal(kz_strlcpy(d, "abcdef", sizeof(d)), 6);
	assert_string_equal(d, "abc");
	assert_int_equal(kz_strlcpy(d, "", sizeof(d)), 0);
	memset(k, 0x5a, sizeof(k));
	kz_wipe(k, sizeof(k));
	for (size_t i = 0; i < sizeof(k); i++)
		assert_int_equal(k[i], 0);
	kz_wipe(NULL, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_exact),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_oversized_lengths),
		cmocka_unit_test(test_sub_view_is_bounded),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_errors_named),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_mem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
