/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parser of blkspaced.conf: a table of keys, each with its own setter. */
#include "config.h"

#include "config-file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define CONFIG_LINE_MAX 4096

typedef int (*config_setter)(struct blkspaced_config *c, const char *value, char *err, size_t errsz);

static int set_string(char *dst, size_t dstsz, const char *value, char *err, size_t errsz)
{
	if (strlen(value) >= dstsz) {
		snprintf(err, errsz, "value longer than %zu bytes", dstsz - 1);
		return -EINVAL;
	}
	strcpy(dst, value);
	return 0;
}

static int set_path(char *dst, size_t dstsz, const char *value, char *err, size_t errsz)
{
	if (value[0] != '/') {
		snprintf(err, errsz, "'%s' is not an absolute path", value);
		return -EINVAL;
	}
	return set_string(dst, dstsz, value, err, errsz);
}

static int set_transport(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	if (strcmp(v, "cpg") != 0 && strcmp(v, "sim") != 0) {
		snprintf(err, errsz, "transport must be 'cpg' or 'sim', not '%s'", v);
		return -EINVAL;
	}
	return set_string(c->transport, sizeof(c->transport), v, err, errsz);
}

static int set_state_dir(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	return set_path(c->state_dir, sizeof(c->state_dir), v, err, errsz);
}

static int set_run_dir(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	return set_path(c->run_dir, sizeof(c->run_dir), v, err, errsz);
}

static int set_pidfile(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	return set_path(c->pidfile, sizeof(c->pidfile), v, err, errsz);
}

static int set_ipc_service(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	if (!*v || strchr(v, '/')) {
		snprintf(err, errsz, "ipc_service must be a non-empty name without '/'");
		return -EINVAL;
	}
	return set_string(c->ipc_service, sizeof(c->ipc_service), v, err, errsz);
}

static int set_ipc_group(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	return set_string(c->ipc_group, sizeof(c->ipc_group), v, err, errsz);
}

static int set_log_level(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	int level = config_log_level(v);
	if (level < 0) {
		snprintf(err, errsz, "log_level must be err, warning, notice, info or debug, not '%s'", v);
		return -EINVAL;
	}
	c->log_level = level;
	return 0;
}

static int set_node_name(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			snprintf(err, errsz, "node_name must be printable ASCII without spaces");
			return -EINVAL;
		}
	return set_string(c->node_name, sizeof(c->node_name), v, err, errsz);
}

static int set_cluster_size(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > 64) {
		snprintf(err, errsz, "cluster_size must be a number from 0 to 64, not '%s'", v);
		return -EINVAL;
	}
	c->cluster_size = (unsigned)n;
	return 0;
}

static int set_kernel_link(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	if (strcmp(v, "netlink") != 0 && strcmp(v, "sim") != 0) {
		snprintf(err, errsz, "kernel_link must be 'netlink' or 'sim', not '%s'", v);
		return -EINVAL;
	}
	return set_string(c->kernel_link, sizeof(c->kernel_link), v, err, errsz);
}

static int set_ulog_socket(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	return set_path(c->ulog_socket, sizeof(c->ulog_socket), v, err, errsz);
}

static int set_mirror_auto_resume(struct blkspaced_config *c, const char *v, char *err,
                                  size_t errsz)
{
	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
		snprintf(err, errsz, "mirror_auto_resume must be 'yes' or 'no', not '%s'", v);
		return -EINVAL;
	}
	c->mirror_auto_resume = strcmp(v, "yes") == 0;
	return 0;
}

static int set_fencing(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	if (strcmp(v, "pacemaker") != 0 && strcmp(v, "none") != 0) {
		snprintf(err, errsz, "fencing must be 'pacemaker' or 'none', not '%s'", v);
		return -EINVAL;
	}
	c->fencing_none = strcmp(v, "none") == 0;
	return 0;
}

static int set_direct_port(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > 65535) {
		snprintf(err, errsz, "direct_port must be a UDP port from 1 to 65535, or 0 for none, "
		         "not '%s'", v);
		return -EINVAL;
	}
	c->direct_port = (unsigned)n;
	return 0;
}

static int set_direct_key_file(struct blkspaced_config *c, const char *v, char *err, size_t errsz)
{
	return set_path(c->direct_key_file, sizeof(c->direct_key_file), v, err, errsz);
}

