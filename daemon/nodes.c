/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Replicated node table. */
#include "config.h"

#include "nodes.h"

#include <stdlib.h>
#include <string.h>

void nodes_init(struct nodes *t) { memset(t, 0, sizeof(*t)); }

void nodes_done(struct nodes *t)
{
	free(t->items);
	memset(t, 0, sizeof(*t));
}

static size_t lower_bound(const struct nodes *t, uint32_t nodeid)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->items[mid].nodeid < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct node_entry *nodes_get(const struct nodes *t, uint32_t nodeid)
{
	size_t i = lower_bound(t, nodeid);
	return i < t->n && t->items[i].nodeid == nodeid ? &t->items[i] : NULL;
}

static struct node_entry *nodes_add(struct nodes *t, uint32_t nodeid)
{
	size_t i = lower_bound(t, nodeid);
	if (i < t->n && t->items[i].nodeid == nodeid)
		return &t->items[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct node_entry *p = reallocarray(t->items, cap, sizeof(*p));
		if (!p)
			return NULL;
		t->items = p;
		t->cap = cap;
	}
	memmove(&t->items[i + 1], &t->items[i], (t->n - i) * sizeof(*t->items));
	t->n++;
	memset(&t->items[i], 0, sizeof(t->items[i]));
	t->items[i].nodeid = nodeid;
	return &t->items[i];
}

void nodes_apply_membership(struct nodes *t, uint64_t epoch, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < t->n; i++)
		t->items[i].member = false;
	for (size_t i = 0; i < n; i++) {
		struct node_entry *e = nodes_add(t, ids[i]);
		if (!e)
			continue; /* out of memory: the entry shows up at the next change */
		if (!e->first_epoch)
			e->first_epoch = epoch;
		e->last_epoch = epoch;
		e->member = true;
	}
}

static bool name_is_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

void nodes_encode_hello(struct wbuf *w, uint32_t incarnation, const char *name)
{
	wbuf_put_u32(w, incarnation);
	wbuf_put_str(w, name);
}

int nodes_apply_hello(struct nodes *t, uint32_t origin, const uint8_t *body, size_t len)
{
	struct rbuf r;
	char name[NODE_NAME_MAX + 1];
	rbuf_init(&r, body, len);
	uint32_t inc = rbuf_get_u32(&r);
	rbuf_get_str(&r, name, sizeof(name));
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || !name_is_valid(name))
		return -EINVAL;
	struct node_entry *e = nodes_add(t, origin);
	if (!e)
		return -ENOMEM;
	strcpy(e->name, name);
	e->incarnation = inc;
	return 0;
}

void nodes_encode(const struct nodes *t, struct wbuf *w)
{
	wbuf_put_u32(w, (uint32_t)t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct node_entry *e = &t->items[i];
		wbuf_put_u32(w, e->nodeid);
		wbuf_put_str(w, e->name);
		wbuf_put_u32(w, e->incarnation);
		wbuf_put_u8(w, e->member);
		wbuf_put_u64(w, e->first_epoch);
		wbuf_put_u64(w, e->last_epoch);
	}
}

int nodes_decode(struct nodes *t, struct rbuf *r)
{
	nodes_init(t);
	uint32_t n = rbuf_get_u32(r);
	if (rbuf_error(r) || n > rbuf_left(r) / 27)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		struct node_entry e = { 0 };
		e.nodeid = rbuf_get_u32(r);
		rbuf_get_str(r, e.name, sizeof(e.name));
		e.incarnation = rbuf_get_u32(r);
		uint8_t member = rbuf_get_u8(r);
		e.first_epoch = rbuf_get_u64(r);
		e.last_epoch = rbuf_get_u64(r);
		struct node_entry *slot = NULL;
		if (!rbuf_error(r) && member <= 1 && (!t->n || t->items[t->n - 1].nodeid < e.nodeid))
			slot = nodes_add(t, e.nodeid);
		if (!slot) {
			nodes_done(t);
			return -EBADMSG;
		}
		e.member = member;
		*slot = e;
	}
	return 0;
}
