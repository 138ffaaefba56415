/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mirror log service: lifecycle, the encoding used for state transfer and
 * digests, and the quorum rule (a majority of the registered nodes). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mlog-internal.h"

#define MLOG_STATE_VERSION 4

void *mlog_create(void) { return calloc(1, sizeof(struct mlog_state)); }

void mlog_destroy(void *state)
{
	struct mlog_state *s = state;
	if (!s)
		return;
	free(s->sync);
	free(s->marks);
	free(s->priority);
	free(s);
}

int mlog_save(const void *state, struct wbuf *out)
{
	const struct mlog_state *s = state;
	wbuf_put_u16(out, MLOG_STATE_VERSION);
	wbuf_put_u8(out, s->initialized);
	wbuf_put_u64(out, s->region_count);
	wbuf_put_u32(out, s->region_size);
	wbuf_put_u64(out, s->init_done);
	wbuf_put_blob(out, s->sync, s->sync ? map_bytes(s->region_count) : 0);
	wbuf_put_u8(out, s->all_synced);
	wbuf_put_u32(out, (uint32_t)s->n_marks);
	for (size_t i = 0; i < s->n_marks; i++) {
		wbuf_put_u64(out, s->marks[i].region);
		wbuf_put_u32(out, s->marks[i].nodeid);
	}
	wbuf_put_u64(out, s->recovering);
	wbuf_put_u32(out, s->recoverer);
	wbuf_put_u64(out, s->search);
	mlog_encode_regions(out, s->priority, s->n_priority);
	wbuf_put_u8(out, s->disk_failed);
	wbuf_put_u32(out, (uint32_t)s->n_registry);
	for (size_t i = 0; i < s->n_registry; i++) {
		wbuf_put_u32(out, s->registry[i]);
		wbuf_put_u64(out, s->instance[i]);
	}
	wbuf_put_u32(out, (uint32_t)s->n_departed);
	for (size_t i = 0; i < s->n_departed; i++) {
		wbuf_put_u32(out, s->departed[i].nodeid);
		wbuf_put_u64(out, s->departed[i].instance);
		wbuf_put_u64(out, s->departed[i].departure);
	}
	wbuf_put_u64(out, s->departures);
	wbuf_put_u8(out, s->quorum_is_registry);
	wbuf_put_u32(out, (uint32_t)s->n_quorum);
	for (size_t i = 0; i < s->n_quorum; i++)
		wbuf_put_u32(out, s->quorum[i]);
	return wbuf_error(out);
}

static int load_bitmap(struct mlog_state *s, struct rbuf *in)
{
	size_t len;
	const uint8_t *bits = rbuf_get_blob(in, &len);
	if (rbuf_error(in) || s->region_count > MLOG_MAX_REGIONS || len != map_bytes(s->region_count))
		return -EBADMSG;
	s->sync = calloc(len ? len : 1, 1);
	if (!s->sync)
		return -ENOMEM;
	if (len)
		memcpy(s->sync, bits, len);
	s->sync_count = 0;
	for (uint64_t i = 0; i < s->region_count; i++)
		s->sync_count += bit_get(s->sync, i);
	return 0;
}

static int load_marks(struct mlog_state *s, struct rbuf *in)
{
	uint32_t n = rbuf_get_u32(in);
	if (rbuf_error(in) || n > rbuf_left(in) / 12)
		return -EBADMSG;
	s->marks = calloc(n ? n : 1, sizeof(*s->marks));
	if (!s->marks)
		return -ENOMEM;
	s->cap_marks = n ? n : 1;
	for (uint32_t i = 0; i < n; i++) {
		struct mlog_mark m = { rbuf_get_u64(in), rbuf_get_u32(in) };
		if (m.region >= s->region_count ||
		    (i && (m.region < s->marks[i - 1].region ||
		           (m.region == s->marks[i - 1].region && m.nodeid <= s->marks[i - 1].nodeid))))
			return -EBADMSG;
		s->marks[i] = m;
	}
	s->n_marks = n;
	return rbuf_error(in);
}

/* Departed nodes: sorted, none registered, each departure numbered below
 * the count so far. */