static const struct {
	const char *key;
	config_setter set;
} keys[] = {
	{ "transport", set_transport },     { "state_dir", set_state_dir },
	{ "run_dir", set_run_dir },         { "pidfile", set_pidfile },
	{ "ipc_service", set_ipc_service }, { "ipc_group", set_ipc_group },
	{ "log_level", set_log_level },     { "node_name", set_node_name },
	{ "cluster_size", set_cluster_size }, { "kernel_link", set_kernel_link },
	{ "ulog_socket", set_ulog_socket }, { "mirror_auto_resume", set_mirror_auto_resume },
	{ "fencing", set_fencing },         { "direct_port", set_direct_port },
	{ "direct_key_file", set_direct_key_file },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct {
	const char *name;
	int level;
} log_levels[] = { { "err", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
                   { "info", LOG_INFO }, { "debug", LOG_DEBUG } };

int config_log_level(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(log_levels[i].name, name) == 0)
			return log_levels[i].level;
	return -1;
}

void config_defaults(struct blkspaced_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->transport, "cpg");
	strcpy(c->state_dir, "/var/lib/blkspace");
	strcpy(c->run_dir, "/run/blkspace");
	strcpy(c->ipc_service, "blkspace");
	strcpy(c->kernel_link, "netlink");
	strcpy(c->ulog_socket, "/run/blkspace/ulog.sock");
	c->mirror_auto_resume = true;
	c->log_level = LOG_INFO;
	c->direct_port = 5409;
	strcpy(c->direct_key_file, "/etc/corosync/authkey");
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One line: 0, or -EINVAL with err filled in. seen marks keys already set. */
static int parse_line(struct blkspaced_config *c, char *line, bool *seen, char *err, size_t errsz)
{
	char *s = trim(line);
	if (!*s || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errsz, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].key, key) != 0)
			continue;
		if (seen[i]) {
			snprintf(err, errsz, "'%s' is set twice", key);
			return -EINVAL;
		}
		seen[i] = true;
		return keys[i].set(c, value, err, errsz);
	}
	snprintf(err, errsz, "unknown key '%s' (see blkspaced.conf(5))", key);
	return -EINVAL;
}

/* Values derived from others once the file is read. */
static int config_finish(struct blkspaced_config *c, const char *path, char *err, size_t errsz)
{
	if (!c->pidfile[0] &&
	    (size_t)snprintf(c->pidfile, sizeof(c->pidfile), "%s/blkspaced.pid", c->run_dir) >=
	        sizeof(c->pidfile)) {
		snprintf(err, errsz, "%s: run_dir too long", path);
		return -EINVAL;
	}
	return 0;
}

int config_load(const char *path, bool missing_ok, struct blkspaced_config *c, char *err,
                size_t errsz)
{
	config_defaults(c);
	FILE *f = fopen(path, "re");
	if (!f) {
		int rc = -errno;
		if (rc == -ENOENT && missing_ok)
			return config_finish(c, path, err, errsz);
		snprintf(err, errsz, "%s: %s", path, strerror(-rc));
		return rc;
	}
	bool seen[N_KEYS] = { false };
	char line[CONFIG_LINE_MAX], msg[256];
	int rc = 0;
	for (unsigned n = 1; rc == 0 && fgets(line, sizeof(line), f); n++) {
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errsz, "%s:%u: line too long", path, n);
			rc = -EINVAL;
		} else if ((rc = parse_line(c, line, seen, msg, sizeof(msg))) < 0) {
			snprintf(err, errsz, "%s:%u: %s", path, n, msg);
		}
	}
	fclose(f);
	return rc < 0 ? rc : config_finish(c, path, err, errsz);
}

static const char *log_level_name(int level)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "info";
}

/* "key = value", or "key =" for an empty value (no trailing blank). */
static void put(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s =%s%s\n", key, *value ? " " : "", value);
}

void config_print(const struct blkspaced_config *c, FILE *f)
{
	char size[16];
	snprintf(size, sizeof(size), "%u", c->cluster_size);
	put(f, "transport", c->transport);
	put(f, "state_dir", c->state_dir);
	put(f, "run_dir", c->run_dir);
	put(f, "pidfile", c->pidfile);
	put(f, "ipc_service", c->ipc_service);
	put(f, "ipc_group", c->ipc_group);
	put(f, "log_level", log_level_name(c->log_level));
	put(f, "node_name", c->node_name);
	put(f, "cluster_size", size);
	put(f, "kernel_link", c->kernel_link);
	put(f, "ulog_socket", c->ulog_socket);
	put(f, "mirror_auto_resume", c->mirror_auto_resume ? "yes" : "no");
	put(f, "fencing", c->fencing_none ? "none" : "pacemaker");
	char port[16];
	snprintf(port, sizeof(port), "%u", c->direct_port);
	put(f, "direct_port", port);
	put(f, "direct_key_file", c->direct_key_file);
}
