/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulator core: node lifecycle, the random schedule of network steps,
 * client operations and faults, and the checks common to all workloads
 * (replicas of one primary configuration are identical). */
#include "config.h"

#include "sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "prng.h"

#define QUIESCE_MAX_STEPS 200000

int sim_violation(struct sim *sim, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sim->violation, sizeof(sim->violation), fmt, ap);
	va_end(ap);
	return -1;
}

uint64_t sim_next_token(struct sim *sim)
{
	return prng_next(&sim->rng) | 1; /* never 0: reserved for the node itself */
}

static void on_reply(void *host, uint64_t token, int result, const void *data, size_t len)
{
	struct sim_node *sn = host;
	sn->sim->hot = true;
	sn->sim->workload->on_reply(sn->sim->wl, token, result);
}

static void on_kernel_reply(void *host, const struct ulog_origin *to, int error, const void *data,
                            size_t len)
{
	struct sim_node *sn = host;
	if (sn->sim->workload->on_kernel_reply)
		sn->sim->workload->on_kernel_reply(sn->sim->wl, sn->id, to, error, data, len);
}

static void node_up(struct sim *sim, struct sim_node *sn)
{
	simnet_node_up(sim->net, sn->id);
	struct node_params p = {
		.disk = &mem_mlog_disk_ops,
		.disk_backend = sim->shelf,
		.kernel_reply = on_kernel_reply,
		.kernel_host = sn,
		.transport = &sim_transport_ops,
		.transport_backend = &sn->transport,
		.quorum = &sim_quorum_ops,
		.quorum_backend = &sn->quorum,
		.store = &mem_store_ops,
		.store_backend = sn->disk,
		.reply = on_reply,
		.host = sn,
	};
	if (node_create(&p, &sn->node) < 0) {
		fprintf(stderr, "blkspace-sim: out of memory\n");
		abort();
	}
}

/* A crash: the process and everything not committed to its disk are gone. */
static void node_kill(struct sim *sim, struct sim_node *sn)
{
	simnet_node_kill(sim->net, sn->id);
	node_destroy(sn->node);
	sn->node = NULL;
	sim->workload->on_node_down(sim->wl, sn->id);
}

void sim_kill_node(struct sim *sim, uint32_t node)
{
	if (sim->nodes[node].node)
		node_kill(sim, &sim->nodes[node]);
}

/* Nodes started but not yet joined retry, as main.c does on its timer. */
static void start_pending(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct sim_node *sn = &sim->nodes[i];
		struct node_status st;
		if (!sn->node)
			continue;
		node_get_status(sn->node, &st);
		if (st.started)
			continue;
		int rc = node_start(sn->node);
		if (rc < 0 && rc != -EAGAIN) {
			sim_violation(sim, "node %u failed to start: %d", sn->id, rc);
			return;
		}
	}
}

bool sim_node_is_primary(const struct sim_node *sn)
{
	struct domain *d = sn->node ? node_control_domain(sn->node) : NULL;
	return d && domain_is_active(d);
}

struct sim_node *sim_random_live(struct sim *sim)
{
	struct sim_node *live[SIMNET_MAX_NODES];
	size_t n = 0;
	for (unsigned i = 1; i <= sim->n_nodes; i++)
		if (sim->nodes[i].node && node_control_domain(sim->nodes[i].node))
			live[n++] = &sim->nodes[i];
	return n ? live[prng_below(&sim->rng, n)] : NULL;
}

static void fault_kill(struct sim *sim)
{
	struct sim_node *sn = sim_random_live(sim);
	if (!sn)
		return;
	if (prng_chance(&sim->rng, 10)) {
		if (sim->verbose)
			fprintf(stderr, "step %llu: whole-cluster crash\n", (unsigned long long)sim->step);
		for (unsigned i = 1; i <= sim->n_nodes; i++)
			if (sim->nodes[i].node)
				node_kill(sim, &sim->nodes[i]);
		return;
	}
	if (sim->verbose)
		fprintf(stderr, "step %llu: kill node %u\n", (unsigned long long)sim->step, sn->id);
	node_kill(sim, sn);
}

