/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Peer messages of a replicated domain: header and payloads.
 *
 * Every message starts with a fixed 56-byte little-endian header. Decoders
 * check magic, version, length and type before any payload is read and copy
 * what they keep; a message that fails is dropped by the caller with one log
 * line. Message types have fixed numbers; a retired number keeps its slot. */
#ifndef BLKSPACE_WIRE_H
#define BLKSPACE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define WIRE_MAGIC 0x50534b42u /* "BKSP" */
#define WIRE_PROTO_MIN 2
#define WIRE_PROTO_MAX 2
#define WIRE_HEADER_BYTES 56
#define WIRE_MAX_MSG_BYTES (64 * 1024)
/* Snapshot data per chunk: the whole message stays within 64 KiB. */
#define WIRE_CHUNK_DATA_BYTES (WIRE_MAX_MSG_BYTES - WIRE_HEADER_BYTES - 64)

enum wire_type {
	WIRE_REQUEST = 1,   /* an operation of the domain's service */
	WIRE_STABLE = 2,    /* a receipt: header fields only */
	WIRE_SYNC = 3,      /* state and log exchange after a configuration change */
	WIRE_EPOCH_ACK = 4, /* "I promised the new epoch" */
	WIRE_SNAPSHOT = 5,  /* one chunk of a state transfer */
	WIRE_RESYNC = 6,    /* u64 epoch: "run the configuration round again" */
	WIRE_REROUND = 7,   /* u64 view id: the same, from a refused configuration */
	WIRE_TYPE_MAX,
};

struct wire_header {
	uint16_t version;
	uint16_t type;
	uint32_t length;      /* whole message, header included */
	uint32_t domain;      /* wire_domain_id() of the domain name */
	uint32_t origin;      /* sender's nodeid */
	uint32_t incarnation; /* sender's daemon incarnation */
	uint64_t request_id;  /* REQUEST: per (origin, incarnation), from 1 */
	/* receipt, piggy-backed on every message: "in this epoch I hold the log
	 * durably through stable_seq, whose chain hash is stable_hash" (0: none) */
	uint64_t stable_epoch;
	uint64_t stable_seq;
	uint64_t stable_hash;
};

/* wire_request.flags: the origin takes direct receipts (see domain-log.c),
 * so its peers may hold the ordered copy of their receipt for it. Peers
 * ignore flags they do not know. */
#define WIRE_REQ_DIRECT 0x0001

struct wire_request {
	uint16_t op;
	uint16_t flags;
	const uint8_t *body; /* points into the message: copy before keeping */
	size_t body_len;
};

/* Followed by n_tail u64 chain hashes of the log entries after "applied",
 * then qinfo_len bytes of the service's quorum information. */
struct wire_sync {
	uint16_t proto_min;
	uint16_t proto_max;
	uint32_t cluster_size; /* configured number of nodes */
	uint32_t sync_id;      /* sender's count of configuration changes */
	uint64_t view_id;      /* hash of the member list this answers */
	uint64_t promise;      /* highest epoch the sender promised */
	uint64_t epoch;        /* epoch of the sender's state */
	uint64_t applied;      /* its applied point and chain hash there */
	uint64_t applied_hash;
	uint32_t n_tail;
	uint32_t qinfo_len;    /* bytes of service quorum information after the hashes */
};

#define WIRE_SYNC_MAX_QINFO 4096

#define WIRE_SYNC_MAX_TAIL ((WIRE_MAX_MSG_BYTES - WIRE_HEADER_BYTES - 80) / 8)

struct wire_epoch_ack {
	uint64_t plan_id; /* the round's plan this acknowledges */
	uint32_t sync_id;
	uint64_t epoch;
};

struct wire_snapshot {
	uint64_t plan_id;    /* the round's plan this transfer belongs to */
	uint32_t sync_id;    /* the source's sync_id of this round */
	uint64_t epoch;      /* the round's plan: epoch, applied point, commit point */
	uint64_t seq;
	uint32_t total_len;  /* bytes of the whole snapshot */
	uint32_t offset;     /* of this chunk */
	uint32_t total_crc;  /* crc32c of the whole snapshot */
	const uint8_t *data; /* points into the message */
	size_t data_len;
};

/* 32-bit identifier of a domain name carried in every header. */
uint32_t wire_domain_id(const char *name);

/* Encode a header (length patched by wire_finish()). */
void wire_begin(struct wbuf *w, const struct wire_header *h);
/* Patch the length field; returns 0 or -EMSGSIZE if over WIRE_MAX_MSG_BYTES. */
int wire_finish(struct wbuf *w);

/* Decode and check the header: -EBADMSG (short, bad magic, bad length),
 * -EPROTONOSUPPORT (version), -ENOMSG (unknown type). On success r is
 * positioned at the payload and limited to the message length. */
int wire_decode_header(const void *msg, size_t len, struct wire_header *h, struct rbuf *r);

void wire_put_request(struct wbuf *w, uint16_t op, uint16_t flags, const void *body, size_t len);
int wire_get_request(struct rbuf *r, struct wire_request *out);
void wire_put_sync(struct wbuf *w, const struct wire_sync *s, const uint64_t *tail,
                   const void *qinfo);
/* Decodes the fixed part; r is left at the tail hashes, then qinfo. */
int wire_get_sync(struct rbuf *r, struct wire_sync *out);
void wire_put_epoch_ack(struct wbuf *w, const struct wire_epoch_ack *a);
int wire_get_epoch_ack(struct rbuf *r, struct wire_epoch_ack *out);
void wire_put_snapshot(struct wbuf *w, const struct wire_snapshot *s);
int wire_get_snapshot(struct rbuf *r, struct wire_snapshot *out);

const char *wire_type_name(unsigned type);

#endif
