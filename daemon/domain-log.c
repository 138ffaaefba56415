/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain engine: the log of delivered operations, receipts and applying.
 *
 * Every member logs each delivered request at the next position and chains
 * a hash through it; after the batch is durable it multicasts a receipt
 * (position, chain hash). The safe point is the highest position held
 * durably by as many members as the ack rule asks (domain_ack_count: every
 * member, or in cluster domains a majority of the cluster): the others'
 * receipts as delivered, our own durability as we know it. Entries up to it
 * are applied in log order, so every member applies the same sequence, each
 * as soon as it knows it is safe. A receipt whose hash differs from ours
 * comes from a diverged log and is ignored.
 *
 * Receipts for entries of other nodes go out after every commit: their
 * origins wait for them. Receipts that only cover our own requests go out
 * after those are answered, lazily: a client that sends its next request
 * at once has them ride on it, one CPG message fewer per request (the
 * others only apply a little later). So on the critical path of a request
 * the others' receipts do not queue behind ours. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "domain-internal.h"

enum { REC_ACCEPT = 1, REC_APPLY = 2 }; /* see domain-state.c for the others */

uint64_t chain_hash(uint64_t prev, const struct log_entry *e)
{
	uint8_t b[26];
	le32_write(b, (uint32_t)prev);
	le32_write(b + 4, (uint32_t)(prev >> 32));
	le32_write(b + 8, e->origin);
	le32_write(b + 12, e->incarnation);
	le32_write(b + 16, (uint32_t)e->rid);
	le32_write(b + 20, (uint32_t)(e->rid >> 32));
	b[24] = (uint8_t)e->op;
	b[25] = (uint8_t)(e->op >> 8);
	return fnv64(fnv64(FNV64_INIT, b, sizeof(b)), e->body, e->body_len);
}

void entry_free(struct log_entry *e)
{
	free(e->body);
	e->body = NULL;
}

void entry_encode(struct wbuf *w, const struct log_entry *e)
{
	wbuf_put_u64(w, e->seq);
	wbuf_put_u64(w, e->hash);
	wbuf_put_u32(w, e->origin);
	wbuf_put_u32(w, e->incarnation);
	wbuf_put_u64(w, e->rid);
	wbuf_put_u16(w, e->op);
	wbuf_put_blob(w, e->body, e->body_len);
}

/* Decode into e with a copy of the body (the caller frees it). */
int entry_decode(struct rbuf *r, struct log_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = rbuf_get_u64(r);
	e->hash = rbuf_get_u64(r);
	e->origin = rbuf_get_u32(r);
	e->incarnation = rbuf_get_u32(r);
	e->rid = rbuf_get_u64(r);
	e->op = rbuf_get_u16(r);
	size_t len;
	const uint8_t *body = rbuf_get_blob(r, &len);
	if (rbuf_error(r))
		return rbuf_error(r);
	e->body = malloc(len ? len : 1);
	if (!e->body)
		return -ENOMEM;
	if (len)
		memcpy(e->body, body, len);
	e->body_len = len;
	return 0;
}

uint64_t log_last(const struct domain *d) { return d->applied + d->log_n; }

const struct log_entry *log_at(const struct domain *d, uint64_t seq)
{
	if (seq <= d->applied || seq > log_last(d))
		return NULL;
	return &d->log[seq - d->applied - 1];
}

static uint64_t last_hash(const struct domain *d)
{
	return d->log_n ? d->log[d->log_n - 1].hash : d->applied_hash;
}

/* Append e (ownership of its body passes to the log) at the next position. */
int log_append(struct domain *d, struct log_entry *e, bool persist)
{
	if (d->log_n == d->log_cap) {
		size_t cap = d->log_cap ? d->log_cap * 2 : 64;
		struct log_entry *p = reallocarray(d->log, cap, sizeof(*p));
		if (!p) {
			dlog(d, LOG_ERR, "no memory to log request %u/%llu", e->origin,
			     (unsigned long long)e->rid);
			entry_free(e);
			return -ENOMEM;
		}
		d->log = p;
		d->log_cap = cap;
	}
	e->seq = log_last(d) + 1;
	e->hash = chain_hash(last_hash(d), e);
	d->log[d->log_n++] = *e;
	if (e->origin != d->nodeid || e->incarnation != d->incarnation) {
		d->receipt_due = true;
		d->receipt_ordered |= !e->answer_direct;
	}
	if (persist && d->durable) {
		struct wbuf w;
		wbuf_init(&w);
		wbuf_put_u8(&w, REC_ACCEPT);
		wbuf_put_u64(&w, d->epoch);
		entry_encode(&w, e);
		persist_record(d, &w, false);
		wbuf_done(&w);
	}
	return 0;
}

