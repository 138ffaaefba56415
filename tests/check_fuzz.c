/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deterministic mutation fuzzing of every decoder of outside input: kernel
 * frames, peer messages (each decoder, then the whole domain engine fed
 * mutated traffic), service operations and saved states from peers, IPC
 * payloads, and on-disk data (mirror log, journal frames, snapshot and
 * journal records). Corpora come from real traffic recorded from a few
 * domains (tests/fuzz-group.c); tests/fuzz-mutate.h has the mutations and
 * the FUZZ_SEED / FUZZ_ITERATIONS knobs. The engine and service cases live
 * in tests/fuzz-engine.c and tests/fuzz-service.c. Every check that fails
 * names the seed and iteration that reproduce it. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qbloop.h>

#include <blkspace/blkspace.h>
#include <blkspace/errors.h>

#include "check-util.h"
#include "codec.h"
#include "direct-udp.h"
#include "fuzz-engine.h"
#include "fuzz-group.h"
#include "fuzz-mutate.h"
#include "fuzz-service.h"
#include "ipc-proto.h"
#include "journal-frame.h"
#include "mlog-disk.h"
#include "ulog.h"
#include "wire.h"

#define TIMEOUT_S 300

/* ---- kernel frames --------------------------------------------------------- */

#define ULOG_UUID "LVM-fuzz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"

/* Requests as the kernel sends them: every type, with typical payloads. */
static void ulog_corpus(struct fuzz_corpus *c)
{
	static const char ctr[] = "2097152 clustered-disk 253:3 1024 nosync block_on_error";
	uint64_t region = 77, regions[3] = { 1, 2, 3 };
	for (uint32_t type = DM_ULOG_CTR; type <= DM_ULOG_IS_REMOTE_RECOVERING; type++) {
		const void *data = NULL;
		size_t n = 0;
		if (type == DM_ULOG_CTR) {
			data = ctr;
			n = sizeof(ctr);
		} else if (type == DM_ULOG_MARK_REGION || type == DM_ULOG_CLEAR_REGION ||
		           type == DM_ULOG_FLUSH) {
			data = regions;
			n = sizeof(regions);
		} else if (type == DM_ULOG_IS_CLEAN || type == DM_ULOG_IN_SYNC ||
		           type == DM_ULOG_IS_REMOTE_RECOVERING) {
			data = &region;
			n = sizeof(region);
		}
		struct dm_ulog_request h;
		memset(&h, 0, sizeof(h));
		h.luid = 42 + type;
		strcpy(h.uuid, ULOG_UUID);
		h.version = DM_ULOG_REQUEST_VERSION;
		h.seq = 1000 + type;
		h.request_type = type;
		h.data_size = (uint32_t)n;
		uint8_t frame[ULOG_HEADER_BYTES + 64];
		memcpy(frame, &h, sizeof(h));
		if (n)
			memcpy(frame + sizeof(h), data, n);
		corpus_add(c, type, 0, frame, sizeof(h) + n);
	}
}

/* What ulog_decode must answer, from the contract in ulog.h. */
static int expect_ulog(const uint8_t *f, size_t len, const struct dm_ulog_request *h)
{
	if (len < ULOG_HEADER_BYTES || !memchr(h->uuid, '\0', sizeof(h->uuid)) ||
	    h->data_size != len - ULOG_HEADER_BYTES || h->data_size > ULOG_MAX_DATA_BYTES)
		return -EBADMSG;
	if (h->version < 1 || h->version > DM_ULOG_REQUEST_VERSION)
		return -EPROTO;
	uint32_t type = DM_ULOG_REQUEST_TYPE(h->request_type);
	return type < DM_ULOG_CTR || type > DM_ULOG_IS_REMOTE_RECOVERING ? -EOPNOTSUPP : 0;
}

