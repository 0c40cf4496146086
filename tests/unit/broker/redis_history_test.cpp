// RedisHistory against a real redis-server: scripts/with-services.sh starts one and exports
// CABLECAST_TEST_REDIS_URL. Without it these cases fail (never skip), as the Redis adapter's.
// Each case has its own key and channel prefixes, so cases may run in parallel on one server;
// the cases that flush or stop Redis start a private redis-server.
//
// A "node" here is what a server has: a broker loop running the Redis adapter (the subscriber
// side, as the hub uses it) and a RedisHistory.
#include "broker/redis_history.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "broadcast/envelope.hpp"
#include "loop_thread.hpp"
#include "pubsub/redis/redis_adapter.hpp"
#include "pubsub/redis/redis_error.hpp"
#include "redis_test_case.hpp"
#include "redis_test_server.hpp"

namespace cablecast::broker {
namespace {

using namespace std::chrono_literals;
using boost::system::error_code;
using boost::system::result;
using pubsub::redis::RedisEndpoint;
using pubsub::redis::RedisError;
using testing::eventually;
using testing::RawRedis;
using testing::unique;

struct Names {
  std::string channel_prefix = unique("hist");
  std::string key_prefix = unique("test-") + ":";
};

struct Node : cablecast::testing::LoopThread {
  pubsub::redis::RedisAdapter adapter;
  RedisHistory history;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> received;  // payloads of every stream, in delivery order

  Node(const RedisEndpoint& endpoint, const Names& names, HistoryOptions options)
      : adapter(adapter_options(endpoint, names)),
        history(io, endpoint, names.channel_prefix, options, names.key_prefix, quick()) {}
  ~Node() {
    history.stop();
    adapter.stop();
    join();
  }
  static pubsub::redis::RedisAdapterOptions adapter_options(const RedisEndpoint& endpoint,
                                                            const Names& names) {
    pubsub::redis::RedisAdapterOptions o;
    o.endpoint = endpoint;
    o.channel_prefix = names.channel_prefix;
    o.client_name = "history-test-subscriber";
    return o;
  }
  static pubsub::redis::RedisConnectionTuning quick() {
    pubsub::redis::RedisConnectionTuning t;
    t.first_retry = 50ms;
    t.max_retry = 200ms;
    return t;
  }

  bool start() {
    auto started = adapter.start(
        [this](std::string_view, pubsub::Payload payload) {
          std::lock_guard lock(mutex);
          received.push_back(*payload);
          changed.notify_all();
        },
        io);
    return started && history.start();
  }
  bool subscribe(const std::string& stream) {
    std::promise<error_code> ready;
    adapter.subscribe(stream, [&](error_code ec) { ready.set_value(ec); });
    auto future = ready.get_future();
    return future.wait_for(5s) == std::future_status::ready && !future.get();
  }
  bool wait_received(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return received.size() >= count; });
  }
  // What the hub does with a payload: unwrap it and ask the history for its position.
  std::optional<Position> position_of(const std::string& payload) {
    auto unwrapped = broadcast::unwrap(payload);
    EXPECT_TRUE(unwrapped) << payload;
    if (!unwrapped) return std::nullopt;
    return history.on_receive("s", unwrapped->message, &unwrapped->meta);
  }
  bool published(std::uint64_t count) {
    return eventually([&] { return history.counters().published >= count; });
  }

