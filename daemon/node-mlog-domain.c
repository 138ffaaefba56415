/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The log domain of a resumed mirror: joining, registering, the writer's
 * initial bitmap and disk writes, and answering the kernel.
 *
 * The writer (lowest member) writes the clean bitmap before its receipt for
 * every batch that changed it, counting marks already logged but not yet
 * applied as dirty: a mark is answered only once safe, i.e. once the writer's
 * receipt covers it, so the disk shows it dirty before the kernel writes.
 * Clears reach the disk only once applied. */
#include "config.h"

#include "node-mlog.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

const struct mlog_state *mlog_replica(const struct mlog_local *l)
{
	return l->has_domain ? domain_service_state(l->nd.domain) : NULL;
}

void mlog_kernel_reply(struct mlog_local *l, const struct ulog_origin *to, int error,
                       const void *data, size_t len)
{
	struct node *n = l->node;
	n->p.kernel_reply(n->p.kernel_host, to, error, data, len);
}

static void free_wait(struct mlog_wait *w)
{
	free(w->body);
	free(w);
}

static int submit_wait(struct mlog_local *l, struct mlog_wait *w, const void *body, size_t len)
{
	w->token = l->node->next_token++;
	return domain_submit(l->nd.domain, w->op, body, len, DOMAIN_WAIT_QUORUM, w->token);
}

/* A kernel's mark keeps its body: it may have to wait for a resync. */
static bool keeps_body(uint16_t op, const struct ulog_origin *from)
{
	return from && (op == MLOG_OP_MARK || op == MLOG_OP_FLUSH);
}

int mlog_submit(struct mlog_local *l, uint16_t op, const void *body, size_t len,
                const struct ulog_origin *from)
{
	struct mlog_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->op = op;
	if (from)
		w->from = *from;
	if (keeps_body(op, from) && len) {
		w->body = malloc(len);
		if (!w->body) {
			free(w);
			return -ENOMEM;
		}
		memcpy(w->body, body, len);
		w->len = len;
	}
	int rc = submit_wait(l, w, body, len);
	if (rc < 0) {
		free_wait(w);
		return rc;
	}
	LIST_INSERT_HEAD(&l->waiting, w, link);
	return 0;
}

int mlog_submit_registration(struct mlog_local *l, uint16_t op)
{
	struct wbuf w;
	wbuf_init(&w);
	if (op == MLOG_OP_REGISTER)
		mlog_encode_register(&w, l->instance,
		                     l->reconnected || l->registered_once ? 0 : MLOG_REGISTER_FRESH);
	else
		wbuf_put_u64(&w, l->instance);
	int rc = wbuf_error(&w) ? wbuf_error(&w) : mlog_submit(l, op, w.data, w.len, NULL);
	wbuf_done(&w);
	return rc;
}

/* Marks held back by a resync elsewhere go again once it is over. */
static void resubmit_held(struct mlog_local *l)
{
	const struct mlog_state *s = mlog_replica(l);
	uint64_t regions[MLOG_MAX_REGIONS_PER_OP];
	struct mlog_wait *w, *next;
	for (w = LIST_FIRST(&l->waiting); w; w = next) {
		next = LIST_NEXT(w, link);
		if (w->token)
			continue;
		int n = mlog_decode_regions(w->body, w->len, regions, MLOG_MAX_REGIONS_PER_OP);
		if (n > 0 && mlog_recovering_elsewhere(s, l->node->nodeid, regions, (size_t)n))
			continue;
		int rc = submit_wait(l, w, w->body, w->len);
		if (rc < 0) {
			LIST_REMOVE(w, link);
			mlog_kernel_reply(l, &w->from, rc, NULL, 0);
			free_wait(w);
		}
	}
}

static bool waiting_for(const struct mlog_local *l, uint16_t op)
{
	const struct mlog_wait *w;
	LIST_FOREACH(w, &l->waiting, link)
		if (w->op == op)
			return true;
	return false;
}

/* --- the writer ---------------------------------------------------------------------- */

/* The lowest member of a log someone registered: a node alone in a
 * partition where nobody opened the log (it may not, without quorum) must
 * not read or write the shared disk log that others use elsewhere. */
static bool is_writer(const struct mlog_local *l)
{
	return l->has_domain && domain_is_active(l->nd.domain) &&
	       domain_writer(l->nd.domain) == l->node->nodeid && mlog_replica(l)->n_registry;
}

