/* role.h - who may do what on the console (kizunad --admin-group,
 * --operator-group), decided from the peer's credentials.
 *
 *   admin     root, or a member (primary or supplementary) of the admin
 *             group: every command, `show running-config secrets` too
 *   operator  a member of the operator group: show (keys hidden),
 *             diagnose, ping, exit
 *   none      anyone else: refused
 *
 * With neither group configured every user who can open the socket is an
 * admin (the socket's mode decides, as before). */
#ifndef KZ_LIB_ROLE_H
#define KZ_LIB_ROLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum kz_role { KZ_ROLE_NONE, KZ_ROLE_OPERATOR, KZ_ROLE_ADMIN };

struct kz_role_groups {
	bool admin_set, operator_set;
	gid_t admin, operator_;
};

/* groups: the uid's primary and supplementary groups (n of them). */
enum kz_role kz_role_decide(uid_t uid, const gid_t *groups, size_t n,
			    const struct kz_role_groups *g);
const char *kz_role_name(enum kz_role r);
/* Whether an operator may run a command whose grammar is `grammar`
 * (judged by its first word). */
bool kz_role_operator_may(const char *grammar);

#endif
