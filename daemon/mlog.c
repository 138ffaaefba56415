/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mirror log service: the operations on one log's replicated state.
 * Every handler is deterministic and leaves the state unchanged when it
 * refuses a request. Resync work goes to one node at a time, regions that
 * wait for a write first. A node that leaves without suspending its mirror
 * (crash, partition, daemon gone) has its resync assignment handed to the
 * next asker and its marked regions set out of sync, but its marks stay
 * until it is known to be fenced (MLOG_OP_FENCED): it may still be
 * writing them, and a resync copy would race those writes. */
#include "config.h"

#include "mlog-internal.h"

#include <stdlib.h>
#include <string.h>

bool mlog_is_in_sync(const struct mlog_state *s, uint64_t region)
{
	return s->initialized && region < s->region_count &&
	       (s->all_synced || bit_get(s->sync, region));
}

/* First mark of region, or where it would go. */
static size_t mark_slot(const struct mlog_state *s, uint64_t region, uint32_t nodeid)
{
	size_t lo = 0, hi = s->n_marks;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct mlog_mark *m = &s->marks[mid];
		if (m->region < region || (m->region == region && m->nodeid < nodeid))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_marked(const struct mlog_state *s, uint64_t region)
{
	size_t i = mark_slot(s, region, 0);
	return i < s->n_marks && s->marks[i].region == region;
}

bool mlog_is_marked_by(const struct mlog_state *s, uint64_t region, uint32_t nodeid)
{
	size_t i = mark_slot(s, region, nodeid);
	return i < s->n_marks && s->marks[i].region == region && s->marks[i].nodeid == nodeid;
}

size_t mlog_marked_regions(const struct mlog_state *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_marks; i++)
		n += i == 0 || s->marks[i].region != s->marks[i - 1].region;
	return n;
}

bool mlog_is_clean(const struct mlog_state *s, uint64_t region)
{
	return mlog_is_in_sync(s, region) && !is_marked(s, region);
}

bool mlog_is_registered_as(const struct mlog_state *s, uint32_t nodeid, uint64_t instance)
{
	for (size_t i = 0; i < s->n_registry; i++)
		if (s->registry[i] == nodeid)
			return s->instance[i] == instance;
	return false;
}

bool mlog_is_registered(const struct mlog_state *s, uint32_t nodeid)
{
	for (size_t i = 0; i < s->n_registry; i++)
		if (s->registry[i] == nodeid)
			return true;
	return false;
}

static int add_mark(struct mlog_state *s, uint64_t region, uint32_t nodeid)
{
	size_t i = mark_slot(s, region, nodeid);
	if (i < s->n_marks && s->marks[i].region == region && s->marks[i].nodeid == nodeid)
		return 0; /* marks are idempotent */
	if (s->n_marks == s->cap_marks) {
		size_t cap = s->cap_marks ? s->cap_marks * 2 : 64;
		struct mlog_mark *p = reallocarray(s->marks, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->marks = p;
		s->cap_marks = cap;
	}
	memmove(&s->marks[i + 1], &s->marks[i], (s->n_marks - i) * sizeof(*s->marks));
	s->marks[i] = (struct mlog_mark){ region, nodeid };
	s->n_marks++;
	return 0;
}

static void remove_mark(struct mlog_state *s, uint64_t region, uint32_t nodeid)
{
	size_t i = mark_slot(s, region, nodeid);
	if (i >= s->n_marks || s->marks[i].region != region || s->marks[i].nodeid != nodeid)
		return;
	memmove(&s->marks[i], &s->marks[i + 1], (s->n_marks - i - 1) * sizeof(*s->marks));
	s->n_marks--;
}

void mlog_set_sync(struct mlog_state *s, uint64_t region, bool in_sync)
{
	if (bit_get(s->sync, region) == in_sync)
		return;
	bit_put(s->sync, region, in_sync);
	if (in_sync) {
		s->sync_count++;
		if (s->sync_count == s->region_count)
			s->all_synced = true;
	} else {
		s->sync_count--;
		s->all_synced = false;
	}
}

int mlog_decode_regions(const uint8_t *body, size_t len, uint64_t *out, size_t max)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	uint32_t n = rbuf_get_u32(&r);
	if (rbuf_error(&r) || n > max || rbuf_left(&r) != (size_t)n * 8)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++)
		out[i] = rbuf_get_u64(&r);
	return (int)n;
}

void mlog_encode_regions(struct wbuf *w, const uint64_t *regions, size_t n)
{
	wbuf_put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		wbuf_put_u64(w, regions[i]);
}

