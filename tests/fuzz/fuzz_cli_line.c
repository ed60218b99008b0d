/* fuzz_cli_line.c - libFuzzer target: console lines.  The first byte picks
 * the mode the session starts in; each following line is executed, completed
 * and asked for help, as the console would send it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/emit.h"

static const char base_config[] =
	"hostname site-a\ninterface MobileEthernet0.0\n device wwan0\n"
	"ike proposal IKEP\nike policy IKEPOL\n proposal IKEP\n"
	"ipsec proposal ESPP\nipsec policy IPSECPOL\n proposal ESPP\n"
	"ipsec profile HQ\n peer any\n!\ninterface IPsec0\n ipsec map HQ\n";

static int fake_exec(struct cli_session *s, const struct cli_args *a, struct emit *e)
{
	(void)s;
	(void)a;
	emit_text(e, "ok\n");
	return 0;
}

/* The exec grammar as the daemon installs it (daemon/show.c). */
#define X CLI_IN(CLI_NODE_EXEC)
static const struct cli_cmd exec_cmds[] = {
	{ X, "show running-config [json]", "", .exec = fake_exec },
	{ X, "show ip address [(MobileEthernet0.0 | IPsec<N>)] [json]", "", .exec = fake_exec },
	{ X, "show ip route [json]", "", .exec = fake_exec },
	{ X, "show ike sa [json]", "", .exec = fake_exec },
	{ X, "show ike statistics [json]", "", .exec = fake_exec },
	{ X, "show ipsec sa [json]", "", .exec = fake_exec },
	{ X, "show ipsec profile [PROFILE] [detail] [json]", "", .exec = fake_exec },
	{ X, "show ipsec statistics [json]", "", .exec = fake_exec },
	{ X, "clear ike sa [A.B.C.D]", "", .exec = fake_exec },
	{ X, "clear ipsec sa", "", .exec = fake_exec },
	{ X, "diagnose ipsec [PROFILE] [json]", "", .exec = fake_exec },
	{ X, "write [memory]", "", .exec = fake_exec },
	{ X, "copy running-config startup-config", "", .exec = fake_exec },
	{ X, "show startup-config", "", .exec = fake_exec },
	{ X, "show running-config status [json]", "", .exec = fake_exec },
	{ X, "show version [json]", "", .exec = fake_exec },
	{ X,
	  "ping A.B.C.D [source (IPsec<N> | MobileEthernet0.0 | A.B.C.D)] [count COUNT:1-1000] "
	  "[size BYTES:0-65000]",
	  "", .exec = fake_exec },
	{ X, "traceroute A.B.C.D [source (IPsec<N> | MobileEthernet0.0 | A.B.C.D)]", "",
	  .exec = fake_exec },
	{ X, "clear (ike | ipsec) sa profile PROFILE", "", .exec = fake_exec },
	{ X, "show archive [json]", "", .exec = fake_exec },
	{ X, "configure replace COUNT:1-10", "", .exec = fake_exec },
	{ X, "show tech-support", "", .exec = fake_exec },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_load_error errs[4];
	struct kz_config *c = NULL;
	struct cli_session s;
	struct strbuf out;
	size_t n, pos = 1;
	char *line;

	if (size < 1 || cli_load_text(base_config, sizeof(base_config) - 1, &c, errs, 4, &n))
		return 0;
	cli_install(exec_cmds, sizeof(exec_cmds) / sizeof(exec_cmds[0]));
	cli_session_init(&s, c, (enum cli_node)(data[0] % CLI_NODE_COUNT));
	s.exec = true;
	sb_init(&out);
	line = malloc(size + 1);
	while (line && pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		struct cli_error err;

		memcpy(line, data + pos, len);
		line[len] = '\0';
		sb_reset(&out);
		cli_execute(&s, line, &out, &err);
		sb_reset(&out);
		cli_complete(&s, line, &out);
		sb_reset(&out);
		cli_help(&s, line, &out);
		pos += len + 1;
	}
	free(line);
	sb_free(&out);
	kz_config_free(c);
	return 0;
}
