/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain engine under fuzzing, for tests/check_fuzz: injected messages
 * (malformed, replayed or any mutant) and restarts from damaged stores (the
 * contracts are in tests/fuzz-engine.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkspace/errors.h>

#include "codec.h"
#include "control.h"
#include "domain.h"
#include "fuzz-engine.h"
#include "fuzz-group.h"
#include "fuzz-mutate.h"
#include "mlog.h"
#include "prng.h"
#include "props.h"
#include "wire.h"

enum inject_mode { INJECT_MALFORMED, INJECT_REPLAY, INJECT_ANY, INJECT_MODES };

static const char *const inject_mode_names[INJECT_MODES] = { "malformed", "replay", "any" };

struct injector {
	struct fuzz fz; /* a generator of its own: the exchange's schedule stays the same */
	enum inject_mode mode;
	const struct fuzz_corpus *recorded; /* traffic of the recorded exchanges */
	struct fz_record history;           /* this exchange's traffic (replay mode) */
	uint32_t domain_id;
	struct wbuf w;
	unsigned injected;
};

/* Would the engine drop this message whole, whatever its state? */
static bool is_malformed(const uint8_t *m, size_t len, uint32_t sender, uint32_t domain_id)
{
	struct wire_header h;
	struct rbuf r;
	if (wire_decode_header(m, len, &h, &r) < 0 || h.domain != domain_id || h.origin != sender)
		return true;
	struct wire_request rq;
	struct wire_sync sy;
	struct wire_epoch_ack ack;
	struct wire_snapshot sn;
	switch (h.type) {
	case WIRE_REQUEST:
		return wire_get_request(&r, &rq) < 0 || h.request_id == 0;
	case WIRE_STABLE:
		return rbuf_left(&r) != 0;
	case WIRE_SYNC:
		return wire_get_sync(&r, &sy) < 0;
	case WIRE_EPOCH_ACK:
		return wire_get_epoch_ack(&r, &ack) < 0;
	case WIRE_SNAPSHOT:
		return wire_get_snapshot(&r, &sn) < 0;
	case WIRE_RESYNC:
		return rbuf_left(&r) != 8;
	}
	return true;
}

/* Make a mutant likelier to get past the header: the right length, the
 * claimed sender as origin, a matching checksum on a one-chunk transfer. */
static void fix_up(struct fuzz *fz, struct wbuf *w, uint32_t sender)
{
	if (w->len >= 12 && fz_chance(fz, 60))
		le32_write(w->data + 8, (uint32_t)w->len);
	if (w->len >= 20 && fz_chance(fz, 60))
		le32_write(w->data + 16, sender);
	struct wire_header h;
	struct rbuf r;
	struct wire_snapshot s;
	if (wire_decode_header(w->data, w->len, &h, &r) == 0 && h.type == WIRE_SNAPSHOT &&
	    wire_get_snapshot(&r, &s) == 0 && s.offset == 0 && s.data_len == s.total_len &&
	    fz_chance(fz, 70))
		le32_write(w->data + WIRE_HEADER_BYTES + 36, crc32c(0, s.data, s.data_len));
}

/* A mutant from a peer (now and then a non-member) into inj->w: of the
 * message about to be delivered (its round, plan and receipt are current,
 * so the mutant goes deepest) or of recorded traffic. In malformed mode
 * only one the engine must drop (false: none found). */
static bool make_mutant(struct injector *inj, const struct fz_group *g, uint32_t *ret_sender)
{
	struct fuzz *fz = &inj->fz;
	for (int tries = 0; tries < 8; tries++) {
		const struct fuzz_item *next = g->head < g->queue.n ? &g->queue.v[g->head] : NULL;
		if (next && next->tag != FZ_INJECTED && next->tag != FZ_DROPPED && fz_chance(fz, 50)) {
			wbuf_reset(&inj->w);
			wbuf_put_bytes(&inj->w, next->data, next->len);
			fuzz_mutate(fz, &inj->w, inj->recorded);
			*ret_sender = next->from;
		} else {
			fuzz_mutant(fz, &inj->w, inj->recorded);
			*ret_sender = fz_chance(fz, 95) ? 1 + (uint32_t)fz_below(fz, 2) : 9;
		}
		fix_up(fz, &inj->w, *ret_sender);
		if (inj->mode != INJECT_MALFORMED ||
		    is_malformed(inj->w.data, inj->w.len, *ret_sender, inj->domain_id))
			return true;
	}
	return false;
}

/* Before a delivery, now and then: a message slipped in, either multicast
 * in the agreed order (every member gets it) or handed to the target alone
 * (not in replay mode: CPG never delivers to one member only). */
static void inject(void *data, struct fz_group *g)
{
	struct injector *inj = data;
	struct fuzz *fz = &inj->fz;
	uint32_t sender;
	if (!g->nodes[TARGET].d || !fz_chance(fz, 15))
		return;
	if (inj->mode == INJECT_REPLAY) {
		if (!inj->history.msgs.n)
			return;
		/* late duplicates are mostly of recent messages */
		size_t n = inj->history.msgs.n, recent = n < 4 ? n : 4;
		const struct fuzz_item *it = fz_chance(fz, 50)
		        ? &inj->history.msgs.v[n - 1 - fz_below(fz, recent)]
		        : corpus_pick(fz, &inj->history.msgs);
		wbuf_reset(&inj->w);
		wbuf_put_bytes(&inj->w, it->data, it->len);
		sender = it->from;
	} else if (!make_mutant(inj, g, &sender)) {
		return;
	}
	inj->injected++;
	bool to_all = inj->mode == INJECT_REPLAY || fz_chance(fz, 50);
	if (fuzz_verbose(fz))
		fprintf(stderr, "check_fuzz: slip in %zu bytes from node %u to %s%s\n", inj->w.len,
		        sender, to_all ? "all" : "the target",
		        is_malformed(inj->w.data, inj->w.len, sender, inj->domain_id) ? " (malformed)"
		                                                                        : "");
	bool dropped = inj->mode == INJECT_MALFORMED;
	if (to_all) {
		fz_slip_in(g, sender, inj->w.data, inj->w.len, fz_chance(fz, 50), dropped);
		return;
	}
	uint8_t *msg = fuzz_exact(inj->w.data, inj->w.len);
	fz_deliver_to(g, TARGET, sender, msg, inj->w.len, dropped);
	free(msg); /* the engine must not keep pointers into it */
}

/* Node id's status and service state are consistent, whatever it was fed. */
static void check_sane(struct fuzz *fz, struct fz_group *g, uint32_t id)
{
	struct domain_status st = fz_status(g, id);
	FZ_ASSERT(fz, st.seq <= st.logged && st.durable_seq <= st.logged && st.safe_seq <= st.logged,
	          "node %u: applied %llu, durable %llu, safe %llu, logged %llu", id,
	          (unsigned long long)st.seq, (unsigned long long)st.durable_seq,
	          (unsigned long long)st.safe_seq, (unsigned long long)st.logged);
	FZ_ASSERT(fz, st.phase <= DOMAIN_INQUORATE && st.n_members <= FZ_NODES &&
	                  (st.phase == DOMAIN_OUTSIDE || st.writer == st.members[0].nodeid),
	          "node %u: phase %d with %zu members", id, st.phase, st.n_members);
	const void *state = domain_service_state(g->nodes[id].d);
	check_service_state(fz, g->svc, state, "in a fuzzed domain");
	struct wbuf w;
	wbuf_init(&w);
	FZ_ASSERT(fz, g->svc->save(state, &w) == 0, "node %u's state does not save", id);
	struct rbuf r;
	rbuf_init(&r, w.data, w.len);
	void *copy = g->svc->load(&r);
	FZ_ASSERT(fz, copy && g->svc->digest(copy) == g->svc->digest(state),
	          "node %u's state does not load back", id);
	g->svc->destroy(copy);
	wbuf_done(&w);
}

/* After the fuzzing: an honest configuration change, then node id submits
 * a request. With must_work, the group converges and the request is
 * answered with success and applied everywhere; else it need only stay
 * sane (and quiesce: fz_run fails on a message storm). */
static void after_fuzzing(struct fuzz *fz, struct fz_group *g, enum kind kind, uint32_t id,
                          bool must_work)
{
	fz_view(g, NODES(1, 2, 3));
	fz_run(g);
	if (must_work)
		assert_converged(fz, g);
	char value[32];
	snprintf(value, sizeof(value), "iteration-%u", fz->iter);
	struct fz_node *t = &g->nodes[id];
	unsigned replies = t->replies;
	int rc = kind == KIND_CONTROL ? submit_prop(g, id, "fuzz.check", value)
	                              : submit_register(g, id, MLOG_OP_REGISTER, 1);
	fz_run(g);
	for (uint32_t i = 1; i <= FZ_NODES; i++)
		check_sane(fz, g, i);
	if (!must_work)
		return;
	FZ_ASSERT(fz, rc == 0 && t->replies == replies + 1 && t->last_result == 0,
	          "node %u's request: submitted %d, %u answers, result %d", id, rc,
	          t->replies - replies, t->last_result);
	assert_converged(fz, g);
	for (uint32_t i = 1; i <= FZ_NODES; i++) {
		const void *state = domain_service_state(g->nodes[i].d);
		const struct prop *p = kind == KIND_CONTROL
		        ? props_get(&((const struct control_state *)state)->props, "fuzz.check") : NULL;
		FZ_ASSERT(fz, kind == KIND_CONTROL ? p && strcmp(p->value, value) == 0
		                                   : mlog_is_registered(state, id),
		          "node %u lacks node %u's change", i, id);
	}
}

struct outcome {
	uint64_t trace[FZ_NODES + 1];
	struct domain_status st[FZ_NODES + 1];
};

/* One exchange from the generator state start, with inj slipping messages
 * in (NULL: none). */
static void run_exchange(struct fuzz *fz, enum kind kind, uint64_t start, struct injector *inj,
                         struct outcome *out)
{
	struct fz_group g;
	group_init(&g, fz, kind);
	fz->rng = start;
	g.random_batches = true;
	if (inj) {
		memset(&inj->history, 0, sizeof(inj->history));
		g.inject = inject;
		g.inject_data = inj;
		g.rec = inj->mode == INJECT_REPLAY ? &inj->history : NULL;
	}
	scenario(&g, kind, fz, fz_chance(fz, 20));
	g.inject = NULL;
	g.rec = NULL;
	after_fuzzing(fz, &g, kind, TARGET, !inj || inj->mode != INJECT_ANY);
	for (uint32_t i = 1; i <= FZ_NODES; i++) {
		out->trace[i] = g.nodes[i].trace;
		out->st[i] = fz_status(&g, i);
	}
	fz_done(&g);
	if (inj)
		fz_record_done(&inj->history);
}

void fuzz_engine(enum kind kind, const char *test, unsigned iterations)
{
	struct fz_record rec;
	record(&rec, kind);
	struct fuzz fz;
	struct injector inj = { .recorded = &rec.msgs };
	inj.domain_id = wire_domain_id(kind == KIND_CONTROL ? CONTROL_DOMAIN_NAME : MLOG_DOMAIN);
	wbuf_init(&inj.w);
	unsigned runs[INJECT_MODES] = { 0 };
	fuzz_begin(&fz, test, iterations);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		uint64_t start = fz.rng;
		inj.fz = fz;
		inj.fz.rng = prng_next(&fz.rng);
		inj.mode = (enum inject_mode)fz_below(&fz, INJECT_MODES);
		runs[inj.mode]++;
		struct outcome with, without;
		run_exchange(&fz, kind, start, &inj, &with);
		if (inj.mode != INJECT_MALFORMED)
			continue;
		run_exchange(&fz, kind, start, NULL, &without);
		for (uint32_t k = 1; k <= FZ_NODES; k++) {
			const struct domain_status *a = &with.st[k], *b = &without.st[k];
			FZ_ASSERT(&fz, with.trace[k] == without.trace[k],
			          "malformed messages changed what node %u sent", k);
			FZ_ASSERT(&fz, a->epoch == b->epoch && a->seq == b->seq && a->digest == b->digest &&
			                   a->promise == b->promise && a->logged == b->logged,
			          "malformed messages changed node %u's state", k);
		}
	}
	fprintf(stderr, "check_fuzz: %s: %u messages slipped in; runs %s %u, %s %u, %s %u\n", test,
	        inj.injected, inject_mode_names[0], runs[0], inject_mode_names[1], runs[1],
	        inject_mode_names[2], runs[2]);
	wbuf_done(&inj.w);
	fz_record_done(&rec);
}

