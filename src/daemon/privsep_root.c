/* privsep_root.c - the unprivileged child's root (privsep.c): one per
 * daemon, ROOT_DIR/root.<parent's pid>, empty but for read-only copies of
 * the resolver's files, made and removed by the parent. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "daemon/daemon.h"
#include "daemon/privsep_int.h"

/* The child's root is empty but for read-only copies of the resolver's
 * own files, so that `peer` names resolve there as anywhere (the child
 * asks the name servers itself: the parent reads no answer).  Copied at
 * the start of each child and on SIGHUP, and again when a source changes
 * (a DHCP or PPP client rewrites resolv.conf): checked every
 * RESOLVER_CHECK_MS; glibc rereads resolv.conf when its copy changes. */
static const char *const resolver_files[] = { "hosts", "resolv.conf", "nsswitch.conf", "host.conf",
					      "gai.conf" };
#define NRESOLVER (sizeof(resolver_files) / sizeof(resolver_files[0]))
static struct stat resolver_seen[NRESOLVER];
static const char *root_dir; /* the child's root */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* force: copy every file (a new child, SIGHUP); else only changed ones. */
void kzd_privsep_resolver_sync(bool force)
{
	for (size_t i = 0; i < NRESOLVER; i++) {
		char from[64], to[128];
		struct stat st;

		snprintf(from, sizeof(from), "/etc/%s", resolver_files[i]);
		snprintf(to, sizeof(to), "%s/etc/%s", root_dir, resolver_files[i]);
		if (stat(from, &st) < 0) {
			if (unlink(to) == 0)
				log_info("privsep: %s is gone; removed its copy", from);
			memset(&resolver_seen[i], 0, sizeof(resolver_seen[i]));
			continue;
		}
		if (!force && same_file(&st, &resolver_seen[i]))
			continue;
		/* tried once per change of the source */
		resolver_seen[i] = st;
		if (kzd_file_copy(from, true, 1 << 20, to, 0444, false) < 0)
			log_warn("privsep: cannot copy %s to %s: %s", from, to, strerror(errno));
		else if (!force)
			log_info("privsep: %s changed; the copy is updated", from);
	}
}

/* Removes a child's root: only what the parent puts there. */
void kzd_privsep_root_remove(const char *root)
{
	char path[400];

	for (size_t i = 0; i < NRESOLVER; i++) {
		snprintf(path, sizeof(path), "%s/etc/%s", root, resolver_files[i]);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/etc/%s.tmp", root, resolver_files[i]);
		(void)unlink(path);
	}
	/* writable again first: the parent may lack CAP_DAC_OVERRIDE */
	(void)chmod(root, 0755);
	snprintf(path, sizeof(path), "%s/etc", root);
	(void)rmdir(path);
	(void)rmdir(root);
}

/* The roots of daemons no longer running (killed, so they could not
 * remove theirs); a pid that is alive keeps its root. */
static void root_sweep(void)
{
	DIR *dir = opendir(ROOT_DIR);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char path[300], *end;
		long pid;

		if (strncmp(e->d_name, "root.", 5))
			continue;
		pid = strtol(e->d_name + 5, &end, 10);
		if (*end || pid <= 1 || pid == getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ROOT_DIR, e->d_name);
		kzd_privsep_root_remove(path);
	}
	closedir(dir);
}

/* ROOT_DIR/root.<pid> 0555 and its etc/ 0755, both root's. */
int kzd_privsep_root_make(struct kzd_privsep *ps)
{
	char etc[80];

	snprintf(ps->root, sizeof(ps->root), "%s/root.%d", ROOT_DIR, (int)getpid());
	snprintf(etc, sizeof(etc), "%s/etc", ps->root);
	if (mkdir(ROOT_DIR, 0755) < 0 && errno != EEXIST)
		log_warn("privsep: cannot create %s: %s", ROOT_DIR, strerror(errno));
	root_sweep();
	/* 0555 only once etc/ is made: the parent may lack CAP_DAC_OVERRIDE */
	if ((mkdir(ps->root, 0755) < 0 && errno != EEXIST) || chown(ps->root, 0, 0) < 0 ||
	    chmod(ps->root, 0755) < 0 || (mkdir(etc, 0755) < 0 && errno != EEXIST) ||
	    chown(etc, 0, 0) < 0 || chmod(etc, 0755) < 0 || chmod(ps->root, 0555) < 0) {
		log_err("privsep: cannot create %s: %s", etc, strerror(errno));
		return -1;
	}
	root_dir = ps->root;
	return 0;
}
