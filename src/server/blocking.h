// @file blocking.h
// @brief RunBlocking: runs a blocking call (SQLite, key derivation) on a thread pool and resumes
// the awaiting coroutine on its own executor, so I/O threads never block.
//
// Cancellation: a cancelled awaiter cannot interrupt `f` once it runs; `f` always runs to
// completion on the pool and its result is discarded if nobody waits any more.
// Thread-safety: `f` runs on one pool thread; it must not touch state owned by the caller's
// strand. The pool must outlive the call.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <type_traits>
#include <utility>

namespace mg::server {
namespace blocking_detail {

// Parameters by value: the coroutine frame owns `f` while the pool thread runs it. The result is
// wrapped in optional because co_spawn needs a default-constructible value type.
template <class F, class R = std::invoke_result_t<F>>
boost::asio::awaitable<std::optional<R>> InvokeValue(F f) {
  co_return std::optional<R>(f());
}

template <class F>
boost::asio::awaitable<void> InvokeVoid(F f) {
  f();
  co_return;
}

}  // namespace blocking_detail

// Runs `f()` on `pool`; returns its result (or rethrows its exception) on the caller's executor.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> RunBlocking(boost::asio::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F>;
  if constexpr (std::is_void_v<R>) {
    co_await boost::asio::co_spawn(pool, blocking_detail::InvokeVoid(std::move(f)),
                                   boost::asio::use_awaitable);
  } else {
    std::optional<R> result = co_await boost::asio::co_spawn(
        pool, blocking_detail::InvokeValue(std::move(f)), boost::asio::use_awaitable);
    co_return std::move(*result);
  }
}

}  // namespace mg::server
