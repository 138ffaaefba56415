/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The on-disk mirror log codec (every byte-order conversion of the log lives
 * here) and the file backend: one log device or image file, read and written
 * whole at offset 0 through an aligned buffer kept per open disk, with
 * O_DIRECT when the file system allows it and a data flush after each write.
 * Blocking I/O, bounded by one log area (2 MiB for 16M regions). */
#include "config.h"

#include "mlog-disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkspace/errors.h>

#include "codec.h"

#define HEADER_BYTES 16
#define IO_ALIGN_BYTES 4096
#define OLD_LE_VERSION 1 /* version 1 logs are little-endian version 2 ones */

/* ---- codec ---------------------------------------------------------------- */

static void le64_write(uint8_t *p, uint64_t v)
{
	le32_write(p, (uint32_t)v);
	le32_write(p + 4, (uint32_t)(v >> 32));
}

static uint64_t le64_read(const uint8_t *p)
{
	return (uint64_t)le32_read(p) | (uint64_t)le32_read(p + 4) << 32;
}

static uint64_t bitmap_bytes(uint64_t nr_regions)
{
	return nr_regions / 8 + (nr_regions % 8 != 0);
}

/* Copy the first nbits bits of src into dst (bitmap_bytes(nbits) bytes):
 * whole bytes, then the last partial byte with its unused high bits zero. */
static void copy_bits(uint8_t *dst, const uint8_t *src, uint64_t nbits)
{
	size_t whole = (size_t)(nbits / 8);
	unsigned rest = (unsigned)(nbits % 8);
	if (whole)
		memcpy(dst, src, whole);
	if (rest)
		dst[whole] = (uint8_t)(src[whole] & ((1u << rest) - 1));
}

size_t mlog_disk_size(uint64_t nr_regions)
{
	uint64_t used = MLOG_DISK_BITMAP_OFFSET + bitmap_bytes(nr_regions);
	return (size_t)((used + IO_ALIGN_BYTES - 1) / IO_ALIGN_BYTES * IO_ALIGN_BYTES);
}

void mlog_disk_encode(uint8_t *buf, uint64_t nr_regions, const uint8_t *clean)
{
	memset(buf, 0, mlog_disk_size(nr_regions));
	le32_write(buf, MLOG_DISK_MAGIC);
	le32_write(buf + 4, MLOG_DISK_VERSION);
	le64_write(buf + 8, nr_regions);
	copy_bits(buf + MLOG_DISK_BITMAP_OFFSET, clean, nr_regions);
}

/* The kernel's rules: a bad magic is a fresh log; version 1 is read as 2 on
 * little-endian; regions the log did not cover are out of sync (0); stored
 * regions beyond nr_regions are dropped. Only the bitmap bytes that are kept
 * must be present, so a shrunk log reads from a buffer sized for the new
 * count. */
int mlog_disk_decode(const uint8_t *buf, size_t len, uint64_t nr_regions, uint8_t *clean)
{
	if (len < HEADER_BYTES)
		return BLKSPACE_E_CORRUPT;
	if (le32_read(buf) != MLOG_DISK_MAGIC)
		return -ENODATA;
	uint32_t version = le32_read(buf + 4);
	if (version != MLOG_DISK_VERSION && version != OLD_LE_VERSION)
		return BLKSPACE_E_CORRUPT;
	uint64_t stored = le64_read(buf + 8);
	uint64_t kept = stored < nr_regions ? stored : nr_regions;
	if (len < MLOG_DISK_BITMAP_OFFSET || len - MLOG_DISK_BITMAP_OFFSET < bitmap_bytes(kept))
		return BLKSPACE_E_CORRUPT;
	size_t out = (size_t)bitmap_bytes(nr_regions);
	if (out)
		memset(clean, 0, out);
	copy_bits(clean, buf + MLOG_DISK_BITMAP_OFFSET, kept);
	return 0;
}

/* ---- file backend --------------------------------------------------------- */

struct mlog_disk {
	int fd;
	bool direct;   /* opened with O_DIRECT: I/O must stay block aligned */
	bool is_blk;   /* a block device, which cannot grow */
	uint8_t *buf;  /* IO_ALIGN_BYTES aligned, buf_size bytes */
	size_t buf_size;
};

