/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A few domains of one group in one process for tests/check_fuzz: the
 * message loop with CPG's guarantees, the recording of what the domains
 * produce, the normal exchanges and the state checks (the contract is in
 * tests/fuzz-group.h). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "control.h"
#include "domain.h"
#include "fuzz-group.h"
#include "fuzz-mutate.h"
#include "mlog.h"
#include "nodes.h"
#include "props.h"
#include "wire.h"

#define FZ_STEP_LIMIT 200000 /* deliveries before a run counts as a message storm */

static void fz_send(void *host, const void *msg, size_t len)
{
	struct fz_node *n = host;
	struct fz_group *g = n->g;
	struct wire_header h;
	struct rbuf r;
	int rc = wire_decode_header(msg, len, &h, &r);
	FZ_ASSERT(g->fz, rc == 0 && h.origin == n->id, "node %u sent an undecodable message: %d",
	          n->id, rc);
	n->trace = fnv64(n->trace, msg, len);
	if (fuzz_verbose(g->fz))
		fprintf(stderr, "check_fuzz: node %u sends %s (%zu bytes, %016llx)\n", n->id,
		        wire_type_name(h.type), len, (unsigned long long)fnv64(FNV64_INIT, msg, len));
	corpus_add(&g->queue, h.type, n->id, msg, len);
	if (g->rec)
		corpus_add(&g->rec->msgs, h.type, n->id, msg, len);
}

static void fz_persist(void *host, const void *rec, size_t len)
{
	struct fz_node *n = host;
	if (!n->g->rec)
		return;
	corpus_add(&n->g->rec->journal, ((const uint8_t *)rec)[0], n->id, rec, len);
	corpus_add(&n->g->rec->store[n->id], 0, n->id, rec, len);
}

static int fz_save_snapshot(void *host, const void *snap, size_t len)
{
	struct fz_node *n = host;
	if (!n->g->rec)
		return 0;
	corpus_add(&n->g->rec->snaps, 1, n->id, snap, len);
	corpus_done(&n->g->rec->store[n->id]);
	corpus_add(&n->g->rec->store[n->id], 1, n->id, snap, len);
	return 0;
}

static void fz_reply(void *host, uint64_t token, int result, const void *data, size_t len)
{
	struct fz_node *n = host;
	FZ_ASSERT(n->g->fz, len <= DOMAIN_REPLY_MAX, "a reply of %zu bytes", len);
	n->replies++;
	n->last_token = token;
	n->last_result = result;
}

static void fz_changed(void *host) {}

static const struct domain_env fz_env = {
	.send = fz_send, .persist = fz_persist, .save_snapshot = fz_save_snapshot,
	.reply = fz_reply, .changed = fz_changed,
};

static void fz_init(struct fz_group *g, struct fuzz *fz, const char *name,
                    const struct domain_service_ops *svc, enum domain_quorum quorum, bool durable)
{
	memset(g, 0, sizeof(*g));
	g->fz = fz;
	g->name = name;
	g->svc = svc;
	g->quorum = quorum;
	g->durable = durable;
	g->next_token = 1;
	for (uint32_t i = 1; i <= FZ_NODES; i++)
		g->nodes[i] = (struct fz_node){ .g = g, .id = i, .pid = 100 + i, .incarnation = 1,
		                                 .trace = FNV64_INIT };
}

/* Create node id's domain (a fresh process with an empty disk). */
struct domain *fz_start(struct fz_group *g, uint32_t id)
{
	struct fz_node *n = &g->nodes[id];
	ck_assert_ptr_null(n->d);
	struct domain_params p = {
		.name = g->name, .nodeid = id, .incarnation = n->incarnation, .cluster_size = FZ_NODES,
		.durable = g->durable, .quorum = g->quorum, .svc = g->svc, .env = &fz_env, .host = n,
	};
	FZ_ASSERT(g->fz, domain_create(&p, &n->d) == 0, "node %u does not start", id);
	return n->d;
}

void fz_done(struct fz_group *g)
{
	for (uint32_t i = 1; i <= FZ_NODES; i++)
		domain_destroy(g->nodes[i].d);
	corpus_done(&g->queue);
	memset(g, 0, sizeof(*g));
}

