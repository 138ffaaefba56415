/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the replicated domain engine: bad peer input first (fed
 * straight into a domain), then scenarios with real nodes over the simulated
 * network and disks (the plan of a round from SYNC messages fed to one
 * domain, too): forming, answering only once safe, minority refusal,
 * waiting for quorum, restart with state transfer in chunks, cold start of
 * the whole cluster, duplicates, cancellation. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkspace/errors.h>

#include "check-util.h"
#include "tcluster.h"
#include "control.h"
#include "domain.h"
#include "node.h"
#include "quorum-sim.h"
#include "simnet.h"
#include "store-mem.h"
#include "transport-sim.h"
#include "wire.h"

/* --- bad input, fed to one domain directly ---------------------------------------------- */

struct fake_host {
	unsigned sent, replies;
};

static void fh_send(void *host, const void *msg, size_t len) { ((struct fake_host *)host)->sent++; }
static void fh_persist(void *host, const void *rec, size_t len) {}
static int fh_save(void *host, const void *snap, size_t len) { return 0; }
static void fh_reply(void *host, uint64_t token, int result, const void *data, size_t len)
{
	((struct fake_host *)host)->replies++;
}
static void fh_changed(void *host) {}

static const struct domain_env fake_env = {
	.send = fh_send, .persist = fh_persist, .save_snapshot = fh_save,
	.reply = fh_reply, .changed = fh_changed,
};

static struct domain *fake_domain(struct fake_host *fh)
{
	struct domain_params p = {
		.name = "test", .nodeid = 1, .incarnation = 1, .cluster_size = 3,
		.quorum = DOMAIN_QUORUM_CLUSTER, .svc = &control_service_ops, .env = &fake_env, .host = fh,
	};
	struct domain *d;
	ck_assert_int_eq(domain_create(&p, &d), 0);
	struct domain_member_id ids[2] = { { 1, 100 }, { 2, 200 } };
	domain_on_confchg(d, ids, 2);
	return d;
}

START_TEST(test_domain_bad_peer_messages_are_dropped)
{
	struct fake_host fh = { 0 };
	struct domain *d = fake_domain(&fh);
	struct domain_status before, after;
	domain_get_status(d, &before);
	unsigned sent = fh.sent;
	struct wbuf w, p;
	wbuf_init(&w);
	wbuf_init(&p);
	uint8_t garbage[100];
	memset(garbage, 0xab, sizeof(garbage));
	domain_on_deliver(d, 2, garbage, 0);
	domain_on_deliver(d, 2, garbage, 10);
	domain_on_deliver(d, 2, garbage, sizeof(garbage));
	/* wrong domain, origin that is not the sender, a non-member */
	make_msg(&w, "other", WIRE_STABLE, 2, NULL);
	domain_on_deliver(d, 2, w.data, w.len);
	make_msg(&w, "test", WIRE_STABLE, 3, NULL);
	domain_on_deliver(d, 2, w.data, w.len);
	domain_on_deliver(d, 3, w.data, w.len);
	/* truncated SYNC, SYNC with a tail count that lies, trailing bytes */
	wbuf_put_u32(&p, 7);
	make_msg(&w, "test", WIRE_SYNC, 2, &p);
	domain_on_deliver(d, 2, w.data, w.len);
	struct wire_sync s = { .proto_min = 1, .proto_max = 1, .cluster_size = 3, .sync_id = 1,
		               .promise = 1, .n_tail = 5 };
	uint64_t tail[5] = { 0 };
	wbuf_reset(&p);
	wire_put_sync(&p, &s, tail, NULL);
	p.len -= 8;
	make_msg(&w, "test", WIRE_SYNC, 2, &p);
	domain_on_deliver(d, 2, w.data, w.len);
	/* RESYNC (one u64 epoch) and REROUND (one u64 view id) with a short or a
	 * long body, and a well-formed REROUND for a configuration that is not
	 * refused: nothing restarts */
	static const uint16_t restarts[2] = { WIRE_RESYNC, WIRE_REROUND };
	for (size_t k = 0; k < 2; k++) {
		for (size_t len = 4; len <= 12; len += 4) {
			wbuf_reset(&p);
			for (size_t i = 0; i < len; i += 4)
				wbuf_put_u32(&p, 0);
			make_msg(&w, "test", restarts[k], 2, &p);
			domain_on_deliver(d, 2, w.data, w.len);
		}
	}
	/* a REQUEST whose body length runs past the end */
	wbuf_reset(&p);
	wbuf_put_u16(&p, CONTROL_OP_PROPERTY_SET);
	wbuf_put_u16(&p, 0);
	wbuf_put_u32(&p, 1000);
	make_msg(&w, "test", WIRE_REQUEST, 2, &p);
	domain_on_deliver(d, 2, w.data, w.len);
	domain_get_status(d, &after);
	ck_assert_int_eq(after.phase, DOMAIN_SYNC); /* still waiting for a real SYNC */
	ck_assert_uint_eq(after.seq, before.seq);
	ck_assert_uint_eq(after.logged, before.logged);
	ck_assert_uint_eq(after.digest, before.digest);
	ck_assert_uint_eq(fh.sent, sent);
	ck_assert_uint_eq(fh.replies, 0);
	wbuf_done(&w);
	wbuf_done(&p);
	domain_destroy(d);
}
END_TEST

