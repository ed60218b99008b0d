/* privmsg.c - encoding and checking of the privilege-separation messages
 * (privmsg.h).  One field list per type, walked by the same code in both
 * directions, so the encoder and the decoder cannot disagree. */
#include <string.h>

#include "lib/err.h"
#include "lib/privmsg.h"

privmsg_broker_fn privmsg_broker;

struct codec {
	bool enc;
	struct wbuf w;
	struct buf r;
	int err;
};

static void c_u8(struct codec *c, uint8_t *v)
{
	if (c->err)
		return;
	c->err = c->enc ? wbuf_put_u8(&c->w, *v) : buf_get_u8(&c->r, v);
}

static void c_bool(struct codec *c, bool *v)
{
	uint8_t b = *v ? 1 : 0;

	c_u8(c, &b);
	if (!c->err && !c->enc) {
		if (b > 1)
			c->err = KZ_EINVAL;
		*v = b;
	}
}

static void c_u16(struct codec *c, uint16_t *v)
{
	if (c->err)
		return;
	c->err = c->enc ? wbuf_put_u16(&c->w, *v) : buf_get_u16(&c->r, v);
}

static void c_u32(struct codec *c, uint32_t *v)
{
	if (c->err)
		return;
	c->err = c->enc ? wbuf_put_u32(&c->w, *v) : buf_get_u32(&c->r, v);
}

static void c_i32(struct codec *c, int32_t *v)
{
	uint32_t u = (uint32_t)*v;

	c_u32(c, &u);
	if (!c->enc)
		*v = (int32_t)u;
}

/* Addresses travel as they are stored (network order), byte by byte. */
static void c_addr(struct codec *c, uint32_t *v)
{
	if (c->err)
		return;
	c->err = c->enc ? wbuf_put_bytes(&c->w, v, 4) : buf_get_bytes(&c->r, v, 4);
}

static void c_ifname(struct codec *c, char *name, bool empty_ok)
{
	uint8_t n = 0;
	const uint8_t *p;

	if (c->err)
		return;
	if (c->enc) {
		size_t l = strnlen(name, PRIVMSG_IFNAMSIZ);

		if (l >= PRIVMSG_IFNAMSIZ || !privmsg_ifname_ok(name, empty_ok)) {
			c->err = KZ_EINVAL;
			return;
		}
		n = (uint8_t)l;
		c_u8(c, &n);
		if (!c->err)
			c->err = wbuf_put_bytes(&c->w, name, n);
		return;
	}
	c_u8(c, &n);
	if (c->err)
		return;
	if (n >= PRIVMSG_IFNAMSIZ) {
		c->err = KZ_EINVAL;
		return;
	}
	c->err = buf_get_ptr(&c->r, n, &p);
	if (c->err)
		return;
	memcpy(name, p, n);
	name[n] = '\0';
	if (memchr(name, '\0', n) || !privmsg_ifname_ok(name, empty_ok))
		c->err = KZ_EINVAL;
}

/* An absolute path of 2-255 bytes, no NUL, no "/../" or "/./" step. */
static bool path_ok(const char *p)
{
	size_t n = strnlen(p, PRIVMSG_PATH_MAX);

	if (n < 2 || n >= PRIVMSG_PATH_MAX || p[0] != '/')
		return false;
	return !strstr(p, "/../") && !strstr(p, "/./") &&
		strcmp(p + n - 3 > p ? p + n - 3 : p, "/..");
}

static void c_path(struct codec *c, char *path)
{
	uint8_t n = 0;

	if (c->err)
		return;
	if (c->enc) {
		if (!path_ok(path)) {
			c->err = KZ_EINVAL;
			return;
		}
		n = (uint8_t)strlen(path);
		c_u8(c, &n);
		if (!c->err)
			c->err = wbuf_put_bytes(&c->w, path, n);
		return;
	}
	c_u8(c, &n);
	if (!c->err)
		c->err = buf_get_bytes(&c->r, path, n);
	if (c->err)
		return;
	path[n] = '\0';
	if (memchr(path, '\0', n) || !path_ok(path))
		c->err = KZ_EINVAL;
}

