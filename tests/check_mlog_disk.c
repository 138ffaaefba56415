/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the on-disk mirror log (daemon/mlog-disk.c, mlog-disk-mem.c):
 * damaged and foreign logs first, then the kernel's byte layout, round
 * trips, region-count changes, the file backend on temporary files (syscall
 * faults injected through tests/syscall-faults.h) and the
 * simulated shared devices. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <blkspace/errors.h>

#include "check-util.h"
#include "mlog-disk.h"
#include "syscall-faults.h"

#define BIG_NR (16u * 1024 * 1024)
#define XFS_MAGIC 0x58465342

/* ---- helpers -------------------------------------------------------------- */

/* One scratch directory per base, made and removed by the parent process
 * (unchecked fixtures), so a failed test leaves no files behind. /tmp is
 * tmpfs on many systems, /var/tmp usually a disk file system, /dev/shm
 * (used when present) always tmpfs. */
struct temp_dir {
	const char *base;
	bool optional;
	char path[64]; /* "": not made */
};

static struct temp_dir temp_dirs[] = {
	{ "/tmp", false, "" },
	{ "/var/tmp", false, "" },
	{ "/dev/shm", true, "" },
};

#define N_TEMP_DIRS (sizeof(temp_dirs) / sizeof(temp_dirs[0]))
#define DISK_DIR (temp_dirs[1].path)

static bool is_fs(const char *dir, long magic)
{
	struct statfs sfs;
	return statfs(dir, &sfs) == 0 && sfs.f_type == magic;
}

