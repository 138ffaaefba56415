/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the peer message codec (daemon/wire.c). A peer may send
 * anything, so malformed headers and payloads come first: short messages,
 * bad magic, lying lengths, unknown versions and types, inconsistent SYNC
 * and SNAPSHOT fields; then round trips of every message type. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-util.h"
#include "wire.h"

static struct wbuf w;
static struct wire_header h;
static struct rbuf r;

static void setup(void)
{
	wbuf_init(&w);
	memset(&h, 0, sizeof(h));
}

static void teardown(void) { wbuf_done(&w); }

static const struct wire_header sample_header = {
	.version = WIRE_PROTO_MAX,
	.type = WIRE_STABLE,
	.domain = 0x01020304,
	.origin = 7,
	.incarnation = 3,
	.request_id = UINT64_MAX,
	.stable_epoch = 5,
	.stable_seq = 6,
	.stable_hash = UINT64_C(0x1122334455667788),
};

/* A finished message of the given type and version, no payload. */
static void put_header(uint16_t type, uint16_t version)
{
	struct wire_header hh = sample_header;
	hh.type = type;
	hh.version = version;
	wire_begin(&w, &hh);
	ck_assert_int_eq(wire_finish(&w), 0);
}

static int decode(void) { return wire_decode_header(w.data, w.len, &h, &r); }

/* A payload alone (no header), as the decoders see it after the header. */
static void read_payload(size_t len) { rbuf_init(&r, w.data, len); }

static const struct wire_sync sample_sync = {
	.proto_min = 1, .proto_max = 1, .cluster_size = 3, .sync_id = 9, .view_id = 11,
	.promise = 4, .epoch = 4, .applied = 100, .applied_hash = 12, .n_tail = 0,
};

static const struct wire_snapshot sample_snapshot = {
	.plan_id = 1, .sync_id = 2, .epoch = 3, .seq = 4, .total_len = 10, .offset = 0,
	.total_crc = 5, .data = (const uint8_t *)"0123456789", .data_len = 10,
};

START_TEST(test_wire_header_rejects_short)
{
	put_header(WIRE_STABLE, WIRE_PROTO_MAX);
	ck_assert_uint_eq(w.len, WIRE_HEADER_BYTES);
	ck_assert_int_eq(wire_decode_header(NULL, 0, &h, &r), -EBADMSG);
	ck_assert_int_eq(wire_decode_header(w.data, 0, &h, &r), -EBADMSG);
	ck_assert_int_eq(wire_decode_header(w.data, 1, &h, &r), -EBADMSG);
	ck_assert_int_eq(wire_decode_header(w.data, WIRE_HEADER_BYTES - 1, &h, &r), -EBADMSG);
	ck_assert_int_eq(decode(), 0);
}
END_TEST

START_TEST(test_wire_header_rejects_bad_magic)
{
	put_header(WIRE_STABLE, WIRE_PROTO_MAX);
	w.data[0] ^= 0x01;
	ck_assert_int_eq(decode(), -EBADMSG);
	w.data[0] ^= 0x01;
	w.data[3] = 0;
	ck_assert_int_eq(decode(), -EBADMSG);
}
END_TEST

START_TEST(test_wire_header_rejects_bad_length)
{
	put_header(WIRE_REQUEST, WIRE_PROTO_MAX);
	wbuf_put_u32(&w, 0); /* 4 payload bytes not counted in the length field */
	ck_assert_int_eq(decode(), -EBADMSG);
	wbuf_patch_u32(&w, 8, WIRE_HEADER_BYTES + 8); /* claims more than there is */
	ck_assert_int_eq(decode(), -EBADMSG);
	wbuf_patch_u32(&w, 8, WIRE_HEADER_BYTES - 4); /* claims less than a header */
	ck_assert_int_eq(decode(), -EBADMSG);
	wbuf_patch_u32(&w, 8, WIRE_HEADER_BYTES + 4);
	ck_assert_int_eq(decode(), 0);
	ck_assert_uint_eq(rbuf_left(&r), 4);
}
END_TEST

START_TEST(test_wire_header_rejects_version)
{
	put_header(WIRE_STABLE, 0);
	ck_assert_int_eq(decode(), -EPROTONOSUPPORT);
	wbuf_reset(&w);
	put_header(WIRE_STABLE, WIRE_PROTO_MAX + 1);
	ck_assert_int_eq(decode(), -EPROTONOSUPPORT);
	wbuf_reset(&w);
	put_header(WIRE_STABLE, UINT16_MAX);
	ck_assert_int_eq(decode(), -EPROTONOSUPPORT);
	wbuf_reset(&w);
	put_header(WIRE_STABLE, WIRE_PROTO_MIN);
	ck_assert_int_eq(decode(), 0);
}
END_TEST

