/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the dm-log-userspace codec (daemon/ulog.c) and the kernel links
 * (kernel-link.c, kernel-sim.c, kernel-netlink.c). Malformed frames come
 * first; the sim link runs in this process on a qb_loop with test clients
 * on real sockets; the netlink link gets frames from a second netlink socket
 * whose port recvmsg() (overridden below) reports as the kernel's, and its
 * answers are captured by an overridden sendmsg(). */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/connector.h>
#include <linux/netlink.h>

#include <qb/qbdefs.h>
#include <qb/qbloop.h>

#include "check-util.h"
#include "kernel-link.h"
#include "ulog.h"

#define WAIT_MS 3000
#define MAX_FRAME (ULOG_HEADER_BYTES + ULOG_MAX_DATA_BYTES)
#define UUID "LVM-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* ---- frames ---- */

/* A request as the kernel builds it, into buf (aligned, MAX_FRAME bytes). */
static size_t make_frame(uint8_t *buf, uint32_t version, uint32_t raw_type, uint32_t seq,
                         const void *data, size_t n)
{
	struct dm_ulog_request h;
	memset(&h, 0, sizeof(h));
	h.luid = 42;
	strcpy(h.uuid, UUID);
	h.version = version;
	h.seq = seq;
	h.request_type = raw_type;
	h.data_size = (uint32_t)n;
	memcpy(buf, &h, sizeof(h));
	if (n)
		memcpy(buf + sizeof(h), data, n);
	return sizeof(h) + n;
}

static size_t make_request(uint8_t *buf, uint32_t type, uint32_t seq, const void *data, size_t n)
{
	return make_frame(buf, DM_ULOG_REQUEST_VERSION, type, seq, data, n);
}

static void put_u32_at(uint8_t *buf, size_t off, uint32_t v) { memcpy(buf + off, &v, sizeof(v)); }

/* ---- codec: bad input ---- */

