/* fuzz_lib_privmsg.c - the privilege-separation messages (lib/privmsg.h)
 * on arbitrary bytes, as kizunad's parent reads them from its child.
 *
 * Whatever decodes must pass the checks the parent relies on (device name
 * charset, prefix length, ports, text size, archive version) and encode
 * back to exactly the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/privmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PRIVMSG_MAX];
	struct privmsg m;
	size_t len;

	if (privmsg_decode(data, size, &m) != 0)
		return 0;
	if (m.type < PRIVMSG_REPLY || m.type >= PRIVMSG_TYPE_MAX || m.plen > 32 ||
	    m.text_len > PRIVMSG_TEXT_MAX)
		abort();
	if (!privmsg_ifname_ok(m.ifname, true))
		abort();
	if (m.type == PRIVMSG_UDP_OPEN && m.port != 500 && m.port != 4500)
		abort();
	if (m.type == PRIVMSG_READ_ARCHIVE && (m.version < 1 || m.version > PRIVMSG_ARCHIVE_MAX))
		abort();
	if (privmsg_encode(&m, out, sizeof(out), &len) != 0)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
