/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the domain engine shared by domain*.c; nothing else includes it. */
#ifndef BLKSPACE_DOMAIN_INTERNAL_H
#define BLKSPACE_DOMAIN_INTERNAL_H

#include <sys/queue.h>

#include "dedup.h"
#include "domain.h"
#include "wire.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar) \
	for ((var) = TAILQ_FIRST(head); (var) && ((tvar) = TAILQ_NEXT(var, field), 1); (var) = (tvar))
#endif

/* Unanswered local requests stay within this many consecutive request ids:
 * the dedup table keeps that many per origin. */
#define DOMAIN_WINDOW DEDUP_RING
/* Journal records after which the state is written as a snapshot instead. */
#define DOMAIN_COMPACT_RECORDS 4096

/* A delivered operation, logged but not yet applied (not yet safe). */
struct log_entry {
	uint64_t seq;
	uint64_t hash; /* chain hash through this entry */
	uint32_t origin;
	uint32_t incarnation;
	uint64_t rid;
	uint16_t op;
	uint8_t *body;
	size_t body_len;
	bool answer_direct; /* its origin takes direct receipts (not hashed, not journaled) */
};

struct member {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t last_sync_id; /* highest sync_id accepted from this process */
	bool have_sync;
	struct wire_sync sync;
	uint64_t *tail; /* the member's log hashes after its applied point */
	uint8_t *qinfo; /* its service quorum information (sync.qinfo_len bytes) */
	bool acked_epoch;
	uint64_t received; /* log position it holds durably in the current epoch */
};

enum pending_state {
	PENDING_QUEUED,  /* not sent yet (window full, or waiting for quorum) */
	PENDING_SENT,    /* multicast, not seen applied */
	PENDING_APPLIED, /* applied at (epoch, seq): answered once that is safe */
};

struct pending {
	TAILQ_ENTRY(pending) link;
	uint64_t rid;
	uint64_t token;
	bool has_token; /* false once the requester went away */
	uint16_t op;
	unsigned flags;
	uint8_t *body;
	size_t body_len;
	enum pending_state state;
	unsigned sends; /* multicasts so far: a refusal of one copy is final only if 1 */
	uint64_t epoch, seq;
	int result;
	uint8_t reply[DOMAIN_REPLY_MAX];
	size_t reply_len;
};
TAILQ_HEAD(pending_list, pending);

/* A request delivered while the domain could not log it yet. */
struct held {
	TAILQ_ENTRY(held) link;
	struct log_entry e; /* seq and hash assigned when it is logged */
};
TAILQ_HEAD(held_list, held);

/* The decision of a SYNC round, identical on every member. */
struct sync_plan {
	uint64_t id;        /* hash of the (member, sync_id) pairs it was made from */
	uint64_t epoch;     /* label epoch of the most recent members */
	uint64_t applied;   /* the source's applied point (A) */
	uint64_t commit;    /* every entry that may have been applied lies up to here (p) */
	uint32_t source;    /* holds p, highest A, lowest nodeid: sends the transfer */
	uint64_t new_epoch; /* max promise + 1 */
	bool undecided;     /* two histories may have been applied (domain-plan.c) */
	bool lifted;        /* quorate only because every member vouched (svc->is_lifted) */
	uint64_t undecided_at; /* the position where they part */
};

struct transfer_rx {
	bool active;
	uint32_t total_len, total_crc, received;
	uint8_t *data;
};

struct domain {
	char name[DOMAIN_NAME_MAX];
	uint32_t wire_id;
	uint32_t nodeid;
	uint32_t incarnation;
	uint32_t cluster_size;
	bool durable;
	enum domain_quorum quorum;
	const struct domain_service_ops *svc;
	const struct domain_env *env;
	void *host;

	/* the replicated state: applied through (epoch, applied) */
	void *state;
	struct dedup dedup;
	uint64_t epoch;
	uint64_t applied;
	uint64_t applied_hash;
	uint64_t promise; /* highest epoch promised, durable */

	/* the log: entries applied+1 .. applied+log_n, delivered, not yet safe */
	struct log_entry *log;
	size_t log_n, log_cap;
	uint64_t durable_seq;   /* log durable through here */
	uint64_t announced_seq; /* last receipt we multicast in this epoch */
	bool receipt_due;       /* logged entries of others (or an activation) await our receipt */
	bool receipt_ordered;   /* ... one of them from an origin that needs the ordered copy soon */
	bool direct_taken;      /* our last request was answered by a direct receipt */
	bool receipt_lazy;      /* our latest receipt went out lazily: the host may hold it */
	bool dirty;             /* persist() called since the last commit */
	bool snapshot_due;      /* transferred state not yet on disk (domain_snapshot_due) */
	bool snapshot_failing;  /* the last snapshot failed (it was logged) */
	unsigned records;       /* journal records since the last snapshot */

