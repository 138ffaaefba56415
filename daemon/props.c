/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cluster property table. */
#include "config.h"

#include "props.h"

#include <stdlib.h>
#include <string.h>

void props_init(struct props *t) { memset(t, 0, sizeof(*t)); }

static void prop_free(struct prop *p)
{
	free(p->key);
	free(p->value);
}

void props_done(struct props *t)
{
	for (size_t i = 0; i < t->n; i++)
		prop_free(&t->items[i]);
	free(t->items);
	memset(t, 0, sizeof(*t));
}

static size_t lower_bound(const struct props *t, const char *key)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(t->items[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct prop *props_get(const struct props *t, const char *key)
{
	size_t i = lower_bound(t, key);
	return i < t->n && strcmp(t->items[i].key, key) == 0 ? &t->items[i] : NULL;
}

static int grow(struct props *t)
{
	if (t->n < t->cap)
		return 0;
	size_t cap = t->cap ? t->cap * 2 : 16;
	struct prop *p = reallocarray(t->items, cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->items = p;
	t->cap = cap;
	return 0;
}

static int props_put(struct props *t, const char *key, const char *value)
{
	size_t i = lower_bound(t, key);
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	if (i < t->n && strcmp(t->items[i].key, key) == 0) {
		free(t->items[i].value);
		t->items[i].value = v;
		t->items[i].sets++;
		return 0;
	}
	char *k = strdup(key);
	if (!k || grow(t) < 0) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	memmove(&t->items[i + 1], &t->items[i], (t->n - i) * sizeof(*t->items));
	t->items[i] = (struct prop){ .key = k, .value = v, .sets = 1 };
	t->n++;
	return 0;
}

static void props_remove(struct props *t, const char *key)
{
	size_t i = lower_bound(t, key);
	if (i >= t->n || strcmp(t->items[i].key, key) != 0)
		return;
	prop_free(&t->items[i]);
	memmove(&t->items[i], &t->items[i + 1], (t->n - i - 1) * sizeof(*t->items));
	t->n--;
}

void props_encode_request(struct wbuf *w, const char *const *keys, const char *const *values,
                          size_t n)
{
	wbuf_put_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		wbuf_put_str(w, keys[i]);
		if (values)
			wbuf_put_str(w, values[i]);
	}
}

struct prop_req {
	char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
	char value[BLKSPACE_PROPERTY_VALUE_MAX + 1];
};

/* Decode and validate the whole request before touching the table. */
static int decode_request(const uint8_t *body, size_t len, int with_values,
                          struct prop_req **ret, size_t *ret_n)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	size_t n = rbuf_get_u16(&r);
	if (rbuf_error(&r) || n == 0 || n > BLKSPACE_PROPERTY_BATCH_MAX)
		return -EINVAL;
	struct prop_req *reqs = calloc(n, sizeof(*reqs));
	if (!reqs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rbuf_get_str(&r, reqs[i].key, sizeof(reqs[i].key));
		if (with_values)
			rbuf_get_str(&r, reqs[i].value, sizeof(reqs[i].value));
		if (!rbuf_error(&r) && !blkspace_property_key_is_valid(reqs[i].key)) {
			free(reqs);
			return -EINVAL;
		}
	}
	rbuf_expect_end(&r);
	if (rbuf_error(&r)) {
		free(reqs);
		return -EBADMSG;
	}
	*ret = reqs;
	*ret_n = n;
	return 0;
}

int props_apply(struct props *t, const uint8_t *body, size_t len, int with_values)
{
	struct prop_req *reqs;
	size_t n;
	int rc = decode_request(body, len, with_values, &reqs, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (with_values)
			rc = props_put(t, reqs[i].key, reqs[i].value);
		else
			props_remove(t, reqs[i].key);
	}
	free(reqs);
	return rc;
}

void props_encode(const struct props *t, struct wbuf *w)
{
	wbuf_put_u32(w, (uint32_t)t->n);
	for (size_t i = 0; i < t->n; i++) {
		wbuf_put_str(w, t->items[i].key);
		wbuf_put_str(w, t->items[i].value);
		wbuf_put_u32(w, t->items[i].sets);
	}
}

int props_decode(struct props *t, struct rbuf *r)
{
	props_init(t);
	uint32_t n = rbuf_get_u32(r);
	if (rbuf_error(r) || n > rbuf_left(r) / 8)
		return -EBADMSG;
	struct prop_req *one = malloc(sizeof(*one));
	if (!one)
		return -ENOMEM;
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		rbuf_get_str(r, one->key, sizeof(one->key));
		rbuf_get_str(r, one->value, sizeof(one->value));
		uint32_t sets = rbuf_get_u32(r);
		if (rbuf_error(r) || !blkspace_property_key_is_valid(one->key) ||
		    (t->n && strcmp(t->items[t->n - 1].key, one->key) >= 0))
			rc = -EBADMSG;
		else if ((rc = props_put(t, one->key, one->value)) == 0)
			t->items[t->n - 1].sets = sets;
	}
	free(one);
	if (rc < 0)
		props_done(t);
	return rc;
}

uint64_t props_digest(const struct props *t)
{
	struct wbuf w;
	wbuf_init(&w);
	props_encode(t, &w);
	uint64_t h = fnv64(FNV64_INIT, w.data, w.len);
	wbuf_done(&w);
	return h;
}