START_TEST(test_wire_header_rejects_type)
{
	put_header(0, WIRE_PROTO_MAX);
	ck_assert_int_eq(decode(), -ENOMSG);
	wbuf_reset(&w);
	put_header(WIRE_TYPE_MAX, WIRE_PROTO_MAX);
	ck_assert_int_eq(decode(), -ENOMSG);
	wbuf_reset(&w);
	put_header(UINT16_MAX, WIRE_PROTO_MAX);
	ck_assert_int_eq(decode(), -ENOMSG);
	ck_assert_str_eq(wire_type_name(0), "UNKNOWN");
	ck_assert_str_eq(wire_type_name(WIRE_TYPE_MAX), "UNKNOWN");
	ck_assert_str_eq(wire_type_name(UINT32_MAX), "UNKNOWN");
}
END_TEST

START_TEST(test_wire_request_rejects_malformed)
{
	struct wire_request rq;
	wire_put_request(&w, 1, 2, "abcdef", 6);
	for (size_t len = 0; len < w.len; len++) {
		read_payload(len);
		ck_assert_int_eq(wire_get_request(&r, &rq), -EBADMSG);
	}
	wbuf_put_u8(&w, 0); /* trailing byte */
	read_payload(w.len);
	ck_assert_int_eq(wire_get_request(&r, &rq), -EBADMSG);
}
END_TEST

START_TEST(test_wire_sync_rejects_truncated)
{
	struct wire_sync s;
	uint64_t tail[2] = { 1, 2 };
	struct wire_sync in = sample_sync;
	in.n_tail = 2;
	wire_put_sync(&w, &in, tail, NULL);
	for (size_t len = 0; len < w.len; len++) {
		read_payload(len);
		ck_assert_int_ne(wire_get_sync(&r, &s), 0);
	}
}
END_TEST

START_TEST(test_wire_sync_rejects_tail_mismatch)
{
	struct wire_sync s;
	uint64_t tail[3] = { 1, 2, 3 };
	struct wire_sync in = sample_sync;
	in.n_tail = 2;
	wire_put_sync(&w, &in, tail, NULL);
	wbuf_put_u64(&w, 3); /* one hash more than announced */
	read_payload(w.len);
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
	read_payload(w.len - 8 - 1); /* part of a hash missing */
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
	wbuf_reset(&w);
	in.n_tail = 3;
	wire_put_sync(&w, &in, tail, NULL);
	read_payload(w.len - 8); /* one hash fewer than announced */
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
}
END_TEST

START_TEST(test_wire_sync_rejects_huge_tail)
{
	struct wire_sync s, in = sample_sync;
	size_t n = WIRE_SYNC_MAX_TAIL + 1;
	uint64_t *tail = calloc(n, sizeof(*tail));
	ck_assert_ptr_nonnull(tail);
	in.n_tail = (uint32_t)n;
	wire_put_sync(&w, &in, tail, NULL);
	read_payload(w.len); /* the hashes are all there, but too many */
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
	wbuf_reset(&w);
	in.n_tail = 0;
	wire_put_sync(&w, &in, NULL, NULL);
	wbuf_patch_u32(&w, w.len - 4, UINT32_MAX); /* n_tail as large as it goes */
	read_payload(w.len);
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
	free(tail);
}
END_TEST

START_TEST(test_wire_sync_rejects_inconsistent_fields)
{
	struct wire_sync s, in = sample_sync;
	in.epoch = in.promise + 1;
	wire_put_sync(&w, &in, NULL, NULL);
	read_payload(w.len);
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
	wbuf_reset(&w);
	in = sample_sync;
	in.proto_min = 2;
	in.proto_max = 1;
	wire_put_sync(&w, &in, NULL, NULL);
	read_payload(w.len);
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
	wbuf_reset(&w);
	uint64_t tail[1] = { 0 };
	in = sample_sync;
	in.applied = UINT64_MAX; /* the tail would run past the last seq */
	in.n_tail = 1;
	wire_put_sync(&w, &in, tail, NULL);
	read_payload(w.len);
	ck_assert_int_eq(wire_get_sync(&r, &s), -EBADMSG);
}
END_TEST

