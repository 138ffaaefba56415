/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The syscall overrides of tests/syscall-faults.h. */
#include "config.h"

/* the open() override below must not meet glibc's fortified inline open */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>
#include <unistd.h>

#include "syscall-faults.h"

struct syscall_faults faults;

int open(const char *path, int flags, ...)
{
	static int (*real_open)(const char *, int, ...);
	if (!real_open)
		real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (faults.refuse_direct && (flags & O_DIRECT)) {
		errno = EINVAL;
		return -1;
	}
	int fd = real_open(path, flags, mode);
	if (fd >= 0)
		faults.last_open_flags = flags;
	return fd;
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	static ssize_t (*real_pread)(int, void *, size_t, off_t);
	if (!real_pread)
		real_pread = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
	if (faults.pread_errno) {
		errno = faults.pread_errno;
		return -1;
	}
	return real_pread(fd, buf, count, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
	if (!real_pwrite)
		real_pwrite = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	if (faults.pwrite_errno) {
		errno = faults.pwrite_errno;
		return -1;
	}
	return real_pwrite(fd, buf, count, offset);
}

int fdatasync(int fd)
{
	static int (*real_fdatasync)(int);
	if (!real_fdatasync)
		real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (faults.fdatasync_errno) {
		errno = faults.fdatasync_errno;
		return -1;
	}
	return real_fdatasync(fd);
}
