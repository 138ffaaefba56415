/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Buffers and checksums for the little-endian wire and disk encodings. */
#include "config.h"

#include "codec.h"

#include <stdlib.h>

#define WBUF_MIN_CAP 256
#define WBUF_MAX_CAP ((size_t)1 << 31)

void wbuf_init(struct wbuf *w) { memset(w, 0, sizeof(*w)); }

void wbuf_done(struct wbuf *w)
{
	free(w->data);
	memset(w, 0, sizeof(*w));
}

void wbuf_reset(struct wbuf *w)
{
	w->len = 0;
	w->error = 0;
}

uint8_t *wbuf_reserve(struct wbuf *w, size_t n)
{
	if (w->error)
		return NULL;
	if (n > WBUF_MAX_CAP - w->len) {
		w->error = -EMSGSIZE;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : WBUF_MIN_CAP;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->data, cap);
		if (!p) {
			w->error = -ENOMEM;
			return NULL;
		}
		w->data = p;
		w->cap = cap;
	}
	uint8_t *p = w->data + w->len;
	w->len += n;
	return p;
}

void wbuf_put_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	uint8_t *dst = wbuf_reserve(w, n);
	if (dst)
		memcpy(dst, p, n);
}

uint8_t *wbuf_steal(struct wbuf *w, size_t *ret_len)
{
	uint8_t *p = w->data;
	*ret_len = w->len;
	memset(w, 0, sizeof(*w));
	return p;
}

void wbuf_put_str(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);
	if (n > UINT16_MAX) {
		if (!w->error)
			w->error = -EMSGSIZE;
		return;
	}
	wbuf_put_u16(w, (uint16_t)n);
	wbuf_put_bytes(w, s, n);
}

void wbuf_put_blob(struct wbuf *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		if (!w->error)
			w->error = -EMSGSIZE;
		return;
	}
	wbuf_put_u32(w, (uint32_t)n);
	wbuf_put_bytes(w, p, n);
}

void wbuf_patch_u32(struct wbuf *w, size_t offset, uint32_t v)
{
	if (!w->error && offset + 4 <= w->len)
		le32_write(w->data + offset, v);
}

const uint8_t *rbuf_get_bytes(struct rbuf *r, size_t n)
{
	if (r->error || n > r->len - r->pos) {
		r->error = -EBADMSG;
		return NULL;
	}
	const uint8_t *p = r->data + r->pos;
	r->pos += n;
	return p;
}

uint8_t rbuf_get_u8(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_bytes(r, 1);
	return p ? p[0] : 0;
}

uint16_t rbuf_get_u16(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_bytes(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t rbuf_get_u32(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_bytes(r, 4);
	return p ? le32_read(p) : 0;
}

uint64_t rbuf_get_u64(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_bytes(r, 8);
	return p ? le32_read(p) | (uint64_t)le32_read(p + 4) << 32 : 0;
}

void rbuf_get_str(struct rbuf *r, char *out, size_t outsz)
{
	size_t n = rbuf_get_u16(r);
	const uint8_t *p = rbuf_get_bytes(r, n);
	if (outsz)
		out[0] = '\0';
	if (!p)
		return;
	if (n >= outsz || memchr(p, '\0', n)) {
		r->error = -EBADMSG;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

const uint8_t *rbuf_get_blob(struct rbuf *r, size_t *ret_len)
{
	size_t n = rbuf_get_u32(r);
	const uint8_t *p = rbuf_get_bytes(r, n);
	*ret_len = p ? n : 0;
	return p;
}

void rbuf_expect_end(struct rbuf *r)
{
	if (!r->error && r->pos != r->len)
		r->error = -EBADMSG;
}

/* Table-driven CRC-32C (reflected polynomial 0x82F63B78). The table is
 * filled once before main() and only read afterwards. */
static uint32_t crc32c_table[256];

__attribute__((constructor)) static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t fnv64(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len--) {
		h ^= *p++;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