struct pending_marks {
	uint64_t regions[4096];
	size_t n;
	bool overflow;
};

static void collect_mark(void *data, uint32_t origin, uint16_t op, const uint8_t *body, size_t len)
{
	struct pending_marks *pm = data;
	uint64_t regions[MLOG_MAX_REGIONS_PER_OP];
	if (op != MLOG_OP_MARK && op != MLOG_OP_FLUSH)
		return;
	int n = mlog_decode_regions(body, len, regions, MLOG_MAX_REGIONS_PER_OP);
	for (int i = 0; i < n; i++) {
		if (pm->n == sizeof(pm->regions) / sizeof(pm->regions[0]))
			pm->overflow = true;
		else
			pm->regions[pm->n++] = regions[i];
	}
}

static int open_disk(struct mlog_local *l)
{
	struct node *n = l->node;
	if (l->disk)
		return 0;
	if (!n->p.disk)
		return -ENODEV;
	return n->p.disk->open(n->p.disk_backend, l->ctr.dev, &l->disk);
}

static void report_disk_failure(struct mlog_local *l, int rc)
{
	if (l->disk_failed_sent)
		return;
	qb_log(LOG_ERR, "log %s: cannot write the log device %s: %s; the mirror reports it failed",
	       l->uuid, l->ctr.dev, blkspace_strerror(rc));
	if (mlog_submit(l, MLOG_OP_DISK_FAILED, NULL, 0, NULL) == 0)
		l->disk_failed_sent = true;
}

/* Write the clean bitmap if it changed since the last write. */
static int writer_commit(struct mlog_local *l)
{
	const struct mlog_state *s = mlog_replica(l);
	if (!l->ctr.disk || !s->initialized || s->disk_failed)
		return 0;
	size_t bytes = (size_t)((s->region_count + 7) / 8);
	struct pending_marks *pm = malloc(sizeof(*pm));
	uint8_t *clean = malloc(bytes ? bytes : 1);
	int rc = pm && clean ? 0 : -ENOMEM;
	if (rc == 0) {
		pm->n = 0;
		pm->overflow = false;
		domain_for_each_pending(l->nd.domain, collect_mark, pm);
		mlog_clean_bitmap(s, pm->regions, pm->n, clean);
		if (pm->overflow)
			memset(clean, 0, bytes); /* too many coming: all dirty is always safe */
	}
	if (rc == 0 && (!l->written || memcmp(clean, l->written, bytes) != 0) &&
	    (rc = open_disk(l)) == 0)
		rc = l->node->p.disk->write(l->disk, s->region_count, clean);
	if (rc == 0 && clean) {
		free(l->written);
		l->written = clean;
		clean = NULL;
	}
	free(pm);
	free(clean);
	if (rc < 0)
		report_disk_failure(l, rc);
	return 0; /* a failed log device does not stop the mirror: it shows 'D' */
}

static int mlog_commit(struct node_domain *nd)
{
	struct mlog_local *l = nd->owner;
	if (!is_writer(l)) {
		free(l->written); /* whoever writes next starts from scratch */
		l->written = NULL;
		if (l->disk && domain_is_active(nd->domain)) {
			l->node->p.disk->close(l->disk); /* another node writes it now */
			l->disk = NULL;
		}
		return 0;
	}
	return writer_commit(l);
}

/* --- setting up ----------------------------------------------------------------------- */

/* The initial bitmap, from the disk log or from the constructor's flags. */
static int send_init(struct mlog_local *l)
{
	const struct mlog_ctr *c = &l->ctr;
	enum mlog_init_fill fill = c->sync == MLOG_SYNC_NONE ? MLOG_INIT_ALL_IN : MLOG_INIT_ALL_OUT;
	uint8_t *bits = NULL;
	int rc = 0;
	if (c->disk && c->sync == MLOG_SYNC_DEFAULT) {
		bits = calloc((size_t)((c->region_count + 7) / 8) + 1, 1);
		rc = bits ? open_disk(l) : -ENOMEM;
		if (rc == 0)
			rc = l->node->p.disk->read(l->disk, c->region_count, bits);
		if (rc == 0)
			fill = MLOG_INIT_BITS;
		else if (rc == -ENODATA)
			rc = 0; /* a fresh log device: resync everything */
	}
	struct wbuf w;
	wbuf_init(&w);
	uint64_t step = fill == MLOG_INIT_BITS ? MLOG_INIT_CHUNK_BITS : c->region_count;
	for (uint64_t off = 0; rc == 0 && off < c->region_count; off += step) {
		uint64_t n = c->region_count - off < step ? c->region_count - off : step;
		wbuf_reset(&w);
		mlog_encode_init(&w, c->region_count, c->region_size, fill, off, n,
		                 bits ? bits + off / 8 : NULL);
		rc = wbuf_error(&w) ? wbuf_error(&w) : mlog_submit(l, MLOG_OP_INIT, w.data, w.len, NULL);
	}
	wbuf_done(&w);
	free(bits);
	if (rc < 0)
		qb_log(LOG_ERR, "log %s: cannot read the log device %s: %s", l->uuid, c->dev,
		       blkspace_strerror(rc));
	return rc;
}

