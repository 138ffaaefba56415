/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Going on without a fenced majority of a mirror log.
 *
 * A log's configuration may change it only when it holds a majority of the
 * log's quorum set (mlog.h). When the others died, that rule alone would
 * keep the survivors waiting for nodes that never come back. Each member
 * may vouch, in its SYNC, for the nodes that are fenced; when every member
 * does and the absent nodes of the quorum set are all among them, the
 * configuration goes on (mlog_is_lifted()) and resyncs the whole mirror
 * (the fenced nodes may have changed the log after our last epoch).
 *
 * A member vouches only when no node outside the configuration can be
 * writing the mirror unknown to it:
 *  - its control domain is active (it is in the cluster's primary
 *    partition, where Pacemaker fences the others);
 *  - every configured node that is not in the log's configuration was
 *    fenced since it left the control configuration, or is in the control
 *    configuration and the cluster engine's membership now and was not a
 *    member of this log since its last active configuration, or was fenced
 *    since (a node whose daemon runs with us and does not hold the log has
 *    no marks we lack; one that was in the log and left may have some).
 * What "fenced since it left" rests on: Pacemaker's fencer through
 * fence-watch.c, `blkspace node confirm-fenced`, fencing = none, or the
 * simulator's fencer, all through node_fence_confirmed(). */
#include "config.h"

#include "node-mlog.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

static void add_id(uint32_t *ids, size_t *n, size_t max, uint32_t id)
{
	if (nodeid_in(ids, *n, id) || *n == max)
		return;
	size_t i = *n;
	while (i > 0 && ids[i - 1] > id) {
		ids[i] = ids[i - 1];
		i--;
	}
	ids[i] = id;
	(*n)++;
}

/* Members of the active control configuration; 0 when it is not active. */
static size_t control_members(const struct node *n, uint32_t *ids)
{
	if (!n->started || !domain_is_active(n->control.domain))
		return 0;
	return domain_member_ids(n->control.domain, ids);
}

/* Every node the cluster is configured with or ever had a daemon in it. */
static size_t cluster_nodes(const struct node *n, uint32_t *ids, bool *engine_member)
{
	struct quorum_view v;
	size_t count = 0;
	n->p.quorum->get_view(n->p.quorum_backend, &v);
	for (size_t i = 0; i < v.n_nodes && i < QUORUM_MAX_NODES; i++) {
		ids[count] = v.nodes[i].nodeid;
		engine_member[count++] = v.nodes[i].member;
	}
	const struct control_state *cs = node_control_state(n);
	for (size_t i = 0; cs && i < cs->nodes.n && count < QUORUM_MAX_NODES; i++) {
		if (!nodeid_in(ids, count, cs->nodes.items[i].nodeid)) {
			ids[count] = cs->nodes.items[i].nodeid;
			engine_member[count++] = false;
		}
	}
	return count;
}

static bool knows_fenced(const struct node *n, uint32_t nodeid)
{
	return nodeid_in(n->fenced, n->n_fenced, nodeid);
}

/* Tell every log refused by its quorum rule that our facts changed. */
static void attest_changed_all(struct node *n)
{
	struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link)
		if (l->has_domain)
			domain_attest_changed(l->nd.domain);
}

static void drop_id(uint32_t *ids, size_t *n, uint32_t id)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (ids[i] != id)
			ids[k++] = ids[i];
	*n = k;
}

/* A fenced node's kernel state is gone: it no longer counts as a recent
 * member of any log, also once it is back. */
void node_note_fenced(struct node *n, uint32_t nodeid)
{
	uint32_t ctl[DOMAIN_MAX_MEMBERS];
	size_t n_ctl = control_members(n, ctl);
	if (nodeid == 0 || nodeid == n->nodeid || nodeid_in(ctl, n_ctl, nodeid) ||
	    knows_fenced(n, nodeid))
		return; /* back with us: news of an earlier fencing */
	add_id(n->fenced, &n->n_fenced, QUORUM_MAX_NODES, nodeid);
	struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link)
		drop_id(l->seen, &l->n_seen, nodeid);
	attest_changed_all(n);
}

void node_lift_control_changed(struct node *n)
{
	uint32_t ctl[DOMAIN_MAX_MEMBERS];
	size_t n_ctl = control_members(n, ctl), k = 0;
	for (size_t i = 0; i < n->n_fenced; i++)
		if (!nodeid_in(ctl, n_ctl, n->fenced[i]))
			n->fenced[k++] = n->fenced[i];
	n->n_fenced = k; /* a node back with us needs a new fencing once it leaves */
	attest_changed_all(n);
}

void mlog_lift_track(struct mlog_local *l)
{
	uint32_t ids[DOMAIN_MAX_MEMBERS];
	if (!l->nd.domain)
		return; /* still being opened */
	if (domain_is_active(l->nd.domain))
		l->n_seen = 0;
	size_t n = domain_member_ids(l->nd.domain, ids);
	for (size_t i = 0; i < n; i++)
		add_id(l->seen, &l->n_seen, DOMAIN_MAX_MEMBERS, ids[i]);
}

/* May a node outside the log's configuration be left out of the vouching? */
static bool outside_is_harmless(const struct mlog_local *l, uint32_t id, const uint32_t *ctl,
                                size_t n_ctl, bool engine_member)
{
	const struct node *n = l->node;
	if (knows_fenced(n, id))
		return true;
	return engine_member && nodeid_in(ctl, n_ctl, id) && !nodeid_in(l->seen, l->n_seen, id);
}

void mlog_lift_attest(struct mlog_local *l, struct wbuf *out)
{
	const struct node *n = l->node;
	uint32_t ctl[DOMAIN_MAX_MEMBERS], all[QUORUM_MAX_NODES], mine[DOMAIN_MAX_MEMBERS];
	bool engine_member[QUORUM_MAX_NODES];
	size_t n_ctl = control_members(n, ctl);
	if (!n_ctl || !n->n_fenced)
		return; /* nothing to vouch for, or not in the primary partition */
	size_t n_mine = domain_member_ids(l->nd.domain, mine);
	size_t n_all = cluster_nodes(n, all, engine_member);
	for (size_t i = 0; i < n_all; i++)
		if (!nodeid_in(mine, n_mine, all[i]) &&
		    !outside_is_harmless(l, all[i], ctl, n_ctl, engine_member[i]))
			return;
	for (size_t i = 0; i < l->n_seen; i++)
		if (!nodeid_in(mine, n_mine, l->seen[i]) && !knows_fenced(n, l->seen[i]))
			return;
	mlog_encode_attestation(out, n->fenced, n->n_fenced);
}

size_t node_fence_outside_wanted(const struct node *n, uint32_t *nodeids, size_t max)
{
	uint32_t ctl[DOMAIN_MAX_MEMBERS], all[QUORUM_MAX_NODES];
	bool engine_member[QUORUM_MAX_NODES], refused = false;
	const struct mlog_local *l;
	LIST_FOREACH(l, &n->logs, link)
		refused |= l->has_domain && domain_phase(l->nd.domain) == DOMAIN_INQUORATE;
	size_t n_ctl = control_members(n, ctl), count = 0;
	if (!refused || !n_ctl)
		return 0;
	size_t n_all = cluster_nodes(n, all, engine_member);
	for (size_t i = 0; i < n_all && count < max; i++)
		if (!nodeid_in(ctl, n_ctl, all[i]) && !knows_fenced(n, all[i]))
			nodeids[count++] = all[i];
	return count;
}
