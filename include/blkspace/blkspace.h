/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libblkspace: the client interface of the blkspace cluster daemon.
 *
 * A program opens a connection to the local blkspaced with blkspace_connect()
 * and calls the functions below. Every call is synchronous, returns 0 (or a
 * count) on success and a negative code on failure (-errno or BLKSPACE_E_*,
 * see <blkspace/errors.h>). Strings returned through ret_* pointers belong to
 * the caller and are released with free(). The library never logs and never
 * exits. A connection is not thread-safe: use one per thread. */
#ifndef BLKSPACE_H
#define BLKSPACE_H

#include <stddef.h>
#include <stdint.h>

#include <blkspace/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the JSON documents the daemon returns ("api_version"). */
#define BLKSPACE_API_VERSION 1

/* Name of the daemon's libqb IPC service. */
#define BLKSPACE_SERVICE_NAME "blkspace"

/* Limits of the property service. */
#define BLKSPACE_PROPERTY_KEY_MAX 128   /* bytes, without the terminating NUL */
#define BLKSPACE_PROPERTY_VALUE_MAX 1024
#define BLKSPACE_PROPERTY_BATCH_MAX 64  /* pairs in one set/unset call */

/* Longest mirror log uuid (the device-mapper uuid, without its NUL). */
#define BLKSPACE_LOG_UUID_MAX 128

/* Flags of state-changing calls. */
enum blkspace_call_flags {
	/* When the cluster partition is not quorate, wait (up to the call
	 * timeout) instead of failing with BLKSPACE_E_NOQUORUM. */
	BLKSPACE_WAIT_QUORUM = 1u << 0,
};

/* Flags of blkspace_status_json(). */
enum blkspace_status_flags {
	BLKSPACE_STATUS_FULL = 1u << 0,  /* per-domain and per-member detail */
	BLKSPACE_STATUS_LOCAL = 1u << 1, /* only what this node knows, no peer data */
};

struct blkspace;

/* Connect to the local daemon. Fails with BLKSPACE_E_UNREACHABLE when no
 * daemon listens or it refused us (not root, not in the configured group). */
int blkspace_connect(struct blkspace **ret_conn);

/* Like blkspace_connect() with another IPC service name (tests). */
int blkspace_connect_service(const char *service, struct blkspace **ret_conn);

/* Close the connection; accepts NULL. */
void blkspace_disconnect(struct blkspace *conn);

/* Upper bound for each following call in milliseconds (default 30000,
 * -1 = no limit). A call that runs out returns BLKSPACE_E_TIMEOUT; its
 * outcome in the cluster is then unknown. */
int blkspace_set_timeout(struct blkspace *conn, int timeout_ms);

/* Status of this node and the cluster as a JSON document (see
 * blkspace-status(8) for the fields). */
int blkspace_status_json(struct blkspace *conn, unsigned flags, char **ret_json);

/* Configured nodes, their names and whether they are members, as JSON. */
int blkspace_node_list_json(struct blkspace *conn, char **ret_json);

/* Set n cluster properties at once, atomically. Returns once the change is
 * stable at a majority of the cluster. */
int blkspace_property_set(struct blkspace *conn, const char *const *keys,
                          const char *const *values, size_t n, unsigned flags);

/* Remove n properties at once (missing keys are not an error). */
int blkspace_property_unset(struct blkspace *conn, const char *const *keys, size_t n,
                            unsigned flags);

/* Value of one property from this node's replica; BLKSPACE_E_NOTFOUND if unset. */
int blkspace_property_get(struct blkspace *conn, const char *key, char **ret_value);

/* All properties as JSON. */
int blkspace_property_list_json(struct blkspace *conn, char **ret_json);

/* The mirror logs the kernel constructed on this node, as JSON (see
 * blkspace(8), "log list"), and one of them by uuid (BLKSPACE_E_NOTFOUND
 * when this node does not serve it). */
int blkspace_log_list_json(struct blkspace *conn, char **ret_json);
int blkspace_log_show_json(struct blkspace *conn, const char *uuid, char **ret_json);

/* An administrator confirms that node nodeid (not 0) is powered off or
 * fenced (see blkspace(8), "node confirm-fenced"). Every mirror log here
 * that keeps the regions the node had marked until its fencing then resyncs
 * them; *ret_logs (may be NULL) is how many logs did (0: none waited for that
 * node). Only for a node known to be off: resyncing regions a live node
 * still writes corrupts the mirror. */
int blkspace_node_confirm_fenced(struct blkspace *conn, uint32_t nodeid, unsigned *ret_logs);

/* Is key a valid property name (1..BLKSPACE_PROPERTY_KEY_MAX bytes of
 * [A-Za-z0-9_.-], starting with a letter)? */
int blkspace_property_key_is_valid(const char *key);

#ifdef __cplusplus
}
#endif
#endif
