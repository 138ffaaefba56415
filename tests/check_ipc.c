/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the daemon's IPC server (daemon/ipc.c) with libblkspace as the
 * client. The server runs in this process on a qb_loop over a fake node
 * (below); each scenario's client runs in a forked child and reports through
 * its exit status. Malformed requests come first. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbloop.h>

#include <blkspace/blkspace.h>

#include "check-util.h"
#include "ipc-proto.h"
#include "ipc.h"

#define SCENARIO_TIMEOUT_MS 8000
#define REPLY_DELAY_MS 20
#define MAX_LATER 16

/* ---- the fake node: what node.h promises, with behaviour by first key ----
 * "hang*": never answered; "noquorum*": BLKSPACE_E_NOQUORUM at once unless
 * waiting for quorum (then never answered); "now*": answered inside
 * node_submit(); anything else: applied and answered after a short delay. */
struct later {
	struct node *n;
	uint64_t token;
	int result;
	bool used;
};

struct node {
	struct control_state cs;
	qb_loop_t *loop;
	struct ipc *ipc;
	int submits, cancels;
	int fence_confirms;  /* node_fence_confirmed() calls */
	bool fenced_2;       /* node 2's marks in log-a were passed on */
	struct later later[MAX_LATER];
};

const char *domain_phase_name(enum domain_phase p) { return p == DOMAIN_ACTIVE ? "active" : "other"; }

static void on_later(void *data)
{
	struct later *l = data;
	l->used = false;
	ipc_on_reply(l->n->ipc, l->token, l->result, NULL, 0);
}

static void reply_later(struct node *n, uint64_t token, int result)
{
	for (int i = 0; i < MAX_LATER; i++) {
		struct later *l = &n->later[i];
		if (l->used)
			continue;
		*l = (struct later){ .n = n, .token = token, .result = result, .used = true };
		qb_loop_timer_handle th;
		qb_loop_timer_add(n->loop, QB_LOOP_MED, REPLY_DELAY_MS * QB_TIME_NS_IN_MSEC, l, on_later,
		                  &th);
		return;
	}
	ck_abort_msg("too many delayed replies");
}

int node_submit(struct node *n, uint16_t op, const void *body, size_t len, unsigned flags,
                uint64_t token)
{
	char first[BLKSPACE_PROPERTY_KEY_MAX + 1];
	struct rbuf r;
	rbuf_init(&r, body, len);
	rbuf_get_u16(&r);
	rbuf_get_str(&r, first, sizeof(first));
	ck_assert_int_eq(rbuf_error(&r), 0);
	n->submits++;
	if (strncmp(first, "hang", 4) == 0)
		return 0;
	if (strncmp(first, "noquorum", 8) == 0)
		return flags & DOMAIN_WAIT_QUORUM ? 0 : BLKSPACE_E_NOQUORUM;
	int rc = props_apply(&n->cs.props, body, len, op == CONTROL_OP_PROPERTY_SET);
	if (strncmp(first, "now", 3) == 0)
		ipc_on_reply(n->ipc, token, rc, NULL, 0);
	else
		reply_later(n, token, rc);
	return 0;
}

void node_cancel(struct node *n, uint64_t token) { n->cancels++; }

void node_get_status(const struct node *n, struct node_status *ret_status)
{
	memset(ret_status, 0, sizeof(*ret_status));
	ret_status->nodeid = 1;
	strcpy(ret_status->name, "n1");
	ret_status->transport = "fake";
	ret_status->quorum.quorate = true;
	ret_status->control.phase = DOMAIN_ACTIVE;
	ret_status->control.n_members = 1;
	ret_status->control.members[0].nodeid = 1;
}

const struct control_state *node_control_state(const struct node *n) { return &n->cs; }

/* One mirror log, "log-a", with 100 regions of which 90 are in sync; the 4
 * regions departed node 2 had marked wait for its fencing. */
size_t node_log_count(const struct node *n) { return 1; }

int node_log_info(const struct node *n, size_t i, struct node_log_info *out)
{
	if (i != 0)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	strcpy(out->uuid, "log-a");
	out->region_count = 100;
	out->in_sync = 90;
	out->dirty = 12;
	if (!n->fenced_2) {
		out->n_fencing = 1;
		out->fencing[0] = (struct node_log_fencing){ .nodeid = 2, .regions = 4 };
	}
	return 0;
}

