/* mem.c - see mem.h. */
#include "lib/mem.h"

#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* ---- key arena ---- */

#define KEY_UNIT 64
#define KEY_CLASSES (KZ_KEY_BLOCK_MAX / KEY_UNIT)
#define KEY_CHUNK (64 * 1024)
#define KEY_MAX_CHUNKS 4096 /* 256 MB of small blocks */

struct key_free {
	struct key_free *next;
};

static struct {
	pthread_mutex_t lock;
	struct key_free *free[KEY_CLASSES]; /* class i: (i + 1) * 64 bytes */
	uint8_t *cur;                       /* bump area of the newest chunk */
	size_t left;
	uint8_t *chunk[KEY_MAX_CHUNKS];
	size_t nchunk;
} ka = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t page_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) / pg * pg;
}

/* Fresh zeroed pages, out of core dumps, locked if the limit allows. */
static void *key_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTDUMP) != 0) {
		munmap(p, len);
		return NULL;
	}
	(void)mlock(p, len);
	return p;
}

void *kz_key_alloc(size_t len)
{
	size_t c, size;
	void *p = NULL;

	if (len == 0)
		return NULL;
	if (len > KZ_KEY_BLOCK_MAX)
		return key_map(page_round(len));
	c = (len - 1) / KEY_UNIT;
	size = (c + 1) * KEY_UNIT;
	pthread_mutex_lock(&ka.lock);
	if (ka.free[c]) {
		struct key_free *f = ka.free[c];

		ka.free[c] = f->next;
		f->next = NULL; /* the rest of a free block is zero */
		p = f;
		ASAN_UNPOISON_MEMORY_REGION(p, size);
	} else {
		if (ka.left < size && ka.nchunk < KEY_MAX_CHUNKS) {
			/* What is left of the old chunk goes to the free
			 * lists; the new chunk is the bump area. */
			while (ka.left >= KEY_UNIT) {
				size_t k =
					(ka.left > KZ_KEY_BLOCK_MAX ? KZ_KEY_BLOCK_MAX : ka.left) /
					KEY_UNIT;
				struct key_free *f = (struct key_free *)ka.cur;

				f->next = ka.free[k - 1];
				ka.free[k - 1] = f;
				ka.cur += k * KEY_UNIT;
				ka.left -= k * KEY_UNIT;
			}
			if ((ka.cur = key_map(KEY_CHUNK))) {
				ka.chunk[ka.nchunk++] = ka.cur;
				ka.left = KEY_CHUNK;
			} else {
				ka.left = 0;
			}
		}
		if (ka.left >= size) {
			p = ka.cur;
			ka.cur += size;
			ka.left -= size;
		}
	}
	pthread_mutex_unlock(&ka.lock);
	return p;
}

void kz_key_free(void *p, size_t len)
{
	size_t c;

	if (!p || len == 0)
		return;
	if (len > KZ_KEY_BLOCK_MAX) {
		size_t n = page_round(len);

		explicit_bzero(p, n);
		munlock(p, n);
		munmap(p, n);
		return;
	}
	c = (len - 1) / KEY_UNIT;
	explicit_bzero(p, (c + 1) * KEY_UNIT);
	pthread_mutex_lock(&ka.lock);
	((struct key_free *)p)->next = ka.free[c];
	ka.free[c] = p;
	/* Under ASan a use after free is caught here as with malloc. */
	ASAN_POISON_MEMORY_REGION((uint8_t *)p + KEY_UNIT / 2, (c + 1) * KEY_UNIT - KEY_UNIT / 2);
	pthread_mutex_unlock(&ka.lock);
}

void *kz_key_realloc(void *p, size_t old_len, size_t new_len)
{
	void *n;

	if (!p)
		return kz_key_alloc(new_len);
	if (new_len == 0) {
		kz_key_free(p, old_len);
		return NULL;
	}
	/* Same block size: nothing to move. */
	if (old_len <= KZ_KEY_BLOCK_MAX && new_len <= KZ_KEY_BLOCK_MAX &&
	    (old_len - 1) / KEY_UNIT == (new_len - 1) / KEY_UNIT) {
		if (new_len < old_len)
			explicit_bzero((uint8_t *)p + new_len, old_len - new_len);
		return p;
	}
	if (!(n = kz_key_alloc(new_len)))
		return NULL;
	memcpy(n, p, old_len < new_len ? old_len : new_len);
	kz_key_free(p, old_len);
	return n;
}

bool kz_key_owns(const void *p)
{
	const uint8_t *b = p;
	bool in = false;

	pthread_mutex_lock(&ka.lock);
	for (size_t i = 0; i < ka.nchunk && !in; i++)
		in = b >= ka.chunk[i] && b < ka.chunk[i] + KEY_CHUNK;
	pthread_mutex_unlock(&ka.lock);
	return in;
}