static void make_temp_dirs(void)
{
	for (size_t i = 0; i < N_TEMP_DIRS; i++) {
		struct temp_dir *t = &temp_dirs[i];
		t->path[0] = '\0';
		if (t->optional && !is_fs(t->base, TMPFS_MAGIC))
			continue;
		snprintf(t->path, sizeof(t->path), "%s/check_mlog_disk.XXXXXX", t->base);
		ck_assert_msg(mkdtemp(t->path), "mkdtemp in %s: %s", t->base, strerror(errno));
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void remove_temp_dirs(void)
{
	for (size_t i = 0; i < N_TEMP_DIRS; i++)
		if (temp_dirs[i].path[0])
			nftw(temp_dirs[i].path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void setup(void) { memset(&faults, 0, sizeof(faults)); }

/* An empty file in dir, removed with its directory. */
static const char *temp_file(const char *dir)
{
	static char path[96];
	snprintf(path, sizeof(path), "%s/log.XXXXXX", dir);
	int fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp in %s: %s", dir, strerror(errno));
	close(fd);
	return path;
}

static void run_in_dirs(void (*fn)(const char *dir))
{
	for (size_t i = 0; i < N_TEMP_DIRS; i++)
		if (temp_dirs[i].path[0])
			fn(temp_dirs[i].path);
}

static size_t bitmap_bytes(uint64_t nr) { return (size_t)((nr + 7) / 8); }

static bool bit(const uint8_t *bits, uint64_t i) { return bits[i / 8] >> (i % 8) & 1; }

/* A deterministic pattern for nr regions, with the padding bits of the last
 * byte set too: the codec must not store them. */
static uint8_t *pattern(uint64_t nr, uint64_t seed)
{
	size_t n = bitmap_bytes(nr);
	uint8_t *bits = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(bits);
	uint64_t x = seed * 0x9E3779B97F4A7C15u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bits[i] = (uint8_t)x;
	}
	if (nr % 8)
		bits[n - 1] |= (uint8_t)(0xff << (nr % 8));
	return bits;
}

/* got must equal want on regions [0, nr) and be 0 on the padding bits. */
static void assert_bits_eq(const uint8_t *got, const uint8_t *want, uint64_t nr)
{
	size_t whole = (size_t)(nr / 8);
	ck_assert_int_eq(memcmp(got, want, whole), 0);
	for (uint64_t i = (uint64_t)whole * 8; i < nr; i++)
		ck_assert_int_eq(bit(got, i), bit(want, i));
	if (nr % 8)
		ck_assert_uint_eq(got[whole] >> (nr % 8), 0);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* An encoded log for nr regions, all clean; the caller frees it. */
static uint8_t *encoded_all_clean(uint64_t nr, size_t *ret_len)
{
	size_t n = bitmap_bytes(nr);
	uint8_t *clean = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(clean);
	memset(clean, 0xff, n);
	*ret_len = mlog_disk_size(nr);
	uint8_t *buf = malloc(*ret_len);
	ck_assert_ptr_nonnull(buf);
	mlog_disk_encode(buf, nr, clean);
	free(clean);
	return buf;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- decode: damaged and foreign input ------------------------------------ */

START_TEST(test_mlog_disk_decode_short_buffer)
{
	size_t len;
	uint8_t *buf = encoded_all_clean(8, &len);
	uint8_t clean[1];
	ck_assert_int_eq(mlog_disk_decode(buf, 0, 8, clean), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(mlog_disk_decode(buf, 4, 8, clean), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(mlog_disk_decode(buf, 15, 8, clean), BLKSPACE_E_CORRUPT);
	/* a whole header, but the bitmap at 1024 is missing */
	ck_assert_int_eq(mlog_disk_decode(buf, 16, 8, clean), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(mlog_disk_decode(buf, 1024, 8, clean), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(mlog_disk_decode(buf, 1025, 8, clean), 0);
	free(buf);
}
END_TEST

START_TEST(test_mlog_disk_decode_bad_magic)
{
	size_t len;
	uint8_t *buf = encoded_all_clean(64, &len);
	uint8_t clean[8];
	buf[3] ^= 0x01;
	ck_assert_int_eq(mlog_disk_decode(buf, len, 64, clean), -ENODATA);
	memset(buf, 0, len);
	ck_assert_int_eq(mlog_disk_decode(buf, len, 64, clean), -ENODATA);
	memset(buf, 0xff, len);
	ck_assert_int_eq(mlog_disk_decode(buf, len, 64, clean), -ENODATA);
	/* a big-endian header is not ours either */
	buf[0] = 0x4D, buf[1] = 0x69, buf[2] = 0x52, buf[3] = 0x72;
	ck_assert_int_eq(mlog_disk_decode(buf, len, 64, clean), -ENODATA);
	free(buf);
}
END_TEST

START_TEST(test_mlog_disk_decode_unknown_version)
{
	size_t len;
	uint8_t *buf = encoded_all_clean(64, &len);
	uint8_t clean[8];
	static const uint32_t versions[] = { 0, 3, 0x02000000u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		put_le32(buf + 4, versions[i]);
		ck_assert_int_eq(mlog_disk_decode(buf, len, 64, clean), BLKSPACE_E_CORRUPT);
	}
	free(buf);
}
END_TEST

START_TEST(test_mlog_disk_decode_stored_bitmap_truncated)
{
	size_t len;
	uint8_t *buf = encoded_all_clean(8, &len); /* 4096 bytes */
	uint8_t *clean = malloc(bitmap_bytes(BIG_NR));
	ck_assert_ptr_nonnull(clean);
	/* the header claims more regions than the buffer holds */
	put_le64(buf + 8, BIG_NR);
	ck_assert_int_eq(mlog_disk_decode(buf, len, BIG_NR, clean), BLKSPACE_E_CORRUPT);
	put_le64(buf + 8, (len - 1024) * 8 + 1);
	ck_assert_int_eq(mlog_disk_decode(buf, len, BIG_NR, clean), BLKSPACE_E_CORRUPT);
	put_le64(buf + 8, UINT64_MAX);
	ck_assert_int_eq(mlog_disk_decode(buf, len, BIG_NR, clean), BLKSPACE_E_CORRUPT);
	/* exactly full is fine */
	put_le64(buf + 8, (len - 1024) * 8);
	ck_assert_int_eq(mlog_disk_decode(buf, len, BIG_NR, clean), 0);
	free(clean);
	free(buf);
}
END_TEST

/* ---- decode: the kernel's compatibility rules ----------------------------- */

START_TEST(test_mlog_disk_decode_version1)
{
	uint8_t *want = pattern(100, 1);
	uint8_t buf[4096], clean[13];
	mlog_disk_encode(buf, 100, want);
	put_le32(buf + 4, 1);
	ck_assert_int_eq(mlog_disk_decode(buf, sizeof(buf), 100, clean), 0);
	assert_bits_eq(clean, want, 100);
	free(want);
}
END_TEST

START_TEST(test_mlog_disk_decode_region_growth)
{
	uint8_t buf[4096], clean[13];
	uint8_t old[2] = { 0xff, 0x03 }; /* 10 regions, all clean */
	mlog_disk_encode(buf, 10, old);
	memset(clean, 0xaa, sizeof(clean));
	ck_assert_int_eq(mlog_disk_decode(buf, sizeof(buf), 100, clean), 0);
	for (uint64_t i = 0; i < 100; i++)
		ck_assert_int_eq(bit(clean, i), i < 10);
	ck_assert_uint_eq(clean[12] >> 4, 0);
	/* the log on disk is only as long as the old count needs */
	ck_assert_int_eq(mlog_disk_decode(buf, 1026, 100000, (uint8_t[12500]){ 0 }), 0);
}
END_TEST

START_TEST(test_mlog_disk_decode_region_shrink)
{
	uint8_t buf[4096], clean[2];
	uint8_t old[13];
	memset(old, 0xff, sizeof(old)); /* 100 regions, all clean */
	mlog_disk_encode(buf, 100, old);
	ck_assert_int_eq(mlog_disk_decode(buf, sizeof(buf), 13, clean), 0);
	ck_assert_uint_eq(clean[0], 0xff);
	ck_assert_uint_eq(clean[1], 0x1f); /* regions 13..15 dropped */
	/* a log shrunk from 16M regions reads from a buffer sized for 13 */
	put_le64(buf + 8, BIG_NR);
	ck_assert_int_eq(mlog_disk_decode(buf, mlog_disk_size(13), 13, clean), 0);
	ck_assert_uint_eq(clean[1], 0x1f);
}
END_TEST

/* ---- encode: sizes, layout, round trips ----------------------------------- */

START_TEST(test_mlog_disk_size)
{
	ck_assert_uint_eq(mlog_disk_size(0), 4096);
	ck_assert_uint_eq(mlog_disk_size(1), 4096);
	ck_assert_uint_eq(mlog_disk_size(3072 * 8), 4096);
	ck_assert_uint_eq(mlog_disk_size(3072 * 8 + 1), 8192);
	ck_assert_uint_eq(mlog_disk_size(BIG_NR), 2 * 1024 * 1024 + 4096);
}
END_TEST

START_TEST(test_mlog_disk_header_bytes)
{
	static const uint8_t header[16] = {
		0x72, 0x52, 0x69, 0x4D,                        /* "rRiM": LE "MiRr" */
		0x02, 0x00, 0x00, 0x00,                        /* version 2 */
		0x03, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 /* nr_regions */
	};
	uint64_t nr = 0x010203;
	uint8_t *clean = pattern(nr, 2);
	uint8_t *buf = malloc(mlog_disk_size(nr));
	ck_assert_ptr_nonnull(buf);
	mlog_disk_encode(buf, nr, clean);
	ck_assert_int_eq(memcmp(buf, header, sizeof(header)), 0);
	ck_assert(all_zero(buf + 16, 1024 - 16));
	free(buf);
	free(clean);
}
END_TEST

START_TEST(test_mlog_disk_bitmap_bytes)
{
	uint8_t clean[2] = { 0x01, 0x02 }; /* regions 0 and 9 clean */
	uint8_t buf[4096];
	mlog_disk_encode(buf, 16, clean);
	ck_assert_uint_eq(buf[1024], 0x01); /* region 0: byte 1024, bit 0 */
	ck_assert_uint_eq(buf[1025], 0x02); /* region 9: byte 1025, bit 1 */
	ck_assert(all_zero(buf + 1026, sizeof(buf) - 1026));
	/* regions 0..31 of a 32-bit word, as the kernel's test_bit_le sees them */
	uint8_t word[4] = { 0x00, 0x00, 0x00, 0x80 }; /* region 31 */
	mlog_disk_encode(buf, 32, word);
	ck_assert_uint_eq(buf[1027], 0x80);
}
END_TEST

static void round_trip(uint64_t nr)
{
	uint8_t *want = pattern(nr, nr);
	size_t len = mlog_disk_size(nr), n = bitmap_bytes(nr);
	uint8_t *buf = malloc(len), *got = malloc(n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(got);
	mlog_disk_encode(buf, nr, want);
	ck_assert_uint_eq(len % 4096, 0);
	ck_assert(all_zero(buf + 16, 1024 - 16));
	ck_assert(all_zero(buf + 1024 + n, len - 1024 - n));
	if (nr % 8)
		ck_assert_uint_eq(buf[1024 + n - 1] >> (nr % 8), 0); /* padding bits */
	memset(got, 0x55, n);
	ck_assert_int_eq(mlog_disk_decode(buf, len, nr, got), 0);
	assert_bits_eq(got, want, nr);
	free(got);
	free(buf);
	free(want);
}

START_TEST(test_mlog_disk_round_trip)
{
	static const uint64_t counts[] = { 1, 7, 8, 9, 4096, BIG_NR };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		round_trip(counts[i]);
}
END_TEST

/* ---- file backend --------------------------------------------------------- */

static struct mlog_disk *file_open_ok(const char *path)
{
	struct mlog_disk *d = NULL;
	int rc = file_mlog_disk_ops.open(NULL, path, &d);
	ck_assert_msg(rc == 0, "open %s: %s", path, blkspace_strerror(rc));
	return d;
}

static void file_rejects_bad_paths(const char *dir)
{
	char missing[96];
	struct mlog_disk *d = NULL;
	snprintf(missing, sizeof(missing), "%s/none", dir);
	ck_assert_int_eq(file_mlog_disk_ops.open(NULL, missing, &d), -ENOENT);
	ck_assert_int_eq(file_mlog_disk_ops.open(NULL, dir, &d), -EISDIR);
	ck_assert_ptr_null(d);
}

START_TEST(test_mlog_disk_file_rejects_bad_paths)
{
	run_in_dirs(file_rejects_bad_paths);
	struct mlog_disk *d = NULL;
	ck_assert_int_eq(file_mlog_disk_ops.open(NULL, "/dev/null", &d), -ENOTBLK);
	ck_assert_ptr_null(d);
	file_mlog_disk_ops.close(NULL);
}
END_TEST

static void file_fresh_is_nodata(const char *dir)
{
	const char *path = temp_file(dir);
	struct mlog_disk *d = file_open_ok(path);
	uint8_t clean[2];
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 16, clean), -ENODATA);
	/* garbage without the magic is no log either */
	uint8_t junk[8192];
	memset(junk, 0xa5, sizeof(junk));
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 16, clean), -ENODATA);
	file_mlog_disk_ops.close(d);
}

START_TEST(test_mlog_disk_file_fresh_is_nodata) { run_in_dirs(file_fresh_is_nodata); }
END_TEST

static void file_truncated(const char *dir)
{
	const char *path = temp_file(dir);
	struct mlog_disk *d = file_open_ok(path);
	uint8_t *want = pattern(1000, 3), got[125];
	ck_assert_int_eq(file_mlog_disk_ops.write(d, 1000, want), 0);
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 1000, got), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(truncate(path, 10), 0); /* magic there, header cut */
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 1000, got), BLKSPACE_E_CORRUPT);
	ck_assert_int_eq(truncate(path, 2), 0);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 1000, got), -ENODATA);
	ck_assert_int_eq(truncate(path, 0), 0);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 1000, got), -ENODATA);
	/* cut right after the bitmap: what is left is the whole log */
	ck_assert_int_eq(file_mlog_disk_ops.write(d, 1000, want), 0);
	ck_assert_int_eq(truncate(path, 1024 + 125), 0);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 1000, got), 0);
	assert_bits_eq(got, want, 1000);
	file_mlog_disk_ops.close(d);
	free(want);
}

