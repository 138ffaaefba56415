/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One blkspace node: domains wired to transport, store and quorum backends.
 * This file holds what every domain shares (environment, transport
 * callbacks, group commit) and the control domain; node-mlog.c holds the
 * mirror logs. */
#include "config.h"

#include "node-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

/* Token of the node's own control requests (HELLO); hosts never use 0. */
#define NODE_INTERNAL_TOKEN 0

/* --- domain environment ---------------------------------------------------- */

static void send_to_group(struct node_domain *nd, const void *msg, size_t len, bool lazy)
{
	const struct transport_ops *t = nd->node->p.transport;
	if (!nd->group)
		return;
	int rc = lazy && t->send_lazy ? t->send_lazy(nd->group, msg, len) : t->send(nd->group, msg, len);
	if (rc < 0)
		qb_log(LOG_WARNING, "%s: send failed: %s, the domain resynchronises at the next change",
		       domain_name(nd->domain), blkspace_strerror(rc));
}

static void env_send(void *host, const void *msg, size_t len)
{
	send_to_group(host, msg, len, false);
}

static void env_send_lazy(void *host, const void *msg, size_t len)
{
	send_to_group(host, msg, len, true);
}

static int env_send_direct(void *host, const void *msg, size_t len)
{
	struct node_domain *nd = host;
	const struct transport_ops *t = nd->node->p.transport;
	return nd->group && t->send_direct ? t->send_direct(nd->group, msg, len) : -ENOTSUP;
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
	nd->hooks->reply(nd, token, result, data, len);
}

static void env_changed(void *host)
{
	struct node_domain *nd = host;
	if (nd->hooks->changed)
		nd->hooks->changed(nd);
}

static void env_attest(void *host, struct wbuf *out)
{
	struct node_domain *nd = host;
	if (nd->hooks->attest)
		nd->hooks->attest(nd, out);
}

static const struct domain_env node_domain_env = {
	.send = env_send,
	.send_lazy = env_send_lazy,
	.send_direct = env_send_direct,
	.persist = env_persist,
	.save_snapshot = env_save_snapshot,
	.reply = env_reply,
	.changed = env_changed,
	.attest = env_attest,
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
	domain_on_confchg(nd->domain, members, n);
	if (!self && nd->leaving && !nd->left) {
		nd->left = true;
		nd->hooks->on_left(nd);
	}
}

static const struct transport_callbacks node_transport_callbacks;

/* A member whose journal cannot be written leaves the group: a
 * configuration round needs every member's promise on disk, so the others
 * would wait for it. What it logged stays pending in its store. */
static void step_out(struct node_domain *nd)
{
	struct domain_status st;
	domain_get_status(nd->domain, &st);
	if (nd->stepped_out || nd->leaving || !nd->group || st.phase == DOMAIN_OUTSIDE)
		return;
	nd->stepped_out = true;
	qb_log(LOG_WARNING, "%s: leaving the group until the journal can be written",
	       domain_name(nd->domain));
	nd->node->p.transport->leave(nd->group);
}

/* Join again once a commit worked and the leave is complete (the domain
 * took it as a configuration without us). Never from the group's own
 * dispatch: the old group is destroyed here. */
static void step_in(struct node_domain *nd)
{
	struct node *n = nd->node;
	struct domain_status st;
	domain_get_status(nd->domain, &st);
	if (!nd->stepped_out || nd->commit_error || n->stopping || st.phase != DOMAIN_OUTSIDE)
		return;
	n->p.transport->destroy(nd->group); /* accepts NULL: a join that failed */
	nd->group = NULL;
	int rc = n->p.transport->join(n->p.transport_backend, domain_name(nd->domain),
	                              &node_transport_callbacks, nd, &nd->group);
	if (rc < 0) {
		nd->group = NULL;
		if (!nd->rejoin_failed)
			qb_log(LOG_ERR, "%s: cannot join the group again: %s; retrying every second",
			       domain_name(nd->domain), blkspace_strerror(rc));
		nd->rejoin_failed = true;
		return;
	}
	nd->stepped_out = false;
	nd->rejoin_failed = false;
	qb_log(LOG_NOTICE, "%s: the journal is written, joining the group again",
	       domain_name(nd->domain));
}

