/* test_lib_ctlproto.c - console protocol frames: round trips, and every way
 * a frame can be short, empty, too long or of the wrong type. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/ctlproto.h"
#include "lib/err.h"

/* Splits one frame of at most max bytes off raw bytes into *body. */
static int frame_body(const void *p, size_t len, size_t max, struct buf *body)
{
	struct buf b;

	buf_init(&b, p, len);
	return ctl_parse_frame(&b, max, body);
}

/* One frame off raw bytes, its body parsed as a request / a response. */
static int parse_req_bytes(const void *p, size_t len, struct ctl_request *req)
{
	struct buf body;
	int r = frame_body(p, len, CTL_MAX_REQUEST, &body);

	return r < 0 ? r : ctl_parse_request(&body, req);
}

static int parse_resp_bytes(const void *p, size_t len, struct ctl_response *resp)
{
	struct buf body;
	int r = frame_body(p, len, CTL_MAX_FRAME, &body);

	return r < 0 ? r : ctl_parse_response(&body, resp);
}

static void test_request_round_trip(void **state)
{
	static const struct {
		uint8_t type;
		const char *text;
	} cases[] = {
		{ CTL_REQ_HELLO, "lang=ja" },
		{ CTL_REQ_EXEC, "show ip address" },
		{ CTL_REQ_EXEC, "" },
		{ CTL_REQ_COMPLETE, "show ip a" },
		{ CTL_REQ_HELP, "ike policy X\tproposal " },
		{ CTL_REQ_EXEC, "pre-shared-key ascii \"a b\xe3\x81\x82\"" },
	};
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_request req;
		size_t tlen = strlen(cases[i].text);

		sb_reset(&sb);
		assert_int_equal(ctl_build_request(&sb, cases[i].type, cases[i].text, tlen), 0);
		assert_int_equal(sb.len, CTL_HDR_LEN + 1 + tlen);
		assert_int_equal(parse_req_bytes(sb.s, sb.len, &req), 0);
		assert_int_equal(req.type, cases[i].type);
		assert_int_equal(req.len, tlen);
		assert_memory_equal(req.text, cases[i].text, tlen);
	}
	sb_free(&sb);
}

static void test_request_wire_format(void **state)
{
	static const uint8_t want[] = { 0, 0, 0, 5, CTL_REQ_EXEC, 's', 'h', 'o', 'w' };
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, "show", 4), 0);
	assert_int_equal(sb.len, sizeof(want));
	assert_memory_equal(sb.s, want, sizeof(want));
	sb_free(&sb);
}

static void test_response_round_trip(void **state)
{
	static const struct {
		uint8_t status;
		const char *prompt;
		const char *output;
	} cases[] = {
		{ CTL_ST_OK, "site-a#", "Interface   Address\nIPsec0      10.0.0.1/30\n" },
		{ CTL_ST_OK, "site-a(config-if)#", "" },
		{ CTL_ST_ERROR, "site-a#", "% unknown word 'shw'\n" },
		{ CTL_ST_BYE, "", "" },
		{ CTL_ST_OK, "\xe6\x8b\xa0\xe7\x82\xb9#", "\xe6\x97\xa5\xe6\x9c\xac\r\n" },
	};
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_response resp;
		size_t plen = strlen(cases[i].prompt), olen = strlen(cases[i].output);

		sb_reset(&sb);
		assert_int_equal(ctl_build_response(&sb, cases[i].status, cases[i].prompt,
						    cases[i].output, olen),
				 0);
		assert_int_equal(sb.len, CTL_HDR_LEN + CTL_RESP_FIXED + plen + olen);
		assert_int_equal(parse_resp_bytes(sb.s, sb.len, &resp), 0);
		assert_int_equal(resp.status, cases[i].status);
		assert_int_equal(resp.prompt_len, plen);
		assert_memory_equal(resp.prompt, cases[i].prompt, plen);
		assert_int_equal(resp.output_len, olen);
		assert_memory_equal(resp.output, cases[i].output, olen);
	}
	sb_free(&sb);
}

/* The head written separately plus the output is the same frame. */
static void test_response_head_matches(void **state)
{
	uint8_t head[CTL_RESP_HEAD_MAX];
	const char *out = "line\n";
	struct strbuf sb;
	struct wbuf w;

	(void)state;
	sb_init(&sb);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, "r1#", out, 5), 0);
	wbuf_init(&w, head, sizeof(head));
	assert_int_equal(ctl_build_response_head(&w, CTL_ST_OK, "r1#", out, 5), 0);
	assert_int_equal(w.len + 5, sb.len);
	assert_memory_equal(sb.s, head, w.len);
	/* Too little room: nothing written, w unchanged. */
	wbuf_init(&w, head, 6);
	assert_int_equal(ctl_build_response_head(&w, CTL_ST_OK, "r1#", out, 5), KZ_ENOSPC);
	assert_int_equal(w.len, 0);
	assert_int_equal(w.overflow, 0);
	sb_free(&sb);
}

