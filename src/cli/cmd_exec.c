/* cmd_exec.c - the grammar of the exec-mode commands.  The daemon runs them
 * (through cli_exec_ops); their output formats are in
 * shared/spec/show-output.md.  Every show takes a trailing `json`. */
#include "cli_int.h"

#define EXEC_AND_CONFIG (CLI_IN(CLI_NODE_EXEC))

const struct cli_cmd cli_exec_cmds[] = {
	{ EXEC_AND_CONFIG, "show running-config [json]", "The running configuration", NULL,
	  CLI_X_SHOW_RUNNING_CONFIG },
	{ EXEC_AND_CONFIG, "show ip address [(MobileEthernet0.0 | IPsec<N>)] [json]",
	  "Interface state and addresses", NULL, CLI_X_SHOW_IP_ADDRESS },
	{ EXEC_AND_CONFIG, "show ip route [json]", "The kernel's IPv4 routes", NULL,
	  CLI_X_SHOW_IP_ROUTE },
	{ EXEC_AND_CONFIG, "show ike sa [json]", "IKE (phase 1) security associations", NULL,
	  CLI_X_SHOW_IKE_SA },
	{ EXEC_AND_CONFIG, "show ipsec sa [json]", "IPsec (phase 2) security associations", NULL,
	  CLI_X_SHOW_IPSEC_SA },
	{ EXEC_AND_CONFIG, "show ipsec profile [PROFILE] [json]",
	  "IPsec profiles and their config check", NULL, CLI_X_SHOW_IPSEC_PROFILE },
	{ EXEC_AND_CONFIG, "clear ike sa [A.B.C.D]", "Delete IKE SAs (of one peer)", NULL,
	  CLI_X_CLEAR_IKE_SA },
	{ EXEC_AND_CONFIG, "clear ipsec sa", "Delete all IPsec SAs", NULL, CLI_X_CLEAR_IPSEC_SA },
	{ EXEC_AND_CONFIG, "write memory", "Save the running config to the startup file", NULL,
	  CLI_X_WRITE_MEMORY },
	{ EXEC_AND_CONFIG, "diagnose ipsec [PROFILE] [json]",
	  "Walk the troubleshooting checklist", NULL, CLI_X_DIAGNOSE_IPSEC },
};

const size_t cli_exec_ncmds = sizeof(cli_exec_cmds) / sizeof(cli_exec_cmds[0]);
