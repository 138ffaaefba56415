/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain engine under fuzzing, for tests/check_fuzz (tests/fuzz-engine.c):
 * a normal exchange (tests/fuzz-group.h) with messages slipped in before
 * random deliveries, and a node restarted from a damaged store. */
#ifndef BLKSPACE_TESTS_FUZZ_ENGINE_H
#define BLKSPACE_TESTS_FUZZ_ENGINE_H

#include "fuzz-group.h"

/* Fuzz one kind of domain engine for iterations (test names the case). What
 * is asserted depends on what was slipped in, since the engine trusts a
 * well-formed message from a member (CPG authenticates the sender and
 * crashes are the fault model, not lies):
 *  - malformed messages (the header or the payload does not decode): they
 *    are dropped whole, so every node sends exactly what it sent in the
 *    same exchange without them, and ends in the same state;
 *  - earlier messages of the exchange, delivered again to every member in
 *    the agreed order (late duplicates): after an honest configuration
 *    change the group converges and answers the target's request;
 *  - any mutant, well-formed or not, to every member or to the target
 *    alone: nothing crashes or leaks, the group quiesces, and every node's
 *    status and service state stay consistent. */
void fuzz_engine(enum kind kind, const char *test, unsigned iterations);

/* A control domain store as written restores the node's state exactly.
 * Damaged, it is refused, or the node starts with a consistent state that
 * it can hand on: joined by two fresh nodes, the group converges and
 * answers its request (with success when nothing was damaged). */
void fuzz_restore(const char *test, unsigned iterations);

#endif
