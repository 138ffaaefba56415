/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel requests for mirror logs: one handler per dm-log-userspace request
 * type. Constructor, destructor, suspend, region size, in-sync, sync count
 * and status are answered from this node; marks, flushes with marks, clean
 * checks, resync work and region sync go through the log domain and are
 * answered once safe; clears are answered at once (a lost clear only costs a
 * resync). Every payload is checked against its type's exact size. */
#include "config.h"

#include "node-mlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

typedef void (*kernel_handler)(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                               const struct ulog_origin *from);

static void reply(struct node *n, const struct ulog_origin *to, int error, const void *data,
                  size_t len)
{
	n->p.kernel_reply(n->p.kernel_host, to, error, data, len);
}

/* A payload that does not fit its type: one log line, -EINVAL to the kernel. */
static void refuse_payload(struct node *n, const struct mlog_local *l,
                           const struct ulog_request *rq, const struct ulog_origin *from)
{
	qb_log(LOG_WARNING, "log %s: %s with a bad payload of %u bytes, refusing", l->uuid,
	       ulog_type_name(rq->type), rq->data_size);
	reply(n, from, -EINVAL, NULL, 0);
}

static void reply_u64(struct node *n, const struct ulog_origin *to, uint64_t v)
{
	reply(n, to, 0, &v, sizeof(v));
}

static struct mlog_local *find_log(struct node *n, const char *uuid, uint64_t luid)
{
	struct mlog_local *l, *any = NULL;
	LIST_FOREACH(l, &n->logs, link) {
		if (strcmp(l->uuid, uuid) != 0)
			continue;
		if (l->luid == luid)
			return l;
		any = l;
	}
	return any;
}

void mlog_group_name(const char *uuid, char *out, size_t outsz)
{
	snprintf(out, outsz, MLOG_GROUP_PREFIX "%016llx",
	         (unsigned long long)fnv64(FNV64_INIT, uuid, strlen(uuid)));
}

/* --- constructor -------------------------------------------------------------------- */

static bool parse_u64(const char *word, uint64_t *ret)
{
	char *end;
	if (!word || *word < '0' || *word > '9')
		return false;
	errno = 0;
	*ret = strtoull(word, &end, 10);
	return *end == '\0' && errno == 0;
}

/* "<sectors> clustered-core <rs> [sync|nosync] [block_on_error]" or
 * "<sectors> clustered-disk <dev> <rs> [sync|nosync] [block_on_error]". */
