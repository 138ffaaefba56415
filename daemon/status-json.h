/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON documents the daemon answers status, node list and property list
 * requests with (schemas in doc/blkspace.8). Built from plain snapshots of
 * the node's state, so they are tested without a running node. Every
 * document carries "api_version" (BLKSPACE_API_VERSION). */
#ifndef BLKSPACE_STATUS_JSON_H
#define BLKSPACE_STATUS_JSON_H

#include "control.h"
#include "node.h"

/* What the status document derives from the control domain's phase. */
bool status_is_ready(const struct node_status *st);
bool status_is_primary(const struct node_status *st);

/* Each returns 0 with a NUL-terminated text in *ret_json (the caller frees
 * it), or -ENOMEM. cs is the replicated control state, NULL before the node
 * started: the documents then hold what the cluster engine says only. */
int status_json_status(const struct node_status *st, const struct control_state *cs,
                       unsigned flags, char **ret_json);
int status_json_node_list(const struct quorum_view *q, const struct control_state *cs,
                          char **ret_json);
int status_json_property_list(const struct control_state *cs, char **ret_json);
/* The mirror logs of this node (sorted by uuid; logs[] is reordered), and one. */
int status_json_log_list(struct node_log_info *logs, size_t n, char **ret_json);
int status_json_log_show(const struct node_log_info *log, char **ret_json);

#endif
