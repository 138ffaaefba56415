/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the mirror log service shared by mlog*.c. */
#ifndef BLKSPACE_MLOG_INTERNAL_H
#define BLKSPACE_MLOG_INTERNAL_H

#include "mlog.h"

static inline bool bit_get(const uint8_t *map, uint64_t i) { return map[i / 8] >> (i % 8) & 1; }

static inline void bit_put(uint8_t *map, uint64_t i, bool v)
{
	if (v)
		map[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		map[i / 8] &= (uint8_t)~(1u << (i % 8));
}

static inline size_t map_bytes(uint64_t regions) { return (size_t)((regions + 7) / 8); }

/* mlog.c */
void mlog_set_sync(struct mlog_state *s, uint64_t region, bool in_sync);

/* mlog-init.c: the INIT operation */
int mlog_on_init(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                 struct wbuf *reply);

/* mlog-state.c: lifecycle, encoding, quorum */
void *mlog_create(void);
void mlog_destroy(void *state);
int mlog_save(const void *state, struct wbuf *out);
void *mlog_load(struct rbuf *in);
uint64_t mlog_digest(const void *state);
int mlog_quorum_info(const void *state, struct wbuf *out);
bool mlog_is_quorate(const uint8_t *info, size_t len, const uint32_t *members, size_t n);
bool mlog_is_lifted(const uint8_t *src_info, size_t src_len, const uint8_t *member_info,
                    size_t member_len, const uint32_t *members, size_t n);
bool mlog_quorum_rule(const uint32_t *quorum, size_t nq, const uint32_t *members, size_t n);
bool mlog_quorum_outdated(const void *state);

#endif
