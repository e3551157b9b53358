// @file result.h
// @brief mg::Result<T>: a value or an mg::Error (boost::system::result; std::expected in C++23).
//
// Failures we expect (bad input, upstream failures, constraint violations, timeouts) are
// returned as Result, never thrown. Result is [[nodiscard]] through boost::system::result.
#pragma once

#include <boost/system/result.hpp>

#include "core/error.h"

namespace mg {

template <class T>
using Result = boost::system::result<T, Error>;

// Lets Result<T>::value() throw when called on an error (programmer error; prefer checking).
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

}  // namespace mg

// MG_TRY(var, expr): evaluates a Result expression; on error returns the error from the current
// function (which must return a Result or Error-convertible type), else moves the value into var.
#define MG_TRY_CONCAT_(a, b) a##b
#define MG_TRY_CONCAT(a, b) MG_TRY_CONCAT_(a, b)
#define MG_TRY(var, expr) MG_TRY_IMPL_(var, expr, MG_TRY_CONCAT(mg_try_, __LINE__))
#define MG_TRY_IMPL_(var, expr, tmp)       \
  auto tmp = (expr);                       \
  if (!tmp) return std::move(tmp).error(); \
  var = std::move(*tmp)
// MG_TRY_VOID(expr): same for Result<void>.
#define MG_TRY_VOID(expr)                                        \
  do {                                                           \
    auto mg_try_void_ = (expr);                                  \
    if (!mg_try_void_) return std::move(mg_try_void_).error();   \
  } while (0)
// Coroutine forms: MG_CO_TRY / MG_CO_TRY_VOID use co_return.
#define MG_CO_TRY(var, expr) MG_CO_TRY_IMPL_(var, expr, MG_TRY_CONCAT(mg_co_try_, __LINE__))
#define MG_CO_TRY_IMPL_(var, expr, tmp)       \
  auto tmp = (expr);                          \
  if (!tmp) co_return std::move(tmp).error(); \
  var = std::move(*tmp)
#define MG_CO_TRY_VOID(expr)                                         \
  do {                                                               \
    auto mg_co_try_void_ = (expr);                                   \
    if (!mg_co_try_void_) co_return std::move(mg_co_try_void_).error(); \
  } while (0)
