// The protocol error category: every value has its own readable message for log lines.
#include "protocol/errors.hpp"

#include <gtest/gtest.h>

#include <boost/system/result.hpp>
#include <set>
#include <string>

namespace cablecast::protocol {
namespace {

TEST(ProtocolErrorCategory, IsNamedCablecastProtocol) {
  EXPECT_STREQ(error_category().name(), "cablecast.protocol");
}

TEST(ProtocolErrorCategory, GivesEveryValueADistinctMessage) {
  std::set<std::string> messages;
  for (int value = static_cast<int>(Error::malformed_json);
       value <= static_cast<int>(Error::over_limit); ++value) {
    const auto message = make_error_code(static_cast<Error>(value)).message();
    EXPECT_FALSE(message.empty()) << value;
    EXPECT_EQ(message.find("unknown"), std::string::npos) << value << ": " << message;
    messages.insert(message);
  }
  EXPECT_EQ(messages.size(), static_cast<std::size_t>(Error::over_limit));
}

TEST(ProtocolErrorCategory, NamesValuesOutsideTheEnum) {
  EXPECT_EQ(error_category().message(99), "unknown protocol error 99");
}

TEST(ProtocolErrorCategory, ConvertsEnumValuesImplicitlyIntoResults) {
  const boost::system::result<int> failed = Error::too_deep;
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(), make_error_code(Error::too_deep));
  EXPECT_EQ(failed.error().message(), "JSON nested deeper than the server accepts");
  EXPECT_TRUE(failed.error().failed());
}

}  // namespace
}  // namespace cablecast::protocol
