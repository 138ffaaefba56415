/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulated closed process groups (see simnet.h for the model). */
#include "config.h"

#include "simnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

#define SIMNET_MAX_GROUPS 64
#define SIMNET_MAX_CONFIGS (SIMNET_MAX_GROUPS * SIMNET_MAX_NODES)
#define SIMNET_MAX_BATCH 3 /* messages one member delivers in one dispatch */

struct simmsg {
	struct simmsg *next;
	struct simnet_group *from;
	bool crossed; /* already crossed one configuration change in an outbox */
	size_t len;
	uint8_t data[];
};

struct msgq {
	struct simmsg *head, *tail;
	size_t n;
};

enum ep_state { EP_JOINING, EP_JOINED, EP_LEAVING, EP_GONE };

struct config;

struct simnet_group {
	struct simnet *net;
	uint32_t node, pid;
	unsigned group;
	enum ep_state state;
	bool dead;     /* its process was killed */
	bool detached; /* its owner is gone: no more callbacks */
	struct transport_callbacks cb;
	void *cb_data;
	struct msgq outbox;
	struct simmsg *lazy; /* simnet_send_lazy(): released by a later step, dropped by a send */
	struct config *config;
};

/* The ring of a configuration: messages in agreed order; each member
 * delivers them in that order at its own pace (its cursor). */
struct config {
	unsigned group;
	unsigned component;
	struct simnet_group *members[SIMNET_MAX_NODES];
	size_t cursor[SIMNET_MAX_NODES]; /* next ring index member i delivers */
	size_t n;
	struct simmsg **ring;
	size_t ring_n, ring_cap;
};

/* A datagram of simnet_send_direct() to one node's endpoint of a group. */
struct direct_msg {
	struct direct_msg *next;
	uint32_t from, to;
	unsigned group;
	size_t len;
	uint8_t data[];
};

struct sim_node {
	bool alive;
	uint32_t pid;
	unsigned component;
};

struct simnet {
	unsigned n_nodes;
	uint64_t rng;
	struct sim_node nodes[SIMNET_MAX_NODES + 1];
	char groups[SIMNET_MAX_GROUPS][DOMAIN_NAME_MAX];
	unsigned n_groups;
	struct simnet_group **eps; /* every endpoint not yet freed, in creation order */
	size_t n_eps, cap_eps;
	struct config *configs[SIMNET_MAX_CONFIGS];
	size_t n_configs;
	struct direct_msg *direct; /* in no order: each step picks one at random */
	size_t n_direct;
	uint64_t direct_delivered, direct_lost;
};

static void q_push(struct msgq *q, struct simmsg *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->n++;
}

static struct simmsg *q_pop(struct msgq *q)
{
	struct simmsg *m = q->head;
	if (m) {
		q->head = m->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
	}
	return m;
}

static void q_clear(struct msgq *q)
{
	struct simmsg *m;
	while ((m = q_pop(q)))
		free(m);
}

struct simnet *simnet_create(unsigned n_nodes, uint64_t seed)
{
	if (n_nodes == 0 || n_nodes > SIMNET_MAX_NODES)
		return NULL;
	struct simnet *net = calloc(1, sizeof(*net));
	if (net) {
		net->n_nodes = n_nodes;
		net->rng = seed;
	}
	return net;
}

static void config_free(struct config *c)
{
	for (size_t i = 0; i < c->ring_n; i++)
		free(c->ring[i]);
	free(c->ring);
	free(c);
}

static void ring_push(struct config *c, struct simmsg *m)
{
	if (c->ring_n == c->ring_cap) {
		size_t cap = c->ring_cap ? c->ring_cap * 2 : 16;
		struct simmsg **p = reallocarray(c->ring, cap, sizeof(*p));
		if (!p)
			abort(); /* the simulator cannot go on without memory */
		c->ring = p;
		c->ring_cap = cap;
	}
	c->ring[c->ring_n++] = m;
}

