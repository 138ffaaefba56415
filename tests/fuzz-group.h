/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A few domains of one group in one process for tests/check_fuzz, joined
 * by a message loop with CPG's guarantees: one agreed order, every member
 * (the sender too) delivers every message of its configuration, and what was
 * sent before a configuration change is delivered before it. It records
 * what the domains produce (messages, journal records, snapshots, service
 * states) as fuzzing corpora, and lets a test slip extra messages in before
 * any delivery (tests/fuzz-group.c). */
#ifndef BLKSPACE_TESTS_FUZZ_GROUP_H
#define BLKSPACE_TESTS_FUZZ_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "fuzz-mutate.h"

#define FZ_NODES 3
#define FZ_INJECTED 0xffff /* queue tag of a message a test slipped in */
#define FZ_DROPPED 0xfffe  /* the same, one every member must drop whole */
#define NODES(...) nodes_mask((const uint32_t[]){ __VA_ARGS__, 0 })
#define TARGET 3 /* the node that joins fresh: it gets the mutated messages */
#define MLOG_DOMAIN "blkspace-log-fuzz"
#define RECORD_SEED 7 /* the recorded exchanges do not depend on FUZZ_SEED */

/* What the domains produced, for the mutation tests. */
struct fz_record {
	struct fuzz_corpus msgs;                 /* tag: wire type, from: sender */
	struct fuzz_corpus requests;             /* tag: op, from: origin; the bodies */
	struct fuzz_corpus states;               /* service .save outputs */
	struct fuzz_corpus journal;              /* every journal record, from: node */
	struct fuzz_corpus snaps;                /* every snapshot, from: node */
	/* per node, of the last exchange: its snapshot (tag 1) if it saved one,
	 * then its journal records since, and the status they must restore */
	struct fuzz_corpus store[FZ_NODES + 1];
	struct domain_status final[FZ_NODES + 1];
};

struct fz_group;

struct fz_node {
	struct fz_group *g;
	uint32_t id, pid;
	struct domain *d;
	uint32_t incarnation; /* of its next start */
	uint64_t trace;       /* hash of everything it sent */
	unsigned submitted, replies;
	uint64_t last_token;
	int last_result;
};

struct fz_group {
	const char *name;
	const struct domain_service_ops *svc;
	enum domain_quorum quorum;
	bool durable;
	struct fz_node nodes[FZ_NODES + 1]; /* by node id, 1..FZ_NODES */
	unsigned view;                      /* bit i: node i is a member */
	struct fuzz_corpus queue;           /* sent, not delivered yet; from: sender */
	size_t head;
	struct fz_record *rec;              /* NULL: not recording */
	struct fuzz *fz;                    /* for failure messages and random batches */
	bool random_batches;                /* else one delivery per batch */
	/* called before every delivery, may deliver or queue extra messages */
	void (*inject)(void *data, struct fz_group *g);
	void *inject_data;
	uint64_t next_token;
	unsigned steps;
};

enum kind { KIND_CONTROL, KIND_MLOG };

/* The control domain journals; a log domain keeps no journal and asks its
 * service (the registry) whether a configuration is quorate. */
void group_init(struct fz_group *g, struct fuzz *fz, enum kind kind);
/* Create node id's domain (a fresh process with an empty disk). */
struct domain *fz_start(struct fz_group *g, uint32_t id);
/* Destroy every domain and what is still queued. */
void fz_done(struct fz_group *g);

/* Deliver a message to node id; one it must drop (dropped) leaves no trace:
 * the same status, nothing sent, nothing written. */
void fz_deliver_to(struct fz_group *g, uint32_t id, uint32_t from, const void *msg, size_t len,
                   bool dropped);
/* Queue a message from sender that no domain sent (it does not count in a
 * batch), to be delivered next or after everything in flight. */
void fz_slip_in(struct fz_group *g, uint32_t sender, const void *msg, size_t len, bool next,
                bool dropped);
/* Deliver until nothing is in flight (fails on a message storm). */
void fz_run(struct fz_group *g);
/* A configuration change to the nodes in mask (started ones). What was sent
 * before it is delivered in the old configuration first; what that makes
 * the members send goes to the new one. Nodes outside both are paused. */
void fz_view(struct fz_group *g, unsigned mask);
struct domain_status fz_status(const struct fz_group *g, uint32_t id);
/* Free what a record holds. */
void fz_record_done(struct fz_record *rec);

/* The bit mask of a 0-terminated list of node ids (see NODES). */
unsigned nodes_mask(const uint32_t *ids);
/* Node id submits a property set (value) or unset (NULL); domain_submit's code. */
int submit_prop(struct fz_group *g, uint32_t id, const char *key, const char *value);
/* Node id submits REGISTER or UNREGISTER (op) of a log opening; domain_submit's code. */
int submit_register(struct fz_group *g, uint32_t id, uint16_t op, uint64_t instance);

/* The normal exchange of one kind of domain, big or small, drawing from fz. */
void scenario(struct fz_group *g, enum kind kind, struct fuzz *fz, bool big);

bool bit_is_set(const uint8_t *map, uint64_t i);
/* Fail unless state (of svc) satisfies what its operations rely on; after
 * says where, for the message. */
void check_service_state(struct fuzz *fz, const struct domain_service_ops *svc,
                         const void *state, const char *after);
/* Every member primary, caught up and holding the same state. */
void assert_converged(struct fuzz *fz, struct fz_group *g);
/* Record the normal exchanges of one kind of domain, small and big
 * (independent of FUZZ_SEED); free with fz_record_done. */
void record(struct fz_record *rec, enum kind kind);

#endif
