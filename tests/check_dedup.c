/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the applied-request table (daemon/dedup.c). Its encoding
 * arrives in snapshots from peers and from disk, so malformed encodings come
 * first (and must leave the destination untouched); then the verdicts, the
 * stored results and the round trip through encode/decode. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-util.h"
#include "dedup.h"

static struct dedup t, dst;
static struct wbuf w;

static void setup(void)
{
	dedup_init(&t);
	dedup_init(&dst);
	wbuf_init(&w);
}

static void teardown(void)
{
	dedup_done(&t);
	dedup_done(&dst);
	wbuf_done(&w);
}

static void record(uint32_t node, uint32_t inc, uint64_t rid)
{
	int32_t result = (int32_t)(rid * 10);
	ck_assert_int_eq(dedup_record(&t, node, inc, rid, result, &rid, sizeof(rid)), 0);
}

/* An entry as dedup_encode() writes it, with a reply of reply_len bytes for
 * each applied id, so a test can make exactly one field wrong. */
static void put_entry(uint32_t node, uint64_t last_rid, uint64_t applied, uint8_t reply_len)
{
	static const uint8_t reply[256];
	wbuf_put_u32(&w, node);
	wbuf_put_u32(&w, 1);
	wbuf_put_u64(&w, last_rid);
	wbuf_put_u64(&w, applied);
	for (int k = DEDUP_RING - 1; k >= 0; k--) {
		if (!(applied >> k & 1))
			continue;
		wbuf_put_i32(&w, -k);
		wbuf_put_u8(&w, reply_len);
		wbuf_put_bytes(&w, reply, reply_len);
	}
}

/* Decode len bytes of w into dst, which holds one entry: it must fail and
 * leave dst as it was. */
static void assert_decode_fails_len(size_t len)
{
	if (dst.n == 0)
		ck_assert_int_eq(dedup_record(&dst, 77, 1, 5, 0, NULL, 0), 0);
	uint64_t before = dedup_digest(&dst);
	struct rbuf r;
	rbuf_init(&r, w.data, len);
	ck_assert_int_lt(dedup_decode(&dst, &r), 0);
	ck_assert_uint_eq(dst.n, 1);
	ck_assert_uint_eq(dedup_digest(&dst), before);
	ck_assert_int_eq(dedup_check(&dst, 77, 1, 5), DEDUP_DUPLICATE);
}

static void assert_decode_fails(void) { assert_decode_fails_len(w.len); }

START_TEST(test_dedup_decode_rejects_truncated)
{
	record(1, 1, 3);
	record(1, 1, 1);
	record(2, 4, 100);
	dedup_encode(&t, &w);
	for (size_t len = 0; len < w.len; len++)
		assert_decode_fails_len(len);
}
END_TEST

START_TEST(test_dedup_decode_rejects_unsorted)
{
	wbuf_put_u32(&w, 2);
	put_entry(5, 1, 1, 0);
	put_entry(3, 1, 1, 0);
	assert_decode_fails();
	wbuf_reset(&w);
	wbuf_put_u32(&w, 2);
	put_entry(3, 1, 1, 0);
	put_entry(3, 2, 1, 0);
	assert_decode_fails();
}
END_TEST

START_TEST(test_dedup_decode_rejects_ids_below_one)
{
	wbuf_put_u32(&w, 1);
	put_entry(1, 0, 1, 0); /* id 0 applied */
	assert_decode_fails();
	wbuf_reset(&w);
	wbuf_put_u32(&w, 1);
	put_entry(1, 3, 0x9, 0); /* ids 3 and 0 */
	assert_decode_fails();
	wbuf_reset(&w);
	wbuf_put_u32(&w, 1);
	put_entry(1, 63, UINT64_C(1) << 63, 0); /* id 0 at the far end of the window */
	assert_decode_fails();
	wbuf_reset(&w);
	wbuf_put_u32(&w, 1);
	put_entry(1, 64, UINT64_C(1) << 63, 0); /* id 1: fine */
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(dedup_decode(&dst, &r), 0);
	ck_assert_ptr_nonnull(dedup_find(&dst, 1, 1, 1));
}
END_TEST

START_TEST(test_dedup_decode_rejects_long_reply)
{
	wbuf_put_u32(&w, 1);
	put_entry(1, 2, 0x1, DOMAIN_REPLY_MAX + 1);
	assert_decode_fails();
	wbuf_reset(&w);
	wbuf_put_u32(&w, 1);
	put_entry(1, 2, 0x1, DOMAIN_REPLY_MAX);
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(dedup_decode(&dst, &r), 0);
	ck_assert_uint_eq(dedup_find(&dst, 1, 1, 2)->reply_len, DOMAIN_REPLY_MAX);
}
END_TEST