static size_t min_cursor(const struct config *c)
{
	size_t lo = c->ring_n;
	for (size_t i = 0; i < c->n; i++)
		if (!c->members[i]->dead && c->cursor[i] < lo)
			lo = c->cursor[i];
	return lo;
}

static void lazy_drop(struct simnet_group *g)
{
	free(g->lazy);
	g->lazy = NULL;
}

static void ep_free(struct simnet_group *g)
{
	q_clear(&g->outbox);
	lazy_drop(g);
	free(g);
}

void simnet_destroy(struct simnet *net)
{
	if (!net)
		return;
	for (size_t i = 0; i < net->n_configs; i++)
		config_free(net->configs[i]);
	for (size_t i = 0; i < net->n_eps; i++)
		ep_free(net->eps[i]);
	free(net->eps);
	while (net->direct) {
		struct direct_msg *m = net->direct;
		net->direct = m->next;
		free(m);
	}
	free(net);
}

unsigned simnet_nodes(const struct simnet *net) { return net->n_nodes; }
bool simnet_node_alive(const struct simnet *net, uint32_t node) { return net->nodes[node].alive; }
unsigned simnet_component(const struct simnet *net, uint32_t node) { return net->nodes[node].component; }
void simnet_set_component(struct simnet *net, uint32_t node, unsigned c) { net->nodes[node].component = c; }

void simnet_node_up(struct simnet *net, uint32_t node)
{
	net->nodes[node].alive = true;
	net->nodes[node].pid++;
}

void simnet_node_kill(struct simnet *net, uint32_t node)
{
	net->nodes[node].alive = false;
	for (size_t i = 0; i < net->n_eps; i++) {
		struct simnet_group *g = net->eps[i];
		if (g->node == node && g->pid == net->nodes[node].pid) {
			g->dead = true;
			q_clear(&g->outbox);
			lazy_drop(g);
		}
	}
}

size_t simnet_reachable(const struct simnet *net, uint32_t node, uint32_t *ret)
{
	size_t n = 0;
	for (uint32_t i = 1; i <= net->n_nodes; i++)
		if (net->nodes[i].alive && net->nodes[i].component == net->nodes[node].component)
			ret[n++] = i;
	return n;
}

static int group_index(struct simnet *net, const char *name)
{
	for (unsigned i = 0; i < net->n_groups; i++)
		if (strcmp(net->groups[i], name) == 0)
			return (int)i;
	if (net->n_groups == SIMNET_MAX_GROUPS || strlen(name) >= DOMAIN_NAME_MAX)
		return -ENOSPC;
	strcpy(net->groups[net->n_groups], name);
	return (int)net->n_groups++;
}

