/* isakmp_names.c - RFC names of ISAKMP numbers for logs, `show` and packet
 * dumps: notify message types (RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706),
 * payload types (RFC 2408 3.1, RFC 3947) and exchange types. */
#include "ike/isakmp.h"

#include <stdio.h>

/* Numbers without a name are formatted into a small per-thread ring, so a
 * log line may name a few of them at once. */
static const char *unnamed(const char *prefix, unsigned int v)
{
	static _Thread_local char ring[8][24];
	static _Thread_local unsigned int next;
	char *s = ring[next++ % 8];

	snprintf(s, sizeof(ring[0]), "%s-%u", prefix, v);
	return s;
}

const char *isakmp_notify_name(uint16_t type)
{
	static const char *const errors[] = {
		[1] = "INVALID-PAYLOAD-TYPE",
		[2] = "DOI-NOT-SUPPORTED",
		[3] = "SITUATION-NOT-SUPPORTED",
		[4] = "INVALID-COOKIE",
		[5] = "INVALID-MAJOR-VERSION",
		[6] = "INVALID-MINOR-VERSION",
		[7] = "INVALID-EXCHANGE-TYPE",
		[8] = "INVALID-FLAGS",
		[9] = "INVALID-MESSAGE-ID",
		[10] = "INVALID-PROTOCOL-ID",
		[11] = "INVALID-SPI",
		[12] = "INVALID-TRANSFORM-ID",
		[13] = "ATTRIBUTES-NOT-SUPPORTED",
		[14] = "NO-PROPOSAL-CHOSEN",
		[15] = "BAD-PROPOSAL-SYNTAX",
		[16] = "PAYLOAD-MALFORMED",
		[17] = "INVALID-KEY-INFORMATION",
		[18] = "INVALID-ID-INFORMATION",
		[19] = "INVALID-CERT-ENCODING",
		[20] = "INVALID-CERTIFICATE",
		[21] = "CERT-TYPE-UNSUPPORTED",
		[22] = "INVALID-CERT-AUTHORITY",
		[23] = "INVALID-HASH-INFORMATION",
		[24] = "AUTHENTICATION-FAILED",
		[25] = "INVALID-SIGNATURE",
		[26] = "ADDRESS-NOTIFICATION",
		[27] = "NOTIFY-SA-LIFETIME",
		[28] = "CERTIFICATE-UNAVAILABLE",
		[29] = "UNSUPPORTED-EXCHANGE-TYPE",
		[30] = "UNEQUAL-PAYLOAD-LENGTHS",
	};

	if (type < sizeof(errors) / sizeof(errors[0]) && errors[type])
		return errors[type];
	switch (type) {
	case 16384:
		return "CONNECTED";
	case ISAKMP_N_RESPONDER_LIFETIME:
		return "RESPONDER-LIFETIME";
	case 24577:
		return "REPLAY-STATUS";
	case ISAKMP_N_INITIAL_CONTACT:
		return "INITIAL-CONTACT";
	case ISAKMP_N_DPD_R_U_THERE:
		return "R-U-THERE";
	case ISAKMP_N_DPD_R_U_THERE_ACK:
		return "R-U-THERE-ACK";
	}
	return unnamed("NOTIFY", type);
}

const char *isakmp_payload_name(uint8_t type)
{
	switch (type) {
	case ISAKMP_NP_NONE:
		return "NONE";
	case ISAKMP_NP_SA:
		return "SA";
	case ISAKMP_NP_P:
		return "P";
	case ISAKMP_NP_T:
		return "T";
	case ISAKMP_NP_KE:
		return "KE";
	case ISAKMP_NP_ID:
		return "ID";
	case ISAKMP_NP_CERT:
		return "CERT";
	case ISAKMP_NP_CR:
		return "CR";
	case ISAKMP_NP_HASH:
		return "HASH";
	case ISAKMP_NP_SIG:
		return "SIG";
	case ISAKMP_NP_NONCE:
		return "NONCE";
	case ISAKMP_NP_N:
		return "N";
	case ISAKMP_NP_D:
		return "D";
	case ISAKMP_NP_VID:
		return "VID";
	case 14:
		return "ATTR"; /* draft-ietf-ipsec-isakmp-mode-cfg */
	case ISAKMP_NP_NATD:
		return "NAT-D";
	case ISAKMP_NP_NATOA:
		return "NAT-OA";
	case ISAKMP_NP_NATD_DRAFT:
		return "NAT-D-DRAFT";
	case ISAKMP_NP_NATOA_DRAFT:
		return "NAT-OA-DRAFT";
	case 132:
		return "FRAG"; /* Cisco IKE fragmentation */
	}
	return unnamed("PAYLOAD", type);
}

const char *isakmp_exch_name(uint8_t exch)
{
	switch (exch) {
	case 1:
		return "Base";
	case ISAKMP_XCHG_IDPROT:
		return "Main mode";
	case 3:
		return "Authentication only";
	case ISAKMP_XCHG_AGGR:
		return "Aggressive mode";
	case ISAKMP_XCHG_INFO:
		return "Informational";
	case 6:
		return "Transaction"; /* mode-cfg */
	case ISAKMP_XCHG_QUICK:
		return "Quick Mode";
	case 33:
		return "New Group mode";
	}
	return unnamed("EXCHANGE", exch);
}