/* Decode regions and check each is inside the log. */
static int get_regions(const struct mlog_state *s, const uint8_t *body, size_t len,
                       uint64_t *out)
{
	int n = mlog_decode_regions(body, len, out, MLOG_MAX_REGIONS_PER_OP);
	if (n < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (out[i] >= s->region_count)
			return -EINVAL;
	return n;
}

bool mlog_recovering_elsewhere(const struct mlog_state *s, uint32_t nodeid,
                               const uint64_t *regions, size_t n)
{
	for (size_t i = 0; s->recoverer && s->recoverer != nodeid && i < n; i++)
		if (regions[i] == s->recovering)
			return true;
	return false;
}

/* A region another node is resyncing cannot be written: the write would
 * race the copy between the legs. Its mark waits (-EBUSY, submitted again
 * by the origin's node once the region is done). */
static int on_mark(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                   struct wbuf *reply)
{
	uint64_t regions[MLOG_MAX_REGIONS_PER_OP];
	int n = get_regions(s, body, len, regions);
	if (n > 0 && mlog_recovering_elsewhere(s, origin, regions, (size_t)n))
		return -EBUSY;
	for (int i = 0; i < n; i++)
		if (add_mark(s, regions[i], origin) < 0)
			return -ENOMEM;
	return n < 0 ? n : 0;
}

static int on_clear(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                    struct wbuf *reply)
{
	uint64_t regions[MLOG_MAX_REGIONS_PER_OP];
	int n = get_regions(s, body, len, regions);
	for (int i = 0; i < n; i++)
		remove_mark(s, regions[i], origin);
	return n < 0 ? n : 0;
}

static int read_region(const struct mlog_state *s, const uint8_t *body, size_t len,
                       uint64_t *ret)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	*ret = rbuf_get_u64(&r);
	rbuf_expect_end(&r);
	return rbuf_error(&r) || *ret >= s->region_count ? -EINVAL : 0;
}

static int on_is_clean(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                       struct wbuf *reply)
{
	uint64_t region;
	if (read_region(s, body, len, &region) < 0)
		return -EINVAL;
	wbuf_put_u64(reply, mlog_is_clean(s, region));
	return 0;
}

/* First region from start on (wrapping unless start is 0) that is out of
 * sync and, with skip_marked, marked by no node. */
static bool find_out_of_sync(const struct mlog_state *s, uint64_t start, bool skip_marked,
                             uint64_t *ret)
{
	for (uint64_t k = 0; k < s->region_count; k++) {
		uint64_t r = (start + k) % s->region_count;
		if ((r % 8 == 0 && r + 8 <= s->region_count && s->sync[r / 8] == 0xff)) {
			k += 7; /* a whole byte in sync */
			continue;
		}
		if (!bit_get(s->sync, r) && !(skip_marked && is_marked(s, r))) {
			*ret = r;
			return true;
		}
	}
	return false;
}

/* The kernel's in-sync hint: every region below it is in sync. */
static uint64_t lowest_out_of_sync(const struct mlog_state *s)
{
	uint64_t r;
	return !s->all_synced && find_out_of_sync(s, 0, false, &r) ? r : s->region_count;
}

/* Drop queued regions that are in sync; take the first that no node has
 * marked, keeping the marked ones queued. */
static bool pick_priority(struct mlog_state *s, uint64_t *ret)
{
	bool found = false;
	size_t keep = 0;
	for (size_t i = 0; i < s->n_priority; i++) {
		uint64_t r = s->priority[i];
		if (bit_get(s->sync, r))
			continue;
		if (!found && !is_marked(s, r)) {
			*ret = r;
			found = true;
			continue;
		}
		s->priority[keep++] = r;
	}
	s->n_priority = keep;
	return found;
}

/* The next region to resync: waiting writes first, then in order. A region
 * some node has marked waits until it is cleared: that node writes it, and
 * the copy between the legs would race its writes. */
static bool pick_work(struct mlog_state *s, uint64_t *ret)
{
	return pick_priority(s, ret) || find_out_of_sync(s, s->search, true, ret);
}

static int on_get_resync_work(struct mlog_state *s, uint32_t origin, const uint8_t *body,
                              size_t len, struct wbuf *reply)
{
	if (len)
		return -EINVAL;
	uint64_t region = 0;
	bool work = false;
	if (s->recoverer) {
		/* one region at a time: the same recoverer gets it again */
		work = s->recoverer == origin;
		region = work ? s->recovering : 0;
	} else if (s->initialized && !s->all_synced && pick_work(s, &region)) {
		work = true;
		s->recovering = region;
		s->recoverer = origin;
		s->search = region + 1 < s->region_count ? region + 1 : 0;
	}
	wbuf_put_u64(reply, work);
	wbuf_put_u64(reply, region);
	return 0;
}

