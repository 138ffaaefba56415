/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the durable store: journal framing (daemon/journal-frame.c),
 * the file backend (daemon/store-file.c) in a fresh temporary directory per
 * test, and the simulated disk (daemon/store-mem.c). Damaged input comes
 * first: torn and corrupted journals, broken snapshots, a garbage
 * incarnation file; a failed commit (tests/syscall-faults.h); then commit,
 * reload, snapshot and incarnation behaviour. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkspace/errors.h>

#include "check-util.h"
#include "journal-frame.h"
#include "store-file.h"
#include "store-mem.h"
#include "syscall-faults.h"

#define MAX_RECORDS 16
#define DOM "control"

/* What a load handed back, as NUL-terminated copies. */
struct loaded {
	char *snapshot; /* NULL: none */
	char *records[MAX_RECORDS];
	size_t n;
};

static char tmpdir[64];
static struct file_store_backend *backend;
static struct store *st;
static struct loaded got;

static char *copy(const void *p, size_t len)
{
	char *s = malloc(len + 1);
	ck_assert_ptr_nonnull(s);
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static int on_snapshot(void *data, const void *snap, size_t len)
{
	struct loaded *l = data;
	free(l->snapshot);
	l->snapshot = copy(snap, len);
	return 0;
}

static int on_record(void *data, const void *rec, size_t len)
{
	struct loaded *l = data;
	ck_assert_uint_lt(l->n, MAX_RECORDS);
	l->records[l->n++] = copy(rec, len);
	return 0;
}

static const struct store_load_callbacks callbacks = { on_snapshot, on_record };

static void loaded_clear(struct loaded *l)
{
	free(l->snapshot);
	for (size_t i = 0; i < l->n; i++)
		free(l->records[i]);
	memset(l, 0, sizeof(*l));
}

/* got must hold exactly the records given (NULL-terminated list). */
static void assert_records(const char *const *expect)
{
	size_t n = 0;
	for (; expect[n]; n++) {
		ck_assert_uint_lt(n, got.n);
		ck_assert_str_eq(got.records[n], expect[n]);
	}
	ck_assert_uint_eq(got.n, n);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void setup(void)
{
	strcpy(tmpdir, "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(file_store_backend_create(tmpdir, &backend), 0);
	st = NULL;
	memset(&got, 0, sizeof(got));
}

static void teardown(void)
{
	file_store_ops.close(st);
	file_store_backend_destroy(backend);
	loaded_clear(&got);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Close any open store, open the domain afresh and load it into got. */
static int reopen_and_load(void)
{
	file_store_ops.close(st);
	st = NULL;
	loaded_clear(&got);
	ck_assert_int_eq(file_store_ops.open(backend, DOM, &st), 0);
	return file_store_ops.load(st, &callbacks, &got);
}

static void append(const char *rec)
{
	ck_assert_int_eq(file_store_ops.append(st, rec, strlen(rec)), 0);
}

static void commit(void) { ck_assert_int_eq(file_store_ops.commit(st), 0); }

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s/%s", tmpdir, DOM, name);
}

static off_t file_size(const char *name)
{
	char path[256];
	struct stat sb;
	path_of(path, sizeof(path), name);
	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

static bool file_exists(const char *name)
{
	char path[256];
	path_of(path, sizeof(path), name);
	return access(path, F_OK) == 0;
}

static void cut_file(const char *name, off_t bytes)
{
	char path[256];
	path_of(path, sizeof(path), name);
	ck_assert_int_eq(truncate(path, file_size(name) - bytes), 0);
}

/* Overwrite len bytes at offset with zeros. */
static void zero_bytes(const char *name, off_t offset, size_t len)
{
	char path[256];
	uint8_t zeros[64] = { 0 };
	ck_assert_uint_le(len, sizeof(zeros));
	path_of(path, sizeof(path), name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, zeros, len, offset), (ssize_t)len);
	close(fd);
}

/* Write len bytes at offset of a file in the domain directory (creating it). */
static void poke_file(const char *name, off_t offset, const void *data, size_t len)
{
	char path[256];
	path_of(path, sizeof(path), name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, data, len, offset), (ssize_t)len);
	close(fd);
}

static void flip_byte(const char *name, off_t offset)
{
	char path[256];
	uint8_t b;
	path_of(path, sizeof(path), name);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, offset), 1);
	b ^= 0x5a;
	ck_assert_int_eq(pwrite(fd, &b, 1, offset), 1);
	close(fd);
}

