/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulator workload "property": cluster property sets and unsets from every
 * node. Most sets create a fresh key that nobody else writes, so:
 *  - an acknowledged fresh key is in every primary replica that has applied
 *    as far as its origin had when it answered (same epoch, at least that
 *    seq; or any later epoch), set exactly once;
 *  - a fresh key refused with NOQUORUM is in no primary replica;
 *  - no fresh key anywhere was set twice (no request applied twice);
 *  - once the cluster heals, every request is answered. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkspace/errors.h>

#include "prng.h"
#include "sim.h"

#define CLIENT_TIMEOUT_MS 3000
#define SHARED_KEYS 4

enum op_state { OP_PENDING, OP_ACKED, OP_REFUSED, OP_FAILED, OP_ABANDONED };

struct prop_op {
	uint64_t token;
	uint32_t node;
	uint64_t deadline_ms;
	char key[32];
	char value[32];
	bool fresh;
	enum op_state state;
	int result;
	uint64_t epoch, seq; /* the origin's applied point when it answered */
};

struct property_wl {
	struct sim *sim;
	struct prop_op *ops;
	size_t n, cap;
	unsigned counter;
};

static void *wl_create(struct sim *sim)
{
	struct property_wl *w = calloc(1, sizeof(*w));
	if (w)
		w->sim = sim;
	return w;
}

static void wl_destroy(void *p)
{
	struct property_wl *w = p;
	free(w->ops);
	free(w);
}

static struct prop_op *new_op(struct property_wl *w)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct prop_op *p = reallocarray(w->ops, cap, sizeof(*p));
		if (!p)
			abort();
		w->ops = p;
		w->cap = cap;
	}
	struct prop_op *op = &w->ops[w->n++];
	memset(op, 0, sizeof(*op));
	return op;
}

static void wl_submit(void *p, struct sim_node *sn)
{
	struct property_wl *w = p;
	struct sim *sim = w->sim;
	if (sim->quiescing)
		return; /* nothing new once healed */
	struct prop_op *op = new_op(w);
	unsigned id = ++w->counter;
	op->fresh = prng_chance(&sim->rng, 80);
	if (op->fresh)
		snprintf(op->key, sizeof(op->key), "f%u", id);
	else
		snprintf(op->key, sizeof(op->key), "s%u", (unsigned)prng_below(&sim->rng, SHARED_KEYS));
	snprintf(op->value, sizeof(op->value), "v%u", id);
	bool unset = !op->fresh && prng_chance(&sim->rng, 30);
	unsigned flags = prng_chance(&sim->rng, 50) ? DOMAIN_WAIT_QUORUM : 0;
	const char *keys[1] = { op->key }, *values[1] = { op->value };
	struct wbuf body;
	wbuf_init(&body);
	props_encode_request(&body, keys, unset ? NULL : values, 1);
	op->token = sim_next_token(sim);
	op->node = sn->id;
	op->deadline_ms = sim->now_ms + CLIENT_TIMEOUT_MS;
	int rc = node_submit(sn->node, unset ? CONTROL_OP_PROPERTY_UNSET : CONTROL_OP_PROPERTY_SET,
	                     body.data, body.len, flags, op->token);
	wbuf_done(&body);
	if (rc < 0) {
		op->state = rc == BLKSPACE_E_NOQUORUM ? OP_REFUSED : OP_FAILED;
		op->result = rc;
	}
	if (sim->verbose)
		fprintf(stderr, "step %llu: node %u %s %s=%s%s: %s\n", (unsigned long long)sim->step,
		        sn->id, unset ? "unset" : "set", op->key, op->value,
		        flags ? " (wait)" : "", rc < 0 ? blkspace_errname(rc) : "sent");
}

static struct prop_op *find_op(struct property_wl *w, uint64_t token)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->ops[i].token == token && w->ops[i].state == OP_PENDING)
			return &w->ops[i];
	return NULL;
}

