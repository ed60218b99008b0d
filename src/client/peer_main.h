/* peer_main.h - `kizuna peer-config FILE PROFILE`: prints the config the
 * other site needs to match one profile of FILE, as kizuna config and/or
 * strongSwan swanctl.conf (see src/config/peer.h for how it is built).
 *
 * Standard output holds the configs (with `--format both`, each under a
 * header line `### kizuna config` / `### swanctl.conf`); they contain the
 * pre-shared key, like `show running-config`.  Problems go to stderr.
 *
 * Exit status: 0 printed; 1 no such profile, or the profile is not
 * complete enough (the message names the missing block); 2 bad usage, or
 * FILE unreadable or unparsable (`file:line:col: error: ...` on stdout as
 * `kizuna check` prints them). */
#ifndef KZ_PEER_MAIN_H
#define KZ_PEER_MAIN_H

#define KZ_PEER_EXIT_OK 0
#define KZ_PEER_EXIT_PROFILE 1
#define KZ_PEER_EXIT_UNREADABLE 2

/* argv[0] is "peer-config"; the rest are the command's arguments. */
int kizuna_peer_config_main(int argc, char **argv);

#endif
