/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One blkspace node: domains wired to transport, store and quorum backends. */
#include "config.h"

#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

/* Token of the node's own requests (HELLO); hosts never use 0. */
#define NODE_INTERNAL_TOKEN 0

/* The glue between one domain and the backends. */
struct node_domain {
	struct node *node;
	struct domain *domain;
	struct transport_group *group;
	struct store *store; /* NULL for domains that do not persist locally */
	bool left;
};

struct node {
	struct node_params p;
	char name[NODE_NAME_MAX + 1];
	uint32_t nodeid;
	uint32_t incarnation;
	bool started;
	bool stopping;
	bool hello_sent; /* this incarnation announced itself */
	struct node_domain control;
};

/* --- domain environment ---------------------------------------------------- */

static void env_send(void *host, const void *msg, size_t len)
{
	struct node_domain *nd = host;
	if (!nd->group)
		return;
	int rc = nd->node->p.transport->send(nd->group, msg, len);
	if (rc < 0)
		qb_log(LOG_WARNING, "%s: send failed: %s, the domain resynchronises at the next change",
		       domain_name(nd->domain), blkspace_strerror(rc));
}

static void env_persist(void *host, const void *rec, size_t len)
{
	struct node_domain *nd = host;
	int rc = nd->store ? nd->node->p.store->append(nd->store, rec, len) : 0;
	if (rc < 0)
		qb_log(LOG_ERR, "%s: cannot buffer a journal record: %s", domain_name(nd->domain),
		       blkspace_strerror(rc));
}

static int env_save_snapshot(void *host, const void *snap, size_t len)
{
	struct node_domain *nd = host;
	return nd->store ? nd->node->p.store->save_snapshot(nd->store, snap, len) : 0;
}

static void env_reply(void *host, uint64_t token, int result, const void *data, size_t len)
{
	struct node_domain *nd = host;
	struct node *n = nd->node;
	if (token == NODE_INTERNAL_TOKEN) {
		if (result < 0)
			qb_log(LOG_WARNING, "announcing node %u failed: %s", n->nodeid,
			       blkspace_strerror(result));
		return;
	}
	n->p.reply(n->p.host, token, result, data, len);
}

static void env_changed(void *host) {}

static const struct domain_env node_domain_env = {
	.send = env_send,
	.persist = env_persist,
	.save_snapshot = env_save_snapshot,
	.reply = env_reply,
	.changed = env_changed,
};

/* --- transport callbacks ------------------------------------------------------- */

static void on_deliver(void *data, uint32_t nodeid, const void *msg, size_t len)
{
	struct node_domain *nd = data;
	domain_on_deliver(nd->domain, nodeid, msg, len);
}

static void on_confchg(void *data, const struct domain_member_id *members, size_t n)
{
	struct node_domain *nd = data;
	bool self = false;
	for (size_t i = 0; i < n; i++)
		self |= members[i].nodeid == nd->node->nodeid;
	if (!self && nd->node->stopping)
		nd->left = true;
	domain_on_confchg(nd->domain, members, n);
}

/* Announce this incarnation's name once the control domain is primary. */
static void maybe_hello(struct node *n)
{
	struct wbuf w;
	if (n->hello_sent || n->stopping || !domain_is_active(n->control.domain))
		return;
	wbuf_init(&w);
	nodes_encode_hello(&w, n->incarnation, n->name);
	int rc = wbuf_error(&w) ? wbuf_error(&w)
	                        : domain_submit(n->control.domain, CONTROL_OP_NODE_HELLO, w.data, w.len,
	                                        DOMAIN_WAIT_QUORUM, NODE_INTERNAL_TOKEN);
	wbuf_done(&w);
	if (rc == 0)
		n->hello_sent = true;
}

/* End of a dispatch: one group commit, then the domain may announce. */
static void on_batch_end(void *data)
{
	struct node_domain *nd = data;
	struct node *n = nd->node;
	if (nd->store && domain_needs_commit(nd->domain)) {
		int rc = n->p.store->commit(nd->store);
		if (rc < 0) {
			qb_log(LOG_ERR, "%s: cannot write the journal: %s; operations wait until it works",
			       domain_name(nd->domain), blkspace_strerror(rc));
			return;
		}
	}
	domain_persisted(nd->domain);
	if (nd == &n->control)
		maybe_hello(n);
}

static void on_disconnect(void *data)
{
	struct node_domain *nd = data;
	domain_on_disconnect(nd->domain);
}

static const struct transport_callbacks node_transport_callbacks = {
	.on_deliver = on_deliver,
	.on_confchg = on_confchg,
	.on_batch_end = on_batch_end,
	.on_disconnect = on_disconnect,
};

/* --- lifecycle ----------------------------------------------------------------- */

int node_create(const struct node_params *p, struct node **ret)
{
	if (!p->transport || !p->quorum || !p->store || !p->reply)
		return -EINVAL;
	if (p->name && strlen(p->name) > NODE_NAME_MAX)
		return -ENAMETOOLONG;
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->p = *p;
	n->control.node = n;
	*ret = n;
	return 0;
}

static int store_on_snapshot(void *data, const void *snap, size_t len)
{
	return domain_restore_snapshot(data, snap, len);
}

static int store_on_record(void *data, const void *rec, size_t len)
{
	return domain_replay(data, rec, len);
}

