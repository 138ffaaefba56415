/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The local group commit as the daemon's file store makes it: a record
 * written into a journal file whose blocks were zero-filled and synced
 * beforehand, then fdatasync(). A property change waits for one of these on
 * another node besides two CPG deliveries, so bench/run reports it beside
 * them, and the CPG echo benchmarks can make one before each echo. The file
 * lives in DIR (the state directory: the journals' file system) and is
 * removed at once (it stays open). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define RECORD_BYTES 128    /* about a property change's journal record */
#define FILE_RECORDS 8192   /* written round and round */

struct commit_file {
	int fd;
	size_t next;
};

static int write_all(int fd, const void *data, size_t len, off_t off)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* zeros written and synced: later writes change no metadata */
static int preallocate(int fd)
{
	static const char zeros[65536];
	off_t size = (off_t)FILE_RECORDS * RECORD_BYTES;
	for (off_t off = 0; off < size; off += (off_t)sizeof(zeros))
		if (write_all(fd, zeros, sizeof(zeros), off) < 0)
			return -1;
	return fsync(fd);
}

struct commit_file *commit_open(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-commit.%ld", dir, (long)getpid());
	struct commit_file *c = calloc(1, sizeof(*c));
	int fd = c ? open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	if (fd < 0 || preallocate(fd) < 0) {
		fprintf(stderr, "blkspace-bench: %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			unlink(path);
			close(fd);
		}
		free(c);
		return NULL;
	}
	unlink(path); /* gone when we are */
	c->fd = fd;
	return c;
}

int commit_one(struct commit_file *c)
{
	char record[RECORD_BYTES];
	memset(record, 0x5a, sizeof(record));
	off_t off = (off_t)(c->next++ % FILE_RECORDS) * RECORD_BYTES;
	if (write_all(c->fd, record, sizeof(record), off) < 0 || fdatasync(c->fd) < 0) {
		fprintf(stderr, "blkspace-bench: group commit: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void commit_close(struct commit_file *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

int bench_commit(size_t count, const char *dir)
{
	struct commit_file *c = commit_open(dir);
	double *us = calloc(count, sizeof(*us));
	int rc = c && us ? 0 : 1;
	double t0 = now_us();
	for (size_t i = 0; rc == 0 && i < count; i++) {
		double t = now_us();
		rc = commit_one(c) < 0;
		us[i] = now_us() - t;
	}
	if (rc == 0) {
		struct samples s = { us, count };
		report("group_commit", &s, (now_us() - t0) / 1e6);
	}
	free(us);
	commit_close(c);
	return rc;
}
