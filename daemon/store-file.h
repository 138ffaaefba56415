/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File store backend: per domain a directory under the state directory with
 * "snapshot" and "journal.<generation>"; the incarnation counter in
 * "incarnation". Every write that matters is followed by fdatasync/fsync. */
#ifndef BLKSPACE_STORE_FILE_H
#define BLKSPACE_STORE_FILE_H

#include "store.h"

struct file_store_backend;

extern const struct store_ops file_store_ops;

/* Create the backend over state_dir (created 0700 if missing). */
int file_store_backend_create(const char *state_dir, struct file_store_backend **ret);
/* accepts NULL */
void file_store_backend_destroy(struct file_store_backend *b);

#endif
