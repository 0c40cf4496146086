#pragma once
// AnyCable's RPC over HTTP: POST <base>/connect|command|disconnect with the JSON of
// http_codec.hpp, pooled keep-alive connections, at most `concurrency` calls in flight with a
// FIFO queue behind, one deadline per call (queueing, connecting and retries included), and
// retries with exponential back-off while the backend is unavailable (refused, reset, closed
// before replying, 503).
//
// Threading: the backend runs on its own thread and io_context, like the pub/sub broker loop.
// Why not a client loop's executor: the pool, the queue and the slot count are shared by every
// loop, so on one thread they need no lock; TLS handshakes, JSON encoding and decoding (replies
// up to 16 MiB) never delay a client loop; and a slow or dead backend cannot stall delivery.
// Calls are posted to that thread; each completion is posted back to the executor given with
// the call (the caller's loop), exactly once, never inside the call.
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "rpc/backend.hpp"
#include "rpc/error.hpp"

namespace cablecast::rpc {

// What BackendOptions does not say, with the defaults the server uses.
struct HttpBackendTuning {
  // Reply bodies over this are refused (Error::reply_too_large) while reading, not after.
  std::size_t max_reply_bytes = 16 * 1024 * 1024;
  // Back-off between retries: first delay, doubled each time up to `max_retry_delay`. A retry
  // that could not start before the call's deadline is not waited for: the call fails at once
  // with Error::unavailable.
  std::chrono::milliseconds first_retry_delay{50};
  std::chrono::milliseconds max_retry_delay{1000};
  // https: PEM file of extra CA certificates to trust besides the system's (a private CA).
  std::string tls_ca_file;
  // Observer for tests: runs on the backend's thread each time a call waits to retry.
  std::function<void(boost::system::error_code cause)> on_retry;
};

class HttpBackend final : public Backend {
 public:
  // Parses options.url (Error::bad_url when it is not http(s)://host[:port][/base]), loads the
  // TLS trust store for https (Error::tls_failed when tls_ca_file cannot be read), and starts
  // the backend's thread. std::errc::invalid_argument: concurrency 0, a timeout <= 0, a secret
  // with control characters (it could not be sent as a header), or back-off delays out of order.
  static boost::system::result<std::unique_ptr<HttpBackend>> create(BackendOptions options,
                                                                    HttpBackendTuning tuning = {});
  ~HttpBackend() override;  // shutdown()

  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  void connect(ConnectionRequest request, CallMeta meta, boost::asio::any_io_executor reply_on,
               Completion<ConnectionResponse> done) override;
  void command(CommandMessage request, CallMeta meta, boost::asio::any_io_executor reply_on,
               Completion<CommandResponse> done) override;
  void disconnect(DisconnectRequest request, CallMeta meta, boost::asio::any_io_executor reply_on,
                  Completion<DisconnectResponse> done) override;
  // Fails every queued and in-flight call with operation_aborted, closes the connections and
  // joins the backend's thread; later calls fail the same way. Callable from any thread (a
  // completion never runs on the backend's own thread, so it may call this too).
  void shutdown() override;

  // For logs: http(s)://host:port/base.
  const std::string& describe() const;

 private:
  class Impl;

  explicit HttpBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cablecast::rpc
