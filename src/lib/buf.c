/* buf.c - bounds-checked cursor over untrusted bytes; see buf.h. */
#include "lib/buf.h"

#include <string.h>

#include "lib/err.h"

int buf_get_ptr(struct buf *b, size_t len, const uint8_t **out)
{
	if (len > buf_left(b))
		return KZ_ETRUNC;
	/* An empty view may have no data at all: no pointer arithmetic on
	 * NULL (undefined even with a zero offset). */
	*out = b->data ? b->data + b->off : b->data;
	b->off += len;
	return 0;
}

int buf_get_bytes(struct buf *b, void *out, size_t len)
{
	const uint8_t *p;
	int r = buf_get_ptr(b, len, &p);

	if (r < 0)
		return r;
	if (len)
		memcpy(out, p, len);
	return 0;
}

int buf_get_u8(struct buf *b, uint8_t *out)
{
	const uint8_t *p;
	int r = buf_get_ptr(b, 1, &p);

	if (r < 0)
		return r;
	*out = p[0];
	return 0;
}

int buf_get_u16(struct buf *b, uint16_t *out)
{
	const uint8_t *p;
	int r = buf_get_ptr(b, 2, &p);

	if (r < 0)
		return r;
	*out = (uint16_t)((p[0] << 8) | p[1]);
	return 0;
}

int buf_get_u32(struct buf *b, uint32_t *out)
{
	const uint8_t *p;
	int r = buf_get_ptr(b, 4, &p);

	if (r < 0)
		return r;
	*out = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
	return 0;
}

int buf_get_u64(struct buf *b, uint64_t *out)
{
	uint32_t hi, lo;
	int r;

	if (buf_left(b) < 8)
		return KZ_ETRUNC;
	r = buf_get_u32(b, &hi);
	if (r == 0)
		r = buf_get_u32(b, &lo);
	if (r < 0)
		return r;
	*out = ((uint64_t)hi << 32) | lo;
	return 0;
}

int buf_get_sub(struct buf *b, size_t len, struct buf *sub)
{
	const uint8_t *p;
	int r = buf_get_ptr(b, len, &p);

	if (r < 0)
		return r;
	sub->data = p;
	sub->len = len;
	sub->off = 0;
	return 0;
}

int buf_skip(struct buf *b, size_t len)
{
	const uint8_t *p;

	return buf_get_ptr(b, len, &p);
}

int buf_peek_u8(const struct buf *b, size_t at, uint8_t *out)
{
	if (at >= buf_left(b))
		return KZ_ETRUNC;
	*out = b->data[b->off + at];
	return 0;
}

static uint8_t *wbuf_take(struct wbuf *w, size_t len)
{
	uint8_t *p;

	if (w->overflow || len > w->cap - w->len) {
		w->overflow = 1;
		return NULL;
	}
	p = w->data + w->len;
	w->len += len;
	return p;
}

int wbuf_put_bytes(struct wbuf *w, const void *src, size_t len)
{
	uint8_t *p = wbuf_take(w, len);

	if (!p)
		return KZ_ENOSPC;
	if (len)
		memcpy(p, src, len);
	return 0;
}

int wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	return wbuf_put_bytes(w, &v, 1);
}

int wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wbuf_put_bytes(w, b, sizeof(b));
}

int wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return wbuf_put_bytes(w, b, sizeof(b));
}

long wbuf_reserve(struct wbuf *w, size_t len)
{
	size_t at = w->len;
	uint8_t *p = wbuf_take(w, len);

	if (!p)
		return -1;
	memset(p, 0, len);
	return (long)at;
}

int wbuf_patch_u16(struct wbuf *w, size_t at, uint16_t v)
{
	if (at > w->len || w->len - at < 2)
		return KZ_ERANGE;
	w->data[at] = (uint8_t)(v >> 8);
	w->data[at + 1] = (uint8_t)v;
	return 0;
}

int wbuf_patch_u32(struct wbuf *w, size_t at, uint32_t v)
{
	if (at > w->len || w->len - at < 4)
		return KZ_ERANGE;
	w->data[at] = (uint8_t)(v >> 24);
	w->data[at + 1] = (uint8_t)(v >> 16);
	w->data[at + 2] = (uint8_t)(v >> 8);
	w->data[at + 3] = (uint8_t)v;
	return 0;
}
