/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Direct datagrams between daemons (see direct-udp.h). */
#include "config.h"

#include "direct-udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qb/qblog.h>

#include <blkspace/errors.h>

#include "codec.h"

#define DIRECT_MAGIC 0x44534b42u /* "BKSD" in little-endian bytes */
#define DIRECT_VERSION 1
#define DIRECT_MAX_PEERS 64
#define DIRECT_KEY_FILE_MAX 4096
#define DIRECT_DRAIN_MAX 64 /* datagrams taken per poll wake-up */
#define DIRECT_KEY_LABEL "blkspace direct datagrams 1"

struct peer {
	uint32_t nodeid;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct direct_udp {
	qb_loop_t *loop;
	int fd, family;
	uint16_t port;
	uint8_t key[32];
	uint32_t self;
	struct peer peers[DIRECT_MAX_PEERS];
	size_t n_peers;
	uint32_t unreachable[DIRECT_MAX_PEERS]; /* nodes without a numeric address, logged */
	size_t n_unreachable;
	direct_udp_receive_fn receive;
	void *data;
	struct transport_direct_counts counts;
	int last_send_errno; /* logged once until a send works again */
};

static void tag_of(const struct direct_udp *du, const uint8_t *buf, size_t len,
                   uint8_t tag[DIRECT_TAG])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned int full_len = 0;
	HMAC(EVP_sha256(), du->key, sizeof(du->key), buf, len, full, &full_len);
	memcpy(tag, full, DIRECT_TAG);
}

/* The key: HMAC-SHA256 of a fixed label under the file's bytes, so the
 * corosync key itself is never used for anything but corosync. */
static int derive_key(struct direct_udp *du, const char *path, char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "cannot read the key %s: %s", path, strerror(errno));
		return -errno;
	}
	uint8_t secret[DIRECT_KEY_FILE_MAX];
	ssize_t n = read(fd, secret, sizeof(secret));
	int saved = errno;
	close(fd);
	if (n < 16) {
		snprintf(err, errsz, "the key %s is %s", path,
		         n < 0 ? strerror(saved) : "shorter than 16 bytes");
		return n < 0 ? -saved : -EINVAL;
	}
	unsigned int len = 0;
	HMAC(EVP_sha256(), secret, (int)n, (const uint8_t *)DIRECT_KEY_LABEL,
	     strlen(DIRECT_KEY_LABEL), du->key, &len);
	OPENSSL_cleanse(secret, sizeof(secret));
	return len == sizeof(du->key) ? 0 : -EIO;
}

