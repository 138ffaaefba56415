/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain engine: the encoding of state (snapshots on disk and transfers),
 * the journal records and their replay at a cold start, and activation.
 *
 * Journal records: ACCEPT (a logged entry), APPLY (the safe point moved),
 * PROMISE (an epoch was promised), ACTIVATE (a new epoch: entries through
 * the plan's commit point applied, the rest dropped, the membership event
 * applied). Replaying them in order rebuilds state, label and log. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "domain-internal.h"

#define STATE_MAGIC 0x53534b42u /* "BKSS" */
#define STATE_VERSION 1

enum { REC_ACCEPT = 1, REC_APPLY = 2, REC_PROMISE = 3, REC_ACTIVATE = 4 };

/* Append a journal record. A lazy one (a hint that only shortens replay)
 * does not ask for a commit of its own: it rides with the next one. */
void persist_record(struct domain *d, struct wbuf *w, bool lazy)
{
	if (wbuf_error(w)) {
		dlog(d, LOG_ERR, "cannot encode a journal record: %s", blkspace_strerror(wbuf_error(w)));
		return;
	}
	d->env->persist(d->host, w->data, w->len);
	d->dirty |= !lazy;
	d->records++;
}

void persist_promise(struct domain *d)
{
	if (d->plan.new_epoch > d->promise)
		d->promise = d->plan.new_epoch;
	if (!d->durable)
		return;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u8(&w, REC_PROMISE);
	wbuf_put_u64(&w, d->promise);
	persist_record(d, &w, false);
	wbuf_done(&w);
}

/* The membership event: a synthetic position in the chain. */
static void membership_event(struct domain *d, const uint32_t *ids, size_t n)
{
	struct wbuf body;
	wbuf_init(&body);
	wbuf_put_u64(&body, d->epoch);
	for (size_t i = 0; i < n; i++)
		wbuf_put_u32(&body, ids[i]);
	struct log_entry e = { .body = body.data, .body_len = body.len };
	d->svc->apply_membership(d->state, d->epoch, ids, n);
	d->applied++;
	d->applied_hash = chain_hash(d->applied_hash, &e);
	wbuf_done(&body);
}

