/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the blkspace CLI's command line parser and exit codes
 * (tools/cli-args.c, tools/cli-output.c). Malformed lines come first: each
 * must be a usage error with a message; then the accepted grammar. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-util.h"
#include "cli.h"

#define MAX_WORDS 80

static struct cli_args args;
static char err[512];
static char line_buf[4096];
static char *words[MAX_WORDS];

static void setup(void)
{
	memset(&args, 0, sizeof(args));
	err[0] = '\0';
}

static void teardown(void) { cli_args_done(&args); }

/* Parse a command line of space-separated words (argv[0] is added). */
static int parse(const char *line)
{
	int argc = 0;
	snprintf(line_buf, sizeof(line_buf), "blkspace %s", line);
	for (char *save, *w = strtok_r(line_buf, " ", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " ", &save))
		words[argc++] = w;
	cli_args_done(&args);
	err[0] = '\0';
	return cli_args_parse(argc, words, &args, err, sizeof(err));
}

static void assert_usage(const char *line)
{
	ck_assert_msg(parse(line) == -EINVAL, "'%s' was accepted", line);
	ck_assert_msg(err[0] != '\0', "'%s' gave no message", line);
}

START_TEST(test_cli_rejects_unknown_commands)
{
	assert_usage("");
	assert_usage("bogus");
	assert_usage("Status");
	assert_usage("node");
	assert_usage("node show");
	assert_usage("node confirm-fence 2");
	assert_usage("property frob a");
	assert_usage("log frob");
	assert_usage("logs");
	ck_assert_ptr_nonnull(strstr((parse("bogus"), err), "bogus"));
}
END_TEST

START_TEST(test_cli_rejects_unknown_options)
{
	assert_usage("status --bogus");
	assert_usage("status -x");
	assert_usage("--fulll status");
	assert_usage("status --full=yes");
	assert_usage("status --output-format=xml");
	assert_usage("status --output-format");
	assert_usage("status --wait=abc");
	assert_usage("status --wait=-1");
	assert_usage("status --wait=");
	assert_usage("status --wait=99999999999");
	assert_usage("status --timeout=1.5");
	assert_usage("status --timeout");
}
END_TEST

START_TEST(test_cli_rejects_misplaced_options)
{
	assert_usage("property list --full");
	assert_usage("property get a --quiet");
	assert_usage("node list --local");
	assert_usage("node list --wait");
	assert_usage("node confirm-fenced 2 --wait");
	assert_usage("node confirm-fenced 2 --full");
	assert_usage("property get a --wait=5");
	ck_assert_ptr_nonnull(strstr((parse("node list --full"), err), "--full"));
}
END_TEST

START_TEST(test_cli_rejects_bad_assignments)
{
	assert_usage("property set");
	assert_usage("property set a");
	assert_usage("property set =1");
	assert_usage("property set 1a=1");
	assert_usage("property set a=1 b");
	assert_usage("property set a/b=1");
	char line[2048] = "property set k=";
	memset(line + strlen(line), 'v', BLKSPACE_PROPERTY_VALUE_MAX + 1);
	assert_usage(line);
	char longkey[BLKSPACE_PROPERTY_KEY_MAX + 2];
	char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
	const char *value;
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	snprintf(line, sizeof(line), "%s=1", longkey);
	ck_assert_int_eq(cli_split_assignment(line, key, sizeof(key), &value, err, sizeof(err)),
	                 -EINVAL);
	snprintf(line, sizeof(line), "property set %s=1", longkey);
	assert_usage(line);
}
END_TEST

START_TEST(test_cli_rejects_operand_counts)
{
	assert_usage("status extra");
	assert_usage("node list extra");
	assert_usage("property list extra");
	assert_usage("property get");
	assert_usage("property get a b");
	assert_usage("property get 9");
	assert_usage("property unset");
	assert_usage("property unset a 9b");
	assert_usage("log list extra");
	assert_usage("log show");
	assert_usage("log show a b");
	char uuid[BLKSPACE_LOG_UUID_MAX + 16] = "log show ";
	memset(uuid + strlen(uuid), 'u', BLKSPACE_LOG_UUID_MAX + 1);
	assert_usage(uuid);
	char line[1024] = "property unset";
	for (int i = 0; i <= BLKSPACE_PROPERTY_BATCH_MAX; i++)
		strcat(line, " k");
	assert_usage(line);
}
END_TEST

