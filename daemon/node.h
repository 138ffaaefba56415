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
#include "mlog-disk.h"
#include "quorum.h"
#include "store.h"
#include "transport.h"
#include "ulog.h"

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
	/* Mirror logs: where disk logs live, and the answer to a kernel request
	 * given to node_kernel_request(). */
	const struct mlog_disk_ops *disk;
	void *disk_backend;
	void (*kernel_reply)(void *kernel_host, const struct ulog_origin *to, int error,
	                     const void *data, size_t len);
	void *kernel_host;
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
	size_t active_logs; /* mirror logs the kernel has resumed here */
	int journal_error;  /* why the last journal commit failed; 0 when it worked */
	struct transport_direct_counts direct; /* on false: receipts go by the group alone */
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
/* Try again a journal commit that failed (a full or failing disk); the
 * host calls this now and then, as a failed commit is otherwise retried
 * only when the next messages arrive. True if one was tried. */
bool node_retry_commit(struct node *n);

/* A dm-log-userspace request from the kernel (or the sim link); the answer
 * comes through kernel_reply, at once or once the cluster agreed. */
void node_kernel_request(struct node *n, const struct ulog_request *rq,
                         const struct ulog_origin *from);
/* Mirror logs resumed on this node (blkspaced refuses to stop while any). */
size_t node_active_logs(const struct node *n);

/* One mirror log as this node sees it (blkspace log list/show). The
 * counts come from the local replica; zero before the log is resumed. */
struct node_log_info {
	char uuid[ULOG_UUID_LEN];
	bool disk; /* clustered-disk; else clustered-core */
	char dev[256]; /* the log device, "" for clustered-core */
	uint32_t region_size; /* sectors */
	uint64_t region_count;
	bool resumed;      /* the kernel resumed it here */
	bool initialized;  /* the sync bitmap is complete */
	uint64_t in_sync;  /* regions in sync */
	uint64_t marked;   /* regions some node has marked */
	uint64_t dirty;    /* regions not clean: out of sync or marked */
	uint32_t recoverer; /* node resyncing recovering, 0 = none */
	uint64_t recovering;
	bool disk_failed;
	/* regions are out of sync that this node's kernel takes for in sync (it
	 * stopped asking for resync work): they resync at its next resume */
	bool resync_needs_resume;
	size_t n_registry; /* nodes that resumed the log */
	uint32_t registry[DOMAIN_MAX_MEMBERS];
	size_t n_quorum; /* whose majority the next configuration needs */
	uint32_t quorum[DOMAIN_MAX_MEMBERS];
	size_t n_fencing; /* departed nodes whose marks wait for their fencing */
	struct node_log_fencing {
		uint32_t nodeid;
		uint64_t regions; /* that it had marked */
	} fencing[DOMAIN_MAX_MEMBERS];
	bool has_domain;
	struct domain_status domain; /* the log domain, when has_domain */
};

/* Mirror logs constructed here (in no particular order): count and the i-th. */
size_t node_log_count(const struct node *n);
int node_log_info(const struct node *n, size_t i, struct node_log_info *ret_info);
/* The log with this uuid; -ENOENT when the kernel has not constructed it here. */
int node_log_find(const struct node *n, const char *uuid, struct node_log_info *ret_info);

/* Node nodeid is known to be fenced since it left: every log here whose
 * replica has its marks waiting for that submits MLOG_OP_FENCED. Returns
 * how many logs did, or a negative error. */
int node_fence_confirmed(struct node *n, uint32_t nodeid);
/* Departed nodes whose marks wait for fencing in the active logs here (of
 * which this node is the writer, with writer_only), each named once. */
size_t node_fence_waiting(const struct node *n, bool writer_only, uint32_t *nodeids, size_t max);
/* Nodes outside the control configuration whose fencing would let a log
 * go on that its quorum rule refuses (none unless such a log is here and
 * the control domain is active); see node-mlog-lift.c. */
size_t node_fence_outside_wanted(const struct node *n, uint32_t *nodeids, size_t max);

void node_get_status(const struct node *n, struct node_status *ret_status);
/* The replicated control state; NULL before node_start(). */
const struct control_state *node_control_state(const struct node *n);
struct domain *node_control_domain(const struct node *n);

#endif