static bool fz_is_member(const struct fz_group *g, uint32_t id)
{
	return g->view >> id & 1 && g->nodes[id].d;
}

/* The end of a dispatch on every member: its journal is durable. */
static void fz_commit(struct fz_group *g)
{
	for (uint32_t i = 1; i <= FZ_NODES; i++)
		if (fz_is_member(g, i))
			domain_persisted(g->nodes[i].d);
}

/* Deliver a message to node id; one it must drop leaves no trace: the same
 * status, nothing sent, nothing written. */
void fz_deliver_to(struct fz_group *g, uint32_t id, uint32_t from, const void *msg, size_t len,
                   bool dropped)
{
	struct fz_node *n = &g->nodes[id];
	struct domain_status before, after;
	uint64_t trace = n->trace;
	if (dropped)
		domain_get_status(n->d, &before);
	bool dirty = domain_needs_commit(n->d);
	domain_on_deliver(n->d, from, msg, len);
	if (!dropped)
		return;
	domain_get_status(n->d, &after);
	char what[160] = "";
	for (size_t k = 0; k < before.n_members && k < after.n_members; k++)
		if (before.members[k].received != after.members[k].received)
			snprintf(what, sizeof(what), ": node %u's receipt moved from %llu to %llu",
			         before.members[k].nodeid, (unsigned long long)before.members[k].received,
			         (unsigned long long)after.members[k].received);
	FZ_ASSERT(g->fz, memcmp(&before, &after, sizeof(before)) == 0 && trace == n->trace &&
	                     dirty == domain_needs_commit(n->d),
	          "node %u acted on a malformed message from node %u (%s %zu bytes)%s", id, from,
	          wire_type_name(len >= 8 ? (unsigned)get_le((const uint8_t *)msg + 6, 2) : 0), len,
	          what);
}

/* Deliver the oldest queued message to every member, in order. Returns
 * false for one a test slipped in: those leave the schedule (how many
 * messages a batch has) as it would have been without them. */
static bool fz_deliver_one(struct fz_group *g)
{
	if (g->inject)
		g->inject(g->inject_data, g);
	if (g->head == g->queue.n)
		return false;
	/* a copy: delivering appends to the queue, which may move */
	struct fuzz_item it = g->queue.v[g->head];
	g->queue.v[g->head++].data = NULL;
	FZ_ASSERT(g->fz, ++g->steps < FZ_STEP_LIMIT, "the group did not quiesce (message storm)");
	if (fz_is_member(g, it.from)) {
		for (uint32_t i = 1; i <= FZ_NODES; i++)
			if (fz_is_member(g, i))
				fz_deliver_to(g, i, it.from, it.data, it.len, it.tag == FZ_DROPPED);
	}
	free(it.data);
	bool genuine = it.tag != FZ_INJECTED && it.tag != FZ_DROPPED;
	if (genuine && (!g->random_batches || fz_chance(g->fz, 60)))
		fz_commit(g);
	if (g->head == g->queue.n) {
		g->head = 0;
		corpus_done(&g->queue);
	}
	return genuine;
}

static size_t fz_in_flight(const struct fz_group *g) { return g->queue.n - g->head; }

/* Deliver up to n of the messages the domains sent (ending the batch). */
static void fz_run_some(struct fz_group *g, size_t n)
{
	for (size_t k = 0; k < n && fz_in_flight(g);)
		k += fz_deliver_one(g);
	fz_commit(g);
}

/* Queue a message from sender that no domain sent (see fz_deliver_one),
 * to be delivered next or after everything in flight. */
void fz_slip_in(struct fz_group *g, uint32_t sender, const void *msg, size_t len, bool next,
                bool dropped)
{
	corpus_add(&g->queue, dropped ? FZ_DROPPED : FZ_INJECTED, sender, msg, len);
	if (!next)
		return;
	struct fuzz_item it = g->queue.v[g->queue.n - 1];
	memmove(&g->queue.v[g->head + 1], &g->queue.v[g->head],
	        (g->queue.n - 1 - g->head) * sizeof(it));
	g->queue.v[g->head] = it;
}

