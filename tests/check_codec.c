/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the little-endian codec (lib/codec.c). Readers face peer and
 * disk input, so malformed input comes first: truncated buffers, strings that
 * do not fit or hold a NUL, blobs longer than the buffer, oversized writes;
 * then round trips at boundary values and the two checksums. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-util.h"
#include "codec.h"

static struct wbuf w;
static struct rbuf r;

static void setup(void) { wbuf_init(&w); }

static void teardown(void) { wbuf_done(&w); }

static void read_w(void) { rbuf_init(&r, w.data, w.len); }

/* After an error every getter returns zero and the error stays. */
static void assert_latched(void)
{
	ck_assert_int_eq(rbuf_error(&r), -EBADMSG);
	ck_assert_uint_eq(rbuf_left(&r), 0);
	ck_assert_uint_eq(rbuf_get_u8(&r), 0);
	ck_assert_uint_eq(rbuf_get_u64(&r), 0);
	ck_assert_int_eq(rbuf_error(&r), -EBADMSG);
}

START_TEST(test_codec_truncated_integers_latch)
{
	static const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const size_t widths[] = { 1, 2, 4, 8 };
	for (size_t i = 0; i < 4; i++) {
		rbuf_init(&r, bytes, widths[i] - 1);
		uint64_t v = widths[i] == 1 ? rbuf_get_u8(&r)
		             : widths[i] == 2 ? rbuf_get_u16(&r)
		             : widths[i] == 4 ? rbuf_get_u32(&r)
		                              : rbuf_get_u64(&r);
		ck_assert_uint_eq(v, 0);
		assert_latched();
	}
	rbuf_init(&r, bytes, 3);
	ck_assert_int_eq(rbuf_get_i32(&r), 0);
	assert_latched();
}
END_TEST

START_TEST(test_codec_truncated_bytes_latch)
{
	static const uint8_t bytes[4] = { 1, 2, 3, 4 };
	rbuf_init(&r, bytes, sizeof(bytes));
	ck_assert_ptr_null(rbuf_get_bytes(&r, 5));
	assert_latched();
	/* even a read that would have fit fails once latched */
	ck_assert_ptr_null(rbuf_get_bytes(&r, 0));
	rbuf_init(&r, bytes, sizeof(bytes));
	ck_assert_ptr_null(rbuf_get_bytes(&r, SIZE_MAX));
	assert_latched();
}
END_TEST

START_TEST(test_codec_truncated_string_latches)
{
	char out[16] = "untouched";
	wbuf_put_u8(&w, 3); /* half a length */
	read_w();
	rbuf_get_str(&r, out, sizeof(out));
	ck_assert_str_eq(out, "");
	assert_latched();
	wbuf_reset(&w);
	wbuf_put_u16(&w, 5); /* five bytes announced, three present */
	wbuf_put_bytes(&w, "abc", 3);
	read_w();
	strcpy(out, "untouched");
	rbuf_get_str(&r, out, sizeof(out));
	ck_assert_str_eq(out, "");
	assert_latched();
}
END_TEST

START_TEST(test_codec_string_too_long_for_output)
{
	char out[4] = "xyz";
	wbuf_put_str(&w, "abcd"); /* 4 bytes + NUL need 5 */
	read_w();
	rbuf_get_str(&r, out, sizeof(out));
	ck_assert_str_eq(out, "");
	assert_latched();
	wbuf_reset(&w);
	wbuf_put_str(&w, "abc"); /* exactly fits */
	read_w();
	rbuf_get_str(&r, out, sizeof(out));
	ck_assert_int_eq(rbuf_error(&r), 0);
	ck_assert_str_eq(out, "abc");
	read_w();
	rbuf_get_str(&r, out, 0); /* no room at all */
	ck_assert_int_eq(rbuf_error(&r), -EBADMSG);
}
END_TEST

START_TEST(test_codec_string_embedded_nul)
{
	char out[16];
	wbuf_put_u16(&w, 3);
	wbuf_put_bytes(&w, "a\0b", 3);
	wbuf_put_u32(&w, 7);
	read_w();
	rbuf_get_str(&r, out, sizeof(out));
	ck_assert_str_eq(out, "");
	assert_latched();
}
END_TEST

START_TEST(test_codec_blob_longer_than_buffer)
{
	size_t n = 99;
	wbuf_put_u32(&w, 10);
	wbuf_put_bytes(&w, "123456789", 9);
	read_w();
	ck_assert_ptr_null(rbuf_get_blob(&r, &n));
	ck_assert_uint_eq(n, 0);
	assert_latched();
	wbuf_reset(&w);
	wbuf_put_u32(&w, UINT32_MAX);
	read_w();
	ck_assert_ptr_null(rbuf_get_blob(&r, &n));
	assert_latched();
}
END_TEST

