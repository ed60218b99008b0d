/* types.c - the value types a grammar VAR can name, with their checks.
 *
 * A check returns NULL for a valid word or a short reason; the engine puts
 * the reason into the error that points at the word. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "cli/cli_int.h"

static const char *check_name(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (n == 0 || n >= KZ_NAME_MAX)
		return "a name is 1-63 characters";
	for (const char *p = w; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return "a name may contain only A-Z a-z 0-9 _ . -";
	return NULL;
}

static const char *check_ipv4(const char *w, long long lo, long long hi)
{
	struct in_addr a;

	return inet_pton(AF_INET, w, &a) == 1 ? NULL : "not an IPv4 address (A.B.C.D)";
}

int cli_parse_prefix(const char *s, struct kz_prefix *p)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	long len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return KZ_EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &p->addr) != 1)
		return KZ_EINVAL;
	if (!isdigit((unsigned char)slash[1]))
		return KZ_EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || len < 0 || len > 32 || end - (slash + 1) > 2)
		return KZ_EINVAL;
	p->len = (uint8_t)len;
	p->set = true;
	return 0;
}

static const char *check_prefix(const char *w, long long lo, long long hi)
{
	struct kz_prefix p;

	return cli_parse_prefix(w, &p) == 0 ? NULL : "not an IPv4 prefix (A.B.C.D/M, M 0-32)";
}

static const char *check_number(const char *w, long long lo, long long hi)
{
	unsigned long long v;
	char *end;

	if (!*w || strlen(w) > 12)
		return *w ? "number out of range" : "not a number";
	for (const char *p = w; *p; p++)
		if (!isdigit((unsigned char)*p))
			return "not a number";
	errno = 0;
	v = strtoull(w, &end, 10);
	if (errno || (long long)v < lo || (long long)v > hi)
		return "number out of range";
	return NULL;
}

unsigned long long cli_arg_num(const struct cli_args *a, const char *var)
{
	const char *w = cli_arg(a, var);

	return w ? strtoull(w, NULL, 10) : 0;
}

static const char *check_string(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (n == 0 || n >= KZ_IDVAL_MAX)
		return "must be 1-255 characters";
	return NULL;
}

static const char *check_secret(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (n == 0 || n > 2 * KZ_PSK_MAX)
		return "a key is 1-256 characters (ascii) or 2-512 hex digits";
	if (strspn(w, "*") == n)
		return "this is the hidden key `show running-config` prints, not a key: type "
		       "the key itself (an admin sees it with `show running-config secrets`)";
	return NULL;
}

static const char *check_domain(const char *w, bool need_letter)
{
	size_t n = strlen(w);
	bool letter = false;

	if (n == 0 || n > 253)
		return "a domain name is 1-253 characters";
	if (w[0] == '.' || w[0] == '-' || w[n - 1] == '.' || strstr(w, ".."))
		return "not a domain name";
	for (const char *p = w; *p; p++) {
		if (isalpha((unsigned char)*p))
			letter = true;
		else if (!isdigit((unsigned char)*p) && *p != '.' && *p != '-')
			return "a domain name may contain only A-Z a-z 0-9 . -";
	}
	if (need_letter && !letter)
		return "not a domain name";
	return NULL;
}

static const char *check_fqdn(const char *w, long long lo, long long hi)
{
	return check_domain(w, true);
}

static const char *check_user_fqdn(const char *w, long long lo, long long hi)
{
	const char *at = strchr(w, '@');

	if (!at || at == w || strchr(at + 1, '@'))
		return "not a user@domain identity";
	if (strlen(w) >= KZ_IDVAL_MAX)
		return "must be 1-255 characters";
	return check_domain(at + 1, false);
}

static const char *check_ifname(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (n == 0 || n >= KZ_IFNAME_MAX)
		return "a Linux interface name is 1-15 characters";
	if (!strcmp(w, ".") || !strcmp(w, ".."))
		return "not a Linux interface name";
	for (const char *p = w; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return "a Linux interface name may not contain / : or blanks";
	return NULL;
}

unsigned cli_parse_ipsec_if(const char *s)
{
	return (unsigned)strtoul(s + 5, NULL, 10);
}

static const char *check_ipsec_if(const char *w, long long lo, long long hi)
{
	const char *d = w + 5;

	if (strncasecmp(w, "ipsec", 5) != 0 || !isdigit((unsigned char)*d))
		return "not an IPsec interface (IPsec0 - IPsec255)";
	for (const char *p = d; *p; p++)
		if (!isdigit((unsigned char)*p))
			return "not an IPsec interface (IPsec0 - IPsec255)";
	if (d[0] == '0' && d[1])
		return "not an IPsec interface (IPsec0 - IPsec255)";
	if (strlen(d) > 3 || strtoul(d, NULL, 10) >= KZ_MAX_IPSEC_IF)
		return "IPsec interface number out of range (0-255)";
	return NULL;
}

static const char *check_path(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (w[0] != '/' || n < 2 || n >= KZ_METRICS_PATH_MAX || w[n - 1] == '/')
		return "an absolute file name of 2-255 characters, not ending in /";
	return NULL;
}

/* `modem IMEI`: 15 digits (3GPP TS 23.003). */
static const char *check_imei(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	for (const char *p = w; *p; p++)
		if (!isdigit((unsigned char)*p))
			return "an IMEI is 15 digits";
	return n == 15 ? NULL : "an IMEI is 15 digits";
}