START_TEST(test_wire_epoch_ack_rejects_malformed)
{
	struct wire_epoch_ack a, in = { .plan_id = 1, .sync_id = 2, .epoch = 3 };
	wire_put_epoch_ack(&w, &in);
	for (size_t len = 0; len < w.len; len++) {
		read_payload(len);
		ck_assert_int_eq(wire_get_epoch_ack(&r, &a), -EBADMSG);
	}
	wbuf_put_u8(&w, 0);
	read_payload(w.len);
	ck_assert_int_eq(wire_get_epoch_ack(&r, &a), -EBADMSG);
}
END_TEST

START_TEST(test_wire_snapshot_rejects_truncated)
{
	struct wire_snapshot s;
	wire_put_snapshot(&w, &sample_snapshot);
	for (size_t len = 0; len < w.len; len++) {
		read_payload(len);
		ck_assert_int_eq(wire_get_snapshot(&r, &s), -EBADMSG);
	}
	wbuf_put_u8(&w, 0);
	read_payload(w.len);
	ck_assert_int_eq(wire_get_snapshot(&r, &s), -EBADMSG);
}
END_TEST

static int snapshot_with(uint32_t total_len, uint32_t offset, size_t data_len)
{
	static uint8_t data[WIRE_CHUNK_DATA_BYTES + 1];
	struct wire_snapshot s, in = sample_snapshot;
	in.total_len = total_len;
	in.offset = offset;
	in.data = data;
	in.data_len = data_len;
	wbuf_reset(&w);
	wire_put_snapshot(&w, &in);
	read_payload(w.len);
	return wire_get_snapshot(&r, &s);
}

START_TEST(test_wire_snapshot_rejects_bad_ranges)
{
	ck_assert_int_eq(snapshot_with(10, 5, 6), -EBADMSG);  /* data beyond total_len */
	ck_assert_int_eq(snapshot_with(10, 11, 0), -EBADMSG); /* offset beyond total_len */
	ck_assert_int_eq(snapshot_with(UINT32_MAX, UINT32_MAX - 1, 2), -EBADMSG);
	ck_assert_int_eq(snapshot_with(UINT32_MAX, 0, WIRE_CHUNK_DATA_BYTES + 1), -EBADMSG);
	ck_assert_int_eq(snapshot_with(10, 10, 0), 0); /* empty chunk at the very end */
	ck_assert_int_eq(snapshot_with(10, 4, 6), 0);
	ck_assert_int_eq(snapshot_with(UINT32_MAX, 0, WIRE_CHUNK_DATA_BYTES), 0);
}
END_TEST

START_TEST(test_wire_finish_rejects_oversize)
{
	static uint8_t body[WIRE_MAX_MSG_BYTES];
	struct wire_header hh = sample_header;
	hh.type = WIRE_REQUEST;
	wire_begin(&w, &hh);
	size_t fits = WIRE_MAX_MSG_BYTES - WIRE_HEADER_BYTES - 8;
	wire_put_request(&w, 1, 0, body, fits + 1);
	ck_assert_int_eq(wire_finish(&w), -EMSGSIZE);
	wbuf_reset(&w);
	wire_begin(&w, &hh);
	wire_put_request(&w, 1, 0, body, fits);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert_uint_eq(w.len, WIRE_MAX_MSG_BYTES);
	ck_assert_int_eq(decode(), 0);
}
END_TEST

START_TEST(test_wire_header_round_trip)
{
	put_header(WIRE_STABLE, WIRE_PROTO_MAX);
	ck_assert_int_eq(decode(), 0);
	ck_assert_uint_eq(h.version, WIRE_PROTO_MAX);
	ck_assert_uint_eq(h.type, WIRE_STABLE);
	ck_assert_uint_eq(h.length, WIRE_HEADER_BYTES);
	ck_assert_uint_eq(h.domain, sample_header.domain);
	ck_assert_uint_eq(h.origin, sample_header.origin);
	ck_assert_uint_eq(h.incarnation, sample_header.incarnation);
	ck_assert_uint_eq(h.request_id, sample_header.request_id);
	ck_assert_uint_eq(h.stable_epoch, sample_header.stable_epoch);
	ck_assert_uint_eq(h.stable_seq, sample_header.stable_seq);
	ck_assert_uint_eq(h.stable_hash, sample_header.stable_hash);
	ck_assert_uint_eq(rbuf_left(&r), 0);
	ck_assert_str_eq(wire_type_name(WIRE_STABLE), "STABLE");
}
END_TEST

