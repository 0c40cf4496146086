#pragma once
// The application behind the server, reached over AnyCable's RPC contract. Two transports
// implement it: HttpBackend (POST base/connect|command|disconnect, JSON) and GrpcBackend
// (anycable.RPC over HTTP/2). The session only sees this interface.
//
// Threading: calls may be made from any event loop. Each completion runs on the executor
// passed with the call (the caller's loop), exactly once, whatever happens (reply, timeout,
// transport error, shutdown). A completion never runs inside the call that started it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "rpc/messages.hpp"

namespace cablecast::rpc {

template <class Response>
using Completion = std::function<void(boost::system::result<Response>)>;

struct BackendOptions {
  std::string url;  // http://host:port/base, https://…, or grpc://host:port
  std::string secret;  // HTTP: "Authorization: Bearer <secret>" when not empty
  unsigned concurrency = 28;  // calls in flight at most; the rest wait in a FIFO queue
  std::chrono::milliseconds timeout{3000};  // per call, queueing and retries included
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual void connect(ConnectionRequest request, CallMeta meta,
                       boost::asio::any_io_executor reply_on,
                       Completion<ConnectionResponse> done) = 0;
  virtual void command(CommandMessage request, CallMeta meta,
                       boost::asio::any_io_executor reply_on,
                       Completion<CommandResponse> done) = 0;
  virtual void disconnect(DisconnectRequest request, CallMeta meta,
                          boost::asio::any_io_executor reply_on,
                          Completion<DisconnectResponse> done) = 0;
  // Fails every queued and in-flight call (operation_aborted) and refuses new ones. Idempotent.
  virtual void shutdown() = 0;
};

}  // namespace cablecast::rpc
