/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulated shared log devices: a shelf of byte arrays by path that every
 * simulated node opens, written with the same codec as the file backend,
 * with write failures on demand. A device holds exactly the last log area
 * written, so a failed write leaves the previous one whole. */
#include "config.h"

#include "mlog-disk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mlog_mem_device {
	struct mlog_mem_device *next;
	char *path;
	uint8_t *bytes; /* NULL: never written (reads as zeros) */
	size_t len;
	unsigned fail_writes;
};

struct mlog_mem_shelf {
	struct mlog_mem_device *devices;
};

/* An open handle: the devices are owned by the shelf. */
struct mlog_disk {
	struct mlog_mem_device *dev;
};

struct mlog_mem_shelf *mlog_mem_shelf_create(void)
{
	return calloc(1, sizeof(struct mlog_mem_shelf));
}

void mlog_mem_shelf_destroy(struct mlog_mem_shelf *shelf)
{
	if (!shelf)
		return;
	struct mlog_mem_device *next;
	for (struct mlog_mem_device *dev = shelf->devices; dev; dev = next) {
		next = dev->next;
		free(dev->path);
		free(dev->bytes);
		free(dev);
	}
	free(shelf);
}

struct mlog_mem_device *mlog_mem_shelf_device(struct mlog_mem_shelf *shelf, const char *path)
{
	for (struct mlog_mem_device *dev = shelf->devices; dev; dev = dev->next)
		if (strcmp(dev->path, path) == 0)
			return dev;
	struct mlog_mem_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->path = strdup(path);
	if (!dev->path) {
		free(dev);
		return NULL;
	}
	dev->next = shelf->devices;
	shelf->devices = dev;
	return dev;
}

void mlog_mem_device_fail_writes(struct mlog_mem_device *dev, unsigned n) { dev->fail_writes = n; }

const uint8_t *mlog_mem_device_bytes(const struct mlog_mem_device *dev, size_t *ret_len)
{
	*ret_len = dev->len;
	return dev->bytes;
}

static int mem_open(void *backend, const char *path, struct mlog_disk **ret_disk)
{
	struct mlog_disk *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev = mlog_mem_shelf_device(backend, path);
	if (!d->dev) {
		free(d);
		return -ENOMEM;
	}
	*ret_disk = d;
	return 0;
}

static int mem_read(struct mlog_disk *d, uint64_t nr_regions, uint8_t *clean)
{
	if (!d->dev->bytes)
		return -ENODATA; /* all zeros: no magic */
	return mlog_disk_decode(d->dev->bytes, d->dev->len, nr_regions, clean);
}

/* A write either fails before touching the device or completes: the area is
 * reallocated only when the region count changes its size. */
static int mem_write(struct mlog_disk *d, uint64_t nr_regions, const uint8_t *clean)
{
	struct mlog_mem_device *dev = d->dev;
	if (dev->fail_writes) {
		dev->fail_writes--;
		return -EIO;
	}
	size_t size = mlog_disk_size(nr_regions);
	if (size != dev->len) {
		uint8_t *bytes = malloc(size);
		if (!bytes)
			return -ENOMEM;
		free(dev->bytes);
		dev->bytes = bytes;
		dev->len = size;
	}
	mlog_disk_encode(dev->bytes, nr_regions, clean);
	return 0;
}

static void mem_close(struct mlog_disk *d) { free(d); }

const struct mlog_disk_ops mem_mlog_disk_ops = {
	.name = "mem",
	.open = mem_open,
	.read = mem_read,
	.write = mem_write,
	.close = mem_close,
};