static void wl_on_reply(void *p, uint64_t token, int result)
{
	struct property_wl *w = p;
	struct prop_op *op = find_op(w, token);
	if (!op) {
		sim_violation(w->sim, "answer for unknown or settled request %016llx",
		              (unsigned long long)token);
		return;
	}
	op->result = result;
	op->state = result == 0 ? OP_ACKED : result == BLKSPACE_E_NOQUORUM ? OP_REFUSED : OP_FAILED;
	struct domain_status st;
	domain_get_status(node_control_domain(w->sim->nodes[op->node].node), &st);
	op->epoch = st.epoch;
	op->seq = st.seq;
	if (w->sim->verbose)
		fprintf(stderr, "step %llu: node %u answer %s=%s: %s\n",
		        (unsigned long long)w->sim->step, op->node, op->key, op->value,
		        blkspace_errname(result));
	if (op->state == OP_FAILED)
		sim_violation(w->sim, "request %s=%s on node %u failed: %s", op->key, op->value, op->node,
		              blkspace_strerror(result));
}

static void wl_on_node_down(void *p, uint32_t node)
{
	struct property_wl *w = p;
	for (size_t i = 0; i < w->n; i++)
		if (w->ops[i].node == node && w->ops[i].state == OP_PENDING)
			w->ops[i].state = OP_ABANDONED;
}

static void wl_on_tick(void *p, uint64_t now_ms)
{
	struct property_wl *w = p;
	for (size_t i = 0; i < w->n; i++) {
		struct prop_op *op = &w->ops[i];
		if (op->state != OP_PENDING || op->deadline_ms > now_ms)
			continue;
		struct sim_node *sn = &w->sim->nodes[op->node];
		if (sn->node)
			node_cancel(sn->node, op->token);
		op->state = OP_ABANDONED; /* the client gave up: outcome unknown */
	}
}

static const struct props *replica(struct sim_node *sn)
{
	return &node_control_state(sn->node)->props;
}

/* Has sn applied at least as far as the origin had when it answered op? */
static bool reached(struct sim_node *sn, const struct prop_op *op)
{
	struct domain_status st;
	domain_get_status(node_control_domain(sn->node), &st);
	return st.epoch > op->epoch || (st.epoch == op->epoch && st.seq >= op->seq);
}

static int check_op(struct property_wl *w, const struct prop_op *op, struct sim_node *sn)
{
	const struct prop *pr = props_get(replica(sn), op->key);
	if (op->state == OP_ACKED && reached(sn, op) && (!pr || strcmp(pr->value, op->value) != 0))
		return sim_violation(w->sim, "acknowledged %s=%s (from node %u) missing on primary node %u",
		                     op->key, op->value, op->node, sn->id);
	if (op->state == OP_REFUSED && pr)
		return sim_violation(w->sim, "%s=%s refused with NOQUORUM yet present on node %u",
		                     op->key, op->value, sn->id);
	return 0;
}

static int check_no_double(struct property_wl *w, struct sim_node *sn)
{
	const struct props *t = replica(sn);
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i].key[0] == 'f' && t->items[i].sets != 1)
			return sim_violation(w->sim, "%s applied %u times on node %u", t->items[i].key,
			                     t->items[i].sets, sn->id);
	return 0;
}

static int wl_check(void *p)
{
	struct property_wl *w = p;
	for (unsigned i = 1; i <= w->sim->n_nodes; i++) {
		struct sim_node *sn = &w->sim->nodes[i];
		if (!sim_node_is_primary(sn))
			continue;
		if (check_no_double(w, sn) < 0)
			return -1;
		for (size_t k = 0; k < w->n; k++)
			if (w->ops[k].fresh && check_op(w, &w->ops[k], sn) < 0)
				return -1;
	}
	return 0;
}

static int wl_check_final(void *p)
{
	struct property_wl *w = p;
	for (size_t k = 0; k < w->n; k++)
		if (w->ops[k].state == OP_PENDING)
			return sim_violation(w->sim, "request %s=%s from node %u never answered after healing",
			                     w->ops[k].key, w->ops[k].value, w->ops[k].node);
	return wl_check(p);
}

static void wl_count(void *p, uint64_t *acked, uint64_t *refused, uint64_t *abandoned)
{
	struct property_wl *w = p;
	for (size_t k = 0; k < w->n; k++) {
		*acked += w->ops[k].state == OP_ACKED;
		*refused += w->ops[k].state == OP_REFUSED;
		*abandoned += w->ops[k].state == OP_ABANDONED;
	}
}

const struct workload_ops property_workload = {
	.name = "property",
	.create = wl_create,
	.destroy = wl_destroy,
	.submit = wl_submit,
	.on_reply = wl_on_reply,
	.on_node_down = wl_on_node_down,
	.on_tick = wl_on_tick,
	.check = wl_check,
	.check_final = wl_check_final,
	.count = wl_count,
};
