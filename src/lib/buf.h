/* buf.h - bounds-checked reading and writing of untrusted bytes.
 *
 * Every parser of outside input (packets, config text, console frames) reads
 * through struct buf: each getter checks the remaining length first and
 * returns 0 or KZ_ETRUNC, never reads past the end and never aborts.
 * buf_get_sub() hands out a bounded view so that a payload parser cannot read
 * past its own payload even if it tries.  Nothing is cast from the wire: values
 * are assembled byte by byte in network order.
 *
 * struct wbuf builds messages into caller memory; length fields are written
 * as placeholders and back-patched by offset (wbuf_patch_u16/u32).  A write
 * that does not fit sets the sticky overflow flag and returns KZ_ENOSPC, so a
 * builder may check once at the end. */
#ifndef KZ_BUF_H
#define KZ_BUF_H

#include <stddef.h>
#include <stdint.h>

#define KZ_MUST_CHECK __attribute__((warn_unused_result))

struct buf {
	const uint8_t *data;
	size_t len; /* total bytes in the view */
	size_t off; /* read cursor, always <= len */
};

static inline void buf_init(struct buf *b, const void *data, size_t len)
{
	b->data = data;
	b->len = data ? len : 0;
	b->off = 0;
}

static inline size_t buf_left(const struct buf *b)
{
	return b->len - b->off;
}

static inline const uint8_t *buf_cur(const struct buf *b)
{
	return b->data ? b->data + b->off : b->data;
}

int buf_get_u8(struct buf *b, uint8_t *out) KZ_MUST_CHECK;
int buf_get_u16(struct buf *b, uint16_t *out) KZ_MUST_CHECK;
int buf_get_u32(struct buf *b, uint32_t *out) KZ_MUST_CHECK;
int buf_get_u64(struct buf *b, uint64_t *out) KZ_MUST_CHECK;
/* Copies len bytes out. */
int buf_get_bytes(struct buf *b, void *out, size_t len) KZ_MUST_CHECK;
/* Points *out at the next len bytes without copying. */
int buf_get_ptr(struct buf *b, size_t len, const uint8_t **out) KZ_MUST_CHECK;
/* A bounded view of the next len bytes; the parent cursor moves past them. */
int buf_get_sub(struct buf *b, size_t len, struct buf *sub) KZ_MUST_CHECK;
int buf_skip(struct buf *b, size_t len) KZ_MUST_CHECK;
/* Peeks at a byte at cursor + at, without moving. */
int buf_peek_u8(const struct buf *b, size_t at, uint8_t *out) KZ_MUST_CHECK;

struct wbuf {
	uint8_t *data;
	size_t cap;
	size_t len;
	int overflow; /* set once any write did not fit */
};

static inline void wbuf_init(struct wbuf *w, void *data, size_t cap)
{
	w->data = data;
	w->cap = data ? cap : 0;
	w->len = 0;
	w->overflow = 0;
}

int wbuf_put_u8(struct wbuf *w, uint8_t v);
int wbuf_put_u16(struct wbuf *w, uint16_t v);
int wbuf_put_u32(struct wbuf *w, uint32_t v);
int wbuf_put_bytes(struct wbuf *w, const void *p, size_t len);
/* Reserves len bytes, returning their offset for a later patch, or -1. */
long wbuf_reserve(struct wbuf *w, size_t len);
int wbuf_patch_u16(struct wbuf *w, size_t at, uint16_t v);
int wbuf_patch_u32(struct wbuf *w, size_t at, uint32_t v);

#endif
