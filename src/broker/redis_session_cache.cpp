#include "broker/redis_session_cache.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_client.hpp"

namespace cablecast::broker {

namespace asio = boost::asio;
using boost::system::error_code;
using pubsub::redis::RedisClient;

// Everything below runs on the broker loop.
class RedisSessionCache::Impl : public std::enable_shared_from_this<Impl> {
 public:
  explicit Impl(asio::io_context& io, RedisSessionCacheOptions options)
      : io_(io), options_(std::move(options)) {}

  void open() {
    client_ = std::make_shared<RedisClient>(
        io_,
        pubsub::redis::client_options(
            options_.endpoint, "session cache",
            pubsub::redis::named_unless_set(options_.connection, "cablecast-sessions"),
            " (sessions cannot be restored until it is back)"),
        pubsub::redis::events_for(weak_from_this(), &Impl::on_up, &Impl::on_down));
    client_->open();
  }

  void save(std::string sid, std::string state, std::chrono::seconds ttl) {
    if (stopping_ || !client_) return;
    if (!client_->is_up()) {
      if (queued_bytes_ + state.size() > options_.max_queued_bytes) {
        if (dropped_++ == 0) {
          CC_LOG_WARN(
              "redis session cache: Redis unreachable and {} bytes of sessions queued; "
              "dropping more (those sessions cannot be restored)",
              queued_bytes_);
        }
        return;
      }
      queued_bytes_ += state.size();
      queue_.push_back({std::move(sid), std::move(state), ttl});
      return;
    }
    send({std::move(sid), std::move(state), ttl});
  }

  void take(const std::string& sid, asio::any_io_executor ex, TakeFn done) {
    auto pending = std::make_shared<Take>(key_for(sid), std::move(ex), std::move(done), io_);
    if (stopping_ || !client_) return pending->answer(std::nullopt);
    if (client_->is_up()) return send_take(pending);
    // Not connected (yet): wait for flush() at most take_wait, then answer nothing.
    std::erase_if(waiting_takes_, [](const auto& t) { return !t->done; });  // timed out
    waiting_takes_.push_back(pending);
    pending->deadline.expires_after(options_.take_wait);
    pending->deadline.async_wait([pending](error_code ec) {
      if (!ec) pending->answer(std::nullopt);
    });
  }

  void close(std::function<void()> done) {
    stopping_ = true;
    for (auto& pending : std::exchange(waiting_takes_, {})) pending->answer(std::nullopt);
    if (!client_) return asio::post(io_, std::move(done));
    client_->close_gracefully(options_.connection.shutdown_flush,
                              [weak = weak_from_this(), done = std::move(done)] {
                                if (auto self = weak.lock()) self->client_.reset();
                                done();
                              });
  }

 private:
  struct Save {
    std::string sid;
    std::string state;
    std::chrono::seconds ttl;
  };

  // One take, answered exactly once: by its GETDEL reply, or by its deadline while it waited
  // for the connection, or with nothing when the cache closes.
  struct Take {
    Take(std::string k, asio::any_io_executor e, TakeFn d, asio::io_context& io)
        : key(std::move(k)), ex(std::move(e)), done(std::move(d)), deadline(io) {}
    void answer(std::optional<std::string> state) {
      if (!done) return;
      deadline.cancel();
      asio::post(ex, [to = std::exchange(done, {}), state = std::move(state)]() mutable {
        to(std::move(state));
      });
    }
    std::string key;
    asio::any_io_executor ex;
    TakeFn done;  // empty once answered
    asio::steady_timer deadline;
  };

  void send_take(const std::shared_ptr<Take>& pending) {
    const bool sent = client_->command({"GETDEL", pending->key}, [pending](const redisReply* r) {
      std::optional<std::string> state;
      if (r && r->type == REDIS_REPLY_STRING) {
        state.emplace(r->str, r->len);
      } else if (r && r->type == REDIS_REPLY_ERROR) {
        CC_LOG_ERROR("redis session cache: GETDEL refused: {}",
                     log::clip(std::string_view(r->str, r->len)));
      }
      pending->answer(std::move(state));
    });
    if (!sent) pending->answer(std::nullopt);
  }

  std::string key_for(const std::string& sid) const { return options_.prefix + "session:" + sid; }

  void on_up(bool) { flush(); }
  // Down: it reconnects (saves wait in the queue), unless stopping.
  bool on_down(error_code, const std::string&) { return !stopping_; }

  void flush() {
    if (dropped_)
      CC_LOG_WARN("redis session cache: {} session(s) dropped while Redis was down", dropped_);
    dropped_ = 0;
    queued_bytes_ = 0;
    for (auto& save : std::exchange(queue_, {})) send(std::move(save));
    // After the saves, on the same connection: a take sees a state saved while it waited.
    for (auto& pending : std::exchange(waiting_takes_, {})) {
      if (pending->done) send_take(pending);
    }
  }

  void send(Save save) {
    const std::string key = key_for(save.sid);
    // EX must be positive: a state worth saving lives at least a second.
    const std::string seconds = std::to_string(std::max<std::int64_t>(1, save.ttl.count()));
    client_->command({"SET", key, save.state, "EX", seconds}, [](const redisReply* r) {
      if (!r) {
        CC_LOG_WARN("redis session cache: connection lost before a save was acknowledged");
      } else if (r->type == REDIS_REPLY_ERROR) {
        CC_LOG_ERROR("redis session cache: SET refused: {}",
                     log::clip(std::string_view(r->str, r->len)));
      }
    });
  }

  asio::io_context& io_;
  const RedisSessionCacheOptions options_;
  std::shared_ptr<RedisClient> client_;
  std::deque<Save> queue_;                            // saves made while Redis was unreachable
  std::vector<std::shared_ptr<Take>> waiting_takes_;  // takes made meanwhile (answered or not)
  std::size_t queued_bytes_ = 0;
  std::size_t dropped_ = 0;
  bool stopping_ = false;
};

RedisSessionCache::RedisSessionCache(asio::io_context& io, RedisSessionCacheOptions options)
    : io_(io),
      shutdown_flush_(options.connection.shutdown_flush),
      impl_(std::make_shared<Impl>(io, std::move(options))) {
  asio::post(io_, [impl = impl_] { impl->open(); });
}

RedisSessionCache::~RedisSessionCache() { stop(); }

void RedisSessionCache::save(const std::string& sid, std::string state, std::chrono::seconds ttl) {
  asio::post(io_, [weak = std::weak_ptr(impl_), sid, state = std::move(state), ttl]() mutable {
    if (auto impl = weak.lock()) impl->save(std::move(sid), std::move(state), ttl);
  });
}

void RedisSessionCache::take(const std::string& sid, asio::any_io_executor ex, TakeFn done) {
  asio::post(io_, [weak = std::weak_ptr(impl_), sid, ex, done = std::move(done)]() mutable {
    if (auto impl = weak.lock()) {
      impl->take(sid, ex, std::move(done));
    } else {
      asio::post(ex, [done = std::move(done)] { done(std::nullopt); });
    }
  });
}

void RedisSessionCache::stop() {
  if (stopped_) return;
  stopped_ = true;
  pubsub::redis::close_on_loop(io_, shutdown_flush_, "redis session cache",
                               [impl = impl_](auto done) { impl->close(std::move(done)); });
}

}  // namespace cablecast::broker
