/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libqb IPC server of blkspaced. Queries are answered at once from the
 * node's state, and so is a fencing confirmation, with the number of logs
 * the node passed it on to (they apply it in their own order). A change of
 * the control state is held: it goes to node_submit() with a token that
 * names one held record (connection, request type, timer); the node answers
 * through ipc_on_reply(). Every held record keeps a reference on its libqb
 * connection; when the connection closes its records are cancelled in the
 * node and dropped, so nothing is ever answered on a dead connection. */
#include "config.h"

#include "ipc.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcs.h>
#include <qb/qblist.h>
#include <qb/qblog.h>

#include <blkspace/blkspace.h>

#include "ipc-proto.h"
#include "props.h"
#include "status-json.h"

/* Bad requests one connection may have logged before it is silenced. */
#define MAX_WARNINGS_PER_CONN 8
#define PW_BUF_MAX_BYTES (1024 * 1024)
#define GROUPS_MAX 65536

struct ipc {
	qb_loop_t *loop;
	qb_ipcs_service_t *service;
	struct qb_ipcs_service_handlers handlers;
	gid_t group;
	struct node *node;         /* NULL until ipc_attach_node() */
	uint64_t last_token;
	struct qb_list_head held;  /* struct held, of every connection */
	struct qb_list_head conns; /* struct ipc_conn */
};

/* Our record of one libqb connection, its context from created to destroyed. */
struct ipc_conn {
	struct qb_list_head list;
	struct ipc *ipc;
	qb_ipcs_connection_t *c;
	pid_t pid;
	size_t n_held;
	unsigned warnings;
};

/* A change waiting in the node for its answer. */
struct held {
	struct qb_list_head list;
	struct ipc_conn *conn;
	uint64_t token;
	uint16_t type;
	bool timer_armed;
	qb_loop_timer_handle timer;
};

/* Handler results besides 0 (answer now) and a negative code. */
#define REQUEST_HELD 1

typedef int request_fn(struct ipc_conn *conn, const struct ipc_req_header *h,
                       const uint8_t *payload, size_t len, struct wbuf *out);

/* ---- logging and answers ---- */

__attribute__((format(printf, 2, 3))) static void conn_warn(struct ipc_conn *conn,
                                                            const char *fmt, ...)
{
	if (conn->warnings > MAX_WARNINGS_PER_CONN)
		return;
	if (conn->warnings++ == MAX_WARNINGS_PER_CONN) {
		qb_log(LOG_WARNING, "ipc[pid %d]: further bad requests are not logged, ignoring",
		       (int)conn->pid);
		return;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qb_log(LOG_WARNING, "ipc[pid %d]: %s, refusing", (int)conn->pid, msg);
}

/* Send the answer to a request of this type: result, then body when 0. */
static void respond(struct ipc_conn *conn, uint16_t type, int result, const struct wbuf *body)
{
	size_t len = result == 0 && body ? body->len : 0;
	int32_t max = qb_ipcs_connection_get_buffer_size(conn->c);
	if (max > 0 && sizeof(struct ipc_resp_header) + len > (size_t)max) {
		result = -EMSGSIZE;
		len = 0;
	}
	struct ipc_resp_header h;
	memset(&h, 0, sizeof(h));
	h.qb.id = type;
	h.qb.size = (int32_t)(sizeof(h) + len);
	h.qb.error = result;
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = len ? body->data : NULL, .iov_len = len },
	};
	ssize_t res = qb_ipcs_response_sendv(conn->c, iov, len ? 2 : 1);
	if (res < 0)
		qb_log(LOG_WARNING, "ipc[pid %d]: answer not sent: %s, ignoring", (int)conn->pid,
		       strerror((int)-res));
}

/* ---- held requests ---- */

static void on_held_timeout(void *data);

static struct held *held_find(struct ipc *ipc, uint64_t token)
{
	struct held *h;
	qb_list_for_each_entry(h, &ipc->held, list)
		if (h->token == token)
			return h;
	return NULL;
}

