/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small seeded pseudo-random generator (splitmix64) for the simulator and
 * tests: the same seed gives the same sequence on every machine. Never used
 * by the daemon's decisions. */
#ifndef BLKSPACE_PRNG_H
#define BLKSPACE_PRNG_H

#include <stdint.h>

static inline uint64_t prng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t prng_below(uint64_t *state, uint64_t n) { return prng_next(state) % n; }

/* True with probability percent/100. */
static inline int prng_chance(uint64_t *state, unsigned percent)
{
	return prng_below(state, 100) < percent;
}

#endif
