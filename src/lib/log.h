/* log.h - logging: stderr in the foreground, syslog otherwise.
 *
 * One line per event.  Secrets are never passed to these functions. */
#ifndef KZ_LOG_H
#define KZ_LOG_H

#include <stdio.h>

/* syslog priorities: err, warning, notice (a tunnel up), info, debug */
enum kz_log_level {
	KZ_LOG_ERR,
	KZ_LOG_WARN,
	KZ_LOG_NOTICE,
	KZ_LOG_INFO,
	KZ_LOG_DEBUG,
	KZ_LOG_DEBUG2
};

/* to_stderr: 1 = stderr with time stamps, 0 = syslog(3) under ident. */
void kz_log_open(const char *ident, int to_stderr, enum kz_log_level max);
/* Lines that would go to stderr go to f instead (NULL: stderr again). */
void kz_log_to(FILE *f);
void kz_log_set_level(enum kz_log_level max);
enum kz_log_level kz_log_get_level(void);
void kz_log(enum kz_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) kz_log(KZ_LOG_ERR, __VA_ARGS__)
#define log_warn(...) kz_log(KZ_LOG_WARN, __VA_ARGS__)
#define log_notice(...) kz_log(KZ_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) kz_log(KZ_LOG_INFO, __VA_ARGS__)
#define log_debug(...) kz_log(KZ_LOG_DEBUG, __VA_ARGS__)

/* The last KZ_LOG_RING lines written (whatever the sink), for `show
 * logging`: fn gets each, oldest first, with its wall time (seconds) and
 * level.  Thread-safe. */
#define KZ_LOG_RING 512
#define KZ_LOG_LINE 400
void kz_log_ring_each(void (*fn)(void *arg, long long when, enum kz_log_level lvl,
				 const char *text),
		      void *arg);
const char *kz_log_level_name(enum kz_log_level lvl);

#endif
