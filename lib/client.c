/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libblkspace: synchronous calls to the local blkspaced over libqb IPC.
 * One request is in flight per connection. After a call timed out or the
 * connection broke, a late answer could be taken for the next call's, so
 * the connection is marked stale and the next call reconnects first. */
#include "config.h"

#include <blkspace/blkspace.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <qb/qbipcc.h>

#include "codec.h"
#include "ipc-proto.h"

#define DEFAULT_TIMEOUT_MS 30000
/* How much longer than the daemon may hold a request the client waits for
 * its answer, so that the daemon's own timeout answer normally arrives. */
#define ANSWER_GRACE_MS 2000
#define SERVICE_NAME_MAX 64

struct blkspace {
	qb_ipcc_connection_t *ipcc;
	char service[SERVICE_NAME_MAX + 1];
	int timeout_ms; /* -1: no limit */
	bool stale;     /* the stream may hold an answer nobody waits for */
	uint8_t *buf;   /* response buffer of buf_size bytes */
	size_t buf_size;
};

/* A received answer: result code and payload inside conn->buf. */
struct answer {
	int error;
	const uint8_t *payload;
	size_t len;
};

static int open_ipcc(struct blkspace *conn)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(conn->service, IPC_MAX_MSG_BYTES);
	if (!c)
		return BLKSPACE_E_UNREACHABLE;
	int32_t size = qb_ipcc_get_buffer_size(c);
	size_t want = size > 0 ? (size_t)size : IPC_MAX_MSG_BYTES;
	if (want > conn->buf_size) {
		uint8_t *buf = realloc(conn->buf, want);
		if (!buf) {
			qb_ipcc_disconnect(c);
			return -ENOMEM;
		}
		conn->buf = buf;
		conn->buf_size = want;
	}
	conn->ipcc = c;
	conn->stale = false;
	return 0;
}

static void close_ipcc(struct blkspace *conn)
{
	if (conn->ipcc)
		qb_ipcc_disconnect(conn->ipcc);
	conn->ipcc = NULL;
}

int blkspace_connect_service(const char *service, struct blkspace **ret_conn)
{
	if (!service || !*service || strlen(service) > SERVICE_NAME_MAX || !ret_conn)
		return BLKSPACE_E_INVALID;
	struct blkspace *conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	strcpy(conn->service, service);
	conn->timeout_ms = DEFAULT_TIMEOUT_MS;
	int rc = open_ipcc(conn);
	if (rc < 0) {
		blkspace_disconnect(conn);
		return rc;
	}
	*ret_conn = conn;
	return 0;
}

int blkspace_connect(struct blkspace **ret_conn)
{
	const char *service = secure_getenv("BLKSPACE_SERVICE");
	if (!service || !*service)
		service = BLKSPACE_SERVICE_NAME;
	return blkspace_connect_service(service, ret_conn);
}

void blkspace_disconnect(struct blkspace *conn)
{
	if (!conn)
		return;
	close_ipcc(conn);
	free(conn->buf);
	free(conn);
}

int blkspace_set_timeout(struct blkspace *conn, int timeout_ms)
{
	if (!conn || timeout_ms < -1 || timeout_ms == 0)
		return BLKSPACE_E_INVALID;
	conn->timeout_ms = timeout_ms;
	return 0;
}

/* Map what qb_ipcc_sendv_recv() returned; the connection is stale afterwards. */
static int transport_error(struct blkspace *conn, ssize_t res)
{
	conn->stale = true;
	if (!qb_ipcc_is_connected(conn->ipcc))
		return BLKSPACE_E_DISCONNECTED;
	switch (res) {
	case -ETIMEDOUT:
		return BLKSPACE_E_TIMEOUT;
	case -ENOTCONN:
	case -ECONNRESET:
	case -EPIPE:
	case -ESHUTDOWN:
		return BLKSPACE_E_DISCONNECTED;
	default:
		return (int)res;
	}
}

