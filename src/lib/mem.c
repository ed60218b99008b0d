/* mem.c - see mem.h. */
#include "lib/mem.h"

#include <string.h>

void kz_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

size_t kz_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
