// @file check.h
// @brief Programmer-error checks. MG_CHECK is always on and aborts with a message; MG_ASSERT is
// compiled out with NDEBUG. Use them only for conditions that cannot fail on any input; write a
// comment saying why the condition holds. Input errors are Results, never checks.
#pragma once

#include <cstdio>
#include <cstdlib>

#define MG_CHECK(cond, msg)                                                              \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "MG_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__,   \
                   #cond, msg);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#ifdef NDEBUG
#define MG_ASSERT(cond, msg) ((void)0)
#else
#define MG_ASSERT(cond, msg) MG_CHECK(cond, msg)
#endif
