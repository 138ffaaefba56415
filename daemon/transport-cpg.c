/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPG transport backend.
 *
 * Each group has its own cpg handle, whose fd is polled by the loop. Sends
 * go through a FIFO queue: CS_ERR_TRY_AGAIN (corosync flow control) leaves
 * the queue in place and arms a short timer; nothing blocks and nothing is
 * dropped while the group is joined. When corosync goes away (dispatch or
 * send fails with CS_ERR_LIBRARY) the group reports on_disconnect(), drops
 * its queue (the domain resynchronises anyway) and reconnects on a timer.
 * cs_error_t values are converted to -errno here and nowhere else. */
#include "config.h"

#include "transport-cpg.h"
#include "direct-udp.h"
#include "loop-timer.h"

#include <poll.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include <corosync/cpg.h>
#include <qb/qblog.h>

#include <blkspace/errors.h>

#define CPG_RETRY_NS (1000 * 1000ull)               /* flow control: 1 ms */
#define CPG_RECONNECT_NS (1000 * 1000 * 1000ull)    /* corosync gone: 1 s */

struct cpg_backend {
	qb_loop_t *loop;
	uint32_t nodeid;
	struct direct_udp *direct; /* NULL: no direct datagrams */
	LIST_HEAD(, transport_group) groups;
};

struct out_msg {
	struct out_msg *next;
	size_t len;
	uint8_t data[];
};

struct transport_group {
	struct cpg_backend *b;
	LIST_ENTRY(transport_group) link;
	uint32_t members[DOMAIN_MAX_MEMBERS]; /* nodeids of the last configuration */
	size_t n_members;
	struct cpg_name name;
	struct transport_callbacks cb;
	void *cb_data;
	cpg_handle_t handle;
	int fd;
	bool connected; /* handle open and fd polled */
	bool joined;    /* cpg_join succeeded */
	bool leaving;
	bool in_dispatch; /* inside on_fd: destroy only marks */
	bool destroyed;
	struct out_msg *head, *tail;
	struct out_msg *lazy; /* send_lazy(): queued when its timer ends, dropped by a send */
	struct loop_timer *lazy_timer; /* short timers: timerfds (loop-timer.h) */
	struct loop_timer *retry_timer;
	qb_loop_timer_handle reconnect_timer;
	bool reconnect_armed;
};

static int cs_to_errno(cs_error_t e)
{
	switch (e) {
	case CS_OK: return 0;
	case CS_ERR_TRY_AGAIN: return -EAGAIN;
	case CS_ERR_NO_MEMORY: return -ENOMEM;
	case CS_ERR_LIBRARY: return -ENOTCONN;
	case CS_ERR_BAD_HANDLE: return -EBADF;
	case CS_ERR_ACCESS: return -EACCES;
	case CS_ERR_TOO_BIG: return -EMSGSIZE;
	case CS_ERR_EXIST: return -EEXIST;
	case CS_ERR_NOT_EXIST: return -ENOENT;
	default: return -EIO;
	}
}

int cpg_backend_create(qb_loop_t *loop, struct cpg_backend **ret)
{
	struct cpg_backend *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->loop = loop;
	LIST_INIT(&b->groups);
	*ret = b;
	return 0;
}

void cpg_backend_destroy(struct cpg_backend *b)
{
	if (b)
		direct_udp_destroy(b->direct);
	free(b);
}

/* Ask corosync once for our nodeid; 0 while it cannot be reached. */
static uint32_t cpg_local_nodeid(void *backend)
{
	struct cpg_backend *b = backend;
	if (b->nodeid)
		return b->nodeid;
	cpg_handle_t h;
	cpg_callbacks_t none = { 0 };
	if (cpg_initialize(&h, &none) != CS_OK)
		return 0;
	unsigned int id = 0;
	if (cpg_local_get(h, &id) == CS_OK)
		b->nodeid = id;
	cpg_finalize(h);
	return b->nodeid;
}

static void queue_clear(struct transport_group *g)
{
	struct out_msg *m;
	while ((m = g->head)) {
		g->head = m->next;
		free(m);
	}
	g->tail = NULL;
}

static void schedule_reconnect(struct transport_group *g);
static void flush(struct transport_group *g);
static void on_lazy_timer(void *data);

