/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The backend-independent half of the kernel link: encoding answers,
 * dispatching to the backend's ops, and the handling of every received
 * frame, so that netlink and sim treat bad input exactly alike. */
#include "config.h"

#include "kernel-link-internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

/* A frame must be at least this long for its seq to be read. */
#define SEQ_END_BYTES (offsetof(struct dm_ulog_request, seq) + sizeof(uint32_t))

void kernel_link_init(struct kernel_link *link, const struct kernel_link_ops *ops, qb_loop_t *loop,
                      const struct kernel_link_callbacks *cb, void *cb_data)
{
	memset(link, 0, sizeof(*link));
	link->ops = ops;
	link->loop = loop;
	link->cb = *cb;
	link->cb_data = cb_data;
	wbuf_init(&link->reply);
}

void kernel_link_done(struct kernel_link *link) { wbuf_done(&link->reply); }

void kernel_link_warn(struct kernel_link_warnings *warn, const char *who, const char *fmt, ...)
{
	if (warn->count > KERNEL_LINK_MAX_WARNINGS)
		return;
	if (warn->count++ == KERNEL_LINK_MAX_WARNINGS) {
		qb_log(LOG_WARNING, "ulog %s: further bad requests are not logged, ignoring", who);
		return;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qb_log(LOG_WARNING, "ulog %s: %s", who, msg);
}

void kernel_link_deliver(struct kernel_link *link, const uint8_t *frame, size_t len,
                         uint64_t client, const char *who, struct kernel_link_warnings *warn)
{
	struct ulog_request rq;
	struct ulog_origin from;
	int rc = ulog_decode(frame, len, &rq);
	if (rc == 0) {
		qb_log(LOG_DEBUG, "ulog %s: %s seq %" PRIu32 " (%" PRIu32 " bytes of data)", who,
		       ulog_type_name(rq.type), rq.seq, rq.data_size);
		ulog_origin_from(&from, &rq, client);
		link->cb.on_request(link->cb_data, &rq, &from);
		return;
	}
	if (len < SEQ_END_BYTES) {
		kernel_link_warn(warn, who, "bad request (%zu bytes, no seq): %s, ignoring", len,
		                 blkspace_strerror(rc));
		return;
	}
	kernel_link_warn(warn, who,
	                 "bad request seq %" PRIu32 " (%zu bytes, version %" PRIu32
	                 ", type 0x%" PRIx32 "): %s, answered with that error, ignoring",
	                 rq.seq, len, rq.version, rq.raw_type, blkspace_strerror(rc));
	ulog_origin_from(&from, &rq, client);
	kernel_link_reply(link, &from, rc, NULL, 0);
}

/* Returns 0 when the answer was handed to the backend or deliberately
 * dropped (the backend logged why); -EMSGSIZE when data is longer than
 * ULOG_MAX_DATA_BYTES (then the kernel gets -EMSGSIZE without data instead,
 * so it does not wait 15 s); -ENOMEM. */
int kernel_link_reply(struct kernel_link *link, const struct ulog_origin *to, int error,
                      const void *data, size_t len)
{
	assert(data || len == 0);
	int rc = 0;
	if (len > ULOG_MAX_DATA_BYTES) {
		rc = -EMSGSIZE;
		error = rc;
		len = 0;
	}
	wbuf_reset(&link->reply);
	ulog_encode_reply(&link->reply, to, error, data, len);
	if (wbuf_error(&link->reply))
		return wbuf_error(&link->reply);
	int sent = kernel_link_send(link, to, link->reply.data, link->reply.len);
	return rc ? rc : sent;
}

void kernel_link_destroy(struct kernel_link *link)
{
	if (link)
		link->ops->destroy(link);
}