/* Frames of "one", "two", "three" as the journal holds them. */
static void put_three(struct wbuf *w)
{
	journal_frame_put(w, "one", 3);
	journal_frame_put(w, "two", 3);
	journal_frame_put(w, "three", 5);
}

#define THIRD_AT (2 * (JOURNAL_FRAME_BYTES + 3)) /* offset of the third frame */

static long scan(const struct wbuf *w, size_t len)
{
	loaded_clear(&got);
	return journal_frame_scan(w->data, len, &callbacks, &got);
}

START_TEST(test_store_frame_drops_torn_tail)
{
	struct wbuf w;
	wbuf_init(&w);
	put_three(&w);
	static const char *const two[] = { "one", "two", NULL };
	ck_assert_int_eq(scan(&w, THIRD_AT + 3), THIRD_AT); /* short header */
	assert_records(two);
	ck_assert_int_eq(scan(&w, THIRD_AT + JOURNAL_FRAME_BYTES), THIRD_AT); /* no data */
	assert_records(two);
	ck_assert_int_eq(scan(&w, w.len - 1), THIRD_AT); /* short data */
	assert_records(two);
	w.data[w.len - 1] ^= 1; /* complete, but its CRC fails: torn too */
	ck_assert_int_eq(scan(&w, w.len), THIRD_AT);
	assert_records(two);
	ck_assert_int_eq(scan(&w, 0), 0);
	ck_assert_uint_eq(got.n, 0);
	wbuf_done(&w);
}
END_TEST

/* A tail of zeros (space written but never filled) ends the journal; a zero
 * length followed by anything else is damage. */
START_TEST(test_store_frame_zero_tail)
{
	struct wbuf w;
	wbuf_init(&w);
	put_three(&w);
	size_t end = w.len;
	memset(wbuf_reserve(&w, 64), 0, 64);
	static const char *const three[] = { "one", "two", "three", NULL };
	ck_assert_int_eq(scan(&w, w.len), (long)end);
	assert_records(three);
	w.data[w.len - 1] = 7;
	ck_assert_int_eq(scan(&w, w.len), BLKSPACE_E_CORRUPT);
	wbuf_done(&w);
}
END_TEST

START_TEST(test_store_frame_rejects_damage_in_middle)
{
	struct wbuf w;
	wbuf_init(&w);
	put_three(&w);
	w.data[JOURNAL_FRAME_BYTES] ^= 1; /* data of the first record */
	ck_assert_int_eq(scan(&w, w.len), BLKSPACE_E_CORRUPT);
	w.data[JOURNAL_FRAME_BYTES] ^= 1;
	w.data[4] ^= 1; /* CRC of the first record */
	ck_assert_int_eq(scan(&w, w.len), BLKSPACE_E_CORRUPT);
	w.data[4] ^= 1;
	w.data[0] = 2; /* a shorter length: the rest no longer matches its CRC */
	ck_assert_int_eq(scan(&w, w.len), BLKSPACE_E_CORRUPT);
	le32_write(w.data, JOURNAL_RECORD_MAX + 1); /* a length no writer produces */
	ck_assert_int_eq(scan(&w, w.len), BLKSPACE_E_CORRUPT);
	le32_write(w.data, 3);
	ck_assert_int_eq(scan(&w, w.len), (long)w.len); /* repaired: all intact again */
	ck_assert_uint_eq(got.n, 3);
	wbuf_done(&w);
}
END_TEST

static int fail_second(void *data, const void *rec, size_t len)
{
	(void)rec, (void)len;
	return ++*(int *)data == 2 ? -EIO : 0;
}

START_TEST(test_store_frame_passes_callback_error)
{
	struct wbuf w;
	wbuf_init(&w);
	put_three(&w);
	int calls = 0;
	const struct store_load_callbacks cb = { on_snapshot, fail_second };
	ck_assert_int_eq(journal_frame_scan(w.data, w.len, &cb, &calls), -EIO);
	ck_assert_int_eq(calls, 2);
	wbuf_done(&w);
}
END_TEST

START_TEST(test_store_file_rejects_corrupt_journal)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	append("one");
	append("two");
	append("three");
	commit();
	off_t size = file_size("journal.0");
	flip_byte("journal.0", JOURNAL_FRAME_BYTES + 1); /* inside "one" */
	ck_assert_int_eq(reopen_and_load(), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(file_size("journal.0"), size); /* nothing cut or wiped */
}
END_TEST