/* ---- a node restarted from its store -------------------------------------- */

static bool restore_rc_ok(int rc)
{
	return rc == 0 || rc == -EBADMSG || rc == BLKSPACE_E_CORRUPT || rc == -ENOMEM;
}

/* Start node id (a new incarnation, as after a restart) from its recorded
 * store; with damage, a damaged one: records lost, replayed twice, taken
 * from elsewhere, mutated. Like the daemon, stop at the first refusal.
 * Returns whether the node started; *ret_damaged, whether anything was. */
static bool restore(struct fuzz *fz, bool damage, struct fz_group *g, uint32_t id,
                    const struct fz_record *rec, struct wbuf *w, bool *ret_damaged)
{
	const struct fuzz_corpus *st = &rec->store[id];
	g->nodes[id].incarnation = 2;
	struct domain *d = fz_start(g, id);
	*ret_damaged = false;
	for (size_t i = 0; i < st->n; i++) {
		const struct fuzz_item *it = &st->v[i];
		bool snap = it->tag == 1;
		unsigned what = damage ? (unsigned)fz_below(fz, 100) : 100;
		if (what < 3 && !snap) { /* a record lost */
			*ret_damaged = true;
			continue;
		}
		wbuf_reset(w);
		if (what < 6 && !snap)
			fuzz_mutant(fz, w, &rec->journal);
		else
			wbuf_put_bytes(w, it->data, it->len);
		if (what < 20 || (what < 50 && snap))
			fuzz_mutate(fz, w, snap ? &rec->snaps : &rec->journal);
		*ret_damaged |= w->len != it->len || memcmp(w->data, it->data, it->len) != 0;
		bool twice = what >= 97 && what < 100 && !snap;
		*ret_damaged |= twice;
		for (int k = 0; k <= twice; k++) {
			uint8_t *p = fuzz_exact(w->data, w->len);
			int rc = snap ? domain_restore_snapshot(d, p, w->len) : domain_replay(d, p, w->len);
			free(p);
			FZ_ASSERT(fz, damage ? restore_rc_ok(rc) : rc == 0,
			          "item %zu of node %u's store: %d", i, id, rc);
			if (rc < 0) {
				domain_destroy(d);
				g->nodes[id].d = NULL;
				return false;
			}
		}
	}
	return true;
}

