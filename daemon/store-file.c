/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File store backend.
 *
 * snapshot = magic "BKSN", u32 version, u64 generation, u32 length, u32 crc,
 * data. The journal that follows a snapshot of generation G is
 * "journal.G"; a new snapshot is written to a temporary file, flushed and
 * renamed over the old one before journal.G+1 replaces journal.G, so a crash
 * at any point leaves one consistent pair.
 *
 * The journal grows in zero-filled steps of JOURNAL_STEP_BYTES and records
 * are written in place after the last one: a group commit then changes no
 * file metadata and fdatasync() only has to flush the data, which halves
 * its cost. A load finds the end where zeros begin and wipes any torn bytes
 * after it. Blocking I/O, bounded by one group commit, one step or one
 * snapshot. */
#include "config.h"

#include "store-file.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkspace/errors.h>

#include "codec.h"
#include "journal-frame.h"

#define SNAP_MAGIC 0x4e534b42u /* "BKSN" */
#define SNAP_VERSION 1
#define SNAP_HEADER_BYTES 24
#define SNAP_MAX_BYTES (1024u * 1024 * 1024)

struct file_store_backend {
	char dir[PATH_MAX];
};

#define JOURNAL_STEP_BYTES (1024 * 1024)

struct store {
	char dir[PATH_MAX];
	uint64_t generation;
	int journal_fd;
	off_t journal_end;  /* where the next record goes */
	off_t journal_size; /* zero-filled up to here */
	struct wbuf pending;
};

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int pwrite_all(int fd, const void *data, size_t len, off_t off)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_file(const char *path, struct wbuf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (;;) {
		uint8_t *p = wbuf_reserve(out, 65536);
		if (!p) {
			rc = wbuf_error(out);
			break;
		}
		ssize_t n = read(fd, p, 65536);
		if (n < 0 && errno == EINTR) {
			out->len -= 65536;
			continue;
		}
		out->len -= 65536 - (n > 0 ? (size_t)n : 0);
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
	}
	close(fd);
	return rc;
}

/* Write path atomically: temporary file, fsync, rename, fsync of the directory. */
static int replace_file(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[PATH_MAX + 16], path[PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = pwrite_all(fd, data, len, 0);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_dir(dir);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int file_store_backend_create(const char *state_dir, struct file_store_backend **ret)
{
	if (strlen(state_dir) >= PATH_MAX - 64)
		return -ENAMETOOLONG;
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct file_store_backend *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	strcpy(b->dir, state_dir);
	*ret = b;
	return 0;
}

void file_store_backend_destroy(struct file_store_backend *b) { free(b); }

static int file_next_incarnation(void *backend, uint32_t *ret)
{
	struct file_store_backend *b = backend;
	char path[PATH_MAX + 16], text[32];
	snprintf(path, sizeof(path), "%s/incarnation", b->dir);
	struct wbuf w;
	wbuf_init(&w);
	int rc = read_file(path, &w);
	unsigned long v = 0;
	if (rc == 0) {
		wbuf_put_u8(&w, 0);
		char *end;
		v = strtoul((const char *)w.data, &end, 10);
		if (end == (char *)w.data || (*end != '\n' && *end != '\0') || v >= UINT32_MAX)
			rc = BLKSPACE_E_CORRUPT;
	} else if (rc == -ENOENT) {
		rc = 0;
	}
	wbuf_done(&w);
	if (rc < 0)
		return rc;
	int n = snprintf(text, sizeof(text), "%lu\n", v + 1);
	rc = replace_file(b->dir, "incarnation", text, (size_t)n);
	if (rc == 0)
		*ret = (uint32_t)(v + 1);
	return rc;
}

static int file_open(void *backend, const char *domain, struct store **ret)
{
	struct file_store_backend *b = backend;
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s/%s", b->dir, domain) >= sizeof(s->dir)) {
		free(s);
		return -ENAMETOOLONG;
	}
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;
		free(s);
		return rc;
	}
	s->journal_fd = -1;
	wbuf_init(&s->pending);
	*ret = s;
	return 0;
}

/* Parse the snapshot file: -ENOENT when there is none. */
static int load_snapshot(struct store *s, const struct store_load_callbacks *cb, void *data)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/snapshot", s->dir);
	struct wbuf w;
	wbuf_init(&w);
	int rc = read_file(path, &w);
	if (rc == 0) {
		struct rbuf r;
		rbuf_init(&r, w.data, w.len);
		uint32_t magic = rbuf_get_u32(&r), version = rbuf_get_u32(&r);
		uint64_t gen = rbuf_get_u64(&r);
		uint32_t len = rbuf_get_u32(&r), crc = rbuf_get_u32(&r);
		const uint8_t *p = rbuf_get_bytes(&r, len);
		rbuf_expect_end(&r);
		if (rbuf_error(&r) || magic != SNAP_MAGIC || version != SNAP_VERSION ||
		    crc32c(0, p, len) != crc)
			rc = BLKSPACE_E_CORRUPT;
		else if ((rc = cb->on_snapshot(data, p, len)) == 0)
			s->generation = gen;
	}
	wbuf_done(&w);
	return rc;
}

