// MemoryHistory over the FakeAdapter (which delivers each publish at once, as the memory adapter
// does), with a clock the test turns by hand.
#include "broker/memory_history.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>

#include "broadcast/envelope.hpp"
#include "fake_adapter.hpp"

namespace cablecast::broker {
namespace {

using boost::system::result;

struct MemoryHistoryTest : ::testing::Test {
  explicit MemoryHistoryTest(HistoryOptions options = {3, std::chrono::seconds(60)})
      : history(options, adapter, [this] { return now; }) {}

  // What the hub does with every received payload: unwrap the meta, then ask for a position.
  std::optional<Position> receive(std::string_view stream, std::string_view payload) {
    if (!broadcast::is_wrapped(payload)) return history.on_receive(stream, payload, nullptr);
    auto unwrapped = broadcast::unwrap(payload);
    EXPECT_TRUE(unwrapped);
    return history.on_receive(stream, unwrapped->message, &unwrapped->meta);
  }
  std::optional<Position> broadcast(std::string_view stream, std::string_view message,
                                    broadcast::Meta meta = {}) {
    EXPECT_TRUE(history.publish(stream, message, meta));
    const auto& [published_stream, payload] = adapter.published.back();
    EXPECT_EQ(published_stream, stream);
    return receive(published_stream, payload);
  }

  result<Slice> from(const std::string& stream, Position after) {
    std::optional<result<Slice>> got;
    history.history_from(stream, std::move(after), io.get_executor(),
                         [&](result<Slice> r) { got = std::move(r); });
    EXPECT_FALSE(got) << "answered on the caller's executor, not inline";
    io.restart();
    io.run();
    return got.value();
  }
  result<Slice> since(const std::string& stream, std::int64_t when) {
    std::optional<result<Slice>> got;
    history.history_since(stream, when, io.get_executor(),
                          [&](result<Slice> r) { got = std::move(r); });
    io.restart();
    io.run();
    return got.value();
  }
  static std::vector<std::uint64_t> offsets(const Slice& slice) {
    std::vector<std::uint64_t> out;
    for (const auto& entry : slice.entries) out.push_back(entry.offset);
    return out;
  }

  std::int64_t now = 1'700'000'000;
  boost::asio::io_context io;
  testing::FakeAdapter adapter;
  MemoryHistory history;
};

struct MemoryHistoryOffTest : MemoryHistoryTest {
  MemoryHistoryOffTest() : MemoryHistoryTest({0, std::chrono::seconds(60)}) {}
};

TEST_F(MemoryHistoryTest, PublishHandsThePublicationToTheAdapterWithItsMeta) {
  broadcast::Meta meta;
  meta.exclude_socket = "sid-1";
  ASSERT_TRUE(history.publish("chat", R"({"a":1})", meta));
  ASSERT_EQ(adapter.published.size(), 1u);
  EXPECT_EQ(adapter.published[0].second, broadcast::wrap(meta, R"({"a":1})"));
  ASSERT_TRUE(history.publish("chat", "2", {}));
  EXPECT_EQ(adapter.published[1].second, "2") << "no meta: Rails' plain payload";
}

TEST_F(MemoryHistoryTest, NumbersEachStreamFromOneInTheOrderItIsReceived) {
  auto a1 = broadcast("a", "1");
  auto a2 = broadcast("a", "2");
  auto b1 = broadcast("b", "1");
  auto a3 = broadcast("a", "3");
  ASSERT_TRUE(a1 && a2 && b1 && a3);
  EXPECT_EQ(a1->offset, 1u);
  EXPECT_EQ(a2->offset, 2u);
  EXPECT_EQ(a3->offset, 3u);
  EXPECT_EQ(b1->offset, 1u);
  EXPECT_EQ(a1->epoch, a3->epoch);
  EXPECT_NE(a1->epoch, b1->epoch) << "each stream's record has an epoch of its own";
  EXPECT_EQ(a1->epoch.size(), 8u);
}

TEST_F(MemoryHistoryTest, TransientMessagesAreDeliveredButNeitherNumberedNorKept) {
  broadcast("s", "1");
  broadcast::Meta whisper;
  whisper.transient = true;
  whisper.exclude_socket = "sid";
  EXPECT_EQ(broadcast("s", "typing", whisper), std::nullopt);
  EXPECT_EQ(broadcast("s", "2")->offset, 2u);
  auto slice = from("s", {broadcast("s", "3")->epoch, 0});
  ASSERT_TRUE(slice);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(slice->entries[1].message, "2");
}

TEST_F(MemoryHistoryOffTest, LimitZeroTurnsHistoryOff) {
  EXPECT_EQ(broadcast("s", "1"), std::nullopt);
  EXPECT_EQ(history.stream_count(), 0u);
  EXPECT_EQ(from("s", {"any", 0}).error(), make_error_code(HistoryError::unknown_stream));
  EXPECT_EQ(since("s", 0).error(), make_error_code(HistoryError::unknown_stream));
}

TEST_F(MemoryHistoryTest, HistoryFromReturnsWhatCameAfterThePosition) {
  auto first = broadcast("s", "1");
  broadcast("s", "2");
  broadcast("s", "3");
  auto slice = from("s", {first->epoch, 1});
  ASSERT_TRUE(slice);
  EXPECT_EQ(slice->epoch, first->epoch);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(slice->entries[0].message, "2");
  EXPECT_EQ(slice->entries[0].timestamp, now);
}

TEST_F(MemoryHistoryTest, AClientThatSawEverythingGetsAnEmptySlice) {
  auto last = broadcast("s", "1");
  auto slice = from("s", *last);
  ASSERT_TRUE(slice);
  EXPECT_TRUE(slice->entries.empty());
}

TEST_F(MemoryHistoryTest, AnUnknownStreamIsAnError) {
  EXPECT_EQ(from("never", {"x", 0}).error(), make_error_code(HistoryError::unknown_stream));
  EXPECT_EQ(since("never", 0).error(), make_error_code(HistoryError::unknown_stream));
}

TEST_F(MemoryHistoryTest, APositionOfAnotherEpochIsAnError) {
  auto position = broadcast("s", "1");
  position->epoch += "x";
  EXPECT_EQ(from("s", *position).error(), make_error_code(HistoryError::epoch_mismatch));
}

TEST_F(MemoryHistoryTest, TheLimitEvictsTheOldestAndAnEvictedPositionIsAnError) {
  auto first = broadcast("s", "1");
  for (int i = 2; i <= 5; ++i) broadcast("s", std::to_string(i));  // limit 3: keeps 3, 4, 5
  const std::string epoch = first->epoch;
  EXPECT_EQ(from("s", {epoch, 1}).error(), make_error_code(HistoryError::offset_evicted))
      << "2 was dropped: the client would miss it";
  auto slice = from("s", {epoch, 2});
  ASSERT_TRUE(slice) << "3 is the first one it missed, and it is kept";
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{3, 4, 5}));
  auto all = since("s", 0);
  ASSERT_TRUE(all);
  EXPECT_EQ(offsets(*all), (std::vector<std::uint64_t>{3, 4, 5}));
}