void fuzz_restore(const char *test, unsigned iterations)
{
	struct fz_record rec;
	record(&rec, KIND_CONTROL);
	struct wbuf w;
	wbuf_init(&w);
	bool damaged;
	for (uint32_t id = 1; id <= FZ_NODES; id++) {
		struct fuzz fixed = { .test = "restore" };
		struct fz_group g;
		group_init(&g, &fixed, KIND_CONTROL);
		ck_assert_uint_gt(rec.store[id].n, 0);
		restore(&fixed, false, &g, id, &rec, &w, &damaged);
		struct domain_status st = fz_status(&g, id), want = rec.final[id];
		ck_assert_msg(st.epoch == want.epoch && st.seq == want.seq && st.digest == want.digest &&
		                  st.promise == want.promise && st.logged == want.logged,
		              "node %u's store does not restore its state", id);
		fz_done(&g);
	}
	struct fuzz fz;
	unsigned started = 0, damaged_started = 0;
	fuzz_begin(&fz, test, iterations);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		struct fz_group g;
		group_init(&g, &fz, KIND_CONTROL);
		g.random_batches = true;
		uint32_t id = 1 + (uint32_t)fz_below(&fz, FZ_NODES);
		if (restore(&fz, true, &g, id, &rec, &w, &damaged)) {
			started++;
			damaged_started += damaged;
			check_sane(&fz, &g, id);
			for (uint32_t k = 1; k <= FZ_NODES; k++)
				if (k != id)
					fz_start(&g, k);
			fz_view(&g, NODES(1, 2, 3));
			fz_run(&g);
			assert_converged(&fz, &g);
			struct fz_node *t = &g.nodes[id];
			unsigned replies = t->replies;
			int rc = submit_prop(&g, id, "fuzz.check", "1");
			fz_run(&g);
			FZ_ASSERT(&fz, rc == 0 && t->replies == replies + 1 && (damaged || !t->last_result),
			          "node %u's request: submitted %d, %u answers, result %d", id, rc,
			          t->replies - replies, t->last_result);
			assert_converged(&fz, &g);
		}
		fz_done(&g);
	}
	fprintf(stderr, "check_fuzz: %s: %u of %u nodes started, %u of them from a damaged store\n",
	        test, started, fz.iterations, damaged_started);
	wbuf_done(&w);
	fz_record_done(&rec);
}
