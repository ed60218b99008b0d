/* ctlproto.h - the console protocol between `kizuna` and `kizunad`.
 *
 * A UNIX stream socket; each side sends frames:
 *   u32 length (of what follows, network order; 1..CTL_MAX_REQUEST for a
 *       request, 1..CTL_MAX_FRAME for a response)
 *   u8  type (requests) or status (responses)
 *   ... payload
 * Request payload: text without NUL, CR or LF (one line: the line typed so
 * far, or the hello).
 * Response payload: u16 prompt length (at most CTL_MAX_PROMPT), the prompt
 * (no NUL, CR or LF), then the output text (no NUL) up to the end of the
 * frame.  Output is whole lines, each ending in "\n", or empty.
 *
 * Exchange: the client sends one request and reads one response; the daemon
 * answers in order.  The first request is CTL_REQ_HELLO; its response carries
 * the first prompt.  Responses to CTL_REQ_COMPLETE list the candidates for
 * the last word, one per line; responses to CTL_REQ_HELP list what may come
 * next, "  word  help" per line.  After CTL_ST_BYE the daemon closes the
 * connection.  A daemon that cannot serve a new connection (too many
 * sessions) sends one CTL_ST_ERROR response unasked and closes.
 *
 * One session per connection: the daemon keeps the mode (exec, config,
 * config-if, ...) of each connection.  A frame longer than its limit, a
 * zero-length frame or a malformed payload ends the connection. */
#ifndef KZ_CTLPROTO_H
#define KZ_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/strbuf.h"

/* Where kizunad listens and kizuna connects unless told otherwise. */
#define CTL_DEFAULT_SOCKET "/run/kizuna/kizuna.sock"

#define CTL_HDR_LEN 4u              /* the u32 length */
#define CTL_MAX_FRAME (16u << 20)   /* a response can be a long show */
#define CTL_MAX_REQUEST (64u << 10) /* one typed line is far shorter */
#define CTL_MAX_PROMPT 255u         /* "hostname(config-ipsec-profile)#" */
/* Fixed part of a response before the prompt: status and prompt length. */
#define CTL_RESP_FIXED 3u
/* Room for everything of a response frame before its output. */
#define CTL_RESP_HEAD_MAX (CTL_HDR_LEN + CTL_RESP_FIXED + CTL_MAX_PROMPT)

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
	CTL_ST_MORE = 3,  /* part of the screen: another response to the same
			   * request follows (ping, traceroute stream) */
	/* output is the command's screen, and it found a problem (1) or
	 * could not judge (2): `kizuna diagnose ipsec` exits with it */
	CTL_ST_OK_PROBLEM = 4,
	CTL_ST_OK_UNJUDGED = 5,
};

struct ctl_request {
	uint8_t type;
	const char *text; /* points into the frame, not NUL-terminated */
	size_t len;
};

struct ctl_response {
	uint8_t status;
	const char *prompt; /* points into the frame, not NUL-terminated */
	size_t prompt_len;
	const char *output; /* points into the frame, not NUL-terminated */
	size_t output_len;
};

/* Splits the next frame off a byte stream.  On success *body is a view of
 * the frame after its length field and b has moved past the whole frame.
 * KZ_ETRUNC: the frame is not complete yet (b is left as it was; read more).
 * KZ_ETOOBIG: the length field exceeds max; KZ_EPROTO: zero length.  Both
 * are reported as soon as the length field is complete, so a reader can drop
 * a connection without waiting for (or buffering) the oversized body. */
int ctl_parse_frame(struct buf *b, uint32_t max, struct buf *body) KZ_MUST_CHECK;

/* Parse a frame body (after the u32 length), all of b.  KZ_ETRUNC when a
 * field is missing, KZ_EPROTO for an unknown type or status or for bytes the
 * text may not hold, KZ_ETOOBIG for a prompt over CTL_MAX_PROMPT or a
 * request body over CTL_MAX_REQUEST. */
int ctl_parse_request(struct buf *b, struct ctl_request *req) KZ_MUST_CHECK;
int ctl_parse_response(struct buf *b, struct ctl_response *resp) KZ_MUST_CHECK;

/* Append a whole frame (length included) to out.  The same rules as the
 * parsers apply, so a peer never receives a frame it would reject:
 * KZ_EPROTO for an unknown type or status or a forbidden byte, KZ_ETOOBIG
 * over a limit, KZ_ENOMEM when out cannot grow.  On error out is left as it
 * was. */
int ctl_build_request(struct strbuf *out, uint8_t type, const char *text, size_t len);
int ctl_build_response(struct strbuf *out, uint8_t status, const char *prompt, const char *output,
		       size_t output_len);

/* Checks a response like ctl_build_response() but writes only the part of
 * the frame before the output into w (room: CTL_RESP_HEAD_MAX), for a writer
 * that sends a long output from where it already is instead of copying it
 * into one frame.  On error nothing is written. */
int ctl_build_response_head(struct wbuf *w, uint8_t status, const char *prompt, const char *output,
			    size_t output_len);

/* That part of a frame in a buffer of its own. */
struct ctl_resp_head {
	uint8_t b[CTL_RESP_HEAD_MAX];
	size_t len;
};

/* ctl_build_response_head() into h; 0, or its error. */
int ctl_response_head(struct ctl_resp_head *h, uint8_t status, const char *prompt,
		      const char *output, size_t output_len);

#endif
