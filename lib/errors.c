/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Messages and names of blkspace return codes. */
#include "config.h"

#include <blkspace/errors.h>

#include <string.h>

const char *blkspace_strerror(int err)
{
	switch (err) {
#define BLKSPACE_ERROR_MSG(name, num, msg) \
	case -(num): return msg;
		BLKSPACE_ERROR_LIST(BLKSPACE_ERROR_MSG)
#undef BLKSPACE_ERROR_MSG
	case 0:
		return "success";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

const char *blkspace_errname(int err)
{
	switch (err) {
#define BLKSPACE_ERROR_NAME(name, num, msg) \
	case -(num): return #name;
		BLKSPACE_ERROR_LIST(BLKSPACE_ERROR_NAME)
#undef BLKSPACE_ERROR_NAME
	case 0:
		return "OK";
	default: {
		const char *n = strerrorname_np(err < 0 ? -err : err);
		return n ? n : "EUNKNOWN";
	}
	}
}
