/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A replicated domain: one CPG group plus the state its members apply in the
 * agreed order. This is the sans-I/O engine: it takes events (a delivered
 * message, a configuration change, a local request, "the journal is durable")
 * and answers through struct domain_env callbacks, which only queue work for
 * the host. It never touches a file descriptor, the clock or the loop.
 *
 * Protocol in short (doc/architecture.md has the reasoning):
 *  - a delivered request is appended to every member's log (made durable
 *    with the batch) and each member multicasts a receipt: the position and
 *    chain hash through which it holds the log durably;
 *  - an entry is applied once every member of the configuration holds it
 *    (it is "safe"), so applied state never differs between members and
 *    never needs to be rolled back; its origin answers the client then;
 *  - a configuration change starts a SYNC round: each member multicasts its
 *    applied point and the chain hashes of its unapplied log; everyone
 *    computes the same plan: the most recent epoch's members apply their
 *    longest common log prefix (it holds every safe entry), the others
 *    receive that state in chunks and replay what was delivered meanwhile;
 *  - only a quorate configuration applies anything: it first promises a new
 *    epoch (max promise + 1, durable on every member), so no two primary
 *    components share an epoch; then the membership event is applied;
 *  - (origin, incarnation, request id) identifies a request: re-sent
 *    requests are answered from the replicated dedup table, never applied
 *    twice. */
#ifndef BLKSPACE_DOMAIN_H
#define BLKSPACE_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define DOMAIN_MAX_MEMBERS 64
#define DOMAIN_NAME_MAX 64