START_TEST(test_mlog_disk_file_truncated) { run_in_dirs(file_truncated); }
END_TEST

START_TEST(test_mlog_disk_file_io_errors)
{
	const char *path = temp_file(DISK_DIR);
	struct mlog_disk *d = file_open_ok(path);
	uint8_t *want = pattern(64, 4), got[8];
	faults.pwrite_errno = ENOSPC;
	ck_assert_int_eq(file_mlog_disk_ops.write(d, 64, want), -ENOSPC);
	faults.pwrite_errno = 0;
	faults.fdatasync_errno = EIO;
	ck_assert_int_eq(file_mlog_disk_ops.write(d, 64, want), -EIO);
	faults.fdatasync_errno = 0;
	ck_assert_int_eq(file_mlog_disk_ops.write(d, 64, want), 0);
	faults.pread_errno = EIO;
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 64, got), -EIO);
	faults.pread_errno = 0;
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 64, got), 0);
	assert_bits_eq(got, want, 64);
	file_mlog_disk_ops.close(d);
	free(want);
}
END_TEST

/* Write, read back through the same and a new handle, then change the
 * region count both ways through the file. */
static void file_round_trip(const char *dir)
{
	const char *path = temp_file(dir);
	struct mlog_disk *d = file_open_ok(path);
	bool disk_fs = is_fs(dir, EXT4_SUPER_MAGIC) || is_fs(dir, XFS_MAGIC) ||
	               is_fs(dir, BTRFS_SUPER_MAGIC);
	if (disk_fs && !faults.refuse_direct)
		ck_assert_msg(faults.last_open_flags & O_DIRECT, "%s: no O_DIRECT", dir);
	uint8_t *want = pattern(4096, 5), got[512];
	ck_assert_int_eq(file_mlog_disk_ops.write(d, 4096, want), 0);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 4096, got), 0);
	assert_bits_eq(got, want, 4096);
	file_mlog_disk_ops.close(d);
	d = file_open_ok(path);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 4096, got), 0);
	assert_bits_eq(got, want, 4096);
	uint8_t grown[1250];
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 10000, grown), 0);
	assert_bits_eq(grown, want, 4096);
	ck_assert(all_zero(grown + 512, sizeof(grown) - 512));
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 13, got), 0);
	assert_bits_eq(got, want, 13);
	file_mlog_disk_ops.close(d);
	free(want);
}

