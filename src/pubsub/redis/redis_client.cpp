#include "pubsub/redis/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace cablecast::pubsub::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// hiredis calls it once per command: with the reply, or with null when the context is freed
// before the reply came. Either way the heap-held function is released here.
void on_reply(redisAsyncContext*, void* reply, void* data) {
  std::unique_ptr<RedisClient::ReplyFn> done(static_cast<RedisClient::ReplyFn*>(data));
  (*done)(static_cast<const redisReply*>(reply));
}

}  // namespace

RedisClient::RedisClient(asio::io_context& io, RedisClientOptions options, Events events)
    : io_(io),
      options_(std::move(options)),
      events_(std::move(events)),
      backoff_(options_.first_retry, options_.max_retry) {}

RedisClient::~RedisClient() {
  // Pending replies get null here; their functions must not reach back into a destroyed owner
  // (owners hold weak pointers or close() before they go).
  if (connection_) connection_->close();
}

void RedisClient::open() {
  closed_ = false;
  was_up_ = false;
  lost_ = false;
  backoff_.reset();
  if (!connection_) {
    std::weak_ptr<RedisClient> weak = weak_from_this();
    connection_ = std::make_shared<RedisConnection>(
        io_, options_.endpoint, options_.role, options_.client_name, options_.connect_timeout,
        RedisConnection::Events{[weak] {
                                  if (auto self = weak.lock()) self->on_up();
                                },
                                [weak](error_code code, const std::string& detail) {
                                  if (auto self = weak.lock()) self->on_down(code, detail);
                                }});
  }
  if (!connection_->is_open()) connection_->open();
}

void RedisClient::on_up() {
  if (closed_) return;
  backoff_.reset();
  const bool reconnected = std::exchange(was_up_, true);
  lost_ = false;
  if (events_.up) events_.up(reconnected);
}

void RedisClient::on_down(error_code code, const std::string& detail) {
  if (closed_) return;
  const bool retry = events_.down ? events_.down(code, detail) : true;
  if (!retry || closed_) {  // the owner may also have closed us from its handler
    close();
    return;
  }
  if (was_up_ && !lost_) {
    lost_ = true;
    CC_LOG_WARN("redis {} connection to {} lost: {}; reconnecting{}", options_.role,
                options_.endpoint.describe(), detail, options_.while_down);
  } else {
    CC_LOG_WARN("redis {} {} {} failed: {} ({}); next attempt in {} ms", options_.role,
                was_up_ ? "reconnect to" : "connection to", options_.endpoint.describe(),
                code.message(), detail, backoff_.upcoming().count());
  }
  if (!retry_) retry_.emplace(io_);
  retry_->expires_after(backoff_.next());
  retry_->async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_ || self->connection_->is_open()) return;
    self->connection_->open();
  });
}

bool RedisClient::command(std::span<const std::string_view> args, ReplyFn done) {
  redisAsyncContext* ctx = is_up() ? connection_->context() : nullptr;
  if (!ctx) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto held = std::make_unique<ReplyFn>(std::move(done));
  if (redisAsyncCommandArgv(ctx, &on_reply, held.get(), static_cast<int>(argv.size()), argv.data(),
                            lengths.data()) != REDIS_OK) {
    return false;  // hiredis refused it (out of memory, or the context is closing)
  }
  held.release();  // on_reply owns it now
  return true;
}

void RedisClient::restart(error_code code, const std::string& detail) {
  if (closed_ || !connection_) return;
  connection_->close();
  on_down(code, detail);
}

void RedisClient::close() {
  closed_ = true;
  retry_.reset();  // cancels: the handler sees operation_aborted
  if (connection_) connection_->close();
}

void RedisClient::close_gracefully(std::chrono::milliseconds deadline, std::function<void()> done) {
  closed_ = true;
  retry_.reset();
  if (!connection_) {
    asio::post(io_, std::move(done));
    return;
  }
  connection_->close_gracefully(deadline, std::move(done));
}

std::string_view redis_version_line(std::string_view info) {
  const std::size_t at = info.find("redis_version:");
  if (at == std::string_view::npos) return {};
  return info.substr(at, info.find_first_of("\r\n", at) - at);
}

bool redis_version_at_least(std::string_view info, int major, int minor) {
  std::string_view line = redis_version_line(info);
  if (line.empty()) return false;
  const char* p = line.data() + line.find(':') + 1;
  const char* end = line.data() + line.size();
  int found_major = 0, found_minor = 0;
  auto [after_major, ec] = std::from_chars(p, end, found_major);
  if (ec != std::errc{} || after_major == end || *after_major != '.') return false;
  if (std::from_chars(after_major + 1, end, found_minor).ec != std::errc{}) return false;
  return found_major > major || (found_major == major && found_minor >= minor);
}

}  // namespace cablecast::pubsub::redis
