/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sim kernel link: a unix stream socket where test programs play the
 * kernel. Each frame is a u32 little-endian length L (1..160+4096) and L
 * bytes of dm_ulog_request + data; answers come back framed the same way.
 * Any number of clients, each with its own input and output buffer; nothing
 * blocks: output waits for POLLOUT. A client that sends a bad length, errs
 * or closes is dropped, and answers still owed to it are discarded (client
 * ids count up and are never reused). */
#include "config.h"

#include "kernel-link-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <qb/qblog.h>

#include <blkspace/errors.h>

#define SIM_PREFIX_BYTES 4
#define SIM_MAX_FRAME_BYTES (ULOG_HEADER_BYTES + ULOG_MAX_DATA_BYTES)
#define SIM_MAX_OUT_BYTES (4u << 20) /* unread answers before a client is dropped */
#define SIM_MAX_READS_PER_WAKEUP 16
#define SIM_MAX_ACCEPTS_PER_WAKEUP 16
#define SIM_ACCEPT_PAUSE_NS (1000ull * 1000 * 1000) /* out of fds: 1 s */

struct sim_link;

struct sim_client {
	struct sim_client *next;
	struct sim_link *s;
	int fd;
	uint64_t id;
	char who[40];  /* "sim client N" for log lines */
	bool want_out; /* POLLOUT requested */
	bool busy;     /* inside its poll callback: freed when it returns */
	bool dead;     /* closed, waiting to be freed */
	struct kernel_link_warnings warn;
	struct wbuf out; /* framed answers; out_off bytes of it already sent */
	size_t out_off;
	size_t in_len;
	uint8_t in[SIM_PREFIX_BYTES + SIM_MAX_FRAME_BYTES];
};

