/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON documents of the status, node list and property list requests.
 * A struct jdoc collects objects with a sticky error, as struct wbuf does,
 * so the builders read as a list of fields and check once at the end. */
#include "config.h"

#include "status-json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include <blkspace/blkspace.h>

struct jdoc {
	int error; /* 0 or -ENOMEM, sticky */
};

/* Add v under key to o; takes ownership of v (NULL latches -ENOMEM). */
static void put(struct jdoc *d, struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || !o || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		d->error = -ENOMEM;
	}
}

/* A string, or null when s is NULL. */
static void put_nullable(struct jdoc *d, struct json_object *o, const char *key, const char *s)
{
	if (s)
		put(d, o, key, json_object_new_string(s));
	else if (!o || json_object_object_add(o, key, NULL) < 0)
		d->error = -ENOMEM;
}

/* Append v to array a; takes ownership of v. */
static void append(struct jdoc *d, struct json_object *a, struct json_object *v)
{
	if (!v || !a || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		d->error = -ENOMEM;
	}
}

static struct json_object *new_u64(uint64_t v) { return json_object_new_uint64(v); }
static struct json_object *new_bool(bool v) { return json_object_new_boolean(v); }

static struct json_object *new_doc(struct jdoc *d)
{
	struct json_object *o = json_object_new_object();
	put(d, o, "api_version", json_object_new_int(BLKSPACE_API_VERSION));
	return o;
}

/* Serialise and release o. */
static int finish(struct jdoc *d, struct json_object *o, char **ret_json)
{
	int rc = d->error;
	if (rc == 0 && o) {
		const char *text = json_object_to_json_string_ext(
		        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		char *copy = text ? strdup(text) : NULL;
		if (copy)
			*ret_json = copy;
		else
			rc = -ENOMEM;
	} else if (rc == 0) {
		rc = -ENOMEM;
	}
	json_object_put(o);
	return rc;
}

bool status_is_ready(const struct node_status *st)
{
	enum domain_phase p = st->control.phase;
	return (p == DOMAIN_ACTIVE || p == DOMAIN_INQUORATE) && !st->control.receiving;
}

bool status_is_primary(const struct node_status *st)
{
	return st->control.phase == DOMAIN_ACTIVE && !st->control.receiving;
}

static struct json_object *control_object(struct jdoc *d, const struct domain_status *c,
                                          unsigned flags)
{
	struct json_object *o = json_object_new_object();
	put(d, o, "phase", json_object_new_string(domain_phase_name(c->phase)));
	put(d, o, "epoch", new_u64(c->epoch));
	put(d, o, "seq", new_u64(c->seq));
	put(d, o, "logged", new_u64(c->logged));
	put(d, o, "promise", new_u64(c->promise));
	put(d, o, "durable_seq", new_u64(c->durable_seq));
	put(d, o, "safe_seq", new_u64(c->safe_seq));
	put(d, o, "undecided_at", new_u64(c->undecided_at));
	put(d, o, "writer", new_u64(c->writer));
	put(d, o, "receiving", new_bool(c->receiving));
	put(d, o, "pending", new_u64(c->pending));
	if (!(flags & BLKSPACE_STATUS_FULL))
		return o;
	struct json_object *members = json_object_new_array();
	for (size_t i = 0; i < c->n_members && i < DOMAIN_MAX_MEMBERS; i++) {
		struct json_object *m = json_object_new_object();
		put(d, m, "id", new_u64(c->members[i].nodeid));
		put(d, m, "received", new_u64(c->members[i].received));
		append(d, members, m);
	}
	put(d, o, "members", members);
	return o;
}

static struct json_object *node_object(struct jdoc *d, const struct node_status *st)
{
	struct json_object *o = json_object_new_object();
	put(d, o, "id", new_u64(st->nodeid));
	put(d, o, "name", json_object_new_string(st->name));
	put(d, o, "incarnation", new_u64(st->incarnation));
	return o;
}

static struct json_object *member_ids(struct jdoc *d, const struct domain_status *c)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < c->n_members && i < DOMAIN_MAX_MEMBERS; i++)
		append(d, a, new_u64(c->members[i].nodeid));
	return a;
}

static struct json_object *nodes_array(struct jdoc *d, const struct quorum_view *q,
                                       const struct control_state *cs);

