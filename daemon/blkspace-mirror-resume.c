/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace-mirror-resume UUID: suspend and resume, on this node, every
 * device-mapper mirror whose userspace log has this uuid. blkspaced runs it
 * (never in its own loop: the suspend waits for blkspaced's answers) when
 * the kernel here was told the mirror is in sync while regions are not:
 * dm-log-userspace asks for resync work again only after a resume.
 * Exit status: 0 done, 1 failed, 2 no such mirror, 64 usage. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libdevmapper.h>

/* Does a mirror target's parameters name a userspace log with uuid?
 * They begin "userspace <argc> <uuid> ...". */
static bool uses_log(const char *params, const char *uuid)
{
	char type[16], log_uuid[130];
	unsigned argc;
	return sscanf(params, "%15s %u %129s", type, &argc, log_uuid) == 3 &&
	       strcmp(type, "userspace") == 0 && strcmp(log_uuid, uuid) == 0;
}

static bool device_uses_log(const char *name, const char *uuid)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_TABLE);
	bool found = false;
	if (!t || !dm_task_set_name(t, name) || !dm_task_run(t)) {
		if (t)
			dm_task_destroy(t);
		return false;
	}
	void *next = NULL;
	do {
		uint64_t start, length;
		char *type = NULL, *params = NULL;
		next = dm_get_next_target(t, next, &start, &length, &type, &params);
		found |= type && params && strcmp(type, "mirror") == 0 && uses_log(params, uuid);
	} while (next && !found);
	dm_task_destroy(t);
	return found;
}

static bool run_on(int op, const char *name)
{
	struct dm_task *t = dm_task_create(op);
	bool ok = t && dm_task_set_name(t, name) && dm_task_run(t);
	if (t)
		dm_task_destroy(t);
	return ok;
}

/* 1 suspended, 0 not, -1 unknown. */
static int is_suspended(const char *name)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_INFO);
	struct dm_info info;
	int rc = -1;
	if (t && dm_task_set_name(t, name) && dm_task_run(t) && dm_task_get_info(t, &info) &&
	    info.exists)
		rc = info.suspended ? 1 : 0;
	if (t)
		dm_task_destroy(t);
	return rc;
}

static int resume_device(const char *name)
{
	int suspended = is_suspended(name);
	if (suspended != 0) {
		/* someone else suspended it (and resumes it, which restarts the resync) */
		fprintf(stderr, "blkspace-mirror-resume: %s is %s: left alone\n", name,
		        suspended > 0 ? "suspended already" : "gone");
		return suspended > 0 ? 0 : 1;
	}
	if (!run_on(DM_DEVICE_SUSPEND, name)) {
		fprintf(stderr, "blkspace-mirror-resume: cannot suspend %s\n", name);
		return 1;
	}
	if (!run_on(DM_DEVICE_RESUME, name)) {
		fprintf(stderr, "blkspace-mirror-resume: cannot resume %s: it stays suspended\n", name);
		return 1;
	}
	printf("blkspace-mirror-resume: %s suspended and resumed\n", name);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || !argv[1][0]) {
		fprintf(stderr, "usage: blkspace-mirror-resume LOG-UUID\n");
		return 64;
	}
	struct dm_task *list = dm_task_create(DM_DEVICE_LIST);
	if (!list || !dm_task_run(list)) {
		fprintf(stderr, "blkspace-mirror-resume: cannot list device-mapper devices\n");
		return 1;
	}
	struct dm_names *n = dm_task_get_names(list);
	int rc = 2;
	for (unsigned next = 0; n && n->dev; n = (struct dm_names *)((char *)n + next)) {
		if (device_uses_log(n->name, argv[1]))
			rc = resume_device(n->name) == 0 && rc != 1 ? 0 : 1;
		next = n->next;
		if (!next)
			break;
	}
	dm_task_destroy(list);
	if (rc == 2)
		fprintf(stderr, "blkspace-mirror-resume: no mirror uses the log %s\n", argv[1]);
	return rc;
}
