/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the kernel link backends share: struct kernel_link (embedded first in
 * each backend's own struct), its ops table, and the one path every received
 * frame takes (decode; an error answer and one log line when it is bad; the
 * callback when it is good). Only kernel-link.c, kernel-netlink.c and
 * kernel-sim.c include this. */
#ifndef BLKSPACE_KERNEL_LINK_INTERNAL_H
#define BLKSPACE_KERNEL_LINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel-link.h"

/* Bad frames logged per client (sim) or link (netlink) before going quiet. */
#define KERNEL_LINK_MAX_WARNINGS 16

struct kernel_link_ops {
	const char *name;
	/* Hand one encoded answer (a dm_ulog_request + data) to its destination.
	 * Never blocks; an answer that cannot go is dropped and logged here.
	 * Returns 0, or -ENOMEM when nothing could be queued. */
	int (*send)(struct kernel_link *link, const struct ulog_origin *to, const uint8_t *frame,
	            size_t len);
	/* Close everything and free the backend (link is its first member). */
	void (*destroy)(struct kernel_link *link);
};

struct kernel_link {
	const struct kernel_link_ops *ops;
	qb_loop_t *loop;
	struct kernel_link_callbacks cb;
	void *cb_data;
	struct wbuf reply; /* scratch: the answer being encoded */
};

/* Rate limit of warnings about bad input from one source. */
struct kernel_link_warnings {
	unsigned count;
};

void kernel_link_init(struct kernel_link *link, const struct kernel_link_ops *ops, qb_loop_t *loop,
                      const struct kernel_link_callbacks *cb, void *cb_data);
void kernel_link_done(struct kernel_link *link);

/* A received frame of len bytes from client (0 for the kernel). who names
 * the source in log lines ("netlink", "sim client 3"). */
void kernel_link_deliver(struct kernel_link *link, const uint8_t *frame, size_t len,
                         uint64_t client, const char *who, struct kernel_link_warnings *warn);

/* Log a warning about bad input from who (the text should end in
 * ", ignoring" or similar), unless this source already had its share. */
__attribute__((format(printf, 3, 4))) void kernel_link_warn(struct kernel_link_warnings *warn,
                                                             const char *who, const char *fmt,
                                                             ...);

static inline int kernel_link_send(struct kernel_link *link, const struct ulog_origin *to,
                                   const uint8_t *frame, size_t len)
{
	return link->ops->send(link, to, frame, len);
}

#endif