START_TEST(test_domain_bad_journal_is_refused)
{
	struct fake_host fh = { 0 };
	struct domain_params p = {
		.name = "test", .nodeid = 1, .incarnation = 1, .cluster_size = 1, .durable = true,
		.quorum = DOMAIN_QUORUM_CLUSTER, .svc = &control_service_ops, .env = &fake_env, .host = &fh,
	};
	struct domain *d;
	ck_assert_int_eq(domain_create(&p, &d), 0);
	uint8_t junk[16] = { 99, 1, 2, 3 };
	ck_assert_int_lt(domain_replay(d, junk, sizeof(junk)), 0);
	ck_assert_int_lt(domain_replay(d, junk, 0), 0);
	ck_assert_int_eq(domain_restore_snapshot(d, junk, sizeof(junk)), BLKSPACE_E_CORRUPT);
	domain_destroy(d);
}
END_TEST

START_TEST(test_domain_unknown_operation_is_refused_everywhere)
{
	struct tcluster tc;
	tc_init(&tc, 3, 1);
	uint8_t body[4] = { 1, 2, 3, 4 };
	ck_assert_int_eq(node_submit(tc.nodes[1].node, 999, body, sizeof(body), 0, 77), 0);
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[1].replies, 1);
	ck_assert_int_eq(tc.nodes[1].last_result, -EOPNOTSUPP);
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* --- the plan of a round, from SYNC messages fed to one domain ----------------------- */

/* Node 1's domain in a configuration of nodes 1..n of a 3-node cluster. */
static struct domain *plan_domain(struct fake_host *fh, unsigned n)
{
	struct domain_params p = {
		.name = "test", .nodeid = 1, .incarnation = 1, .cluster_size = 3,
		.quorum = DOMAIN_QUORUM_CLUSTER, .svc = &control_service_ops, .env = &fake_env, .host = fh,
	};
	struct domain *d;
	ck_assert_int_eq(domain_create(&p, &d), 0);
	struct domain_member_id ids[3] = { { 1, 100 }, { 2, 200 }, { 3, 300 } };
	domain_on_confchg(d, ids, n);
	return d;
}

/* Deliver node's SYNC: active in epoch 5, applied through 10, then the tail;
 * the node counts `cluster` configured nodes. */
