/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One-shot timers on a timerfd (see loop-timer.h for why). */
#include "config.h"

#include "loop-timer.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct loop_timer {
	qb_loop_t *loop;
	int fd;
	bool armed;
	void (*fn)(void *data);
	void *data;
};

static int32_t on_fd(int32_t fd, int32_t revents, void *data)
{
	struct loop_timer *t = data;
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations) || !t->armed)
		return 0; /* disarmed after it fired, before we got here */
	t->armed = false;
	t->fn(t->data);
	return 0;
}

int loop_timer_create(qb_loop_t *loop, enum qb_loop_priority prio, void (*fn)(void *data),
                      void *data, struct loop_timer **ret)
{
	struct loop_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->fn = fn;
	t->data = data;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int rc = t->fd < 0 ? -errno : qb_loop_poll_add(loop, prio, t->fd, POLLIN, t, on_fd);
	if (rc < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

void loop_timer_destroy(struct loop_timer *t)
{
	if (!t)
		return;
	qb_loop_poll_del(t->loop, t->fd);
	close(t->fd);
	free(t);
}

static int set_time(struct loop_timer *t, uint64_t ns)
{
	struct itimerspec its = { .it_value = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) } };
	return timerfd_settime(t->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_timer_arm(struct loop_timer *t, uint64_t ns)
{
	int rc = set_time(t, ns ? ns : 1);
	t->armed = rc == 0;
	return rc;
}

void loop_timer_disarm(struct loop_timer *t)
{
	if (t->armed)
		set_time(t, 0);
	t->armed = false;
}

bool loop_timer_armed(const struct loop_timer *t) { return t->armed; }
