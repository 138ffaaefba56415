/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of receipts that come outside the agreed order (direct
 * receipts, doc/architecture.md): bad ones first, fed straight to an active
 * domain; one made by hand answers a request before its ordered copy; and
 * the ordered copy is held only while the direct path works: when the
 * origin does not get direct receipts, or a node cannot send them, the
 * ordered copy goes at once. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkspace/errors.h>

#include "check-util.h"
#include "control.h"
#include "domain-internal.h"
#include "tcluster.h"
#include "wire.h"

static void make_receipt(struct wbuf *w, const char *domain, uint32_t origin, uint64_t epoch,
                         uint64_t seq, const struct wbuf *payload)
{
	struct wire_header h = { .version = WIRE_PROTO_MAX, .type = WIRE_STABLE, .origin = origin,
		                 .domain = wire_domain_id(domain), .incarnation = 1,
		                 .stable_epoch = epoch, .stable_seq = seq, .stable_hash = 0x5eed };
	wbuf_reset(w);
	wire_begin(w, &h);
	if (payload)
		wbuf_put_bytes(w, payload->data, payload->len);
	ck_assert_int_eq(wire_finish(w), 0);
}

/* What comes outside the agreed order is taken only if it is a member's
 * own receipt for this domain that matches our log: an active domain
 * drops everything else and goes on unchanged. */
START_TEST(test_domain_bad_direct_messages_are_dropped)
{
	struct tcluster tc;
	tc_init(&tc, 3, 5);
	struct domain *d = node_control_domain(tc.nodes[1].node);
	const char *name = domain_name(d);
	struct domain_status before = tc_status(&tc, 1), after;
	ck_assert_int_eq(before.phase, DOMAIN_ACTIVE);
	uint64_t epoch = before.epoch, last = before.logged;
	struct wbuf w, p;
	wbuf_init(&w);
	wbuf_init(&p);
	uint8_t garbage[100];
	memset(garbage, 0xab, sizeof(garbage));
	ck_assert(!domain_on_direct(d, 2, garbage, 0));
	ck_assert(!domain_on_direct(d, 2, garbage, 10));
	ck_assert(!domain_on_direct(d, 2, garbage, sizeof(garbage)));
	/* a request is never taken directly, even a well-formed one */
	wbuf_put_u16(&p, CONTROL_OP_PROPERTY_SET);
	wbuf_put_blob(&p, "k=v", 3);
	make_msg(&w, name, WIRE_REQUEST, 2, &p);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len));
	/* receipts for what node 1 never logged: another domain's, one that
	 * names another origin, a non-member's, another epoch's, beyond the
	 * log, and one with bytes after its header */
	make_receipt(&w, "other", 2, epoch, last + 1, NULL);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len));
	make_receipt(&w, name, 3, epoch, last + 1, NULL);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len));
	make_receipt(&w, name, 9, epoch, last + 1, NULL);
	ck_assert(!domain_on_direct(d, 9, w.data, w.len));
	make_receipt(&w, name, 2, epoch + 1, last + 1, NULL);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len));
	make_receipt(&w, name, 2, epoch, last + 1, NULL);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len));
	wbuf_reset(&p);
	wbuf_put_u32(&p, 1);
	make_receipt(&w, name, 2, epoch, last, &p);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len));
	after = tc_status(&tc, 1);
	ck_assert_int_eq(after.phase, DOMAIN_ACTIVE);
	ck_assert_uint_eq(after.logged, before.logged);
	ck_assert_uint_eq(after.safe_seq, before.safe_seq);
	ck_assert_uint_eq(after.digest, before.digest);
	for (size_t i = 0; i < after.n_members; i++)
		ck_assert_uint_eq(after.members[i].received, before.members[i].received);
	/* the cluster goes on */
	ck_assert_int_eq(tc_set(&tc, 1, "k", "v", 0, NULL), 0);
	tc_run(&tc);
	ck_assert_str_eq(tc_get(&tc, 3, "k"), "v");
	wbuf_done(&w);
	wbuf_done(&p);
	tc_done(&tc);
}
END_TEST

static uint64_t received_from(const struct domain_status *st, uint32_t nodeid)
{
	for (size_t i = 0; i < st->n_members; i++)
		if (st->members[i].nodeid == nodeid)
			return st->members[i].received;
	return 0;
}

/* A direct receipt answers a request before the ordered copy arrives: node
 * 1 logged its request durably, no receipt of it came yet; node 2's,
 * made by hand, is taken only from node 2, as a receipt, with the entry's
 * chain hash; then node 1 answers. */
/* Run until node 1 logged its request (at target) durably; true if no
 * receipt of it came yet and it is not answered. */
static bool stop_before_receipts(struct tcluster *tc, uint64_t target)
{
	struct domain_status st = tc_status(tc, 1);
	for (int k = 0; k < 1000 && st.durable_seq < target; k++) {
		simnet_settle(tc->net);
		simnet_step(tc->net);
		st = tc_status(tc, 1);
	}
	return st.durable_seq == target && received_from(&st, 2) < target &&
	       received_from(&st, 3) < target && tc->nodes[1].replies == 0;
}

