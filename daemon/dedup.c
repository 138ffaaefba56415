/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applied-request table: duplicate detection and stored results. */
#include "config.h"

#include "dedup.h"

#include <stdlib.h>
#include <string.h>

void dedup_init(struct dedup *t) { memset(t, 0, sizeof(*t)); }

void dedup_done(struct dedup *t)
{
	free(t->entries);
	memset(t, 0, sizeof(*t));
}

static struct dedup_entry *find_entry(const struct dedup *t, uint32_t nodeid, size_t *ret_pos)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->entries[mid].nodeid < nodeid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ret_pos)
		*ret_pos = lo;
	return lo < t->n && t->entries[lo].nodeid == nodeid ? &t->entries[lo] : NULL;
}

static struct dedup_entry *insert_entry(struct dedup *t, uint32_t nodeid)
{
	size_t pos;
	struct dedup_entry *e = find_entry(t, nodeid, &pos);
	if (e)
		return e;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct dedup_entry *p = realloc(t->entries, cap * sizeof(*p));
		if (!p)
			return NULL;
		t->entries = p;
		t->cap = cap;
	}
	memmove(&t->entries[pos + 1], &t->entries[pos], (t->n - pos) * sizeof(*t->entries));
	t->n++;
	e = &t->entries[pos];
	memset(e, 0, sizeof(*e));
	e->nodeid = nodeid;
	return e;
}

static bool in_window(const struct dedup_entry *e, uint64_t rid)
{
	return rid <= e->last_rid && e->last_rid - rid < DEDUP_RING;
}

enum dedup_verdict dedup_check(const struct dedup *t, uint32_t origin, uint32_t incarnation,
                               uint64_t rid)
{
	const struct dedup_entry *e = find_entry(t, origin, NULL);
	if (!e || incarnation > e->incarnation)
		return DEDUP_NEW;
	if (incarnation < e->incarnation)
		return DEDUP_STALE;
	if (rid > e->last_rid)
		return DEDUP_NEW;
	if (!in_window(e, rid))
		return DEDUP_DUPLICATE; /* settled long ago */
	return e->applied >> (e->last_rid - rid) & 1 ? DEDUP_DUPLICATE : DEDUP_NEW;
}

int dedup_record(struct dedup *t, uint32_t origin, uint32_t incarnation, uint64_t rid, int result,
                 const void *reply, size_t reply_len)
{
	struct dedup_entry *e = insert_entry(t, origin);
	if (!e)
		return -ENOMEM;
	if (incarnation != e->incarnation) {
		memset(e, 0, sizeof(*e));
		e->nodeid = origin;
		e->incarnation = incarnation;
	}
	if (rid > e->last_rid) {
		uint64_t shift = rid - e->last_rid;
		e->applied = shift >= 64 ? 0 : e->applied << shift;
		e->last_rid = rid;
	}
	if (!in_window(e, rid))
		return 0;
	e->applied |= UINT64_C(1) << (e->last_rid - rid);
	if (reply_len > DOMAIN_REPLY_MAX)
		reply_len = DOMAIN_REPLY_MAX;
	struct dedup_result *r = &e->ring[rid % DEDUP_RING];
	memset(r, 0, sizeof(*r));
	r->rid = rid;
	r->result = result;
	r->reply_len = (uint8_t)reply_len;
	if (reply_len)
		memcpy(r->reply, reply, reply_len);
	return 0;
}

const struct dedup_result *dedup_find(const struct dedup *t, uint32_t origin,
                                      uint32_t incarnation, uint64_t rid)
{
	const struct dedup_entry *e = find_entry(t, origin, NULL);
	if (!e || e->incarnation != incarnation || !in_window(e, rid) ||
	    !(e->applied >> (e->last_rid - rid) & 1))
		return NULL;
	const struct dedup_result *r = &e->ring[rid % DEDUP_RING];
	return r->rid == rid ? r : NULL;
}

/* Only the applied ids of the window are written, oldest first. */
void dedup_encode(const struct dedup *t, struct wbuf *w)
{
	wbuf_put_u32(w, (uint32_t)t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct dedup_entry *e = &t->entries[i];
		wbuf_put_u32(w, e->nodeid);
		wbuf_put_u32(w, e->incarnation);
		wbuf_put_u64(w, e->last_rid);
		wbuf_put_u64(w, e->applied);
		for (int k = DEDUP_RING - 1; k >= 0; k--) {
			if (!(e->applied >> k & 1))
				continue;
			const struct dedup_result *r = &e->ring[(e->last_rid - (uint64_t)k) % DEDUP_RING];
			wbuf_put_i32(w, r->result);
			wbuf_put_u8(w, r->reply_len);
			wbuf_put_bytes(w, r->reply, r->reply_len);
		}
	}
}

static int decode_entry(struct dedup_entry *e, struct rbuf *r)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = rbuf_get_u32(r);
	e->incarnation = rbuf_get_u32(r);
	e->last_rid = rbuf_get_u64(r);
	e->applied = rbuf_get_u64(r);
	if (e->last_rid < DEDUP_RING && e->applied >> e->last_rid)
		return -EBADMSG; /* bits for ids below 1 */
	for (int k = DEDUP_RING - 1; k >= 0 && !rbuf_error(r); k--) {
		if (!(e->applied >> k & 1))
			continue;
		uint64_t rid = e->last_rid - (uint64_t)k;
		struct dedup_result *res = &e->ring[rid % DEDUP_RING];
		res->rid = rid;
		res->result = rbuf_get_i32(r);
		res->reply_len = rbuf_get_u8(r);
		if (res->reply_len > DOMAIN_REPLY_MAX)
			return -EBADMSG;
		const uint8_t *p = rbuf_get_bytes(r, res->reply_len);
		if (p)
			memcpy(res->reply, p, res->reply_len);
	}
	return rbuf_error(r);
}

int dedup_decode(struct dedup *t, struct rbuf *r)
{
	struct dedup fresh;
	dedup_init(&fresh);
	uint32_t n = rbuf_get_u32(r);
	if (rbuf_error(r) || n > rbuf_left(r) / 24) /* each entry takes at least 24 bytes */
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		struct dedup_entry tmp;
		int rc = decode_entry(&tmp, r);
		if (rc == 0 && fresh.n && tmp.nodeid <= fresh.entries[fresh.n - 1].nodeid)
			rc = -EBADMSG; /* must be sorted and unique */
		struct dedup_entry *e = rc == 0 ? insert_entry(&fresh, tmp.nodeid) : NULL;
		if (!e) {
			dedup_done(&fresh);
			return rc ? rc : -ENOMEM;
		}
		*e = tmp;
	}
	dedup_done(t);
	*t = fresh;
	return 0;
}

uint64_t dedup_digest(const struct dedup *t)
{
	struct wbuf w;
	wbuf_init(&w);
	dedup_encode(t, &w);
	uint64_t h = fnv64(FNV64_INIT, w.data, w.len);
	wbuf_done(&w);
	return h;
}
