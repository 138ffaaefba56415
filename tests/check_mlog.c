/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the mirror log service through the node's kernel entry point
 * (node_kernel_request): every dm-log-userspace request type with both log
 * types, bad payloads first, the two-writers case, a dead node's marks,
 * re-sent requests, and the restart of a stalled resync (mlog-auto-resume.c).
 * The nodes run over the simulator's backends (tests/sim/sim.c); each
 * request is delivered until the cluster is quiet and its answer checked. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-util.h"
#include "fence-watch.h"
#include "mlog-auto-resume.h"
#include "mlog-disk.h"
#include "node.h"
#include "mlog-script.h"
#include "sim/sim.h"

/* ---- bad input ---- */

START_TEST(test_mlog_refuses_unknown_logs_and_bad_constructors)
{
	/* a log not constructed here: the kernel is asked to construct it again
	 * (what it does after a daemon restart); nothing to suspend or destroy */
	uint64_t region = 1;
	for (uint32_t type = DM_ULOG_DTR; type <= DM_ULOG_IS_REMOTE_RECOVERING; type++) {
		int want = type == DM_ULOG_DTR || type == DM_ULOG_PRESUSPEND ||
		                           type == DM_ULOG_POSTSUSPEND ? 0
		           : type == DM_ULOG_RESUME                  ? -EINVAL
		                                                     : -ESRCH;
		if (type != DM_ULOG_CTR)
			ck_assert_int_eq(answer_of(send_to(1, "no-such-log", type, &region, 8))->error,
			                 want);
	}
	static const char *const bad[] = {
		"", "abc clustered-disk /dev/x 1024", "0 clustered-core 1024",
		"1000 mirrored-disk /dev/x 1024", "1000 clustered-disk /dev/x 0",
		"1000 clustered-disk /dev/x", "1000 clustered-core", "1000 clustered-core 1024 sync nosync",
		"1000 clustered-core 1024 bogus", "1000 clustered-core 1024 block_on_error block_on_error",
		"1000 clustered-core -5", "99999999999999999999 clustered-core 1",
		"18446744073709551615 clustered-core 1", "18446744073709551615 clustered-core 1024",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ask_error(1, DM_ULOG_CTR, bad[i], strlen(bad[i])) == -EINVAL,
		              "constructor '%s' accepted", bad[i]);
	static const char nul_inside[] = "1000 clustered-core\0 1024";
	ck_assert_int_eq(ask_error(1, DM_ULOG_CTR, nul_inside, sizeof(nul_inside)), -EINVAL);
	/* refused constructors left nothing behind */
	ck_assert_uint_eq(node_log_count(sim.nodes[1].node), 0);
}
END_TEST

START_TEST(test_mlog_refuses_bad_payloads)
{
	construct(1, DISK_CTR, false);
	uint64_t region = 3, big = REGIONS, pair[2] = { 3, 1 }, bad_pair[2] = { REGIONS, 1 };
	uint64_t many[3] = { 1, 2, REGIONS };
	/* before resume, nothing goes to the cluster */
	ck_assert_int_eq(ask_error(1, DM_ULOG_MARK_REGION, &region, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_IS_CLEAN, &region, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_int_eq(ask_error(1, DM_ULOG_IS_CLEAN, &region, 4), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_IS_CLEAN, &big, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_IN_SYNC, pair, 16), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_IN_SYNC, &big, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_IS_REMOTE_RECOVERING, &big, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_MARK_REGION, NULL, 0), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_MARK_REGION, pair, 12), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_MARK_REGION, many, sizeof(many)), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_FLUSH, many, sizeof(many)), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_CLEAR_REGION, NULL, 0), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_CLEAR_REGION, &big, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_SET_REGION_SYNC, pair, 8), -EINVAL);
	ck_assert_int_eq(ask_error(1, DM_ULOG_SET_REGION_SYNC, bad_pair, 16), -EINVAL);
	/* none of it changed the log: region 3 is neither marked nor in sync */
	struct node_log_info info;
	ck_assert_int_eq(node_log_find(sim.nodes[1].node, LOG_UUID, &info), 0);
	ck_assert_uint_eq(info.marked, 0);
	ck_assert_uint_eq(info.in_sync, 0);
	/* and it still works */
	mark(1, region);
	ck_assert_int_eq(ask_error(1, DM_ULOG_FLUSH, NULL, 0), 0);
	ck_assert_int_eq(node_log_find(sim.nodes[1].node, LOG_UUID, &info), 0);
	ck_assert_uint_eq(info.marked, 1);
}
END_TEST

