/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Corosync quorum backend. */
#include "config.h"

#include "quorum-corosync.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/cmap.h>
#include <corosync/quorum.h>
#include <qb/qblog.h>

#define QUORUM_RECONNECT_NS (1000 * 1000 * 1000ull)

struct corosync_quorum {
	qb_loop_t *loop;
	quorum_handle_t handle;
	int fd;
	bool connected;
	bool reconnect_armed;
	qb_loop_timer_handle reconnect_timer;
	struct quorum_view view;
	void (*on_change)(void *data);
	void *on_change_data;
};

static void schedule_reconnect(struct corosync_quorum *q);

/* The configured nodes: nodelist.node.<i>.{nodeid,name}. */
static void read_nodelist(struct corosync_quorum *q)
{
	cmap_handle_t h;
	if (cmap_initialize(&h) != CS_OK)
		return;
	size_t n = 0;
	for (unsigned i = 0; n < QUORUM_MAX_NODES; i++) {
		char key[64];
		uint32_t id;
		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(h, key, &id) != CS_OK)
			break;
		struct quorum_node *qn = &q->view.nodes[n++];
		memset(qn, 0, sizeof(*qn));
		qn->nodeid = id;
		char *name = NULL;
		snprintf(key, sizeof(key), "nodelist.node.%u.name", i);
		if (cmap_get_string(h, key, &name) != CS_OK) {
			snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
			cmap_get_string(h, key, &name);
		}
		if (name)
			snprintf(qn->name, sizeof(qn->name), "%s", name);
		free(name);
	}
	q->view.n_nodes = n;
	cmap_finalize(h);
}

static void on_notify(quorum_handle_t handle, uint32_t quorate, uint64_t ring_seq,
                      uint32_t n_view, uint32_t *view)
{
	void *ctx = NULL;
	if (quorum_context_get(handle, (const void **)&ctx) != CS_OK || !ctx)
		return;
	struct corosync_quorum *q = ctx;
	if (q->view.quorate != !!quorate)
		qb_log(LOG_INFO, "corosync: partition is %squorate (ring %llx, %u members)",
		       quorate ? "" : "not ", (unsigned long long)ring_seq, n_view);
	q->view.quorate = quorate;
	q->view.ring_seq = ring_seq;
	for (size_t i = 0; i < q->view.n_nodes; i++) {
		q->view.nodes[i].member = false;
		for (uint32_t k = 0; k < n_view; k++)
			q->view.nodes[i].member |= view[k] == q->view.nodes[i].nodeid;
	}
	if (q->on_change)
		q->on_change(q->on_change_data);
}

static void drop(struct corosync_quorum *q)
{
	if (!q->connected)
		return;
	qb_loop_poll_del(q->loop, q->fd);
	quorum_finalize(q->handle);
	q->connected = false;
	q->view.connected = false;
	q->view.quorate = false;
	for (size_t i = 0; i < q->view.n_nodes; i++)
		q->view.nodes[i].member = false;
}

static int32_t on_fd(int32_t fd, int32_t revents, void *data)
{
	struct corosync_quorum *q = data;
	cs_error_t e = quorum_dispatch(q->handle, CS_DISPATCH_ALL);
	if (e == CS_OK || e == CS_ERR_TRY_AGAIN)
		return 0;
	qb_log(LOG_WARNING, "corosync quorum: connection lost (%d), retrying", e);
	drop(q);
	if (q->on_change)
		q->on_change(q->on_change_data);
	schedule_reconnect(q);
	return -1;
}

static int connect_quorum(struct corosync_quorum *q)
{
	quorum_callbacks_t cb = { .quorum_notify_fn = on_notify };
	uint32_t type;
	if (quorum_initialize(&q->handle, &cb, &type) != CS_OK)
		return -EAGAIN;
	if (quorum_context_set(q->handle, q) != CS_OK || quorum_fd_get(q->handle, &q->fd) != CS_OK ||
	    qb_loop_poll_add(q->loop, QB_LOOP_MED, q->fd, POLLIN, q, on_fd) != 0) {
		quorum_finalize(q->handle);
		return -EAGAIN;
	}
	q->connected = true;
	q->view.connected = true;
	read_nodelist(q);
	if (quorum_trackstart(q->handle, CS_TRACK_CHANGES | CS_TRACK_CURRENT) != CS_OK) {
		drop(q);
		return -EAGAIN;
	}
	qb_log(LOG_INFO, "corosync quorum: connected, %zu configured nodes", q->view.n_nodes);
	return 0;
}

static void on_reconnect(void *data)
{
	struct corosync_quorum *q = data;
	q->reconnect_armed = false;
	if (connect_quorum(q) < 0)
		schedule_reconnect(q);
}

static void schedule_reconnect(struct corosync_quorum *q)
{
	if (q->reconnect_armed)
		return;
	if (qb_loop_timer_add(q->loop, QB_LOOP_MED, QUORUM_RECONNECT_NS, q, on_reconnect,
	                      &q->reconnect_timer) == 0)
		q->reconnect_armed = true;
}

int corosync_quorum_create(qb_loop_t *loop, struct corosync_quorum **ret)
{
	struct corosync_quorum *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->loop = loop;
	if (connect_quorum(q) < 0) {
		qb_log(LOG_WARNING, "corosync quorum: not reachable, retrying");
		schedule_reconnect(q);
	}
	*ret = q;
	return 0;
}

void corosync_quorum_destroy(struct corosync_quorum *q)
{
	if (!q)
		return;
	drop(q);
	if (q->reconnect_armed)
		qb_loop_timer_del(q->loop, q->reconnect_timer);
	free(q);
}

static void cq_get_view(void *backend, struct quorum_view *ret)
{
	struct corosync_quorum *q = backend;
	*ret = q->view;
}

static void cq_set_callback(void *backend, void (*on_change)(void *data), void *data)
{
	struct corosync_quorum *q = backend;
	q->on_change = on_change;
	q->on_change_data = data;
}

const struct quorum_ops corosync_quorum_ops = {
	.name = "corosync",
	.get_view = cq_get_view,
	.set_callback = cq_set_callback,
};
