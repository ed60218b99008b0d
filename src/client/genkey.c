/* genkey.c - `kizuna genkey`: a random pre-shared key, offline.
 *
 * KZ_GENKEY_LEN characters of A-Z a-z 0-9, each drawn uniformly from
 * OpenSSL's RAND_bytes (bytes of 248 and above are drawn again, so no
 * character is likelier than another): 24 x log2(62) = 142.9 bits, printed
 * as one word the config takes unquoted after `pre-shared-key ascii`. */
#include "client/genkey.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int kz_genkey(char *out, size_t len)
{
	unsigned char r[64];
	size_t n = 0;

	if (len < KZ_GENKEY_LEN + 1)
		return -1;
	while (n < KZ_GENKEY_LEN) {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return -1;
		for (size_t i = 0; i < sizeof(r) && n < KZ_GENKEY_LEN; i++)
			if (r[i] < 248) /* 4 x 62 */
				out[n++] = alnum[r[i] % 62];
	}
	out[n] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

int kizuna_genkey_main(int argc, char **argv)
{
	char key[KZ_GENKEY_LEN + 1];

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: kizuna genkey\n");
		return 2;
	}
	if (kz_genkey(key, sizeof(key))) {
		fprintf(stderr, "kizuna: genkey: no random bytes from OpenSSL\n");
		return 1;
	}
	printf("%s\n", key);
	fflush(stdout);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}
