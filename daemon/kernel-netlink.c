/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The netlink connector kernel link: requests arrive as multicast datagrams
 * nlmsghdr + struct cn_msg + dm_ulog_request from the kernel (port 0) on
 * group CN_IDX_DM; answers go back the same way with sendmsg. The socket is
 * non-blocking: an answer the socket will not take now is dropped and
 * logged (the kernel resends the request after 15 s). */
#include "config.h"

#include "kernel-link-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/connector.h>
#include <linux/netlink.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#define NL_RECV_BYTES (CONNECTOR_MAX_MSG_SIZE + 1024) /* one datagram */
#define NL_RCVBUF_BYTES (1024 * 1024)                 /* socket queue */
#define NL_MAX_DATAGRAMS_PER_WAKEUP 64

struct nl_link {
	struct kernel_link base; /* first */
	int fd;
	uint32_t port; /* our netlink port id */
	bool polled;
	struct kernel_link_warnings warn;
	uint8_t buf[NL_RECV_BYTES] __attribute__((aligned(8)));
};

static struct nl_link *nl_of(struct kernel_link *link) { return (struct nl_link *)link; }

static int nl_send(struct kernel_link *link, const struct ulog_origin *to, const uint8_t *frame,
                   size_t len)
{
	struct nl_link *nl = nl_of(link);
	struct {
		struct nlmsghdr nh;
		struct cn_msg cn;
	} __attribute__((packed)) hdr;
	_Static_assert(sizeof(hdr) == NLMSG_HDRLEN + sizeof(struct cn_msg), "no padding");
	memset(&hdr, 0, sizeof(hdr));
	hdr.nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(struct cn_msg) + len);
	hdr.nh.nlmsg_type = NLMSG_DONE;
	hdr.nh.nlmsg_pid = nl->port;
	hdr.cn.id.idx = CN_IDX_DM;
	hdr.cn.id.val = CN_VAL_DM_USERSPACE_LOG;
	hdr.cn.seq = to->seq;
	hdr.cn.len = (uint16_t)len;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)frame, len } };
	struct msghdr m = { .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = iov,
		            .msg_iovlen = 2 };
	if (sendmsg(nl->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		qb_log(LOG_WARNING,
		       "ulog netlink: answer to seq %" PRIu32 " not sent: %s, ignoring (the kernel "
		       "resends in 15 s)",
		       to->seq, blkspace_strerror(-errno));
	return 0;
}

/* One netlink message: check every length, then hand the frame on. */
static void handle_nlmsg(struct nl_link *nl, const struct nlmsghdr *nh)
{
	if (nh->nlmsg_type != NLMSG_DONE) {
		qb_log(LOG_DEBUG, "ulog netlink: message type %u, ignoring", nh->nlmsg_type);
		return;
	}
	size_t payload = nh->nlmsg_len - NLMSG_HDRLEN;
	struct cn_msg cn;
	if (payload < sizeof(cn)) {
		kernel_link_warn(&nl->warn, "netlink", "message of %zu bytes, ignoring", payload);
		return;
	}
	memcpy(&cn, NLMSG_DATA(nh), sizeof(cn));
	if (cn.id.idx != CN_IDX_DM || cn.id.val != CN_VAL_DM_USERSPACE_LOG) {
		qb_log(LOG_DEBUG, "ulog netlink: connector message %u:%u, ignoring", cn.id.idx,
		       cn.id.val);
		return;
	}
	if (cn.len > payload - sizeof(cn)) {
		kernel_link_warn(&nl->warn, "netlink",
		                 "connector length %u beyond the %zu bytes received, ignoring", cn.len,
		                 payload - sizeof(cn));
		return;
	}
	const uint8_t *frame = (const uint8_t *)NLMSG_DATA(nh) + sizeof(cn);
	kernel_link_deliver(&nl->base, frame, cn.len, 0, "netlink", &nl->warn);
}

/* One datagram: from the kernel only, then each message in it. */
static void handle_datagram(struct nl_link *nl, const struct sockaddr_nl *from, size_t len)
{
	if (from->nl_pid != 0) {
		qb_log(LOG_DEBUG, "ulog netlink: datagram from port %" PRIu32 ", not the kernel, ignoring",
		       from->nl_pid);
		return;
	}
	const struct nlmsghdr *nh = (const struct nlmsghdr *)nl->buf;
	int left = (int)len;
	for (; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left))
		handle_nlmsg(nl, nh);
	if (left > 0)
		kernel_link_warn(&nl->warn, "netlink", "%d bytes of a broken message, ignoring", left);
}

