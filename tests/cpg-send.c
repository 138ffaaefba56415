/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpg-send: multicast hostile messages into a CPG group, for the lab tests
 * of bad peer input.
 *   cpg-send GROUP random N          N random bytes
 *   cpg-send GROUP header TYPE N     a valid blkspace header of TYPE for the
 *                                    domain GROUP followed by N random bytes
 * Exits 0 once the message was delivered back to us (so it reached the ring). */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "codec.h"
#include "wire.h"

static int delivered;

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
                       void *msg, size_t len)
{
	if (pid == (uint32_t)getpid())
		delivered = 1;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m,
                       size_t nm, const struct cpg_address *l, size_t nl,
                       const struct cpg_address *j, size_t nj)
{
}

static void fill_random(struct wbuf *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wbuf_put_u8(w, (uint8_t)rand());
}

int main(int argc, char **argv)
{
	if (argc < 4 || strlen(argv[1]) >= CPG_MAX_NAME_LENGTH) {
		fprintf(stderr, "usage: cpg-send GROUP random N | cpg-send GROUP header TYPE N\n");
		return 64;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	struct wbuf w;
	wbuf_init(&w);
	if (strcmp(argv[2], "random") == 0) {
		fill_random(&w, strtoul(argv[3], NULL, 10));
	} else if (strcmp(argv[2], "header") == 0 && argc == 5) {
		cpg_handle_t tmp;
		cpg_callbacks_t none = { 0 };
		unsigned int nodeid = 0;
		if (cpg_initialize(&tmp, &none) == CS_OK) {
			cpg_local_get(tmp, &nodeid);
			cpg_finalize(tmp);
		}
		struct wire_header h = { .version = WIRE_PROTO_MAX, .type = (uint16_t)atoi(argv[3]),
			                 .domain = wire_domain_id(argv[1]), .origin = nodeid,
			                 .incarnation = 1, .request_id = 1 };
		wire_begin(&w, &h);
		fill_random(&w, strtoul(argv[4], NULL, 10));
		wire_finish(&w);
	} else {
		fprintf(stderr, "cpg-send: unknown mode '%s'\n", argv[2]);
		return 64;
	}
	cpg_model_v1_data_t model = { .model = CPG_MODEL_V1, .cpg_deliver_fn = on_deliver,
		                      .cpg_confchg_fn = on_confchg };
	cpg_handle_t h;
	struct cpg_name group = { .length = (uint32_t)strlen(argv[1]) };
	memcpy(group.value, argv[1], group.length);
	int fd;
	if (cpg_model_initialize(&h, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL) != CS_OK ||
	    cpg_fd_get(h, &fd) != CS_OK || cpg_join(h, &group) != CS_OK) {
		fprintf(stderr, "cpg-send: cannot join %s\n", argv[1]);
		return 1;
	}
	struct iovec iov = { w.data, w.len };
	cs_error_t e;
	while ((e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN)
		cpg_dispatch(h, CS_DISPATCH_ALL);
	for (int i = 0; e == CS_OK && !delivered && i < 50; i++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (poll(&pfd, 1, 100) > 0)
			cpg_dispatch(h, CS_DISPATCH_ALL);
	}
	cpg_leave(h, &group);
	cpg_finalize(h);
	wbuf_done(&w);
	return delivered ? 0 : 1;
}