/* Write a snapshot, then damage it with fn and expect load to refuse it. */
static void assert_snapshot_damage_detected(void (*damage)(void))
{
	char path[256];
	path_of(path, sizeof(path), "snapshot");
	unlink(path); /* the previous round's damaged one, if any */
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_int_eq(file_store_ops.save_snapshot(st, "state", 5), 0);
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_str_eq(got.snapshot, "state");
	damage();
	ck_assert_int_eq(reopen_and_load(), BLKSPACE_E_CORRUPT);
}

static void damage_magic(void) { flip_byte("snapshot", 0); }
static void damage_version(void) { flip_byte("snapshot", 4); }
static void damage_data(void) { flip_byte("snapshot", file_size("snapshot") - 1); }
static void damage_crc(void) { flip_byte("snapshot", 20); }
static void damage_length(void) { flip_byte("snapshot", 16); }
static void cut_data(void) { cut_file("snapshot", 1); }
static void cut_header(void) { cut_file("snapshot", file_size("snapshot") - 10); }
static void add_trailing(void) { poke_file("snapshot", file_size("snapshot"), "x", 1); }
static void cut_all(void) { cut_file("snapshot", file_size("snapshot")); }

START_TEST(test_store_file_rejects_corrupt_snapshot)
{
	static void (*const damages[])(void) = { damage_magic, damage_version, damage_data,
		                                  damage_crc,   damage_length,  cut_data,
		                                  cut_header,   add_trailing,   cut_all };
	for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++)
		assert_snapshot_damage_detected(damages[i]);
}
END_TEST

static int incarnation_from(const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/incarnation", tmpdir);
	FILE *f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	uint32_t inc = 0;
	int rc = file_store_ops.next_incarnation(backend, &inc);
	ck_assert(rc < 0 || inc > 0);
	return rc;
}

START_TEST(test_store_file_rejects_garbage_incarnation)
{
	ck_assert_int_eq(incarnation_from("garbage\n"), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(incarnation_from(""), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(incarnation_from("12abc\n"), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(incarnation_from("4294967295\n"), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(incarnation_from("-1\n"), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(incarnation_from("41\n"), 0); /* and a sane one still works */
	uint32_t inc;
	ck_assert_int_eq(file_store_ops.next_incarnation(backend, &inc), 0);
	ck_assert_uint_eq(inc, 43);
}
END_TEST

/* A commit that fails keeps its records: the next commit writes them again
 * (after a failed fdatasync the kernel may have dropped the dirty pages, so
 * they are written anew, not only flushed), and a commit that succeeds
 * means everything appended is durable. */
static void assert_failed_commit_retried(int *fault, int err)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	append("before");
	commit();
	append("first");
	*fault = err;
	ck_assert_int_eq(file_store_ops.commit(st), -err);
	append("second");
	ck_assert_int_eq(file_store_ops.commit(st), -err);
	*fault = 0;
	commit();
	append("after");
	commit();
	ck_assert_int_eq(reopen_and_load(), 0);
	static const char *const expect[] = { "before", "first", "second", "after", NULL };
	assert_records(expect);
}

START_TEST(test_store_file_failed_fdatasync_retried)
{
	assert_failed_commit_retried(&faults.fdatasync_errno, EIO);
}
END_TEST

START_TEST(test_store_file_failed_write_retried)
{
	assert_failed_commit_retried(&faults.pwrite_errno, ENOSPC);
}
END_TEST

START_TEST(test_store_file_uncommitted_lost)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	append("kept");
	commit();
	append("lost");
	ck_assert_int_eq(reopen_and_load(), 0);
	static const char *const expect[] = { "kept", NULL };
	assert_records(expect);
	ck_assert_ptr_null(got.snapshot);
}
END_TEST

START_TEST(test_store_file_commit_and_reload)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_uint_eq(got.n, 0);
	ck_assert_int_eq(file_store_ops.commit(st), 0); /* nothing pending */
	append("a");
	append("bb");
	commit();
	/* an empty record could not be told from a zero tail: refused */
	ck_assert_int_eq(file_store_ops.append(st, "", 0), -EMSGSIZE);
	ck_assert_int_eq(reopen_and_load(), 0);
	append("c");
	append("dddd");
	commit();
	ck_assert_int_eq(reopen_and_load(), 0);
	static const char *const expect[] = { "a", "bb", "c", "dddd", NULL };
	assert_records(expect);
	append("e"); /* appends after a load follow the old records */
	commit();
	ck_assert_int_eq(reopen_and_load(), 0);
	static const char *const more[] = { "a", "bb", "c", "dddd", "e", NULL };
	assert_records(more);
}
END_TEST

/* Commit three records, cut the journal by bytes, and check that the third
 * is dropped and a new record follows the intact prefix. */
static void assert_torn_tail_recovered(off_t bytes)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	append("one");
	append("two");
	append("three");
	commit();
	/* the journal is zero-filled ahead: a torn write leaves zeros in
	 * place of the last bytes it did not write */
	zero_bytes("journal.0", THIRD_AT + JOURNAL_FRAME_BYTES + 5 - bytes, bytes);
	ck_assert_int_eq(reopen_and_load(), 0);
	static const char *const two[] = { "one", "two", NULL };
	assert_records(two);
	append("four");
	commit();
	ck_assert_int_eq(reopen_and_load(), 0);
	static const char *const after[] = { "one", "two", "four", NULL };
	assert_records(after);
}

START_TEST(test_store_file_drops_torn_tail)
{
	assert_torn_tail_recovered(2); /* short data */
	char path[256];
	path_of(path, sizeof(path), "journal.0");
	ck_assert_int_eq(unlink(path), 0);
	assert_torn_tail_recovered(JOURNAL_FRAME_BYTES + 5 - 3); /* short header */
}
END_TEST

START_TEST(test_store_file_snapshot_replaces_journal)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	append("old1");
	commit();
	append("pending"); /* the snapshot has it: dropped, not written later */
	ck_assert_int_eq(file_store_ops.save_snapshot(st, "S1", 2), 0);
	ck_assert(!file_exists("journal.0"));
	commit();
	append("new1");
	commit();
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_str_eq(got.snapshot, "S1");
	static const char *const first[] = { "new1", NULL };
	assert_records(first);
	ck_assert_int_eq(file_store_ops.save_snapshot(st, "S2", 2), 0);
	append("new2");
	commit();
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_str_eq(got.snapshot, "S2");
	static const char *const second[] = { "new2", NULL };
	assert_records(second);
	ck_assert(!file_exists("journal.1"));
	ck_assert(file_exists("journal.2"));
}
END_TEST

