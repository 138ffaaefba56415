/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sim transport backend: forwards to the simulated network. */
#include "config.h"

#include "transport-sim.h"

static uint32_t sim_local_nodeid(void *backend)
{
	struct sim_transport *t = backend;
	return simnet_node_alive(t->net, t->node) ? t->node : 0;
}

static int sim_join(void *backend, const char *group, const struct transport_callbacks *cb,
                    void *cb_data, struct transport_group **ret)
{
	struct sim_transport *t = backend;
	struct simnet_group *g;
	int rc = simnet_join(t->net, t->node, group, cb, cb_data, &g);
	if (rc == 0)
		*ret = (struct transport_group *)g;
	return rc;
}

static int sim_send(struct transport_group *g, const void *msg, size_t len)
{
	return simnet_send((struct simnet_group *)g, msg, len);
}

static int sim_send_lazy(struct transport_group *g, const void *msg, size_t len)
{
	return simnet_send_lazy((struct simnet_group *)g, msg, len);
}

static int sim_send_direct(struct transport_group *g, const void *msg, size_t len)
{
	return simnet_send_direct((struct simnet_group *)g, msg, len);
}

static int sim_leave(struct transport_group *g) { return simnet_leave((struct simnet_group *)g); }

static void sim_destroy(struct transport_group *g) { simnet_group_destroy((struct simnet_group *)g); }

const struct transport_ops sim_transport_ops = {
	.name = "sim",
	.local_nodeid = sim_local_nodeid,
	.join = sim_join,
	.send = sim_send,
	.send_lazy = sim_send_lazy,
	.send_direct = sim_send_direct,
	.leave = sim_leave,
	.destroy = sim_destroy,
};
