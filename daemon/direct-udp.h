/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Direct datagrams between the daemons of the cluster: one UDP socket per
 * daemon, outside corosync, for the transport's send_direct() (receipts
 * ahead of their ordered copies). A datagram names its group, sender and
 * receiver and carries an HMAC-SHA256 tag (16 bytes) under a key derived
 * from corosync's authkey, so only a holder of that key can send one that
 * is taken. Peers' addresses are their ring0_addr in corosync's nodelist
 * (numeric addresses only: nothing here waits for a name lookup). Nothing
 * is retried or acknowledged: the caller's ordered path is the reliable one.
 *
 * Datagram (little-endian): magic u32 "BKSD", version u8 (1), group length
 * u8, message length u16, from u32, to u32, group, message, tag[16]. */
#ifndef BLKSPACE_DIRECT_UDP_H
#define BLKSPACE_DIRECT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "transport.h"

#define DIRECT_DEFAULT_PORT 5409
#define DIRECT_DEFAULT_KEY_FILE "/etc/corosync/authkey"
#define DIRECT_MSG_MAX 1024  /* the largest message it carries */
#define DIRECT_GROUP_MAX 127 /* the longest group name */
#define DIRECT_HEADER 16 /* the fixed fields */
#define DIRECT_TAG 16    /* the HMAC-SHA256 tag, truncated */
/* The longest datagram: header, group, message and tag. */
#define DIRECT_DATAGRAM_MAX (DIRECT_HEADER + DIRECT_GROUP_MAX + DIRECT_MSG_MAX + DIRECT_TAG)

struct direct_udp;

/* A datagram that passed every check, from node `from` to us. */
typedef void (*direct_udp_receive_fn)(void *data, uint32_t from, const char *group,
                                      const void *msg, size_t len);

struct direct_udp_params {
	qb_loop_t *loop;
	uint16_t port; /* 0: any free port (tests) */
	const char *key_file;
	direct_udp_receive_fn receive;
	void *data;
};

/* Read the key and bind the port. On failure err says why (for one log
 * line); the caller goes on without direct datagrams. */
int direct_udp_create(const struct direct_udp_params *p, struct direct_udp **ret, char *err,
                      size_t errsz);
/* accepts NULL */
void direct_udp_destroy(struct direct_udp *du);
uint16_t direct_udp_port(const struct direct_udp *du);

/* Our nodeid (0 until known: nothing is sent or taken before). */
void direct_udp_set_self(struct direct_udp *du, uint32_t nodeid);
/* Learn node addresses: one nodeid at a numeric address (IPv4 or IPv6)
 * and port (0: the port we bound). Returns 0, or -EINVAL for an address
 * that is not numeric. */
int direct_udp_set_peer(struct direct_udp *du, uint32_t nodeid, const char *addr, uint16_t port);
/* Whether nodeid's address is known. */
bool direct_udp_knows(const struct direct_udp *du, uint32_t nodeid);
/* Read every node's ring0_addr from corosync's nodelist (cmap); returns the
 * number of nodes learnt, or a negative errno when cmap is not reachable.
 * A node whose address is not numeric is logged once. */
int direct_udp_load_nodelist(struct direct_udp *du);

/* Send msg of group to node `to`; -EHOSTUNREACH when its address is not
 * known, -EMSGSIZE beyond DIRECT_MSG_MAX or DIRECT_GROUP_MAX. */
int direct_udp_send(struct direct_udp *du, uint32_t to, const char *group, const void *msg,
                    size_t len);

/* Fills every count and the port; on is left to the caller. */
void direct_udp_get_counts(const struct direct_udp *du, struct transport_direct_counts *out);

/* The checks of one datagram without a socket (for tests): 0 with the
 * fields filled, or a negative errno with why (a static string). */
struct direct_datagram {
	uint32_t from, to;
	char group[DIRECT_GROUP_MAX + 1];
	const uint8_t *msg;
	size_t len;
};
int direct_udp_parse(const struct direct_udp *du, const uint8_t *buf, size_t len,
                     struct direct_datagram *out, const char **why);
/* Build a datagram into buf (DIRECT_DATAGRAM_MAX bytes); returns its length. */
size_t direct_udp_frame(const struct direct_udp *du, uint32_t from, uint32_t to, const char *group,
                        const void *msg, size_t len, uint8_t *buf);

#endif
