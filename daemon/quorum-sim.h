/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sim quorum backend: votequorum's rule (a strict majority of the configured
 * nodes) applied to the simulated network's components. */
#ifndef BLKSPACE_QUORUM_SIM_H
#define BLKSPACE_QUORUM_SIM_H

#include "quorum.h"
#include "simnet.h"

struct sim_quorum {
	struct simnet *net;
	uint32_t node;
};

extern const struct quorum_ops sim_quorum_ops;

#endif
