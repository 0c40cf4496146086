// Channel naming must match Rails' postgresql adapter byte for byte, or a Rails app and Cablecast
// nodes sharing one database would LISTEN and NOTIFY on different channels.
#include <gtest/gtest.h>

#include <string>

#include "pubsub/postgres/channel_name.hpp"

namespace cablecast::pubsub::postgres {
namespace {

TEST(PostgresChannelName, PrefixIsJoinedWithAColonLikeRailsChannelPrefix) {
  EXPECT_EQ(prefixed_channel("myapp_production", "chat_1"), "myapp_production:chat_1");
  EXPECT_EQ(channel_for("myapp_production", "chat_1"), "myapp_production:chat_1");
}

TEST(PostgresChannelName, EmptyPrefixMeansNoPrefixAsRubysCompactDropsNil) {
  EXPECT_EQ(prefixed_channel("", "chat_1"), "chat_1");
  EXPECT_EQ(channel_for("", "action_cable/Z2lkOi8vYXBwL1VzZXIvMQ"),
            "action_cable/Z2lkOi8vYXBwL1VzZXIvMQ");
}

TEST(PostgresChannelName, NamesOfAtMost63BytesAreKeptAsTheyAre) {
  std::string name(63, 'a');
  EXPECT_EQ(channel_identifier(name), name);
  EXPECT_EQ(channel_identifier(""), "");
}

TEST(PostgresChannelName, NamesOver63BytesBecomeTheirSha1InLowercaseHex) {
  // Computed independently (python3 hashlib.sha1(b"a" * 64).hexdigest()).
  EXPECT_EQ(channel_identifier(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

TEST(PostgresChannelName, PrefixIsAppliedBeforeHashingAsInProtocolDoc65) {
  // protocol.md §6.5: SHA1("myapp_production:" + "x"*60) = 7250b3b0...
  EXPECT_EQ(channel_for("myapp_production", std::string(60, 'x')),
            "7250b3b09450850d5c8c07999c497e21d3b59ba4");
  // Without the prefix the same 60 characters fit and are kept.
  EXPECT_EQ(channel_for("", std::string(60, 'x')), std::string(60, 'x'));
}

TEST(PostgresChannelName, TheLimitCountsBytesNotCharacters) {
  // 32 "é" are 32 characters but 64 UTF-8 bytes: hashed (Rails main / 8.0-stable rule).
  std::string name;
  for (int i = 0; i < 32; ++i) name += "\xc3\xa9";
  ASSERT_EQ(name.size(), 64u);
  EXPECT_EQ(channel_identifier(name), "90d16168fcca2364659ff956782d01245cdb3d80");
  // 31 of them are 62 bytes: kept.
  std::string shorter = name.substr(0, 62);
  EXPECT_EQ(channel_identifier(shorter), shorter);
}

TEST(PostgresChannelName, HashedNamesAre40HexDigits) {
  for (std::size_t length : {64u, 100u, 1000u}) {
    std::string id = channel_identifier(std::string(length, 'z'));
    ASSERT_EQ(id.size(), 40u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
}

TEST(PostgresChannelName, QuoteIdentifierMatchesPgEscapeIdentifier) {
  EXPECT_EQ(quote_identifier("chat_1"), "\"chat_1\"");
  EXPECT_EQ(quote_identifier("my:App"), "\"my:App\"");  // case and colons survive quoted
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_identifier("\"\""), "\"\"\"\"\"\"");
  EXPECT_EQ(quote_identifier("x'; DROP TABLE t; --"), "\"x'; DROP TABLE t; --\"");
}

}  // namespace
}  // namespace cablecast::pubsub::postgres
