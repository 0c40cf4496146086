// escape_as_rails: Boost.JSON's output made byte-identical to ActiveSupport::JSON's for the
// characters where they differ (tests/conformance compares the two servers end to end).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "protocol/encode.hpp"

namespace {

using cablecast::protocol::escape_as_rails;

TEST(EscapeAsRails, EscapesHtmlCharactersAsActiveSupportDoes) {
  EXPECT_EQ(escape_as_rails(R"({"html":"<b>&amp;</b>"})"),
            R"({"html":"\u003cb\u003e\u0026amp;\u003c/b\u003e"})");
}

TEST(EscapeAsRails, EscapesTheJavaScriptLineTerminatorsOnly) {
  // U+2028 and U+2029 are escaped; other characters starting with 0xE2 (✓, €) stay raw UTF-8.
  EXPECT_EQ(escape_as_rails("[\"a\xE2\x80\xA8"
                            "b\xE2\x80\xA9"
                            "c\xE2\x9C\x93\xE2\x82\xAC\"]"),
            "[\"a\\u2028b\\u2029c\xE2\x9C\x93\xE2\x82\xAC\"]");
}

TEST(EscapeAsRails, LeavesTextWithoutThoseCharactersAsItWas) {
  const std::string plain = R"({"n":1,"s":"é \"quoted\" \\ /","a":[true,null]})";
  EXPECT_EQ(escape_as_rails(plain), plain);
}

TEST(EscapeAsRails, TheResultStillParsesToTheSameValue) {
  const auto value = boost::json::parse(R"({"x":"<&>","y":"a\u2028b"})");
  const std::string escaped = escape_as_rails(boost::json::serialize(value));
  EXPECT_EQ(boost::json::parse(escaped), value);
  EXPECT_EQ(escaped, R"({"x":"\u003c\u0026\u003e","y":"a\u2028b"})");
}

}  // namespace