/* Returns false when nothing more is to be read now. */
static bool receive_one(struct nl_link *nl)
{
	struct sockaddr_nl from;
	struct iovec iov = { nl->buf, sizeof(nl->buf) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
		            .msg_iovlen = 1 };
	memset(&from, 0, sizeof(from));
	ssize_t n = recvmsg(nl->fd, &m, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR)
			return true;
		if (errno == ENOBUFS) {
			qb_log(LOG_WARNING, "ulog netlink: receive queue overflowed, requests lost, "
			                    "ignoring (the kernel resends in 15 s)");
			return true;
		}
		if (errno != EAGAIN)
			qb_log(LOG_WARNING, "ulog netlink: receive failed: %s, retrying",
			       blkspace_strerror(-errno));
		return false;
	}
	if (m.msg_flags & MSG_TRUNC)
		kernel_link_warn(&nl->warn, "netlink", "datagram longer than %zu bytes, ignoring",
		                 sizeof(nl->buf));
	else if (m.msg_namelen < sizeof(from) || from.nl_family != AF_NETLINK)
		qb_log(LOG_DEBUG, "ulog netlink: datagram without a netlink sender, ignoring");
	else
		handle_datagram(nl, &from, (size_t)n);
	return true;
}

static int32_t on_fd(int32_t fd, int32_t revents, void *data)
{
	struct nl_link *nl = data;
	for (int i = 0; i < NL_MAX_DATAGRAMS_PER_WAKEUP; i++)
		if (!receive_one(nl))
			break;
	return 0;
}

static void nl_destroy(struct kernel_link *link)
{
	struct nl_link *nl = nl_of(link);
	if (nl->polled)
		qb_loop_poll_del(link->loop, nl->fd);
	if (nl->fd >= 0)
		close(nl->fd);
	kernel_link_done(link);
	free(nl);
}

static const struct kernel_link_ops nl_ops = {
	.name = "netlink",
	.send = nl_send,
	.destroy = nl_destroy,
};

/* socket, bind to the DM group, join it, learn our port id. */
static int open_socket(struct nl_link *nl)
{
	nl->fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (nl->fd < 0)
		return -errno;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_DM };
	if (bind(nl->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -errno;
	int group = CN_IDX_DM;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	socklen_t alen = sizeof(a);
	if (getsockname(nl->fd, (struct sockaddr *)&a, &alen) < 0)
		return -errno;
	nl->port = a.nl_pid;
	/* a burst of requests should not overflow the default queue; best effort */
	int rcvbuf = NL_RCVBUF_BYTES;
	(void)setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

/* Fails with -errno and logs nothing: -EPERM without CAP_NET_ADMIN (binding
 * to the group), -EPROTONOSUPPORT when the kernel has no connector. A
 * kernel without dm-log-userspace loaded is not an error: it loads the
 * module when the first mirror table with a userspace log is created. */
int kernel_link_netlink_create(qb_loop_t *loop, const struct kernel_link_callbacks *cb,
                               void *cb_data, struct kernel_link **ret)
{
	struct nl_link *nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	kernel_link_init(&nl->base, &nl_ops, loop, cb, cb_data);
	int rc = open_socket(nl);
	if (rc == 0)
		rc = qb_loop_poll_add(loop, QB_LOOP_HIGH, nl->fd, POLLIN, nl, on_fd);
	if (rc < 0) {
		nl_destroy(&nl->base);
		return rc;
	}
	nl->polled = true;
	*ret = &nl->base;
	return 0;
}