START_TEST(test_ulog_decode_rejects_short_frames)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	struct ulog_request rq;
	make_request(buf, DM_ULOG_FLUSH, 77, NULL, 0);
	ck_assert_int_eq(ulog_decode(NULL, 0, &rq), -EBADMSG);
	ck_assert_int_eq(ulog_decode(buf, 1, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 0);
	size_t seq_end = offsetof(struct dm_ulog_request, seq) + 4;
	ck_assert_int_eq(ulog_decode(buf, seq_end - 1, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 0);
	ck_assert_int_eq(ulog_decode(buf, seq_end, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 77);
	ck_assert_int_eq(ulog_decode(buf, ULOG_HEADER_BYTES - 1, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 77);
	ck_assert_ptr_null(rq.data);
}
END_TEST

START_TEST(test_ulog_decode_rejects_bad_data_size)
{
	alignas(8) uint8_t buf[MAX_FRAME + 8];
	struct ulog_request rq;
	size_t ds = offsetof(struct dm_ulog_request, data_size);
	make_request(buf, DM_ULOG_MARK_REGION, 9, NULL, 0);
	put_u32_at(buf, ds, 1); /* 160 bytes claiming 1 byte of data */
	ck_assert_int_eq(ulog_decode(buf, ULOG_HEADER_BYTES, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 9);
	put_u32_at(buf, ds, 16); /* larger than the frame */
	ck_assert_int_eq(ulog_decode(buf, ULOG_HEADER_BYTES + 8, &rq), -EBADMSG);
	put_u32_at(buf, ds, 4); /* smaller than the frame */
	ck_assert_int_eq(ulog_decode(buf, ULOG_HEADER_BYTES + 8, &rq), -EBADMSG);
	put_u32_at(buf, ds, UINT32_MAX);
	ck_assert_int_eq(ulog_decode(buf, ULOG_HEADER_BYTES + 8, &rq), -EBADMSG);
	put_u32_at(buf, ds, ULOG_MAX_DATA_BYTES + 1); /* matches the frame, too long */
	ck_assert_int_eq(ulog_decode(buf, MAX_FRAME + 1, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 9);
	ck_assert_uint_eq(rq.data_size, 0);
	ck_assert_ptr_null(rq.data);
}
END_TEST

START_TEST(test_ulog_decode_rejects_unterminated_uuid)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	struct ulog_request rq;
	size_t len = make_request(buf, DM_ULOG_RESUME, 5, NULL, 0);
	memset(buf + offsetof(struct dm_ulog_request, uuid), 'u', ULOG_UUID_LEN);
	ck_assert_int_eq(ulog_decode(buf, len, &rq), -EBADMSG);
	ck_assert_uint_eq(rq.seq, 5);
	ck_assert_str_eq(rq.uuid, "");
	/* 128 characters and the NUL in the last byte is the longest valid uuid */
	buf[offsetof(struct dm_ulog_request, uuid) + ULOG_UUID_LEN - 1] = '\0';
	ck_assert_int_eq(ulog_decode(buf, len, &rq), 0);
	ck_assert_uint_eq(strlen(rq.uuid), ULOG_UUID_LEN - 1);
}
END_TEST

START_TEST(test_ulog_decode_rejects_bad_versions)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	struct ulog_request rq;
	static const uint32_t bad[] = { 0, 4, UINT32_MAX };
	for (size_t i = 0; i < 3; i++) {
		size_t len = make_frame(buf, bad[i], DM_ULOG_CTR, 11, "x", 1);
		ck_assert_int_eq(ulog_decode(buf, len, &rq), -EPROTO);
		ck_assert_uint_eq(rq.seq, 11); /* the header is there for the answer */
		ck_assert_uint_eq(rq.luid, 42);
		ck_assert_str_eq(rq.uuid, UUID);
		ck_assert_uint_eq(rq.version, bad[i]);
	}
	for (uint32_t v = 1; v <= 3; v++) {
		size_t len = make_frame(buf, v, DM_ULOG_CTR, 11, "x", 1);
		ck_assert_int_eq(ulog_decode(buf, len, &rq), 0);
	}
}
END_TEST

START_TEST(test_ulog_decode_rejects_unknown_types)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	struct ulog_request rq;
	static const uint32_t bad[] = { 0, 18, 0x1FF, 0xFF, 0x100 };
	for (size_t i = 0; i < 5; i++) {
		size_t len = make_request(buf, bad[i], 12, NULL, 0);
		ck_assert_int_eq(ulog_decode(buf, len, &rq), -EOPNOTSUPP);
		ck_assert_uint_eq(rq.seq, 12);
		ck_assert_uint_eq(rq.raw_type, bad[i]);
		ck_assert_str_eq(rq.uuid, UUID);
	}
}
END_TEST

START_TEST(test_ulog_decode_accepts_reserved_bits)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	struct ulog_request rq;
	uint64_t region = 3;
	size_t len = make_request(buf, 0xABCD00 | DM_ULOG_IS_CLEAN, 13, &region, 8);
	ck_assert_int_eq(ulog_decode(buf, len, &rq), 0);
	ck_assert_uint_eq(rq.type, DM_ULOG_IS_CLEAN);
	ck_assert_uint_eq(rq.raw_type, 0xABCD00 | DM_ULOG_IS_CLEAN);
}
END_TEST

/* ---- codec: round trips ---- */

struct sample {
	uint32_t type;
	const void *data;
	size_t len;
};

START_TEST(test_ulog_round_trips_every_type)
{
	static const char ctr[] = "2097152 clustered-disk 253:3 1024 nosync block_on_error";
	uint64_t one = 1000, marks[32], sync[2] = { 7, 1 };
	for (size_t i = 0; i < 32; i++)
		marks[i] = i * 3;
	const struct sample samples[] = {
		{ DM_ULOG_CTR, ctr, sizeof(ctr) - 1 },   { DM_ULOG_CTR, ctr, sizeof(ctr) },
		{ DM_ULOG_DTR, ctr, sizeof(ctr) - 1 },   { DM_ULOG_PRESUSPEND, NULL, 0 },
		{ DM_ULOG_POSTSUSPEND, NULL, 0 },        { DM_ULOG_RESUME, NULL, 0 },
		{ DM_ULOG_GET_REGION_SIZE, NULL, 0 },    { DM_ULOG_IS_CLEAN, &one, 8 },
		{ DM_ULOG_IN_SYNC, &one, 8 },            { DM_ULOG_FLUSH, NULL, 0 },
		{ DM_ULOG_FLUSH, marks, 3 * 8 },         { DM_ULOG_MARK_REGION, marks, sizeof(marks) },
		{ DM_ULOG_CLEAR_REGION, marks, 8 },      { DM_ULOG_GET_RESYNC_WORK, NULL, 0 },
		{ DM_ULOG_SET_REGION_SYNC, sync, 16 },   { DM_ULOG_GET_SYNC_COUNT, NULL, 0 },
		{ DM_ULOG_STATUS_INFO, NULL, 0 },        { DM_ULOG_STATUS_TABLE, NULL, 0 },
		{ DM_ULOG_IS_REMOTE_RECOVERING, &one, 8 },
	};
	alignas(8) uint8_t buf[MAX_FRAME];
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		size_t len = make_request(buf, s->type, (uint32_t)(100 + i), s->data, s->len);
		struct ulog_request rq;
		ck_assert_int_eq(ulog_decode(buf, len, &rq), 0);
		ck_assert_uint_eq(rq.type, s->type);
		ck_assert_str_ne(ulog_type_name(rq.type), "UNKNOWN");
		ck_assert_uint_eq(rq.seq, 100 + i);
		ck_assert_uint_eq(rq.luid, 42);
		ck_assert_uint_eq(rq.version, DM_ULOG_REQUEST_VERSION);
		ck_assert_str_eq(rq.uuid, UUID);
		ck_assert_uint_eq(rq.data_size, s->len);
		if (s->len) {
			ck_assert_ptr_eq(rq.data, buf + ULOG_HEADER_BYTES);
			ck_assert_mem_eq(rq.data, s->data, s->len);
		} else {
			ck_assert_ptr_null(rq.data);
		}
		/* the answer carries the same identity back */
		struct ulog_origin o;
		ulog_origin_from(&o, &rq, 9);
		struct wbuf w;
		wbuf_init(&w);
		ulog_encode_reply(&w, &o, 0, s->data, s->len);
		struct ulog_request back;
		ck_assert_int_eq(ulog_decode(w.data, w.len, &back), 0);
		ck_assert_uint_eq(back.seq, rq.seq);
		ck_assert_uint_eq(back.raw_type, rq.raw_type);
		ck_assert_str_eq(back.uuid, rq.uuid);
		ck_assert_uint_eq(back.data_size, s->len);
		wbuf_done(&w);
	}
	ck_assert_str_eq(ulog_type_name(DM_ULOG_IS_REMOTE_RECOVERING), "IS_REMOTE_RECOVERING");
	ck_assert_str_eq(ulog_type_name(0), "UNKNOWN");
	ck_assert_str_eq(ulog_type_name(18), "UNKNOWN");
	ck_assert_str_eq(ulog_type_name(UINT32_MAX), "UNKNOWN");
}
END_TEST