START_TEST(test_mlog_disk_file_round_trip) { run_in_dirs(file_round_trip); }
END_TEST

START_TEST(test_mlog_disk_file_without_direct)
{
	faults.refuse_direct = true;
	file_round_trip(DISK_DIR);
	ck_assert(faults.last_open_flags & O_DSYNC);
	ck_assert(!(faults.last_open_flags & O_DIRECT));
}
END_TEST

static void file_huge(const char *dir)
{
	const char *path = temp_file(dir);
	struct mlog_disk *d = file_open_ok(path);
	uint8_t *want = pattern(BIG_NR, 6), *got = malloc(bitmap_bytes(BIG_NR));
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(file_mlog_disk_ops.write(d, BIG_NR, want), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_size, mlog_disk_size(BIG_NR));
	ck_assert_int_eq(file_mlog_disk_ops.read(d, BIG_NR, got), 0);
	assert_bits_eq(got, want, BIG_NR);
	/* the same handle goes back to a small log and to the big one again */
	ck_assert_int_eq(file_mlog_disk_ops.read(d, 9, got), 0);
	assert_bits_eq(got, want, 9);
	ck_assert_int_eq(file_mlog_disk_ops.read(d, BIG_NR, got), 0);
	assert_bits_eq(got, want, BIG_NR);
	file_mlog_disk_ops.close(d);
	free(got);
	free(want);
}

