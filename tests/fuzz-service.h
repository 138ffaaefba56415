/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Service operations and saved states from peers under fuzzing, for
 * tests/check_fuzz (tests/fuzz-service.c). */
#ifndef BLKSPACE_TESTS_FUZZ_SERVICE_H
#define BLKSPACE_TESTS_FUZZ_SERVICE_H

#include "fuzz-group.h"

/* Fuzz one kind of domain's service for iterations (test names the case):
 * mutated operations from peers applied to recorded states are
 * deterministic, bounded and leave a refused state untouched; mutated saved
 * states load to NULL or to a state that saves, loads back the same and
 * takes operations like any other. */
void fuzz_service(enum kind kind, const char *test, unsigned iterations);

#endif