START_TEST(test_wire_request_round_trip)
{
	struct wire_header hh = sample_header;
	hh.type = WIRE_REQUEST;
	wire_begin(&w, &hh);
	wire_put_request(&w, UINT16_MAX, 0x8001, "body", 4);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert_int_eq(decode(), 0);
	ck_assert_uint_eq(h.type, WIRE_REQUEST);
	struct wire_request rq;
	ck_assert_int_eq(wire_get_request(&r, &rq), 0);
	ck_assert_uint_eq(rq.op, UINT16_MAX);
	ck_assert_uint_eq(rq.flags, 0x8001);
	ck_assert_uint_eq(rq.body_len, 4);
	ck_assert_mem_eq(rq.body, "body", 4);
	wbuf_reset(&w); /* an empty body */
	wire_put_request(&w, 0, 0, NULL, 0);
	read_payload(w.len);
	ck_assert_int_eq(wire_get_request(&r, &rq), 0);
	ck_assert_uint_eq(rq.body_len, 0);
}
END_TEST

static void assert_sync_eq(const struct wire_sync *a, const struct wire_sync *b)
{
	ck_assert_uint_eq(a->proto_min, b->proto_min);
	ck_assert_uint_eq(a->proto_max, b->proto_max);
	ck_assert_uint_eq(a->cluster_size, b->cluster_size);
	ck_assert_uint_eq(a->sync_id, b->sync_id);
	ck_assert_uint_eq(a->view_id, b->view_id);
	ck_assert_uint_eq(a->promise, b->promise);
	ck_assert_uint_eq(a->epoch, b->epoch);
	ck_assert_uint_eq(a->applied, b->applied);
	ck_assert_uint_eq(a->applied_hash, b->applied_hash);
	ck_assert_uint_eq(a->n_tail, b->n_tail);
}

START_TEST(test_wire_sync_round_trip)
{
	struct wire_header hh = sample_header;
	hh.type = WIRE_SYNC;
	struct wire_sync s, in = { .proto_min = 1, .proto_max = UINT16_MAX,
		                   .cluster_size = UINT32_MAX, .sync_id = 1,
		                   .view_id = UINT64_MAX, .promise = UINT64_MAX,
		                   .epoch = UINT64_MAX, .applied = 7,
		                   .applied_hash = UINT64_C(0xfedcba9876543210), .n_tail = 3 };
	uint64_t tail[3] = { 0, UINT64_MAX, 42 };
	wire_begin(&w, &hh);
	wire_put_sync(&w, &in, tail, NULL);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert_int_eq(decode(), 0);
	ck_assert_int_eq(wire_get_sync(&r, &s), 0);
	assert_sync_eq(&s, &in);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(rbuf_get_u64(&r), tail[i]);
	rbuf_expect_end(&r);
	ck_assert_int_eq(rbuf_error(&r), 0);
}
END_TEST

START_TEST(test_wire_sync_round_trip_max_tail)
{
	struct wire_header hh = sample_header;
	hh.type = WIRE_SYNC;
	struct wire_sync s, in = sample_sync;
	in.n_tail = WIRE_SYNC_MAX_TAIL;
	uint64_t *tail = calloc(WIRE_SYNC_MAX_TAIL, sizeof(*tail));
	ck_assert_ptr_nonnull(tail);
	tail[WIRE_SYNC_MAX_TAIL - 1] = 99;
	wire_begin(&w, &hh);
	wire_put_sync(&w, &in, tail, NULL);
	ck_assert_int_eq(wire_finish(&w), 0); /* the largest SYNC fits one message */
	ck_assert_int_eq(decode(), 0);
	ck_assert_int_eq(wire_get_sync(&r, &s), 0);
	ck_assert_uint_eq(s.n_tail, WIRE_SYNC_MAX_TAIL);
	ck_assert_uint_eq(rbuf_left(&r), (size_t)WIRE_SYNC_MAX_TAIL * 8);
	free(tail);
}
END_TEST

START_TEST(test_wire_epoch_ack_round_trip)
{
	struct wire_header hh = sample_header;
	hh.type = WIRE_EPOCH_ACK;
	struct wire_epoch_ack a, in = { .plan_id = UINT64_MAX, .sync_id = UINT32_MAX, .epoch = 1 };
	wire_begin(&w, &hh);
	wire_put_epoch_ack(&w, &in);
	ck_assert_int_eq(wire_finish(&w), 0);
	ck_assert_int_eq(decode(), 0);
	ck_assert_int_eq(wire_get_epoch_ack(&r, &a), 0);
	ck_assert_uint_eq(a.plan_id, in.plan_id);
	ck_assert_uint_eq(a.sync_id, in.sync_id);
	ck_assert_uint_eq(a.epoch, in.epoch);
}
END_TEST