static bool geometry_matches(const struct mlog_local *l, const struct mlog_state *s)
{
	return s->region_count == l->ctr.region_count && s->region_size == l->ctr.region_size;
}

bool mlog_resync_needs_resume(const struct mlog_local *l)
{
	const struct mlog_state *s = mlog_replica(l);
	return s && l->resumed && s->initialized && l->kernel_hint >= s->region_count &&
	       s->sync_count < s->region_count;
}

/* One line when the resync of this node waits for a resume. */
static void warn_resync_stalled(struct mlog_local *l)
{
	if (!mlog_resync_needs_resume(l)) {
		l->resync_warned = false;
		return;
	}
	if (l->resync_warned)
		return;
	l->resync_warned = true;
	const struct mlog_state *s = mlog_replica(l);
	qb_log(LOG_WARNING,
	       "log %s: %llu regions out of sync (marked by a node that failed), but the kernel "
	       "here resyncs only after its next resume (the log's writer makes one after 10 s "
	       "with mirror_auto_resume = yes; else dmsetup suspend and resume the mirror)",
	       l->uuid, (unsigned long long)(s->region_count - s->sync_count));
}

/* Progress of a resume: register, let the writer initialize, answer. */
static void mlog_after_batch(struct node_domain *nd)
{
	struct mlog_local *l = nd->owner;
	if (l->close_due) {
		mlog_domain_close(l);
		return;
	}
	if (l->leave_due) {
		/* our receipt for the unregistration went out with this batch: the
		 * others apply it before they see us go (the kernel is answered once
		 * we are out); and they adopt the registry without us first */
		if (domain_quorum_settling(nd->domain))
			return;
		l->leave_due = false;
		node_domain_leave(nd);
		return;
	}
	domain_attest_changed(nd->domain); /* news may have come during the round */
	const struct mlog_state *s = mlog_replica(l);
	if (!domain_is_active(nd->domain) || l->suspend_pending)
		return;
	resubmit_held(l);
	warn_resync_stalled(l);
	uint32_t me = l->node->nodeid;
	bool registered = mlog_is_registered_as(s, me, l->instance);
	l->registered_once |= registered;
	/* the first node to open a log does so in the quorate partition only: two
	 * partitions could each take an unregistered log for theirs */
	bool may_register = s->n_registry || domain_is_active(l->node->control.domain);
	if (!registered && may_register && !waiting_for(l, MLOG_OP_REGISTER))
		mlog_submit_registration(l, MLOG_OP_REGISTER);
	if (!s->initialized && is_writer(l) && !waiting_for(l, MLOG_OP_INIT))
		send_init(l);
	if (!l->resume_pending || !s->initialized || !registered)
		return;
	l->resume_pending = false;
	if (!geometry_matches(l, s)) {
		qb_log(LOG_ERR, "log %s: %llu regions of %u sectors here, %llu of %u in the cluster",
		       l->uuid, (unsigned long long)l->ctr.region_count, l->ctr.region_size,
		       (unsigned long long)s->region_count, s->region_size);
		mlog_kernel_reply(l, &l->resume_from, -EINVAL, NULL, 0);
		return;
	}
	l->resumed = true;
	l->kernel_hint = 0; /* as the kernel resets its own at resume */
	qb_log(LOG_INFO, "log %s: resumed (%llu regions, %llu in sync)", l->uuid,
	       (unsigned long long)s->region_count, (unsigned long long)s->sync_count);
	mlog_kernel_reply(l, &l->resume_from, 0, NULL, 0);
}

