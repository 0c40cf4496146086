#pragma once
// One hiredis async connection on the broker loop, with Rails' handshake: AUTH (when the URL has
// a password), SELECT (when the database is not 0) and CLIENT SETNAME, then `up`. Whatever ends
// it afterwards (EOF, error, timeout) is reported once as `down`, with a reason; the owner
// decides whether to open() again. Everything here runs on the broker loop's thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pubsub/redis/redis_url.hpp"

struct redisAsyncContext;

namespace cablecast::pubsub::redis {

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  struct Events {
    std::function<void()> up;  // handshake done; commands may be sent
    // The connection ended (or never came up). `code` classifies it (RedisError), `detail` is
    // the broker's or the socket's own text, for the log.
    std::function<void(boost::system::error_code code, const std::string& detail)> down;
  };

  // `role` names the connection in logs ("subscriber", "publisher").
  RedisConnection(boost::asio::io_context& io, RedisEndpoint endpoint, std::string role,
                  std::string client_name, std::chrono::milliseconds connect_timeout,
                  Events events);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts connecting; `up` or `down` follows. Only when closed (not open, not up).
  void open();

  // Frees the context at once: pending command callbacks get a null reply, `down` is not
  // reported. Idempotent.
  void close();

  // Lets pending replies arrive (e.g. PUBLISH acknowledgements), then closes; `done` runs once
  // closed, at the latest after `deadline` (then pending replies are given up). `down` is not
  // reported.
  void close_gracefully(std::chrono::milliseconds deadline, std::function<void()> done);

  bool is_up() const { return up_; }
  bool is_open() const { return context_ != nullptr; }
  // The live context, for sending commands; only while is_up().
  redisAsyncContext* context() const { return context_; }
  const std::string& role() const { return role_; }

 private:
  static void on_connect(const redisAsyncContext* context, int status);
  static void on_disconnect(const redisAsyncContext* context, int status);
  static void on_auth_reply(redisAsyncContext* context, void* reply, void* self);
  static void on_select_reply(redisAsyncContext* context, void* reply, void* self);
  static void on_setname_reply(redisAsyncContext* context, void* reply, void* self);

  void handshake_step_done();
  void fail_handshake(boost::system::error_code code, std::string detail);
  // hiredis is freeing `context`: forget it, then finish a close or report the loss.
  void context_gone(const redisAsyncContext* context, boost::system::error_code code,
                    std::string detail);
  // Reports `down` for life `generation`, posted: the owner never re-enters hiredis from inside
  // one of its callbacks, and an event of an earlier life is dropped.
  void lost(std::uint64_t generation, boost::system::error_code code, std::string detail);
  void finish_graceful_close();

  boost::asio::io_context& io_;
  RedisEndpoint endpoint_;
  std::string role_;
  std::string client_name_;
  std::chrono::milliseconds connect_timeout_;
  Events events_;

  redisAsyncContext* context_ = nullptr;
  std::uint64_t generation_ = 0;  // one per open()/close(): stale posted events are dropped
  bool up_ = false;
  bool closing_ = false;  // our own close: hiredis' callbacks must not report `down`
  int handshake_pending_ = 0;
  boost::system::error_code handshake_error_;
  std::string handshake_detail_;
  std::optional<boost::asio::steady_timer> timer_;  // connect timeout, then graceful deadline
  std::function<void()> closed_;                    // graceful close completion
};

}  // namespace cablecast::pubsub::redis
