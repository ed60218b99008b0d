/* ident.c - IKE identities on the wire (RFC 2407 4.6.2): our ID payload
 * body from the IKE policy, matching the peer's against `remote-id`, and
 * printable forms for logs, show and diagnosis. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ike/exchange.h"
static uint8_t id_type_of(enum kz_id_type t)
{
	switch (t) {
	case KZ_ID_KEY_ID:
		return ISAKMP_ID_KEY_ID;
	case KZ_ID_FQDN:
		return ISAKMP_ID_FQDN;
	case KZ_ID_USER_FQDN:
		return ISAKMP_ID_USER_FQDN;
	default:
		return ISAKMP_ID_IPV4_ADDR;
	}
}

size_t id_body_local(struct ike_engine *e, const struct kz_ike_policy *pol, const struct ike_sa *sa,
		     uint8_t *out, size_t cap)
{
	const struct kz_ident *id = &pol->local_id;
	size_t n;

	(void)e;
	if (cap < 8)
		return 0;
	memset(out, 0, 4);
	if (id->type == KZ_ID_NONE || id->type == KZ_ID_ADDRESS) {
		struct in_addr a = id->type == KZ_ID_ADDRESS ? id->addr : sa->local.sin_addr;

		out[0] = ISAKMP_ID_IPV4_ADDR;
		memcpy(out + 4, &a, 4);
		return 8;
	}
	out[0] = id_type_of(id->type);
	n = strnlen(id->value, sizeof(id->value));
	if (n > cap - 4)
		n = cap - 4;
	memcpy(out + 4, id->value, n);
	return 4 + n;
}

bool id_matches(const struct kz_ident *want, const uint8_t *body, size_t len)
{
	size_t n;

	if (len < 4)
		return false;
	if (want->type == KZ_ID_ADDRESS)
		return body[0] == ISAKMP_ID_IPV4_ADDR && len == 8 &&
			!memcmp(body + 4, &want->addr, 4);
	if (body[0] != id_type_of(want->type) || want->type == KZ_ID_NONE)
		return false;
	n = strnlen(want->value, sizeof(want->value));
	return len - 4 == n && !memcmp(body + 4, want->value, n);
}

static void printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < cap; i++)
		out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[o] = 0;
}

void id_body_str(const uint8_t *body, size_t len, char *out, size_t cap)
{
	char v[128];
	const char *t;

	if (len < 4) {
		snprintf(out, cap, "(malformed ID)");
		return;
	}
	if (body[0] == ISAKMP_ID_IPV4_ADDR && len == 8) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, body + 4, a, sizeof(a));
		snprintf(out, cap, "address %s", a);
		return;
	}
	switch (body[0]) {
	case ISAKMP_ID_KEY_ID:
		t = "key-id";
		break;
	case ISAKMP_ID_FQDN:
		t = "fqdn";
		break;
	case ISAKMP_ID_USER_FQDN:
		t = "user-fqdn";
		break;
	default:
		snprintf(out, cap, "ID type %u", body[0]);
		return;
	}
	printable(body + 4, len - 4, v, sizeof(v));
	snprintf(out, cap, "%s %s", t, v);
}

void ident_str(const struct kz_ident *id, char *out, size_t cap)
{
	char a[INET_ADDRSTRLEN];

	switch (id->type) {
	case KZ_ID_KEY_ID:
		snprintf(out, cap, "key-id %s", id->value);
		break;
	case KZ_ID_FQDN:
		snprintf(out, cap, "fqdn %s", id->value);
		break;
	case KZ_ID_USER_FQDN:
		snprintf(out, cap, "user-fqdn %s", id->value);
		break;
	case KZ_ID_ADDRESS:
		inet_ntop(AF_INET, &id->addr, a, sizeof(a));
		snprintf(out, cap, "address %s", a);
		break;
	default:
		snprintf(out, cap, "any");
	}
}

/* ---- SAs ---- */