void fz_run(struct fz_group *g)
{
	do {
		while (fz_in_flight(g))
			fz_deliver_one(g);
		fz_commit(g); /* may send receipts or acknowledgements */
	} while (fz_in_flight(g));
}

/* Record every member's service state. */
static void fz_record_states(struct fz_group *g)
{
	for (uint32_t i = 1; i <= FZ_NODES && g->rec; i++) {
		if (!g->nodes[i].d)
			continue;
		struct wbuf w;
		wbuf_init(&w);
		FZ_ASSERT(g->fz, g->svc->save(domain_service_state(g->nodes[i].d), &w) == 0,
		          "node %u's state does not save", i);
		corpus_add(&g->rec->states, 0, i, w.data, w.len);
		wbuf_done(&w);
	}
}

/* A configuration change to the nodes in mask (started ones). What was sent
 * before it is delivered in the old configuration first; what that makes
 * the members send goes to the new one. Nodes outside both are paused. */
void fz_view(struct fz_group *g, unsigned mask)
{
	size_t sent = 0;
	for (size_t i = g->head; i < g->queue.n; i++)
		sent += g->queue.v[i].tag != FZ_INJECTED && g->queue.v[i].tag != FZ_DROPPED;
	while (sent > 0)
		sent -= fz_deliver_one(g);
	fz_commit(g);
	struct domain_member_id ids[FZ_NODES];
	size_t n = 0;
	for (uint32_t i = 1; i <= FZ_NODES; i++)
		if (mask >> i & 1 && g->nodes[i].d)
			ids[n++] = (struct domain_member_id){ i, g->nodes[i].pid };
	fz_record_states(g);
	unsigned old = g->view;
	g->view = mask;
	for (uint32_t i = 1; i <= FZ_NODES; i++)
		if ((old | mask) >> i & 1 && g->nodes[i].d)
			domain_on_confchg(g->nodes[i].d, ids, n);
}

static int fz_submit(struct fz_group *g, uint32_t id, uint16_t op, const void *body, size_t len)
{
	struct fz_node *n = &g->nodes[id];
	n->last_token = 0;
	int rc = domain_submit(n->d, op, body, len, 0, g->next_token++);
	if (rc == 0)
		n->submitted++;
	if (g->rec && rc == 0)
		corpus_add(&g->rec->requests, op, id, body, len);
	return rc;
}

struct domain_status fz_status(const struct fz_group *g, uint32_t id)
{
	struct domain_status st;
	domain_get_status(g->nodes[id].d, &st);
	return st;
}

void fz_record_done(struct fz_record *rec)
{
	corpus_done(&rec->msgs);
	corpus_done(&rec->requests);
	corpus_done(&rec->states);
	corpus_done(&rec->journal);
	corpus_done(&rec->snaps);
	for (size_t i = 0; i <= FZ_NODES; i++)
		corpus_done(&rec->store[i]);
}

/* ---- normal exchanges ------------------------------------------------------ */

unsigned nodes_mask(const uint32_t *ids)
{
	unsigned m = 0;
	for (; *ids; ids++)
		m |= 1u << *ids;
	return m;
}

int submit_prop(struct fz_group *g, uint32_t id, const char *key, const char *value)
{
	struct wbuf w;
	wbuf_init(&w);
	const char *k[1] = { key }, *v[1] = { value };
	props_encode_request(&w, k, value ? v : NULL, 1);
	int rc = fz_submit(g, id, value ? CONTROL_OP_PROPERTY_SET : CONTROL_OP_PROPERTY_UNSET, w.data,
	                   w.len);
	wbuf_done(&w);
	return rc;
}

static void submit_hello(struct fz_group *g, uint32_t id)
{
	struct wbuf w;
	char name[16];
	wbuf_init(&w);
	snprintf(name, sizeof(name), "node-%u", id);
	nodes_encode_hello(&w, 1, name);
	fz_submit(g, id, CONTROL_OP_NODE_HELLO, w.data, w.len);
	wbuf_done(&w);
}