/* Several frames in one stream are split one by one; a partial tail waits. */
static void test_stream_split(void **state)
{
	struct ctl_request req;
	struct strbuf sb;
	struct buf b, body;

	(void)state;
	sb_init(&sb);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_HELLO, "lang=en", 7), 0);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, "show ip route", 13), 0);
	buf_init(&b, sb.s, sb.len - 3);
	assert_int_equal(ctl_parse_frame(&b, CTL_MAX_REQUEST, &body), 0);
	assert_int_equal(ctl_parse_request(&body, &req), 0);
	assert_int_equal(req.type, CTL_REQ_HELLO);
	/* The second frame lacks its last 3 bytes: b must not move. */
	size_t off = b.off;
	assert_int_equal(ctl_parse_frame(&b, CTL_MAX_REQUEST, &body), KZ_ETRUNC);
	assert_int_equal(b.off, off);
	buf_init(&b, sb.s, sb.len);
	b.off = off;
	assert_int_equal(ctl_parse_frame(&b, CTL_MAX_REQUEST, &body), 0);
	assert_int_equal(ctl_parse_request(&body, &req), 0);
	assert_int_equal(req.type, CTL_REQ_EXEC);
	assert_int_equal(buf_left(&b), 0);
	sb_free(&sb);
}

/* Every prefix of the frame in sb parses (as a response or a request) as
 * KZ_ETRUNC; each is a copy of exactly its bytes, so a read past them is
 * caught. */
static void assert_every_cut_truncated(const struct strbuf *sb, bool response)
{
	struct ctl_request req;
	struct ctl_response resp;

	for (size_t n = 0; n < sb->len; n++) {
		uint8_t *p = malloc(n ? n : 1);

		memcpy(p, sb->s, n);
		assert_int_equal(response ? parse_resp_bytes(p, n, &resp)
					  : parse_req_bytes(p, n, &req),
				 KZ_ETRUNC);
		free(p);
	}
}

/* Every prefix of a valid frame is incomplete, never an error or a crash. */
static void test_truncated(void **state)
{
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, "show ike sa", 11), 0);
	assert_every_cut_truncated(&sb, false);
	sb_reset(&sb);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, "site-a#", "x\n", 2), 0);
	assert_every_cut_truncated(&sb, true);
	sb_free(&sb);
}

/* A body cut inside its own fields (the length field itself lies short). */
static void test_short_bodies(void **state)
{
	static const uint8_t resp1[] = { 0, 0, 0, 1, CTL_ST_OK };
	static const uint8_t resp2[] = { 0, 0, 0, 2, CTL_ST_OK, 0 };
	/* Prompt length 7, only 2 prompt bytes in the frame. */
	static const uint8_t resp3[] = { 0, 0, 0, 5, CTL_ST_OK, 0, 7, 'a', '#' };
	struct ctl_response resp;
	struct ctl_request req;
	struct buf b;

	(void)state;
	assert_int_equal(parse_resp_bytes(resp1, sizeof(resp1), &resp), KZ_ETRUNC);
	assert_int_equal(parse_resp_bytes(resp2, sizeof(resp2), &resp), KZ_ETRUNC);
	assert_int_equal(parse_resp_bytes(resp3, sizeof(resp3), &resp), KZ_ETRUNC);
	/* Empty bodies handed straight to the body parsers. */
	buf_init(&b, NULL, 0);
	assert_int_equal(ctl_parse_request(&b, &req), KZ_ETRUNC);
	buf_init(&b, NULL, 0);
	assert_int_equal(ctl_parse_response(&b, &resp), KZ_ETRUNC);
}

static void test_zero_length(void **state)
{
	static const uint8_t zero[] = { 0, 0, 0, 0, CTL_REQ_EXEC };
	struct ctl_request req;
	struct ctl_response resp;

	(void)state;
	assert_int_equal(parse_req_bytes(zero, sizeof(zero), &req), KZ_EPROTO);
	assert_int_equal(parse_resp_bytes(zero, sizeof(zero), &resp), KZ_EPROTO);
	/* Only the length field: already known to be bad. */
	assert_int_equal(parse_req_bytes(zero, 4, &req), KZ_EPROTO);
}

/* An oversized length is refused from the length field alone, before the
 * body has arrived. */
