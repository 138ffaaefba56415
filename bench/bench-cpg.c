/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Raw CPG round trips, the yardsticks of bench/run.
 *
 * cpg: one agreed multicast to its own delivery, the "raw CPG" round trip.
 * cpg-echo: a multicast delivered on another node, where cpg-echoer sends
 * it back, to its delivery here: two deliveries on another node, which any
 * answer that waits for another node's receipt needs at least. With an
 * echoer on every other node, cpg-echo-all times both the first echo (what
 * an answer at a majority of three waits for) and the last (an answer that
 * waits for every member). Echoes carry ECHO_FLAG; an echoer sends back only
 * unflagged messages, and stops once the node that sent them has left.
 * With a UDP address the echoers send their echoes in a datagram instead
 * (as blkspaced sends its direct receipts), and cpg-echo-all takes them on
 * that port. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "bench.h"

#define ECHO_WAIT_MS 10000 /* for the echoer to join, and for one echo */
#define ECHO_FLAG (1ULL << 63)

struct cpg_bench {
	cpg_handle_t h;
	int fd;
	struct cpg_name group;
	uint32_t nodeid, pid;
	bool from_other;   /* wait for echoes of the sequence number from other nodes */
	size_t need;       /* ... this many (one per node) */
	uint64_t waiting;  /* sequence number we wait to see delivered */
	size_t echoes;     /* echoes of it so far */
	double first_at;   /* when the first came */
	bool delivered;
	size_t others;     /* members on other nodes */
	bool had_others;
	uint32_t sender;   /* echoer: the node whose messages it echoes (0: none yet) */
	bool sender_left;
	uint64_t to_echo;  /* echoer: what to send back (0: nothing) */
	struct commit_file *commit; /* a group commit after each send, before each echo */
	int udp_fd;                 /* echoes by UDP: received here, or sent to udp_to */
	struct sockaddr_in udp_to;
};

/* An echo of seq from another node (by CPG or UDP). */
static void took_echo(struct cpg_bench *b, uint64_t seq)
{
	if ((seq & ~ECHO_FLAG) != b->waiting)
		return;
	if (b->echoes++ == 0)
		b->first_at = now_us();
	b->delivered = b->echoes >= b->need;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
                       void *msg, size_t len)
{
	void *ctx = NULL;
	cpg_context_get(h, &ctx);
	struct cpg_bench *b = ctx;
	uint64_t seq;
	if (len != sizeof(seq))
		return;
	memcpy(&seq, msg, sizeof(seq));
	bool own = nodeid == b->nodeid && pid == b->pid, echo = seq & ECHO_FLAG;
	if (!b->from_other && own && seq == b->waiting) {
		b->delivered = true;
	} else if (b->from_other && echo && nodeid != b->nodeid) {
		took_echo(b, seq);
	}
	if (!echo && nodeid != b->nodeid && (!b->sender || b->sender == nodeid)) {
		b->sender = nodeid;
		b->to_echo = seq; /* only an echoer acts on it */
	}
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m,
                       size_t nm, const struct cpg_address *l, size_t nl,
                       const struct cpg_address *j, size_t nj)
{
	void *ctx = NULL;
	cpg_context_get(h, &ctx);
	struct cpg_bench *b = ctx;
	b->others = 0;
	for (size_t i = 0; i < nm; i++)
		b->others += m[i].nodeid != b->nodeid;
	b->had_others |= b->others > 0;
	for (size_t i = 0; i < nl; i++)
		b->sender_left |= b->sender && l[i].nodeid == b->sender;
}

static int bench_open(struct cpg_bench *b, const char *group)
{
	static cpg_model_v1_data_t model = { .model = CPG_MODEL_V1, .cpg_deliver_fn = on_deliver,
		                             .cpg_confchg_fn = on_confchg };
	b->pid = (uint32_t)getpid();
	b->group.length = (uint32_t)strlen(group);
	memcpy(b->group.value, group, b->group.length);
	if (cpg_model_initialize(&b->h, CPG_MODEL_V1, (cpg_model_data_t *)&model, b) != CS_OK ||
	    cpg_local_get(b->h, &b->nodeid) != CS_OK || cpg_fd_get(b->h, &b->fd) != CS_OK ||
	    cpg_join(b->h, &b->group) != CS_OK) {
		fprintf(stderr, "blkspace-bench: cannot join a CPG group (is corosync running?)\n");
		return -1;
	}
	return 0;
}

static void bench_close(struct cpg_bench *b)
{
	cpg_leave(b->h, &b->group);
	cpg_finalize(b->h);
}

