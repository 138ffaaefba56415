/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the domain tests (see tcluster.h). */
#include "config.h"

#include "tcluster.h"

#include <check.h>
#include <string.h>

#include "control.h"
#include "props.h"
#include "wire.h"

static void on_reply(void *host, uint64_t token, int result, const void *data, size_t len)
{
	struct tnode *tn = host;
	tn->replies++;
	tn->last_token = token;
	tn->last_result = result;
}

void tc_up(struct tcluster *tc, unsigned i)
{
	struct tnode *tn = &tc->nodes[i];
	simnet_node_up(tc->net, i);
	struct node_params p = {
		.transport = tc->transport, .transport_backend = &tn->t,
		.quorum = &sim_quorum_ops, .quorum_backend = &tn->q,
		.store = &mem_store_ops, .store_backend = tn->disk,
		.reply = on_reply, .host = tn,
	};
	ck_assert_int_eq(node_create(&p, &tn->node), 0);
	ck_assert_int_eq(node_start(tn->node), 0);
}

void tc_kill(struct tcluster *tc, unsigned i)
{
	simnet_node_kill(tc->net, i);
	node_destroy(tc->nodes[i].node);
	tc->nodes[i].node = NULL;
}

/* Run the network until nothing is in flight. */
void tc_run(struct tcluster *tc)
{
	for (int k = 0; k < RUN_LIMIT; k++) {
		int changes = simnet_settle(tc->net);
		if (!simnet_step(tc->net) && changes == 0 && simnet_in_flight(tc->net) == 0)
			return;
	}
	ck_abort_msg("the network did not quiesce");
}

void tc_init_with(struct tcluster *tc, unsigned n, uint64_t seed,
                  const struct transport_ops *transport)
{
	memset(tc, 0, sizeof(*tc));
	tc->transport = transport;
	tc->n = n;
	tc->net = simnet_create(n, seed);
	tc->next_token = 1;
	for (unsigned i = 1; i <= n; i++) {
		tc->nodes[i].disk = mem_disk_create();
		tc->nodes[i].t = (struct sim_transport){ tc->net, i };
		tc->nodes[i].q = (struct sim_quorum){ tc->net, i };
		tc_up(tc, i);
	}
	tc_run(tc);
}

void tc_init(struct tcluster *tc, unsigned n, uint64_t seed)
{
	tc_init_with(tc, n, seed, &sim_transport_ops);
}

void tc_done(struct tcluster *tc)
{
	for (unsigned i = 1; i <= tc->n; i++) {
		node_destroy(tc->nodes[i].node);
		mem_disk_destroy(tc->nodes[i].disk);
	}
	simnet_destroy(tc->net);
}

int tc_set(struct tcluster *tc, unsigned i, const char *key, const char *value,
                  unsigned flags, uint64_t *ret_token)
{
	struct wbuf w;
	wbuf_init(&w);
	const char *k[1] = { key }, *v[1] = { value };
	props_encode_request(&w, k, v, 1);
	uint64_t token = tc->next_token++;
	int rc = node_submit(tc->nodes[i].node, CONTROL_OP_PROPERTY_SET, w.data, w.len, flags, token);
	wbuf_done(&w);
	if (ret_token)
		*ret_token = token;
	return rc;
}

const char *tc_get(struct tcluster *tc, unsigned i, const char *key)
{
	const struct control_state *cs = node_control_state(tc->nodes[i].node);
	const struct prop *p = cs ? props_get(&cs->props, key) : NULL;
	return p ? p->value : NULL;
}

struct domain_status tc_status(struct tcluster *tc, unsigned i)
{
	struct domain_status st;
	domain_get_status(node_control_domain(tc->nodes[i].node), &st);
	return st;
}

void assert_all_equal(struct tcluster *tc)
{
	struct domain_status ref = tc_status(tc, 1);
	for (unsigned i = 2; i <= tc->n; i++) {
		struct domain_status st = tc_status(tc, i);
		ck_assert_int_eq(st.phase, DOMAIN_ACTIVE);
		ck_assert_uint_eq(st.epoch, ref.epoch);
		ck_assert_uint_eq(st.seq, ref.seq);
		ck_assert_uint_eq(st.digest, ref.digest);
	}
}


void make_msg(struct wbuf *w, const char *domain, uint16_t type, uint32_t origin,
                     const struct wbuf *payload)
{
	struct wire_header h = { .version = WIRE_PROTO_MAX, .type = type, .origin = origin,
		                 .domain = wire_domain_id(domain), .incarnation = 1, .request_id = 1 };
	wbuf_reset(w);
	wire_begin(w, &h);
	if (payload)
		wbuf_put_bytes(w, payload->data, payload->len);
	ck_assert_int_eq(wire_finish(w), 0);
}
