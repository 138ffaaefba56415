/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the cluster property table (daemon/props.c) and of the key
 * rule it relies on (lib/names.c). Request bodies come from peers, so bad
 * bodies come first and must leave the table exactly as it was, even when
 * only the last pair of a batch is wrong; then set, overwrite, unset,
 * ordering and the snapshot encoding. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkspace/blkspace.h>

#include "check-util.h"
#include "props.h"

#define KEY_MAX BLKSPACE_PROPERTY_KEY_MAX
#define VALUE_MAX BLKSPACE_PROPERTY_VALUE_MAX
#define BATCH_MAX BLKSPACE_PROPERTY_BATCH_MAX

static struct props t;
static struct wbuf w;

static void set_one(const char *key, const char *value)
{
	struct wbuf b;
	wbuf_init(&b);
	props_encode_request(&b, &key, &value, 1);
	ck_assert_int_eq(props_apply(&t, b.data, b.len, 1), 0);
	wbuf_done(&b);
}

static void setup(void)
{
	props_init(&t);
	wbuf_init(&w);
	set_one("existing", "old");
	set_one("other", "x");
}

static void teardown(void)
{
	props_done(&t);
	wbuf_done(&w);
}

/* Apply w to t: it must fail and leave t unchanged. Returns the error. */
static int apply_rejected(int with_values)
{
	uint64_t before = props_digest(&t);
	size_t n = t.n;
	int rc = props_apply(&t, w.data, w.len, with_values);
	ck_assert_int_lt(rc, 0);
	ck_assert_uint_eq(t.n, n);
	ck_assert_uint_eq(props_digest(&t), before);
	ck_assert_str_eq(props_get(&t, "existing")->value, "old");
	return rc;
}

static void assert_einval_or_ebadmsg(int rc) { ck_assert(rc == -EINVAL || rc == -EBADMSG); }

/* A string with a length that need not match its bytes. */
static void put_raw_str(uint16_t len, const void *bytes, size_t n)
{
	wbuf_put_u16(&w, len);
	wbuf_put_bytes(&w, bytes, n);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_props_apply_rejects_bad_count)
{
	props_encode_request(&w, NULL, NULL, 0);
	ck_assert_int_eq(apply_rejected(1), -EINVAL);
	ck_assert_int_eq(apply_rejected(0), -EINVAL);
	wbuf_reset(&w);
	const char *keys[BATCH_MAX + 1], *values[BATCH_MAX + 1];
	for (size_t i = 0; i < BATCH_MAX + 1; i++) {
		keys[i] = "existing";
		values[i] = "new";
	}
	props_encode_request(&w, keys, values, BATCH_MAX + 1);
	ck_assert_int_eq(apply_rejected(1), -EINVAL);
	wbuf_reset(&w);
	wbuf_put_u16(&w, UINT16_MAX);
	ck_assert_int_eq(apply_rejected(0), -EINVAL);
	wbuf_reset(&w);
	props_encode_request(&w, keys, values, BATCH_MAX); /* the largest batch is fine */
	ck_assert_int_eq(props_apply(&t, w.data, w.len, 1), 0);
	ck_assert_uint_eq(props_get(&t, "existing")->sets, 1 + BATCH_MAX);
}
END_TEST

START_TEST(test_props_apply_rejects_bad_keys)
{
	static const char *const bad[] = { "", "9lives", "_x", "has space", "a/b", "a=b", "caf\xc3\xa9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *value = "v";
		wbuf_reset(&w);
		props_encode_request(&w, &bad[i], &value, 1);
		ck_assert_int_eq(apply_rejected(1), -EINVAL);
		wbuf_reset(&w);
		props_encode_request(&w, &bad[i], NULL, 1);
		ck_assert_int_eq(apply_rejected(0), -EINVAL);
	}
}
END_TEST

START_TEST(test_props_apply_rejects_long_key)
{
	char *key = repeat('k', KEY_MAX + 1);
	const char *value = "v";
	props_encode_request(&w, (const char *const *)&key, &value, 1);
	assert_einval_or_ebadmsg(apply_rejected(1));
	wbuf_reset(&w);
	props_encode_request(&w, (const char *const *)&key, NULL, 1);
	assert_einval_or_ebadmsg(apply_rejected(0));
	free(key);
}
END_TEST

START_TEST(test_props_apply_rejects_long_value)
{
	char *value = repeat('v', VALUE_MAX + 1);
	const char *key = "existing";
	props_encode_request(&w, &key, (const char *const *)&value, 1);
	ck_assert_int_eq(apply_rejected(1), -EBADMSG);
	wbuf_reset(&w);
	value[VALUE_MAX] = '\0'; /* the longest value is fine */
	props_encode_request(&w, &key, (const char *const *)&value, 1);
	ck_assert_int_eq(props_apply(&t, w.data, w.len, 1), 0);
	ck_assert_str_eq(props_get(&t, "existing")->value, value);
	free(value);
}
END_TEST