START_TEST(test_dedup_decode_rejects_huge_count)
{
	wbuf_put_u32(&w, 2); /* room for one entry only */
	put_entry(1, 1, 0, 0);
	assert_decode_fails();
	wbuf_reset(&w);
	wbuf_put_u32(&w, UINT32_MAX);
	put_entry(1, 1, 0, 0);
	assert_decode_fails();
}
END_TEST

START_TEST(test_dedup_verdicts_new_duplicate)
{
	ck_assert_int_eq(dedup_check(&t, 1, 1, 1), DEDUP_NEW);
	record(1, 1, 1);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 1), DEDUP_DUPLICATE);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 2), DEDUP_NEW);
	ck_assert_int_eq(dedup_check(&t, 2, 1, 1), DEDUP_NEW); /* another origin */
}
END_TEST

START_TEST(test_dedup_verdicts_incarnation)
{
	record(1, 5, 10);
	ck_assert_int_eq(dedup_check(&t, 1, 4, 10), DEDUP_STALE);
	ck_assert_int_eq(dedup_check(&t, 1, 4, 11), DEDUP_STALE);
	ck_assert_int_eq(dedup_check(&t, 1, 6, 10), DEDUP_NEW);
	record(1, 6, 1); /* a newer incarnation starts over */
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.entries[0].incarnation, 6);
	ck_assert_uint_eq(t.entries[0].last_rid, 1);
	ck_assert_int_eq(dedup_check(&t, 1, 6, 1), DEDUP_DUPLICATE);
	ck_assert_int_eq(dedup_check(&t, 1, 6, 10), DEDUP_NEW);
	ck_assert_int_eq(dedup_check(&t, 1, 5, 10), DEDUP_STALE);
	ck_assert_ptr_null(dedup_find(&t, 1, 5, 10));
}
END_TEST

START_TEST(test_dedup_out_of_order_ids)
{
	record(1, 1, 5);
	record(1, 1, 3);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 3), DEDUP_DUPLICATE);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 4), DEDUP_NEW);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 5), DEDUP_DUPLICATE);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 6), DEDUP_NEW);
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 4));
	record(1, 1, 4);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 4), DEDUP_DUPLICATE);
	ck_assert_uint_eq(t.entries[0].last_rid, 5);
	ck_assert_int_eq(dedup_find(&t, 1, 1, 3)->result, 30);
}
END_TEST

START_TEST(test_dedup_far_below_window)
{
	record(1, 1, 100);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 36), DEDUP_DUPLICATE); /* 64 below */
	ck_assert_int_eq(dedup_check(&t, 1, 1, 1), DEDUP_DUPLICATE);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 37), DEDUP_NEW); /* oldest in window */
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 36));
	record(1, 1, 20); /* settled long ago: nothing to keep */
	record(1, 1, 36); /* just below: must not take the ring slot of 100 */
	ck_assert_uint_eq(t.entries[0].last_rid, 100);
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 20));
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 36));
	ck_assert_int_eq(dedup_find(&t, 1, 1, 100)->result, 1000);
	record(1, 1, 37);
	ck_assert_int_eq(dedup_check(&t, 1, 1, 37), DEDUP_DUPLICATE);
}
END_TEST

START_TEST(test_dedup_find_results)
{
	const char reply[] = "answer";
	ck_assert_int_eq(dedup_record(&t, 3, 2, 7, -22, reply, sizeof(reply)), 0);
	const struct dedup_result *r = dedup_find(&t, 3, 2, 7);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->rid, 7);
	ck_assert_int_eq(r->result, -22);
	ck_assert_uint_eq(r->reply_len, sizeof(reply));
	ck_assert_mem_eq(r->reply, reply, sizeof(reply));
	ck_assert_ptr_null(dedup_find(&t, 4, 2, 7)); /* unknown origin */
	ck_assert_ptr_null(dedup_find(&t, 3, 1, 7)); /* other incarnation */
	ck_assert_ptr_null(dedup_find(&t, 3, 2, 6)); /* not applied */
	ck_assert_ptr_null(dedup_find(&t, 3, 2, 8)); /* not yet */
}
END_TEST

START_TEST(test_dedup_find_evicted)
{
	record(1, 1, 1);
	record(1, 1, 64);
	ck_assert_ptr_nonnull(dedup_find(&t, 1, 1, 1)); /* still in the window */
	ck_assert_int_eq(dedup_find(&t, 1, 1, 64)->result, 640);
	record(1, 1, 65); /* same ring slot as 1 */
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 1));
	ck_assert_int_eq(dedup_find(&t, 1, 1, 65)->result, 650);
	record(1, 1, 1000); /* jump past the whole window */
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 64));
	ck_assert_ptr_null(dedup_find(&t, 1, 1, 65));
	ck_assert_int_eq(dedup_check(&t, 1, 1, 999), DEDUP_NEW);
}
END_TEST

