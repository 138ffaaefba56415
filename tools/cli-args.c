/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line parsing of the blkspace CLI: pcs-style "noun [verb] args",
 * global options anywhere on the line, KEY=VALUE operands. Pure: no I/O, no
 * global state, so the unit tests call it directly. */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_BIT(c) (1u << (c))
#define ALL_COMMANDS (~0u)
#define WAIT_COMMANDS \
	(CMD_BIT(CLI_CMD_STATUS) | CMD_BIT(CLI_CMD_PROPERTY_SET) | CMD_BIT(CLI_CMD_PROPERTY_UNSET))

enum arg_kind { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED };

struct option_def {
	const char *name; /* without the leading "--" */
	enum arg_kind arg;
	unsigned commands; /* CMD_BIT()s it applies to */
	int (*apply)(struct cli_args *a, const char *value, char *err, size_t errsz);
};

__attribute__((format(printf, 3, 4))) static int usage(char *err, size_t errsz,
                                                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Whole seconds in 0..CLI_TIMEOUT_MAX_S. */
static int parse_seconds(const char *opt, const char *value, int *ret, char *err,
                         size_t errsz)
{
	char *end;
	errno = 0;
	long v = value && *value ? strtol(value, &end, 10) : -1;
	if (!value || !*value || errno || *end || v < 0 || v > CLI_TIMEOUT_MAX_S)
		return usage(err, errsz, "option '--%s' needs a number of seconds (0..%d), not '%s'",
		             opt, CLI_TIMEOUT_MAX_S, value ? value : "");
	*ret = (int)v;
	return 0;
}

static int opt_help(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	a->help = true;
	return 0;
}

static int opt_version(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	a->version = true;
	return 0;
}

static int opt_full(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	a->full = true;
	return 0;
}

static int opt_local(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	a->local = true;
	return 0;
}

static int opt_quiet(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	a->quiet = true;
	return 0;
}

static int opt_format(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	if (strcmp(v, "text") == 0)
		a->format = CLI_FORMAT_TEXT;
	else if (strcmp(v, "json") == 0)
		a->format = CLI_FORMAT_JSON;
	else
		return usage(err, errsz, "unknown output format '%s', use text or json", v);
	return 0;
}

static int opt_wait(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	if (!v) {
		a->wait_s = CLI_WAIT_DEFAULT_S;
		return 0;
	}
	return parse_seconds("wait", v, &a->wait_s, err, errsz);
}

static int opt_timeout(struct cli_args *a, const char *v, char *err, size_t errsz)
{
	return parse_seconds("timeout", v, &a->timeout_s, err, errsz);
}

static const struct option_def options[] = {
	{ "help", ARG_NONE, ALL_COMMANDS, opt_help },
	{ "version", ARG_NONE, ALL_COMMANDS, opt_version },
	{ "output-format", ARG_REQUIRED, ALL_COMMANDS, opt_format },
	{ "wait", ARG_OPTIONAL, WAIT_COMMANDS, opt_wait },
	{ "timeout", ARG_REQUIRED, ALL_COMMANDS, opt_timeout },
	{ "full", ARG_NONE, CMD_BIT(CLI_CMD_STATUS), opt_full },
	{ "local", ARG_NONE, CMD_BIT(CLI_CMD_STATUS), opt_local },
	{ "quiet", ARG_NONE, CMD_BIT(CLI_CMD_STATUS), opt_quiet },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option_def *find_option(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

/* One option word at argv[*i] (it may take argv[*i + 1] as its value). */
static int parse_option(int argc, char **argv, int *i, struct cli_args *a, unsigned *seen,
                        char *err, size_t errsz)
{
	const char *arg = argv[*i];
	if (strcmp(arg, "-h") == 0)
		arg = "--help";
	if (strncmp(arg, "--", 2) != 0)
		return usage(err, errsz, "unknown option '%s'", arg);
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option_def *o = find_option(name, len);
	if (!o)
		return usage(err, errsz, "unknown option '--%.*s'", (int)len, name);
	const char *value = eq ? eq + 1 : NULL;
	if (o->arg == ARG_NONE && value)
		return usage(err, errsz, "option '--%s' takes no value", o->name);
	if (o->arg == ARG_REQUIRED && !value) {
		if (*i + 1 >= argc)
			return usage(err, errsz, "option '--%s' needs a value", o->name);
		value = argv[++*i];
	}
	*seen |= 1u << (o - options);
	return o->apply(a, value, err, errsz);
}

static enum cli_noun find_noun(const char *word)
{
	if (strcmp(word, "status") == 0)
		return CLI_NOUN_STATUS;
	if (strcmp(word, "node") == 0)
		return CLI_NOUN_NODE;
	if (strcmp(word, "property") == 0)
		return CLI_NOUN_PROPERTY;
	if (strcmp(word, "log") == 0)
		return CLI_NOUN_LOG;
	return CLI_NOUN_NONE;
}

/* The command named by the noun and the verb word (NULL when absent). */
static enum cli_command find_command(enum cli_noun noun, const char *verb)
{
	switch (noun) {
	case CLI_NOUN_STATUS:
		return CLI_CMD_STATUS;
	case CLI_NOUN_NODE:
		if (verb && strcmp(verb, "list") == 0)
			return CLI_CMD_NODE_LIST;
		return verb && strcmp(verb, "confirm-fenced") == 0 ? CLI_CMD_NODE_CONFIRM_FENCED
		                                                   : CLI_CMD_NONE;
	case CLI_NOUN_PROPERTY:
		if (!verb || strcmp(verb, "list") == 0)
			return CLI_CMD_PROPERTY_LIST;
		if (strcmp(verb, "set") == 0)
			return CLI_CMD_PROPERTY_SET;
		if (strcmp(verb, "unset") == 0)
			return CLI_CMD_PROPERTY_UNSET;
		if (strcmp(verb, "get") == 0)
			return CLI_CMD_PROPERTY_GET;
		return CLI_CMD_NONE;
	case CLI_NOUN_LOG:
		if (!verb || strcmp(verb, "list") == 0)
			return CLI_CMD_LOG_LIST;
		return strcmp(verb, "show") == 0 ? CLI_CMD_LOG_SHOW : CLI_CMD_NONE;
	case CLI_NOUN_NONE:
		break;
	}
	return CLI_CMD_NONE;
}

int cli_split_assignment(const char *arg, char *key, size_t keysz, const char **ret_value,
                         char *err, size_t errsz)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return usage(err, errsz, "'%s' is not KEY=VALUE", arg);
	size_t len = (size_t)(eq - arg);
	if (len == 0 || len >= keysz || len > BLKSPACE_PROPERTY_KEY_MAX)
		return usage(err, errsz, "invalid property name in '%s'", arg);
	memcpy(key, arg, len);
	key[len] = '\0';
	if (!blkspace_property_key_is_valid(key))
		return usage(err, errsz, "invalid property name '%s'", key);
	if (strlen(eq + 1) > BLKSPACE_PROPERTY_VALUE_MAX)
		return usage(err, errsz, "the value of '%s' is longer than %d bytes", key,
		             BLKSPACE_PROPERTY_VALUE_MAX);
	*ret_value = eq + 1;
	return 0;
}

static int check_key(const char *key, char *err, size_t errsz)
{
	if (!blkspace_property_key_is_valid(key))
		return usage(err, errsz, "invalid property name '%s'", key);
	return 0;
}

/* A node id: decimal digits only (no sign, no spaces), 1..UINT32_MAX. */
static int parse_nodeid(const char *arg, uint32_t *ret, char *err, size_t errsz)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v == 0 || v > UINT32_MAX)
		return usage(err, errsz, "'%s' is not a node id (a number from 1 to %u)", arg,
		             UINT32_MAX);
	*ret = (uint32_t)v;
	return 0;
}

