#include "ws/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cablecast::ws {
namespace {

using namespace std::string_literals;

TEST(Utf8, AcceptsEmptyText) { EXPECT_TRUE(is_valid_utf8("")); }

TEST(Utf8, AcceptsAsciiIncludingNul) { EXPECT_TRUE(is_valid_utf8("hello\0world"s)); }

TEST(Utf8, AcceptsTwoThreeAndFourByteCharacters) {
  EXPECT_TRUE(is_valid_utf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(is_valid_utf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));      // U+E000, just above them
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  EXPECT_TRUE(is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));  // "kosme"
}

TEST(Utf8, RejectsOverlongEncodings) {
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));
}

TEST(Utf8, RejectsSurrogates) {
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80\xED\xB0\x80"));  // an encoded surrogate pair
}

TEST(Utf8, RejectsCodePointsAboveU10FFFF) {
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xF7\xBF\xBF\xBF"));
}

TEST(Utf8, RejectsBytesThatNeverAppearInUtf8) {
  for (int b = 0xF5; b <= 0xFF; ++b) {
    EXPECT_FALSE(is_valid_utf8(std::string(1, static_cast<char>(b)))) << b;
  }
}

TEST(Utf8, RejectsTruncatedSequences) {
  EXPECT_FALSE(is_valid_utf8("\xC2"));
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98"));
  EXPECT_FALSE(is_valid_utf8("a\xF0\x9F\x98z"));
}

TEST(Utf8, RejectsLoneContinuationBytes) {
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("ab\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xE2\x82\xAC\x80"));  // one continuation too many
}

TEST(Utf8, FindsAnInvalidByteAtAnyPositionOfALongText) {
  // Long inputs go through the vectorised path; the error must be found in every block
  // position, including the tail.
  const std::string valid = std::string(100, 'a') + "\xE2\x9C\x93" + std::string(200, 'b');
  ASSERT_TRUE(is_valid_utf8(valid));
  for (std::size_t at = 0; at < valid.size(); ++at) {
    std::string broken = valid;
    broken[at] = '\xFF';
    EXPECT_FALSE(is_valid_utf8(broken)) << at;
  }
}

}  // namespace
}  // namespace cablecast::ws
