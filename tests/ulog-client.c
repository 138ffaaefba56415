/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ulog-client: a fake kernel for blkspaced's sim kernel link. It sends
 * dm-log-userspace requests (u32 little-endian length + the bytes the kernel
 * would send) over the unix socket and prints one line per answer:
 * "TYPE seq=S error=E data=...". With --bench it measures round trips and
 * prints "NAME ops=N seconds=S ops_per_s=R p50_us=A p99_us=B". */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ulog.h"

#define MAX_FRAME (ULOG_HEADER_BYTES + ULOG_MAX_DATA_BYTES)
#define MAX_REGIONS (ULOG_MAX_DATA_BYTES / 8)
#define RAW_WAIT_MS 1000 /* a bad frame may get no answer at all */

enum { EXIT_OK = 0, EXIT_ANSWER = 1, EXIT_USAGE = 2, EXIT_LINK = 3 };

static const char usage_text[] =
        "usage: ulog-client [--luid N] [--seq N] [--timeout MS] [--regions M] SOCKET UUID\n"
        "                   COMMAND... [--bench mark+flush|mark+flush-integrated|clear N]\n"
        "commands: ctr ARGS | ctr0 ARGS | dtr ARGS | presuspend | postsuspend | resume |\n"
        "  region_size | is_clean R | in_sync R | flush [R...] | mark R... | clear R... |\n"
        "  resync_work | set_sync R 0|1 | sync_count | status_info | status_table |\n"
        "  remote_recovering R | raw HEX\n"
        "exit: 0 every answer had error 0, 1 otherwise, 2 usage, 3 socket unreachable or closed\n";

enum arg_kind { ARG_NONE, ARG_STRING, ARG_STRING_NUL, ARG_REGION, ARG_REGIONS0, ARG_REGIONS1,
	        ARG_SYNC, ARG_HEX };

static const struct verb {
	const char *name;
	uint32_t type;
	enum arg_kind args;
} verbs[] = {
	{ "ctr", DM_ULOG_CTR, ARG_STRING },
	{ "ctr0", DM_ULOG_CTR, ARG_STRING_NUL },
	{ "dtr", DM_ULOG_DTR, ARG_STRING },
	{ "presuspend", DM_ULOG_PRESUSPEND, ARG_NONE },
	{ "postsuspend", DM_ULOG_POSTSUSPEND, ARG_NONE },
	{ "resume", DM_ULOG_RESUME, ARG_NONE },
	{ "region_size", DM_ULOG_GET_REGION_SIZE, ARG_NONE },
	{ "is_clean", DM_ULOG_IS_CLEAN, ARG_REGION },
	{ "in_sync", DM_ULOG_IN_SYNC, ARG_REGION },
	{ "flush", DM_ULOG_FLUSH, ARG_REGIONS0 },
	{ "mark", DM_ULOG_MARK_REGION, ARG_REGIONS1 },
	{ "clear", DM_ULOG_CLEAR_REGION, ARG_REGIONS1 },
	{ "resync_work", DM_ULOG_GET_RESYNC_WORK, ARG_NONE },
	{ "set_sync", DM_ULOG_SET_REGION_SYNC, ARG_SYNC },
	{ "sync_count", DM_ULOG_GET_SYNC_COUNT, ARG_NONE },
	{ "status_info", DM_ULOG_STATUS_INFO, ARG_NONE },
	{ "status_table", DM_ULOG_STATUS_TABLE, ARG_NONE },
	{ "remote_recovering", DM_ULOG_IS_REMOTE_RECOVERING, ARG_REGION },
	{ "raw", 0, ARG_HEX },
};

/* One parsed command: a request (type + payload) or raw frame bytes (which
 * may be longer than any valid frame, to test the link's limit). */
struct cmd {
	uint32_t type; /* 0: raw */
	size_t len;
	uint8_t data[MAX_FRAME + 64];
};