/* ---- every request type ---- */

START_TEST(test_mlog_disk_log_every_request_type)
{
	/* CTR answers the log device, with or without the kernel's NUL */
	const struct answer *a = ask(1, DM_ULOG_CTR, DISK_CTR, strlen(DISK_CTR));
	ck_assert_int_eq(a->error, 0);
	ck_assert_str_eq((const char *)a->data, LOG_DEV);
	activate(3, DISK_CTR);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_REGION_SIZE, NULL, 0, 0), 1024);
	/* a fresh device holds no log: every region must be resynced */
	ck_assert_int_eq(ask_word(3, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), 0);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IN_SYNC, 5), 0);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 5), 0);
	/* resync work goes to one node at a time; the others see it recovering */
	a = ask(1, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
	int64_t work[2];
	memcpy(work, a->data, sizeof(work));
	ck_assert_int_eq(work[0], 1);
	const struct answer *rr = ask(2, DM_ULOG_IS_REMOTE_RECOVERING, &work[1], 8);
	ck_assert_int_eq(rr->error, 0);
	ck_assert_uint_eq(rr->len, 16);
	uint64_t set[2] = { (uint64_t)work[1], 1 };
	ck_assert_int_eq(ask_error(1, DM_ULOG_SET_REGION_SYNC, set, sizeof(set)), 0);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IN_SYNC, (uint64_t)work[1]), 1);
	ck_assert_uint_eq(resync_all(1) + 1, REGIONS);
	for (uint32_t i = 1; i <= 3; i++)
		ck_assert_int_eq(ask_word(i, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	/* mark, flush: dirty on disk; clear, flush: clean again */
	mark(1, 9);
	ck_assert_int_eq(disk_clean(9), 0);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 9), 0);
	ck_assert_int_eq(ask_error(1, DM_ULOG_FLUSH, NULL, 0), 0);
	ck_assert_int_eq(disk_clean(8), 1);
	clear_and_flush(1, 9);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 9), 1);
	ck_assert_int_eq(disk_clean(9), 1);
	/* an integrated flush carries its marks */
	uint64_t marks[2] = { 20, 21 };
	ck_assert_int_eq(ask_error(3, DM_ULOG_FLUSH, marks, sizeof(marks)), 0);
	ck_assert_int_eq(disk_clean(20), 0);
	ck_assert_int_eq(disk_clean(21), 0);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 21), 0);
	/* status strings as cmirrord printed them (the sim device has no numbers) */
	a = ask(2, DM_ULOG_STATUS_INFO, NULL, 0);
	ck_assert_str_eq((const char *)a->data, "3 clustered-disk 0:0 A");
	a = ask(2, DM_ULOG_STATUS_TABLE, NULL, 0);
	ck_assert_str_eq((const char *)a->data, "clustered-disk 0:0 1024 ");
	/* suspend and destroy on node 3: its marks go with it */
	ck_assert_int_eq(ask_error(3, DM_ULOG_PRESUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(3, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	ck_assert_uint_eq(node_active_logs(sim.nodes[3].node), 0);
	ck_assert_int_eq(ask_error(3, DM_ULOG_DTR, NULL, 0), 0);
	ck_assert_uint_eq(node_log_count(sim.nodes[3].node), 0);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 21), 0); /* out of sync now */
	ck_assert_uint_eq(resync_all(1), 2);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 21), 1);
	struct node_log_info info;
	ck_assert_int_eq(node_log_find(sim.nodes[1].node, LOG_UUID, &info), 0);
	ck_assert_uint_eq(info.n_registry, 2);
	ck_assert_uint_eq(info.n_quorum, 2); /* node 3 left after the round that dropped it */
	ck_assert_uint_eq(info.quorum[1], 2);
	ck_assert_uint_eq(info.dirty, 0);
	ck_assert_uint_eq(info.domain.writer, 1);
}
END_TEST