START_TEST(test_codec_expect_end_rejects_trailing)
{
	wbuf_put_u16(&w, 1);
	wbuf_put_u8(&w, 2);
	read_w();
	ck_assert_uint_eq(rbuf_get_u16(&r), 1);
	ck_assert_uint_eq(rbuf_left(&r), 1);
	rbuf_expect_end(&r);
	assert_latched();
	read_w();
	ck_assert_uint_eq(rbuf_get_u16(&r), 1);
	ck_assert_uint_eq(rbuf_get_u8(&r), 2);
	rbuf_expect_end(&r);
	ck_assert_int_eq(rbuf_error(&r), 0);
}
END_TEST

START_TEST(test_codec_put_str_too_long)
{
	size_t n = (size_t)UINT16_MAX + 1;
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, 'a', n);
	s[n] = '\0';
	wbuf_put_u8(&w, 1);
	wbuf_put_str(&w, s);
	ck_assert_int_eq(wbuf_error(&w), -EMSGSIZE);
	ck_assert_uint_eq(w.len, 1); /* nothing of the string written */
	wbuf_put_u32(&w, 5);         /* sticky: later puts do nothing */
	ck_assert_uint_eq(w.len, 1);
	ck_assert_int_eq(wbuf_error(&w), -EMSGSIZE);
	wbuf_reset(&w);
	s[n - 1] = '\0'; /* 65535 bytes: the longest that fits */
	wbuf_put_str(&w, s);
	ck_assert_int_eq(wbuf_error(&w), 0);
	ck_assert_uint_eq(w.len, 2 + (size_t)UINT16_MAX);
	free(s);
}
END_TEST

START_TEST(test_codec_reserve_too_much)
{
	ck_assert_ptr_null(wbuf_reserve(&w, SIZE_MAX));
	ck_assert_int_eq(wbuf_error(&w), -EMSGSIZE);
	ck_assert_ptr_null(wbuf_reserve(&w, 1));
	wbuf_reset(&w);
	ck_assert_int_eq(wbuf_error(&w), 0);
	ck_assert_ptr_nonnull(wbuf_reserve(&w, 1));
}
END_TEST

START_TEST(test_codec_patch_u32)
{
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, 0x11111111);
	wbuf_patch_u32(&w, 0, 0xa1b2c3d4);
	wbuf_patch_u32(&w, 5, 0xdeadbeef); /* would run past the end: ignored */
	ck_assert_uint_eq(w.len, 8);
	ck_assert_uint_eq(le32_read(w.data), 0xa1b2c3d4);
	ck_assert_uint_eq(le32_read(w.data + 4), 0x11111111);
	ck_assert_uint_eq(w.data[0], 0xd4); /* little-endian on the wire */
	wbuf_patch_u32(&w, 4, 7);
	ck_assert_uint_eq(le32_read(w.data + 4), 7);
}
END_TEST

START_TEST(test_codec_steal)
{
	wbuf_put_str(&w, "hello");
	size_t len = 0;
	uint8_t *p = wbuf_steal(&w, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 7);
	ck_assert_mem_eq(p + 2, "hello", 5);
	ck_assert_ptr_null(w.data);
	ck_assert_uint_eq(w.len, 0);
	ck_assert_uint_eq(w.cap, 0);
	wbuf_put_u8(&w, 9); /* the stolen-from buffer is usable again */
	ck_assert_uint_eq(w.len, 1);
	ck_assert_ptr_ne(w.data, p);
	free(p);
}
END_TEST

START_TEST(test_codec_integers_round_trip)
{
	static const uint64_t v64[] = { 0, 1, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX,
		                        UINT64_C(0x0102030405060708) };
	static const int32_t vi[] = { 0, -1, INT32_MIN, INT32_MAX };
	for (size_t i = 0; i < 6; i++) {
		wbuf_put_u8(&w, (uint8_t)v64[i]);
		wbuf_put_u16(&w, (uint16_t)v64[i]);
		wbuf_put_u32(&w, (uint32_t)v64[i]);
		wbuf_put_u64(&w, v64[i]);
	}
	for (size_t i = 0; i < 4; i++)
		wbuf_put_i32(&w, vi[i]);
	ck_assert_int_eq(wbuf_error(&w), 0);
	read_w();
	for (size_t i = 0; i < 6; i++) {
		ck_assert_uint_eq(rbuf_get_u8(&r), (uint8_t)v64[i]);
		ck_assert_uint_eq(rbuf_get_u16(&r), (uint16_t)v64[i]);
		ck_assert_uint_eq(rbuf_get_u32(&r), (uint32_t)v64[i]);
		ck_assert_uint_eq(rbuf_get_u64(&r), v64[i]);
	}
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(rbuf_get_i32(&r), vi[i]);
	rbuf_expect_end(&r);
	ck_assert_int_eq(rbuf_error(&r), 0);
}
END_TEST