START_TEST(test_mlog_disk_file_huge) { run_in_dirs(file_huge); }
END_TEST

/* ---- mem backend ---------------------------------------------------------- */

static struct mlog_disk *mem_open_ok(struct mlog_mem_shelf *shelf, const char *path)
{
	struct mlog_disk *d = NULL;
	ck_assert_int_eq(mem_mlog_disk_ops.open(shelf, path, &d), 0);
	ck_assert_ptr_nonnull(d);
	return d;
}

START_TEST(test_mlog_disk_mem_fresh_is_nodata)
{
	struct mlog_mem_shelf *shelf = mlog_mem_shelf_create();
	ck_assert_ptr_nonnull(shelf);
	struct mlog_disk *d = mem_open_ok(shelf, "/dev/vdb");
	uint8_t clean[2];
	ck_assert_int_eq(mem_mlog_disk_ops.read(d, 16, clean), -ENODATA);
	size_t len = 1;
	ck_assert_ptr_null(mlog_mem_device_bytes(mlog_mem_shelf_device(shelf, "/dev/vdb"), &len));
	ck_assert_uint_eq(len, 0);
	mem_mlog_disk_ops.close(d);
	mem_mlog_disk_ops.close(NULL);
	mlog_mem_shelf_destroy(shelf);
	mlog_mem_shelf_destroy(NULL);
}
END_TEST

