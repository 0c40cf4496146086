#include "server/metrics_endpoint.hpp"

#include "core/log.hpp"
#include "metrics/exposition.hpp"
#include "ws/connection_set.hpp"
#include "ws/handshake.hpp"

namespace cablecast::server {

namespace http = boost::beast::http;
namespace asio = boost::asio;

ws::Route MetricsEndpoint::route(const ws::Request& request) const {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    return ws::Route{ws::http_response(405, "text/plain; charset=utf-8", "Method not allowed",
                                       "Allow: GET, HEAD\r\n"),
                     nullptr,
                     {}};
  }
  std::string response = ws::http_response(200, metrics::kExpositionContentType, render_(),
                                           "Cache-Control: no-store\r\n");
  if (request.method() == http::verb::head) response.resize(response.find("\r\n\r\n") + 4);
  return ws::Route{std::move(response), nullptr, {}};
}

class MetricsListener::OnlyMetrics final : public ws::Router {
 public:
  explicit OnlyMetrics(const MetricsEndpoint& endpoint) : endpoint_(endpoint) {}
  ws::Route route(const ws::Request& request, ws::Transport&) override {
    std::string_view target = request.target();
    if (endpoint_.serves(target.substr(0, target.find('?')))) return endpoint_.route(request);
    return ws::Route{
        ws::http_response(404, "text/plain; charset=utf-8", "Page not found"), nullptr, {}};
  }

 private:
  const MetricsEndpoint& endpoint_;
};

MetricsListener::MetricsListener(asio::io_context& io, const MetricsEndpoint& endpoint)
    : io_(io),
      router_(std::make_unique<OnlyMetrics>(endpoint)),
      // Scrapes are counted nowhere (their own counter block): they would move the byte
      // counters they report.
      connections_(std::make_unique<ws::ConnectionSet>(io, ws::ConnectionLimits{}, *router_)),
      acceptor_(io),
      retry_(io) {}

MetricsListener::~MetricsListener() = default;

boost::system::result<std::uint16_t> MetricsListener::listen(const std::string& host,
                                                             std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return ec;
  asio::ip::tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(Acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  accept();
  return acceptor_.local_endpoint().port();
}

void MetricsListener::accept() {
  acceptor_.async_accept(io_, [this](boost::system::error_code ec, ws::Socket socket) {
    if (!acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors (or similar): pause instead of spinning on the error.
      CC_LOG_WARN("metrics listener: accept failed: {} (retrying in 100 ms)", ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code e) {
        if (!e && acceptor_.is_open()) accept();
      });
      return;
    }
    connections_->adopt(std::move(socket));
    accept();
  });
}

void MetricsListener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  connections_->abort_all();
}

}  // namespace cablecast::server