START_TEST(test_codec_little_endian_layout)
{
	static const uint8_t expect[] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		                          0x34, 0x12 };
	wbuf_put_u64(&w, UINT64_C(0x0102030405060708));
	wbuf_put_u16(&w, 0x1234);
	ck_assert_uint_eq(w.len, sizeof(expect));
	ck_assert_mem_eq(w.data, expect, sizeof(expect));
}
END_TEST

START_TEST(test_codec_strings_and_blobs_round_trip)
{
	char longest[UINT16_MAX + 1], out[UINT16_MAX + 1];
	memset(longest, 'z', UINT16_MAX);
	longest[UINT16_MAX] = '\0';
	static const uint8_t blob[] = { 0, 1, 0, 255 };
	wbuf_put_str(&w, "");
	wbuf_put_str(&w, longest);
	wbuf_put_blob(&w, NULL, 0);
	wbuf_put_blob(&w, blob, sizeof(blob));
	wbuf_put_str(&w, "x");
	ck_assert_int_eq(wbuf_error(&w), 0);
	read_w();
	rbuf_get_str(&r, out, 1); /* the empty string fits in one byte */
	ck_assert_str_eq(out, "");
	rbuf_get_str(&r, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), UINT16_MAX);
	size_t n = 99;
	ck_assert_ptr_nonnull(rbuf_get_blob(&r, &n)); /* empty, but present */
	ck_assert_uint_eq(n, 0);
	const uint8_t *p = rbuf_get_blob(&r, &n);
	ck_assert_uint_eq(n, sizeof(blob));
	ck_assert_mem_eq(p, blob, sizeof(blob));
	rbuf_get_str(&r, out, 2);
	ck_assert_str_eq(out, "x");
	rbuf_expect_end(&r);
	ck_assert_int_eq(rbuf_error(&r), 0);
}
END_TEST

START_TEST(test_codec_grows_past_initial_capacity)
{
	for (uint32_t i = 0; i < 10000; i++)
		wbuf_put_u32(&w, i);
	ck_assert_int_eq(wbuf_error(&w), 0);
	ck_assert_uint_ge(w.cap, w.len);
	read_w();
	for (uint32_t i = 0; i < 10000; i++)
		ck_assert_uint_eq(rbuf_get_u32(&r), i);
	ck_assert_uint_eq(rbuf_left(&r), 0);
}
END_TEST

START_TEST(test_codec_crc32c_known_values)
{
	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(crc32c(0, NULL, 0), 0);
	/* continuing a CRC over pieces equals one pass */
	uint32_t c = crc32c(0, "1234", 4);
	ck_assert_uint_eq(crc32c(c, "56789", 5), 0xE3069283u);
	uint8_t zeros[32] = { 0 };
	ck_assert_uint_eq(crc32c(0, zeros, sizeof(zeros)), 0x8A9136AAu); /* RFC 3720 B.4 */
}
END_TEST

START_TEST(test_codec_fnv64_known_values)
{
	ck_assert_uint_eq(fnv64(FNV64_INIT, "", 0), FNV64_INIT);
	ck_assert_uint_eq(fnv64(FNV64_INIT, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
	ck_assert_uint_eq(fnv64(FNV64_INIT, "foobar", 6), UINT64_C(0x85944171f73967e8));
	uint64_t h = fnv64(FNV64_INIT, "foo", 3);
	ck_assert_uint_eq(fnv64(h, "bar", 3), UINT64_C(0x85944171f73967e8));
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("codec");
	add_case(s, "test_codec_truncated_integers_latch", test_codec_truncated_integers_latch);
	add_case(s, "test_codec_truncated_bytes_latch", test_codec_truncated_bytes_latch);
	add_case(s, "test_codec_truncated_string_latches", test_codec_truncated_string_latches);
	add_case(s, "test_codec_string_too_long_for_output", test_codec_string_too_long_for_output);
	add_case(s, "test_codec_string_embedded_nul", test_codec_string_embedded_nul);
	add_case(s, "test_codec_blob_longer_than_buffer", test_codec_blob_longer_than_buffer);
	add_case(s, "test_codec_expect_end_rejects_trailing", test_codec_expect_end_rejects_trailing);
	add_case(s, "test_codec_put_str_too_long", test_codec_put_str_too_long);
	add_case(s, "test_codec_reserve_too_much", test_codec_reserve_too_much);
	add_case(s, "test_codec_patch_u32", test_codec_patch_u32);
	add_case(s, "test_codec_steal", test_codec_steal);
	add_case(s, "test_codec_integers_round_trip", test_codec_integers_round_trip);
	add_case(s, "test_codec_little_endian_layout", test_codec_little_endian_layout);
	add_case(s, "test_codec_strings_and_blobs_round_trip",
	         test_codec_strings_and_blobs_round_trip);
	add_case(s, "test_codec_grows_past_initial_capacity", test_codec_grows_past_initial_capacity);
	add_case(s, "test_codec_crc32c_known_values", test_codec_crc32c_known_values);
	add_case(s, "test_codec_fnv64_known_values", test_codec_fnv64_known_values);
	return check_run(s);
}