static void pick_identity(struct node *n, const struct quorum_view *v)
{
	const char *name = n->p.name;
	for (size_t i = 0; i < v->n_nodes && !name; i++)
		if (v->nodes[i].nodeid == n->nodeid && v->nodes[i].name[0])
			name = v->nodes[i].name;
	if (name)
		snprintf(n->name, sizeof(n->name), "%s", name);
	else
		snprintf(n->name, sizeof(n->name), "node%u", n->nodeid);
}

static int open_control(struct node *n, uint32_t cluster_size)
{
	struct node_domain *nd = &n->control;
	struct domain_params dp = {
		.name = CONTROL_DOMAIN_NAME,
		.nodeid = n->nodeid,
		.incarnation = n->incarnation,
		.cluster_size = cluster_size,
		.durable = true,
		.quorum = DOMAIN_QUORUM_CLUSTER,
		.svc = &control_service_ops,
		.env = &node_domain_env,
		.host = nd,
	};
	int rc = domain_create(&dp, &nd->domain);
	if (rc < 0)
		return rc;
	if ((rc = n->p.store->open(n->p.store_backend, CONTROL_DOMAIN_NAME, &nd->store)) < 0)
		return rc;
	static const struct store_load_callbacks load_cb = {
		.on_snapshot = store_on_snapshot,
		.on_record = store_on_record,
	};
	if ((rc = n->p.store->load(nd->store, &load_cb, nd->domain)) < 0)
		return rc;
	return n->p.transport->join(n->p.transport_backend, CONTROL_DOMAIN_NAME,
	                            &node_transport_callbacks, nd, &nd->group);
}

int node_start(struct node *n)
{
	if (n->started)
		return 0;
	n->nodeid = n->p.transport->local_nodeid(n->p.transport_backend);
	struct quorum_view v;
	n->p.quorum->get_view(n->p.quorum_backend, &v);
	uint32_t size = n->p.cluster_size ? n->p.cluster_size : (uint32_t)v.n_nodes;
	if (n->nodeid == 0 || size == 0)
		return -EAGAIN;
	pick_identity(n, &v);
	int rc = n->p.store->next_incarnation(n->p.store_backend, &n->incarnation);
	if (rc == 0)
		rc = open_control(n, size);
	if (rc < 0) {
		n->p.transport->destroy(n->control.group);
		n->p.store->close(n->control.store);
		domain_destroy(n->control.domain);
		memset(&n->control, 0, sizeof(n->control));
		n->control.node = n;
		return rc;
	}
	n->started = true;
	struct domain_status st;
	domain_get_status(n->control.domain, &st);
	qb_log(LOG_INFO, "node %u (%s) incarnation %u, cluster of %u, restored state (%llu, %llu)",
	       n->nodeid, n->name, n->incarnation, size, (unsigned long long)st.epoch,
	       (unsigned long long)st.seq);
	return 0;
}

void node_stop(struct node *n)
{
	if (n->stopping)
		return;
	n->stopping = true;
	if (!n->started)
		return;
	domain_fail_pending(n->control.domain, BLKSPACE_E_STOPPING);
	struct domain_status st;
	domain_get_status(n->control.domain, &st);
	if (st.phase == DOMAIN_OUTSIDE)
		n->control.left = true; /* not in the group (corosync gone): nothing to leave */
	else if (n->control.group)
		n->p.transport->leave(n->control.group);
}

bool node_is_stopped(const struct node *n)
{
	return !n->started || n->control.left || !n->control.group;
}

void node_destroy(struct node *n)
{
	if (!n)
		return;
	n->p.transport->destroy(n->control.group);
	if (n->control.store)
		n->p.store->close(n->control.store);
	domain_destroy(n->control.domain);
	free(n);
}

/* --- requests and status ------------------------------------------------------- */

int node_submit(struct node *n, uint16_t op, const void *body, size_t len, unsigned flags,
                uint64_t token)
{
	if (token == NODE_INTERNAL_TOKEN)
		return -EINVAL;
	if (n->stopping)
		return BLKSPACE_E_STOPPING;
	if (!n->started)
		return BLKSPACE_E_NOTREADY;
	if (!(flags & DOMAIN_WAIT_QUORUM)) {
		struct quorum_view v;
		n->p.quorum->get_view(n->p.quorum_backend, &v);
		if (!v.quorate)
			return BLKSPACE_E_NOQUORUM;
	}
	return domain_submit(n->control.domain, op, body, len, flags, token);
}

void node_cancel(struct node *n, uint64_t token)
{
	if (n->started && token != NODE_INTERNAL_TOKEN)
		domain_cancel(n->control.domain, token);
}

void node_get_status(const struct node *n, struct node_status *out)
{
	memset(out, 0, sizeof(*out));
	out->nodeid = n->nodeid;
	snprintf(out->name, sizeof(out->name), "%s", n->name);
	out->incarnation = n->incarnation;
	out->started = n->started;
	out->stopping = n->stopping;
	out->transport = n->p.transport->name;
	n->p.quorum->get_view(n->p.quorum_backend, &out->quorum);
	if (n->started)
		domain_get_status(n->control.domain, &out->control);
}

const struct control_state *node_control_state(const struct node *n)
{
	return n->started ? domain_service_state(n->control.domain) : NULL;
}

struct domain *node_control_domain(const struct node *n)
{
	return n->started ? n->control.domain : NULL;
}