static void fault_restart(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct sim_node *sn = &sim->nodes[i];
		if (!sn->node && prng_chance(&sim->rng, 50)) {
			if (sim->verbose)
				fprintf(stderr, "step %llu: restart node %u\n", (unsigned long long)sim->step,
				        sn->id);
			node_up(sim, sn);
		}
	}
}

static void fault_partition(struct sim *sim)
{
	unsigned comps = 2 + (unsigned)prng_below(&sim->rng, 2);
	if (sim->verbose)
		fprintf(stderr, "step %llu: partition into %u\n", (unsigned long long)sim->step, comps);
	for (unsigned i = 1; i <= sim->n_nodes; i++)
		simnet_set_component(sim->net, i, (unsigned)prng_below(&sim->rng, comps));
}

static void fault_merge(struct sim *sim)
{
	if (sim->verbose)
		fprintf(stderr, "step %llu: merge\n", (unsigned long long)sim->step);
	for (unsigned i = 1; i <= sim->n_nodes; i++)
		simnet_set_component(sim->net, i, 0);
}

static void maybe_fault(struct sim *sim)
{
	unsigned kinds[4], n = 0;
	for (unsigned k = 0; k < 4; k++)
		if (sim->faults & (1u << k))
			kinds[n++] = 1u << k;
	if (n == 0)
		return;
	switch (kinds[prng_below(&sim->rng, n)]) {
	case SIM_FAULT_KILL: fault_kill(sim); break;
	case SIM_FAULT_RESTART: fault_restart(sim); break;
	case SIM_FAULT_PARTITION: fault_partition(sim); break;
	case SIM_FAULT_MERGE: fault_merge(sim); break;
	}
}

#define DISK_ERROR_PERCENT 1 /* chance per step that a disk starts failing */
#define DISK_ERROR_MAX_STEPS 300
#define COMMIT_RETRY_STEPS 50 /* how often nodes retry a failed commit */

static void set_disk_error(struct sim *sim, struct sim_node *sn, int error, uint64_t until)
{
	if (sim->verbose)
		fprintf(stderr, "step %llu: node %u's disk %s\n", (unsigned long long)sim->step, sn->id,
		        error ? (error == EIO ? "fails with EIO" : "is full") : "works again");
	mem_disk_set_error(sn->disk, error);
	sn->disk_error_until = until;
}

/* Disks that fail now and then, and the nodes' retries of their commits. */
static void maybe_disk_error(struct sim *sim, bool retry_now)
{
	if (!(sim->faults & SIM_FAULT_DISK_ERROR))
		return;
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct sim_node *sn = &sim->nodes[i];
		if (sn->disk_error_until && (sim->step >= sn->disk_error_until || sim->quiescing))
			set_disk_error(sim, sn, 0, 0);
		if (sn->node && (retry_now || sim->step % COMMIT_RETRY_STEPS == 0))
			node_retry_commit(sn->node);
	}
	if (sim->quiescing || !prng_chance(&sim->rng, DISK_ERROR_PERCENT))
		return;
	struct sim_node *sn = &sim->nodes[1 + prng_below(&sim->rng, sim->n_nodes)];
	if (sn->disk_error_until)
		return;
	int error = prng_chance(&sim->rng, 50) ? EIO : ENOSPC;
	set_disk_error(sim, sn, error, sim->step + 1 + prng_below(&sim->rng, DISK_ERROR_MAX_STEPS));
}

#define SPLIT_MAX_LOGS 8

/* Note whether a node is active in a domain, or still promising. */
static void note_phase(const struct domain_status *st, bool *active, bool *promising)
{
	*active |= st->phase == DOMAIN_ACTIVE;
	*promising |= st->phase == DOMAIN_EPOCH;
}

/* A configuration round half done: in one domain, one node is active in
 * the new epoch while another still waits for the promises (it may never
 * see them, and then stays in the old epoch). */
