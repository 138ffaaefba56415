/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the property payloads of the IPC protocol (lib/ipc-proto.c).
 * The decoder faces any local process, so bad input comes first: truncated
 * payloads, oversized counts, bad keys, over-long values, trailing bytes;
 * then round trips through the encoder. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkspace/blkspace.h>

#include "check-util.h"
#include "codec.h"
#include "ipc-proto.h"

#define MAX BLKSPACE_PROPERTY_BATCH_MAX

static struct ipc_property *out;
static struct wbuf w;

static void setup(void)
{
	out = calloc(MAX, sizeof(*out));
	ck_assert_ptr_nonnull(out);
	wbuf_init(&w);
}

static void teardown(void)
{
	free(out);
	wbuf_done(&w);
}

static int decode(int with_values) { return ipc_decode_properties(w.data, w.len, with_values, out, MAX); }

/* A string with an explicit length, so it may lie about its content. */
static void put_raw_str(uint16_t len, const void *bytes, size_t n)
{
	wbuf_put_u16(&w, len);
	wbuf_put_bytes(&w, bytes, n);
}

START_TEST(test_ipc_proto_rejects_truncated)
{
	ck_assert_int_eq(ipc_decode_properties(NULL, 0, 1, out, MAX), -EBADMSG);
	wbuf_put_u8(&w, 1); /* half a count */
	ck_assert_int_eq(decode(1), -EBADMSG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, 2); /* two pairs announced, one present */
	wbuf_put_str(&w, "a");
	wbuf_put_str(&w, "1");
	ck_assert_int_eq(decode(1), -EBADMSG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, 1); /* key length beyond the end */
	put_raw_str(10, "abc", 3);
	ck_assert_int_eq(decode(0), -EBADMSG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, 1); /* key without its value */
	wbuf_put_str(&w, "a");
	ck_assert_int_eq(decode(1), -EBADMSG);
}
END_TEST

START_TEST(test_ipc_proto_rejects_bad_counts)
{
	wbuf_put_u16(&w, 0);
	ck_assert_int_eq(decode(1), -EBADMSG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, MAX + 1);
	ck_assert_int_eq(decode(1), -E2BIG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, UINT16_MAX);
	ck_assert_int_eq(decode(0), -E2BIG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, 3); /* three pairs into room for two */
	for (int i = 0; i < 3; i++)
		wbuf_put_str(&w, "k");
	ck_assert_int_eq(ipc_decode_properties(w.data, w.len, 0, out, 2), -E2BIG);
}
END_TEST

START_TEST(test_ipc_proto_rejects_bad_keys)
{
	static const char *const bad[] = { "", "1abc", "_a", "a b", "a/b", "a=b", "\xc3\xa9t\xc3\xa9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wbuf_reset(&w);
		wbuf_put_u16(&w, 1);
		wbuf_put_str(&w, bad[i]);
		ck_assert_msg(decode(0) == -EBADMSG, "key '%s' accepted", bad[i]);
	}
	char longkey[BLKSPACE_PROPERTY_KEY_MAX + 2];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	wbuf_reset(&w);
	wbuf_put_u16(&w, 1);
	wbuf_put_str(&w, longkey);
	ck_assert_int_eq(decode(0), -EBADMSG);
	wbuf_reset(&w); /* a NUL inside the key */
	wbuf_put_u16(&w, 1);
	put_raw_str(3, "a\0b", 3);
	ck_assert_int_eq(decode(0), -EBADMSG);
}
END_TEST