/* Control domain: two nodes form, the target joins fresh (state transfer,
 * in several chunks when big), one node pauses and comes back behind.
 * Requests are in flight at every configuration change. */
static void scenario_control(struct fz_group *g, struct fuzz *fz, bool big)
{
	fz_start(g, 1);
	fz_start(g, 2);
	fz_view(g, NODES(1, 2));
	fz_run(g);
	submit_hello(g, 1);
	submit_hello(g, 2);
	submit_prop(g, 1, "color", "blue");
	submit_prop(g, 2, "size", "7");
	fz_submit(g, 2, 999, "\1\2\3", 3); /* an operation of a newer version */
	char key[32], value[1001];
	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	for (unsigned i = 0; big && i < 70; i++) { /* ~70 KiB of state: two chunks */
		snprintf(key, sizeof(key), "big%02u", i);
		submit_prop(g, 1 + i % 2, key, value);
		if (i % 32 == 31)
			fz_run(g);
	}
	fz_run_some(g, fz_below(fz, 12));
	fz_start(g, TARGET);
	fz_view(g, NODES(1, 2, 3));
	fz_run(g);
	submit_hello(g, 3);
	submit_prop(g, 3, "color", "red");
	submit_prop(g, 1, "size", NULL);
	fz_run_some(g, fz_below(fz, 12));
	fz_view(g, NODES(1, 3));
	fz_run(g);
	submit_prop(g, 1, "shape", "round");
	submit_prop(g, 3, "shape", "square");
	fz_run_some(g, fz_below(fz, 12));
	fz_view(g, NODES(1, 2, 3));
	fz_run(g);
}

static void submit_regions(struct fz_group *g, uint32_t id, uint16_t op, uint64_t a, uint64_t b)
{
	uint64_t regions[2] = { a, b };
	struct wbuf w;
	wbuf_init(&w);
	mlog_encode_regions(&w, regions, a == b ? 1 : 2);
	fz_submit(g, id, op, w.data, w.len);
	wbuf_done(&w);
}

static void submit_region(struct fz_group *g, uint32_t id, uint16_t op, uint64_t region)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u64(&w, region);
	fz_submit(g, id, op, w.data, w.len);
	wbuf_done(&w);
}

/* REGISTER and UNREGISTER name the opening of the log (its instance). */
int submit_register(struct fz_group *g, uint32_t id, uint16_t op, uint64_t instance)
{
	struct wbuf w;
	wbuf_init(&w);
	if (op == MLOG_OP_REGISTER)
		mlog_encode_register(&w, instance, MLOG_REGISTER_FRESH);
	else
		wbuf_put_u64(&w, instance);
	int rc = fz_submit(g, id, op, w.data, w.len);
	wbuf_done(&w);
	return rc;
}

static void submit_fenced(struct fz_group *g, uint32_t id, uint32_t fenced, uint64_t departure)
{
	struct wbuf w;
	wbuf_init(&w);
	mlog_encode_fenced(&w, fenced, departure);
	fz_submit(g, id, MLOG_OP_FENCED, w.data, w.len);
	wbuf_done(&w);
}

/* The writer sends the initial bitmap in INIT chunks (two when big). */
static void submit_init(struct fz_group *g, struct fuzz *fz, uint64_t regions)
{
	uint8_t *bits = malloc(MLOG_INIT_CHUNK_BITS / 8);
	ck_assert_ptr_nonnull(bits);
	fill_random(fz, bits, MLOG_INIT_CHUNK_BITS / 8);
	struct wbuf w;
	wbuf_init(&w);
	for (uint64_t off = 0; off < regions; off += MLOG_INIT_CHUNK_BITS) {
		uint64_t n = regions - off < MLOG_INIT_CHUNK_BITS ? regions - off : MLOG_INIT_CHUNK_BITS;
		wbuf_reset(&w);
		mlog_encode_init(&w, regions, 1024, MLOG_INIT_BITS, off, n, bits);
		fz_submit(g, 1, MLOG_OP_INIT, w.data, w.len);
	}
	wbuf_done(&w);
	free(bits);
}

