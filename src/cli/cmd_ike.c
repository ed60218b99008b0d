/* cmd_ike.c - the configuration commands inside the IKE and IPsec blocks:
 * ike proposal, ike policy, ipsec proposal, ipsec policy and ipsec
 * profile (shared/spec/config-language.md); the commands that open and
 * remove those blocks are top-level ones (cmd_config.c).
 *
 * A handler validates everything before it changes the model, so a line
 * that fails changes nothing; each records CLI_EFF_IKE in s->effects. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "cli/cli_int.h"

#define H(name)                                                                              \
	static int name(struct cli_session *s, const struct cli_args *a, struct strbuf *out, \
			struct cli_error *err)

/* ---- keyword tables ---- */

struct kwmap {
	const char *kw;
	int val;
};

static int kw_lookup(const struct kwmap *m, const struct cli_args *a, int dflt)
{
	for (; m->kw; m++)
		if (cli_has(a, m->kw))
			return m->val;
	return dflt;
}

static const struct kwmap enc_map[] = {
	{ "aes-cbc-128", KZ_ENC_AES_CBC_128 },
	{ "aes-cbc-192", KZ_ENC_AES_CBC_192 },
	{ "aes-cbc-256", KZ_ENC_AES_CBC_256 },
	{ "aes-gcm-128", KZ_ENC_AES_GCM_128 },
	{ "aes-gcm-256", KZ_ENC_AES_GCM_256 },
	{ "3des-cbc", KZ_ENC_3DES_CBC },
	{ "des-cbc", KZ_ENC_DES_CBC },
	{ "null", KZ_ENC_NULL },
	{ NULL, 0 },
};

static const struct kwmap hash_map[] = {
	{ "md5", KZ_HASH_MD5 },           { "sha1", KZ_HASH_SHA1 },
	{ "sha2-256", KZ_HASH_SHA2_256 }, { "sha2-384", KZ_HASH_SHA2_384 },
	{ "sha2-512", KZ_HASH_SHA2_512 }, { NULL, 0 },
};

static const struct kwmap auth_map[] = {
	{ "hmac-md5", KZ_AUTH_HMAC_MD5 },           { "hmac-sha1", KZ_AUTH_HMAC_SHA1 },
	{ "hmac-sha2-256", KZ_AUTH_HMAC_SHA2_256 }, { "hmac-sha2-384", KZ_AUTH_HMAC_SHA2_384 },
	{ "hmac-sha2-512", KZ_AUTH_HMAC_SHA2_512 }, { NULL, 0 },
};

static const struct kwmap group_map[] = {
	{ "none", KZ_GROUP_NONE },         { "modp768", KZ_GROUP_MODP768 },
	{ "modp1024", KZ_GROUP_MODP1024 }, { "modp1536", KZ_GROUP_MODP1536 },
	{ "modp2048", KZ_GROUP_MODP2048 }, { "modp3072", KZ_GROUP_MODP3072 },
	{ "modp4096", KZ_GROUP_MODP4096 }, { "ecp256", KZ_GROUP_ECP256 },
	{ "ecp384", KZ_GROUP_ECP384 },     { NULL, 0 },
};

/* ---- ike proposal ---- */

#define CUR(type, finder, what)                                                       \
	type *p = finder(s->cfg, s->ctx_name);                                        \
	if (!p)                                                                       \
		return cli_fail(err, a, NULL, KZ_ENOENT, what " %s no longer exists", \
				s->ctx_name);                                         \
	s->effects |= CLI_EFF_IKE

H(h_ikep_enc)
{
	CUR(struct kz_ike_proposal, kz_find_ike_proposal, "ike proposal");
	p->enc = cli_is_no(a) ? KZ_DEF_IKE_ENC : (enum kz_enc)kw_lookup(enc_map, a, KZ_DEF_IKE_ENC);
	return 0;
}

H(h_ikep_hash)
{
	CUR(struct kz_ike_proposal, kz_find_ike_proposal, "ike proposal");
	p->hash = cli_is_no(a) ? KZ_DEF_IKE_HASH
			       : (enum kz_hash)kw_lookup(hash_map, a, KZ_DEF_IKE_HASH);
	return 0;
}

