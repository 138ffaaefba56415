/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain engine: local requests from submission to their answer.
 *
 * A request is answered when its entry is applied, which happens only once
 * it is safe (every member holds it durably), so the answer survives any
 * partition or crash. After every activation each unanswered request is
 * looked up in the replicated dedup table: found, it is answered once the
 * activation point is safe; not found, it was lost and is sent again. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "domain-internal.h"

static void pending_free(struct pending *p)
{
	free(p->body);
	free(p);
}

static void finish(struct domain *d, struct pending *p, int result, const void *reply, size_t len)
{
	TAILQ_REMOVE(&d->pending, p, link);
	if (p->has_token)
		d->env->reply(d->host, p->token, result, reply, len);
	pending_free(p);
}

static void send_pending(struct domain *d, struct pending *p)
{
	struct wbuf w;
	wbuf_init(&w);
	wire_put_request(&w, p->op, d->direct_taken ? WIRE_REQ_DIRECT : 0, p->body, p->body_len);
	p->state = PENDING_SENT;
	p->sends++;
	domain_send(d, WIRE_REQUEST, p->rid, &w);
	wbuf_done(&w);
}

/* Send queued requests in rid order. Every unanswered request stays within
 * DOMAIN_WINDOW ids of the oldest one: the dedup table relies on it. */
void request_send_queued(struct domain *d)
{
	if (!domain_is_active(d))
		return;
	struct pending *first = TAILQ_FIRST(&d->pending), *p;
	TAILQ_FOREACH(p, &d->pending, link) {
		if (p->rid - first->rid >= DOMAIN_WINDOW)
			break;
		if (p->state == PENDING_QUEUED)
			send_pending(d, p);
	}
}

int domain_submit(struct domain *d, uint16_t op, const void *body, size_t len, unsigned flags,
                  uint64_t token)
{
	if (len > WIRE_MAX_MSG_BYTES - WIRE_HEADER_BYTES - 16)
		return -EMSGSIZE;
	if (!domain_is_active(d) && !(flags & DOMAIN_WAIT_QUORUM))
		return d->phase == DOMAIN_OUTSIDE ? BLKSPACE_E_NOTREADY : BLKSPACE_E_NOQUORUM;
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->body = malloc(len ? len : 1);
	if (!p->body) {
		free(p);
		return -ENOMEM;
	}
	if (len)
		memcpy(p->body, body, len);
	p->body_len = len;
	p->rid = d->next_rid++;
	p->token = token;
	p->has_token = true;
	p->op = op;
	p->flags = flags;
	p->state = PENDING_QUEUED;
	TAILQ_INSERT_TAIL(&d->pending, p, link);
	request_send_queued(d);
	return 0;
}

static struct pending *find_rid(struct domain *d, uint64_t rid)
{
	struct pending *p;
	TAILQ_FOREACH(p, &d->pending, link)
		if (p->rid == rid)
			return p;
	return NULL;
}

void domain_cancel(struct domain *d, uint64_t token)
{
	struct pending *p, *tmp;
	TAILQ_FOREACH_SAFE(p, &d->pending, link, tmp) {
		if (!p->has_token || p->token != token)
			continue;
		if (p->state == PENDING_QUEUED) {
			TAILQ_REMOVE(&d->pending, p, link);
			pending_free(p);
		} else {
			p->has_token = false; /* in flight: keep it for rid order */
		}
	}
}

static void mark_applied(struct domain *d, struct pending *p, int result, const void *reply,
                         size_t len)
{
	p->state = PENDING_APPLIED;
	p->epoch = d->epoch;
	p->seq = d->applied;
	p->result = result;
	p->reply_len = len < DOMAIN_REPLY_MAX ? len : DOMAIN_REPLY_MAX;
	if (p->reply_len)
		memcpy(p->reply, reply, p->reply_len);
}

void request_on_applied(struct domain *d, uint64_t rid, int result, const struct wbuf *reply)
{
	struct pending *p = find_rid(d, rid);
	if (p && p->state != PENDING_APPLIED)
		mark_applied(d, p, result, reply->data, reply->len);
}

/* A copy of the request was delivered in an inquorate configuration. If it
 * was the only copy, nothing applied it anywhere: refuse. A request sent
 * again after a configuration change may have another copy applied
 * elsewhere, so it waits for the next primary like a waiting request. */
void request_on_rejected(struct domain *d, uint64_t rid)
{
	struct pending *p = find_rid(d, rid);
	if (!p || p->state != PENDING_SENT)
		return;
	if ((p->flags & DOMAIN_WAIT_QUORUM) || p->sends > 1) {
		p->state = PENDING_QUEUED; /* sent again once a primary forms */
		return;
	}
	finish(d, p, BLKSPACE_E_NOQUORUM, NULL, 0);
}

static bool in_log(const struct domain *d, uint64_t rid)
{
	for (size_t i = 0; i < d->log_n; i++)
		if (d->log[i].origin == d->nodeid && d->log[i].incarnation == d->incarnation &&
		    d->log[i].rid == rid)
			return true;
	return false;
}

/* After activation: find every unanswered request in the new state. */
void request_recheck(struct domain *d)
{
	struct pending *p, *tmp;
	TAILQ_FOREACH_SAFE(p, &d->pending, link, tmp) {
		if (p->state == PENDING_QUEUED)
			continue;
		const struct dedup_result *r = dedup_find(&d->dedup, d->nodeid, d->incarnation, p->rid);
		if (r) {
			mark_applied(d, p, r->result, r->reply, r->reply_len);
		} else if (dedup_check(&d->dedup, d->nodeid, d->incarnation, p->rid) ==
		           DEDUP_DUPLICATE) {
			mark_applied(d, p, -ESTALE, NULL, 0); /* applied, result no longer kept */
		} else if (in_log(d, p->rid)) {
			p->state = PENDING_SENT; /* logged in this epoch: applied when safe */
		} else {
			p->state = PENDING_QUEUED; /* lost in the change: send again */
		}
	}
	request_send_queued(d);
}

void domain_fail_pending(struct domain *d, int err)
{
	struct pending *p;
	while ((p = TAILQ_FIRST(&d->pending)))
		finish(d, p, err, NULL, 0);
}

void request_clear(struct domain *d)
{
	struct pending *p;
	while ((p = TAILQ_FIRST(&d->pending))) {
		TAILQ_REMOVE(&d->pending, p, link);
		pending_free(p);
	}
}

/* Answer every request whose application is safe in the current epoch. */
void request_resolve(struct domain *d)
{
	uint64_t safe = log_safe_point(d);
	struct pending *p, *tmp;
	TAILQ_FOREACH_SAFE(p, &d->pending, link, tmp) {
		if (p->state == PENDING_APPLIED && p->epoch == d->epoch && p->seq <= safe)
			finish(d, p, p->result, p->reply, p->reply_len);
	}
	request_send_queued(d);
}