START_TEST(test_mlog_core_log_every_request_type)
{
	const char *ctr = "1000 clustered-core 100 nosync block_on_error";
	const struct answer *a = ask(1, DM_ULOG_CTR, ctr, strlen(ctr));
	ck_assert_int_eq(a->error, 0);
	ck_assert_uint_eq(a->len, 0); /* no log device */
	activate(2, ctr);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_REGION_SIZE, NULL, 0, 0), 100);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), 10); /* nosync */
	ck_assert_int_eq(ask_region(1, DM_ULOG_IN_SYNC, 9), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 9), 1);
	mark(2, 9);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 9), 0);
	clear_and_flush(2, 9);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 9), 1);
	a = ask(1, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
	ck_assert_uint_eq(a->len, 16);
	ck_assert_int_eq(((const int64_t *)(const void *)a->data)[0], 0);
	a = ask(1, DM_ULOG_STATUS_INFO, NULL, 0);
	ck_assert_str_eq((const char *)a->data, "1 clustered-core");
	a = ask(1, DM_ULOG_STATUS_TABLE, NULL, 0);
	ck_assert_str_eq((const char *)a->data, "clustered-core 100 nosync block_on_error ");
	ck_assert_int_eq(disk_clean(0), -1); /* a core log writes no disk */
	ck_assert_int_eq(ask_error(1, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(1, DM_ULOG_DTR, NULL, 0), 0);
}
END_TEST

/* ---- cluster cases ---- */

START_TEST(test_mlog_two_writers_keep_region_dirty)
{
	activate(3, DISK_CTR);
	resync_all(1);
	mark(1, 30);
	mark(2, 30);
	clear_and_flush(1, 30);
	for (uint32_t i = 1; i <= 3; i++)
		ck_assert_int_eq(ask_region(i, DM_ULOG_IS_CLEAN, 30), 0);
	ck_assert_int_eq(disk_clean(30), 0);
	clear_and_flush(2, 30);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IS_CLEAN, 30), 1);
	ck_assert_int_eq(disk_clean(30), 1);
}
END_TEST

START_TEST(test_mlog_dead_nodes_marks_are_resynced)
{
	activate(3, DISK_CTR);
	resync_all(1);
	mark(2, 40);
	mark(3, 41);
	sim_kill_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_int_eq(ask_region(1, DM_ULOG_IN_SYNC, 40), 0);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IN_SYNC, 41), 1);
	ck_assert_int_eq(disk_clean(40), 0);
	/* until node 2 is known to be fenced it may still write region 40 */
	ck_assert_uint_eq(waiting_for_fencing(1, 2), 1);
	ck_assert_uint_eq(resync_all(3), 0);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IS_CLEAN, 40), 0);
	ck_assert_int_eq(node_fence_confirmed(sim.nodes[3].node, 9), 0); /* nobody waits for 9 */
	confirm_fenced(2);
	ck_assert_uint_eq(waiting_for_fencing(1, 2), 0);
	ck_assert_uint_eq(waiting_for_fencing(3, 2), 0);
	ck_assert_uint_eq(resync_all(3), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 40), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 41), 0); /* node 3 still writes */
	/* a dead node's marks go, a live node's marks on the same region stay */
	mark(1, 44);
	mark(3, 44);
	sim_kill_node(&sim, 3);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	confirm_fenced(3);
	/* 44 is resynced only once node 1 is done writing it: the copy between
	 * the legs would race node 1's writes */
	ck_assert_uint_eq(resync_all(1), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 44), 0);
	ck_assert_int_eq(disk_clean(44), 0);
	clear_and_flush(1, 44);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 44), 0);
	ck_assert_uint_eq(resync_all(1), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 44), 1);
	sim_restart_node(&sim, 3);
	/* the node comes back, its kernel constructs and resumes again */
	sim_restart_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	construct(2, DISK_CTR, true);
	ck_assert_int_eq(ask_error(2, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 41), 1); /* went with node 3 */
}
END_TEST

/* A node cut off may still write what it marked: the others keep its marks
 * and hand none of those regions out for resync; when it comes back with
 * the same opening of the log, the marks are its own again. */