static int load_departed(struct mlog_state *s, struct rbuf *in)
{
	uint32_t n = rbuf_get_u32(in);
	if (rbuf_error(in) || n > DOMAIN_MAX_MEMBERS)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		struct mlog_departed *d = &s->departed[i];
		d->nodeid = rbuf_get_u32(in);
		d->instance = rbuf_get_u64(in);
		d->departure = rbuf_get_u64(in);
		if ((i && d->nodeid <= s->departed[i - 1].nodeid) || d->nodeid == 0 ||
		    mlog_is_registered(s, d->nodeid))
			return -EBADMSG;
	}
	s->n_departed = n;
	s->departures = rbuf_get_u64(in);
	for (uint32_t i = 0; i < n; i++)
		if (s->departed[i].departure == 0 || s->departed[i].departure > s->departures)
			return -EBADMSG;
	return rbuf_error(in);
}

/* The quorum set: sorted nodeids, none zero. */
static int load_quorum(struct mlog_state *s, struct rbuf *in)
{
	s->quorum_is_registry = rbuf_get_u8(in);
	uint32_t n = rbuf_get_u32(in);
	if (rbuf_error(in) || n > DOMAIN_MAX_MEMBERS)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		s->quorum[i] = rbuf_get_u32(in);
		if (s->quorum[i] == 0 || (i && s->quorum[i] <= s->quorum[i - 1]))
			return -EBADMSG;
	}
	s->n_quorum = n;
	rbuf_expect_end(in);
	return rbuf_error(in);
}

static int load_rest(struct mlog_state *s, struct rbuf *in)
{
	s->recovering = rbuf_get_u64(in);
	s->recoverer = rbuf_get_u32(in);
	s->search = rbuf_get_u64(in);
	uint32_t n = rbuf_get_u32(in);
	if (rbuf_error(in) || n > 4096 || rbuf_left(in) < (size_t)n * 8)
		return -EBADMSG;
	s->priority = calloc(n ? n : 1, sizeof(*s->priority));
	if (!s->priority)
		return -ENOMEM;
	s->cap_priority = n ? n : 1;
	for (uint32_t i = 0; i < n; i++)
		s->priority[i] = rbuf_get_u64(in);
	s->n_priority = n;
	s->disk_failed = rbuf_get_u8(in);
	uint32_t nr = rbuf_get_u32(in);
	if (rbuf_error(in) || nr > DOMAIN_MAX_MEMBERS)
		return -EBADMSG;
	for (uint32_t i = 0; i < nr; i++) {
		s->registry[i] = rbuf_get_u32(in);
		s->instance[i] = rbuf_get_u64(in);
		if (i && s->registry[i] <= s->registry[i - 1])
			return -EBADMSG;
	}
	s->n_registry = nr;
	int rc = load_departed(s, in);
	return rc < 0 ? rc : load_quorum(s, in);
}

/* What the operations rely on beyond the encoding: every region named lies
 * inside the log, and "all in sync" agrees with the bitmap. */
static bool regions_consistent(const struct mlog_state *s)
{
	uint64_t n = s->region_count;
	if ((s->recoverer && s->recovering >= n) || (s->search && s->search >= n))
		return false;
	for (size_t i = 0; i < s->n_priority; i++)
		if (s->priority[i] >= n)
			return false;
	return !s->all_synced || s->sync_count == n;
}

void *mlog_load(struct rbuf *in)
{
	struct mlog_state *s = mlog_create();
	if (!s)
		return NULL;
	int rc = rbuf_get_u16(in) == MLOG_STATE_VERSION ? 0 : -EBADMSG;
	s->initialized = rbuf_get_u8(in);
	s->region_count = rbuf_get_u64(in);
	s->region_size = rbuf_get_u32(in);
	s->init_done = rbuf_get_u64(in);
	if (rc == 0 && (rbuf_error(in) || s->init_done > s->region_count))
		rc = -EBADMSG;
	if (rc == 0)
		rc = load_bitmap(s, in);
	s->all_synced = rbuf_get_u8(in);
	if (rc == 0)
		rc = load_marks(s, in);
	if (rc == 0)
		rc = load_rest(s, in);
	if (rc == 0 && !regions_consistent(s))
		rc = -EBADMSG;
	if (rc < 0) {
		mlog_destroy(s);
		return NULL;
	}
	return s;
}

uint64_t mlog_digest(const void *state)
{
	struct wbuf w;
	wbuf_init(&w);
	mlog_save(state, &w);
	uint64_t h = fnv64(FNV64_INIT, w.data, w.len);
	wbuf_done(&w);
	return h;
}

/* The quorum information is the quorum set (see struct mlog_state). */
int mlog_quorum_info(const void *state, struct wbuf *out)
{
	const struct mlog_state *s = state;
	wbuf_put_u32(out, (uint32_t)s->n_quorum);
	for (size_t i = 0; i < s->n_quorum; i++)
		wbuf_put_u32(out, s->quorum[i]);
	return wbuf_error(out);
}