int simnet_join(struct simnet *net, uint32_t node, const char *group,
                const struct transport_callbacks *cb, void *cb_data, struct simnet_group **ret)
{
	int gi = group_index(net, group);
	if (gi < 0)
		return gi;
	if (!net->nodes[node].alive)
		return -ENOTCONN;
	if (net->n_eps == net->cap_eps) {
		size_t cap = net->cap_eps ? net->cap_eps * 2 : 16;
		struct simnet_group **p = reallocarray(net->eps, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		net->eps = p;
		net->cap_eps = cap;
	}
	struct simnet_group *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->net = net;
	g->node = node;
	g->pid = net->nodes[node].pid;
	g->group = (unsigned)gi;
	g->state = EP_JOINING;
	g->cb = *cb;
	g->cb_data = cb_data;
	net->eps[net->n_eps++] = g;
	*ret = g;
	return 0;
}

static struct simmsg *msg_new(struct simnet_group *g, const void *msg, size_t len)
{
	struct simmsg *m = malloc(sizeof(*m) + len);
	if (!m)
		return NULL;
	m->from = g;
	m->crossed = false;
	m->len = len;
	memcpy(m->data, msg, len);
	return m;
}

/* A copy of msg into the outbox, or as the one held message (lazy); either
 * makes a message held before redundant. */
static int send_msg(struct simnet_group *g, const void *msg, size_t len, bool lazy)
{
	/* as with CPG: once the leave is asked for, nothing more goes out */
	if (g->dead || g->state == EP_GONE || g->state == EP_LEAVING)
		return -ENOTCONN;
	struct simmsg *m = msg_new(g, msg, len);
	if (!m)
		return -ENOMEM;
	lazy_drop(g);
	if (lazy)
		g->lazy = m;
	else
		q_push(&g->outbox, m);
	return 0;
}

int simnet_send(struct simnet_group *g, const void *msg, size_t len)
{
	return send_msg(g, msg, len, false);
}

int simnet_send_lazy(struct simnet_group *g, const void *msg, size_t len)
{
	return send_msg(g, msg, len, true);
}

/* One datagram per other member of g's configuration; they cross crashes,
 * restarts and configuration changes (not partitions) in any order. */
int simnet_send_direct(struct simnet_group *g, const void *msg, size_t len)
{
	if (g->dead || g->state == EP_GONE || g->state == EP_LEAVING || !g->config)
		return -ENOTCONN;
	const struct config *c = g->config;
	for (size_t i = 0; i < c->n; i++) {
		if (c->members[i]->node == g->node)
			continue;
		struct direct_msg *m = malloc(sizeof(*m) + len);
		if (!m)
			return -ENOMEM;
		*m = (struct direct_msg){ .next = g->net->direct, .from = g->node,
			                  .to = c->members[i]->node, .group = g->group, .len = len };
		memcpy(m->data, msg, len);
		g->net->direct = m;
		g->net->n_direct++;
	}
	return 0;
}

uint32_t simnet_group_node(const struct simnet_group *g) { return g->node; }

int simnet_leave(struct simnet_group *g)
{
	if (g->state == EP_JOINING || g->state == EP_JOINED)
		g->state = EP_LEAVING;
	return 0;
}

/* As cpg_finalize(): the process leaves the group, and hears nothing more. */
void simnet_group_destroy(struct simnet_group *g)
{
	if (!g)
		return;
	g->detached = true;
	simnet_leave(g);
}

static bool ep_can_call(const struct simnet_group *g) { return !g->dead && !g->detached; }

static bool ep_wants_membership(const struct simnet *net, const struct simnet_group *g)
{
	return !g->dead && (g->state == EP_JOINING || g->state == EP_JOINED) &&
	       net->nodes[g->node].alive && net->nodes[g->node].pid == g->pid;
}

/* Desired member set of group gi in component comp, sorted by (node, pid). */
static size_t desired_set(struct simnet *net, unsigned gi, unsigned comp,
                          struct simnet_group **out)
{
	size_t n = 0;
	for (uint32_t node = 1; node <= net->n_nodes; node++) {
		if (net->nodes[node].component != comp)
			continue;
		for (size_t i = 0; i < net->n_eps && n < SIMNET_MAX_NODES; i++) {
			struct simnet_group *g = net->eps[i];
			if (g->group == gi && g->node == node && ep_wants_membership(net, g))
				out[n++] = g;
		}
	}
	return n;
}

static bool config_unchanged(struct simnet *net, const struct config *c)
{
	struct simnet_group *want[SIMNET_MAX_NODES];
	if (c->n == 0 || !ep_wants_membership(net, c->members[0]))
		return false;
	unsigned comp = net->nodes[c->members[0]->node].component;
	if (comp != c->component)
		return false;
	size_t n = desired_set(net, c->group, comp, want);
	return n == c->n && memcmp(want, c->members, n * sizeof(*want)) == 0;
}

static void deliver_confchg(struct simnet_group *g, struct simnet_group *const *set, size_t n)
{
	struct domain_member_id ids[SIMNET_MAX_NODES];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (set[i] != g || g->state != EP_LEAVING)
			ids[k++] = (struct domain_member_id){ set[i]->node, set[i]->pid };
	if (!ep_can_call(g))
		return;
	g->cb.on_confchg(g->cb_data, ids, k);
	if (ep_can_call(g))
		g->cb.on_batch_end(g->cb_data);
}

/* Before a configuration ends: what its members still have in their outboxes
 * goes onto the old ring, or crosses into the next configuration once. A
 * sender's messages keep their order: after the first that crosses, the
 * rest of its outbox crosses too. */
static void flush_outboxes(struct simnet *net, struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct simnet_group *g = c->members[i];
		if (g->dead)
			continue;
		struct msgq keep = { 0 };
		struct simmsg *m;
		bool graceful = g->state == EP_LEAVING;
		while ((m = q_pop(&g->outbox))) {
			if (!keep.n && (graceful || m->crossed || prng_chance(&net->rng, 50))) {
				ring_push(c, m);
			} else {
				m->crossed = true;
				q_push(&keep, m);
			}
		}
		g->outbox = keep;
	}
}

