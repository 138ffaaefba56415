/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's libqb IPC server: accepts local clients (root and members of
 * one group), checks every request (size, version, type, exact payload),
 * answers queries from the node's state at once and passes changes to the
 * node, answering them when the node replies, times out or the client goes
 * away. It never blocks the loop. */
#ifndef BLKSPACE_IPC_H
#define BLKSPACE_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <qb/qbloop.h>

#include "node.h"

/* Requests one connection may have held in the node at once; more are
 * answered BLKSPACE_E_BUSY. */
#define IPC_MAX_HELD_PER_CONN 16

struct ipc;

struct ipc_params {
	/* The loop the service runs on. libqb's poll hooks carry no context,
	 * so this must be libqb's default loop: the first one the process
	 * created with qb_loop_create() (blkspaced creates only one). */
	qb_loop_t *loop;
	const char *service; /* BLKSPACE_SERVICE_NAME */
	gid_t group;         /* members may connect besides root; (gid_t)-1: root only */
};

/* Create the service and start listening; -errno from libqb on failure
 * (-EADDRINUSE when another daemon serves the name). */
int ipc_create(const struct ipc_params *p, struct ipc **ret_ipc);
/* Serve requests from node; before this every request is answered
 * BLKSPACE_E_NOTREADY. */
void ipc_attach_node(struct ipc *ipc, struct node *node);
/* Close every connection (cancelling their requests in the node) and stop
 * listening; accepts NULL. Call it before node_destroy(). */
void ipc_destroy(struct ipc *ipc);
/* node_params.reply with host = the ipc: the answer of a node_submit(). A
 * token that is no longer held (timed out, client gone) is ignored. */
void ipc_on_reply(void *ipc, uint64_t token, int result, const void *data, size_t len);

#endif
