/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the mirror log's quorum set (mlog-state.c, mlog.c), on the
 * service alone: a saved state whose set is malformed is refused; the set
 * moves only at membership events, so a registration applied on one side
 * of a partition cannot make both sides quorate; the service asks for a
 * round when the registry moved away from it; a configuration the set
 * refuses goes on only when its members vouch for the absent, and then
 * takes the log over. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-util.h"
#include "codec.h"
#include "mlog-internal.h"
#include "mlog.h"

static struct mlog_state *s;

static void setup(void) { s = mlog_service_ops.create(); }
static void teardown(void) { mlog_service_ops.destroy(s); }

static void membership(const uint32_t *ids, size_t n)
{
	mlog_service_ops.apply_membership(s, 1, ids, n);
}

static int registration(uint32_t nodeid, uint16_t op)
{
	struct wbuf body, reply;
	wbuf_init(&body);
	wbuf_init(&reply);
	wbuf_put_u64(&body, 7); /* the opening of the log on nodeid */
	if (op == MLOG_OP_REGISTER)
		wbuf_put_u64(&body, MLOG_REGISTER_FRESH);
	int rc = mlog_service_ops.apply(s, nodeid, op, body.data, body.len, &reply);
	wbuf_done(&body);
	wbuf_done(&reply);
	return rc;
}

/* Would the next configuration with these members be quorate? */
static bool quorate(const uint32_t *ids, size_t n)
{
	struct wbuf info;
	wbuf_init(&info);
	ck_assert_int_eq(mlog_service_ops.quorum_info(s, &info), 0);
	bool q = mlog_service_ops.is_quorate(info.data, info.len, ids, n);
	wbuf_done(&info);
	return q;
}

/* Save s, let edit change the last bytes (the quorum set), load it. */
static void *reload_edited(void (*edit)(uint8_t *end))
{
	struct wbuf w;
	wbuf_init(&w);
	ck_assert_int_eq(mlog_service_ops.save(s, &w), 0);
	if (edit)
		edit(w.data + w.len);
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	void *loaded = mlog_service_ops.load(&r);
	wbuf_done(&w);
	return loaded;
}

static void zero_id(uint8_t *end) { le32_write(end - 4, 0); }
static void unsorted(uint8_t *end) { le32_write(end - 4, 1); }
static void too_many(uint8_t *end) { le32_write(end - 12, 65); }

START_TEST(test_mlog_quorum_set_bad_state_is_refused)
{
	const uint32_t ids[2] = { 2, 3 };
	membership(ids, 2); /* the set is {2, 3}: its last 12 bytes are n, 2, 3 */
	void *good = reload_edited(NULL);
	ck_assert_ptr_nonnull(good);
	mlog_service_ops.destroy(good);
	ck_assert_ptr_null(reload_edited(zero_id));
	ck_assert_ptr_null(reload_edited(unsorted));
	ck_assert_ptr_null(reload_edited(too_many));
}
END_TEST

/* mlog seed 1972: nobody registered when the round ran; a REGISTER is then
 * applied on some members. A partition must leave at most one side quorate,
 * whichever side applied it. */
START_TEST(test_mlog_quorum_set_holds_until_the_next_round)
{
	const uint32_t all[3] = { 1, 2, 3 }, one[1] = { 1 }, others[2] = { 2, 3 };
	ck_assert(quorate(one, 1)); /* a log never active: its first round sets it up */
	membership(all, 3);
	ck_assert(!mlog_quorum_outdated(s));
	ck_assert(!quorate(one, 1));
	ck_assert(quorate(others, 2));
	ck_assert_int_eq(registration(1, MLOG_OP_REGISTER), 0);
	ck_assert(mlog_quorum_outdated(s));
	ck_assert(!quorate(one, 1)); /* as on the side that did not apply it */
	ck_assert(quorate(others, 2));
	membership(all, 3); /* the round the writer asks for */
	ck_assert(!mlog_quorum_outdated(s));
	ck_assert(quorate(one, 1));
	ck_assert(!quorate(others, 2));
}
END_TEST