START_TEST(test_store_file_ignores_other_generations)
{
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_int_eq(file_store_ops.save_snapshot(st, "S", 1), 0); /* generation 1 */
	append("current");
	commit();
	struct wbuf w;
	wbuf_init(&w);
	journal_frame_put(&w, "stale", 5);
	poke_file("journal.0", 0, w.data, w.len); /* as left by a crash mid-snapshot */
	poke_file("journal.7", 0, w.data, w.len);
	wbuf_done(&w);
	ck_assert_int_eq(reopen_and_load(), 0);
	ck_assert_str_eq(got.snapshot, "S");
	static const char *const expect[] = { "current", NULL };
	assert_records(expect);
	ck_assert(!file_exists("journal.0"));
	ck_assert(!file_exists("journal.7"));
	ck_assert(file_exists("journal.1"));
}
END_TEST

START_TEST(test_store_file_incarnation_counts)
{
	uint32_t inc = 0;
	ck_assert_int_eq(file_store_ops.next_incarnation(backend, &inc), 0);
	ck_assert_uint_eq(inc, 1);
	ck_assert_int_eq(file_store_ops.next_incarnation(backend, &inc), 0);
	ck_assert_uint_eq(inc, 2);
	file_store_backend_destroy(backend); /* a daemon restart */
	backend = NULL;
	ck_assert_int_eq(file_store_backend_create(tmpdir, &backend), 0);
	ck_assert_int_eq(file_store_ops.next_incarnation(backend, &inc), 0);
	ck_assert_uint_eq(inc, 3);
}
END_TEST

START_TEST(test_store_file_domains_separate)
{
	struct store *other;
	ck_assert_int_eq(reopen_and_load(), 0);
	append("mine");
	commit();
	ck_assert_int_eq(file_store_ops.open(backend, "log-1", &other), 0);
	struct loaded l = { 0 };
	ck_assert_int_eq(file_store_ops.load(other, &callbacks, &l), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.snapshot);
	file_store_ops.close(other);
	loaded_clear(&l);
}
END_TEST

/* The mem backend over one simulated disk: open, load into l. */
static struct store *mem_reopen(struct mem_disk *disk, struct store *s, struct loaded *l)
{
	mem_store_ops.close(s);
	loaded_clear(l);
	ck_assert_int_eq(mem_store_ops.open(disk, DOM, &s), 0);
	ck_assert_int_eq(mem_store_ops.load(s, &callbacks, l), 0);
	return s;
}

