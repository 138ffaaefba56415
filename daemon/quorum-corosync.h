/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Corosync quorum backend: libquorum notifications dispatched from the loop,
 * the configured nodes and their names from the cmap nodelist, reconnection
 * after corosync restarts. */
#ifndef BLKSPACE_QUORUM_COROSYNC_H
#define BLKSPACE_QUORUM_COROSYNC_H

#include <qb/qbloop.h>

#include "quorum.h"

struct corosync_quorum;

extern const struct quorum_ops corosync_quorum_ops;

int corosync_quorum_create(qb_loop_t *loop, struct corosync_quorum **ret);
/* accepts NULL */
void corosync_quorum_destroy(struct corosync_quorum *q);

#endif