static void check_ulog(struct fuzz *fz, const uint8_t *f, size_t len)
{
	struct dm_ulog_request h;
	memset(&h, 0, sizeof(h));
	memcpy(&h, f, len < sizeof(h) ? len : sizeof(h));
	struct ulog_request rq;
	int rc = ulog_decode(f, len, &rq), want = expect_ulog(f, len, &h);
	FZ_ASSERT(fz, rc == want, "frame of %zu bytes: %d, expected %d", len, rc, want);
	size_t seq_end = offsetof(struct dm_ulog_request, seq) + sizeof(uint32_t);
	if (len >= seq_end)
		FZ_ASSERT(fz, rq.seq == h.seq, "seq %u, frame has %u", rq.seq, h.seq);
	if (rc == -EBADMSG)
		return;
	FZ_ASSERT(fz, rq.luid == h.luid && rq.version == h.version && rq.raw_type == h.request_type &&
	                  rq.type == DM_ULOG_REQUEST_TYPE(h.request_type) &&
	                  strcmp(rq.uuid, h.uuid) == 0,
	          "header fields differ from the frame");
	if (rc < 0)
		return;
	FZ_ASSERT(fz, rq.data_size == len - ULOG_HEADER_BYTES &&
	                  rq.data == (rq.data_size ? f + ULOG_HEADER_BYTES : NULL),
	          "data misplaced");
}

START_TEST(test_fuzz_ulog_decode)
{
	struct fuzz_corpus c = { 0 };
	ulog_corpus(&c);
	struct fuzz fz;
	struct wbuf w;
	wbuf_init(&w);
	unsigned accepted = 0;
	fuzz_begin(&fz, "ulog_decode", 20000);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		fuzz_mutant(&fz, &w, &c);
		if (fz_chance(&fz, 5)) { /* around the largest payload */
			size_t want = ULOG_HEADER_BYTES + ULOG_MAX_DATA_BYTES - 1 + fz_below(&fz, 3);
			if (w.len < want)
				ck_assert_ptr_nonnull(memset(wbuf_reserve(&w, want - w.len), 0, want - w.len));
			w.len = want;
		}
		size_t size_at = offsetof(struct dm_ulog_request, data_size);
		if (w.len >= size_at + 4 && fz_chance(&fz, 50)) {
			uint32_t n = (uint32_t)(w.len - (w.len > ULOG_HEADER_BYTES ? ULOG_HEADER_BYTES : w.len));
			memcpy(w.data + size_at, &n, sizeof(n));
		}
		uint8_t *f = fuzz_exact(w.data, w.len);
		check_ulog(&fz, f, w.len);
		struct ulog_request rq;
		accepted += ulog_decode(f, w.len, &rq) == 0;
		free(f);
	}
	fprintf(stderr, "check_fuzz: ulog_decode: %u frames accepted\n", accepted);
	wbuf_done(&w);
	corpus_done(&c);
}
END_TEST

/* ---- direct datagrams ------------------------------------------------------ */

static void ignore_datagram(void *data, uint32_t from, const char *group, const void *msg,
                            size_t len)
{
}

/* Every datagram a mutation makes is refused unless it is one of the
 * genuine ones byte for byte: without the key no other one passes. */
