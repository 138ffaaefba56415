/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Service operations and saved states from peers under fuzzing, for
 * tests/check_fuzz: mutated operations applied to recorded states, and
 * mutated states loaded (the contract is in tests/fuzz-service.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "control.h"
#include "domain.h"
#include "fuzz-group.h"
#include "fuzz-mutate.h"
#include "fuzz-service.h"
#include "mlog.h"
#include "prng.h"

/* An INIT for more regions than this is valid but too slow to repeat
 * thousands of times (a bitmap of 2^32 regions is filled bit by bit). */
#define FUZZ_MLOG_MAX_REGIONS (UINT64_C(1) << 20)

/* A valid INIT for a log this large would take seconds: not repeated here. */
static bool too_costly(const struct domain_service_ops *svc, uint16_t op, const uint8_t *body,
                       size_t len)
{
	return svc == &mlog_service_ops && op == MLOG_OP_INIT && len >= 8 &&
	       get_le(body, 8) > FUZZ_MLOG_MAX_REGIONS;
}

static uint64_t digest_of(const struct domain_service_ops *svc, const void *state)
{
	return svc->digest(state);
}

static void *load_bytes(const struct domain_service_ops *svc, const uint8_t *data, size_t len)
{
	uint8_t *copy = fuzz_exact(data, len);
	struct rbuf r;
	rbuf_init(&r, copy, len);
	void *state = svc->load(&r);
	free(copy); /* a loaded state must not point into its input */
	return state;
}

/* Apply op to two copies of a state: the same answer and state on both (it
 * is deterministic), a result of 0 or below, a reply within bounds, the
 * state untouched when refused; and the result still saves and loads. */
static int check_apply(struct fuzz *fz, const struct domain_service_ops *svc,
                       const uint8_t *saved, size_t saved_len, uint32_t origin, uint16_t op,
                       const uint8_t *body, size_t len)
{
	void *a = load_bytes(svc, saved, saved_len), *b = load_bytes(svc, saved, saved_len);
	FZ_ASSERT(fz, a && b, "a state %s saved does not load", svc->name);
	uint64_t before = digest_of(svc, a);
	struct wbuf ra, rb;
	wbuf_init(&ra);
	wbuf_init(&rb);
	uint8_t *copy = fuzz_exact(body, len);
	int rc = svc->apply(a, origin, op, copy, len, &ra);
	int rc2 = svc->apply(b, origin, op, copy, len, &rb);
	free(copy);
	uint64_t after = digest_of(svc, a);
	check_service_state(fz, svc, a, "after an operation");
	FZ_ASSERT(fz, rc <= 0, "%s op %u returned %d", svc->name, op, rc);
	FZ_ASSERT(fz, rc == rc2 && after == digest_of(svc, b) && ra.len == rb.len &&
	                  (ra.len == 0 || memcmp(ra.data, rb.data, ra.len) == 0),
	          "%s op %u is not deterministic", svc->name, op);
	FZ_ASSERT(fz, ra.len <= DOMAIN_REPLY_MAX && !wbuf_error(&ra), "%s op %u: reply of %zu bytes",
	          svc->name, op, ra.len);
	FZ_ASSERT(fz, rc == 0 || after == before,
	          "%s op %u (%zu-byte body) refused with %d but changed the state", svc->name, op,
	          len, rc);
	struct wbuf w;
	wbuf_init(&w);
	FZ_ASSERT(fz, svc->save(a, &w) == 0, "%s state does not save after op %u", svc->name, op);
	void *c = load_bytes(svc, w.data, w.len);
	FZ_ASSERT(fz, c && digest_of(svc, c) == after, "%s state after op %u does not load back",
	          svc->name, op);
	svc->destroy(a);
	svc->destroy(b);
	svc->destroy(c);
	wbuf_done(&w);
	wbuf_done(&ra);
	wbuf_done(&rb);
	return rc;
}

/* A saved state, mostly a small one: the big ones (two transfer chunks)
 * cost much more per operation and add little after the first few. */
static const struct fuzz_item *pick_state(struct fuzz *fz, const struct fuzz_corpus *states)
{
	const struct fuzz_item *it = corpus_pick(fz, states);
	for (int tries = 0; it->len > 16384 && tries < 8 && fz_chance(fz, 95); tries++)
		it = corpus_pick(fz, states);
	return it;
}

/* Regions around the end of a mirror log make good mutations of a body. */
static void set_hints(struct fuzz *fz, const struct domain_service_ops *svc,
                      const struct fuzz_item *saved, uint64_t *hints)
{
	fz->n_hints = 0;
	if (svc != &mlog_service_ops)
		return;
	const struct mlog_state *s = load_bytes(svc, saved->data, saved->len);
	ck_assert_ptr_nonnull(s);
	static const int64_t around[] = { -1, 0, 1, 7, 8 };
	for (size_t i = 0; i < 5; i++)
		hints[i] = s->region_count + (uint64_t)around[i];
	fz->hints = hints;
	fz->n_hints = 5;
	svc->destroy((void *)s);
}

/* An operation number: the body's own, a neighbour, or anything. */
static uint16_t pick_op(struct fuzz *fz, uint16_t own, uint16_t max)
{
	if (fz_chance(fz, 60))
		return own;
	if (fz_chance(fz, 70))
		return (uint16_t)fz_below(fz, max + 2u);
	return (uint16_t)prng_next(&fz->rng);
}

static uint32_t pick_origin(struct fuzz *fz)
{
	return fz_chance(fz, 90) ? 1 + (uint32_t)fz_below(fz, FZ_NODES) : (uint32_t)prng_next(&fz->rng);
}

/* A mutated saved state: NULL, or a state that saves, digests, loads back
 * to the same bytes and takes operations like any other. */
static void check_load(struct fuzz *fz, const struct domain_service_ops *svc,
                       const struct fz_record *rec, struct wbuf *w, uint16_t max_op,
                       unsigned *loaded)
{
	const struct fuzz_item *it = pick_state(fz, &rec->states);
	uint64_t hints[5];
	set_hints(fz, svc, it, hints);
	wbuf_reset(w);
	wbuf_put_bytes(w, it->data, it->len);
	fuzz_mutate(fz, w, &rec->states);
	fz->n_hints = 0;
	void *s = load_bytes(svc, w->data, w->len);
	if (!s)
		return;
	(*loaded)++;
	check_service_state(fz, svc, s, "after load");
	struct wbuf a, b;
	wbuf_init(&a);
	wbuf_init(&b);
	FZ_ASSERT(fz, svc->save(s, &a) == 0, "a loaded %s state does not save", svc->name);
	svc->destroy(s);
	s = load_bytes(svc, a.data, a.len);
	FZ_ASSERT(fz, s && svc->save(s, &b) == 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	          "a loaded %s state does not load back the same", svc->name);
	svc->destroy(s);
	for (int k = 0; k < 4; k++) {
		const struct fuzz_item *rq = corpus_pick(fz, &rec->requests);
		uint16_t op = pick_op(fz, (uint16_t)rq->tag, max_op);
		if (!too_costly(svc, op, rq->data, rq->len))
			check_apply(fz, svc, a.data, a.len, pick_origin(fz), op, rq->data, rq->len);
	}
	wbuf_done(&a);
	wbuf_done(&b);
}

void fuzz_service(enum kind kind, const char *test, unsigned iterations)
{
	const struct domain_service_ops *svc = kind == KIND_CONTROL ? &control_service_ops
	                                                          : &mlog_service_ops;
	uint16_t max_op = kind == KIND_CONTROL ? CONTROL_OP_MAX : MLOG_OP_MAX;
	struct fz_record rec;
	record(&rec, kind);
	struct fuzz fz;
	struct wbuf w;
	wbuf_init(&w);
	unsigned applied = 0, refused = 0, loaded = 0, skipped = 0;
	fuzz_begin(&fz, test, iterations);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		if (fz_chance(&fz, 30)) {
			check_load(&fz, svc, &rec, &w, max_op, &loaded);
			continue;
		}
		const struct fuzz_item *st = pick_state(&fz, &rec.states);
		uint64_t hints[5];
		set_hints(&fz, svc, st, hints);
		const struct fuzz_item *rq = fuzz_mutant(&fz, &w, &rec.requests);
		fz.n_hints = 0;
		if (fz_chance(&fz, 20)) { /* the body as sent */
			wbuf_reset(&w);
			wbuf_put_bytes(&w, rq->data, rq->len);
		}
		uint16_t op = pick_op(&fz, (uint16_t)rq->tag, max_op);
		if (too_costly(svc, op, w.data, w.len)) {
			skipped++;
			continue;
		}
		int rc = check_apply(&fz, svc, st->data, st->len, pick_origin(&fz), op, w.data, w.len);
		if (op >= max_op || op == 0)
			FZ_ASSERT(&fz, rc == -EOPNOTSUPP, "unknown op %u: %d", op, rc);
		rc == 0 ? applied++ : refused++;
	}
	fprintf(stderr, "check_fuzz: %s: %u applied, %u refused, %u of the mutated states loaded, "
	        "%u too costly\n", test, applied, refused, loaded, skipped);
	wbuf_done(&w);
	fz_record_done(&rec);
}