/* Node 2 is waited for in log-a (once); node 13 fails; others: no log. */
int node_fence_confirmed(struct node *n, uint32_t nodeid)
{
	n->fence_confirms++;
	if (nodeid == 13)
		return -EIO;
	if (nodeid != 2 || n->fenced_2)
		return 0;
	n->fenced_2 = true;
	return 1;
}

int node_log_find(const struct node *n, const char *uuid, struct node_log_info *out)
{
	return strcmp(uuid, "log-a") == 0 ? node_log_info(n, 0, out) : -ENOENT;
}

/* ---- the server side of each test ---- */

static struct node node;
static qb_loop_t *loop;
static char service[64];
static pid_t child;
static int child_status;

static void setup_server(gid_t group, bool attach)
{
	memset(&node, 0, sizeof(node));
	props_init(&node.cs.props);
	nodes_init(&node.cs.nodes);
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	node.loop = loop;
	snprintf(service, sizeof(service), "blkspace-check-%d", (int)getpid());
	struct ipc_params p = { .loop = loop, .service = service, .group = group };
	ck_assert_int_eq(ipc_create(&p, &node.ipc), 0);
	if (attach)
		ipc_attach_node(node.ipc, &node);
}

static void setup(void) { setup_server(getegid(), true); }

static void teardown(void)
{
	ipc_destroy(node.ipc);
	qb_loop_destroy(loop);
	props_done(&node.cs.props);
	nodes_done(&node.cs.nodes);
}

static int32_t on_sigchld(int32_t sig, void *data)
{
	if (waitpid(child, &child_status, WNOHANG) == child)
		qb_loop_stop(loop);
	return 0;
}

static void on_stop(void *data) { qb_loop_stop(loop); }

static void on_deadline(void *data)
{
	kill(child, SIGKILL);
}

/* Run scenario in a child while this process serves; the child's exit
 * status is the number of failed expectations. */
static void run_client(int (*scenario)(void))
{
	qb_loop_signal_handle sh;
	qb_loop_timer_handle th;
	ck_assert_int_eq(qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGCHLD, NULL, on_sigchld, &sh), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(scenario());
	qb_loop_timer_add(loop, QB_LOOP_HIGH, SCENARIO_TIMEOUT_MS * QB_TIME_NS_IN_MSEC, NULL,
	                  on_deadline, &th);
	qb_loop_run(loop);
	qb_loop_timer_del(loop, th);
	qb_loop_signal_del(loop, sh);
	ck_assert_msg(WIFEXITED(child_status), "client died (status 0x%x)", child_status);
	ck_assert_msg(WEXITSTATUS(child_status) == 0, "%d client expectations failed",
	              WEXITSTATUS(child_status));
}

/* ---- client helpers (run in the child) ---- */

static int failures;

#define EXPECT(cond)                                                               \
	do {                                                                           \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                            \
		}                                                                          \
	} while (0)

static struct blkspace *client(void)
{
	struct blkspace *conn = NULL;
	int rc = blkspace_connect_service(service, &conn);
	if (rc < 0) {
		fprintf(stderr, "connect: %s\n", blkspace_strerror(rc));
		_exit(100);
	}
	return conn;
}

/* Send a raw request; returns the answer's error code, or the transport's. */
static int raw_request(qb_ipcc_connection_t *c, int32_t type, uint16_t version, uint16_t flags,
                       const void *payload, size_t len, size_t cut)
{
	static uint8_t msg[4096], answer[IPC_MAX_MSG_BYTES];
	struct ipc_req_header h = { .qb = { .id = type }, .version = version, .flags = flags };
	h.qb.size = (int32_t)(sizeof(h) + len - cut);
	memcpy(msg, &h, sizeof(h));
	if (len)
		memcpy(msg + sizeof(h), payload, len);
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(h) + len - cut };
	ssize_t res = qb_ipcc_sendv_recv(c, &iov, 1, answer, sizeof(answer), 2000);
	if (res < (ssize_t)sizeof(struct ipc_resp_header))
		return res < 0 ? (int)res : -EBADMSG;
	struct ipc_resp_header rh;
	memcpy(&rh, answer, sizeof(rh));
	return rh.qb.error;
}

