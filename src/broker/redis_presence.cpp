#include "broker/redis_presence.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/redis_presence_scripts.hpp"
#include "core/assert.hpp"
#include "core/log.hpp"
#include "pubsub/redis/loop_handshake.hpp"
#include "pubsub/redis/redis_client.hpp"
#include "pubsub/redis/redis_error.hpp"

namespace cablecast::broker {

namespace asio = boost::asio;
using boost::system::error_code;
using pubsub::redis::RedisClient;
using pubsub::redis::RedisError;
using redis_presence::Change;

namespace {

constexpr std::size_t kChangesPerScript = 200;  // bounds one script run (Redis blocks meanwhile)
constexpr std::size_t kSweepLimit = 1000;       // entries one sweep removes; more: sweep again

std::string_view text_of(const redisReply* r) {
  return r->str ? std::string_view(r->str, r->len) : std::string_view{};
}

}  // namespace

// Everything below runs on the broker loop.
class RedisPresence::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, RedisPresenceOptions options)
      : io_(io),
        options_(std::move(options)),
        entries_key_(options_.prefix + "presence:entries"),
        ttl_ms_(std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.presence.ttl).count())) {
  }

  void open(PresenceEventFn on_event) {
    on_event_ = std::move(on_event);
    client_ = std::make_shared<RedisClient>(
        io_,
        pubsub::redis::client_options(
            options_.endpoint, "presence",
            pubsub::redis::named_unless_set(options_.connection, "cablecast-presence"),
            " (presence changes are queued until it is back)"),
        pubsub::redis::events_for(weak_from_this(), &Impl::on_up, &Impl::on_down));
    client_->open();
    sweep_timer_.emplace(io_);
    refresh_timer_.emplace(io_);
    arm_sweep();
    arm_refresh();
  }

  void join(const std::string& stream, const std::string& sid, PresenceMember member) {
    if (stopping_) return;
    auto [entry, is_new] = live_[stream].try_emplace(sid, member);
    if (!is_new) {
      // The session now stands for another id: its old entry goes first.
      if (entry->second.id != member.id) push({'l', stream, entry->second.id, sid, {}});
      entry->second = member;
    }
    push({'j', stream, std::move(member.id), sid, std::move(member.info)});
  }

  void leave(const std::string& stream, const std::string& sid, char kind) {
    if (stopping_) return;
    auto s = live_.find(stream);
    if (s == live_.end()) return;
    auto it = s->second.find(sid);
    if (it == s->second.end()) return;
    // Not refreshed any more: "e" lets the entry run out its ttl, "l" removes it now.
    push({kind, stream, std::move(it->second.id), sid, {}});
    s->second.erase(it);
    if (s->second.empty()) live_.erase(s);
  }

  void members(const std::string& stream, asio::any_io_executor ex, PresenceInfoFn done) {
    auto fail = [&](RedisError e) {
      asio::post(ex, [done = std::move(done), e] { done(make_error_code(e)); });
    };
    if (stopping_ || !client_ || !client_->is_up()) return fail(RedisError::not_connected);
    const std::string key = options_.prefix + "presence:info:" + stream;
    auto sent = client_->command({"HGETALL", key}, [ex, done](const redisReply* reply) mutable {
      boost::system::result<std::vector<PresenceMember>> found = RedisError::connection_lost;
      if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements % 2 == 0) {
        std::vector<PresenceMember> list;
        for (std::size_t i = 0; i < reply->elements; i += 2) {
          list.push_back({std::string(text_of(reply->element[i])),
                          std::string(text_of(reply->element[i + 1]))});
        }
        std::sort(list.begin(), list.end(), [](auto& a, auto& b) { return a.id < b.id; });
        found = std::move(list);
      } else if (reply) {
        CC_LOG_ERROR("redis presence: unexpected answer to HGETALL: {}", log::clip(text_of(reply)));
        found = RedisError::server_error;
      }
      asio::post(ex, [done = std::move(done), found = std::move(found)]() mutable {
        done(std::move(found));
      });
    });
    if (!sent) fail(RedisError::not_connected);
  }

  void close(std::function<void()> done) {
    stopping_ = true;
    sweep_timer_.reset();  // cancels: the handlers see operation_aborted
    refresh_timer_.reset();
    if (!client_) return asio::post(io_, std::move(done));
    flush();
    client_->close_gracefully(options_.connection.shutdown_flush,
                              [weak = weak_from_this(), done = std::move(done)] {
                                if (auto self = weak.lock()) self->client_.reset();
                                done();
                              });
  }

 private:
  // Down: it reconnects (changes wait in the queue), unless stopping.
  bool on_down(error_code, const std::string&) { return !stopping_; }

  void on_up(bool reconnected) {
    if (stopping_) return;
    if (reconnected) {
      CC_LOG_INFO("redis presence reconnected to {}; sending {} queued change(s){}",
                  options_.endpoint.describe(), queue_.size(),
                  dropped_ ? fmt::format(", {} dropped while it was down", dropped_) : "");
    }
    dropped_ = 0;
    flush();
    refresh();
  }

  void push(Change change) {
    const bool up = client_ && client_->is_up();
    if (!up && queue_.size() >= options_.max_queued) {
      if (dropped_++ == 0) {
        CC_LOG_WARN(
            "redis presence: {} changes queued while Redis is unreachable; dropping more (live "
            "sessions are re-added once it is back, the others end after the ttl)",
            queue_.size());
      }
      return;
    }
    queue_.push_back(std::move(change));
    // Whatever a loop turn queues goes out in one script run.
    if (!flush_posted_) {
      flush_posted_ = true;
      asio::post(io_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
          self->flush_posted_ = false;
          self->flush();
        }
      });
    }
  }

  void flush() {
    if (!client_ || !client_->is_up() || queue_.empty()) return;
    std::vector<Change> changes = std::exchange(queue_, {});
    send(changes);
  }

  // Runs the update script over `changes`, kChangesPerScript at a time.
  void send(const std::vector<Change>& changes) {
    for (std::size_t at = 0; at < changes.size(); at += kChangesPerScript) {
      const std::size_t end = std::min(changes.size(), at + kChangesPerScript);
      std::vector<std::string_view> args{
          "EVAL", redis_presence::update_script(), "1", entries_key_, options_.prefix, ttl_ms_};
      args.reserve(args.size() + (end - at) * 5);
      for (std::size_t i = at; i < end; ++i) {
        const Change& c = changes[i];
        args.insert(args.end(), {std::string_view(&c.kind, 1), c.stream, c.id, c.sid, c.info});
      }
      const bool sent = client_->command(args, [weak = weak_from_this()](const redisReply* r) {
        if (auto self = weak.lock()) self->on_script_reply(r, 0, "update");
      });
      // Not sent (the connection just went): these changes are lost; the refresh after the
      // reconnect re-adds live sessions, the others end after the ttl.
      if (!sent) CC_LOG_WARN("redis presence: {} change(s) not sent", end - at);
    }
  }

  // Events in a script's answer go to the callback. No answer (connection lost): the changes may
  // or may not have been applied; their events, if any, are not known here.
  std::size_t on_script_reply(const redisReply* reply, std::size_t first, const char* script) {
    if (!reply) return 0;
    auto events = redis_presence::decode_events(*reply, first);
    if (!events) {
      CC_LOG_ERROR("redis presence: the {} script failed: {}", script,
                   reply->type == REDIS_REPLY_ERROR ? log::clip(text_of(reply))
                                                    : std::string("unexpected answer"));
      return 0;
    }
    for (auto& event : *events) {
      if (on_event_) on_event_(std::move(event));
    }
    return first == 1 && reply->element[0]->type == REDIS_REPLY_INTEGER
               ? static_cast<std::size_t>(reply->element[0]->integer)
               : 0;
  }

  void refresh() {
    if (!client_ || !client_->is_up()) return;
    std::vector<Change> changes;
    for (const auto& [stream, sessions] : live_) {
      for (const auto& [sid, member] : sessions) {
        changes.push_back({'r', stream, member.id, sid, member.info});
      }
    }
    send(changes);
  }

  void sweep() {
    if (sweeping_ || !client_ || !client_->is_up()) return;
    const std::string limit = std::to_string(kSweepLimit);
    sweeping_ = client_->command(
        {"EVAL", redis_presence::sweep_script(), "1", entries_key_, options_.prefix, limit},
        [weak = weak_from_this()](const redisReply* reply) {
          auto self = weak.lock();
          if (!self) return;
          self->sweeping_ = false;
          // A full batch: more may be due; go on at once rather than a second later.
          if (self->on_script_reply(reply, 1, "sweep") == kSweepLimit && !self->stopping_) {
            asio::post(self->io_, [weak = self->weak_from_this()] {
              if (auto again = weak.lock()) again->sweep();
            });
          }
        });
  }

  void arm_sweep() {
    sweep_timer_->expires_after(options_.sweep_interval);
    sweep_timer_->async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopping_) return;
      self->sweep();
      self->arm_sweep();
    });
  }

  void arm_refresh() {
    // Three refreshes per ttl: a live entry survives two lost or late ones.
    auto period = std::max<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.presence.ttl) / 3,
        std::chrono::milliseconds(100));
    refresh_timer_->expires_after(period);
    refresh_timer_->async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopping_) return;
      self->refresh();
      self->arm_refresh();
    });
  }

  asio::io_context& io_;
  const RedisPresenceOptions options_;
  const std::string entries_key_;
  const std::string ttl_ms_;
  PresenceEventFn on_event_;
  std::shared_ptr<RedisClient> client_;
  // The joined sessions this node hosts, refreshed: stream -> sid -> member.
  std::unordered_map<std::string, std::unordered_map<std::string, PresenceMember>> live_;
  std::vector<Change> queue_;  // not sent yet (this loop turn's, or Redis is unreachable)
  bool flush_posted_ = false;
  std::size_t dropped_ = 0;  // changes dropped during this outage
  bool sweeping_ = false;
  bool stopping_ = false;
  std::optional<asio::steady_timer> sweep_timer_;
  std::optional<asio::steady_timer> refresh_timer_;
};

