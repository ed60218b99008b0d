/* err.c - names and texts of the error codes of err.h. */
#include "lib/err.h"

#include <stddef.h>

struct err_entry {
	int val;
	const char *name;
	const char *text;
};

static const struct err_entry err_table[] = {
#define KZ_ERR_ROW(name, val, text) { val, #name, text },
	KZ_ERRORS(KZ_ERR_ROW)
#undef KZ_ERR_ROW
};

static const struct err_entry *err_find(int err)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].val == err)
			return &err_table[i];
	return NULL;
}

const char *kz_errname(int err)
{
	const struct err_entry *e = err_find(err);
	return e ? e->name : "KZ_E?";
}

const char *kz_strerror(int err)
{
	const struct err_entry *e = err_find(err);
	return e ? e->text : "unknown error";
}