/* ---- scenarios ---- */

static int malformed_scenario(void)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(service, IPC_MAX_MSG_BYTES);
	if (!c)
		return 100;
	uint8_t flags[5] = { 0 };
	uint8_t bad_key[] = { 1, 0, 2, 0, '9', 'x', 1, 0, 'v' };
	uint8_t too_many[] = { BLKSPACE_PROPERTY_BATCH_MAX + 1, 0 };
	EXPECT(raw_request(c, IPC_REQ_STATUS, 1, 0, flags, 4, 4 + 8) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_STATUS, 2, 0, flags, 4, 0) == BLKSPACE_E_VERSION);
	EXPECT(raw_request(c, 0, 1, 0, NULL, 0, 0) == -EOPNOTSUPP);
	EXPECT(raw_request(c, IPC_REQ_TYPE_MAX, 1, 0, NULL, 0, 0) == -EOPNOTSUPP);
	EXPECT(raw_request(c, IPC_REQ_STATUS, 1, 0x80, flags, 4, 0) == -EOPNOTSUPP);
	EXPECT(raw_request(c, IPC_REQ_STATUS, 1, 0, flags, 5, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_STATUS, 1, 0, flags, 3, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_NODE_LIST, 1, 0, flags, 1, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_PROPERTY_SET, 1, 0, bad_key, sizeof(bad_key), 0) ==
	       BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_PROPERTY_UNSET, 1, 0, too_many, 2, 0) == -E2BIG);
	EXPECT(raw_request(c, IPC_REQ_PROPERTY_GET, 1, 0, bad_key + 2, 4, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_LOG_LIST, 1, 0, flags, 1, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_LOG_SHOW, 1, 0, NULL, 0, 0) == BLKSPACE_E_PROTOCOL);
	uint8_t empty_uuid[] = { 0, 0 }, long_uuid[2 + 200] = { 200, 0 };
	memset(long_uuid + 2, 'u', 200);
	EXPECT(raw_request(c, IPC_REQ_LOG_SHOW, 1, 0, empty_uuid, 2, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_LOG_SHOW, 1, 0, long_uuid, sizeof(long_uuid), 0) ==
	       BLKSPACE_E_PROTOCOL);
	/* the connection survived all of it */
	EXPECT(raw_request(c, IPC_REQ_STATUS, 1, 0, flags, 4, 0) == 0);
	qb_ipcc_disconnect(c);
	return failures;
}

START_TEST(test_ipc_rejects_malformed_requests)
{
	run_client(malformed_scenario);
	ck_assert_int_eq(node.submits, 0);
}
END_TEST

static int confirm_fenced_scenario(void)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(service, IPC_MAX_MSG_BYTES);
	if (!c)
		return 100;
	uint8_t id[5] = { 7, 0, 0, 0, 0 }, zero[4] = { 0 };
	EXPECT(raw_request(c, IPC_REQ_NODE_CONFIRM_FENCED, 1, 0, NULL, 0, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_NODE_CONFIRM_FENCED, 1, 0, id, 3, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_NODE_CONFIRM_FENCED, 1, 0, id, 5, 0) == BLKSPACE_E_PROTOCOL);
	EXPECT(raw_request(c, IPC_REQ_NODE_CONFIRM_FENCED, 1, 0, zero, 4, 0) == -EINVAL);
	EXPECT(raw_request(c, IPC_REQ_NODE_CONFIRM_FENCED, 1, IPC_F_WAIT_QUORUM, id, 4, 0) ==
	       -EOPNOTSUPP);
	/* the daemon keeps serving: well-formed ones, raw and through the library */
	EXPECT(raw_request(c, IPC_REQ_NODE_CONFIRM_FENCED, 1, 0, id, 4, 0) == 0);
	qb_ipcc_disconnect(c);
	struct blkspace *conn = client();
	unsigned logs = 99;
	char *json = NULL;
	EXPECT(blkspace_node_confirm_fenced(conn, 42, &logs) == 0 && logs == 0);
	EXPECT(blkspace_node_confirm_fenced(conn, 0, &logs) == BLKSPACE_E_INVALID);
	EXPECT(blkspace_node_confirm_fenced(conn, 13, &logs) == -EIO);
	EXPECT(blkspace_log_show_json(conn, "log-a", &json) == 0);
	EXPECT(json && strstr(json, "\"awaiting_fencing\":[{\"node\":2,\"regions\":4}]"));
	free(json);
	EXPECT(blkspace_node_confirm_fenced(conn, 2, &logs) == 0 && logs == 1);
	EXPECT(blkspace_node_confirm_fenced(conn, 2, NULL) == 0);
	EXPECT(blkspace_log_list_json(conn, &json) == 0);
	EXPECT(json && strstr(json, "\"awaiting_fencing\":[]"));
	free(json);
	blkspace_disconnect(conn);
	return failures;
}

