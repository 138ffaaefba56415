/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulator workload "mlog": one clustered-disk mirror log resumed on every
 * node, each node's kernel simulated: marks (alone or in an integrated
 * flush), clears, flushes, resync work and region sync, clean and in-sync
 * questions, one request at a time, re-sent under a new seq when it times
 * out. Nodes cut off from the majority are fenced (crashed), as Pacemaker
 * would, a while later; the fencer reports dead nodes to the live ones now
 * and then. Invariants:
 *  - no region is answered clean while a live node holds a mark on it that
 *    was acknowledged before the question was asked and not cleared since;
 *  - the disk log never shows such a region clean;
 *  - no region a live node (also one cut off) has marked is handed out
 *    for resync, and no mark is acknowledged while another node resyncs
 *    its region;
 *  - once healed, every kernel request is answered, and asking for resync
 *    work until there is none brings every region in sync (work held by
 *    a node that died was handed on, a dead node's marks were resynced). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlog-disk.h"
#include "prng.h"
#include "sim.h"

#define LOG_UUID "sim-mirror-0001"
#define LOG_DEV "/dev/sim-log"
#define REGIONS 64
#define REGION_SIZE 1024
#define KERNEL_TIMEOUT_MS 4000
#define FENCE_CHANCE 2 /* percent per step that a cut-off node is fenced */

/* A kernel's table: constructed, resumed and running, or on its way down
 * (finishing writes, presuspend, postsuspend, sometimes destroy). */
enum kstate { K_DOWN, K_CTR, K_RESUMING, K_RUN, K_PRESUSPENDED, K_SUSPENDED };

struct kernel {
	enum kstate state;
	bool busy;
	uint32_t seq, type;
	uint64_t sent_ms, sent_step;
	uint8_t data[64]; /* the request in flight, sent again after a timeout */
	size_t len;
	uint64_t regions[4]; /* what the request in flight marks */
	size_t n_regions;
	uint64_t asked; /* the region an IS_CLEAN in flight asks about */
	bool resync_due; /* finish the resync work we were given */
	bool flush_due;  /* healing or suspending: clears were sent */
	bool suspending; /* finish the writes, then suspend the table */
	bool retired;    /* its table was destroyed: while healing it stays away */
	bool recovering; /* from the resync work's answer until its SET_REGION_SYNC is sent */
	uint64_t resync_region;
	uint64_t done_round; /* while healing: the round it last found no work in, + 1 */
	uint64_t sync_count; /* the answer to a GET_SYNC_COUNT */
	uint64_t marked_at[REGIONS]; /* step its mark was acknowledged, 0 = not marked */
};

struct mlog_wl {
	struct sim *sim;
	struct kernel k[SIMNET_MAX_NODES + 1];
	uint32_t seq;
	uint64_t round; /* while healing: work handed out so far */
	bool nosync; /* odd seeds start with every region in sync */
	/* nodes above this one never construct the mirror (half of the seeds:
	 * the highest minority), so the log's quorum set is a part of the cluster */
	uint32_t last_user;
	uint64_t acked, refused, abandoned; /* abandoned: timed out and sent again */
	uint64_t lifted_epoch[SIMNET_MAX_NODES + 1]; /* last epoch seen going on by vouching */
	/* a node crashed with the region marked (its legs may differ) and no
	 * resync of it was acknowledged since: after healing none is left */
	bool diverged[REGIONS];
};

static void *wl_create(struct sim *sim)
{
	struct mlog_wl *w = calloc(1, sizeof(*w));
	if (w) {
		w->sim = sim;
		w->nosync = sim->seed % 2;
		w->last_user = sim->n_nodes - (sim->seed / 2 % 2 ? (sim->n_nodes - 1) / 2 : 0);
	}
	return w;
}

static void wl_destroy(void *p) { free(p); }

/* Send one request from node's kernel. */
static void send(struct mlog_wl *w, uint32_t node, uint32_t type, const void *data, size_t len)
{
	struct kernel *k = &w->k[node];
	struct ulog_request rq = { .luid = node, .version = 3, .seq = ++w->seq, .raw_type = type,
		                   .type = type, .data_size = (uint32_t)len, .data = data };
	strcpy(rq.uuid, LOG_UUID);
	struct ulog_origin from;
	ulog_origin_from(&from, &rq, node);
	k->busy = true;
	k->seq = rq.seq;
	k->type = type;
	if (len && data != k->data && len <= sizeof(k->data))
		memcpy(k->data, data, len);
	k->len = len;
	/* the regions a mark or an integrated flush marks; nothing otherwise */
	k->n_regions = type == DM_ULOG_MARK_REGION || type == DM_ULOG_FLUSH ? len / 8 : 0;
	if (k->n_regions && data != k->regions)
		memcpy(k->regions, data, k->n_regions * 8);
	k->sent_ms = w->sim->now_ms;
	k->sent_step = w->sim->step;
	if (w->sim->verbose) {
		fprintf(stderr, "step %llu: node %u sends %s seq %u", (unsigned long long)w->sim->step,
		        node, ulog_type_name(type), rq.seq);
		for (size_t i = 0; i + 8 <= len && i < 32; i += 8) {
			uint64_t v;
			memcpy(&v, (const uint8_t *)data + i, 8);
			fprintf(stderr, " %llu", (unsigned long long)v);
		}
		fprintf(stderr, "\n");
	}
	node_kernel_request(w->sim->nodes[node].node, &rq, &from);
}

static void send_regions(struct mlog_wl *w, uint32_t node, uint32_t type, size_t n)
{
	uint64_t regions[4];
	for (size_t i = 0; i < n; i++)
		regions[i] = prng_below(&w->sim->rng, REGIONS);
	send(w, node, type, regions, n * 8);
}

static bool pick_marked(struct mlog_wl *w, struct kernel *k, uint64_t *ret)
{
	uint64_t start = prng_below(&w->sim->rng, REGIONS);
	for (uint64_t i = 0; i < REGIONS; i++)
		if (k->marked_at[(start + i) % REGIONS]) {
			*ret = (start + i) % REGIONS;
			return true;
		}
	return false;
}

static bool finish_writes(struct mlog_wl *w, uint32_t node);

/* A running kernel's next request. */
static void next_io(struct mlog_wl *w, uint32_t node)
{
	struct kernel *k = &w->k[node];
	uint64_t r, roll = prng_below(&w->sim->rng, 100);
	if (!k->resync_due && prng_chance(&w->sim->rng, 1)) {
		k->suspending = true; /* the admin suspends the mirror (a table reload) */
		finish_writes(w, node);
	} else if (k->resync_due) {
		uint64_t v[2] = { k->resync_region, 1 };
		k->resync_due = false;
		k->recovering = false; /* the copy is done */
		send(w, node, DM_ULOG_SET_REGION_SYNC, v, sizeof(v));
	} else if (roll < 15) {
		send_regions(w, node, DM_ULOG_MARK_REGION, 1 + prng_below(&w->sim->rng, 3));
	} else if (roll < 30) {
		send_regions(w, node, DM_ULOG_FLUSH, 1 + prng_below(&w->sim->rng, 3));
	} else if (roll < 50 && pick_marked(w, k, &r)) {
		k->marked_at[r] = 0; /* the kernel stops writing before it clears */
		send(w, node, DM_ULOG_CLEAR_REGION, &r, sizeof(r));
	} else if (roll < 65) {
		k->asked = prng_below(&w->sim->rng, REGIONS);
		send(w, node, DM_ULOG_IS_CLEAN, &k->asked, 8);
	} else if (roll < 80) {
		send(w, node, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
	} else if (roll < 85) {
		r = prng_below(&w->sim->rng, REGIONS);
		send(w, node, DM_ULOG_IS_REMOTE_RECOVERING, &r, sizeof(r));
	} else if (roll < 90) {
		r = prng_below(&w->sim->rng, REGIONS);
		send(w, node, DM_ULOG_IN_SYNC, &r, sizeof(r));
	} else if (roll < 95) {
		send(w, node, DM_ULOG_GET_SYNC_COUNT, NULL, 0);
	} else {
		send(w, node, prng_chance(&w->sim->rng, 50) ? DM_ULOG_STATUS_INFO : DM_ULOG_FLUSH,
		     NULL, 0);
	}
}

/* Let the writes in flight finish: clear every mark, then flush. Returns
 * false when there is nothing left to finish. */
static bool finish_writes(struct mlog_wl *w, uint32_t node)
{
	struct kernel *k = &w->k[node];
	uint64_t r;
	if (pick_marked(w, k, &r)) {
		k->marked_at[r] = 0;
		k->flush_due = true;
		for (uint32_t i = 1; i <= w->sim->n_nodes; i++)
			w->k[i].done_round = 0; /* the region may be handed out now: ask again */
		send(w, node, DM_ULOG_CLEAR_REGION, &r, sizeof(r));
		return true;
	}
	if (k->flush_due) {
		k->flush_due = false;
		send(w, node, DM_ULOG_FLUSH, NULL, 0);
		return true;
	}
	return false;
}

/* Healing: finish the writes, then ask for resync work until there is none
 * left (marked regions are not handed out). */
static void heal_io(struct mlog_wl *w, uint32_t node)
{
	struct kernel *k = &w->k[node];
	if (!finish_writes(w, node) && k->done_round != w->round + 1)
		send(w, node, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
}

/* Suspending: finish the writes, presuspend, postsuspend; then the table is
 * resumed again or destroyed and constructed anew. */
static void suspend_io(struct mlog_wl *w, uint32_t node)
{
	struct kernel *k = &w->k[node];
	if (k->state == K_RUN && !finish_writes(w, node))
		send(w, node, DM_ULOG_PRESUSPEND, NULL, 0);
	else if (k->state == K_PRESUSPENDED)
		send(w, node, DM_ULOG_POSTSUSPEND, NULL, 0);
}

/* Is a node cut off from the majority still running? Pacemaker starts
 * nothing before it has fenced such a node. */
static bool unfenced_node_cut_off(const struct mlog_wl *w)
{
	uint32_t reach[SIMNET_MAX_NODES];
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++)
		if (w->sim->nodes[i].node && simnet_reachable(w->sim->net, i, reach) <= w->sim->n_nodes / 2)
			return true;
	return false;
}

static void wl_submit(void *p, struct sim_node *sn)
{
	struct mlog_wl *w = p;
	struct kernel *k = &w->k[sn->id];
	char ctr[64];
	if (k->busy)
		return;
	bool may_start = !unfenced_node_cut_off(w);
	switch (k->state) {
	case K_DOWN:
		if ((k->retired && w->sim->quiescing) || !may_start || sn->id > w->last_user)
			break; /* the others must carry on without it */
		k->state = K_CTR;
		snprintf(ctr, sizeof(ctr), "%u clustered-disk %s %u%s", REGIONS * REGION_SIZE, LOG_DEV,
		         REGION_SIZE, w->nosync ? " nosync" : "");
		send(w, sn->id, DM_ULOG_CTR, ctr, strlen(ctr));
		break;
	case K_CTR:
		if (may_start)
			send(w, sn->id, DM_ULOG_RESUME, NULL, 0);
		break;
	case K_RESUMING:
		break;
	case K_RUN:
	case K_PRESUSPENDED:
		if (k->suspending)
			suspend_io(w, sn->id);
		else if (!w->sim->quiescing || k->resync_due)
			next_io(w, sn->id);
		else
			heal_io(w, sn->id);
		break;
	case K_SUSPENDED:
		if (!may_start)
			break;
		if (prng_chance(&w->sim->rng, 50)) {
			send(w, sn->id, DM_ULOG_DTR, NULL, 0);
		} else {
			k->state = K_CTR;
			send(w, sn->id, DM_ULOG_RESUME, NULL, 0);
		}
		break;
	}
}

static bool someone_marked_before(struct mlog_wl *w, uint64_t region, uint64_t step,
                                  uint32_t *ret_node)
{
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++) {
		uint64_t at = w->k[i].marked_at[region];
		if (w->sim->nodes[i].node && at && at < step) {
			*ret_node = i;
			return true;
		}
	}
	return false;
}

/* A mark acknowledged to node: no other node may be resyncing its regions. */
static void check_not_recovered(struct mlog_wl *w, uint32_t node)
{
	const struct kernel *k = &w->k[node];
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++) {
		const struct kernel *o = &w->k[i];
		for (size_t r = 0; i != node && o->recovering && r < k->n_regions; r++)
			if (k->regions[r] == o->resync_region)
				sim_violation(w->sim, "node %u's mark of region %llu acknowledged while node %u "
				              "resyncs it", node, (unsigned long long)o->resync_region, i);
	}
}

