/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain engine: the rounds that follow a configuration change.
 *
 * SYNC: every member announces its epoch, applied point and the chain hashes
 * of its unapplied log. From these every member computes the same plan
 * (domain-plan.c): a source at applied point A and a commit point p >= A
 * that includes every entry that may have been applied anywhere; entries
 * after p were never applied anywhere and are dropped (their origins re-send
 * them). Members whose log holds the plan's history through p reach it from
 * their own log; the others receive the source's state at A plus the
 * entries up to p. When two histories may have been applied, the round
 * waits for more members, as an inquorate one does.
 *
 * EPOCH: only a quorate configuration goes on. Every member makes the
 * promise of the new epoch durable, then acknowledges; once every member has,
 * the domain is ACTIVE: entries through p and the membership event are
 * applied, the rest is dropped, held requests are logged. An inquorate
 * configuration applies nothing and refuses requests. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "domain-internal.h"

/* What the host vouches for (env->attest), after the service's part; its
 * hash tells domain_attest_changed() whether there is news. */
static uint64_t add_attestation(struct domain *d, struct wbuf *q)
{
	if (d->quorum != DOMAIN_QUORUM_SERVICE || !d->env->attest)
		return FNV64_INIT;
	size_t start = q->len;
	d->env->attest(d->host, q);
	return wbuf_error(q) ? 0 : fnv64(FNV64_INIT, q->data + start, q->len - start);
}

static void send_sync(struct domain *d)
{
	size_t n = d->log_n;
	if (n > WIRE_SYNC_MAX_TAIL) {
		dlog(d, LOG_ERR, "log of %zu unapplied entries exceeds %d, announcing only the first", n,
		     WIRE_SYNC_MAX_TAIL);
		n = WIRE_SYNC_MAX_TAIL;
	}
	uint64_t *tail = malloc((n ? n : 1) * sizeof(*tail));
	if (!tail) {
		dlog(d, LOG_ERR, "no memory for the SYNC message; waiting for the next change");
		return;
	}
	for (size_t i = 0; i < n; i++)
		tail[i] = d->log[i].hash;
	struct wbuf q;
	wbuf_init(&q);
	if (d->quorum == DOMAIN_QUORUM_SERVICE && d->svc->quorum_info(d->state, &q) < 0)
		dlog(d, LOG_ERR, "cannot encode the quorum information; announcing none");
	d->attest_hash = add_attestation(d, &q);
	struct wire_sync s = {
		.proto_min = WIRE_PROTO_MIN,
		.proto_max = WIRE_PROTO_MAX,
		.cluster_size = d->cluster_size,
		.sync_id = d->sync_id,
		.view_id = d->view_id,
		.promise = d->promise,
		.epoch = d->epoch,
		.applied = d->applied,
		.applied_hash = d->applied_hash,
		.n_tail = (uint32_t)n,
		.qinfo_len = wbuf_error(&q) || q.len > WIRE_SYNC_MAX_QINFO ? 0 : (uint32_t)q.len,
	};
	struct wbuf w;
	wbuf_init(&w);
	wire_put_sync(&w, &s, tail, q.data);
	wbuf_done(&q);
	dlog(d, LOG_DEBUG, "SYNC %u: epoch %llu, applied %llu, %zu logged after it", d->sync_id,
	     (unsigned long long)d->epoch, (unsigned long long)d->applied, n);
	domain_send(d, WIRE_SYNC, 0, &w);
	wbuf_done(&w);
	free(tail);
}

void sync_reset(struct domain *d)
{
	free(d->rx.data);
	memset(&d->rx, 0, sizeof(d->rx));
	memset(&d->plan, 0, sizeof(d->plan));
	d->receiving = false;
	d->in_plan = false;
	d->epoch_ack_due = false;
}

void sync_start(struct domain *d)
{
	d->phase = DOMAIN_SYNC;
	send_sync(d);
	domain_changed(d);
}