START_TEST(test_mlog_disk_mem_shared)
{
	struct mlog_mem_shelf *shelf = mlog_mem_shelf_create();
	ck_assert_ptr_nonnull(shelf);
	struct mlog_disk *a = mem_open_ok(shelf, "/dev/vdb");
	struct mlog_disk *b = mem_open_ok(shelf, "/dev/vdb");
	struct mlog_disk *other = mem_open_ok(shelf, "/dev/vdc");
	ck_assert_ptr_eq(mlog_mem_shelf_device(shelf, "/dev/vdb"),
	                 mlog_mem_shelf_device(shelf, "/dev/vdb"));
	uint8_t *want = pattern(100, 7), got[13];
	ck_assert_int_eq(mem_mlog_disk_ops.write(a, 100, want), 0);
	ck_assert_int_eq(mem_mlog_disk_ops.read(b, 100, got), 0);
	assert_bits_eq(got, want, 100);
	ck_assert_int_eq(mem_mlog_disk_ops.read(other, 100, got), -ENODATA);
	/* the other node resumes with more regions: the new ones out of sync */
	uint8_t grown[25];
	ck_assert_int_eq(mem_mlog_disk_ops.read(b, 200, grown), 0);
	assert_bits_eq(grown, want, 100);
	ck_assert(all_zero(grown + 13, sizeof(grown) - 13));
	mem_mlog_disk_ops.close(a);
	mem_mlog_disk_ops.close(b);
	mem_mlog_disk_ops.close(other);
	mlog_mem_shelf_destroy(shelf);
	free(want);
}
END_TEST

