/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation of names shared by the client library and the daemon. ASCII
 * only, independent of the locale: replicas must agree on every answer. */
#include "config.h"

#include <blkspace/blkspace.h>

#include <stdbool.h>
#include <string.h>

static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

int blkspace_property_key_is_valid(const char *key)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > BLKSPACE_PROPERTY_KEY_MAX || !is_letter(key[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!is_letter(c) && !is_digit(c) && c != '_' && c != '.' && c != '-')
			return 0;
	}
	return 1;
}
