/* log.c - stderr or syslog sink for log.h. */
#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static int log_stderr = 1;
static FILE *log_file; /* instead of stderr, when set */
static enum kz_log_level log_max = KZ_LOG_INFO;

void kz_log_open(const char *ident, int to_stderr, enum kz_log_level max)
{
	log_stderr = to_stderr;
	log_max = max;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void kz_log_to(FILE *f)
{
	log_file = f;
}

void kz_log_set_level(enum kz_log_level max)
{
	log_max = max;
}

enum kz_log_level kz_log_get_level(void)
{
	return log_max;
}

static const char *const names[] = { "error", "warning", "notice", "info", "debug", "debug" };

const char *kz_log_level_name(enum kz_log_level lvl)
{
	return lvl <= KZ_LOG_DEBUG2 ? names[lvl] : "?";
}

static struct {
	pthread_mutex_t lock;
	unsigned next, n;
	struct {
		long long when;
		enum kz_log_level lvl;
		char text[KZ_LOG_LINE];
	} line[KZ_LOG_RING];
} ring = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void ring_add(enum kz_log_level lvl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void ring_add(enum kz_log_level lvl, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&ring.lock);
	ring.line[ring.next].when = (long long)time(NULL);
	ring.line[ring.next].lvl = lvl;
	vsnprintf(ring.line[ring.next].text, KZ_LOG_LINE, fmt, ap);
	ring.next = (ring.next + 1) % KZ_LOG_RING;
	if (ring.n < KZ_LOG_RING)
		ring.n++;
	pthread_mutex_unlock(&ring.lock);
}

void kz_log_ring_each(void (*fn)(void *arg, long long when, enum kz_log_level lvl,
				 const char *text),
		      void *arg)
{
	pthread_mutex_lock(&ring.lock);
	for (unsigned k = 0; k < ring.n; k++) {
		unsigned i = (ring.next + KZ_LOG_RING - ring.n + k) % KZ_LOG_RING;

		fn(arg, ring.line[i].when, ring.line[i].lvl, ring.line[i].text);
	}
	pthread_mutex_unlock(&ring.lock);
}

void kz_log(enum kz_log_level lvl, const char *fmt, ...)
{
	static const int prio[] = {
		LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG, LOG_DEBUG
	};
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	ring_add(lvl, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	if (log_stderr) {
		FILE *f = log_file ? log_file : stderr;
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(f, "%s.%03ld %s: ", stamp, ts.tv_nsec / 1000000L, names[lvl]);
		vfprintf(f, fmt, ap);
		fputc('\n', f);
	} else {
		vsyslog(prio[lvl], fmt, ap);
	}
	va_end(ap);
}