START_TEST(test_fuzz_direct_datagrams)
{
	char key[] = "/tmp/check_fuzz_key.XXXXXX";
	int fd = mkstemp(key);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
	qb_loop_t *loop = qb_loop_create();
	struct direct_udp_params p = { .loop = loop, .key_file = key, .receive = ignore_datagram };
	struct direct_udp *du;
	char err[256] = "";
	ck_assert_msg(direct_udp_create(&p, &du, err, sizeof(err)) == 0, "%s", err);
	unlink(key);
	direct_udp_set_self(du, 2);
	struct fuzz_corpus c = { 0 };
	static const char *const groups[] = { "blkspace", "blkspace-log-0123456789abcdef" };
	uint8_t buf[DIRECT_DATAGRAM_MAX], msg[DIRECT_MSG_MAX];
	memset(msg, 0x5a, sizeof(msg));
	for (size_t g = 0; g < 2; g++)
		for (size_t len = 0; len <= DIRECT_MSG_MAX; len += 341)
			corpus_add(&c, 0, 1, buf, direct_udp_frame(du, 1, 2, groups[g], msg, len, buf));
	struct fuzz fz;
	struct wbuf w;
	wbuf_init(&w);
	unsigned accepted = 0;
	fuzz_begin(&fz, "direct_datagrams", 20000);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		fuzz_mutant(&fz, &w, &c);
		uint8_t *f = fuzz_exact(w.data, w.len);
		struct direct_datagram d;
		const char *why = NULL;
		bool genuine = false;
		for (size_t k = 0; k < c.n; k++)
			genuine |= c.v[k].len == w.len && memcmp(c.v[k].data, f, w.len) == 0;
		int rc = direct_udp_parse(du, f, w.len, &d, &why);
		FZ_ASSERT(&fz, (rc == 0) == genuine, "datagram of %zu bytes: %d (%s), genuine %d", w.len,
		          rc, why ? why : "", genuine);
		if (rc == 0)
			FZ_ASSERT(&fz, d.from == 1 && d.to == 2 && d.msg + d.len <= f + w.len,
			          "fields outside the datagram");
		accepted += rc == 0;
		free(f);
	}
	fprintf(stderr, "check_fuzz: direct_datagrams: %u genuine ones accepted\n", accepted);
	wbuf_done(&w);
	corpus_done(&c);
	direct_udp_destroy(du);
	qb_loop_destroy(loop);
}
END_TEST

/* ---- peer message decoders ----------------------------------------------- */

/* What the header decoder must answer, from the layout in wire.h. */
static int expect_header(const uint8_t *m, size_t len)
{
	if (len < WIRE_HEADER_BYTES || le32_read(m) != WIRE_MAGIC || le32_read(m + 8) != len)
		return -EBADMSG;
	unsigned version = (unsigned)get_le(m + 4, 2), type = (unsigned)get_le(m + 6, 2);
	if (version < WIRE_PROTO_MIN || version > WIRE_PROTO_MAX)
		return -EPROTONOSUPPORT;
	return type == 0 || type >= WIRE_TYPE_MAX ? -ENOMSG : 0;
}

static void check_header(struct fuzz *fz, const uint8_t *m, size_t len)
{
	struct wire_header h;
	struct rbuf r;
	int rc = wire_decode_header(m, len, &h, &r), want = expect_header(m, len);
	FZ_ASSERT(fz, rc == want, "header of %zu bytes: %d, expected %d", len, rc, want);
	if (rc < 0)
		return;
	FZ_ASSERT(fz, h.version == get_le(m + 4, 2) && h.type == get_le(m + 6, 2) &&
	                  h.domain == le32_read(m + 12) && h.origin == le32_read(m + 16) &&
	                  h.incarnation == le32_read(m + 20) && h.request_id == get_le(m + 24, 8) &&
	                  h.stable_epoch == get_le(m + 32, 8) && h.stable_seq == get_le(m + 40, 8) &&
	                  h.stable_hash == get_le(m + 48, 8),
	          "header fields differ from the bytes");
	FZ_ASSERT(fz, r.pos == WIRE_HEADER_BYTES && r.len == len && !rbuf_error(&r),
	          "payload reader at %zu of %zu", r.pos, r.len);
}

/* Each payload decoder on any payload: it accepts exactly the layout of
 * wire.h, and what it accepts encodes back to the same bytes. */
static void check_request(struct fuzz *fz, const uint8_t *p, size_t len, struct wbuf *w)
{
	struct rbuf r;
	struct wire_request rq;
	rbuf_init(&r, p, len);
	int rc = wire_get_request(&r, &rq);
	bool ok = len >= 8 && le32_read(p + 4) == len - 8;
	FZ_ASSERT(fz, rc == (ok ? 0 : -EBADMSG), "REQUEST of %zu bytes: %d", len, rc);
	if (rc < 0)
		return;
	FZ_ASSERT(fz, rq.body == p + 8 && rq.body_len == len - 8, "REQUEST body misplaced");
	wbuf_reset(w);
	wire_put_request(w, rq.op, rq.flags, rq.body, rq.body_len);
	FZ_ASSERT(fz, w->len == len && memcmp(w->data, p, len) == 0, "REQUEST does not round-trip");
}

