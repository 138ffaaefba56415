/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Syscall faults for unit tests: tests/syscall-faults.c overrides open,
 * pread, pwrite and fdatasync in the test program (the real ones are
 * reached with dlsym(RTLD_NEXT)); a nonzero errno field makes every call
 * of that function fail with it until it is set back to 0. */
#ifndef BLKSPACE_TESTS_SYSCALL_FAULTS_H
#define BLKSPACE_TESTS_SYSCALL_FAULTS_H

#include <stdbool.h>

struct syscall_faults {
	bool refuse_direct;  /* open with O_DIRECT fails EINVAL, like old tmpfs */
	int pread_errno;
	int pwrite_errno;
	int fdatasync_errno;
	int last_open_flags; /* flags of the last open that succeeded */
};

extern struct syscall_faults faults;

#endif
