#pragma once
// AnyCable's RPC over gRPC: `anycable.RPC/Connect|Command|Disconnect` (anycable_rpc.proto) on one
// HTTP/2 channel to grpc://host:port, for applications that run anycable-rb's gRPC server.
//
// How a call runs (the Backend contract in rpc/backend.hpp, plus):
// - At most options.concurrency calls are in flight; the others wait in FIFO order.
// - options.timeout counts from the call, queueing and retries included; it is also the gRPC
//   deadline of every attempt, so the application sees when the server stops waiting.
// - UNAVAILABLE (the application is down or restarting) and RESOURCE_EXHAUSTED (anycable-rb's
//   worker pool is full) are retried with exponential back-off, 100 ms and 10 ms doubling as
//   AnyCable-Go does (capped at 1 s), while the next attempt still starts before the deadline;
//   the call keeps its place among those in flight meanwhile. When time runs out the call
//   fails with Error::unavailable / Error::overloaded, before its deadline.
// - Every attempt carries the metadata AnyCable-Go sends: `sid` (CallMeta::sid) and `protov`.
// - Errors are rpc::grpc::Error (grpc_error.hpp); shutdown() ends calls with operation_aborted.
//
// Threads: gRPC's callback API (stub->async()) completes attempts on gRPC's own threads; the
// backend's one thread owns the queue and every call's state, so none of it has a lock, and
// each completion is posted to the executor given with its call. Nothing here blocks a caller,
// except shutdown() and the destructor, which wait for that thread to act (no I/O).
//
// TLS (grpcs://) is not supported yet: it needs grpc::SslCredentials (the CA roots, and a
// client certificate and key for mutual TLS) instead of InsecureChannelCredentials in create(),
// and options to name those files; the URL scheme decides which.
#include <boost/system/result.hpp>
#include <memory>

#include "rpc/backend.hpp"

namespace cablecast::rpc {

class GrpcBackend final : public Backend {
 public:
  // options.url must be grpc://host[:port] (grpc_target.hpp); refused with Error::bad_url.
  // Does not connect: the channel connects on the first call and reconnects by itself.
  // options.secret is not used (AnyCable's gRPC RPC has no secret); concurrency 0 counts as 1.
  static boost::system::result<std::unique_ptr<Backend>> create(const BackendOptions& options);

  // Shuts down, then waits until gRPC has returned every attempt it still holds.
  ~GrpcBackend() override;
  GrpcBackend(const GrpcBackend&) = delete;
  GrpcBackend& operator=(const GrpcBackend&) = delete;

  void connect(ConnectionRequest request, CallMeta meta, boost::asio::any_io_executor reply_on,
               Completion<ConnectionResponse> done) override;
  void command(CommandMessage request, CallMeta meta, boost::asio::any_io_executor reply_on,
               Completion<CommandResponse> done) override;
  void disconnect(DisconnectRequest request, CallMeta meta, boost::asio::any_io_executor reply_on,
                  Completion<DisconnectResponse> done) override;
  // Synchronous: when it returns, every earlier call's completion has been posted.
  void shutdown() override;

 private:
  class Core;  // grpc_backend.cpp: the channel, the queue, the backend's thread
  explicit GrpcBackend(std::unique_ptr<Core> core);
  std::unique_ptr<Core> core_;
};

}  // namespace cablecast::rpc
