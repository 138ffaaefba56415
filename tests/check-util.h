/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every unit test program of check does the same way: a test in a
 * case of its own (so CK_RUN_CASE picks it), and the run. */
#ifndef BLKSPACE_TESTS_CHECK_UTIL_H
#define BLKSPACE_TESTS_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>

/* test as the case name, with a checked fixture (either may be NULL) and a
 * time limit in seconds. */
static inline void check_add_case(Suite *s, const char *name, const TTest *test, SFun setup,
                                  SFun teardown, int timeout_s)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout_s);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

/* Runs every case of s; the exit status for make check. */
static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
