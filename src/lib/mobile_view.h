/* mobile_view.h - what kizunad knows of the modem behind
 * MobileEthernet0.0 (ModemManager's view, src/mobile/), as plain values
 * for `show mobile` (daemon) and diagnose's A2/M2 (diag).  The numbers are
 * ModemManager's enums (include/ModemManager-enums.h of ModemManager). */
#ifndef KZ_LIB_MOBILE_VIEW_H
#define KZ_LIB_MOBILE_VIEW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* MMModemState */
enum {
	KZ_MM_STATE_FAILED = -1,
	KZ_MM_STATE_UNKNOWN = 0,
	KZ_MM_STATE_INITIALIZING = 1,
	KZ_MM_STATE_LOCKED = 2,
	KZ_MM_STATE_DISABLED = 3,
	KZ_MM_STATE_DISABLING = 4,
	KZ_MM_STATE_ENABLING = 5,
	KZ_MM_STATE_ENABLED = 6,
	KZ_MM_STATE_SEARCHING = 7,
	KZ_MM_STATE_REGISTERED = 8,
	KZ_MM_STATE_DISCONNECTING = 9,
	KZ_MM_STATE_CONNECTING = 10,
	KZ_MM_STATE_CONNECTED = 11,
};
/* MMModemStateFailedReason */
enum {
	KZ_MM_FAILED_NONE = 0,
	KZ_MM_FAILED_UNKNOWN = 1,
	KZ_MM_FAILED_SIM_MISSING = 2,
	KZ_MM_FAILED_SIM_ERROR = 3,
	KZ_MM_FAILED_UNKNOWN_CAPABILITIES = 4,
	KZ_MM_FAILED_ESIM_WITHOUT_PROFILES = 5,
};
/* MMModemLock (the ones kizuna names) */
enum {
	KZ_MM_LOCK_UNKNOWN = 0,
	KZ_MM_LOCK_NONE = 1,
	KZ_MM_LOCK_SIM_PIN = 2,
	KZ_MM_LOCK_SIM_PIN2 = 3,
	KZ_MM_LOCK_SIM_PUK = 4,
	KZ_MM_LOCK_SIM_PUK2 = 5,
};
/* MMModem3gppRegistrationState */
enum {
	KZ_MM_REG_IDLE = 0,
	KZ_MM_REG_HOME = 1,
	KZ_MM_REG_SEARCHING = 2,
	KZ_MM_REG_DENIED = 3,
	KZ_MM_REG_UNKNOWN = 4,
	KZ_MM_REG_ROAMING = 5,
	KZ_MM_REG_HOME_SMS_ONLY = 6,
	KZ_MM_REG_ROAMING_SMS_ONLY = 7,
	KZ_MM_REG_EMERGENCY_ONLY = 8,
	KZ_MM_REG_HOME_CSFB_NOT_PREFERRED = 9,
	KZ_MM_REG_ROAMING_CSFB_NOT_PREFERRED = 10,
	KZ_MM_REG_ATTACHED_RLOS = 11,
};
/* MMBearerIpMethod */
enum {
	KZ_MM_IP_UNKNOWN = 0,
	KZ_MM_IP_PPP = 1,
	KZ_MM_IP_STATIC = 2,
	KZ_MM_IP_DHCP = 3,
};

enum kz_mobile_signal { KZ_SIG_NONE, KZ_SIG_POOR, KZ_SIG_FAIR, KZ_SIG_GOOD, KZ_SIG_EXCELLENT };

struct kz_mobile_view {
	bool bound;      /* `modem` is configured */
	bool bus_ok;     /* the system bus could be opened */
	bool mm_running; /* org.freedesktop.ModemManager1 answered */
	bool found;      /* a modem matching `modem` */
	char path[96];   /* its object path */
	char manufacturer[64], model[64], imei[24], revision[64];
	int state;
	unsigned failed_reason;
	int64_t state_since; /* wall clock, 0 unknown */
	unsigned unlock_required;
	int pin_retries; /* left for the SIM PIN, -1 unknown */
	/* SIM */
	bool sim_present;
	char iccid[32], sim_operator[64];
	/* the configured PIN: sent once; a wrong one is never sent again */
	bool pin_sent, pin_rejected;
	char pin_error[128];
	/* 3GPP registration */
	unsigned reg_state;
	char op_name[64], op_code[8];
	int64_t reg_since;
	unsigned access_tech; /* MMModemAccessTechnology bits */
	/* signal: quality 0-100 %, extended values where reported */
	unsigned quality;
	bool rsrp_set, rsrq_set, sinr_set, rssi_set;
	double rsrp, rsrq, sinr, rssi;
	int64_t signal_since;
	/* the bearer */
	bool bearer;
	char bearer_path[96];
	char apn[101];
	bool connected;
	char iface[16];
	char conn_error[128], conn_error_msg[256]; /* Bearer.ConnectionError */
	unsigned ip_method;
	bool has_ip;
	struct in_addr addr, gateway;
	unsigned plen;
	int64_t bearer_since;
	/* kizuna's own Simple.Connect: the last error, the next attempt */
	char connect_error[256];
	int64_t next_connect; /* wall clock, 0 none planned */
	unsigned backoff;     /* seconds */
};

/* Names of the enums above ("registered", "searching", ...). */
const char *kz_mm_state_name(int state);
const char *kz_mm_failed_name(unsigned reason);
const char *kz_mm_lock_name(unsigned lock);
const char *kz_mm_reg_name(unsigned reg);
const char *kz_mm_ip_method_name(unsigned m);
/* The newest access technology in the bits ("lte", "5gnr", "umts", ...). */
const char *kz_mm_tech_name(unsigned bits);
/* Plain word for the signal: from RSRP where reported (LTE), else the
 * quality percentage. */
enum kz_mobile_signal kz_mobile_signal_of(const struct kz_mobile_view *v);
const char *kz_mobile_signal_name(enum kz_mobile_signal s);
/* Registered for data (home or roaming, not only SMS or emergency). */
bool kz_mm_reg_ok(unsigned reg);
bool kz_mm_reg_roaming(unsigned reg);

#endif