struct opts {
	const char *socket, *uuid;
	uint64_t luid;
	uint32_t seq;
	int timeout_ms;
	uint64_t regions; /* bench: wrap region numbers at this (0: never) */
	const char *bench;
	uint64_t bench_n;
};

struct conn {
	int fd;
	size_t len;
	uint8_t in[4 + MAX_FRAME];
};

struct answer {
	struct dm_ulog_request h;
	uint8_t data[ULOG_MAX_DATA_BYTES + 1];
};

/* ---- parsing ---- */

static bool parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	if (!s || !*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return !errno && !*end;
}

static void put_u64(struct cmd *c, uint64_t v)
{
	memcpy(c->data + c->len, &v, 8);
	c->len += 8;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool parse_hex(const char *s, struct cmd *c)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > sizeof(c->data))
		return false;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		c->data[c->len++] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Parse the arguments of one command from argv[*i]; returns false on a usage error. */
static bool parse_args(const struct verb *v, char **argv, int argc, int *i, struct cmd *c)
{
	uint64_t r, s;
	switch (v->args) {
	case ARG_NONE: return true;
	case ARG_STRING:
	case ARG_STRING_NUL: {
		if (*i >= argc)
			return false;
		size_t n = strlen(argv[*i]) + (v->args == ARG_STRING_NUL);
		if (n > ULOG_MAX_DATA_BYTES)
			return false;
		memcpy(c->data, argv[(*i)++], n);
		c->len = n;
		return true;
	}
	case ARG_REGION:
		if (*i >= argc || !parse_u64(argv[*i], &r))
			return false;
		(*i)++;
		put_u64(c, r);
		return true;
	case ARG_REGIONS0:
	case ARG_REGIONS1:
		while (*i < argc && parse_u64(argv[*i], &r) && c->len / 8 < MAX_REGIONS) {
			(*i)++;
			put_u64(c, r);
		}
		return v->args == ARG_REGIONS0 || c->len > 0;
	case ARG_SYNC:
		if (*i + 1 >= argc || !parse_u64(argv[*i], &r) || !parse_u64(argv[*i + 1], &s) || s > 1)
			return false;
		*i += 2;
		put_u64(c, r);
		put_u64(c, s);
		return true;
	case ARG_HEX: return *i < argc && parse_hex(argv[(*i)++], c);
	}
	return false;
}

static const char *const bench_names[] = { "mark+flush", "mark+flush-integrated", "clear" };
#define N_BENCH (sizeof(bench_names) / sizeof(bench_names[0]))

static bool parse_number(const char *name, const char *arg, uint64_t max, uint64_t *ret)
{
	if (parse_u64(arg, ret) && *ret <= max)
		return true;
	fprintf(stderr, "ulog-client: %s needs a number up to %" PRIu64 "\n", name, max);
	return false;
}

/* An option at argv[*i]: 1 (consumed), 0 (not an option), -1 (bad). */
static int parse_option(char **argv, int argc, int *i, struct opts *o)
{
	const char *name = argv[*i];
	if (strncmp(name, "--", 2) != 0)
		return 0;
	const char *arg = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint64_t v = 0;
	bool ok;
	if (!strcmp(name, "--luid") && (ok = parse_number(name, arg, UINT64_MAX, &v)))
		o->luid = v;
	else if (!strcmp(name, "--seq") && (ok = parse_number(name, arg, UINT32_MAX, &v)))
		o->seq = (uint32_t)v;
	else if (!strcmp(name, "--timeout") && (ok = parse_number(name, arg, 3600000, &v)))
		o->timeout_ms = (int)v;
	else if (!strcmp(name, "--regions") && (ok = parse_number(name, arg, UINT64_MAX, &v)))
		o->regions = v;
	else if (!strcmp(name, "--bench") && arg && *i + 2 < argc) {
		size_t k = 0;
		while (k < N_BENCH && strcmp(bench_names[k], arg) != 0)
			k++;
		o->bench = arg;
		ok = k < N_BENCH && parse_number(name, argv[*i + 2], 100000000, &o->bench_n) &&
		     o->bench_n > 0;
		*i += 1;
	} else {
		ok = false;
	}
	*i += 2;
	return ok ? 1 : -1;
}

