/* mm.h - the modem behind MobileEthernet0.0, as ModemManager
 * (org.freedesktop.ModemManager1) shows it on the system bus.
 *
 * Two halves: the model (mm_model.c) keeps the properties of the objects
 * ModemManager exports (Modem, Modem3gpp, Signal, Sim, Bearer), fed one
 * typed value at a time and pure, so the unit tests drive it without a
 * bus; the client (mm_bus.c) speaks D-Bus through sd-bus, flattens what
 * it reads into those values and calls the methods (SendPin,
 * Simple.Connect/Disconnect, Signal.Setup).  Nothing here knows the event
 * loop: the daemon polls mm_bus_fd() as mm_bus_events() asks and calls
 * mm_bus_process(). */
#ifndef KZ_MOBILE_MM_H
#define KZ_MOBILE_MM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/mobile_view.h"

#define MM_SERVICE "org.freedesktop.ModemManager1"
#define MM_PATH "/org/freedesktop/ModemManager1"
#define MM_IFACE_MODEM MM_SERVICE ".Modem"
#define MM_IFACE_3GPP MM_SERVICE ".Modem.Modem3gpp"
#define MM_IFACE_SIMPLE MM_SERVICE ".Modem.Simple"
#define MM_IFACE_SIGNAL MM_SERVICE ".Modem.Signal"
#define MM_IFACE_SIM MM_SERVICE ".Sim"
#define MM_IFACE_BEARER MM_SERVICE ".Bearer"

#define MM_MAX_MODEMS 4
#define MM_MAX_SIMS 4
#define MM_MAX_BEARERS 8
#define MM_PATH_MAX 96

/* One property value as the client read it.  Containers are flattened:
 * a dictionary property P (Ip4Config, Properties, Lte, ...) arrives as
 * MM_V_RESET for "P", then one value per entry named "P.key"; SignalQuality
 * (ub) as its u; ConnectionError (ss) as "ConnectionError" and
 * "ConnectionError.message"; an object list (Bearers) as MM_V_RESET for
 * "Bearers", then one MM_V_PATH "Bearers" per element; UnlockRetries a{uu}
 * as "UnlockRetries.<lock>". */
enum mm_vtype { MM_V_RESET, MM_V_STR, MM_V_PATH, MM_V_UINT, MM_V_INT, MM_V_BOOL, MM_V_DOUBLE };
struct mm_val {
	enum mm_vtype type;
	const char *s; /* STR, PATH */
	int64_t i;     /* UINT, INT, BOOL */
	double d;      /* DOUBLE */
};

enum mm_obj_kind { MM_OBJ_MODEM, MM_OBJ_SIM, MM_OBJ_BEARER };

struct mm_modem {
	bool used;
	char path[MM_PATH_MAX];
	bool has_3gpp, has_signal;
	char manufacturer[64], model[64], revision[64], imei[24];
	int state;
	unsigned failed_reason, unlock_required, access_tech, quality;
	int pin_retries;
	char sim[MM_PATH_MAX];
	char bearers[MM_MAX_BEARERS][MM_PATH_MAX];
	unsigned nbearers;
	unsigned reg_state;
	char op_name[64], op_code[8];
	unsigned signal_rate;
	bool rsrp_set, rsrq_set, sinr_set, rssi_set;
	double rsrp, rsrq, sinr, rssi;
	int64_t state_since, reg_since, signal_since;
};

struct mm_sim {
	bool used;
	char path[MM_PATH_MAX];
	char iccid[32], op_name[64];
};

struct mm_bearer {
	bool used;
	char path[MM_PATH_MAX];
	char iface[16], apn[101];
	bool connected;
	char conn_error[128], conn_error_msg[256];
	unsigned ip_method, plen;
	char addr[48], gateway[48];
	int64_t since;
};

struct mm_world {
	struct mm_modem modems[MM_MAX_MODEMS];
	struct mm_sim sims[MM_MAX_SIMS];
	struct mm_bearer bearers[MM_MAX_BEARERS];
};

void mm_world_clear(struct mm_world *w);
/* One property of the object at path on interface iface (a full
 * ModemManager interface name); now is the wall clock for the since-when
 * of state, registration, signal and bearer.  Unknown interfaces and
 * properties are ignored; returns true when a value kizuna shows changed. */
bool mm_world_apply(struct mm_world *w, const char *path, const char *iface, const char *key,
		    const struct mm_val *v, int64_t now);
/* The object at path (any interface) is gone. */
void mm_world_remove(struct mm_world *w, const char *path);
/* The modem `modem SEL` names: "auto" the first (lowest path), else the
 * one whose IMEI (Modem3gpp.Imei, or EquipmentIdentifier) is SEL. */
const struct mm_modem *mm_world_pick(const struct mm_world *w, const char *sel);
/* Fills the modem, SIM, registration, signal and bearer parts of *v
 * (kizuna's own fields - bus, PIN, connect - are the caller's).  The
 * bearer is the modem's connected one, else its first. */
void mm_world_view(const struct mm_world *w, const char *sel, struct kz_mobile_view *v);

/* ---- the client (mm_bus.c) ---- */

struct mm_bus;

enum mm_call { MM_CALL_SEND_PIN, MM_CALL_CONNECT, MM_CALL_DISCONNECT, MM_CALL_SIGNAL_SETUP };

struct mm_bus_ops {
	/* Properties changed, objects came or went, ModemManager came or
	 * went (running says which). */
	void (*changed)(void *arg);
	/* A method call finished: err 0, or the D-Bus error name and text. */
	void (*reply)(void *arg, enum mm_call call, int err, const char *name, const char *msg);
	int64_t (*now)(void *arg); /* wall clock */
	void *arg;
};

/* Opens the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard
 * socket), subscribes to ModemManager's signals and reads its objects.
 * fd >= 0: a stream socket already connected to the bus (by someone who
 * may, as this process's user); it is taken over, closed on failure. */
int mm_bus_open(struct mm_bus **out, struct mm_world *w, const struct mm_bus_ops *ops, int fd);
void mm_bus_close(struct mm_bus *b);
bool mm_bus_mm_running(const struct mm_bus *b);
int mm_bus_fd(struct mm_bus *b);
/* POLLIN/POLLOUT to wait for; the absolute CLOCK_MONOTONIC deadline in
 * microseconds (UINT64_MAX none). */
int mm_bus_events(struct mm_bus *b);
uint64_t mm_bus_timeout(struct mm_bus *b);
/* Everything that is ready; negative KZ_E* when the bus is lost. */
int mm_bus_process(struct mm_bus *b);

/* Asynchronous calls; the answer comes through ops->reply. */
int mm_bus_send_pin(struct mm_bus *b, const char *sim_path, const char *pin);
struct mm_connect {
	const char *apn;
	bool ipv4;     /* ip-type ipv4 */
	unsigned auth; /* MMBearerAllowedAuth: 0 none given, 2 pap, 4 chap */
	const char *user, *password;
};
int mm_bus_connect(struct mm_bus *b, const char *modem_path, const struct mm_connect *c);
int mm_bus_disconnect(struct mm_bus *b, const char *modem_path);
int mm_bus_signal_setup(struct mm_bus *b, const char *modem_path, unsigned rate);

#endif
