/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cluster properties: key=value pairs replicated in the control domain.
 * A table sorted by key; a set or unset of several pairs applies all or
 * nothing. Pure data structure: no I/O. */
#ifndef BLKSPACE_PROPS_H
#define BLKSPACE_PROPS_H

#include <stddef.h>
#include <stdint.h>

#include <blkspace/blkspace.h>

#include "codec.h"

struct prop {
	char *key;
	char *value;
	uint32_t sets; /* times this key was set since it was created */
};

struct props {
	struct prop *items; /* sorted by key (strcmp) */
	size_t n, cap;
};

void props_init(struct props *t);
void props_done(struct props *t);
const struct prop *props_get(const struct props *t, const char *key);
/* Apply an encoded set (with_values) or unset body: 0, or -EINVAL/-EBADMSG
 * with the table unchanged. */
int props_apply(struct props *t, const uint8_t *body, size_t len, int with_values);
void props_encode(const struct props *t, struct wbuf *w);
int props_decode(struct props *t, struct rbuf *r);
uint64_t props_digest(const struct props *t);

/* Encode a request body for props_apply(). */
void props_encode_request(struct wbuf *w, const char *const *keys, const char *const *values,
                          size_t n);

#endif