static void lazy_drop(struct transport_group *g)
{
	loop_timer_disarm(g->lazy_timer);
	free(g->lazy);
	g->lazy = NULL;
}

static void disconnect(struct transport_group *g, bool notify)
{
	lazy_drop(g);
	loop_timer_disarm(g->retry_timer);
	if (g->connected) {
		qb_loop_poll_del(g->b->loop, g->fd);
		cpg_finalize(g->handle);
		g->connected = false;
	}
	g->joined = false;
	g->n_members = 0;
	queue_clear(g);
	if (notify && !g->leaving) {
		g->cb.on_disconnect(g->cb_data);
		schedule_reconnect(g);
	}
}

static void on_retry(void *data)
{
	struct transport_group *g = data;
	flush(g);
}

static void arm_retry(struct transport_group *g)
{
	if (!loop_timer_armed(g->retry_timer) && loop_timer_arm(g->retry_timer, CPG_RETRY_NS) < 0)
		qb_log(LOG_ERR, "cpg %s: cannot arm the retry timer", g->name.value);
}

/* Send what is queued until corosync pushes back. */
static void flush(struct transport_group *g)
{
	while (g->head && g->joined) {
		struct iovec iov = { g->head->data, g->head->len };
		cs_error_t e = cpg_mcast_joined(g->handle, CPG_TYPE_AGREED, &iov, 1);
		if (e == CS_ERR_TRY_AGAIN) {
			arm_retry(g);
			return;
		}
		if (e != CS_OK) {
			qb_log(LOG_WARNING, "cpg %s: send failed: %s, reconnecting", g->name.value,
			       blkspace_strerror(cs_to_errno(e)));
			disconnect(g, true);
			return;
		}
		struct out_msg *m = g->head;
		g->head = m->next;
		if (!g->head)
			g->tail = NULL;
		free(m);
	}
}

/* Our nodeid and the members' addresses, for direct datagrams: corosync's
 * nodelist is read again when a member's address is not known (a node
 * added to corosync since). */
static void direct_learn(struct transport_group *g)
{
	struct cpg_backend *b = g->b;
	unsigned int id = 0;
	if (!b->direct)
		return;
	if (!b->nodeid && cpg_local_get(g->handle, &id) == CS_OK)
		b->nodeid = id;
	direct_udp_set_self(b->direct, b->nodeid);
	for (size_t i = 0; i < g->n_members; i++)
		if (g->members[i] != b->nodeid && !direct_udp_knows(b->direct, g->members[i])) {
			direct_udp_load_nodelist(b->direct);
			return;
		}
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group, uint32_t nodeid,
                       uint32_t pid, void *msg, size_t len)
{
	void *ctx = NULL;
	if (cpg_context_get(handle, &ctx) != CS_OK || !ctx)
		return;
	struct transport_group *g = ctx;
	if (g->destroyed)
		return;
	g->cb.on_deliver(g->cb_data, nodeid, msg, len);
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group,
                       const struct cpg_address *members, size_t n_members,
                       const struct cpg_address *left, size_t n_left,
                       const struct cpg_address *joined, size_t n_joined)
{
	void *ctx = NULL;
	if (cpg_context_get(handle, &ctx) != CS_OK || !ctx)
		return;
	struct transport_group *g = ctx;
	if (g->destroyed)
		return;
	struct domain_member_id ids[DOMAIN_MAX_MEMBERS];
	size_t n = n_members < DOMAIN_MAX_MEMBERS ? n_members : DOMAIN_MAX_MEMBERS;
	for (size_t i = 0; i < n; i++) {
		ids[i] = (struct domain_member_id){ members[i].nodeid, members[i].pid };
		g->members[i] = members[i].nodeid;
	}
	g->n_members = n;
	direct_learn(g);
	g->cb.on_confchg(g->cb_data, ids, n);
}

static void free_group(struct transport_group *g)
{
	LIST_REMOVE(g, link);
	disconnect(g, false);
	if (g->reconnect_armed)
		qb_loop_timer_del(g->b->loop, g->reconnect_timer);
	loop_timer_destroy(g->retry_timer);
	loop_timer_destroy(g->lazy_timer);
	free(g);
}

/* The owner may destroy the group from a callback: it is freed here, once
 * the dispatch is over, and no callback follows. */
