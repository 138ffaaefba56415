/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace-fence-check NODEID SINCE: was cluster node NODEID fenced at or
 * after SINCE (seconds since the epoch)? Asks Pacemaker's fencer through
 * libstonithd, loaded at run time so that blkspace needs no Pacemaker to
 * build or to run without it. blkspaced runs it in a child process (the
 * query is a blocking IPC round trip) for nodes that left a mirror log
 * with regions marked, before it lets those regions resync.
 * Exit status: 0 fenced since, 1 not (yet), 2 cannot ask, 64 usage. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { FENCED = 0, NOT_FENCED = 1, CANNOT_ASK = 2, USAGE = 64 };

/* libstonithd's query: when the node was last fenced, 0 if never (or on
 * any failure to ask, which it cannot tell apart). */
typedef time_t (*last_fenced_fn)(uint32_t nodeid, const char *uname, bool in_progress);

static const char *const libraries[] = { "libstonithd.so.26", "libstonithd.so" };

static last_fenced_fn load_query(const char **ret_why)
{
	*ret_why = "not found";
	for (size_t i = 0; i < sizeof(libraries) / sizeof(libraries[0]); i++) {
		void *lib = dlopen(libraries[i], RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			const char *why = dlerror();
			*ret_why = why ? why : *ret_why;
			continue;
		}
		last_fenced_fn fn = (last_fenced_fn)(uintptr_t)dlsym(lib, "stonith_api_time");
		if (fn)
			return fn;
		dlclose(lib);
	}
	return NULL;
}

static bool parse_number(const char *s, unsigned long long max, unsigned long long *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return false;
	*ret = v;
	return true;
}

int main(int argc, char **argv)
{
	unsigned long long nodeid, since;
	if (argc != 3 || !parse_number(argv[1], UINT32_MAX, &nodeid) || nodeid == 0 ||
	    !parse_number(argv[2], INT64_MAX, &since)) {
		fprintf(stderr, "usage: blkspace-fence-check NODEID SINCE\n"
		                "  exit 0 if node NODEID was fenced at or after SINCE (seconds since\n"
		                "  the epoch), 1 if not, 2 if Pacemaker's fencer cannot be asked\n");
		return USAGE;
	}
	const char *why;
	last_fenced_fn last_fenced = load_query(&why);
	if (!last_fenced) {
		fprintf(stderr, "blkspace-fence-check: cannot load libstonithd (Pacemaker's fencing "
		                "library): %s\n", why);
		return CANNOT_ASK;
	}
	time_t when = last_fenced((uint32_t)nodeid, NULL, false);
	if (when > 0 && (unsigned long long)when >= since) {
		printf("node %llu fenced at %lld\n", nodeid, (long long)when);
		return FENCED;
	}
	printf("node %llu not fenced since %llu (last: %lld)\n", nodeid, since, (long long)when);
	return NOT_FENCED;
}
