/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the daemon's JSON documents (daemon/status-json.c): the
 * schema of status, node list and property list, how ready and primary
 * follow the control domain's phase, and how the node list merges the
 * configured nodes with the replicated node table. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <blkspace/errors.h>

#include "check-util.h"
#include "status-json.h"

static struct node_status st;
static struct control_state cs;
static struct json_object *doc;

static void setup(void)
{
	memset(&st, 0, sizeof(st));
	st.nodeid = 2;
	strcpy(st.name, "n2");
	st.incarnation = 9;
	st.transport = "sim";
	st.active_logs = 2;
	st.quorum.quorate = true;
	st.quorum.n_nodes = 3;
	for (uint32_t i = 0; i < 3; i++) {
		st.quorum.nodes[i].nodeid = 3 - i; /* unsorted on purpose */
		snprintf(st.quorum.nodes[i].name, sizeof(st.quorum.nodes[i].name), "cfg%u", 3 - i);
		st.quorum.nodes[i].member = i != 0;
	}
	st.control.phase = DOMAIN_ACTIVE;
	st.control.epoch = 5;
	st.control.seq = 40;
	st.control.writer = 1;
	st.control.cluster_size = 3;
	st.control.n_members = 2;
	st.control.members[0] = (struct domain_member_status){ .nodeid = 1, .received = 40 };
	st.control.members[1] = (struct domain_member_status){ .nodeid = 2, .received = 39 };
	nodes_init(&cs.nodes);
	props_init(&cs.props);
	doc = NULL;
}

static void teardown(void)
{
	json_object_put(doc);
	nodes_done(&cs.nodes);
	props_done(&cs.props);
}

static void load(int rc, char *text)
{
	ck_assert_int_eq(rc, 0);
	json_object_put(doc);
	doc = json_tokener_parse(text);
	free(text);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(doc, "api_version")), 1);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member '%s'", key);
	return v;
}

static int64_t get_int(struct json_object *o, const char *key)
{
	return json_object_get_int64(get(o, key));
}

static bool get_bool(struct json_object *o, const char *key)
{
	return json_object_get_boolean(get(o, key));
}

static void load_status(unsigned flags)
{
	char *text = NULL;
	int rc = status_json_status(&st, &cs, flags, &text);
	load(rc, text);
}

