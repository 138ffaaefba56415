/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The blkspace CLI: a parsed command line (cli-args.c), output and exit
 * codes (cli-output.c), the commands (cli-status.c, cli-property.c,
 * cli-log.c) and
 * main with the connection (blkspace.c).
 * Commands print results on stdout and "Error: ..." on stderr and return
 * the process exit code. */
#ifndef BLKSPACE_CLI_H
#define BLKSPACE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <blkspace/blkspace.h>

/* Exit codes (doc/blkspace.8), after Pacemaker's crm_exit_t. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,
	CLI_EXIT_FALSE = 2,        /* query false: not primary / not quorate */
	CLI_EXIT_USAGE = 64,
	CLI_EXIT_UNREACHABLE = 69, /* daemon not running, refused us or went away */
	CLI_EXIT_NOQUORUM = 106,
	CLI_EXIT_TIMEOUT = 124,
};

enum cli_noun {
	CLI_NOUN_NONE,
	CLI_NOUN_STATUS,
	CLI_NOUN_NODE,
	CLI_NOUN_PROPERTY,
	CLI_NOUN_LOG,
};

enum cli_command {
	CLI_CMD_NONE, /* only --help or --version */
	CLI_CMD_STATUS,
	CLI_CMD_NODE_LIST,
	CLI_CMD_NODE_CONFIRM_FENCED,
	CLI_CMD_PROPERTY_LIST,
	CLI_CMD_PROPERTY_SET,
	CLI_CMD_PROPERTY_UNSET,
	CLI_CMD_PROPERTY_GET,
	CLI_CMD_LOG_LIST,
	CLI_CMD_LOG_SHOW,
};

enum cli_format {
	CLI_FORMAT_TEXT,
	CLI_FORMAT_JSON,
};

#define CLI_WAIT_DEFAULT_S 60
#define CLI_TIMEOUT_MAX_S (24 * 3600)

struct cli_args {
	enum cli_noun noun;
	enum cli_command command;
	enum cli_format format;
	bool help, version;
	bool full, local, quiet;
	int wait_s;     /* --wait[=SECONDS]; -1 when not given */
	int timeout_s;  /* --timeout=SECONDS; -1 when not given, 0 no limit */
	size_t n_operands;
	char **operands; /* after the verb: KEY=VALUE or KEY words, in argv */
	uint32_t nodeid; /* node confirm-fenced: the checked NODEID operand */
};

/* Parse argv (argv[0] is the program). Global options may stand anywhere;
 * "--" ends them. Returns 0, or -EINVAL with a message for "Error: " in
 * err. On success release *ret with cli_args_done(). */
int cli_args_parse(int argc, char **argv, struct cli_args *ret, char *err, size_t errsz);
void cli_args_done(struct cli_args *a);

/* Split "KEY=VALUE" at the first '=' into key (size keysz) and *ret_value
 * (pointing into arg). -EINVAL with a message when there is no '=', the key
 * is not a valid property name or the value is too long. */
int cli_split_assignment(const char *arg, char *key, size_t keysz, const char **ret_value,
                         char *err, size_t errsz);

/* cli-output.c */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit code for a libblkspace return code (0 -> CLI_EXIT_OK). */
int cli_exit_code(int err);
/* Print "Error: what: message" and return the exit code of err. */
int cli_fail(const char *what, int err);
void cli_print_help(enum cli_noun noun);
void cli_print_version(void);

/* JSON documents of the daemon (json-c). A missing member reads as
 * false, 0, "" or NULL: the text output shows what is there. */
struct json_object;
/* Parse text into an object (release it with json_object_put());
 * BLKSPACE_E_PROTOCOL when it is not a JSON object. */
int cli_json_parse(const char *text, struct json_object **ret_doc);
/* Print a document indented, as the daemon sent it. */
void cli_json_print(struct json_object *doc);
/* Print a document made here: api_version, then k1 and k2 with the values
 * v1 and v2 (taken over; NULL when they could not be made: -ENOMEM). */
int cli_json_print_pair(const char *k1, struct json_object *v1, const char *k2,
                        struct json_object *v2);
bool cli_json_bool(struct json_object *o, const char *key);
uint64_t cli_json_u64(struct json_object *o, const char *key);
const char *cli_json_str(struct json_object *o, const char *key);
struct json_object *cli_json_get(struct json_object *o, const char *key);

/* blkspace.c: connect and apply --timeout, else fallback_ms (0: the
 * library's default). */
int cli_connect(const struct cli_args *a, int fallback_ms, struct blkspace **ret_conn);

/* Commands: each returns an exit code. */
int cli_status(const struct cli_args *a);
int cli_node_list(const struct cli_args *a);
int cli_node_confirm_fenced(const struct cli_args *a);
int cli_property_list(const struct cli_args *a);
int cli_property_set(const struct cli_args *a);
int cli_property_unset(const struct cli_args *a);
int cli_property_get(const struct cli_args *a);
int cli_log_list(const struct cli_args *a);
int cli_log_show(const struct cli_args *a);

#endif