/* The end of a copy. Only the copy the log handed out counts: one handed
 * out before a membership event took it back (its node left, or the log
 * was taken over) may have raced another node's writes, which no longer
 * waited for it; the region is handed out again. A failed copy always
 * counts. */
static int on_set_region_sync(struct mlog_state *s, uint32_t origin, const uint8_t *body,
                              size_t len, struct wbuf *reply)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	uint64_t region = rbuf_get_u64(&r);
	int64_t in_sync = (int64_t)rbuf_get_u64(&r);
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || region >= s->region_count)
		return -EINVAL;
	bool assigned = s->recoverer == origin && s->recovering == region;
	if (in_sync && !assigned)
		return 0; /* a copy handed out before a membership event: see above */
	mlog_set_sync(s, region, in_sync != 0);
	if (assigned)
		s->recoverer = 0;
	return 0;
}

void mlog_encode_set_sync(struct wbuf *w, uint64_t region, int64_t in_sync)
{
	wbuf_put_u64(w, region);
	wbuf_put_u64(w, (uint64_t)in_sync);
}

static int on_is_remote_recovering(struct mlog_state *s, uint32_t origin, const uint8_t *body,
                                   size_t len, struct wbuf *reply)
{
	uint64_t region;
	if (read_region(s, body, len, &region) < 0)
		return -EINVAL;
	bool recovering = !mlog_is_in_sync(s, region);
	if (recovering && s->n_priority < 4096) {
		bool queued = false;
		for (size_t i = 0; i < s->n_priority; i++)
			queued |= s->priority[i] == region;
		if (!queued) {
			if (s->n_priority == s->cap_priority) {
				size_t cap = s->cap_priority ? s->cap_priority * 2 : 16;
				uint64_t *p = reallocarray(s->priority, cap, sizeof(*p));
				if (!p)
					return -ENOMEM;
				s->priority = p;
				s->cap_priority = cap;
			}
			s->priority[s->n_priority++] = region;
		}
	}
	wbuf_put_u64(reply, recovering);
	wbuf_put_u64(reply, lowest_out_of_sync(s));
	return 0;
}

static int on_disk_failed(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                          struct wbuf *reply)
{
	s->disk_failed = true;
	return 0;
}

static int registry_add(struct mlog_state *s, uint32_t nodeid, uint64_t instance)
{
	if (s->n_registry == DOMAIN_MAX_MEMBERS)
		return -ENOSPC;
	size_t i = s->n_registry;
	while (i > 0 && s->registry[i - 1] > nodeid) {
		s->registry[i] = s->registry[i - 1];
		s->instance[i] = s->instance[i - 1];
		i--;
	}
	s->registry[i] = nodeid;
	s->instance[i] = instance;
	s->n_registry++;
	return 0;
}

static void drop_marks(struct mlog_state *s, uint32_t nodeid)
{
	for (size_t i = 0; i < s->n_marks;) {
		if (s->marks[i].nodeid == nodeid) {
			mlog_set_sync(s, s->marks[i].region, false);
			remove_mark(s, s->marks[i].region, nodeid);
		} else {
			i++;
		}
	}
}

static void registry_remove(struct mlog_state *s, uint32_t nodeid)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n_registry; i++) {
		if (s->registry[i] != nodeid) {
			s->registry[k] = s->registry[i];
			s->instance[k++] = s->instance[i];
		}
	}
	s->n_registry = k;
}

static void departed_remove(struct mlog_state *s, uint32_t nodeid)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n_departed; i++)
		if (s->departed[i].nodeid != nodeid)
			s->departed[k++] = s->departed[i];
	s->n_departed = k;
}

const struct mlog_departed *mlog_departed_of(const struct mlog_state *s, uint32_t nodeid)
{
	for (size_t i = 0; i < s->n_departed; i++)
		if (s->departed[i].nodeid == nodeid)
			return &s->departed[i];
	return NULL;
}

size_t mlog_regions_marked_by(const struct mlog_state *s, uint32_t nodeid)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_marks; i++)
		n += s->marks[i].nodeid == nodeid;
	return n;
}

/* A node that is done with the log: its marks become resync work, its
 * resync assignment is freed, it leaves the registry. */
static void forget_node(struct mlog_state *s, uint32_t nodeid)
{
	drop_marks(s, nodeid);
	if (s->recoverer == nodeid)
		s->recoverer = 0;
	registry_remove(s, nodeid);
	departed_remove(s, nodeid);
}

