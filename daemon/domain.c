/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain engine: lifecycle, configuration changes and message dispatch.
 * The rounds after a configuration change live in domain-sync.c, the log and
 * its receipts in domain-log.c, snapshots and the journal in domain-state.c,
 * local requests in domain-request.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "domain-internal.h"

int domain_create(const struct domain_params *p, struct domain **ret)
{
	if (!p->name || strlen(p->name) >= DOMAIN_NAME_MAX || !p->svc || !p->env || !p->nodeid)
		return -EINVAL;
	if (p->quorum == DOMAIN_QUORUM_SERVICE && (!p->svc->quorum_info || !p->svc->is_quorate))
		return -EINVAL;
	struct domain *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	strcpy(d->name, p->name);
	d->wire_id = wire_domain_id(p->name);
	d->nodeid = p->nodeid;
	d->incarnation = p->incarnation;
	d->cluster_size = p->cluster_size ? p->cluster_size : 1;
	d->durable = p->durable;
	d->quorum = p->quorum;
	d->svc = p->svc;
	d->env = p->env;
	d->host = p->host;
	d->phase = DOMAIN_OUTSIDE;
	d->next_rid = p->first_rid ? p->first_rid : 1;
	dedup_init(&d->dedup);
	wbuf_init(&d->scratch);
	TAILQ_INIT(&d->held);
	TAILQ_INIT(&d->pending);
	d->state = d->svc->create();
	if (!d->state) {
		free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

static void members_clear(struct domain *d)
{
	for (size_t i = 0; i < d->n_members; i++) {
		free(d->members[i].tail);
		free(d->members[i].qinfo);
	}
	d->n_members = 0;
}

void domain_destroy(struct domain *d)
{
	if (!d)
		return;
	request_clear(d);
	held_clear(d);
	sync_reset(d);
	log_clear(d);
	members_clear(d);
	d->svc->destroy(d->state);
	dedup_done(&d->dedup);
	wbuf_done(&d->scratch);
	free(d->log);
	free(d);
}

const char *domain_phase_name(enum domain_phase p)
{
	switch (p) {
	case DOMAIN_OUTSIDE: return "outside";
	case DOMAIN_SYNC: return "sync";
	case DOMAIN_EPOCH: return "epoch";
	case DOMAIN_ACTIVE: return "active";
	case DOMAIN_INQUORATE: return "inquorate";
	}
	return "unknown";
}

const char *domain_name(const struct domain *d) { return d->name; }
const void *domain_service_state(const struct domain *d) { return d->state; }
bool domain_is_active(const struct domain *d) { return d->phase == DOMAIN_ACTIVE && !d->receiving; }
bool domain_needs_commit(const struct domain *d) { return d->dirty; }
bool domain_snapshot_due(const struct domain *d) { return d->snapshot_due; }
int domain_save_snapshot(struct domain *d) { return save_snapshot(d); }

bool domain_quorum_settling(const struct domain *d)
{
	if (d->quorum != DOMAIN_QUORUM_SERVICE || !d->svc->quorum_outdated || !d->state)
		return false;
	bool running = d->phase == DOMAIN_SYNC || d->phase == DOMAIN_EPOCH || d->phase == DOMAIN_ACTIVE;
	return running && d->svc->quorum_outdated(d->state);
}

void domain_set_cluster_size(struct domain *d, uint32_t n) { d->cluster_size = n ? n : 1; }

void domain_changed(struct domain *d)
{
	if (d->env->changed)
		d->env->changed(d->host);
}

struct member *domain_member(struct domain *d, uint32_t nodeid)
{
	for (size_t i = 0; i < d->n_members; i++)
		if (d->members[i].nodeid == nodeid)
			return &d->members[i];
	return NULL;
}

/* Decided on what every member saw in the SYNC round (the plan is made):
 * the service's rule on the source's quorum information, or, failing that,
 * every member vouching for the nodes it lacks (svc->is_lifted). */
bool domain_is_quorate_config(const struct domain *d, bool *lifted)
{
	*lifted = false;
	if (d->quorum == DOMAIN_QUORUM_CLUSTER)
		return d->n_members >= d->group_cluster_size / 2 + 1;
	const struct member *src = NULL;
	uint32_t ids[DOMAIN_MAX_MEMBERS];
	for (size_t i = 0; i < d->n_members; i++) {
		ids[i] = d->members[i].nodeid;
		if (d->members[i].nodeid == d->plan.source)
			src = &d->members[i];
	}
	if (!src)
		return false;
	if (d->svc->is_quorate(src->qinfo, src->sync.qinfo_len, ids, d->n_members))
		return true;
	if (!d->svc->is_lifted)
		return false;
	for (size_t i = 0; i < d->n_members; i++) {
		const struct member *m = &d->members[i];
		if (!d->svc->is_lifted(src->qinfo, src->sync.qinfo_len, m->qinfo, m->sync.qinfo_len,
		                       ids, d->n_members))
			return false;
	}
	*lifted = true;
	return true;
}

void domain_for_each_pending(const struct domain *d,
                             void (*fn)(void *data, uint32_t origin, uint16_t op,
                                        const uint8_t *body, size_t len),
                             void *data)
{
	for (size_t i = 0; i < d->log_n; i++)
		fn(data, d->log[i].origin, d->log[i].op, d->log[i].body, d->log[i].body_len);
}

enum domain_phase domain_phase(const struct domain *d) { return d->phase; }

size_t domain_member_ids(const struct domain *d, uint32_t *ids)
{
	for (size_t i = 0; i < d->n_members; i++)
		ids[i] = d->members[i].nodeid;
	return d->n_members;
}

uint32_t domain_writer(const struct domain *d)
{
	return d->phase != DOMAIN_OUTSIDE && d->n_members ? d->members[0].nodeid : 0;
}

/* Encode a message of this domain into d->scratch, our receipt piggy-backed. */
static int encode(struct domain *d, uint16_t type, uint64_t rid, const struct wbuf *payload)
{
	struct wire_header h = {
		.version = WIRE_PROTO_MAX,
		.type = type,
		.domain = d->wire_id,
		.origin = d->nodeid,
		.incarnation = d->incarnation,
		.request_id = rid,
	};
	if (domain_is_active(d) && d->durable_seq > 0) {
		const struct log_entry *e = log_at(d, d->durable_seq);
		h.stable_epoch = d->epoch;
		h.stable_seq = d->durable_seq;
		h.stable_hash = e ? e->hash : d->applied_hash;
		d->announced_seq = d->durable_seq;
		if (d->durable_seq == log_last(d))
			d->receipt_due = d->receipt_ordered = false;
	}
	struct wbuf *w = &d->scratch;
	wbuf_reset(w);
	wire_begin(w, &h);
	if (payload)
		wbuf_put_bytes(w, payload->data, payload->len);
	int rc = wire_finish(w);
	if (rc < 0)
		dlog(d, LOG_ERR, "cannot encode %s message: %s", wire_type_name(type),
		     blkspace_strerror(rc));
	return rc;
}

void domain_send(struct domain *d, uint16_t type, uint64_t rid, const struct wbuf *payload)
{
	if (encode(d, type, rid, payload) == 0) {
		d->receipt_lazy = false; /* the host drops a held receipt: this one is newer */
		d->env->send(d->host, d->scratch.data, d->scratch.len);
	}
}

/* A receipt that others wait for goes directly, and ordered behind that:
 * at once, unless it went directly to every member and every origin it
 * answers takes direct receipts; then the host may hold the ordered copy
 * (it rides on a later message, or goes when the hold ends). */
void domain_send_receipt(struct domain *d)
{
	bool ordered = d->receipt_ordered;
	if (encode(d, WIRE_STABLE, 0, NULL) < 0)
		return;
	/* the direct copy first: it is the one the origin waits for */
	if (!d->env->send_direct || d->env->send_direct(d->host, d->scratch.data, d->scratch.len) < 0)
		ordered = true;
	d->receipt_lazy = !ordered && d->env->send_lazy;
	if (d->receipt_lazy)
		d->env->send_lazy(d->host, d->scratch.data, d->scratch.len);
	else
		d->env->send(d->host, d->scratch.data, d->scratch.len);
}

void domain_send_receipt_lazily(struct domain *d)
{
	if (encode(d, WIRE_STABLE, 0, NULL) < 0)
		return;
	if (d->env->send_lazy) {
		d->receipt_lazy = true;
		d->env->send_lazy(d->host, d->scratch.data, d->scratch.len);
	} else {
		d->env->send(d->host, d->scratch.data, d->scratch.len);
	}
}

void domain_flush_receipt(struct domain *d)
{
	if (d->receipt_lazy)
		domain_send(d, WIRE_STABLE, 0, NULL);
}

static int cmp_member_id(const void *a, const void *b)
{
	const struct domain_member_id *x = a, *y = b;
	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static uint64_t view_hash(const struct domain_member_id *ids, size_t n)
{
	uint64_t h = FNV64_INIT;
	for (size_t i = 0; i < n; i++) {
		uint8_t b[8];
		le32_write(b, ids[i].nodeid);
		le32_write(b + 4, ids[i].pid);
		h = fnv64(h, b, sizeof(b));
	}
	return h;
}

/* Keep per-process history (last sync_id) for members that stay. */
static void set_members(struct domain *d, const struct domain_member_id *ids, size_t n)
{
	uint32_t old_ids[DOMAIN_MAX_MEMBERS], old_pids[DOMAIN_MAX_MEMBERS], old_sync[DOMAIN_MAX_MEMBERS];
	size_t n_old = d->n_members;
	for (size_t k = 0; k < n_old; k++) {
		old_ids[k] = d->members[k].nodeid;
		old_pids[k] = d->members[k].pid;
		old_sync[k] = d->members[k].last_sync_id;
	}
	members_clear(d);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && ids[i].nodeid == ids[i - 1].nodeid) {
			dlog(d, LOG_WARNING, "node %u appears twice in the group (pids %u, %u), ignoring the second",
			     ids[i].nodeid, ids[i - 1].pid, ids[i].pid);
			continue;
		}
		struct member *m = &d->members[d->n_members++];
		memset(m, 0, sizeof(*m));
		m->nodeid = ids[i].nodeid;
		m->pid = ids[i].pid;
		for (size_t k = 0; k < n_old; k++)
			if (old_ids[k] == m->nodeid && old_pids[k] == m->pid)
				m->last_sync_id = old_sync[k];
	}
}

/* A configuration round begins: what the last one left is dropped. */
static void start_round(struct domain *d, const struct domain_member_id *ids, size_t n)
{
	held_clear(d);
	sync_reset(d);
	set_members(d, ids, n);
	d->view_id = view_hash(ids, n);
	d->sync_id++;
	d->resync_asked = false;
	d->reround_asked = false;
}

/* The same members run the configuration round again. */
static void restart_round(struct domain *d)
{
	struct domain_member_id ids[DOMAIN_MAX_MEMBERS];
	for (size_t i = 0; i < d->n_members; i++)
		ids[i] = (struct domain_member_id){ d->members[i].nodeid, d->members[i].pid };
	start_round(d, ids, d->n_members);
	sync_start(d);
}

/* RESYNC: the same members run the configuration round again, so that a
 * changed quorum set takes effect in a new epoch (see quorum_outdated).
 * Every member meets it at the same point of the order; a stale one from
 * an earlier epoch is ignored. */
static int on_resync(struct domain *d, uint32_t from, struct rbuf *r)
{
	uint64_t epoch = rbuf_get_u64(r);
	rbuf_expect_end(r);
	if (rbuf_error(r))
		return rbuf_error(r);
	if (d->phase != DOMAIN_ACTIVE || epoch != d->epoch)
		return 0;
	dlog(d, LOG_INFO, "node %u asked for a new round: the quorum set changed", from);
	restart_round(d);
	return 0;
}

/* REROUND: a member of a configuration the quorum rule refused has news
 * (env->attest): the same members run the round again. Every member of the
 * view refused it at the same point of the order, so all restart alike;
 * one from an earlier view is ignored. */
static int on_reround(struct domain *d, uint32_t from, struct rbuf *r)
{
	uint64_t view = rbuf_get_u64(r);
	rbuf_expect_end(r);
	if (rbuf_error(r))
		return rbuf_error(r);
	if (d->phase != DOMAIN_INQUORATE || view != d->view_id)
		return 0;
	dlog(d, LOG_INFO, "node %u has news of the nodes outside: a new round", from);
	restart_round(d);
	return 0;
}

void domain_attest_changed(struct domain *d)
{
	if (d->quorum != DOMAIN_QUORUM_SERVICE || !d->env->attest || d->phase != DOMAIN_INQUORATE ||
	    d->plan.undecided || d->reround_asked)
		return;
	struct wbuf w;
	wbuf_init(&w);
	d->env->attest(d->host, &w);
	uint64_t hash = fnv64(FNV64_INIT, w.data, w.len);
	wbuf_reset(&w);
	if (hash != d->attest_hash) {
		wbuf_put_u64(&w, d->view_id);
		domain_send(d, WIRE_REROUND, 0, &w);
		d->reround_asked = true;
	}
	wbuf_done(&w);
}

void domain_on_confchg(struct domain *d, const struct domain_member_id *members, size_t n)
{
	struct domain_member_id ids[DOMAIN_MAX_MEMBERS];
	if (n > DOMAIN_MAX_MEMBERS) {
		dlog(d, LOG_ERR, "%zu members exceed the limit of %d; using the lowest node ids", n,
		     DOMAIN_MAX_MEMBERS);
		n = DOMAIN_MAX_MEMBERS;
	}
	if (n)
		memcpy(ids, members, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_member_id);
	bool self = false;
	for (size_t i = 0; i < n; i++)
		self |= ids[i].nodeid == d->nodeid;
	start_round(d, ids, n);
	if (!self) {
		d->phase = DOMAIN_OUTSIDE; /* we left (or were never in) this configuration */
		members_clear(d);
		domain_changed(d);
		return;
	}
	dlog(d, LOG_INFO, "configuration change: %zu members, view %016llx", d->n_members,
	     (unsigned long long)d->view_id);
	sync_start(d);
}

void domain_on_disconnect(struct domain *d)
{
	held_clear(d);
	sync_reset(d);
	members_clear(d);
	d->phase = DOMAIN_OUTSIDE;
	dlog(d, LOG_WARNING, "lost the group, waiting to rejoin");
	domain_changed(d);
}

static int on_request(struct domain *d, const struct wire_header *h, struct rbuf *r)
{
	struct wire_request rq;
	if (wire_get_request(r, &rq) < 0 || h->request_id == 0)
		return -EBADMSG;
	if (d->phase == DOMAIN_INQUORATE) {
		/* every member of this configuration refuses it alike */
		if (h->origin == d->nodeid && h->incarnation == d->incarnation)
			request_on_rejected(d, h->request_id);
		return 0;
	}
	held_add(d, h, &rq);
	if (domain_is_active(d))
		held_log(d);
	return 0;
}

/* Acts on a message whose header decoded; false when its body is malformed
 * (then nothing of it, not even the receipt in its header, is used). */
static bool dispatch(struct domain *d, struct member *m, const struct wire_header *h,
                     struct rbuf *r)
{
	int rc = 0;
	switch (h->type) {
	case WIRE_REQUEST:
		rc = on_request(d, h, r);
		break;
	case WIRE_STABLE:
		rbuf_expect_end(r);
		rc = rbuf_error(r);
		break;
	case WIRE_SYNC: {
		struct wire_sync s;
		if ((rc = wire_get_sync(r, &s)) == 0)
			sync_on_sync(d, m, &s, r);
		break;
	}
	case WIRE_EPOCH_ACK: {
		struct wire_epoch_ack a;
		if ((rc = wire_get_epoch_ack(r, &a)) == 0)
			sync_on_epoch_ack(d, m, &a);
		break;
	}
	case WIRE_RESYNC:
		rc = on_resync(d, m->nodeid, r);
		break;
	case WIRE_REROUND:
		rc = on_reround(d, m->nodeid, r);
		break;
	case WIRE_SNAPSHOT: {
		struct wire_snapshot s;
		if ((rc = wire_get_snapshot(r, &s)) == 0)
			sync_on_transfer(d, m->nodeid, &s);
		break;
	}
	}
	if (rc < 0)
		dlog(d, LOG_WARNING, "malformed %s from node %u, ignoring", wire_type_name(h->type),
		     h->origin);
	return rc == 0;
}

void domain_on_deliver(struct domain *d, uint32_t nodeid, const void *msg, size_t len)
{
	struct wire_header h;
	struct rbuf r;
	int rc = wire_decode_header(msg, len, &h, &r);
	if (rc < 0) {
		dlog(d, LOG_WARNING, "undecodable message (%zu bytes) from node %u: %s, ignoring", len,
		     nodeid, rc == -EPROTONOSUPPORT ? "unsupported version"
		             : rc == -ENOMSG       ? "unknown type"
		                                   : "bad header");
		return;
	}
	if (h.domain != d->wire_id || h.origin != nodeid) {
		dlog(d, LOG_WARNING, "%s from node %u claims domain %08x origin %u, ignoring",
		     wire_type_name(h.type), nodeid, h.domain, h.origin);
		return;
	}
	struct member *m = domain_member(d, nodeid);
	if (!m || d->phase == DOMAIN_OUTSIDE) {
		dlog(d, LOG_DEBUG, "%s from non-member node %u, ignoring", wire_type_name(h.type), nodeid);
		return;
	}
	if (!dispatch(d, m, &h, &r))
		return;
	if (h.stable_epoch)
		log_on_receipt(d, nodeid, h.stable_epoch, h.stable_seq, h.stable_hash, false);
}

/* A receipt is a fact about the sender's log (position, chain hash, epoch)
 * that stays true, so it may be taken in any order, late or twice;
 * log_on_receipt() ignores one of another epoch or a diverged log. */
bool domain_on_direct(struct domain *d, uint32_t nodeid, const void *msg, size_t len)
{
	struct wire_header h;
	struct rbuf r;
	int rc = wire_decode_header(msg, len, &h, &r);
	if (rc == 0 && h.type == WIRE_STABLE) {
		rbuf_expect_end(&r);
		rc = rbuf_error(&r);
	}
	if (rc < 0 || h.type != WIRE_STABLE || h.domain != d->wire_id || h.origin != nodeid) {
		dlog(d, LOG_WARNING, "direct message (%zu bytes) from node %u is not its receipt for "
		     "this domain, ignoring", len, nodeid);
		return false;
	}
	return h.stable_epoch &&
	       log_on_receipt(d, nodeid, h.stable_epoch, h.stable_seq, h.stable_hash, true);
}

void domain_persisted(struct domain *d)
{
	d->dirty = false;
	d->durable_seq = log_last(d);
	sync_on_persisted(d);
	if (domain_is_active(d))
		log_advance(d); /* our own durability may be what was missing */
	maybe_compact(d);
}

void domain_get_status(const struct domain *d, struct domain_status *out)
{
	memset(out, 0, sizeof(*out));
	out->name = d->name;
	out->phase = d->phase;
	out->receiving = d->receiving;
	out->epoch = d->epoch;
	out->seq = d->applied;
	out->logged = log_last(d);
	out->promise = d->promise;
	out->durable_seq = d->durable_seq;
	out->safe_seq = log_safe_point(d);
	out->lifted = d->phase == DOMAIN_ACTIVE && d->plan.lifted;
	if (d->phase == DOMAIN_INQUORATE && d->plan.undecided)
		out->undecided_at = d->plan.undecided_at;
	out->writer = d->n_members ? d->members[0].nodeid : 0;
	out->cluster_size = d->group_cluster_size ? d->group_cluster_size : d->cluster_size;
	out->n_members = d->n_members;
	for (size_t i = 0; i < d->n_members; i++) {
		out->members[i].nodeid = d->members[i].nodeid;
		out->members[i].received = d->members[i].received;
	}
	struct pending *p;
	TAILQ_FOREACH(p, &d->pending, link)
		out->pending++;
	out->digest = d->svc->digest(d->state) ^ dedup_digest(&d->dedup);
}
