/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the direct datagrams (direct-udp.c): bad datagrams first
 * (short, foreign, another version, lengths that do not add up, a wrong
 * tag, another key, addressed to another node), then bad keys and
 * addresses, then two endpoints on the loopback: a datagram arrives, and
 * garbage sent to the port is counted and dropped. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qb/qbloop.h>

#include "check-util.h"
#include "direct-udp.h"

#define WAIT_NS (5 * 1000 * 1000 * 1000ull) /* a bound on waiting, not a measurement */

struct endpoint {
	struct direct_udp *du;
	unsigned received;
	uint32_t from;
	char group[DIRECT_GROUP_MAX + 1];
	char msg[64];
	qb_loop_t *loop;
};

static char key_dir[] = "/tmp/check_direct.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(key_dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/key", key_dir);
	write_file(path, "0123456789abcdef0123456789abcdef");
	snprintf(path, sizeof(path), "%s/other", key_dir);
	write_file(path, "fedcba9876543210fedcba9876543210");
	snprintf(path, sizeof(path), "%s/short", key_dir);
	write_file(path, "tiny");
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", key_dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(key_dir, "/tmp/check_direct.XXXXXX");
}

static void on_receive(void *data, uint32_t from, const char *group, const void *msg, size_t len)
{
	struct endpoint *e = data;
	e->received++;
	e->from = from;
	snprintf(e->group, sizeof(e->group), "%s", group);
	snprintf(e->msg, sizeof(e->msg), "%.*s", (int)len, (const char *)msg);
	qb_loop_stop(e->loop);
}

static int open_endpoint(qb_loop_t *loop, const char *key, struct endpoint *e, char *err,
                         size_t errsz)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", key_dir, key);
	memset(e, 0, sizeof(*e));
	e->loop = loop;
	struct direct_udp_params p = { .loop = loop, .port = 0, .key_file = path,
		                       .receive = on_receive, .data = e };
	return direct_udp_create(&p, &e->du, err, errsz);
}

static struct endpoint *endpoint(qb_loop_t *loop, const char *key, uint32_t self)
{
	struct endpoint *e = malloc(sizeof(*e));
	char err[256] = "";
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(open_endpoint(loop, key, e, err, sizeof(err)) == 0, "%s", err);
	direct_udp_set_self(e->du, self);
	return e;
}

static void endpoint_free(struct endpoint *e)
{
	direct_udp_destroy(e->du);
	free(e);
}

static size_t frame(struct endpoint *e, uint32_t from, uint32_t to, const char *msg, uint8_t *buf)
{
	return direct_udp_frame(e->du, from, to, "blkspace", msg, strlen(msg), buf);
}

static int parse(struct endpoint *e, const uint8_t *buf, size_t len)
{
	struct direct_datagram d;
	const char *why = NULL;
	int rc = direct_udp_parse(e->du, buf, len, &d, &why);
	ck_assert(rc == 0 || why != NULL);
	return rc;
}

START_TEST(test_direct_bad_datagrams_are_refused)
{
	qb_loop_t *loop = qb_loop_create();
	struct endpoint *a = endpoint(loop, "key", 1), *b = endpoint(loop, "key", 2),
	                *stranger = endpoint(loop, "other", 1);
	uint8_t buf[DIRECT_DATAGRAM_MAX], bad[DIRECT_DATAGRAM_MAX + 1];
	size_t n = frame(a, 1, 2, "receipt", buf);
	ck_assert_int_eq(parse(b, buf, n), 0); /* the good one, for contrast */
	ck_assert_int_eq(parse(b, buf, 0), -EBADMSG);
	ck_assert_int_eq(parse(b, buf, 20), -EBADMSG);
	memcpy(bad, buf, n);
	bad[0] ^= 1; /* not our magic */
	ck_assert_int_eq(parse(b, bad, n), -EBADMSG);
	memcpy(bad, buf, n);
	bad[4] = 2; /* a version we do not speak */
	ck_assert_int_eq(parse(b, bad, n), -EPROTONOSUPPORT);
	ck_assert_int_eq(parse(b, buf, n - 1), -EBADMSG); /* lengths do not add up */
	memcpy(bad, buf, n);
	bad[n] = 0;
	ck_assert_int_eq(parse(b, bad, n + 1), -EBADMSG);
	memcpy(bad, buf, n);
	bad[5] = 0; /* no group */
	ck_assert_int_eq(parse(b, bad, n), -EBADMSG);
	for (size_t i = 8; i < n; i++) { /* any changed byte: sender, receiver, group, body, tag */
		memcpy(bad, buf, n);
		bad[i] ^= 0x40;
		ck_assert_int_eq(parse(b, bad, n), -EACCES);
	}
	n = frame(stranger, 1, 2, "receipt", buf); /* another cluster's key */
	ck_assert_int_eq(parse(b, buf, n), -EACCES);
	n = frame(a, 1, 3, "receipt", buf); /* to another node */
	ck_assert_int_eq(parse(b, buf, n), -EDESTADDRREQ);
	n = frame(a, 2, 2, "receipt", buf); /* "from" ourselves: a reflection */
	ck_assert_int_eq(parse(b, buf, n), -EDESTADDRREQ);
	n = frame(a, 0, 2, "receipt", buf);
	ck_assert_int_eq(parse(b, buf, n), -EDESTADDRREQ);
	direct_udp_set_self(b->du, 0); /* before our nodeid is known nothing is taken */
	n = frame(a, 1, 2, "receipt", buf);
	ck_assert_int_eq(parse(b, buf, n), -EDESTADDRREQ);
	endpoint_free(a);
	endpoint_free(b);
	endpoint_free(stranger);
	qb_loop_destroy(loop);
}
END_TEST

