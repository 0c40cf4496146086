#include "app/blank.hpp"

#include <gtest/gtest.h>

namespace cablecast::app {
namespace {

TEST(Blank, AnEmptyTextIsBlank) { EXPECT_TRUE(blank("")); }

TEST(Blank, AsciiWhitespaceOnlyIsBlank) {
  EXPECT_TRUE(blank(" "));
  EXPECT_TRUE(blank(" \t\n\v\f\r "));
}

TEST(Blank, EveryUnicodeWhitespaceRubyMatchesIsBlank) {
  // The characters Ruby 3.1 matches with /[[:space:]]/ beyond ASCII, one at a time and together.
  const char* spaces[] = {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003",
                          "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a",
                          "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"};
  std::string all;
  for (const char* space : spaces) {
    EXPECT_TRUE(blank(space)) << space;
    all += space;
    all += ' ';
  }
  EXPECT_TRUE(blank(all));
}

TEST(Blank, TextWithAnyOtherCharacterIsNotBlank) {
  EXPECT_FALSE(blank("lobby"));
  EXPECT_FALSE(blank("  a  "));
  EXPECT_FALSE(blank("\u00a0.\u00a0"));
  EXPECT_FALSE(blank("0"));
}

TEST(Blank, ZeroWidthSpacesAreNotWhitespaceAsInRuby) {
  EXPECT_FALSE(blank("\u200b"));  // zero width space
  EXPECT_FALSE(blank("\ufeff"));  // zero width no-break space (BOM)
  EXPECT_FALSE(blank("\u180e"));  // Mongolian vowel separator: no longer White_Space
}

TEST(Blank, ABrokenOrPartialSequenceIsNotBlank) {
  EXPECT_FALSE(blank("\xc2"));           // the first byte of U+00A0 alone
  EXPECT_FALSE(blank("\xe2\x80"));       // two of U+2000's three bytes
  EXPECT_FALSE(blank(" \xe3\x80\x81"));  // U+3001, an ideographic comma, after a space
}

}  // namespace
}  // namespace cablecast::app