/* Operands of the resolved command: count and form; a NODEID is stored. */
static int check_operands(struct cli_args *a, char *err, size_t errsz)
{
	char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
	const char *value;
	size_t n = a->n_operands;
	int rc = 0;
	switch (a->command) {
	case CLI_CMD_PROPERTY_SET:
	case CLI_CMD_PROPERTY_UNSET:
		if (n == 0)
			return usage(err, errsz, "property %s needs at least one %s",
			             a->command == CLI_CMD_PROPERTY_SET ? "set" : "unset",
			             a->command == CLI_CMD_PROPERTY_SET ? "KEY=VALUE" : "KEY");
		if (n > BLKSPACE_PROPERTY_BATCH_MAX)
			return usage(err, errsz, "at most %d properties at once", BLKSPACE_PROPERTY_BATCH_MAX);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = a->command == CLI_CMD_PROPERTY_SET
			             ? cli_split_assignment(a->operands[i], key, sizeof(key), &value, err, errsz)
			             : check_key(a->operands[i], err, errsz);
		return rc;
	case CLI_CMD_PROPERTY_GET:
		if (n != 1)
			return usage(err, errsz, "property get needs exactly one KEY");
		return check_key(a->operands[0], err, errsz);
	case CLI_CMD_NODE_CONFIRM_FENCED:
		if (n != 1)
			return usage(err, errsz, "node confirm-fenced needs exactly one NODEID");
		return parse_nodeid(a->operands[0], &a->nodeid, err, errsz);
	case CLI_CMD_LOG_SHOW:
		if (n != 1)
			return usage(err, errsz, "log show needs exactly one UUID");
		if (!a->operands[0][0] || strlen(a->operands[0]) > BLKSPACE_LOG_UUID_MAX)
			return usage(err, errsz, "a log UUID has 1 to %d bytes", BLKSPACE_LOG_UUID_MAX);
		return 0;
	default:
		if (n > 0)
			return usage(err, errsz, "unexpected argument '%s'", a->operands[0]);
		return 0;
	}
}

