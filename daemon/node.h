/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One blkspace node: the domains of this daemon wired to its backends.
 * blkspaced's main.c creates one; the simulator creates many in one process.
 *
 * The node owns the control domain (and, later, one domain per active mirror
 * log). It turns transport callbacks into domain events, commits the journal
 * at the end of each delivery batch (group commit) before telling the domain,
 * refuses changes early while the cluster engine says "not quorate", and
 * passes answers to its host through the reply callback. */
#ifndef BLKSPACE_NODE_H
#define BLKSPACE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "domain.h"
#include "quorum.h"
#include "store.h"
#include "transport.h"

#define NODE_NAME_MAX 64

struct node;

struct node_params {
	const char *name;      /* announced to the cluster; NULL: the quorum backend's name for us */
	uint32_t cluster_size; /* 0: number of configured nodes from the quorum backend */
	const struct transport_ops *transport;
	void *transport_backend;
	const struct quorum_ops *quorum;
	void *quorum_backend;
	const struct store_ops *store;
	void *store_backend;
	/* Answer of a request submitted with node_submit(). */
	void (*reply)(void *host, uint64_t token, int result, const void *data, size_t len);
	void *host;
};

struct node_status {
	uint32_t nodeid;
	char name[NODE_NAME_MAX + 1];
	uint32_t incarnation;
	bool started;  /* joined (or joining) the control domain */
	bool stopping; /* node_stop() was called */
	const char *transport;
	struct quorum_view quorum;
	struct domain_status control;
};

int node_create(const struct node_params *p, struct node **ret_node);
/* Restore the durable state and join the control domain. -EAGAIN while the
 * transport has no nodeid yet (cluster engine not reachable): call again. */
int node_start(struct node *n);
/* Leave every group; node_is_stopped() tells when all are left. */
void node_stop(struct node *n);
bool node_is_stopped(const struct node *n);
/* Accepts NULL. */
void node_destroy(struct node *n);

/* Submit an operation to the control domain; the answer comes through the
 * reply callback with this token, unless an error is returned at once. */
int node_submit(struct node *n, uint16_t op, const void *body, size_t len, unsigned flags,
                uint64_t token);
/* The requester went away. */
void node_cancel(struct node *n, uint64_t token);

void node_get_status(const struct node *n, struct node_status *ret_status);
/* The replicated control state; NULL before node_start(). */
const struct control_state *node_control_state(const struct node *n);
struct domain *node_control_domain(const struct node *n);

#endif