/* Drop entries after last (a diverged tail that the plan left out). */
void log_truncate(struct domain *d, uint64_t last)
{
	while (log_last(d) > last && d->log_n)
		entry_free(&d->log[--d->log_n]);
}

void log_clear(struct domain *d) { log_truncate(d, d->applied); }

/* Dedup check and service apply: the deterministic part of applying. */
static int apply_one(struct domain *d, const struct log_entry *e, struct wbuf *reply)
{
	switch (dedup_check(&d->dedup, e->origin, e->incarnation, e->rid)) {
	case DEDUP_STALE:
		return -ESTALE;
	case DEDUP_DUPLICATE: {
		const struct dedup_result *r = dedup_find(&d->dedup, e->origin, e->incarnation, e->rid);
		if (!r)
			return -ESTALE;
		wbuf_put_bytes(reply, r->reply, r->reply_len);
		return r->result;
	}
	case DEDUP_NEW:
		break;
	}
	int result = d->svc->apply(d->state, e->origin, e->op, e->body, e->body_len, reply);
	if (wbuf_error(reply) || reply->len > DOMAIN_REPLY_MAX) {
		dlog(d, LOG_ERR, "op %u of node %u produced an oversized reply, dropping it", e->op,
		     e->origin);
		wbuf_reset(reply);
	}
	if (dedup_record(&d->dedup, e->origin, e->incarnation, e->rid, result, reply->data,
	                 reply->len) < 0)
		dlog(d, LOG_ERR, "no memory to record request %u/%llu", e->origin,
		     (unsigned long long)e->rid);
	return result;
}

/* Apply the log through seq (within the log), in order. */
void log_apply_through(struct domain *d, uint64_t seq, bool persist)
{
	size_t n = seq > d->applied ? (size_t)(seq - d->applied) : 0;
	if (n > d->log_n)
		n = d->log_n;
	struct wbuf reply;
	wbuf_init(&reply);
	for (size_t i = 0; i < n; i++) {
		struct log_entry *e = &d->log[i];
		wbuf_reset(&reply);
		int result = apply_one(d, e, &reply);
		d->applied = e->seq;
		d->applied_hash = e->hash;
		if (e->origin == d->nodeid && e->incarnation == d->incarnation)
			request_on_applied(d, e->rid, result, &reply);
		entry_free(e);
	}
	wbuf_done(&reply);
	if (n == 0)
		return;
	memmove(d->log, d->log + n, (d->log_n - n) * sizeof(*d->log));
	d->log_n -= n;
	if (persist && d->durable) {
		struct wbuf w;
		wbuf_init(&w);
		wbuf_put_u8(&w, REC_APPLY);
		wbuf_put_u64(&w, d->epoch);
		wbuf_put_u64(&w, d->applied);
		persist_record(d, &w, true); /* replay finds the safe point again anyway */
		wbuf_done(&w);
	}
}

uint64_t log_safe_point(const struct domain *d)
{
	if (!domain_is_active(d) || d->n_members == 0)
		return d->applied;
	/* the need-th highest holding among the members */
	uint64_t held[DOMAIN_MAX_MEMBERS];
	size_t need = domain_ack_count(d);
	for (size_t i = 0; i < d->n_members; i++) {
		const struct member *m = &d->members[i];
		held[i] = m->nodeid == d->nodeid ? d->durable_seq : m->received;
		for (size_t j = i; j > 0 && held[j] > held[j - 1]; j--) {
			uint64_t t = held[j];
			held[j] = held[j - 1];
			held[j - 1] = t;
		}
	}
	uint64_t safe = held[need - 1];
	return safe < log_last(d) ? safe : log_last(d);
}

static bool receipt_matches(const struct domain *d, uint64_t seq, uint64_t hash)
{
	if (seq < d->applied)
		return true; /* we applied it: it was safe, so every log agrees */
	if (seq == d->applied)
		return hash == d->applied_hash;
	const struct log_entry *e = log_at(d, seq);
	return e && e->hash == hash;
}

