/* mem.h - small memory helpers. */
#ifndef KZ_MEM_H
#define KZ_MEM_H

#include <stddef.h>

/* Wipes secret bytes; the store cannot be optimised away. */
void kz_wipe(void *p, size_t len);

/* strlcpy semantics: always terminates, returns strlen(src). */
size_t kz_strlcpy(char *dst, const char *src, size_t size);

#endif
