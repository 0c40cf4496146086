#pragma once
// An HTTP/1.1 server for tests of HTTP clients, in the test process: loopback, port 0 (or a
// given port), plain or TLS, on its own thread. Each request is answered with what the test's
// script returns for it, and recorded, so tests can check what the client sent and how
// (connections accepted, requests in flight at once).
//
// A reply can be held until the test releases it (a slow backend without any sleep), dropped
// (the connection closes without an answer), or raw bytes (not HTTP, or cut short).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_certificate.hpp"

namespace cablecast::testing {

struct ScriptedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  unsigned connection = 0;     // 1 for the first connection accepted, 2 for the next...
  unsigned on_connection = 0;  // 1 for the first request on its connection, 2 for the next...
};

struct ScriptedReply {
  unsigned status = 200;
  std::string body;
  bool hold = false;               // answer only when the test calls release_held()
  bool close_after = false;        // "Connection: close", then close
  bool drop = false;               // close the connection without answering
  std::optional<std::string> raw;  // write these bytes instead of a response, then close
};

struct ScriptedServerOptions {
  std::uint16_t port = 0;
  const TestCertificate* tls = nullptr;  // serve HTTPS with this certificate
};

class ScriptedHttpServer {
 public:
  using Request = ScriptedRequest;
  using Reply = ScriptedReply;
  using Options = ScriptedServerOptions;
  using Script = std::function<Reply(const Request&)>;

  explicit ScriptedHttpServer(Script script, Options options = Options())
      : script_(std::move(script)), acceptor_(io_) {
    namespace asio = boost::asio;
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    if (options.tls) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain(asio::buffer(options.tls->certificate_pem));
      tls_->use_private_key(asio::buffer(options.tls->private_key_pem), asio::ssl::context::pem);
    }
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ScriptedHttpServer() {
    io_.stop();
    thread_.join();
  }

  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& base = "") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + base;
  }

  unsigned accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  unsigned max_in_flight() const {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // Blocks until `count` replies have been held since the start, released or not (or 10 s
  // passed: then returns false).
  bool wait_for_held(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return held_ >= count; });
  }
  // Blocks until `count` requests have been received in total (or 10 s passed).
  bool wait_for_requests(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10),
                             [&] { return requests_.size() >= count; });
  }
  // Answers every request held so far.
  void release_held() {
    boost::asio::post(io_, [this] {
      for (auto* timer : held_timers_) timer->cancel();
    });
  }

 private:
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  awaitable<void> accept_loop() {
    namespace asio = boost::asio;
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      unsigned id;
      {
        std::lock_guard lock(mutex_);
        id = ++accepted_;
      }
      if (tls_) {
        asio::co_spawn(io_, serve_tls(std::move(socket), id), asio::detached);
      } else {
        asio::co_spawn(io_, serve(std::move(socket), id), asio::detached);
      }
    }
  }

  awaitable<void> serve_tls(tcp::socket socket, unsigned id) {
    namespace asio = boost::asio;
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    co_await serve(std::move(stream), id);
  }

  template <class Stream>
  awaitable<void> serve(Stream stream, unsigned id) {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (unsigned n = 1;; ++n) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [read_ec, read_n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (read_ec) co_return;
      auto& message = parser.get();
      Request request{std::string(message.method_string()),
                      std::string(message.target()),
                      {},
                      message.body(),
                      id,
                      n};
      for (const auto& field : message) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        request.headers[name] = std::string(field.value());
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
        max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      }
      changed_.notify_all();
      Reply reply = script_(request);
      if (reply.hold) {
        asio::steady_timer timer(io_, asio::steady_timer::time_point::max());
        held_timers_.insert(&timer);
        {
          std::lock_guard lock(mutex_);
          ++held_;
        }
        changed_.notify_all();
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        held_timers_.erase(&timer);
      }
      bool keep_going = false;
      if (reply.raw) {
        co_await asio::async_write(stream, asio::buffer(*reply.raw),
                                   asio::as_tuple(asio::use_awaitable));
      } else if (!reply.drop) {
        http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
        response.set(http::field::content_type, "application/json");
        response.body() = std::move(reply.body);
        response.keep_alive(message.keep_alive() && !reply.close_after);
        response.prepare_payload();
        auto [write_ec, written] =
            co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
        keep_going = !write_ec && response.keep_alive();
      }
      {
        std::lock_guard lock(mutex_);
        --in_flight_;
      }
      if (!keep_going) co_return;  // the stream closes as the coroutine ends
    }
  }

  Script script_;
  std::optional<boost::asio::ssl::context> tls_;  // before io_: connections left in it use it
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::set<boost::asio::steady_timer*> held_timers_;  // the server's thread only

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  unsigned accepted_ = 0;
  unsigned in_flight_ = 0;
  unsigned max_in_flight_ = 0;
  std::size_t held_ = 0;  // replies held so far, released or not
  std::vector<Request> requests_;
};

}  // namespace cablecast::testing