#define FIELD(buf, member, type) \
	({ \
		type v_; \
		memcpy(&v_, (buf) + offsetof(struct dm_ulog_request, member), sizeof(v_)); \
		v_; \
	})

START_TEST(test_ulog_reply_layout)
{
	struct ulog_origin o;
	memset(&o, 0, sizeof(o));
	o.client = 5;
	o.luid = 0x1122334455667788ull;
	strcpy(o.uuid, "LVM-abc");
	o.version = 3;
	o.seq = 0xdeadbeef;
	o.raw_type = 0x12300 | DM_ULOG_STATUS_INFO;
	struct wbuf w;
	wbuf_init(&w);
	ulog_encode_reply(&w, &o, -EIO, "3 clustered-disk 253:3 A", 25);
	ck_assert_uint_eq(w.len, sizeof(struct dm_ulog_request) + 25);
	ck_assert_uint_eq(FIELD(w.data, luid, uint64_t), o.luid);
	ck_assert_str_eq((const char *)w.data + offsetof(struct dm_ulog_request, uuid), "LVM-abc");
	for (size_t i = offsetof(struct dm_ulog_request, uuid) + 8;
	     i < offsetof(struct dm_ulog_request, version); i++)
		ck_assert_uint_eq(w.data[i], 0); /* rest of the uuid and the padding */
	ck_assert_uint_eq(FIELD(w.data, version, uint32_t), 3);
	ck_assert_int_eq(FIELD(w.data, error, int32_t), -EIO);
	ck_assert_uint_eq(FIELD(w.data, seq, uint32_t), 0xdeadbeef);
	ck_assert_uint_eq(FIELD(w.data, request_type, uint32_t), 0x12300 | DM_ULOG_STATUS_INFO);
	ck_assert_uint_eq(FIELD(w.data, data_size, uint32_t), 25);
	ck_assert_uint_eq(offsetof(struct dm_ulog_request, data), ULOG_HEADER_BYTES);
	ck_assert_str_eq((const char *)w.data + ULOG_HEADER_BYTES, "3 clustered-disk 253:3 A");
	/* no data: the header alone */
	wbuf_reset(&w);
	ulog_encode_reply(&w, &o, 0, NULL, 0);
	ck_assert_uint_eq(w.len, ULOG_HEADER_BYTES);
	ck_assert_uint_eq(FIELD(w.data, data_size, uint32_t), 0);
	ck_assert_int_eq(FIELD(w.data, error, int32_t), 0);
	wbuf_done(&w);
}
END_TEST

/* ---- the loop and a test server ---- */

enum answer_mode { ANSWER_TYPE, ANSWER_HOLD, ANSWER_BIG, ANSWER_OVERSIZED };

static qb_loop_t *loop;
static struct kernel_link *klink;
static char dir[64], sock_path[100];

static struct server {
	enum answer_mode mode;
	int n;                      /* requests seen */
	struct ulog_request last;   /* data not kept */
	uint8_t last_data[ULOG_MAX_DATA_BYTES];
	struct ulog_origin held[8];
	int n_held;
	int reply_rc;
} srv;

static void on_request(void *data, const struct ulog_request *rq, const struct ulog_origin *from)
{
	static uint8_t big[ULOG_MAX_DATA_BYTES + 1];
	srv.n++;
	srv.last = *rq;
	if (rq->data_size)
		memcpy(srv.last_data, rq->data, rq->data_size);
	srv.last.data = NULL;
	uint64_t v = rq->type;
	switch (srv.mode) {
	case ANSWER_TYPE: srv.reply_rc = kernel_link_reply(klink, from, 0, &v, sizeof(v)); break;
	case ANSWER_HOLD:
		ck_assert_int_lt(srv.n_held, 8);
		srv.held[srv.n_held++] = *from;
		break;
	case ANSWER_BIG:
		memset(big, (int)(rq->seq & 0xff), sizeof(big));
		srv.reply_rc = kernel_link_reply(klink, from, 0, big, ULOG_MAX_DATA_BYTES);
		break;
	case ANSWER_OVERSIZED:
		srv.reply_rc = kernel_link_reply(klink, from, 0, big, sizeof(big));
		break;
	}
}

static const struct kernel_link_callbacks callbacks = { .on_request = on_request };

static void on_stop(void *data) { qb_loop_stop(loop); }