static void check_sync(struct fuzz *fz, const uint8_t *p, size_t len, struct wbuf *w)
{
	struct rbuf r;
	struct wire_sync s;
	rbuf_init(&r, p, len);
	int rc = wire_get_sync(&r, &s);
	bool ok = len >= 60;
	if (ok) {
		uint64_t promise = get_le(p + 20, 8), epoch = get_le(p + 28, 8);
		uint64_t applied = get_le(p + 36, 8), n_tail = le32_read(p + 52);
		uint64_t qinfo = le32_read(p + 56);
		ok = get_le(p, 2) <= get_le(p + 2, 2) && epoch <= promise &&
		     n_tail <= WIRE_SYNC_MAX_TAIL && qinfo <= WIRE_SYNC_MAX_QINFO &&
		     len - 60 == n_tail * 8 + qinfo && applied <= UINT64_MAX - n_tail;
	}
	FZ_ASSERT(fz, rc == (ok ? 0 : -EBADMSG), "SYNC of %zu bytes: %d", len, rc);
	if (rc < 0)
		return;
	uint64_t *tail = malloc((s.n_tail + 1) * sizeof(*tail));
	ck_assert_ptr_nonnull(tail);
	for (uint32_t i = 0; i < s.n_tail; i++)
		tail[i] = rbuf_get_u64(&r);
	const uint8_t *qinfo = rbuf_get_bytes(&r, s.qinfo_len);
	FZ_ASSERT(fz, !rbuf_error(&r) && rbuf_left(&r) == 0, "SYNC tail and quorum info misplaced");
	wbuf_reset(w);
	wire_put_sync(w, &s, tail, qinfo);
	free(tail);
	FZ_ASSERT(fz, w->len == len && memcmp(w->data, p, len) == 0, "SYNC does not round-trip");
}

static void check_epoch_ack(struct fuzz *fz, const uint8_t *p, size_t len, struct wbuf *w)
{
	struct rbuf r;
	struct wire_epoch_ack a;
	rbuf_init(&r, p, len);
	int rc = wire_get_epoch_ack(&r, &a);
	FZ_ASSERT(fz, rc == (len == 20 ? 0 : -EBADMSG), "EPOCH_ACK of %zu bytes: %d", len, rc);
	if (rc < 0)
		return;
	wbuf_reset(w);
	wire_put_epoch_ack(w, &a);
	FZ_ASSERT(fz, w->len == len && memcmp(w->data, p, len) == 0, "EPOCH_ACK does not round-trip");
}

static void check_snapshot(struct fuzz *fz, const uint8_t *p, size_t len, struct wbuf *w)
{
	struct rbuf r;
	struct wire_snapshot s;
	rbuf_init(&r, p, len);
	int rc = wire_get_snapshot(&r, &s);
	bool ok = len >= 44 && le32_read(p + 40) == len - 44;
	if (ok) {
		uint64_t total = le32_read(p + 28), off = le32_read(p + 32), n = len - 44;
		ok = n <= WIRE_CHUNK_DATA_BYTES && off <= total && n <= total - off;
	}
	FZ_ASSERT(fz, rc == (ok ? 0 : -EBADMSG), "SNAPSHOT of %zu bytes: %d", len, rc);
	if (rc < 0)
		return;
	FZ_ASSERT(fz, s.data == p + 44 && s.data_len == len - 44, "SNAPSHOT data misplaced");
	wbuf_reset(w);
	wire_put_snapshot(w, &s);
	FZ_ASSERT(fz, w->len == len && memcmp(w->data, p, len) == 0, "SNAPSHOT does not round-trip");
}