START_TEST(test_dedup_truncates_long_reply)
{
	uint8_t reply[DOMAIN_REPLY_MAX + 10];
	for (size_t i = 0; i < sizeof(reply); i++)
		reply[i] = (uint8_t)i;
	ck_assert_int_eq(dedup_record(&t, 1, 1, 1, 0, reply, sizeof(reply)), 0);
	const struct dedup_result *r = dedup_find(&t, 1, 1, 1);
	ck_assert_uint_eq(r->reply_len, DOMAIN_REPLY_MAX);
	ck_assert_mem_eq(r->reply, reply, DOMAIN_REPLY_MAX);
}
END_TEST

START_TEST(test_dedup_entries_sorted)
{
	static const uint32_t nodes[] = { 5, 1, 9, 3, 2, 8, 4 };
	for (size_t i = 0; i < 7; i++)
		record(nodes[i], 1, 1);
	record(3, 1, 2); /* an existing origin adds no entry */
	ck_assert_uint_eq(t.n, 7);
	for (size_t i = 1; i < t.n; i++)
		ck_assert_uint_lt(t.entries[i - 1].nodeid, t.entries[i].nodeid);
	for (size_t i = 0; i < 7; i++)
		ck_assert_int_eq(dedup_check(&t, nodes[i], 1, 1), DEDUP_DUPLICATE);
}
END_TEST

START_TEST(test_dedup_round_trip)
{
	record(9, 3, 1);
	record(9, 3, 64);
	record(9, 3, 30);
	record(2, 1, 500);
	record(2, 1, 437);
	record(7, UINT32_MAX, UINT64_MAX);
	ck_assert_int_eq(dedup_record(&t, 4, 1, 2, -5, NULL, 0), 0);
	ck_assert_int_eq(dedup_record(&dst, 100, 1, 1, 0, NULL, 0), 0); /* replaced */
	dedup_encode(&t, &w);
	ck_assert_int_eq(wbuf_error(&w), 0);
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(dedup_decode(&dst, &r), 0);
	ck_assert_uint_eq(rbuf_left(&r), 0);
	ck_assert_uint_eq(dedup_digest(&dst), dedup_digest(&t));
	ck_assert_uint_eq(dst.n, 4);
	ck_assert_int_eq(dedup_check(&dst, 100, 1, 1), DEDUP_NEW);
	ck_assert_int_eq(dedup_check(&dst, 9, 3, 30), DEDUP_DUPLICATE);
	ck_assert_int_eq(dedup_check(&dst, 9, 3, 31), DEDUP_NEW);
	ck_assert_int_eq(dedup_check(&dst, 9, 2, 64), DEDUP_STALE);
	ck_assert_int_eq(dedup_find(&dst, 2, 1, 437)->result, 4370);
	uint64_t rid = 437;
	ck_assert_mem_eq(dedup_find(&dst, 2, 1, 437)->reply, &rid, sizeof(rid));
	ck_assert_int_eq(dedup_find(&dst, 4, 1, 2)->result, -5);
	ck_assert_int_eq(dedup_check(&dst, 7, UINT32_MAX, UINT64_MAX), DEDUP_DUPLICATE);
}
END_TEST

START_TEST(test_dedup_round_trip_empty)
{
	record(1, 1, 1);
	dedup_encode(&dst, &w); /* dst is empty */
	ck_assert_uint_eq(w.len, 4);
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(dedup_decode(&t, &r), 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(dedup_digest(&t), dedup_digest(&dst));
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("dedup");
	add_case(s, "test_dedup_decode_rejects_truncated", test_dedup_decode_rejects_truncated);
	add_case(s, "test_dedup_decode_rejects_unsorted", test_dedup_decode_rejects_unsorted);
	add_case(s, "test_dedup_decode_rejects_ids_below_one", test_dedup_decode_rejects_ids_below_one);
	add_case(s, "test_dedup_decode_rejects_long_reply", test_dedup_decode_rejects_long_reply);
	add_case(s, "test_dedup_decode_rejects_huge_count", test_dedup_decode_rejects_huge_count);
	add_case(s, "test_dedup_verdicts_new_duplicate", test_dedup_verdicts_new_duplicate);
	add_case(s, "test_dedup_verdicts_incarnation", test_dedup_verdicts_incarnation);
	add_case(s, "test_dedup_out_of_order_ids", test_dedup_out_of_order_ids);
	add_case(s, "test_dedup_far_below_window", test_dedup_far_below_window);
	add_case(s, "test_dedup_find_results", test_dedup_find_results);
	add_case(s, "test_dedup_find_evicted", test_dedup_find_evicted);
	add_case(s, "test_dedup_truncates_long_reply", test_dedup_truncates_long_reply);
	add_case(s, "test_dedup_entries_sorted", test_dedup_entries_sorted);
	add_case(s, "test_dedup_round_trip", test_dedup_round_trip);
	add_case(s, "test_dedup_round_trip_empty", test_dedup_round_trip_empty);
	return check_run(s);
}
