#pragma once
// The contract every pub/sub adapter passes, as GoogleTest typed suites: adapter_contract_test.cpp
// (what pubsub::Adapter promises, for memory, Redis and PostgreSQL) and
// broker_adapter_contract_test.cpp (what a broker adapter promises on top: an unsubscribed stream
// is no longer delivered, an unreachable broker is waited for). Each adapter is described by a
// "kind" below: how to build one against the test services and what its documented limits are.
//
// The Redis and PostgreSQL kinds need scripts/with-services.sh (CABLECAST_TEST_REDIS_URL,
// CABLECAST_TEST_POSTGRES_URL); without it their cases fail, never skip, as the adapters' own
// tests do. Each case has its own channel prefix, so cases may share one server.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pubsub/adapter.hpp"
#include "pubsub/memory_adapter.hpp"
#include "pubsub/postgres/postgres_adapter.hpp"
#include "pubsub/postgres/postgres_error.hpp"
#include "pubsub/redis/redis_adapter.hpp"
#include "pubsub/redis/redis_error.hpp"
#include "pubsub/redis/redis_url.hpp"
#include "redis_test_server.hpp"

namespace cablecast::pubsub::contract {

using namespace std::chrono_literals;
using boost::system::error_code;

// A loopback port that was free a moment ago: a connect there is refused.
inline std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), length);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

struct MemoryKind {
  // No limit of its own: 1 MiB stands for a large broadcast.
  static constexpr std::size_t kMaxPayloadBytes = 1u << 20;
  // reconnect() has nothing to re-establish: health().reconnects stays 0.
  static constexpr bool kReconnects = false;
  static std::string missing() { return ""; }
  static std::unique_ptr<Adapter> make(const std::string&) {
    return std::make_unique<MemoryAdapter>();
  }
};

struct RedisKind {
  // Redis' own limit is 512 MB; 1 MiB stands for a large broadcast.
  static constexpr std::size_t kMaxPayloadBytes = 1u << 20;
  static constexpr bool kReconnects = true;
  static constexpr std::string_view kUnreachableReason = "cannot connect to Redis";
  static error_code not_connected() { return redis::RedisError::not_connected; }
  static std::string missing() {
    return "CABLECAST_TEST_REDIS_URL is not set: run under scripts/with-services.sh";
  }
  static std::unique_ptr<Adapter> make(const std::string& prefix, std::uint16_t port = 0) {
    auto parsed = redis::parse_redis_url(env("CABLECAST_TEST_REDIS_URL"));
    if (!parsed.endpoint) return nullptr;
    redis::RedisAdapterOptions options;
    options.endpoint = *parsed.endpoint;
    if (port != 0) options.endpoint.port = port;
    options.channel_prefix = prefix;
    options.client_name = "cablecast-contract-" + prefix;
    return std::make_unique<redis::RedisAdapter>(std::move(options));
  }
  static std::unique_ptr<Adapter> make_unreachable(const std::string& prefix) {
    return make(prefix, closed_port());
  }
};

struct PostgresKind {
  static constexpr std::size_t kMaxPayloadBytes = postgres::kMaxPayloadBytes;
  static constexpr bool kReconnects = true;
  static constexpr std::string_view kUnreachableReason = "Connection refused";
  static error_code not_connected() { return postgres::PostgresError::not_connected; }
  static std::string missing() {
    return "CABLECAST_TEST_POSTGRES_URL is not set: run under scripts/with-services.sh";
  }
  static std::unique_ptr<Adapter> make_with(const std::string& url, const std::string& prefix) {
    if (url.empty()) return nullptr;
    postgres::PostgresAdapterOptions settings;
    settings.conninfo = url;
    settings.channel_prefix = prefix;
    settings.connect_timeout = 3000ms;
    return std::make_unique<postgres::PostgresAdapter>(std::move(settings));
  }
  static std::unique_ptr<Adapter> make(const std::string& prefix) {
    return make_with(env("CABLECAST_TEST_POSTGRES_URL"), prefix);
  }
  static std::unique_ptr<Adapter> make_unreachable(const std::string& prefix) {
    return make_with("postgres://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/postgres",
                     prefix);
  }
};

// Names the typed cases after the adapter: AdapterContract/redis.CaseName.
struct KindName {
  template <typename Kind>
  static std::string GetName(int) {
    if (std::is_same_v<Kind, MemoryKind>) return "memory";
    if (std::is_same_v<Kind, RedisKind>) return "redis";
    return "postgres";
  }
};

// One adapter on its own broker loop. Ready callbacks and deliveries go to one log, in the order
// they happened, so a case can ask what came before what.
template <typename Kind>
class AdapterContract : public ::testing::Test {
 protected:
  struct Event {
    bool ready = false;  // a ready callback, else a delivery
    std::string stream;
    std::string payload;
  };

  ~AdapterContract() override {
    if (adapter_ && !stopped_) adapter_->stop();
    work_.reset();
    broker_.join();
  }