START_TEST(test_cli_rejects_bad_node_ids)
{
	assert_usage("node confirm-fenced");
	assert_usage("node confirm-fenced abc");
	assert_usage("node confirm-fenced 0");
	assert_usage("node confirm-fenced 00");
	assert_usage("node confirm-fenced -1");
	assert_usage("node confirm-fenced -- -1");
	assert_usage("node confirm-fenced +2");
	assert_usage("node confirm-fenced 2x");
	assert_usage("node confirm-fenced 0x2");
	assert_usage("node confirm-fenced 1.5");
	assert_usage("node confirm-fenced 4294967296");
	assert_usage("node confirm-fenced 99999999999999999999999");
	assert_usage("node confirm-fenced 1 2");
	ck_assert_ptr_nonnull(strstr((parse("node confirm-fenced abc"), err), "abc"));
}
END_TEST

START_TEST(test_cli_parses_commands)
{
	ck_assert_int_eq(parse("status"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_STATUS);
	ck_assert_int_eq(args.wait_s, -1);
	ck_assert_int_eq(args.timeout_s, -1);
	ck_assert_int_eq(args.format, CLI_FORMAT_TEXT);
	ck_assert_int_eq(parse("node list"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_NODE_LIST);
	ck_assert_int_eq(parse("property"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_PROPERTY_LIST);
	ck_assert_int_eq(parse("property list"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_PROPERTY_LIST);
	ck_assert_int_eq(parse("property get a.b"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_PROPERTY_GET);
	ck_assert_uint_eq(args.n_operands, 1);
	ck_assert_str_eq(args.operands[0], "a.b");
	ck_assert_int_eq(parse("property unset a b"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_PROPERTY_UNSET);
	ck_assert_uint_eq(args.n_operands, 2);
	ck_assert_int_eq(parse("log"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_LOG_LIST);
	ck_assert_int_eq(parse("log list --output-format=json"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_LOG_LIST);
	ck_assert_int_eq(args.format, CLI_FORMAT_JSON);
	ck_assert_int_eq(parse("node confirm-fenced 3"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_NODE_CONFIRM_FENCED);
	ck_assert_uint_eq(args.nodeid, 3);
	ck_assert_int_eq(parse("--output-format=json node confirm-fenced 4294967295 --timeout=5"),
	                 0);
	ck_assert_int_eq(args.command, CLI_CMD_NODE_CONFIRM_FENCED);
	ck_assert_uint_eq(args.nodeid, 4294967295u);
	ck_assert_int_eq(args.format, CLI_FORMAT_JSON);
	ck_assert_int_eq(parse("log show LVM-abc"), 0);
	ck_assert_int_eq(args.command, CLI_CMD_LOG_SHOW);
	ck_assert_str_eq(args.operands[0], "LVM-abc");
}
END_TEST

START_TEST(test_cli_parses_assignments)
{
	ck_assert_int_eq(parse("property set a=1 b.c=x=y empty="), 0);
	ck_assert_int_eq(args.command, CLI_CMD_PROPERTY_SET);
	ck_assert_uint_eq(args.n_operands, 3);
	char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
	const char *value;
	ck_assert_int_eq(cli_split_assignment(args.operands[1], key, sizeof(key), &value, err,
	                                      sizeof(err)),
	                 0);
	ck_assert_str_eq(key, "b.c");
	ck_assert_str_eq(value, "x=y");
	ck_assert_int_eq(cli_split_assignment(args.operands[2], key, sizeof(key), &value, err,
	                                      sizeof(err)),
	                 0);
	ck_assert_str_eq(key, "empty");
	ck_assert_str_eq(value, "");
}
END_TEST

START_TEST(test_cli_parses_options_anywhere)
{
	ck_assert_int_eq(parse("--output-format=json status --full"), 0);
	ck_assert_int_eq(args.format, CLI_FORMAT_JSON);
	ck_assert(args.full);
	ck_assert_int_eq(parse("status --local --output-format json --quiet"), 0);
	ck_assert(args.local && args.quiet);
	ck_assert_int_eq(args.format, CLI_FORMAT_JSON);
	ck_assert_int_eq(parse("property --wait set a=1"), 0);
	ck_assert_int_eq(args.wait_s, CLI_WAIT_DEFAULT_S);
	ck_assert_int_eq(parse("property set a=1 --wait=5 --timeout 7"), 0);
	ck_assert_int_eq(args.wait_s, 5);
	ck_assert_int_eq(args.timeout_s, 7);
	ck_assert_int_eq(parse("--timeout=0 status --wait=0"), 0);
	ck_assert_int_eq(args.timeout_s, 0);
	ck_assert_int_eq(args.wait_s, 0);
	ck_assert_int_eq(parse("--output-format=json --output-format=text node list"), 0);
	ck_assert_int_eq(args.format, CLI_FORMAT_TEXT);
}
END_TEST

START_TEST(test_cli_parses_double_dash)
{
	assert_usage("property set -- --x=1");
	ck_assert_int_eq(parse("property -- set a=-1"), 0);
	ck_assert_str_eq(args.operands[0], "a=-1");
	ck_assert_int_eq(parse("property set a=1 -- --wait"), -EINVAL);
}
END_TEST

START_TEST(test_cli_parses_help_and_version)
{
	ck_assert_int_eq(parse("--help"), 0);
	ck_assert(args.help);
	ck_assert_int_eq(args.noun, CLI_NOUN_NONE);
	ck_assert_int_eq(parse("-h"), 0);
	ck_assert(args.help);
	ck_assert_int_eq(parse("property --help"), 0);
	ck_assert_int_eq(args.noun, CLI_NOUN_PROPERTY);
	ck_assert_int_eq(parse("node -h"), 0);
	ck_assert_int_eq(args.noun, CLI_NOUN_NODE);
	ck_assert_int_eq(parse("property set --help"), 0);
	ck_assert_int_eq(args.noun, CLI_NOUN_PROPERTY);
	ck_assert_int_eq(parse("status --help"), 0);
	ck_assert_int_eq(args.noun, CLI_NOUN_STATUS);
	ck_assert_int_eq(parse("--version"), 0);
	ck_assert(args.version);
	assert_usage("bogus --help");
}
END_TEST

START_TEST(test_cli_exit_codes)
{
	ck_assert_int_eq(cli_exit_code(0), CLI_EXIT_OK);
	ck_assert_int_eq(cli_exit_code(BLKSPACE_E_UNREACHABLE), 69);
	ck_assert_int_eq(cli_exit_code(BLKSPACE_E_DISCONNECTED), 69);
	ck_assert_int_eq(cli_exit_code(BLKSPACE_E_NOQUORUM), 106);
	ck_assert_int_eq(cli_exit_code(BLKSPACE_E_TIMEOUT), 124);
	ck_assert_int_eq(cli_exit_code(-ETIMEDOUT), 124);
	ck_assert_int_eq(cli_exit_code(BLKSPACE_E_NOTFOUND), 1);
	ck_assert_int_eq(cli_exit_code(BLKSPACE_E_NOTREADY), 1);
	ck_assert_int_eq(cli_exit_code(-ENOMEM), 1);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
	check_add_case(s, name, test, setup, teardown, 10);
}

int main(void)
{
	Suite *s = suite_create("cli");
	add_case(s, "test_cli_rejects_unknown_commands", test_cli_rejects_unknown_commands);
	add_case(s, "test_cli_rejects_unknown_options", test_cli_rejects_unknown_options);
	add_case(s, "test_cli_rejects_misplaced_options", test_cli_rejects_misplaced_options);
	add_case(s, "test_cli_rejects_bad_assignments", test_cli_rejects_bad_assignments);
	add_case(s, "test_cli_rejects_operand_counts", test_cli_rejects_operand_counts);
	add_case(s, "test_cli_rejects_bad_node_ids", test_cli_rejects_bad_node_ids);
	add_case(s, "test_cli_parses_commands", test_cli_parses_commands);
	add_case(s, "test_cli_parses_assignments", test_cli_parses_assignments);
	add_case(s, "test_cli_parses_options_anywhere", test_cli_parses_options_anywhere);
	add_case(s, "test_cli_parses_double_dash", test_cli_parses_double_dash);
	add_case(s, "test_cli_parses_help_and_version", test_cli_parses_help_and_version);
	add_case(s, "test_cli_exit_codes", test_cli_exit_codes);
	return check_run(s);
}