/* The commands from pos[2..npos-1] into cmds. */
static bool parse_commands(char **pos, int npos, struct cmd *cmds, size_t *ret_n)
{
	size_t n = 0;
	for (int i = 2; i < npos; n++) {
		const struct verb *v = NULL;
		for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
			if (!strcmp(verbs[k].name, pos[i]))
				v = &verbs[k];
		if (!v) {
			fprintf(stderr, "ulog-client: unknown command '%s'\n", pos[i]);
			return false;
		}
		i++;
		cmds[n].type = v->type;
		cmds[n].len = 0;
		if (!parse_args(v, pos, npos, &i, &cmds[n])) {
			fprintf(stderr, "ulog-client: bad arguments for '%s'\n", v->name);
			return false;
		}
	}
	*ret_n = n;
	return true;
}

/* Options anywhere; the rest are SOCKET, UUID and the commands. */
static bool parse_command_line(int argc, char **argv, struct opts *o, struct cmd *cmds,
                               size_t *ret_n)
{
	char **pos = calloc((size_t)argc + 1, sizeof(char *));
	int npos = 0, r = 0;
	if (!pos)
		return false;
	for (int i = 1; r >= 0 && i < argc;)
		if ((r = parse_option(argv, argc, &i, o)) == 0)
			pos[npos++] = argv[i++];
	bool ok = r >= 0 && npos >= 2 && (npos > 2 || o->bench);
	if (ok) {
		o->socket = pos[0];
		o->uuid = pos[1];
		ok = strlen(o->uuid) < ULOG_UUID_LEN && parse_commands(pos, npos, cmds, ret_n);
	}
	free(pos);
	return ok;
}

/* ---- the connection ---- */

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	c->len = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int rc = -errno;
		close(c->fd);
		return rc;
	}
	return 0;
}

static int send_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(struct conn *c, const void *frame, size_t len)
{
	uint8_t prefix[4];
	le32_write(prefix, (uint32_t)len);
	int rc = send_all(c->fd, prefix, 4);
	return rc ? rc : send_all(c->fd, frame, len);
}

static int send_request(struct conn *c, const struct opts *o, uint32_t type, uint32_t seq,
                        const void *data, size_t len)
{
	uint8_t frame[MAX_FRAME];
	struct dm_ulog_request h;
	memset(&h, 0, sizeof(h));
	h.luid = o->luid;
	snprintf(h.uuid, sizeof(h.uuid), "%s", o->uuid);
	h.version = DM_ULOG_REQUEST_VERSION;
	h.seq = seq;
	h.request_type = type;
	h.data_size = (uint32_t)len;
	memcpy(frame, &h, sizeof(h));
	if (len)
		memcpy(frame + sizeof(h), data, len);
	return send_frame(c, frame, sizeof(h) + len);
}

/* The next answer: 1, 0 on timeout, -errno when the connection failed or
 * closed (-ECONNRESET) or sent a malformed frame (-EBADMSG). */