START_TEST(test_props_apply_rejects_truncated)
{
	ck_assert_int_lt(props_apply(&t, NULL, 0, 1), 0);
	const char *keys[] = { "a", "b" }, *values[] = { "1", "2" };
	props_encode_request(&w, keys, values, 2);
	size_t full = w.len;
	for (w.len = 0; w.len < full; w.len++)
		assert_einval_or_ebadmsg(apply_rejected(1));
	wbuf_reset(&w);
	const char *letters[] = { "x", "y" }; /* values that would pass as keys */
	props_encode_request(&w, keys, letters, 2); /* a set body read as unset: extra bytes */
	ck_assert_int_eq(apply_rejected(0), -EBADMSG);
	wbuf_reset(&w);
	props_encode_request(&w, keys, NULL, 2); /* an unset body read as set lacks values */
	ck_assert_int_eq(apply_rejected(1), -EBADMSG);
	wbuf_reset(&w);
	wbuf_put_u16(&w, 1);
	put_raw_str(3, "a\0b", 3); /* embedded NUL */
	ck_assert_int_eq(apply_rejected(0), -EBADMSG);
}
END_TEST

START_TEST(test_props_apply_rejects_trailing)
{
	const char *key = "existing", *value = "new";
	props_encode_request(&w, &key, &value, 1);
	wbuf_put_u8(&w, 0);
	ck_assert_int_eq(apply_rejected(1), -EBADMSG);
	wbuf_reset(&w);
	props_encode_request(&w, &key, NULL, 1);
	wbuf_put_u8(&w, 0);
	ck_assert_int_eq(apply_rejected(0), -EBADMSG);
}
END_TEST

START_TEST(test_props_apply_all_or_nothing)
{
	const char *keys[] = { "existing", "fresh", "zz", "bad key" };
	const char *values[] = { "new", "1", "2", "3" };
	props_encode_request(&w, keys, values, 4);
	ck_assert_int_eq(apply_rejected(1), -EINVAL);
	ck_assert_ptr_null(props_get(&t, "fresh"));
	wbuf_reset(&w);
	props_encode_request(&w, keys, NULL, 4);
	ck_assert_int_eq(apply_rejected(0), -EINVAL);
	ck_assert_ptr_nonnull(props_get(&t, "other"));
	wbuf_reset(&w);
	char *long_value = repeat('v', VALUE_MAX + 1);
	values[3] = long_value; /* now the last value is wrong */
	keys[3] = "fine";
	props_encode_request(&w, keys, values, 4);
	ck_assert_int_eq(apply_rejected(1), -EBADMSG);
	ck_assert_ptr_null(props_get(&t, "zz"));
	free(long_value);
	wbuf_reset(&w);
	values[3] = "3";
	props_encode_request(&w, keys, values, 4);
	w.len--; /* the last value cut short */
	ck_assert_int_eq(apply_rejected(1), -EBADMSG);
}
END_TEST

START_TEST(test_props_set)
{
	const char *keys[] = { "alpha", "beta.x" }, *values[] = { "1", "" };
	props_encode_request(&w, keys, values, 2);
	ck_assert_int_eq(props_apply(&t, w.data, w.len, 1), 0);
	ck_assert_uint_eq(t.n, 4);
	const struct prop *p = props_get(&t, "alpha");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->value, "1");
	ck_assert_uint_eq(p->sets, 1);
	ck_assert_str_eq(props_get(&t, "beta.x")->value, "");
	ck_assert_ptr_null(props_get(&t, "alph"));
	ck_assert_ptr_null(props_get(&t, "gamma"));
}
END_TEST

START_TEST(test_props_overwrite)
{
	set_one("existing", "new");
	const struct prop *p = props_get(&t, "existing");
	ck_assert_str_eq(p->value, "new");
	ck_assert_uint_eq(p->sets, 2);
	ck_assert_uint_eq(t.n, 2);
	const char *keys[] = { "existing", "existing" }, *values[] = { "a", "b" };
	props_encode_request(&w, keys, values, 2); /* the later pair wins */
	ck_assert_int_eq(props_apply(&t, w.data, w.len, 1), 0);
	p = props_get(&t, "existing");
	ck_assert_str_eq(p->value, "b");
	ck_assert_uint_eq(p->sets, 4);
}
END_TEST

START_TEST(test_props_unset)
{
	const char *keys[] = { "existing", "missing" };
	props_encode_request(&w, keys, NULL, 2);
	ck_assert_int_eq(props_apply(&t, w.data, w.len, 0), 0);
	ck_assert_ptr_null(props_get(&t, "existing"));
	ck_assert_ptr_nonnull(props_get(&t, "other"));
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(props_apply(&t, w.data, w.len, 0), 0); /* again: nothing to do */
	ck_assert_uint_eq(t.n, 1);
	set_one("existing", "back"); /* a re-created key counts from 1 */
	ck_assert_uint_eq(props_get(&t, "existing")->sets, 1);
}
END_TEST