START_TEST(test_fuzz_wire_decoders)
{
	struct fz_record rec[2];
	record(&rec[0], KIND_CONTROL);
	record(&rec[1], KIND_MLOG);
	struct fuzz fz;
	struct wbuf w, out;
	wbuf_init(&w);
	wbuf_init(&out);
	unsigned accepted = 0;
	fuzz_begin(&fz, "wire_decoders", 20000);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		fuzz_mutant(&fz, &w, &rec[fz_below(&fz, 2)].msgs);
		if (w.len >= 12 && fz_chance(&fz, 50))
			le32_write(w.data + 8, (uint32_t)w.len);
		uint8_t *m = fuzz_exact(w.data, w.len);
		check_header(&fz, m, w.len);
		accepted += expect_header(m, w.len) == 0;
		/* every payload decoder on the payload, whatever the type says */
		size_t off = w.len >= WIRE_HEADER_BYTES ? WIRE_HEADER_BYTES : w.len;
		uint8_t *p = fuzz_exact(m + off, w.len - off);
		check_request(&fz, p, w.len - off, &out);
		check_sync(&fz, p, w.len - off, &out);
		check_epoch_ack(&fz, p, w.len - off, &out);
		check_snapshot(&fz, p, w.len - off, &out);
		free(p);
		free(m);
	}
	fprintf(stderr, "check_fuzz: wire_decoders: %u headers accepted\n", accepted);
	wbuf_done(&w);
	wbuf_done(&out);
	fz_record_done(&rec[0]);
	fz_record_done(&rec[1]);
}
END_TEST

/* ---- service operations and saved states from peers (tests/fuzz-service.c) */

START_TEST(test_fuzz_control_ops)
{
	fuzz_service(KIND_CONTROL, "control_ops", 6000);
}
END_TEST

START_TEST(test_fuzz_mlog_ops)
{
	fuzz_service(KIND_MLOG, "mlog_ops", 6000);
}
END_TEST

/* ---- IPC payloads ------------------------------------------------------------ */

static void ipc_corpus(struct fuzz *fz, struct fuzz_corpus *c)
{
	char keys[5][BLKSPACE_PROPERTY_KEY_MAX + 1], values[5][BLKSPACE_PROPERTY_VALUE_MAX + 1];
	const char *k[5], *v[5];
	struct wbuf w;
	wbuf_init(&w);
	for (size_t n = 1; n <= 5; n++) {
		for (size_t i = 0; i < n; i++) {
			size_t kl = n == 5 && i == 0 ? BLKSPACE_PROPERTY_KEY_MAX : 1 + i;
			size_t vl = n == 5 && i == 0 ? BLKSPACE_PROPERTY_VALUE_MAX : fz_below(fz, 12);
			memset(keys[i], 'a' + (int)i, kl);
			keys[i][kl] = '\0';
			memset(values[i], 'A' + (int)i, vl);
			values[i][vl] = '\0';
			k[i] = keys[i];
			v[i] = values[i];
		}
		for (int with_values = 0; with_values <= 1; with_values++) {
			wbuf_reset(&w);
			ipc_encode_properties(&w, k, with_values ? v : NULL, n);
			corpus_add(c, (uint32_t)with_values, 0, w.data, w.len);
		}
	}
	wbuf_done(&w);
}

/* An independent reading of the payload: u16 n, n x (str key [, str value]). */
static int expect_ipc(const uint8_t *p, size_t len, int with_values, size_t max)
{
	struct rbuf r;
	rbuf_init(&r, p, len);
	size_t n = rbuf_get_u16(&r);
	if (rbuf_error(&r) || n == 0)
		return -EBADMSG;
	if (n > max)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k <= with_values; k++) {
			size_t sl = rbuf_get_u16(&r);
			const uint8_t *sp = rbuf_get_bytes(&r, sl);
			size_t lim = k ? BLKSPACE_PROPERTY_VALUE_MAX : BLKSPACE_PROPERTY_KEY_MAX;
			if (!sp || sl > lim || memchr(sp, '\0', sl))
				return -EBADMSG;
			char key[BLKSPACE_PROPERTY_KEY_MAX + 1];
			memcpy(key, sp, k ? 0 : sl);
			key[k ? 0 : sl] = '\0';
			if (!k && !blkspace_property_key_is_valid(key))
				return -EBADMSG;
		}
	}
	return rbuf_left(&r) ? -EBADMSG : (int)n;
}

