#pragma once
// GET /metrics: the node's Prometheus text (metrics/node_metrics.hpp), on the main port through
// the router, or on a listener of its own (--metrics-port) bound to loopback.
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>
#include <cablecast/metrics_options.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ws/router.hpp"

namespace cablecast::ws {
class ConnectionSet;
}

namespace cablecast::server {

// Renders the exposition text; called on the event loop serving the request. It reads counters
// and /proc only, so it costs microseconds whatever the number of connections.
using RenderMetrics = std::function<std::string()>;

class MetricsEndpoint {
 public:
  MetricsEndpoint(std::string path, RenderMetrics render)
      : path_(std::move(path)), render_(std::move(render)) {}

  bool serves(std::string_view path) const { return path == path_; }
  // 200 with the text (GET, HEAD), 405 otherwise.
  ws::Route route(const ws::Request& request) const;

 private:
  std::string path_;
  RenderMetrics render_;
};

// The --metrics-port listener: its own acceptor and connections on one event loop (the
// server's first), answering the endpoint and 404 for anything else.
class MetricsListener {
 public:
  explicit MetricsListener(boost::asio::io_context& io, const MetricsEndpoint& endpoint);
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  // Binds host:port and starts accepting; the bound port. Before the loop runs, or on it.
  boost::system::result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  // On the loop: stops accepting and closes every connection (the server's shutdown).
  void close();

 private:
  class OnlyMetrics;
  void accept();

  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp,
                                                      boost::asio::io_context::executor_type>;
  boost::asio::io_context& io_;
  std::unique_ptr<OnlyMetrics> router_;
  std::unique_ptr<ws::ConnectionSet> connections_;
  Acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept (out of descriptors)
};

}  // namespace cablecast::server
