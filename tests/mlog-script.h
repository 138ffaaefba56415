/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A scripted simulated cluster for the mirror log tests: nodes over the
 * simulator's backends (tests/sim/sim.c) whose kernels send one request at
 * a time; each request is delivered until the cluster is quiet and its
 * answer kept by seq. Used by check_mlog.c and check_mlog_lift.c. */
#ifndef BLKSPACE_TESTS_MLOG_SCRIPT_H
#define BLKSPACE_TESTS_MLOG_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fence-watch.h"
#include "sim/sim.h"

#define LOG_UUID "LVM-test-mirror-log"
#define LOG_DEV "/dev/sim-log"
#define REGIONS 64
#define DISK_CTR "65536 clustered-disk " LOG_DEV " 1024"
#define SETTLE_STEPS 200000
#define MAX_ANSWERS 64

/* The answers the nodes gave, by seq. */
struct answer {
	bool got;
	int error;
	uint8_t data[512];
	size_t len;
};

struct script {
	struct answer answers[MAX_ANSWERS];
};

extern struct sim sim;

/* A 3-node cluster, settled (check fixtures). */
void mlog_script_setup(void);
void mlog_script_teardown(void);

/* Send a request from node's kernel without waiting; returns its seq. */
uint32_t send_to(uint32_t node, const char *uuid, uint32_t type, const void *data, size_t len);
/* Deliver until quiet; has seq been answered? */
bool answered(uint32_t seq);
/* Deliver until quiet; the answer of seq, which must have come. */
const struct answer *answer_of(uint32_t seq);
/* Send, deliver until quiet, return the answer (or its error, or word i). */
const struct answer *ask(uint32_t node, uint32_t type, const void *data, size_t len);
int ask_error(uint32_t node, uint32_t type, const void *data, size_t len);
int64_t ask_word(uint32_t node, uint32_t type, const void *data, size_t len, size_t i);
int64_t ask_region(uint32_t node, uint32_t type, uint64_t region);
void construct(uint32_t node, const char *ctr, bool with_nul);
void activate(unsigned n, const char *ctr);
unsigned resync_all(uint32_t node);
int disk_clean(uint64_t r);
bool resync_needs_resume(uint32_t node);
void mark(uint32_t node, uint64_t region);
uint64_t waiting_for_fencing(uint32_t node, uint32_t nodeid);
void confirm_fenced(uint32_t nodeid);
void clear_and_flush(uint32_t node, uint64_t region);

/* A stand-in for a helper program (blkspace-mirror-resume,
 * blkspace-fence-check) in a directory of its own: it appends its first
 * argument to out and exits with rc. */
struct fake_helper {
	char dir[32], path[64], out[64];
};
void fake_helper_create(struct fake_helper *h, int rc);
void fake_helper_remove(const struct fake_helper *h);

/* A fence watcher of node's daemon, polled by hand. */
struct fence_watch *fence_watch_on(uint32_t node, enum fencing_mode mode, const char *helper);
/* One query of the fencing helper, waited for and reaped. */
void query_once(struct fence_watch *f);

#endif
