/* fuzz_lib_ctlproto.c - console protocol parsers on arbitrary bytes.
 *
 * The input is read as a stream of frames, the way both ends read their
 * socket: each frame split off is parsed as a request (what the daemon
 * reads) and as a response (what the client reads).  The whole input is
 * also parsed as a bare body.  Whatever parses must build back to the same
 * bytes, so parser and builder cannot drift apart. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ctlproto.h"
#include "lib/err.h"

static void check_request(const struct buf *body)
{
	struct buf b = *body;
	struct ctl_request req;
	struct strbuf sb;

	if (ctl_parse_request(&b, &req) < 0)
		return;
	if (buf_left(&b) != 0)
		abort();
	sb_init(&sb);
	if (ctl_build_request(&sb, req.type, req.text, req.len) < 0)
		abort();
	if (sb.len != CTL_HDR_LEN + body->len ||
	    memcmp(sb.s + CTL_HDR_LEN, body->data, body->len) != 0)
		abort();
	sb_free(&sb);
}

static void check_response(const struct buf *body)
{
	struct buf b = *body;
	struct ctl_response resp;
	char prompt[CTL_MAX_PROMPT + 1];
	struct strbuf sb;
	int r;

	if (ctl_parse_response(&b, &resp) < 0)
		return;
	if (buf_left(&b) != 0 || resp.prompt_len > CTL_MAX_PROMPT)
		abort();
	memcpy(prompt, resp.prompt, resp.prompt_len);
	prompt[resp.prompt_len] = '\0';
	sb_init(&sb);
	r = ctl_build_response(&sb, resp.status, prompt, resp.output, resp.output_len);
	if (r < 0)
		abort();
	if (sb.len != CTL_HDR_LEN + body->len ||
	    memcmp(sb.s + CTL_HDR_LEN, body->data, body->len) != 0)
		abort();
	sb_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf stream, body;
	int r;

	buf_init(&stream, data, size);
	check_request(&stream);
	check_response(&stream);

	/* Requests as the daemon splits them, then responses as the client
	 * does (its limit is larger). */
	buf_init(&stream, data, size);
	while ((r = ctl_parse_frame(&stream, CTL_MAX_REQUEST, &body)) == 0)
		check_request(&body);
	if (r != KZ_ETRUNC && r != KZ_ETOOBIG && r != KZ_EPROTO)
		abort();
	buf_init(&stream, data, size);
	while ((r = ctl_parse_frame(&stream, CTL_MAX_FRAME, &body)) == 0)
		check_response(&body);
	if (r != KZ_ETRUNC && r != KZ_ETOOBIG && r != KZ_EPROTO)
		abort();
	return 0;
}
