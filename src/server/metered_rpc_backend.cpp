#include "server/metered_rpc_backend.hpp"

#include <chrono>

#include "core/assert.hpp"

namespace cablecast::server {

namespace {

metrics::RpcOutcome outcome_of(rpc::Status status) {
  switch (status) {
    case rpc::Status::success:
      return metrics::RpcOutcome::success;
    case rpc::Status::failure:
      return metrics::RpcOutcome::failure;
    case rpc::Status::error:
      break;
  }
  return metrics::RpcOutcome::error;
}

}  // namespace

template <class Response>
rpc::Completion<Response> MeteredRpcBackend::counted(metrics::RpcMethod method,
                                                     rpc::Completion<Response> done) {
  return [&metrics = metrics_, method, started = std::chrono::steady_clock::now(),
          done = std::move(done)](boost::system::result<Response> reply) {
    // The completion runs on the calling loop: this block's only writer.
    CABLE_ASSERT(metrics::this_thread_loop_metrics == nullptr ||
                 metrics::this_thread_loop_metrics == &metrics);
    metrics.count_rpc(method, reply ? outcome_of(reply->status) : metrics::RpcOutcome::unavailable,
                      std::chrono::steady_clock::now() - started);
    done(std::move(reply));
  };
}

void MeteredRpcBackend::connect(rpc::ConnectionRequest request, rpc::CallMeta meta,
                                boost::asio::any_io_executor reply_on,
                                rpc::Completion<rpc::ConnectionResponse> done) {
  backend_.connect(std::move(request), std::move(meta), std::move(reply_on),
                   counted(metrics::RpcMethod::connect, std::move(done)));
}

void MeteredRpcBackend::command(rpc::CommandMessage request, rpc::CallMeta meta,
                                boost::asio::any_io_executor reply_on,
                                rpc::Completion<rpc::CommandResponse> done) {
  backend_.command(std::move(request), std::move(meta), std::move(reply_on),
                   counted(metrics::RpcMethod::command, std::move(done)));
}

void MeteredRpcBackend::disconnect(rpc::DisconnectRequest request, rpc::CallMeta meta,
                                   boost::asio::any_io_executor reply_on,
                                   rpc::Completion<rpc::DisconnectResponse> done) {
  backend_.disconnect(std::move(request), std::move(meta), std::move(reply_on),
                      counted(metrics::RpcMethod::disconnect, std::move(done)));
}

}  // namespace cablecast::server
