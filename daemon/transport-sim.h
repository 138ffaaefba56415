/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sim transport backend: one node's attachment to a struct simnet. */
#ifndef BLKSPACE_TRANSPORT_SIM_H
#define BLKSPACE_TRANSPORT_SIM_H

#include "simnet.h"
#include "transport.h"

struct sim_transport {
	struct simnet *net;
	uint32_t node;
};

extern const struct transport_ops sim_transport_ops;

#endif