struct sim_link {
	struct kernel_link base; /* first */
	int listen_fd;
	bool polled;  /* listen_fd is in the loop */
	bool bound;   /* path is ours to unlink */
	bool paused;  /* accepting stopped for a while (out of fds) */
	qb_loop_timer_handle pause_timer;
	uint64_t last_client;
	struct sim_client *clients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct sim_link *sim_of(struct kernel_link *link) { return (struct sim_link *)link; }

/* ---- clients ---- */

static void client_free(struct sim_client *c)
{
	struct sim_client **pp = &c->s->clients;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	wbuf_done(&c->out);
	free(c);
}

/* Close the connection; free now, or when its callback returns. */
static void client_drop(struct sim_client *c)
{
	if (c->dead)
		return;
	qb_loop_poll_del(c->s->base.loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	if (!c->busy)
		client_free(c);
}

static int32_t on_client_fd(int32_t fd, int32_t revents, void *data);

static void set_want_out(struct sim_client *c, bool on)
{
	if (c->want_out == on)
		return;
	int events = POLLIN | (on ? POLLOUT : 0);
	if (qb_loop_poll_mod(c->s->base.loop, QB_LOOP_HIGH, c->fd, events, c, on_client_fd) == 0)
		c->want_out = on;
}

/* Write what is buffered until the socket is full. */
static void flush_out(struct sim_client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			set_want_out(c, true);
			return;
		}
		if (n < 0) {
			qb_log(LOG_DEBUG, "ulog %s: send: %s, dropping it", c->who, strerror(errno));
			client_drop(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	wbuf_reset(&c->out);
	c->out_off = 0;
	set_want_out(c, false);
}

/* Deliver every complete frame in the input buffer. Returns false when the
 * client was dropped. */
static bool process_frames(struct sim_client *c)
{
	size_t off = 0;
	while (!c->dead && c->in_len - off >= SIM_PREFIX_BYTES) {
		uint32_t len = le32_read(c->in + off);
		if (len < 1 || len > SIM_MAX_FRAME_BYTES) {
			kernel_link_warn(&c->warn, c->who,
			                 "frame length %" PRIu32 " not in 1..%u, connection closed, ignoring",
			                 len, (unsigned)SIM_MAX_FRAME_BYTES);
			client_drop(c);
			return false;
		}
		if (c->in_len - off - SIM_PREFIX_BYTES < len)
			break;
		kernel_link_deliver(&c->s->base, c->in + off + SIM_PREFIX_BYTES, len, c->id, c->who,
		                    &c->warn);
		off += SIM_PREFIX_BYTES + len;
	}
	if (c->dead)
		return false;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return true;
}

/* The buffer holds less than one complete frame after process_frames(), so
 * there is always room to read into. */
static void read_frames(struct sim_client *c)
{
	for (int i = 0; i < SIM_MAX_READS_PER_WAKEUP && !c->dead; i++) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			qb_log(LOG_DEBUG, "ulog %s: %s, dropping it", c->who,
			       n == 0 ? "closed" : strerror(errno));
			client_drop(c);
			return;
		}
		c->in_len += (size_t)n;
		if (!process_frames(c))
			return;
	}
}

/* Returns -1 when the client was dropped: libqb then keeps its poll entry
 * deleted (it would mark an entry deleted inside its own dispatch active
 * again, and never reuse the slot). */
static int32_t on_client_fd(int32_t fd, int32_t revents, void *data)
{
	struct sim_client *c = data;
	c->busy = true;
	if (revents & POLLOUT)
		flush_out(c);
	if (!c->dead && (revents & (POLLIN | POLLHUP | POLLERR)))
		read_frames(c);
	c->busy = false;
	if (!c->dead)
		return 0;
	client_free(c);
	return -1;
}

static void add_client(struct sim_link *s, int fd)
{
	struct sim_client *c = calloc(1, sizeof(*c));
	if (!c) {
		qb_log(LOG_WARNING, "ulog sim: out of memory for a client, closing it, ignoring");
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	c->id = ++s->last_client;
	snprintf(c->who, sizeof(c->who), "sim client %" PRIu64, c->id);
	wbuf_init(&c->out);
	int rc = qb_loop_poll_add(s->base.loop, QB_LOOP_HIGH, fd, POLLIN, c, on_client_fd);
	if (rc < 0) {
		qb_log(LOG_WARNING, "ulog sim: cannot poll a client: %s, closing it, ignoring",
		       blkspace_strerror(rc));
		close(fd);
		free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	qb_log(LOG_DEBUG, "ulog %s: connected", c->who);
}

/* ---- the listener ---- */

static int32_t on_listen_fd(int32_t fd, int32_t revents, void *data);

static void on_pause_end(void *data)
{
	struct sim_link *s = data;
	s->paused = false;
	if (qb_loop_poll_add(s->base.loop, QB_LOOP_HIGH, s->listen_fd, POLLIN, s, on_listen_fd) == 0)
		s->polled = true;
}

/* Out of fds or memory: stop accepting for a while instead of spinning. */
static void pause_accepting(struct sim_link *s, int err)
{
	qb_log(LOG_WARNING, "ulog sim: accept: %s, retrying in 1 s", blkspace_strerror(-err));
	if (qb_loop_timer_add(s->base.loop, QB_LOOP_LOW, SIM_ACCEPT_PAUSE_NS, s, on_pause_end,
	                      &s->pause_timer) != 0)
		return;
	qb_loop_poll_del(s->base.loop, s->listen_fd);
	s->polled = false;
	s->paused = true;
}

static int32_t on_listen_fd(int32_t fd, int32_t revents, void *data)
{
	struct sim_link *s = data;
	for (int i = 0; i < SIM_MAX_ACCEPTS_PER_WAKEUP; i++) {
		int cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			add_client(s, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accepting(s, errno);
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			qb_log(LOG_WARNING, "ulog sim: accept: %s, ignoring", strerror(errno));
		break;
	}
	return s->paused ? -1 : 0; /* see on_client_fd() */
}

/* ---- ops ---- */

static struct sim_client *find_client(struct sim_link *s, uint64_t id)
{
	for (struct sim_client *c = s->clients; c; c = c->next)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

static int sim_send(struct kernel_link *link, const struct ulog_origin *to, const uint8_t *frame,
                    size_t len)
{
	struct sim_client *c = find_client(sim_of(link), to->client);
	if (!c) {
		qb_log(LOG_DEBUG, "ulog sim: answer to seq %" PRIu32 " for gone client %" PRIu64
		                  ", dropped", to->seq, to->client);
		return 0;
	}
	size_t pending = c->out.len - c->out_off;
	if (pending + SIM_PREFIX_BYTES + len > SIM_MAX_OUT_BYTES) {
		qb_log(LOG_WARNING, "ulog %s: %zu bytes of answers unread, connection closed, ignoring",
		       c->who, pending);
		client_drop(c);
		return 0;
	}
	if (c->out_off) {
		memmove(c->out.data, c->out.data + c->out_off, pending);
		c->out.len = pending;
		c->out_off = 0;
	}
	uint8_t *p = wbuf_reserve(&c->out, SIM_PREFIX_BYTES + len);
	if (!p) {
		c->out.error = 0; /* nothing was added; the buffer stays usable */
		return -ENOMEM;
	}
	le32_write(p, (uint32_t)len);
	memcpy(p + SIM_PREFIX_BYTES, frame, len);
	if (!c->want_out)
		flush_out(c);
	return 0;
}

/* Not from within on_request. */
static void sim_destroy(struct kernel_link *link)
{
	struct sim_link *s = sim_of(link);
	while (s->clients) {
		struct sim_client *c = s->clients;
		c->busy = false;
		if (!c->dead) {
			qb_loop_poll_del(link->loop, c->fd);
			close(c->fd);
		}
		client_free(c);
	}
	if (s->paused)
		qb_loop_timer_del(link->loop, s->pause_timer);
	if (s->polled)
		qb_loop_poll_del(link->loop, s->listen_fd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->bound)
		unlink(s->path);
	kernel_link_done(link);
	free(s);
}

static const struct kernel_link_ops sim_ops = {
	.name = "sim",
	.send = sim_send,
	.destroy = sim_destroy,
};

/* ---- creation ---- */

/* The socket's directory: created 0755 when missing (one level only). */
static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	struct stat st;
	if (stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Remove a socket file nobody listens on; refuse anything else. */
static int remove_stale(const struct sockaddr_un *a)
{
	struct stat st;
	if (lstat(a->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)a, sizeof(*a));
	bool alive = rc == 0 || errno == EAGAIN;
	close(fd);
	if (alive)
		return -EADDRINUSE;
	return unlink(a->sun_path) < 0 && errno != ENOENT ? -errno : 0;
}

static int open_listener(struct sim_link *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, s->path, sizeof(a.sun_path));
	int rc = make_parent_dir(s->path);
	if (rc == 0)
		rc = remove_stale(&a);
	if (rc < 0)
		return rc;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return -errno;
	/* the mode of the socket inode becomes the file's: 0600 from the start */
	if (fchmod(s->listen_fd, 0600) < 0)
		return -errno;
	if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -errno;
	s->bound = true;
	if (chmod(s->path, 0600) < 0 || listen(s->listen_fd, SOMAXCONN) < 0)
		return -errno;
	return 0;
}

/* Fails with -errno and logs nothing: -ENAMETOOLONG, -ENOENT (no
 * grandparent directory), -EEXIST (path is not a socket), -EADDRINUSE
 * (someone listens there), or what mkdir/bind/listen said. */
int kernel_link_sim_create(qb_loop_t *loop, const char *path,
                           const struct kernel_link_callbacks *cb, void *cb_data,
                           struct kernel_link **ret)
{
	if (!path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	struct sim_link *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	kernel_link_init(&s->base, &sim_ops, loop, cb, cb_data);
	s->listen_fd = -1;
	snprintf(s->path, sizeof(s->path), "%s", path);
	int rc = open_listener(s);
	if (rc == 0)
		rc = qb_loop_poll_add(loop, QB_LOOP_HIGH, s->listen_fd, POLLIN, s, on_listen_fd);
	if (rc < 0) {
		sim_destroy(&s->base);
		return rc;
	}
	s->polled = true;
	*ret = &s->base;
	return 0;
}
