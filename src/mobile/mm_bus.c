/* mm_bus.c - the ModemManager client over sd-bus (mobile/mm.h).  Reads
 * the objects with ObjectManager.GetManagedObjects, follows them with
 * InterfacesAdded/Removed and PropertiesChanged, and ModemManager itself
 * with NameOwnerChanged; every value goes into the model (mm_model.c).
 * The bus is never blocked on: every call is asynchronous. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mobile/mm.h"

struct mm_bus {
	sd_bus *bus;
	struct mm_world *w;
	struct mm_bus_ops ops;
	bool running, named;
	sd_bus_slot *get_slot;
};

static int64_t now(struct mm_bus *b)
{
	return b->ops.now ? b->ops.now(b->ops.arg) : 0;
}

static void changed(struct mm_bus *b)
{
	if (b->ops.changed)
		b->ops.changed(b->ops.arg);
}

static void put(struct mm_bus *b, const char *path, const char *iface, const char *key,
		const struct mm_val *v)
{
	mm_world_apply(b->w, path, iface, key, v, now(b));
}

/* A basic number of type 'u', 'i', 'b' or 'd' into v. */
static int read_number(sd_bus_message *m, char type, struct mm_val *v)
{
	union {
		uint32_t u;
		int32_t i;
		int b;
		double d;
	} x;
	int r = sd_bus_message_read_basic(m, type, &x);

	if (r < 0)
		return r;
	switch (type) {
	case 'u':
		v->type = MM_V_UINT;
		v->i = x.u;
		break;
	case 'i':
		v->type = MM_V_INT;
		v->i = x.i;
		break;
	case 'b':
		v->type = MM_V_BOOL;
		v->i = !!x.b;
		break;
	default:
		v->type = MM_V_DOUBLE;
		v->d = x.d;
		break;
	}
	return r;
}

static int read_dict(struct mm_bus *b, sd_bus_message *m, const char *path, const char *iface,
		     const char *prefix, int depth);

/* One variant whose signature is sig, already entered; depth 0 may hold a
 * dictionary that is flattened into "key.entry". */
static int read_value(struct mm_bus *b, sd_bus_message *m, const char *sig, const char *path,
		      const char *iface, const char *key, int depth)
{
	struct mm_val v = { 0 };
	int r = 0;

	switch (sig[0]) {
	case 's':
	case 'o': {
		const char *s;

		if ((r = sd_bus_message_read_basic(m, sig[0], &s)) < 0)
			return r;
		v.type = sig[0] == 's' ? MM_V_STR : MM_V_PATH;
		v.s = s;
		break;
	}
	case 'u':
	case 'i':
	case 'b':
	case 'd':
		if ((r = read_number(m, sig[0], &v)) < 0)
			return r;
		break;
	case '(':
		if (!strcmp(sig, "(ub)")) { /* SignalQuality: percent, recent */
			uint32_t u;
			int rec;

			if ((r = sd_bus_message_read(m, "(ub)", &u, &rec)) < 0)
				return r;
			v.type = MM_V_UINT;
			v.i = u;
			break;
		}
		if (!strcmp(sig, "(ss)")) { /* ConnectionError: name, message */
			const char *n, *t;
			char k[96 + 16]; /* a dictionary key and its suffix */

			if ((r = sd_bus_message_read(m, "(ss)", &n, &t)) < 0)
				return r;
			v.type = MM_V_STR;
			v.s = n;
			put(b, path, iface, key, &v);
			snprintf(k, sizeof(k), "%s.message", key);
			v.s = t;
			put(b, path, iface, k, &v);
			return 0;
		}
		return sd_bus_message_skip(m, sig);
	case 'a':
		if (depth == 0 && !strcmp(sig, "a{sv}")) {
			v.type = MM_V_RESET;
			put(b, path, iface, key, &v);
			return read_dict(b, m, path, iface, key, depth + 1);
		}
		if (depth == 0 && !strcmp(sig, "ao")) {
			const char *o;

			v.type = MM_V_RESET;
			put(b, path, iface, key, &v);
			if ((r = sd_bus_message_enter_container(m, 'a', "o")) < 0)
				return r;
			v.type = MM_V_PATH;
			while ((r = sd_bus_message_read_basic(m, 'o', &o)) > 0) {
				v.s = o;
				put(b, path, iface, key, &v);
			}
			if (r < 0)
				return r;
			return sd_bus_message_exit_container(m);
		}
		if (depth == 0 && !strcmp(sig, "a{uu}")) { /* UnlockRetries */
			uint32_t lock, n;

			v.type = MM_V_RESET;
			put(b, path, iface, key, &v);
			if ((r = sd_bus_message_enter_container(m, 'a', "{uu}")) < 0)
				return r;
			v.type = MM_V_UINT;
			while ((r = sd_bus_message_read(m, "{uu}", &lock, &n)) > 0) {
				char k[96 + 16]; /* a dictionary key and its suffix */

				snprintf(k, sizeof(k), "%s.%u", key, lock);
				v.i = n;
				put(b, path, iface, k, &v);
			}
			if (r < 0)
				return r;
			return sd_bus_message_exit_container(m);
		}
		return sd_bus_message_skip(m, sig);
	default:
		return sd_bus_message_skip(m, sig);
	}
	put(b, path, iface, key, &v);
	return 0;
}

