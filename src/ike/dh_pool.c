/* dh_pool.c - Diffie-Hellman jobs and the worker pool (dh_pool.h).
 *
 * One mutex guards the pool: the queue of waiting jobs, the list of
 * finished ones, the job each worker runs and the key-pair stock.  The
 * work itself (a modular exponentiation of a few hundred microseconds) is
 * always done outside the lock.  Finished jobs are announced on an eventfd
 * whose counter is reset when the last one is taken, so the control
 * thread's event loop sees it readable exactly while results wait. */
#include "ike/dh_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/err.h"
#include "lib/mem.h"

#define DH_POOL_STOCK_MAX 32u
#define DH_POOL_THREADS_MAX 64u

struct dh_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	unsigned nthreads, queue_max, stock_max;
	pthread_t *tid;
	struct ike_dh_job **running; /* per worker, NULL when idle */
	bool *running_cancel;
	struct ike_dh_job *qhead, *qtail; /* waiting, oldest first */
	unsigned nq;
	struct ike_dh_job *dhead, *dtail; /* finished, oldest first */
	/* key pairs made ahead: stocked per group once it was asked for */
	struct ike_dh *stock[KZ_GROUP_COUNT][DH_POOL_STOCK_MAX];
	unsigned nstock[KZ_GROUP_COUNT], making[KZ_GROUP_COUNT];
	bool wanted[KZ_GROUP_COUNT];
	int efd;
	struct dh_pool_stats st;
};

struct dh_worker_arg {
	struct dh_pool *p;
	unsigned idx;
};

/* ---- jobs ---- */

struct ike_dh_job *ike_dh_job_new(enum kz_group g, struct ike_dh *dh, const uint8_t *peer,
				  size_t peer_len)
{
	struct ike_dh_job *j;

	if (!ike_dh_pub_len(g) || (peer && peer_len != ike_dh_pub_len(g)) ||
	    peer_len > IKE_DH_JOB_MAX_PUB || (dh && ike_dh_group(dh) != g))
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->group = g;
	j->dh = dh;
	if (peer) {
		memcpy(j->peer, peer, peer_len);
		j->peer_len = peer_len;
	}
	j->rc = KZ_EINCOMPLETE;
	return j;
}

int ike_dh_job_run(struct ike_dh_job *j)
{
	if (!j->dh)
		j->dh = ike_dh_new(j->group);
	if (!j->dh)
		return j->rc = KZ_ENOMEM;
	j->rc = 0;
	if (j->peer_len) {
		j->shared_len = sizeof(j->shared);
		j->rc = ike_dh_shared(j->dh, j->peer, j->peer_len, j->shared, &j->shared_len);
		if (j->rc)
			j->shared_len = 0;
	}
	return j->rc;
}

void ike_dh_job_free(struct ike_dh_job *j)
{
	if (!j)
		return;
	ike_dh_free(j->dh);
	/* g^xy and the key pair's public value go with it */
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/* ---- the pool ---- */

static void efd_signal(struct dh_pool *p)
{
	uint64_t one = 1;

	/* only fails with EAGAIN when the counter is near 2^64: still readable */
	(void)!write(p->efd, &one, sizeof(one));
}

static void efd_clear(struct dh_pool *p)
{
	uint64_t v;

	(void)!read(p->efd, &v, sizeof(v));
}

/* The group whose stock is lowest below the target, or KZ_GROUP_NONE. */
static enum kz_group stock_need(const struct dh_pool *p)
{
	enum kz_group best = KZ_GROUP_NONE;
	unsigned low = p->stock_max;

	for (int g = 0; g < KZ_GROUP_COUNT; g++) {
		unsigned have = p->nstock[g] + p->making[g];

		if (p->wanted[g] && have < low) {
			low = have;
			best = (enum kz_group)g;
		}
	}
	return best;
}

static struct ike_dh *stock_pop(struct dh_pool *p, enum kz_group g)
{
	if ((unsigned)g >= KZ_GROUP_COUNT)
		return NULL;
	if (p->stock_max)
		p->wanted[g] = true;
	if (!p->nstock[g])
		return NULL;
	p->st.stock_used++;
	return p->stock[g][--p->nstock[g]];
}

static void run_one(struct dh_pool *p, unsigned idx)
{
	struct ike_dh_job *j = p->qhead;

	p->qhead = j->next;
	if (!p->qhead)
		p->qtail = NULL;
	p->nq--;
	j->next = NULL;
	if (!j->dh) {
		j->dh = stock_pop(p, j->group);
		j->from_stock = j->dh != NULL;
	}
	p->running[idx] = j;
	p->running_cancel[idx] = false;
	pthread_mutex_unlock(&p->mu);

	(void)ike_dh_job_run(j);

	pthread_mutex_lock(&p->mu);
	p->running[idx] = NULL;
	if (p->running_cancel[idx]) {
		p->st.cancelled++;
		ike_dh_job_free(j);
		return;
	}
	p->st.done++;
	if (p->dtail)
		p->dtail->next = j;
	else
		p->dhead = j;
	p->dtail = j;
	efd_signal(p);
}

static void make_stock(struct dh_pool *p, enum kz_group g)
{
	struct ike_dh *dh;

	p->making[g]++;
	pthread_mutex_unlock(&p->mu);
	dh = ike_dh_new(g);
	pthread_mutex_lock(&p->mu);
	p->making[g]--;
	if (dh && !p->stop && p->nstock[g] < p->stock_max) {
		p->stock[g][p->nstock[g]++] = dh;
		p->st.stock_made++;
		dh = NULL;
	}
	ike_dh_free(dh);
}

static void *worker(void *arg)
{
	struct dh_worker_arg a = *(struct dh_worker_arg *)arg;
	struct dh_pool *p = a.p;
	enum kz_group g;

	free(arg);
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (p->qhead) {
			run_one(p, a.idx);
			continue;
		}
		/* idle: key pairs for later, one at a time so that a job
		 * arriving meanwhile waits for one key generation at most */
		g = stock_need(p);
		if (g != KZ_GROUP_NONE) {
			make_stock(p, g);
			continue;
		}
		pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void list_free(struct ike_dh_job *j)
{
	while (j) {
		struct ike_dh_job *n = j->next;

		ike_dh_job_free(j);
		j = n;
	}
}

static void pool_release(struct dh_pool *p, unsigned started)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(p->tid[i], NULL);
	list_free(p->qhead);
	list_free(p->dhead);
	for (int g = 0; g < KZ_GROUP_COUNT; g++)
		for (unsigned i = 0; i < p->nstock[g]; i++)
			ike_dh_free(p->stock[g][i]);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->tid);
	free(p->running);
	free(p->running_cancel);
	free(p);
}

