/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Transport backends: closed process groups with agreed order and virtual
 * synchrony. cpg (libcpg) in production, sim (the simulated network) in tests
 * and for a single-node daemon without corosync.
 *
 * Contract: send() copies and queues; messages of one group leave in FIFO
 * order and are never dropped while the group is joined (flow control is
 * retried on a timer, never by blocking). Callbacks come from the loop, one
 * dispatch at a time; on_batch_end() follows every dispatch that delivered
 * something. After on_disconnect() the backend rejoins by itself and the next
 * on_confchg() includes us again. destroy() may be called from a callback:
 * no callback for that group follows. send_lazy() (optional) may hold the
 * message up to TRANSPORT_LAZY_NS and drops it when another message of the
 * group is sent first: only for messages that any later one makes redundant
 * (a receipt: every message carries the sender's latest).
 * send_direct() (optional) sends msg to each other member of the group's
 * current configuration outside the agreed order: it may arrive late, twice,
 * out of order, or never, and is for facts that stay true and that a later
 * ordered message repeats (a receipt); it returns an error when it could
 * not go to every member. It arrives by on_direct() (may be NULL), only
 * from a member of the receiver's current configuration. */
#ifndef BLKSPACE_TRANSPORT_H
#define BLKSPACE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "domain.h"

struct transport_group;

#define TRANSPORT_LAZY_NS (2 * 1000 * 1000ull) /* 2 ms */

/* What the direct path did so far (status). */
struct transport_direct_counts {
	bool on;
	uint16_t port;
	uint64_t sent, send_failed, received, rejected;
};

struct transport_callbacks {
	void (*on_deliver)(void *data, uint32_t nodeid, const void *msg, size_t len);
	void (*on_confchg)(void *data, const struct domain_member_id *members, size_t n);
	void (*on_batch_end)(void *data);
	void (*on_disconnect)(void *data);
	void (*on_direct)(void *data, uint32_t nodeid, const void *msg, size_t len);
};

struct transport_ops {
	const char *name;
	/* Our nodeid, 0 while not connected to the cluster engine. */
	uint32_t (*local_nodeid)(void *backend);
	int (*join)(void *backend, const char *group, const struct transport_callbacks *cb,
	            void *cb_data, struct transport_group **ret_group);
	int (*send)(struct transport_group *g, const void *msg, size_t len);
	int (*send_lazy)(struct transport_group *g, const void *msg, size_t len); /* or NULL */
	int (*send_direct)(struct transport_group *g, const void *msg, size_t len); /* or NULL */
	/* Leave the group; a final on_confchg() without us follows. */
	int (*leave)(struct transport_group *g);
	/* Forget the group at once, without callbacks; accepts NULL. */
	void (*destroy)(struct transport_group *g);
	/* Optional: the direct path's counts (NULL: there is none). */
	void (*direct_counts)(void *backend, struct transport_direct_counts *out);
};

static inline uint32_t transport_local_nodeid(const struct transport_ops *ops, void *backend)
{
	return ops->local_nodeid(backend);
}

#endif