START_TEST(test_status_json_status_schema)
{
	load_status(0);
	struct json_object *node = get(doc, "node");
	ck_assert_int_eq(get_int(node, "id"), 2);
	ck_assert_str_eq(json_object_get_string(get(node, "name")), "n2");
	ck_assert_int_eq(get_int(node, "incarnation"), 9);
	ck_assert(get_bool(doc, "ready") && get_bool(doc, "quorate") && get_bool(doc, "primary"));
	ck_assert_int_eq(json_object_array_length(get(doc, "members")), 2);
	ck_assert_int_eq(get_int(doc, "cluster_size"), 3);
	ck_assert_int_eq(get_int(doc, "epoch"), 5);
	ck_assert_int_eq(get_int(doc, "seq"), 40);
	ck_assert_int_eq(get_int(doc, "writer"), 1);
	ck_assert_str_eq(json_object_get_string(get(doc, "transport")), "sim");
	ck_assert_int_eq(get_int(doc, "active_mirror_logs"), 2);
	struct json_object *journal;
	ck_assert(json_object_object_get_ex(doc, "journal_error", &journal));
	ck_assert_ptr_null(journal); /* null: the journal is written */
	struct json_object *direct;
	ck_assert(json_object_object_get_ex(doc, "direct", &direct));
	ck_assert_ptr_null(direct); /* null: receipts go by the group alone */
	struct json_object *control = get(doc, "control");
	ck_assert_str_eq(json_object_get_string(get(control, "phase")), "active");
	static const char *const fields[] = { "epoch",    "seq",    "logged",    "promise", "durable_seq",
		                              "safe_seq", "writer", "receiving", "pending" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		get(control, fields[i]);
	ck_assert_int_eq(get_int(control, "undecided_at"), 0);
	ck_assert(!json_object_object_get_ex(control, "members", NULL));
	ck_assert(!json_object_object_get_ex(doc, "nodes", NULL));
}
END_TEST

START_TEST(test_status_json_status_full)
{
	load_status(BLKSPACE_STATUS_FULL);
	struct json_object *members = get(get(doc, "control"), "members");
	ck_assert_int_eq(json_object_array_length(members), 2);
	ck_assert_int_eq(get_int(json_object_array_get_idx(members, 1), "id"), 2);
	ck_assert_int_eq(get_int(json_object_array_get_idx(members, 1), "received"), 39);
	ck_assert_int_eq(json_object_array_length(get(doc, "nodes")), 3);
}
END_TEST

START_TEST(test_status_json_ready_follows_phase)
{
	static const struct {
		enum domain_phase phase;
		bool receiving, ready, primary;
	} cases[] = {
		{ DOMAIN_OUTSIDE, false, false, false }, { DOMAIN_SYNC, false, false, false },
		{ DOMAIN_EPOCH, false, false, false },   { DOMAIN_ACTIVE, false, true, true },
		{ DOMAIN_ACTIVE, true, false, false },   { DOMAIN_INQUORATE, false, true, false },
		{ DOMAIN_INQUORATE, true, false, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st.control.phase = cases[i].phase;
		st.control.receiving = cases[i].receiving;
		load_status(0);
		ck_assert_msg(get_bool(doc, "ready") == cases[i].ready, "case %zu ready", i);
		ck_assert_msg(get_bool(doc, "primary") == cases[i].primary, "case %zu primary", i);
	}
}
END_TEST

START_TEST(test_status_json_journal_error)
{
	st.journal_error = -ENOSPC;
	load_status(0);
	ck_assert_str_eq(json_object_get_string(get(doc, "journal_error")),
	                 blkspace_strerror(-ENOSPC));
}
END_TEST

START_TEST(test_status_json_direct)
{
	st.direct = (struct transport_direct_counts){ .on = true, .port = 5409, .sent = 7,
		                                      .send_failed = 1, .received = 6, .rejected = 2 };
	load_status(0);
	struct json_object *direct = get(doc, "direct");
	ck_assert_int_eq(get_int(direct, "port"), 5409);
	ck_assert_int_eq(get_int(direct, "sent"), 7);
	ck_assert_int_eq(get_int(direct, "send_failed"), 1);
	ck_assert_int_eq(get_int(direct, "received"), 6);
	ck_assert_int_eq(get_int(direct, "rejected"), 2);
}
END_TEST

START_TEST(test_status_json_node_list_merges)
{
	uint32_t members[] = { 1, 2, 7 };
	nodes_apply_membership(&cs.nodes, 5, members, 3);
	struct wbuf w;
	wbuf_init(&w);
	nodes_encode_hello(&w, 4, "hello7");
	ck_assert_int_eq(nodes_apply_hello(&cs.nodes, 7, w.data, w.len), 0);
	wbuf_done(&w);
	char *text = NULL;
	int rc = status_json_node_list(&st.quorum, &cs, &text);
	load(rc, text);
	struct json_object *nodes = get(doc, "nodes");
	ck_assert_int_eq(json_object_array_length(nodes), 4);
	static const struct {
		uint32_t id;
		const char *name;
		bool configured, online, member;
	} want[] = {
		{ 1, "cfg1", true, true, true },
		{ 2, "cfg2", true, true, true },
		{ 3, "cfg3", true, false, false },
		{ 7, "hello7", false, false, true },
	};
	for (size_t i = 0; i < 4; i++) {
		struct json_object *e = json_object_array_get_idx(nodes, i);
		ck_assert_int_eq(get_int(e, "id"), want[i].id);
		ck_assert_str_eq(json_object_get_string(get(e, "name")), want[i].name);
		ck_assert(get_bool(e, "configured") == want[i].configured);
		ck_assert(get_bool(e, "online") == want[i].online);
		ck_assert(get_bool(e, "member") == want[i].member);
	}
	ck_assert_int_eq(get_int(json_object_array_get_idx(nodes, 3), "incarnation"), 4);
}
END_TEST

START_TEST(test_status_json_node_list_before_start)
{
	char *text = NULL;
	int rc = status_json_node_list(&st.quorum, NULL, &text);
	load(rc, text);
	struct json_object *nodes = get(doc, "nodes");
	ck_assert_int_eq(json_object_array_length(nodes), 3);
	ck_assert(!get_bool(json_object_array_get_idx(nodes, 0), "member"));
}
END_TEST

START_TEST(test_status_json_property_list_sorted)
{
	char *text = NULL;
	int rc = status_json_property_list(NULL, &text);
	load(rc, text);
	ck_assert_int_eq(json_object_object_length(get(doc, "properties")), 0);
	struct wbuf w;
	wbuf_init(&w);
	const char *keys[] = { "zeta", "alpha", "mid" };
	const char *values[] = { "3", "1", "quote\"and\\slash/" };
	props_encode_request(&w, keys, values, 3);
	ck_assert_int_eq(props_apply(&cs.props, w.data, w.len, 1), 0);
	wbuf_done(&w);
	rc = status_json_property_list(&cs, &text);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(text, "\"alpha\":\"1\",\"mid\":"));
	load(rc, text);
	struct json_object *props = get(doc, "properties");
	ck_assert_str_eq(json_object_get_string(get(props, "mid")), values[2]);
	ck_assert_str_eq(json_object_get_string(get(props, "zeta")), "3");
}
END_TEST

static void fill_log(struct node_log_info *l, const char *uuid, bool recovering)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->uuid, uuid);
	l->disk = true;
	strcpy(l->dev, "/dev/vg/log");
	l->region_size = 1024;
	l->region_count = 64;
	l->resumed = l->initialized = l->has_domain = true;
	l->in_sync = 60;
	l->marked = 3;
	l->dirty = 5;
	l->recoverer = recovering ? 3 : 0;
	l->recovering = recovering ? 17 : 0;
	l->n_registry = 2;
	l->registry[0] = 1;
	l->registry[1] = 3;
	l->n_quorum = 1;
	l->quorum[0] = 2;
	l->domain = st.control;
}