/* Whether (from, to] holds one of our own requests not applied yet (only
 * the log is looked at: after an activation `from` is 0). */
static bool covers_own(const struct domain *d, uint64_t from, uint64_t to)
{
	if (to > log_last(d))
		to = log_last(d);
	for (uint64_t s = (from > d->applied ? from : d->applied) + 1; s <= to; s++) {
		const struct log_entry *e = log_at(d, s);
		if (e && e->origin == d->nodeid && e->incarnation == d->incarnation)
			return true;
	}
	return false;
}

bool log_on_receipt(struct domain *d, uint32_t nodeid, uint64_t epoch, uint64_t seq,
                    uint64_t hash, bool direct)
{
	struct member *m = domain_member(d, nodeid);
	if (!m || !domain_is_active(d) || epoch != d->epoch || seq <= m->received)
		return false;
	if (!receipt_matches(d, seq, hash)) {
		dlog(d, LOG_DEBUG, "receipt of node %u for %llu does not match our log, ignoring", nodeid,
		     (unsigned long long)seq);
		return false;
	}
	/* a hint for our next requests, never for what is applied: did the
	 * receipt that our request waited for come directly? */
	if (covers_own(d, m->received, seq))
		d->direct_taken = direct;
	m->received = seq;
	log_advance(d);
	return true;
}

/* The service's quorum set lags its state: the writer asks for a round. */
static void ask_resync_if_outdated(struct domain *d)
{
	if (d->resync_asked || !domain_is_active(d) || d->members[0].nodeid != d->nodeid ||
	    !domain_quorum_settling(d))
		return;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u64(&w, d->epoch);
	domain_send(d, WIRE_RESYNC, 0, &w);
	wbuf_done(&w);
	d->resync_asked = true;
}

/* Apply what became safe and answer what that settled. */
void log_advance(struct domain *d)
{
	uint64_t safe = log_safe_point(d);
	if (safe > d->applied) {
		log_apply_through(d, safe, true);
		ask_resync_if_outdated(d);
	}
	request_resolve(d);
	log_announce(d);
}

static bool own_request_in_flight(const struct domain *d)
{
	const struct pending *p;
	TAILQ_FOREACH(p, &d->pending, link)
		if (p->state != PENDING_QUEUED)
			return true;
	return false;
}

/* Tell the others how far we hold the log (see the top of this file). */
void log_announce(struct domain *d)
{
	if (d->durable_seq <= d->announced_seq)
		return;
	if (d->receipt_due)
		domain_send_receipt(d);
	else if (!own_request_in_flight(d))
		domain_send_receipt_lazily(d);
}

void held_add(struct domain *d, const struct wire_header *h, const struct wire_request *rq)
{
	struct held *x = calloc(1, sizeof(*x));
	uint8_t *body = malloc(rq->body_len ? rq->body_len : 1);
	if (!x || !body) {
		free(x);
		free(body);
		dlog(d, LOG_ERR, "no memory to hold request %u/%llu", h->origin,
		     (unsigned long long)h->request_id);
		return;
	}
	if (rq->body_len)
		memcpy(body, rq->body, rq->body_len);
	x->e.origin = h->origin;
	x->e.incarnation = h->incarnation;
	x->e.rid = h->request_id;
	x->e.op = rq->op;
	x->e.answer_direct = rq->flags & WIRE_REQ_DIRECT;
	x->e.body = body;
	x->e.body_len = rq->body_len;
	TAILQ_INSERT_TAIL(&d->held, x, link);
}

static struct held *held_pop(struct domain *d)
{
	struct held *x = TAILQ_FIRST(&d->held);
	if (x)
		TAILQ_REMOVE(&d->held, x, link);
	return x;
}

/* Log what was held, in delivery order. */
void held_log(struct domain *d)
{
	struct held *x;
	while ((x = held_pop(d))) {
		log_append(d, &x->e, true);
		free(x);
	}
}

/* The configuration turned out inquorate: what was held is refused. */
void held_reject(struct domain *d)
{
	struct held *x;
	while ((x = held_pop(d))) {
		if (x->e.origin == d->nodeid && x->e.incarnation == d->incarnation)
			request_on_rejected(d, x->e.rid);
		entry_free(&x->e);
		free(x);
	}
}

void held_clear(struct domain *d)
{
	struct held *x;
	while ((x = held_pop(d))) {
		entry_free(&x->e);
		free(x);
	}
}
