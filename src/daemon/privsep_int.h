/* privsep_int.h - what the two halves of kizunad's privilege separation
 * share (privsep.c: the parent; privsep_child.c: the child). */
#ifndef KZ_DAEMON_PRIVSEP_INT_H
#define KZ_DAEMON_PRIVSEP_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/daemon.h"

/* The child's root, one per daemon: ROOT_DIR/root.<parent's pid>, root's,
 * 0555, empty but for etc/ (the resolver's files); made by the parent and
 * removed when it stops (and those of parents no longer running when
 * another starts). */
#define ROOT_DIR "/run/kizuna"

/* privsep_root.c.  The child's root is empty but for read-only copies of
 * the resolver's files, so that `peer` names resolve there (the child asks
 * the name servers itself: the parent reads no answer).  They are copied
 * at each child start and on SIGHUP (force), and when a source changed
 * (checked every RESOLVER_CHECK_MS). */
#define RESOLVER_CHECK_MS 5000
int kzd_privsep_root_make(struct kzd_privsep *ps);
void kzd_privsep_root_remove(const char *root);
void kzd_privsep_resolver_sync(bool force);
/* Child exit status: start-up failed, starting again would not help. */
#define CHILD_FATAL 3

/* The child's life after fork(): gives up its rights, serves IKE, the data
 * plane and the console, asking the parent on sp; its exit status. */
int kzd_privsep_child(struct kzd *d, const struct kzd_privsep *ps, int sp, pid_t parent);

#endif