/* a{sv}: the properties of one interface of one object, each key under
 * "prefix." when prefix is set. */
static int read_dict(struct mm_bus *b, sd_bus_message *m, const char *path, const char *iface,
		     const char *prefix, int depth)
{
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key, *contents;
		char k[96];

		if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0 ||
		    (r = sd_bus_message_peek_type(m, NULL, &contents)) < 0 ||
		    (r = sd_bus_message_enter_container(m, 'v', contents)) < 0)
			return r;
		if (prefix) {
			snprintf(k, sizeof(k), "%s.%s", prefix, key);
			key = k;
		}
		if ((r = read_value(b, m, contents, path, iface, key, depth)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int read_props(struct mm_bus *b, sd_bus_message *m, const char *path, const char *iface)
{
	return read_dict(b, m, path, iface, NULL, 0);
}

/* a{sa{sv}}: the interfaces of one object. */
static int read_ifaces(struct mm_bus *b, sd_bus_message *m, const char *path)
{
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		const char *iface;

		if ((r = sd_bus_message_read_basic(m, 's', &iface)) < 0 ||
		    (r = read_props(b, m, path, iface)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int on_objects(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct mm_bus *b = arg;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	int r;

	b->get_slot = sd_bus_slot_unref(b->get_slot);
	mm_world_clear(b->w);
	if (!b->named) {
		const char *name;

		/* an answer came: Hello is done, this does not wait */
		b->named = true;
		if (sd_bus_get_unique_name(b->bus, &name) >= 0)
			log_info("mobile: on the system bus as %s (uid %u)", name,
				 (unsigned)geteuid());
	}
	if (e) {
		log_debug("mobile: ModemManager does not answer: %s", e->name);
		b->running = false;
		changed(b);
		return 0;
	}
	b->running = true;
	if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0)
		goto bad;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;

		if ((r = sd_bus_message_read_basic(m, 'o', &path)) < 0 ||
		    (r = read_ifaces(b, m, path)) < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			goto bad;
	}
	if (r < 0)
		goto bad;
	changed(b);
	return 0;
bad:
	log_warn("mobile: cannot read ModemManager's objects: %s", strerror(-r));
	changed(b);
	return 0;
}

static int get_objects(struct mm_bus *b)
{
	sd_bus_message *m = NULL;
	int r;

	b->get_slot = sd_bus_slot_unref(b->get_slot);
	r = sd_bus_message_new_method_call(b->bus, &m, MM_SERVICE, MM_PATH,
					   "org.freedesktop.DBus.ObjectManager",
					   "GetManagedObjects");
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, 0);
	if (r >= 0)
		r = sd_bus_call_async(b->bus, &b->get_slot, m, on_objects, b, 0);
	sd_bus_message_unref(m);
	return r;
}

static bool ours(sd_bus_message *m)
{
	const char *p = sd_bus_message_get_path(m);

	return p && !strncmp(p, MM_PATH, strlen(MM_PATH));
}

/* The object path an InterfacesAdded/Removed signal of ours names first. */
static const char *object_path(sd_bus_message *m)
{
	const char *path;

	if (!ours(m) || sd_bus_message_read_basic(m, 'o', &path) < 0)
		return NULL;
	return path;
}

static int on_props(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct mm_bus *b = arg;
	const char *iface;

	if (!ours(m) || sd_bus_message_read_basic(m, 's', &iface) < 0)
		return 0;
	if (read_props(b, m, sd_bus_message_get_path(m), iface) < 0)
		log_debug("mobile: bad PropertiesChanged from %s", sd_bus_message_get_path(m));
	changed(b);
	return 0;
}

static int on_added(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct mm_bus *b = arg;
	const char *path = object_path(m);

	if (!path)
		return 0;
	if (read_ifaces(b, m, path) < 0)
		log_debug("mobile: bad InterfacesAdded for %s", path);
	changed(b);
	return 0;
}

static int on_removed(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct mm_bus *b = arg;
	const char *path = object_path(m);

	if (path) {
		mm_world_remove(b->w, path);
		changed(b);
	}
	return 0;
}

static int on_owner(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct mm_bus *b = arg;
	const char *name, *old, *new;

	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || strcmp(name, MM_SERVICE))
		return 0;
	mm_world_clear(b->w);
	b->running = false;
	if (new[0]) {
		log_info("mobile: ModemManager is on the bus");
		get_objects(b);
	} else {
		log_warn("mobile: ModemManager left the bus");
	}
	changed(b);
	return 0;
}

/* A bus on a connected socket: EXTERNAL authentication as our own uid,
 * then Hello, as sd_bus_open_system would do on the socket it connects. */
static int bus_on_fd(sd_bus **out, int fd)
{
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);

	if (r < 0) {
		close(fd);
		return r;
	}
	if ((r = sd_bus_set_fd(bus, fd, fd)) < 0) {
		close(fd);
		sd_bus_unref(bus);
		return r;
	}
	/* the bus owns fd now: sd_bus_close closes it */
	if ((r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_set_trusted(bus, 0)) < 0 ||
	    (r = sd_bus_set_description(bus, "system")) < 0 || (r = sd_bus_start(bus)) < 0) {
		sd_bus_flush_close_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

int mm_bus_open(struct mm_bus **out, struct mm_world *w, const struct mm_bus_ops *ops, int fd)
{
	struct mm_bus *b = calloc(1, sizeof(*b));
	int r;

	*out = NULL;
	if (!b) {
		if (fd >= 0)
			close(fd);
		return KZ_ENOMEM;
	}
	b->w = w;
	b->ops = *ops;
	mm_world_clear(w);
	r = fd >= 0 ? bus_on_fd(&b->bus, fd) : sd_bus_open_system(&b->bus);
	if (r < 0)
		goto fail;
	/* path_namespace also covers the objects below the manager's path */
	if ((r = sd_bus_match_signal_async(b->bus, NULL, NULL, NULL,
					   "org.freedesktop.DBus.Properties", "PropertiesChanged",
					   on_props, NULL, b)) < 0 ||
	    (r = sd_bus_match_signal_async(b->bus, NULL, NULL, MM_PATH,
					   "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
					   on_added, NULL, b)) < 0 ||
	    (r = sd_bus_match_signal_async(b->bus, NULL, NULL, MM_PATH,
					   "org.freedesktop.DBus.ObjectManager",
					   "InterfacesRemoved", on_removed, NULL, b)) < 0 ||
	    (r = sd_bus_match_signal_async(b->bus, NULL, "org.freedesktop.DBus",
					   "/org/freedesktop/DBus", "org.freedesktop.DBus",
					   "NameOwnerChanged", on_owner, NULL, b)) < 0 ||
	    (r = get_objects(b)) < 0)
		goto fail;
	*out = b;
	return 0;
fail:
	log_warn("mobile: cannot use the system bus: %s", strerror(-r));
	mm_bus_close(b);
	return KZ_EIO;
}

void mm_bus_close(struct mm_bus *b)
{
	if (!b)
		return;
	sd_bus_slot_unref(b->get_slot);
	sd_bus_flush_close_unref(b->bus);
	free(b);
}

bool mm_bus_mm_running(const struct mm_bus *b)
{
	return b && b->running;
}

int mm_bus_fd(struct mm_bus *b)
{
	return sd_bus_get_fd(b->bus);
}

int mm_bus_events(struct mm_bus *b)
{
	int r = sd_bus_get_events(b->bus);

	return r < 0 ? POLLIN : r;
}

uint64_t mm_bus_timeout(struct mm_bus *b)
{
	uint64_t t;

	if (sd_bus_get_timeout(b->bus, &t) < 0)
		return UINT64_MAX;
	return t;
}

int mm_bus_process(struct mm_bus *b)
{
	int r;

	while ((r = sd_bus_process(b->bus, NULL)) > 0)
		;
	if (r < 0) {
		log_warn("mobile: system bus lost: %s", strerror(-r));
		return KZ_EIO;
	}
	return 0;
}

/* ---- calls ---- */

struct call {
	struct mm_bus *b;
	enum mm_call what;
};

static int on_reply(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct call *c = arg;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (c->b->ops.reply)
		c->b->ops.reply(c->b->ops.arg, c->what, e ? KZ_EIO : 0, e ? e->name : NULL,
				e ? e->message : NULL);
	free(c);
	return 0;
}

static struct call *new_call(struct mm_bus *b, enum mm_call what)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c) {
		c->b = b;
		c->what = what;
	}
	return c;
}

/* Sends m (taking it); the slot floats and frees the call after the
 * reply.  Connect may take a minute (ModemManager's own limit is 120 s). */
static int call_send(struct mm_bus *b, sd_bus_message *m, enum mm_call what, uint64_t usec)
{
	struct call *c = new_call(b, what);
	int r = c ? sd_bus_call_async(b->bus, NULL, m, on_reply, c, usec) : -ENOMEM;

	if (r < 0)
		free(c);
	sd_bus_message_unref(m);
	return r < 0 ? KZ_EIO : 0;
}

int mm_bus_send_pin(struct mm_bus *b, const char *sim_path, const char *pin)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b->bus, &m, MM_SERVICE, sim_path, MM_IFACE_SIM,
					       "SendPin");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", pin);
	if (r < 0) {
		sd_bus_message_unref(m);
		return KZ_EIO;
	}
	/* sd-bus frees the message's memory without wiping it; the PIN is
	 * never logged */
	return call_send(b, m, MM_CALL_SEND_PIN, 0);
}

