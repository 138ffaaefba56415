/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Journal record framing and scanning. */
#include "config.h"

#include "journal-frame.h"

#include <stdbool.h>

#include <blkspace/errors.h>

/* The CRC covers the length field too, so a damaged length is caught. */
static uint32_t frame_crc(uint32_t len, const void *rec)
{
	uint8_t b[4];
	le32_write(b, len);
	return crc32c(crc32c(0, b, sizeof(b)), rec, len);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

void journal_frame_put(struct wbuf *w, const void *rec, size_t len)
{
	if (len == 0 || len > JOURNAL_RECORD_MAX) {
		if (!w->error)
			w->error = -EMSGSIZE; /* could not be read back */
		return;
	}
	wbuf_put_u32(w, (uint32_t)len);
	wbuf_put_u32(w, frame_crc((uint32_t)len, rec));
	wbuf_put_bytes(w, rec, len);
}

long journal_frame_scan(const uint8_t *data, size_t len, const struct store_load_callbacks *cb,
                        void *cb_data)
{
	size_t off = 0;
	while (off < len) {
		if (len - off < JOURNAL_FRAME_BYTES)
			return (long)off; /* torn header */
		uint32_t n = le32_read(data + off);
		uint32_t crc = le32_read(data + off + 4);
		if (n == 0) /* zeros where a record should start: a tail that was never written */
			return all_zero(data + off, len - off) ? (long)off : BLKSPACE_E_CORRUPT;
		if (n > JOURNAL_RECORD_MAX)
			return BLKSPACE_E_CORRUPT; /* no write produces it: not a torn tail */
		size_t end = off + JOURNAL_FRAME_BYTES + n;
		if (end > len)
			return (long)off; /* torn: the last write did not complete */
		const uint8_t *rec = data + off + JOURNAL_FRAME_BYTES;
		if (frame_crc(n, rec) != crc) /* torn only if nothing follows it */
			return all_zero(data + end, len - end) ? (long)off : BLKSPACE_E_CORRUPT;
		int rc = cb->on_record(cb_data, rec, n);
		if (rc < 0)
			return rc;
		off = end;
	}
	return (long)off;
}
