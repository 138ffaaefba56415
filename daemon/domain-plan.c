/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Domain engine: the plan of a configuration round, computed identically by
 * every member from the SYNC messages.
 *
 * The plan's members are those of the most recent epoch E whose logs agree
 * with the source at A, the highest applied point among them. The plan
 * commits every entry that may have been applied anywhere; entries after
 * the commit point were applied nowhere and are dropped (their origins
 * re-send them).
 *
 * How far that is depends on the ack rule (domain_ack_count):
 *
 * - Domains that apply only what every member holds (service quorum): an
 *   entry applied anywhere is held by every member of E, so the commit point
 *   is the end of the plan members' longest common prefix.
 *
 * - Cluster domains apply what a majority of the cluster holds. Members of
 *   E then may hold different tails: a partition ends an epoch with messages
 *   delivered on one side only. An entry (position, chain hash) may have
 *   been applied when its holders here plus the nodes absent from this
 *   configuration reach a majority. Walking up from A, the one such branch
 *   at each position extends the commit. If two branches both may have been
 *   applied, the members here cannot tell which one was: the plan is
 *   undecided and the configuration waits for more members (two such
 *   histories cannot both have been applied, so a member that holds one
 *   settles it). */
#include "config.h"

#include <string.h>

#include <qb/qblog.h>

#include "domain-internal.h"

/* The nodes a majority is counted of: the configured size, or the members
 * here if more are (a size reported too small must not shrink the majority). */
static size_t cluster_nodes(const struct domain *d)
{
	return d->group_cluster_size > d->n_members ? d->group_cluster_size : d->n_members;
}

size_t domain_ack_count(const struct domain *d)
{
	if (d->quorum != DOMAIN_QUORUM_CLUSTER || d->group_cluster_size == 0)
		return d->n_members;
	size_t majority = cluster_nodes(d) / 2 + 1;
	return majority < d->n_members ? majority : d->n_members;
}

/* Chain hash of member m at position s, if it reported one (s >= applied). */
static bool member_hash(const struct member *m, uint64_t s, uint64_t *ret)
{
	if (s == m->sync.applied) {
		*ret = m->sync.applied_hash;
		return true;
	}
	if (s < m->sync.applied || s - m->sync.applied > m->sync.n_tail)
		return false;
	*ret = m->tail[s - m->sync.applied - 1];
	return true;
}

/* The plan member with the highest applied point (the lowest nodeid on ties). */
static const struct member *plan_source(const struct domain *d, const bool *in)
{
	const struct member *src = NULL;
	for (size_t i = 0; i < d->n_members; i++)
		if (in[i] && (!src || d->members[i].sync.applied > src->sync.applied))
			src = &d->members[i]; /* sorted by nodeid: ties keep the lowest */
	return src;
}

/* Members of the plan: the most recent epoch, consistent with the source at A. */
static void plan_members(const struct domain *d, struct sync_plan *plan, bool *in)
{
	for (size_t i = 0; i < d->n_members; i++)
		in[i] = d->members[i].sync.epoch == plan->epoch;
	const struct member *src = plan_source(d, in);
	plan->applied = src->sync.applied;
	plan->source = src->nodeid;
	for (size_t i = 0; i < d->n_members; i++) {
		uint64_t h;
		if (!in[i])
			continue;
		if (!member_hash(&d->members[i], plan->applied, &h)) {
			/* a majority applied what it never received: the end of a partition */
			dlog(d, LOG_INFO, "node %u's log ends before node %u's applied point %llu; it "
			     "receives the state", d->members[i].nodeid, src->nodeid,
			     (unsigned long long)plan->applied);
			in[i] = false;
		} else if (h != src->sync.applied_hash) {
			/* it logged other messages at the end of a partition than the
			 * majority that applied through A */
			dlog(d, LOG_INFO, "node %u's log parts from node %u's before its applied point "
			     "%llu; it receives the state", d->members[i].nodeid, src->nodeid,
			     (unsigned long long)plan->applied);
			in[i] = false;
		}
	}
}

/* Longest prefix after A common to every plan member's log. */
static uint64_t common_prefix(const struct domain *d, const struct sync_plan *plan, const bool *in)
{
	uint64_t p = plan->applied;
	for (;;) {
		uint64_t want = 0, h;
		bool first = true;
		for (size_t i = 0; i < d->n_members; i++) {
			if (!in[i])
				continue;
			if (!member_hash(&d->members[i], p + 1, &h) || (!first && h != want))
				return p;
			want = h;
			first = false;
		}
		p++;
	}
}

/* The branches at position s among the plan members: distinct hashes and
 * how many members hold each. */
static size_t branches_at(const struct domain *d, const bool *in, uint64_t s, uint64_t *hash,
                          size_t *holders)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_members; i++) {
		uint64_t h;
		if (!in[i] || !member_hash(&d->members[i], s, &h))
			continue;
		size_t b = 0;
		while (b < n && hash[b] != h)
			b++;
		if (b == n) {
			hash[n] = h;
			holders[n++] = 0;
		}
		holders[b]++;
	}
	return n;
}

/* Cluster domains: extend the commit while exactly one branch may have been
 * applied; false when two may have been (the plan is undecided). */
static bool majority_prefix(const struct domain *d, struct sync_plan *plan, bool *in)
{
	size_t majority = cluster_nodes(d) / 2 + 1;
	size_t absent = cluster_nodes(d) - d->n_members;
	uint64_t s = plan->applied;
	for (;;) {
		uint64_t hash[DOMAIN_MAX_MEMBERS], pick = 0;
		size_t holders[DOMAIN_MAX_MEMBERS], possible = 0;
		size_t n = branches_at(d, in, s + 1, hash, holders);
		for (size_t b = 0; b < n; b++) {
			if (holders[b] + absent >= majority) {
				possible++;
				pick = hash[b];
			}
		}
		if (possible > 1) {
			plan->undecided_at = s + 1;
			return false;
		}
		if (possible == 0)
			break;
		s++;
		for (size_t i = 0; i < d->n_members; i++) {
			uint64_t h;
			in[i] = in[i] && member_hash(&d->members[i], s, &h) && h == pick;
		}
	}
	plan->commit = s;
	const struct member *src = plan_source(d, in); /* one holds the whole commit */
	plan->applied = src->sync.applied;
	plan->source = src->nodeid;
	return true;
}

void plan_make(struct domain *d, bool *in)
{
	struct sync_plan *plan = &d->plan;
	memset(plan, 0, sizeof(*plan));
	uint64_t promise = 0;
	plan->id = FNV64_INIT;
	for (size_t i = 0; i < d->n_members; i++) {
		const struct member *m = &d->members[i];
		uint8_t b[8];
		le32_write(b, m->nodeid);
		le32_write(b + 4, m->sync.sync_id);
		plan->id = fnv64(plan->id, b, sizeof(b));
		if (m->sync.epoch > plan->epoch)
			plan->epoch = m->sync.epoch;
		if (m->sync.promise > promise)
			promise = m->sync.promise;
	}
	plan->new_epoch = promise + 1;
	plan_members(d, plan, in);
	if (d->quorum != DOMAIN_QUORUM_CLUSTER)
		plan->commit = common_prefix(d, plan, in);
	else
		plan->undecided = !majority_prefix(d, plan, in);
}
