/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client <-> daemon IPC protocol (libqb IPC, local only).
 *
 * A request is struct ipc_req_header followed by a payload in the codec's
 * little-endian encoding; a response is a libqb response header (error = 0 or
 * a negative code) followed by a payload. Request types have fixed numbers;
 * a retired number keeps its slot. The daemon checks version, type and exact
 * length of every request before it reads the payload. */
#ifndef BLKSPACE_IPC_PROTO_H
#define BLKSPACE_IPC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <qb/qbipc_common.h>

#include "codec.h"

#define IPC_PROTO_VERSION 1
#define IPC_MAX_MSG_BYTES (1024 * 1024)

enum ipc_req_type {
	IPC_REQ_STATUS = 1,              /* u32 flags -> JSON */
	IPC_REQ_NODE_LIST = 2,           /* -> JSON */
	IPC_REQ_PROPERTY_SET = 3,        /* u16 n, n x (str key, str value) -> nothing */
	IPC_REQ_PROPERTY_UNSET = 4,      /* u16 n, n x str key -> nothing */
	IPC_REQ_PROPERTY_GET = 5,        /* str key -> str value */
	IPC_REQ_PROPERTY_LIST = 6,       /* -> JSON */
	IPC_REQ_LOG_LIST = 7,            /* -> JSON */
	IPC_REQ_LOG_SHOW = 8,            /* str uuid -> JSON */
	IPC_REQ_NODE_CONFIRM_FENCED = 9, /* u32 nodeid (not 0) -> u32 logs passed it on to */
	IPC_REQ_TYPE_MAX,
};

enum ipc_req_flags {
	IPC_F_WAIT_QUORUM = 1u << 0, /* hold the request while the partition is not quorate */
};

/* libqb wants its own header first; the rest is ours. Native byte order: this
 * header never leaves the host. */
struct ipc_req_header {
	struct qb_ipc_request_header qb; /* id = enum ipc_req_type, size = whole message */
	uint16_t version;                /* IPC_PROTO_VERSION */
	uint16_t flags;                  /* enum ipc_req_flags */
	uint32_t timeout_ms;             /* how long the daemon may hold it; 0 = no limit */
} __attribute__((aligned(8)));

struct ipc_resp_header {
	struct qb_ipc_response_header qb; /* id = request type, size, error */
} __attribute__((aligned(8)));

/* One property pair as carried in requests; strings are NUL-terminated. */
struct ipc_property {
	char key[129];
	char value[1025];
};

/* Encode a request payload. */
void ipc_encode_properties(struct wbuf *w, const char *const *keys, const char *const *values,
                           size_t n);
/* Decode a set (with_values) or unset payload into out[max]; returns the count
 * or -EBADMSG / -E2BIG. */
int ipc_decode_properties(const void *payload, size_t len, int with_values,
                          struct ipc_property *out, size_t max);

#endif
