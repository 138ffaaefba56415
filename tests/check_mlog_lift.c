/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of going on without a fenced majority of a mirror log
 * (node-mlog-lift.c, mlog_is_lifted(), the service's take-over): a mirror
 * on nodes 1 and 2 of three, node 3 running no mirror. The survivors wait
 * for the dead until they know it was fenced, and only in the cluster's
 * primary partition; then they resync the whole mirror, since the dead
 * node may have marked regions they never heard of. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-util.h"
#include "mlog-script.h"
#include "node.h"

static struct node_log_info log_info(uint32_t node)
{
	struct node_log_info info;
	ck_assert_int_eq(node_log_find(sim.nodes[node].node, LOG_UUID, &info), 0);
	return info;
}

/* Node 1 alone in a partition still holds half of the log's quorum set
 * {1, 2} with the lowest: it marks region 30, which node 2 never hears of.
 * Then node 1 dies. */
static void writer_marks_alone_then_dies(void)
{
	activate(2, DISK_CTR);
	resync_all(1);
	simnet_set_component(sim.net, 1, 1);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	mark(1, 30);
	sim_kill_node(&sim, 1);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
}

/* Node 2's kernel marks region 31; returns the request's seq. */
static uint32_t node2_marks(void)
{
	uint64_t region = 31;
	return send_to(2, LOG_UUID, DM_ULOG_MARK_REGION, &region, 8);
}

START_TEST(test_mlog_lift_waits_for_fencing_then_resyncs_all)
{
	writer_marks_alone_then_dies();
	uint32_t seq = node2_marks();
	ck_assert(!answered(seq)); /* node 1 may live in another partition */
	ck_assert_str_eq(domain_phase_name(log_info(2).domain.phase), "inquorate");
	/* the news that node 1 was fenced does not concern node 2's own
	 * departures (it saw none): no log takes it as MLOG_OP_FENCED */
	ck_assert_int_eq(node_fence_confirmed(sim.nodes[2].node, 1), 0);
	ck_assert_int_eq(answer_of(seq)->error, 0);
	struct node_log_info info = log_info(2);
	ck_assert(info.domain.lifted);
	ck_assert_uint_eq(info.n_registry, 1);
	ck_assert_uint_eq(info.registry[0], 2);
	ck_assert_uint_eq(info.n_quorum, 1);
	/* region 30 was never heard of here, and is resynced with the rest */
	ck_assert_int_eq(ask_region(2, DM_ULOG_IN_SYNC, 30), 0);
	ck_assert_int_eq(ask_word(2, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), 0);
	ck_assert_int_eq(disk_clean(30), 0);
	ck_assert_uint_eq(resync_all(2), REGIONS - 1); /* 31 is marked here */
	clear_and_flush(2, 31);
	ck_assert_uint_eq(resync_all(2), 1);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IS_CLEAN, 30), 1);
	ck_assert_int_eq(disk_clean(30), 1);
	/* node 1 comes back with a new table: the log has the majority again */
	simnet_set_component(sim.net, 1, 0);
	sim_restart_node(&sim, 1);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	construct(1, DISK_CTR, false);
	ck_assert_int_eq(ask_error(1, DM_ULOG_RESUME, NULL, 0), 0);
	ck_assert_int_eq(ask_word(1, DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0), REGIONS);
	ck_assert(!log_info(1).domain.lifted);
}
END_TEST

/* Outside the cluster's primary partition nobody vouches: the nodes it
 * cannot see may run, and may hold the log. */
START_TEST(test_mlog_lift_only_in_the_primary_partition)
{
	writer_marks_alone_then_dies();
	simnet_set_component(sim.net, 3, 2); /* node 2 alone: no majority of the cluster */
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	uint32_t seq = node2_marks();
	ck_assert_int_eq(node_fence_confirmed(sim.nodes[2].node, 1), 0);
	ck_assert(!answered(seq));
	ck_assert(!log_info(2).domain.lifted);
	simnet_set_component(sim.net, 3, 0); /* node 3 is seen again: it runs no mirror */
	ck_assert_int_eq(answer_of(seq)->error, 0);
	ck_assert(log_info(2).domain.lifted);
	ck_assert_int_eq(ask_region(2, DM_ULOG_IN_SYNC, 30), 0);
}
END_TEST