  result<Slice> from(const std::string& stream, Position after) {
    std::promise<result<Slice>> answer;
    history.history_from(stream, std::move(after), io.get_executor(),
                         [&](result<Slice> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }
  result<Slice> since(const std::string& stream, std::int64_t when) {
    std::promise<result<Slice>> answer;
    history.history_since(stream, when, io.get_executor(),
                          [&](result<Slice> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }
};

std::vector<std::uint64_t> offsets(const Slice& slice) {
  std::vector<std::uint64_t> out;
  for (const auto& entry : slice.entries) out.push_back(entry.offset);
  return out;
}

struct RedisHistoryTest : cablecast::testing::RedisTestCase {
  std::string channel(const std::string& stream) const {
    return names.channel_prefix + ":" + stream;
  }
  std::string meta_key(const std::string& stream) const {
    return names.key_prefix + "history:meta:" + stream;
  }
  std::string log_key(const std::string& stream) const {
    return names.key_prefix + "history:log:" + stream;
  }

  Names names;
  HistoryOptions options{3, std::chrono::seconds(60)};
};

TEST_F(RedisHistoryTest, PublishesTheEnvelopeBroadcastWrapWouldMakeWithThePosition) {
  RawRedis listener(endpoint);
  ASSERT_EQ(listener.command({"SUBSCRIBE", channel("s")}), "subscribe\n" + channel("s") + "\n1");
  Node node(endpoint, names, options);
  ASSERT_TRUE(node.start());
  broadcast::Meta meta;
  meta.exclude_socket = "sid \"1\"";
  meta.broadcast_type = "presence";
  const std::string message = R"({"text":"h\u00e9llo","n":[1,2]})";
  ASSERT_TRUE(node.history.publish("s", message, meta));

  std::string push = listener.next_push();
  const std::string prefix = "message\n" + channel("s") + "\n";
  ASSERT_TRUE(push.starts_with(prefix)) << push;
  const std::string payload = push.substr(prefix.size());
  auto unwrapped = broadcast::unwrap(payload);
  ASSERT_TRUE(unwrapped) << payload;
  EXPECT_EQ(unwrapped->message, message);
  EXPECT_EQ(unwrapped->meta.offset, 1u);
  EXPECT_EQ(unwrapped->meta.epoch.size(), 8u);
  EXPECT_EQ(unwrapped->meta.exclude_socket, meta.exclude_socket);
  meta.offset = 1;
  meta.epoch = unwrapped->meta.epoch;
  EXPECT_EQ(payload, broadcast::wrap(meta, message)) << "byte for byte";

  auto position = node.history.on_receive("s", unwrapped->message, &unwrapped->meta);
  ASSERT_TRUE(position);
  EXPECT_EQ(position->epoch, meta.epoch);
  EXPECT_EQ(position->offset, 1u);
  EXPECT_EQ(node.history.on_receive("s", message, nullptr), std::nullopt)
      << "a plain payload (a Rails process publishing) has no position";

  EXPECT_EQ(raw->command({"HGET", meta_key("s"), "epoch"}), meta.epoch);
  const std::string entries = raw->command({"XRANGE", log_key("s"), "-", "+"});
  EXPECT_TRUE(entries.starts_with("1-0\ntime\n")) << entries;
  EXPECT_TRUE(entries.ends_with("\nmessage\n" + message)) << entries;
  EXPECT_GT(std::stoi(raw->command({"TTL", meta_key("s")})), 0);
  EXPECT_GT(std::stoi(raw->command({"TTL", log_key("s")})), 0);
}

TEST_F(RedisHistoryTest, TwoNodesNumberConcurrentPublishesConsecutivelyAndAgreeOnTheOrder) {
  options.limit = 1000;
  Node a(endpoint, names, options), b(endpoint, names, options);
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  ASSERT_TRUE(a.subscribe("s"));
  ASSERT_TRUE(b.subscribe("s"));
  constexpr int kEach = 300;
  auto publish_from = [](Node& node, char name) {
    for (int i = 0; i < kEach; ++i) {
      // Appended, not operator+: g++ 12 warns wrongly (-Wrestrict) about `string + string`.
      std::string message(1, name);
      message += std::to_string(i);
      ASSERT_TRUE(node.history.publish("s", message, {}));
    }
  };
  std::thread from_a(publish_from, std::ref(a), 'a');
  std::thread from_b(publish_from, std::ref(b), 'b');
  from_a.join();
  from_b.join();
  ASSERT_TRUE(a.wait_received(2 * kEach));
  ASSERT_TRUE(b.wait_received(2 * kEach));

  EXPECT_EQ(a.received, b.received) << "both nodes received the same messages in the same order";
  int next_a = 0, next_b = 0;
  std::string epoch;
  for (std::size_t i = 0; i < a.received.size(); ++i) {
    auto position = a.position_of(a.received[i]);
    ASSERT_TRUE(position);
    ASSERT_EQ(position->offset, i + 1) << "consecutive offsets in delivery order";
    if (i == 0) epoch = position->epoch;
    ASSERT_EQ(position->epoch, epoch);
    std::string_view message = broadcast::unwrap(a.received[i])->message;
    // Each publisher's messages keep the order of its calls.
    int& next = message[0] == 'a' ? next_a : next_b;
    ASSERT_EQ(message.substr(1), std::to_string(next++));
  }
  EXPECT_EQ(next_a, kEach);
  EXPECT_EQ(next_b, kEach);
}

TEST_F(RedisHistoryTest, HistoryFromReturnsWhatCameAfterThePosition) {
  Node node(endpoint, names, options);
  ASSERT_TRUE(node.start());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(node.history.publish("s", std::to_string(i), {}));
  ASSERT_TRUE(node.published(3));
  auto all = node.since("s", 0);
  ASSERT_TRUE(all);
  const std::string epoch = all->epoch;

  auto slice = node.from("s", {epoch, 1});
  ASSERT_TRUE(slice);
  EXPECT_EQ(slice->epoch, epoch);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(slice->entries[0].message, "2");
  EXPECT_GT(slice->entries[0].timestamp, 1'600'000'000) << "Redis' UNIX time";

  auto everything = node.from("s", {epoch, 0});
  ASSERT_TRUE(everything);
  EXPECT_EQ(offsets(*everything), (std::vector<std::uint64_t>{1, 2, 3}));
  auto none = node.from("s", {epoch, 3});
  ASSERT_TRUE(none) << "a client that saw everything";
  EXPECT_TRUE(none->entries.empty());
}

TEST_F(RedisHistoryTest, QueriesReportAnUnknownStreamAndAnotherEpoch) {
  Node node(endpoint, names, options);
  ASSERT_TRUE(node.start());
  EXPECT_EQ(node.from("never", {"x", 0}).error(), make_error_code(HistoryError::unknown_stream));
  EXPECT_EQ(node.since("never", 0).error(), make_error_code(HistoryError::unknown_stream));
  ASSERT_TRUE(node.history.publish("s", "1", {}));
  ASSERT_TRUE(node.published(1));
  EXPECT_EQ(node.from("s", {"other", 0}).error(), make_error_code(HistoryError::epoch_mismatch));
}

TEST_F(RedisHistoryTest, HistorySinceReturnsWhatWasStoredAtOrAfterTheTime) {
  Node node(endpoint, names, options);
  ASSERT_TRUE(node.start());
  ASSERT_TRUE(node.history.publish("s", "1", {}));
  ASSERT_TRUE(node.published(1));
  const auto stored_at = node.since("s", 0)->entries.at(0).timestamp;
  auto slice = node.since("s", stored_at);
  ASSERT_TRUE(slice);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{1}));
  auto later = node.since("s", stored_at + 1000);
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->entries.empty());
}

TEST_F(RedisHistoryTest, TheLimitTrimsTheStreamExactlyAndAnEvictedPositionIsRefused) {
  Node node(endpoint, names, options);  // limit 3
  ASSERT_TRUE(node.start());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(node.history.publish("s", std::to_string(i), {}));
  ASSERT_TRUE(node.published(5));
  EXPECT_EQ(raw->command({"XLEN", log_key("s")}), "3");
  const std::string epoch = node.since("s", 0)->epoch;
  EXPECT_EQ(node.from("s", {epoch, 1}).error(), make_error_code(HistoryError::offset_evicted));
  auto slice = node.from("s", {epoch, 2});
  ASSERT_TRUE(slice);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{3, 4, 5}));
}