/* A registered node left the group: see the top of this file. */
static void depart_node(struct mlog_state *s, uint32_t nodeid)
{
	uint64_t instance = 0;
	for (size_t i = 0; i < s->n_registry; i++)
		if (s->registry[i] == nodeid)
			instance = s->instance[i];
	registry_remove(s, nodeid);
	if (s->recoverer == nodeid)
		s->recoverer = 0;
	if (!mlog_regions_marked_by(s, nodeid))
		return;
	for (size_t i = 0; i < s->n_marks; i++)
		if (s->marks[i].nodeid == nodeid)
			mlog_set_sync(s, s->marks[i].region, false);
	departed_remove(s, nodeid);
	if (s->n_departed == DOMAIN_MAX_MEMBERS)
		return; /* its marks stay until it opens the log afresh */
	size_t i = s->n_departed;
	while (i > 0 && s->departed[i - 1].nodeid > nodeid) {
		s->departed[i] = s->departed[i - 1];
		i--;
	}
	s->departed[i] = (struct mlog_departed){ nodeid, instance, ++s->departures };
	s->n_departed++;
}

static int read_instance(const uint8_t *body, size_t len, uint64_t *ret)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	*ret = rbuf_get_u64(&r);
	rbuf_expect_end(&r);
	return rbuf_error(&r) ? -EINVAL : 0;
}

void mlog_encode_register(struct wbuf *w, uint64_t instance, uint64_t flags)
{
	wbuf_put_u64(w, instance);
	wbuf_put_u64(w, flags);
}

/* An opening of the log on the origin. The same opening coming back (its
 * side of a partition rejoined) keeps its marks. A later opening on the
 * same node takes over the node's marks when the kernel reconnected to a
 * new daemon (its table and its marks live on); after a first
 * construction (MLOG_REGISTER_FRESH) the earlier table is gone, so what it
 * had marked becomes out of sync. */
static int on_register(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                       struct wbuf *reply)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	uint64_t instance = rbuf_get_u64(&r), flags = rbuf_get_u64(&r);
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || (flags & ~(uint64_t)MLOG_REGISTER_FRESH))
		return -EINVAL;
	if (mlog_is_registered_as(s, origin, instance))
		return 0;
	if (!mlog_is_registered(s, origin) && s->n_registry == DOMAIN_MAX_MEMBERS)
		return -ENOSPC;
	const struct mlog_departed *d = mlog_departed_of(s, origin);
	bool same = d && d->instance == instance;
	if ((flags & MLOG_REGISTER_FRESH) && !same) {
		forget_node(s, origin);
	} else {
		registry_remove(s, origin);
		departed_remove(s, origin);
	}
	return registry_add(s, origin, instance);
}

void mlog_encode_fenced(struct wbuf *w, uint32_t nodeid, uint64_t departure)
{
	wbuf_put_u32(w, nodeid);
	wbuf_put_u64(w, departure);
}

/* The departed node was fenced after that departure: it writes no more, its
 * marked regions are resynced. Stale or repeated news changes nothing. */
static int on_fenced(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                     struct wbuf *reply)
{
	struct rbuf r;
	rbuf_init(&r, body, len);
	uint32_t nodeid = rbuf_get_u32(&r);
	uint64_t departure = rbuf_get_u64(&r);
	rbuf_expect_end(&r);
	if (rbuf_error(&r) || nodeid == 0)
		return -EINVAL;
	const struct mlog_departed *d = mlog_departed_of(s, nodeid);
	if (d && d->departure == departure)
		forget_node(s, nodeid);
	return 0;
}

static int on_unregister(struct mlog_state *s, uint32_t origin, const uint8_t *body, size_t len,
                         struct wbuf *reply)
{
	uint64_t instance;
	if (read_instance(body, len, &instance) < 0)
		return -EINVAL;
	if (mlog_is_registered_as(s, origin, instance))
		forget_node(s, origin); /* a later opening stays registered */
	return 0;
}

typedef int (*mlog_handler)(struct mlog_state *s, uint32_t origin, const uint8_t *body,
                            size_t len, struct wbuf *reply);

static const mlog_handler handlers[MLOG_OP_MAX] = {
	[MLOG_OP_REGISTER] = on_register,
	[MLOG_OP_UNREGISTER] = on_unregister,
	[MLOG_OP_INIT] = mlog_on_init,
	[MLOG_OP_MARK] = on_mark,
	[MLOG_OP_CLEAR] = on_clear,
	[MLOG_OP_FLUSH] = on_mark, /* the integrated form carries marks; a flush alone changes nothing */
	[MLOG_OP_GET_RESYNC_WORK] = on_get_resync_work,
	[MLOG_OP_SET_REGION_SYNC] = on_set_region_sync,
	[MLOG_OP_IS_CLEAN] = on_is_clean,
	[MLOG_OP_IS_REMOTE_RECOVERING] = on_is_remote_recovering,
	[MLOG_OP_DISK_FAILED] = on_disk_failed,
	[MLOG_OP_FENCED] = on_fenced,
};

