/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Encoding and defensive decoding of peer messages. */
#include "config.h"

#include "wire.h"

#include <string.h>

uint32_t wire_domain_id(const char *name)
{
	uint64_t h = fnv64(FNV64_INIT, name, strlen(name));
	return (uint32_t)(h ^ (h >> 32));
}

void wire_begin(struct wbuf *w, const struct wire_header *h)
{
	wbuf_put_u32(w, WIRE_MAGIC);
	wbuf_put_u16(w, h->version);
	wbuf_put_u16(w, h->type);
	wbuf_put_u32(w, 0); /* length, patched by wire_finish() */
	wbuf_put_u32(w, h->domain);
	wbuf_put_u32(w, h->origin);
	wbuf_put_u32(w, h->incarnation);
	wbuf_put_u64(w, h->request_id);
	wbuf_put_u64(w, h->stable_epoch);
	wbuf_put_u64(w, h->stable_seq);
	wbuf_put_u64(w, h->stable_hash);
}

int wire_finish(struct wbuf *w)
{
	if (wbuf_error(w))
		return wbuf_error(w);
	if (w->len > WIRE_MAX_MSG_BYTES)
		return -EMSGSIZE;
	wbuf_patch_u32(w, 8, (uint32_t)w->len);
	return 0;
}

int wire_decode_header(const void *msg, size_t len, struct wire_header *h, struct rbuf *r)
{
	rbuf_init(r, msg, len);
	if (len < WIRE_HEADER_BYTES || rbuf_get_u32(r) != WIRE_MAGIC)
		return -EBADMSG;
	h->version = rbuf_get_u16(r);
	h->type = rbuf_get_u16(r);
	h->length = rbuf_get_u32(r);
	h->domain = rbuf_get_u32(r);
	h->origin = rbuf_get_u32(r);
	h->incarnation = rbuf_get_u32(r);
	h->request_id = rbuf_get_u64(r);
	h->stable_epoch = rbuf_get_u64(r);
	h->stable_seq = rbuf_get_u64(r);
	h->stable_hash = rbuf_get_u64(r);
	if (rbuf_error(r) || h->length != len)
		return -EBADMSG;
	if (h->version < WIRE_PROTO_MIN || h->version > WIRE_PROTO_MAX)
		return -EPROTONOSUPPORT;
	if (h->type == 0 || h->type >= WIRE_TYPE_MAX)
		return -ENOMSG;
	return 0;
}

void wire_put_request(struct wbuf *w, uint16_t op, uint16_t flags, const void *body, size_t len)
{
	wbuf_put_u16(w, op);
	wbuf_put_u16(w, flags);
	wbuf_put_blob(w, body, len);
}

int wire_get_request(struct rbuf *r, struct wire_request *out)
{
	out->op = rbuf_get_u16(r);
	out->flags = rbuf_get_u16(r);
	out->body = rbuf_get_blob(r, &out->body_len);
	rbuf_expect_end(r);
	return rbuf_error(r);
}

void wire_put_sync(struct wbuf *w, const struct wire_sync *s, const uint64_t *tail,
                   const void *qinfo)
{
	wbuf_put_u16(w, s->proto_min);
	wbuf_put_u16(w, s->proto_max);
	wbuf_put_u32(w, s->cluster_size);
	wbuf_put_u32(w, s->sync_id);
	wbuf_put_u64(w, s->view_id);
	wbuf_put_u64(w, s->promise);
	wbuf_put_u64(w, s->epoch);
	wbuf_put_u64(w, s->applied);
	wbuf_put_u64(w, s->applied_hash);
	wbuf_put_u32(w, s->n_tail);
	wbuf_put_u32(w, s->qinfo_len);
	for (uint32_t i = 0; i < s->n_tail; i++)
		wbuf_put_u64(w, tail[i]);
	wbuf_put_bytes(w, qinfo, s->qinfo_len);
}

int wire_get_sync(struct rbuf *r, struct wire_sync *out)
{
	out->proto_min = rbuf_get_u16(r);
	out->proto_max = rbuf_get_u16(r);
	out->cluster_size = rbuf_get_u32(r);
	out->sync_id = rbuf_get_u32(r);
	out->view_id = rbuf_get_u64(r);
	out->promise = rbuf_get_u64(r);
	out->epoch = rbuf_get_u64(r);
	out->applied = rbuf_get_u64(r);
	out->applied_hash = rbuf_get_u64(r);
	out->n_tail = rbuf_get_u32(r);
	out->qinfo_len = rbuf_get_u32(r);
	if (rbuf_error(r))
		return rbuf_error(r);
	if (out->proto_min > out->proto_max || out->epoch > out->promise ||
	    out->n_tail > WIRE_SYNC_MAX_TAIL || out->qinfo_len > WIRE_SYNC_MAX_QINFO ||
	    rbuf_left(r) != (size_t)out->n_tail * 8 + out->qinfo_len ||
	    out->applied > UINT64_MAX - out->n_tail)
		return -EBADMSG;
	return 0;
}

void wire_put_epoch_ack(struct wbuf *w, const struct wire_epoch_ack *a)
{
	wbuf_put_u64(w, a->plan_id);
	wbuf_put_u32(w, a->sync_id);
	wbuf_put_u64(w, a->epoch);
}

int wire_get_epoch_ack(struct rbuf *r, struct wire_epoch_ack *out)
{
	out->plan_id = rbuf_get_u64(r);
	out->sync_id = rbuf_get_u32(r);
	out->epoch = rbuf_get_u64(r);
	rbuf_expect_end(r);
	return rbuf_error(r);
}

void wire_put_snapshot(struct wbuf *w, const struct wire_snapshot *s)
{
	wbuf_put_u64(w, s->plan_id);
	wbuf_put_u32(w, s->sync_id);
	wbuf_put_u64(w, s->epoch);
	wbuf_put_u64(w, s->seq);
	wbuf_put_u32(w, s->total_len);
	wbuf_put_u32(w, s->offset);
	wbuf_put_u32(w, s->total_crc);
	wbuf_put_blob(w, s->data, s->data_len);
}

int wire_get_snapshot(struct rbuf *r, struct wire_snapshot *out)
{
	out->plan_id = rbuf_get_u64(r);
	out->sync_id = rbuf_get_u32(r);
	out->epoch = rbuf_get_u64(r);
	out->seq = rbuf_get_u64(r);
	out->total_len = rbuf_get_u32(r);
	out->offset = rbuf_get_u32(r);
	out->total_crc = rbuf_get_u32(r);
	out->data = rbuf_get_blob(r, &out->data_len);
	rbuf_expect_end(r);
	if (rbuf_error(r))
		return rbuf_error(r);
	if (out->data_len > WIRE_CHUNK_DATA_BYTES || out->offset > out->total_len ||
	    out->data_len > out->total_len - out->offset)
		return -EBADMSG;
	return 0;
}

const char *wire_type_name(unsigned type)
{
	static const char *const names[WIRE_TYPE_MAX] = {
		[WIRE_REQUEST] = "REQUEST", [WIRE_STABLE] = "STABLE", [WIRE_SYNC] = "SYNC",
		[WIRE_EPOCH_ACK] = "EPOCH_ACK", [WIRE_SNAPSHOT] = "SNAPSHOT", [WIRE_RESYNC] = "RESYNC",
		[WIRE_REROUND] = "REROUND",
	};
	return type < WIRE_TYPE_MAX && names[type] ? names[type] : "UNKNOWN";
}