RedisPresence::RedisPresence(asio::io_context& io, RedisPresenceOptions options)
    : io_(io),
      shutdown_flush_(options.connection.shutdown_flush),
      impl_(std::make_shared<Impl>(io, std::move(options))) {}

RedisPresence::~RedisPresence() { stop(); }

void RedisPresence::start(PresenceEventFn on_event) {
  CABLE_ASSERT(!started_);
  started_ = true;
  asio::post(io_, [impl = impl_, on_event = std::move(on_event)]() mutable {
    impl->open(std::move(on_event));
  });
}

void RedisPresence::join(const std::string& stream, const std::string& sid, PresenceMember member) {
  asio::post(io_, [weak = std::weak_ptr(impl_), stream, sid, member = std::move(member)]() mutable {
    if (auto impl = weak.lock()) impl->join(stream, sid, std::move(member));
  });
}

void RedisPresence::leave(const std::string& stream, const std::string& sid) {
  asio::post(io_, [weak = std::weak_ptr(impl_), stream, sid] {
    if (auto impl = weak.lock()) impl->leave(stream, sid, 'l');
  });
}

void RedisPresence::expire(const std::string& stream, const std::string& sid) {
  asio::post(io_, [weak = std::weak_ptr(impl_), stream, sid] {
    if (auto impl = weak.lock()) impl->leave(stream, sid, 'e');
  });
}

void RedisPresence::members(const std::string& stream, asio::any_io_executor ex,
                            PresenceInfoFn done) {
  asio::post(io_, [weak = std::weak_ptr(impl_), stream, ex, done = std::move(done)]() mutable {
    if (auto impl = weak.lock()) {
      impl->members(stream, ex, std::move(done));
    } else {
      asio::post(ex, [done = std::move(done)] { done(make_error_code(RedisError::stopped)); });
    }
  });
}

void RedisPresence::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  pubsub::redis::close_on_loop(io_, shutdown_flush_, "redis presence",
                               [impl = impl_](auto done) { impl->close(std::move(done)); });
}

}  // namespace cablecast::broker
