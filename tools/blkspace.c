/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace: the administration CLI of blkspaced (see blkspace(8)).
 * main parses the line, answers --help and --version, and runs the
 * command from a table indexed by enum cli_command. */
#include "config.h"

#include "cli.h"

#include <stdio.h>

typedef int command_fn(const struct cli_args *a);

static command_fn *const commands[] = {
	[CLI_CMD_STATUS] = cli_status,
	[CLI_CMD_NODE_LIST] = cli_node_list,
	[CLI_CMD_NODE_CONFIRM_FENCED] = cli_node_confirm_fenced,
	[CLI_CMD_PROPERTY_LIST] = cli_property_list,
	[CLI_CMD_PROPERTY_SET] = cli_property_set,
	[CLI_CMD_PROPERTY_UNSET] = cli_property_unset,
	[CLI_CMD_PROPERTY_GET] = cli_property_get,
	[CLI_CMD_LOG_LIST] = cli_log_list,
	[CLI_CMD_LOG_SHOW] = cli_log_show,
};

int cli_connect(const struct cli_args *a, int fallback_ms, struct blkspace **ret_conn)
{
	struct blkspace *conn;
	int rc = blkspace_connect(&conn);
	if (rc < 0)
		return rc;
	int timeout_ms = a->timeout_s == 0  ? -1
	                 : a->timeout_s > 0 ? a->timeout_s * 1000
	                                    : fallback_ms;
	if (timeout_ms != 0)
		rc = blkspace_set_timeout(conn, timeout_ms);
	if (rc < 0) {
		blkspace_disconnect(conn);
		return rc;
	}
	*ret_conn = conn;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_args a;
	char err[512];
	if (cli_args_parse(argc, argv, &a, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return CLI_EXIT_USAGE;
	}
	int code = CLI_EXIT_OK;
	if (a.help)
		cli_print_help(a.noun);
	else if (a.version)
		cli_print_version();
	else if (a.command < sizeof(commands) / sizeof(commands[0]) && commands[a.command])
		code = commands[a.command](&a);
	else
		code = CLI_EXIT_USAGE;
	cli_args_done(&a);
	if (fflush(stdout) != 0 && code == CLI_EXIT_OK) {
		cli_error("cannot write the output");
		code = CLI_EXIT_ERROR;
	}
	return code;
}