/* Stream the state at A plus the entries through p to the members outside the plan. */
static void send_transfer(struct domain *d)
{
	struct wbuf blob, w;
	wbuf_init(&blob);
	wbuf_init(&w);
	int rc = state_encode(d, &blob, d->plan.commit);
	if (rc < 0 || blob.len > UINT32_MAX) {
		dlog(d, LOG_ERR, "cannot encode the state for transfer: %s", blkspace_strerror(rc));
		goto out;
	}
	uint32_t crc = crc32c(0, blob.data, blob.len);
	size_t off = 0;
	do {
		size_t n = blob.len - off < WIRE_CHUNK_DATA_BYTES ? blob.len - off : WIRE_CHUNK_DATA_BYTES;
		struct wire_snapshot s = {
			.plan_id = d->plan.id, .sync_id = d->sync_id,
			.epoch = d->plan.epoch, .seq = d->plan.commit,
			.total_len = (uint32_t)blob.len, .offset = (uint32_t)off, .total_crc = crc,
			.data = blob.data + off, .data_len = n,
		};
		wbuf_reset(&w);
		wire_put_snapshot(&w, &s);
		domain_send(d, WIRE_SNAPSHOT, 0, &w);
		off += n;
	} while (off < blob.len);
	dlog(d, LOG_INFO, "sent state (%llu, %llu) and log through %llu, %zu bytes",
	     (unsigned long long)d->epoch, (unsigned long long)d->applied,
	     (unsigned long long)d->plan.commit, blob.len);
out:
	wbuf_done(&blob);
	wbuf_done(&w);
}

/* Why this configuration applies nothing, in one log line. */
static void log_frozen(const struct domain *d, bool quorate)
{
	unsigned long long epoch = d->epoch, applied = d->applied;
	if (quorate)
		dlog(d, LOG_WARNING, "the members' logs part at seq %llu and either history may have "
		     "been applied by a member not here: waiting for more members, state frozen at "
		     "(%llu, %llu)", (unsigned long long)d->plan.undecided_at, epoch, applied);
	else if (d->quorum == DOMAIN_QUORUM_SERVICE)
		dlog(d, LOG_WARNING, "%zu members do not satisfy the %s quorum rule: not "
		     "quorate, state frozen at (%llu, %llu)", d->n_members, d->svc->name, epoch, applied);
	else
		dlog(d, LOG_INFO, "%zu of %u nodes: not quorate, state frozen at (%llu, %llu)",
		     d->n_members, d->group_cluster_size, epoch, applied);
}

/* Every member announced: decide, identically everywhere. */
static void sync_complete(struct domain *d)
{
	uint32_t size = 0;
	for (size_t i = 0; i < d->n_members; i++)
		if (d->members[i].sync.cluster_size > size)
			size = d->members[i].sync.cluster_size;
	d->group_cluster_size = size;
	bool in[DOMAIN_MAX_MEMBERS], laggards = false;
	plan_make(d, in);
	bool quorate = domain_is_quorate_config(d, &d->plan.lifted);
	d->plan.undecided &= quorate; /* too few members comes first, in the log and in status */
	if (!quorate || d->plan.undecided) {
		d->phase = DOMAIN_INQUORATE;
		log_frozen(d, quorate);
		held_reject(d);
		domain_changed(d);
		return;
	}
	if (d->plan.lifted)
		dlog(d, LOG_NOTICE, "%zu members do not satisfy the %s quorum rule, but each vouches "
		     "that the nodes it lacks are fenced: going on", d->n_members, d->svc->name);
	for (size_t i = 0; i < d->n_members; i++) {
		laggards |= !in[i];
		if (d->members[i].nodeid == d->nodeid)
			d->in_plan = in[i];
	}
	if (!d->in_plan) {
		d->receiving = true;
		d->rx.active = true;
		dlog(d, LOG_INFO, "state (%llu, %llu) is behind epoch %llu, receiving from node %u",
		     (unsigned long long)d->epoch, (unsigned long long)d->applied,
		     (unsigned long long)d->plan.epoch, d->plan.source);
	} else if (laggards && d->nodeid == d->plan.source) {
		send_transfer(d);
	}
	d->phase = DOMAIN_EPOCH;
	persist_promise(d);
	d->epoch_ack_due = true; /* sent by sync_on_persisted() after the commit */
	domain_changed(d);
}

