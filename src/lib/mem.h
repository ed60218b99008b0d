/* mem.h - small memory helpers. */
#ifndef KZ_MEM_H
#define KZ_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Wipes secret bytes; the store cannot be optimised away. */
void kz_wipe(void *p, size_t len);

/* Key memory: pre-shared keys of the running config, IKE SAs (SKEYID*,
 * the shared secret, KEYMAT) and ESP SAs are allocated here.  The arena
 * takes pages from mmap marked MADV_DONTDUMP (left out of core dumps) and
 * locked with mlock when RLIMIT_MEMLOCK allows (best effort: not locked
 * past it), and hands out blocks in steps of 64 bytes from free lists, so
 * an allocation costs about what malloc does.  Blocks over
 * KZ_KEY_BLOCK_MAX get pages of their own.  Thread-safe.
 *
 * kz_key_alloc: len zeroed bytes, 64-byte aligned; NULL on ENOMEM or len 0.
 * kz_key_free: wipes the len bytes given at allocation and returns them
 * (NULL is fine).  kz_key_realloc: as realloc, the old block wiped. */
#define KZ_KEY_BLOCK_MAX 16384
void *kz_key_alloc(size_t len);
void kz_key_free(void *p, size_t len);
void *kz_key_realloc(void *p, size_t old_len, size_t new_len);
/* Whether p is in the arena's pool of small blocks (up to KZ_KEY_BLOCK_MAX;
 * for tests and assertions). */
bool kz_key_owns(const void *p);

/* strlcpy semantics: always terminates, returns strlen(src). */
size_t kz_strlcpy(char *dst, const char *src, size_t size);

#endif