static void deliver_sync(struct domain *d, unsigned n_members, unsigned cluster, uint32_t node,
                         const uint64_t *tail, uint32_t n_tail)
{
	uint64_t view = FNV64_INIT;
	for (uint32_t i = 1; i <= n_members; i++) {
		uint8_t b[8];
		le32_write(b, i);
		le32_write(b + 4, i * 100);
		view = fnv64(view, b, sizeof(b));
	}
	struct wire_sync s = { .proto_min = WIRE_PROTO_MIN, .proto_max = WIRE_PROTO_MAX,
		               .cluster_size = cluster, .sync_id = 1, .view_id = view, .promise = 5,
		               .epoch = 5, .applied = 10, .applied_hash = 0xa10, .n_tail = n_tail };
	struct wbuf w, p;
	wbuf_init(&w);
	wbuf_init(&p);
	wire_put_sync(&p, &s, tail, NULL);
	make_msg(&w, "test", WIRE_SYNC, node, &p);
	domain_on_deliver(d, node, w.data, w.len);
	wbuf_done(&w);
	wbuf_done(&p);
}

struct tail {
	const uint64_t *hashes;
	uint32_t n;
};

/* Node 1's status once nodes 1..n (of a cluster of `cluster` nodes) announced these tails. */
static struct domain_status plan_outcome_of(unsigned n, unsigned cluster, const struct tail *tails)
{
	struct fake_host fh = { 0 };
	struct domain *d = plan_domain(&fh, n);
	for (unsigned i = 0; i < n; i++)
		deliver_sync(d, n, cluster, i + 1, tails[i].hashes, tails[i].n);
	struct domain_status st;
	domain_get_status(d, &st);
	domain_destroy(d);
	return st;
}

static struct domain_status plan_outcome(unsigned n, const struct tail *tails)
{
	return plan_outcome_of(n, 3, tails);
}

static const uint64_t tail_b[] = { 0xb11 }, tail_bb[] = { 0xb11, 0xb12 },
                      tail_cc[] = { 0xc11, 0xc12 };

/* Two of three nodes whose logs part after 10: node 3, absent, may have
 * acknowledged either entry 11 with one of them, so neither can be chosen. */
START_TEST(test_domain_plan_waits_when_two_histories_may_be_applied)
{
	struct domain_status st = plan_outcome(2, (struct tail[]){ { tail_b, 1 }, { tail_cc, 2 } });
	ck_assert_int_eq(st.phase, DOMAIN_INQUORATE);
	ck_assert_uint_eq(st.undecided_at, 11);
}
END_TEST

/* Two of five nodes whose logs part: inquorate first. Status must not say
 * the members wait for the logs to settle: more members are needed anyway. */
START_TEST(test_domain_plan_inquorate_is_not_undecided)
{
	struct domain_status st =
		plan_outcome_of(2, 5, (struct tail[]){ { tail_b, 1 }, { tail_cc, 2 } });
	ck_assert_int_eq(st.phase, DOMAIN_INQUORATE);
	ck_assert_uint_eq(st.undecided_at, 0);
}
END_TEST

/* With all three here, a history held by one node alone was applied nowhere. */
START_TEST(test_domain_plan_drops_a_history_held_by_a_minority)
{
	struct domain_status st =
		plan_outcome(3, (struct tail[]){ { tail_b, 1 }, { tail_cc, 2 }, { tail_cc, 2 } });
	ck_assert_int_eq(st.phase, DOMAIN_EPOCH);
	ck_assert(st.receiving); /* node 1's entry 11 is not the plan's: it reloads */
}
END_TEST

/* An entry only one member here holds may have been acknowledged with the
 * absent node: the plan keeps it, and node 1, without it, receives it. */
START_TEST(test_domain_plan_keeps_an_entry_a_majority_may_hold)
{
	struct domain_status st = plan_outcome(2, (struct tail[]){ { tail_b, 1 }, { tail_bb, 2 } });
	ck_assert_int_eq(st.phase, DOMAIN_EPOCH);
	ck_assert(st.receiving);
}
END_TEST

/* --- scenarios ----------------------------------------------------------------------- */