/* A member announced again: the SYNC we took for this round had crossed a
 * change between two configurations with the same members. Every member
 * sees this at the same place, so all drop the plan made from the stale one
 * and make a new one; acknowledgements and chunks of the old plan no longer
 * match its id. */
static void sync_restart(struct domain *d)
{
	dlog(d, LOG_INFO, "a member announced again: new plan");
	free(d->rx.data);
	memset(&d->rx, 0, sizeof(d->rx));
	d->receiving = false;
	d->in_plan = false;
	d->epoch_ack_due = false;
	for (size_t i = 0; i < d->n_members; i++)
		d->members[i].acked_epoch = false;
	d->phase = DOMAIN_SYNC;
}

void sync_on_sync(struct domain *d, struct member *m, const struct wire_sync *s, struct rbuf *r)
{
	if ((d->phase != DOMAIN_SYNC && d->phase != DOMAIN_EPOCH) || s->view_id != d->view_id ||
	    s->sync_id <= m->last_sync_id) {
		dlog(d, LOG_DEBUG, "stale SYNC from node %u, ignoring", m->nodeid);
		return;
	}
	if (s->proto_max < WIRE_PROTO_MIN || s->proto_min > WIRE_PROTO_MAX)
		dlog(d, LOG_ERR, "node %u speaks protocol %u..%u, we speak %u..%u", m->nodeid,
		     s->proto_min, s->proto_max, WIRE_PROTO_MIN, WIRE_PROTO_MAX);
	uint64_t *tail = malloc((s->n_tail ? s->n_tail : 1) * sizeof(*tail));
	if (!tail) {
		dlog(d, LOG_ERR, "no memory for node %u's SYNC; waiting for the next change", m->nodeid);
		return;
	}
	uint8_t *qinfo = malloc(s->qinfo_len ? s->qinfo_len : 1);
	if (!qinfo) {
		free(tail);
		dlog(d, LOG_ERR, "no memory for node %u's SYNC; waiting for the next change", m->nodeid);
		return;
	}
	for (uint32_t i = 0; i < s->n_tail; i++)
		tail[i] = rbuf_get_u64(r);
	const uint8_t *q = rbuf_get_bytes(r, s->qinfo_len);
	if (s->qinfo_len)
		memcpy(qinfo, q, s->qinfo_len);
	free(m->tail);
	m->tail = tail;
	free(m->qinfo);
	m->qinfo = qinfo;
	m->sync = *s;
	m->have_sync = true;
	m->last_sync_id = s->sync_id;
	if (d->phase == DOMAIN_EPOCH)
		sync_restart(d);
	for (size_t i = 0; i < d->n_members; i++)
		if (!d->members[i].have_sync)
			return;
	sync_complete(d);
}

void sync_on_persisted(struct domain *d)
{
	if (!d->epoch_ack_due || d->phase != DOMAIN_EPOCH)
		return;
	d->epoch_ack_due = false;
	struct wire_epoch_ack a = {
		.plan_id = d->plan.id, .sync_id = d->sync_id, .epoch = d->plan.new_epoch,
	};
	struct wbuf w;
	wbuf_init(&w);
	wire_put_epoch_ack(&w, &a);
	domain_send(d, WIRE_EPOCH_ACK, 0, &w);
	wbuf_done(&w);
}

/* The new epoch is promised everywhere and we hold the plan's log prefix. */
static void activate(struct domain *d)
{
	uint32_t ids[DOMAIN_MAX_MEMBERS];
	for (size_t i = 0; i < d->n_members; i++)
		ids[i] = d->members[i].nodeid;
	apply_activation(d, d->plan.new_epoch, d->plan.commit, ids, d->n_members, true);
	dlog(d, LOG_INFO, "active in epoch %llu at seq %llu with %zu members",
	     (unsigned long long)d->epoch, (unsigned long long)d->applied, d->n_members);
	d->durable_seq = 0; /* nothing of this epoch is durable until the next commit */
	d->announced_seq = 0;
	d->receipt_due = true; /* everyone waits for every member's first receipt */
	for (size_t i = 0; i < d->n_members; i++)
		d->members[i].received = 0;
	held_log(d);
	request_recheck(d);
	domain_changed(d);
}

