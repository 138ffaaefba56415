/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What blkspace log list/show report about the mirror logs of this node:
 * a snapshot of each log's constructor and its local replica. */
#include "config.h"

#include "node-mlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Regions not clean: out of sync, or in sync and marked by some node. */
static uint64_t dirty_regions(const struct mlog_state *s)
{
	uint64_t dirty = s->region_count - s->sync_count;
	for (size_t i = 0; i < s->n_marks; i++) {
		bool first = i == 0 || s->marks[i].region != s->marks[i - 1].region;
		dirty += first && mlog_is_in_sync(s, s->marks[i].region);
	}
	return dirty;
}

static void fill_replica(struct node_log_info *out, const struct mlog_state *s)
{
	out->initialized = s->initialized;
	if (!s->initialized)
		return;
	out->in_sync = s->sync_count;
	out->marked = mlog_marked_regions(s);
	out->dirty = dirty_regions(s);
	out->recoverer = s->recoverer;
	out->recovering = s->recoverer ? s->recovering : 0;
	out->disk_failed = s->disk_failed;
	out->n_registry = s->n_registry;
	memcpy(out->registry, s->registry, s->n_registry * sizeof(s->registry[0]));
	out->n_quorum = s->n_quorum;
	memcpy(out->quorum, s->quorum, s->n_quorum * sizeof(s->quorum[0]));
	out->n_fencing = s->n_departed;
	for (size_t i = 0; i < s->n_departed; i++) {
		out->fencing[i].nodeid = s->departed[i].nodeid;
		out->fencing[i].regions = mlog_regions_marked_by(s, s->departed[i].nodeid);
	}
}

static void fill(const struct mlog_local *l, struct node_log_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->uuid, sizeof(out->uuid), "%s", l->uuid);
	out->disk = l->ctr.disk;
	snprintf(out->dev, sizeof(out->dev), "%s", l->ctr.disk ? l->ctr.dev : "");
	out->region_size = l->ctr.region_size;
	out->region_count = l->ctr.region_count;
	out->resumed = l->resumed;
	out->has_domain = l->has_domain;
	if (!l->has_domain)
		return;
	domain_get_status(l->nd.domain, &out->domain);
	fill_replica(out, mlog_replica(l));
	out->resync_needs_resume = mlog_resync_needs_resume(l);
}

size_t node_log_count(const struct node *n)
{
	size_t count = 0;
	const struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link)
		count++;
	return count;
}

int node_log_info(const struct node *n, size_t i, struct node_log_info *out)
{
	const struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link) {
		if (i-- == 0) {
			fill(l, out);
			return 0;
		}
	}
	return -ENOENT;
}

int node_log_find(const struct node *n, const char *uuid, struct node_log_info *out)
{
	const struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link) {
		if (strcmp(l->uuid, uuid) == 0) {
			fill(l, out);
			return 0;
		}
	}
	return -ENOENT;
}