/* Mirror log domain: every operation, the target joins, a node leaves (its
 * marks wait for its fencing, then turn into resync work) and comes back. */
static void scenario_mlog(struct fz_group *g, struct fuzz *fz, bool big)
{
	uint64_t regions = big ? MLOG_INIT_CHUNK_BITS + 1000 : 64 + fz_below(fz, 200);
	fz_start(g, 1);
	fz_start(g, 2);
	fz_view(g, NODES(1, 2));
	fz_run(g);
	submit_register(g, 1, MLOG_OP_REGISTER, 1);
	submit_register(g, 2, MLOG_OP_REGISTER, 1);
	fz_run(g);
	submit_init(g, fz, regions);
	fz_run(g);
	submit_regions(g, 1, MLOG_OP_MARK, 1, 5);
	submit_regions(g, 2, MLOG_OP_FLUSH, 7, 7);
	fz_submit(g, 2, MLOG_OP_GET_RESYNC_WORK, NULL, 0);
	submit_region(g, 1, MLOG_OP_IS_REMOTE_RECOVERING, 9);
	fz_run(g);
	struct wbuf w;
	wbuf_init(&w);
	mlog_encode_set_sync(&w, 3, 1);
	fz_submit(g, 2, MLOG_OP_SET_REGION_SYNC, w.data, w.len);
	wbuf_done(&w);
	submit_region(g, 1, MLOG_OP_IS_CLEAN, 5);
	submit_regions(g, 1, MLOG_OP_CLEAR, 1, 1);
	fz_run_some(g, fz_below(fz, 12));
	fz_start(g, TARGET);
	fz_view(g, NODES(1, 2, 3));
	fz_run(g);
	submit_register(g, 3, MLOG_OP_REGISTER, 1);
	submit_regions(g, 3, MLOG_OP_MARK, 11, 12);
	submit_regions(g, 2, MLOG_OP_MARK, 13, 13);
	fz_run_some(g, fz_below(fz, 12));
	fz_view(g, NODES(1, 3));
	fz_run(g);
	fz_submit(g, 3, MLOG_OP_GET_RESYNC_WORK, NULL, 0);
	submit_fenced(g, 1, 2, 9); /* not that departure: no change */
	submit_fenced(g, 1, 2, 1); /* node 2's marks become resync work */
	fz_submit(g, 1, MLOG_OP_DISK_FAILED, NULL, 0);
	fz_run_some(g, fz_below(fz, 12));
	fz_view(g, NODES(1, 2, 3));
	fz_run(g);
	submit_register(g, 2, MLOG_OP_REGISTER, 2); /* node 2 opened the log again */
	submit_register(g, 1, MLOG_OP_UNREGISTER, 7);  /* an opening that is gone: no change */
	fz_run(g);
}

/* The control domain journals; a log domain keeps no journal and asks its
 * service (the registry) whether a configuration is quorate. */
void group_init(struct fz_group *g, struct fuzz *fz, enum kind kind)
{
	if (kind == KIND_CONTROL)
		fz_init(g, fz, CONTROL_DOMAIN_NAME, &control_service_ops, DOMAIN_QUORUM_CLUSTER, true);
	else
		fz_init(g, fz, MLOG_DOMAIN, &mlog_service_ops, DOMAIN_QUORUM_SERVICE, false);
}

void scenario(struct fz_group *g, enum kind kind, struct fuzz *fz, bool big)
{
	if (kind == KIND_CONTROL)
		scenario_control(g, fz, big);
	else
		scenario_mlog(g, fz, big);
}

bool bit_is_set(const uint8_t *map, uint64_t i) { return map[i / 8] >> (i % 8) & 1; }

/* What every mirror log state the operations can reach satisfies, and the
 * operations rely on: a region outside the log indexes past the bitmap (and
 * is handed to a kernel as resync work); "all in sync" short-circuits the
 * bitmap, so when it is wrong, regions that differ are never resynced. A
 * state loaded from a peer must satisfy it too. */