static int open_log(const char *path, bool *ret_direct)
{
	int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	*ret_direct = fd >= 0;
	if (fd < 0 && errno == EINVAL) /* no O_DIRECT here (e.g. older tmpfs) */
		fd = open(path, O_RDWR | O_DSYNC | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int file_open(void *backend, const char *path, struct mlog_disk **ret_disk)
{
	struct mlog_disk *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	int fd = open_log(path, &d->direct);
	if (fd < 0) {
		free(d);
		return fd;
	}
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	if (rc == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		rc = -ENOTBLK;
	if (rc < 0) {
		close(fd);
		free(d);
		return rc;
	}
	d->fd = fd;
	d->is_blk = S_ISBLK(st.st_mode);
	*ret_disk = d;
	return 0;
}

/* Make d->buf exactly size bytes; it is replaced only when the size changes. */
static int ensure_buffer(struct mlog_disk *d, size_t size)
{
	if (d->buf_size == size)
		return 0;
	void *p = NULL;
	int rc = posix_memalign(&p, IO_ALIGN_BYTES, size);
	if (rc)
		return -rc;
	free(d->buf);
	d->buf = p;
	d->buf_size = size;
	return 0;
}

/* Read up to len bytes at offset 0; returns the count, short at end of file.
 * With O_DIRECT only a block-aligned offset may be read, and a partial block
 * is only ever returned at the end. */
static ssize_t read_area(struct mlog_disk *d, size_t len)
{
	size_t done = 0;
	while (done < len) {
		if (d->direct && done % IO_ALIGN_BYTES)
			break;
		ssize_t n = pread(d->fd, d->buf + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int file_read(struct mlog_disk *d, uint64_t nr_regions, uint8_t *clean)
{
	size_t size = mlog_disk_size(nr_regions);
	int rc = ensure_buffer(d, size);
	if (rc < 0)
		return rc;
	ssize_t n = read_area(d, size);
	if (n < 0)
		return (int)n;
	memset(d->buf + n, 0, size - (size_t)n);
	/* beyond the end the device reads as zeros: no magic, no log */
	if ((size_t)n < HEADER_BYTES && le32_read(d->buf) != MLOG_DISK_MAGIC)
		return -ENODATA;
	return mlog_disk_decode(d->buf, (size_t)n, nr_regions, clean);
}

/* A block device cannot grow: refuse before writing part of the log. */
static int check_room(struct mlog_disk *d, size_t size)
{
	if (!d->is_blk)
		return 0;
	uint64_t dev_bytes = 0;
	if (ioctl(d->fd, BLKGETSIZE64, &dev_bytes) < 0)
		return -errno;
	return dev_bytes < size ? -ENOSPC : 0;
}

static int write_area(struct mlog_disk *d, size_t len)
{
	size_t done = 0;
	while (done < len) {
		if (d->direct && done % IO_ALIGN_BYTES)
			return -ENOSPC; /* a short direct write: the device ended */
		ssize_t n = pwrite(d->fd, d->buf + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOSPC;
		done += (size_t)n;
	}
	return 0;
}

/* O_DIRECT bypasses the page cache but not the device's volatile cache, so
 * the flush is needed either way. */
static int file_write(struct mlog_disk *d, uint64_t nr_regions, const uint8_t *clean)
{
	size_t size = mlog_disk_size(nr_regions);
	int rc = ensure_buffer(d, size);
	if (rc == 0)
		rc = check_room(d, size);
	if (rc < 0)
		return rc;
	mlog_disk_encode(d->buf, nr_regions, clean);
	rc = write_area(d, size);
	if (rc < 0)
		return rc;
	return fdatasync(d->fd) < 0 ? -errno : 0;
}

static void file_close(struct mlog_disk *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d->buf);
	free(d);
}

const struct mlog_disk_ops file_mlog_disk_ops = {
	.name = "file",
	.open = file_open,
	.read = file_read,
	.write = file_write,
	.close = file_close,
};