static void c_text(struct codec *c, struct privmsg *m)
{
	uint32_t n =
		(uint32_t)(m->text_len > PRIVMSG_TEXT_MAX ? PRIVMSG_TEXT_MAX + 1 : m->text_len);

	if (c->enc && (n > PRIVMSG_TEXT_MAX || (n && !m->text))) {
		c->err = c->err ? c->err : KZ_EINVAL;
		return;
	}
	c_u32(c, &n);
	if (c->err)
		return;
	if (c->enc) {
		c->err = wbuf_put_bytes(&c->w, m->text, n);
		return;
	}
	if (n > PRIVMSG_TEXT_MAX) {
		c->err = KZ_EINVAL;
		return;
	}
	c->err = buf_get_ptr(&c->r, n, &m->text);
	m->text_len = n;
}

bool privmsg_ifname_ok(const char *s, bool empty_ok)
{
	size_t n = strnlen(s, PRIVMSG_IFNAMSIZ);

	if (n >= PRIVMSG_IFNAMSIZ)
		return false;
	if (n == 0)
		return empty_ok;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* RTN_UNSPEC (only to delete), UNICAST, BLACKHOLE, UNREACHABLE, PROHIBIT. */
static bool rtype_ok(uint8_t t, bool adding)
{
	return (t == 0 && !adding) || t == 1 || t == 6 || t == 7 || t == 8;
}

static int check(const struct privmsg *m)
{
	switch (m->type) {
	case PRIVMSG_LINK_MTU:
		return m->mtu >= 68 && m->mtu <= 65535 ? 0 : KZ_EINVAL;
	case PRIVMSG_ADDR_ADD:
	case PRIVMSG_ADDR_DEL:
		return m->plen <= 32 ? 0 : KZ_EINVAL;
	case PRIVMSG_ROUTE_ADD:
	case PRIVMSG_ROUTE_DEL:
	case PRIVMSG_ROUTE_DEL_OWN:
		if (m->plen > 32 || !rtype_ok(m->rtype, m->type == PRIVMSG_ROUTE_ADD))
			return KZ_EINVAL;
		return m->oif >= 0 ? 0 : KZ_EINVAL;
	case PRIVMSG_TUN_OPEN:
		return m->flags & ~3u ? KZ_EINVAL : 0;
	case PRIVMSG_UDP_OPEN:
		return m->port == 500 || m->port == 4500 ? 0 : KZ_EINVAL;
	case PRIVMSG_READ_ARCHIVE:
		return m->version >= 1 && m->version <= PRIVMSG_ARCHIVE_MAX ? 0 : KZ_EINVAL;
	case PRIVMSG_JOB_START:
		/* the console grammar's ranges: count 1-1000, size 0-65507 */
		if (m->tool != PRIVMSG_TOOL_PING && m->tool != PRIVMSG_TOOL_TRACEROUTE)
			return KZ_EINVAL;
		return m->count >= 1 && m->count <= 1000 && m->size <= 65507 ? 0 : KZ_EINVAL;
	case PRIVMSG_JOB_END:
		return m->id > 0 ? 0 : KZ_EINVAL;
	default:
		return 0;
	}
}

static int walk(struct codec *c, struct privmsg *m)
{
	c_u16(c, &m->type);
	if (c->err)
		return c->err;
	if (m->type < PRIVMSG_REPLY || m->type >= PRIVMSG_TYPE_MAX)
		return KZ_EPROTO;
	switch (m->type) {
	case PRIVMSG_REPLY:
		c_i32(c, &m->rc);
		c_i32(c, &m->id);
		c_text(c, m);
		break;
	case PRIVMSG_LINK_UP:
		c_ifname(c, m->ifname, false);
		c_bool(c, &m->up);
		break;
	case PRIVMSG_LINK_MTU:
		c_ifname(c, m->ifname, false);
		c_u32(c, &m->mtu);
		break;
	case PRIVMSG_ADDR_ADD:
	case PRIVMSG_ADDR_DEL:
		c_ifname(c, m->ifname, false);
		c_addr(c, &m->addr);
		c_u8(c, &m->plen);
		break;
	case PRIVMSG_ROUTE_ADD:
	case PRIVMSG_ROUTE_DEL:
		c_u8(c, &m->rtype);
		c_addr(c, &m->addr);
		c_u8(c, &m->plen);
		c_u32(c, &m->metric);
		c_ifname(c, m->ifname, true);
		c_bool(c, &m->has_gw);
		c_addr(c, &m->gw);
		break;
	case PRIVMSG_ROUTE_DEL_OWN:
		c_u8(c, &m->rtype);
		c_addr(c, &m->addr);
		c_u8(c, &m->plen);
		c_u8(c, &m->tos);
		c_u8(c, &m->protocol);
		c_u8(c, &m->scope);
		c_u32(c, &m->table);
		c_u32(c, &m->metric);
		c_i32(c, &m->oif);
		c_bool(c, &m->has_gw);
		c_addr(c, &m->gw);
		c_bool(c, &m->has_prefsrc);
		c_addr(c, &m->prefsrc);
		break;
	case PRIVMSG_TUN_OPEN:
		c_ifname(c, m->ifname, false);
		c_u32(c, &m->flags);
		break;
	case PRIVMSG_UDP_OPEN:
		c_u16(c, &m->port);
		break;
	case PRIVMSG_SAVE_CONFIG:
		c_u32(c, &m->uid);
		c_text(c, m);
		break;
	case PRIVMSG_READ_ARCHIVE:
		c_u32(c, &m->version);
		break;
	case PRIVMSG_JOB_START:
		c_u8(c, &m->tool);
		c_addr(c, &m->addr);
		c_bool(c, &m->has_prefsrc);
		c_addr(c, &m->prefsrc);
		c_u32(c, &m->count);
		c_u32(c, &m->size);
		break;
	case PRIVMSG_JOB_END:
		c_i32(c, &m->id);
		c_bool(c, &m->up);
		break;
	case PRIVMSG_METRICS_WRITE:
		c_path(c, m->path);
		c_text(c, m);
		break;
	case PRIVMSG_METRICS_REMOVE:
		c_path(c, m->path);
		break;
	case PRIVMSG_USER_ROLE:
		c_u32(c, &m->uid);
		c_u32(c, &m->gid);
		break;
	default: /* ESP_OPEN, READ_STARTUP, BUS_OPEN: the type alone */
		break;
	}
	if (c->err)
		return c->err;
	if (!c->enc && buf_left(&c->r))
		return KZ_EPROTO;
	return check(m);
}

int privmsg_encode(const struct privmsg *m, uint8_t *out, size_t cap, size_t *len)
{
	struct codec c = { .enc = true };
	struct privmsg tmp = *m;
	int r;

	*len = 0;
	r = check(m);
	if (r)
		return r;
	wbuf_init(&c.w, out, cap);
	r = walk(&c, &tmp);
	if (r)
		return r == KZ_EPROTO ? KZ_EINVAL : r;
	if (c.w.overflow)
		return KZ_ENOSPC;
	*len = c.w.len;
	return 0;
}

int privmsg_decode(const uint8_t *in, size_t len, struct privmsg *m)
{
	struct codec c = { .enc = false };

	memset(m, 0, sizeof(*m));
	buf_init(&c.r, in, len);
	return walk(&c, m);
}

const char *privmsg_type_name(unsigned type)
{
	static const char *const names[PRIVMSG_TYPE_MAX] = {
		[PRIVMSG_REPLY] = "reply",
		[PRIVMSG_LINK_UP] = "link-up",
		[PRIVMSG_LINK_MTU] = "link-mtu",
		[PRIVMSG_ADDR_ADD] = "addr-add",
		[PRIVMSG_ADDR_DEL] = "addr-del",
		[PRIVMSG_ROUTE_ADD] = "route-add",
		[PRIVMSG_ROUTE_DEL] = "route-del",
		[PRIVMSG_ROUTE_DEL_OWN] = "route-del-own",
		[PRIVMSG_TUN_OPEN] = "tun-open",
		[PRIVMSG_UDP_OPEN] = "udp-open",
		[PRIVMSG_ESP_OPEN] = "esp-open",
		[PRIVMSG_SAVE_CONFIG] = "save-config",
		[PRIVMSG_READ_STARTUP] = "read-startup",
		[PRIVMSG_READ_ARCHIVE] = "read-archive",
		[PRIVMSG_JOB_START] = "job-start",
		[PRIVMSG_JOB_END] = "job-end",
		[PRIVMSG_METRICS_WRITE] = "metrics-write",
		[PRIVMSG_METRICS_REMOVE] = "metrics-remove",
		[PRIVMSG_USER_ROLE] = "user-role",
		[PRIVMSG_BUS_OPEN] = "bus-open",
	};

	return type < PRIVMSG_TYPE_MAX && names[type] ? names[type] : "?";
}
