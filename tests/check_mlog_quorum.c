/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the mirror log's quorum set (mlog-state.c, mlog.c), on the
 * service alone: a saved state whose set is malformed is refused; the set
 * moves only at membership events, so a registration applied on one side
 * of a partition cannot make both sides quorate; the service asks for a
 * round when the registry moved away from it. */
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
	return check_run(st);
}
