/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The deterministic simulator: N blkspace nodes in one process over the sim
 * backends (simulated network, quorum and disks), driven by a seeded random
 * schedule with a virtual clock of one millisecond per step. Workloads submit
 * client operations and check their invariants after every step. */
#ifndef BLKSPACE_SIM_H
#define BLKSPACE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlog-disk.h"
#include "node.h"
#include "quorum-sim.h"
#include "simnet.h"
#include "store-mem.h"
#include "transport-sim.h"

enum sim_fault {
	SIM_FAULT_KILL = 1u << 0,
	SIM_FAULT_RESTART = 1u << 1,
	SIM_FAULT_PARTITION = 1u << 2,
	SIM_FAULT_MERGE = 1u << 3,
	/* a partition, half the time, whenever a configuration round is half
	 * done: one node already active in a domain, another still promising */
	SIM_FAULT_SPLIT_ROUND = 1u << 4,
	/* a node's disk fails its journal commits and snapshots for a while
	 * (EIO or ENOSPC); its node retries them, as blkspaced does every second */
	SIM_FAULT_DISK_ERROR = 1u << 5,
	/* healing first merges the partitions and leaves the dead down (fenced)
	 * while the live nodes hold a majority: they must finish without them */
	SIM_FAULT_SURVIVORS = 1u << 6,
};

struct sim_node {
	uint32_t id;
	struct mem_disk *disk; /* survives restarts */
	uint64_t disk_error_until; /* step at which its failing disk works again; 0: works */
	struct node *node;     /* NULL while the node is down */
	struct sim_transport transport;
	struct sim_quorum quorum;
	struct sim *sim;
};

struct sim;

struct sim_label {
	uint64_t epoch, seq, digest;
	uint32_t node; /* the first node seen with it */
};

/* A workload: client operations and what must hold about them. */
struct workload_ops {
	const char *name;
	void *(*create)(struct sim *sim);
	void (*destroy)(void *w);
	/* Submit one random client operation on a live node. */
	void (*submit)(void *w, struct sim_node *sn);
	/* An answer arrived for token. */
	void (*on_reply)(void *w, uint64_t token, int result);
	/* An answer to a kernel request of node (may be NULL when unused). */
	void (*on_kernel_reply)(void *w, uint32_t node, const struct ulog_origin *to, int error,
	                        const void *data, size_t len);
	/* The node went down: its clients are gone. */
	void (*on_node_down)(void *w, uint32_t node);
	/* Virtual time passed: give up on answers whose clients timed out. */
	void (*on_tick)(void *w, uint64_t now_ms);
	/* Invariants after a step; 0 or -1 with a message in sim->violation. */
	int (*check)(void *w);
	/* While healing: nothing left to finish (may be NULL: always true). */
	bool (*settled)(void *w);
	/* After quiescence: everything must have settled (on the live nodes). */
	int (*check_final)(void *w);
	/* Healing with the dead left down (SIM_FAULT_SURVIVORS), once nothing
	 * moves: must the live nodes have finished everything? NULL: yes. */
	bool (*survivors_must_finish)(void *w);
	/* Percent of the scheduler's fault chances taken (0 = all of them). */
	unsigned fault_percent;
	/* Add this run's outcome counts: acknowledged, refused, abandoned. */
	void (*count)(void *w, uint64_t *acked, uint64_t *refused, uint64_t *abandoned);
};

struct sim {
	uint64_t seed;
	uint64_t rng;
	unsigned n_nodes;
	unsigned faults; /* enum sim_fault */
	uint64_t step;
	uint64_t now_ms;
	bool verbose;
	struct simnet *net;
	struct mlog_mem_shelf *shelf; /* the shared disks */
	struct sim_node nodes[SIMNET_MAX_NODES + 1];
	const struct workload_ops *workload;
	void *wl;
	uint64_t acked, refused, abandoned; /* over all seeds */
	uint64_t direct_delivered, direct_lost; /* direct datagrams, over all seeds */
	uint64_t survivor_heals; /* healings the live nodes finished with the dead down */
	uint64_t lifts; /* configurations a workload saw go on by its members' vouching */
	bool hot; /* an answer or a configuration change just happened */
	bool quiescing; /* healed: workloads finish what they started, start nothing new */
	/* every replica label seen in this run, with its state digest */
	struct sim_label *labels;
	size_t n_labels, cap_labels;
	char violation[512];
};

/* A node whose control domain is the primary component and caught up. */
bool sim_node_is_primary(const struct sim_node *sn);
/* Crash node (its kernel too): what fencing does to a node cut off. */
void sim_kill_node(struct sim *sim, uint32_t node);
/* Random live, started node, or NULL. */
struct sim_node *sim_random_live(struct sim *sim);
uint64_t sim_next_token(struct sim *sim);
int sim_violation(struct sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* libqb logging for a program that runs the simulator: to stderr at debug
 * level when verbose, else nowhere. */
void sim_setup_logging(const char *name, bool verbose);

/* Run one seed: 0 when every invariant held, -1 on a violation. */
int sim_run(struct sim *sim, uint64_t steps);

/* The pieces of sim_run for scripted tests (tests/check_mlog.c): bring
 * sim->n_nodes nodes up with sim->workload, deliver until nothing moves
 * (false when max_steps were not enough), bring a killed node back, and
 * release everything. */
void sim_setup(struct sim *sim);
bool sim_settle_all(struct sim *sim, uint64_t max_steps);
void sim_restart_node(struct sim *sim, uint32_t node);
void sim_teardown(struct sim *sim);

extern const struct workload_ops property_workload;
extern const struct workload_ops mlog_workload;

#endif
