/* log: the one way stackbench speaks on stderr: "stackbench CMD: message", one line each. */
#ifndef SB_CORE_LOG_H
#define SB_CORE_LOG_H

#include <stdarg.h>

/* "stackbench WHO: message\n" on stderr; who NULL or "": "stackbench: message". */
void sb_warn(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vwarn(const char *who, const char *fmt, va_list ap);

#endif