static bool round_half_done(struct sim *sim)
{
	bool act[SPLIT_MAX_LOGS + 1] = { false }, prom[SPLIT_MAX_LOGS + 1] = { false };
	char uuids[SPLIT_MAX_LOGS][sizeof(((struct node_log_info *)0)->uuid)];
	size_t n_uuids = 0;
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct node *node = sim->nodes[i].node;
		if (!node)
			continue;
		struct domain *control = node_control_domain(node);
		struct domain_status st;
		if (control) {
			domain_get_status(control, &st);
			note_phase(&st, &act[0], &prom[0]);
		}
		for (size_t k = 0; k < node_log_count(node); k++) {
			struct node_log_info li;
			if (node_log_info(node, k, &li) < 0 || !li.has_domain)
				continue;
			size_t g = 0;
			while (g < n_uuids && strcmp(uuids[g], li.uuid) != 0)
				g++;
			if (g == n_uuids && n_uuids < SPLIT_MAX_LOGS)
				memcpy(uuids[n_uuids++], li.uuid, sizeof(uuids[0]));
			if (g < n_uuids)
				note_phase(&li.domain, &act[g + 1], &prom[g + 1]);
		}
	}
	for (size_t g = 0; g <= n_uuids; g++)
		if (act[g] && prom[g])
			return true;
	return false;
}

static void maybe_split_round(struct sim *sim)
{
	if (!(sim->faults & SIM_FAULT_SPLIT_ROUND) || !round_half_done(sim) ||
	    !prng_chance(&sim->rng, 50))
		return;
	if (sim->verbose)
		fprintf(stderr, "step %llu: a round is half done\n", (unsigned long long)sim->step);
	fault_partition(sim);
}

/* Without RESTART a killed node stays down; without MERGE a partition would
 * last forever: heal now and then so the run keeps making progress. */
static void maybe_heal(struct sim *sim)
{
	if (!(sim->faults & SIM_FAULT_RESTART) && prng_chance(&sim->rng, 20))
		fault_restart(sim);
	if (!(sim->faults & SIM_FAULT_MERGE) && prng_chance(&sim->rng, 20))
		fault_merge(sim);
}