/* Members of c that move on together into one new set deliver the rest of
 * the old ring: whatever one of them delivered already (they retransmit it
 * among themselves), then their own and reachable senders' messages and a
 * random subset (holes included) of the others'. They end with the same set. */
static void transitional_delivery(struct simnet *net, struct config *c, unsigned comp)
{
	size_t idx[SIMNET_MAX_NODES], n = 0, side_max = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct simnet_group *g = c->members[i];
		if (ep_wants_membership(net, g) && net->nodes[g->node].component == comp) {
			idx[n++] = i;
			if (c->cursor[i] > side_max)
				side_max = c->cursor[i];
		}
	}
	if (n == 0)
		return;
	for (size_t r = 0; r < c->ring_n; r++) {
		struct simmsg *m = c->ring[r];
		struct simnet_group *o = m->from;
		bool reach = r < side_max || (!o->dead && (o->state == EP_LEAVING ||
		                                           net->nodes[o->node].component == comp));
		if (!reach && !prng_chance(&net->rng, 50))
			continue;
		for (size_t k = 0; k < n; k++) {
			struct simnet_group *g = c->members[idx[k]];
			if (c->cursor[idx[k]] <= r && ep_can_call(g))
				g->cb.on_deliver(g->cb_data, o->node, m->data, m->len);
		}
	}
	for (size_t k = 0; k < n; k++)
		if (ep_can_call(c->members[idx[k]]))
			c->members[idx[k]]->cb.on_batch_end(c->members[idx[k]]->cb_data);
}

static void dissolve(struct simnet *net, struct config *c)
{
	unsigned comps[SIMNET_MAX_NODES];
	size_t n_comps = 0;
	flush_outboxes(net, c);
	for (size_t i = 0; i < c->n; i++) {
		unsigned comp = net->nodes[c->members[i]->node].component;
		bool seen = false;
		for (size_t k = 0; k < n_comps; k++)
			seen |= comps[k] == comp;
		if (!seen)
			comps[n_comps++] = comp;
	}
	for (size_t k = 0; k < n_comps; k++)
		transitional_delivery(net, c, comps[k]);
	for (size_t i = 0; i < c->n; i++) {
		struct simnet_group *g = c->members[i];
		g->config = NULL;
		if (g->state == EP_LEAVING && !g->dead) {
			deliver_confchg(g, c->members, c->n); /* the leaver sees itself gone */
			g->state = EP_GONE;
		}
	}
}

static int form_configs(struct simnet *net, unsigned gi)
{
	int changes = 0;
	for (uint32_t node = 1; node <= net->n_nodes; node++) {
		unsigned comp = net->nodes[node].component;
		struct simnet_group *set[SIMNET_MAX_NODES];
		size_t n = desired_set(net, gi, comp, set);
		if (n == 0 || set[0]->node != node || set[0]->config)
			continue; /* handled from its lowest node, or unchanged */
		struct config *c = calloc(1, sizeof(*c));
		if (!c || net->n_configs == SIMNET_MAX_CONFIGS) {
			free(c);
			return -ENOMEM;
		}
		c->group = gi;
		c->component = comp;
		c->n = n;
		memcpy(c->members, set, n * sizeof(*set));
		net->configs[net->n_configs++] = c;
		for (size_t i = 0; i < n; i++) {
			set[i]->config = c;
			set[i]->state = EP_JOINED;
		}
		for (size_t i = 0; i < n; i++)
			deliver_confchg(set[i], set, n);
		changes++;
	}
	return changes;
}

