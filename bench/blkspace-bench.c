/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace-bench: latency and rate of one operation, measured from this node.
 *
 *   blkspace-bench cpg [-n COUNT]                 raw CPG: agreed multicast to own delivery
 *   blkspace-bench property-set [-n COUNT] [-c CLIENTS]   through libblkspace and the daemon
 *   blkspace-bench property-get [-n COUNT]        a local query: the IPC round trip alone
 *
 * Prints one line "NAME ops=N seconds=S ops_per_s=R p50_us=A p99_us=B".
 * Each client runs its operations one after the other; with several clients
 * (forked processes) the rate is the total over all of them. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include <blkspace/blkspace.h>

struct samples {
	double *us;
	size_t n;
};

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *name, struct samples *s, double seconds)
{
	qsort(s->us, s->n, sizeof(double), cmp_double);
	double p50 = s->us[s->n / 2], p99 = s->us[(s->n * 99) / 100 < s->n ? (s->n * 99) / 100 : s->n - 1];
	printf("%s ops=%zu seconds=%.3f ops_per_s=%.0f p50_us=%.1f p99_us=%.1f\n", name, s->n, seconds,
	       (double)s->n / seconds, p50, p99);
}

/* --- raw CPG ------------------------------------------------------------------------ */

struct cpg_ping {
	uint32_t nodeid, pid;
	uint64_t waiting; /* sequence number we wait to see delivered */
	int delivered;
};

static void ping_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
                         void *msg, size_t len)
{
	void *ctx = NULL;
	cpg_context_get(h, &ctx);
	struct cpg_ping *p = ctx;
	uint64_t seq;
	if (len == sizeof(seq) && nodeid == p->nodeid && pid == p->pid) {
		memcpy(&seq, msg, sizeof(seq));
		p->delivered |= seq == p->waiting;
	}
}

static void ping_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m,
                         size_t nm, const struct cpg_address *l, size_t nl,
                         const struct cpg_address *j, size_t nj)
{
}

/* Send one agreed message and dispatch until it comes back. */
static int ping_once(cpg_handle_t h, int fd, struct cpg_ping *p, uint64_t seq)
{
	struct iovec iov = { &seq, sizeof(seq) };
	p->waiting = seq;
	p->delivered = 0;
	cs_error_t e;
	while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN)
		cpg_dispatch(h, CS_DISPATCH_ALL);
	if (e != CS_OK)
		return -1;
	while (!p->delivered) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (poll(&pfd, 1, 5000) <= 0 || cpg_dispatch(h, CS_DISPATCH_ALL) != CS_OK)
			return -1;
	}
	return 0;
}

static int bench_cpg(size_t count)
{
	struct cpg_ping p = { .pid = (uint32_t)getpid() };
	cpg_model_v1_data_t model = { .model = CPG_MODEL_V1, .cpg_deliver_fn = ping_deliver,
		                      .cpg_confchg_fn = ping_confchg };
	cpg_handle_t h;
	struct cpg_name group = { .length = 14 };
	memcpy(group.value, "blkspace-bench", 14);
	int fd;
	if (cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model, &p) != CS_OK ||
	    cpg_local_get(h, &p.nodeid) != CS_OK || cpg_fd_get(h, &fd) != CS_OK ||
	    cpg_join(h, &group) != CS_OK) {
		fprintf(stderr, "blkspace-bench: cannot join a CPG group (is corosync running?)\n");
		return 1;
	}
	struct samples s = { calloc(count, sizeof(double)), count };
	for (size_t i = 0; i < 20; i++) /* warm up */
		ping_once(h, fd, &p, i + 1);
	double t0 = now_us();
	for (size_t i = 0; i < count; i++) {
		double a = now_us();
		if (ping_once(h, fd, &p, 1000 + i) < 0) {
			fprintf(stderr, "blkspace-bench: lost the CPG connection\n");
			return 1;
		}
		s.us[i] = now_us() - a;
	}
	report("raw_cpg", &s, (now_us() - t0) / 1e6);
	cpg_leave(h, &group);
	cpg_finalize(h);
	free(s.us);
	return 0;
}