/* The quorum set is not what a membership event would make of it now. */
bool mlog_quorum_outdated(const void *state)
{
	const struct mlog_state *s = state;
	if (s->n_registry == 0)
		return s->quorum_is_registry;
	return !s->quorum_is_registry || s->n_registry != s->n_quorum ||
	       memcmp(s->registry, s->quorum, s->n_quorum * sizeof(*s->quorum)) != 0;
}

/* A configuration may change the log if it holds a majority of the quorum
 * set, or exactly half of it including the lowest (a tie breaker, so a
 * mirror on two nodes survives either failing): at most one side of any
 * partition qualifies. Only a log that was never active has an empty set;
 * its first configuration may set it up. */
bool mlog_quorum_rule(const uint32_t *quorum, size_t nq, const uint32_t *members, size_t n)
{
	if (nq == 0)
		return n > 0;
	size_t present = 0;
	bool lowest = false;
	for (size_t i = 0; i < nq; i++) {
		for (size_t k = 0; k < n; k++) {
			present += members[k] == quorum[i];
			lowest |= i == 0 && members[k] == quorum[0];
		}
	}
	return 2 * present > nq || (2 * present == nq && lowest);
}

/* The quorum set at the start of a member's quorum information (the host's
 * attestation may follow). -EBADMSG when it does not fit. */
static int read_quorum_set(struct rbuf *r, uint32_t *ids, size_t *n)
{
	uint32_t nr = rbuf_get_u32(r);
	if (rbuf_error(r) || nr > DOMAIN_MAX_MEMBERS || rbuf_left(r) < (size_t)nr * 4)
		return -EBADMSG;
	for (uint32_t i = 0; i < nr; i++)
		ids[i] = rbuf_get_u32(r);
	*n = nr;
	return 0;
}

bool mlog_is_quorate(const uint8_t *info, size_t len, const uint32_t *members, size_t n)
{
	struct rbuf r;
	uint32_t q[DOMAIN_MAX_MEMBERS];
	size_t nq;
	rbuf_init(&r, info, len);
	return read_quorum_set(&r, q, &nq) == 0 && mlog_quorum_rule(q, nq, members, n);
}

void mlog_encode_attestation(struct wbuf *w, const uint32_t *fenced, size_t n)
{
	wbuf_put_u8(w, MLOG_ATTEST_VERSION);
	wbuf_put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		wbuf_put_u32(w, fenced[i]);
}

/* The nodes a member vouches are fenced, after its quorum set; -EBADMSG
 * when it vouches for nothing or the bytes do not fit. */
static int read_attestation(const uint8_t *info, size_t len, uint32_t *fenced, size_t *n)
{
	struct rbuf r;
	uint32_t q[DOMAIN_MAX_MEMBERS];
	size_t nq;
	rbuf_init(&r, info, len);
	if (read_quorum_set(&r, q, &nq) < 0 || rbuf_left(&r) == 0 ||
	    rbuf_get_u8(&r) != MLOG_ATTEST_VERSION)
		return -EBADMSG;
	uint32_t nf = rbuf_get_u32(&r);
	if (rbuf_error(&r) || nf > DOMAIN_MAX_MEMBERS || rbuf_left(&r) != (size_t)nf * 4)
		return -EBADMSG;
	for (uint32_t i = 0; i < nf; i++)
		fenced[i] = rbuf_get_u32(&r);
	*n = nf;
	return 0;
}

/* The member vouches (see node-mlog-lift.c) that every node of the source's
 * quorum set missing here is fenced since it left. */
bool mlog_is_lifted(const uint8_t *src_info, size_t src_len, const uint8_t *member_info,
                    size_t member_len, const uint32_t *members, size_t n)
{
	struct rbuf r;
	uint32_t q[DOMAIN_MAX_MEMBERS], fenced[DOMAIN_MAX_MEMBERS];
	size_t nq, nf;
	rbuf_init(&r, src_info, src_len);
	if (n == 0 || read_quorum_set(&r, q, &nq) < 0 || nq == 0 ||
	    read_attestation(member_info, member_len, fenced, &nf) < 0)
		return false;
	for (size_t i = 0; i < nq; i++)
		if (!nodeid_in(members, n, q[i]) && !nodeid_in(fenced, nf, q[i]))
			return false;
	return true;
}