/* Resync work handed to node: no live node may have the region marked. */
static void check_not_marked(struct mlog_wl *w, uint32_t node, uint64_t region)
{
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++)
		if (w->sim->nodes[i].node && w->k[i].marked_at[region])
			sim_violation(w->sim, "region %llu handed to node %u for resync while node %u "
			              "has it marked", (unsigned long long)region, node, i);
}

static void on_answer(struct mlog_wl *w, uint32_t node, const int64_t *words, size_t n)
{
	struct kernel *k = &w->k[node];
	uint32_t holder;
	switch (k->type) {
	case DM_ULOG_CTR:
		k->state = K_CTR;
		break;
	case DM_ULOG_RESUME:
		k->state = K_RUN;
		break;
	case DM_ULOG_PRESUSPEND:
		k->state = K_PRESUSPENDED;
		break;
	case DM_ULOG_POSTSUSPEND:
		k->state = K_SUSPENDED;
		k->suspending = false;
		break;
	case DM_ULOG_DTR:
		k->state = K_DOWN;
		k->retired = prng_chance(&w->sim->rng, 30);
		break;
	case DM_ULOG_MARK_REGION:
	case DM_ULOG_FLUSH:
		check_not_recovered(w, node);
		for (size_t i = 0; i < k->n_regions; i++)
			if (!k->marked_at[k->regions[i]])
				k->marked_at[k->regions[i]] = w->sim->step;
		break;
	case DM_ULOG_IS_CLEAN:
		if (n == 1 && words[0] == 1 && someone_marked_before(w, k->asked, k->sent_step, &holder))
			sim_violation(w->sim, "region %llu answered clean to node %u while node %u has it marked",
			              (unsigned long long)k->asked, node, holder);
		break;
	case DM_ULOG_GET_RESYNC_WORK:
		if (n == 2 && words[0]) {
			k->resync_due = k->recovering = true;
			k->resync_region = (uint64_t)words[1];
			check_not_marked(w, node, k->resync_region);
		}
		if (k->resync_due)
			w->round++; /* everyone asks again after this one is done */
		else
			k->done_round = w->round + 1;
		break;
	case DM_ULOG_GET_SYNC_COUNT:
		k->sync_count = n == 1 ? (uint64_t)words[0] : 0;
		break;
	case DM_ULOG_SET_REGION_SYNC: {
		uint64_t v[2];
		memcpy(v, k->data, sizeof(v));
		if (v[0] < REGIONS && v[1])
			w->diverged[v[0]] = false;
		break;
	}
	}
}