/* Run the loop for about ms milliseconds. */
static void pump(unsigned ms)
{
	qb_loop_timer_handle th;
	ck_assert_int_eq(qb_loop_timer_add(loop, QB_LOOP_LOW, ms * QB_TIME_NS_IN_MSEC, NULL, on_stop,
	                                   &th), 0);
	qb_loop_run(loop);
}

static void setup(void)
{
	memset(&srv, 0, sizeof(srv));
	strcpy(dir, "/tmp/check-ulog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/run/ulog.sock", dir);
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	klink = NULL;
}

static void setup_sim(void)
{
	setup();
	ck_assert_int_eq(kernel_link_sim_create(loop, sock_path, &callbacks, NULL, &klink), 0);
}

static void teardown(void)
{
	kernel_link_destroy(klink);
	qb_loop_destroy(loop);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- a test client of the sim link ---- */

struct client {
	int fd;
	bool eof;
	size_t len;
	uint8_t buf[1 << 16];
};

struct answer {
	struct dm_ulog_request h;
	uint8_t data[ULOG_MAX_DATA_BYTES];
};

static struct client *client_open(void)
{
	struct client *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return c;
}

static void client_close(struct client *c)
{
	close(c->fd);
	free(c);
}

static void client_write(struct client *c, const void *p, size_t n)
{
	ck_assert_int_eq(send(c->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* One frame in one write. */
static void client_send(struct client *c, const void *frame, uint32_t len)
{
	uint8_t buf[4 + MAX_FRAME + 8];
	ck_assert_uint_le(len, MAX_FRAME + 8);
	le32_write(buf, len);
	memcpy(buf + 4, frame, len);
	client_write(c, buf, 4 + len);
}

/* Take one answer from what was read, if complete. */
static bool client_take(struct client *c, struct answer *a)
{
	if (c->len < 4)
		return false;
	uint32_t len = le32_read(c->buf);
	ck_assert_uint_ge(len, ULOG_HEADER_BYTES);
	ck_assert_uint_le(len, MAX_FRAME);
	if (c->len < 4 + len)
		return false;
	memcpy(&a->h, c->buf + 4, ULOG_HEADER_BYTES);
	ck_assert_uint_eq(a->h.data_size, len - ULOG_HEADER_BYTES);
	memcpy(a->data, c->buf + 4 + ULOG_HEADER_BYTES, a->h.data_size);
	memmove(c->buf, c->buf + 4 + len, c->len - 4 - len);
	c->len -= 4 + len;
	return true;
}

/* Run the loop until an answer arrives (true), or EOF or WAIT_MS (false). */
static bool client_answer(struct client *c, struct answer *a)
{
	for (unsigned waited = 0; waited < WAIT_MS; waited += 2) {
		if (client_take(c, a))
			return true;
		if (c->eof)
			return false;
		pump(2);
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (n > 0)
			c->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->eof = true;
	}
	return false;
}

/* No answer within ms, and the connection still open. */
static void client_expect_silence(struct client *c, unsigned ms)
{
	pump(ms);
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, EAGAIN);
}

static void expect_answer(struct client *c, uint32_t seq, int error, uint64_t value)
{
	struct answer a;
	ck_assert_msg(client_answer(c, &a), "no answer for seq %u", seq);
	ck_assert_uint_eq(a.h.seq, seq);
	ck_assert_int_eq(a.h.error, error);
	if (error == 0) {
		uint64_t v;
		ck_assert_uint_eq(a.h.data_size, 8);
		memcpy(&v, a.data, 8);
		ck_assert_uint_eq(v, value);
	} else {
		ck_assert_uint_eq(a.h.data_size, 0);
	}
}

static void send_request(struct client *c, uint32_t type, uint32_t seq)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	uint64_t region = seq;
	client_send(c, buf, (uint32_t)make_request(buf, type, seq, &region, 8));
}

/* ---- sim link: bad input ---- */

START_TEST(test_ulog_sim_closes_on_bad_length)
{
	static const uint32_t bad[] = { 0, MAX_FRAME + 1, UINT32_MAX };
	for (size_t i = 0; i < 3; i++) {
		struct client *c = client_open();
		uint8_t prefix[4];
		le32_write(prefix, bad[i]);
		client_write(c, prefix, 4);
		struct answer a;
		ck_assert(!client_answer(c, &a));
		ck_assert(c->eof);
		client_close(c);
	}
	ck_assert_int_eq(srv.n, 0);
	struct client *c = client_open(); /* the link still serves */
	send_request(c, DM_ULOG_IS_CLEAN, 1);
	expect_answer(c, 1, 0, DM_ULOG_IS_CLEAN);
	client_close(c);
}
END_TEST

START_TEST(test_ulog_sim_answers_undecodable_frames)
{
	alignas(8) uint8_t buf[MAX_FRAME];
	struct client *c = client_open();
	make_request(buf, DM_ULOG_FLUSH, 4, NULL, 0);
	client_send(c, buf, 100); /* too short to carry a seq: no answer */
	client_expect_silence(c, 50);
	client_send(c, buf, 155); /* short, but the seq is there */
	expect_answer(c, 4, -EBADMSG, 0);
	client_send(c, buf, (uint32_t)make_frame(buf, 0, DM_ULOG_FLUSH, 5, NULL, 0));
	expect_answer(c, 5, -EPROTO, 0);
	client_send(c, buf, (uint32_t)make_request(buf, 18, 6, NULL, 0));
	expect_answer(c, 6, -EOPNOTSUPP, 0);
	size_t len = make_request(buf, DM_ULOG_FLUSH, 7, NULL, 0);
	put_u32_at(buf, offsetof(struct dm_ulog_request, data_size), 8);
	client_send(c, buf, (uint32_t)len);
	expect_answer(c, 7, -EBADMSG, 0);
	ck_assert_int_eq(srv.n, 0);
	send_request(c, DM_ULOG_IN_SYNC, 8);
	expect_answer(c, 8, 0, DM_ULOG_IN_SYNC);
	ck_assert_int_eq(srv.n, 1);
	client_close(c);
}
END_TEST

START_TEST(test_ulog_sim_reassembles_frames)
{
	alignas(8) uint8_t buf[2 * (4 + MAX_FRAME)];
	uint64_t marks[3] = { 10, 20, 30 };
	struct client *c = client_open();
	/* a frame in three pieces, the prefix itself split */
	size_t len = make_request(buf + 4, DM_ULOG_MARK_REGION, 1, marks, sizeof(marks));
	le32_write(buf, (uint32_t)len);
	client_write(c, buf, 3);
	pump(5);
	client_write(c, buf + 3, 100);
	pump(5);
	ck_assert_int_eq(srv.n, 0);
	client_write(c, buf + 103, 4 + len - 103);
	expect_answer(c, 1, 0, DM_ULOG_MARK_REGION);
	ck_assert_uint_eq(srv.last.data_size, sizeof(marks));
	ck_assert_mem_eq(srv.last_data, marks, sizeof(marks));
	/* two frames in one write */
	size_t n1 = 4 + make_request(buf + 4, DM_ULOG_FLUSH, 2, NULL, 0);
	le32_write(buf, (uint32_t)(n1 - 4));
	size_t n2 = make_request(buf + n1 + 4, DM_ULOG_CLEAR_REGION, 3, marks, 8);
	le32_write(buf + n1, (uint32_t)n2);
	client_write(c, buf, n1 + 4 + n2);
	expect_answer(c, 2, 0, DM_ULOG_FLUSH);
	expect_answer(c, 3, 0, DM_ULOG_CLEAR_REGION);
	/* byte by byte */
	len = make_request(buf + 4, DM_ULOG_GET_SYNC_COUNT, 4, NULL, 0);
	le32_write(buf, (uint32_t)len);
	for (size_t i = 0; i < 4 + len; i++) {
		client_write(c, buf + i, 1);
		if (i % 16 == 0)
			pump(1);
	}
	expect_answer(c, 4, 0, DM_ULOG_GET_SYNC_COUNT);
	ck_assert_int_eq(srv.n, 4);
	client_close(c);
}
END_TEST

START_TEST(test_ulog_sim_drops_answers_for_gone_clients)
{
	srv.mode = ANSWER_HOLD;
	struct client *a = client_open();
	send_request(a, DM_ULOG_FLUSH, 1);
	for (int i = 0; i < 1000 && srv.n == 0; i++)
		pump(2);
	ck_assert_int_eq(srv.n_held, 1);
	client_close(a);
	pump(20); /* the link sees the close */
	ck_assert_int_eq(kernel_link_reply(klink, &srv.held[0], 0, NULL, 0), 0);
	srv.mode = ANSWER_TYPE;
	struct client *b = client_open();
	send_request(b, DM_ULOG_IS_CLEAN, 2);
	expect_answer(b, 2, 0, DM_ULOG_IS_CLEAN);
	/* b has a new id, so the late answer for a did not go to b */
	srv.mode = ANSWER_HOLD;
	send_request(b, DM_ULOG_IS_CLEAN, 3);
	for (int i = 0; i < 1000 && srv.n_held < 2; i++)
		pump(2);
	ck_assert_uint_ne(srv.held[1].client, srv.held[0].client);
	ck_assert_int_eq(kernel_link_reply(klink, &srv.held[0], 0, NULL, 0), 0);
	ck_assert_int_eq(kernel_link_reply(klink, &srv.held[1], -EIO, NULL, 0), 0);
	expect_answer(b, 3, -EIO, 0);
	client_expect_silence(b, 20);
	client_close(b);
}
END_TEST

START_TEST(test_ulog_sim_rejects_oversized_answers)
{
	srv.mode = ANSWER_OVERSIZED;
	struct client *c = client_open();
	send_request(c, DM_ULOG_STATUS_INFO, 1);
	expect_answer(c, 1, -EMSGSIZE, 0);
	ck_assert_int_eq(srv.reply_rc, -EMSGSIZE);
	client_close(c);
}
END_TEST

/* ---- sim link: normal service ---- */

START_TEST(test_ulog_sim_buffers_answers_for_slow_readers)
{
	enum { N = 300 }; /* N answers of 4 KiB: far more than a socket holds */
	srv.mode = ANSWER_BIG;
	struct client *c = client_open();
	for (uint32_t seq = 1; seq <= N; seq++) {
		send_request(c, DM_ULOG_STATUS_TABLE, seq);
		if (seq % 16 == 0)
			pump(1); /* the link answers while nobody reads */
	}
	pump(50);
	ck_assert_int_eq(srv.n, N);
	ck_assert_int_eq(srv.reply_rc, 0);
	struct answer a;
	for (uint32_t seq = 1; seq <= N; seq++) {
		ck_assert_msg(client_answer(c, &a), "answer %u missing", seq);
		ck_assert_uint_eq(a.h.seq, seq);
		ck_assert_uint_eq(a.h.data_size, ULOG_MAX_DATA_BYTES);
		ck_assert_uint_eq(a.data[0], seq & 0xff);
		ck_assert_uint_eq(a.data[ULOG_MAX_DATA_BYTES - 1], seq & 0xff);
	}
	client_close(c);
}
END_TEST

START_TEST(test_ulog_sim_serves_many_clients)
{
	enum { N = 6 };
	struct client *c[N];
	for (int i = 0; i < N; i++)
		c[i] = client_open();
	for (uint32_t round = 0; round < 3; round++)
		for (int i = N - 1; i >= 0; i--)
			send_request(c[i], DM_ULOG_IS_REMOTE_RECOVERING, 100 * round + (uint32_t)i);
	for (uint32_t round = 0; round < 3; round++)
		for (int i = 0; i < N; i++)
			expect_answer(c[i], 100 * round + (uint32_t)i, 0, DM_ULOG_IS_REMOTE_RECOVERING);
	for (int i = 0; i < N; i++)
		client_close(c[i]);
	ck_assert_int_eq(srv.n, 3 * N);
}
END_TEST

START_TEST(test_ulog_sim_drops_clients_that_never_read)
{
	enum { N = 1500 }; /* 1500 answers of 4 KiB: more than the 4 MiB allowed */
	srv.mode = ANSWER_BIG;
	struct client *c = client_open();
	alignas(8) uint8_t buf[4 + MAX_FRAME];
	uint32_t seq = 1;
	for (; seq <= N; seq++) {
		size_t len = make_request(buf + 4, DM_ULOG_STATUS_TABLE, seq, NULL, 0);
		le32_write(buf, (uint32_t)len);
		if (send(c->fd, buf, 4 + len, MSG_NOSIGNAL) != (ssize_t)(4 + len))
			break; /* the link closed the connection */
		if (seq % 16 == 0)
			pump(1);
	}
	pump(50);
	ck_assert_int_lt(srv.n, N);
	struct answer a;
	int answers = 0;
	while (client_answer(c, &a))
		answers++;
	ck_assert(c->eof);
	ck_assert_int_lt(answers, srv.n);
	client_close(c);
	srv.mode = ANSWER_TYPE;
	c = client_open();
	send_request(c, DM_ULOG_RESUME, 1);
	expect_answer(c, 1, 0, DM_ULOG_RESUME);
	client_close(c);
}
END_TEST

START_TEST(test_ulog_sim_pauses_accepting_without_fds)
{
	enum { N = 3 };
	struct client *c[N];
	for (int i = 0; i < N; i++)
		c[i] = client_open(); /* queued in the backlog, not accepted yet */
	struct rlimit old, low;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = dup(0);
	close(lowest);
	low = old;
	low.rlim_cur = (rlim_t)lowest; /* no new fd at all */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	pump(20); /* accept fails: the link stops accepting for a while */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	for (int i = 0; i < N; i++)
		send_request(c[i], DM_ULOG_GET_REGION_SIZE, (uint32_t)i);
	pump(200);
	ck_assert_int_eq(srv.n, 0); /* still paused, and not spinning */
	for (int i = 0; i < N; i++) {
		expect_answer(c[i], (uint32_t)i, 0, DM_ULOG_GET_REGION_SIZE);
		client_close(c[i]);
	}
}
END_TEST

START_TEST(test_ulog_sim_socket_setup)
{
	struct stat st;
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	char parent[128];
	snprintf(parent, sizeof(parent), "%s/run", dir);
	ck_assert_int_eq(stat(parent, &st), 0);
	mode_t mask = umask(0);
	umask(mask);
	ck_assert_uint_eq(st.st_mode & 0777, 0755 & ~mask);
	struct kernel_link *other = NULL;
	/* someone listens there */
	ck_assert_int_eq(kernel_link_sim_create(loop, sock_path, &callbacks, NULL, &other),
	                 -EADDRINUSE);
	/* not a socket */
	char path[160];
	snprintf(path, sizeof(path), "%s/run/file", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(kernel_link_sim_create(loop, path, &callbacks, NULL, &other), -EEXIST);
	ck_assert_int_eq(kernel_link_sim_create(loop, "/nonexistent-blkspace/a/b.sock", &callbacks,
	                                        NULL, &other), -ENOENT);
	ck_assert_int_eq(kernel_link_sim_create(loop, "", &callbacks, NULL, &other), -EINVAL);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(kernel_link_sim_create(loop, longp, &callbacks, NULL, &other),
	                 -ENAMETOOLONG);
	/* a stale socket is replaced; the old path is gone after destroy */
	kernel_link_destroy(klink);
	klink = NULL;
	ck_assert_int_eq(stat(sock_path, &st), -1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	ck_assert_int_eq(kernel_link_sim_create(loop, sock_path, &callbacks, NULL, &klink), 0);
	struct client *c = client_open();
	send_request(c, DM_ULOG_RESUME, 1);
	expect_answer(c, 1, 0, DM_ULOG_RESUME);
	client_close(c);
	kernel_link_destroy(NULL);
}
END_TEST

/* ---- netlink: frames from a second socket, answers captured ---- */

static uint32_t fake_kernel_port; /* recvmsg reports this port as the kernel's */
static int fail_send_errno;       /* sendmsg to the kernel fails with this */
static struct {
	int n;
	size_t len;
	uint8_t buf[1 << 15];
} captured;

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t (*real)(int, struct msghdr *, int) =
	        (ssize_t(*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	ssize_t n = real(fd, msg, flags);
	struct sockaddr_nl *from = msg->msg_name;
	if (n >= 0 && fake_kernel_port && from && msg->msg_namelen >= sizeof(*from) &&
	    from->nl_family == AF_NETLINK && from->nl_pid == fake_kernel_port)
		from->nl_pid = 0;
	return n;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t (*real)(int, const struct msghdr *, int) =
	        (ssize_t(*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
	const struct sockaddr_nl *to = msg->msg_name;
	if (!fake_kernel_port || !to || to->nl_family != AF_NETLINK || to->nl_pid != 0)
		return real(fd, msg, flags);
	if (fail_send_errno) {
		errno = fail_send_errno;
		return -1;
	}
	captured.n++;
	captured.len = 0;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		ck_assert_uint_le(captured.len + msg->msg_iov[i].iov_len, sizeof(captured.buf));
		memcpy(captured.buf + captured.len, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
		captured.len += msg->msg_iov[i].iov_len;
	}
	return (ssize_t)captured.len;
}

/* The link's socket: the one connector socket in this process. */
static uint32_t link_port(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int domain = 0, proto = 0;
		socklen_t l = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0 || domain != AF_NETLINK)
			continue;
		l = sizeof(int);
		getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l);
		struct sockaddr_nl a;
		socklen_t al = sizeof(a);
		if (proto == NETLINK_CONNECTOR && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
			return a.nl_pid;
	}
	ck_abort_msg("no connector socket");
	return 0;
}

/* Send nlmsghdr + cn_msg{idx, val, len} + frame from inj to port; nl_extra
 * is added to nlmsg_len, cn_extra to cn_msg.len (to lie about lengths). */
static void inject(int inj, uint32_t port, const void *frame, size_t len, uint32_t idx,
                   int nl_extra, int cn_extra)
{
	alignas(8) uint8_t buf[NLMSG_HDRLEN + sizeof(struct cn_msg) + MAX_FRAME];
	struct nlmsghdr nh = { .nlmsg_len = (uint32_t)(NLMSG_LENGTH(sizeof(struct cn_msg) + len) +
		                                       nl_extra),
		               .nlmsg_type = NLMSG_DONE };
	struct cn_msg cn = { .id = { idx, CN_VAL_DM_USERSPACE_LOG }, .seq = 1,
		             .len = (uint16_t)(len + cn_extra) };
	memcpy(buf, &nh, sizeof(nh));
	memcpy(buf + NLMSG_HDRLEN, &cn, sizeof(cn));
	memcpy(buf + NLMSG_HDRLEN + sizeof(cn), frame, len);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = port };
	size_t total = NLMSG_HDRLEN + sizeof(cn) + len;
	ck_assert_int_eq(sendto(inj, buf, total, 0, (struct sockaddr *)&to, sizeof(to)),
	                 (ssize_t)total);
}

/* Run the loop until a capture or a callback happens; false after ms. */
static bool wait_netlink(int captures, int requests, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 2) {
		if (captured.n >= captures && srv.n >= requests)
			return true;
		pump(2);
	}
	return captured.n >= captures && srv.n >= requests;
}

static void check_captured(uint32_t seq, int error, size_t data_size)
{
	struct nlmsghdr nh;
	struct cn_msg cn;
	size_t frame_len = ULOG_HEADER_BYTES + data_size;
	ck_assert_uint_eq(captured.len, NLMSG_HDRLEN + sizeof(cn) + frame_len);
	memcpy(&nh, captured.buf, sizeof(nh));
	memcpy(&cn, captured.buf + NLMSG_HDRLEN, sizeof(cn));
	ck_assert_uint_eq(nh.nlmsg_len, NLMSG_LENGTH(sizeof(cn) + frame_len));
	ck_assert_uint_eq(nh.nlmsg_type, NLMSG_DONE);
	ck_assert_uint_eq(cn.id.idx, CN_IDX_DM);
	ck_assert_uint_eq(cn.id.val, CN_VAL_DM_USERSPACE_LOG);
	ck_assert_uint_eq(cn.seq, seq);
	ck_assert_uint_eq(cn.ack, 0);
	ck_assert_uint_eq(cn.len, frame_len);
	const uint8_t *f = captured.buf + NLMSG_HDRLEN + sizeof(cn);
	ck_assert_uint_eq(FIELD(f, seq, uint32_t), seq);
	ck_assert_int_eq(FIELD(f, error, int32_t), error);
	ck_assert_uint_eq(FIELD(f, data_size, uint32_t), data_size);
	ck_assert_uint_eq(FIELD(f, luid, uint64_t), 42);
	ck_assert_str_eq((const char *)f + offsetof(struct dm_ulog_request, uuid), UUID);
}

START_TEST(test_ulog_netlink_needs_privilege)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setgroups(0, NULL) < 0 ||
		                       setresuid(65534, 65534, 65534) < 0))
			_exit(10);
		qb_loop_t *l = qb_loop_create();
		struct kernel_link *k = NULL;
		int rc = kernel_link_netlink_create(l, &callbacks, NULL, &k);
		qb_loop_destroy(l);
		_exit(rc == -EPERM && !k ? 0 : 11);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
}
END_TEST

