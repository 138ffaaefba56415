/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace status and blkspace node list|confirm-fenced: fetch the daemon's
 * JSON document, print it as text or as it is, and turn ready/primary into
 * the exit code. status --wait polls (also while the daemon is not reachable
 * yet). */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#define POLL_INTERVAL_MS 500

static const char *yes_no(bool v) { return v ? "yes" : "no"; }

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void print_node_table(struct json_object *nodes)
{
	size_t n = nodes ? json_object_array_length(nodes) : 0;
	int width = 4;
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(cli_json_str(json_object_array_get_idx(nodes, i), "name"));
		width = len > width ? len : width;
	}
	printf("%-10s %-*s %-10s %-6s %-6s %s\n", "ID", width, "NAME", "CONFIGURED", "ONLINE",
	       "MEMBER", "INCARNATION");
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(nodes, i);
		const char *name = cli_json_str(e, "name");
		printf("%-10" PRIu64 " %-*s %-10s %-6s %-6s %" PRIu64 "\n", cli_json_u64(e, "id"),
		       width, *name ? name : "-", yes_no(cli_json_bool(e, "configured")),
		       yes_no(cli_json_bool(e, "online")), yes_no(cli_json_bool(e, "member")),
		       cli_json_u64(e, "incarnation"));
	}
}

static void print_members(const char *label, struct json_object *ids)
{
	size_t n = ids ? json_object_array_length(ids) : 0;
	printf("%s", label);
	for (size_t i = 0; i < n; i++)
		printf(" %" PRIu64, (uint64_t)json_object_get_uint64(json_object_array_get_idx(ids, i)));
	printf("%s\n", n ? "" : " none");
}

static void print_status_full(struct json_object *doc, struct json_object *control)
{
	struct json_object *members = cli_json_get(control, "members");
	size_t n = members ? json_object_array_length(members) : 0;
	printf("Control domain members:\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(members, i);
		printf("  %" PRIu64 ": received %" PRIu64 "\n", cli_json_u64(m, "id"),
		       cli_json_u64(m, "received"));
	}
	printf("Nodes:\n");
	print_node_table(cli_json_get(doc, "nodes"));
}

static void print_direct(struct json_object *direct)
{
	if (!direct) {
		printf("Direct receipts: off (receipts go by corosync alone)\n");
		return;
	}
	printf("Direct receipts: UDP port %" PRIu64 ", sent %" PRIu64 " (%" PRIu64 " failed), "
	       "received %" PRIu64 ", rejected %" PRIu64 "\n", cli_json_u64(direct, "port"),
	       cli_json_u64(direct, "sent"), cli_json_u64(direct, "send_failed"),
	       cli_json_u64(direct, "received"), cli_json_u64(direct, "rejected"));
}

static void print_status(struct json_object *doc, bool full)
{
	struct json_object *node = cli_json_get(doc, "node");
	struct json_object *control = cli_json_get(doc, "control");
	printf("Node: %s (id %" PRIu64 ", incarnation %" PRIu64 ")\n", cli_json_str(node, "name"),
	       cli_json_u64(node, "id"), cli_json_u64(node, "incarnation"));
	printf("Ready: %s\n", yes_no(cli_json_bool(doc, "ready")));
	printf("Quorate: %s\n", yes_no(cli_json_bool(doc, "quorate")));
	printf("Primary: %s\n", yes_no(cli_json_bool(doc, "primary")));
	print_members("Members:", cli_json_get(doc, "members"));
	printf("Cluster size: %" PRIu64 "\n", cli_json_u64(doc, "cluster_size"));
	printf("Epoch: %" PRIu64 ", seq %" PRIu64 "\n", cli_json_u64(doc, "epoch"),
	       cli_json_u64(doc, "seq"));
	printf("Writer: %" PRIu64 "\n", cli_json_u64(doc, "writer"));
	printf("Transport: %s\n", cli_json_str(doc, "transport"));
	printf("Active mirror logs: %" PRIu64 "\n", cli_json_u64(doc, "active_mirror_logs"));
	print_direct(cli_json_get(doc, "direct"));
	const char *journal = cli_json_str(doc, "journal_error");
	if (journal[0])
		printf("Journal: cannot be written (%s): this node acknowledges nothing new until it "
		       "can\n", journal);
	printf("Control domain: %s, promise %" PRIu64 ", logged %" PRIu64 ", durable seq %" PRIu64
	       ", safe seq %" PRIu64 ", pending %" PRIu64 "%s\n",
	       cli_json_str(control, "phase"), cli_json_u64(control, "promise"),
	       cli_json_u64(control, "logged"), cli_json_u64(control, "durable_seq"),
	       cli_json_u64(control, "safe_seq"), cli_json_u64(control, "pending"),
	       cli_json_bool(control, "receiving") ? ", receiving state" : "");
	uint64_t part = cli_json_u64(control, "undecided_at");
	if (part)
		printf("Waiting: the members' logs part at seq %" PRIu64 " and a node that is not here "
		       "may have applied either; one must return\n", part);
	if (full)
		print_status_full(doc, control);
}

