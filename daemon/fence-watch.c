/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See fence-watch.h. */
#include "config.h"

#include "fence-watch.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "helper-run.h"

#define POLL_NS (1000ULL * 1000 * 1000) /* 1 s */

enum { CHECK_FENCED = 0, CHECK_NOT_FENCED = 1, CHECK_CANNOT_ASK = 2 };

struct waiting {
	uint32_t nodeid;
	time_t since;    /* when it left, as far as we know (wall clock) */
	pid_t child;     /* 0: no query running */
	unsigned idle;   /* polls since the last query ended */
	bool warned;     /* said that we cannot ask */
	bool seen;
};

struct fence_watch {
	struct fence_watch_params p;
	qb_loop_timer_handle timer;
	struct waiting w[DOMAIN_MAX_MEMBERS];
	size_t n;
	unsigned queries, confirmed;
};

/* Every member notes when it first sees a node waiting, so a writer that
 * takes over later still knows roughly when the node left. outside: it is
 * wanted because a log's quorum rule refuses the nodes here without it. */
static struct waiting *waiting_find(struct fence_watch *f, uint32_t nodeid, bool outside)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->w[i].nodeid == nodeid)
			return &f->w[i];
	if (f->n == DOMAIN_MAX_MEMBERS)
		return NULL;
	struct waiting *w = &f->w[f->n++];
	memset(w, 0, sizeof(*w));
	w->nodeid = nodeid;
	w->since = time(NULL) - FENCE_SINCE_SLACK_S;
	w->idle = FENCE_RETRY_POLLS; /* ask at once */
	if (outside)
		qb_log(LOG_WARNING, "node %u is outside the cluster while a mirror log here lacks a "
		       "majority: %s", nodeid, f->p.mode == FENCING_NONE
		       ? "fencing = none takes that as its fencing" : "asking whether it was fenced");
	else
		qb_log(LOG_WARNING, "node %u left mirror logs with regions marked: %s", nodeid,
		       f->p.mode == FENCING_NONE ? "fencing = none takes that as its fencing, they resync now"
		                                 : "they resync once it is known to be fenced");
	return w;
}

static void confirm(struct fence_watch *f, struct waiting *w)
{
	int rc = node_fence_confirmed(f->p.node, w->nodeid);
	if (rc > 0)
		f->confirmed++;
	else if (rc < 0)
		qb_log(LOG_ERR, "node %u was fenced, but the mirror logs cannot take it in: %s",
		       w->nodeid, blkspace_strerror(rc));
}

static void start_query(struct fence_watch *f, struct waiting *w)
{
	char path[PATH_MAX + 32], id[16], since[32];
	helper_path(f->p.helper, FENCE_CHECK_HELPER, path, sizeof(path));
	snprintf(id, sizeof(id), "%u", w->nodeid);
	snprintf(since, sizeof(since), "%lld", (long long)w->since);
	char *argv[] = { path, id, since, NULL };
	int rc = helper_start(argv, &w->child);
	w->idle = 0;
	if (rc != 0) {
		w->child = 0;
		if (!w->warned)
			qb_log(LOG_ERR, "cannot run %s to ask whether node %u was fenced: %s", path,
			       w->nodeid, strerror(rc));
		w->warned = true;
		return;
	}
	f->queries++;
}

/* A query ended: 0 fenced since it left, 1 not yet, 2 cannot ask. */
static void reap_query(struct fence_watch *f, struct waiting *w)
{
	int status;
	if (helper_reap(w->child, &status) == 0)
		return;
	w->child = 0;
	int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == CHECK_FENCED && w->seen) {
		qb_log(LOG_NOTICE, "Pacemaker's fencer fenced node %u after it left", w->nodeid);
		confirm(f, w);
	} else if (code != CHECK_NOT_FENCED && !w->warned && w->seen) {
		w->warned = true;
		qb_log(LOG_ERR, "cannot ask Pacemaker's fencer whether node %u was fenced (%s exit "
		                "status %d): once it is off, run 'blkspace node confirm-fenced %u'",
		       w->nodeid, FENCE_CHECK_HELPER, code, w->nodeid);
	}
}

/* The writer asks (or, with fencing = none, confirms at once). */
static void act(struct fence_watch *f, struct waiting *w)
{
	if (f->p.mode == FENCING_NONE)
		confirm(f, w);
	else if (w->child)
		reap_query(f, w);
	else if (++w->idle >= FENCE_RETRY_POLLS)
		start_query(f, w);
}

void fence_watch_poll(struct fence_watch *f)
{
	uint32_t ids[DOMAIN_MAX_MEMBERS], mine[DOMAIN_MAX_MEMBERS], out[QUORUM_MAX_NODES];
	size_t n = node_fence_waiting(f->p.node, false, ids, DOMAIN_MAX_MEMBERS);
	size_t n_mine = node_fence_waiting(f->p.node, true, mine, DOMAIN_MAX_MEMBERS);
	size_t n_out = node_fence_outside_wanted(f->p.node, out, QUORUM_MAX_NODES);
	for (size_t i = 0; i < f->n; i++)
		f->w[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct waiting *w = waiting_find(f, ids[i], false);
		if (w)
			w->seen = true;
	}
	for (size_t i = 0; i < n_out; i++) {
		struct waiting *w = waiting_find(f, out[i], true);
		if (w)
			w->seen = true;
	}
	for (size_t i = 0; i < n_mine; i++) {
		struct waiting *w = waiting_find(f, mine[i], false);
		if (w)
			act(f, w);
	}
	/* every member asks for the nodes outside: each vouches for itself */
	for (size_t i = 0; i < n_out; i++) {
		struct waiting *w = waiting_find(f, out[i], true);
		if (w && !nodeid_in(mine, n_mine, out[i]))
			act(f, w);
	}
	/* forget nodes nobody waits for any more, once their query is reaped */
	for (size_t i = 0; i < f->n;) {
		struct waiting *w = &f->w[i];
		if (!w->seen && w->child)
			reap_query(f, w);
		if (!w->seen && !w->child)
			*w = f->w[--f->n];
		else
			i++;
	}
}

static void on_poll(void *data)
{
	struct fence_watch *f = data;
	fence_watch_poll(f);
	qb_loop_timer_add(f->p.loop, QB_LOOP_LOW, POLL_NS, f, on_poll, &f->timer);
}

int fence_watch_create(const struct fence_watch_params *p, struct fence_watch **ret)
{
	struct fence_watch *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->p = *p;
	if (p->loop && qb_loop_timer_add(p->loop, QB_LOOP_LOW, POLL_NS, f, on_poll, &f->timer) != 0) {
		free(f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

void fence_watch_destroy(struct fence_watch *f)
{
	if (!f)
		return;
	if (f->p.loop)
		qb_loop_timer_del(f->p.loop, f->timer);
	free(f);
}

unsigned fence_watch_queries(const struct fence_watch *f) { return f->queries; }

unsigned fence_watch_confirmed(const struct fence_watch *f) { return f->confirmed; }