START_TEST(test_ipc_checks_confirm_fenced)
{
	run_client(confirm_fenced_scenario);
	/* only the five well-formed requests reached the node */
	ck_assert_int_eq(node.fence_confirms, 5);
	ck_assert(node.fenced_2);
	ck_assert_int_eq(node.submits, 0);
}
END_TEST

START_TEST(test_ipc_create_fails_on_taken_name)
{
	struct ipc *second = NULL;
	struct ipc_params p = { .loop = loop, .service = service, .group = getegid() };
	ck_assert_int_eq(ipc_create(&p, &second), -EADDRINUSE);
	ck_assert_ptr_null(second);
	run_client(malformed_scenario); /* the first one still serves */
}
END_TEST

static int queries_scenario(void)
{
	struct blkspace *conn = client();
	char *json = NULL, *value = NULL;
	EXPECT(blkspace_status_json(conn, BLKSPACE_STATUS_FULL, &json) == 0);
	EXPECT(json && strstr(json, "\"primary\":true"));
	free(json);
	EXPECT(blkspace_node_list_json(conn, &json) == 0);
	EXPECT(json && strstr(json, "\"nodes\":[]"));
	free(json);
	EXPECT(blkspace_property_get(conn, "missing", &value) == BLKSPACE_E_NOTFOUND);
	const char *keys[] = { "a", "now.b" }, *values[] = { "1", "two" };
	EXPECT(blkspace_property_set(conn, keys, values, 2, 0) == 0);
	EXPECT(blkspace_property_set(conn, keys + 1, values, 1, 0) == 0);
	EXPECT(blkspace_property_get(conn, "a", &value) == 0);
	EXPECT(value && strcmp(value, "1") == 0);
	free(value);
	EXPECT(blkspace_property_list_json(conn, &json) == 0);
	EXPECT(json && strstr(json, "{\"a\":\"1\",\"now.b\":\"1\"}"));
	free(json);
	EXPECT(blkspace_property_unset(conn, keys, 1, 0) == 0);
	EXPECT(blkspace_property_get(conn, "a", &value) == BLKSPACE_E_NOTFOUND);
	EXPECT(blkspace_log_list_json(conn, &json) == 0);
	EXPECT(json && strstr(json, "\"logs\":[{\"uuid\":\"log-a\""));
	free(json);
	EXPECT(blkspace_log_show_json(conn, "log-a", &json) == 0);
	EXPECT(json && strstr(json, "\"in_sync\":90,\"dirty\":12"));
	free(json);
	EXPECT(blkspace_log_show_json(conn, "log-b", &json) == BLKSPACE_E_NOTFOUND);
	EXPECT(blkspace_log_show_json(conn, "", &json) == BLKSPACE_E_INVALID);
	blkspace_disconnect(conn);
	return failures;
}

START_TEST(test_ipc_answers_queries_and_changes)
{
	run_client(queries_scenario);
	ck_assert_int_eq(node.submits, 3);
	ck_assert_int_eq(node.cancels, 0);
}
END_TEST