/* Find (epoch, seq) in the sorted label table; its slot, or where it goes. */
static size_t label_slot(const struct sim *sim, uint64_t epoch, uint64_t seq)
{
	size_t lo = 0, hi = sim->n_labels;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct sim_label *l = &sim->labels[mid];
		if (l->epoch < epoch || (l->epoch == epoch && l->seq < seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Replicas apply the same sequence, each at its own pace: whatever node
 * holds state (epoch, seq), at any step of the run, holds the same state. */
static int check_label(struct sim *sim, uint32_t node, const struct domain_status *st)
{
	size_t i = label_slot(sim, st->epoch, st->seq);
	struct sim_label *l = i < sim->n_labels ? &sim->labels[i] : NULL;
	if (l && l->epoch == st->epoch && l->seq == st->seq) {
		if (l->digest == st->digest)
			return 0;
		return sim_violation(sim, "replicas differ at (%llu, %llu): node %u %016llx, node %u %016llx",
		                     (unsigned long long)st->epoch, (unsigned long long)st->seq, l->node,
		                     (unsigned long long)l->digest, node, (unsigned long long)st->digest);
	}
	if (sim->n_labels == sim->cap_labels) {
		size_t cap = sim->cap_labels ? sim->cap_labels * 2 : 256;
		struct sim_label *p = reallocarray(sim->labels, cap, sizeof(*p));
		if (!p)
			abort();
		sim->labels = p;
		sim->cap_labels = cap;
	}
	memmove(&sim->labels[i + 1], &sim->labels[i], (sim->n_labels - i) * sizeof(*l));
	sim->labels[i] = (struct sim_label){ st->epoch, st->seq, st->digest, node };
	sim->n_labels++;
	return 0;
}

static int check_replicas(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct sim_node *sn = &sim->nodes[i];
		struct domain *d = sn->node ? node_control_domain(sn->node) : NULL;
		if (!d)
			continue;
		struct domain_status st;
		domain_get_status(d, &st);
		if (!st.receiving && check_label(sim, sn->id, &st) < 0)
			return -1;
	}
	return 0;
}

/* Workloads whose clients need many steps per request thin the faults out. */
static bool fault_allowed(struct sim *sim)
{
	unsigned pct = sim->workload->fault_percent;
	return pct == 0 || prng_chance(&sim->rng, pct);
}

static void one_step(struct sim *sim)
{
	uint64_t roll = prng_below(&sim->rng, 100);
	if (roll < 70) {
		simnet_step(sim->net);
	} else if (roll < 90) {
		struct sim_node *sn = sim_random_live(sim);
		if (sn)
			sim->workload->submit(sim->wl, sn);
	} else if (roll < 94) {
		if (fault_allowed(sim))
			maybe_fault(sim);
	} else {
		maybe_heal(sim);
	}
}

static int check_all(struct sim *sim)
{
	if (sim->violation[0])
		return -1;
	if (check_replicas(sim) < 0)
		return -1;
	return sim->workload->check(sim->wl);
}

/* A live node's control domain waits for more members: the logs of the
 * live ones part where either history may have been applied by a dead one. */
static bool control_undecided(const struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct domain_status st;
		if (!sim->nodes[i].node || !node_control_domain(sim->nodes[i].node))
			continue;
		domain_get_status(node_control_domain(sim->nodes[i].node), &st);
		if (st.undecided_at)
			return true;
	}
	return false;
}

/* Run until nothing is in flight, then check that every live node is in
 * the primary component with the same control state, and the workload's
 * final invariants. Without the dead (survivors), the control domain may
 * rightly wait for them (see domain-plan.c): 1 then, and nothing checked. */
static int settle_and_check(struct sim *sim, bool survivors)
{
	for (unsigned k = 0; k < QUIESCE_MAX_STEPS; k++) {
		start_pending(sim);
		maybe_disk_error(sim, true);
		int changes = simnet_settle(sim->net);
		bool moved = simnet_step(sim->net);
		sim->now_ms++;
		sim->workload->on_tick(sim->wl, sim->now_ms);
		for (unsigned i = 1; i <= sim->n_nodes && !moved; i++)
			if (sim->nodes[i].node && node_control_domain(sim->nodes[i].node))
				sim->workload->submit(sim->wl, &sim->nodes[i]); /* finish, see quiescing */
		changes += simnet_settle(sim->net);
		if (check_all(sim) < 0)
			return -1;
		bool settled = !sim->workload->settled || sim->workload->settled(sim->wl);
		if (!moved && changes == 0 && simnet_in_flight(sim->net) == 0 && settled)
			break;
	}
	if (survivors && (control_undecided(sim) || (sim->workload->survivors_must_finish &&
	                                             !sim->workload->survivors_must_finish(sim->wl))))
		return 1;
	struct domain_status ref;
	unsigned first = 0;
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		if (!sim->nodes[i].node)
			continue;
		if (!sim_node_is_primary(&sim->nodes[i]))
			return sim_violation(sim, "after healing, node %u is not in the primary component", i);
		struct domain_status st;
		domain_get_status(node_control_domain(sim->nodes[i].node), &st);
		if (!first) {
			ref = st;
			first = i;
		} else if (st.epoch != ref.epoch || st.seq != ref.seq || st.digest != ref.digest) {
			return sim_violation(sim, "after healing, node %u is at (%llu, %llu), node %u at "
			                     "(%llu, %llu)", i, (unsigned long long)st.epoch,
			                     (unsigned long long)st.seq, first,
			                     (unsigned long long)ref.epoch, (unsigned long long)ref.seq);
		}
	}
	return sim->workload->check_final(sim->wl);
}

/* After a healing, a random minority crashes: the lowest node first, half
 * the time (a log's writer). */
static void kill_minority(struct sim *sim)
{
	unsigned victims = 1 + (unsigned)prng_below(&sim->rng, (sim->n_nodes - 1) / 2);
	for (unsigned k = 0; k < victims; k++) {
		struct sim_node *sn = k == 0 && prng_chance(&sim->rng, 50) ? &sim->nodes[1]
		                                                           : sim_random_live(sim);
		if (!sn || !sn->node)
			continue;
		if (sim->verbose)
			fprintf(stderr, "step %llu: kill node %u after healing\n",
			        (unsigned long long)sim->step, sn->id);
		node_kill(sim, sn);
	}
}

static void all_up(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n_nodes; i++)
		if (!sim->nodes[i].node)
			node_up(sim, &sim->nodes[i]);
}

/* Heal everything and run until nothing is in flight. With
 * SIM_FAULT_SURVIVORS, half the time a minority then crashes and stays
 * down (fenced): the others must finish without them, before everyone
 * comes back and heals once more. */