/* A socket bound to port on every address: dual-stack IPv6, else IPv4. */
static int bind_socket(int family, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
		                   .sin6_addr = in6addr_any };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
		                  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int off = 0;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) : 0;
	if (rc == 0)
		rc = family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		                        : bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int open_socket(struct direct_udp *du, uint16_t port, char *err, size_t errsz)
{
	du->family = AF_INET6;
	du->fd = bind_socket(AF_INET6, port);
	if (du->fd == -EAFNOSUPPORT) {
		du->family = AF_INET;
		du->fd = bind_socket(AF_INET, port);
	}
	if (du->fd < 0) {
		int rc = du->fd;
		snprintf(err, errsz, "cannot bind UDP port %u: %s", port, strerror(-rc));
		return rc;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	if (getsockname(du->fd, (struct sockaddr *)&bound, &blen) == 0)
		du->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
		                                             : ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

size_t direct_udp_frame(const struct direct_udp *du, uint32_t from, uint32_t to, const char *group,
                        const void *msg, size_t len, uint8_t *buf)
{
	size_t gl = strlen(group);
	le32_write(buf, DIRECT_MAGIC);
	buf[4] = DIRECT_VERSION;
	buf[5] = (uint8_t)gl;
	le16_write(buf + 6, (uint16_t)len);
	le32_write(buf + 8, from);
	le32_write(buf + 12, to);
	memcpy(buf + DIRECT_HEADER, group, gl);
	memcpy(buf + DIRECT_HEADER + gl, msg, len);
	size_t body = DIRECT_HEADER + gl + len;
	tag_of(du, buf, body, buf + body);
	return body + DIRECT_TAG;
}

int direct_udp_parse(const struct direct_udp *du, const uint8_t *buf, size_t len,
                     struct direct_datagram *out, const char **why)
{
	if (len < DIRECT_HEADER + DIRECT_TAG || le32_read(buf) != DIRECT_MAGIC) {
		*why = "not a blkspace datagram";
		return -EBADMSG;
	}
	if (buf[4] != DIRECT_VERSION) {
		*why = "unsupported version";
		return -EPROTONOSUPPORT;
	}
	size_t gl = buf[5], ml = le16_read(buf + 6);
	if (gl == 0 || gl > DIRECT_GROUP_MAX || ml > DIRECT_MSG_MAX ||
	    DIRECT_HEADER + gl + ml + DIRECT_TAG != len) {
		*why = "lengths do not add up";
		return -EBADMSG;
	}
	uint8_t tag[DIRECT_TAG];
	tag_of(du, buf, len - DIRECT_TAG, tag);
	if (CRYPTO_memcmp(tag, buf + len - DIRECT_TAG, DIRECT_TAG) != 0) {
		*why = "failed authentication (another key?)";
		return -EACCES;
	}
	out->from = le32_read(buf + 8);
	out->to = le32_read(buf + 12);
	if (!du->self || out->to != du->self || out->from == du->self || out->from == 0) {
		*why = "addressed to another node";
		return -EDESTADDRREQ;
	}
	memcpy(out->group, buf + DIRECT_HEADER, gl);
	out->group[gl] = '\0';
	if (strlen(out->group) != gl) {
		*why = "bad group name";
		return -EBADMSG;
	}
	out->msg = buf + DIRECT_HEADER + gl;
	out->len = ml;
	return 0;
}

static void addr_text(const struct sockaddr_storage *a, char *buf, size_t size)
{
	const void *ip = a->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
	                                          : (const void *)&((const struct sockaddr_in *)a)->sin_addr;
	if (!inet_ntop(a->ss_family, ip, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

/* The first rejected datagram and then every 1000th are logged: a stream
 * of them (a node with another key, a port scan) cannot flood the log. */
static void rejected(struct direct_udp *du, const struct sockaddr_storage *src, const char *why)
{
	if (du->counts.rejected++ % 1000 != 0)
		return;
	char a[INET6_ADDRSTRLEN];
	addr_text(src, a, sizeof(a));
	qb_log(LOG_WARNING, "direct datagram from %s: %s, ignoring (%llu rejected so far)", a, why,
	       (unsigned long long)du->counts.rejected);
}

static int32_t on_readable(int32_t fd, int32_t revents, void *data)
{
	struct direct_udp *du = data;
	uint8_t buf[DIRECT_DATAGRAM_MAX + 1]; /* one more: a longer one shows as such */
	for (int i = 0; i < DIRECT_DRAIN_MAX; i++) {
		struct sockaddr_storage src;
		socklen_t slen = sizeof(src);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&src, &slen);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			continue; /* an ICMP error of an earlier send: the peer is not there */
		struct direct_datagram d;
		const char *why = NULL;
		if ((size_t)n > sizeof(buf)) {
			rejected(du, &src, "longer than any blkspace datagram");
			continue;
		}
		if (direct_udp_parse(du, buf, (size_t)n, &d, &why) < 0) {
			rejected(du, &src, why);
			continue;
		}
		du->counts.received++;
		du->receive(du->data, d.from, d.group, d.msg, d.len);
	}
	return 0;
}

int direct_udp_create(const struct direct_udp_params *p, struct direct_udp **ret, char *err,
                      size_t errsz)
{
	struct direct_udp *du = calloc(1, sizeof(*du));
	if (!du) {
		snprintf(err, errsz, "no memory");
		return -ENOMEM;
	}
	du->loop = p->loop;
	du->receive = p->receive;
	du->data = p->data;
	du->fd = -1;
	int rc = derive_key(du, p->key_file, err, errsz);
	if (rc == 0)
		rc = open_socket(du, p->port, err, errsz);
	if (rc == 0 && qb_loop_poll_add(du->loop, QB_LOOP_HIGH, du->fd, POLLIN, du, on_readable) != 0) {
		snprintf(err, errsz, "cannot poll the UDP socket");
		rc = -EIO;
	}
	if (rc < 0) {
		if (du->fd >= 0)
			close(du->fd);
		OPENSSL_cleanse(du->key, sizeof(du->key));
		free(du);
		return rc;
	}
	*ret = du;
	return 0;
}

void direct_udp_destroy(struct direct_udp *du)
{
	if (!du)
		return;
	qb_loop_poll_del(du->loop, du->fd);
	close(du->fd);
	OPENSSL_cleanse(du->key, sizeof(du->key));
	free(du);
}

uint16_t direct_udp_port(const struct direct_udp *du) { return du->port; }
void direct_udp_set_self(struct direct_udp *du, uint32_t nodeid) { du->self = nodeid; }

void direct_udp_get_counts(const struct direct_udp *du, struct transport_direct_counts *out)
{
	*out = du->counts;
	out->port = du->port;
}

/* addr as a socket address our socket can send to (IPv4 mapped on IPv6). */
static int peer_address(const struct direct_udp *du, const char *addr, uint16_t port,
                        struct peer *p)
{
	struct in_addr v4;
	struct in6_addr v6;
	bool is_v4 = inet_pton(AF_INET, addr, &v4) == 1;
	memset(&p->addr, 0, sizeof(p->addr));
	if (is_v4 && du->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&p->addr;
		*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = v4 };
		p->addr_len = sizeof(*a);
		return 0;
	}
	if (is_v4) {
		memset(&v6, 0, sizeof(v6));
		v6.s6_addr[10] = v6.s6_addr[11] = 0xff;
		memcpy(&v6.s6_addr[12], &v4, 4);
	} else if (inet_pton(AF_INET6, addr, &v6) != 1 || du->family != AF_INET6) {
		return -EINVAL;
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&p->addr;
	*a = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = v6 };
	p->addr_len = sizeof(*a);
	return 0;
}

static struct peer *find_peer(const struct direct_udp *du, uint32_t nodeid)
{
	for (size_t i = 0; i < du->n_peers; i++)
		if (du->peers[i].nodeid == nodeid)
			return (struct peer *)&du->peers[i];
	return NULL;
}

bool direct_udp_knows(const struct direct_udp *du, uint32_t nodeid)
{
	return find_peer(du, nodeid) != NULL;
}

/* Once per node: its ring0_addr is a name, and no lookup is made here. */
static void log_unreachable(struct direct_udp *du, uint32_t nodeid, const char *addr)
{
	for (size_t i = 0; i < du->n_unreachable; i++)
		if (du->unreachable[i] == nodeid)
			return;
	if (du->n_unreachable < DIRECT_MAX_PEERS)
		du->unreachable[du->n_unreachable++] = nodeid;
	qb_log(LOG_NOTICE, "node %u's ring0_addr '%s' is not a numeric address: no direct "
	       "receipts to it (they go by corosync alone)", nodeid, addr);
}

int direct_udp_set_peer(struct direct_udp *du, uint32_t nodeid, const char *addr, uint16_t port)
{
	struct peer p = { .nodeid = nodeid };
	int rc = peer_address(du, addr, port ? port : du->port, &p);
	if (rc < 0)
		return rc;
	struct peer *slot = find_peer(du, nodeid);
	if (!slot && du->n_peers == DIRECT_MAX_PEERS)
		return -ENOSPC;
	if (!slot)
		slot = &du->peers[du->n_peers++];
	*slot = p;
	return 0;
}

int direct_udp_load_nodelist(struct direct_udp *du)
{
	cmap_handle_t h;
	if (cmap_initialize(&h) != CS_OK)
		return -ENOTCONN;
	int learnt = 0;
	for (unsigned i = 0; i < DIRECT_MAX_PEERS; i++) {
		char key[64], *addr = NULL;
		uint32_t id;
		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(h, key, &id) != CS_OK)
			break;
		snprintf(key, sizeof(key), "nodelist.node.%u.ring0_addr", i);
		if (cmap_get_string(h, key, &addr) == CS_OK && direct_udp_set_peer(du, id, addr, 0) == 0)
			learnt++;
		else if (!find_peer(du, id))
			log_unreachable(du, id, addr ? addr : "");
		free(addr);
	}
	cmap_finalize(h);
	return learnt;
}

int direct_udp_send(struct direct_udp *du, uint32_t to, const char *group, const void *msg,
                    size_t len)
{
	if (len > DIRECT_MSG_MAX || strlen(group) > DIRECT_GROUP_MAX || !*group)
		return -EMSGSIZE;
	const struct peer *p = find_peer(du, to);
	if (!p || !du->self)
		return -EHOSTUNREACH;
	uint8_t buf[DIRECT_DATAGRAM_MAX];
	size_t n = direct_udp_frame(du, du->self, to, group, msg, len, buf);
	if (sendto(du->fd, buf, n, MSG_DONTWAIT, (const struct sockaddr *)&p->addr, p->addr_len) < 0) {
		int e = errno;
		du->counts.send_failed++;
		if (e != du->last_send_errno)
			qb_log(LOG_NOTICE, "cannot send a direct datagram to node %u: %s (receipts go "
			       "by corosync alone meanwhile)", to, strerror(e));
		du->last_send_errno = e;
		return -e;
	}
	du->counts.sent++;
	du->last_send_errno = 0;
	return 0;
}