static void test_oversized(void **state)
{
	static const uint8_t big_req[] = { 0, 1, 0, 1, CTL_REQ_EXEC }; /* 64 KiB + 1 */
	static const uint8_t max_req[] = { 0, 1, 0, 0, CTL_REQ_EXEC }; /* 64 KiB */
	static const uint8_t big_resp[] = { 1, 0, 0, 1, CTL_ST_OK };   /* 16 MiB + 1 */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	struct ctl_request req;
	struct ctl_response resp;

	(void)state;
	assert_int_equal(parse_req_bytes(big_req, sizeof(big_req), &req), KZ_ETOOBIG);
	assert_int_equal(parse_req_bytes(big_req, 4, &req), KZ_ETOOBIG);
	/* At the limit it is only incomplete. */
	assert_int_equal(parse_req_bytes(max_req, sizeof(max_req), &req), KZ_ETRUNC);
	assert_int_equal(parse_resp_bytes(big_resp, sizeof(big_resp), &resp), KZ_ETOOBIG);
	assert_int_equal(parse_resp_bytes(huge, sizeof(huge), &resp), KZ_ETOOBIG);
	assert_int_equal(parse_req_bytes(huge, sizeof(huge), &req), KZ_ETOOBIG);
}

/* The largest request that fits, and one byte more. */
static void test_request_limits(void **state)
{
	size_t n = CTL_MAX_REQUEST - 1;
	char *text = malloc(n + 1);
	struct ctl_request req;
	struct strbuf sb;
	struct buf b;

	(void)state;
	memset(text, 'a', n + 1);
	sb_init(&sb);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, text, n), 0);
	assert_int_equal(parse_req_bytes(sb.s, sb.len, &req), 0);
	assert_int_equal(req.len, n);
	sb_reset(&sb);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, text, n + 1), KZ_ETOOBIG);
	assert_int_equal(sb.len, 0);
	/* Bodies given directly to the body parser: at the limit, then over. */
	text[0] = CTL_REQ_EXEC;
	buf_init(&b, text, CTL_MAX_REQUEST);
	assert_int_equal(ctl_parse_request(&b, &req), 0);
	sb_free(&sb);
	free(text);

	text = malloc(CTL_MAX_REQUEST + 1);
	memset(text, 'a', CTL_MAX_REQUEST + 1);
	text[0] = CTL_REQ_EXEC;
	buf_init(&b, text, CTL_MAX_REQUEST + 1);
	assert_int_equal(ctl_parse_request(&b, &req), KZ_ETOOBIG);
	free(text);
}

static void test_prompt_limits(void **state)
{
	char prompt[CTL_MAX_PROMPT + 2];
	struct ctl_response resp;
	struct strbuf sb;
	/* A prompt length field over the limit, with the bytes present. */
	uint8_t raw[CTL_HDR_LEN + CTL_RESP_FIXED + CTL_MAX_PROMPT + 1];

	(void)state;
	memset(prompt, 'p', sizeof(prompt));
	prompt[CTL_MAX_PROMPT] = '\0';
	sb_init(&sb);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, prompt, "", 0), 0);
	assert_int_equal(parse_resp_bytes(sb.s, sb.len, &resp), 0);
	assert_int_equal(resp.prompt_len, CTL_MAX_PROMPT);
	prompt[CTL_MAX_PROMPT] = 'p';
	prompt[CTL_MAX_PROMPT + 1] = '\0';
	sb_reset(&sb);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, prompt, "", 0), KZ_ETOOBIG);
	assert_int_equal(sb.len, 0);

	memset(raw, 'p', sizeof(raw));
	raw[0] = 0;
	raw[1] = 0;
	raw[2] = (uint8_t)((sizeof(raw) - CTL_HDR_LEN) >> 8);
	raw[3] = (uint8_t)(sizeof(raw) - CTL_HDR_LEN);
	raw[4] = CTL_ST_OK;
	raw[5] = (uint8_t)((CTL_MAX_PROMPT + 1) >> 8);
	raw[6] = (uint8_t)(CTL_MAX_PROMPT + 1);
	assert_int_equal(parse_resp_bytes(raw, sizeof(raw), &resp), KZ_ETOOBIG);
	sb_free(&sb);
}

static void test_wrong_types(void **state)
{
	static const uint8_t bad_types[] = { 0, 5, 0x7f, 0xff };
	static const uint8_t bad_status[] = { 6, 7, 0x80, 0xff };
	struct ctl_request req;
	struct ctl_response resp;
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		uint8_t raw[] = { 0, 0, 0, 2, bad_types[i], 'x' };

		assert_int_equal(parse_req_bytes(raw, sizeof(raw), &req), KZ_EPROTO);
		assert_int_equal(ctl_build_request(&sb, bad_types[i], "x", 1), KZ_EPROTO);
	}
	for (size_t i = 0; i < sizeof(bad_status); i++) {
		uint8_t raw[] = { 0, 0, 0, 4, bad_status[i], 0, 0, 'x' };

		assert_int_equal(parse_resp_bytes(raw, sizeof(raw), &resp), KZ_EPROTO);
		assert_int_equal(ctl_build_response(&sb, bad_status[i], "", "x", 1), KZ_EPROTO);
	}
	assert_int_equal(sb.len, 0);
	sb_free(&sb);
}

