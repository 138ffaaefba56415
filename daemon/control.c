/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control domain service: dispatch of operations and the state encoding. */
#include "config.h"

#include "control.h"

#include <stdlib.h>

#define CONTROL_STATE_VERSION 1

typedef int (*control_handler)(struct control_state *s, uint32_t origin, const uint8_t *body,
                               size_t len, struct wbuf *reply);

static int on_hello(struct control_state *s, uint32_t origin, const uint8_t *body, size_t len,
                    struct wbuf *reply)
{
	return nodes_apply_hello(&s->nodes, origin, body, len);
}

static int on_property_set(struct control_state *s, uint32_t origin, const uint8_t *body,
                           size_t len, struct wbuf *reply)
{
	return props_apply(&s->props, body, len, 1);
}

static int on_property_unset(struct control_state *s, uint32_t origin, const uint8_t *body,
                             size_t len, struct wbuf *reply)
{
	return props_apply(&s->props, body, len, 0);
}

static const control_handler handlers[CONTROL_OP_MAX] = {
	[CONTROL_OP_NODE_HELLO] = on_hello,
	[CONTROL_OP_PROPERTY_SET] = on_property_set,
	[CONTROL_OP_PROPERTY_UNSET] = on_property_unset,
};

static void *control_create(void)
{
	struct control_state *s = calloc(1, sizeof(*s));
	if (s) {
		nodes_init(&s->nodes);
		props_init(&s->props);
	}
	return s;
}

static void control_destroy(void *state)
{
	struct control_state *s = state;
	if (!s)
		return;
	nodes_done(&s->nodes);
	props_done(&s->props);
	free(s);
}

static int control_apply(void *state, uint32_t origin, uint16_t op, const uint8_t *body,
                         size_t len, struct wbuf *reply)
{
	if (op >= CONTROL_OP_MAX || !handlers[op])
		return -EOPNOTSUPP; /* a newer peer's operation: refused alike everywhere */
	return handlers[op](state, origin, body, len, reply);
}

static void control_apply_membership(void *state, uint64_t epoch, const uint32_t *ids, size_t n)
{
	struct control_state *s = state;
	nodes_apply_membership(&s->nodes, epoch, ids, n);
}

static int control_save(const void *state, struct wbuf *out)
{
	const struct control_state *s = state;
	wbuf_put_u16(out, CONTROL_STATE_VERSION);
	nodes_encode(&s->nodes, out);
	props_encode(&s->props, out);
	return wbuf_error(out);
}

static void *control_load(struct rbuf *in)
{
	struct control_state *s = control_create();
	if (!s)
		return NULL;
	if (rbuf_get_u16(in) != CONTROL_STATE_VERSION || nodes_decode(&s->nodes, in) < 0 ||
	    props_decode(&s->props, in) < 0) {
		control_destroy(s);
		return NULL;
	}
	rbuf_expect_end(in);
	if (rbuf_error(in)) {
		control_destroy(s);
		return NULL;
	}
	return s;
}

static uint64_t control_digest(const void *state)
{
	struct wbuf w;
	wbuf_init(&w);
	control_save(state, &w);
	uint64_t h = fnv64(FNV64_INIT, w.data, w.len);
	wbuf_done(&w);
	return h;
}

const struct domain_service_ops control_service_ops = {
	.name = "control",
	.create = control_create,
	.destroy = control_destroy,
	.apply = control_apply,
	.apply_membership = control_apply_membership,
	.save = control_save,
	.load = control_load,
	.digest = control_digest,
};