	/* the current configuration */
	enum domain_phase phase;
	uint64_t view_id;
	uint32_t sync_id; /* our count of configuration changes */
	uint32_t group_cluster_size;
	struct member members[DOMAIN_MAX_MEMBERS];
	size_t n_members;
	struct sync_plan plan;
	bool in_plan;   /* our log is part of the plan's common prefix */
	bool receiving; /* waiting for the transfer */
	bool epoch_ack_due;
	bool resync_asked; /* we sent RESYNC in this round */
	bool reround_asked; /* we sent REROUND in this round */
	uint64_t attest_hash; /* of what env->attest added to our last SYNC */
	struct transfer_rx rx;

	struct held_list held;
	struct pending_list pending;
	uint64_t next_rid;
	struct wbuf scratch;
};

/* domain.c */
void domain_send(struct domain *d, uint16_t type, uint64_t rid, const struct wbuf *payload);
/* A receipt that others wait for: directly, and ordered behind that. */
void domain_send_receipt(struct domain *d);
/* A receipt that nobody waits for: it may ride on our next message. */
void domain_send_receipt_lazily(struct domain *d);
struct member *domain_member(struct domain *d, uint32_t nodeid);
bool domain_is_quorate_config(const struct domain *d, bool *lifted);
void domain_changed(struct domain *d);

/* domain-sync.c */
void sync_start(struct domain *d);
void sync_on_sync(struct domain *d, struct member *m, const struct wire_sync *s, struct rbuf *r);
void sync_on_epoch_ack(struct domain *d, struct member *m, const struct wire_epoch_ack *a);
void sync_on_transfer(struct domain *d, uint32_t from, const struct wire_snapshot *s);
void sync_on_persisted(struct domain *d);
void sync_reset(struct domain *d);

/* domain-plan.c */
/* How many members must hold an entry before it is applied: all of them, or
 * in cluster domains a majority of the cluster. */
size_t domain_ack_count(const struct domain *d);
/* Decide this round's plan into d->plan; in[i]: member i's log is part of it. */
void plan_make(struct domain *d, bool *in);

/* domain-log.c */
uint64_t log_last(const struct domain *d);
const struct log_entry *log_at(const struct domain *d, uint64_t seq);
int log_append(struct domain *d, struct log_entry *e, bool persist);
void log_truncate(struct domain *d, uint64_t last);
void log_clear(struct domain *d);
void log_apply_through(struct domain *d, uint64_t seq, bool persist);
bool log_on_receipt(struct domain *d, uint32_t nodeid, uint64_t epoch, uint64_t seq,
                    uint64_t hash, bool direct);
void log_advance(struct domain *d);
void log_announce(struct domain *d);
uint64_t log_safe_point(const struct domain *d);
uint64_t chain_hash(uint64_t prev, const struct log_entry *e);
void entry_free(struct log_entry *e);
void entry_encode(struct wbuf *w, const struct log_entry *e);
int entry_decode(struct rbuf *r, struct log_entry *e);
void held_add(struct domain *d, const struct wire_header *h, const struct wire_request *rq);
void held_log(struct domain *d);
void held_reject(struct domain *d);
void held_clear(struct domain *d);

/* domain-state.c */
void persist_record(struct domain *d, struct wbuf *w, bool lazy);
void persist_promise(struct domain *d);
void apply_activation(struct domain *d, uint64_t new_epoch, uint64_t commit, const uint32_t *ids,
                      size_t n, bool persist);
int state_encode(const struct domain *d, struct wbuf *w, uint64_t log_upto);
int state_load(struct domain *d, struct rbuf *r);
int save_snapshot(struct domain *d);
void maybe_compact(struct domain *d);

/* domain-request.c */
void request_on_applied(struct domain *d, uint64_t rid, int result, const struct wbuf *reply);
void request_on_rejected(struct domain *d, uint64_t rid);
void request_recheck(struct domain *d);
void request_resolve(struct domain *d);
void request_send_queued(struct domain *d);
void request_clear(struct domain *d);

#define dlog(d, prio, fmt, ...) \
	qb_log(prio, "%s[%u]: " fmt, (d)->name, (d)->nodeid, ##__VA_ARGS__)

#endif
