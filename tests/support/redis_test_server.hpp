#pragma once
// The test's side of a real redis-server: scripts/with-services.sh starts one and exports
// CABLECAST_TEST_REDIS_URL (unset: the Redis cases fail, they never skip). RawRedis is a plain
// blocking hiredis connection; names from unique() keep cases that share the server apart.
// PrivateRedis is a redis-server of a test's own, for cases that flush or stop the whole server.
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pubsub/redis/redis_url.hpp"
#include "run_program.hpp"

namespace cablecast::testing {

inline std::string redis_test_url() {
  const char* url = std::getenv("CABLECAST_TEST_REDIS_URL");
  return url ? url : "";
}

inline std::string unique(std::string_view base) {
  static std::mt19937_64 random{std::random_device{}()};
  return std::string(base) + std::to_string(random() % 1000000000);
}

// Polls `predicate` until it holds or `timeout` passes; returns its last value.
template <typename Predicate>
bool eventually(Predicate predicate,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return predicate();
}

class RawRedis {
 public:
  explicit RawRedis(const pubsub::redis::RedisEndpoint& e) {
    timeval timeout{2, 0};
    context_ = redisConnectWithTimeout(e.host.c_str(), e.port, timeout);
    if (context_ && !context_->err) redisSetTimeout(context_, timeout);
    if (ok() && e.db != 0) command({"SELECT", std::to_string(e.db)});
  }
  ~RawRedis() {
    if (context_) redisFree(context_);
  }
  RawRedis(const RawRedis&) = delete;
  RawRedis& operator=(const RawRedis&) = delete;
  bool ok() const { return context_ && !context_->err; }

  // Runs a command given as separate arguments; returns the reply as text (integers in
  // decimal, arrays joined by '\n'), or "ERR:" + text.
  std::string command(std::initializer_list<std::string> args) {
    return command(std::vector<std::string>(args));
  }
  std::string command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    void* raw =
        redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data());
    return take(raw);
  }
  // The next pushed message (subscribed mode), "" on timeout.
  std::string next_push() {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) return "";
    return take(raw);
  }
  // Kills the connections named `client_name` (CLIENT SETNAME), as a broker restart would;
  // returns how many.
  int kill_clients(const std::string& client_name) {
    std::istringstream list(command({"CLIENT", "LIST"}));
    int killed = 0;
    for (std::string line; std::getline(list, line);) {
      if (line.find(" name=" + client_name + " ") == std::string::npos) continue;
      auto id = line.substr(3, line.find(' ') - 3);
      if (command({"CLIENT", "KILL", "ID", id}) == "1") ++killed;
    }
    return killed;
  }

 private:
  static std::string text(const redisReply* r) {
    switch (r->type) {
      case REDIS_REPLY_INTEGER:
        return std::to_string(r->integer);
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (std::size_t i = 0; i < r->elements; ++i) {
          if (i) out += '\n';
          out += text(r->element[i]);
        }
        return out;
      }
      case REDIS_REPLY_ERROR:
        return "ERR:" + std::string(r->str, r->len);
      case REDIS_REPLY_NIL:
        return "(nil)";
      default:
        return std::string(r->str, r->len);
    }
  }
  static std::string take(void* raw) {
    if (!raw) return "";
    auto* reply = static_cast<redisReply*>(raw);
    std::string out = text(reply);
    freeReplyObject(reply);
    return out;
  }
  redisContext* context_ = nullptr;
};

#ifdef CABLECAST_SOURCE_DIR
// A redis-server of the test's own (scripts/services.sh, in a temporary directory, on a free
// loopback port), for cases that must not disturb others sharing the test server: FLUSHALL,
// SCRIPT FLUSH, stopping Redis. stop() and start() keep the port, as a restart would.
class PrivateRedis {
 public:
  PrivateRedis() {
    char dir[] = "/tmp/cablecast-test-redis.XXXXXX";
    if (!mkdtemp(dir)) return;
    dir_ = dir;
    if (!services("services_start_redis")) return;
    std::ifstream(dir_ + "/redis.port") >> port_;
  }
  ~PrivateRedis() {
    stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  bool ok() const { return port_ != 0; }
  pubsub::redis::RedisEndpoint endpoint() const {
    pubsub::redis::RedisEndpoint e;
    e.host = "127.0.0.1";
    e.port = port_;
    return e;
  }
  bool stop() { return port_ != 0 && services("services_stop_redis"); }
  bool start() {
    return port_ != 0 &&
           services("export REDIS_PORT=" + std::to_string(port_) + "; services_start_redis");
  }

 private:
  bool services(const std::string& call) {
    auto done =
        run_program({"bash", "-c", "source \"$0/scripts/services.sh\" && " + call + " \"$1\"",
                     CABLECAST_SOURCE_DIR, dir_});
    return done && done->exit_status == 0;
  }
  std::string dir_;
  std::uint16_t port_ = 0;
};
#endif

}  // namespace cablecast::testing
