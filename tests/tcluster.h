/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the domain tests: a cluster of real nodes over the simulated
 * network and memory disks (tcluster), run step by step, and peer messages
 * made by hand. */
#ifndef BLKSPACE_TESTS_TCLUSTER_H
#define BLKSPACE_TESTS_TCLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "domain.h"
#include "node.h"
#include "quorum-sim.h"
#include "simnet.h"
#include "store-mem.h"
#include "transport-sim.h"

#define MAX_NODES 5
#define RUN_LIMIT 100000

struct tnode {
	struct node *node;
	struct mem_disk *disk;
	struct sim_transport t;
	struct sim_quorum q;
	unsigned replies;
	uint64_t last_token;
	int last_result;
};

struct tcluster {
	struct simnet *net;
	const struct transport_ops *transport; /* sim_transport_ops unless tc_init_with() */
	unsigned n;
	struct tnode nodes[MAX_NODES + 1];
	uint64_t next_token;
};

/* Nodes 1..n up over a network of this seed, run until quiet. */
void tc_init(struct tcluster *tc, unsigned n, uint64_t seed);
/* The same over another transport (a wrapper of sim_transport_ops). */
void tc_init_with(struct tcluster *tc, unsigned n, uint64_t seed,
                  const struct transport_ops *transport);
void tc_done(struct tcluster *tc);
void tc_up(struct tcluster *tc, unsigned i);
void tc_kill(struct tcluster *tc, unsigned i);
/* Run the network until nothing is in flight. */
void tc_run(struct tcluster *tc);
/* Set key=value through node i (flags: DOMAIN_WAIT_QUORUM ...). */
int tc_set(struct tcluster *tc, unsigned i, const char *key, const char *value, unsigned flags,
           uint64_t *ret_token);
const char *tc_get(struct tcluster *tc, unsigned i, const char *key);
struct domain_status tc_status(struct tcluster *tc, unsigned i);
/* Every node active in the same epoch at the same position and state. */
void assert_all_equal(struct tcluster *tc);
/* A peer message of domain `domain` from origin, with payload after the header. */
void make_msg(struct wbuf *w, const char *domain, uint16_t type, uint32_t origin,
              const struct wbuf *payload);

#endif
