#pragma once
// A Redis connection that stays open: a RedisConnection that is opened again after every loss,
// with capped exponential backoff (first_retry, doubling up to max_retry, back to first_retry
// once up), plus commands whose reply comes back to a std::function. Shared by the pub/sub
// adapter's two connections and the broker's stores (presence, session cache), so reconnection
// is written once. Everything here runs on the loop it was given (the broker loop).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pubsub/reconnect_backoff.hpp"
#include "pubsub/redis/redis_connection.hpp"
#include "pubsub/redis/redis_url.hpp"

struct redisAsyncContext;
struct redisReply;

namespace cablecast::pubsub::redis {

struct RedisClientOptions {
  RedisEndpoint endpoint;
  std::string role;         // names the connection in logs: "publisher", "presence"
  std::string client_name;  // CLIENT SETNAME
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_retry{100};
  std::chrono::milliseconds max_retry{5000};
  // Appended to the log line of a loss: what the owner does meanwhile, e.g.
  // " (broadcasts fail until it is back)".
  std::string while_down;
};

// How an owner of a RedisClient connects, reconnects and bounds what waits for Redis; the
// defaults are the adapter's.
struct RedisConnectionTuning {
  std::string client_name;  // CLIENT SETNAME; empty: the owner's default
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_retry{100};
  std::chrono::milliseconds max_retry{5000};
  std::chrono::milliseconds shutdown_flush{2000};  // stop() waits this long for pending replies
  std::size_t max_pending_bytes = 64u << 20;       // queued commands not yet answered
};

// `tuning`, named `name` (CLIENT SETNAME) unless it names the client itself.
inline RedisConnectionTuning named_unless_set(RedisConnectionTuning tuning, std::string name) {
  if (tuning.client_name.empty()) tuning.client_name = std::move(name);
  return tuning;
}

// The options of a client named `role` tuned by `tuning`.
inline RedisClientOptions client_options(RedisEndpoint endpoint, std::string role,
                                         const RedisConnectionTuning& tuning,
                                         std::string while_down) {
  return {std::move(endpoint), std::move(role),  tuning.client_name,   tuning.connect_timeout,
          tuning.first_retry,  tuning.max_retry, std::move(while_down)};
}

// The "redis_version:x.y.z" line of INFO's text, or "" when there is none.
std::string_view redis_version_line(std::string_view info);
// Whether INFO's text says redis_version >= major.minor.
bool redis_version_at_least(std::string_view info, int major, int minor);

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  struct Events {
    // Commands may be sent. `reconnected`: it had been up before (this is not the first time).
    std::function<void(bool reconnected)> up;
    // It went down, or could not come up. Returning false stops reconnecting (the client stays
    // closed until open() again): a failure at start-up is final for the pub/sub adapter.
    std::function<bool(boost::system::error_code code, const std::string& detail)> down;
  };
  // The reply, or null when the connection went away before it came (the command may or may
  // not have run).
  using ReplyFn = std::function<void(const redisReply* reply)>;

  RedisClient(boost::asio::io_context& io, RedisClientOptions options, Events events);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Starts connecting; from now on every loss is followed by a new attempt, until close().
  void open();
  // Sends one command, each argument binary-safe. false (and `done` is not called) when not up.
  // Not for SUBSCRIBE: `done` runs once, for the first reply.
  bool command(std::span<const std::string_view> args, ReplyFn done);
  bool command(std::initializer_list<std::string_view> args, ReplyFn done) {
    return command(std::span<const std::string_view>(args.begin(), args.size()), std::move(done));
  }
  // Drops the connection at once (pending replies: null) and goes on as after a loss: `down`,
  // then a new attempt after the backoff. For a connection that answered what it should not
  // (a read that never returns, a server that refuses the owner's set-up).
  void restart(boost::system::error_code code, const std::string& detail);
  // Frees the connection at once (pending replies: null) and stops reconnecting. Idempotent.
  void close();
  // Lets pending replies arrive (bounded by `deadline`), then closes; `done` runs once closed.
  void close_gracefully(std::chrono::milliseconds deadline, std::function<void()> done);

  bool is_up() const { return connection_ && connection_->is_up(); }
  // The live context, for commands whose replies need hiredis directly (SUBSCRIBE); only while
  // is_up().
  redisAsyncContext* context() const { return connection_ ? connection_->context() : nullptr; }
  const std::string& role() const { return options_.role; }
  const RedisEndpoint& endpoint() const { return options_.endpoint; }
  // The delay before the next attempt, for the owner's log lines.
  std::chrono::milliseconds next_delay() const { return backoff_.upcoming(); }

 private:
  void on_up();
  void on_down(boost::system::error_code code, const std::string& detail);

  boost::asio::io_context& io_;
  const RedisClientOptions options_;
  Events events_;
  std::shared_ptr<RedisConnection> connection_;
  std::optional<boost::asio::steady_timer> retry_;
  ReconnectBackoff backoff_;
  bool closed_ = true;
  bool was_up_ = false;  // since open(): the next up is a reconnect
  bool lost_ = false;    // went down after having been up, not back yet
};

// The events of a client owned by `owner`, handled by its member functions `up` and `down` while
// it lives; once it is gone, nothing, and the client stops reconnecting.
template <typename Owner>
RedisClient::Events events_for(std::weak_ptr<Owner> owner, void (Owner::*up)(bool),
                               bool (Owner::*down)(boost::system::error_code, const std::string&)) {
  return {[owner, up](bool reconnected) {
            if (auto self = owner.lock()) ((*self).*up)(reconnected);
          },
          [owner, down](boost::system::error_code code, const std::string& detail) {
            auto self = owner.lock();
            return self && ((*self).*down)(code, detail);
          }};
}

}  // namespace cablecast::pubsub::redis
