/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replicated table of applied request identities.
 *
 * For each origin node it keeps the incarnation of the origin's daemon, the
 * highest request id applied, which of the DEDUP_RING ids up to it were
 * applied, and their results. An origin keeps all its unanswered requests
 * within DEDUP_RING consecutive ids, so an id further below the highest is
 * known to be settled. Ids may be applied out of order (a configuration
 * change can deliver a later request of an origin without an earlier one).
 * It is part of the replicated state: snapshots carry it and the journal
 * rebuilds it. */
#ifndef BLKSPACE_DEDUP_H
#define BLKSPACE_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "domain.h"

#define DEDUP_RING 64

struct dedup_result {
	uint64_t rid;
	int32_t result;
	uint8_t reply_len;
	uint8_t reply[DOMAIN_REPLY_MAX];
};

struct dedup_entry {
	uint32_t nodeid;
	uint32_t incarnation;
	uint64_t last_rid;
	uint64_t applied; /* bit i: last_rid - i was applied */
	struct dedup_result ring[DEDUP_RING]; /* slot rid % DEDUP_RING */
};

struct dedup {
	struct dedup_entry *entries; /* sorted by nodeid */
	size_t n, cap;
};

enum dedup_verdict {
	DEDUP_NEW,       /* apply it */
	DEDUP_DUPLICATE, /* already applied: answer from the table */
	DEDUP_STALE,     /* from an older incarnation of the origin: ignore */
};

void dedup_init(struct dedup *t);
void dedup_done(struct dedup *t);
enum dedup_verdict dedup_check(const struct dedup *t, uint32_t origin, uint32_t incarnation,
                               uint64_t rid);
/* Record an applied request (resets the entry for a newer incarnation). */
int dedup_record(struct dedup *t, uint32_t origin, uint32_t incarnation, uint64_t rid, int result,
                 const void *reply, size_t reply_len);
/* The stored result of an applied request, or NULL if it is not (or no longer) kept. */
const struct dedup_result *dedup_find(const struct dedup *t, uint32_t origin,
                                      uint32_t incarnation, uint64_t rid);
void dedup_encode(const struct dedup *t, struct wbuf *w);
int dedup_decode(struct dedup *t, struct rbuf *r);
uint64_t dedup_digest(const struct dedup *t);

#endif