void apply_activation(struct domain *d, uint64_t new_epoch, uint64_t commit, const uint32_t *ids,
                      size_t n, bool persist)
{
	log_apply_through(d, commit, false);
	log_truncate(d, commit);
	d->epoch = new_epoch;
	membership_event(d, ids, n);
	if (!persist || !d->durable)
		return;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u8(&w, REC_ACTIVATE);
	wbuf_put_u64(&w, new_epoch);
	wbuf_put_u64(&w, commit);
	wbuf_put_u32(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		wbuf_put_u32(&w, ids[i]);
	persist_record(d, &w, false);
	wbuf_done(&w);
}

/* State at the applied point, plus the log entries through log_upto. */
int state_encode(const struct domain *d, struct wbuf *w, uint64_t log_upto)
{
	struct wbuf svc;
	wbuf_init(&svc);
	int rc = d->svc->save(d->state, &svc);
	wbuf_put_u32(w, STATE_MAGIC);
	wbuf_put_u16(w, STATE_VERSION);
	wbuf_put_u64(w, d->epoch);
	wbuf_put_u64(w, d->applied);
	wbuf_put_u64(w, d->applied_hash);
	dedup_encode(&d->dedup, w);
	wbuf_put_blob(w, svc.data, svc.len);
	uint64_t n = log_upto > d->applied ? log_upto - d->applied : 0;
	if (n > d->log_n)
		n = d->log_n;
	wbuf_put_u32(w, (uint32_t)n);
	for (uint64_t i = 0; i < n; i++)
		entry_encode(w, &d->log[i]);
	if (rc == 0)
		rc = wbuf_error(&svc) ? wbuf_error(&svc) : wbuf_error(w);
	wbuf_done(&svc);
	return rc;
}

static void free_entries(struct log_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		entry_free(&v[i]);
	free(v);
}

/* Decode the log part: entries must follow each other and their chain. */
static int decode_log(struct rbuf *r, uint64_t applied, uint64_t hash, struct log_entry **ret,
                      size_t *ret_n)
{
	uint32_t n = rbuf_get_u32(r);
	if (rbuf_error(r) || n > rbuf_left(r) / 38)
		return BLKSPACE_E_CORRUPT;
	struct log_entry *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (entry_decode(r, &v[i]) < 0 || v[i].seq != applied + i + 1 ||
		    v[i].hash != chain_hash(hash, &v[i])) {
			free_entries(v, i + 1);
			return BLKSPACE_E_CORRUPT;
		}
		hash = v[i].hash;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Replace state, dedup table, label and log by what r holds. */
int state_load(struct domain *d, struct rbuf *r)
{
	if (rbuf_get_u32(r) != STATE_MAGIC || rbuf_get_u16(r) != STATE_VERSION)
		return BLKSPACE_E_CORRUPT;
	uint64_t epoch = rbuf_get_u64(r), applied = rbuf_get_u64(r), hash = rbuf_get_u64(r);
	struct dedup dd;
	dedup_init(&dd);
	if (rbuf_error(r) || dedup_decode(&dd, r) < 0)
		return BLKSPACE_E_CORRUPT;
	size_t len, n_log;
	const uint8_t *blob = rbuf_get_blob(r, &len);
	struct rbuf sr;
	rbuf_init(&sr, blob, len);
	void *state = rbuf_error(r) ? NULL : d->svc->load(&sr);
	struct log_entry *log = NULL;
	int rc = state ? decode_log(r, applied, hash, &log, &n_log) : BLKSPACE_E_CORRUPT;
	rbuf_expect_end(r);
	if (rc == 0 && rbuf_error(r)) {
		free_entries(log, n_log);
		rc = BLKSPACE_E_CORRUPT;
	}
	if (rc < 0) {
		if (state)
			d->svc->destroy(state);
		dedup_done(&dd);
		return rc;
	}
	d->svc->destroy(d->state);
	d->state = state;
	dedup_done(&d->dedup);
	d->dedup = dd;
	log_clear(d);
	free(d->log);
	d->log = log;
	d->log_n = d->log_cap = n_log;
	d->epoch = epoch;
	d->applied = applied;
	d->applied_hash = hash;
	return 0;
}

int save_snapshot(struct domain *d)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u64(&w, d->promise);
	int rc = state_encode(d, &w, log_last(d));
	if (rc == 0)
		rc = d->env->save_snapshot(d->host, w.data, w.len);
	wbuf_done(&w);
	if (rc < 0) {
		if (!d->snapshot_failing)
			dlog(d, LOG_ERR, "cannot write the state snapshot: %s", blkspace_strerror(rc));
		d->snapshot_failing = true;
		return rc;
	}
	if (d->snapshot_failing)
		dlog(d, LOG_NOTICE, "the state snapshot is written again");
	d->snapshot_failing = false;
	d->snapshot_due = false;
	d->records = 0;
	d->dirty = false;
	return 0;
}

void maybe_compact(struct domain *d)
{
	if (d->durable && d->records >= DOMAIN_COMPACT_RECORDS && !d->receiving)
		save_snapshot(d);
}

int domain_restore_snapshot(struct domain *d, const void *snap, size_t len)
{
	struct rbuf r;
	rbuf_init(&r, snap, len);
	uint64_t promise = rbuf_get_u64(&r);
	int rc = rbuf_error(&r) ? BLKSPACE_E_CORRUPT : state_load(d, &r);
	if (rc < 0)
		return rc;
	d->promise = promise;
	d->durable_seq = log_last(d);
	return 0;
}

static int replay_accept(struct domain *d, struct rbuf *r)
{
	uint64_t epoch = rbuf_get_u64(r);
	struct log_entry e;
	if (entry_decode(r, &e) < 0)
		return BLKSPACE_E_CORRUPT;
	rbuf_expect_end(r);
	uint64_t seq = e.seq, hash = e.hash;
	if (rbuf_error(r) || epoch != d->epoch || seq != log_last(d) + 1) {
		entry_free(&e);
		return BLKSPACE_E_CORRUPT;
	}
	if (log_append(d, &e, false) < 0)
		return -ENOMEM;
	return log_at(d, seq)->hash == hash ? 0 : BLKSPACE_E_CORRUPT;
}

static int replay_activate(struct domain *d, struct rbuf *r)
{
	uint64_t epoch = rbuf_get_u64(r), commit = rbuf_get_u64(r);
	uint32_t n = rbuf_get_u32(r), ids[DOMAIN_MAX_MEMBERS];
	if (n > DOMAIN_MAX_MEMBERS)
		return BLKSPACE_E_CORRUPT;
	for (uint32_t i = 0; i < n; i++)
		ids[i] = rbuf_get_u32(r);
	rbuf_expect_end(r);
	if (rbuf_error(r) || epoch <= d->epoch || epoch > d->promise || commit < d->applied ||
	    commit > log_last(d))
		return BLKSPACE_E_CORRUPT;
	apply_activation(d, epoch, commit, ids, n, false);
	return 0;
}

int domain_replay(struct domain *d, const void *rec, size_t len)
{
	struct rbuf r;
	rbuf_init(&r, rec, len);
	int rc = BLKSPACE_E_CORRUPT;
	switch (rbuf_get_u8(&r)) {
	case REC_ACCEPT:
		rc = replay_accept(d, &r);
		break;
	case REC_APPLY: {
		uint64_t epoch = rbuf_get_u64(&r), seq = rbuf_get_u64(&r);
		rbuf_expect_end(&r);
		if (!rbuf_error(&r) && epoch == d->epoch && seq >= d->applied && seq <= log_last(d)) {
			log_apply_through(d, seq, false);
			rc = 0;
		}
		break;
	}
	case REC_PROMISE: {
		uint64_t p = rbuf_get_u64(&r);
		rbuf_expect_end(&r);
		if (!rbuf_error(&r) && p >= d->promise) {
			d->promise = p;
			rc = 0;
		}
		break;
	}
	case REC_ACTIVATE:
		rc = replay_activate(d, &r);
		break;
	}
	if (rc == 0) {
		d->records++;
		d->durable_seq = log_last(d);
	}
	return rc;
}
