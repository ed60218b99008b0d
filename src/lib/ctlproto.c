/* ctlproto.c - frames of the console protocol; see ctlproto.h.
 *
 * Both programs parse what the other sent through struct buf, and both build
 * with the same checks the parsers make, so a frame that one side builds is
 * always one the other side accepts. */
#include "lib/ctlproto.h"

#include <string.h>

#include "lib/err.h"

/* A line of text: the request payload and the prompt are each one line, so
 * a byte that would end or split a line is a framing error, not text. */
static int ctl_line_ok(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
			return 0;
	return 1;
}

/* Output is many lines; only NUL is refused, so that a client may print it
 * as text. */
static int ctl_output_ok(const char *p, size_t len)
{
	return len == 0 || memchr(p, '\0', len) == NULL;
}

static int ctl_req_type_ok(uint8_t type)
{
	return type >= CTL_REQ_HELLO && type <= CTL_REQ_HELP;
}

static int ctl_status_ok(uint8_t status)
{
	return status <= CTL_ST_OK_UNJUDGED;
}

int ctl_parse_frame(struct buf *b, uint32_t max, struct buf *body)
{
	struct buf probe = *b;
	uint32_t len;
	int r;

	/* Work on a copy: an incomplete frame must leave b untouched so the
	 * reader can try again with more bytes. */
	r = buf_get_u32(&probe, &len);
	if (r < 0)
		return r;
	if (len == 0)
		return KZ_EPROTO;
	if (len > max)
		return KZ_ETOOBIG;
	r = buf_get_sub(&probe, len, body);
	if (r < 0)
		return r;
	*b = probe;
	return 0;
}

int ctl_parse_request(struct buf *b, struct ctl_request *req)
{
	const uint8_t *text;
	size_t len;
	uint8_t type;
	int r;

	if (buf_left(b) > CTL_MAX_REQUEST)
		return KZ_ETOOBIG;
	r = buf_get_u8(b, &type);
	if (r < 0)
		return r;
	if (!ctl_req_type_ok(type))
		return KZ_EPROTO;
	len = buf_left(b);
	r = buf_get_ptr(b, len, &text);
	if (r < 0)
		return r;
	if (!ctl_line_ok((const char *)text, len))
		return KZ_EPROTO;
	req->type = type;
	req->text = (const char *)text;
	req->len = len;
	return 0;
}

int ctl_parse_response(struct buf *b, struct ctl_response *resp)
{
	const uint8_t *prompt, *output;
	uint16_t plen;
	size_t olen;
	uint8_t status;
	int r;

	if (buf_left(b) > CTL_MAX_FRAME)
		return KZ_ETOOBIG;
	r = buf_get_u8(b, &status);
	if (r < 0)
		return r;
	r = buf_get_u16(b, &plen);
	if (r < 0)
		return r;
	if (!ctl_status_ok(status))
		return KZ_EPROTO;
	if (plen > CTL_MAX_PROMPT)
		return KZ_ETOOBIG;
	r = buf_get_ptr(b, plen, &prompt);
	if (r < 0)
		return r;
	if (!ctl_line_ok((const char *)prompt, plen))
		return KZ_EPROTO;
	olen = buf_left(b);
	r = buf_get_ptr(b, olen, &output);
	if (r < 0)
		return r;
	if (!ctl_output_ok((const char *)output, olen))
		return KZ_EPROTO;
	resp->status = status;
	resp->prompt = (const char *)prompt;
	resp->prompt_len = plen;
	resp->output = (const char *)output;
	resp->output_len = olen;
	return 0;
}

/* Appends the pieces of one frame to out, all or nothing. */
static int ctl_append(struct strbuf *out, const void *a, size_t alen, const char *b, size_t blen)
{
	size_t old = out->len;

	if (out->truncated)
		return KZ_ENOMEM;
	/* strbuf keeps one byte for its NUL and stops below KZ_STRBUF_MAX. */
	if (alen + blen >= KZ_STRBUF_MAX - 1 - out->len)
		return KZ_ETOOBIG;
	sb_putn(out, a, alen);
	if (blen)
		sb_putn(out, b, blen);
	if (out->truncated) {
		out->truncated = 0;
		out->len = old;
		if (out->s)
			out->s[old] = '\0';
		return KZ_ENOMEM;
	}
	return 0;
}

int ctl_build_request(struct strbuf *out, uint8_t type, const char *text, size_t len)
{
	uint8_t hdr[CTL_HDR_LEN + 1];
	struct wbuf w;

	if (!ctl_req_type_ok(type))
		return KZ_EPROTO;
	if (len > CTL_MAX_REQUEST - 1)
		return KZ_ETOOBIG;
	if (len && !text)
		return KZ_EINVAL;
	if (!ctl_line_ok(text, len))
		return KZ_EPROTO;
	wbuf_init(&w, hdr, sizeof(hdr));
	wbuf_put_u32(&w, (uint32_t)(1 + len));
	wbuf_put_u8(&w, type);
	if (w.overflow)
		return KZ_ENOSPC;
	return ctl_append(out, hdr, w.len, text, len);
}

int ctl_build_response_head(struct wbuf *w, uint8_t status, const char *prompt, const char *output,
			    size_t output_len)
{
	size_t plen = prompt ? strlen(prompt) : 0;
	size_t start = w->len;

	if (!ctl_status_ok(status))
		return KZ_EPROTO;
	if (plen > CTL_MAX_PROMPT)
		return KZ_ETOOBIG;
	if (output_len > CTL_MAX_FRAME - CTL_RESP_FIXED - plen)
		return KZ_ETOOBIG;
	if (output_len && !output)
		return KZ_EINVAL;
	if (!ctl_line_ok(prompt, plen) || !ctl_output_ok(output, output_len))
		return KZ_EPROTO;
	wbuf_put_u32(w, (uint32_t)(CTL_RESP_FIXED + plen + output_len));
	wbuf_put_u8(w, status);
	wbuf_put_u16(w, (uint16_t)plen);
	wbuf_put_bytes(w, prompt, plen);
	if (w->overflow) {
		/* Leave w as it was; the caller gave too little room. */
		w->len = start;
		w->overflow = 0;
		return KZ_ENOSPC;
	}
	return 0;
}

int ctl_response_head(struct ctl_resp_head *h, uint8_t status, const char *prompt,
		      const char *output, size_t output_len)
{
	struct wbuf w;
	int r;

	wbuf_init(&w, h->b, sizeof(h->b));
	r = ctl_build_response_head(&w, status, prompt, output, output_len);
	h->len = w.len;
	return r;
}

int ctl_build_response(struct strbuf *out, uint8_t status, const char *prompt, const char *output,
		       size_t output_len)
{
	struct ctl_resp_head h;
	int r = ctl_response_head(&h, status, prompt, output, output_len);

	return r < 0 ? r : ctl_append(out, h.b, h.len, output, output_len);
}
