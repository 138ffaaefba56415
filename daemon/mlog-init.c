/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mirror log service: INIT, the initial sync bitmap in chunks. The log
 * domain's writer sends them once the domain is first active: bits read from
 * the disk log, or all in or all out of sync. A chunk at offset 0 starts
 * over (a writer that died half way is replaced); once every region is
 * covered the log is initialized and later INITs change nothing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mlog-internal.h"

void mlog_encode_init(struct wbuf *w, uint64_t region_count, uint32_t region_size,
                      enum mlog_init_fill fill, uint64_t offset, uint64_t n_bits,
                      const uint8_t *bits)
{
	wbuf_put_u64(w, region_count);
	wbuf_put_u32(w, region_size);
	wbuf_put_u8(w, (uint8_t)fill);
	wbuf_put_u64(w, offset);
	wbuf_put_u64(w, n_bits);
	wbuf_put_blob(w, bits, fill == MLOG_INIT_BITS ? map_bytes(n_bits) : 0);
}

struct init_chunk {
	uint64_t region_count;
	uint32_t region_size;
	uint8_t fill;
	uint64_t offset, n_bits;
	const uint8_t *bits;
	size_t bits_len;
};

static int decode_chunk(const uint8_t *body, size_t len, struct init_chunk *c)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	c->region_count = rbuf_get_u64(&r);
	c->region_size = rbuf_get_u32(&r);
	c->fill = rbuf_get_u8(&r);
	c->offset = rbuf_get_u64(&r);
	c->n_bits = rbuf_get_u64(&r);
	c->bits = rbuf_get_blob(&r, &c->bits_len);
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || c->region_count == 0 || c->region_count > MLOG_MAX_REGIONS ||
	    c->region_size == 0 || c->fill > MLOG_INIT_ALL_IN || c->offset % 8 ||
	    c->n_bits > c->region_count || c->offset > c->region_count - c->n_bits ||
	    c->bits_len != (c->fill == MLOG_INIT_BITS ? map_bytes(c->n_bits) : 0))
		return -EINVAL;
	return 0;
}

/* Begin (or restart) with this geometry. */
static int init_begin(struct mlog_state *s, const struct init_chunk *c)
{
	uint8_t *sync = calloc(map_bytes(c->region_count) ? map_bytes(c->region_count) : 1, 1);
	if (!sync)
		return -ENOMEM;
	free(s->sync);
	s->sync = sync;
	s->region_count = c->region_count;
	s->region_size = c->region_size;
	s->init_done = 0;
	s->sync_count = 0;
	s->all_synced = false;
	s->n_marks = 0;
	s->recoverer = 0;
	s->search = 0;
	s->n_priority = 0;
	return 0;
}

static void init_fill(struct mlog_state *s, const struct init_chunk *c)
{
	for (uint64_t i = 0; i < c->n_bits; i++) {
		bool in = c->fill == MLOG_INIT_ALL_IN ||
		          (c->fill == MLOG_INIT_BITS && bit_get(c->bits, i));
		if (in)
			mlog_set_sync(s, c->offset + i, true);
	}
}

int mlog_on_init(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                 struct wbuf *reply)
{
	struct init_chunk c;
	if (decode_chunk(body, len, &c) < 0)
		return -EINVAL;
	if (s->initialized)
		return 0; /* a late or repeated INIT: the log is already set up */
	if (c.offset == 0) {
		int rc = init_begin(s, &c);
		if (rc < 0)
			return rc;
	} else if (c.region_count != s->region_count || c.region_size != s->region_size ||
	           c.offset != s->init_done) {
		return -EINVAL; /* a chunk out of its sequence */
	}
	init_fill(s, &c);
	s->init_done = c.offset + c.n_bits;
	s->initialized = s->init_done == s->region_count;
	return 0;
}
