/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Little-endian, fixed-width encoding of wire and on-disk records.
 *
 * struct wbuf grows as it is written; a failed allocation latches an error
 * that wbuf_error() reports once, so writers check at the end only.
 * struct rbuf reads from a caller-owned buffer; every get checks the length
 * first and a short read latches -EBADMSG. Decoders copy out what they need:
 * nothing may keep a pointer into a receive buffer past the call. */
#ifndef BLKSPACE_CODEC_H
#define BLKSPACE_CODEC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int error; /* 0 or -ENOMEM / -EMSGSIZE, sticky */
};

struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
	int error; /* 0 or -EBADMSG, sticky */
};

void wbuf_init(struct wbuf *w);
void wbuf_done(struct wbuf *w);
void wbuf_reset(struct wbuf *w);
/* Make room for n more bytes; returns a pointer to them or NULL (error latched). */
uint8_t *wbuf_reserve(struct wbuf *w, size_t n);
void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n);
/* Hand the buffer to the caller (who frees it); w is reset. */
uint8_t *wbuf_steal(struct wbuf *w, size_t *ret_len);

static inline int wbuf_error(const struct wbuf *w) { return w->error; }

static inline void wbuf_put_u8(struct wbuf *w, uint8_t v) { wbuf_put_bytes(w, &v, 1); }

static inline void wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	wbuf_put_bytes(w, b, 2);
}

static inline void wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	wbuf_put_bytes(w, b, 4);
}

static inline void wbuf_put_u64(struct wbuf *w, uint64_t v)
{
	wbuf_put_u32(w, (uint32_t)v);
	wbuf_put_u32(w, (uint32_t)(v >> 32));
}

static inline void wbuf_put_i32(struct wbuf *w, int32_t v) { wbuf_put_u32(w, (uint32_t)v); }

/* A string as u16 length + bytes (no NUL). Longer than 65535: -EMSGSIZE. */
void wbuf_put_str(struct wbuf *w, const char *s);
/* A blob as u32 length + bytes. */
void wbuf_put_blob(struct wbuf *w, const void *p, size_t n);

/* Overwrite 4 bytes at offset (for lengths known only at the end). */
void wbuf_patch_u32(struct wbuf *w, size_t offset, uint32_t v);

static inline void rbuf_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->error = 0;
}

static inline size_t rbuf_left(const struct rbuf *r) { return r->error ? 0 : r->len - r->pos; }
static inline int rbuf_error(const struct rbuf *r) { return r->error; }

/* Pointer to the next n bytes, or NULL (error latched) if fewer remain. */
const uint8_t *rbuf_get_bytes(struct rbuf *r, size_t n);
uint8_t rbuf_get_u8(struct rbuf *r);
uint16_t rbuf_get_u16(struct rbuf *r);
uint32_t rbuf_get_u32(struct rbuf *r);
uint64_t rbuf_get_u64(struct rbuf *r);
static inline int32_t rbuf_get_i32(struct rbuf *r) { return (int32_t)rbuf_get_u32(r); }
/* Copy a u16-length string into out (size outsz, NUL-terminated). A string
 * that does not fit or holds a NUL byte latches -EBADMSG. */
void rbuf_get_str(struct rbuf *r, char *out, size_t outsz);
/* A u32-length blob: its bytes in the buffer and their count (NULL on error). */
const uint8_t *rbuf_get_blob(struct rbuf *r, size_t *ret_len);
/* Latch an error if bytes remain (a record must be consumed exactly). */
void rbuf_expect_end(struct rbuf *r);

static inline uint16_t le16_read(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static inline void le16_write(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t le32_read(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void le32_write(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* CRC-32C (Castagnoli) of a buffer, continuing from crc (start with 0). */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/* 64-bit FNV-1a, continuing from h (start with FNV64_INIT). */
#define FNV64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t fnv64(uint64_t h, const void *data, size_t len);

#endif