START_TEST(test_fuzz_ipc_properties)
{
	struct fuzz fz;
	struct fuzz_corpus c = { 0 };
	struct wbuf w, again;
	wbuf_init(&w);
	wbuf_init(&again);
	unsigned accepted = 0;
	fuzz_begin(&fz, "ipc_properties", 20000);
	struct fuzz fixed = { .rng = RECORD_SEED };
	ipc_corpus(&fixed, &c);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		const struct fuzz_item *it = fuzz_mutant(&fz, &w, &c);
		int with_values = fz_chance(&fz, 80) ? (int)it->tag : !it->tag;
		size_t max = fz_below(&fz, 8);
		struct ipc_property *out = malloc(max ? max * sizeof(*out) : 1);
		uint8_t *p = fuzz_exact(w.data, w.len);
		int rc = ipc_decode_properties(p, w.len, with_values, out, max);
		int want = expect_ipc(p, w.len, with_values, max);
		FZ_ASSERT(&fz, rc == want, "%zu-byte payload (values: %d, max %zu): %d, expected %d",
		          w.len, with_values, max, rc, want);
		if (rc > 0) { /* what it decoded encodes back to the same bytes */
			const char *k[8], *v[8];
			for (int j = 0; j < rc; j++) {
				k[j] = out[j].key;
				v[j] = out[j].value;
			}
			wbuf_reset(&again);
			ipc_encode_properties(&again, k, with_values ? v : NULL, (size_t)rc);
			FZ_ASSERT(&fz, again.len == w.len && memcmp(again.data, p, w.len) == 0,
			          "decoded properties do not encode back to the payload");
			accepted++;
		}
		free(p);
		free(out);
	}
	fprintf(stderr, "check_fuzz: ipc_properties: %u payloads accepted\n", accepted);
	wbuf_done(&w);
	wbuf_done(&again);
	corpus_done(&c);
}
END_TEST

/* ---- the on-disk mirror log ------------------------------------------------- */

/* What mlog_disk_decode must answer (the rules in mlog-disk.h and .c). */
static int expect_disk(const uint8_t *buf, size_t len, uint64_t nr, uint8_t *clean)
{
	if (len < 16)
		return BLKSPACE_E_CORRUPT;
	if (le32_read(buf) != MLOG_DISK_MAGIC)
		return -ENODATA;
	uint32_t version = le32_read(buf + 4);
	if (version != MLOG_DISK_VERSION && version != 1)
		return BLKSPACE_E_CORRUPT;
	uint64_t stored = get_le(buf + 8, 8), kept = stored < nr ? stored : nr;
	if (len < MLOG_DISK_BITMAP_OFFSET || len - MLOG_DISK_BITMAP_OFFSET < (kept + 7) / 8)
		return BLKSPACE_E_CORRUPT;
	memset(clean, 0, (size_t)((nr + 7) / 8));
	for (uint64_t i = 0; i < kept; i++)
		if (bit_is_set(buf + MLOG_DISK_BITMAP_OFFSET, i))
			clean[i / 8] |= (uint8_t)(1u << (i % 8));
	return 0;
}