static int32_t on_fd(int32_t fd, int32_t revents, void *data)
{
	struct transport_group *g = data;
	g->in_dispatch = true;
	cs_error_t e = cpg_dispatch(g->handle, CS_DISPATCH_ALL);
	if (!g->destroyed && e != CS_OK && e != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_WARNING, "cpg %s: lost corosync (%s), reconnecting", g->name.value,
		       blkspace_strerror(cs_to_errno(e)));
		g->in_dispatch = false;
		disconnect(g, true);
		return -1; /* the poll entry is gone */
	}
	if (!g->destroyed)
		g->cb.on_batch_end(g->cb_data);
	g->in_dispatch = false;
	if (g->destroyed) {
		free_group(g);
		return -1;
	}
	flush(g);
	return 0;
}

/* Open a handle, poll its fd and join; -EAGAIN when corosync is not there. */
static int connect_group(struct transport_group *g)
{
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
	};
	cs_error_t e = cpg_model_initialize(&g->handle, CPG_MODEL_V1, (cpg_model_data_t *)&model, g);
	if (e != CS_OK)
		return -EAGAIN;
	if (cpg_fd_get(g->handle, &g->fd) != CS_OK ||
	    qb_loop_poll_add(g->b->loop, QB_LOOP_HIGH, g->fd, POLLIN, g, on_fd) != 0) {
		cpg_finalize(g->handle);
		return -EAGAIN;
	}
	g->connected = true;
	e = cpg_join(g->handle, &g->name);
	if (e != CS_OK) {
		disconnect(g, false);
		return e == CS_ERR_TRY_AGAIN || e == CS_ERR_LIBRARY ? -EAGAIN : cs_to_errno(e);
	}
	g->joined = true;
	qb_log(LOG_INFO, "cpg %s: joined", g->name.value);
	return 0;
}

static void on_reconnect(void *data)
{
	struct transport_group *g = data;
	g->reconnect_armed = false;
	int rc = connect_group(g);
	if (rc == -EAGAIN)
		schedule_reconnect(g);
	else if (rc < 0)
		qb_log(LOG_ERR, "cpg %s: cannot join: %s", g->name.value, blkspace_strerror(rc));
}

static void schedule_reconnect(struct transport_group *g)
{
	if (g->reconnect_armed || g->leaving)
		return;
	if (qb_loop_timer_add(g->b->loop, QB_LOOP_MED, CPG_RECONNECT_NS, g, on_reconnect,
	                      &g->reconnect_timer) == 0)
		g->reconnect_armed = true;
}

static int cpg_join_group(void *backend, const char *group, const struct transport_callbacks *cb,
                          void *cb_data, struct transport_group **ret)
{
	if (strlen(group) >= CPG_MAX_NAME_LENGTH)
		return -ENAMETOOLONG;
	struct transport_group *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->b = backend;
	g->name.length = (uint32_t)strlen(group);
	memcpy(g->name.value, group, g->name.length);
	g->cb = *cb;
	g->cb_data = cb_data;
	int rc = loop_timer_create(g->b->loop, QB_LOOP_HIGH, on_retry, g, &g->retry_timer);
	if (rc == 0)
		rc = loop_timer_create(g->b->loop, QB_LOOP_HIGH, on_lazy_timer, g, &g->lazy_timer);
	if (rc < 0) {
		loop_timer_destroy(g->retry_timer);
		free(g);
		return rc;
	}
	rc = connect_group(g);
	if (rc == -EAGAIN) {
		qb_log(LOG_WARNING, "cpg %s: corosync not reachable, retrying", group);
		schedule_reconnect(g);
	} else if (rc < 0) {
		loop_timer_destroy(g->retry_timer);
		loop_timer_destroy(g->lazy_timer);
		free(g);
		return rc;
	}
	LIST_INSERT_HEAD(&g->b->groups, g, link);
	*ret = g;
	return 0;
}

static struct out_msg *out_msg_new(const void *msg, size_t len)
{
	struct out_msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return NULL;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	return m;
}

static void enqueue(struct transport_group *g, struct out_msg *m)
{
	if (g->tail)
		g->tail->next = m;
	else
		g->head = m;
	g->tail = m;
	if (!loop_timer_armed(g->retry_timer))
		flush(g);
}

