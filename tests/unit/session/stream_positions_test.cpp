#include "session/stream_positions.hpp"

#include <gtest/gtest.h>

#include "ws/frame_encoder.hpp"

namespace cablecast::session {
namespace {

SharedFrame frame(std::string_view text) { return ws::make_text_frame(text); }

TEST(StreamPositions, SendsEachLiveMessageOnceInOrderPerStream) {
  StreamPositions positions;
  EXPECT_TRUE(positions.admit_live("a", "e1", 1, frame("1")));
  EXPECT_TRUE(positions.admit_live("a", "e1", 2, frame("2")));
  EXPECT_FALSE(positions.admit_live("a", "e1", 2, frame("2")));  // a duplicate
  EXPECT_FALSE(positions.admit_live("a", "e1", 1, frame("1")));  // an older one
  EXPECT_TRUE(positions.admit_live("b", "e9", 1, frame("b1")));  // streams are independent
}

TEST(StreamPositions, TakesANewEpochAsANewNumbering) {
  StreamPositions positions;
  EXPECT_TRUE(positions.admit_live("a", "e1", 7, frame("7")));
  EXPECT_TRUE(positions.admit_live("a", "e2", 1, frame("1 of e2")));
  EXPECT_FALSE(positions.admit_live("a", "e2", 1, frame("1 of e2")));
}

TEST(StreamPositions, HoldsLiveMessagesDuringHistoryAndSendsOnlyWhatHistoryDidNot) {
  StreamPositions positions;
  positions.hold();
  EXPECT_FALSE(positions.admit_live("a", "e1", 4, frame("4")));
  EXPECT_FALSE(positions.admit_live("a", "e1", 5, frame("5")));
  EXPECT_FALSE(positions.admit_live("a", "e1", 6, frame("6")));
  // The history covers 2..5; 4 and 5 arrived live meanwhile.
  for (std::uint64_t offset = 2; offset <= 5; ++offset) {
    EXPECT_TRUE(positions.admit_history("a", "e1", offset));
  }
  auto rest = positions.release();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(*rest[0], *frame("6"));
  EXPECT_FALSE(positions.holding());
  EXPECT_TRUE(positions.admit_live("a", "e1", 7, frame("7")));
}

TEST(StreamPositions, ReleasesOnlyWhenTheLastHoldEnds) {
  StreamPositions positions;
  positions.hold();
  positions.hold();
  EXPECT_FALSE(positions.admit_live("a", "e1", 1, frame("1")));
  EXPECT_TRUE(positions.release().empty());
  EXPECT_TRUE(positions.holding());
  EXPECT_EQ(positions.release().size(), 1u);
}

TEST(StreamPositions, StopsHoldingWhenTheHeldMessagesOverflow) {
  StreamPositions positions;
  positions.hold();
  positions.hold();
  for (std::uint64_t i = 1; i <= StreamPositions::kMaxHeld; ++i) {
    positions.admit_live("a", "e1", i, frame("x"));
  }
  EXPECT_TRUE(positions.overflowing());
  EXPECT_EQ(positions.release().size(), StreamPositions::kMaxHeld);
  EXPECT_FALSE(positions.holding());
}

}  // namespace
}  // namespace cablecast::session