/* Dispatch what arrives within ms; 0, or -1 on a timeout or a lost connection. */
static int dispatch_once(struct cpg_bench *b, int ms)
{
	struct pollfd pfd[2] = { { b->fd, POLLIN, 0 }, { b->udp_fd, POLLIN, 0 } };
	bool udp_in = b->udp_fd > 0 && !b->udp_to.sin_port;
	if (poll(pfd, udp_in ? 2 : 1, ms) <= 0)
		return -1;
	if (pfd[0].revents && cpg_dispatch(b->h, CS_DISPATCH_ALL) != CS_OK)
		return -1;
	uint64_t seq;
	if (udp_in && pfd[1].revents && recv(b->udp_fd, &seq, sizeof(seq), 0) == sizeof(seq))
		took_echo(b, seq);
	return 0;
}

/* "PORT" (we take echoes there) or "ADDR:PORT" (we send them there). */
static int udp_open(struct cpg_bench *b, const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char addr[64] = "0.0.0.0";
	if (colon && (size_t)(colon - spec) < sizeof(addr))
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - spec), spec);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)atoi(colon ? colon + 1 : spec)) };
	b->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (b->udp_fd < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 || !a.sin_port ||
	    (!colon && bind(b->udp_fd, (struct sockaddr *)&a, sizeof(a)) < 0)) {
		fprintf(stderr, "blkspace-bench: cannot use UDP '%s'\n", spec);
		return -1;
	}
	if (colon)
		b->udp_to = a;
	return 0;
}

static void udp_close(struct cpg_bench *b)
{
	if (b->udp_fd > 0)
		close(b->udp_fd);
}