static int cpg_send(struct transport_group *g, const void *msg, size_t len)
{
	if (!g->joined)
		return -ENOTCONN;
	struct out_msg *m = out_msg_new(msg, len);
	if (!m)
		return -ENOMEM;
	lazy_drop(g); /* this message makes it redundant */
	enqueue(g, m);
	return 0;
}

static void on_lazy_timer(void *data)
{
	struct transport_group *g = data;
	struct out_msg *m = g->lazy;
	g->lazy = NULL;
	if (m && g->joined)
		enqueue(g, m);
	else
		free(m);
}

static int cpg_send_lazy(struct transport_group *g, const void *msg, size_t len)
{
	if (!g->joined)
		return -ENOTCONN;
	struct out_msg *m = out_msg_new(msg, len);
	if (!m)
		return -ENOMEM;
	free(g->lazy);
	g->lazy = m;
	if (!loop_timer_armed(g->lazy_timer) && loop_timer_arm(g->lazy_timer, TRANSPORT_LAZY_NS) < 0) {
		g->lazy = NULL;
		enqueue(g, m); /* no timer: send it now */
	}
	return 0;
}

/* To each other member of the last configuration; best effort, but an
 * error when one of them could not be sent to (no address, say). */
static int cpg_send_direct(struct transport_group *g, const void *msg, size_t len)
{
	struct cpg_backend *b = g->b;
	int rc = 0;
	if (!b->direct || !g->joined || g->leaving)
		return -ENOTCONN;
	for (size_t i = 0; i < g->n_members; i++) {
		int r = g->members[i] != b->nodeid
		                ? direct_udp_send(b->direct, g->members[i], g->name.value, msg, len)
		                : 0;
		if (r < 0)
			rc = r;
	}
	return rc;
}

/* The joined group named name with nodeid in its last configuration. */
static struct transport_group *group_with_member(struct cpg_backend *b, const char *name,
                                                 uint32_t nodeid)
{
	struct transport_group *g;
	LIST_FOREACH(g, &b->groups, link) {
		if (!g->joined || g->leaving || g->destroyed || strcmp(g->name.value, name) != 0)
			continue;
		for (size_t i = 0; i < g->n_members; i++)
			if (g->members[i] == nodeid)
				return g;
	}
	return NULL;
}

/* A datagram for a group we are in, from a member of its configuration. */
static void on_direct_datagram(void *data, uint32_t from, const char *group, const void *msg,
                               size_t len)
{
	struct transport_group *g = group_with_member(data, group, from);
	if (!g || !g->cb.on_direct)
		return;
	g->in_dispatch = true; /* the owner may destroy it from the callback */
	g->cb.on_direct(g->cb_data, from, msg, len);
	g->in_dispatch = false;
	if (g->destroyed)
		free_group(g);
	else
		flush(g);
}

int cpg_backend_enable_direct(struct cpg_backend *b, uint16_t port, const char *key_file,
                              char *err, size_t errsz)
{
	struct direct_udp_params p = { .loop = b->loop, .port = port, .key_file = key_file,
		                       .receive = on_direct_datagram, .data = b };
	return direct_udp_create(&p, &b->direct, err, errsz);
}

static void cpg_direct_counts(void *backend, struct transport_direct_counts *out)
{
	struct cpg_backend *b = backend;
	memset(out, 0, sizeof(*out));
	if (b->direct)
		direct_udp_get_counts(b->direct, out);
	out->on = b->direct != NULL;
}

static int cpg_leave_group(struct transport_group *g)
{
	g->leaving = true;
	if (!g->joined)
		return 0;
	flush(g);
	cs_error_t e = cpg_leave(g->handle, &g->name);
	return cs_to_errno(e);
}

static void cpg_destroy_group(struct transport_group *g)
{
	if (!g)
		return;
	g->leaving = true;
	if (g->in_dispatch)
		g->destroyed = true; /* on_fd frees it when the dispatch returns */
	else
		free_group(g);
}

const struct transport_ops cpg_transport_ops = {
	.name = "cpg",
	.local_nodeid = cpg_local_nodeid,
	.join = cpg_join_group,
	.send = cpg_send,
	.send_lazy = cpg_send_lazy,
	.send_direct = cpg_send_direct,
	.leave = cpg_leave_group,
	.destroy = cpg_destroy_group,
	.direct_counts = cpg_direct_counts,
};