START_TEST(test_store_mem_commit_and_crash)
{
	struct mem_disk *disk = mem_disk_create();
	ck_assert_ptr_nonnull(disk);
	struct store *s = mem_reopen(disk, NULL, &got);
	ck_assert_int_eq(mem_store_ops.append(s, "kept", 4), 0);
	ck_assert_int_eq(mem_store_ops.commit(s), 0);
	ck_assert_int_eq(mem_store_ops.append(s, "lost", 4), 0);
	s = mem_reopen(disk, s, &got); /* the node is killed and restarts */
	static const char *const expect[] = { "kept", NULL };
	assert_records(expect);
	ck_assert_ptr_null(got.snapshot);
	ck_assert_uint_eq(mem_disk_bytes(disk), JOURNAL_FRAME_BYTES + 4);
	mem_store_ops.close(s);
	mem_disk_destroy(disk);
}
END_TEST

START_TEST(test_store_mem_snapshot_drops_journal)
{
	struct mem_disk *disk = mem_disk_create();
	ck_assert_ptr_nonnull(disk);
	struct store *s = mem_reopen(disk, NULL, &got);
	ck_assert_int_eq(mem_store_ops.append(s, "old", 3), 0);
	ck_assert_int_eq(mem_store_ops.commit(s), 0);
	ck_assert_int_eq(mem_store_ops.append(s, "pending", 7), 0);
	ck_assert_int_eq(mem_store_ops.save_snapshot(s, "SNAP", 4), 0);
	ck_assert_int_eq(mem_store_ops.commit(s), 0);
	ck_assert_int_eq(mem_store_ops.append(s, "new", 3), 0);
	ck_assert_int_eq(mem_store_ops.commit(s), 0);
	s = mem_reopen(disk, s, &got);
	ck_assert_str_eq(got.snapshot, "SNAP");
	static const char *const expect[] = { "new", NULL };
	assert_records(expect);
	mem_store_ops.close(s);
	mem_disk_destroy(disk);
}
END_TEST

START_TEST(test_store_mem_incarnation_counts)
{
	struct mem_disk *disk = mem_disk_create();
	ck_assert_ptr_nonnull(disk);
	uint32_t inc = 0;
	for (uint32_t i = 1; i <= 3; i++) {
		ck_assert_int_eq(mem_store_ops.next_incarnation(disk, &inc), 0);
		ck_assert_uint_eq(inc, i);
	}
	mem_disk_destroy(disk);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 30);
}

int main(void)
{
	Suite *s = suite_create("store");
	add_case(s, "test_store_frame_drops_torn_tail", test_store_frame_drops_torn_tail);
	add_case(s, "test_store_frame_zero_tail", test_store_frame_zero_tail);
	add_case(s, "test_store_frame_rejects_damage_in_middle",
	         test_store_frame_rejects_damage_in_middle);
	add_case(s, "test_store_frame_passes_callback_error", test_store_frame_passes_callback_error);
	add_case(s, "test_store_file_rejects_corrupt_journal", test_store_file_rejects_corrupt_journal);
	add_case(s, "test_store_file_rejects_corrupt_snapshot",
	         test_store_file_rejects_corrupt_snapshot);
	add_case(s, "test_store_file_rejects_garbage_incarnation",
	         test_store_file_rejects_garbage_incarnation);
	add_case(s, "test_store_file_failed_fdatasync_retried",
	         test_store_file_failed_fdatasync_retried);
	add_case(s, "test_store_file_failed_write_retried", test_store_file_failed_write_retried);
	add_case(s, "test_store_file_uncommitted_lost", test_store_file_uncommitted_lost);
	add_case(s, "test_store_file_commit_and_reload", test_store_file_commit_and_reload);
	add_case(s, "test_store_file_drops_torn_tail", test_store_file_drops_torn_tail);
	add_case(s, "test_store_file_snapshot_replaces_journal",
	         test_store_file_snapshot_replaces_journal);
	add_case(s, "test_store_file_ignores_other_generations",
	         test_store_file_ignores_other_generations);
	add_case(s, "test_store_file_incarnation_counts", test_store_file_incarnation_counts);
	add_case(s, "test_store_file_domains_separate", test_store_file_domains_separate);
	add_case(s, "test_store_mem_commit_and_crash", test_store_mem_commit_and_crash);
	add_case(s, "test_store_mem_snapshot_drops_journal", test_store_mem_snapshot_drops_journal);
	add_case(s, "test_store_mem_incarnation_counts", test_store_mem_incarnation_counts);
	return check_run(s);
}
