/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the benchmarks of blkspace-bench share: latency samples, the clock
 * and the result line. */
#ifndef BLKSPACE_BENCH_H
#define BLKSPACE_BENCH_H

#include <stddef.h>
#include <stdint.h>

struct samples {
	double *us;
	size_t n;
};

double now_us(void);
/* Print "NAME ops=N seconds=S ops_per_s=R p50_us=A p99_us=B" (sorts s). */
void report(const char *name, struct samples *s, double seconds);

/* Raw CPG (bench-cpg.c): an agreed message to our own delivery; one
 * delivered on another node and echoed back; the echoing side. */
int bench_cpg(size_t count);

/* The raw CPG round trip one at a time, to interleave with another
 * benchmark: open (joined and warmed up, NULL on failure), one round trip
 * (its latency in us, negative when the delivery does not come), close
 * (accepts NULL). */
struct cpg_bench;
struct cpg_bench *cpg_yardstick_open(void);
double cpg_yardstick_round(struct cpg_bench *b);
void cpg_yardstick_close(struct cpg_bench *b);
int bench_cpg_echo(size_t count);
/* With echoers on the two other nodes of three: the first and the last
 * echo. With a commit directory, every node makes a group commit first: we
 * after sending, each echoer before echoing (an answer's critical path).
 * With udp, echoes go by UDP: "PORT" where cpg-echo-all takes them,
 * "ADDR:PORT" where an echoer sends them (NULL: by CPG). */
int bench_cpg_echo_all(size_t count, const char *commit_dir, const char *udp);
int bench_cpg_echoer(const char *commit_dir, const char *udp);

/* The daemon's group commit (bench-commit.c): a journal record written and
 * fdatasync()ed in a preallocated file in dir; count times, measured, or
 * one at a time (open prints why it fails; one returns -1 on an error). */
int bench_commit(size_t count, const char *dir);
struct commit_file;
struct commit_file *commit_open(const char *dir);
int commit_one(struct commit_file *c);
void commit_close(struct commit_file *c);

#endif
