#include "server/rpc_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/system/errc.hpp>
#include <boost/url/parse.hpp>

#include "core/log.hpp"

namespace cablecast::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

boost::system::result<ProbeTarget> probe_target_for(std::string_view rpc_url) {
  auto url = boost::urls::parse_uri(rpc_url);
  if (!url) return url.error();
  if (url->host().empty()) {
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  }
  ProbeTarget target;
  // An IPv6 literal comes bracketed in the URL; the resolver wants it bare.
  target.host = url->host_address();
  if (url->has_port()) {
    target.port = url->port();
  } else {
    target.port = url->scheme() == "https" ? "443" : "80";
  }
  return target;
}

RpcProbe::RpcProbe(asio::io_context& io, ProbeTarget target, std::chrono::milliseconds interval)
    : io_(io),
      target_(std::move(target)),
      interval_(interval),
      resolver_(io),
      timeout_(io),
      next_(io) {
  report_.target = target_.host + ":" + target_.port;
}

RpcProbe::~RpcProbe() = default;

void RpcProbe::start() {
  running_ = true;
  probe();
}

void RpcProbe::stop() {
  running_ = false;
  ++generation_;
  resolver_.cancel();
  if (socket_) {
    error_code ignored;
    socket_->close(ignored);
  }
  timeout_.cancel();
  next_.cancel();
}

RpcProbeReport RpcProbe::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

void RpcProbe::probe() {
  const std::uint64_t generation = ++generation_;
  // A probe gets at most one interval (capped at 2 s): a backend that takes longer to accept
  // a TCP connection is down for a client as well.
  timeout_.expires_after(std::min(interval_, std::chrono::milliseconds(2000)));
  timeout_.async_wait([this, generation](error_code ec) {
    if (ec || generation != generation_) return;
    finish(asio::error::timed_out);
  });
  resolver_.async_resolve(
      target_.host, target_.port,
      [this, generation](error_code ec, const tcp::resolver::results_type& endpoints) {
        if (generation != generation_) return;
        if (ec) return finish(ec);
        socket_.emplace(io_);
        asio::async_connect(*socket_, endpoints,
                            [this, generation](error_code connect_ec, const tcp::endpoint&) {
                              if (generation != generation_) return;
                              finish(connect_ec);
                            });
      });
}

void RpcProbe::finish(const error_code& ec) {
  ++generation_;  // the other completion of this probe (timeout or connect) is now stale
  timeout_.cancel();
  resolver_.cancel();
  if (socket_) {
    error_code ignored;
    socket_->close(ignored);
    socket_.reset();
  }
  bool was_reachable;
  {
    std::lock_guard lock(mutex_);
    was_reachable = !report_.probed || report_.reachable;
    report_.probed = true;
    report_.reachable = !ec;
    report_.error = ec ? ec.message() : "";
  }
  if (ec && was_reachable) {
    CC_LOG_WARN("rpc backend {} unreachable: {} (/health answers 503 until it is back)",
                report_.target, ec.message());
  } else if (!ec && !was_reachable) {
    CC_LOG_INFO("rpc backend {} reachable again", report_.target);
  }
  if (!running_) return;
  next_.expires_after(interval_);
  next_.async_wait([this](error_code wait_ec) {
    if (!wait_ec && running_) probe();
  });
}

}  // namespace cablecast::server