static void wl_on_kernel_reply(void *p, uint32_t node, const struct ulog_origin *to, int error,
                               const void *data, size_t len)
{
	struct mlog_wl *w = p;
	struct kernel *k = &w->k[node];
	if (!k->busy || to->seq != k->seq)
		return; /* an answer to a request re-sent since: the kernel drops it */
	k->busy = false;
	int64_t words[2] = { 0, 0 };
	size_t n = len / 8 < 2 ? len / 8 : 2;
	if (n)
		memcpy(words, data, n * 8);
	if (w->sim->verbose)
		fprintf(stderr, "step %llu: node %u %s -> %d [%lld %lld]\n",
		        (unsigned long long)w->sim->step, node, ulog_type_name(k->type), error,
		        (long long)words[0], (long long)words[1]);
	if (error == 0) {
		w->acked++;
		on_answer(w, node, words, n);
	} else if (error == -EAGAIN || (k->type == DM_ULOG_CTR || k->type == DM_ULOG_RESUME)) {
		w->refused++; /* not ready yet: tried again later */
	} else {
		sim_violation(w->sim, "node %u: %s failed: %d", node, ulog_type_name(k->type), error);
	}
}

static void wl_on_node_down(void *p, uint32_t node)
{
	struct mlog_wl *w = p;
	for (uint64_t r = 0; r < REGIONS; r++)
		w->diverged[r] |= w->k[node].marked_at[r] != 0; /* a write may be half done */
	memset(&w->k[node], 0, sizeof(w->k[node])); /* a crash takes the kernel too */
	/* what it marked (or, when the others go on without a majority, every
	 * region) resyncs: the survivors' kernels ask for work again, as after
	 * the writer's automatic resume (mlog-auto-resume.c) */
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++)
		w->k[i].done_round = 0;
}