TEST_F(RedisHistoryTest, EntriesOlderThanTheTtlAreHiddenAndTrimmedByTheNextPublish) {
  // Two entries as the script leaves them, the first stored two ttls ago (Redis' clock cannot be
  // turned, the stored times can).
  const std::string time = raw->command({"TIME"});  // "<seconds>\n<microseconds>"
  const std::int64_t now = std::stoll(time.substr(0, time.find('\n')));
  raw->command({"HSET", meta_key("s"), "epoch", "E", "offset", "2"});
  raw->command({"XADD", log_key("s"), "1-0", "time", std::to_string(now - 120), "message", "1"});
  raw->command({"XADD", log_key("s"), "2-0", "time", std::to_string(now), "message", "2"});
  Node node(endpoint, names, options);  // ttl 60 s
  ASSERT_TRUE(node.start());

  EXPECT_EQ(node.from("s", {"E", 0}).error(), make_error_code(HistoryError::offset_evicted));
  auto slice = node.from("s", {"E", 1});
  ASSERT_TRUE(slice);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(offsets(node.since("s", 0).value()), (std::vector<std::uint64_t>{2}));

  ASSERT_TRUE(node.history.publish("s", "3", {}));
  ASSERT_TRUE(node.published(1));
  EXPECT_EQ(raw->command({"XLEN", log_key("s")}), "2") << "the old entry is gone from Redis";
  EXPECT_EQ(offsets(node.since("s", 0).value()), (std::vector<std::uint64_t>{2, 3}));
}

