/* peer_main.c - `kizuna peer-config FILE PROFILE`: the other site's config
 * for one profile, offline.  Interface in peer_main.h. */
#include "client/peer_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/model.h"
#include "config/peer.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/strbuf.h"
#include "client/check_main.h"
#include "client/config_file.h"

#define PEER_MAX_ERRORS 100

static const char usage_text[] =
	"usage: kizuna peer-config FILE PROFILE [--format kizuna|swanctl|both]\n"
	"                          [--address ADDRESS]\n"
	"  Prints the config the other site needs to match ipsec profile PROFILE\n"
	"  of FILE: mirrored traffic selectors, IKE ids swapped, the same\n"
	"  proposals, key, NAT-T and DPD, and the opposite role.  The output is a\n"
	"  config file, like show running-config: it CONTAINS THE PRE-SHARED KEY.\n"
	"  --format   kizuna config, strongSwan swanctl.conf, or both (default)\n"
	"  --address  this site's WAN address or FQDN as the other site reaches\n"
	"             it; needed when the other site must initiate (this profile\n"
	"             is `peer any`, or main mode), else its `peer` is left to edit\n"
	"  Exit status: 0 printed, 1 no such profile or the profile incomplete,\n"
	"  2 bad usage or FILE cannot be read or parsed.\n";

enum fmt { FMT_KIZUNA = 1, FMT_SWANCTL = 2, FMT_BOTH = 3 };

static int load(const char *path, struct kz_config **cfg)
{
	struct cli_load_error *errs = calloc(PEER_MAX_ERRORS, sizeof(*errs));
	struct strbuf out;
	int rc;

	if (!errs) {
		fprintf(stderr, "kizuna: peer-config: %s\n", kz_strerror(KZ_ENOMEM));
		return KZ_PEER_EXIT_UNREADABLE;
	}
	sb_init(&out);
	rc = client_load_config(path, "load", cfg, errs, PEER_MAX_ERRORS, &out);
	fwrite(sb_str(&out), 1, out.len, stdout);
	sb_free(&out);
	free(errs);
	return rc ? KZ_PEER_EXIT_UNREADABLE : 0;
}

static int bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "kizuna: peer-config: %s%s\n%s", what, arg ? arg : "", usage_text);
	return KZ_PEER_EXIT_UNREADABLE;
}

int kizuna_peer_config_main(int argc, char **argv)
{
	const char *file = NULL, *profile = NULL, *addr = NULL;
	struct kz_config *cfg = NULL;
	struct kz_peer peer = { 0 };
	struct strbuf out;
	char why[512];
	enum fmt fmt = FMT_BOTH;
	bool opts = true;
	enum kz_argv_kind k;
	int status, rc;

	for (int i = 0; (k = kz_argv_next(argc, argv, &i, &opts, usage_text));) {
		const char *a = argv[i];

		if (k == KZ_ARGV_HELP) {
			return KZ_PEER_EXIT_OK;
		} else if (k == KZ_ARGV_OPTION && strcmp(a, "--format") == 0) {
			if (++i >= argc)
				return bad_usage("--format needs a value", NULL);
			if (strcmp(argv[i], "kizuna") == 0)
				fmt = FMT_KIZUNA;
			else if (strcmp(argv[i], "swanctl") == 0)
				fmt = FMT_SWANCTL;
			else if (strcmp(argv[i], "both") == 0)
				fmt = FMT_BOTH;
			else
				return bad_usage("unknown format ", argv[i]);
		} else if (k == KZ_ARGV_OPTION && strcmp(a, "--address") == 0) {
			if (++i >= argc)
				return bad_usage("--address needs a value", NULL);
			addr = argv[i];
		} else if (k == KZ_ARGV_OPTION) {
			return bad_usage("unknown option ", a);
		} else if (!file) {
			file = a;
		} else if (!profile) {
			profile = a;
		} else {
			return bad_usage("too many arguments", NULL);
		}
	}
	if (!file || !profile)
		return bad_usage("FILE and PROFILE are needed", NULL);

	status = load(file, &cfg);
	if (status)
		return status;
	rc = kz_peer_build(cfg, profile, addr, &peer, why, sizeof(why));
	kz_config_free(cfg);
	if (rc == KZ_EINVAL)
		return bad_usage("--address: ", why);
	if (rc == KZ_ENOENT || rc == KZ_EINCOMPLETE) {
		fprintf(stderr, "kizuna: peer-config: %s: %s\n", file, why);
		return KZ_PEER_EXIT_PROFILE;
	}
	if (rc) {
		fprintf(stderr, "kizuna: peer-config: %s\n", kz_strerror(rc));
		return KZ_PEER_EXIT_UNREADABLE;
	}

	sb_init(&out);
	if (fmt == FMT_BOTH)
		sb_puts(&out, "### kizuna config\n");
	if (fmt & FMT_KIZUNA)
		kz_peer_render_kizuna(&peer, &out);
	if (fmt == FMT_BOTH)
		sb_puts(&out, "\n### swanctl.conf\n");
	if (fmt & FMT_SWANCTL)
		kz_peer_render_swanctl(&peer, &out);
	status = KZ_PEER_EXIT_OK;
	if (out.truncated) {
		fprintf(stderr, "kizuna: peer-config: %s\n", kz_strerror(KZ_ENOMEM));
		status = KZ_PEER_EXIT_UNREADABLE;
	} else {
		fwrite(sb_str(&out), 1, out.len, stdout);
		if (fflush(stdout) != 0 || ferror(stdout))
			status = KZ_PEER_EXIT_UNREADABLE;
	}
	if (peer.peer_unknown)
		fprintf(stderr,
			"kizuna: peer-config: the other site must initiate to %s; "
			"its `peer` is left to edit (or give --address)\n",
			peer.src_hostname);
	if (out.s)
		kz_wipe(out.s, out.cap);
	sb_free(&out);
	kz_peer_free(&peer);
	return status;
}