START_TEST(test_mlog_cut_off_nodes_marks_stay)
{
	activate(3, DISK_CTR);
	resync_all(1);
	mark(3, 20);
	simnet_set_component(sim.net, 3, 1);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_uint_eq(waiting_for_fencing(1, 3), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IN_SYNC, 20), 0); /* reads go to one leg */
	ck_assert_uint_eq(resync_all(1), 0);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 20), 0);
	ck_assert_int_eq(disk_clean(20), 0);
	simnet_set_component(sim.net, 3, 0);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_uint_eq(waiting_for_fencing(1, 3), 0);
	ck_assert_uint_eq(resync_all(1), 0); /* node 3 still writes it */
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 20), 0);
	clear_and_flush(3, 20);
	ck_assert_uint_eq(resync_all(1), 1);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 20), 1);
}
END_TEST

/* A daemon restart under a live table: the kernel reconnects (its
 * constructor ends in a NUL) and the node's marks are still its kernel's.
 * A first construction means a new table: the old one's marks are gone. */
START_TEST(test_mlog_new_opening_and_the_nodes_marks)
{
	activate(3, DISK_CTR);
	resync_all(1);
	mark(2, 50);
	sim_kill_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_uint_eq(waiting_for_fencing(1, 2), 1);
	sim_restart_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	construct(2, DISK_CTR, true);
	ck_assert_int_eq(ask_error(2, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_uint_eq(waiting_for_fencing(1, 2), 0);
	ck_assert_uint_eq(resync_all(1), 0);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IS_CLEAN, 50), 0);
	clear_and_flush(2, 50);
	ck_assert_uint_eq(resync_all(1), 1);
	mark(2, 51);
	sim_kill_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	sim_restart_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	construct(2, DISK_CTR, false);
	ck_assert_int_eq(ask_error(2, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_uint_eq(waiting_for_fencing(1, 2), 0);
	ck_assert_uint_eq(resync_all(1), 1);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IS_CLEAN, 51), 1);
}
END_TEST

START_TEST(test_mlog_resent_requests_are_safe)
{
	activate(2, DISK_CTR);
	resync_all(1);
	uint64_t region = 50;
	/* the kernel timed out and sent the same mark under a new seq */
	uint32_t first = send_to(1, LOG_UUID, DM_ULOG_MARK_REGION, &region, 8);
	uint32_t again = send_to(1, LOG_UUID, DM_ULOG_MARK_REGION, &region, 8);
	ck_assert_int_eq(answer_of(first)->error, 0);
	ck_assert_int_eq(answer_of(again)->error, 0);
	/* one clear undoes it: a mark is a set, not a count */
	clear_and_flush(1, region);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, region), 1);
	/* a resume re-sent while the first is still pending */
	ck_assert_int_eq(ask_error(1, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_uint_eq(node_active_logs(sim.nodes[1].node), 1);
}
END_TEST

START_TEST(test_mlog_reads_the_disk_log_at_first_resume)
{
	uint8_t clean[(REGIONS + 7) / 8];
	memset(clean, 0xff, sizeof(clean));
	clean[1] = 0x0f; /* regions 12..15 were dirty when the cluster went down */
	struct mlog_disk *d;
	ck_assert_int_eq(mem_mlog_disk_ops.open(sim.shelf, LOG_DEV, &d), 0);
	ck_assert_int_eq(mem_mlog_disk_ops.write(d, REGIONS, clean), 0);
	mem_mlog_disk_ops.close(d);
	activate(3, DISK_CTR);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS - 4);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IN_SYNC, 13), 0);
	ck_assert_uint_eq(resync_all(2), 4);
	ck_assert_int_eq(ask_error(1, DM_ULOG_FLUSH, &(uint64_t){ 1 }, 8), 0);
	ck_assert_int_eq(disk_clean(13), 1);
	ck_assert_int_eq(disk_clean(1), 0);
}
END_TEST

/* A node that suspends the log leaves only once the others hold its
 * unregistration: the remaining node goes on alone, even when the one
 * that left was the lowest. */