START_TEST(test_status_json_log_list_sorted_with_counts)
{
	struct node_log_info logs[2];
	fill_log(&logs[0], "zz-log", false);
	fill_log(&logs[1], "aa-log", true);
	logs[1].n_fencing = 2;
	logs[1].fencing[0] = (struct node_log_fencing){ .nodeid = 4, .regions = 2 };
	logs[1].fencing[1] = (struct node_log_fencing){ .nodeid = 5, .regions = 1 };
	logs[1].domain.lifted = true;
	char *text = NULL;
	int rc = status_json_log_list(logs, 2, &text);
	load(rc, text);
	struct json_object *a = get(doc, "logs");
	ck_assert_int_eq(json_object_array_length(a), 2);
	struct json_object *first = json_object_array_get_idx(a, 0);
	ck_assert_str_eq(json_object_get_string(get(first, "uuid")), "aa-log");
	ck_assert_str_eq(json_object_get_string(get(first, "type")), "clustered-disk");
	ck_assert_int_eq(get_int(first, "regions"), 64);
	ck_assert_int_eq(get_int(first, "in_sync"), 60);
	ck_assert_int_eq(get_int(first, "dirty"), 5);
	ck_assert_int_eq(get_int(first, "writer"), 1);
	ck_assert_int_eq(get_int(get(first, "recovering"), "region"), 17);
	ck_assert_int_eq(get_int(get(first, "recovering"), "node"), 3);
	ck_assert_int_eq(json_object_array_length(get(first, "members")), 2);
	ck_assert_int_eq(json_object_get_int64(json_object_array_get_idx(get(first, "registered"), 1)), 3);
	ck_assert_int_eq(json_object_array_length(get(first, "quorum_set")), 1);
	ck_assert_int_eq(json_object_get_int64(json_object_array_get_idx(get(first, "quorum_set"), 0)), 2);
	ck_assert(json_object_get_boolean(get(first, "quorum_vouched")));
	struct json_object *second = json_object_array_get_idx(a, 1), *rec;
	ck_assert(json_object_object_get_ex(second, "recovering", &rec));
	ck_assert_ptr_null(rec); /* JSON null: nothing is being resynced */
	struct json_object *fencing = get(first, "awaiting_fencing");
	ck_assert_int_eq(json_object_array_length(fencing), 2);
	ck_assert_int_eq(get_int(json_object_array_get_idx(fencing, 1), "node"), 5);
	ck_assert_int_eq(get_int(json_object_array_get_idx(fencing, 1), "regions"), 1);
	ck_assert_int_eq(json_object_array_length(get(second, "awaiting_fencing")), 0);
	ck_assert(!json_object_get_boolean(get(second, "quorum_vouched")));
	rc = status_json_log_list(NULL, 0, &text);
	load(rc, text);
	ck_assert_int_eq(json_object_array_length(get(doc, "logs")), 0);
}
END_TEST

START_TEST(test_status_json_log_show_without_domain)
{
	struct node_log_info l;
	fill_log(&l, "core-log", false);
	l.disk = false;
	l.dev[0] = '\0';
	l.has_domain = false;
	char *text = NULL;
	int rc = status_json_log_show(&l, &text);
	load(rc, text);
	struct json_object *o = get(doc, "log");
	ck_assert_str_eq(json_object_get_string(get(o, "type")), "clustered-core");
	ck_assert_str_eq(json_object_get_string(get(o, "phase")), "none");
	ck_assert_int_eq(get_int(o, "writer"), 0);
	ck_assert_int_eq(json_object_array_length(get(o, "members")), 0);
	ck_assert_int_eq(get_int(doc, "api_version"), BLKSPACE_API_VERSION);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("status_json");
	add_case(s, "test_status_json_status_schema", test_status_json_status_schema);
	add_case(s, "test_status_json_status_full", test_status_json_status_full);
	add_case(s, "test_status_json_ready_follows_phase", test_status_json_ready_follows_phase);
	add_case(s, "test_status_json_journal_error", test_status_json_journal_error);
	add_case(s, "test_status_json_direct", test_status_json_direct);
	add_case(s, "test_status_json_node_list_merges", test_status_json_node_list_merges);
	add_case(s, "test_status_json_node_list_before_start",
	         test_status_json_node_list_before_start);
	add_case(s, "test_status_json_property_list_sorted", test_status_json_property_list_sorted);
	add_case(s, "test_status_json_log_list_sorted_with_counts",
	         test_status_json_log_list_sorted_with_counts);
	add_case(s, "test_status_json_log_show_without_domain", test_status_json_log_show_without_domain);
	return check_run(s);
}
