/* privmsg.h - the messages between kizunad's unprivileged child and its
 * privileged parent (src/daemon/privsep.c).
 *
 * The child asks, the parent answers: one request, one reply, each one
 * SOCK_SEQPACKET datagram; a descriptor (TUN queue, socket) comes with the
 * reply as SCM_RIGHTS.  Every request type has a fixed set of fields, and
 * privmsg_decode() checks each one (device name charset and length, prefix
 * length, ports 500 and 4500 only, text size, archive version 1..10), so the
 * parent acts only on what the protocol names.  Pure: no system calls.
 *
 * privmsg_broker is the hook of the layers below the daemon (net, dp): NULL
 * (the default, and always in the parent) means "do it yourself"; in the
 * child it sends the request to the parent and waits for the reply. */
#ifndef KZ_PRIVMSG_H
#define KZ_PRIVMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum privmsg_type {
	PRIVMSG_REPLY = 1,     /* rc, id, text (error message or file content) */
	PRIVMSG_LINK_UP,       /* ifname, up */
	PRIVMSG_LINK_MTU,      /* ifname, mtu */
	PRIVMSG_ADDR_ADD,      /* ifname, addr, plen */
	PRIVMSG_ADDR_DEL,      /* ifname, addr, plen */
	PRIVMSG_ROUTE_ADD,     /* rtype, dst, plen, metric, ifname (may be ""), gw */
	PRIVMSG_ROUTE_DEL,     /* the same; rtype may be 0 (any) */
	PRIVMSG_ROUTE_DEL_OWN, /* a listed route: the fields of struct kz_net_route */
	PRIVMSG_TUN_OPEN,      /* ifname, flags (KZ_TUN_*) -> fd */
	PRIVMSG_UDP_OPEN,      /* port (500 or 4500) -> fd */
	PRIVMSG_ESP_OPEN,      /* -> raw IPPROTO_ESP fd */
	PRIVMSG_SAVE_CONFIG,   /* uid, text: write memory */
	PRIVMSG_READ_STARTUP,  /* -> text */
	PRIVMSG_READ_ARCHIVE,  /* version -> text */
	/* console ping/traceroute: tool, addr, prefsrc, count, size -> pipe fd, id */
	PRIVMSG_JOB_START,
	PRIVMSG_JOB_END, /* id, up (stop it first) -> id = its wait status */
	/* the metrics file: path (the parent's config must name it), text */
	PRIVMSG_METRICS_WRITE,
	PRIVMSG_METRICS_REMOVE, /* path */
	/* a console peer: uid, gid -> id = its role (lib/role.h), text = name */
	PRIVMSG_USER_ROLE,
	PRIVMSG_BUS_OPEN, /* -> a stream socket connected to the system bus as the child's user */
	PRIVMSG_TYPE_MAX,
};

/* Largest text (a config file, as cli.h's CLI_MAX_FILE) and the largest
 * datagram (the socketpair's buffers are sized for it). */
#define PRIVMSG_TEXT_MAX (1024u * 1024u)
#define PRIVMSG_MAX (PRIVMSG_TEXT_MAX + 128u)
#define PRIVMSG_IFNAMSIZ 16
#define PRIVMSG_ARCHIVE_MAX 10
#define PRIVMSG_PATH_MAX 256
#define PRIVMSG_TOOL_PING 1
#define PRIVMSG_TOOL_TRACEROUTE 2

struct privmsg {
	uint16_t type;
	char ifname[PRIVMSG_IFNAMSIZ];
	bool up, has_gw, has_prefsrc;
	uint8_t plen, rtype, tos, protocol, scope;
	uint32_t addr, gw, prefsrc; /* network order */
	uint32_t mtu, metric, table, flags, uid, gid, version;
	int32_t oif, rc, id;
	uint8_t tool;
	uint32_t count, size;
	uint16_t port;
	char path[PRIVMSG_PATH_MAX]; /* absolute, NUL-terminated */
	const uint8_t *text;         /* not NUL-terminated; in the decoded buffer */
	size_t text_len;
};

/* Writes m into out (cap bytes); *len gets the size.  KZ_ENOSPC, or
 * KZ_EINVAL for a message that privmsg_decode would refuse. */
int privmsg_encode(const struct privmsg *m, uint8_t *out, size_t cap, size_t *len);
/* Reads and checks one message; m->text points into in.  KZ_ETRUNC,
 * KZ_EPROTO (unknown type, trailing bytes) or KZ_EINVAL (a field out of
 * range). */
int privmsg_decode(const uint8_t *in, size_t len, struct privmsg *m);
/* A device name the parent takes: 1-15 of [A-Za-z0-9._-], not "." or "..". */
bool privmsg_ifname_ok(const char *s, bool empty_ok);
const char *privmsg_type_name(unsigned type);

/* The child's way to the parent; NULL in the parent and in a single
 * process.  req in, *reply out (its text valid until the next call), *fd
 * the descriptor that came with it or -1.  Returns the reply's rc. */
typedef int (*privmsg_broker_fn)(const struct privmsg *req, struct privmsg *reply, int *fd);
extern privmsg_broker_fn privmsg_broker;

#endif
