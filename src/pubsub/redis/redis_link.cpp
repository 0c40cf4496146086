#include "pubsub/redis/redis_link.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/log.hpp"

namespace cablecast::pubsub::redis {

using boost::system::error_code;

RedisLink::RedisLink(boost::asio::io_context& io, RedisEndpoint endpoint, std::string role,
                     const RedisConnectionTuning& tuning, std::string while_down, Events events)
    : io_(io),
      endpoint_(std::move(endpoint)),
      first_retry_(tuning.first_retry),
      max_retry_(tuning.max_retry),
      while_down_(std::move(while_down)),
      events_(std::move(events)),
      next_delay_(tuning.first_retry) {
  std::string name = tuning.client_name.empty() ? "cablecast-" + role : tuning.client_name;
  // The connection reports through `this`: it dies with the link (sole owner), and its posted
  // events check a weak reference first, so none reaches a destroyed link.
  connection_ = std::make_shared<RedisConnection>(
      io_, endpoint_, std::move(role), std::move(name), tuning.connect_timeout,
      RedisConnection::Events{[this] { on_up(); },
                              [this](error_code code, const std::string& detail) {
                                if (events_.down) events_.down(code, detail);
                              }});
}

RedisLink::~RedisLink() { close(); }

void RedisLink::open() {
  closed_ = false;
  connection_->open();
}

void RedisLink::on_up() {
  next_delay_ = first_retry_;
  const bool reconnected = std::exchange(lost_, false);
  if (events_.up) events_.up(reconnected);
}

void RedisLink::retry(error_code code, const std::string& detail) {
  if (closed_) return;
  if (!lost_) {
    lost_ = true;
    CC_LOG_WARN("redis {} connection to {} lost: {}; reconnecting{}", role(), endpoint_.describe(),
                detail, while_down_);
  } else {
    CC_LOG_WARN("redis {} reconnect to {} failed: {} ({}); next attempt in {} ms", role(),
                endpoint_.describe(), code.message(), detail, next_delay_.count());
  }
  if (!retry_timer_) retry_timer_.emplace(io_);
  retry_timer_->expires_after(next_delay_);
  next_delay_ = std::min(next_delay_ * 2, max_retry_);
  // A destroyed timer still runs its handler, with operation_aborted: `this` is touched only
  // when the wait completed.
  retry_timer_->async_wait([this](error_code ec) {
    if (ec || closed_ || connection_->is_open()) return;
    connection_->open();
  });
}

void RedisLink::restart(error_code code, const std::string& detail) {
  connection_->close();
  retry(code, detail);
}

void RedisLink::close() {
  closed_ = true;
  retry_timer_.reset();
  connection_->close();
}

void RedisLink::close_gracefully(std::chrono::milliseconds deadline, std::function<void()> done) {
  closed_ = true;
  retry_timer_.reset();
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
