/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulated store backend: durable bytes live in struct mem_disk, which the
 * simulator keeps across node restarts; struct store only buffers appends. */
#include "config.h"

#include "store-mem.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "journal-frame.h"

#define MEM_MAX_DOMAINS 16

struct mem_file {
	char name[64];
	struct wbuf snapshot;
	bool has_snapshot;
	struct wbuf journal;
};

struct mem_disk {
	uint32_t incarnation;
	int error; /* nonzero: commits and snapshots fail with it (a failing disk) */
	struct mem_file files[MEM_MAX_DOMAINS];
	size_t n_files;
};

struct store {
	struct mem_disk *disk;
	struct mem_file *file;
	struct wbuf pending;
};

struct mem_disk *mem_disk_create(void) { return calloc(1, sizeof(struct mem_disk)); }

void mem_disk_destroy(struct mem_disk *disk)
{
	if (!disk)
		return;
	for (size_t i = 0; i < disk->n_files; i++) {
		wbuf_done(&disk->files[i].snapshot);
		wbuf_done(&disk->files[i].journal);
	}
	free(disk);
}

void mem_disk_set_error(struct mem_disk *disk, int error) { disk->error = error; }

size_t mem_disk_bytes(const struct mem_disk *disk)
{
	size_t n = 0;
	for (size_t i = 0; i < disk->n_files; i++)
		n += disk->files[i].snapshot.len + disk->files[i].journal.len;
	return n;
}

static int mem_next_incarnation(void *backend, uint32_t *ret)
{
	struct mem_disk *disk = backend;
	*ret = ++disk->incarnation;
	return 0;
}

static int mem_open(void *backend, const char *domain, struct store **ret)
{
	struct mem_disk *disk = backend;
	struct mem_file *f = NULL;
	if (strlen(domain) >= sizeof(f->name))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < disk->n_files; i++)
		if (strcmp(disk->files[i].name, domain) == 0)
			f = &disk->files[i];
	if (!f) {
		if (disk->n_files == MEM_MAX_DOMAINS)
			return -ENOSPC;
		f = &disk->files[disk->n_files++];
		strcpy(f->name, domain);
	}
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->disk = disk;
	s->file = f;
	wbuf_init(&s->pending);
	*ret = s;
	return 0;
}

static int mem_load(struct store *s, const struct store_load_callbacks *cb, void *data)
{
	struct mem_file *f = s->file;
	if (f->has_snapshot) {
		int rc = cb->on_snapshot(data, f->snapshot.data, f->snapshot.len);
		if (rc < 0)
			return rc;
	}
	long good = journal_frame_scan(f->journal.data, f->journal.len, cb, data);
	if (good < 0)
		return (int)good;
	f->journal.len = (size_t)good; /* drop a torn tail */
	return 0;
}

static int mem_append(struct store *s, const void *rec, size_t len)
{
	journal_frame_put(&s->pending, rec, len);
	return wbuf_error(&s->pending);
}

static int mem_commit(struct store *s)
{
	if (s->disk->error)
		return -s->disk->error; /* what is pending stays for the next commit */
	wbuf_put_bytes(&s->file->journal, s->pending.data, s->pending.len);
	wbuf_reset(&s->pending);
	return wbuf_error(&s->file->journal);
}

static int mem_save_snapshot(struct store *s, const void *snap, size_t len)
{
	struct mem_file *f = s->file;
	if (s->disk->error)
		return -s->disk->error;
	wbuf_reset(&f->snapshot);
	wbuf_put_bytes(&f->snapshot, snap, len);
	f->has_snapshot = true;
	wbuf_reset(&f->journal);
	wbuf_reset(&s->pending);
	return wbuf_error(&f->snapshot);
}

static void mem_close(struct store *s)
{
	if (!s)
		return;
	wbuf_done(&s->pending); /* not committed: lost, as in a crash */
	free(s);
}

const struct store_ops mem_store_ops = {
	.name = "mem",
	.next_incarnation = mem_next_incarnation,
	.open = mem_open,
	.load = mem_load,
	.append = mem_append,
	.commit = mem_commit,
	.save_snapshot = mem_save_snapshot,
	.close = mem_close,
};