static int read_answer(struct conn *c, int timeout_ms, struct answer *a)
{
	for (;;) {
		if (c->len >= 4) {
			uint32_t len = le32_read(c->in);
			if (len < ULOG_HEADER_BYTES || len > MAX_FRAME)
				return -EBADMSG;
			if (c->len >= 4 + len) {
				memcpy(&a->h, c->in + 4, ULOG_HEADER_BYTES);
				if (a->h.data_size != len - ULOG_HEADER_BYTES)
					return -EBADMSG;
				memcpy(a->data, c->in + 4 + ULOG_HEADER_BYTES, a->h.data_size);
				a->data[a->h.data_size] = '\0';
				memmove(c->in, c->in + 4 + len, c->len - 4 - len);
				c->len -= 4 + len;
				return 1;
			}
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : 0;
		ssize_t n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		c->len += (size_t)n;
	}
}

/* ---- printing ---- */

static int64_t s64_at(const uint8_t *p)
{
	int64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void format_data(const struct answer *a, char *out, size_t outsz)
{
	uint32_t n = a->h.data_size, type = DM_ULOG_REQUEST_TYPE(a->h.request_type);
	const uint8_t *d = a->data;
	out[0] = '\0';
	if (n == 0)
		return;
	if (type == DM_ULOG_CTR || type == DM_ULOG_STATUS_INFO || type == DM_ULOG_STATUS_TABLE) {
		size_t k = 0;
		for (; k < n && d[k] && k + 1 < outsz; k++)
			out[k] = d[k] >= ' ' && d[k] < 0x7f ? (char)d[k] : '?';
		out[k] = '\0';
	} else if (n == 8 && (type == DM_ULOG_GET_REGION_SIZE || type == DM_ULOG_GET_SYNC_COUNT)) {
		snprintf(out, outsz, "%" PRIu64, (uint64_t)s64_at(d));
	} else if (n == 8 && (type == DM_ULOG_IS_CLEAN || type == DM_ULOG_IN_SYNC)) {
		snprintf(out, outsz, "%" PRId64, s64_at(d));
	} else if (n == 16 && type == DM_ULOG_GET_RESYNC_WORK) {
		snprintf(out, outsz, "work=%" PRId64 " region=%" PRIu64, s64_at(d),
		         (uint64_t)s64_at(d + 8));
	} else if (n == 16 && type == DM_ULOG_IS_REMOTE_RECOVERING) {
		snprintf(out, outsz, "recovering=%" PRId64 " hint=%" PRIu64, s64_at(d),
		         (uint64_t)s64_at(d + 8));
	} else {
		size_t k = (size_t)snprintf(out, outsz, "hex:");
		for (uint32_t i = 0; i < n && k + 3 < outsz; i++, k += 2)
			snprintf(out + k, outsz - k, "%02x", d[i]);
	}
}

static void print_answer(const struct answer *a)
{
	char data[2 * ULOG_MAX_DATA_BYTES + 8];
	format_data(a, data, sizeof(data));
	printf("%s seq=%" PRIu32 " error=%" PRId32 " data=%s\n",
	       ulog_type_name(DM_ULOG_REQUEST_TYPE(a->h.request_type)), a->h.seq, a->h.error, data);
}

/* ---- running commands ---- */

/* One request and its answer (answers to other seqs are skipped). Returns
 * 0 when answered (a->h.error tells how), 1 on timeout, or the -errno of a
 * link failure. */
static int round_trip(struct conn *c, const struct opts *o, uint32_t type, const void *data,
                      size_t len, uint32_t seq, struct answer *a)
{
	int rc = send_request(c, o, type, seq, data, len);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = read_answer(c, o->timeout_ms, a);
		if (rc <= 0)
			return rc < 0 ? rc : 1;
		if (a->h.seq == seq)
			return 0;
		fprintf(stderr, "ulog-client: answer for seq %" PRIu32 " while waiting for %" PRIu32
		                ", skipped\n", a->h.seq, seq);
	}
}

static int link_failed(int rc)
{
	fprintf(stderr, "ulog-client: connection lost: %s\n",
	        rc == -EBADMSG ? "malformed answer" : strerror(-rc));
	return EXIT_LINK;
}

/* Returns EXIT_OK, EXIT_ANSWER or EXIT_LINK. */
static int run_command(struct conn *c, struct opts *o, const struct cmd *cmd)
{
	struct answer a;
	int rc;
	if (cmd->type == 0) { /* raw: whatever answer comes, or none */
		if ((rc = send_frame(c, cmd->data, cmd->len)) == 0)
			rc = read_answer(c, RAW_WAIT_MS, &a);
		if (rc < 0)
			return link_failed(rc);
		if (rc == 0) {
			printf("raw no answer\n");
			return EXIT_ANSWER;
		}
	} else {
		uint32_t seq = o->seq++;
		rc = round_trip(c, o, cmd->type, cmd->data, cmd->len, seq, &a);
		if (rc < 0)
			return link_failed(rc);
		if (rc == 1) {
			printf("%s seq=%" PRIu32 " error=timeout data=\n", ulog_type_name(cmd->type),
			       seq);
			return EXIT_ANSWER;
		}
	}
	print_answer(&a);
	return a.h.error == 0 ? EXIT_OK : EXIT_ANSWER;
}

/* ---- benchmark ---- */

enum bench_mode { BENCH_MARK_FLUSH, BENCH_INTEGRATED, BENCH_CLEAR };

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One operation: 0 when every answer had error 0, 1 when one did not,
 * -errno on a link failure. */
static int bench_op(struct conn *c, struct opts *o, enum bench_mode mode, uint64_t region)
{
	struct answer a;
	uint32_t first = mode == BENCH_MARK_FLUSH ? DM_ULOG_MARK_REGION
	                 : mode == BENCH_CLEAR    ? DM_ULOG_CLEAR_REGION
	                                          : DM_ULOG_FLUSH;
	int rc = round_trip(c, o, first, &region, 8, o->seq++, &a);
	if (rc == 0 && a.h.error == 0 && mode != BENCH_INTEGRATED)
		rc = round_trip(c, o, DM_ULOG_FLUSH, NULL, 0, o->seq++, &a);
	return rc < 0 ? rc : rc > 0 || a.h.error != 0;
}

static int run_bench(struct conn *c, struct opts *o)
{
	enum bench_mode mode = BENCH_MARK_FLUSH; /* parse_option() checked the name */
	while (strcmp(bench_names[mode], o->bench) != 0)
		mode++;
	double *us = malloc(o->bench_n * sizeof(double));
	if (!us)
		return EXIT_LINK;
	uint64_t failed = 0;
	double t0 = now_us();
	for (uint64_t i = 0; i < o->bench_n; i++) {
		double t = now_us();
		int rc = bench_op(c, o, mode, o->regions ? i % o->regions : i);
		if (rc < 0) {
			free(us);
			return link_failed(rc);
		}
		failed += (uint64_t)rc;
		us[i] = now_us() - t;
	}
	double seconds = (now_us() - t0) / 1e6;
	size_t n = o->bench_n, p99 = n * 99 / 100 < n ? n * 99 / 100 : n - 1;
	qsort(us, n, sizeof(double), cmp_double);
	printf("%s ops=%zu seconds=%.3f ops_per_s=%.0f p50_us=%.1f p99_us=%.1f\n", o->bench, n,
	       seconds, (double)n / seconds, us[n / 2], us[p99]);
	free(us);
	if (failed)
		fprintf(stderr, "ulog-client: %" PRIu64 " operations got an error answer\n", failed);
	return failed ? EXIT_ANSWER : EXIT_OK;
}

int main(int argc, char **argv)
{
	struct opts o = { .luid = 1, .seq = 1, .timeout_ms = 30000 };
	struct cmd *cmds = calloc((size_t)argc, sizeof(*cmds));
	size_t n = 0;
	if (!cmds || !parse_command_line(argc, argv, &o, cmds, &n)) {
		fputs(usage_text, stderr);
		free(cmds);
		return EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct conn *c = malloc(sizeof(*c));
	int rc = c ? conn_open(c, o.socket) : -ENOMEM;
	if (rc < 0) {
		fprintf(stderr, "ulog-client: cannot connect to %s: %s\n", o.socket, strerror(-rc));
		free(c);
		free(cmds);
		return EXIT_LINK;
	}
	int status = EXIT_OK;
	for (size_t i = 0; i < n && status != EXIT_LINK; i++) {
		int r = run_command(c, &o, &cmds[i]);
		status = r > status ? r : status;
	}
	if (o.bench && status != EXIT_LINK) {
		int r = run_bench(c, &o);
		status = r > status ? r : status;
	}
	close(c->fd);
	free(c);
	free(cmds);
	return status;
}
