#pragma once
// An rpc::Backend that counts every call of one event loop (method, outcome, time to answer)
// in that loop's metrics block, then hands it to the real backend. One per loop: the calls and
// their completions run on that loop (rpc/backend.hpp: a completion runs on the executor passed
// with the call, which is the caller's loop), so the counters keep a single writer.
#include "core/loop_metrics.hpp"
#include "rpc/backend.hpp"

namespace cablecast::server {

class MeteredRpcBackend final : public rpc::Backend {
 public:
  MeteredRpcBackend(rpc::Backend& backend, metrics::LoopMetrics& metrics)
      : backend_(backend), metrics_(metrics) {}

  void connect(rpc::ConnectionRequest request, rpc::CallMeta meta,
               boost::asio::any_io_executor reply_on,
               rpc::Completion<rpc::ConnectionResponse> done) override;
  void command(rpc::CommandMessage request, rpc::CallMeta meta,
               boost::asio::any_io_executor reply_on,
               rpc::Completion<rpc::CommandResponse> done) override;
  void disconnect(rpc::DisconnectRequest request, rpc::CallMeta meta,
                  boost::asio::any_io_executor reply_on,
                  rpc::Completion<rpc::DisconnectResponse> done) override;
  // The backend is shared by every loop: the server shuts it down, not a loop's decorator.
  void shutdown() override {}

 private:
  template <class Response>
  rpc::Completion<Response> counted(metrics::RpcMethod method, rpc::Completion<Response> done);

  rpc::Backend& backend_;
  metrics::LoopMetrics& metrics_;
};

}  // namespace cablecast::server