START_TEST(test_props_keys_sorted)
{
	static const char *const keys[] = { "m", "B", "zeta", "a", "a.b", "Z-1", "a-b", "mm" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		set_one(keys[i], "v");
	ck_assert_uint_eq(t.n, 2 + sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 1; i < t.n; i++)
		ck_assert_int_lt(strcmp(t.items[i - 1].key, t.items[i].key), 0);
	ck_assert_str_eq(t.items[0].key, "B"); /* byte order, not locale order */
}
END_TEST

START_TEST(test_props_decode_rejects_bad_tables)
{
	static const char *const cases[][2] = {
		{ "b", "a" }, /* unsorted */
		{ "a", "a" }, /* duplicate */
		{ "a", "9" }, /* invalid key */
		{ "a", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wbuf_reset(&w);
		wbuf_put_u32(&w, 2);
		for (int k = 0; k < 2; k++) {
			wbuf_put_str(&w, cases[i][k]);
			wbuf_put_str(&w, "v");
			wbuf_put_u32(&w, 1);
		}
		struct props d;
		struct rbuf r;
		rbuf_init(&r, w.data, w.len);
		ck_assert_int_eq(props_decode(&d, &r), -EBADMSG);
		ck_assert_uint_eq(d.n, 0);
		props_done(&d);
	}
}
END_TEST

START_TEST(test_props_decode_rejects_truncated)
{
	props_encode(&t, &w);
	for (size_t len = 0; len < w.len; len++) {
		struct props d;
		struct rbuf r;
		rbuf_init(&r, w.data, len);
		ck_assert_int_eq(props_decode(&d, &r), -EBADMSG);
		props_done(&d);
	}
	wbuf_patch_u32(&w, 0, UINT32_MAX); /* a count the input cannot hold */
	struct props d;
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(props_decode(&d, &r), -EBADMSG);
	props_done(&d);
}
END_TEST

START_TEST(test_props_round_trip)
{
	set_one("existing", "newer");
	set_one("Upper", "with spaces and / slashes");
	char *long_value = repeat('q', VALUE_MAX);
	set_one("long", long_value);
	free(long_value);
	props_encode(&t, &w);
	ck_assert_int_eq(wbuf_error(&w), 0);
	struct props d;
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(props_decode(&d, &r), 0);
	ck_assert_uint_eq(rbuf_left(&r), 0);
	ck_assert_uint_eq(d.n, t.n);
	ck_assert_uint_eq(props_digest(&d), props_digest(&t));
	ck_assert_uint_eq(props_get(&d, "existing")->sets, 2);
	ck_assert_str_eq(props_get(&d, "Upper")->value, "with spaces and / slashes");
	props_done(&d);
	set_one("other", "y"); /* the digest follows the content */
	wbuf_reset(&w);
	props_encode(&t, &w);
	rbuf_init(&r, w.data, w.len);
	ck_assert_int_eq(props_decode(&d, &r), 0);
	ck_assert_uint_eq(props_digest(&d), props_digest(&t));
	props_done(&d);
}
END_TEST

START_TEST(test_props_key_is_valid)
{
	ck_assert_int_eq(blkspace_property_key_is_valid(NULL), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid(""), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("1abc"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("-abc"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid(".abc"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("a b"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("a/b"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("a\tb"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("caf\xc3\xa9"), 0);
	ck_assert_int_eq(blkspace_property_key_is_valid("a"), 1);
	ck_assert_int_eq(blkspace_property_key_is_valid("Z"), 1);
	ck_assert_int_eq(blkspace_property_key_is_valid("a0_.-Z9"), 1);
	char *key = repeat('k', KEY_MAX);
	ck_assert_int_eq(blkspace_property_key_is_valid(key), 1);
	free(key);
	key = repeat('k', KEY_MAX + 1);
	ck_assert_int_eq(blkspace_property_key_is_valid(key), 0);
	free(key);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("props");
	add_case(s, "test_props_apply_rejects_bad_count", test_props_apply_rejects_bad_count);
	add_case(s, "test_props_apply_rejects_bad_keys", test_props_apply_rejects_bad_keys);
	add_case(s, "test_props_apply_rejects_long_key", test_props_apply_rejects_long_key);
	add_case(s, "test_props_apply_rejects_long_value", test_props_apply_rejects_long_value);
	add_case(s, "test_props_apply_rejects_truncated", test_props_apply_rejects_truncated);
	add_case(s, "test_props_apply_rejects_trailing", test_props_apply_rejects_trailing);
	add_case(s, "test_props_apply_all_or_nothing", test_props_apply_all_or_nothing);
	add_case(s, "test_props_set", test_props_set);
	add_case(s, "test_props_overwrite", test_props_overwrite);
	add_case(s, "test_props_unset", test_props_unset);
	add_case(s, "test_props_keys_sorted", test_props_keys_sorted);
	add_case(s, "test_props_decode_rejects_bad_tables", test_props_decode_rejects_bad_tables);
	add_case(s, "test_props_decode_rejects_truncated", test_props_decode_rejects_truncated);
	add_case(s, "test_props_round_trip", test_props_round_trip);
	add_case(s, "test_props_key_is_valid", test_props_key_is_valid);
	return check_run(s);
}
