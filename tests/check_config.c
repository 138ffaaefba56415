/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspaced.conf: bad files first (each refused with the file, line and
 * reason), then the defaults and every key taking effect. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "check-util.h"
#include "config-file.h"

static char path[64];
static struct blkspaced_config cfg;
static char err[512];

static void setup(void)
{
	strcpy(path, "/tmp/check_config.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void) { unlink(path); }

/* Load a file with this text: config_load's result, err filled in. */
static int load(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return config_load(path, false, &cfg, err, sizeof(err));
}

/* The load fails and err names the line and contains what. */
static void refused(const char *text, unsigned line, const char *what)
{
	ck_assert_int_lt(load(text), 0);
	char where[96];
	snprintf(where, sizeof(where), "%s:%u:", path, line);
	ck_assert_msg(strstr(err, where) && strstr(err, what), "for %s: '%s'", text, err);
}

START_TEST(test_config_refuses_bad_files)
{
	refused("frobnicate = 1\n", 1, "unknown key 'frobnicate'");
	refused("# a comment\ntransport cpg\n", 2, "expected 'key = value'");
	refused("transport = cpg\ntransport = sim\n", 2, "set twice");
	refused("transport = udp\n", 1, "transport");
	refused("cluster_size = 65\n", 1, "cluster_size");
	refused("cluster_size = -1\n", 1, "cluster_size");
	refused("kernel_link = ioctl\n", 1, "kernel_link must be 'netlink' or 'sim'");
	refused("mirror_auto_resume = maybe\n", 1, "mirror_auto_resume must be 'yes' or 'no'");
	refused("mirror_auto_resume =\n", 1, "mirror_auto_resume");
	refused("fencing = stonith\n", 1, "fencing must be 'pacemaker' or 'none'");
	refused("log_level = loud\n", 1, "log_level");
	refused("state_dir = relative/path\n", 1, "not an absolute path");
	refused("direct_port = 65536\n", 1, "direct_port must be a UDP port");
	refused("direct_port = udp\n", 1, "direct_port must be a UDP port");
	refused("direct_port = -1\n", 1, "direct_port");
	refused("direct_key_file = authkey\n", 1, "not an absolute path");
	ck_assert_int_lt(config_load("/nonexistent/blkspaced.conf", false, &cfg, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/blkspaced.conf"));
}
END_TEST

START_TEST(test_config_defaults_and_keys)
{
	ck_assert_int_eq(config_load("/nonexistent/blkspaced.conf", true, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.transport, "cpg");
	ck_assert_str_eq(cfg.kernel_link, "netlink");
	ck_assert(cfg.mirror_auto_resume);
	ck_assert(!cfg.fencing_none); /* pacemaker */
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_str_eq(cfg.pidfile, "/run/blkspace/blkspaced.pid");
	ck_assert_uint_eq(cfg.direct_port, 5409);
	ck_assert_str_eq(cfg.direct_key_file, "/etc/corosync/authkey");
	ck_assert_int_eq(load("  # settings\n\ntransport = sim\nkernel_link = sim\n"
	                      "mirror_auto_resume = no\ncluster_size = 5\nlog_level = debug\n"
	                      "run_dir = /tmp/bks\nfencing = none\n"),
	                 0);
	ck_assert_str_eq(cfg.transport, "sim");
	ck_assert_str_eq(cfg.kernel_link, "sim");
	ck_assert(!cfg.mirror_auto_resume);
	ck_assert(cfg.fencing_none);
	ck_assert_uint_eq(cfg.cluster_size, 5);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg.pidfile, "/tmp/bks/blkspaced.pid");
}
END_TEST

/* What config_print writes (blkspaced -t) loads back into the same settings:
 * every key set away from its default, and the empty ones. */
START_TEST(test_config_print_reads_back)
{
	ck_assert_int_eq(load("transport = sim\nstate_dir = /srv/bks\nrun_dir = /tmp/bkr\n"
	                      "pidfile = /tmp/bkr/p.pid\nipc_service = bks2\nipc_group = disk\n"
	                      "log_level = notice\nnode_name = n7\ncluster_size = 7\n"
	                      "kernel_link = sim\nulog_socket = /tmp/bkr/u.sock\n"
	                      "mirror_auto_resume = no\nfencing = none\ndirect_port = 0\n"
	                      "direct_key_file = /etc/blkspace/direct.key\n"),
	                 0);
	ck_assert_uint_eq(cfg.direct_port, 0);
	for (int round = 0; round < 2; round++) {
		struct blkspaced_config before = cfg;
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		ck_assert_ptr_nonnull(f);
		config_print(&before, f);
		fclose(f);
		ck_assert_ptr_null(strstr(text, " \n")); /* no trailing blanks */
		ck_assert_int_eq(load(text), 0);
		free(text);
		ck_assert_msg(memcmp(&before, &cfg, sizeof(cfg)) == 0, "round %d differs", round);
		/* then the defaults, with their empty ipc_group and node_name */
		ck_assert_int_eq(config_load("/nonexistent/blkspaced.conf", true, &cfg, err, sizeof(err)), 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_refuses_bad_files);
	tcase_add_test(tc, test_config_defaults_and_keys);
	tcase_add_test(tc, test_config_print_reads_back);
	suite_add_tcase(s, tc);
	return check_run(s);
}