START_TEST(test_ulog_netlink_serves_kernel_frames)
{
	ck_assert_msg(geteuid() == 0, "this test binds the connector group: run it as root");
	ck_assert_int_eq(kernel_link_netlink_create(loop, &callbacks, NULL, &klink), 0);
	uint32_t port = link_port();
	int inj = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	socklen_t ml = sizeof(me);
	ck_assert_int_eq(bind(inj, (struct sockaddr *)&me, sizeof(me)), 0);
	ck_assert_int_eq(getsockname(inj, (struct sockaddr *)&me, &ml), 0);
	alignas(8) uint8_t frame[MAX_FRAME];
	uint64_t region = 5;
	size_t len = make_request(frame, DM_ULOG_IS_CLEAN, 10, &region, 8);
	/* not from the kernel: ignored */
	inject(inj, port, frame, len, CN_IDX_DM, 0, 0);
	ck_assert(!wait_netlink(0, 1, 50));
	fake_kernel_port = me.nl_pid;
	/* another connector user, lengths beyond the datagram: ignored */
	inject(inj, port, frame, len, CN_IDX_PROC, 0, 0);
	inject(inj, port, frame, len, CN_IDX_DM, 0, 1);
	inject(inj, port, frame, len, CN_IDX_DM, 4, 0);
	ck_assert(!wait_netlink(1, 0, 50));
	ck_assert_int_eq(srv.n, 0);
	/* a bad frame: an error answer with its seq */
	alignas(8) uint8_t bad[MAX_FRAME];
	size_t bad_len = make_frame(bad, 0, DM_ULOG_IS_CLEAN, 11, &region, 8);
	inject(inj, port, bad, bad_len, CN_IDX_DM, 0, 0);
	ck_assert(wait_netlink(1, 0, WAIT_MS));
	check_captured(11, -EPROTO, 0);
	/* a good one */
	inject(inj, port, frame, len, CN_IDX_DM, 0, 0);
	ck_assert(wait_netlink(2, 1, WAIT_MS));
	ck_assert_uint_eq(srv.last.seq, 10);
	check_captured(10, 0, 8);
	/* the socket refuses: dropped, and the link goes on */
	fail_send_errno = EAGAIN;
	inject(inj, port, frame, len, CN_IDX_DM, 0, 0);
	ck_assert(wait_netlink(2, 2, WAIT_MS));
	ck_assert_int_eq(srv.reply_rc, 0);
	fail_send_errno = 0;
	len = make_request(frame, DM_ULOG_GET_SYNC_COUNT, 12, NULL, 0);
	inject(inj, port, frame, len, CN_IDX_DM, 0, 0);
	ck_assert(wait_netlink(3, 3, WAIT_MS));
	check_captured(12, 0, 8);
	fake_kernel_port = 0;
	close(inj);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test, void (*set)(void))
{
	check_add_case(s, name, test, set, teardown, 20);
}

