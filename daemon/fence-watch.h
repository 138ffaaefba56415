/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Learning that departed nodes were fenced. A node that left a mirror log
 * with regions marked may still write them until it is fenced; the log's
 * writer (its lowest member) finds out and passes it on
 * (node_fence_confirmed()), and only then are those regions resynced.
 *
 * fencing = pacemaker: ask Pacemaker's fencer whether the node was fenced
 * since it left, with blkspace-fence-check in a child process (looked for
 * next to blkspaced, then on PATH), at most every FENCE_RETRY_POLLS polls
 * a second apart. The departure time is when this watcher first saw the
 * node waiting, less FENCE_SINCE_SLACK_S seconds for the poll interval: a
 * fencing that old belongs to an earlier failure only if the node was
 * fenced, rebooted, rejoined, marked regions and failed again within it.
 * fencing = none: a departure counts as a fencing at once (test and lab
 * clusters), with one warning per node. `blkspace node confirm-fenced`
 * works in both modes. */
#ifndef BLKSPACE_FENCE_WATCH_H
#define BLKSPACE_FENCE_WATCH_H

#include <qb/qbloop.h>

#include "node.h"

#define FENCE_CHECK_HELPER "blkspace-fence-check"
#define FENCE_RETRY_POLLS 2
#define FENCE_SINCE_SLACK_S 5

enum fencing_mode { FENCING_PACEMAKER = 0, FENCING_NONE = 1 };

struct fence_watch;

struct fence_watch_params {
	qb_loop_t *loop; /* NULL: no timer, the caller polls (tests) */
	struct node *node;
	enum fencing_mode mode;
	const char *helper; /* NULL: FENCE_CHECK_HELPER next to blkspaced, else on PATH */
};

int fence_watch_create(const struct fence_watch_params *p, struct fence_watch **ret);
/* Accepts NULL; a child still running is left to finish on its own. */
void fence_watch_destroy(struct fence_watch *f);
/* One look: which nodes wait, start and reap queries, pass confirmations on. */
void fence_watch_poll(struct fence_watch *f);
/* Queries started so far, and confirmations passed on. */
unsigned fence_watch_queries(const struct fence_watch *f);
unsigned fence_watch_confirmed(const struct fence_watch *f);

#endif
