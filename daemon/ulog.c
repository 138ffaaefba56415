/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dm-log-userspace codec: struct dm_ulog_request frames in host byte
 * order (the kernel and this daemon share a CPU). The header is copied out
 * with memcpy, never read through a cast, because frames sit at any
 * alignment in receive buffers. No I/O and no logging here. */
#include "config.h"

#include "ulog.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(struct dm_ulog_request) == ULOG_HEADER_BYTES, "dm_ulog_request layout");
_Static_assert(sizeof(((struct dm_ulog_request *)0)->uuid) == ULOG_UUID_LEN, "DM_UUID_LEN");

/* A frame this long carries the seq (even when it is too short otherwise). */
#define SEQ_END_BYTES (offsetof(struct dm_ulog_request, seq) + sizeof(uint32_t))

static const char *const type_names[] = {
	[DM_ULOG_CTR] = "CTR",
	[DM_ULOG_DTR] = "DTR",
	[DM_ULOG_PRESUSPEND] = "PRESUSPEND",
	[DM_ULOG_POSTSUSPEND] = "POSTSUSPEND",
	[DM_ULOG_RESUME] = "RESUME",
	[DM_ULOG_GET_REGION_SIZE] = "GET_REGION_SIZE",
	[DM_ULOG_IS_CLEAN] = "IS_CLEAN",
	[DM_ULOG_IN_SYNC] = "IN_SYNC",
	[DM_ULOG_FLUSH] = "FLUSH",
	[DM_ULOG_MARK_REGION] = "MARK_REGION",
	[DM_ULOG_CLEAR_REGION] = "CLEAR_REGION",
	[DM_ULOG_GET_RESYNC_WORK] = "GET_RESYNC_WORK",
	[DM_ULOG_SET_REGION_SYNC] = "SET_REGION_SYNC",
	[DM_ULOG_GET_SYNC_COUNT] = "GET_SYNC_COUNT",
	[DM_ULOG_STATUS_INFO] = "STATUS_INFO",
	[DM_ULOG_STATUS_TABLE] = "STATUS_TABLE",
	[DM_ULOG_IS_REMOTE_RECOVERING] = "IS_REMOTE_RECOVERING",
};
#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *ulog_type_name(uint32_t type)
{
	return type < N_TYPES && type_names[type] ? type_names[type] : "UNKNOWN";
}

/* The numeric header fields, and the uuid when it is NUL-terminated.
 * Returns false when it is not. */
static bool copy_header(const struct dm_ulog_request *h, struct ulog_request *rq)
{
	rq->luid = h->luid;
	rq->version = h->version;
	rq->seq = h->seq;
	rq->raw_type = h->request_type;
	rq->type = DM_ULOG_REQUEST_TYPE(h->request_type);
	if (!memchr(h->uuid, '\0', sizeof(h->uuid)))
		return false;
	memcpy(rq->uuid, h->uuid, sizeof(rq->uuid));
	return true;
}

int ulog_decode(const void *frame, size_t len, struct ulog_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	if (len < ULOG_HEADER_BYTES) {
		if (len >= SEQ_END_BYTES)
			memcpy(&rq->seq, (const uint8_t *)frame + offsetof(struct dm_ulog_request, seq),
			       sizeof(rq->seq));
		return -EBADMSG;
	}
	struct dm_ulog_request h;
	memcpy(&h, frame, sizeof(h));
	if (!copy_header(&h, rq))
		return -EBADMSG;
	if (h.data_size != len - ULOG_HEADER_BYTES || h.data_size > ULOG_MAX_DATA_BYTES)
		return -EBADMSG;
	if (h.version < 1 || h.version > DM_ULOG_REQUEST_VERSION)
		return -EPROTO;
	if (rq->type < DM_ULOG_CTR || rq->type > DM_ULOG_IS_REMOTE_RECOVERING)
		return -EOPNOTSUPP;
	rq->data_size = h.data_size;
	rq->data = h.data_size ? (const uint8_t *)frame + ULOG_HEADER_BYTES : NULL;
	return 0;
}

void ulog_encode_reply(struct wbuf *w, const struct ulog_origin *to, int error, const void *data,
                       size_t len)
{
	struct dm_ulog_request h;
	memset(&h, 0, sizeof(h));
	h.luid = to->luid;
	memcpy(h.uuid, to->uuid, sizeof(h.uuid));
	h.uuid[sizeof(h.uuid) - 1] = '\0';
	h.version = to->version;
	h.error = error;
	h.seq = to->seq;
	h.request_type = to->raw_type;
	h.data_size = (uint32_t)len;
	wbuf_put_bytes(w, &h, sizeof(h));
	if (len)
		wbuf_put_bytes(w, data, len);
}

void ulog_origin_from(struct ulog_origin *o, const struct ulog_request *rq, uint64_t client)
{
	memset(o, 0, sizeof(*o));
	o->client = client;
	o->luid = rq->luid;
	memcpy(o->uuid, rq->uuid, sizeof(o->uuid));
	o->version = rq->version;
	o->seq = rq->seq;
	o->raw_type = rq->raw_type;
}