START_TEST(test_mlog_suspend_of_the_lowest_leaves_the_other_serving)
{
	activate(2, DISK_CTR);
	resync_all(2);
	ck_assert_int_eq(ask_error(1, DM_ULOG_PRESUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(1, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	mark(2, 7);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 7), 0);
	struct node_log_info info;
	ck_assert_int_eq(node_log_find(sim.nodes[2].node, LOG_UUID, &info), 0);
	ck_assert_uint_eq(info.n_registry, 1);
	ck_assert_uint_eq(info.domain.writer, 2);
	/* node 1 resumes again, then both suspend in turn */
	ck_assert_int_eq(ask_error(1, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 7), 0);
	ck_assert_int_eq(ask_error(2, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, 7), 0); /* out of sync now */
	ck_assert_int_eq(ask_error(1, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	ck_assert_uint_eq(node_active_logs(sim.nodes[1].node), 0);
}
END_TEST

/* The kernel skips the remote-recovery question below the hint: every
 * region below it must be in sync. */
START_TEST(test_mlog_remote_recovering_hint_is_safe)
{
	activate(2, DISK_CTR);
	uint64_t region = 50;
	const struct answer *a = ask(2, DM_ULOG_IS_REMOTE_RECOVERING, &region, 8);
	int64_t rr[2];
	memcpy(rr, a->data, sizeof(rr));
	ck_assert_int_eq(rr[0], 1);
	ck_assert_int_eq(rr[1], 0); /* nothing is in sync yet */
	/* the region waiting for a write is resynced first */
	a = ask(1, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
	int64_t work[2];
	memcpy(work, a->data, sizeof(work));
	ck_assert_int_eq(work[1], 50);
	uint64_t set[2] = { 50, 1 };
	ck_assert_int_eq(ask_error(1, DM_ULOG_SET_REGION_SYNC, set, sizeof(set)), 0);
	region = 60;
	a = ask(2, DM_ULOG_IS_REMOTE_RECOVERING, &region, 8);
	memcpy(rr, a->data, sizeof(rr));
	ck_assert_int_eq(rr[0], 1);
	ck_assert_int_eq(rr[1], 0); /* regions 0..49 are still out of sync */
	resync_all(1);
	a = ask(2, DM_ULOG_IS_REMOTE_RECOVERING, &region, 8);
	memcpy(rr, a->data, sizeof(rr));
	ck_assert_int_eq(rr[0], 0);
	ck_assert_int_eq(rr[1], REGIONS);
}
END_TEST

/* A mark of a region another node resyncs waits until the copy is done. */
START_TEST(test_mlog_mark_waits_for_resync_elsewhere)
{
	activate(2, DISK_CTR);
	const struct answer *a = ask(1, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
	int64_t work[2];
	memcpy(work, a->data, sizeof(work));
	ck_assert_int_eq(work[0], 1);
	uint64_t region = (uint64_t)work[1], other = region + 1;
	uint32_t seq = send_to(2, LOG_UUID, DM_ULOG_MARK_REGION, &region, 8);
	ck_assert(!answered(seq));
	mark(2, other); /* other regions are not held up */
	uint64_t set[2] = { region, 1 };
	ck_assert_int_eq(ask_error(1, DM_ULOG_SET_REGION_SYNC, set, sizeof(set)), 0);
	ck_assert_int_eq(answer_of(seq)->error, 0);
	ck_assert_int_eq(ask_region(1, DM_ULOG_IS_CLEAN, region), 0); /* now marked */
	/* the recoverer's own marks never wait */
	a = ask(1, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
	memcpy(work, a->data, sizeof(work));
	region = (uint64_t)work[1];
	mark(1, region);
}
END_TEST

/* After every region was in sync, a node's kernel writes as in sync without
 * asking: a region that went out of sync since (its writer died) stays in
 * sync for that kernel, so its writes are marked and wait for the resync. */
START_TEST(test_mlog_in_sync_below_the_kernels_hint)
{
	activate(3, "65536 clustered-disk " LOG_DEV " 1024 nosync");
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	mark(3, 12);
	sim_kill_node(&sim, 3);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	confirm_fenced(3);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IN_SYNC, 12), 1); /* told all in sync */
	ck_assert_int_eq(ask_region(1, DM_ULOG_IN_SYNC, 12), 0); /* never told */
	/* node 2's kernel asks for resync work only after a resume: reported */
	ck_assert(resync_needs_resume(2));
	ck_assert(!resync_needs_resume(1));
	ck_assert_int_eq(ask_word(1, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS - 1);
	/* a resume resets the kernel's hint, and ours */
	ck_assert_int_eq(ask_error(2, DM_ULOG_PRESUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(2, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(2, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IN_SYNC, 12), 0);
	ck_assert(!resync_needs_resume(2));
	ck_assert_uint_eq(resync_all(2), 1);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	ck_assert(!resync_needs_resume(2));
}
END_TEST

/* 16 Mi regions: the bitmap is 2 MiB, read in INIT chunks by the writer and
 * sent to later members in state-transfer chunks of at most 64 KiB. */
START_TEST(test_mlog_sixteen_million_regions)
{
	const uint64_t regions = UINT64_C(16) << 20;
	size_t bytes = (size_t)(regions / 8);
	uint8_t *clean = malloc(bytes);
	ck_assert_ptr_nonnull(clean);
	memset(clean, 0xff, bytes);
	clean[bytes / 2] = 0; /* 8 regions in the middle out of sync */
	clean[bytes - 1] = 0x7f; /* and the last one */
	struct mlog_disk *d;
	ck_assert_int_eq(mem_mlog_disk_ops.open(sim.shelf, LOG_DEV, &d), 0);
	ck_assert_int_eq(mem_mlog_disk_ops.write(d, regions, clean), 0);
	mem_mlog_disk_ops.close(d);
	char ctr[128];
	snprintf(ctr, sizeof(ctr), "%llu clustered-disk " LOG_DEV " 8",
	         (unsigned long long)(regions * 8));
	activate(1, ctr);
	ck_assert_int_eq(ask_word(1, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), (int64_t)regions - 9);
	/* nodes 2 and 3 join later and receive the state */
	for (uint32_t i = 2; i <= 3; i++) {
		construct(i, ctr, true);
		ck_assert_int_eq(ask_error(i, DM_ULOG_RESUME, NULL, 0), 0);
		ck_assert_int_eq(ask_word(i, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), (int64_t)regions - 9);
	}
	ck_assert_int_eq(ask_region(3, DM_ULOG_IN_SYNC, regions - 1), 0);
	ck_assert_int_eq(ask_region(3, DM_ULOG_IN_SYNC, regions - 2), 1);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IN_SYNC, regions / 2 + 3), 0);
	uint64_t high = regions - 5;
	ck_assert_int_eq(ask_error(3, DM_ULOG_FLUSH, &high, 8), 0);
	size_t len;
	const uint8_t *bytes_on_disk =
	        mlog_mem_device_bytes(mlog_mem_shelf_device(sim.shelf, LOG_DEV), &len);
	ck_assert_int_eq(mlog_disk_decode(bytes_on_disk, len, regions, clean), 0);
	ck_assert_int_eq(clean[high / 8] >> (high % 8) & 1, 0);
	ck_assert_int_eq(clean[(high - 1) / 8] >> ((high - 1) % 8) & 1, 1);
	free(clean);
}
END_TEST

/* Wait for the running helper to exit (leaving it to be reaped), then poll:
 * the poll reaps it. */
static void poll_until_reaped(struct auto_resume *a)
{
	siginfo_t info;
	ck_assert_int_eq(waitid(P_ALL, 0, &info, WEXITED | WNOWAIT), 0);
	auto_resume_poll(a);
	ck_assert_int_ne(auto_resume_last_status(a), -1);
}

/* The writer, and only it, runs the helper once a stall has lasted
 * AUTO_RESUME_STALL_POLLS polls; one try per stall; none once resumed. */
START_TEST(test_mlog_writer_resumes_a_stalled_mirror)
{
	struct fake_helper helper;
	fake_helper_create(&helper, 0);
	activate(3, "65536 clustered-disk " LOG_DEV " 1024 nosync");
	struct auto_resume *a[3];
	for (uint32_t i = 1; i <= 2; i++) {
		struct auto_resume_params p = { .node = sim.nodes[i].node, .helper = helper.path };
		ck_assert_int_eq(auto_resume_create(&p, &a[i]), 0);
		ck_assert_int_eq(ask_word(i, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	}
	for (int k = 0; k < 2 * AUTO_RESUME_STALL_POLLS; k++)
		auto_resume_poll(a[1]); /* in sync: nothing to do */
	ck_assert_uint_eq(auto_resume_started(a[1]), 0);
	mark(3, 12);
	sim_kill_node(&sim, 3);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert(resync_needs_resume(1) && resync_needs_resume(2));
	for (int k = 0; k < AUTO_RESUME_STALL_POLLS - 1; k++) {
		auto_resume_poll(a[1]);
		auto_resume_poll(a[2]);
	}
	ck_assert_uint_eq(auto_resume_started(a[1]), 0); /* not long enough yet */
	auto_resume_poll(a[1]);
	auto_resume_poll(a[2]);
	ck_assert_uint_eq(auto_resume_started(a[1]), 1);
	ck_assert_uint_eq(auto_resume_started(a[2]), 0); /* not the writer */
	poll_until_reaped(a[1]);
	ck_assert_int_eq(auto_resume_last_status(a[1]), 0);
	char got[128] = "";
	FILE *f = fopen(helper.out, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(got, sizeof(got), f));
	fclose(f);
	ck_assert_str_eq(got, LOG_UUID "\n");
	/* the sim kernel did not resume: the stall goes on, no second try */
	for (int k = 0; k < 3 * AUTO_RESUME_STALL_POLLS; k++)
		auto_resume_poll(a[1]);
	ck_assert_uint_eq(auto_resume_started(a[1]), 1);
	/* a resume ends the stall */
	ck_assert_int_eq(ask_error(1, DM_ULOG_PRESUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(1, DM_ULOG_POSTSUSPEND, NULL, 0), 0);
	ck_assert_int_eq(ask_error(1, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert(!resync_needs_resume(1));
	for (int k = 0; k < 2 * AUTO_RESUME_STALL_POLLS; k++)
		auto_resume_poll(a[1]);
	ck_assert_uint_eq(auto_resume_started(a[1]), 1);
	auto_resume_destroy(a[1]);
	auto_resume_destroy(a[2]);
	fake_helper_remove(&helper);
}
END_TEST

/* A helper that fails is logged and not run again during the same stall. */
START_TEST(test_mlog_failed_resume_is_not_repeated)
{
	struct fake_helper helper;
	fake_helper_create(&helper, 2);
	activate(2, "65536 clustered-disk " LOG_DEV " 1024 nosync");
	struct auto_resume *a;
	struct auto_resume_params p = { .node = sim.nodes[1].node, .helper = helper.path };
	ck_assert_int_eq(auto_resume_create(&p, &a), 0);
	ck_assert_int_eq(ask_word(1, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	mark(2, 7);
	sim_kill_node(&sim, 2); /* node 1 alone: the lower of two, so it goes on */
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert(resync_needs_resume(1));
	for (int k = 0; k < AUTO_RESUME_STALL_POLLS; k++)
		auto_resume_poll(a);
	ck_assert_uint_eq(auto_resume_started(a), 1);
	poll_until_reaped(a);
	ck_assert(WIFEXITED(auto_resume_last_status(a)));
	ck_assert_int_eq(WEXITSTATUS(auto_resume_last_status(a)), 2);
	for (int k = 0; k < 3 * AUTO_RESUME_STALL_POLLS; k++)
		auto_resume_poll(a);
	ck_assert_uint_eq(auto_resume_started(a), 1);
	auto_resume_destroy(a);
	fake_helper_remove(&helper);
}
END_TEST

/* fencing = none: the writer takes a departure for a fencing at once. */
START_TEST(test_mlog_fencing_none_resyncs_at_once)
{
	activate(3, DISK_CTR);
	resync_all(1);
	mark(3, 7);
	sim_kill_node(&sim, 3);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	struct fence_watch *other = fence_watch_on(2, FENCING_NONE, NULL);
	fence_watch_poll(other); /* not the writer */
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_uint_eq(waiting_for_fencing(2, 3), 1);
	struct fence_watch *writer = fence_watch_on(1, FENCING_NONE, NULL);
	fence_watch_poll(writer);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_uint_eq(fence_watch_confirmed(writer), 1);
	ck_assert_uint_eq(fence_watch_queries(writer), 0);
	ck_assert_uint_eq(waiting_for_fencing(2, 3), 0);
	ck_assert_uint_eq(resync_all(2), 1);
	fence_watch_poll(writer); /* nobody waits: nothing more */
	ck_assert_uint_eq(fence_watch_confirmed(writer), 1);
	fence_watch_destroy(writer);
	fence_watch_destroy(other);
}
END_TEST

/* fencing = pacemaker: the regions wait while the fencer says "not fenced"
 * (1) or cannot be asked (2), and resync once it says "fenced" (0). */
START_TEST(test_mlog_fencing_pacemaker_waits_for_the_fencer)
{
	activate(3, DISK_CTR);
	resync_all(1);
	mark(2, 9);
	sim_kill_node(&sim, 2);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	for (int rc = 2; rc >= 0; rc--) {
		struct fake_helper helper;
		fake_helper_create(&helper, rc);
		struct fence_watch *f = fence_watch_on(1, FENCING_PACEMAKER, helper.path);
		query_once(f);
		ck_assert_uint_eq(fence_watch_confirmed(f), rc == 0);
		ck_assert_uint_eq(waiting_for_fencing(3, 2), rc != 0);
		ck_assert_uint_eq(resync_all(3), rc == 0);
		FILE *out = fopen(helper.out, "r");
		unsigned asked = 0;
		ck_assert(out && fscanf(out, "%u", &asked) == 1);
		fclose(out);
		ck_assert_uint_eq(asked, 2); /* the node that left */
		fence_watch_destroy(f);
		fake_helper_remove(&helper);
	}
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, mlog_script_setup, mlog_script_teardown, 60);
}

int main(void)
{
	Suite *s = suite_create("mlog");
	add_case(s, "test_mlog_refuses_unknown_logs_and_bad_constructors",
	         test_mlog_refuses_unknown_logs_and_bad_constructors);
	add_case(s, "test_mlog_refuses_bad_payloads", test_mlog_refuses_bad_payloads);
	add_case(s, "test_mlog_disk_log_every_request_type", test_mlog_disk_log_every_request_type);
	add_case(s, "test_mlog_core_log_every_request_type", test_mlog_core_log_every_request_type);
	add_case(s, "test_mlog_two_writers_keep_region_dirty", test_mlog_two_writers_keep_region_dirty);
	add_case(s, "test_mlog_dead_nodes_marks_are_resynced", test_mlog_dead_nodes_marks_are_resynced);
	add_case(s, "test_mlog_cut_off_nodes_marks_stay", test_mlog_cut_off_nodes_marks_stay);
	add_case(s, "test_mlog_fencing_none_resyncs_at_once", test_mlog_fencing_none_resyncs_at_once);
	add_case(s, "test_mlog_fencing_pacemaker_waits_for_the_fencer",
	         test_mlog_fencing_pacemaker_waits_for_the_fencer);
	add_case(s, "test_mlog_new_opening_and_the_nodes_marks",
	         test_mlog_new_opening_and_the_nodes_marks);
	add_case(s, "test_mlog_resent_requests_are_safe", test_mlog_resent_requests_are_safe);
	add_case(s, "test_mlog_reads_the_disk_log_at_first_resume",
	         test_mlog_reads_the_disk_log_at_first_resume);
	add_case(s, "test_mlog_suspend_of_the_lowest_leaves_the_other_serving",
	         test_mlog_suspend_of_the_lowest_leaves_the_other_serving);
	add_case(s, "test_mlog_remote_recovering_hint_is_safe", test_mlog_remote_recovering_hint_is_safe);
	add_case(s, "test_mlog_mark_waits_for_resync_elsewhere",
	         test_mlog_mark_waits_for_resync_elsewhere);
	add_case(s, "test_mlog_in_sync_below_the_kernels_hint", test_mlog_in_sync_below_the_kernels_hint);
	add_case(s, "test_mlog_sixteen_million_regions", test_mlog_sixteen_million_regions);
	add_case(s, "test_mlog_writer_resumes_a_stalled_mirror",
	         test_mlog_writer_resumes_a_stalled_mirror);
	add_case(s, "test_mlog_failed_resume_is_not_repeated", test_mlog_failed_resume_is_not_repeated);
	return check_run(s);
}