static int quiesce(struct sim *sim)
{
	sim->quiescing = true;
	fault_merge(sim);
	all_up(sim);
	if (sim->faults & SIM_FAULT_SURVIVORS && prng_chance(&sim->rng, 50)) {
		if (settle_and_check(sim, false) < 0)
			return -1;
		kill_minority(sim);
		int rc = settle_and_check(sim, true);
		if (rc < 0)
			return -1;
		sim->survivor_heals += rc == 0;
		all_up(sim);
	}
	return settle_and_check(sim, false);
}

void sim_setup_logging(const char *name, bool verbose)
{
	qb_log_init(name, LOG_DAEMON, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
	if (verbose) {
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
}

void sim_setup(struct sim *sim)
{
	/* everything a run depends on starts from the seed alone; the seed is
	 * hashed so that neighbouring seeds do not walk the same stream a few
	 * draws apart */
	uint64_t mix = sim->seed;
	sim->rng = prng_next(&mix);
	sim->now_ms = 0;
	sim->hot = false;
	sim->quiescing = false;
	sim->violation[0] = '\0';
	sim->net = simnet_create(sim->n_nodes, prng_next(&sim->rng));
	sim->shelf = mlog_mem_shelf_create();
	sim->wl = sim->workload->create(sim);
	if (!sim->net || !sim->wl || !sim->shelf) {
		fprintf(stderr, "blkspace-sim: out of memory\n");
		abort();
	}
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		struct sim_node *sn = &sim->nodes[i];
		memset(sn, 0, sizeof(*sn));
		sn->id = i;
		sn->sim = sim;
		sn->disk = mem_disk_create();
		sn->transport = (struct sim_transport){ sim->net, i };
		sn->quorum = (struct sim_quorum){ sim->net, i };
		node_up(sim, sn);
	}
}

void sim_teardown(struct sim *sim)
{
	for (unsigned i = 1; i <= sim->n_nodes; i++) {
		node_destroy(sim->nodes[i].node);
		mem_disk_destroy(sim->nodes[i].disk);
	}
	sim->workload->count(sim->wl, &sim->acked, &sim->refused, &sim->abandoned);
	simnet_direct_counts(sim->net, &sim->direct_delivered, &sim->direct_lost);
	sim->workload->destroy(sim->wl);
	mlog_mem_shelf_destroy(sim->shelf);
	sim->shelf = NULL;
	free(sim->labels);
	sim->labels = NULL;
	sim->n_labels = sim->cap_labels = 0;
	simnet_destroy(sim->net);
	sim->net = NULL;
}

bool sim_settle_all(struct sim *sim, uint64_t max_steps)
{
	for (uint64_t k = 0; k < max_steps; k++) {
		start_pending(sim);
		int changes = simnet_settle(sim->net);
		bool moved = simnet_step(sim->net);
		sim->now_ms++;
		changes += simnet_settle(sim->net);
		if (!moved && changes == 0 && simnet_in_flight(sim->net) == 0)
			return true;
	}
	return false;
}

void sim_restart_node(struct sim *sim, uint32_t node)
{
	if (!sim->nodes[node].node)
		node_up(sim, &sim->nodes[node]);
}

int sim_run(struct sim *sim, uint64_t steps)
{
	sim_setup(sim);
	int rc = 0;
	for (sim->step = 1; sim->step <= steps && rc == 0; sim->step++) {
		start_pending(sim);
		one_step(sim);
		/* faults right when an answer went out or a membership round runs
		 * find the races a uniform schedule rarely hits */
		if (sim->hot && prng_chance(&sim->rng, 25) && fault_allowed(sim))
			maybe_fault(sim);
		sim->hot = simnet_settle(sim->net) > 0;
		maybe_split_round(sim);
		maybe_disk_error(sim, false);
		sim->now_ms++;
		sim->workload->on_tick(sim->wl, sim->now_ms);
		rc = check_all(sim);
	}
	if (rc == 0)
		rc = quiesce(sim);
	if (rc < 0 && sim->verbose)
		simnet_dump(sim->net, stderr);
	sim_teardown(sim);
	return rc;
}
