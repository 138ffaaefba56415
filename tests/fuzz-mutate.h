/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deterministic mutation fuzzing for tests/check_fuzz: the seed and the
 * iteration count, a corpus of byte strings and the mutations made to them
 * (tests/fuzz-mutate.c). Each iteration draws from a generator of its own,
 * derived from (seed, test, iteration), so a failure names one iteration,
 * and running that many iterations with that seed repeats it. Environment:
 *   FUZZ_SEED=n        another seed (default FUZZ_DEFAULT_SEED)
 *   FUZZ_ITERATIONS=n  iterations of every test case (default: per case)
 *   FUZZ_VERBOSE=1     the last iteration runs with the daemon's log on stderr
 *   FUZZ_TRACE=1       print each iteration as it starts (UBSan ends the
 *                      process without a word of ours) */
#ifndef BLKSPACE_TESTS_FUZZ_MUTATE_H
#define BLKSPACE_TESTS_FUZZ_MUTATE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define FUZZ_DEFAULT_SEED 1
#define FUZZ_MAX_STACK 6     /* mutations stacked on one input, at most */
#define FUZZ_MAX_GROWTH 4096 /* bytes a mutated input may grow by */

/* One test case's run: which iteration it is at and its generator. */
struct fuzz {
	const char *test; /* the tcase name, for CK_RUN_CASE */
	uint64_t seed;
	unsigned iterations; /* 0: not fuzzing (recording a corpus) */
	unsigned iter;
	bool verbose, trace;
	uint64_t rng;
	/* values that matter for the input at hand (a limit, a count), which
	 * mutated fields take as often as the fixed interesting ones */
	const uint64_t *hints;
	size_t n_hints;
};

/* Every failure says how to reproduce it. */
#define FZ_ASSERT(fz, cond, ...) \
	ck_assert_msg((cond), "%s: %s", fuzz_where(fz), fuzz_say(__VA_ARGS__))

/* A failure message, formatted into a static buffer (used by FZ_ASSERT). */
const char *fuzz_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Where fz is and how to reproduce it, in a static buffer (used by FZ_ASSERT). */
const char *fuzz_where(const struct fuzz *fz);

/* Start a test case: FUZZ_SEED and FUZZ_ITERATIONS override the defaults;
 * installs the crash handlers that name the iteration. */
void fuzz_begin(struct fuzz *fz, const char *test, unsigned iterations);
/* With FUZZ_VERBOSE, the last iteration (the one a failure names) runs
 * with the daemon's log on stderr: true during it. */
bool fuzz_verbose(const struct fuzz *fz);
/* Seed the generator of iteration i; false once all are done. */
bool fuzz_next(struct fuzz *fz, unsigned i);

/* A random number below n (0 when n is 0). */
uint64_t fz_below(struct fuzz *fz, uint64_t n);
/* True with the given probability in percent. */
bool fz_chance(struct fuzz *fz, unsigned percent);

/* ---- corpus ---------------------------------------------------------------- */

struct fuzz_item {
	uint8_t *data;
	size_t len;
	uint32_t tag;  /* what it is: a message type, an operation, a record kind */
	uint32_t from; /* who produced it (a node id), 0 when it does not matter */
};

struct fuzz_corpus {
	struct fuzz_item *v;
	size_t n, cap;
};

/* Append a copy of data[len]. */
void corpus_add(struct fuzz_corpus *c, uint32_t tag, uint32_t from, const void *data,
                size_t len);
/* Free every item; c is empty (and reusable) after. */
void corpus_done(struct fuzz_corpus *c);
/* A random item of a corpus that must not be empty. */
const struct fuzz_item *corpus_pick(struct fuzz *fz, const struct fuzz_corpus *c);

/* A heap copy of exactly len bytes, so that the sanitizer sees any read past
 * the end; the caller frees it. */
uint8_t *fuzz_exact(const void *data, size_t len);

/* ---- mutations --------------------------------------------------------------- */

/* The little-endian integer of n bytes at p. */
uint64_t get_le(const uint8_t *p, size_t n);
void fill_random(struct fuzz *fz, uint8_t *p, size_t n);
/* A field of 1, 2, 4 or 8 bytes at a random place: an interesting value,
 * or the old one nudged by a small amount. */
void mutate_field(struct fuzz *fz, struct wbuf *w, bool nudge);
/* Mutate w in place with 1..FUZZ_MAX_STACK stacked mutations (fewer more
 * often); other, when not NULL, supplies inputs to splice in. */
void fuzz_mutate(struct fuzz *fz, struct wbuf *w, const struct fuzz_corpus *other);
/* A mutated copy of a random item of c into w; returns the item. */
const struct fuzz_item *fuzz_mutant(struct fuzz *fz, struct wbuf *w, const struct fuzz_corpus *c);

#endif
