// What is PostgreSQL's own in the PostgreSQL adapter (Rails' channel names, NOTIFY's limits, a
// killed backend); what every adapter does is in adapter_contract_test.cpp. Against a real
// server: scripts/with-services.sh starts one and exports CABLECAST_TEST_POSTGRES_URL. Without it
// every case here fails (never skips). Each case uses its own channel prefix, so cases may run in
// parallel on one server.
#include "pubsub/postgres/postgres_adapter.hpp"

#include <gtest/gtest.h>
#include <poll.h>
// Debian's libpq-dev layout; the header's directory is a private include of cablecast_pubsub.
#include <postgresql/libpq-fe.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "pubsub/postgres/channel_name.hpp"
#include "pubsub/postgres/postgres_error.hpp"

namespace cablecast::pubsub::postgres {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;

std::string test_url() {
  const char* url = std::getenv("CABLECAST_TEST_POSTGRES_URL");
  return url ? url : "";
}

// A plain blocking libpq session for the test's side of the wire: raw NOTIFY/LISTEN with the
// exact names Rails uses, and pg_terminate_backend to break the adapter's connections.
class RawSession {
 public:
  explicit RawSession(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~RawSession() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  // Runs `sql`; returns the first column of the first row (or "" ) and fails the test on error.
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    auto status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(r);
    std::string value = status == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return value;
  }

  // The next notification within `timeout`: {channel, payload}, or nullopt.
  std::optional<std::pair<std::string, std::string>> next_notification(
      std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      PQconsumeInput(conn_);
      if (PGnotify* n = PQnotifies(conn_)) {
        std::pair<std::string, std::string> got{n->relname, n->extra};
        PQfreemem(n);
        return got;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      pollfd p{PQsocket(conn_), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    }
  }

 private:
  PGconn* conn_;
};

struct Delivery {
  std::string stream;
  std::string payload;
};

class PostgresAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = test_url();
    ASSERT_FALSE(url_.empty()) << "CABLECAST_TEST_POSTGRES_URL is not set: run the tests under "
                                  "scripts/with-services.sh (it starts a private PostgreSQL)";
    std::random_device random;
    prefix_ = "cctest" + std::to_string(random() % 1000000000);
    broker_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (adapter_) adapter_->stop();
    work_.reset();
    if (broker_.joinable()) broker_.join();
  }

  std::unique_ptr<PostgresAdapter> make(const std::string& url) {
    PostgresAdapterOptions settings;
    settings.conninfo = url;
    settings.channel_prefix = prefix_;
    settings.connect_timeout = 3000ms;
    return std::make_unique<PostgresAdapter>(settings);
  }

  boost::system::result<void> start(const std::string& url) {
    adapter_ = make(url);
    return adapter_->start(
        [this](std::string_view stream, Payload payload) {
          std::lock_guard lock(mutex_);
          deliveries_.push_back({std::string(stream), *payload});
          changed_.notify_all();
        },
        io_);
  }

  void start_ok() {
    auto started = start(url_);
    ASSERT_TRUE(started) << started.error().message();
  }

  // Subscribes and waits for the adapter's answer.
  error_code subscribe(const std::string& stream) {
    auto answer = std::make_shared<std::promise<error_code>>();
    auto future = answer->get_future();
    adapter_->subscribe(stream, [answer](error_code ec) { answer->set_value(ec); });
    if (future.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "no ready answer for " << stream;
      return make_error_code(PostgresError::listen_failed);
    }
    return future.get();
  }

  // Waits until `count` deliveries arrived (or 5 s passed) and returns them all.
  std::vector<Delivery> wait_deliveries(std::size_t count, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return deliveries_.size() >= count; });
    return deliveries_;
  }

  template <typename Predicate>
  bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return predicate();
  }

  // Ends the adapter's connection named cablecast-<pid>-<role> from the server side.
  void terminate_backend(RawSession& raw, const std::string& role) {
    std::string name = "cablecast-" + std::to_string(::getpid()) + "-" + role;
    EXPECT_EQ(raw.exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                       "application_name = '" +
                       name + "'"),
              "1")
        << name;
  }

  std::string url_;
  std::string prefix_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      boost::asio::make_work_guard(io_)};
  std::thread broker_;
  std::unique_ptr<PostgresAdapter> adapter_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Delivery> deliveries_;
};

TEST_F(PostgresAdapterTest, StartFailsWhenTheServerRefusesTheLogin) {
  // The test cluster trusts loopback, so an unknown role is how it refuses a login.
  std::string url = url_;
  url.replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, "no_such_role_x");
  auto started = start(url);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error(), make_error_code(PostgresError::connect_failed));
}

