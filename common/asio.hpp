#pragma once

/// The one alias header: `net` for Boost.Asio and the completion tokens the project uses.
/// Beast itself is included only by the .cpp files of server/http and server/providers.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace seedhook {

namespace net = boost::asio;

// GCC 12 (Debian 12's compiler) miscompiles some coroutine shapes; seen here, each left a
// finished frame on Asio's coroutine stack or destroyed a temporary twice. House rules:
//  - never `co_await` inside a condition (`if (co_await f())`, `!co_await`, `&&`, `?:`):
//    bind the result to a local first;
//  - no `co_return co_await ...`: await into a local, then `co_return` it;
//  - no temporaries with destructors inside a `co_await` expression (name lambdas first).

/// Token for operations whose routine failures (timeouts, closes) come back as values.
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

}  // namespace seedhook
