#include "rpc/http_backend.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/error.hpp>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "rpc/http_codec.hpp"
#include "rpc/http_connection.hpp"
#include "rpc/http_url.hpp"

namespace cablecast::rpc {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using http::HttpConnection;

namespace {

// One call from submission to completion. Lives on the backend's thread only.
struct Call {
  explicit Call(asio::io_context& io) : deadline_timer(io), retry_timer(io) {}

  std::string_view method;  // "connect" | "command" | "disconnect" (string literals)
  std::string body;         // kept for retries
  CallMeta meta;
  Clock::time_point deadline;
  // Decodes a body (or passes the error on) and posts the outcome to the caller's executor.
  std::function<void(boost::system::result<std::string>)> finish;
  asio::steady_timer deadline_timer;
  asio::steady_timer retry_timer;
  std::shared_ptr<HttpConnection> connection;  // while connecting or exchanging
  std::list<std::shared_ptr<Call>>::iterator queue_position;
  bool queued = false;
  bool holds_slot = false;
  bool saw_unavailable = false;  // the deadline then reports `unavailable`, the real cause
  bool done = false;
  unsigned retries = 0;
};

bool has_control_characters(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// What a failed connect/exchange means for the caller, and so whether it is retried.
Error classify(error_code ec) {
  if (ec.category() == rpc_category()) return static_cast<Error>(ec.value());
  if (ec == bhttp::error::body_limit) return Error::reply_too_large;
  if (ec == bhttp::error::partial_message) return Error::incomplete_reply;
  if (ec == bhttp::error::end_of_stream) return Error::unavailable;  // closed before replying
  if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
    return Error::malformed_reply;
  }
  if (ec == asio::ssl::error::stream_truncated) return Error::unavailable;
  if (ec.category() == asio::error::get_ssl_category()) return Error::tls_failed;
  return Error::unavailable;  // refused, reset, unreachable, host not found...
}

// A reused keep-alive connection that fails before any byte of a reply was most likely closed
// by the server while idle: the request is sent again at once on another connection.
bool closed_while_idle(error_code ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

class HttpBackend::Impl {
 public:
  Impl(BackendOptions options, HttpBackendTuning tuning, http::HttpEndpoint endpoint)
      : options_(std::move(options)),
        tuning_(std::move(tuning)),
        endpoint_(std::move(endpoint)),
        description_(endpoint_.describe()),
        work_(io_.get_executor()) {
    if (!options_.secret.empty()) authorization_ = "Bearer " + options_.secret;
  }

  error_code init_tls() {
    if (!endpoint_.tls) return {};
    tls_.emplace(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    error_code ec;
    tls_->set_default_verify_paths(ec);
    if (ec)
      CC_LOG_WARN("RPC over HTTPS: cannot load the system's CA certificates: {}", ec.message());
    if (!tuning_.tls_ca_file.empty()) {
      tls_->load_verify_file(tuning_.tls_ca_file, ec);
      if (ec) {
        CC_LOG_ERROR("RPC over HTTPS: cannot load CA file {}: {}", tuning_.tls_ca_file,
                     ec.message());
        return Error::tls_failed;
      }
    }
    tls_->set_verify_mode(asio::ssl::verify_peer);
    return {};
  }

  void start_thread() {
    thread_ = std::thread([this] { io_.run(); });
  }

  const std::string& describe() const { return description_; }

  template <class Response, class Request>
  void submit(std::string_view method, Request request, CallMeta meta,
              asio::any_io_executor reply_on, Completion<Response> done) {
    CABLE_ASSERT(done && reply_on);
    auto deadline = Clock::now() + options_.timeout;
    std::unique_lock lock(submit_mutex_);
    if (closed_) {
      lock.unlock();
      asio::post(reply_on,
                 [done = std::move(done)] { done(error_code(asio::error::operation_aborted)); });
      return;
    }
    // Posted under the lock: shutdown() posts its abort after setting closed_, so it runs after
    // every call admitted here (the io_context runs posted handlers in order).
    asio::post(io_, [this, method, deadline, request = std::move(request), meta = std::move(meta),
                     reply_on = std::move(reply_on), done = std::move(done)]() mutable {
      auto call = std::make_shared<Call>(io_);
      call->method = method;
      call->body = http::encode(request);  // here, not on the caller's loop
      call->meta = std::move(meta);
      call->deadline = deadline;
      call->finish = [this, method, sid = call->meta.sid, reply_on = std::move(reply_on),
                      done = std::move(done)](boost::system::result<std::string> body) {
        boost::system::result<Response> outcome = decode_reply<Response>(method, sid, body);
        asio::post(reply_on, [done, outcome = std::move(outcome)] { done(outcome); });
      };
      admit(call);
    });
  }

  void shutdown() {
    std::lock_guard once(shutdown_mutex_);
    {
      std::lock_guard lock(submit_mutex_);
      if (closed_) return;
      closed_ = true;
    }
    CABLE_ASSERT(std::this_thread::get_id() != thread_.get_id());
    asio::post(io_, [this] { abort_all(); });
    thread_.join();
  }

 private:
  template <class Response>
  boost::system::result<Response> decode_reply(std::string_view method, const std::string& sid,
                                               const boost::system::result<std::string>& body) {
    if (!body) return body.error();
    std::string why;
    auto decoded = http::decode<Response>(*body, {tuning_.max_reply_bytes}, &why);
    if (!decoded) {
      CC_LOG_DEBUG("RPC {} (sid {}) from {}: {}: {}", method, log::clip(sid), description_,
                   decoded.error().message(), why);
    }
    return decoded;
  }

  // ---- the queue and the slots ----------------------------------------------------------------

  void admit(const std::shared_ptr<Call>& call) {
    CABLE_ASSERT(!stopping_);  // calls are posted before shutdown's abort (see submit)
    live_.insert(call);
    call->deadline_timer.expires_at(call->deadline);
    call->deadline_timer.async_wait([this, call](error_code ec) {
      if (ec || call->done) return;
      complete(call, make_error_code(call->saw_unavailable ? Error::unavailable : Error::timeout));
    });
    if (in_flight_ < options_.concurrency) {
      begin(call);
    } else {
      call->queue_position = queue_.insert(queue_.end(), call);
      call->queued = true;
    }
  }

  void begin(const std::shared_ptr<Call>& call) {
    call->holds_slot = true;
    ++in_flight_;
    attempt(call);
  }

  void start_queued() {
    while (!stopping_ && in_flight_ < options_.concurrency && !queue_.empty()) {
      auto call = std::move(queue_.front());
      queue_.pop_front();
      call->queued = false;
      begin(call);
    }
  }

  // Exactly once per call: posts the outcome, frees the call's slot and connection.
  void complete(const std::shared_ptr<Call>& call, boost::system::result<std::string> outcome) {
    if (call->done) return;
    call->done = true;
    call->deadline_timer.cancel();
    call->retry_timer.cancel();
    if (call->queued) {
      queue_.erase(call->queue_position);
      call->queued = false;
    }
    if (call->connection) {  // failed mid-exchange: the reply may still come, never reuse it
      call->connection->close();
      call->connection.reset();
    }
    live_.erase(call);
    auto finish = std::move(call->finish);
    finish(std::move(outcome));
    if (call->holds_slot) {
      call->holds_slot = false;
      --in_flight_;
      start_queued();
    }
  }

  // ---- one attempt: a pooled or new connection, one exchange -----------------------------------

  void attempt(const std::shared_ptr<Call>& call) {
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());  // the most recently used: likeliest alive
      idle_.pop_back();
      if (connection->reusable()) {
        call->connection = std::move(connection);
        return send(call);
      }
      connection->close();
    }
    auto connection = std::make_shared<HttpConnection>(io_, tls_ ? &*tls_ : nullptr, endpoint_);
    call->connection = connection;
    connection->open([this, call, connection](error_code ec) {
      if (call->done || call->connection != connection) return connection->close();
      if (ec) {
        call->connection.reset();
        connection->close();
        return retry_or_fail(call, ec, false);
      }
      send(call);
    });
  }

  void send(const std::shared_ptr<Call>& call) {
    auto connection = call->connection;
    bool reused = connection->reused();
    connection->exchange(
        build_request(*call), tuning_.max_reply_bytes,
        [this, call, connection, reused](error_code ec, HttpConnection::Response response) {
          if (call->done || call->connection != connection) return connection->close();
          call->connection.reset();
          if (ec) {
            connection->close();
            return retry_or_fail(call, ec, reused && closed_while_idle(ec));
          }
          if (response.keep_alive() && !stopping_) {
            idle_.push_back(connection);
          } else {
            connection->close();
          }
          on_response(call, std::move(response));
        });
  }

  HttpConnection::Request build_request(const Call& call) const {
    HttpConnection::Request request{bhttp::verb::post, endpoint_.target(call.method), 11};
    request.set(bhttp::field::host, endpoint_.host_header);
    request.set(bhttp::field::user_agent, "cablecast");
    request.set(bhttp::field::content_type, "application/json");
    if (!authorization_.empty()) request.set(bhttp::field::authorization, authorization_);
    // The sid may come from a client's X-Request-ID: never let it forge a header line.
    if (!call.meta.sid.empty() && !has_control_characters(call.meta.sid)) {
      request.set("X-AnyCable-Meta-Sid", call.meta.sid);
    }
    if (!call.meta.protov.empty() && !has_control_characters(call.meta.protov)) {
      request.set("X-AnyCable-Meta-Protov", call.meta.protov);
    }
    request.keep_alive(true);
    request.body() = call.body;
    request.prepare_payload();
    return request;
  }

  void on_response(const std::shared_ptr<Call>& call, HttpConnection::Response response) {
    unsigned status = response.result_int();
    if (status >= 200 && status < 300) {
      note_reachable();
      return complete(call, std::move(response.body()));
    }
    CC_LOG_DEBUG("RPC {} (sid {}) to {}: HTTP {}: {}", call->method, log::clip(call->meta.sid),
                 description_, status, log::clip(response.body(), 200));
    if (status == 503) return retry_or_fail(call, make_error_code(Error::unavailable), false);
    if (status == 401 || status == 403) return complete(call, make_error_code(Error::unauthorized));
    complete(call, make_error_code(Error::http_status));
  }

  // ---- retries ----------------------------------------------------------------------------------

  void retry_or_fail(const std::shared_ptr<Call>& call, error_code cause, bool stale_connection) {
    Error kind = classify(cause);
    if (kind != Error::unavailable) {
      CC_LOG_DEBUG("RPC {} (sid {}) to {}: {}", call->method, log::clip(call->meta.sid),
                   description_, cause.message());
      return complete(call, make_error_code(kind));
    }
    if (stale_connection) return attempt(call);
    call->saw_unavailable = true;
    note_unreachable(cause);
    auto delay = tuning_.first_retry_delay;
    for (unsigned i = 0; i < call->retries && delay < tuning_.max_retry_delay; ++i) delay *= 2;
    delay = std::min(delay, tuning_.max_retry_delay);
    ++call->retries;
    if (Clock::now() + delay >= call->deadline) {
      return complete(call, make_error_code(Error::unavailable));
    }
    if (tuning_.on_retry) tuning_.on_retry(cause);
    call->retry_timer.expires_after(delay);
    call->retry_timer.async_wait([this, call](error_code ec) {
      if (ec || call->done) return;
      attempt(call);
    });
  }

  // One line when the backend stops answering and one when it is back, whatever the call rate.
  void note_unreachable(error_code cause) {
    if (unreachable_) return;
    unreachable_ = true;
    CC_LOG_WARN("RPC backend {} unreachable ({}); calls are retried until their timeout",
                description_, cause.message());
  }

  void note_reachable() {
    if (!unreachable_) return;
    unreachable_ = false;
    CC_LOG_INFO("RPC backend {} reachable again", description_);
  }

  void abort_all() {
    stopping_ = true;
    std::vector<std::shared_ptr<Call>> calls(live_.begin(), live_.end());
    for (const auto& call : calls) complete(call, error_code(asio::error::operation_aborted));
    for (const auto& connection : idle_) connection->close();
    idle_.clear();
    work_.reset();  // run() returns once the cancelled operations have drained
  }

  // Declared first: connections hold references to these.
  const BackendOptions options_;
  const HttpBackendTuning tuning_;
  const http::HttpEndpoint endpoint_;
  const std::string description_;
  std::string authorization_;
  std::optional<asio::ssl::context> tls_;

  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;

  std::mutex submit_mutex_;
  bool closed_ = false;  // guarded by submit_mutex_
  std::mutex shutdown_mutex_;

  // The backend's thread only.
  bool stopping_ = false;
  unsigned in_flight_ = 0;
  std::list<std::shared_ptr<Call>> queue_;
  std::unordered_set<std::shared_ptr<Call>> live_;
  std::vector<std::shared_ptr<HttpConnection>> idle_;
  bool unreachable_ = false;
};

boost::system::result<std::unique_ptr<HttpBackend>> HttpBackend::create(BackendOptions options,
                                                                        HttpBackendTuning tuning) {
  auto endpoint = http::parse_http_url(options.url);
  if (!endpoint) return endpoint.error();
  if (options.concurrency == 0 || options.timeout <= std::chrono::milliseconds::zero() ||
      has_control_characters(options.secret) || tuning.first_retry_delay.count() <= 0 ||
      tuning.max_retry_delay < tuning.first_retry_delay) {
    return error_code(std::make_error_code(std::errc::invalid_argument));
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(tuning), std::move(*endpoint));
  if (auto ec = impl->init_tls()) return ec;
  impl->start_thread();
  return std::unique_ptr<HttpBackend>(new HttpBackend(std::move(impl)));
}

HttpBackend::HttpBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpBackend::~HttpBackend() { shutdown(); }

void HttpBackend::connect(ConnectionRequest request, CallMeta meta, asio::any_io_executor reply_on,
                          Completion<ConnectionResponse> done) {
  impl_->submit<ConnectionResponse>("connect", std::move(request), std::move(meta),
                                    std::move(reply_on), std::move(done));
}

void HttpBackend::command(CommandMessage request, CallMeta meta, asio::any_io_executor reply_on,
                          Completion<CommandResponse> done) {
  impl_->submit<CommandResponse>("command", std::move(request), std::move(meta),
                                 std::move(reply_on), std::move(done));
}

void HttpBackend::disconnect(DisconnectRequest request, CallMeta meta,
                             asio::any_io_executor reply_on, Completion<DisconnectResponse> done) {
  impl_->submit<DisconnectResponse>("disconnect", std::move(request), std::move(meta),
                                    std::move(reply_on), std::move(done));
}

void HttpBackend::shutdown() { impl_->shutdown(); }

const std::string& HttpBackend::describe() const { return impl_->describe(); }

}  // namespace cablecast::rpc