TEST_F(RedisHistoryTest, TransientPublicationsAreDeliveredButNotStored) {
  RawRedis listener(endpoint);
  listener.command({"SUBSCRIBE", channel("s")});
  Node node(endpoint, names, options);
  ASSERT_TRUE(node.start());
  broadcast::Meta whisper;
  whisper.transient = true;
  whisper.exclude_socket = "sid";
  ASSERT_TRUE(node.history.publish("s", R"({"typing":true})", whisper));
  EXPECT_EQ(listener.next_push(),
            "message\n" + channel("s") + "\n" + broadcast::wrap(whisper, R"({"typing":true})"));
  ASSERT_TRUE(node.published(1));
  EXPECT_EQ(raw->command({"EXISTS", meta_key("s"), log_key("s")}), "0");
}

TEST_F(RedisHistoryTest, LimitZeroPublishesPlainPayloadsAndKeepsNothing) {
  RawRedis listener(endpoint);
  listener.command({"SUBSCRIBE", channel("s")});
  options.limit = 0;
  Node node(endpoint, names, options);
  ASSERT_TRUE(node.start());
  ASSERT_TRUE(node.history.publish("s", "1", {}));
  EXPECT_EQ(listener.next_push(), "message\n" + channel("s") + "\n1") << "Rails' own format";
  EXPECT_EQ(node.since("s", 0).error(), make_error_code(HistoryError::unknown_stream));
  EXPECT_EQ(raw->command({"EXISTS", meta_key("s")}), "0");
}

TEST_F(RedisHistoryTest, StopSendsWhatWasQueuedFirst) {
  options.limit = 1000;
  {
    Node node(endpoint, names, options);
    ASSERT_TRUE(node.start());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(node.history.publish("q", std::to_string(i), {}));
    node.history.stop();
    EXPECT_EQ(node.history.counters().published, 500u);
    EXPECT_EQ(node.history.publish("q", "late", {}).error(), make_error_code(RedisError::stopped));
  }
  EXPECT_EQ(raw->command({"XLEN", log_key("q")}), "500");
}

