/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated cluster network behind the sim transport: closed process
 * groups with agreed order and extended virtual synchrony, driven step by
 * step by its owner with a seeded random source, never by a clock.
 *
 * Model (what real CPG guarantees, made adversarial where CPG allows it):
 *  - a node's multicast first sits in its outbox, then goes onto the ring of
 *    its current configuration; ring messages are delivered in ring order to
 *    every member of the configuration in the same step;
 *  - when a configuration ends (join, leave, crash, partition, merge), each
 *    group of members that moves on together first delivers the rest of the
 *    old ring: all messages of its own members and of senders it can still
 *    reach, and a random subset (holes included) of messages from crashed or
 *    cut-off senders; then every member gets the new membership;
 *  - a message still in an outbox may cross one configuration change and be
 *    delivered in the next configuration, never two;
 *  - direct datagrams (send_direct) take no order: any step may deliver any
 *    of them, lose one or deliver it twice, across configuration changes.
 * Only simnet_settle() changes membership, so callbacks may send, join and
 * leave freely (they take effect at the next settle). */
#ifndef BLKSPACE_SIMNET_H
#define BLKSPACE_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "transport.h"

#define SIMNET_MAX_NODES 32

struct simnet;
struct simnet_group;

/* Nodes are numbered 1..n_nodes, all down and in component 0 at first. */
struct simnet *simnet_create(unsigned n_nodes, uint64_t seed);
void simnet_destroy(struct simnet *net);

unsigned simnet_nodes(const struct simnet *net);
/* Start a node's process (a new pid) / crash it: its groups vanish at the
 * next settle and its outbox is lost. */
void simnet_node_up(struct simnet *net, uint32_t node);
void simnet_node_kill(struct simnet *net, uint32_t node);
bool simnet_node_alive(const struct simnet *net, uint32_t node);
/* Partitions: nodes in the same component reach each other. */
void simnet_set_component(struct simnet *net, uint32_t node, unsigned component);
unsigned simnet_component(const struct simnet *net, uint32_t node);
/* Live nodes in node's component (its corosync-level membership). */
size_t simnet_reachable(const struct simnet *net, uint32_t node, uint32_t *ret_nodes);

/* Apply pending joins, leaves, crashes and topology changes (with the
 * transitional deliveries and the configuration changes they cause).
 * Returns the number of configuration changes delivered. */
int simnet_settle(struct simnet *net);
/* Do one random pump or delivery step; false when nothing is in flight. */
bool simnet_step(struct simnet *net);
/* Messages waiting in outboxes and on rings. */
size_t simnet_in_flight(const struct simnet *net);

/* Add the direct datagrams delivered and lost (or undeliverable) so far. */
void simnet_direct_counts(const struct simnet *net, uint64_t *delivered, uint64_t *lost);

/* Print nodes, configurations and endpoints (for a failing seed). */
void simnet_dump(const struct simnet *net, FILE *f);

/* The transport-sim side. */
int simnet_join(struct simnet *net, uint32_t node, const char *group,
                const struct transport_callbacks *cb, void *cb_data,
                struct simnet_group **ret_group);
int simnet_send(struct simnet_group *g, const void *msg, size_t len);
/* Held until a later step releases it; dropped if a send comes first. */
int simnet_send_lazy(struct simnet_group *g, const void *msg, size_t len);
/* A datagram to each other member of the current configuration: picked
 * for delivery in random order, 1 in 16 lost, 1 in 16 delivered twice,
 * delivered only within a partition, to the process that is a member. */
int simnet_send_direct(struct simnet_group *g, const void *msg, size_t len);
int simnet_leave(struct simnet_group *g);
/* The node an endpoint belongs to. */
uint32_t simnet_group_node(const struct simnet_group *g);
/* Detach without callbacks (the owner is being destroyed). */
void simnet_group_destroy(struct simnet_group *g);

#endif