/* The direct receipts' path (null when receipts go by corosync alone). */
static struct json_object *direct_object(struct jdoc *d, const struct transport_direct_counts *c)
{
	struct json_object *o = json_object_new_object();
	put(d, o, "port", new_u64(c->port));
	put(d, o, "sent", new_u64(c->sent));
	put(d, o, "send_failed", new_u64(c->send_failed));
	put(d, o, "received", new_u64(c->received));
	put(d, o, "rejected", new_u64(c->rejected));
	return o;
}

int status_json_status(const struct node_status *st, const struct control_state *cs,
                       unsigned flags, char **ret_json)
{
	struct jdoc d = { 0 };
	const struct domain_status *c = &st->control;
	struct json_object *o = new_doc(&d);
	put(&d, o, "node", node_object(&d, st));
	put(&d, o, "ready", new_bool(status_is_ready(st)));
	put(&d, o, "quorate", new_bool(st->quorum.quorate));
	put(&d, o, "primary", new_bool(status_is_primary(st)));
	put(&d, o, "members", member_ids(&d, c));
	put(&d, o, "cluster_size", new_u64(c->cluster_size));
	put(&d, o, "epoch", new_u64(c->epoch));
	put(&d, o, "seq", new_u64(c->seq));
	put(&d, o, "writer", new_u64(c->writer));
	put(&d, o, "transport", json_object_new_string(st->transport ? st->transport : ""));
	put(&d, o, "active_mirror_logs", new_u64(st->active_logs));
	put_nullable(&d, o, "journal_error",
	             st->journal_error ? blkspace_strerror(st->journal_error) : NULL);
	if (st->direct.on)
		put(&d, o, "direct", direct_object(&d, &st->direct));
	else
		put_nullable(&d, o, "direct", NULL);
	put(&d, o, "control", control_object(&d, c, flags));
	if (flags & BLKSPACE_STATUS_FULL)
		put(&d, o, "nodes", nodes_array(&d, &st->quorum, cs));
	return finish(&d, o, ret_json);
}

/* ---- node list: the configured nodes merged with the replicated table ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted, distinct node ids of both sources into ids[]; returns the count. */
static size_t merge_ids(const struct quorum_view *q, const struct nodes *t, uint32_t *ids)
{
	size_t n = 0, out = 0;
	for (size_t i = 0; i < q->n_nodes && i < QUORUM_MAX_NODES; i++)
		ids[n++] = q->nodes[i].nodeid;
	for (size_t i = 0; t && i < t->n; i++)
		ids[n++] = t->items[i].nodeid;
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	return out;
}

static const struct quorum_node *quorum_find(const struct quorum_view *q, uint32_t id)
{
	for (size_t i = 0; i < q->n_nodes && i < QUORUM_MAX_NODES; i++)
		if (q->nodes[i].nodeid == id)
			return &q->nodes[i];
	return NULL;
}

static struct json_object *merged_node(struct jdoc *d, const struct quorum_node *qn,
                                       const struct node_entry *e, uint32_t id)
{
	const char *name = qn && qn->name[0] ? qn->name : e ? e->name : "";
	struct json_object *o = json_object_new_object();
	put(d, o, "id", new_u64(id));
	put(d, o, "name", json_object_new_string(name));
	put(d, o, "configured", new_bool(qn != NULL));
	put(d, o, "online", new_bool(qn && qn->member));
	put(d, o, "member", new_bool(e && e->member));
	put(d, o, "incarnation", new_u64(e ? e->incarnation : 0));
	return o;
}

static struct json_object *nodes_array(struct jdoc *d, const struct quorum_view *q,
                                       const struct control_state *cs)
{
	const struct nodes *t = cs ? &cs->nodes : NULL;
	uint32_t *ids = calloc(QUORUM_MAX_NODES + (t ? t->n : 0) + 1, sizeof(*ids));
	if (!ids)
		return NULL;
	struct json_object *a = json_object_new_array();
	size_t n = merge_ids(q, t, ids);
	for (size_t i = 0; i < n; i++)
		append(d, a, merged_node(d, quorum_find(q, ids[i]), t ? nodes_get(t, ids[i]) : NULL,
		                         ids[i]));
	free(ids);
	return a;
}

int status_json_node_list(const struct quorum_view *q, const struct control_state *cs,
                          char **ret_json)
{
	struct jdoc d = { 0 };
	struct json_object *o = new_doc(&d);
	put(&d, o, "nodes", nodes_array(&d, q, cs));
	return finish(&d, o, ret_json);
}

