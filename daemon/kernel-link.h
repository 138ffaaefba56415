/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel link backends: where dm-log-userspace requests come from and their
 * answers go. netlink: the connector (CN_IDX_DM, CN_VAL_DM_USERSPACE_LOG),
 * the real kernel. sim: a unix stream socket (path from the configuration,
 * default /run/blkspace/ulog.sock) where a test program sends frames of a
 * u32 little-endian length followed by exactly the bytes the kernel would
 * send, and receives the answers framed the same way.
 *
 * Both run from the qb_loop. A malformed frame is answered with an error
 * (when its seq can be read) and logged once by the link; the callback only
 * sees well-formed requests. Answers may be sent long after the callback
 * returned; an answer for a client that went away is dropped. */
#ifndef BLKSPACE_KERNEL_LINK_H
#define BLKSPACE_KERNEL_LINK_H

#include <stddef.h>

#include <qb/qbloop.h>

#include "ulog.h"

struct kernel_link;

struct kernel_link_callbacks {
	/* rq->data may be unaligned: copy u64 words out with memcpy. */
	void (*on_request)(void *data, const struct ulog_request *rq, const struct ulog_origin *from);
};

/* Start a link. netlink needs CAP_SYS_ADMIN and a kernel with the connector;
 * sim creates (replacing a stale socket file) and listens on path. */
int kernel_link_netlink_create(qb_loop_t *loop, const struct kernel_link_callbacks *cb,
                               void *cb_data, struct kernel_link **ret);
int kernel_link_sim_create(qb_loop_t *loop, const char *path,
                           const struct kernel_link_callbacks *cb, void *cb_data,
                           struct kernel_link **ret);
/* Send the answer to a request. 0 when it was sent, queued, or dropped on
 * purpose (logged: the client went away, the socket is full); -EMSGSIZE
 * when data is over 4096 bytes (the kernel is answered -EMSGSIZE without
 * data instead of waiting for its timeout); -ENOMEM when it cannot queue. */
int kernel_link_reply(struct kernel_link *link, const struct ulog_origin *to, int error,
                      const void *data, size_t len);
/* Accepts NULL; closes the socket(s). Never from inside on_request. */
void kernel_link_destroy(struct kernel_link *link);

#endif
