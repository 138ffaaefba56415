/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Payload codec of the property requests of the client <-> daemon protocol.
 * The daemon decodes what any local process sent it, so the decoder trusts
 * nothing: every count and length is checked before it is used, keys are
 * validated and the payload must be consumed exactly. */
#include "config.h"

#include "ipc-proto.h"

#include <blkspace/blkspace.h>

_Static_assert(sizeof(((struct ipc_property *)0)->key) == BLKSPACE_PROPERTY_KEY_MAX + 1,
               "ipc_property.key must hold BLKSPACE_PROPERTY_KEY_MAX bytes and a NUL");
_Static_assert(sizeof(((struct ipc_property *)0)->value) == BLKSPACE_PROPERTY_VALUE_MAX + 1,
               "ipc_property.value must hold BLKSPACE_PROPERTY_VALUE_MAX bytes and a NUL");

/* u16 n, then n x (str key[, str value]); values == NULL encodes an unset.
 * A count that does not fit the u16 latches -EMSGSIZE in w. */
void ipc_encode_properties(struct wbuf *w, const char *const *keys, const char *const *values,
                           size_t n)
{
	if (n > UINT16_MAX) {
		if (!w->error)
			w->error = -EMSGSIZE;
		return;
	}
	wbuf_put_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		wbuf_put_str(w, keys[i]);
		if (values)
			wbuf_put_str(w, values[i]);
	}
}

static int decode_one(struct rbuf *r, int with_values, struct ipc_property *p)
{
	rbuf_get_str(r, p->key, sizeof(p->key));
	if (with_values)
		rbuf_get_str(r, p->value, sizeof(p->value));
	else
		p->value[0] = '\0';
	if (rbuf_error(r))
		return -EBADMSG;
	return blkspace_property_key_is_valid(p->key) ? 0 : -EBADMSG;
}

int ipc_decode_properties(const void *payload, size_t len, int with_values,
                          struct ipc_property *out, size_t max)
{
	struct rbuf r;
	rbuf_init(&r, payload, len);
	size_t n = rbuf_get_u16(&r);
	if (rbuf_error(&r) || n == 0)
		return -EBADMSG;
	if (n > max)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		int rc = decode_one(&r, with_values, &out[i]);
		if (rc < 0)
			return rc;
	}
	rbuf_expect_end(&r);
	if (rbuf_error(&r))
		return -EBADMSG;
	return (int)n;
}
