/* file.c - the files the daemon writes (the startup file, its .bak and
 * archive versions, the metrics file, the child's resolver copies) are
 * replaced whole, never half: PATH.tmp is made new, written, optionally
 * fsync'ed, and renamed over PATH, so a reader (a reload, a collector, the
 * resolver) sees the old file or the new one.
 *
 * PATH.tmp is opened with O_CREAT|O_EXCL|O_NOFOLLOW after a stale one (a
 * crash) is removed: unlink removes a link an attacker left, not its
 * target, and O_EXCL refuses one made in between.  Its mode is set with
 * fchmod, whatever the umask.  On any failure PATH.tmp is removed and PATH
 * is as it was; errno says why. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mem.h"
#include "daemon/daemon.h"

int kzd_file_begin(struct kzd_file *f, const char *path, mode_t mode)
{
	f->fd = -1;
	if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path) ||
	    snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", path) >= (int)sizeof(f->tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	(void)unlink(f->tmp);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (f->fd < 0)
		return -1;
	if (fchmod(f->fd, mode) < 0) {
		kzd_file_abort(f);
		return -1;
	}
	return 0;
}

int kzd_file_write(struct kzd_file *f, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(f->fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int kzd_file_commit(struct kzd_file *f, bool sync)
{
	int fd = f->fd, err = 0;

	f->fd = -1;
	if (sync && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err) /* closed either way: never twice */
		err = errno;
	if (!err && rename(f->tmp, f->path) < 0)
		err = errno;
	if (err) {
		(void)unlink(f->tmp);
		errno = err;
		return -1;
	}
	return 0;
}

void kzd_file_abort(struct kzd_file *f)
{
	int err = errno;

	if (f->fd >= 0)
		(void)close(f->fd);
	f->fd = -1;
	(void)unlink(f->tmp);
	errno = err;
}

int kzd_file_replace(const char *path, const void *p, size_t len, mode_t mode, bool sync)
{
	struct kzd_file f;

	if (kzd_file_begin(&f, path, mode) < 0)
		return -1;
	if (kzd_file_write(&f, p, len) < 0) {
		kzd_file_abort(&f);
		return -1;
	}
	return kzd_file_commit(&f, sync);
}

/* A regular file only: a FIFO or device at PATH would block or never
 * end.  The bounce buffer may hold keys (the .bak): wiped. */
int kzd_file_copy(const char *from, bool follow, size_t max, const char *to, mode_t mode, bool sync)
{
	char buf[8192];
	struct kzd_file f;
	struct stat st;
	size_t total = 0;
	ssize_t n;
	int in, err;

	/* O_NONBLOCK: a FIFO opens (and is refused below) instead of waiting */
	in = open(from, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (in < 0)
		return -1;
	err = fstat(in, &st) < 0           ? errno
		: !S_ISREG(st.st_mode)     ? EINVAL
		: (size_t)st.st_size > max ? EFBIG
					   : 0;
	if (err) {
		close(in);
		errno = err;
		return -1;
	}
	if (kzd_file_begin(&f, to, mode) < 0) {
		err = errno;
		close(in);
		errno = err;
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (total += (size_t)n) > max || kzd_file_write(&f, buf, (size_t)n) < 0) {
			if (n >= 0 && total > max)
				errno = EFBIG;
			break;
		}
	}
	kz_wipe(buf, sizeof(buf));
	err = errno;
	close(in);
	if (n != 0) {
		errno = err;
		kzd_file_abort(&f);
		return -1;
	}
	return kzd_file_commit(&f, sync);
}