START_TEST(test_ipc_proto_rejects_long_values)
{
	char *value = malloc(BLKSPACE_PROPERTY_VALUE_MAX + 2);
	ck_assert_ptr_nonnull(value);
	memset(value, 'v', BLKSPACE_PROPERTY_VALUE_MAX + 1);
	value[BLKSPACE_PROPERTY_VALUE_MAX + 1] = '\0';
	wbuf_put_u16(&w, 1);
	wbuf_put_str(&w, "key");
	wbuf_put_str(&w, value);
	ck_assert_int_eq(decode(1), -EBADMSG);
	free(value);
	wbuf_reset(&w); /* a NUL inside the value */
	wbuf_put_u16(&w, 1);
	wbuf_put_str(&w, "key");
	put_raw_str(3, "x\0y", 3);
	ck_assert_int_eq(decode(1), -EBADMSG);
}
END_TEST

START_TEST(test_ipc_proto_rejects_trailing_bytes)
{
	wbuf_put_u16(&w, 1);
	wbuf_put_str(&w, "a");
	wbuf_put_str(&w, "1");
	ck_assert_int_eq(decode(1), 1);
	wbuf_put_u8(&w, 0);
	ck_assert_int_eq(decode(1), -EBADMSG);
	/* a set payload read as an unset one leaves its values over */
	wbuf_reset(&w);
	wbuf_put_u16(&w, 1);
	wbuf_put_str(&w, "a");
	wbuf_put_str(&w, "1");
	ck_assert_int_eq(decode(0), -EBADMSG);
}
END_TEST

START_TEST(test_ipc_proto_round_trips_set)
{
	char value[BLKSPACE_PROPERTY_VALUE_MAX + 1];
	memset(value, 'x', BLKSPACE_PROPERTY_VALUE_MAX);
	value[BLKSPACE_PROPERTY_VALUE_MAX] = '\0';
	const char *keys[] = { "a", "B.c-d_e", "empty", "long" };
	const char *values[] = { "1", "with spaces and = signs", "", value };
	ipc_encode_properties(&w, keys, values, 4);
	ck_assert_int_eq(wbuf_error(&w), 0);
	ck_assert_int_eq(decode(1), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(out[i].key, keys[i]);
		ck_assert_str_eq(out[i].value, values[i]);
	}
}
END_TEST

START_TEST(test_ipc_proto_round_trips_unset)
{
	const char *keys[MAX];
	char names[MAX][16];
	for (int i = 0; i < MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "key%d", i);
		keys[i] = names[i];
	}
	ipc_encode_properties(&w, keys, NULL, MAX);
	ck_assert_int_eq(wbuf_error(&w), 0);
	ck_assert_int_eq(decode(0), MAX);
	for (int i = 0; i < MAX; i++) {
		ck_assert_str_eq(out[i].key, keys[i]);
		ck_assert_str_eq(out[i].value, "");
	}
}
END_TEST

START_TEST(test_ipc_proto_round_trips_longest_key)
{
	char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
	memset(key, 'k', BLKSPACE_PROPERTY_KEY_MAX);
	key[BLKSPACE_PROPERTY_KEY_MAX] = '\0';
	const char *keys[] = { key };
	const char *values[] = { "v" };
	ipc_encode_properties(&w, keys, values, 1);
	ck_assert_int_eq(decode(1), 1);
	ck_assert_str_eq(out[0].key, key);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("ipc_proto");
	add_case(s, "test_ipc_proto_rejects_truncated", test_ipc_proto_rejects_truncated);
	add_case(s, "test_ipc_proto_rejects_bad_counts", test_ipc_proto_rejects_bad_counts);
	add_case(s, "test_ipc_proto_rejects_bad_keys", test_ipc_proto_rejects_bad_keys);
	add_case(s, "test_ipc_proto_rejects_long_values", test_ipc_proto_rejects_long_values);
	add_case(s, "test_ipc_proto_rejects_trailing_bytes", test_ipc_proto_rejects_trailing_bytes);
	add_case(s, "test_ipc_proto_round_trips_set", test_ipc_proto_round_trips_set);
	add_case(s, "test_ipc_proto_round_trips_unset", test_ipc_proto_round_trips_unset);
	add_case(s, "test_ipc_proto_round_trips_longest_key", test_ipc_proto_round_trips_longest_key);
	return check_run(s);
}
