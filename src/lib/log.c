/* log.c - stderr or syslog sink for log.h. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
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

void kz_log(enum kz_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };
	va_list ap;

	if (lvl > log_max)
		return;
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
