/* role.c - console roles from credentials; see role.h. */
#include "lib/role.h"

#include <string.h>

#include "lib/enum_name.h"

enum kz_role kz_role_decide(uid_t uid, const gid_t *groups, size_t n,
			    const struct kz_role_groups *g)
{
	bool oper = false;

	if (!g || (!g->admin_set && !g->operator_set) || uid == 0)
		return KZ_ROLE_ADMIN;
	for (size_t i = 0; i < n; i++) {
		if (g->admin_set && groups[i] == g->admin)
			return KZ_ROLE_ADMIN;
		if (g->operator_set && groups[i] == g->operator_)
			oper = true;
	}
	return oper ? KZ_ROLE_OPERATOR : KZ_ROLE_NONE;
}

const char *kz_role_name(enum kz_role r)
{
	static const char *const n[] = {
		[KZ_ROLE_NONE] = "none",
		[KZ_ROLE_OPERATOR] = "operator",
		[KZ_ROLE_ADMIN] = "admin",
	};
	return KZ_ENUM_NAME(n, r, "none");
}

bool kz_role_operator_may(const char *grammar)
{
	static const char *const ok[] = { "show", "diagnose", "ping", "exit", "quit" };
	size_t n;

	if (!grammar)
		return false;
	n = strcspn(grammar, " ");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && strncmp(grammar, ok[i], n) == 0)
			return true;
	return false;
}
