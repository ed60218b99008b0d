/* enum_name.h - the printable name of an enum value from a table indexed
 * by the value (designated initialisers, `[KZ_ROLE_ADMIN] = "admin"`). */
#ifndef KZ_LIB_ENUM_NAME_H
#define KZ_LIB_ENUM_NAME_H

#include <stddef.h>

/* names[v], or fallback when v is past the table or a gap in it. */
static inline const char *kz_enum_name(const char *const *names, size_t n, unsigned v,
				       const char *fallback)
{
	return v < n && names[v] ? names[v] : fallback;
}

/* The same for a table array in scope (its size is taken from it). */
#define KZ_ENUM_NAME(table, v, fallback) \
	kz_enum_name((table), sizeof(table) / sizeof((table)[0]), (unsigned)(v), (fallback))

#endif