static int check_answer(struct blkspace *conn, uint16_t type, ssize_t res, struct answer *ret)
{
	struct ipc_resp_header h;
	if ((size_t)res < sizeof(h)) {
		conn->stale = true;
		return BLKSPACE_E_PROTOCOL;
	}
	memcpy(&h, conn->buf, sizeof(h));
	if (h.qb.size != res || h.qb.id != type || h.qb.error > 0) {
		conn->stale = true;
		return BLKSPACE_E_PROTOCOL;
	}
	ret->error = h.qb.error;
	ret->payload = conn->buf + sizeof(h);
	ret->len = (size_t)res - sizeof(h);
	return 0;
}

/* Send one request and wait for its answer. Returns 0 with *ret filled (the
 * daemon's result in ret->error), or a transport error. */
static int call(struct blkspace *conn, uint16_t type, unsigned flags, const struct wbuf *body,
                struct answer *ret)
{
	if (conn->stale) {
		close_ipcc(conn);
		int rc = open_ipcc(conn);
		if (rc < 0)
			return rc;
	}
	size_t len = body ? body->len : 0;
	if (len > IPC_MAX_MSG_BYTES - sizeof(struct ipc_req_header))
		return -EMSGSIZE;
	struct ipc_req_header h;
	memset(&h, 0, sizeof(h));
	h.qb.id = type;
	h.qb.size = (int32_t)(sizeof(h) + len);
	h.version = IPC_PROTO_VERSION;
	h.flags = (uint16_t)flags;
	h.timeout_ms = conn->timeout_ms < 0 ? 0 : (uint32_t)conn->timeout_ms;
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = body ? body->data : NULL, .iov_len = len },
	};
	int32_t wait_ms = conn->timeout_ms < 0 ? -1
	                  : conn->timeout_ms > INT32_MAX - ANSWER_GRACE_MS
	                          ? INT32_MAX
	                          : conn->timeout_ms + ANSWER_GRACE_MS;
	ssize_t res = qb_ipcc_sendv_recv(conn->ipcc, iov, len ? 2 : 1, conn->buf, conn->buf_size,
	                                 wait_ms);
	if (res < 0)
		return transport_error(conn, res);
	return check_answer(conn, type, res, ret);
}

/* A call whose answer payload is a JSON blob; the text goes to *ret_json. */
static int call_json(struct blkspace *conn, uint16_t type, const struct wbuf *body,
                     char **ret_json)
{
	if (!conn || !ret_json)
		return BLKSPACE_E_INVALID;
	struct answer a;
	int rc = call(conn, type, 0, body, &a);
	if (rc < 0)
		return rc;
	if (a.error < 0)
		return a.error;
	struct rbuf r;
	size_t n;
	rbuf_init(&r, a.payload, a.len);
	const uint8_t *p = rbuf_get_blob(&r, &n);
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || memchr(p, '\0', n))
		return BLKSPACE_E_PROTOCOL;
	char *json = malloc(n + 1);
	if (!json)
		return -ENOMEM;
	memcpy(json, p, n);
	json[n] = '\0';
	*ret_json = json;
	return 0;
}

int blkspace_status_json(struct blkspace *conn, unsigned flags, char **ret_json)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u32(&w, flags);
	int rc = wbuf_error(&w) ? wbuf_error(&w) : call_json(conn, IPC_REQ_STATUS, &w, ret_json);
	wbuf_done(&w);
	return rc;
}

int blkspace_node_list_json(struct blkspace *conn, char **ret_json)
{
	return call_json(conn, IPC_REQ_NODE_LIST, NULL, ret_json);
}

int blkspace_property_list_json(struct blkspace *conn, char **ret_json)
{
	return call_json(conn, IPC_REQ_PROPERTY_LIST, NULL, ret_json);
}

int blkspace_log_list_json(struct blkspace *conn, char **ret_json)
{
	return call_json(conn, IPC_REQ_LOG_LIST, NULL, ret_json);
}

int blkspace_log_show_json(struct blkspace *conn, const char *uuid, char **ret_json)
{
	if (!uuid || !uuid[0] || strlen(uuid) > BLKSPACE_LOG_UUID_MAX)
		return BLKSPACE_E_INVALID;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_str(&w, uuid);
	int rc = wbuf_error(&w) ? wbuf_error(&w) : call_json(conn, IPC_REQ_LOG_SHOW, &w, ret_json);
	wbuf_done(&w);
	return rc;
}

