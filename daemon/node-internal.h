/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the node shared by node.c (control domain, lifecycle) and
 * node-mlog.c (the mirror logs the kernel asked for). */
#ifndef BLKSPACE_NODE_INTERNAL_H
#define BLKSPACE_NODE_INTERNAL_H

#include <sys/queue.h>

#include "node.h"

struct node_domain;

/* What differs between kinds of domains. Every member is required. */
struct node_domain_hooks {
	/* End of a batch, before receipts: make durable what they will claim.
	 * A failure keeps the receipts back (logged by the hook, once until it
	 * works again: nd->commit_error tells) and takes the node out of the
	 * group; node_retry_commit() tries again when no batch comes, and joins
	 * again once a commit worked. */
	int (*commit)(struct node_domain *nd);
	/* After the batch: work that needs the engine idle (submissions). */
	void (*after_batch)(struct node_domain *nd);
	/* The answer of a request this domain's owner submitted. */
	void (*reply)(struct node_domain *nd, uint64_t token, int result, const void *data,
	              size_t len);
	/* We are no longer in the group (left, or never joined). */
	void (*on_left)(struct node_domain *nd);
	/* Optional: the domain's phase or membership changed (inside the engine:
	 * read its status, submit nothing). */
	void (*changed)(struct node_domain *nd);
	/* Optional: what this member vouches for in SYNC (domain_env.attest). */
	void (*attest)(struct node_domain *nd, struct wbuf *out);
};

/* The glue between one domain and the backends. */
struct node_domain {
	struct node *node;
	struct domain *domain;
	struct transport_group *group;
	struct store *store; /* NULL for domains that do not persist locally */
	const struct node_domain_hooks *hooks;
	void *owner;
	bool leaving;
	bool left;
	int commit_error;   /* the last commit's error (receipts held back), else 0 */
	bool stepped_out;   /* left the group for that, until a commit works again */
	bool rejoin_failed; /* joining again failed (logged once) */
};

struct mlog_local;
LIST_HEAD(mlog_list, mlog_local);

struct node {
	struct node_params p;
	char name[NODE_NAME_MAX + 1];
	uint32_t nodeid;
	uint32_t incarnation;
	bool started;
	bool stopping;
	bool hello_sent; /* this incarnation announced itself */
	bool control_active; /* at the end of the control domain's last batch */
	struct node_domain control;
	struct mlog_list logs;
	uint64_t next_token; /* tokens of requests the node itself submits */
	uint32_t log_opens;  /* log domains opened by this process: request id ranges */
	bool control_changed; /* the control domain's phase or members, since its last batch */
	/* nodes fenced since they left the control configuration (sorted) */
	uint32_t fenced[QUORUM_MAX_NODES];
	size_t n_fenced;
};

/* Create a domain, join its group; the store is opened and loaded when
 * durable. nd must stay at the same address until node_domain_close(). */
int node_domain_open(struct node *n, struct node_domain *nd, const struct domain_params *dp,
                     const struct node_domain_hooks *hooks, void *owner);
/* Leave the group (asynchronous: hooks->on_left follows). */
void node_domain_leave(struct node_domain *nd);
/* Forget the domain at once. */
void node_domain_close(struct node_domain *nd);

/* node-mlog.c */
void node_mlog_request(struct node *n, const struct ulog_request *rq,
                       const struct ulog_origin *from);
size_t node_mlog_active(const struct node *n);
void node_mlog_close_all(struct node *n);
/* node-mlog-domain.c: the control domain became active; the first opener of a
 * log waits for that to register, and its log domain may have no batch to come. */
void node_mlog_control_active(struct node *n);
/* node-mlog-lift.c: nodes known fenced since they left the control
 * configuration, for the logs whose fenced majority members vouch for. */
void node_note_fenced(struct node *n, uint32_t nodeid);
/* After a batch in which the control domain's phase or members changed. */
void node_lift_control_changed(struct node *n);

#endif