static int mlog_apply(void *state, uint32_t origin, uint16_t op, const uint8_t *body, size_t len,
                      struct wbuf *reply)
{
	struct mlog_state *s = state;
	if (op >= MLOG_OP_MAX || !handlers[op])
		return -EOPNOTSUPP;
	bool needs_init = op != MLOG_OP_REGISTER && op != MLOG_OP_UNREGISTER &&
	                  op != MLOG_OP_INIT && op != MLOG_OP_DISK_FAILED && op != MLOG_OP_FENCED;
	if (needs_init && !s->initialized)
		return -EAGAIN;
	return handlers[op](s, origin, body, len, reply);
}

/* The next configuration is judged by the registry as it stands now, or by
 * these members if nobody resumed the log: a REGISTER applied later in this
 * epoch, on one side of a partition and not the other, must not make both
 * sides quorate. */
static void set_quorum(struct mlog_state *s, const uint32_t *ids, size_t n)
{
	const uint32_t *from = s->n_registry ? s->registry : ids;
	s->quorum_is_registry = s->n_registry > 0;
	s->n_quorum = s->n_registry ? s->n_registry : n;
	memcpy(s->quorum, from, s->n_quorum * sizeof(*from));
}

/* A configuration the quorum set refuses became active: its members
 * vouched that the nodes of the set it lacks are fenced. Those may have
 * changed the log without us, after our last epoch, and what they marked
 * there is known to nobody here (a core log has no record of it; the disk
 * log's may be older than their last marks): every region is resynced, and
 * a copy handed out before does not count (their writes did not wait for
 * it). */
static void take_over(struct mlog_state *s, const uint32_t *ids, size_t n)
{
	s->recoverer = 0;
	for (size_t i = 0; i < s->n_quorum; i++)
		if (!nodeid_in(ids, n, s->quorum[i]))
			forget_node(s, s->quorum[i]);
	if (s->sync && s->region_count) {
		memset(s->sync, 0, map_bytes(s->region_count));
		s->sync_count = 0;
		s->all_synced = false;
		s->search = 0;
	}
}

/* Registered nodes that are not members any more have departed. */
static void mlog_apply_membership(void *state, uint64_t epoch, const uint32_t *ids, size_t n)
{
	struct mlog_state *s = state;
	uint32_t gone[DOMAIN_MAX_MEMBERS];
	size_t n_gone = 0;
	if (s->n_quorum && !mlog_quorum_rule(s->quorum, s->n_quorum, ids, n))
		take_over(s, ids, n);
	for (size_t i = 0; i < s->n_registry; i++)
		if (!nodeid_in(ids, n, s->registry[i]))
			gone[n_gone++] = s->registry[i];
	for (size_t i = 0; i < n_gone; i++)
		depart_node(s, gone[i]);
	if (s->recoverer && !nodeid_in(ids, n, s->recoverer))
		s->recoverer = 0;
	set_quorum(s, ids, n);
}

void mlog_clean_bitmap(const struct mlog_state *s, const uint64_t *extra, size_t n_extra,
                       uint8_t *clean)
{
	size_t bytes = map_bytes(s->region_count);
	if (s->all_synced)
		memset(clean, 0xff, bytes);
	else if (bytes)
		memcpy(clean, s->sync, bytes);
	if (s->region_count % 8)
		clean[bytes - 1] &= (uint8_t)((1u << (s->region_count % 8)) - 1);
	for (size_t i = 0; i < s->n_marks; i++)
		bit_put(clean, s->marks[i].region, false);
	for (size_t i = 0; i < n_extra; i++)
		if (extra[i] < s->region_count)
			bit_put(clean, extra[i], false);
}

const struct domain_service_ops mlog_service_ops = {
	.name = "mirror-log",
	.create = mlog_create,
	.destroy = mlog_destroy,
	.apply = mlog_apply,
	.apply_membership = mlog_apply_membership,
	.save = mlog_save,
	.load = mlog_load,
	.digest = mlog_digest,
	.quorum_info = mlog_quorum_info,
	.is_quorate = mlog_is_quorate,
	.quorum_outdated = mlog_quorum_outdated,
	.is_lifted = mlog_is_lifted,
};
