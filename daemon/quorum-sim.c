/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sim quorum backend. */
#include "config.h"

#include "quorum-sim.h"

#include <stdio.h>
#include <string.h>

static void sim_get_view(void *backend, struct quorum_view *v)
{
	struct sim_quorum *q = backend;
	uint32_t reach[SIMNET_MAX_NODES];
	size_t n = simnet_reachable(q->net, q->node, reach);
	unsigned total = simnet_nodes(q->net);
	memset(v, 0, sizeof(*v));
	v->connected = simnet_node_alive(q->net, q->node);
	v->quorate = v->connected && n >= total / 2 + 1;
	v->n_nodes = total;
	for (unsigned i = 0; i < total && i < QUORUM_MAX_NODES; i++) {
		struct quorum_node *qn = &v->nodes[i];
		qn->nodeid = i + 1;
		snprintf(qn->name, sizeof(qn->name), "n%u", i + 1);
		for (size_t k = 0; k < n; k++)
			qn->member |= reach[k] == i + 1;
	}
}

static void sim_set_callback(void *backend, void (*on_change)(void *data), void *data) {}

const struct quorum_ops sim_quorum_ops = {
	.name = "sim",
	.get_view = sim_get_view,
	.set_callback = sim_set_callback,
};