/* A node that was a member of the log since its last active configuration
 * and lives on outside it may hold marks nobody here knows: while it is
 * not known to be fenced, nobody vouches. */
START_TEST(test_mlog_lift_not_while_a_recent_member_lives)
{
	writer_marks_alone_then_dies();
	construct(3, DISK_CTR, false);
	uint32_t resume = send_to(3, LOG_UUID, DM_ULOG_RESUME, NULL, 0);
	ck_assert(!answered(resume)); /* {2, 3} lacks the lowest of {1, 2} */
	ck_assert_int_eq(ask_error(3, DM_ULOG_DTR, NULL, 0), 0);
	uint32_t seq = node2_marks();
	ck_assert_int_eq(node_fence_confirmed(sim.nodes[2].node, 1), 0);
	ck_assert(!answered(seq));
	ck_assert(!log_info(2).domain.lifted);
	/* it is fenced too: its kernel's marks are gone with it */
	sim_kill_node(&sim, 3);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	ck_assert_int_eq(node_fence_confirmed(sim.nodes[2].node, 3), 0);
	ck_assert(!answered(seq)); /* node 2 alone is no majority of the cluster */
	sim_restart_node(&sim, 3);
	ck_assert_int_eq(answer_of(seq)->error, 0);
	ck_assert(log_info(2).domain.lifted);
}
END_TEST

/* fencing = pacemaker: every member asks the fencer about the nodes
 * outside the cluster while a log lacks its majority, and vouches once it
 * says "fenced" (0), not while it says "not fenced" (1). */
START_TEST(test_mlog_lift_asks_the_fencer)
{
	writer_marks_alone_then_dies();
	uint32_t seq = node2_marks();
	for (int rc = 1; rc >= 0; rc--) {
		struct fake_helper helper;
		fake_helper_create(&helper, rc);
		struct fence_watch *f = fence_watch_on(2, FENCING_PACEMAKER, helper.path);
		query_once(f);
		ck_assert_uint_eq(answered(seq), rc == 0);
		FILE *out = fopen(helper.out, "r");
		unsigned asked = 0;
		ck_assert(out && fscanf(out, "%u", &asked) == 1);
		fclose(out);
		ck_assert_uint_eq(asked, 1); /* the node outside */
		fence_watch_poll(f);
		ck_assert_uint_eq(fence_watch_queries(f), 1); /* not asked again at once */
		fence_watch_destroy(f);
		fake_helper_remove(&helper);
	}
	ck_assert(log_info(2).domain.lifted);
}
END_TEST

/* fencing = none takes a node outside for fenced at once (test clusters). */
START_TEST(test_mlog_lift_fencing_none)
{
	writer_marks_alone_then_dies();
	uint32_t seq = node2_marks();
	struct fence_watch *f = fence_watch_on(3, FENCING_NONE, NULL);
	fence_watch_poll(f); /* node 3 runs no mirror: nothing to ask for */
	ck_assert(!answered(seq));
	fence_watch_destroy(f);
	f = fence_watch_on(2, FENCING_NONE, NULL);
	fence_watch_poll(f);
	ck_assert_int_eq(answer_of(seq)->error, 0);
	ck_assert_uint_eq(fence_watch_queries(f), 0);
	fence_watch_destroy(f);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, mlog_script_setup, mlog_script_teardown, 60);
}

int main(void)
{
	Suite *s = suite_create("mlog-lift");
	add_case(s, "test_mlog_lift_waits_for_fencing_then_resyncs_all",
	         test_mlog_lift_waits_for_fencing_then_resyncs_all);
	add_case(s, "test_mlog_lift_only_in_the_primary_partition",
	         test_mlog_lift_only_in_the_primary_partition);
	add_case(s, "test_mlog_lift_not_while_a_recent_member_lives",
	         test_mlog_lift_not_while_a_recent_member_lives);
	add_case(s, "test_mlog_lift_asks_the_fencer", test_mlog_lift_asks_the_fencer);
	add_case(s, "test_mlog_lift_fencing_none", test_mlog_lift_fencing_none);
	return check_run(s);
}
