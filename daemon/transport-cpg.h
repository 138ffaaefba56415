/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPG transport backend: one corosync CPG handle per group, dispatched from
 * the qb_loop, agreed order, flow control retried on a timer, reconnection
 * after corosync restarts. */
#ifndef BLKSPACE_TRANSPORT_CPG_H
#define BLKSPACE_TRANSPORT_CPG_H

#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "transport.h"

struct cpg_backend;

extern const struct transport_ops cpg_transport_ops;

int cpg_backend_create(qb_loop_t *loop, struct cpg_backend **ret);
/* Direct datagrams (send_direct) over UDP port, keyed from key_file; on
 * failure err says why and the backend works without them. */
int cpg_backend_enable_direct(struct cpg_backend *b, uint16_t port, const char *key_file,
                              char *err, size_t errsz);
/* accepts NULL; every group must be destroyed first */
void cpg_backend_destroy(struct cpg_backend *b);

#endif