static void check_mlog_state(struct fuzz *fz, const struct mlog_state *s, const char *after)
{
	uint64_t n = s->region_count, count = 0;
	FZ_ASSERT(fz, n <= MLOG_MAX_REGIONS && s->init_done <= n && (n == 0 || s->sync),
	          "%s: %llu regions, %llu initialized", after, (unsigned long long)n,
	          (unsigned long long)s->init_done);
	for (uint64_t i = 0; i < n; i++)
		count += bit_is_set(s->sync, i);
	FZ_ASSERT(fz, count == s->sync_count && (!s->all_synced || count == n),
	          "%s: %llu of %llu regions in sync, counted %llu, all in sync: %d", after,
	          (unsigned long long)count, (unsigned long long)n,
	          (unsigned long long)s->sync_count, s->all_synced);
	for (size_t i = 0; i < s->n_marks; i++)
		FZ_ASSERT(fz, s->marks[i].region < n, "%s: a mark on region %llu of %llu", after,
		          (unsigned long long)s->marks[i].region, (unsigned long long)n);
	for (size_t i = 0; i < s->n_priority; i++)
		FZ_ASSERT(fz, s->priority[i] < n, "%s: region %llu of %llu waits for resync", after,
		          (unsigned long long)s->priority[i], (unsigned long long)n);
	FZ_ASSERT(fz, !s->recoverer || s->recovering < n,
	          "%s: node %u resyncs region %llu of %llu", after, s->recoverer,
	          (unsigned long long)s->recovering, (unsigned long long)n);
	FZ_ASSERT(fz, s->n_registry <= DOMAIN_MAX_MEMBERS, "%s: %zu registered nodes", after,
	          s->n_registry);
}

void check_service_state(struct fuzz *fz, const struct domain_service_ops *svc,
                         const void *state, const char *after)
{
	if (svc == &mlog_service_ops)
		check_mlog_state(fz, state, after);
}

/* Every member primary, caught up and holding the same state. */
void assert_converged(struct fuzz *fz, struct fz_group *g)
{
	struct domain_status ref = fz_status(g, 1);
	for (uint32_t i = 1; i <= FZ_NODES; i++) {
		struct domain_status st = fz_status(g, i);
		FZ_ASSERT(fz, st.phase == DOMAIN_ACTIVE && !st.receiving,
		          "node %u is %s%s after an honest configuration change", i,
		          domain_phase_name(st.phase), st.receiving ? " (receiving)" : "");
		FZ_ASSERT(fz, st.epoch == ref.epoch && st.seq == ref.seq && st.digest == ref.digest,
		          "node %u at (%llu, %llu) digest %016llx, node 1 at (%llu, %llu) %016llx", i,
		          (unsigned long long)st.epoch, (unsigned long long)st.seq,
		          (unsigned long long)st.digest, (unsigned long long)ref.epoch,
		          (unsigned long long)ref.seq, (unsigned long long)ref.digest);
		FZ_ASSERT(fz, st.pending == 0, "node %u still has %zu unanswered requests", i,
		          st.pending);
	}
}

/* Record the normal exchanges of one kind of domain, small and big. */
void record(struct fz_record *rec, enum kind kind)
{
	memset(rec, 0, sizeof(*rec));
	for (int big = 0; big <= 1; big++) {
		struct fuzz fixed = { .test = "record", .rng = RECORD_SEED + (uint64_t)big };
		struct fz_group g;
		group_init(&g, &fixed, kind);
		g.rec = rec;
		for (uint32_t i = 1; i <= FZ_NODES; i++)
			corpus_done(&rec->store[i]);
		scenario(&g, kind, &fixed, big);
		fz_record_states(&g);
		assert_converged(&fixed, &g);
		for (uint32_t i = 1; i <= FZ_NODES; i++) {
			FZ_ASSERT(&fixed, g.nodes[i].replies == g.nodes[i].submitted,
			          "node %u: %u requests, %u answers", i, g.nodes[i].submitted,
			          g.nodes[i].replies);
			rec->final[i] = fz_status(&g, i);
		}
		fz_done(&g);
	}
	ck_assert_uint_gt(rec->msgs.n, 0);
}