START_TEST(test_domain_direct_receipt_answers)
{
	struct tcluster tc;
	uint64_t target = 0;
	bool found = false;
	for (uint64_t seed = 1; seed <= 64 && !found; seed++) { /* a run that stops there */
		tc_init(&tc, 3, seed);
		target = tc_status(&tc, 1).logged + 1;
		ck_assert_int_eq(tc_set(&tc, 1, "k", "v", 0, NULL), 0);
		found = stop_before_receipts(&tc, target);
		if (!found)
			tc_done(&tc);
	}
	ck_assert_msg(found, "no seed of 1-64 stops before any receipt");
	struct domain *d = node_control_domain(tc.nodes[1].node);
	const char *name = domain_name(d);
	struct domain_status st = tc_status(&tc, 1);
	const struct log_entry *e = log_at(d, target);
	ck_assert_ptr_nonnull(e);
	struct wbuf w;
	wbuf_init(&w);
	struct wire_header h = { .version = WIRE_PROTO_MAX, .type = WIRE_STABLE, .origin = 3,
		                 .domain = wire_domain_id(name), .incarnation = 1,
		                 .stable_epoch = st.epoch, .stable_seq = target, .stable_hash = e->hash };
	wire_begin(&w, &h);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len)); /* node 3's, said to come from node 2 */
	h.origin = 2;
	h.type = WIRE_EPOCH_ACK;
	wbuf_reset(&w);
	wire_begin(&w, &h);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len)); /* not a receipt */
	h.type = WIRE_STABLE;
	h.stable_hash = e->hash ^ 1;
	wbuf_reset(&w);
	wire_begin(&w, &h);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len)); /* another log's entry */
	ck_assert_uint_eq(tc.nodes[1].replies, 0);
	h.stable_hash = e->hash;
	wbuf_reset(&w);
	wire_begin(&w, &h);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert(domain_on_direct(d, 2, w.data, w.len));
	ck_assert_uint_eq(tc.nodes[1].replies, 1);
	ck_assert_int_eq(tc.nodes[1].last_result, 0);
	ck_assert(!domain_on_direct(d, 2, w.data, w.len)); /* twice: nothing new */
	wbuf_done(&w);
	tc_run(&tc);
	ck_assert_uint_eq(tc.nodes[1].replies, 1);
	ck_assert_str_eq(tc_get(&tc, 3, "k"), "v");
	assert_all_equal(&tc);
	tc_done(&tc);
}
END_TEST

/* --- when the ordered copy is held ------------------------------------------------ */

enum direct_mode {
	DIRECT_PASS, /* direct datagrams go as the simulated network takes them */
	DIRECT_DROP, /* they are lost, every one: the origin never gets one */
	DIRECT_FAIL, /* they cannot be sent (no address, no key) */
};

static enum direct_mode direct_mode;
static unsigned stable_now[MAX_NODES + 1], stable_held[MAX_NODES + 1];
static struct transport_ops counting_ops;

static bool is_receipt(const void *msg, size_t len)
{
	struct wire_header h;
	struct rbuf r;
	return wire_decode_header(msg, len, &h, &r) == 0 && h.type == WIRE_STABLE;
}

static int counting_send(struct transport_group *g, const void *msg, size_t len)
{
	if (is_receipt(msg, len))
		stable_now[simnet_group_node((struct simnet_group *)g)]++;
	return sim_transport_ops.send(g, msg, len);
}

static int counting_send_lazy(struct transport_group *g, const void *msg, size_t len)
{
	if (is_receipt(msg, len))
		stable_held[simnet_group_node((struct simnet_group *)g)]++;
	return sim_transport_ops.send_lazy(g, msg, len);
}

static int moded_send_direct(struct transport_group *g, const void *msg, size_t len)
{
	if (direct_mode == DIRECT_FAIL)
		return -EHOSTUNREACH;
	return direct_mode == DIRECT_DROP ? 0 : sim_transport_ops.send_direct(g, msg, len);
}

/* Node 1 sets 20 values one after the other; the receipts nodes 2 and 3
 * sent ordered at once and held. */
static void run_requests(enum direct_mode mode, unsigned *now, unsigned *held)
{
	counting_ops = sim_transport_ops;
	counting_ops.send = counting_send;
	counting_ops.send_lazy = counting_send_lazy;
	counting_ops.send_direct = moded_send_direct;
	direct_mode = mode;
	struct tcluster tc;
	tc_init_with(&tc, 3, 11, &counting_ops);
	memset(stable_now, 0, sizeof(stable_now));
	memset(stable_held, 0, sizeof(stable_held));
	for (unsigned i = 0; i < 20; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%u", i);
		ck_assert_int_eq(tc_set(&tc, 1, "k", v, 0, NULL), 0);
		tc_run(&tc);
	}
	ck_assert_uint_eq(tc.nodes[1].replies, 20);
	ck_assert_int_eq(tc.nodes[1].last_result, 0);
	ck_assert_str_eq(tc_get(&tc, 3, "k"), "19");
	assert_all_equal(&tc);
	*now = stable_now[2] + stable_now[3];
	*held = stable_held[2] + stable_held[3];
	tc_done(&tc);
}

START_TEST(test_receipts_ordered_copy_held_while_direct_works)
{
	unsigned now, held;
	run_requests(DIRECT_PASS, &now, &held);
	ck_assert_uint_ge(held, 20); /* most of the 40 */
	run_requests(DIRECT_DROP, &now, &held); /* node 1 never asks for a held copy */
	ck_assert_uint_eq(held, 0);
	ck_assert_uint_ge(now, 40);
	run_requests(DIRECT_FAIL, &now, &held); /* nodes 2 and 3 hold none */
	ck_assert_uint_eq(held, 0);
	ck_assert_uint_ge(now, 40);
}
END_TEST

static Suite *receipts_suite(void)
{
	Suite *s = suite_create("receipts");
	check_add_case(s, "bad_direct_messages", test_domain_bad_direct_messages_are_dropped, NULL,
	               NULL, 60);
	check_add_case(s, "direct_receipt", test_domain_direct_receipt_answers, NULL, NULL, 60);
	check_add_case(s, "held_ordered_copy", test_receipts_ordered_copy_held_while_direct_works,
	               NULL, NULL, 60);
	return s;
}

int main(void)
{
	return check_run(receipts_suite());
}