static int send_seq(struct cpg_bench *b, uint64_t seq)
{
	struct iovec iov = { &seq, sizeof(seq) };
	cs_error_t e;
	while ((e = cpg_mcast_joined(b->h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN)
		cpg_dispatch(b->h, CS_DISPATCH_ALL);
	return e == CS_OK ? 0 : -1;
}

/* Send seq and dispatch until it (or its echo) is delivered. */
static int round_trip(struct cpg_bench *b, uint64_t seq)
{
	b->waiting = seq;
	b->delivered = false;
	b->echoes = 0;
	if (send_seq(b, seq) < 0 || (b->commit && commit_one(b->commit) < 0))
		return -1;
	while (!b->delivered)
		if (dispatch_once(b, ECHO_WAIT_MS) < 0)
			return -1;
	return 0;
}

static int measure(struct cpg_bench *b, const char *name, size_t count)
{
	struct samples s = { calloc(count, sizeof(double)), count };
	if (!s.us)
		return 1;
	for (size_t i = 0; i < 20; i++) /* warm up */
		if (round_trip(b, i + 1) < 0)
			goto lost;
	double t0 = now_us();
	for (size_t i = 0; i < count; i++) {
		double a = now_us();
		if (round_trip(b, 1000 + i) < 0)
			goto lost;
		s.us[i] = now_us() - a;
	}
	report(name, &s, (now_us() - t0) / 1e6);
	free(s.us);
	return 0;
lost:
	fprintf(stderr, "blkspace-bench: %s: no delivery within %d ms\n", name, ECHO_WAIT_MS);
	free(s.us);
	return 1;
}

struct cpg_bench *cpg_yardstick_open(void)
{
	struct cpg_bench *b = calloc(1, sizeof(*b));
	if (b && bench_open(b, "blkspace-bench") < 0) {
		free(b);
		return NULL;
	}
	for (uint64_t i = 1; b && i <= 20; i++) /* warm up */
		if (round_trip(b, i) < 0) {
			cpg_yardstick_close(b);
			return NULL;
		}
	return b;
}

double cpg_yardstick_round(struct cpg_bench *b)
{
	static uint64_t seq = 1000;
	double a = now_us();
	if (round_trip(b, ++seq) < 0) {
		fprintf(stderr, "blkspace-bench: raw cpg: no delivery within %d ms\n", ECHO_WAIT_MS);
		return -1;
	}
	return now_us() - a;
}

void cpg_yardstick_close(struct cpg_bench *b)
{
	if (!b)
		return;
	bench_close(b);
	free(b);
}

int bench_cpg(size_t count)
{
	struct cpg_bench b = { 0 };
	if (bench_open(&b, "blkspace-bench") < 0)
		return 1;
	int rc = measure(&b, "raw_cpg", count);
	bench_close(&b);
	return rc;
}

/* Both echoes of every round: the first and the last one's latency. */
static int measure_first_and_last(struct cpg_bench *b, size_t count)
{
	struct samples first = { calloc(count, sizeof(double)), count };
	struct samples last = { calloc(count, sizeof(double)), count };
	int rc = first.us && last.us ? 0 : 1;
	for (size_t i = 0; rc == 0 && i < 20; i++) /* warm up */
		rc = round_trip(b, i + 1) < 0;
	double t0 = now_us();
	for (size_t i = 0; rc == 0 && i < count; i++) {
		double a = now_us();
		rc = round_trip(b, 1000 + i) < 0;
		last.us[i] = now_us() - a;
		first.us[i] = b->first_at - a;
	}
	if (rc == 0) {
		double seconds = (now_us() - t0) / 1e6;
		const char *kind = b->udp_fd > 0 ? (b->commit ? "committed_direct_echo" : "raw_cpg_direct_echo")
		                                 : (b->commit ? "committed_echo" : "raw_cpg_echo");
		char name[64];
		snprintf(name, sizeof(name), "%s_first", kind);
		report(name, &first, seconds);
		snprintf(name, sizeof(name), "%s_last", kind);
		report(name, &last, seconds);
	} else {
		fprintf(stderr, "blkspace-bench: cpg-echo-all: no echo within %d ms\n", ECHO_WAIT_MS);
	}
	free(first.us);
	free(last.us);
	return rc;
}

/* Wait for echoers on `want` other nodes, then measure. */
static int echo_bench(size_t count, size_t want, const char *commit_dir, const char *udp)
{
	struct cpg_bench b = { .from_other = true, .need = want };
	if (udp && udp_open(&b, udp) < 0) {
		udp_close(&b);
		return 1;
	}
	if (commit_dir && !(b.commit = commit_open(commit_dir))) {
		udp_close(&b);
		return 1;
	}
	if (bench_open(&b, "blkspace-bench-echo") < 0) {
		commit_close(b.commit);
		return 1;
	}
	int rc = 0;
	double end = now_us() + ECHO_WAIT_MS * 1e3;
	while (b.others < want && rc == 0)
		if (now_us() > end || dispatch_once(&b, ECHO_WAIT_MS) < 0)
			rc = -1;
	if (rc < 0)
		fprintf(stderr, "blkspace-bench: not %zu cpg-echoers joined within %d ms\n", want,
		        ECHO_WAIT_MS);
	else if (want == 1)
		rc = measure(&b, "raw_cpg_echo", count);
	else
		rc = measure_first_and_last(&b, count);
	bench_close(&b);
	commit_close(b.commit);
	udp_close(&b);
	return rc ? 1 : 0;
}

int bench_cpg_echo(size_t count) { return echo_bench(count, 1, NULL, NULL); }
int bench_cpg_echo_all(size_t count, const char *commit_dir, const char *udp)
{
	return echo_bench(count, 2, commit_dir, udp);
}

static int send_echo(struct cpg_bench *b, uint64_t seq)
{
	if (b->udp_fd <= 0)
		return send_seq(b, seq);
	return sendto(b->udp_fd, &seq, sizeof(seq), 0, (struct sockaddr *)&b->udp_to,
	              sizeof(b->udp_to)) == sizeof(seq) ? 0 : -1;
}

/* Echo what other nodes send until the last of them leaves. */
int bench_cpg_echoer(const char *commit_dir, const char *udp)
{
	struct cpg_bench b = { 0 };
	if (udp && udp_open(&b, udp) < 0) {
		udp_close(&b);
		return 1;
	}
	if (commit_dir && !(b.commit = commit_open(commit_dir))) {
		udp_close(&b);
		return 1;
	}
	if (bench_open(&b, "blkspace-bench-echo") < 0) {
		commit_close(b.commit);
		return 1;
	}
	int rc = 0;
	while (!b.sender_left && !(b.had_others && !b.others)) {
		if (dispatch_once(&b, 2 * ECHO_WAIT_MS) < 0) {
			fprintf(stderr, "blkspace-bench: cpg-echoer: nothing to echo for %d ms\n",
			        2 * ECHO_WAIT_MS);
			rc = 1;
			break;
		}
		if (b.to_echo && ((b.commit && commit_one(b.commit) < 0) ||
		                  send_echo(&b, b.to_echo | ECHO_FLAG) < 0)) {
			rc = 1;
			break;
		}
		b.to_echo = 0;
	}
	bench_close(&b);
	commit_close(b.commit);
	udp_close(&b);
	return rc;
}
