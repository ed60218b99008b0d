/* log.h - logging: stderr in the foreground, syslog otherwise.
 *
 * One line per event.  Secrets are never passed to these functions. */
#ifndef KZ_LOG_H
#define KZ_LOG_H

#include <stdio.h>

enum kz_log_level { KZ_LOG_ERR, KZ_LOG_WARN, KZ_LOG_INFO, KZ_LOG_DEBUG, KZ_LOG_DEBUG2 };

/* to_stderr: 1 = stderr with time stamps, 0 = syslog(3) under ident. */
void kz_log_open(const char *ident, int to_stderr, enum kz_log_level max);
/* Lines that would go to stderr go to f instead (NULL: stderr again). */
void kz_log_to(FILE *f);
void kz_log_set_level(enum kz_log_level max);
enum kz_log_level kz_log_get_level(void);
void kz_log(enum kz_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) kz_log(KZ_LOG_ERR, __VA_ARGS__)
#define log_warn(...) kz_log(KZ_LOG_WARN, __VA_ARGS__)
#define log_info(...) kz_log(KZ_LOG_INFO, __VA_ARGS__)
#define log_debug(...) kz_log(KZ_LOG_DEBUG, __VA_ARGS__)

#endif