struct dh_pool *dh_pool_new(unsigned threads, unsigned queue_max, unsigned stock)
{
	struct dh_pool *p;
	unsigned i;

	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned)n : 1u;
	}
	if (threads > DH_POOL_THREADS_MAX)
		threads = DH_POOL_THREADS_MAX;
	if (!queue_max || stock > DH_POOL_STOCK_MAX)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->efd = -1;
	if (pthread_mutex_init(&p->mu, NULL)) {
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->cv, NULL)) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	p->nthreads = threads;
	p->queue_max = queue_max;
	p->stock_max = stock;
	p->tid = calloc(threads, sizeof(*p->tid));
	p->running = calloc(threads, sizeof(*p->running));
	p->running_cancel = calloc(threads, sizeof(*p->running_cancel));
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!p->tid || !p->running || !p->running_cancel || p->efd < 0) {
		pool_release(p, 0);
		return NULL;
	}
	for (i = 0; i < threads; i++) {
		struct dh_worker_arg *a = malloc(sizeof(*a));

		if (!a)
			break;
		a->p = p;
		a->idx = i;
		if (pthread_create(&p->tid[i], NULL, worker, a)) {
			free(a);
			break;
		}
	}
	if (i < threads) {
		pool_release(p, i);
		return NULL;
	}
	p->st.threads = threads;
	return p;
}

int dh_pool_fd(const struct dh_pool *p)
{
	return p->efd;
}

int dh_pool_submit(struct dh_pool *p, struct ike_dh_job *j)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	if (p->stop || p->nq >= p->queue_max) {
		p->st.refused++;
		r = KZ_EBUSY;
		goto out;
	}
	j->next = NULL;
	if (p->qtail)
		p->qtail->next = j;
	else
		p->qhead = j;
	p->qtail = j;
	p->nq++;
	p->st.submitted++;
	pthread_cond_signal(&p->cv);
out:
	pthread_mutex_unlock(&p->mu);
	return r;
}

struct ike_dh_job *dh_pool_take(struct dh_pool *p)
{
	struct ike_dh_job *j;

	pthread_mutex_lock(&p->mu);
	j = p->dhead;
	if (j) {
		p->dhead = j->next;
		if (!p->dhead)
			p->dtail = NULL;
		j->next = NULL;
	}
	if (!p->dhead)
		efd_clear(p);
	pthread_mutex_unlock(&p->mu);
	return j;
}

/* Unlinks the job with this id from a list; NULL when not in it. */
static struct ike_dh_job *list_unlink(struct ike_dh_job **head, struct ike_dh_job **tail,
				      uint64_t id)
{
	struct ike_dh_job **pp = head, *prev = NULL, *j;

	for (; (j = *pp); prev = j, pp = &j->next) {
		if (j->id != id)
			continue;
		*pp = j->next;
		if (*tail == j)
			*tail = prev;
		j->next = NULL;
		return j;
	}
	return NULL;
}

void dh_pool_cancel(struct dh_pool *p, uint64_t id)
{
	struct ike_dh_job *j;

	pthread_mutex_lock(&p->mu);
	j = list_unlink(&p->qhead, &p->qtail, id);
	if (j) {
		p->nq--;
	} else {
		j = list_unlink(&p->dhead, &p->dtail, id);
		if (j && !p->dhead)
			efd_clear(p);
	}
	if (j) {
		p->st.cancelled++;
		ike_dh_job_free(j);
	} else {
		for (unsigned i = 0; i < p->nthreads; i++)
			if (p->running[i] && p->running[i]->id == id)
				p->running_cancel[i] = true;
	}
	pthread_mutex_unlock(&p->mu);
}

struct ike_dh *dh_pool_keypair(struct dh_pool *p, enum kz_group g)
{
	struct ike_dh *dh;

	pthread_mutex_lock(&p->mu);
	dh = stock_pop(p, g);
	if (!dh && p->stock_max && !p->qhead)
		pthread_cond_signal(&p->cv); /* an idle worker starts the stock */
	pthread_mutex_unlock(&p->mu);
	return dh;
}

void dh_pool_get_stats(struct dh_pool *p, struct dh_pool_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	st->queued = p->nq;
	pthread_mutex_unlock(&p->mu);
}

void dh_pool_free(struct dh_pool *p)
{
	if (p)
		pool_release(p, p->nthreads);
}
