/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See mlog-script.h. */
#include "config.h"

#include "mlog-script.h"

#include <check.h>
#include <stdlib.h>

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fence-watch.h"
#include "mlog-disk.h"
#include "node.h"



struct sim sim;
static uint32_t next_seq;

static struct script *script(void) { return sim.wl; }

static void *wl_create(struct sim *s) { return calloc(1, sizeof(struct script)); }
static void wl_destroy(void *w) { free(w); }
static void wl_submit(void *w, struct sim_node *sn) {}
static void wl_on_reply(void *w, uint64_t token, int result) {}
static void wl_on_node_down(void *w, uint32_t node) {}
static void wl_on_tick(void *w, uint64_t now_ms) {}
static int wl_check(void *w) { return 0; }
static void wl_count(void *w, uint64_t *a, uint64_t *r, uint64_t *ab) {}

static void wl_on_kernel_reply(void *w, uint32_t node, const struct ulog_origin *to, int error,
                               const void *data, size_t len)
{
	struct answer *a = &((struct script *)w)->answers[to->seq % MAX_ANSWERS];
	ck_assert_msg(!a->got, "seq %u answered twice", to->seq);
	ck_assert_uint_le(len, sizeof(a->data));
	a->got = true;
	a->error = error;
	a->len = len;
	if (len)
		memcpy(a->data, data, len);
}

static const struct workload_ops script_workload = {
	.name = "script",
	.create = wl_create,
	.destroy = wl_destroy,
	.submit = wl_submit,
	.on_reply = wl_on_reply,
	.on_kernel_reply = wl_on_kernel_reply,
	.on_node_down = wl_on_node_down,
	.on_tick = wl_on_tick,
	.check = wl_check,
	.check_final = wl_check,
	.count = wl_count,
};

void mlog_script_setup(void)
{
	memset(&sim, 0, sizeof(sim));
	/* MLOG_SCRIPT_VERBOSE=1: the daemons' messages and the faults to stderr */
	sim.verbose = getenv("MLOG_SCRIPT_VERBOSE") != NULL;
	if (sim.verbose)
		sim_setup_logging("mlog-script", true);
	sim.seed = 7;
	sim.n_nodes = 3;
	sim.workload = &script_workload;
	sim_setup(&sim);
	next_seq = 1;
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
}

void mlog_script_teardown(void) { sim_teardown(&sim); }

/* Send a request from node's kernel without waiting; returns its seq. */
uint32_t send_to(uint32_t node, const char *uuid, uint32_t type, const void *data,
                        size_t len)
{
	struct ulog_request rq = { .luid = 100 + node, .version = 3, .seq = next_seq++,
		                   .raw_type = type, .type = type, .data_size = (uint32_t)len,
		                   .data = data };
	snprintf(rq.uuid, sizeof(rq.uuid), "%s", uuid);
	struct ulog_origin from;
	ulog_origin_from(&from, &rq, node);
	script()->answers[rq.seq % MAX_ANSWERS] = (struct answer){ 0 };
	node_kernel_request(sim.nodes[node].node, &rq, &from);
	return rq.seq;
}

bool answered(uint32_t seq)
{
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	return script()->answers[seq % MAX_ANSWERS].got;
}

const struct answer *answer_of(uint32_t seq)
{
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
	const struct answer *a = &script()->answers[seq % MAX_ANSWERS];
	ck_assert_msg(a->got, "request seq %u was never answered", seq);
	return a;
}

/* Send, deliver until quiet, return the answer. */
const struct answer *ask(uint32_t node, uint32_t type, const void *data, size_t len)
{
	return answer_of(send_to(node, LOG_UUID, type, data, len));
}

int ask_error(uint32_t node, uint32_t type, const void *data, size_t len)
{
	return ask(node, type, data, len)->error;
}

int64_t ask_word(uint32_t node, uint32_t type, const void *data, size_t len, size_t i)
{
	const struct answer *a = ask(node, type, data, len);
	ck_assert_int_eq(a->error, 0);
	ck_assert_uint_ge(a->len, (i + 1) * 8);
	int64_t v;
	memcpy(&v, a->data + i * 8, 8);
	return v;
}

int64_t ask_region(uint32_t node, uint32_t type, uint64_t region)
{
	return ask_word(node, type, &region, sizeof(region), 0);
}

void construct(uint32_t node, const char *ctr, bool with_nul)
{
	const struct answer *a = ask(node, DM_ULOG_CTR, ctr, strlen(ctr) + with_nul);
	ck_assert_int_eq(a->error, 0);
}