START_TEST(test_fuzz_mlog_disk_decode)
{
	struct fuzz fz;
	struct fuzz_corpus c = { 0 };
	struct fuzz fixed = { .rng = RECORD_SEED };
	static const uint64_t sizes[] = { 0, 1, 7, 8, 9, 64, 100, 1000, 8192, 8200, 30000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t bytes = (size_t)((sizes[i] + 7) / 8);
		uint8_t *bits = malloc(bytes + 1), *buf = malloc(mlog_disk_size(sizes[i]));
		fill_random(&fixed, bits, bytes + 1);
		mlog_disk_encode(buf, sizes[i], bits);
		corpus_add(&c, 0, 0, buf, mlog_disk_size(sizes[i]));
		free(bits);
		free(buf);
	}
	struct wbuf w;
	wbuf_init(&w);
	unsigned accepted = 0;
	fuzz_begin(&fz, "mlog_disk_decode", 10000);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		fuzz_mutant(&fz, &w, &c);
		if (fz_chance(&fz, 50)) { /* most bytes are bitmap: aim at the header too */
			struct wbuf head = { .data = w.data, .len = w.len < 16 ? w.len : 16 };
			mutate_field(&fz, &head, fz_chance(&fz, 50));
		}
		uint64_t stored = w.len >= 16 ? get_le(w.data + 8, 8) : 0;
		uint64_t nr = fz_chance(&fz, 40) && stored < 40000 ? stored : fz_below(&fz, 40000);
		size_t out_len = (size_t)((nr + 7) / 8);
		uint8_t *p = fuzz_exact(w.data, w.len), *clean = malloc(out_len + 1);
		uint8_t *want = malloc(out_len + 1);
		int rc = mlog_disk_decode(p, w.len, nr, clean);
		int want_rc = expect_disk(p, w.len, nr, want);
		FZ_ASSERT(&fz, rc == want_rc, "%zu bytes for %llu regions: %d, expected %d", w.len,
		          (unsigned long long)nr, rc, want_rc);
		FZ_ASSERT(&fz, rc < 0 || memcmp(clean, want, out_len) == 0,
		          "the bitmap for %llu regions differs", (unsigned long long)nr);
		accepted += rc == 0;
		free(p);
		free(clean);
		free(want);
	}
	fprintf(stderr, "check_fuzz: mlog_disk_decode: %u logs accepted\n", accepted);
	wbuf_done(&w);
	corpus_done(&c);
}
END_TEST

/* ---- journal frames, snapshots and journal records ------------------------ */

struct scanned {
	struct wbuf reframed; /* every record handed over, framed again */
	unsigned n, fail_at;  /* on_record fails with -EIO at record fail_at (0: never) */
	const uint8_t *data;
	size_t len;
	bool inside;
};

static int on_scanned(void *data, const void *rec, size_t len)
{
	struct scanned *sc = data;
	sc->inside &= (const uint8_t *)rec >= sc->data && len <= sc->len &&
	              (const uint8_t *)rec - sc->data <= (ptrdiff_t)(sc->len - len);
	journal_frame_put(&sc->reframed, rec, len);
	return ++sc->n == sc->fail_at ? -EIO : 0;
}

/* Where the intact frames of data[len] end, and whether what follows is a
 * torn tail (per journal-frame.h) or damage. */
static long expect_scan(const uint8_t *data, size_t len)
{
	size_t off = 0;
	while (off + JOURNAL_FRAME_BYTES <= len) {
		uint32_t n = le32_read(data + off);
		bool zeros = true;
		if (n == 0 || n > JOURNAL_RECORD_MAX) {
			for (size_t i = off; i < len; i++)
				zeros &= data[i] == 0;
			return n == 0 && zeros ? (long)off : BLKSPACE_E_CORRUPT;
		}
		if (n > len - off - JOURNAL_FRAME_BYTES)
			return (long)off;
		uint8_t b[4];
		le32_write(b, n);
		uint32_t crc = crc32c(crc32c(0, b, 4), data + off + JOURNAL_FRAME_BYTES, n);
		size_t end = off + JOURNAL_FRAME_BYTES + n;
		if (crc != le32_read(data + off + 4)) {
			for (size_t i = end; i < len; i++)
				zeros &= data[i] == 0;
			return zeros ? (long)off : BLKSPACE_E_CORRUPT;
		}
		off = end;
	}
	return (long)off;
}