/* The kernel gives up after a timeout and sends the request again. */
static void resend_timed_out(struct mlog_wl *w, uint32_t node)
{
	struct kernel *k = &w->k[node];
	if (!k->busy || w->sim->now_ms - k->sent_ms < KERNEL_TIMEOUT_MS || w->sim->quiescing)
		return;
	w->abandoned++;
	send(w, node, k->type, k->data, k->len); /* the same request under a new seq */
}

/* Nodes outside the majority are fenced by it, as Pacemaker would, though
 * not at once: until then they may still write what they had marked. With
 * no majority anywhere nobody can fence: every node stops at once
 * (no-quorum-policy=suicide, as for shared storage). */
static void fence_minorities(struct mlog_wl *w)
{
	struct sim *sim = w->sim;
	uint32_t reach[SIMNET_MAX_NODES];
	bool majority = false;
	for (uint32_t i = 1; i <= sim->n_nodes; i++)
		majority |= sim->nodes[i].node && simnet_reachable(sim->net, i, reach) > sim->n_nodes / 2;
	for (uint32_t i = 1; i <= sim->n_nodes; i++)
		if (sim->nodes[i].node && simnet_reachable(sim->net, i, reach) <= sim->n_nodes / 2 &&
		    (!majority || prng_chance(&sim->rng, FENCE_CHANCE)))
			sim_kill_node(sim, i);
}