START_TEST(test_mlog_disk_mem_fail_writes)
{
	struct mlog_mem_shelf *shelf = mlog_mem_shelf_create();
	ck_assert_ptr_nonnull(shelf);
	struct mlog_mem_device *dev = mlog_mem_shelf_device(shelf, "/dev/vdb");
	ck_assert_ptr_nonnull(dev);
	struct mlog_disk *d = mem_open_ok(shelf, "/dev/vdb");
	uint8_t *first = pattern(64, 8), *second = pattern(64, 9), got[8];
	uint8_t before[4096];
	size_t len;
	ck_assert_int_eq(mem_mlog_disk_ops.write(d, 64, first), 0);
	memcpy(before, mlog_mem_device_bytes(dev, &len), sizeof(before));
	mlog_mem_device_fail_writes(dev, 2);
	ck_assert_int_eq(mem_mlog_disk_ops.write(d, 64, second), -EIO);
	ck_assert_int_eq(mem_mlog_disk_ops.write(d, 30000, second), -EIO);
	ck_assert_int_eq(memcmp(mlog_mem_device_bytes(dev, &len), before, sizeof(before)), 0);
	ck_assert_uint_eq(len, sizeof(before));
	ck_assert_int_eq(mem_mlog_disk_ops.read(d, 64, got), 0);
	assert_bits_eq(got, first, 64);
	ck_assert_int_eq(mem_mlog_disk_ops.write(d, 64, second), 0);
	ck_assert_int_eq(mem_mlog_disk_ops.read(d, 64, got), 0);
	assert_bits_eq(got, second, 64);
	mem_mlog_disk_ops.close(d);
	mlog_mem_shelf_destroy(shelf);
	free(first);
	free(second);
}
END_TEST

START_TEST(test_mlog_disk_mem_bytes_last_write)
{
	struct mlog_mem_shelf *shelf = mlog_mem_shelf_create();
	ck_assert_ptr_nonnull(shelf);
	struct mlog_disk *d = mem_open_ok(shelf, "/dev/vdb");
	struct mlog_mem_device *dev = mlog_mem_shelf_device(shelf, "/dev/vdb");
	static const uint64_t counts[] = { 9, 40000, 9 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint64_t nr = counts[i];
		uint8_t *clean = pattern(nr, 10 + i), *want = malloc(mlog_disk_size(nr));
		ck_assert_ptr_nonnull(want);
		mlog_disk_encode(want, nr, clean);
		ck_assert_int_eq(mem_mlog_disk_ops.write(d, nr, clean), 0);
		size_t len = 0;
		const uint8_t *bytes = mlog_mem_device_bytes(dev, &len);
		ck_assert_uint_eq(len, mlog_disk_size(nr));
		ck_assert_int_eq(memcmp(bytes, want, len), 0);
		free(want);
		free(clean);
	}
	mem_mlog_disk_ops.close(d);
	mlog_mem_shelf_destroy(shelf);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, make_temp_dirs, remove_temp_dirs);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

#define ADD(s, name) add_case(s, #name, name)

int main(void)
{
	Suite *s = suite_create("mlog_disk");
	ADD(s, test_mlog_disk_decode_short_buffer);
	ADD(s, test_mlog_disk_decode_bad_magic);
	ADD(s, test_mlog_disk_decode_unknown_version);
	ADD(s, test_mlog_disk_decode_stored_bitmap_truncated);
	ADD(s, test_mlog_disk_file_rejects_bad_paths);
	ADD(s, test_mlog_disk_file_fresh_is_nodata);
	ADD(s, test_mlog_disk_file_truncated);
	ADD(s, test_mlog_disk_file_io_errors);
	ADD(s, test_mlog_disk_mem_fresh_is_nodata);
	ADD(s, test_mlog_disk_decode_version1);
	ADD(s, test_mlog_disk_decode_region_growth);
	ADD(s, test_mlog_disk_decode_region_shrink);
	ADD(s, test_mlog_disk_size);
	ADD(s, test_mlog_disk_header_bytes);
	ADD(s, test_mlog_disk_bitmap_bytes);
	ADD(s, test_mlog_disk_round_trip);
	ADD(s, test_mlog_disk_file_round_trip);
	ADD(s, test_mlog_disk_file_without_direct);
	ADD(s, test_mlog_disk_file_huge);
	ADD(s, test_mlog_disk_mem_shared);
	ADD(s, test_mlog_disk_mem_fail_writes);
	ADD(s, test_mlog_disk_mem_bytes_last_write);
	return check_run(s);
}
