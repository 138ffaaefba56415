/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replicated node table of the control domain: every node that was ever
 * a member, its name (from its HELLO), its daemon incarnation and whether it
 * is in the current primary configuration. Sorted by nodeid; no I/O. */
#ifndef BLKSPACE_NODES_H
#define BLKSPACE_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define NODE_NAME_MAX 64

struct node_entry {
	uint32_t nodeid;
	char name[NODE_NAME_MAX + 1];
	uint32_t incarnation;
	bool member;
	uint64_t first_epoch; /* epoch it first became a member */
	uint64_t last_epoch;  /* latest epoch it was a member of */
};

struct nodes {
	struct node_entry *items;
	size_t n, cap;
};

void nodes_init(struct nodes *t);
void nodes_done(struct nodes *t);
const struct node_entry *nodes_get(const struct nodes *t, uint32_t nodeid);
void nodes_apply_membership(struct nodes *t, uint64_t epoch, const uint32_t *ids, size_t n);
/* HELLO body: u32 incarnation, str name. -EINVAL on a bad name. */
int nodes_apply_hello(struct nodes *t, uint32_t origin, const uint8_t *body, size_t len);
void nodes_encode_hello(struct wbuf *w, uint32_t incarnation, const char *name);
void nodes_encode(const struct nodes *t, struct wbuf *w);
int nodes_decode(struct nodes *t, struct rbuf *r);

#endif