static void remove_config(struct simnet *net, size_t i)
{
	config_free(net->configs[i]);
	net->configs[i] = net->configs[--net->n_configs];
}

static void reap_endpoints(struct simnet *net)
{
	size_t k = 0;
	for (size_t i = 0; i < net->n_eps; i++) {
		struct simnet_group *g = net->eps[i];
		if (g->dead && !g->config)
			g->state = EP_GONE;
		if (g->state == EP_GONE && g->detached && !g->config)
			ep_free(g);
		else
			net->eps[k++] = g;
	}
	net->n_eps = k;
}

/* A process that left before it ever got a configuration. */
static void finish_early_leavers(struct simnet *net)
{
	for (size_t i = 0; i < net->n_eps; i++) {
		struct simnet_group *g = net->eps[i];
		if (g->state == EP_LEAVING && !g->config && !g->dead) {
			deliver_confchg(g, NULL, 0);
			g->state = EP_GONE;
		}
	}
}

int simnet_settle(struct simnet *net)
{
	int changes = 0;
	/* configurations are visited in a fixed order: by group, then lowest member */
	for (unsigned gi = 0; gi < net->n_groups; gi++) {
		for (size_t i = 0; i < net->n_configs;) {
			struct config *c = net->configs[i];
			if (c->group != gi || config_unchanged(net, c)) {
				i++;
				continue;
			}
			dissolve(net, c);
			remove_config(net, i);
		}
		int rc = form_configs(net, gi);
		if (rc < 0)
			return rc;
		changes += rc;
	}
	finish_early_leavers(net);
	reap_endpoints(net);
	return changes;
}

size_t simnet_in_flight(const struct simnet *net)
{
	size_t n = 0;
	for (size_t i = 0; i < net->n_eps; i++)
		n += net->eps[i]->outbox.n + (net->eps[i]->lazy != NULL);
	for (size_t i = 0; i < net->n_configs; i++)
		n += net->configs[i]->ring_n - min_cursor(net->configs[i]);
	return n + net->n_direct;
}

/* Forget ring messages every live member has delivered. */
static void ring_trim(struct config *c)
{
	size_t lo = min_cursor(c);
	if (lo < 256)
		return;
	for (size_t i = 0; i < lo; i++)
		free(c->ring[i]);
	memmove(c->ring, c->ring + lo, (c->ring_n - lo) * sizeof(*c->ring));
	c->ring_n -= lo;
	for (size_t i = 0; i < c->n; i++)
		c->cursor[i] = c->cursor[i] > lo ? c->cursor[i] - lo : 0;
}

/* Member i of c delivers its next one to three messages. */
static void deliver_to_member(struct simnet *net, struct config *c, size_t i)
{
	struct simnet_group *g = c->members[i];
	size_t k = 1 + prng_below(&net->rng, SIMNET_MAX_BATCH);
	for (; k > 0 && c->cursor[i] < c->ring_n && ep_can_call(g); k--) {
		struct simmsg *m = c->ring[c->cursor[i]++];
		g->cb.on_deliver(g->cb_data, m->from->node, m->data, m->len);
	}
	if (ep_can_call(g))
		g->cb.on_batch_end(g->cb_data);
	ring_trim(c);
}

static bool member_can_deliver(const struct config *c, size_t i)
{
	return c->cursor[i] < c->ring_n && ep_can_call(c->members[i]);
}

/* The receiving endpoint of m: the live process's, in a configuration
 * with the sender (as the CPG backend checks a datagram's sender). */
static struct simnet_group *direct_target(struct simnet *net, const struct direct_msg *m)
{
	const struct sim_node *from = &net->nodes[m->from], *to = &net->nodes[m->to];
	if (!to->alive || from->component != to->component)
		return NULL; /* a crashed sender's datagrams may still arrive */
	for (size_t i = 0; i < net->n_eps; i++) {
		struct simnet_group *g = net->eps[i];
		if (g->node != m->to || g->group != m->group || g->pid != to->pid || !g->config ||
		    !ep_can_call(g) || !g->cb.on_direct)
			continue;
		for (size_t k = 0; k < g->config->n; k++)
			if (g->config->members[k]->node == m->from)
				return g;
	}
	return NULL;
}