static struct held *held_add(struct ipc_conn *conn, uint16_t type, uint32_t timeout_ms)
{
	struct ipc *ipc = conn->ipc;
	struct held *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->conn = conn;
	h->type = type;
	h->token = ++ipc->last_token;
	if (timeout_ms) {
		if (qb_loop_timer_add(ipc->loop, QB_LOOP_MED, timeout_ms * QB_TIME_NS_IN_MSEC, h,
		                      on_held_timeout, &h->timer) < 0) {
			free(h);
			return NULL;
		}
		h->timer_armed = true;
	}
	qb_ipcs_connection_ref(conn->c);
	qb_list_add_tail(&h->list, &ipc->held);
	conn->n_held++;
	return h;
}

static void held_drop(struct held *h)
{
	struct ipc_conn *conn = h->conn;
	if (h->timer_armed)
		qb_loop_timer_del(conn->ipc->loop, h->timer);
	qb_list_del(&h->list);
	conn->n_held--;
	free(h);
	qb_ipcs_connection_unref(conn->c);
}

static void on_held_timeout(void *data)
{
	struct held *h = data;
	struct ipc *ipc = h->conn->ipc;
	h->timer_armed = false;
	qb_log(LOG_DEBUG, "ipc[pid %d]: request %" PRIu64 " timed out", (int)h->conn->pid,
	       h->token);
	node_cancel(ipc->node, h->token);
	respond(h->conn, h->type, BLKSPACE_E_TIMEOUT, NULL);
	held_drop(h);
}

void ipc_on_reply(void *host, uint64_t token, int result, const void *data, size_t len)
{
	struct ipc *ipc = host;
	struct held *h = held_find(ipc, token);
	if (!h) {
		qb_log(LOG_DEBUG, "ipc: answer for request %" PRIu64 " nobody waits for, ignoring",
		       token);
		return;
	}
	respond(h->conn, h->type, result < 0 ? result : 0, NULL);
	held_drop(h);
}

/* Hold a request and pass its operation to the node. The node may answer
 * before node_submit() returns, so the record exists first and is looked up
 * again by token afterwards. */
static int hold_and_submit(struct ipc_conn *conn, const struct ipc_req_header *h, uint16_t op,
                           const struct wbuf *body)
{
	struct ipc *ipc = conn->ipc;
	if (conn->n_held >= IPC_MAX_HELD_PER_CONN)
		return BLKSPACE_E_BUSY;
	struct held *held = held_add(conn, h->qb.id, h->timeout_ms);
	if (!held)
		return -ENOMEM;
	uint64_t token = held->token;
	unsigned flags = h->flags & IPC_F_WAIT_QUORUM ? DOMAIN_WAIT_QUORUM : 0;
	int rc = node_submit(ipc->node, op, body->data, body->len, flags, token);
	if (rc < 0) {
		held = held_find(ipc, token);
		if (held)
			held_drop(held);
		return rc;
	}
	return REQUEST_HELD;
}

/* ---- requests ---- */

static int bad_payload(struct ipc_conn *conn, const struct ipc_req_header *h, int err)
{
	conn_warn(conn, "request type %u: malformed payload of %u bytes (%s)", h->qb.id,
	          (unsigned)(h->qb.size - sizeof(*h)), strerror(-err));
	return err == -E2BIG ? -E2BIG : BLKSPACE_E_PROTOCOL;
}

/* A payload that is one u32 and nothing else. */
static int read_u32_payload(struct ipc_conn *conn, const struct ipc_req_header *h,
                            const uint8_t *payload, size_t len, uint32_t *ret)
{
	struct rbuf r;
	rbuf_init(&r, payload, len);
	*ret = rbuf_get_u32(&r);
	rbuf_expect_end(&r);
	return rbuf_error(&r) ? bad_payload(conn, h, rbuf_error(&r)) : 0;
}

static void put_json(struct wbuf *out, char *json)
{
	wbuf_put_blob(out, json, strlen(json));
	free(json);
}

