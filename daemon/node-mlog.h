/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A mirror log on this node: what the kernel constructed (the local part)
 * and, once resumed, its log domain. Shared by node-mlog.c (kernel
 * requests) and node-mlog-domain.c (the domain's hooks). */
#ifndef BLKSPACE_NODE_MLOG_H
#define BLKSPACE_NODE_MLOG_H

#include <sys/queue.h>

#include "mlog.h"
#include "node-internal.h"

#define MLOG_GROUP_PREFIX "blkspace-log-"
#define MLOG_DEV_MAX 256

enum mlog_sync_mode {
	MLOG_SYNC_DEFAULT, /* from the disk log (core: resync all) */
	MLOG_SYNC_FORCE,   /* "sync": resync everything */
	MLOG_SYNC_NONE,    /* "nosync": everything is in sync */
};

/* The parsed constructor string. */
struct mlog_ctr {
	uint64_t target_sectors;
	bool disk;
	char dev[MLOG_DEV_MAX];
	uint32_t region_size; /* sectors */
	enum mlog_sync_mode sync;
	bool block_on_error;
	uint64_t region_count;
};

/* A request waiting for the cluster: from the kernel, or the node's own
 * (from.raw_type 0). */
struct mlog_wait {
	LIST_ENTRY(mlog_wait) link;
	uint64_t token; /* 0 while held */
	uint16_t op;
	struct ulog_origin from;
	uint8_t *body; /* marks and flushes: submitted again after -EBUSY */
	size_t len;
};
LIST_HEAD(mlog_wait_list, mlog_wait);

struct mlog_local {
	LIST_ENTRY(mlog_local) link;
	struct node *node;
	char uuid[ULOG_UUID_LEN];
	uint64_t luid;
	struct mlog_ctr ctr;
	bool resumed;       /* RESUME answered */
	bool has_domain;
	bool close_due;     /* close the domain at the next safe point */
	bool leave_due;     /* unregistered: leave once our receipt for it is out */
	uint64_t instance;  /* this opening of the log domain (incarnation, count) */
	bool reconnected;   /* the kernel constructed it before (a daemon restart) */
	bool registered_once; /* this opening was registered: a new REGISTER is no news */
	struct node_domain nd;
	struct mlog_wait_list waiting;
	bool resume_pending;
	struct ulog_origin resume_from;
	bool suspend_pending;
	struct ulog_origin suspend_from;
	/* writer side */
	struct mlog_disk *disk;
	uint8_t *written; /* the clean bitmap last written, NULL when unknown */
	bool disk_failed_sent;
	/* the kernel's in-sync hint: it asks no remote-recovery question below
	 * it and writes those regions as in sync (reset at resume) */
	uint64_t kernel_hint;
	bool resync_warned; /* logged that the resync waits for a resume */
	/* members of the log since its last active configuration (sorted) */
	uint32_t seen[DOMAIN_MAX_MEMBERS];
	size_t n_seen;
};

int mlog_ctr_parse(const char *args, struct mlog_ctr *ctr);
/* Name of the log domain's group for a uuid. */
void mlog_group_name(const char *uuid, char *out, size_t outsz);

/* node-mlog-lift.c */
void mlog_lift_track(struct mlog_local *l);
void mlog_lift_attest(struct mlog_local *l, struct wbuf *out);

/* node-mlog-domain.c */
int mlog_domain_open(struct mlog_local *l);
/* Ask the domain to (un)register this opening of the log. */
int mlog_submit_registration(struct mlog_local *l, uint16_t op);
void mlog_domain_close(struct mlog_local *l);
const struct mlog_state *mlog_replica(const struct mlog_local *l);
/* Regions are out of sync, but the kernel here was told the whole mirror is
 * and asks for no resync work until its next resume (the regions a node
 * had marked when it failed are such). */
bool mlog_resync_needs_resume(const struct mlog_local *l);
/* Submit an operation; the answer goes to from (NULL: the node's own). */
int mlog_submit(struct mlog_local *l, uint16_t op, const void *body, size_t len,
                const struct ulog_origin *from);
void mlog_kernel_reply(struct mlog_local *l, const struct ulog_origin *to, int error,
                       const void *data, size_t len);

#endif