/* The cluster's fencer reports a node that is down (killed, or fenced
 * above) as fenced to the live nodes, now and then, as fence-watch.c would
 * find it in Pacemaker's history; a node that runs is never reported. */
static void report_fenced(struct mlog_wl *w)
{
	struct sim *sim = w->sim;
	for (uint32_t d = 1; d <= sim->n_nodes; d++) {
		if (sim->nodes[d].node || !(sim->quiescing || prng_chance(&sim->rng, 30)))
			continue;
		for (uint32_t i = 1; i <= sim->n_nodes; i++)
			if (sim->nodes[i].node && node_fence_confirmed(sim->nodes[i].node, d) > 0 &&
			    sim->verbose)
				fprintf(stderr, "step %llu: node %u hears node %u was fenced\n",
				        (unsigned long long)sim->step, i, d);
	}
}

static void wl_on_tick(void *p, uint64_t now_ms)
{
	struct mlog_wl *w = p;
	fence_minorities(w);
	report_fenced(w);
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++)
		resend_timed_out(w, i);
}

/* The disk log never shows a region clean that a live node has marked. */
static int check_disk(struct mlog_wl *w)
{
	size_t len;
	struct mlog_mem_device *dev = mlog_mem_shelf_device(w->sim->shelf, LOG_DEV);
	const uint8_t *bytes = dev ? mlog_mem_device_bytes(dev, &len) : NULL;
	uint8_t clean[(REGIONS + 7) / 8];
	if (!bytes || mlog_disk_decode(bytes, len, REGIONS, clean) < 0)
		return 0;
	for (uint64_t r = 0; r < REGIONS; r++) {
		uint32_t holder;
		if (clean[r / 8] >> (r % 8) & 1 && someone_marked_before(w, r, w->sim->step + 1, &holder))
			return sim_violation(w->sim, "the disk log shows region %llu clean, node %u has it marked",
			                     (unsigned long long)r, holder);
	}
	return 0;
}

