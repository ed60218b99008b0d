/* check_int.h - what the config check files share and nobody else uses. */
#ifndef KZ_CHECK_INT_H
#define KZ_CHECK_INT_H

#include <stdarg.h>
#include <stddef.h>

/* snprintf into a fixed field, so long names are cut at the field size
 * instead of each call site proving it fits; "" if formatting fails. */
void kz_check_vset(char *dst, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void kz_check_set(char *dst, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