int mlog_ctr_parse(const char *args, struct mlog_ctr *c)
{
	char buf[512], *save = NULL;
	uint64_t v;
	if (strlen(args) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, args);
	memset(c, 0, sizeof(*c));
	const char *w = strtok_r(buf, " ", &save);
	if (!parse_u64(w, &c->target_sectors) || c->target_sectors == 0)
		return -EINVAL;
	w = strtok_r(NULL, " ", &save);
	if (!w || (strcmp(w, "clustered-disk") != 0 && strcmp(w, "clustered-core") != 0))
		return -EINVAL;
	c->disk = strcmp(w, "clustered-disk") == 0;
	if (c->disk) {
		w = strtok_r(NULL, " ", &save);
		if (!w || strlen(w) >= sizeof(c->dev))
			return -EINVAL;
		strcpy(c->dev, w);
	}
	if (!parse_u64(strtok_r(NULL, " ", &save), &v) || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	c->region_size = (uint32_t)v;
	while ((w = strtok_r(NULL, " ", &save))) {
		if (strcmp(w, "sync") == 0 && c->sync == MLOG_SYNC_DEFAULT)
			c->sync = MLOG_SYNC_FORCE;
		else if (strcmp(w, "nosync") == 0 && c->sync == MLOG_SYNC_DEFAULT)
			c->sync = MLOG_SYNC_NONE;
		else if (strcmp(w, "block_on_error") == 0 && !c->block_on_error)
			c->block_on_error = true;
		else
			return -EINVAL;
	}
	c->region_count = c->target_sectors / c->region_size + (c->target_sectors % c->region_size != 0);
	return c->region_count <= MLOG_MAX_REGIONS ? 0 : -E2BIG;
}

/* The constructor string arrives without a NUL on first construction and
 * with one on a reconnect: accept both, and nothing else. */
static int ctr_string(const struct ulog_request *rq, char *out, size_t outsz)
{
	size_t len = rq->data_size;
	if (len && rq->data[len - 1] == '\0')
		len--;
	if (len == 0 || len >= outsz || memchr(rq->data, '\0', len))
		return -EINVAL;
	memcpy(out, rq->data, len);
	out[len] = '\0';
	return 0;
}

static void on_ctr(struct node *n, struct mlog_local *old, const struct ulog_request *rq,
                   const struct ulog_origin *from)
{
	char args[512];
	struct mlog_ctr c;
	int rc = ctr_string(rq, args, sizeof(args));
	if (rc == 0)
		rc = mlog_ctr_parse(args, &c);
	if (rc < 0) {
		qb_log(LOG_WARNING, "log %s: bad constructor '%.*s', refusing", rq->uuid,
		       (int)(rq->data_size < 200 ? rq->data_size : 200), (const char *)rq->data);
		reply(n, from, -EINVAL, NULL, 0);
		return;
	}
	struct mlog_local *l = old && old->luid == rq->luid ? old : calloc(1, sizeof(*l));
	if (!l) {
		reply(n, from, -ENOMEM, NULL, 0);
		return;
	}
	if (l != old) {
		l->node = n;
		strcpy(l->uuid, rq->uuid);
		l->luid = rq->luid;
		LIST_INIT(&l->waiting);
		LIST_INSERT_HEAD(&n->logs, l, link);
	}
	l->ctr = c;
	l->reconnected = rq->data[rq->data_size - 1] == '\0'; /* see ctr_string() */
	qb_log(LOG_INFO, "log %s: constructed (%s, %llu regions of %u sectors)", l->uuid,
	       c.disk ? "clustered-disk" : "clustered-core", (unsigned long long)c.region_count,
	       c.region_size);
	/* the kernel opens the log device we name (protocol 2 and later) */
	reply(n, from, 0, c.disk ? c.dev : NULL, c.disk ? strlen(c.dev) + 1 : 0);
}

static void free_log(struct mlog_local *l)
{
	mlog_domain_close(l);
	LIST_REMOVE(l, link);
	free(l);
}

static void on_dtr(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                   const struct ulog_origin *from)
{
	qb_log(LOG_INFO, "log %s: destroyed", l->uuid);
	free_log(l);
	reply(n, from, 0, NULL, 0);
}

/* --- suspend and resume ------------------------------------------------------------ */

static void on_presuspend(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                          const struct ulog_origin *from)
{
	reply(n, from, 0, NULL, 0);
}

static void on_postsuspend(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                           const struct ulog_origin *from)
{
	if (!l->has_domain) {
		reply(n, from, 0, NULL, 0);
		return;
	}
	l->resumed = false;
	l->suspend_pending = true;
	l->suspend_from = *from;
	if (mlog_submit_registration(l, MLOG_OP_UNREGISTER) < 0)
		node_domain_leave(&l->nd);
}

static void on_resume(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                      const struct ulog_origin *from)
{
	if (l->resumed) {
		reply(n, from, 0, NULL, 0);
		return;
	}
	struct mlog_local *other;
	LIST_FOREACH(other, &n->logs, link) {
		if (other != l && other->has_domain && strcmp(other->uuid, l->uuid) == 0) {
			qb_log(LOG_WARNING, "log %s: another table still holds the log, retrying later",
			       l->uuid);
			reply(n, from, -EAGAIN, NULL, 0);
			return;
		}
	}
	int rc = l->has_domain ? 0 : mlog_domain_open(l);
	if (rc < 0) {
		qb_log(LOG_ERR, "log %s: cannot join its cluster group: %s", l->uuid,
		       blkspace_strerror(rc));
		reply(n, from, rc, NULL, 0);
		return;
	}
	l->resume_pending = true; /* answered once registered and initialized */
	l->resume_from = *from;
}

/* --- questions answered here ---------------------------------------------------------- */

static bool get_region(const struct mlog_local *l, const struct ulog_request *rq, uint64_t *ret)
{
	if (rq->data_size != sizeof(*ret))
		return false;
	memcpy(ret, rq->data, sizeof(*ret));
	return *ret < l->ctr.region_count;
}

static void on_region_size(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                           const struct ulog_origin *from)
{
	reply_u64(n, from, l->ctr.region_size);
}

static void on_in_sync(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                       const struct ulog_origin *from)
{
	uint64_t region;
	if (!get_region(l, rq, &region)) {
		refuse_payload(n, l, rq, from);
		return;
	}
	/* Below the kernel's hint a region it believed in sync may have gone
	 * out of sync since (a node that wrote it died): the kernel will not ask
	 * whether it is being resynced, so it must write it as in sync, with a
	 * mark, which waits while the region is resynced elsewhere. */
	const struct mlog_state *s = mlog_replica(l);
	int64_t v = s && (mlog_is_in_sync(s, region) || region < l->kernel_hint);
	reply(n, from, 0, &v, sizeof(v));
}

static void on_sync_count(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                          const struct ulog_origin *from)
{
	const struct mlog_state *s = mlog_replica(l);
	uint64_t count = !s || !s->initialized ? 0 : s->sync_count;
	if (count >= l->ctr.region_count)
		l->kernel_hint = l->ctr.region_count; /* what the kernel concludes */
	reply_u64(n, from, count);
}

static void device_numbers(const char *dev, unsigned *maj, unsigned *min)
{
	struct stat st;
	unsigned a, b;
	*maj = *min = 0;
	if (sscanf(dev, "%u:%u", &a, &b) == 2) {
		*maj = a;
		*min = b;
	} else if (stat(dev, &st) == 0 && S_ISBLK(st.st_mode)) {
		*maj = major(st.st_rdev);
		*min = minor(st.st_rdev);
	}
}

/* As the kernel's tools expect them (and cmirrord printed them). */
static void on_status(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                      const struct ulog_origin *from)
{
	char out[300];
	unsigned maj, min;
	const struct mlog_state *s = mlog_replica(l);
	const struct mlog_ctr *c = &l->ctr;
	const char *sync = c->sync == MLOG_SYNC_FORCE ? "sync " : c->sync == MLOG_SYNC_NONE ? "nosync " : "";
	const char *boe = c->block_on_error ? "block_on_error " : "";
	device_numbers(c->dev, &maj, &min);
	if (rq->type == DM_ULOG_STATUS_INFO && !c->disk)
		snprintf(out, sizeof(out), "1 clustered-core");
	else if (rq->type == DM_ULOG_STATUS_INFO)
		snprintf(out, sizeof(out), "3 clustered-disk %u:%u %c", maj, min,
		         s && s->disk_failed ? 'D' : 'A');
	else if (!c->disk)
		snprintf(out, sizeof(out), "clustered-core %u %s%s", c->region_size, sync, boe);
	else
		snprintf(out, sizeof(out), "clustered-disk %u:%u %u %s%s", maj, min, c->region_size,
		         sync, boe);
	reply(n, from, 0, out, strlen(out) + 1);
}

/* --- questions for the cluster ------------------------------------------------------------ */

static void submit_or_fail(struct mlog_local *l, uint16_t op, const struct wbuf *w,
                           const struct ulog_origin *from)
{
	if (!l->has_domain) {
		qb_log(LOG_WARNING, "log %s: a request for the cluster before the log was resumed, "
		       "refusing", l->uuid);
		if (from)
			mlog_kernel_reply(l, from, -EINVAL, NULL, 0);
		return;
	}
	int rc = wbuf_error(w) ? wbuf_error(w) : mlog_submit(l, op, w->data, w->len, from);
	if (rc < 0 && from)
		mlog_kernel_reply(l, from, rc, NULL, 0);
	else if (rc < 0) /* a clear: the region stays marked until the node leaves the log */
		qb_log(LOG_WARNING, "log %s: cannot submit a clear: %s", l->uuid, blkspace_strerror(rc));
}

/* MARK, CLEAR and FLUSH carry host-order u64 regions. */
static int get_regions(const struct mlog_local *l, const struct ulog_request *rq, struct wbuf *w)
{
	size_t n = rq->data_size / 8;
	if (rq->data_size % 8 || n > MLOG_MAX_REGIONS_PER_OP)
		return -EINVAL;
	uint64_t regions[MLOG_MAX_REGIONS_PER_OP];
	if (n)
		memcpy(regions, rq->data, n * 8);
	for (size_t i = 0; i < n; i++)
		if (regions[i] >= l->ctr.region_count)
			return -EINVAL;
	mlog_encode_regions(w, regions, n);
	return (int)n;
}

static void on_regions(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                       const struct ulog_origin *from)
{
	struct wbuf w;
	wbuf_init(&w);
	int count = get_regions(l, rq, &w);
	if (count < 0 || (rq->type != DM_ULOG_FLUSH && count == 0)) {
		refuse_payload(n, l, rq, from);
	} else if (rq->type == DM_ULOG_FLUSH && count == 0) {
		reply(n, from, 0, NULL, 0); /* every mark was answered once on disk */
	} else if (rq->type == DM_ULOG_CLEAR_REGION) {
		submit_or_fail(l, MLOG_OP_CLEAR, &w, NULL);
		reply(n, from, 0, NULL, 0); /* a lost clear costs a resync, never data */
	} else {
		submit_or_fail(l, rq->type == DM_ULOG_FLUSH ? MLOG_OP_FLUSH : MLOG_OP_MARK, &w, from);
	}
	wbuf_done(&w);
}

static void on_region_question(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                               const struct ulog_origin *from)
{
	uint64_t region;
	if (!get_region(l, rq, &region)) {
		refuse_payload(n, l, rq, from);
		return;
	}
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u64(&w, region);
	submit_or_fail(l, rq->type == DM_ULOG_IS_CLEAN ? MLOG_OP_IS_CLEAN : MLOG_OP_IS_REMOTE_RECOVERING,
	               &w, from);
	wbuf_done(&w);
}

static void on_resync_work(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                           const struct ulog_origin *from)
{
	struct wbuf w;
	wbuf_init(&w);
	submit_or_fail(l, MLOG_OP_GET_RESYNC_WORK, &w, from);
	wbuf_done(&w);
}

static void on_set_sync(struct node *n, struct mlog_local *l, const struct ulog_request *rq,
                        const struct ulog_origin *from)
{
	uint64_t v[2];
	if (rq->data_size == sizeof(v))
		memcpy(v, rq->data, sizeof(v));
	if (rq->data_size != sizeof(v) || v[0] >= l->ctr.region_count) {
		refuse_payload(n, l, rq, from);
		return;
	}
	struct wbuf w;
	wbuf_init(&w);
	mlog_encode_set_sync(&w, v[0], (int64_t)v[1]);
	submit_or_fail(l, MLOG_OP_SET_REGION_SYNC, &w, from);
	wbuf_done(&w);
}

/* --- dispatch ---------------------------------------------------------------------- */

static const kernel_handler handlers[DM_ULOG_IS_REMOTE_RECOVERING + 1] = {
	[DM_ULOG_DTR] = on_dtr,
	[DM_ULOG_PRESUSPEND] = on_presuspend,
	[DM_ULOG_POSTSUSPEND] = on_postsuspend,
	[DM_ULOG_RESUME] = on_resume,
	[DM_ULOG_GET_REGION_SIZE] = on_region_size,
	[DM_ULOG_IS_CLEAN] = on_region_question,
	[DM_ULOG_IN_SYNC] = on_in_sync,
	[DM_ULOG_FLUSH] = on_regions,
	[DM_ULOG_MARK_REGION] = on_regions,
	[DM_ULOG_CLEAR_REGION] = on_regions,
	[DM_ULOG_GET_RESYNC_WORK] = on_resync_work,
	[DM_ULOG_SET_REGION_SYNC] = on_set_sync,
	[DM_ULOG_GET_SYNC_COUNT] = on_sync_count,
	[DM_ULOG_STATUS_INFO] = on_status,
	[DM_ULOG_STATUS_TABLE] = on_status,
	[DM_ULOG_IS_REMOTE_RECOVERING] = on_region_question,
};

/* A log this daemon was not asked to construct: after a restart of
 * blkspaced the kernel still runs its mirrors. -ESRCH makes it construct
 * and resume the log again and then repeat the request; there is nothing
 * to suspend or destroy; a resume without a constructor is an error. */
static void on_unknown_log(struct node *n, const struct ulog_request *rq,
                           const struct ulog_origin *from)
{
	switch (rq->type) {
	case DM_ULOG_DTR:
	case DM_ULOG_PRESUSPEND:
	case DM_ULOG_POSTSUSPEND:
		qb_log(LOG_INFO, "log %s: %s of a log not constructed here", rq->uuid,
		       ulog_type_name(rq->type));
		reply(n, from, 0, NULL, 0);
		break;
	case DM_ULOG_RESUME:
		qb_log(LOG_WARNING, "log %s: RESUME without a constructor, refusing", rq->uuid);
		reply(n, from, -EINVAL, NULL, 0);
		break;
	default:
		qb_log(LOG_WARNING, "log %s: %s for a log not constructed here, asking the kernel "
		       "to construct it again", rq->uuid, ulog_type_name(rq->type));
		reply(n, from, -ESRCH, NULL, 0);
		break;
	}
}

void node_mlog_request(struct node *n, const struct ulog_request *rq,
                       const struct ulog_origin *from)
{
	struct mlog_local *l = find_log(n, rq->uuid, rq->luid);
	if (!n->started || n->stopping) {
		reply(n, from, n->stopping ? -ESHUTDOWN : -EAGAIN, NULL, 0);
		return;
	}
	if (rq->type == DM_ULOG_CTR) {
		on_ctr(n, l, rq, from);
		return;
	}
	if (!l) {
		on_unknown_log(n, rq, from);
		return;
	}
	if (rq->type >= sizeof(handlers) / sizeof(handlers[0]) || !handlers[rq->type]) {
		qb_log(LOG_WARNING, "log %s: request type %u, refusing", rq->uuid, rq->type);
		reply(n, from, -EINVAL, NULL, 0);
		return;
	}
	handlers[rq->type](n, l, rq, from);
}

size_t node_mlog_active(const struct node *n)
{
	size_t count = 0;
	const struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link)
		count += l->resumed || l->resume_pending;
	return count;
}

void node_mlog_close_all(struct node *n)
{
	struct mlog_local *l;
	while ((l = LIST_FIRST(&n->logs)))
		free_log(l);
}
