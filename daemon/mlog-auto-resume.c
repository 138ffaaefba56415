/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See mlog-auto-resume.h. */
#include "config.h"

#include "mlog-auto-resume.h"

#include "helper-run.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qblog.h>

#define POLL_NS (1000ULL * 1000 * 1000) /* 1 s */
#define MAX_WATCHED 64


struct watched {
	char uuid[ULOG_UUID_LEN];
	unsigned stalled_polls;
	pid_t child; /* 0: none running */
	bool tried; /* no new try until this stall is over */
	bool seen;
};

struct auto_resume {
	struct auto_resume_params p;
	qb_loop_timer_handle timer;
	struct watched w[MAX_WATCHED];
	size_t n;
	unsigned started;
	int last_status;
};

static struct watched *watched_find(struct auto_resume *a, const char *uuid)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->w[i].uuid, uuid) == 0)
			return &a->w[i];
	if (a->n == MAX_WATCHED)
		return NULL;
	struct watched *w = &a->w[a->n++];
	memset(w, 0, sizeof(*w));
	snprintf(w->uuid, sizeof(w->uuid), "%s", uuid);
	return w;
}

static void start_child(struct auto_resume *a, struct watched *w)
{
	char path[PATH_MAX + 32];
	helper_path(a->p.helper, AUTO_RESUME_HELPER, path, sizeof(path));
	char *argv[] = { path, w->uuid, NULL };
	pid_t pid;
	int rc = helper_start(argv, &pid);
	if (rc != 0) {
		qb_log(LOG_ERR, "log %s: cannot run %s to restart its resync: %s", w->uuid, path,
		       strerror(rc));
		w->tried = true;
		return;
	}
	w->child = pid;
	w->tried = true;
	a->started++;
	qb_log(LOG_NOTICE, "log %s: suspending and resuming the mirror here to restart its resync",
	       w->uuid);
}

static void reap_child(struct auto_resume *a, struct watched *w)
{
	int status;
	int r = helper_reap(w->child, &status);
	if (r == 0)
		return;
	w->child = 0;
	w->stalled_polls = 0;
	a->last_status = status;
	if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		qb_log(LOG_NOTICE, "log %s: the mirror was resumed, its resync goes on", w->uuid);
		return;
	}
	qb_log(LOG_ERR, "log %s: %s failed (status %d): suspend and resume the mirror by hand",
	       w->uuid, AUTO_RESUME_HELPER, status);
}

/* One log: count how long it has been stalled while we are its writer. */
static void watch_log(struct auto_resume *a, const struct node_log_info *info, uint32_t me)
{
	struct watched *w = watched_find(a, info->uuid);
	if (!w)
		return;
	w->seen = true;
	if (w->child) {
		reap_child(a, w);
		return;
	}
	bool stalled = info->resync_needs_resume && info->has_domain && info->domain.writer == me;
	w->stalled_polls = stalled ? w->stalled_polls + 1 : 0;
	w->tried &= stalled;
	if (w->stalled_polls >= AUTO_RESUME_STALL_POLLS && !w->tried)
		start_child(a, w);
}

void auto_resume_poll(struct auto_resume *a)
{
	struct node_status st;
	node_get_status(a->p.node, &st);
	for (size_t i = 0; i < a->n; i++)
		a->w[i].seen = false;
	struct node_log_info info;
	for (size_t i = 0; node_log_info(a->p.node, i, &info) == 0; i++)
		watch_log(a, &info, st.nodeid);
	/* forget logs that are gone, once their child is reaped */
	for (size_t i = 0; i < a->n;) {
		if (!a->w[i].seen && a->w[i].child)
			reap_child(a, &a->w[i]);
		if (!a->w[i].seen && !a->w[i].child)
			a->w[i] = a->w[--a->n];
		else
			i++;
	}
}

static void on_poll(void *data)
{
	struct auto_resume *a = data;
	auto_resume_poll(a);
	qb_loop_timer_add(a->p.loop, QB_LOOP_LOW, POLL_NS, a, on_poll, &a->timer);
}

int auto_resume_create(const struct auto_resume_params *p, struct auto_resume **ret)
{
	struct auto_resume *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->p = *p;
	a->last_status = -1;
	if (p->loop &&
	    qb_loop_timer_add(p->loop, QB_LOOP_LOW, POLL_NS, a, on_poll, &a->timer) != 0) {
		free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void auto_resume_destroy(struct auto_resume *a)
{
	if (!a)
		return;
	if (a->p.loop)
		qb_loop_timer_del(a->p.loop, a->timer);
	free(a);
}

unsigned auto_resume_started(const struct auto_resume *a) { return a->started; }

int auto_resume_last_status(const struct auto_resume *a) { return a->last_status; }
