/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's dm-log-userspace protocol (version 3): requests as the kernel
 * sends them (struct dm_ulog_request + payload, host byte order) and the
 * answers it matches by seq. Decoding checks every length before reading
 * and copies what it keeps; a frame that fails gets an error answer and one
 * log line from the link, never a crash. */
#ifndef BLKSPACE_ULOG_H
#define BLKSPACE_ULOG_H

#include <stddef.h>
#include <stdint.h>

#include <linux/dm-log-userspace.h>

#include "codec.h"

#define ULOG_UUID_LEN 129        /* DM_UUID_LEN, terminating NUL included */
#define ULOG_HEADER_BYTES 160    /* sizeof(struct dm_ulog_request) */
#define ULOG_MAX_DATA_BYTES 4096 /* the kernel's own buffers are smaller */

/* A decoded request. */
struct ulog_request {
	uint64_t luid;
	char uuid[ULOG_UUID_LEN]; /* NUL-terminated */
	uint32_t version;
	uint32_t seq;
	uint32_t raw_type; /* request_type as received */
	uint32_t type;     /* DM_ULOG_REQUEST_TYPE(raw_type): 1..17 */
	uint32_t data_size;
	const uint8_t *data; /* points into the frame: valid during the callback only */
};

/* Where an answer goes: the request's identity plus the link's own routing
 * (which connection of the sim link; 0 for netlink). Copied by value. */
struct ulog_origin {
	uint64_t client;
	uint64_t luid;
	char uuid[ULOG_UUID_LEN];
	uint32_t version;
	uint32_t seq;
	uint32_t raw_type;
};

/* Decode a frame of exactly len bytes. Returns 0, or -EBADMSG (short, or
 * data_size does not match the frame, or the uuid is not NUL-terminated),
 * -EPROTO (version not 1..3), -EOPNOTSUPP (type not 1..17). On -EPROTO and
 * -EOPNOTSUPP, rq holds the header so an error answer can still be sent;
 * on -EBADMSG it holds the seq if the frame was long enough to carry it. */
int ulog_decode(const void *frame, size_t len, struct ulog_request *rq);

/* The answer to a request: its header with error, data_size and data. */
void ulog_encode_reply(struct wbuf *w, const struct ulog_origin *to, int error, const void *data,
                       size_t len);

/* Fill an origin from a decoded request. */
void ulog_origin_from(struct ulog_origin *o, const struct ulog_request *rq, uint64_t client);

/* "MARK_REGION" etc.; "UNKNOWN" for anything else. */
const char *ulog_type_name(uint32_t type);

#endif
