/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The local group commit as the daemon's file store makes it: a record
 * written into a journal file whose blocks were zero-filled and synced
 * beforehand, then fdatasync(). A property change waits for one of these on
 * another node besides two CPG deliveries, so bench/run reports it beside
 * them. The file lives in DIR (the state directory: the journals' file
 * system) and is removed afterwards. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define RECORD_BYTES 128 /* about a property change's journal record */

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

/* count records of zeros, written and synced: later writes change no metadata */
static int preallocate(int fd, size_t count)
{
	static const char zeros[65536];
	off_t size = (off_t)(count * RECORD_BYTES);
	for (off_t off = 0; off < size; off += (off_t)sizeof(zeros)) {
		size_t n = size - off < (off_t)sizeof(zeros) ? (size_t)(size - off) : sizeof(zeros);
		if (write_all(fd, zeros, n, off) < 0)
			return -1;
	}
	return fsync(fd);
}

int bench_commit(size_t count, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-commit.%ld", dir, (long)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "blkspace-bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	unlink(path); /* gone when we are */
	double *us = calloc(count, sizeof(*us));
	int rc = us && preallocate(fd, count) == 0 ? 0 : 1;
	char record[RECORD_BYTES];
	memset(record, 0x5a, sizeof(record));
	double t0 = now_us();
	for (size_t i = 0; rc == 0 && i < count; i++) {
		double t = now_us();
		if (write_all(fd, record, sizeof(record), (off_t)(i * RECORD_BYTES)) < 0 ||
		    fdatasync(fd) < 0)
			rc = 1;
		us[i] = now_us() - t;
	}
	if (rc == 0) {
		struct samples s = { us, count };
		report("group_commit", &s, (now_us() - t0) / 1e6);
	} else {
		fprintf(stderr, "blkspace-bench: group commit in %s: %s\n", dir, strerror(errno));
	}
	free(us);
	close(fd);
	return rc;
}