static int on_status(struct ipc_conn *conn, const struct ipc_req_header *h,
                     const uint8_t *payload, size_t len, struct wbuf *out)
{
	uint32_t flags;
	int bad = read_u32_payload(conn, h, payload, len, &flags);
	if (bad)
		return bad;
	struct node *node = conn->ipc->node;
	struct node_status st;
	node_get_status(node, &st);
	char *json;
	int rc = status_json_status(&st, node_control_state(node), flags, &json);
	if (rc == 0)
		put_json(out, json);
	return rc;
}

static int on_node_list(struct ipc_conn *conn, const struct ipc_req_header *h,
                        const uint8_t *payload, size_t len, struct wbuf *out)
{
	if (len)
		return bad_payload(conn, h, -EBADMSG);
	struct node *node = conn->ipc->node;
	struct node_status st;
	node_get_status(node, &st);
	char *json;
	int rc = status_json_node_list(&st.quorum, node_control_state(node), &json);
	if (rc == 0)
		put_json(out, json);
	return rc;
}

static int on_property_list(struct ipc_conn *conn, const struct ipc_req_header *h,
                            const uint8_t *payload, size_t len, struct wbuf *out)
{
	if (len)
		return bad_payload(conn, h, -EBADMSG);
	const struct control_state *cs = node_control_state(conn->ipc->node);
	if (!cs)
		return BLKSPACE_E_NOTREADY;
	char *json;
	int rc = status_json_property_list(cs, &json);
	if (rc == 0)
		put_json(out, json);
	return rc;
}

static int on_property_get(struct ipc_conn *conn, const struct ipc_req_header *h,
                           const uint8_t *payload, size_t len, struct wbuf *out)
{
	char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
	struct rbuf r;
	rbuf_init(&r, payload, len);
	rbuf_get_str(&r, key, sizeof(key));
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || !blkspace_property_key_is_valid(key))
		return bad_payload(conn, h, -EBADMSG);
	const struct control_state *cs = node_control_state(conn->ipc->node);
	if (!cs)
		return BLKSPACE_E_NOTREADY;
	const struct prop *p = props_get(&cs->props, key);
	if (!p)
		return BLKSPACE_E_NOTFOUND;
	wbuf_put_str(out, p->value);
	return 0;
}

static int on_log_list(struct ipc_conn *conn, const struct ipc_req_header *h,
                       const uint8_t *payload, size_t len, struct wbuf *out)
{
	if (len)
		return bad_payload(conn, h, -EBADMSG);
	const struct node *node = conn->ipc->node;
	size_t n = node_log_count(node);
	struct node_log_info *logs = calloc(n ? n : 1, sizeof(*logs));
	if (!logs)
		return -ENOMEM;
	size_t got = 0;
	while (got < n && node_log_info(node, got, &logs[got]) == 0)
		got++;
	char *json;
	int rc = status_json_log_list(logs, got, &json);
	free(logs);
	if (rc == 0)
		put_json(out, json);
	return rc;
}

static int on_log_show(struct ipc_conn *conn, const struct ipc_req_header *h,
                       const uint8_t *payload, size_t len, struct wbuf *out)
{
	char uuid[ULOG_UUID_LEN];
	struct rbuf r;
	rbuf_init(&r, payload, len);
	rbuf_get_str(&r, uuid, sizeof(uuid));
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || !uuid[0])
		return bad_payload(conn, h, -EBADMSG);
	struct node_log_info *log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	char *json;
	int rc = node_log_find(conn->ipc->node, uuid, log) < 0 ? BLKSPACE_E_NOTFOUND
	                                                        : status_json_log_show(log, &json);
	free(log);
	if (rc == 0)
		put_json(out, json);
	return rc;
}

/* An administrator's word that a node is off: the logs that keep its marks
 * until it is fenced resync them. Logged at warning level whatever comes of
 * it, since it overrides the fencer. */