int status_json_property_list(const struct control_state *cs, char **ret_json)
{
	struct jdoc d = { 0 };
	struct json_object *o = new_doc(&d);
	struct json_object *props = json_object_new_object();
	/* The table is sorted by key and json-c keeps insertion order. */
	for (size_t i = 0; cs && i < cs->props.n; i++) {
		const struct prop *p = &cs->props.items[i];
		put(&d, props, p->key, json_object_new_string(p->value));
	}
	put(&d, o, "properties", props);
	return finish(&d, o, ret_json);
}

/* ---- mirror logs ---- */

static struct json_object *u32_array(struct jdoc *d, const uint32_t *ids, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		append(d, a, new_u64(ids[i]));
	return a;
}

/* "recovering": {"region", "node"} or null when no region is being resynced. */
static void put_recovering(struct jdoc *d, struct json_object *o, const struct node_log_info *l)
{
	if (!l->recoverer) {
		put_nullable(d, o, "recovering", NULL);
		return;
	}
	struct json_object *r = json_object_new_object();
	put(d, r, "region", new_u64(l->recovering));
	put(d, r, "node", new_u64(l->recoverer));
	put(d, o, "recovering", r);
}

/* "awaiting_fencing": [{"node", "regions"}], departed nodes whose marks
 * wait for their fencing; [] when none. */
static struct json_object *fencing_array(struct jdoc *d, const struct node_log_info *l)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < l->n_fencing && i < DOMAIN_MAX_MEMBERS; i++) {
		struct json_object *f = json_object_new_object();
		put(d, f, "node", new_u64(l->fencing[i].nodeid));
		put(d, f, "regions", new_u64(l->fencing[i].regions));
		append(d, a, f);
	}
	return a;
}

static struct json_object *log_object(struct jdoc *d, const struct node_log_info *l)
{
	const struct domain_status *ds = &l->domain;
	size_t n_members = l->has_domain ? ds->n_members : 0;
	uint32_t members[DOMAIN_MAX_MEMBERS];
	for (size_t i = 0; i < n_members && i < DOMAIN_MAX_MEMBERS; i++)
		members[i] = ds->members[i].nodeid;
	struct json_object *o = json_object_new_object();
	put(d, o, "uuid", json_object_new_string(l->uuid));
	put(d, o, "type", json_object_new_string(l->disk ? "clustered-disk" : "clustered-core"));
	put(d, o, "device", json_object_new_string(l->dev));
	put(d, o, "region_size", new_u64(l->region_size));
	put(d, o, "regions", new_u64(l->region_count));
	put(d, o, "resumed", new_bool(l->resumed));
	put(d, o, "initialized", new_bool(l->initialized));
	put(d, o, "in_sync", new_u64(l->in_sync));
	put(d, o, "dirty", new_u64(l->dirty));
	put(d, o, "marked", new_u64(l->marked));
	put_recovering(d, o, l);
	put(d, o, "disk_failed", new_bool(l->disk_failed));
	put(d, o, "resync_needs_resume", new_bool(l->resync_needs_resume));
	put(d, o, "phase", json_object_new_string(l->has_domain ? domain_phase_name(ds->phase) : "none"));
	put(d, o, "epoch", new_u64(l->has_domain ? ds->epoch : 0));
	put(d, o, "seq", new_u64(l->has_domain ? ds->seq : 0));
	put(d, o, "writer", new_u64(l->has_domain ? ds->writer : 0));
	put(d, o, "members", u32_array(d, members, n_members));
	put(d, o, "registered", u32_array(d, l->registry, l->n_registry));
	put(d, o, "quorum_set", u32_array(d, l->quorum, l->n_quorum));
	put(d, o, "quorum_vouched", new_bool(l->has_domain && ds->lifted));
	put(d, o, "awaiting_fencing", fencing_array(d, l));
	return o;
}

static int cmp_log_uuid(const void *a, const void *b)
{
	return strcmp(((const struct node_log_info *)a)->uuid, ((const struct node_log_info *)b)->uuid);
}

int status_json_log_list(struct node_log_info *logs, size_t n, char **ret_json)
{
	struct jdoc d = { 0 };
	if (n)
		qsort(logs, n, sizeof(*logs), cmp_log_uuid);
	struct json_object *o = new_doc(&d);
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		append(&d, a, log_object(&d, &logs[i]));
	put(&d, o, "logs", a);
	return finish(&d, o, ret_json);
}

int status_json_log_show(const struct node_log_info *log, char **ret_json)
{
	struct jdoc d = { 0 };
	struct json_object *o = new_doc(&d);
	put(&d, o, "log", log_object(&d, log));
	return finish(&d, o, ret_json);
}