START_TEST(test_domain_forms_and_answers)
{
	struct tcluster tc;
	tc_init(&tc, 3, 2);
	for (unsigned i = 1; i <= 3; i++) {
		struct domain_status st = tc_status(&tc, i);
		ck_assert_int_eq(st.phase, DOMAIN_ACTIVE);
		ck_assert_uint_eq(st.n_members, 3);
		ck_assert_uint_eq(st.writer, 1);
	}
	uint64_t token;
	ck_assert_int_eq(tc_set(&tc, 2, "color", "blue", 0, &token), 0);
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[2].replies, 1);
	ck_assert_uint_eq(tc.nodes[2].last_token, token);
	ck_assert_int_eq(tc.nodes[2].last_result, 0);
	for (unsigned i = 1; i <= 3; i++)
		ck_assert_str_eq(tc_get(&tc, i, "color"), "blue");
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* The origin answers only once a majority holds the entry: with the
 * receipts not yet delivered, no answer may come. */
START_TEST(test_domain_answers_only_when_safe)
{
	struct tcluster tc;
	tc_init(&tc, 3, 3);
	ck_assert_int_eq(tc_set(&tc, 1, "k", "v", 0, NULL), 0);
	/* deliver the request, then only a little more */
	for (int i = 0; i < 3; i++)
		simnet_step(tc.net);
	ck_assert_uint_eq(tc.nodes[1].replies, 0);
	ck_assert_ptr_null(tc_get(&tc, 1, "k")); /* not applied before it is safe */
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[1].replies, 1);
	ck_assert_str_eq(tc_get(&tc, 3, "k"), "v");
	tc_done(&tc);
}
END_TEST

START_TEST(test_domain_minority_refuses_majority_goes_on)
{
	struct tcluster tc;
	tc_init(&tc, 3, 4);
	simnet_set_component(tc.net, 3, 1);
	tc_run(&tc);
	ck_assert_int_eq(tc_status(&tc, 3).phase, DOMAIN_INQUORATE);
	ck_assert_int_eq(tc_set(&tc, 3, "k", "minority", 0, NULL), BLKSPACE_E_NOQUORUM);
	ck_assert_int_eq(tc_set(&tc, 1, "k", "majority", 0, NULL), 0);
	tc_run(&tc);
	ck_assert_int_eq(tc.nodes[1].last_result, 0);
	ck_assert_ptr_null(tc_get(&tc, 3, "k"));
	simnet_set_component(tc.net, 3, 0);
	tc_run(&tc);
	ck_assert_str_eq(tc_get(&tc, 3, "k"), "majority");
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

START_TEST(test_domain_waiting_request_completes_after_heal)
{
	struct tcluster tc;
	tc_init(&tc, 3, 5);
	simnet_set_component(tc.net, 3, 1);
	tc_run(&tc);
	ck_assert_int_eq(tc_set(&tc, 3, "w", "1", DOMAIN_WAIT_QUORUM, NULL), 0);
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[3].replies, 0);
	simnet_set_component(tc.net, 3, 0);
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[3].replies, 1);
	ck_assert_int_eq(tc.nodes[3].last_result, 0);
	ck_assert_str_eq(tc_get(&tc, 1, "w"), "1");
	tc_done(&tc);
}
END_TEST

