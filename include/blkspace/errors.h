/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* blkspace error codes.
 *
 * Every call returns 0 (or a count) on success and a negative number on
 * failure: either -errno, or one of the BLKSPACE_E_* codes below, which all
 * lie below -1000 so they never collide with errno values. One X-macro list
 * feeds both the enum and blkspace_strerror(). */
#ifndef BLKSPACE_ERRORS_H
#define BLKSPACE_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, number, message); numbers are part of the ABI and never reused */
#define BLKSPACE_ERROR_LIST(X)                                                         \
	X(NOQUORUM, 1001, "the cluster partition is not quorate")                        \
	X(NOTREADY, 1002, "the daemon has not joined the cluster yet")                   \
	X(PROTOCOL, 1003, "malformed message")                                           \
	X(VERSION, 1004, "unsupported protocol version")                                 \
	X(NOTFOUND, 1005, "no such object")                                              \
	X(STOPPING, 1006, "the daemon is stopping")                                      \
	X(DISCONNECTED, 1007, "the connection to the daemon was lost")                   \
	X(UNREACHABLE, 1008, "the daemon is not running or refused the connection")      \
	X(INVALID, 1009, "invalid argument")                                             \
	X(TIMEOUT, 1010, "timed out")                                                    \
	X(BUSY, 1011, "resource busy")                                                   \
	X(CORRUPT, 1012, "stored data failed its checksum")

enum blkspace_error {
#define BLKSPACE_ERROR_ENUM(name, num, msg) BLKSPACE_E_##name = -(num),
	BLKSPACE_ERROR_LIST(BLKSPACE_ERROR_ENUM)
#undef BLKSPACE_ERROR_ENUM
};

/* Message for a return code: BLKSPACE_E_* or -errno (or errno). Never NULL. */
const char *blkspace_strerror(int err);

/* Short symbolic name ("NOQUORUM", "ENOENT"); never NULL. */
const char *blkspace_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
