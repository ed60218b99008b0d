/* fuzz_mobile_props.c - ModemManager's property values into the model
 * (mobile/mm_model.c), as a hostile or broken ModemManager could send
 * them after sd-bus has checked the D-Bus types: any object path, any
 * interface and key of the ones kizuna reads, any type and value, strings
 * of any length and bytes.  The input is a stream of records
 *   u8 path, u8 iface, u8 key, u8 type, u8 len, len bytes (string) or 8
 *   bytes (number)
 * and after each record the view is built for "auto" and for an IMEI; an
 * abort or a sanitizer report is the finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "mobile/mm.h"

static const char *const paths[] = {
	MM_PATH "/Modem/0",  MM_PATH "/Modem/1",  MM_PATH "/SIM/0",
	MM_PATH "/Bearer/0", MM_PATH "/Bearer/1", "/",
};
static const char *const ifaces[] = {
	MM_IFACE_MODEM, MM_IFACE_3GPP, MM_IFACE_SIGNAL, MM_IFACE_SIM, MM_IFACE_BEARER, "x",
};
static const char *const keys[] = {
	"Manufacturer",
	"Model",
	"Revision",
	"EquipmentIdentifier",
	"State",
	"StateFailedReason",
	"UnlockRequired",
	"UnlockRetries",
	"UnlockRetries.2",
	"AccessTechnologies",
	"SignalQuality",
	"Sim",
	"Bearers",
	"Imei",
	"RegistrationState",
	"OperatorName",
	"OperatorCode",
	"Rate",
	"Lte",
	"Lte.rsrp",
	"Lte.rsrq",
	"Lte.snr",
	"Lte.rssi",
	"Nr5g.rsrp",
	"Umts.rssi",
	"SimIdentifier",
	"Interface",
	"Connected",
	"ConnectionError",
	"ConnectionError.message",
	"Properties.apn",
	"Ip4Config",
	"Ip4Config.method",
	"Ip4Config.address",
	"Ip4Config.prefix",
	"Ip4Config.gateway",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mm_world w;
	struct buf b;
	int64_t t = 0;

	mm_world_clear(&w);
	buf_init(&b, data, size);
	while (buf_left(&b) >= 5) {
		uint8_t p, i, k, ty, len;
		struct mm_val v = { 0 };
		char s[256];
		struct kz_mobile_view view;
		uint64_t n = 0;

		if (buf_get_u8(&b, &p) || buf_get_u8(&b, &i) || buf_get_u8(&b, &k) ||
		    buf_get_u8(&b, &ty) || buf_get_u8(&b, &len))
			break;
		v.type = (enum mm_vtype)(ty % (MM_V_DOUBLE + 1));
		if (v.type == MM_V_STR || v.type == MM_V_PATH) {
			if (buf_get_bytes(&b, s, len))
				break;
			s[len] = '\0';
			v.s = s;
		} else if (v.type != MM_V_RESET) {
			if (buf_get_u64(&b, &n))
				break;
			v.i = (int64_t)n;
			memcpy(&v.d, &n, sizeof(v.d));
		}
		mm_world_apply(&w, paths[p % N(paths)], ifaces[i % N(ifaces)], keys[k % N(keys)],
			       &v, ++t);
		if ((k & 0x80) && v.s)
			mm_world_remove(&w, paths[p % N(paths)]);
		memset(&view, 0, sizeof(view));
		mm_world_view(&w, "auto", &view);
		(void)kz_mobile_signal_of(&view);
		memset(&view, 0, sizeof(view));
		mm_world_view(&w, v.s && s[0] ? v.s : "356938035643809", &view);
	}
	return 0;
}
