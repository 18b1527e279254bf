/* compiler: the few compiler hints the hot paths use (GCC and Clang). */
#ifndef SB_CORE_COMPILER_H
#define SB_CORE_COMPILER_H

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALWAYS_INLINE inline __attribute__((always_inline))
/* A status the caller must look at (curl's WARN_UNUSED_RESULT). */
#define MUST_CHECK __attribute__((warn_unused_result))

#endif