/* --- property set -------------------------------------------------------------------- */

static int run_client(unsigned id, size_t count, double *us)
{
	struct blkspace *b;
	int rc = blkspace_connect(&b);
	if (rc < 0) {
		fprintf(stderr, "blkspace-bench: %s\n", blkspace_strerror(rc));
		return 1;
	}
	char key[64], value[32];
	const char *k[1] = { key }, *v[1] = { value };
	for (size_t i = 0; i < count + 10; i++) {
		snprintf(key, sizeof(key), "bench.c%u.k%zu", id, i % 1000);
		snprintf(value, sizeof(value), "%zu", i);
		double a = now_us();
		if ((rc = blkspace_property_set(b, k, v, 1, 0)) < 0) {
			fprintf(stderr, "blkspace-bench: property set: %s\n", blkspace_strerror(rc));
			blkspace_disconnect(b);
			return 1;
		}
		if (i >= 10) /* the first ten warm up */
			us[i - 10] = now_us() - a;
	}
	blkspace_disconnect(b);
	return 0;
}

/* A query answered from the local replica: what the IPC path alone costs. */
static int bench_property_get(size_t count)
{
	struct blkspace *b;
	int rc = blkspace_connect(&b);
	if (rc < 0) {
		fprintf(stderr, "blkspace-bench: %s\n", blkspace_strerror(rc));
		return 1;
	}
	const char *k[1] = { "bench.get" }, *v[1] = { "x" };
	if ((rc = blkspace_property_set(b, k, v, 1, 0)) < 0) {
		fprintf(stderr, "blkspace-bench: property set: %s\n", blkspace_strerror(rc));
		return 1;
	}
	struct samples s = { calloc(count, sizeof(double)), count };
	double t0 = now_us();
	for (size_t i = 0; i < count; i++) {
		char *value = NULL;
		double a = now_us();
		rc = blkspace_property_get(b, "bench.get", &value);
		s.us[i] = now_us() - a;
		free(value);
		if (rc < 0) {
			fprintf(stderr, "blkspace-bench: property get: %s\n", blkspace_strerror(rc));
			return 1;
		}
	}
	report("property_get", &s, (now_us() - t0) / 1e6);
	blkspace_disconnect(b);
	free(s.us);
	return 0;
}

static int bench_property_set(size_t count, unsigned clients)
{
	size_t per = count / clients;
	double *us = mmap(NULL, per * clients * sizeof(double), PROT_READ | PROT_WRITE,
	                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (us == MAP_FAILED)
		return 1;
	double t0 = now_us();
	for (unsigned c = 0; c < clients; c++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(run_client(c, per, us + c * per));
		if (pid < 0)
			return 1;
	}
	int failed = 0, status;
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (failed)
		return 1;
	struct samples s = { us, per * clients };
	char name[64];
	snprintf(name, sizeof(name), clients > 1 ? "property_set_x%u" : "property_set", clients);
	report(name, &s, (now_us() - t0) / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = 2000;
	unsigned clients = 1;
	int c;
	while ((c = getopt(argc, argv, "n:c:h")) != -1) {
		switch (c) {
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'c': clients = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: blkspace-bench cpg|property-set|property-get [-n COUNT] [-c CLIENTS]\n");
			return 64;
		}
	}
	if (optind != argc - 1 || count < 10 || clients < 1 || clients > 64) {
		fprintf(stderr, "usage: blkspace-bench cpg|property-set|property-get [-n COUNT] [-c CLIENTS]\n");
		return 64;
	}
	if (strcmp(argv[optind], "cpg") == 0)
		return bench_cpg(count);
	if (strcmp(argv[optind], "property-set") == 0)
		return bench_property_set(count, clients);
	if (strcmp(argv[optind], "property-get") == 0)
		return bench_property_get(count);
	fprintf(stderr, "blkspace-bench: unknown benchmark '%s'\n", argv[optind]);
	return 64;
}