void node_mlog_control_active(struct node *n)
{
	struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link)
		if (l->has_domain && !l->close_due && !l->leave_due)
			mlog_after_batch(&l->nd);
}

/* --- answers ----------------------------------------------------------------------------- */

/* Turn the domain's little-endian answer into the kernel's host-order one. */
static void forward_reply(struct mlog_local *l, const struct mlog_wait *w, int result,
                          const uint8_t *data, size_t len)
{
	int64_t words[2];
	size_t n = 0;
	struct rbuf r;
	rbuf_init(&r, data, len);
	while (n < 2 && rbuf_left(&r) >= 8)
		words[n++] = (int64_t)rbuf_get_u64(&r);
	if (result >= 0 && w->op == MLOG_OP_IS_REMOTE_RECOVERING && n == 2)
		l->kernel_hint = (uint64_t)words[1];
	mlog_kernel_reply(l, &w->from, result < 0 ? result : 0, words, result < 0 ? 0 : n * 8);
}

static void mlog_reply(struct node_domain *nd, uint64_t token, int result, const void *data,
                       size_t len)
{
	struct mlog_local *l = nd->owner;
	struct mlog_wait *w;
	LIST_FOREACH(w, &l->waiting, link)
		if (w->token == token)
			break;
	if (!w)
		return;
	if (result == -EBUSY && w->body) {
		w->token = 0; /* held until the resync of its region is over */
		return;
	}
	LIST_REMOVE(w, link);
	if (w->from.raw_type)
		forward_reply(l, w, result, data, len);
	else if (w->op == MLOG_OP_UNREGISTER)
		l->leave_due = true; /* after this batch: the others need our receipt first */
	else if (result < 0 && result != -EAGAIN)
		qb_log(LOG_WARNING, "log %s: operation %u failed: %s", l->uuid, w->op,
		       blkspace_strerror(result));
	free_wait(w);
}

static void mlog_on_left(struct node_domain *nd)
{
	struct mlog_local *l = nd->owner;
	if (l->suspend_pending) {
		l->suspend_pending = false;
		mlog_kernel_reply(l, &l->suspend_from, 0, NULL, 0);
	}
	l->close_due = true; /* closed after this batch, outside the engine */
}

static void mlog_changed(struct node_domain *nd) { mlog_lift_track(nd->owner); }

static void mlog_attest(struct node_domain *nd, struct wbuf *out) { mlog_lift_attest(nd->owner, out); }

static const struct node_domain_hooks mlog_hooks = {
	.commit = mlog_commit,
	.after_batch = mlog_after_batch,
	.reply = mlog_reply,
	.on_left = mlog_on_left,
	.changed = mlog_changed,
	.attest = mlog_attest,
};

int mlog_domain_open(struct mlog_local *l)
{
	struct node *n = l->node;
	char group[DOMAIN_NAME_MAX];
	mlog_group_name(l->uuid, group, sizeof(group));
	struct domain_params dp = {
		.name = group,
		.nodeid = n->nodeid,
		.incarnation = n->incarnation,
		.cluster_size = 1,
		.durable = false, /* the disk log is its durability */
		/* a log suspended and resumed again reopens its domain in the same
		 * incarnation: a fresh range of request ids for every opening */
		.first_rid = (uint64_t)++n->log_opens << 32,
		.quorum = DOMAIN_QUORUM_SERVICE,
		.svc = &mlog_service_ops,
	};
	int rc = node_domain_open(n, &l->nd, &dp, &mlog_hooks, l);
	if (rc == 0)
		l->has_domain = true;
	l->instance = (uint64_t)n->incarnation << 32 | n->log_opens;
	return rc;
}

/* Drop the domain: waiting requests are not answered (the kernel retries). */
void mlog_domain_close(struct mlog_local *l)
{
	struct mlog_wait *w;
	while ((w = LIST_FIRST(&l->waiting))) {
		LIST_REMOVE(w, link);
		free_wait(w);
	}
	if (l->has_domain)
		node_domain_close(&l->nd);
	l->has_domain = false;
	l->close_due = false;
	l->leave_due = false;
	l->resumed = false;
	free(l->written);
	l->written = NULL;
	if (l->disk)
		l->node->p.disk->close(l->disk);
	l->disk = NULL;
	l->disk_failed_sent = false;
}