static int refusals_scenario(void)
{
	struct blkspace *conn = client();
	const char *keys[] = { "noquorum" }, *values[] = { "1" };
	EXPECT(blkspace_property_set(conn, keys, values, 1, 0) == BLKSPACE_E_NOQUORUM);
	blkspace_set_timeout(conn, 200);
	EXPECT(blkspace_property_set(conn, keys, values, 1, BLKSPACE_WAIT_QUORUM) ==
	       BLKSPACE_E_TIMEOUT);
	keys[0] = "hang";
	EXPECT(blkspace_property_unset(conn, keys, 1, 0) == BLKSPACE_E_TIMEOUT);
	EXPECT(blkspace_property_set(conn, keys, values, 0, 0) == BLKSPACE_E_INVALID);
	blkspace_disconnect(conn);
	return failures;
}

START_TEST(test_ipc_times_out_held_requests)
{
	run_client(refusals_scenario);
	ck_assert_int_eq(node.submits, 3);
	ck_assert_int_eq(node.cancels, 2);
}
END_TEST

static int vanish_scenario(void)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(service, IPC_MAX_MSG_BYTES);
	if (!c)
		return 100;
	uint8_t hang[] = { 1, 0, 4, 0, 'h', 'a', 'n', 'g' };
	struct ipc_req_header h = { .qb = { .id = IPC_REQ_PROPERTY_UNSET }, .version = 1 };
	h.qb.size = (int32_t)(sizeof(h) + sizeof(hang));
	struct iovec iov[2] = { { &h, sizeof(h) }, { hang, sizeof(hang) } };
	EXPECT(qb_ipcc_sendv(c, iov, 2) == h.qb.size);
	/* let the server hold it (no answer comes), then go away unanswered */
	static char answer[IPC_MAX_MSG_BYTES];
	EXPECT(qb_ipcc_recv(c, answer, sizeof(answer), 200) < 0);
	qb_ipcc_disconnect(c);
	return failures;
}

START_TEST(test_ipc_cancels_when_client_goes)
{
	run_client(vanish_scenario);
	/* the disconnect may be noticed after the child's exit: serve a bit */
	qb_loop_timer_handle th;
	qb_loop_timer_add(loop, QB_LOOP_LOW, 300 * QB_TIME_NS_IN_MSEC, NULL, on_stop, &th);
	qb_loop_run(loop);
	ck_assert_int_eq(node.submits, 1);
	ck_assert_int_eq(node.cancels, 1);
}
END_TEST

static int not_ready_scenario(void)
{
	struct blkspace *conn = client();
	char *json = NULL;
	EXPECT(blkspace_status_json(conn, 0, &json) == BLKSPACE_E_NOTREADY);
	blkspace_disconnect(conn);
	return failures;
}

START_TEST(test_ipc_not_ready_before_attach)
{
	teardown();
	setup_server(getegid(), false);
	run_client(not_ready_scenario);
}
END_TEST

static int outsider_scenario(void)
{
	if (geteuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setgroups(0, NULL) < 0 ||
	                       setresuid(65534, 65534, 65534) < 0))
		return 100;
	struct blkspace *conn = NULL;
	EXPECT(blkspace_connect_service(service, &conn) == BLKSPACE_E_UNREACHABLE);
	return failures;
}

START_TEST(test_ipc_refuses_outsiders)
{
	teardown();
	setup_server((gid_t)-1, true);
	run_client(outsider_scenario);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 20);
}

int main(void)
{
	Suite *s = suite_create("ipc");
	add_case(s, "test_ipc_create_fails_on_taken_name", test_ipc_create_fails_on_taken_name);
	add_case(s, "test_ipc_rejects_malformed_requests", test_ipc_rejects_malformed_requests);
	add_case(s, "test_ipc_checks_confirm_fenced", test_ipc_checks_confirm_fenced);
	add_case(s, "test_ipc_answers_queries_and_changes", test_ipc_answers_queries_and_changes);
	add_case(s, "test_ipc_times_out_held_requests", test_ipc_times_out_held_requests);
	add_case(s, "test_ipc_cancels_when_client_goes", test_ipc_cancels_when_client_goes);
	add_case(s, "test_ipc_not_ready_before_attach", test_ipc_not_ready_before_attach);
	add_case(s, "test_ipc_refuses_outsiders", test_ipc_refuses_outsiders);
	return check_run(s);
}
