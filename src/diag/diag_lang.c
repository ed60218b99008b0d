/* diag_lang.c - message catalogues for the troubleshooter.
 *
 * The language of `diagnose ipsec` is the console client's, sent with each
 * request, not the daemon's: two consoles in two languages may ask at the
 * same time.  glibc's gettext follows the process (or thread) locale, and
 * a Japanese locale need not even be installed on a gateway (the message
 * catalogue is ours, the locale data is not), so switching locales per
 * request would be both racy and fragile.  Instead the .mo file msgfmt
 * builds from po/ja.po is read here once into memory and looked up per
 * request: the same po/msgfmt/xgettext workflow, no global state.
 *
 * The .mo format (GNU gettext manual, "The Format of GNU MO Files"): a
 * header of 32-bit words in the writer's byte order - magic 0x950412de,
 * revision, N, offset of the table of originals, offset of the table of
 * translations - then per string a (length, offset) pair.  msgfmt sorts
 * the originals, so lookups are a binary search.  The file is untrusted
 * input: every length and offset is checked through struct buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "diag/diag.h"

#define MO_MAGIC 0x950412deu
#define MO_MAGIC_SWAPPED 0xde120495u
#define MO_MAX_SIZE (4u << 20)

struct diag_lang {
	char code[8];
	uint8_t *data; /* the whole file */
	size_t len;
	size_t n;
	const char **orig, **trans;
};

static const struct diag_lang lang_en = { .code = "en" };

const struct diag_lang *diag_lang_en(void)
{
	return &lang_en;
}

const char *diag_lang_code(const struct diag_lang *l)
{
	return l ? l->code : "en";
}

static uint32_t swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static int get_word(struct buf *b, bool swapped, uint32_t *v)
{
	int r = buf_get_u32(b, v);

	if (!r && swapped)
		*v = swap32(*v);
	return r;
}

/* The string at table entry i: length and offset checked, NUL-terminated
 * inside the file. */
static int mo_string(const struct diag_lang *l, uint32_t table, size_t i, bool swapped,
		     const char **out)
{
	struct buf b;
	uint32_t len, off;

	if (table > l->len || i > (l->len - table) / 8)
		return KZ_EPROTO;
	buf_init(&b, l->data + table + 8 * i, l->len - table - 8 * i);
	if (get_word(&b, swapped, &len) || get_word(&b, swapped, &off))
		return KZ_EPROTO;
	if (off >= l->len || len >= l->len - off || l->data[off + len] != 0)
		return KZ_EPROTO;
	*out = (const char *)l->data + off;
	return 0;
}

/* The conversions of a printf format, as a string of conversion letters
 * (with flags and length modifiers), to compare msgid and translation. */
static void conversions(const char *f, char *out, size_t cap)
{
	size_t o = 0;

	for (; *f; f++) {
		if (*f != '%')
			continue;
		f++;
		if (*f == '%')
			continue;
		while (*f && !strchr("diouxXscpfeEgG", *f)) {
			if (o + 1 < cap && !strchr("0123456789.-+ #", *f))
				out[o++] = *f;
			f++;
		}
		if (!*f)
			break;
		if (o + 1 < cap)
			out[o++] = *f;
	}
	out[o] = 0;
}

static bool same_conversions(const char *a, const char *b)
{
	char ca[64], cb[64];

	conversions(a, ca, sizeof(ca));
	conversions(b, cb, sizeof(cb));
	return strcmp(ca, cb) == 0;
}

int diag_lang_load(const char *path, const char *code, struct diag_lang **out)
{
	struct diag_lang *l = NULL;
	FILE *f = NULL;
	struct buf b;
	uint32_t magic, rev, n, torig, ttrans;
	bool swapped;
	long sz;
	int r = KZ_EIO;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return KZ_ENOMEM;
	snprintf(l->code, sizeof(l->code), "%s", code ? code : "xx");
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	r = KZ_EPROTO;
	if ((unsigned long)sz > MO_MAX_SIZE || sz < 20)
		goto out;
	l->len = (size_t)sz;
	l->data = malloc(l->len + 1);
	r = KZ_ENOMEM;
	if (!l->data)
		goto out;
	r = KZ_EIO;
	if (fread(l->data, 1, l->len, f) != l->len)
		goto out;
	r = KZ_EPROTO;
	buf_init(&b, l->data, l->len);
	if (buf_get_u32(&b, &magic))
		goto out;
	if (magic != MO_MAGIC && magic != MO_MAGIC_SWAPPED)
		goto out;
	swapped = magic == MO_MAGIC_SWAPPED;
	if (get_word(&b, swapped, &rev) || get_word(&b, swapped, &n) ||
	    get_word(&b, swapped, &torig) || get_word(&b, swapped, &ttrans))
		goto out;
	if ((rev >> 16) != 0 || n > l->len / 16)
		goto out;
	l->n = n;
	l->orig = calloc(n ? n : 1, sizeof(*l->orig));
	l->trans = calloc(n ? n : 1, sizeof(*l->trans));
	r = KZ_ENOMEM;
	if (!l->orig || !l->trans)
		goto out;
	r = KZ_EPROTO;
	for (size_t i = 0; i < n; i++) {
		if (mo_string(l, torig, i, swapped, &l->orig[i]) ||
		    mo_string(l, ttrans, i, swapped, &l->trans[i]))
			goto out;
		/* the order binary search needs (msgfmt writes it so) */
		if (i && strcmp(l->orig[i - 1], l->orig[i]) >= 0)
			goto out;
		if (!l->trans[i][0] || !same_conversions(l->orig[i], l->trans[i]))
			l->trans[i] = l->orig[i];
	}
	r = 0;
	*out = l;
	l = NULL;
out:
	if (f)
		fclose(f);
	diag_lang_free(l);
	return r;
}

void diag_lang_free(struct diag_lang *l)
{
	if (!l || l == &lang_en)
		return;
	free(l->orig);
	free(l->trans);
	free(l->data);
	free(l);
}

const char *diag_tr(const struct diag_lang *l, const char *msgid)
{
	size_t lo = 0, hi;

	if (!l || !l->n)
		return msgid;
	hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(msgid, l->orig[mid]);

		if (!c)
			return l->trans[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return msgid;
}