/* An APN: labels of A-Z a-z 0-9 - joined by dots, at most 100 octets
 * (3GPP TS 23.003 9.1). */
static const char *check_apn(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (n == 0 || n >= KZ_APN_MAX)
		return "an APN is 1-100 characters";
	for (const char *p = w; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return "an APN has only A-Z a-z 0-9 - and dots";
	if (w[0] == '.' || w[n - 1] == '.' || strstr(w, ".."))
		return "an APN is labels joined by single dots";
	return NULL;
}

/* The hidden form `show running-config` prints for a secret. */
static const char *hidden_secret(const char *w)
{
	size_t n = strlen(w);

	return n && strspn(w, "*") == n
		? "this is the hidden form `show running-config` prints, not the value: "
		  "type the value itself (an admin sees it with `show running-config "
		  "secrets`)"
		: NULL;
}

static const char *check_pin(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (hidden_secret(w))
		return hidden_secret(w);
	for (const char *p = w; *p; p++)
		if (!isdigit((unsigned char)*p))
			return "a SIM PIN is 4-8 digits";
	return n >= 4 && n < KZ_PIN_MAX ? NULL : "a SIM PIN is 4-8 digits";
}

static const char *check_cred(const char *w, long long lo, long long hi)
{
	size_t n = strlen(w);

	if (n == 0 || n >= KZ_APN_CRED_MAX)
		return "must be 1-64 characters";
	if (hidden_secret(w))
		return hidden_secret(w);
	return NULL;
}

static const struct cli_vartype vartypes[] = {
	{ "NAME", "Name (1-63 characters of A-Z a-z 0-9 _ . -)", check_name, false, 0 },
	{ "HOSTNAME", "Host name of this gateway (the console prompt)", check_name, false, 0 },
	{ "PROFILE", "IPsec profile name", check_name, false, CLI_COMPLETE_PROFILE },
	{ "IKE-PROPOSAL", "IKE proposal name", check_name, false, CLI_COMPLETE_IKE_PROPOSAL },
	{ "IKE-POLICY", "IKE policy name", check_name, false, CLI_COMPLETE_IKE_POLICY },
	{ "IPSEC-PROPOSAL", "IPsec proposal name", check_name, false, CLI_COMPLETE_IPSEC_PROPOSAL },
	{ "IPSEC-POLICY", "IPsec policy name", check_name, false, CLI_COMPLETE_IPSEC_POLICY },
	{ "A.B.C.D", "IPv4 address", check_ipv4, false, 0 },
	{ "A.B.C.D/M", "IPv4 prefix", check_prefix, false, 0 },
	{ "SECONDS", "Seconds", check_number, true, 0 },
	{ "MAX-SECONDS", "Seconds, the longest wait", check_number, true, 0 },
	{ "COUNT", "Count", check_number, true, 0 },
	{ "BYTES", "Bytes", check_number, true, 0 },
	{ "KILOBYTES", "Kilobytes", check_number, true, 0 },
	{ "BITS", "Bits", check_number, true, 0 },
	{ "PROTOCOL", "IP protocol number", check_number, true, 0 },
	{ "PORT", "Local port", check_number, true, 0 },
	{ "REMOTE-PORT", "Remote port", check_number, true, 0 },
	{ "STRING", "Text (quote it if it has blanks)", check_string, false, 0 },
	{ "PATH", "Absolute file name (/var/lib/prometheus/node-exporter/kizuna.prom)", check_path,
	  false, 0 },
	{ "SECRET", "The pre-shared key (quote it if it has blanks)", check_secret, false, 0 },
	{ "FQDN", "Domain name", check_fqdn, false, 0 },
	{ "USER@FQDN", "User identity (user@domain)", check_user_fqdn, false, 0 },
	{ "LINUX-IFNAME", "Linux network device (wwan0, eth1, ...)", check_ifname, false, 0 },
	{ "IPsec<N>", "IPsec interface (IPsec0 - IPsec255)", check_ipsec_if, false,
	  CLI_COMPLETE_IPSEC_IF },
	{ "IMEI", "The modem's IMEI (15 digits)", check_imei, false, 0 },
	{ "APN", "Access point name of the mobile contract", check_apn, false, 0 },
	{ "PIN", "The SIM's PIN (4-8 digits)", check_pin, false, 0 },
	{ "USER", "User name for the APN", check_cred, false, 0 },
	{ "PASSWORD", "Password for the APN (quote it if it has blanks)", check_cred, false, 0 },
};

const struct cli_vartype *cli_vartype_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(vartypes) / sizeof(vartypes[0]); i++)
		if (strlen(vartypes[i].name) == len && !memcmp(vartypes[i].name, name, len))
			return &vartypes[i];
	return NULL;
}