TEST_F(PostgresAdapterTest, ChannelIsPrefixColonStreamAsRailsNamesIt) {
  start_ok();
  ASSERT_FALSE(subscribe("chat_1"));
  RawSession raw(url_);
  ASSERT_TRUE(raw.ok()) << raw.error();
  // Exactly the statement Rails' adapter sends.
  raw.exec("NOTIFY \"" + prefix_ + ":chat_1\", '{\"from\":\"rails\",\"q\":\"it''s\"}'");
  auto got = wait_deliveries(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stream, "chat_1");
  EXPECT_EQ(got[0].payload, R"({"from":"rails","q":"it's"})");
  EXPECT_EQ(adapter_->counters().received, 1u);

  // And what we publish is heard on that channel by a plain LISTEN.
  raw.exec("LISTEN \"" + prefix_ + ":room\"");
  ASSERT_TRUE(adapter_->publish("room", R"("it's \"quoted\"")"));
  auto heard = raw.next_notification(5s);
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(heard->first, prefix_ + ":room");
  EXPECT_EQ(heard->second, R"("it's \"quoted\"")");
}

TEST_F(PostgresAdapterTest, LongNamesTravelOnTheSha1OfThePrefixedName) {
  start_ok();
  std::string stream = "action_cable/" + std::string(70, 'g');
  std::string channel = channel_identifier(prefix_ + ":" + stream);
  ASSERT_EQ(channel.size(), 40u);
  ASSERT_FALSE(subscribe(stream));
  RawSession raw(url_);
  ASSERT_TRUE(raw.ok()) << raw.error();
  raw.exec("NOTIFY \"" + channel + "\", 'hashed'");
  auto got = wait_deliveries(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stream, stream);
  EXPECT_EQ(got[0].payload, "hashed");

  raw.exec("LISTEN \"" + channel + "\"");
  ASSERT_TRUE(adapter_->publish(stream, "\"back\""));
  auto heard = raw.next_notification(5s);
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(heard->first, channel);
  EXPECT_EQ(heard->second, "\"back\"");
}

TEST_F(PostgresAdapterTest, PayloadOf8000BytesIsRefusedAtOnce) {
  // 7999 bytes, the largest accepted, arrive: the adapter contract's byte-exact case.
  start_ok();
  std::string too_big(8000, 'x');
  auto refused = adapter_->publish("big", too_big);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), make_error_code(PostgresError::payload_too_large));
  EXPECT_NE(refused.error().message().find("8000 bytes"), std::string::npos);
  EXPECT_EQ(adapter_->counters().publish_failures, 1u);
}

TEST_F(PostgresAdapterTest, TextPostgresCannotHoldIsRefusedAtOnce) {
  start_ok();
  using namespace std::string_view_literals;
  EXPECT_EQ(adapter_->publish("a\0b"sv, "1").error(), make_error_code(PostgresError::nul_byte));
  EXPECT_EQ(adapter_->publish("a", "\"\0\""sv).error(), make_error_code(PostgresError::nul_byte));
}

TEST_F(PostgresAdapterTest, IdenticalBroadcastsAreNotMerged) {
  // One NOTIFY per transaction: PostgreSQL folds equal notifications of one transaction.
  start_ok();
  ASSERT_FALSE(subscribe("same"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(adapter_->publish("same", "\"again\""));
  EXPECT_EQ(wait_deliveries(3).size(), 3u);
}

TEST_F(PostgresAdapterTest, ListenerReconnectsAndListensAgainAfterItsBackendIsKilled) {
  start_ok();
  ASSERT_FALSE(subscribe("survivor"));
  RawSession raw(url_);
  ASSERT_TRUE(raw.ok()) << raw.error();
  terminate_backend(raw, "listener");
  ASSERT_TRUE(eventually([&] { return adapter_->counters().reconnects >= 1; }))
      << "the listener did not reconnect";
  // The re-LISTEN is queued right after the reconnect; a new subscription confirms after it.
  ASSERT_FALSE(subscribe("late"));
  ASSERT_TRUE(adapter_->publish("survivor", "\"after\""));
  auto got = wait_deliveries(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stream, "survivor");
  EXPECT_EQ(got[0].payload, "\"after\"");
}

TEST_F(PostgresAdapterTest, BroadcastsFailVisiblyWhileThePublisherIsDownThenWorkAgain) {
  start_ok();
  ASSERT_FALSE(subscribe("outage"));
  RawSession raw(url_);
  ASSERT_TRUE(raw.ok()) << raw.error();
  terminate_backend(raw, "publisher");
  // Until the adapter notices, a broadcast may still be queued; it is then failed and counted.
  // Either way the failure is visible: never a success that vanished.
  ASSERT_TRUE(eventually(
      [&] {
        return adapter_->counters().publish_failures >= 1 ||
               !adapter_->publish("outage", "\"lost?\"");
      },
      3s));
  ASSERT_TRUE(eventually([&] { return adapter_->counters().reconnects >= 1; }));
  ASSERT_TRUE(adapter_->publish("outage", "\"back\""));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex_);
    return !deliveries_.empty() && deliveries_.back().payload == "\"back\"";
  }));
  auto stats = adapter_->counters();
  EXPECT_GE(stats.publish_failures, 1u);
}

TEST_F(PostgresAdapterTest, StopSendsWhatIsQueuedAndLeavesTheLoopIdle) {
  start_ok();
  RawSession raw(url_);
  ASSERT_TRUE(raw.ok()) << raw.error();
  raw.exec("LISTEN \"" + prefix_ + ":flush\"");
  constexpr int kCount = 50;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(adapter_->publish("flush", std::to_string(i)));
  adapter_->stop();  // what `cablecast broadcast` does right after publishing
  for (int i = 0; i < kCount; ++i) {
    auto heard = raw.next_notification(5s);
    ASSERT_TRUE(heard.has_value()) << "missing broadcast " << i;
    EXPECT_EQ(heard->second, std::to_string(i));
  }
  EXPECT_FALSE(adapter_->publish("flush", "1")) << "a stopped adapter refuses";
  // Nothing of the adapter is left on the io_context: without the work guard, the broker
  // thread's run() runs out of work and returns (a reconnect timer or a LISTEN left behind would
  // keep it going for ever). The bound is only a hang guard, not a speed requirement.
  work_.reset();
  const bool ran_out = eventually([&] { return io_.stopped(); }, 30s);
  if (!ran_out) io_.stop();  // so that the thread ends and the suite goes on
  broker_.join();
  EXPECT_TRUE(ran_out) << "the adapter left work on the broker loop";
}

}  // namespace
}  // namespace cablecast::pubsub::postgres