int mm_bus_connect(struct mm_bus *b, const char *modem_path, const struct mm_connect *c)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b->bus, &m, MM_SERVICE, modem_path, MM_IFACE_SIMPLE,
					       "Connect");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}", "apn", "s", c->apn);
	if (r >= 0 && c->ipv4)
		r = sd_bus_message_append(m, "{sv}", "ip-type", "u", 1u); /* IPV4 */
	if (r >= 0 && c->auth) {
		r = sd_bus_message_append(m, "{sv}", "allowed-auth", "u", c->auth);
		if (r >= 0)
			r = sd_bus_message_append(m, "{sv}", "user", "s", c->user);
		if (r >= 0)
			r = sd_bus_message_append(m, "{sv}", "password", "s", c->password);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		return KZ_EIO;
	}
	return call_send(b, m, MM_CALL_CONNECT, 130ull * 1000000u);
}

int mm_bus_disconnect(struct mm_bus *b, const char *modem_path)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b->bus, &m, MM_SERVICE, modem_path, MM_IFACE_SIMPLE,
					       "Disconnect");

	if (r >= 0)
		r = sd_bus_message_append(m, "o", "/"); /* "/": every bearer */
	if (r < 0) {
		sd_bus_message_unref(m);
		return KZ_EIO;
	}
	return call_send(b, m, MM_CALL_DISCONNECT, 0);
}

int mm_bus_signal_setup(struct mm_bus *b, const char *modem_path, unsigned rate)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b->bus, &m, MM_SERVICE, modem_path, MM_IFACE_SIGNAL,
					       "Setup");

	if (r >= 0)
		r = sd_bus_message_append(m, "u", (uint32_t)rate);
	if (r < 0) {
		sd_bus_message_unref(m);
		return KZ_EIO;
	}
	return call_send(b, m, MM_CALL_SIGNAL_SETUP, 0);
}