static bool is_done(struct json_object *doc)
{
	return cli_json_bool(doc, "ready") && cli_json_bool(doc, "quorate") &&
	       cli_json_bool(doc, "primary");
}

/* One status query on a connection opened here. */
static int fetch_status(const struct cli_args *a, unsigned flags, int timeout_ms,
                        struct json_object **ret_doc)
{
	struct blkspace *conn = NULL;
	char *text = NULL;
	int rc = cli_connect(a, timeout_ms, &conn);
	if (rc == 0)
		rc = blkspace_status_json(conn, flags, &text);
	blkspace_disconnect(conn);
	if (rc == 0)
		rc = cli_json_parse(text, ret_doc);
	free(text);
	return rc;
}

/* Poll until ready, quorate and primary. Returns 0, or BLKSPACE_E_TIMEOUT
 * with the last document (if any) in *ret_doc, or the last error. */
static int wait_status(const struct cli_args *a, unsigned flags, struct json_object **ret_doc)
{
	int64_t deadline = now_ms() + (int64_t)a->wait_s * 1000;
	struct json_object *doc = NULL;
	for (;;) {
		int64_t left = deadline - now_ms();
		int call_ms = left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int)left;
		struct json_object *d = NULL;
		int rc = fetch_status(a, flags, call_ms, &d);
		if (rc == 0) {
			json_object_put(doc);
			doc = d;
		}
		left = deadline - now_ms();
		if ((rc == 0 && is_done(doc)) || left <= 0) {
			*ret_doc = doc;
			return rc == 0 && is_done(doc) ? 0 : doc ? BLKSPACE_E_TIMEOUT : rc;
		}
		sleep_ms(left < POLL_INTERVAL_MS ? left : POLL_INTERVAL_MS);
	}
}

/* Exit code of a status: 0 ready and primary, 2 ready only, 1 not ready. */
static int status_code(struct json_object *doc)
{
	if (!cli_json_bool(doc, "ready"))
		return CLI_EXIT_ERROR;
	return cli_json_bool(doc, "primary") ? CLI_EXIT_OK : CLI_EXIT_FALSE;
}

int cli_status(const struct cli_args *a)
{
	unsigned flags = (a->full ? BLKSPACE_STATUS_FULL : 0) | (a->local ? BLKSPACE_STATUS_LOCAL : 0);
	struct json_object *doc = NULL;
	int rc = a->wait_s >= 0 ? wait_status(a, flags, &doc) : fetch_status(a, flags, 0, &doc);
	if (!doc)
		return cli_fail("cannot read the status of blkspaced", rc);
	if (!a->quiet && a->format == CLI_FORMAT_JSON)
		cli_json_print(doc);
	else if (!a->quiet)
		print_status(doc, a->full);
	int code = status_code(doc);
	json_object_put(doc);
	if (rc == BLKSPACE_E_TIMEOUT) {
		cli_error("the node is not ready, quorate and primary after %d seconds", a->wait_s);
		return CLI_EXIT_TIMEOUT;
	}
	return code;
}

int cli_node_list(const struct cli_args *a)
{
	struct blkspace *conn = NULL;
	char *text = NULL;
	struct json_object *doc = NULL;
	int rc = cli_connect(a, 0, &conn);
	if (rc == 0)
		rc = blkspace_node_list_json(conn, &text);
	blkspace_disconnect(conn);
	if (rc == 0)
		rc = cli_json_parse(text, &doc);
	free(text);
	if (rc < 0)
		return cli_fail("cannot list the nodes", rc);
	if (a->format == CLI_FORMAT_JSON)
		cli_json_print(doc);
	else
		print_node_table(cli_json_get(doc, "nodes"));
	json_object_put(doc);
	return CLI_EXIT_OK;
}

static int print_confirm_json(uint32_t nodeid, unsigned logs)
{
	return cli_json_print_pair("node", json_object_new_uint64(nodeid), "logs",
	                           json_object_new_uint64(logs));
}

int cli_node_confirm_fenced(const struct cli_args *a)
{
	struct blkspace *conn = NULL;
	unsigned logs = 0;
	int rc = cli_connect(a, 0, &conn);
	if (rc == 0)
		rc = blkspace_node_confirm_fenced(conn, a->nodeid, &logs);
	blkspace_disconnect(conn);
	if (rc == 0 && a->format == CLI_FORMAT_JSON)
		rc = print_confirm_json(a->nodeid, logs);
	else if (rc == 0)
		printf("node %" PRIu32 ": fencing confirmed to %u mirror log%s\n", a->nodeid, logs,
		       logs == 1 ? "" : "s");
	return rc < 0 ? cli_fail("cannot confirm the fencing of the node", rc) : CLI_EXIT_OK;
}
