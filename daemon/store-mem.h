/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated disk of one node: survives the node's "process", loses what
 * was appended but not committed when the node is killed. */
#ifndef BLKSPACE_STORE_MEM_H
#define BLKSPACE_STORE_MEM_H

#include "store.h"

struct mem_disk;

extern const struct store_ops mem_store_ops;

struct mem_disk *mem_disk_create(void);
/* accepts NULL */
void mem_disk_destroy(struct mem_disk *disk);
/* Make every commit and snapshot fail with error (errno value), or work
 * again with 0: a failing or full disk, for the simulator. */
void mem_disk_set_error(struct mem_disk *disk, int error);
/* Bytes written durably so far (tests). */
size_t mem_disk_bytes(const struct mem_disk *disk);

#endif
