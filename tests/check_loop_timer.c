/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the timerfd timers in the qb loop (daemon/loop-timer.c):
 * one fires once, a disarmed one never, re-arming moves it. Nothing here
 * asserts a duration; each loop run ends on a qb timer at the latest. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include <qb/qbutil.h>

#include "check-util.h"
#include "loop-timer.h"

struct fired {
	qb_loop_t *loop;
	unsigned count;
	bool stop;
};

static void on_fire(void *data)
{
	struct fired *f = data;
	f->count++;
	if (f->stop)
		qb_loop_stop(f->loop);
}

static void on_deadline(void *data) { qb_loop_stop(data); }

/* Run the loop until something stops it, at most ms milliseconds. */
static void run_for(qb_loop_t *loop, unsigned ms)
{
	qb_loop_timer_handle h;
	ck_assert_int_eq(qb_loop_timer_add(loop, QB_LOOP_LOW, ms * QB_TIME_NS_IN_MSEC, loop, on_deadline,
	                                   &h), 0);
	qb_loop_run(loop);
	if (qb_loop_timer_is_running(loop, h))
		qb_loop_timer_del(loop, h);
}

START_TEST(test_loop_timer_fires_once)
{
	qb_loop_t *loop = qb_loop_create();
	struct fired f = { loop, 0, true };
	struct loop_timer *t;
	ck_assert_int_eq(loop_timer_create(loop, QB_LOOP_HIGH, on_fire, &f, &t), 0);
	ck_assert(!loop_timer_armed(t));
	ck_assert_int_eq(loop_timer_arm(t, 2 * QB_TIME_NS_IN_MSEC), 0);
	ck_assert(loop_timer_armed(t));
	run_for(loop, 5000);
	ck_assert_uint_eq(f.count, 1);
	ck_assert(!loop_timer_armed(t));
	f.stop = false;
	run_for(loop, 50); /* one-shot: nothing more */
	ck_assert_uint_eq(f.count, 1);
	loop_timer_destroy(t);
	qb_loop_destroy(loop);
}
END_TEST

START_TEST(test_loop_timer_disarmed_never_fires)
{
	qb_loop_t *loop = qb_loop_create();
	struct fired f = { loop, 0, false };
	struct loop_timer *t;
	ck_assert_int_eq(loop_timer_create(loop, QB_LOOP_HIGH, on_fire, &f, &t), 0);
	ck_assert_int_eq(loop_timer_arm(t, 1 * QB_TIME_NS_IN_MSEC), 0);
	loop_timer_disarm(t);
	ck_assert(!loop_timer_armed(t));
	run_for(loop, 50);
	ck_assert_uint_eq(f.count, 0);
	loop_timer_destroy(t);
	loop_timer_destroy(NULL);
	qb_loop_destroy(loop);
}
END_TEST

START_TEST(test_loop_timer_rearm_fires_once)
{
	qb_loop_t *loop = qb_loop_create();
	struct fired f = { loop, 0, false };
	struct loop_timer *t;
	ck_assert_int_eq(loop_timer_create(loop, QB_LOOP_HIGH, on_fire, &f, &t), 0);
	ck_assert_int_eq(loop_timer_arm(t, 1 * QB_TIME_NS_IN_MSEC), 0);
	ck_assert_int_eq(loop_timer_arm(t, 3 * QB_TIME_NS_IN_MSEC), 0);
	run_for(loop, 100);
	ck_assert_uint_eq(f.count, 1);
	loop_timer_destroy(t);
	qb_loop_destroy(loop);
}
END_TEST

static Suite *loop_timer_suite(void)
{
	Suite *s = suite_create("loop_timer");
	TCase *tc = tcase_create("loop_timer");
	tcase_add_test(tc, test_loop_timer_fires_once);
	tcase_add_test(tc, test_loop_timer_disarmed_never_fires);
	tcase_add_test(tc, test_loop_timer_rearm_fires_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(loop_timer_suite());
}