H(h_ikep_group)
{
	CUR(struct kz_ike_proposal, kz_find_ike_proposal, "ike proposal");
	p->group = cli_is_no(a) ? KZ_DEF_IKE_GROUP
				: (enum kz_group)kw_lookup(group_map, a, KZ_DEF_IKE_GROUP);
	return 0;
}

H(h_ikep_lifetime)
{
	CUR(struct kz_ike_proposal, kz_find_ike_proposal, "ike proposal");
	p->lifetime = cli_is_no(a) ? KZ_DEF_IKE_LIFETIME : (uint32_t)cli_arg_num(a, "SECONDS");
	return 0;
}

/* ---- ike policy ---- */

H(h_ikepol_mode)
{
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	p->mode = !cli_is_no(a) && cli_has(a, "aggressive") ? KZ_MODE_AGGRESSIVE : KZ_MODE_MAIN;
	return 0;
}

static int set_refs(char refs[][KZ_NAME_MAX], unsigned *n, const struct cli_args *a,
		    const char *var, struct cli_error *err)
{
	size_t cnt = cli_arg_count(a, var);

	if (cnt > KZ_MAX_REFS)
		return cli_fail(err, a, var, KZ_ETOOBIG, "at most %d proposals", KZ_MAX_REFS);
	for (size_t i = 0; i < cnt; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cli_arg_n(a, var, i), cli_arg_n(a, var, j)))
				return cli_fail(err, a, var, KZ_EEXIST,
						"proposal %s is listed twice",
						cli_arg_n(a, var, i));
	for (size_t i = 0; i < cnt; i++)
		kz_strlcpy(refs[i], cli_arg_n(a, var, i), KZ_NAME_MAX);
	*n = (unsigned)cnt;
	return 0;
}

