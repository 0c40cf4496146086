#include "http_broadcaster.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

#include "clock.hpp"
#include "mode_support.hpp"

namespace cablecast::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// {"stream":"<stream>","data":"<data JSON as a string>"}; the data holds no character that
// needs more than a backslash before quotes (mode_support.hpp's command_data).
std::string publication(const std::string& stream, const std::string& data) {
  std::string body = R"({"stream":")";
  body.append(stream).append(R"(","data":")");
  for (char c : data) {
    if (c == '"' || c == '\\') body.push_back('\\');
    body.push_back(c);
  }
  body.append("\"}");
  return body;
}

// A request that gets no answer within this fails (and is sent again), so stop() never hangs
// on a server that stopped answering.
constexpr int kReplyTimeoutSeconds = 5;

}  // namespace

HttpBroadcaster::HttpBroadcaster(HttpBroadcastTarget target, double rate_per_s,
                                 unsigned payload_bytes)
    : target_(std::move(target)),
      rate_(rate_per_s > 0 ? rate_per_s : 1),
      payload_(filler(payload_bytes)) {}

HttpBroadcaster::~HttpBroadcaster() { stop(); }

void HttpBroadcaster::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void HttpBroadcaster::stop() {
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

std::string HttpBroadcaster::last_error() const {
  std::lock_guard lock(error_mutex_);
  return last_error_;
}

void HttpBroadcaster::run() {
  asio::io_context io;
  std::optional<tcp::socket> socket;
  boost::beast::flat_buffer buffer;
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / rate_));
  auto next = std::chrono::steady_clock::now();
  auto failed = [&](std::string reason) {
    failures_.fetch_add(1);
    socket.reset();  // a fresh connection for the next attempt
    std::lock_guard lock(error_mutex_);
    last_error_ = std::move(reason);
  };
  while (running_.load()) {
    std::this_thread::sleep_until(next);
    next += period;
    // Behind schedule (a slow answer): go on at the rate, never in a burst to catch up.
    if (const auto now = std::chrono::steady_clock::now(); next < now) next = now;
    boost::system::error_code ec;
    if (!socket) {
      socket.emplace(io);
      tcp::resolver resolver(io);
      auto endpoints = resolver.resolve(target_.host, std::to_string(target_.port), ec);
      if (!ec) asio::connect(*socket, endpoints, ec);
      if (ec) {
        failed("connect: " + ec.message());
        continue;
      }
      timeval timeout{kReplyTimeoutSeconds, 0};
      ::setsockopt(socket->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      socket->set_option(tcp::no_delay(true), ec);
    }
    const std::uint32_t seq = sent_.load();
    http::request<http::string_body> request{http::verb::post, target_.path, 11};
    request.set(http::field::host, target_.host + ":" + std::to_string(target_.port));
    request.set(http::field::authorization, "Bearer " + target_.key);
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() =
        publication(target_.stream, command_data("broadcast", 0, seq, now_ns(), payload_));
    request.prepare_payload();
    http::write(*socket, request, ec);
    if (ec) {
      failed("write: " + ec.message());
      continue;
    }
    http::response<http::string_body> response;
    http::read(*socket, buffer, response, ec);
    if (ec) {
      failed("read: " + ec.message());
      continue;
    }
    if (response.result() != http::status::created) {
      failed("HTTP " + std::to_string(response.result_int()) + " " + response.body());
      continue;
    }
    sent_.store(seq + 1);
    if (!response.keep_alive()) socket.reset();
  }
}

}  // namespace cablecast::bench