START_TEST(test_mlog_quorum_set_follows_unregistration)
{
	const uint32_t all[3] = { 1, 2, 3 }, two[1] = { 2 }, three[1] = { 3 };
	membership(all, 3);
	ck_assert_int_eq(registration(1, MLOG_OP_REGISTER), 0);
	ck_assert_int_eq(registration(2, MLOG_OP_REGISTER), 0);
	membership(all, 3);
	ck_assert(!quorate(two, 1)); /* half of {1, 2} without the lowest */
	ck_assert_int_eq(registration(1, MLOG_OP_UNREGISTER), 0);
	ck_assert(mlog_quorum_outdated(s));
	membership(all, 3);
	ck_assert(quorate(two, 1));
	ck_assert(!quorate(three, 1));
	/* the last one leaves: the members of that round count again */
	ck_assert_int_eq(registration(2, MLOG_OP_UNREGISTER), 0);
	ck_assert(mlog_quorum_outdated(s));
	const uint32_t rest[2] = { 2, 3 };
	membership(rest, 2);
	ck_assert(!mlog_quorum_outdated(s));
	ck_assert(quorate(two, 1)); /* half of {2, 3} with the lowest */
	ck_assert(!quorate(three, 1));
}
END_TEST

/* A member's quorum information: the set {1, 2}, then what it vouches for. */
static void info_with(struct wbuf *w, const uint32_t *fenced, size_t n)
{
	wbuf_init(w);
	wbuf_put_u32(w, 2);
	wbuf_put_u32(w, 1);
	wbuf_put_u32(w, 2);
	if (fenced)
		mlog_encode_attestation(w, fenced, n);
}

static bool lifted(const struct wbuf *src, const struct wbuf *member, const uint32_t *ids,
                   size_t n)
{
	return mlog_service_ops.is_lifted(src->data, src->len, member->data, member->len, ids, n);
}

/* Bad vouching first: malformed, another version, too short or too long,
 * or not covering every absent node of the set, lifts nothing. */
START_TEST(test_mlog_lift_rule_refuses_bad_vouching)
{
	const uint32_t two[1] = { 2 }, fenced[1] = { 1 }, other[1] = { 3 };
	struct wbuf src, good, none, wrong, bad;
	info_with(&src, NULL, 0);
	info_with(&good, fenced, 1);
	info_with(&none, NULL, 0);
	info_with(&wrong, other, 1);
	ck_assert(mlog_service_ops.is_quorate(good.data, good.len, two, 1) == false);
	ck_assert(lifted(&src, &good, two, 1));
	ck_assert(lifted(&good, &good, two, 1)); /* a source may vouch too: its set is read alike */
	ck_assert(!lifted(&src, &none, two, 1));
	ck_assert(!lifted(&src, &wrong, two, 1));
	ck_assert(!lifted(&src, &good, two, 0));
	for (size_t cut = 1; cut < good.len - 12; cut++) { /* cut into the vouching */
		struct wbuf w = { .data = good.data, .len = good.len - cut };
		ck_assert(!lifted(&src, &w, two, 1));
	}
	info_with(&bad, fenced, 1);
	wbuf_put_u8(&bad, 0); /* a byte too many */
	ck_assert(!lifted(&src, &bad, two, 1));
	bad.data[12] = MLOG_ATTEST_VERSION + 1;
	bad.len--;
	ck_assert(!lifted(&src, &bad, two, 1));
	bad.data[12] = MLOG_ATTEST_VERSION;
	le32_write(bad.data + 13, 65); /* more nodes than a cluster has */
	ck_assert(!lifted(&src, &bad, two, 1));
	struct wbuf empty_src;
	wbuf_init(&empty_src);
	ck_assert(!lifted(&empty_src, &good, two, 1));
	const uint32_t all[2] = { 1, 2 };
	ck_assert(mlog_service_ops.is_quorate(good.data, good.len, all, 2));
	wbuf_done(&src);
	wbuf_done(&good);
	wbuf_done(&none);
	wbuf_done(&wrong);
	wbuf_done(&bad);
	wbuf_done(&empty_src);
}
END_TEST

static int apply_op(uint32_t origin, uint16_t op, const struct wbuf *body)
{
	struct wbuf reply;
	wbuf_init(&reply);
	int rc = mlog_service_ops.apply(s, origin, op, body->data, body->len, &reply);
	wbuf_done(&reply);
	return rc;
}

