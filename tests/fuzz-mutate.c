/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deterministic mutation fuzzing for tests/check_fuzz: seeds and iterations,
 * crash reports that name the iteration, corpora and mutations (the
 * contract is in tests/fuzz-mutate.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "codec.h"
#include "fuzz-mutate.h"
#include "prng.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define FUZZ_SANITIZED 1
#else
#define FUZZ_SANITIZED 0
#endif

/* Failure messages are formatted here (only when a check fails). */
static char fuzz_say_buf[512], fuzz_where_buf[192];

const char *fuzz_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fuzz_say_buf, sizeof(fuzz_say_buf), fmt, ap);
	va_end(ap);
	return fuzz_say_buf;
}

const char *fuzz_where(const struct fuzz *fz)
{
	if (!fz->iterations)
		return "on the recorded exchanges (any seed)";
	snprintf(fuzz_where_buf, sizeof(fuzz_where_buf),
	         "iteration %u of %u (reproduce: FUZZ_SEED=%llu FUZZ_ITERATIONS=%u CK_RUN_CASE=%s)",
	         fz->iter, fz->iterations, (unsigned long long)fz->seed, fz->iter + 1, fz->test);
	return fuzz_where_buf;
}

/* A crash (signal, or an ASan report) prints this line: prepared for each
 * iteration, since the handlers cannot format. */
static char fuzz_crash_line[256];

static void fuzz_print_crash_line(void)
{
	ssize_t rc = write(STDERR_FILENO, fuzz_crash_line, strlen(fuzz_crash_line));
	(void)rc;
}

static void fuzz_on_signal(int sig)
{
	fuzz_print_crash_line();
	signal(sig, SIG_DFL);
	raise(sig);
}

#if FUZZ_SANITIZED
static void fuzz_watch_sanitizer(void) { __sanitizer_set_death_callback(fuzz_print_crash_line); }
#else
static void fuzz_watch_sanitizer(void) {}
#endif

static uint64_t fuzz_env(const char *name, uint64_t dflt, uint64_t max)
{
	const char *s = getenv(name);
	char *end;
	if (!s || !*s)
		return dflt;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	ck_assert_msg(*end == '\0' && !errno && v <= max, "%s=%s is not a number", name, s);
	return v;
}

void fuzz_begin(struct fuzz *fz, const char *test, unsigned iterations)
{
	memset(fz, 0, sizeof(*fz));
	fz->test = test;
	fz->seed = fuzz_env("FUZZ_SEED", FUZZ_DEFAULT_SEED, UINT64_MAX);
	fz->iterations = (unsigned)fuzz_env("FUZZ_ITERATIONS", iterations, UINT32_MAX);
	fz->verbose = getenv("FUZZ_VERBOSE") != NULL;
	fz->trace = getenv("FUZZ_TRACE") != NULL;
	fprintf(stderr, "check_fuzz: %s: FUZZ_SEED=%llu, %u iterations%s\n", test,
	        (unsigned long long)fz->seed, fz->iterations, FUZZ_SANITIZED ? " (sanitizers)" : "");
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], fuzz_on_signal);
	fuzz_watch_sanitizer();
}

bool fuzz_verbose(const struct fuzz *fz)
{
	return fz->verbose && fz->iter + 1 == fz->iterations;
}

static void fuzz_log_to_stderr(void)
{
	qb_log_init("check_fuzz", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
}

bool fuzz_next(struct fuzz *fz, unsigned i)
{
	if (i >= fz->iterations)
		return false;
	fz->iter = i;
	uint64_t h = fnv64(FNV64_INIT, fz->test, strlen(fz->test));
	fz->rng = fz->seed ^ h;
	fz->rng = prng_next(&fz->rng) + i;
	prng_next(&fz->rng);
	snprintf(fuzz_crash_line, sizeof(fuzz_crash_line),
	         "\ncheck_fuzz: crashed in %s at iteration %u (reproduce: FUZZ_SEED=%llu "
	         "FUZZ_ITERATIONS=%u CK_RUN_CASE=%s)\n",
	         fz->test, i, (unsigned long long)fz->seed, i + 1, fz->test);
	if (fuzz_verbose(fz))
		fuzz_log_to_stderr();
	if (fz->trace)
		fprintf(stderr, "check_fuzz: %s iteration %u\n", fz->test, i);
	return true;
}

uint64_t fz_below(struct fuzz *fz, uint64_t n) { return n ? prng_below(&fz->rng, n) : 0; }
bool fz_chance(struct fuzz *fz, unsigned percent) { return prng_chance(&fz->rng, percent); }

/* ---- corpus ---------------------------------------------------------------- */

void corpus_add(struct fuzz_corpus *c, uint32_t tag, uint32_t from, const void *data, size_t len)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		ck_assert_ptr_nonnull(c->v);
	}
	struct fuzz_item *it = &c->v[c->n++];
	it->data = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(it->data);
	if (len)
		memcpy(it->data, data, len);
	it->len = len;
	it->tag = tag;
	it->from = from;
}