START_TEST(test_fuzz_journal_frames)
{
	struct fz_record rec;
	record(&rec, KIND_CONTROL);
	struct fuzz_corpus journals = { 0 };
	struct fuzz fixed = { .rng = RECORD_SEED };
	struct wbuf w;
	wbuf_init(&w);
	for (int k = 0; k < 32; k++) { /* journals of real records, some with a zero tail */
		wbuf_reset(&w);
		for (uint64_t n = 1 + fz_below(&fixed, 12); n > 0; n--) {
			const struct fuzz_item *it = corpus_pick(&fixed, &rec.journal);
			journal_frame_put(&w, it->data, it->len);
		}
		if (k % 4 == 0)
			ck_assert_ptr_nonnull(memset(wbuf_reserve(&w, 64), 0, 64));
		corpus_add(&journals, 0, 0, w.data, w.len);
	}
	struct fuzz fz;
	fuzz_begin(&fz, "journal_frames", 10000);
	for (unsigned i = 0; fuzz_next(&fz, i); i++) {
		fuzz_mutant(&fz, &w, &journals);
		struct scanned sc = { .data = fuzz_exact(w.data, w.len), .len = w.len, .inside = true };
		sc.fail_at = fz_chance(&fz, 10) ? 1 + (unsigned)fz_below(&fz, 4) : 0;
		wbuf_init(&sc.reframed);
		struct store_load_callbacks cb = { .on_record = on_scanned };
		long rc = journal_frame_scan(sc.data, w.len, &cb, &sc), want = expect_scan(sc.data, w.len);
		FZ_ASSERT(&fz, sc.inside, "a record handed over lies outside the journal");
		if (sc.fail_at && sc.n == sc.fail_at)
			FZ_ASSERT(&fz, rc == -EIO, "the callback's error became %ld", rc);
		else
			FZ_ASSERT(&fz, rc == want, "%zu-byte journal: %ld, expected %ld", w.len, rc, want);
		if (rc >= 0) /* exactly the intact prefix was handed over, record by record */
			FZ_ASSERT(&fz, sc.reframed.len == (size_t)rc &&
			                   (rc == 0 || memcmp(sc.reframed.data, sc.data, (size_t)rc) == 0),
			          "records handed over differ from the intact prefix");
		wbuf_done(&sc.reframed);
		free((void *)sc.data);
	}
	wbuf_done(&w);
	corpus_done(&journals);
	fz_record_done(&rec);
}
END_TEST

START_TEST(test_fuzz_restore_and_replay)
{
	fuzz_restore("restore_and_replay", 400);
}
END_TEST

/* ---- the domain engine (tests/fuzz-engine.c) ------------------------------- */

START_TEST(test_fuzz_control_domain)
{
	fuzz_engine(KIND_CONTROL, "control_domain", 300);
}
END_TEST

START_TEST(test_fuzz_mlog_domain)
{
	fuzz_engine(KIND_MLOG, "mlog_domain", 300);
}
END_TEST

/* ---- suite ---------------------------------------------------------------- */

static Suite *fuzz_suite(void)
{
	Suite *s = suite_create("fuzz");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "ulog_decode", test_fuzz_ulog_decode },
		{ "direct_datagrams", test_fuzz_direct_datagrams },
		{ "control_domain", test_fuzz_control_domain },
		{ "mlog_domain", test_fuzz_mlog_domain },
		{ "wire_decoders", test_fuzz_wire_decoders },
		{ "control_ops", test_fuzz_control_ops },
		{ "mlog_ops", test_fuzz_mlog_ops },
		{ "ipc_properties", test_fuzz_ipc_properties },
		{ "mlog_disk_decode", test_fuzz_mlog_disk_decode },
		{ "journal_frames", test_fuzz_journal_frames },
		{ "restore_and_replay", test_fuzz_restore_and_replay },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, TIMEOUT_S);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return check_run(fuzz_suite());
}
