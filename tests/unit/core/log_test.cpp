#include "core/log.hpp"

#include <gtest/gtest.h>

namespace cablecast {
namespace {

TEST(LogClip, KeepsPrintableTextAsIs) { EXPECT_EQ(log::clip("hello {é}"), "hello {é}"); }

TEST(LogClip, EscapesControlCharactersSoClientTextCannotForgeALine) {
  EXPECT_EQ(log::clip("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(log::clip(std::string_view("x\0y\x1b\x7f", 5)), "x\\x00y\\x1b\\x7f");
}

TEST(LogClip, CutsLongTextAndSaysSo) {
  EXPECT_EQ(log::clip(std::string(1000, 'a'), 10), "aaaaaaaaaa...");
  EXPECT_EQ(log::clip("short", 10), "short");
}

}  // namespace
}  // namespace cablecast