static int on_node_confirm_fenced(struct ipc_conn *conn, const struct ipc_req_header *h,
                                  const uint8_t *payload, size_t len, struct wbuf *out)
{
	uint32_t nodeid;
	int bad = read_u32_payload(conn, h, payload, len, &nodeid);
	if (bad)
		return bad;
	if (nodeid == 0) {
		conn_warn(conn, "request type %u: node id 0", h->qb.id);
		return -EINVAL;
	}
	int rc = node_fence_confirmed(conn->ipc->node, nodeid);
	if (rc < 0) {
		qb_log(LOG_WARNING, "node %u confirmed fenced by an administrator (pid %d): "
		       "not passed on: %s", nodeid, (int)conn->pid, blkspace_strerror(rc));
		return rc;
	}
	qb_log(LOG_WARNING, "node %u confirmed fenced by an administrator (pid %d): "
	       "%d mirror log%s its regions", nodeid, (int)conn->pid, rc,
	       rc == 1 ? " resyncs" : "s resync");
	wbuf_put_u32(out, (uint32_t)rc);
	return 0;
}

/* Re-encode the checked batch as the control operation's body. */
static int submit_properties(struct ipc_conn *conn, const struct ipc_req_header *h,
                             const struct ipc_property *props, size_t n)
{
	bool set = h->qb.id == IPC_REQ_PROPERTY_SET;
	const char *keys[BLKSPACE_PROPERTY_BATCH_MAX];
	const char *values[BLKSPACE_PROPERTY_BATCH_MAX];
	for (size_t i = 0; i < n; i++) {
		keys[i] = props[i].key;
		values[i] = props[i].value;
	}
	struct wbuf w;
	wbuf_init(&w);
	props_encode_request(&w, keys, set ? values : NULL, n);
	int rc = wbuf_error(&w);
	if (rc == 0)
		rc = hold_and_submit(conn, h, set ? CONTROL_OP_PROPERTY_SET : CONTROL_OP_PROPERTY_UNSET,
		                     &w);
	wbuf_done(&w);
	return rc;
}

static int on_property_change(struct ipc_conn *conn, const struct ipc_req_header *h,
                              const uint8_t *payload, size_t len, struct wbuf *out)
{
	bool set = h->qb.id == IPC_REQ_PROPERTY_SET;
	struct ipc_property *props = calloc(BLKSPACE_PROPERTY_BATCH_MAX, sizeof(*props));
	if (!props)
		return -ENOMEM;
	int n = ipc_decode_properties(payload, len, set, props, BLKSPACE_PROPERTY_BATCH_MAX);
	int rc = n < 0 ? bad_payload(conn, h, n) : submit_properties(conn, h, props, (size_t)n);
	free(props);
	return rc;
}

static const struct {
	request_fn *fn;
	unsigned allowed_flags;
} requests[IPC_REQ_TYPE_MAX] = {
	[IPC_REQ_STATUS] = { on_status, 0 },
	[IPC_REQ_NODE_LIST] = { on_node_list, 0 },
	[IPC_REQ_PROPERTY_SET] = { on_property_change, IPC_F_WAIT_QUORUM },
	[IPC_REQ_PROPERTY_UNSET] = { on_property_change, IPC_F_WAIT_QUORUM },
	[IPC_REQ_PROPERTY_GET] = { on_property_get, 0 },
	[IPC_REQ_PROPERTY_LIST] = { on_property_list, 0 },
	[IPC_REQ_LOG_LIST] = { on_log_list, 0 },
	[IPC_REQ_LOG_SHOW] = { on_log_show, 0 },
	[IPC_REQ_NODE_CONFIRM_FENCED] = { on_node_confirm_fenced, 0 },
};

/* Check the header of a request of size bytes, copied into *h. libqb
 * passes the size the header claims once it fits the buffer, so the size
 * comparison guards against a change of that more than against clients. */