void corpus_done(struct fuzz_corpus *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

const struct fuzz_item *corpus_pick(struct fuzz *fz, const struct fuzz_corpus *c)
{
	ck_assert_uint_gt(c->n, 0);
	return &c->v[fz_below(fz, c->n)];
}

uint8_t *fuzz_exact(const void *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, data, len);
	return p;
}

/* ---- mutations --------------------------------------------------------------- */

static const uint64_t fuzz_interesting[] = {
	0, 1, 2, 3, 7, 8, 16, 56, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
	64 * 1024 - 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, UINT64_C(0x100000000),
	INT64_MAX, UINT64_C(0x8000000000000000), UINT64_MAX - 1, UINT64_MAX,
};

static void put_le(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void fill_random(struct fuzz *fz, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)prng_next(&fz->rng);
}

/* Insert n random bytes at off. */
static void insert_bytes(struct fuzz *fz, struct wbuf *w, size_t off, size_t n)
{
	size_t old = w->len;
	if (n == 0)
		return;
	ck_assert_ptr_nonnull(wbuf_reserve(w, n));
	memmove(w->data + off + n, w->data + off, old - off);
	fill_random(fz, w->data + off, n);
}

void mutate_field(struct fuzz *fz, struct wbuf *w, bool nudge)
{
	static const size_t widths[] = { 1, 2, 4, 8 };
	size_t n = widths[fz_below(fz, 4)];
	if (w->len < n)
		return;
	uint8_t *p = w->data + fz_below(fz, w->len - n + 1);
	uint64_t v = fuzz_interesting[fz_below(fz, sizeof(fuzz_interesting) / sizeof(uint64_t))];
	if (fz->n_hints && w->len >= 8 && fz_chance(fz, 50)) {
		/* a hint into a u64 that ends on a multiple of 8 from the end:
		 * where arrays of u64 at the end of a body put them */
		v = fz->hints[fz_below(fz, fz->n_hints)];
		n = 8;
		p = w->data + w->len % 8 + 8 * fz_below(fz, w->len / 8);
	}
	if (nudge)
		v = get_le(p, n) + fz_below(fz, 33) - 16;
	put_le(p, n, v);
}

/* Replace w by a prefix of itself and a suffix of another input. */
static void splice(struct fuzz *fz, struct wbuf *w, const struct fuzz_corpus *other)
{
	if (!other || !other->n)
		return;
	const struct fuzz_item *it = corpus_pick(fz, other);
	size_t keep = fz_below(fz, w->len + 1), from = fz_below(fz, it->len + 1);
	w->len = keep;
	wbuf_put_bytes(w, it->data + from, it->len - from);
}

static void mutate_once(struct fuzz *fz, struct wbuf *w, const struct fuzz_corpus *other)
{
	size_t len = w->len;
	switch (fz_below(fz, 11)) {
	case 0: /* flip a bit */
		if (len)
			w->data[fz_below(fz, len)] ^= (uint8_t)(1u << fz_below(fz, 8));
		break;
	case 1: /* a random byte */
		if (len)
			w->data[fz_below(fz, len)] = (uint8_t)prng_next(&fz->rng);
		break;
	case 2:
		mutate_field(fz, w, false);
		break;
	case 3:
		mutate_field(fz, w, true);
		break;
	case 4: /* truncate */
		w->len = fz_below(fz, len + 1);
		break;
	case 5: /* extend */
		insert_bytes(fz, w, len, 1 + fz_below(fz, fz_chance(fz, 80) ? 16 : 256));
		break;
	case 6:
		splice(fz, w, other);
		break;
	case 7: /* insert random bytes */
		insert_bytes(fz, w, fz_below(fz, len + 1), 1 + fz_below(fz, 16));
		break;
	case 8: { /* delete a range */
		size_t off = fz_below(fz, len + 1), n = fz_below(fz, len - off + 1);
		memmove(w->data + off, w->data + off + n, len - off - n);
		w->len -= n;
		break;
	}
	case 9: { /* copy a range over another place */
		size_t n = fz_below(fz, len / 2 + 1), a = fz_below(fz, len - n + 1),
		       b = fz_below(fz, len - n + 1);
		if (n)
			memmove(w->data + b, w->data + a, n);
		break;
	}
	case 10: /* rarely: bytes of a random length, all random */
		if (fz_chance(fz, 10)) {
			w->len = 0;
			insert_bytes(fz, w, 0, fz_below(fz, 2 * len + 64));
		}
		break;
	}
}

void fuzz_mutate(struct fuzz *fz, struct wbuf *w, const struct fuzz_corpus *other)
{
	size_t limit = w->len + FUZZ_MAX_GROWTH;
	unsigned n = 1;
	while (n < FUZZ_MAX_STACK && fz_chance(fz, 40))
		n++;
	for (unsigned i = 0; i < n; i++)
		mutate_once(fz, w, other);
	if (w->len > limit)
		w->len = limit;
	ck_assert_int_eq(wbuf_error(w), 0);
}

const struct fuzz_item *fuzz_mutant(struct fuzz *fz, struct wbuf *w, const struct fuzz_corpus *c)
{
	const struct fuzz_item *it = corpus_pick(fz, c);
	wbuf_reset(w);
	wbuf_put_bytes(w, it->data, it->len);
	fuzz_mutate(fz, w, c);
	return it;
}
