/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replicated dirty-region log of one mirror (one log domain): region
 * geometry, the sync bitmap, which node has which region marked, the
 * resync assignment and the registry of nodes that resumed the log.
 *
 * A region is clean only when it is in sync and no node has it marked. The
 * registry decides which configuration of the log domain may change it: one
 * holding a majority of the nodes registered at the last membership event
 * (at most one side of any partition). Pure data and deterministic operations: no I/O. */
#ifndef BLKSPACE_MLOG_H
#define BLKSPACE_MLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "domain.h"

#define MLOG_MAX_REGIONS (UINT64_C(1) << 32)
#define MLOG_INIT_CHUNK_BITS (60u * 1024 * 8) /* regions per INIT operation */
#define MLOG_MAX_REGIONS_PER_OP 1024

enum mlog_op {
	MLOG_OP_REGISTER = 1,             /* u64 instance, u64 flags: the origin resumed the log */
	MLOG_OP_UNREGISTER = 2,           /* u64 instance: the origin suspended it */
	MLOG_OP_INIT = 3,                 /* a chunk of the initial sync bitmap */
	MLOG_OP_MARK = 4,                 /* u64 regions[] */
	MLOG_OP_CLEAR = 5,                /* u64 regions[] */
	MLOG_OP_FLUSH = 6,                /* u64 regions[] marked first (integrated) */
	MLOG_OP_GET_RESYNC_WORK = 7,      /* -> i64 has_work, u64 region */
	MLOG_OP_SET_REGION_SYNC = 8,      /* u64 region, i64 in_sync */
	MLOG_OP_IS_CLEAN = 9,             /* u64 region -> i64 */
	MLOG_OP_IS_REMOTE_RECOVERING = 10, /* u64 region -> i64 recovering, u64 hint */
	MLOG_OP_DISK_FAILED = 11,         /* the writer could not write the log device */
	MLOG_OP_FENCED = 12,              /* u32 nodeid, u64 departure: it was fenced since */
	MLOG_OP_MAX,
};

/* How the initial bitmap is chosen (from the constructor's sync/nosync). */
enum mlog_init_fill {
	MLOG_INIT_BITS = 0,   /* the chunk carries bits (read from the disk log) */
	MLOG_INIT_ALL_OUT = 1,/* every region out of sync: resync all */
	MLOG_INIT_ALL_IN = 2, /* every region in sync (nosync) */
};

/* REGISTER flags. */
#define MLOG_REGISTER_FRESH 1u /* first construction of the table: the kernel holds no marks */

struct mlog_mark {
	uint64_t region;
	uint32_t nodeid;
};

/* A node that left the log's group without suspending its mirror: until it
 * is known to be fenced its kernel may still write the regions it marked,
 * so they stay marked (never clean, never handed out for resync). */
struct mlog_departed {
	uint32_t nodeid;
	uint64_t instance; /* the opening that left */
	uint64_t departure; /* its number: MLOG_OP_FENCED names it */
};

struct mlog_state {
	bool initialized;
	uint64_t region_count;
	uint32_t region_size;   /* sectors */
	uint64_t init_done;     /* regions received by INIT so far */
	uint8_t *sync;          /* bit i: region i in sync */
	uint64_t sync_count;
	bool all_synced;        /* every region is in sync */
	struct mlog_mark *marks;/* sorted by (region, nodeid) */
	size_t n_marks, cap_marks;
	uint64_t recovering;    /* region being resynced, when recoverer != 0 */
	uint32_t recoverer;
	uint64_t search;        /* where the search for resync work continues */
	uint64_t *priority;     /* regions waiting for a write: resynced first */
	size_t n_priority, cap_priority;
	bool disk_failed;
	uint32_t registry[DOMAIN_MAX_MEMBERS]; /* sorted nodeids that resumed the log */
	uint64_t instance[DOMAIN_MAX_MEMBERS]; /* which opening of the log on that node */
	size_t n_registry;
	struct mlog_departed departed[DOMAIN_MAX_MEMBERS]; /* sorted by nodeid */
	size_t n_departed;
	uint64_t departures; /* departures recorded so far */
	/* Whose majority may change the log in the next configuration: the
	 * registry as the last membership event left it, or that
	 * configuration's members if nobody had resumed the log. Fixed between
	 * membership events, so every member of an epoch judges the next
	 * configuration alike, however far each applied. */
	uint32_t quorum[DOMAIN_MAX_MEMBERS]; /* sorted */
	size_t n_quorum;
	bool quorum_is_registry; /* else the members */
};

extern const struct domain_service_ops mlog_service_ops;

/* Local, unordered reads of a replica. */
bool mlog_is_in_sync(const struct mlog_state *s, uint64_t region);
bool mlog_is_clean(const struct mlog_state *s, uint64_t region);
bool mlog_is_marked_by(const struct mlog_state *s, uint64_t region, uint32_t nodeid);
size_t mlog_marked_regions(const struct mlog_state *s);
bool mlog_is_registered(const struct mlog_state *s, uint32_t nodeid);
/* Registered by this very opening of the log on nodeid? An earlier opening
 * (the daemon restarted, the table was reloaded) does not count. */
bool mlog_is_registered_as(const struct mlog_state *s, uint32_t nodeid, uint64_t instance);
/* The departure of nodeid waiting for fencing, or NULL. */
const struct mlog_departed *mlog_departed_of(const struct mlog_state *s, uint32_t nodeid);
/* Regions marked by nodeid. */
size_t mlog_regions_marked_by(const struct mlog_state *s, uint32_t nodeid);
/* Is one of regions[n] being resynced by a node other than nodeid? Its
 * mark must wait (the service refuses it with -EBUSY). */
bool mlog_recovering_elsewhere(const struct mlog_state *s, uint32_t nodeid,
                               const uint64_t *regions, size_t n);

/* The clean bitmap to write to the disk log: in sync and not marked, where
 * every region in extra[] (marks logged but not applied yet) counts as
 * marked. clean has (region_count + 7) / 8 bytes. */
void mlog_clean_bitmap(const struct mlog_state *s, const uint64_t *extra, size_t n_extra,
                       uint8_t *clean);

/* Request bodies. */
void mlog_encode_regions(struct wbuf *w, const uint64_t *regions, size_t n);
void mlog_encode_init(struct wbuf *w, uint64_t region_count, uint32_t region_size,
                      enum mlog_init_fill fill, uint64_t offset, uint64_t n_bits,
                      const uint8_t *bits);
void mlog_encode_set_sync(struct wbuf *w, uint64_t region, int64_t in_sync);
void mlog_encode_register(struct wbuf *w, uint64_t instance, uint64_t flags);
void mlog_encode_fenced(struct wbuf *w, uint32_t nodeid, uint64_t departure);
/* What a member vouches for in SYNC, after its quorum set: these nodes
 * (sorted) were fenced since they left, and no other node outside the
 * configuration may write the mirror (node-mlog-lift.c says when). */
#define MLOG_ATTEST_VERSION 1
void mlog_encode_attestation(struct wbuf *w, const uint32_t *fenced, size_t n);
/* Decode a regions body (MARK, CLEAR, FLUSH); -EBADMSG or the count. */
int mlog_decode_regions(const uint8_t *body, size_t len, uint64_t *out, size_t max);

#endif