static int check_header(struct ipc_conn *conn, const void *data, size_t size,
                        struct ipc_req_header *h)
{
	if (size < sizeof(*h)) {
		conn_warn(conn, "request of %zu bytes is shorter than its header", size);
		return BLKSPACE_E_PROTOCOL;
	}
	memcpy(h, data, sizeof(*h));
	if (h->qb.size < 0 || (size_t)h->qb.size != size) {
		conn_warn(conn, "request says %d bytes but has %zu", h->qb.size, size);
		return BLKSPACE_E_PROTOCOL;
	}
	if (h->version != IPC_PROTO_VERSION) {
		conn_warn(conn, "request of protocol version %u, not %u", h->version,
		          IPC_PROTO_VERSION);
		return BLKSPACE_E_VERSION;
	}
	if (h->qb.id <= 0 || h->qb.id >= IPC_REQ_TYPE_MAX || !requests[h->qb.id].fn) {
		conn_warn(conn, "unknown request type %d", h->qb.id);
		return -EOPNOTSUPP;
	}
	if (h->flags & ~requests[h->qb.id].allowed_flags) {
		conn_warn(conn, "request type %d with unknown flags 0x%x", h->qb.id, h->flags);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The id to answer a request with that did not pass check_header(). */
static uint16_t request_id(const void *data, size_t size)
{
	struct qb_ipc_request_header qh;
	if (size < sizeof(qh))
		return 0;
	memcpy(&qh, data, sizeof(qh));
	return qh.id > 0 && qh.id <= UINT16_MAX ? (uint16_t)qh.id : 0;
}

static int32_t on_msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct ipc_conn *conn = qb_ipcs_context_get(c);
	if (!conn)
		return 0;
	struct ipc_req_header h;
	int rc = check_header(conn, data, size, &h);
	if (rc < 0) {
		respond(conn, request_id(data, size), rc, NULL);
		return 0;
	}
	if (!conn->ipc->node) {
		respond(conn, (uint16_t)h.qb.id, BLKSPACE_E_NOTREADY, NULL);
		return 0;
	}
	struct wbuf out;
	wbuf_init(&out);
	rc = requests[h.qb.id].fn(conn, &h, (const uint8_t *)data + sizeof(h), size - sizeof(h),
	                          &out);
	if (rc == 0 && wbuf_error(&out))
		rc = wbuf_error(&out);
	if (rc != REQUEST_HELD)
		respond(conn, (uint16_t)h.qb.id, rc, &out);
	wbuf_done(&out);
	return 0;
}

/* ---- connections ---- */

/* Is group among the groups of user uid (primary or supplementary)? This
 * asks NSS; it runs only for a non-root client outside the group by gid. */
static bool user_in_group(uid_t uid, gid_t group)
{
	struct passwd pw, *found = NULL;
	size_t bufsz = 4096;
	char *buf = NULL;
	int err;
	do {
		char *b = realloc(buf, bufsz *= 2);
		if (!b)
			break;
		buf = b;
		err = getpwuid_r(uid, &pw, buf, bufsz, &found);
	} while (err == ERANGE && bufsz < PW_BUF_MAX_BYTES);
	bool member = false;
	int n = 64;
	gid_t *groups = NULL;
	while (found && n <= GROUPS_MAX) {
		gid_t *g = reallocarray(groups, (size_t)n, sizeof(*g));
		if (!g)
			break;
		groups = g;
		int want = n;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &want) >= 0) {
			for (int i = 0; i < want && !member; i++)
				member = groups[i] == group;
			break;
		}
		n = want > n ? want : n * 2;
	}
	free(groups);
	free(buf);
	return member;
}

static int32_t on_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	struct ipc *ipc = qb_ipcs_connection_service_context_get(c);
	if (uid == 0)
		return 0;
	if (ipc->group != (gid_t)-1 && (gid == ipc->group || user_in_group(uid, ipc->group)))
		return 0;
	struct qb_ipcs_connection_stats stats = { 0 };
	qb_ipcs_connection_stats_get(c, &stats, QB_FALSE);
	if (ipc->group == (gid_t)-1)
		qb_log(LOG_WARNING, "ipc: client pid %d uid %u is not root, refusing",
		       (int)stats.client_pid, (unsigned)uid);
	else
		qb_log(LOG_WARNING, "ipc: client pid %d uid %u gid %u is not root nor in group %u, refusing",
		       (int)stats.client_pid, (unsigned)uid, (unsigned)gid, (unsigned)ipc->group);
	return -EACCES;
}