/* End of a dispatch: one commit, then the domain may announce. */
static void on_batch_end(void *data)
{
	struct node_domain *nd = data;
	int rc = nd->hooks->commit(nd);
	nd->commit_error = rc < 0 ? rc : 0;
	if (rc < 0) {
		step_out(nd);
		return;
	}
	domain_persisted(nd->domain);
	nd->hooks->after_batch(nd);
}

/* A receipt that came directly may make entries safe: they are applied
 * and answered at once, and the batch ends as after a dispatch (the mirror
 * log's writer writes what the applied clears changed). */
static void on_direct(void *data, uint32_t nodeid, const void *msg, size_t len)
{
	struct node_domain *nd = data;
	if (domain_on_direct(nd->domain, nodeid, msg, len))
		on_batch_end(nd);
}

bool node_retry_commit(struct node *n)
{
	struct node_domain *nd = &n->control;
	if (!nd->domain || (!nd->commit_error && !nd->stepped_out))
		return false;
	if (nd->commit_error)
		on_batch_end(nd);
	step_in(nd);
	return true;
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
	.on_direct = on_direct,
};

/* --- domains ----------------------------------------------------------------------- */

static int store_on_snapshot(void *data, const void *snap, size_t len)
{
	return domain_restore_snapshot(data, snap, len);
}

static int store_on_record(void *data, const void *rec, size_t len)
{
	return domain_replay(data, rec, len);
}

int node_domain_open(struct node *n, struct node_domain *nd, const struct domain_params *dp,
                     const struct node_domain_hooks *hooks, void *owner)
{
	static const struct store_load_callbacks load_cb = {
		.on_snapshot = store_on_snapshot,
		.on_record = store_on_record,
	};
	memset(nd, 0, sizeof(*nd));
	nd->node = n;
	nd->hooks = hooks;
	nd->owner = owner;
	struct domain_params p = *dp;
	p.env = &node_domain_env;
	p.host = nd;
	int rc = domain_create(&p, &nd->domain);
	if (rc == 0 && p.durable && (rc = n->p.store->open(n->p.store_backend, p.name, &nd->store)) == 0)
		rc = n->p.store->load(nd->store, &load_cb, nd->domain);
	if (rc == 0)
		rc = n->p.transport->join(n->p.transport_backend, p.name, &node_transport_callbacks, nd,
		                          &nd->group);
	if (rc < 0)
		node_domain_close(nd);
	return rc;
}

void node_domain_leave(struct node_domain *nd)
{
	if (nd->leaving)
		return;
	nd->leaving = true;
	struct domain_status st;
	domain_get_status(nd->domain, &st);
	if (st.phase == DOMAIN_OUTSIDE || !nd->group) {
		nd->left = true; /* not in the group (corosync gone): nothing to leave */
		nd->hooks->on_left(nd);
	} else {
		domain_flush_receipt(nd->domain);
		nd->node->p.transport->leave(nd->group);
	}
}

void node_domain_close(struct node_domain *nd)
{
	struct node *n = nd->node;
	n->p.transport->destroy(nd->group);
	if (nd->store)
		n->p.store->close(nd->store);
	domain_destroy(nd->domain);
	nd->group = NULL;
	nd->store = NULL;
	nd->domain = NULL;
}

/* --- the control domain -------------------------------------------------------------- */