TEST_F(MemoryHistoryTest, EntriesOlderThanTheTtlAreEvicted) {
  auto first = broadcast("s", "1");
  now += 30;
  broadcast("s", "2");
  now += 30;  // "1" is 60 s old: gone; "2" is 30 s old: kept
  EXPECT_EQ(from("s", {first->epoch, 0}).error(), make_error_code(HistoryError::offset_evicted));
  auto slice = from("s", {first->epoch, 1});
  ASSERT_TRUE(slice);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{2}));
}

TEST_F(MemoryHistoryTest, HistorySinceReturnsWhatWasStoredAtOrAfterTheTime) {
  broadcast("s", "1");
  now += 10;
  const std::int64_t second_at = now;
  broadcast("s", "2");
  now += 10;
  broadcast("s", "3");
  auto slice = since("s", second_at);
  ASSERT_TRUE(slice);
  EXPECT_EQ(offsets(*slice), (std::vector<std::uint64_t>{2, 3}));
  auto none = since("s", now + 1);
  ASSERT_TRUE(none) << "a known stream with nothing that recent is an empty slice";
  EXPECT_TRUE(none->entries.empty());
}

TEST_F(MemoryHistoryTest, AnExpiredStreamIsForgottenAndComesBackWithANewEpoch) {
  auto old = broadcast("s", "1");
  now += 60;
  EXPECT_EQ(from("s", *old).error(), make_error_code(HistoryError::unknown_stream));
  EXPECT_EQ(history.stream_count(), 0u);
  auto fresh = broadcast("s", "2");
  EXPECT_EQ(fresh->offset, 1u) << "offsets restart";
  EXPECT_NE(fresh->epoch, old->epoch) << "so old positions cannot match them";
  EXPECT_EQ(from("s", *old).error(), make_error_code(HistoryError::epoch_mismatch));
}

TEST_F(MemoryHistoryTest, IdleStreamsAreFreedByLaterBroadcastsToOtherStreams) {
  for (int i = 0; i < 100; ++i) broadcast("idle-" + std::to_string(i), "x");
  EXPECT_EQ(history.stream_count(), 100u);
  now += 30;
  broadcast("busy", "1");
  EXPECT_EQ(history.stream_count(), 101u) << "not expired yet";
  now += 30;
  broadcast("busy", "2");
  EXPECT_EQ(history.stream_count(), 1u) << "only the stream written within the ttl is left";
}

TEST_F(MemoryHistoryTest, AWrittenStreamMovesBehindIdleOnesInTheSweepOrder) {
  broadcast("a", "1");
  broadcast("b", "1");
  now += 30;
  broadcast("a", "2");  // a is now the most recently written
  now += 30;            // b's only entry expired; a's newest did not
  broadcast("c", "1");
  EXPECT_EQ(history.stream_count(), 2u);
  EXPECT_EQ(since("b", 0).error(), make_error_code(HistoryError::unknown_stream));
  EXPECT_TRUE(since("a", 0));
}

}  // namespace
}  // namespace cablecast::broker