/* A configuration its quorum set refuses became active (its members
 * vouched): the absent nodes of the set are forgotten, marks and all, and
 * every region resyncs; the members' own marks stay. */
START_TEST(test_mlog_lift_takes_over_and_resyncs_all)
{
	const uint32_t all[3] = { 1, 2, 3 }, two[1] = { 2 };
	struct wbuf w;
	wbuf_init(&w);
	mlog_encode_init(&w, 16, 1024, MLOG_INIT_ALL_IN, 0, 16, NULL);
	ck_assert_int_eq(apply_op(1, MLOG_OP_INIT, &w), 0);
	membership(all, 3);
	ck_assert_int_eq(registration(1, MLOG_OP_REGISTER), 0);
	ck_assert_int_eq(registration(2, MLOG_OP_REGISTER), 0);
	membership(all, 3); /* the set is {1, 2} */
	uint64_t r1 = 3, r2 = 5;
	wbuf_reset(&w);
	mlog_encode_set_sync(&w, 7, 0); /* a failed copy: out of sync, whoever says so */
	ck_assert_int_eq(apply_op(3, MLOG_OP_SET_REGION_SYNC, &w), 0);
	wbuf_reset(&w);
	ck_assert_int_eq(apply_op(2, MLOG_OP_GET_RESYNC_WORK, &w), 0);
	ck_assert_uint_eq(s->recoverer, 2);
	ck_assert_uint_eq(s->recovering, 7);
	wbuf_reset(&w);
	mlog_encode_set_sync(&w, 7, 1);
	ck_assert_int_eq(apply_op(1, MLOG_OP_SET_REGION_SYNC, &w), 0); /* not node 1's copy */
	ck_assert(!mlog_is_in_sync(s, 7));
	ck_assert_uint_eq(s->recoverer, 2);
	wbuf_reset(&w);
	mlog_encode_regions(&w, &r1, 1);
	ck_assert_int_eq(apply_op(1, MLOG_OP_MARK, &w), 0);
	wbuf_reset(&w);
	mlog_encode_regions(&w, &r2, 1);
	ck_assert_int_eq(apply_op(2, MLOG_OP_MARK, &w), 0);
	ck_assert_uint_eq(s->sync_count, 15);
	membership(two, 1);
	ck_assert_uint_eq(s->sync_count, 0);
	ck_assert_uint_eq(s->recoverer, 0);
	wbuf_reset(&w);
	mlog_encode_set_sync(&w, 7, 1); /* node 2's copy began before: it does not count */
	ck_assert_int_eq(apply_op(2, MLOG_OP_SET_REGION_SYNC, &w), 0);
	ck_assert(!mlog_is_in_sync(s, 7));
	ck_assert(!mlog_is_in_sync(s, 9));
	ck_assert(!mlog_is_marked_by(s, r1, 1));
	ck_assert(mlog_is_marked_by(s, r2, 2));
	ck_assert_ptr_null(mlog_departed_of(s, 1)); /* fenced: nothing waits for it */
	ck_assert(!mlog_is_registered(s, 1));
	ck_assert(mlog_is_registered(s, 2));
	ck_assert_uint_eq(s->n_quorum, 1);
	ck_assert(quorate(two, 1));
	wbuf_done(&w);
}
END_TEST

static void add_case(Suite *st, const char *name, const TTest *test)
{
	check_add_case(st, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *st = suite_create("mlog-quorum");
	add_case(st, "test_mlog_quorum_set_bad_state_is_refused",
	         test_mlog_quorum_set_bad_state_is_refused);
	add_case(st, "test_mlog_quorum_set_holds_until_the_next_round",
	         test_mlog_quorum_set_holds_until_the_next_round);
	add_case(st, "test_mlog_quorum_set_follows_unregistration",
	         test_mlog_quorum_set_follows_unregistration);
	add_case(st, "test_mlog_lift_rule_refuses_bad_vouching", test_mlog_lift_rule_refuses_bad_vouching);
	add_case(st, "test_mlog_lift_takes_over_and_resyncs_all",
	         test_mlog_lift_takes_over_and_resyncs_all);
	return check_run(st);
}
