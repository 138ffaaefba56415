/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The on-disk mirror log, compatible with the kernel's dm-log and cmirrord:
 * at byte 0 a header {le32 magic 0x4D695272 "MiRr", le32 version 2,
 * le64 nr_regions}, at byte 1024 the clean bitmap, bit i in byte i/8 at
 * bit i%8 (test_bit_le order), 1 = clean (in sync, no outstanding writes).
 *
 * Backends: file (a block device or image file: O_DIRECT, aligned buffers,
 * every write followed by a flush to stable storage before it returns) and
 * mem (a simulated device shared by the simulated nodes, with faults on
 * demand). Only the log domain's writer writes; a flush answered to the
 * kernel was written first. */
#ifndef BLKSPACE_MLOG_DISK_H
#define BLKSPACE_MLOG_DISK_H

#include <stddef.h>
#include <stdint.h>

#define MLOG_DISK_MAGIC 0x4D695272u
#define MLOG_DISK_VERSION 2
#define MLOG_DISK_BITMAP_OFFSET 1024

struct mlog_disk;

struct mlog_disk_ops {
	const char *name;
	/* Open the log device by path (e.g. /dev/vdb or /dev/mapper/x). */
	int (*open)(void *backend, const char *path, struct mlog_disk **ret_disk);
	/* Read the clean bitmap for nr_regions into clean (nr_regions bits,
	 * (nr_regions + 7) / 8 bytes). Returns 0; -ENODATA when the device holds
	 * no log (bad magic: a fresh log, the caller resyncs everything);
	 * BLKSPACE_E_CORRUPT for a version it does not know; -errno on I/O
	 * errors. A log written for another region count is adapted as the
	 * kernel does: new regions are out of sync (clean 0), extra ones dropped. */
	int (*read)(struct mlog_disk *d, uint64_t nr_regions, uint8_t *clean);
	/* Write header and bitmap durably: returns once on stable storage. */
	int (*write)(struct mlog_disk *d, uint64_t nr_regions, const uint8_t *clean);
	/* accepts NULL */
	void (*close)(struct mlog_disk *d);
};

extern const struct mlog_disk_ops file_mlog_disk_ops; /* backend: NULL */

/* Encode header + bitmap into buf (size mlog_disk_size(nr_regions), zero
 * padded) / decode them (same rules as read). Pure: the unit tests and both
 * backends use them. */
size_t mlog_disk_size(uint64_t nr_regions);
void mlog_disk_encode(uint8_t *buf, uint64_t nr_regions, const uint8_t *clean);
int mlog_disk_decode(const uint8_t *buf, size_t len, uint64_t nr_regions, uint8_t *clean);

/* The simulated shared devices: a shelf of devices by path, shared by every
 * simulated node (a device is created zeroed at its first open). */
struct mlog_mem_shelf;
struct mlog_mem_device;
extern const struct mlog_disk_ops mem_mlog_disk_ops; /* backend: struct mlog_mem_shelf * */
struct mlog_mem_shelf *mlog_mem_shelf_create(void);
/* accepts NULL; every disk opened from it must be closed first */
void mlog_mem_shelf_destroy(struct mlog_mem_shelf *shelf);
/* The device at path, created if missing; NULL only on ENOMEM. */
struct mlog_mem_device *mlog_mem_shelf_device(struct mlog_mem_shelf *shelf, const char *path);
/* Make the next n writes to dev fail with -EIO (0: none). */
void mlog_mem_device_fail_writes(struct mlog_mem_device *dev, unsigned n);
/* The bytes written so far (for invariant checks); NULL when never written. */
const uint8_t *mlog_mem_device_bytes(const struct mlog_mem_device *dev, size_t *ret_len);

#endif