/* Count the configurations that went on by their members' vouching that
 * the nodes they lacked were fenced (node-mlog-lift.c). */
static void count_lifts(struct mlog_wl *w)
{
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++) {
		struct node_log_info info;
		if (!w->sim->nodes[i].node || node_log_find(w->sim->nodes[i].node, LOG_UUID, &info) < 0 ||
		    !info.has_domain || !info.domain.lifted || info.domain.epoch == w->lifted_epoch[i])
			continue;
		w->lifted_epoch[i] = info.domain.epoch;
		if (i == info.domain.writer)
			w->sim->lifts++;
	}
}

static int wl_check(void *p)
{
	count_lifts(p);
	return check_disk(p);
}

/* A node whose kernel destroyed the table and stays away while healing. */
static bool away(const struct kernel *k) { return k->retired && k->state == K_DOWN && !k->busy; }

/* Has node no mirror table, for good or while healing? */
static bool without_table(const struct mlog_wl *w, uint32_t node)
{
	return node > w->last_user || away(&w->k[node]);
}

/* While the dead stay down, the live nodes finish everything unless one
 * stays away (it may have been a member since the last active
 * configuration: then nobody may vouch for it, it is alive). */
static bool wl_survivors_must_finish(void *p)
{
	struct mlog_wl *w = p;
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++)
		if (w->sim->nodes[i].node && i <= w->last_user && away(&w->k[i]))
			return false;
	return true;
}

static bool wl_settled(void *p)
{
	struct mlog_wl *w = p;
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++) {
		const struct kernel *k = &w->k[i];
		if (w->sim->nodes[i].node && !without_table(w, i) && (k->busy || k->state != K_RUN || k->resync_due ||
		                              k->flush_due || k->done_round != w->round + 1))
			return false;
	}
	return true;
}

static int wl_check_final(void *p)
{
	struct mlog_wl *w = p;
	bool running = false;
	for (uint32_t i = 1; i <= w->sim->n_nodes; i++) {
		if (without_table(w, i) || !w->sim->nodes[i].node)
			continue;
		running = true;
		if (w->k[i].busy)
			return sim_violation(w->sim, "node %u: %s never answered after healing", i,
			                     ulog_type_name(w->k[i].type));
		if (w->k[i].state != K_RUN)
			return sim_violation(w->sim, "node %u: the log is not resumed after healing", i);
		send(w, i, DM_ULOG_GET_SYNC_COUNT, NULL, 0); /* answered at once, from the replica */
		uint64_t count = w->k[i].sync_count;
		if (w->k[i].busy || count != REGIONS)
			return sim_violation(w->sim, "node %u: %llu of %d regions in sync after resync",
			                     i, (unsigned long long)count, REGIONS);
	}
	/* nosync tables take every region for in sync at each first resume, as
	 * the kernel's own logs do: the administrator said so */
	for (uint64_t r = 0; running && !w->nosync && r < REGIONS; r++)
		if (w->diverged[r])
			return sim_violation(w->sim, "region %llu was marked by a node that crashed, and "
			                     "all are in sync without a resync of it", (unsigned long long)r);
	return check_disk(w);
}

static void wl_count(void *p, uint64_t *acked, uint64_t *refused, uint64_t *abandoned)
{
	struct mlog_wl *w = p;
	*acked += w->acked;
	*refused += w->refused;
	*abandoned += w->abandoned;
}

static void wl_on_reply(void *p, uint64_t token, int result) {}

const struct workload_ops mlog_workload = {
	.name = "mlog",
	.create = wl_create,
	.destroy = wl_destroy,
	.submit = wl_submit,
	.on_reply = wl_on_reply,
	.on_kernel_reply = wl_on_kernel_reply,
	.on_node_down = wl_on_node_down,
	.on_tick = wl_on_tick,
	.check = wl_check,
	.settled = wl_settled,
	.check_final = wl_check_final,
	.survivors_must_finish = wl_survivors_must_finish,
	.count = wl_count,
	/* a kernel request takes tens of steps: a fault every few hundred steps
	 * lets marks and clears of several nodes overlap between faults */
	.fault_percent = 10,
};
