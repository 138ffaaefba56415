/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the blkspace CLI prints besides command results: "Error:" lines,
 * help and version, the exit code of a libblkspace return code, and the
 * JSON helpers the commands share. */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("Error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return CLI_EXIT_OK;
	case BLKSPACE_E_UNREACHABLE:
	case BLKSPACE_E_DISCONNECTED:
		return CLI_EXIT_UNREACHABLE;
	case BLKSPACE_E_NOQUORUM:
		return CLI_EXIT_NOQUORUM;
	case BLKSPACE_E_TIMEOUT:
	case -ETIMEDOUT:
		return CLI_EXIT_TIMEOUT;
	default:
		return CLI_EXIT_ERROR;
	}
}

int cli_fail(const char *what, int err)
{
	cli_error("%s: %s", what, blkspace_strerror(err));
	return cli_exit_code(err);
}

static const char usage_main[] =
        "Usage: blkspace [options] <command> [arguments]\n"
        "Administer the blkspace cluster daemon (blkspaced) of this node.\n"
        "\n"
        "Commands:\n"
        "    status [--full] [--local] [--quiet]   status of this node and the cluster\n"
        "    node list                             configured and member nodes\n"
        "    node confirm-fenced NODEID            confirm that a node is off or fenced\n"
        "    property [list]                       all cluster properties\n"
        "    property get KEY                      the value of one property\n"
        "    property set KEY=VALUE...             set properties (atomically)\n"
        "    property unset KEY...                 remove properties (atomically)\n"
        "    log [list]                            mirror logs served on this node\n"
        "    log show UUID                         one mirror log in detail\n"
        "\n"
        "Options (anywhere on the line):\n"
        "    --output-format=text|json   output for humans (default) or programs\n"
        "    --wait[=SECONDS]            status: poll until ready and primary;\n"
        "                                set/unset: wait for quorum (default 60 s)\n"
        "    --timeout=SECONDS           limit of each call to the daemon (default 30, 0 none)\n"
        "    -h, --help                  this help; 'blkspace <command> --help' for one command\n"
        "    --version                   print the version\n"
        "\n"
        "Exit codes: 0 ok, 1 error, 2 false (not primary / not quorate), 64 usage,\n"
        "69 daemon unreachable, 106 no quorum, 124 timeout. See blkspace(8).\n";

static const char usage_status[] =
        "Usage: blkspace status [--full] [--local] [--quiet] [--wait[=SECONDS]]\n"
        "Show the status of this node and the cluster.\n"
        "\n"
        "    --full             add control domain members and the node table\n"
        "    --local            only what this node knows (cheap health query)\n"
        "    --quiet            print nothing; the exit code tells:\n"
        "                       0 ready and primary, 2 ready but not primary, 1 not ready\n"
        "    --wait[=SECONDS]   poll until the node is ready, quorate and primary\n"
        "                       (default 60 s); exit 124 when it does not happen in time\n";

static const char usage_node[] =
        "Usage: blkspace node list\n"
        "       blkspace node confirm-fenced NODEID\n"
        "list: the configured nodes and the members of the cluster: id, name, whether\n"
        "configured, online (cluster engine member), member (of the blkspace control\n"
        "domain) and the daemon incarnation.\n"
        "confirm-fenced: confirm that node NODEID is powered off or fenced. The mirror\n"
        "logs that keep the regions it had marked until it is fenced then resync them,\n"
        "and a log whose nodes here lack a majority without it may go on (each of its\n"
        "nodes must know it). Use it only when you know the node is off: normally\n"
        "blkspaced learns it from Pacemaker's fencer (fencing = pacemaker in\n"
        "blkspaced.conf).\n";

static const char usage_property[] =
        "Usage: blkspace property [list]\n"
        "       blkspace property get KEY\n"
        "       blkspace property set KEY=VALUE... [--wait[=SECONDS]]\n"
        "       blkspace property unset KEY... [--wait[=SECONDS]]\n"
        "Cluster properties replicated on every node. A set or unset of several\n"
        "properties applies all or none and returns once a majority holds it.\n"
        "KEY: a letter, then letters, digits, '_', '.', '-' (at most 128 bytes);\n"
        "VALUE: at most 1024 bytes. At most 64 properties per command.\n"
        "\n"
        "    --wait[=SECONDS]   when the partition is not quorate, wait for quorum up to\n"
        "                       SECONDS (default 60) instead of failing with exit 106\n";

static const char usage_log[] =
        "Usage: blkspace log [list]\n"
        "       blkspace log show UUID\n"
        "The dirty-region logs of device-mapper mirrors that the kernel of this node\n"
        "asked blkspaced to serve (dm-log-userspace, clustered-core or clustered-disk).\n"
        "list prints one line per log: uuid, type, regions, in sync, dirty (not clean),\n"
        "writer and members of its log domain; show adds the region size, the log\n"
        "device, the nodes that resumed the log, the quorum set (the log's next\n"
        "configuration must hold a majority of it, or half of it with its lowest node),\n"
        "the region being resynced and the departed nodes whose marked regions wait for\n"
        "their fencing.\n";

void cli_print_help(enum cli_noun noun)
{
	switch (noun) {
	case CLI_NOUN_STATUS:
		fputs(usage_status, stdout);
		break;
	case CLI_NOUN_NODE:
		fputs(usage_node, stdout);
		break;
	case CLI_NOUN_PROPERTY:
		fputs(usage_property, stdout);
		break;
	case CLI_NOUN_LOG:
		fputs(usage_log, stdout);
		break;
	case CLI_NOUN_NONE:
		fputs(usage_main, stdout);
		break;
	}
}

void cli_print_version(void) { printf("blkspace %s\n", PACKAGE_VERSION); }

int cli_json_parse(const char *text, struct json_object **ret_doc)
{
	enum json_tokener_error jerr;
	struct json_object *doc = json_tokener_parse_verbose(text, &jerr);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		return BLKSPACE_E_PROTOCOL;
	}
	*ret_doc = doc;
	return 0;
}

void cli_json_print(struct json_object *doc)
{
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

int cli_json_print_pair(const char *k1, struct json_object *v1, const char *k2,
                        struct json_object *v2)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *api = json_object_new_int(BLKSPACE_API_VERSION);
	int rc = doc && api && v1 && v2 ? 0 : -ENOMEM;
	if (rc == 0) {
		/* Adding a new key to an object fails only without memory. */
		json_object_object_add(doc, "api_version", api);
		json_object_object_add(doc, k1, v1);
		json_object_object_add(doc, k2, v2);
		cli_json_print(doc);
	} else {
		json_object_put(api);
		json_object_put(v1);
		json_object_put(v2);
	}
	json_object_put(doc);
	return rc;
}

bool cli_json_bool(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

uint64_t cli_json_u64(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

const char *cli_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s = json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
	return s ? s : "";
}

struct json_object *cli_json_get(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}
