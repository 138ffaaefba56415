/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Quorum backends: whether this node's partition is quorate (libquorum, or
 * the simulator) and what the cluster is configured to be (cmap nodelist).
 * Used to refuse changes early and for status; replicated decisions use only
 * the ordered group membership (see domain.h). */
#ifndef BLKSPACE_QUORUM_H
#define BLKSPACE_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUORUM_MAX_NODES 64
#define QUORUM_NAME_MAX 64

struct quorum_node {
	uint32_t nodeid;
	char name[QUORUM_NAME_MAX + 1];
	bool member; /* in the cluster engine's current membership */
};

struct quorum_view {
	bool connected; /* the cluster engine answers */
	bool quorate;
	uint64_t ring_seq;
	size_t n_nodes; /* configured nodes */
	struct quorum_node nodes[QUORUM_MAX_NODES];
};

struct quorum_ops {
	const char *name;
	/* Current view (copied out). */
	void (*get_view)(void *backend, struct quorum_view *ret_view);
	/* Called from the loop whenever the view changes. */
	void (*set_callback)(void *backend, void (*on_change)(void *data), void *data);
};

#endif