static int control_commit(struct node_domain *nd)
{
	if (domain_snapshot_due(nd->domain))
		return domain_save_snapshot(nd->domain); /* it holds every record; logs a failure */
	if (!domain_needs_commit(nd->domain))
		return 0;
	int rc = nd->node->p.store->commit(nd->store);
	if (rc < 0 && !nd->commit_error)
		qb_log(LOG_ERR, "%s: cannot write the journal: %s; this node holds back its "
		       "receipts, leaves the group and retries every second", domain_name(nd->domain),
		       blkspace_strerror(rc));
	else if (rc == 0 && nd->commit_error)
		qb_log(LOG_NOTICE, "%s: the journal is written again", domain_name(nd->domain));
	return rc;
}

/* Announce this incarnation's name once the control domain is primary, and
 * let the mirror logs go on that waited for it. */
static void control_after_batch(struct node_domain *nd)
{
	struct node *n = nd->node;
	struct wbuf w;
	bool active = domain_is_active(nd->domain), became_active = active && !n->control_active;
	n->control_active = active;
	if (became_active && !n->stopping)
		node_mlog_control_active(n);
	if (n->control_changed) {
		n->control_changed = false;
		node_lift_control_changed(n);
	}
	if (n->hello_sent || n->stopping || !active)
		return;
	wbuf_init(&w);
	nodes_encode_hello(&w, n->incarnation, n->name);
	int rc = wbuf_error(&w) ? wbuf_error(&w)
	                        : domain_submit(nd->domain, CONTROL_OP_NODE_HELLO, w.data, w.len,
	                                        DOMAIN_WAIT_QUORUM, NODE_INTERNAL_TOKEN);
	wbuf_done(&w);
	if (rc == 0)
		n->hello_sent = true;
}

static void control_reply(struct node_domain *nd, uint64_t token, int result, const void *data,
                          size_t len)
{
	struct node *n = nd->node;
	if (token == NODE_INTERNAL_TOKEN) {
		if (result < 0)
			qb_log(LOG_WARNING, "announcing node %u failed: %s", n->nodeid,
			       blkspace_strerror(result));
		return;
	}
	n->p.reply(n->p.host, token, result, data, len);
}

static void control_on_left(struct node_domain *nd) {}

static void control_changed(struct node_domain *nd) { nd->node->control_changed = true; }

static const struct node_domain_hooks control_hooks = {
	.commit = control_commit,
	.after_batch = control_after_batch,
	.reply = control_reply,
	.on_left = control_on_left,
	.changed = control_changed,
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
	n->next_token = 1;
	LIST_INIT(&n->logs);
	*ret = n;
	return 0;
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
	struct domain_params dp = {
		.name = CONTROL_DOMAIN_NAME,
		.nodeid = n->nodeid,
		.incarnation = n->incarnation,
		.cluster_size = size,
		.durable = true,
		.quorum = DOMAIN_QUORUM_CLUSTER,
		.svc = &control_service_ops,
	};
	if (rc == 0)
		rc = node_domain_open(n, &n->control, &dp, &control_hooks, NULL);
	if (rc < 0)
		return rc;
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
	node_mlog_close_all(n);
	node_domain_leave(&n->control);
}

bool node_is_stopped(const struct node *n)
{
	return !n->started || n->control.left || !n->control.group;
}

void node_destroy(struct node *n)
{
	if (!n)
		return;
	node_mlog_close_all(n);
	if (n->started)
		node_domain_close(&n->control);
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

void node_kernel_request(struct node *n, const struct ulog_request *rq,
                         const struct ulog_origin *from)
{
	node_mlog_request(n, rq, from);
}

size_t node_active_logs(const struct node *n) { return node_mlog_active(n); }

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
	out->active_logs = node_mlog_active(n);
	out->journal_error = n->control.commit_error;
	memset(&out->direct, 0, sizeof(out->direct));
	if (n->p.transport->direct_counts)
		n->p.transport->direct_counts(n->p.transport_backend, &out->direct);
}

const struct control_state *node_control_state(const struct node *n)
{
	return n->started ? domain_service_state(n->control.domain) : NULL;
}

struct domain *node_control_domain(const struct node *n)
{
	return n->started ? n->control.domain : NULL;
}
