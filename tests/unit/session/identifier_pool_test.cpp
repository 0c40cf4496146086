// The loop's pool of subscription identifiers: one copy per distinct text, shared by handles,
// freed with the last one.
#include "session/identifier_pool.hpp"

#include <gtest/gtest.h>

namespace cablecast::session {
namespace {

const std::string kRoom = R"({"channel":"ChatChannel","room":"lobby"})";

TEST(IdentifierPoolTest, HandlesToTheSameTextShareOneCopy) {
  IdentifierPool pool;
  PooledIdentifier a = pool.intern(kRoom);
  PooledIdentifier b = pool.intern(std::string(kRoom));  // another buffer, same text
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(&a.str(), &b.str()) << "one copy";
  EXPECT_EQ(a.view(), kRoom);
}

TEST(IdentifierPoolTest, DistinctTextsAreKeptApart) {
  IdentifierPool pool;
  PooledIdentifier a = pool.intern(kRoom);
  PooledIdentifier b = pool.intern(R"({"channel":"ChatChannel","room":"other"})");
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(a.view(), kRoom);
  EXPECT_EQ(b.view(), R"({"channel":"ChatChannel","room":"other"})");
}

TEST(IdentifierPoolTest, TheLastHandleGoneFreesTheText) {
  IdentifierPool pool;
  {
    PooledIdentifier a = pool.intern(kRoom);
    {
      PooledIdentifier copy = a;  // NOLINT(performance-unnecessary-copy-initialization)
      PooledIdentifier moved = std::move(copy);
      EXPECT_EQ(pool.size(), 1u);
      EXPECT_EQ(moved.view(), kRoom);
    }
    EXPECT_EQ(pool.size(), 1u) << "a still holds it";
    EXPECT_EQ(a.view(), kRoom);
  }
  EXPECT_EQ(pool.size(), 0u);
  PooledIdentifier again = pool.intern(kRoom);
  EXPECT_EQ(again.view(), kRoom) << "made anew";
}

TEST(IdentifierPoolTest, AssignmentReleasesTheOldText) {
  IdentifierPool pool;
  PooledIdentifier a = pool.intern("one");
  PooledIdentifier b = pool.intern("two");
  a = b;
  EXPECT_EQ(pool.size(), 1u) << "\"one\" had no other handle";
  EXPECT_EQ(a.view(), "two");
  a = PooledIdentifier{};
  EXPECT_EQ(a.view(), "");
  EXPECT_EQ(pool.size(), 1u) << "b still holds \"two\"";
}

}  // namespace
}  // namespace cablecast::session
