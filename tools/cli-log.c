/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace log list|show: the mirror logs this node serves, from the
 * daemon's JSON (doc/blkspace.8). Text output is a table or key: value
 * lines; JSON output is the daemon's document. */
#include "config.h"

#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

/* "1,2,3" from an array of node ids, "-" when empty. */
static void format_ids(struct json_object *a, char *out, size_t outsz)
{
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < outsz; i++) {
		int w = snprintf(out + used, outsz - used, "%s%" PRIu64, i ? "," : "",
		                 json_object_get_uint64(json_object_array_get_idx(a, i)));
		used += w > 0 ? (size_t)w : 0;
	}
	if (!n)
		snprintf(out, outsz, "-");
}

static void format_recovering(struct json_object *log, char *out, size_t outsz)
{
	struct json_object *r = cli_json_get(log, "recovering");
	if (r && json_object_is_type(r, json_type_object))
		snprintf(out, outsz, "%" PRIu64 " (node %" PRIu64 ")", cli_json_u64(r, "region"),
		         cli_json_u64(r, "node"));
	else
		snprintf(out, outsz, "none");
}

static void print_table(struct json_object *logs)
{
	size_t n = json_object_is_type(logs, json_type_array) ? json_object_array_length(logs) : 0;
	printf("%-36s %-14s %10s %10s %10s %6s %s\n", "UUID", "TYPE", "REGIONS", "IN-SYNC", "DIRTY",
	       "WRITER", "MEMBERS");
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(logs, i);
		char members[256];
		format_ids(cli_json_get(l, "members"), members, sizeof(members));
		printf("%-36s %-14s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %6" PRIu64 " %s\n",
		       cli_json_str(l, "uuid"), cli_json_str(l, "type"), cli_json_u64(l, "regions"),
		       cli_json_u64(l, "in_sync"), cli_json_u64(l, "dirty"), cli_json_u64(l, "writer"),
		       members);
	}
}

/* One line per departed node whose marked regions wait for its fencing. */
static void print_fencing(struct json_object *l)
{
	struct json_object *a = cli_json_get(l, "awaiting_fencing");
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *f = json_object_array_get_idx(a, i);
		uint64_t regions = cli_json_u64(f, "regions");
		printf("waiting for fencing: node %" PRIu64 " (%" PRIu64 " marked region%s)\n",
		       cli_json_u64(f, "node"), regions, regions == 1 ? "" : "s");
	}
}

static void print_details(struct json_object *l)
{
	char members[256], registered[256], quorum[256], recovering[64];
	format_ids(cli_json_get(l, "members"), members, sizeof(members));
	format_ids(cli_json_get(l, "registered"), registered, sizeof(registered));
	format_ids(cli_json_get(l, "quorum_set"), quorum, sizeof(quorum));
	format_recovering(l, recovering, sizeof(recovering));
	const char *dev = cli_json_str(l, "device");
	printf("uuid:        %s\n", cli_json_str(l, "uuid"));
	printf("type:        %s\n", cli_json_str(l, "type"));
	printf("device:      %s\n", dev[0] ? dev : "-");
	printf("regions:     %" PRIu64 " of %" PRIu64 " sectors\n", cli_json_u64(l, "regions"),
	       cli_json_u64(l, "region_size"));
	printf("in sync:     %" PRIu64 "\n", cli_json_u64(l, "in_sync"));
	printf("dirty:       %" PRIu64 " (%" PRIu64 " marked)\n", cli_json_u64(l, "dirty"),
	       cli_json_u64(l, "marked"));
	printf("recovering:  %s\n", recovering);
	printf("resumed:     %s\n", cli_json_bool(l, "resumed") ? "yes" : "no");
	printf("disk failed: %s\n", cli_json_bool(l, "disk_failed") ? "yes" : "no");
	if (cli_json_bool(l, "resync_needs_resume"))
		printf("resync:      waits for the next resume of the mirror on this node\n");
	printf("domain:      %s, epoch %" PRIu64 ", seq %" PRIu64 "\n", cli_json_str(l, "phase"),
	       cli_json_u64(l, "epoch"), cli_json_u64(l, "seq"));
	printf("writer:      %" PRIu64 "\n", cli_json_u64(l, "writer"));
	printf("members:     %s\n", members);
	printf("registered:  %s\n", registered);
	printf("quorum set:  %s\n", quorum);
	if (cli_json_bool(l, "quorum_vouched"))
		printf("quorum:      without a majority of the set: its absent nodes are fenced\n");
	print_fencing(l);
}

/* Fetch a document with call, print it (JSON, or with text), exit code. */
static int show_doc(const struct cli_args *a, int rc, char *text, const char *what,
                    void (*print_text)(struct json_object *doc))
{
	struct json_object *doc = NULL;
	if (rc == 0)
		rc = cli_json_parse(text, &doc);
	free(text);
	if (rc < 0)
		return cli_fail(what, rc);
	if (a->format == CLI_FORMAT_JSON)
		cli_json_print(doc);
	else
		print_text(doc);
	json_object_put(doc);
	return CLI_EXIT_OK;
}

static void print_list(struct json_object *doc)
{
	struct json_object *logs = cli_json_get(doc, "logs");
	if (logs)
		print_table(logs);
}

static void print_one(struct json_object *doc)
{
	struct json_object *log = cli_json_get(doc, "log");
	if (log)
		print_details(log);
}

int cli_log_list(const struct cli_args *a)
{
	struct blkspace *conn = NULL;
	char *text = NULL;
	int rc = cli_connect(a, 0, &conn);
	if (rc == 0)
		rc = blkspace_log_list_json(conn, &text);
	blkspace_disconnect(conn);
	return show_doc(a, rc, text, "cannot list the mirror logs", print_list);
}

int cli_log_show(const struct cli_args *a)
{
	const char *uuid = a->operands[0];
	struct blkspace *conn = NULL;
	char *text = NULL;
	int rc = cli_connect(a, 0, &conn);
	if (rc == 0)
		rc = blkspace_log_show_json(conn, uuid, &text);
	blkspace_disconnect(conn);
	if (rc == BLKSPACE_E_NOTFOUND) {
		cli_error("no mirror log '%s' on this node", uuid);
		return CLI_EXIT_ERROR;
	}
	return show_doc(a, rc, text, "cannot show the mirror log", print_one);
}
