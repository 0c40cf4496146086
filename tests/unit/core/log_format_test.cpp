#include "core/log_format.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <vector>

namespace cablecast {
namespace {

using log::Field;
using log::Format;
using log::LineRecord;

// 2026-12-06T16:28:43.123Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796574523123));

LineRecord record(std::string_view message, std::span<const Field> fields = {},
                  log::ConnectionId connection = {}) {
  return LineRecord{kTime, spdlog::level::info, message, connection, fields};
}

boost::json::object parse_line(const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line only: " << line;
  return boost::json::parse(line).as_object();
}

TEST(LogTime, IsRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(log::rfc3339(kTime), "2026-12-06T16:28:43.123Z");
}

TEST(LogJsonLine, HasTimeLevelMessageAndTheEventsFieldsAsKeys) {
  const std::vector<Field> fields{
      {"bytes_in", std::uint64_t{42}}, {"delta", -3}, {"path", "/cable"}, {"tls", false}};
  auto json = parse_line(log::render_line(Format::json, record("connection closed", fields)));
  EXPECT_EQ(json.at("time"), "2026-12-06T16:28:43.123Z");
  EXPECT_EQ(json.at("level"), "info");
  EXPECT_EQ(json.at("message"), "connection closed");
  EXPECT_EQ(json.at("bytes_in"), 42);
  EXPECT_EQ(json.at("delta"), -3);
  EXPECT_EQ(json.at("path"), "/cable");
  EXPECT_EQ(json.at("tls"), false);
  EXPECT_FALSE(json.contains("conn"));
}

TEST(LogJsonLine, CarriesTheConnectionIdWhenTheLineIsAboutOne) {
  auto json = parse_line(log::render_line(Format::json, record("hello", {}, {2, 17})));
  EXPECT_EQ(json.at("conn"), "2-17");
}

TEST(LogJsonLine, KeepsControlCharactersQuotesAndBackslashesInsideOneValidLine) {
  const std::string nasty = "a\nb\r\"c\"\\d\te\x01\x1b[31m";
  const std::vector<Field> fields{{"reason", nasty}};
  auto json = parse_line(log::render_line(Format::json, record(nasty, fields)));
  EXPECT_EQ(json.at("message").as_string(), nasty);
  EXPECT_EQ(json.at("reason").as_string(), nasty);
}

TEST(LogJsonLine, KeepsUnicodeAsIs) {
  auto json = parse_line(log::render_line(Format::json, record("héllo 😀 世界")));
  EXPECT_EQ(json.at("message"), "héllo 😀 世界");
}

TEST(LogJsonLine, StaysValidJsonWhenTextIsNotUtf8) {
  // A client's text clipped in the middle of a character, or raw bytes.
  const std::string cut = std::string("caf\xc3", 4) + "\xff\xfe";
  auto line = log::render_line(Format::json, record(cut));
  auto json = parse_line(line);
  EXPECT_EQ(json.at("message"), "caf\\xc3\\xff\\xfe");
}

TEST(LogTextLine, ShowsTheConnectionAndFieldsAsKeyValue) {
  const std::vector<Field> fields{{"code", 1000}, {"reason", "client closed"}, {"path", "/cable"}};
  EXPECT_EQ(log::render_line(Format::text, record("connection closed", fields, {0, 3})),
            "2026-12-06T16:28:43.123Z info  [conn=0-3] connection closed code=1000 "
            "reason=\"client closed\" path=/cable\n");
}

TEST(LogTextLine, EscapesControlCharactersAndQuotesSoALineCannotBeForged) {
  const std::vector<Field> fields{{"reason", "x\"\ny"}};
  EXPECT_EQ(log::render_line(Format::text, record("bad\nline", fields)),
            "2026-12-06T16:28:43.123Z info  bad\\nline reason=\"x\\\"\\ny\"\n");
}

TEST(LogFormat, AcceptsTextAndJsonOnly) {
  EXPECT_TRUE(log::set_format("json"));
  EXPECT_TRUE(log::set_format("text"));
  EXPECT_FALSE(log::set_format("yaml"));
}

TEST(LogConnectionScope, NamesTheConnectionForItsLifetimeAndNests) {
  EXPECT_FALSE(log::current_connection());
  {
    log::ConnectionScope outer({1, 5});
    EXPECT_EQ(log::current_connection().to_string(), "1-5");
    {
      log::ConnectionScope inner({0, 9});
      EXPECT_EQ(log::current_connection().to_string(), "0-9");
    }
    EXPECT_EQ(log::current_connection().to_string(), "1-5");
  }
  EXPECT_FALSE(log::current_connection());
}

}  // namespace
}  // namespace cablecast
