/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Restarting a stalled resync: dm-log-userspace asks for resync work again
 * only after a resume, so when the kernel here was told a mirror is in sync
 * and regions then fell out of sync (a node that had marked them failed),
 * the writer of that log (its lowest member) suspends and resumes its own
 * mirror once the stall has lasted a while. The suspend waits for this
 * daemon's answers, so it runs in a child process (blkspace-mirror-resume),
 * looked for next to blkspaced, then on PATH. A timer polls the node's logs
 * and reaps the child; the loop never waits for it. */
#ifndef BLKSPACE_MLOG_AUTO_RESUME_H
#define BLKSPACE_MLOG_AUTO_RESUME_H

#include <qb/qbloop.h>

#include "node.h"

#define AUTO_RESUME_HELPER "blkspace-mirror-resume"
#define AUTO_RESUME_STALL_POLLS 10 /* polls, a second apart, before a resume */

struct auto_resume;

struct auto_resume_params {
	qb_loop_t *loop; /* NULL: no timer, the caller polls (tests) */
	struct node *node;
	const char *helper; /* NULL: AUTO_RESUME_HELPER next to blkspaced, else on PATH */
};

int auto_resume_create(const struct auto_resume_params *p, struct auto_resume **ret);
/* Accepts NULL; a child still running is left to finish on its own. */
void auto_resume_destroy(struct auto_resume *a);
/* One look at the node's logs: count stalls, start and reap helpers. */
void auto_resume_poll(struct auto_resume *a);
/* Helpers started so far, and the last one's exit status (-1: none ended). */
unsigned auto_resume_started(const struct auto_resume *a);
int auto_resume_last_status(const struct auto_resume *a);

#endif