H(h_ikepol_proposal)
{
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	if (cli_is_no(a)) {
		p->nproposals = 0;
		return 0;
	}
	return set_refs(p->proposals, &p->nproposals, a, "IKE-PROPOSAL", err);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

H(h_ikepol_psk)
{
	const char *sec = cli_arg(a, "SECRET");
	struct kz_psk psk = { 0 };
	size_t n;

	s->secret = true;
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	if (cli_is_no(a)) {
		kz_wipe(&p->psk, sizeof(p->psk));
		return 0;
	}
	n = strlen(sec);
	psk.set = true;
	if (cli_has(a, "hex")) {
		const char *h = sec;

		if (!strncasecmp(h, "0x", 2))
			h += 2;
		n = strlen(h);
		if (n == 0 || n % 2 || n / 2 > KZ_PSK_MAX)
			return cli_fail(err, a, "SECRET", KZ_EINVAL,
					"a hex key is an even number of hex digits (2-512)");
		for (size_t i = 0; i < n; i += 2) {
			int hi = hexval((unsigned char)h[i]), lo = hexval((unsigned char)h[i + 1]);

			if (hi < 0 || lo < 0) {
				kz_wipe(&psk, sizeof(psk));
				return cli_fail(err, a, "SECRET", KZ_EINVAL,
						"a hex key may contain only 0-9 a-f");
			}
			psk.key[i / 2] = (uint8_t)(hi << 4 | lo);
		}
		psk.len = n / 2;
		psk.hex = true;
		for (size_t i = 0; i < n; i++)
			psk.text[i] = (char)tolower((unsigned char)h[i]);
	} else {
		if (n > KZ_PSK_MAX)
			return cli_fail(err, a, "SECRET", KZ_EINVAL,
					"an ascii key is at most %d characters", KZ_PSK_MAX);
		memcpy(psk.key, sec, n);
		psk.len = n;
		memcpy(psk.text, sec, n);
	}
	p->psk = psk;
	kz_wipe(&psk, sizeof(psk));
	return 0;
}

static int get_ident(const struct cli_args *a, struct kz_ident *id)
{
	memset(id, 0, sizeof(*id));
	if (cli_has(a, "key-id")) {
		id->type = KZ_ID_KEY_ID;
		kz_strlcpy(id->value, cli_arg(a, "STRING"), sizeof(id->value));
	} else if (cli_has(a, "fqdn")) {
		id->type = KZ_ID_FQDN;
		kz_strlcpy(id->value, cli_arg(a, "FQDN"), sizeof(id->value));
	} else if (cli_has(a, "user-fqdn")) {
		id->type = KZ_ID_USER_FQDN;
		kz_strlcpy(id->value, cli_arg(a, "USER@FQDN"), sizeof(id->value));
	} else {
		id->type = KZ_ID_ADDRESS;
		inet_pton(AF_INET, cli_arg(a, "A.B.C.D"), &id->addr);
	}
	return 0;
}

H(h_ikepol_local_id)
{
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	if (cli_is_no(a))
		memset(&p->local_id, 0, sizeof(p->local_id));
	else
		get_ident(a, &p->local_id);
	return 0;
}

H(h_ikepol_remote_id)
{
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	if (cli_is_no(a))
		memset(&p->remote_id, 0, sizeof(p->remote_id));
	else
		get_ident(a, &p->remote_id);
	return 0;
}

H(h_ikepol_natt)
{
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	if (cli_is_no(a)) {
		p->natt = false;
		p->keepalive = KZ_DEF_KEEPALIVE;
		return 0;
	}
	p->natt = true;
	p->keepalive =
		cli_has(a, "keepalive") ? (uint32_t)cli_arg_num(a, "SECONDS") : KZ_DEF_KEEPALIVE;
	return 0;
}

H(h_ikepol_dpd)
{
	CUR(struct kz_ike_policy, kz_find_ike_policy, "ike policy");
	if (cli_is_no(a)) {
		p->dpd = false;
		p->dpd_interval = KZ_DEF_DPD_INTERVAL;
		p->dpd_retry = KZ_DEF_DPD_RETRY;
		return 0;
	}
	p->dpd = true;
	p->dpd_interval =
		cli_has(a, "interval") ? (uint32_t)cli_arg_num(a, "SECONDS") : KZ_DEF_DPD_INTERVAL;
	p->dpd_retry = cli_has(a, "retry") ? (uint32_t)cli_arg_num(a, "COUNT") : KZ_DEF_DPD_RETRY;
	return 0;
}

/* ---- ipsec proposal ---- */

H(h_espp_protocol)
{
	CUR(struct kz_ipsec_proposal, kz_find_ipsec_proposal, "ipsec proposal");
	(void)p; /* esp is the only protocol */
	return 0;
}

static bool enc_is_gcm(enum kz_enc e)
{
	return e == KZ_ENC_AES_GCM_128 || e == KZ_ENC_AES_GCM_256;
}

H(h_espp_enc)
{
	enum kz_enc e;

	CUR(struct kz_ipsec_proposal, kz_find_ipsec_proposal, "ipsec proposal");
	e = cli_is_no(a) ? KZ_DEF_IPSEC_ENC : (enum kz_enc)kw_lookup(enc_map, a, KZ_DEF_IPSEC_ENC);
	/* AES-GCM carries its own integrity (RFC 4106); other ciphers need
	 * an HMAC, the default one if none was chosen. */
	if (enc_is_gcm(e))
		p->auth = KZ_AUTH_NONE;
	else if (p->auth == KZ_AUTH_NONE)
		p->auth = KZ_DEF_IPSEC_AUTH;
	p->enc = e;
	return 0;
}

H(h_espp_auth)
{
	CUR(struct kz_ipsec_proposal, kz_find_ipsec_proposal, "ipsec proposal");
	if (enc_is_gcm(p->enc)) {
		if (cli_is_no(a))
			return 0;
		return cli_fail(
			err, a, NULL, KZ_EINVAL,
			"%s has its own integrity check; authentication is not used with it",
			kz_enc_name(p->enc));
	}
	p->auth = cli_is_no(a) ? KZ_DEF_IPSEC_AUTH
			       : (enum kz_auth)kw_lookup(auth_map, a, KZ_DEF_IPSEC_AUTH);
	return 0;
}

H(h_espp_lifetime)
{
	CUR(struct kz_ipsec_proposal, kz_find_ipsec_proposal, "ipsec proposal");
	if (cli_has(a, "time"))
		p->lifetime_time =
			cli_is_no(a) ? KZ_DEF_IPSEC_LIFETIME : (uint32_t)cli_arg_num(a, "SECONDS");
	else
		p->lifetime_kbytes = cli_is_no(a) ? 0 : cli_arg_num(a, "KILOBYTES");
	return 0;
}

/* ---- ipsec policy ---- */

H(h_espol_proposal)
{
	CUR(struct kz_ipsec_policy, kz_find_ipsec_policy, "ipsec policy");
	if (cli_is_no(a)) {
		p->nproposals = 0;
		return 0;
	}
	return set_refs(p->proposals, &p->nproposals, a, "IPSEC-PROPOSAL", err);
}

/* local-id / remote-id: the protected network, or none with `no`. */
static int set_ts(struct kz_prefix *ts, const struct cli_args *a, struct cli_error *err)
{
	struct kz_prefix px;
	int r;

	if (cli_is_no(a)) {
		memset(ts, 0, sizeof(*ts));
		return 0;
	}
	r = cli_get_network(a, &px, err);
	if (r == 0)
		*ts = px;
	return r;
}

H(h_espol_local)
{
	CUR(struct kz_ipsec_policy, kz_find_ipsec_policy, "ipsec policy");
	return set_ts(&p->local_ts, a, err);
}

H(h_espol_remote)
{
	CUR(struct kz_ipsec_policy, kz_find_ipsec_policy, "ipsec policy");
	return set_ts(&p->remote_ts, a, err);
}

/* One word of `selector`: a network without host bits. */
static int sel_net(const struct cli_args *a, size_t i, struct kz_prefix *p, struct cli_error *err)
{
	const char *w = cli_arg_n(a, "A.B.C.D/M", i);
	uint32_t mask;

	if (!w || cli_parse_prefix(w, p))
		return cli_fail(err, a, "A.B.C.D/M", KZ_EINVAL, "not an IPv4 prefix");
	mask = p->len ? 0xffffffffu << (32 - p->len) : 0;
	if (ntohl(p->addr.s_addr) & ~mask)
		return cli_fail(err, a, "A.B.C.D/M", KZ_EINVAL, "'%s' has host bits set", w);
	return 0;
}

static const struct kwmap proto_map[] = {
	{ "any", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { NULL, 0 }
};

/* selector local A.B.C.D/M remote A.B.C.D/M [protocol P] [local-port N]
 * [remote-port N]: one more pair; `no selector` removes them all, `no
 * selector local .. remote ..` the one that matches. */
H(h_espol_selector)
{
	struct kz_selector sel = { 0 };
	int r;

	CUR(struct kz_ipsec_policy, kz_find_ipsec_policy, "ipsec policy");
	if (cli_is_no(a) && !cli_has(a, "local")) {
		p->nsel = 0;
		memset(p->sel, 0, sizeof(p->sel));
		return 0;
	}
	if ((r = sel_net(a, 0, &sel.local, err)) || (r = sel_net(a, 1, &sel.remote, err)))
		return r;
	if (cli_has(a, "PROTOCOL"))
		sel.proto = (uint8_t)cli_arg_num(a, "PROTOCOL");
	else
		sel.proto = (uint8_t)kw_lookup(proto_map, a, 0);
	sel.lport = (uint16_t)cli_arg_num(a, "PORT");
	sel.rport = (uint16_t)cli_arg_num(a, "REMOTE-PORT");
	if ((sel.lport || sel.rport) && sel.proto != 6 && sel.proto != 17)
		return cli_fail(err, a, NULL, KZ_EINVAL, "ports need protocol tcp or udp");
	for (unsigned i = 0; i < p->nsel; i++) {
		if (!kz_selector_equal(&p->sel[i], &sel))
			continue;
		if (cli_is_no(a)) {
			memmove(&p->sel[i], &p->sel[i + 1], (p->nsel - i - 1) * sizeof(sel));
			p->nsel--;
		}
		return 0; /* already there */
	}
	if (cli_is_no(a))
		return cli_fail(err, a, NULL, KZ_ENOENT, "no such selector in ipsec policy %s",
				p->name);
	if (p->nsel >= KZ_MAX_SELECTORS)
		return cli_fail(err, a, NULL, KZ_ENOSPC, "at most %u selector lines per policy",
				KZ_MAX_SELECTORS);
	p->sel[p->nsel++] = sel;
	return 0;
}

H(h_espol_pfs)
{
	CUR(struct kz_ipsec_policy, kz_find_ipsec_policy, "ipsec policy");
	p->pfs = cli_is_no(a) ? KZ_GROUP_NONE
			      : (enum kz_group)kw_lookup(group_map, a, KZ_GROUP_NONE);
	return 0;
}

H(h_espol_replay)
{
	CUR(struct kz_ipsec_policy, kz_find_ipsec_policy, "ipsec policy");
	p->replay_window = cli_is_no(a) ? KZ_DEF_REPLAY_WINDOW : (uint32_t)cli_arg_num(a, "BITS");
	return 0;
}

/* ---- ipsec profile ---- */

H(h_prof_peer)
{
	CUR(struct kz_ipsec_profile, kz_find_profile, "ipsec profile");
	p->peer_fqdn[0] = '\0';
	p->peer_addr.s_addr = 0;
	if (cli_is_no(a)) {
		p->peer_type = KZ_PEER_UNSET;
	} else if (cli_has(a, "any")) {
		p->peer_type = KZ_PEER_ANY;
	} else if (cli_has(a, "A.B.C.D")) {
		p->peer_type = KZ_PEER_ADDR;
		inet_pton(AF_INET, cli_arg(a, "A.B.C.D"), &p->peer_addr);
	} else {
		p->peer_type = KZ_PEER_FQDN;
		kz_strlcpy(p->peer_fqdn, cli_arg(a, "FQDN"), sizeof(p->peer_fqdn));
	}
	return 0;
}

H(h_prof_source)
{
	CUR(struct kz_ipsec_profile, kz_find_profile, "ipsec profile");
	p->source_set = !cli_is_no(a);
	return 0;
}

H(h_prof_ike_policy)
{
	CUR(struct kz_ipsec_profile, kz_find_profile, "ipsec profile");
	if (cli_is_no(a))
		p->ike_policy[0] = '\0';
	else
		kz_strlcpy(p->ike_policy, cli_arg(a, "IKE-POLICY"), sizeof(p->ike_policy));
	s->block_hint = CLI_NODE_IKE_POLICY;
	return 0;
}

H(h_prof_ipsec_policy)
{
	CUR(struct kz_ipsec_profile, kz_find_profile, "ipsec profile");
	if (cli_is_no(a))
		p->ipsec_policy[0] = '\0';
	else
		kz_strlcpy(p->ipsec_policy, cli_arg(a, "IPSEC-POLICY"), sizeof(p->ipsec_policy));
	s->block_hint = CLI_NODE_IPSEC_POLICY;
	return 0;
}

H(h_prof_initiate)
{
	CUR(struct kz_ipsec_profile, kz_find_profile, "ipsec profile");
	p->initiate =
		!cli_is_no(a) && cli_has(a, "on-demand") ? KZ_INITIATE_ON_DEMAND : KZ_INITIATE_AUTO;
	return 0;
}

/* The initiator's back-off after a failure.  Without `max` the ceiling is
 * the default (or the interval itself, when that is longer); a ceiling
 * below the interval is refused, as it would make the interval a lie. */
H(h_prof_retry)
{
	uint32_t ival = KZ_DEF_RETRY_INTERVAL, max = KZ_DEF_RETRY_MAX;

	CUR(struct kz_ipsec_profile, kz_find_profile, "ipsec profile");
	if (!cli_is_no(a)) {
		ival = (uint32_t)cli_arg_num(a, "SECONDS");
		if (cli_has(a, "max"))
			max = (uint32_t)cli_arg_num(a, "MAX-SECONDS");
		else if (max < ival)
			max = ival;
		if (max < ival)
			return cli_fail(err, a, "MAX-SECONDS", KZ_ERANGE,
					"retry max %u is below the retry interval %u", max, ival);
	}
	p->retry_interval = ival;
	p->retry_max = max;
	return 0;
}

#define C(n) CLI_IN(CLI_NODE_##n)
#define IKE_ENC "(aes-cbc-128 | aes-cbc-192 | aes-cbc-256 | 3des-cbc | des-cbc)"
#define ESP_ENC \
	"(aes-cbc-128 | aes-cbc-192 | aes-cbc-256 | aes-gcm-128 | aes-gcm-256 | 3des-cbc | null)"
#define HASHES "(md5 | sha1 | sha2-256 | sha2-384 | sha2-512)"
#define AUTHS "(hmac-sha1 | hmac-sha2-256 | hmac-sha2-384 | hmac-sha2-512 | hmac-md5)"
#define GROUPS "(modp768 | modp1024 | modp1536 | modp2048 | modp3072 | modp4096 | ecp256 | ecp384)"
#define IDENT "(key-id STRING | fqdn FQDN | user-fqdn USER@FQDN | address A.B.C.D)"
#define LIFE "SECONDS:60-604800"

const struct cli_cmd cli_ike_cmds[] = {
	{ C(IKE_PROPOSAL), "encryption " IKE_ENC, "Encryption algorithm", h_ikep_enc, NULL },
	{ C(IKE_PROPOSAL), "no encryption", "Default encryption (aes-cbc-256)", h_ikep_enc, NULL },
	{ C(IKE_PROPOSAL), "hash " HASHES, "Hash algorithm", h_ikep_hash, NULL },
	{ C(IKE_PROPOSAL), "no hash", "Default hash (sha2-256)", h_ikep_hash, NULL },
	{ C(IKE_PROPOSAL), "group " GROUPS, "Diffie-Hellman group", h_ikep_group, NULL },
	{ C(IKE_PROPOSAL), "no group", "Default group (modp2048)", h_ikep_group, NULL },
	{ C(IKE_PROPOSAL), "lifetime " LIFE, "IKE SA lifetime", h_ikep_lifetime, NULL },
	{ C(IKE_PROPOSAL), "no lifetime", "Default lifetime (28800)", h_ikep_lifetime, NULL },

	{ C(IKE_POLICY), "exchange-mode (main | aggressive)", "Phase 1 exchange mode",
	  h_ikepol_mode, NULL },
	{ C(IKE_POLICY), "no exchange-mode", "Default exchange mode (main)", h_ikepol_mode, NULL },
	{ C(IKE_POLICY), "proposal IKE-PROPOSAL...", "IKE proposals in order of preference",
	  h_ikepol_proposal, NULL },
	{ C(IKE_POLICY), "no proposal", "Remove the proposals", h_ikepol_proposal, NULL },
	{ C(IKE_POLICY), "pre-shared-key (ascii | hex) SECRET", "Pre-shared key", h_ikepol_psk,
	  NULL },
	{ C(IKE_POLICY), "no pre-shared-key", "Remove the pre-shared key", h_ikepol_psk, NULL },
	{ C(IKE_POLICY), "local-id " IDENT, "Identity this gateway sends", h_ikepol_local_id,
	  NULL },
	{ C(IKE_POLICY), "no local-id", "Send the source address as identity", h_ikepol_local_id,
	  NULL },
	{ C(IKE_POLICY), "remote-id " IDENT, "Identity expected from the peer", h_ikepol_remote_id,
	  NULL },
	{ C(IKE_POLICY), "no remote-id", "Accept the identity the peer sends", h_ikepol_remote_id,
	  NULL },
	{ C(IKE_POLICY), "nat-traversal [keepalive SECONDS:1-3600]", "Enable NAT-Traversal",
	  h_ikepol_natt, NULL },
	{ C(IKE_POLICY), "no nat-traversal", "Disable NAT-Traversal", h_ikepol_natt, NULL },
	{ C(IKE_POLICY), "dpd [interval SECONDS:1-3600] [retry COUNT:1-100]",
	  "Dead Peer Detection (RFC 3706)", h_ikepol_dpd, NULL },
	{ C(IKE_POLICY), "no dpd", "Disable Dead Peer Detection", h_ikepol_dpd, NULL },

	{ C(IPSEC_PROPOSAL), "protocol esp", "IPsec protocol", h_espp_protocol, NULL },
	{ C(IPSEC_PROPOSAL), "encryption " ESP_ENC, "Encryption algorithm", h_espp_enc, NULL },
	{ C(IPSEC_PROPOSAL), "no encryption", "Default encryption (aes-cbc-256)", h_espp_enc,
	  NULL },
	{ C(IPSEC_PROPOSAL), "authentication " AUTHS, "Integrity algorithm", h_espp_auth, NULL },
	{ C(IPSEC_PROPOSAL), "no authentication", "Default integrity (hmac-sha2-256)", h_espp_auth,
	  NULL },
	{ C(IPSEC_PROPOSAL), "lifetime time " LIFE, "IPsec SA lifetime in seconds", h_espp_lifetime,
	  NULL },
	{ C(IPSEC_PROPOSAL), "lifetime bytes KILOBYTES:1-4294967295",
	  "IPsec SA lifetime in kilobytes", h_espp_lifetime, NULL },
	{ C(IPSEC_PROPOSAL), "no lifetime (time | bytes)", "Default lifetime", h_espp_lifetime,
	  NULL },

	{ C(IPSEC_POLICY), "proposal IPSEC-PROPOSAL...", "IPsec proposals in order of preference",
	  h_espol_proposal, NULL },
	{ C(IPSEC_POLICY), "no proposal", "Remove the proposals", h_espol_proposal, NULL },
	{ C(IPSEC_POLICY), "local-id A.B.C.D/M", "Local protected network", h_espol_local, NULL },
	{ C(IPSEC_POLICY), "no local-id", "Remove the local network", h_espol_local, NULL },
	{ C(IPSEC_POLICY), "remote-id A.B.C.D/M", "Remote protected network", h_espol_remote,
	  NULL },
	{ C(IPSEC_POLICY), "no remote-id", "Remove the remote network", h_espol_remote, NULL },
	{ C(IPSEC_POLICY),
	  "selector local A.B.C.D/M remote A.B.C.D/M [protocol (any | tcp | udp | icmp | "
	  "PROTOCOL:0-255)] [local-port PORT:1-65535] [remote-port REMOTE-PORT:1-65535]",
	  "One more pair of protected networks (its own IPsec SA)", h_espol_selector, NULL },
	{ C(IPSEC_POLICY),
	  "no selector [local A.B.C.D/M remote A.B.C.D/M [protocol (any | tcp | udp | icmp | "
	  "PROTOCOL:0-255)] [local-port PORT:1-65535] [remote-port REMOTE-PORT:1-65535]]",
	  "Remove one selector line, or all", h_espol_selector, NULL },
	{ C(IPSEC_POLICY),
	  "pfs (none | modp768 | modp1024 | modp1536 | modp2048 | modp3072 | modp4096 | ecp256 | "
	  "ecp384)",
	  "Perfect forward secrecy group", h_espol_pfs, NULL },
	{ C(IPSEC_POLICY), "no pfs", "No perfect forward secrecy", h_espol_pfs, NULL },
	{ C(IPSEC_POLICY), "anti-replay window BITS:0-1024", "Replay window (0: off)",
	  h_espol_replay, NULL },
	{ C(IPSEC_POLICY), "no anti-replay window", "Default replay window (64)", h_espol_replay,
	  NULL },

	{ C(IPSEC_PROFILE), "peer (any | A.B.C.D | FQDN)",
	  "The peer: any (responder), or its address or name (initiator)", h_prof_peer, NULL },
	{ C(IPSEC_PROFILE), "no peer", "Remove the peer", h_prof_peer, NULL },
	{ C(IPSEC_PROFILE), "source-interface MobileEthernet0.0", "The WAN interface to use",
	  h_prof_source, NULL },
	{ C(IPSEC_PROFILE), "no source-interface", "Remove the source interface", h_prof_source,
	  NULL },
	{ C(IPSEC_PROFILE), "ike policy IKE-POLICY", "The IKE policy of this profile",
	  h_prof_ike_policy, NULL },
	{ C(IPSEC_PROFILE), "no ike policy", "Remove the IKE policy", h_prof_ike_policy, NULL },
	{ C(IPSEC_PROFILE), "ipsec policy IPSEC-POLICY", "The IPsec policy of this profile",
	  h_prof_ipsec_policy, NULL },
	{ C(IPSEC_PROFILE), "no ipsec policy", "Remove the IPsec policy", h_prof_ipsec_policy,
	  NULL },
	{ C(IPSEC_PROFILE), "initiate (auto | on-demand)",
	  "When to negotiate: at start-up or on the first packet", h_prof_initiate, NULL },
	{ C(IPSEC_PROFILE), "no initiate", "Default (auto)", h_prof_initiate, NULL },
	{ C(IPSEC_PROFILE), "retry interval SECONDS:1-3600 [max MAX-SECONDS:1-86400]",
	  "Back-off after a failed negotiation: first wait, doubled up to max", h_prof_retry,
	  NULL },
	{ C(IPSEC_PROFILE), "no retry", "Default back-off (interval 5, max 600)", h_prof_retry,
	  NULL },
};

const size_t cli_ike_ncmds = sizeof(cli_ike_cmds) / sizeof(cli_ike_cmds[0]);
