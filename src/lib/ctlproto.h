/* ctlproto.h - the console protocol between `kizuna` and `kizunad`.
 *
 * A UNIX stream socket; each side sends frames:
 *   u32 length (of what follows, network order, at most CTL_MAX_FRAME)
 *   u8  type (requests) or status (responses)
 *   ... payload
 * Request payload: text without NUL (the line typed so far, or the hello).
 * Response payload: u16 prompt length, the prompt, then the output text.
 * One session per connection: the daemon keeps the mode (exec, config,
 * config-if, ...) of each connection. */
#ifndef KZ_CTLPROTO_H
#define KZ_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strbuf.h"

#define CTL_MAX_FRAME (16u << 20) /* a response can be a long show */
#define CTL_MAX_REQUEST (64u << 10)

enum ctl_req_type {
	CTL_REQ_HELLO = 1,    /* payload: "lang=ja" or "lang=en" */
	CTL_REQ_EXEC = 2,     /* payload: one command line */
	CTL_REQ_COMPLETE = 3, /* payload: the line up to the cursor */
	CTL_REQ_HELP = 4,     /* payload: the line up to the cursor ("?") */
};

enum ctl_status {
	CTL_ST_OK = 0,    /* output is the command's screen */
	CTL_ST_ERROR = 1, /* output is the error message */
	CTL_ST_BYE = 2,   /* `exit` at exec level: the session ends */
};

struct ctl_request {
	uint8_t type;
	const char *text; /* points into the frame, not NUL-terminated */
	size_t len;
};

struct ctl_response {
	uint8_t status;
	const char *prompt;
	size_t prompt_len;
	const char *output;
	size_t output_len;
};

/* Parse a frame body (after the u32 length). */
int ctl_parse_request(struct buf *b, struct ctl_request *req) KZ_MUST_CHECK;
int ctl_parse_response(struct buf *b, struct ctl_response *resp) KZ_MUST_CHECK;

/* Append a whole frame (length included) to out. */
void ctl_build_request(struct strbuf *out, uint8_t type, const char *text, size_t len);
void ctl_build_response(struct strbuf *out, uint8_t status, const char *prompt,
			const char *output, size_t output_len);

#endif