/* Constructor and resume on nodes 1..n, the resumes sent together. */
void activate(unsigned n, const char *ctr)
{
	uint32_t seqs[SIMNET_MAX_NODES + 1];
	for (uint32_t i = 1; i <= n; i++)
		construct(i, ctr, i != 1);
	for (uint32_t i = 1; i <= n; i++)
		seqs[i] = send_to(i, LOG_UUID, DM_ULOG_RESUME, NULL, 0);
	for (uint32_t i = 1; i <= n; i++)
		ck_assert_int_eq(answer_of(seqs[i])->error, 0);
}

/* Hand out resync work from node until there is none; returns the count. */
unsigned resync_all(uint32_t node)
{
	unsigned done = 0;
	for (;;) {
		const struct answer *a = ask(node, DM_ULOG_GET_RESYNC_WORK, NULL, 0);
		int64_t w[2];
		ck_assert_int_eq(a->error, 0);
		ck_assert_uint_eq(a->len, sizeof(w));
		memcpy(w, a->data, sizeof(w));
		if (!w[0])
			return done;
		uint64_t set[2] = { (uint64_t)w[1], 1 };
		ck_assert_int_eq(ask_error(node, DM_ULOG_SET_REGION_SYNC, set, sizeof(set)), 0);
		done++;
	}
}

/* The clean bit of region r in the disk log (-1: no valid log on disk). */
int disk_clean(uint64_t r)
{
	size_t len;
	uint8_t clean[(REGIONS + 7) / 8];
	const uint8_t *bytes =
	        mlog_mem_device_bytes(mlog_mem_shelf_device(sim.shelf, LOG_DEV), &len);
	if (!bytes || mlog_disk_decode(bytes, len, REGIONS, clean) < 0)
		return -1;
	return clean[r / 8] >> (r % 8) & 1;
}

bool resync_needs_resume(uint32_t node)
{
	struct node_log_info info;
	ck_assert_int_eq(node_log_find(sim.nodes[node].node, LOG_UUID, &info), 0);
	return info.resync_needs_resume;
}

void mark(uint32_t node, uint64_t region)
{
	ck_assert_int_eq(ask_error(node, DM_ULOG_MARK_REGION, &region, 8), 0);
}

/* The regions node sees waiting for the fencing of nodeid. */
uint64_t waiting_for_fencing(uint32_t node, uint32_t nodeid)
{
	struct node_log_info info;
	ck_assert_int_eq(node_log_find(sim.nodes[node].node, LOG_UUID, &info), 0);
	for (size_t i = 0; i < info.n_fencing; i++)
		if (info.fencing[i].nodeid == nodeid)
			return info.fencing[i].regions;
	return 0;
}

/* The cluster's fencer reports node fenced to node 1, the writer. */
void confirm_fenced(uint32_t nodeid)
{
	ck_assert_int_eq(node_fence_confirmed(sim.nodes[1].node, nodeid), 1);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
}

void clear_and_flush(uint32_t node, uint64_t region)
{
	ck_assert_int_eq(ask_error(node, DM_ULOG_CLEAR_REGION, &region, 8), 0);
	ck_assert_int_eq(ask_error(node, DM_ULOG_FLUSH, NULL, 0), 0);
}

void fake_helper_create(struct fake_helper *h, int rc)
{
	strcpy(h->dir, "/tmp/check_mlog_resume.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/helper", h->dir);
	snprintf(h->out, sizeof(h->out), "%s/out", h->dir);
	FILE *f = fopen(h->path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$1\" >> %s\nexit %d\n", h->out, rc);
	fclose(f);
	ck_assert_int_eq(chmod(h->path, 0755), 0);
}

void fake_helper_remove(const struct fake_helper *h)
{
	unlink(h->out);
	unlink(h->path);
	rmdir(h->dir);
}

struct fence_watch *fence_watch_on(uint32_t node, enum fencing_mode mode,
                                           const char *helper)
{
	struct fence_watch *f;
	struct fence_watch_params p = { .node = sim.nodes[node].node, .mode = mode, .helper = helper };
	ck_assert_int_eq(fence_watch_create(&p, &f), 0);
	return f;
}

/* One query of the fencing helper, waited for and reaped. */
void query_once(struct fence_watch *f)
{
	unsigned before = fence_watch_queries(f);
	for (int k = 0; k < FENCE_RETRY_POLLS && fence_watch_queries(f) == before; k++)
		fence_watch_poll(f);
	ck_assert_uint_eq(fence_watch_queries(f), before + 1);
	siginfo_t info;
	ck_assert_int_eq(waitid(P_ALL, 0, &info, WEXITED | WNOWAIT), 0);
	fence_watch_poll(f);
	ck_assert(sim_settle_all(&sim, SETTLE_STEPS));
}
