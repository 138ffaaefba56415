/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace-bench: latency and rate of one operation, measured from this node.
 *
 *   blkspace-bench cpg [-n COUNT]                 raw CPG: agreed multicast to own delivery
 *   blkspace-bench cpg-echo [-n COUNT]            delivered on another node and echoed back
 *   blkspace-bench cpg-echo-all [-n COUNT] [-d DIR]  echoed by both other nodes: first and
 *                                                 last; with -d each node makes a group commit
 *                                                 in DIR (we after sending, echoers before echoing)
 *   blkspace-bench cpg-echoer [-d DIR]            (on another node) echo until cpg-echo is done
 *     cpg-echo-all and cpg-echoer with -u: echoes by UDP (as direct receipts go), taken on
 *     port -u PORT by cpg-echo-all, sent to -u ADDR:PORT by each echoer
 *   blkspace-bench property-set [-n COUNT] [-c CLIENTS]   through libblkspace and the daemon
 *   blkspace-bench property-set -i [-n COUNT]     the same in turns with raw CPG round trips
 *   blkspace-bench property-get [-n COUNT]        a local query: the IPC round trip alone
 *   blkspace-bench commit [-n COUNT] [-d DIR]     a journal record and fdatasync, as the
 *                                                 daemon commits (DIR: /var/lib/blkspace)
 *
 * Prints one line "NAME ops=N seconds=S ops_per_s=R p50_us=A p99_us=B".
 * Each client runs its operations one after the other; with several clients
 * (forked processes) the rate is the total over all of them. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <blkspace/blkspace.h>

#include "bench.h"

double now_us(void)
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

void report(const char *name, struct samples *s, double seconds)
{
	qsort(s->us, s->n, sizeof(double), cmp_double);
	double p50 = s->us[s->n / 2], p99 = s->us[(s->n * 99) / 100 < s->n ? (s->n * 99) / 100 : s->n - 1];
	printf("%s ops=%zu seconds=%.3f ops_per_s=%.0f p50_us=%.1f p99_us=%.1f\n", name, s->n, seconds,
	       (double)s->n / seconds, p50, p99);
}

/* --- property set -------------------------------------------------------------------- */

/* Client id's i-th property change; its latency in us, negative on an error. */
static double set_one(struct blkspace *b, unsigned id, size_t i)
{
	char key[64], value[32];
	const char *k[1] = { key }, *v[1] = { value };
	snprintf(key, sizeof(key), "bench.c%u.k%zu", id, i % 1000);
	snprintf(value, sizeof(value), "%zu", i);
	double a = now_us();
	int rc = blkspace_property_set(b, k, v, 1, 0);
	if (rc < 0) {
		fprintf(stderr, "blkspace-bench: property set: %s\n", blkspace_strerror(rc));
		return -1;
	}
	return now_us() - a;
}

static int run_client(unsigned id, size_t count, double *us)
{
	struct blkspace *b;
	int rc = blkspace_connect(&b);
	if (rc < 0) {
		fprintf(stderr, "blkspace-bench: %s\n", blkspace_strerror(rc));
		return 1;
	}
	for (size_t i = 0; i < count + 10; i++) {
		double t = set_one(b, id, i);
		if (t < 0) {
			blkspace_disconnect(b);
			return 1;
		}
		if (i >= 10) /* the first ten warm up */
			us[i - 10] = t;
	}
	blkspace_disconnect(b);
	return 0;
}

#define TURN 50 /* operations per turn when interleaved with raw CPG */

/* n more samples of fn into s (adding the time taken to *seconds); -1 on an error. */
static int take_turn(struct samples *s, size_t n, double *seconds, double (*fn)(void *), void *data)
{
	double t0 = now_us();
	for (size_t i = 0; i < n; i++) {
		double t = fn(data);
		if (t < 0)
			return -1;
		s->us[s->n++] = t;
	}
	*seconds += (now_us() - t0) / 1e6;
	return 0;
}

static double raw_round(void *data) { return cpg_yardstick_round(data); }

static double set_next(void *data)
{
	static size_t i = 10;
	return set_one(data, 0, i++);
}

/* Property changes and raw CPG round trips in turns of TURN, so that both
 * meet the same moments of a machine whose speed drifts: prints the
 * raw_cpg line, then the property_set line. */
static int bench_property_set_interleaved(size_t count)
{
	struct samples raw = { calloc(count, sizeof(double)), 0 };
	struct samples set = { calloc(count, sizeof(double)), 0 };
	struct cpg_bench *y = raw.us && set.us ? cpg_yardstick_open() : NULL;
	struct blkspace *b = NULL;
	int rc = y ? blkspace_connect(&b) : -ENOMEM;
	if (rc < 0 && y)
		fprintf(stderr, "blkspace-bench: %s\n", blkspace_strerror(rc));
	for (size_t i = 0; rc == 0 && i < 10; i++) /* warm up */
		rc = set_one(b, 0, i) < 0 ? -1 : 0;
	double raw_s = 0, set_s = 0;
	while (rc == 0 && set.n < count) {
		size_t n = count - set.n < TURN ? count - set.n : TURN;
		rc = take_turn(&raw, n, &raw_s, raw_round, y);
		if (rc == 0)
			rc = take_turn(&set, n, &set_s, set_next, b);
	}
	if (rc == 0) {
		report("raw_cpg", &raw, raw_s);
		report("property_set", &set, set_s);
	}
	blkspace_disconnect(b);
	cpg_yardstick_close(y);
	free(raw.us);
	free(set.us);
	return rc == 0 ? 0 : 1;
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

static const char usage[] = "usage: blkspace-bench cpg|cpg-echo|cpg-echo-all|cpg-echoer|"
                            "property-set|property-get|commit [-n COUNT] [-c CLIENTS] [-i] [-d DIR] "
                            "[-u [ADDR:]PORT]\n";

int main(int argc, char **argv)
{
	size_t count = 2000;
	unsigned clients = 1;
	bool interleave = false;
	const char *dir = NULL, *udp = NULL;
	int c;
	while ((c = getopt(argc, argv, "n:c:id:u:h")) != -1) {
		switch (c) {
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'u': udp = optarg; break;
		case 'c': clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': interleave = true; break;
		default:
			fprintf(stderr, "%s", usage);
			return 64;
		}
	}
	if (optind != argc - 1 || count < 10 || clients < 1 || clients > 64) {
		fprintf(stderr, "%s", usage);
		return 64;
	}
	if (strcmp(argv[optind], "cpg") == 0)
		return bench_cpg(count);
	if (strcmp(argv[optind], "cpg-echo") == 0)
		return bench_cpg_echo(count);
	if (strcmp(argv[optind], "cpg-echo-all") == 0)
		return bench_cpg_echo_all(count, dir, udp);
	if (strcmp(argv[optind], "cpg-echoer") == 0)
		return bench_cpg_echoer(dir, udp);
	if (strcmp(argv[optind], "commit") == 0)
		return bench_commit(count, dir ? dir : "/var/lib/blkspace");
	if (interleave && (clients != 1 || strcmp(argv[optind], "property-set") != 0)) {
		fprintf(stderr, "blkspace-bench: -i is for property-set with one client\n%s", usage);
		return 64;
	}
	if (strcmp(argv[optind], "property-set") == 0)
		return interleave ? bench_property_set_interleaved(count) : bench_property_set(count, clients);
	if (strcmp(argv[optind], "property-get") == 0)
		return bench_property_get(count);
	fprintf(stderr, "blkspace-bench: unknown benchmark '%s'\n", argv[optind]);
	return 64;
}