TEST_F(RedisHistoryTest, StartsAndKeepsTryingWhenNothingListensYet) {
  RedisEndpoint nowhere = endpoint;
  nowhere.port = 1;  // privileged and unused: connect is refused
  Node node(nowhere, names, options);
  // Not up yet is not a configuration error: start() returns and the connection keeps trying,
  // while publications fail at once (never a silent loss).
  ASSERT_TRUE(node.history.start());
  EXPECT_EQ(node.history.publish("s", "1", {}).error(), make_error_code(RedisError::not_connected));
}

// ---------------------------------------------------------------- on a private redis-server

struct PrivateRedisHistoryTest : ::testing::Test {
  void SetUp() override { ASSERT_TRUE(redis.ok()) << "could not start a redis-server"; }
  testing::PrivateRedis redis;
  Names names;
  HistoryOptions options{100, std::chrono::seconds(60)};
};

TEST_F(PrivateRedisHistoryTest, AfterFlushallANewEpochStartsAndOldPositionsDoNotMatch) {
  Node node(redis.endpoint(), names, options);
  ASSERT_TRUE(node.start());
  ASSERT_TRUE(node.history.publish("s", "1", {}));
  ASSERT_TRUE(node.history.publish("s", "2", {}));
  ASSERT_TRUE(node.published(2));
  const std::string old_epoch = node.since("s", 0)->epoch;

  RawRedis raw(redis.endpoint());
  EXPECT_EQ(raw.command({"FLUSHALL"}), "OK");
  EXPECT_EQ(node.from("s", {old_epoch, 2}).error(), make_error_code(HistoryError::unknown_stream));
  ASSERT_TRUE(node.history.publish("s", "3", {}));
  ASSERT_TRUE(node.published(3));
  auto fresh = node.since("s", 0);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->epoch, old_epoch);
  EXPECT_EQ(offsets(*fresh), (std::vector<std::uint64_t>{1})) << "offsets restart";
  EXPECT_EQ(node.from("s", {old_epoch, 2}).error(), make_error_code(HistoryError::epoch_mismatch));
}

TEST_F(PrivateRedisHistoryTest, ScriptsFlushedFromRedisAreSentAgain) {
  Node node(redis.endpoint(), names, options);
  ASSERT_TRUE(node.start());
  RawRedis raw(redis.endpoint());
  EXPECT_EQ(raw.command({"SCRIPT", "FLUSH"}), "OK");
  ASSERT_TRUE(node.history.publish("s", "1", {}));
  ASSERT_TRUE(node.published(1));
  EXPECT_EQ(node.history.counters().publish_failures, 0u);
  EXPECT_EQ(raw.command({"SCRIPT", "FLUSH"}), "OK");
  auto slice = node.since("s", 0);
  ASSERT_TRUE(slice) << slice.error().message();
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{1}));
}

TEST_F(PrivateRedisHistoryTest, WhileRedisIsDownQueriesAreUnavailableAndPublishesFail) {
  Node node(redis.endpoint(), names, options);
  ASSERT_TRUE(node.start());
  ASSERT_TRUE(node.history.publish("s", "1", {}));
  ASSERT_TRUE(node.published(1));
  const std::string old_epoch = node.since("s", 0)->epoch;

  ASSERT_TRUE(redis.stop());
  ASSERT_TRUE(eventually([&] { return !node.history.publish("s", "lost", {}); }));
  EXPECT_EQ(node.history.publish("s", "lost", {}).error(),
            make_error_code(RedisError::not_connected));
  EXPECT_EQ(node.from("s", {old_epoch, 0}).error(), make_error_code(HistoryError::unavailable));

  ASSERT_TRUE(redis.start());  // empty: the test server keeps nothing on disk
  ASSERT_TRUE(eventually([&] { return node.history.counters().reconnects == 1; }, 10s));
  ASSERT_TRUE(node.history.publish("s", "2", {}));
  ASSERT_TRUE(eventually([&] { return node.history.counters().published == 2; }));
  auto fresh = node.since("s", 0);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->epoch, old_epoch) << "what Redis lost is a new generation";
}

}  // namespace
}  // namespace cablecast::broker