/* Resolve noun, verb and operands from the positional words. */
static int resolve(struct cli_args *a, char **words, size_t n, char *err, size_t errsz)
{
	if (n == 0) {
		if (a->help || a->version)
			return 0;
		return usage(err, errsz, "no command given, see 'blkspace --help'");
	}
	a->noun = find_noun(words[0]);
	if (a->noun == CLI_NOUN_NONE)
		return usage(err, errsz, "unknown command '%s', see 'blkspace --help'", words[0]);
	const char *verb = a->noun != CLI_NOUN_STATUS && n > 1 ? words[1] : NULL;
	a->command = find_command(a->noun, verb);
	if (a->help)
		return 0;
	if (a->command == CLI_CMD_NONE)
		return verb ? usage(err, errsz, "unknown command '%s %s', see 'blkspace %s --help'",
		                    words[0], verb, words[0])
		            : usage(err, errsz, "'%s' needs a command, see 'blkspace %s --help'",
		                    words[0], words[0]);
	size_t skip = verb ? 2 : 1;
	for (size_t i = skip; i < n; i++)
		a->operands[a->n_operands++] = words[i];
	return check_operands(a, err, errsz);
}

/* Options given that the command does not take. */
static int check_options(const struct cli_args *a, unsigned seen, char *err, size_t errsz)
{
	if (a->help || a->command == CLI_CMD_NONE)
		return 0;
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (seen & 1u << i && !(options[i].commands & CMD_BIT(a->command)))
			return usage(err, errsz, "option '--%s' is not supported in this command",
			             options[i].name);
	return 0;
}

int cli_args_parse(int argc, char **argv, struct cli_args *ret, char *err, size_t errsz)
{
	struct cli_args a = { .wait_s = -1, .timeout_s = -1 };
	char **words = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*words));
	a.operands = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*a.operands));
	if (!words || !a.operands) {
		free(words);
		free(a.operands);
		return usage(err, errsz, "out of memory");
	}
	size_t n = 0;
	unsigned seen = 0;
	bool options_done = false;
	int rc = 0;
	for (int i = 1; i < argc && rc == 0; i++) {
		if (!options_done && strcmp(argv[i], "--") == 0)
			options_done = true;
		else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0')
			rc = parse_option(argc, argv, &i, &a, &seen, err, errsz);
		else
			words[n++] = argv[i];
	}
	if (rc == 0)
		rc = resolve(&a, words, n, err, errsz);
	if (rc == 0)
		rc = check_options(&a, seen, err, errsz);
	free(words);
	if (rc < 0) {
		cli_args_done(&a);
		return rc;
	}
	*ret = a;
	return 0;
}

void cli_args_done(struct cli_args *a)
{
	if (!a)
		return;
	free(a->operands);
	a->operands = NULL;
	a->n_operands = 0;
}