START_TEST(test_direct_bad_keys_and_addresses)
{
	qb_loop_t *loop = qb_loop_create();
	struct endpoint e;
	char err[256] = "";
	ck_assert_int_eq(open_endpoint(loop, "missing", &e, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	ck_assert_int_eq(open_endpoint(loop, "short", &e, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "shorter than 16 bytes"));
	struct endpoint *a = endpoint(loop, "key", 1);
	ck_assert_int_eq(direct_udp_set_peer(a->du, 2, "node2.example", 0), -EINVAL);
	ck_assert_int_eq(direct_udp_set_peer(a->du, 2, "", 0), -EINVAL);
	ck_assert_int_eq(direct_udp_send(a->du, 2, "blkspace", "x", 1), -EHOSTUNREACH);
	ck_assert_int_eq(direct_udp_set_peer(a->du, 2, "127.0.0.1", 9), 0);
	char big[DIRECT_MSG_MAX + 1] = { 0 };
	ck_assert_int_eq(direct_udp_send(a->du, 2, "blkspace", big, sizeof(big)), -EMSGSIZE);
	ck_assert_int_eq(direct_udp_send(a->du, 2, "", "x", 1), -EMSGSIZE);
	endpoint_free(a);
	qb_loop_destroy(loop);
}
END_TEST

static void on_deadline(void *data) { qb_loop_stop(data); }

/* Run the loop until a datagram arrives (or a generous bound passes). */
static void run_until_received(qb_loop_t *loop)
{
	qb_loop_timer_handle t;
	ck_assert_int_eq(qb_loop_timer_add(loop, QB_LOOP_LOW, WAIT_NS, loop, on_deadline, &t), 0);
	qb_loop_run(loop);
	qb_loop_timer_del(loop, t);
}

static void send_raw(uint16_t port, const void *buf, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
	close(fd);
}

START_TEST(test_direct_datagram_arrives_and_garbage_is_dropped)
{
	qb_loop_t *loop = qb_loop_create();
	struct endpoint *a = endpoint(loop, "key", 1), *b = endpoint(loop, "key", 2),
	                *stranger = endpoint(loop, "other", 3);
	uint16_t port_b = direct_udp_port(b->du);
	ck_assert_int_ne(port_b, 0);
	ck_assert_int_eq(direct_udp_set_peer(a->du, 2, "127.0.0.1", port_b), 0);
	ck_assert_int_eq(direct_udp_set_peer(stranger->du, 2, "127.0.0.1", port_b), 0);
	/* garbage and a datagram under another key first: counted, not taken */
	send_raw(port_b, "hello", 5);
	ck_assert_int_eq(direct_udp_send(stranger->du, 2, "blkspace", "forged", 6), 0);
	ck_assert_int_eq(direct_udp_send(a->du, 2, "blkspace", "receipt", 7), 0);
	run_until_received(loop);
	ck_assert_uint_eq(b->received, 1);
	ck_assert_uint_eq(b->from, 1);
	ck_assert_str_eq(b->group, "blkspace");
	ck_assert_str_eq(b->msg, "receipt");
	struct transport_direct_counts ca, cb;
	direct_udp_get_counts(a->du, &ca);
	direct_udp_get_counts(b->du, &cb);
	ck_assert_uint_eq(ca.sent, 1);
	ck_assert_uint_eq(cb.received, 1);
	ck_assert_uint_eq(cb.rejected, 2);
	ck_assert_uint_eq(cb.port, port_b);
	endpoint_free(a);
	endpoint_free(b);
	endpoint_free(stranger);
	qb_loop_destroy(loop);
}
END_TEST

static Suite *direct_suite(void)
{
	Suite *s = suite_create("direct");
	check_add_case(s, "bad_datagrams", test_direct_bad_datagrams_are_refused, setup, teardown, 30);
	check_add_case(s, "bad_keys_and_addresses", test_direct_bad_keys_and_addresses, setup,
	               teardown, 30);
	check_add_case(s, "datagram_arrives", test_direct_datagram_arrives_and_garbage_is_dropped,
	               setup, teardown, 30);
	return s;
}

int main(void)
{
	return check_run(direct_suite());
}