static int open_journal(struct store *s, bool truncate)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/journal.%llu", s->dir, (unsigned long long)s->generation);
	int flags = O_RDWR | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
	int fd = open(path, flags, 0600);
	if (fd < 0)
		return -errno;
	if (s->journal_fd >= 0)
		close(s->journal_fd);
	s->journal_fd = fd;
	s->journal_end = 0;
	s->journal_size = 0;
	return sync_dir(s->dir); /* the file itself must survive a crash too */
}

/* Zero-fill [from, to) and make it durable, metadata included. */
static int zero_fill(struct store *s, off_t from, off_t to)
{
	static const uint8_t zeros[65536];
	for (off_t off = from; off < to;) {
		size_t n = to - off < (off_t)sizeof(zeros) ? (size_t)(to - off) : sizeof(zeros);
		int rc = pwrite_all(s->journal_fd, zeros, n, off);
		if (rc < 0)
			return rc;
		off += (off_t)n;
	}
	return fsync(s->journal_fd) < 0 ? -errno : 0;
}

/* Make room for len more bytes after the end. */
static int reserve(struct store *s, size_t len)
{
	if (s->journal_end + (off_t)len <= s->journal_size)
		return 0;
	off_t size = s->journal_size;
	while (size < s->journal_end + (off_t)len)
		size += JOURNAL_STEP_BYTES;
	int rc = zero_fill(s, s->journal_size, size);
	if (rc == 0)
		s->journal_size = size;
	return rc;
}

/* Remove journals of other generations (left by a crash during a snapshot). */
static void remove_old_journals(struct store *s)
{
	DIR *dir = opendir(s->dir);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir))) {
		unsigned long long g;
		char extra;
		if (sscanf(e->d_name, "journal.%llu%c", &g, &extra) == 1 && g != s->generation)
			unlinkat(dirfd(dir), e->d_name, 0);
	}
	closedir(dir);
}

static int file_load(struct store *s, const struct store_load_callbacks *cb, void *data)
{
	int rc = load_snapshot(s, cb, data);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if ((rc = open_journal(s, false)) < 0)
		return rc;
	remove_old_journals(s);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/journal.%llu", s->dir, (unsigned long long)s->generation);
	struct wbuf w;
	wbuf_init(&w);
	rc = read_file(path, &w);
	long good = rc < 0 ? rc : journal_frame_scan(w.data, w.len, cb, data);
	if (good >= 0) {
		s->journal_end = good;
		s->journal_size = (off_t)w.len;
		/* wipe a torn tail so new records follow the intact ones */
		for (size_t i = (size_t)good; i < w.len && rc == 0; i++)
			if (w.data[i])
				rc = zero_fill(s, good, (off_t)w.len);
		if (rc < 0)
			good = rc;
	}
	wbuf_done(&w);
	return good < 0 ? (int)good : 0;
}

static int file_append(struct store *s, const void *rec, size_t len)
{
	journal_frame_put(&s->pending, rec, len);
	return wbuf_error(&s->pending);
}

/* A failed commit keeps what is pending, and the next one writes all of it
 * again at the same place before its flush: after a failed fdatasync the
 * kernel may have dropped the dirty pages, so flushing alone could report
 * records durable that never reached the disk. */
static int file_commit(struct store *s)
{
	if (!s->pending.len)
		return 0;
	if (s->journal_fd < 0)
		return -EBADF;
	int rc = reserve(s, s->pending.len);
	if (rc == 0)
		rc = pwrite_all(s->journal_fd, s->pending.data, s->pending.len, s->journal_end);
	if (rc == 0 && fdatasync(s->journal_fd) < 0)
		rc = -errno;
	if (rc < 0)
		return rc;
	s->journal_end += (off_t)s->pending.len;
	wbuf_reset(&s->pending);
	return 0;
}

static int file_save_snapshot(struct store *s, const void *snap, size_t len)
{
	if (len > SNAP_MAX_BYTES)
		return -EFBIG;
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u32(&w, SNAP_MAGIC);
	wbuf_put_u32(&w, SNAP_VERSION);
	wbuf_put_u64(&w, s->generation + 1);
	wbuf_put_u32(&w, (uint32_t)len);
	wbuf_put_u32(&w, crc32c(0, snap, len));
	wbuf_put_bytes(&w, snap, len);
	int rc = wbuf_error(&w);
	if (rc == 0)
		rc = replace_file(s->dir, "snapshot", w.data, w.len);
	wbuf_done(&w);
	if (rc < 0)
		return rc;
	s->generation++;
	wbuf_reset(&s->pending);
	rc = open_journal(s, true);
	if (rc == 0)
		remove_old_journals(s);
	return rc;
}

static void file_close(struct store *s)
{
	if (!s)
		return;
	if (s->journal_fd >= 0)
		close(s->journal_fd);
	wbuf_done(&s->pending);
	free(s);
}

const struct store_ops file_store_ops = {
	.name = "file",
	.next_incarnation = file_next_incarnation,
	.open = file_open,
	.load = file_load,
	.append = file_append,
	.commit = file_commit,
	.save_snapshot = file_save_snapshot,
	.close = file_close,
};