#define CASE(test, set) add_case(s, #test, test, set)

int main(void)
{
	Suite *s = suite_create("ulog");
	CASE(test_ulog_decode_rejects_short_frames, setup);
	CASE(test_ulog_decode_rejects_bad_data_size, setup);
	CASE(test_ulog_decode_rejects_unterminated_uuid, setup);
	CASE(test_ulog_decode_rejects_bad_versions, setup);
	CASE(test_ulog_decode_rejects_unknown_types, setup);
	CASE(test_ulog_decode_accepts_reserved_bits, setup);
	CASE(test_ulog_sim_closes_on_bad_length, setup_sim);
	CASE(test_ulog_sim_answers_undecodable_frames, setup_sim);
	CASE(test_ulog_sim_drops_clients_that_never_read, setup_sim);
	CASE(test_ulog_sim_drops_answers_for_gone_clients, setup_sim);
	CASE(test_ulog_sim_rejects_oversized_answers, setup_sim);
	CASE(test_ulog_sim_pauses_accepting_without_fds, setup_sim);
	CASE(test_ulog_sim_socket_setup, setup_sim);
	CASE(test_ulog_netlink_needs_privilege, setup);
	CASE(test_ulog_round_trips_every_type, setup);
	CASE(test_ulog_reply_layout, setup);
	CASE(test_ulog_sim_reassembles_frames, setup_sim);
	CASE(test_ulog_sim_buffers_answers_for_slow_readers, setup_sim);
	CASE(test_ulog_sim_serves_many_clients, setup_sim);
	CASE(test_ulog_netlink_serves_kernel_frames, setup);
	return check_run(s);
}
