#include "pubsub/redis/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <string_view>
#include <utility>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/redis/asio_events.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::pubsub::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

RedisConnection* owner_of(const redisAsyncContext* context) {
  return static_cast<RedisConnection*>(context->data);
}

const redisReply* as_reply(void* reply) { return static_cast<const redisReply*>(reply); }

std::string_view error_text(const redisReply* reply) {
  return {reply->str, static_cast<std::size_t>(reply->len)};
}

// Redis says NOAUTH when a command needs AUTH first, WRONGPASS (6+) or "ERR invalid password"
// (before 6) when AUTH was refused.
bool is_auth_error(std::string_view text) {
  return text.starts_with("NOAUTH") || text.starts_with("WRONGPASS") ||
         text.find("invalid password") != std::string_view::npos ||
         text.find("without any password configured") != std::string_view::npos;
}

}  // namespace

RedisConnection::RedisConnection(asio::io_context& io, RedisEndpoint endpoint, std::string role,
                                 std::string client_name, std::chrono::milliseconds connect_timeout,
                                 Events events)
    : io_(io),
      endpoint_(std::move(endpoint)),
      role_(std::move(role)),
      client_name_(std::move(client_name)),
      connect_timeout_(connect_timeout),
      events_(std::move(events)) {}

RedisConnection::~RedisConnection() { close(); }

void RedisConnection::open() {
  CABLE_ASSERT(context_ == nullptr);
  const std::uint64_t generation = ++generation_;
  up_ = false;
  closing_ = false;
  handshake_error_ = {};
  handshake_detail_.clear();

  redisAsyncContext* context = endpoint_.unix_path.empty()
                                   ? redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port)
                                   : redisAsyncConnectUnix(endpoint_.unix_path.c_str());
  if (context == nullptr || context->err != 0) {
    std::string detail = context ? context->errstr : "out of memory";
    if (context) redisAsyncFree(context);
    context_ = nullptr;
    lost(generation, RedisError::connect_failed, std::move(detail));
    return;
  }
  if (endpoint_.unix_path.empty()) redisEnableKeepAlive(&context->c);  // notice dead peers
  context->data = this;
  attach_to_asio(context, io_);
  redisAsyncSetConnectCallback(context, &RedisConnection::on_connect);
  redisAsyncSetDisconnectCallback(context, &RedisConnection::on_disconnect);
  context_ = context;

  // The handshake is pipelined: hiredis sends it as soon as the socket connects, and the replies
  // come back in this order. A refused AUTH makes the later steps fail with NOAUTH too; the
  // first error is the one reported.
  handshake_pending_ = 0;
  if (!endpoint_.password.empty()) {
    if (endpoint_.user.empty()) {
      redisAsyncCommand(context, &RedisConnection::on_auth_reply, this, "AUTH %b",
                        endpoint_.password.data(), endpoint_.password.size());
    } else {
      redisAsyncCommand(context, &RedisConnection::on_auth_reply, this, "AUTH %b %b",
                        endpoint_.user.data(), endpoint_.user.size(), endpoint_.password.data(),
                        endpoint_.password.size());
    }
    ++handshake_pending_;
  }
  if (endpoint_.db != 0) {
    redisAsyncCommand(context, &RedisConnection::on_select_reply, this, "SELECT %u", endpoint_.db);
    ++handshake_pending_;
  }
  // Like Rails' "ActionCable-PID-<pid>": operators see who is connected in CLIENT LIST.
  redisAsyncCommand(context, &RedisConnection::on_setname_reply, this, "CLIENT SETNAME %b",
                    client_name_.data(), client_name_.size());
  ++handshake_pending_;

  timer_.emplace(io_);
  timer_->expires_after(connect_timeout_);
  timer_->async_wait([weak = weak_from_this(), generation](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->generation_ != generation || self->up_ || !self->context_) return;
    // Forgotten before the free, so the disconnect callback does not report it a second time.
    redisAsyncFree(std::exchange(self->context_, nullptr));
    self->lost(generation, RedisError::timed_out,
               "no answer within " + std::to_string(self->connect_timeout_.count()) + " ms");
  });
}

void RedisConnection::close() {
  ++generation_;  // drops posted up/down events of the closed life
  up_ = false;
  if (timer_) timer_->cancel();
  closed_ = nullptr;
  if (redisAsyncContext* context = std::exchange(context_, nullptr)) {
    closing_ = true;
    redisAsyncFree(context);  // pending callbacks get a null reply
  }
}

