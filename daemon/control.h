/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control domain's service: the state every daemon replicates (nodes,
 * cluster properties; later pools, volumes and the lock table) and the
 * operations on it. Operations are dispatched through a table indexed by
 * operation number; a retired number keeps its slot. */
#ifndef BLKSPACE_CONTROL_H
#define BLKSPACE_CONTROL_H

#include "domain.h"
#include "nodes.h"
#include "props.h"

#define CONTROL_DOMAIN_NAME "blkspace"

enum control_op {
	CONTROL_OP_NODE_HELLO = 1,     /* u32 incarnation, str name */
	CONTROL_OP_PROPERTY_SET = 2,   /* props_encode_request() with values */
	CONTROL_OP_PROPERTY_UNSET = 3, /* props_encode_request() without values */
	CONTROL_OP_MAX,
};

struct control_state {
	struct nodes nodes;
	struct props props;
};

extern const struct domain_service_ops control_service_ops;

#endif
