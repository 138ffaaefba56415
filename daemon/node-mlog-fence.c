/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fencing news for the mirror logs of this node: which departed nodes'
 * marks wait for a fencing confirmation, and passing a confirmation on to
 * every log that waits for it (as MLOG_OP_FENCED, ordered in each log's
 * domain like any other operation). Where the news comes from is the
 * caller's business: fence-watch.c (Pacemaker's fencer, or fencing = none),
 * `blkspace node confirm-fenced`, or the simulator's fencer. */
#include "config.h"

#include "node-mlog.h"

#include <errno.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

static const struct mlog_state *active_replica(const struct mlog_local *l)
{
	return l->has_domain && domain_is_active(l->nd.domain) ? mlog_replica(l) : NULL;
}

int node_fence_confirmed(struct node *n, uint32_t nodeid)
{
	int count = 0;
	node_note_fenced(n, nodeid);
	struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link) {
		const struct mlog_state *s = active_replica(l);
		const struct mlog_departed *d = s ? mlog_departed_of(s, nodeid) : NULL;
		if (!d)
			continue;
		struct wbuf w;
		wbuf_init(&w);
		mlog_encode_fenced(&w, nodeid, d->departure);
		int rc = wbuf_error(&w) ? wbuf_error(&w) : mlog_submit(l, MLOG_OP_FENCED, w.data, w.len, NULL);
		wbuf_done(&w);
		if (rc < 0) {
			qb_log(LOG_ERR, "log %s: cannot pass on that node %u was fenced: %s", l->uuid, nodeid,
			       blkspace_strerror(rc));
			return rc;
		}
		size_t marked = mlog_regions_marked_by(s, nodeid);
		qb_log(LOG_NOTICE, "log %s: node %u was fenced, the %zu region%s it had marked resync%s",
		       l->uuid, nodeid, marked, marked == 1 ? "" : "s", marked == 1 ? "s" : "");
		count++;
	}
	return count;
}

size_t node_fence_waiting(const struct node *n, bool writer_only, uint32_t *nodeids, size_t max)
{
	size_t count = 0;
	const struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link) {
		const struct mlog_state *s = active_replica(l);
		if (!s || (writer_only && domain_writer(l->nd.domain) != n->nodeid))
			continue;
		for (size_t i = 0; i < s->n_departed; i++) {
			bool known = false;
			for (size_t k = 0; k < count; k++)
				known |= nodeids[k] == s->departed[i].nodeid;
			if (!known && count < max)
				nodeids[count++] = s->departed[i].nodeid;
		}
	}
	return count;
}
