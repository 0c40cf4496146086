// CompactText: an immutable text behind one pointer.
#include "core/compact_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace cablecast::core {
namespace {

TEST(CompactTextTest, KeepsTheTextItWasGiven) {
  const std::string text = R"({"current_user":"gid://app/User/42"})";
  CompactText compact(text);
  EXPECT_EQ(compact.view(), text);
  EXPECT_NE(compact.view().data(), text.data()) << "its own copy";
  EXPECT_FALSE(compact.empty());
}

TEST(CompactTextTest, EmptyTextHoldsNoBlock) {
  EXPECT_TRUE(CompactText().empty());
  EXPECT_TRUE(CompactText("").empty());
  EXPECT_EQ(CompactText().view(), "");
}

TEST(CompactTextTest, TextWithNulBytesKeepsItsWholeSize) {
  const std::string text("a\0b", 3);
  EXPECT_EQ(CompactText(text).view(), text);
}

TEST(CompactTextTest, MovingHandsOverTheBlock) {
  CompactText a("moved");
  CompactText b = std::move(a);
  EXPECT_EQ(b.view(), "moved");
  a = CompactText("again");  // a moved-from text may be assigned
  EXPECT_EQ(a.view(), "again");
}

TEST(CompactTextTest, IsOnePointerInline) { EXPECT_EQ(sizeof(CompactText), sizeof(void*)); }

}  // namespace
}  // namespace cablecast::core