void RedisConnection::close_gracefully(std::chrono::milliseconds deadline,
                                       std::function<void()> done) {
  ++generation_;
  up_ = false;
  if (!context_) {
    asio::post(io_, std::move(done));
    return;
  }
  closing_ = true;
  closed_ = std::move(done);
  if (!timer_) timer_.emplace(io_);
  timer_->expires_after(deadline);
  timer_->async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    if (redisAsyncContext* context = std::exchange(self->context_, nullptr)) {
      CC_LOG_WARN("redis {}: replies still pending at shutdown; giving them up", self->role_);
      redisAsyncFree(context);
    }
    self->finish_graceful_close();
  });
  // hiredis waits for every pending reply and an empty output buffer, then frees the context
  // (possibly right here), which ends in on_disconnect or, if never connected, nowhere: so the
  // deadline above also covers a connection that was still connecting.
  redisAsyncDisconnect(context_);
}

void RedisConnection::finish_graceful_close() {
  if (timer_) timer_->cancel();
  if (auto done = std::exchange(closed_, nullptr)) asio::post(io_, std::move(done));
}

void RedisConnection::context_gone(const redisAsyncContext* context, error_code code,
                                   std::string detail) {
  if (context_ != context) return;  // an earlier life, or already forgotten by close()
  context_ = nullptr;
  if (closing_) {
    finish_graceful_close();
    return;
  }
  if (handshake_error_) {
    code = handshake_error_;
    detail = handshake_detail_;
  }
  lost(generation_, code, std::move(detail));
}

void RedisConnection::lost(std::uint64_t generation, error_code code, std::string detail) {
  up_ = false;
  if (timer_) timer_->cancel();
  asio::post(io_, [weak = weak_from_this(), generation, code, detail = std::move(detail)] {
    auto self = weak.lock();
    if (!self || self->generation_ != generation) return;
    if (self->events_.down) self->events_.down(code, detail);
  });
}

void RedisConnection::on_connect(const redisAsyncContext* context, int status) {
  if (status == REDIS_OK) return;  // the handshake replies decide when we are up
  owner_of(context)->context_gone(context, RedisError::connect_failed,
                                  context->errstr[0] ? context->errstr : "connect failed");
}

void RedisConnection::on_disconnect(const redisAsyncContext* context, int status) {
  std::string detail = status == REDIS_OK || context->errstr[0] == '\0'
                           ? std::string("closed by the server")
                           : std::string(context->errstr);
  owner_of(context)->context_gone(context, RedisError::connection_lost, std::move(detail));
}

void RedisConnection::fail_handshake(error_code code, std::string detail) {
  if (!handshake_error_) {
    handshake_error_ = code;
    handshake_detail_ = std::move(detail);
  }
  // Let the pending replies drain, then hiredis closes and on_disconnect reports the error.
  if (context_) redisAsyncDisconnect(context_);
}

void RedisConnection::handshake_step_done() {
  if (--handshake_pending_ > 0 || handshake_error_ || !context_) return;
  if (timer_) timer_->cancel();
  asio::post(io_, [weak = weak_from_this(), generation = generation_] {
    auto self = weak.lock();
    if (!self || self->generation_ != generation || !self->context_) return;
    self->up_ = true;
    if (self->events_.up) self->events_.up();
  });
}

void RedisConnection::on_auth_reply(redisAsyncContext*, void* reply, void* data) {
  auto* self = static_cast<RedisConnection*>(data);
  const redisReply* r = as_reply(reply);
  if (r == nullptr) return;  // the context is going away; on_disconnect reports why
  if (r->type == REDIS_REPLY_ERROR) {
    self->fail_handshake(RedisError::auth_failed, "AUTH: " + std::string(error_text(r)));
    return;
  }
  self->handshake_step_done();
}

void RedisConnection::on_select_reply(redisAsyncContext*, void* reply, void* data) {
  auto* self = static_cast<RedisConnection*>(data);
  const redisReply* r = as_reply(reply);
  if (r == nullptr) return;
  if (r->type == REDIS_REPLY_ERROR) {
    std::string_view text = error_text(r);
    self->fail_handshake(is_auth_error(text) ? RedisError::auth_failed : RedisError::select_failed,
                         "SELECT " + std::to_string(self->endpoint_.db) + ": " + std::string(text));
    return;
  }
  self->handshake_step_done();
}

void RedisConnection::on_setname_reply(redisAsyncContext*, void* reply, void* data) {
  auto* self = static_cast<RedisConnection*>(data);
  const redisReply* r = as_reply(reply);
  if (r == nullptr) return;
  if (r->type == REDIS_REPLY_ERROR) {
    std::string_view text = error_text(r);
    if (is_auth_error(text)) {
      self->fail_handshake(RedisError::auth_failed, std::string(text));
      return;
    }
    // A naming failure (old server, ACL without CLIENT) is not a reason to refuse service.
    CC_LOG_WARN("redis {}: CLIENT SETNAME refused: {}", self->role_, text);
  }
  self->handshake_step_done();
}

}  // namespace cablecast::pubsub::redis
