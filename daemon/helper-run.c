/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See helper-run.h. */
#include "config.h"

#include "helper-run.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void helper_path(const char *override, const char *name, char *out, size_t outsz)
{
	if (override) {
		snprintf(out, outsz, "%s", override);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, outsz, "%s/%s", self, name);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, outsz, "%s", name);
}

int helper_start(char *const argv[], pid_t *ret_pid)
{
	return posix_spawnp(ret_pid, argv[0], NULL, NULL, argv, environ);
}

int helper_reap(pid_t pid, int *ret_status)
{
	int status;
	pid_t r = waitpid(pid, &status, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return 0;
	*ret_status = r > 0 ? status : -1;
	return r > 0 ? 1 : -1;
}