  void SetUp() override { ASSERT_NO_FATAL_FAILURE(start(Kind::make(prefix_))); }

  void start(std::unique_ptr<Adapter> adapter) {
    adapter_ = std::move(adapter);
    ASSERT_TRUE(adapter_) << Kind::missing();
    auto started = adapter_->start(
        [this](std::string_view stream, Payload payload) {
          record({false, std::string(stream), *payload});
        },
        io_);
    ASSERT_TRUE(started) << started.error().message();
  }

  void record(Event event) {
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(event));
    changed_.notify_all();
  }

  // The first ready callback's answer; a second call (a broken adapter) is only logged, for the
  // case to count, instead of throwing from the broker's thread.
  struct FirstAnswer {
    std::promise<error_code> promise;
    std::atomic<bool> given{false};
    void set(error_code ec) {
      if (!given.exchange(true)) promise.set_value(ec);
    }
  };

  // Subscribes and waits for the ready callback; every call of it is logged.
  error_code subscribe(const std::string& stream) {
    auto answer = std::make_shared<FirstAnswer>();
    auto future = answer->promise.get_future();
    adapter_->subscribe(stream, [this, stream, answer](error_code ec) {
      record({true, stream, ec.message()});
      answer->set(ec);
    });
    if (future.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "no ready callback for " << stream;
      return make_error_code(boost::system::errc::timed_out);
    }
    return future.get();
  }

  static constexpr int kNotReady = -2;
  struct PublishingRun {
    int sent_at_ready = -1;  // the last number published when the ready callback ran
    int last_sent = -1;
  };
  // Subscribes to `stream` while another thread publishes "0", "1", ... on it, a little apart,
  // until 20 more went out after the ready callback.
  PublishingRun subscribe_while_publishing(const std::string& stream) {
    struct Shared {  // shared with a ready callback that may come late, after a failure
      std::atomic<int> last_sent{-1};
      std::atomic<int> sent_at_ready{kNotReady};
      FirstAnswer answer;
    };
    auto shared = std::make_shared<Shared>();
    std::atomic<bool> refused{false};
    std::thread publisher([&] {
      for (int i = 0; i < 3000; ++i) {
        shared->last_sent = i;  // before publishing: a number above sent_at_ready went out after
        if (!adapter_->publish(stream, std::to_string(i))) refused = true;
        const int at_ready = shared->sent_at_ready.load();
        if (at_ready != kNotReady && i >= at_ready + 20) break;
        std::this_thread::sleep_for(100us);  // pace, so the subscription starts mid-stream
      }
    });
    auto future = shared->answer.promise.get_future();
    adapter_->subscribe(stream, [this, stream, shared](error_code ec) {
      shared->sent_at_ready = shared->last_sent.load();
      record({true, stream, ec.message()});
      shared->answer.set(ec);
    });
    const bool ready = future.wait_for(5s) == std::future_status::ready;
    publisher.join();
    EXPECT_TRUE(ready) << "no ready callback for " << stream;
    if (ready) {
      EXPECT_FALSE(future.get());
    }
    EXPECT_FALSE(refused) << "a broadcast was refused";
    return {shared->sent_at_ready.load(), shared->last_sent.load()};
  }

  void publish(const std::string& stream, std::string_view payload) {
    auto published = adapter_->publish(stream, payload);
    ASSERT_TRUE(published) << stream << ": " << published.error().message();
  }

  // Waits until `payload` was delivered on `stream`.
  bool delivered(const std::string& stream, const std::string& payload,
                 std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& e : log_) {
        if (!e.ready && e.stream == stream && e.payload == payload) return true;
      }
      return false;
    });
  }

  // A later event that must arrive: a new stream is subscribed (on a broker, after whatever
  // subscribe/unsubscribe this node sent before) and a marker published on it (after whatever this
  // node published before); once the marker is here, anything published before it would be too.
  void fence() {
    std::string stream = "fence" + std::to_string(++fences_);
    ASSERT_FALSE(subscribe(stream));
    ASSERT_NO_FATAL_FAILURE(publish(stream, "fence"));
    ASSERT_TRUE(delivered(stream, "fence")) << "the fence on " << stream << " never arrived";
  }

  std::vector<std::string> payloads(const std::string& stream) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& e : log_) {
      if (!e.ready && e.stream == stream) out.push_back(e.payload);
    }
    return out;
  }

  int ready_calls(const std::string& stream) {
    std::lock_guard lock(mutex_);
    int calls = 0;
    for (const auto& e : log_) calls += e.ready && e.stream == stream ? 1 : 0;
    return calls;
  }

  std::vector<Event> log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

  void stop() {
    adapter_->stop();
    stopped_ = true;
  }

  std::string prefix_ = cablecast::testing::unique("contract");
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::thread broker_{[this] { io_.run(); }};
  std::unique_ptr<Adapter> adapter_;
  bool stopped_ = false;
  int fences_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> log_;
};

}  // namespace cablecast::pubsub::contract