void sync_on_epoch_ack(struct domain *d, struct member *m, const struct wire_epoch_ack *a)
{
	if (d->phase != DOMAIN_EPOCH || a->plan_id != d->plan.id || a->epoch != d->plan.new_epoch ||
	    !m->have_sync || a->sync_id != m->sync.sync_id) {
		dlog(d, LOG_DEBUG, "stale EPOCH_ACK from node %u, ignoring", m->nodeid);
		return;
	}
	m->acked_epoch = true;
	for (size_t i = 0; i < d->n_members; i++)
		if (!d->members[i].acked_epoch)
			return;
	d->phase = DOMAIN_ACTIVE;
	if (!d->receiving)
		activate(d);
	else
		domain_changed(d);
}

/* The whole transfer arrived: adopt it durably, then catch up. */
static void transfer_complete(struct domain *d)
{
	struct transfer_rx *rx = &d->rx;
	int rc = BLKSPACE_E_CORRUPT;
	if (crc32c(0, rx->data, rx->total_len) == rx->total_crc) {
		struct rbuf r;
		rbuf_init(&r, rx->data, rx->total_len);
		rc = state_load(d, &r);
	}
	if (rc == 0 && (d->epoch != d->plan.epoch || d->applied != d->plan.applied ||
	                log_last(d) != d->plan.commit))
		rc = BLKSPACE_E_CORRUPT;
	free(rx->data);
	memset(rx, 0, sizeof(*rx));
	if (rc == 0 && d->durable && save_snapshot(d) < 0) {
		/* the journal on disk belongs to the state before: the host's next
		 * commit writes the snapshot first, and acknowledges nothing before */
		d->snapshot_due = true;
		d->dirty = true;
	}
	if (rc < 0) {
		dlog(d, LOG_ERR, "state transfer from node %u failed: %s; waiting for the next change",
		     d->plan.source, blkspace_strerror(rc));
		return;
	}
	d->receiving = false;
	d->in_plan = true;
	dlog(d, LOG_INFO, "loaded state (%llu, %llu) and log through %llu from node %u",
	     (unsigned long long)d->epoch, (unsigned long long)d->applied,
	     (unsigned long long)d->plan.commit, d->plan.source);
	if (d->phase == DOMAIN_ACTIVE)
		activate(d);
	else
		domain_changed(d);
}

void sync_on_transfer(struct domain *d, uint32_t from, const struct wire_snapshot *s)
{
	struct transfer_rx *rx = &d->rx;
	struct member *src = domain_member(d, from);
	if (!rx->active || from != d->plan.source || !src || s->sync_id != src->sync.sync_id ||
	    s->plan_id != d->plan.id || s->epoch != d->plan.epoch || s->seq != d->plan.commit)
		return; /* not for us, or from an earlier round */
	if (s->offset != rx->received || (rx->data && s->total_len != rx->total_len)) {
		dlog(d, LOG_WARNING, "state chunk at %u from node %u out of order (have %u), ignoring",
		     s->offset, from, rx->received);
		return;
	}
	if (!rx->data) {
		rx->data = malloc(s->total_len ? s->total_len : 1);
		if (!rx->data) {
			dlog(d, LOG_ERR, "no memory for a %u-byte state transfer", s->total_len);
			rx->active = false;
			return;
		}
		rx->total_len = s->total_len;
		rx->total_crc = s->total_crc;
	}
	if (s->data_len)
		memcpy(rx->data + rx->received, s->data, s->data_len);
	rx->received += (uint32_t)s->data_len;
	if (rx->received == rx->total_len)
		transfer_complete(d);
}