int blkspace_node_confirm_fenced(struct blkspace *conn, uint32_t nodeid, unsigned *ret_logs)
{
	if (!conn || nodeid == 0)
		return BLKSPACE_E_INVALID;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u32(&w, nodeid);
	struct answer a;
	int rc = wbuf_error(&w);
	if (rc == 0)
		rc = call(conn, IPC_REQ_NODE_CONFIRM_FENCED, 0, &w, &a);
	wbuf_done(&w);
	if (rc < 0)
		return rc;
	if (a.error < 0)
		return a.error;
	struct rbuf r;
	rbuf_init(&r, a.payload, a.len);
	uint32_t logs = rbuf_get_u32(&r);
	rbuf_expect_end(&r);
	if (rbuf_error(&r))
		return BLKSPACE_E_PROTOCOL;
	if (ret_logs)
		*ret_logs = logs;
	return 0;
}

/* Check a batch before it is sent: the daemon would reject it anyway, but
 * the caller deserves BLKSPACE_E_INVALID rather than a protocol error. */
static int check_batch(const char *const *keys, const char *const *values, size_t n)
{
	if (n > BLKSPACE_PROPERTY_BATCH_MAX)
		return -E2BIG;
	if (n == 0 || !keys)
		return BLKSPACE_E_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (!blkspace_property_key_is_valid(keys[i]))
			return BLKSPACE_E_INVALID;
		if (values && (!values[i] || strlen(values[i]) > BLKSPACE_PROPERTY_VALUE_MAX))
			return BLKSPACE_E_INVALID;
	}
	return 0;
}

static int change_properties(struct blkspace *conn, uint16_t type, const char *const *keys,
                             const char *const *values, size_t n, unsigned flags)
{
	if (!conn)
		return BLKSPACE_E_INVALID;
	int rc = check_batch(keys, values, n);
	if (rc < 0)
		return rc;
	unsigned req_flags = flags & BLKSPACE_WAIT_QUORUM ? IPC_F_WAIT_QUORUM : 0;
	struct wbuf w;
	wbuf_init(&w);
	ipc_encode_properties(&w, keys, values, n);
	struct answer a;
	rc = wbuf_error(&w);
	if (rc == 0)
		rc = call(conn, type, req_flags, &w, &a);
	wbuf_done(&w);
	return rc < 0 ? rc : a.error;
}

int blkspace_property_set(struct blkspace *conn, const char *const *keys,
                          const char *const *values, size_t n, unsigned flags)
{
	if (!values)
		return BLKSPACE_E_INVALID;
	return change_properties(conn, IPC_REQ_PROPERTY_SET, keys, values, n, flags);
}

int blkspace_property_unset(struct blkspace *conn, const char *const *keys, size_t n,
                            unsigned flags)
{
	return change_properties(conn, IPC_REQ_PROPERTY_UNSET, keys, NULL, n, flags);
}

static int decode_value(const struct answer *a, char **ret_value)
{
	char value[BLKSPACE_PROPERTY_VALUE_MAX + 1];
	struct rbuf r;
	rbuf_init(&r, a->payload, a->len);
	rbuf_get_str(&r, value, sizeof(value));
	rbuf_expect_end(&r);
	if (rbuf_error(&r))
		return BLKSPACE_E_PROTOCOL;
	char *copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	*ret_value = copy;
	return 0;
}

int blkspace_property_get(struct blkspace *conn, const char *key, char **ret_value)
{
	if (!conn || !ret_value || !blkspace_property_key_is_valid(key))
		return BLKSPACE_E_INVALID;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_str(&w, key);
	struct answer a;
	int rc = wbuf_error(&w);
	if (rc == 0)
		rc = call(conn, IPC_REQ_PROPERTY_GET, 0, &w, &a);
	wbuf_done(&w);
	if (rc < 0)
		return rc;
	if (a.error < 0)
		return a.error;
	return decode_value(&a, ret_value);
}
