/* err.h - error codes with names, shared by every layer.
 *
 * Functions return 0 on success or a negative KZ_E* value; kz_strerror()
 * gives the name used in logs and messages. */
#ifndef KZ_ERR_H
#define KZ_ERR_H

#define KZ_ERRORS(X)                           \
	X(KZ_OK, 0, "ok")                      \
	X(KZ_ETRUNC, -1, "input truncated")    \
	X(KZ_ERANGE, -2, "value out of range") \
	X(KZ_ENOMEM, -3, "out of memory")      \
	X(KZ_EINVAL, -4, "invalid argument")   \
	X(KZ_ENOSPC, -5, "buffer full")        \
	X(KZ_ESYNTAX, -6, "syntax error")      \
	X(KZ_ENOENT, -7, "no such object")     \
	X(KZ_EEXIST, -8, "object exists")      \
	X(KZ_EIO, -9, "input/output error")    \
	X(KZ_ETOOBIG, -10, "too large")        \
	X(KZ_EAMBIG, -11, "ambiguous")         \
	X(KZ_EINCOMPLETE, -12, "incomplete")   \
	X(KZ_ESYS, -13, "system call failed")  \
	X(KZ_ENOTSUP, -14, "not supported")    \
	X(KZ_EBUSY, -15, "busy")               \
	X(KZ_EPROTO, -16, "protocol error")

enum kz_err {
#define KZ_ERR_ENUM(name, val, text) name = val,
	KZ_ERRORS(KZ_ERR_ENUM)
#undef KZ_ERR_ENUM
};

/* Name of an error code ("KZ_ETRUNC"). Unknown codes give "KZ_E?". */
const char *kz_errname(int err);
/* Human text of an error code ("input truncated"). */
const char *kz_strerror(int err);

#endif