/* Is id one of the n node ids at ids? */
static inline bool nodeid_in(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

struct domain;

/* The replicated state of one kind of domain. Every member is required. */
struct domain_service_ops {
	const char *name;
	void *(*create)(void);
	void (*destroy)(void *state);
	/* Apply one operation; deterministic: a function of state, origin, op and
	 * body only. Returns the result for the origin (0 or negative); may append
	 * a reply of at most DOMAIN_REPLY_MAX bytes. A rejected operation must
	 * leave the state unchanged. */
	int (*apply)(void *state, uint32_t origin, uint16_t op, const uint8_t *body, size_t len,
	             struct wbuf *reply);
	/* The configuration became active with these members (sorted nodeids). */
	void (*apply_membership)(void *state, uint64_t epoch, const uint32_t *nodeids, size_t n);
	int (*save)(const void *state, struct wbuf *out);
	/* Decode a saved state into a new object; NULL on malformed input. */
	void *(*load)(struct rbuf *in);
	/* Order-independent fingerprint of the state (tests compare replicas). */
	uint64_t (*digest)(const void *state);
	/* Only for DOMAIN_QUORUM_SERVICE (else NULL): what a configuration
	 * needs to be primary, as bytes announced in SYNC; and the test, made
	 * on the bytes of the plan's source (the most recent state). */
	int (*quorum_info)(const void *state, struct wbuf *out);
	bool (*is_quorate)(const uint8_t *info, size_t len, const uint32_t *members, size_t n);
	/* Optional: the quorum information should change (it is fixed between
	 * membership events). The engine then runs the configuration round
	 * again with the same members, ending in a membership event. */
	bool (*quorum_outdated)(const void *state);
	/* Optional: a configuration the quorum rule refuses may still go on
	 * when every member vouches, in what the host added to its quorum
	 * information (domain_env.attest), that the nodes it lacks are known
	 * dead. Called once per member with the source's information and that
	 * member's; the service's membership event then sees a configuration
	 * its quorum set would refuse and must make up for what it may not
	 * know (see mlog.c). */
	bool (*is_lifted)(const uint8_t *src_info, size_t src_len, const uint8_t *member_info,
	                  size_t member_len, const uint32_t *members, size_t n);
};

#define DOMAIN_REPLY_MAX 64

/* What the engine asks of its host. Calls only queue work. */
struct domain_env {
	/* Multicast msg to the group (agreed order, FIFO, never dropped). */
	void (*send)(void *host, const void *msg, size_t len);
	/* Optional: the same, but the host may hold msg a little and drop it
	 * when another message of the group goes out first (that one carries a
	 * newer receipt). NULL: send at once. */
	void (*send_lazy)(void *host, const void *msg, size_t len);
	/* Optional: also send msg (a receipt) to each other member at once,
	 * outside the agreed order and unreliably; the ordered copy follows.
	 * Negative when it could not go to every member. */
	int (*send_direct)(void *host, const void *msg, size_t len);
	/* Append a journal record; the host makes everything appended durable
	 * at the end of the current batch and then calls domain_persisted(). */
	void (*persist)(void *host, const void *rec, size_t len);
	/* Durably replace the journal by this snapshot (synchronous). */
	int (*save_snapshot)(void *host, const void *snap, size_t len);
	/* Answer the local request identified by token. */
	void (*reply)(void *host, uint64_t token, int result, const void *data, size_t len);
	/* The domain's phase, membership or epoch changed (for status and logs). */
	void (*changed)(void *host);
	/* Optional, service quorum only: append what this member knows of nodes
	 * outside the configuration to the quorum information of its SYNC
	 * (svc->is_lifted reads it). Must depend only on the host's facts. */
	void (*attest)(void *host, struct wbuf *out);
};

enum domain_quorum {
	DOMAIN_QUORUM_CLUSTER, /* majority of the configured cluster size */
	DOMAIN_QUORUM_SERVICE, /* the service decides from its state (svc->is_quorate) */
};

struct domain_params {
	const char *name; /* also the CPG group name */
	uint32_t nodeid;
	uint32_t incarnation;
	uint32_t cluster_size; /* configured number of nodes */
	bool durable;          /* journal to local disk before STABLE */
	/* First request id (0 = 1). Request identity is (nodeid, incarnation,
	 * id): a process that opens the same domain again must start beyond
	 * every id it used before, or the replicated dedup table takes its new
	 * requests for old ones. */
	uint64_t first_rid;
	enum domain_quorum quorum;
	const struct domain_service_ops *svc;
	const struct domain_env *env;
	void *host;
};

enum domain_phase {
	DOMAIN_OUTSIDE,   /* not a member of the group */
	DOMAIN_SYNC,      /* exchanging labels after a configuration change */
	DOMAIN_EPOCH,     /* quorate: waiting for every member's epoch promise */
	DOMAIN_ACTIVE,    /* primary component: operations are applied */
	DOMAIN_INQUORATE, /* not quorate: state frozen, changes refused */
};

enum domain_submit_flags {
	DOMAIN_WAIT_QUORUM = 1u << 0, /* hold instead of failing with NOQUORUM */
};

struct domain_member_status {
	uint32_t nodeid;
	uint64_t received; /* log position it holds durably, current epoch */
};

struct domain_status {
	const char *name;
	enum domain_phase phase;
	bool receiving; /* waiting for a state transfer */
	uint64_t epoch;
	uint64_t seq;         /* applied */
	uint64_t logged;      /* delivered and logged */
	uint64_t promise;
	uint64_t durable_seq; /* logged durably here */
	uint64_t safe_seq;    /* held durably by as many members as the ack rule asks */
	uint64_t undecided_at; /* waiting for more members: the logs part here (else 0) */
	uint32_t writer; /* lowest member nodeid, 0 when outside */
	uint32_t cluster_size;
	size_t n_members;
	struct domain_member_status members[DOMAIN_MAX_MEMBERS];
	size_t pending;   /* local requests not yet answered */
	uint64_t digest;  /* of the service state */
	bool lifted;      /* active although the quorum rule refused: its members vouched */
};

int domain_create(const struct domain_params *p, struct domain **ret);
void domain_destroy(struct domain *d);

/* Cold start: load the snapshot the host stored, then replay each journal
 * record in order. -EBADMSG / BLKSPACE_E_CORRUPT when they do not fit. */
int domain_restore_snapshot(struct domain *d, const void *snap, size_t len);
int domain_replay(struct domain *d, const void *rec, size_t len);

/* Transport events. members are (nodeid) sorted or not; pids tell a
 * restarted process from the old one. */
struct domain_member_id {
	uint32_t nodeid;
	uint32_t pid;
};
void domain_on_confchg(struct domain *d, const struct domain_member_id *members, size_t n);
void domain_on_deliver(struct domain *d, uint32_t nodeid, const void *msg, size_t len);
/* A message that came outside the agreed order (send_direct): only a
 * receipt of a current member is taken; anything else is dropped with a
 * log line. True when the receipt was new (the host then ends a batch). */
bool domain_on_direct(struct domain *d, uint32_t nodeid, const void *msg, size_t len);
/* The transport lost the group (corosync went away); it rejoins by itself. */
void domain_on_disconnect(struct domain *d);
/* The host calls this after every batch of deliveries (one dispatch), once
 * everything persisted so far is durable; also when nothing was persisted. */
void domain_persisted(struct domain *d);
/* Send a receipt the host may still hold (see send_lazy) now: before
 * leaving the group, when the others must have it. */
void domain_flush_receipt(struct domain *d);
/* True when persist() was called since the last domain_persisted(). */
bool domain_needs_commit(const struct domain *d);
/* The state was replaced by a transfer whose snapshot could not be written:
 * the host's commit must first write it with domain_save_snapshot() (the
 * journal on disk belongs to the state before, so no record may be added
 * to it), and nothing is acknowledged before. */
bool domain_snapshot_due(const struct domain *d);
/* Durably replace the journal by a snapshot of the state (also dropping
 * the records appended since the last commit: the snapshot holds them). */
int domain_save_snapshot(struct domain *d);

/* Submit a state-changing operation. token identifies it in reply(). Returns
 * 0 (the answer comes through reply()), or an error at once:
 * BLKSPACE_E_NOQUORUM, BLKSPACE_E_NOTREADY, -EMSGSIZE. */
int domain_submit(struct domain *d, uint16_t op, const void *body, size_t len, unsigned flags,
                  uint64_t token);
/* The requester is gone: drop its answer (the operation may still happen). */
void domain_cancel(struct domain *d, uint64_t token);
/* Fail every waiting request with err (shutdown). */
void domain_fail_pending(struct domain *d, int err);

void domain_get_status(const struct domain *d, struct domain_status *out);
const void *domain_service_state(const struct domain *d);
bool domain_is_active(const struct domain *d);
/* The service's quorum set is about to change (a RESYNC round is due or
 * running). A member that unregistered waits for it before it leaves, or
 * the others could be left judged by a set that still counts it. */
bool domain_quorum_settling(const struct domain *d);
/* The host's facts behind env->attest changed: a configuration refused by
 * the quorum rule runs its round again when they now differ from what
 * this member announced (one new round per round at most). */
void domain_attest_changed(struct domain *d);
const char *domain_phase_name(enum domain_phase p);
const char *domain_name(const struct domain *d);

/* Set the configured cluster size (announced in the next SYNC). */
void domain_set_cluster_size(struct domain *d, uint32_t n);

/* Call fn for every logged entry not applied yet, in log order (a service's
 * writer uses it to count marks that are coming, before they are safe). */
void domain_for_each_pending(const struct domain *d,
                             void (*fn)(void *data, uint32_t origin, uint16_t op,
                                        const uint8_t *body, size_t len),
                             void *data);
/* Lowest member nodeid of the current configuration (the writer), 0 outside. */
uint32_t domain_writer(const struct domain *d);
/* The phase, and the current configuration's member nodeids (sorted; room
 * for DOMAIN_MAX_MEMBERS): cheap, unlike domain_get_status(), which hashes
 * the whole service state. */
enum domain_phase domain_phase(const struct domain *d);
size_t domain_member_ids(const struct domain *d, uint32_t *ids);

#endif
