/* cmd_exec.c - the grammar of the exec-mode commands.  The daemon runs them
 * (through cli_exec_ops); their output formats are in
 * shared/spec/show-output.md.  Every show takes a trailing `json`. */
#include "cli_int.h"


const struct cli_cmd cli_exec_cmds[] = {
	{ CLI_IN(CLI_NODE_EXEC), "show running-config [json]", "The running configuration", NULL,
	  CLI_X_SHOW_RUNNING_CONFIG },
	{ CLI_IN(CLI_NODE_EXEC), "show ip address [(MobileEthernet0.0 | IPsec<N>)] [json]",
	  "Interface state and addresses", NULL, CLI_X_SHOW_IP_ADDRESS },
	{ CLI_IN(CLI_NODE_EXEC), "show ip route [json]", "The kernel's IPv4 routes", NULL,
	  CLI_X_SHOW_IP_ROUTE },
	{ CLI_IN(CLI_NODE_EXEC), "show ike sa [json]", "IKE (phase 1) security associations", NULL,
	  CLI_X_SHOW_IKE_SA },
	{ CLI_IN(CLI_NODE_EXEC), "show ike statistics [json]",
	  "IKE counters: messages, retransmissions, drops by reason", NULL,
	  CLI_X_SHOW_IKE_STATISTICS },
	{ CLI_IN(CLI_NODE_EXEC), "show ipsec sa [json]", "IPsec (phase 2) security associations", NULL,
	  CLI_X_SHOW_IPSEC_SA },
	{ CLI_IN(CLI_NODE_EXEC), "show ipsec profile [PROFILE] [detail] [json]",
	  "IPsec profiles and their config check", NULL, CLI_X_SHOW_IPSEC_PROFILE },
	{ CLI_IN(CLI_NODE_EXEC), "show ipsec statistics [json]",
	  "Data-plane counters: packets dropped, by reason", NULL, CLI_X_SHOW_IPSEC_STATISTICS },
	{ CLI_IN(CLI_NODE_EXEC), "clear ike sa [A.B.C.D]",
	  "Delete IKE SAs (all, or of one peer), telling the peers", NULL, CLI_X_CLEAR_IKE_SA },
	{ CLI_IN(CLI_NODE_EXEC), "clear ipsec sa", "Delete all IPsec SAs, telling the peers", NULL,
	  CLI_X_CLEAR_IPSEC_SA },
	{ CLI_IN(CLI_NODE_EXEC), "diagnose ipsec [PROFILE] [json]",
	  "Walk the troubleshooting checklist for IPsec profiles", NULL, CLI_X_DIAGNOSE_IPSEC },
	{ CLI_IN(CLI_NODE_EXEC), "write memory", "Save the running config to the startup file", NULL,
	  CLI_X_WRITE_MEMORY },
};

const size_t cli_exec_ncmds = sizeof(cli_exec_cmds) / sizeof(cli_exec_cmds[0]);
