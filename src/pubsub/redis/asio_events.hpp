#pragma once
// Drives a hiredis async context from an Asio io_context (hiredis ships adapters for libevent,
// libuv, ... but not Asio). hiredis tells us through its ev hooks whether it wants to read or
// write; we wait for readiness on the socket with a posix::stream_descriptor and call
// redisAsyncHandleRead/Write. The descriptor never owns the fd: hiredis closes it, and our
// cleanup hook release()s it first, so it is neither closed twice nor left in epoll.
#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace cablecast::pubsub::redis {

// Attaches `context` (connecting or connected, err == 0) to `io`. From then on, every hiredis
// callback of the context runs on `io`'s thread. Returns false when the context already has an
// event library attached.
bool attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io);

}  // namespace cablecast::pubsub::redis
