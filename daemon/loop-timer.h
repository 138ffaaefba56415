/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A one-shot timer on a timerfd polled by the qb loop, for short timers.
 *
 * libqb computes its poll timeout in whole milliseconds, rounded down when
 * the clock's resolution is finer than a millisecond: during the last
 * millisecond before one of its timers is due, qb_loop_run polls without
 * sleeping. For a 2 ms timer that is half its life spent spinning on a CPU
 * the cluster's other processes need. A timerfd sleeps in the kernel until
 * it is due. */
#ifndef BLKSPACE_LOOP_TIMER_H
#define BLKSPACE_LOOP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>

struct loop_timer;

int loop_timer_create(qb_loop_t *loop, enum qb_loop_priority prio, void (*fn)(void *data),
                      void *data, struct loop_timer **ret);
/* Accepts NULL. */
void loop_timer_destroy(struct loop_timer *t);
/* (Re)arm to fire once, ns from now; 0 on success or -errno. */
int loop_timer_arm(struct loop_timer *t, uint64_t ns);
void loop_timer_disarm(struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

#endif