static void on_created(qb_ipcs_connection_t *c)
{
	struct ipc *ipc = qb_ipcs_connection_service_context_get(c);
	struct ipc_conn *conn = calloc(1, sizeof(*conn));
	if (!conn) {
		qb_log(LOG_ERR, "ipc: out of memory for a new connection, closing it");
		qb_ipcs_disconnect(c);
		return;
	}
	struct qb_ipcs_connection_stats stats = { 0 };
	qb_ipcs_connection_stats_get(c, &stats, QB_FALSE);
	conn->ipc = ipc;
	conn->c = c;
	conn->pid = stats.client_pid;
	qb_list_add_tail(&conn->list, &ipc->conns);
	qb_ipcs_context_set(c, conn);
	qb_log(LOG_DEBUG, "ipc[pid %d]: connected", (int)conn->pid);
}

/* The client is gone: cancel what it waits for; libqb still holds its own
 * reference here, so the held records' references go first. */
static int32_t on_closed(qb_ipcs_connection_t *c)
{
	struct ipc_conn *conn = qb_ipcs_context_get(c);
	if (!conn)
		return 0;
	struct held *h, *next;
	qb_list_for_each_entry_safe(h, next, &conn->ipc->held, list) {
		if (h->conn != conn)
			continue;
		node_cancel(conn->ipc->node, h->token);
		held_drop(h);
	}
	qb_log(LOG_DEBUG, "ipc[pid %d]: disconnected", (int)conn->pid);
	return 0;
}

static void on_destroyed(qb_ipcs_connection_t *c)
{
	struct ipc_conn *conn = qb_ipcs_context_get(c);
	if (!conn)
		return;
	qb_ipcs_context_set(c, NULL);
	qb_list_del(&conn->list);
	free(conn);
}

/* ---- the service ---- */

/* libqb's poll hooks take no context argument, and we keep no file-scope
 * state: a NULL loop is libqb's default loop, which struct ipc_params
 * requires the caller's loop to be. */
static int32_t job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(NULL, p, data, fn);
}

static int32_t poll_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
                        qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(NULL, p, fd, events, data, fn);
}

static int32_t poll_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
                        qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(NULL, p, fd, events, data, fn);
}

static int32_t poll_del(int32_t fd) { return qb_loop_poll_del(NULL, fd); }

int ipc_create(const struct ipc_params *p, struct ipc **ret_ipc)
{
	if (!p->loop || !p->service)
		return -EINVAL;
	struct ipc *ipc = calloc(1, sizeof(*ipc));
	if (!ipc)
		return -ENOMEM;
	ipc->loop = p->loop;
	ipc->group = p->group;
	qb_list_init(&ipc->held);
	qb_list_init(&ipc->conns);
	ipc->handlers = (struct qb_ipcs_service_handlers){
		.connection_accept = on_accept,
		.connection_created = on_created,
		.msg_process = on_msg_process,
		.connection_closed = on_closed,
		.connection_destroyed = on_destroyed,
	};
	int rc = -ENOMEM;
	ipc->service = qb_ipcs_create(p->service, 0, QB_IPC_NATIVE, &ipc->handlers);
	if (!ipc->service)
		goto fail_create;
	struct qb_ipcs_poll_handlers hooks = {
		.job_add = job_add,
		.dispatch_add = poll_add,
		.dispatch_mod = poll_mod,
		.dispatch_del = poll_del,
	};
	qb_ipcs_poll_handlers_set(ipc->service, &hooks);
	qb_ipcs_service_context_set(ipc->service, ipc);
	/* A failed qb_ipcs_run() has released the service already. */
	rc = qb_ipcs_run(ipc->service);
	if (rc < 0)
		goto fail_create;
	*ret_ipc = ipc;
	return 0;

fail_create:
	free(ipc);
	return rc;
}

void ipc_attach_node(struct ipc *ipc, struct node *node) { ipc->node = node; }

void ipc_destroy(struct ipc *ipc)
{
	if (!ipc)
		return;
	/* Disconnects every client: on_closed() cancels and drops their held
	 * requests, on_destroyed() frees the records. */
	qb_ipcs_destroy(ipc->service);
	struct held *h, *next;
	qb_list_for_each_entry_safe(h, next, &ipc->held, list) {
		node_cancel(ipc->node, h->token);
		held_drop(h);
	}
	free(ipc);
}
