/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helper programs that blkspaced runs in child processes (they block, or
 * wait for blkspaced itself): found next to blkspaced's own executable,
 * else by name on PATH, started without waiting, reaped by polling. */
#ifndef BLKSPACE_HELPER_RUN_H
#define BLKSPACE_HELPER_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* override if set, else name next to /proc/self/exe if executable, else name. */
void helper_path(const char *override, const char *name, char *out, size_t outsz);
/* Start argv[0] (looked up on PATH when it has no slash); 0 or an errno. */
int helper_start(char *const argv[], pid_t *ret_pid);
/* 1 and the wait status when the child ended, 0 while it runs, -1 when it
 * is not ours to wait for (status -1). */
int helper_reap(pid_t pid, int *ret_status);

#endif