/* Bytes that would split a line are refused in both directions. */
static void test_forbidden_bytes(void **state)
{
	static const uint8_t nul_req[] = { 0, 0, 0, 3, CTL_REQ_EXEC, 'a', 0 };
	static const uint8_t lf_req[] = { 0, 0, 0, 3, CTL_REQ_EXEC, '\n', 'a' };
	static const uint8_t cr_prompt[] = { 0, 0, 0, 5, CTL_ST_OK, 0, 2, 'a', '\r' };
	static const uint8_t nul_out[] = { 0, 0, 0, 5, CTL_ST_OK, 0, 0, 'a', 0 };
	static const uint8_t lf_out[] = { 0, 0, 0, 5, CTL_ST_OK, 0, 0, 'a', '\n' };
	struct ctl_request req;
	struct ctl_response resp;
	struct strbuf sb;

	(void)state;
	assert_int_equal(parse_req_bytes(nul_req, sizeof(nul_req), &req), KZ_EPROTO);
	assert_int_equal(parse_req_bytes(lf_req, sizeof(lf_req), &req), KZ_EPROTO);
	assert_int_equal(parse_resp_bytes(cr_prompt, sizeof(cr_prompt), &resp), KZ_EPROTO);
	assert_int_equal(parse_resp_bytes(nul_out, sizeof(nul_out), &resp), KZ_EPROTO);
	assert_int_equal(parse_resp_bytes(lf_out, sizeof(lf_out), &resp), 0);

	sb_init(&sb);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, "a\nb", 3), KZ_EPROTO);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, "a\0b", 3), KZ_EPROTO);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, "a\n#", "", 0), KZ_EPROTO);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, "a#", "x\0y", 3), KZ_EPROTO);
	assert_int_equal(ctl_build_request(&sb, CTL_REQ_EXEC, NULL, 2), KZ_EINVAL);
	assert_int_equal(sb.len, 0);
	sb_free(&sb);
}

/* The largest output a response may carry; a strbuf cannot hold that whole
 * frame, which is why the head can be built on its own. */
static void test_output_limits(void **state)
{
	size_t max = CTL_MAX_FRAME - CTL_RESP_FIXED - 2;
	char *out = malloc(max + 1);
	uint8_t head[CTL_RESP_HEAD_MAX];
	struct strbuf sb;
	struct wbuf w;

	(void)state;
	memset(out, 'o', max + 1);
	wbuf_init(&w, head, sizeof(head));
	assert_int_equal(ctl_build_response_head(&w, CTL_ST_OK, "a#", out, max), 0);
	assert_int_equal(w.len, CTL_HDR_LEN + CTL_RESP_FIXED + 2);
	assert_memory_equal(head, "\x01\x00\x00\x00", 4);
	wbuf_init(&w, head, sizeof(head));
	assert_int_equal(ctl_build_response_head(&w, CTL_ST_OK, "a#", out, max + 1), KZ_ETOOBIG);
	assert_int_equal(w.len, 0);
	sb_init(&sb);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, "a#", out, max), KZ_ETOOBIG);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.truncated, 0);
	sb_free(&sb);
	free(out);
}

/* Building appends: a frame added after another leaves the first intact. */
static void test_build_appends(void **state)
{
	struct strbuf sb;
	struct buf b, body;
	struct ctl_response resp;

	(void)state;
	sb_init(&sb);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_OK, "a#", "1\n", 2), 0);
	assert_int_equal(ctl_build_response(&sb, CTL_ST_ERROR, "b#", "2\n", 2), 0);
	/* A failing build leaves what was there. */
	assert_int_equal(ctl_build_response(&sb, 9, "c#", "3\n", 2), KZ_EPROTO);
	buf_init(&b, sb.s, sb.len);
	assert_int_equal(ctl_parse_frame(&b, CTL_MAX_FRAME, &body), 0);
	assert_int_equal(ctl_parse_response(&body, &resp), 0);
	assert_memory_equal(resp.prompt, "a#", 2);
	assert_int_equal(ctl_parse_frame(&b, CTL_MAX_FRAME, &body), 0);
	assert_int_equal(ctl_parse_response(&body, &resp), 0);
	assert_int_equal(resp.status, CTL_ST_ERROR);
	assert_memory_equal(resp.output, "2\n", 2);
	assert_int_equal(buf_left(&b), 0);
	sb_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_wire_format),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_response_head_matches),
		cmocka_unit_test(test_stream_split),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_short_bodies),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_prompt_limits),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_forbidden_bytes),
		cmocka_unit_test(test_output_limits),
		cmocka_unit_test(test_build_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
