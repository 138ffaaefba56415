/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace property list|get|set|unset. The operands were checked by the
 * parser; set and unset send the whole batch in one call, so it applies
 * all or nothing. --wait turns "no quorum" into waiting for it. */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

int cli_property_list(const struct cli_args *a)
{
	struct blkspace *conn = NULL;
	char *text = NULL;
	struct json_object *doc = NULL;
	int rc = cli_connect(a, 0, &conn);
	if (rc == 0)
		rc = blkspace_property_list_json(conn, &text);
	blkspace_disconnect(conn);
	if (rc == 0)
		rc = cli_json_parse(text, &doc);
	free(text);
	if (rc < 0)
		return cli_fail("cannot list the properties", rc);
	if (a->format == CLI_FORMAT_JSON) {
		cli_json_print(doc);
	} else {
		struct json_object *props = cli_json_get(doc, "properties");
		if (props && json_object_is_type(props, json_type_object)) {
			json_object_object_foreach(props, key, value)
				printf("%s=%s\n", key, json_object_get_string(value));
		}
	}
	json_object_put(doc);
	return CLI_EXIT_OK;
}

static int print_value_json(const char *key, const char *value)
{
	return cli_json_print_pair("key", json_object_new_string(key), "value",
	                           json_object_new_string(value));
}

int cli_property_get(const struct cli_args *a)
{
	const char *key = a->operands[0];
	struct blkspace *conn = NULL;
	char *value = NULL;
	int rc = cli_connect(a, 0, &conn);
	if (rc == 0)
		rc = blkspace_property_get(conn, key, &value);
	blkspace_disconnect(conn);
	if (rc == BLKSPACE_E_NOTFOUND) {
		cli_error("property '%s' is not set", key);
		return CLI_EXIT_ERROR;
	}
	if (rc == 0 && a->format == CLI_FORMAT_JSON)
		rc = print_value_json(key, value);
	else if (rc == 0)
		printf("%s\n", value);
	free(value);
	return rc < 0 ? cli_fail("cannot read the property", rc) : CLI_EXIT_OK;
}

/* Flags and call timeout of a change: --wait=N waits for quorum and, unless
 * --timeout says otherwise, bounds the call by N seconds. */
static unsigned change_flags(const struct cli_args *a, int *ret_timeout_ms)
{
	*ret_timeout_ms = a->wait_s > 0 ? a->wait_s * 1000 : 0;
	return a->wait_s > 0 ? BLKSPACE_WAIT_QUORUM : 0;
}

int cli_property_set(const struct cli_args *a)
{
	size_t n = a->n_operands;
	if (n > BLKSPACE_PROPERTY_BATCH_MAX)
		return cli_fail("cannot set the properties", -E2BIG);
	const char *keys[BLKSPACE_PROPERTY_BATCH_MAX];
	const char *values[BLKSPACE_PROPERTY_BATCH_MAX];
	char names[BLKSPACE_PROPERTY_BATCH_MAX][BLKSPACE_PROPERTY_KEY_MAX + 1];
	char err[256];
	for (size_t i = 0; i < n; i++) {
		if (cli_split_assignment(a->operands[i], names[i], sizeof(names[i]), &values[i], err,
		                         sizeof(err)) < 0) {
			cli_error("%s", err);
			return CLI_EXIT_USAGE;
		}
		keys[i] = names[i];
	}
	int timeout_ms;
	unsigned flags = change_flags(a, &timeout_ms);
	struct blkspace *conn = NULL;
	int rc = cli_connect(a, timeout_ms, &conn);
	if (rc == 0)
		rc = blkspace_property_set(conn, keys, values, n, flags);
	blkspace_disconnect(conn);
	return rc < 0 ? cli_fail("cannot set the properties", rc) : CLI_EXIT_OK;
}

int cli_property_unset(const struct cli_args *a)
{
	int timeout_ms;
	unsigned flags = change_flags(a, &timeout_ms);
	struct blkspace *conn = NULL;
	int rc = cli_connect(a, timeout_ms, &conn);
	if (rc == 0)
		rc = blkspace_property_unset(conn, (const char *const *)a->operands, a->n_operands,
		                             flags);
	blkspace_disconnect(conn);
	return rc < 0 ? cli_fail("cannot unset the properties", rc) : CLI_EXIT_OK;
}