START_TEST(test_wire_snapshot_round_trip)
{
	static uint8_t data[WIRE_CHUNK_DATA_BYTES];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	struct wire_header hh = sample_header;
	hh.type = WIRE_SNAPSHOT;
	struct wire_snapshot s, in = { .plan_id = 1, .sync_id = UINT32_MAX, .epoch = 2,
		                       .seq = UINT64_MAX, .total_len = UINT32_MAX,
		                       .offset = UINT32_MAX - WIRE_CHUNK_DATA_BYTES,
		                       .total_crc = 0xabcdef01, .data = data,
		                       .data_len = WIRE_CHUNK_DATA_BYTES };
	wire_begin(&w, &hh);
	wire_put_snapshot(&w, &in);
	ck_assert_int_eq(wire_finish(&w), 0); /* a full chunk fits one message */
	ck_assert_int_eq(decode(), 0);
	ck_assert_int_eq(wire_get_snapshot(&r, &s), 0);
	ck_assert_uint_eq(s.plan_id, in.plan_id);
	ck_assert_uint_eq(s.sync_id, in.sync_id);
	ck_assert_uint_eq(s.epoch, in.epoch);
	ck_assert_uint_eq(s.seq, in.seq);
	ck_assert_uint_eq(s.total_len, in.total_len);
	ck_assert_uint_eq(s.offset, in.offset);
	ck_assert_uint_eq(s.total_crc, in.total_crc);
	ck_assert_uint_eq(s.data_len, in.data_len);
	ck_assert_mem_eq(s.data, data, sizeof(data));
}
END_TEST

START_TEST(test_wire_domain_id_stable)
{
	uint32_t a = wire_domain_id("blkspace");
	ck_assert_uint_eq(wire_domain_id("blkspace"), a);
	ck_assert_uint_ne(wire_domain_id("blkspace-log-1"), a);
	ck_assert_uint_ne(wire_domain_id("blkspace-log-1"), wire_domain_id("blkspace-log-2"));
	uint64_t f = fnv64(FNV64_INIT, "blkspace", 8); /* the documented folding */
	ck_assert_uint_eq(a, (uint32_t)(f ^ (f >> 32)));
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("wire");
	add_case(s, "test_wire_header_rejects_short", test_wire_header_rejects_short);
	add_case(s, "test_wire_header_rejects_bad_magic", test_wire_header_rejects_bad_magic);
	add_case(s, "test_wire_header_rejects_bad_length", test_wire_header_rejects_bad_length);
	add_case(s, "test_wire_header_rejects_version", test_wire_header_rejects_version);
	add_case(s, "test_wire_header_rejects_type", test_wire_header_rejects_type);
	add_case(s, "test_wire_request_rejects_malformed", test_wire_request_rejects_malformed);
	add_case(s, "test_wire_sync_rejects_truncated", test_wire_sync_rejects_truncated);
	add_case(s, "test_wire_sync_rejects_tail_mismatch", test_wire_sync_rejects_tail_mismatch);
	add_case(s, "test_wire_sync_rejects_huge_tail", test_wire_sync_rejects_huge_tail);
	add_case(s, "test_wire_sync_rejects_inconsistent_fields",
	         test_wire_sync_rejects_inconsistent_fields);
	add_case(s, "test_wire_epoch_ack_rejects_malformed", test_wire_epoch_ack_rejects_malformed);
	add_case(s, "test_wire_snapshot_rejects_truncated", test_wire_snapshot_rejects_truncated);
	add_case(s, "test_wire_snapshot_rejects_bad_ranges", test_wire_snapshot_rejects_bad_ranges);
	add_case(s, "test_wire_finish_rejects_oversize", test_wire_finish_rejects_oversize);
	add_case(s, "test_wire_header_round_trip", test_wire_header_round_trip);
	add_case(s, "test_wire_request_round_trip", test_wire_request_round_trip);
	add_case(s, "test_wire_sync_round_trip", test_wire_sync_round_trip);
	add_case(s, "test_wire_sync_round_trip_max_tail", test_wire_sync_round_trip_max_tail);
	add_case(s, "test_wire_epoch_ack_round_trip", test_wire_epoch_ack_round_trip);
	add_case(s, "test_wire_snapshot_round_trip", test_wire_snapshot_round_trip);
	add_case(s, "test_wire_domain_id_stable", test_wire_domain_id_stable);
	return check_run(s);
}