/* A restarted node gets the state by transfer, in chunks when it is large. */
START_TEST(test_domain_restart_receives_state_in_chunks)
{
	struct tcluster tc;
	tc_init(&tc, 3, 6);
	tc_kill(&tc, 3);
	tc_run(&tc);
	char key[32], value[BLKSPACE_PROPERTY_VALUE_MAX + 1];
	memset(value, 'x', BLKSPACE_PROPERTY_VALUE_MAX);
	value[BLKSPACE_PROPERTY_VALUE_MAX] = '\0';
	for (int i = 0; i < 200; i++) { /* ~200 KiB: several 64 KiB chunks */
		snprintf(key, sizeof(key), "big%03d", i);
		ck_assert_int_eq(tc_set(&tc, 1, key, value, 0, NULL), 0);
		tc_run(&tc);
	}
	mem_disk_destroy(tc.nodes[3].disk); /* a new disk: it must come by transfer */
	tc.nodes[3].disk = mem_disk_create();
	tc_up(&tc, 3);
	tc_run(&tc);
	ck_assert_str_eq(tc_get(&tc, 3, "big199"), value);
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* Every node crashes after the answer; the restarted cluster still has it. */
START_TEST(test_domain_whole_cluster_restart_keeps_answers)
{
	struct tcluster tc;
	tc_init(&tc, 3, 7);
	ck_assert_int_eq(tc_set(&tc, 2, "durable", "yes", 0, NULL), 0);
	tc_run(&tc);
	ck_assert_int_eq(tc.nodes[2].last_result, 0);
	uint64_t epoch = tc_status(&tc, 1).epoch;
	for (unsigned i = 1; i <= 3; i++)
		tc_kill(&tc, i);
	tc_run(&tc);
	for (unsigned i = 1; i <= 3; i++)
		tc_up(&tc, i);
	tc_run(&tc);
	for (unsigned i = 1; i <= 3; i++)
		ck_assert_str_eq(tc_get(&tc, i, "durable"), "yes");
	ck_assert_uint_gt(tc_status(&tc, 1).epoch, epoch);
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* Node 3 holds everything it logged durably. */
static bool tc_durable(struct tcluster *tc, unsigned i)
{
	struct domain_status st = tc_status(tc, i);
	return st.durable_seq == st.logged;
}

/* Node i crashes and comes back with its disk: two membership changes. */
static void kill_and_restart_node(struct tcluster *tc, unsigned i)
{
	tc_kill(tc, i);
	tc_run(tc);
	tc_up(tc, i);
	tc_run(tc);
}

/* Node 3's disk fails a commit: the change is answered by nodes 1 and 2,
 * node 3 claims nothing of it and leaves the group, so a membership change
 * does not wait for it; node_retry_commit() writes what it kept once the
 * disk works and joins again, and a cold start of the cluster with the
 * disks of nodes 1 and 2 gone finds every change in node 3's journal. */
START_TEST(test_domain_failed_commit_is_retried)
{
	struct tcluster tc;
	tc_init(&tc, 3, 8);
	ck_assert(!node_retry_commit(tc.nodes[3].node)); /* nothing failed */
	mem_disk_set_error(tc.nodes[3].disk, EIO);
	ck_assert_int_eq(tc_set(&tc, 1, "k", "v", 0, NULL), 0);
	tc_run(&tc);
	ck_assert_int_eq(tc.nodes[1].last_result, 0);
	ck_assert(!tc_durable(&tc, 3));
	ck_assert_int_eq(tc_status(&tc, 3).phase, DOMAIN_OUTSIDE);
	ck_assert_int_eq(tc_status(&tc, 1).n_members, 2);
	ck_assert(node_retry_commit(tc.nodes[3].node)); /* still failing: stays out */
	tc_run(&tc);
	ck_assert_int_eq(tc_status(&tc, 3).phase, DOMAIN_OUTSIDE);
	kill_and_restart_node(&tc, 2); /* a membership change without node 3 */
	ck_assert_int_eq(tc_set(&tc, 2, "k2", "v2", 0, NULL), 0);
	tc_run(&tc);
	ck_assert_int_eq(tc.nodes[2].last_result, 0);
	mem_disk_set_error(tc.nodes[3].disk, 0);
	ck_assert(node_retry_commit(tc.nodes[3].node));
	tc_run(&tc);
	ck_assert(tc_durable(&tc, 3));
	ck_assert(!node_retry_commit(tc.nodes[3].node)); /* all done */
	assert_all_equal(&tc);
	for (unsigned i = 1; i <= 3; i++)
		tc_kill(&tc, i);
	for (unsigned i = 1; i <= 2; i++) {
		mem_disk_destroy(tc.nodes[i].disk);
		tc.nodes[i].disk = mem_disk_create();
	}
	for (unsigned i = 1; i <= 3; i++)
		tc_up(&tc, i);
	tc_run(&tc);
	for (unsigned i = 1; i <= 3; i++) {
		ck_assert_str_eq(tc_get(&tc, i, "k"), "v");
		ck_assert_str_eq(tc_get(&tc, i, "k2"), "v2");
	}
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* Deliver until node i receives the state by transfer (its promise for the
 * new epoch is on disk by then: the chunks come in later batches). */
static void tc_run_until_receiving(struct tcluster *tc, unsigned i)
{
	for (int k = 0; k < RUN_LIMIT; k++) {
		simnet_settle(tc->net);
		if (tc_status(tc, i).receiving)
			return;
		if (!simnet_step(tc->net) && simnet_in_flight(tc->net) == 0)
			break;
	}
	ck_abort_msg("node %u never received the state", i);
}

/* Node 3's disk fails while it receives the state by transfer: it adds no
 * record to the journal of its old state and acknowledges nothing until the
 * snapshot is written; it leaves the group meanwhile, and once its disk
 * works it writes the snapshot, joins again and restarts from its disk. */
START_TEST(test_domain_transfer_snapshot_before_any_record)
{
	struct tcluster tc;
	tc_init(&tc, 3, 9);
	ck_assert_int_eq(tc_set(&tc, 1, "a", "1", 0, NULL), 0);
	tc_run(&tc);
	tc_kill(&tc, 3);
	tc_run(&tc);
	ck_assert_int_eq(tc_set(&tc, 1, "b", "2", 0, NULL), 0);
	tc_run(&tc);
	tc_up(&tc, 3);
	tc_run_until_receiving(&tc, 3);
	mem_disk_set_error(tc.nodes[3].disk, ENOSPC);
	tc_run(&tc);
	ck_assert_str_eq(tc_get(&tc, 3, "b"), "2"); /* in memory */
	ck_assert(domain_snapshot_due(node_control_domain(tc.nodes[3].node)));
	ck_assert_int_eq(tc_status(&tc, 3).phase, DOMAIN_OUTSIDE);
	ck_assert_int_eq(tc_set(&tc, 1, "c", "3", 0, NULL), 0);
	tc_run(&tc);
	ck_assert_int_eq(tc.nodes[1].last_result, 0); /* nodes 1 and 2 go on */
	ck_assert(node_retry_commit(tc.nodes[3].node)); /* still failing */
	tc_run(&tc);
	ck_assert(domain_snapshot_due(node_control_domain(tc.nodes[3].node)));
	mem_disk_set_error(tc.nodes[3].disk, 0);
	ck_assert(node_retry_commit(tc.nodes[3].node));
	tc_run(&tc);
	ck_assert(!domain_snapshot_due(node_control_domain(tc.nodes[3].node)));
	ck_assert(tc_durable(&tc, 3));
	ck_assert_str_eq(tc_get(&tc, 3, "c"), "3");
	ck_assert_int_eq(tc_set(&tc, 2, "d", "4", 0, NULL), 0);
	tc_run(&tc);
	tc_kill(&tc, 3);
	tc_run(&tc);
	tc_up(&tc, 3); /* replays snapshot and journal: refused if they do not fit */
	tc_run(&tc);
	ck_assert_str_eq(tc_get(&tc, 3, "d"), "4");
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* A partition right when the request is delivered: whatever the origin was
 * told, the healed cluster agrees with it. */
START_TEST(test_domain_partition_at_delivery)
{
	for (uint64_t seed = 10; seed < 40; seed++) {
		struct tcluster tc;
		tc_init(&tc, 3, seed);
		ck_assert_int_eq(tc_set(&tc, 1, "p", "v", 0, NULL), 0);
		for (uint64_t i = 0; i < seed % 6; i++)
			simnet_step(tc.net);
		simnet_set_component(tc.net, 1, 1);
		tc_run(&tc);
		unsigned replies = tc.nodes[1].replies;
		int result = tc.nodes[1].last_result;
		simnet_set_component(tc.net, 1, 0);
		tc_run(&tc);
		if (replies && result == 0)
			ck_assert_str_eq(tc_get(&tc, 2, "p"), "v");
		if (replies && result == BLKSPACE_E_NOQUORUM)
			ck_assert_ptr_null(tc_get(&tc, 2, "p"));
		ck_assert_uint_eq(tc.nodes[1].replies, 1); /* answered by the end */
		assert_all_equal(&tc);
		tc_done(&tc);
	}
}
END_TEST

START_TEST(test_domain_cancelled_request_is_not_answered)
{
	struct tcluster tc;
	tc_init(&tc, 3, 8);
	uint64_t token;
	ck_assert_int_eq(tc_set(&tc, 1, "c", "1", 0, &token), 0);
	node_cancel(tc.nodes[1].node, token);
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[1].replies, 0);
	ck_assert_str_eq(tc_get(&tc, 2, "c"), "1"); /* it still happened */
	tc_done(&tc);
}
END_TEST

/* A request multicast twice (as after a configuration change) applies once. */
START_TEST(test_domain_duplicate_request_applies_once)
{
	struct tcluster tc;
	tc_init(&tc, 2, 9);
	struct wbuf body, payload, msg;
	wbuf_init(&body);
	wbuf_init(&payload);
	wbuf_init(&msg);
	const char *k[1] = { "dup" }, *v[1] = { "1" };
	props_encode_request(&body, k, v, 1);
	wire_put_request(&payload, CONTROL_OP_PROPERTY_SET, 0, body.data, body.len);
	struct wire_header h = { .version = WIRE_PROTO_MAX, .type = WIRE_REQUEST, .origin = 2,
		                 .domain = wire_domain_id(CONTROL_DOMAIN_NAME), .incarnation = 1,
		                 .request_id = 1000 };
	wire_begin(&msg, &h);
	wbuf_put_bytes(&msg, payload.data, payload.len);
	ck_assert_int_eq(wire_finish(&msg), 0);
	/* node 2's incarnation is 1 on a fresh disk; inject its request twice */
	for (unsigned n = 1; n <= 2; n++) {
		struct domain *d = node_control_domain(tc.nodes[n].node);
		domain_on_deliver(d, 2, msg.data, msg.len);
		domain_on_deliver(d, 2, msg.data, msg.len);
		domain_persisted(d); /* the end of that batch: receipts go out */
	}
	tc_run(&tc);
	const struct control_state *cs = node_control_state(tc.nodes[1].node);
	const struct prop *p = props_get(&cs->props, "dup");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->sets, 1);
	wbuf_done(&body);
	wbuf_done(&payload);
	wbuf_done(&msg);
	tc_done(&tc);
}
END_TEST

static Suite *domain_suite(void)
{
	Suite *s = suite_create("domain");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "bad_peer_messages", test_domain_bad_peer_messages_are_dropped },
		{ "bad_journal", test_domain_bad_journal_is_refused },
		{ "unknown_operation", test_domain_unknown_operation_is_refused_everywhere },
		{ "plan_undecided", test_domain_plan_waits_when_two_histories_may_be_applied },
		{ "plan_inquorate", test_domain_plan_inquorate_is_not_undecided },
		{ "plan_minority_history", test_domain_plan_drops_a_history_held_by_a_minority },
		{ "plan_majority_entry", test_domain_plan_keeps_an_entry_a_majority_may_hold },
		{ "forms_and_answers", test_domain_forms_and_answers },
		{ "answers_only_when_safe", test_domain_answers_only_when_safe },
		{ "minority_refuses", test_domain_minority_refuses_majority_goes_on },
		{ "waiting_request", test_domain_waiting_request_completes_after_heal },
		{ "restart_transfer", test_domain_restart_receives_state_in_chunks },
		{ "whole_cluster_restart", test_domain_whole_cluster_restart_keeps_answers },
		{ "partition_at_delivery", test_domain_partition_at_delivery },
		{ "cancel", test_domain_cancelled_request_is_not_answered },
		{ "duplicate", test_domain_duplicate_request_applies_once },
		{ "failed_commit", test_domain_failed_commit_is_retried },
		{ "transfer_snapshot", test_domain_transfer_snapshot_before_any_record },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return check_run(domain_suite());
}
