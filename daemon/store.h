/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Durable local state of a domain: a snapshot plus a journal of records,
 * each framed with its length and a CRC-32C. file (under the state
 * directory) in production, mem (a simulated disk that loses what was not
 * committed when its node is killed) in the simulator.
 *
 * append() only buffers; commit() writes and flushes everything appended as
 * one group commit (a failed commit keeps it all for the next one, and a
 * commit that succeeds has made every record appended durable); save_snapshot() durably replaces snapshot and journal
 * (records appended but not committed are dropped: the snapshot has them).
 * load() hands back the snapshot (if any) and every intact record; a torn
 * last record is dropped, damage before the end is BLKSPACE_E_CORRUPT. */
#ifndef BLKSPACE_STORE_H
#define BLKSPACE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_load_callbacks {
	int (*on_snapshot)(void *data, const void *snap, size_t len);
	int (*on_record)(void *data, const void *rec, size_t len);
};

struct store_ops {
	const char *name;
	/* Increment and return the daemon incarnation kept by this backend. */
	int (*next_incarnation)(void *backend, uint32_t *ret_incarnation);
	int (*open)(void *backend, const char *domain, struct store **ret_store);
	int (*load)(struct store *s, const struct store_load_callbacks *cb, void *data);
	int (*append)(struct store *s, const void *rec, size_t len);
	int (*commit)(struct store *s);
	int (*save_snapshot)(struct store *s, const void *snap, size_t len);
	/* accepts NULL */
	void (*close)(struct store *s);
};

#endif
