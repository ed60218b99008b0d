/* dh_pool.h - Diffie-Hellman jobs and the worker pool that runs them off
 * the control thread.
 *
 * A job is "make a key pair of group G" and, when a peer's public value is
 * given, "then g^xy with it".  ike_dh_job_run() does it synchronously (the
 * engine does that itself when no pool is plugged in, as in the unit
 * tests); the pool runs jobs on N worker threads from a bounded queue and
 * hands finished ones back through a file descriptor that the control
 * thread's event loop watches.
 *
 * When its workers are idle the pool also keeps a few fresh key pairs per
 * group it has been asked for, so that a responder's MM4 / AM2 / QM2 only
 * waits for g^xy.  Each stocked key pair is handed out once and never
 * again: DH private values are not reused. */
#ifndef KZ_IKE_DH_POOL_H
#define KZ_IKE_DH_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/crypto.h"

#define IKE_DH_JOB_MAX_PUB 512u /* MODP-4096 */

struct ike_dh_job {
	/* who asked (the engine's: its job number, the IKE SA's serial and
	 * the Quick Mode message ID, 0 for phase 1) */
	uint64_t id;
	uint64_t owner;
	uint32_t msgid;

	enum kz_group group;
	/* in: the key pair to use (the job owns it), NULL: make one;
	 * out: the key pair used */
	struct ike_dh *dh;
	uint8_t peer[IKE_DH_JOB_MAX_PUB]; /* peer_len 0: key pair only */
	size_t peer_len;
	uint8_t shared[IKE_DH_JOB_MAX_PUB]; /* g^xy, secret */
	size_t shared_len;
	int rc; /* 0 or KZ_E*, once run */

	/* the pool's */
	struct ike_dh_job *next;
	bool from_stock;
};

/* A job of group g; peer may be NULL (key pair only).  dh: a key pair the
 * job takes over, or NULL.  NULL on a bad length or out of memory (dh is
 * then still the caller's). */
struct ike_dh_job *ike_dh_job_new(enum kz_group g, struct ike_dh *dh, const uint8_t *peer,
				  size_t peer_len);
/* Does the work now, in the calling thread; sets and returns job->rc. */
int ike_dh_job_run(struct ike_dh_job *j);
/* Frees the job, its key pair and wipes the shared secret (NULL is fine). */
void ike_dh_job_free(struct ike_dh_job *j);

struct dh_pool;

struct dh_pool_stats {
	uint64_t submitted, refused, done, cancelled;
	uint64_t stock_made, stock_used; /* key pairs made ahead, and taken */
	unsigned queued, threads;
};

/* threads: 0 = the online CPUs (at least 1).  queue_max: jobs that may
 * wait (not counting those running); submit refuses beyond that.
 * stock: key pairs kept ready per group once the group was used (0: no
 * stock).  NULL on failure. */
struct dh_pool *dh_pool_new(unsigned threads, unsigned queue_max, unsigned stock);
/* Readable (level-triggered) while finished jobs wait. */
int dh_pool_fd(const struct dh_pool *p);
/* Queues a job; the pool owns it from then on.  0, or KZ_EBUSY when
 * queue_max jobs wait (the caller keeps the job). */
int dh_pool_submit(struct dh_pool *p, struct ike_dh_job *j);
/* A finished job (the caller owns it and frees it), or NULL.  Clears the
 * fd's readiness once none is left. */
struct ike_dh_job *dh_pool_take(struct dh_pool *p);
/* The job with this id is not wanted any more: a queued or finished one is
 * freed now, a running one when it finishes.  Unknown ids are ignored. */
void dh_pool_cancel(struct dh_pool *p, uint64_t id);
/* A stocked key pair of group g for the caller to use once, or NULL (the
 * group is then stocked from now on). */
struct ike_dh *dh_pool_keypair(struct dh_pool *p, enum kz_group g);
void dh_pool_get_stats(struct dh_pool *p, struct dh_pool_stats *st);
/* Stops the workers (a running job is finished first) and frees every job
 * and stocked key pair, wiping them. */
void dh_pool_free(struct dh_pool *p);

#endif