/* The pick-th datagram arrives (once or twice) or is lost. */
static void direct_step(struct simnet *net, size_t pick)
{
	struct direct_msg **pp = &net->direct;
	while (pick--)
		pp = &(*pp)->next;
	struct direct_msg *m = *pp;
	unsigned fate = (unsigned)prng_below(&net->rng, 16);
	if (fate != 0) { /* 1 in 16 stays for a second delivery */
		*pp = m->next;
		net->n_direct--;
	}
	struct simnet_group *g = fate == 1 ? NULL : direct_target(net, m); /* 1 in 16 is lost */
	if (g) {
		net->direct_delivered++;
		g->cb.on_direct(g->cb_data, m->from, m->data, m->len);
	} else {
		net->direct_lost++;
	}
	if (fate != 0)
		free(m);
}

bool simnet_step(struct simnet *net)
{
	size_t candidates = 0;
	for (size_t i = 0; i < net->n_eps; i++)
		candidates += (net->eps[i]->outbox.n || net->eps[i]->lazy) && net->eps[i]->config;
	for (size_t i = 0; i < net->n_configs; i++)
		for (size_t m = 0; m < net->configs[i]->n; m++)
			candidates += member_can_deliver(net->configs[i], m);
	candidates += net->n_direct;
	if (candidates == 0)
		return false;
	size_t pick = prng_below(&net->rng, candidates);
	if (pick < net->n_direct) {
		direct_step(net, pick);
		return true;
	}
	pick -= net->n_direct;
	for (size_t i = 0; i < net->n_eps; i++) {
		struct simnet_group *g = net->eps[i];
		if (!((g->outbox.n || g->lazy) && g->config))
			continue;
		if (pick-- == 0) {
			if (g->lazy) { /* its time is up: it goes out after what is queued */
				q_push(&g->outbox, g->lazy);
				g->lazy = NULL;
			}
			ring_push(g->config, q_pop(&g->outbox));
			return true;
		}
	}
	for (size_t i = 0; i < net->n_configs; i++) {
		struct config *c = net->configs[i];
		for (size_t m = 0; m < c->n; m++) {
			if (member_can_deliver(c, m) && pick-- == 0) {
				deliver_to_member(net, c, m);
				return true;
			}
		}
	}
	return false;
}

void simnet_direct_counts(const struct simnet *net, uint64_t *delivered, uint64_t *lost)
{
	*delivered += net->direct_delivered;
	*lost += net->direct_lost;
}

void simnet_dump(const struct simnet *net, FILE *f)
{
	for (uint32_t i = 1; i <= net->n_nodes; i++)
		fprintf(f, "node %u: %s pid %u component %u\n", i, net->nodes[i].alive ? "up" : "down",
		        net->nodes[i].pid, net->nodes[i].component);
	for (size_t i = 0; i < net->n_configs; i++) {
		const struct config *c = net->configs[i];
		fprintf(f, "config %s component %u, ring %zu:", net->groups[c->group], c->component,
		        c->ring_n);
		for (size_t m = 0; m < c->n; m++)
			fprintf(f, " %u/%u@%zu%s", c->members[m]->node, c->members[m]->pid, c->cursor[m],
			        c->members[m]->dead ? "(dead)" : c->members[m]->detached ? "(detached)" : "");
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < net->n_eps; i++) {
		const struct simnet_group *g = net->eps[i];
		fprintf(f, "endpoint %u/%u %s state %d%s%s outbox %zu config %s\n", g->node, g->pid,
		        net->groups[g->group], g->state, g->dead ? " dead" : "",
		        g->detached ? " detached" : "", g->outbox.n, g->config ? "yes" : "no");
	}
}
