/* test_daemon_file.c - files replaced whole (daemon/file.c): the mode
 * whatever the umask, a link left at PATH.tmp not followed, PATH as it was
 * after every failure and no PATH.tmp left, and the copy's refusals (not a
 * regular file, too large, a link when not following). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "test_main.h"

static char dir[] = "/tmp/kz-file-XXXXXX";

static void at(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* the whole file, or "" when there is none */
static const char *get(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static void test_replace_mode_whatever_umask(void **state)
{
	char p[256], t[256];
	mode_t old = umask(0);

	(void)state;
	at(p, sizeof(p), "a.conf");
	at(t, sizeof(t), "a.conf.tmp");
	put(p, "old\n");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(kzd_file_replace(p, "new\n", 4, 0600, true), 0);
	assert_string_equal(get(p), "new\n");
	assert_int_equal(mode_of(p), 0600);
	assert_false(exists(t));
	umask(0777);
	assert_int_equal(kzd_file_replace(p, "ro\n", 3, 0444, false), 0);
	assert_int_equal(mode_of(p), 0444);
	assert_string_equal(get(p), "ro\n");
	umask(old);
}

/* A link someone left at PATH.tmp: removed, its target untouched. */
static void test_tmp_link_not_followed(void **state)
{
	char p[256], t[256], victim[256];

	(void)state;
	at(p, sizeof(p), "b.conf");
	at(t, sizeof(t), "b.conf.tmp");
	at(victim, sizeof(victim), "victim");
	put(victim, "precious\n");
	assert_int_equal(symlink(victim, t), 0);
	assert_int_equal(kzd_file_replace(p, "key\n", 4, 0600, false), 0);
	assert_string_equal(get(victim), "precious\n");
	assert_string_equal(get(p), "key\n");
	assert_false(exists(t));
}

static void test_failures_leave_path(void **state)
{
	char p[256], t[256], sub[256], subt[256];
	struct kzd_file f;

	(void)state;
	at(p, sizeof(p), "c.conf");
	at(t, sizeof(t), "c.conf.tmp");
	put(p, "old\n");
	/* abandoned half-way */
	assert_int_equal(kzd_file_begin(&f, p, 0600), 0);
	assert_int_equal(kzd_file_write(&f, "half", 4), 0);
	kzd_file_abort(&f);
	assert_string_equal(get(p), "old\n");
	assert_false(exists(t));
	/* the rename refused: PATH is a directory */
	at(sub, sizeof(sub), "d.conf");
	at(subt, sizeof(subt), "d.conf.tmp");
	assert_int_equal(mkdir(sub, 0700), 0);
	errno = 0;
	assert_int_equal(kzd_file_replace(sub, "x", 1, 0600, true), -1);
	assert_int_equal(errno, EISDIR);
	assert_false(exists(subt));
	assert_int_equal(rmdir(sub), 0);
	/* no such directory */
	errno = 0;
	assert_int_equal(kzd_file_replace("/nonexistent-kz/x.conf", "x", 1, 0600, true), -1);
	assert_int_equal(errno, ENOENT);
	/* a name too long for PATH.tmp */
	{
		char longp[4200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = '\0';
		errno = 0;
		assert_int_equal(kzd_file_replace(longp, "x", 1, 0600, true), -1);
		assert_int_equal(errno, ENAMETOOLONG);
	}
}

static void test_copy(void **state)
{
	char from[256], to[256], link[256], fifo[256];

	(void)state;
	at(from, sizeof(from), "src");
	at(to, sizeof(to), "dst");
	at(link, sizeof(link), "src.link");
	at(fifo, sizeof(fifo), "fifo");
	put(from, "0123456789\n");
	assert_int_equal(kzd_file_copy(from, false, 100, to, 0600, true), 0);
	assert_string_equal(get(to), "0123456789\n");
	assert_int_equal(mode_of(to), 0600);
	/* larger than allowed: refused, the old copy stays */
	put(from, "much longer than the limit\n");
	errno = 0;
	assert_int_equal(kzd_file_copy(from, false, 8, to, 0600, true), -1);
	assert_int_equal(errno, EFBIG);
	assert_string_equal(get(to), "0123456789\n");
	/* through a link only when asked */
	assert_int_equal(symlink(from, link), 0);
	errno = 0;
	assert_int_equal(kzd_file_copy(link, false, 100, to, 0600, true), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(kzd_file_copy(link, true, 100, to, 0444, false), 0);
	assert_string_equal(get(to), "much longer than the limit\n");
	assert_int_equal(mode_of(to), 0444);
	/* a FIFO with no writer: refused at once, not waited on */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	errno = 0;
	assert_int_equal(kzd_file_copy(fifo, true, 100, to, 0600, true), -1);
	assert_int_equal(errno, EINVAL);
	/* a source that is not there */
	errno = 0;
	assert_int_equal(kzd_file_copy("/nonexistent-kz", true, 100, to, 0600, true), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(get(to), "much longer than the limit\n");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

KZ_TEST_MAIN(setup, teardown, cmocka_unit_test(test_replace_mode_whatever_umask),
	     cmocka_unit_test(test_tmp_link_not_followed),
	     cmocka_unit_test(test_failures_leave_path), cmocka_unit_test(test_copy))
