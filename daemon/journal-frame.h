/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Framing of journal records, shared by the file and the simulated store:
 * u32 length (never 0), u32 CRC-32C of length and data, data. A record cut
 * short, one failing its CRC with only zeros after it, or a tail of zeros
 * is a torn or unwritten tail (dropped); anything else is damage
 * (BLKSPACE_E_CORRUPT). A damaged
 * length that happens to point past the end cannot be told from a torn
 * write; it costs the records after it. */
#ifndef BLKSPACE_JOURNAL_FRAME_H
#define BLKSPACE_JOURNAL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "store.h"

#define JOURNAL_FRAME_BYTES 8
#define JOURNAL_RECORD_MAX (64u * 1024 * 1024)

/* Append a framed record; an empty or oversized one latches -EMSGSIZE in w. */
void journal_frame_put(struct wbuf *w, const void *rec, size_t len);

/* Call on_record for each intact record of data[len]. Returns the length of
 * the intact prefix (>= 0; less than len when a torn tail was dropped), a
 * negative error from on_record, or BLKSPACE_E_CORRUPT. */
long journal_frame_scan(const uint8_t *data, size_t len, const struct store_load_callbacks *cb,
                        void *cb_data);

#endif
