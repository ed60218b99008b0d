/* genkey.h - `kizuna genkey` (genkey.c). */
#ifndef KZ_CLIENT_GENKEY_H
#define KZ_CLIENT_GENKEY_H

#include <stddef.h>

#define KZ_GENKEY_LEN 24 /* characters of [A-Za-z0-9]: 142.9 bits */

/* A random key of KZ_GENKEY_LEN characters into out (len > that). */
int kz_genkey(char *out, size_t len);
int kizuna_genkey_main(int argc, char **argv);

#endif
