/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspaced.conf: "key = value" lines, '#' comments. Every key is documented
 * in blkspaced.conf(5); an unknown key, a duplicate or a bad value is an
 * error that names the file and line, and the daemon refuses to start. */
#ifndef BLKSPACE_CONFIG_FILE_H
#define BLKSPACE_CONFIG_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/blkspace/blkspaced.conf"

struct blkspaced_config {
	char transport[16];  /* cpg | sim */
	char state_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char pidfile[PATH_MAX]; /* default: <run_dir>/blkspaced.pid */
	char ipc_service[64];
	char ipc_group[64]; /* empty: root only */
	int log_level;      /* syslog priority */
	char node_name[65]; /* empty: the corosync nodelist name */
	unsigned cluster_size; /* 0: the corosync nodelist count */
	char kernel_link[16];  /* netlink | sim */
	char ulog_socket[108]; /* the sim kernel link's socket (sizeof sun_path) */
	bool mirror_auto_resume; /* restart a stalled resync (netlink link only) */
	bool fencing_none; /* fencing = none: a departure counts as fenced; else pacemaker */
	unsigned direct_port;        /* UDP port of direct receipts; 0: off */
	char direct_key_file[PATH_MAX]; /* their key's source (corosync's authkey) */
};

void config_defaults(struct blkspaced_config *c);
/* Read path into c (defaults first). A missing file is fine when
 * missing_ok; errors are described in err (size errsz). Returns 0 or -errno. */
int config_load(const char *path, bool missing_ok, struct blkspaced_config *c, char *err,
                size_t errsz);
/* "info" -> LOG_INFO; -1 if unknown. */
int config_log_level(const char *name);
/* Every key as "key = value", in a form config_load() reads back. */
void config_print(const struct blkspaced_config *c, FILE *f);

#endif
