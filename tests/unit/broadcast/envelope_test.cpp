#include "broadcast/envelope.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace cablecast::broadcast {
namespace {

Publication publication(std::string message, Meta meta = {}) {
  return Publication{"s", std::move(message), std::move(meta)};
}

TEST(Envelope, APublicationWithoutMetaTravelsAsItsMessageAlone) {
  EXPECT_EQ(to_wire(publication(R"({"a":1})")), R"({"a":1})");
}

TEST(Envelope, MetaTravelsInWhitespaceBeforeTheMessage) {
  Meta meta;
  meta.exclude_socket = "sid-1";
  std::string wire = to_wire(publication(R"({"a":1})", meta));
  EXPECT_TRUE(is_wrapped(wire));
  EXPECT_EQ(wire, envelope_prefix(R"({"exclude_socket":"sid-1"})") + R"({"a":1})");
  // '{' is 0x7B = 1323 in base 4: tab, CR, newline, CR.
  EXPECT_EQ(envelope_prefix("{"), std::string("\t\r\t\r") + "\t\r\n\r" + "    ");
  EXPECT_FALSE(is_wrapped(R"({"a":1})"));
  EXPECT_FALSE(is_wrapped(""));
  EXPECT_FALSE(is_wrapped(" \t{}")) << "other leading whitespace is not an envelope";
}

TEST(Envelope, AnEnvelopeIsStillTheMessageToAJsonParserSuchAsRails) {
  Meta meta;
  meta.exclude_socket = "sid";
  meta.broadcast_type = "presence";
  meta.transient = true;
  meta.offset = 42;
  meta.epoch = "ep0ch";
  std::string wire = wrap(meta, R"({"text":"hi","n":[1,2]})");
  boost::system::error_code ec;
  auto value = boost::json::parse(wire, ec);
  ASSERT_FALSE(ec) << "only JSON whitespace precedes the message";
  EXPECT_EQ(value, boost::json::parse(R"({"text":"hi","n":[1,2]})"));
  auto unwrapped = unwrap(wire);
  ASSERT_TRUE(unwrapped);
  EXPECT_TRUE(unwrapped->meta.transient);
  EXPECT_EQ(unwrapped->meta.offset, 42u);
  EXPECT_EQ(unwrapped->meta.epoch, "ep0ch");
}

TEST(Envelope, TransientMetaTravelsToo) {
  Meta transient;
  transient.transient = true;
  EXPECT_TRUE(is_wrapped(to_wire(publication("1", transient))))
      << "a receiving node's history must skip it";
}

TEST(Envelope, UnwrapGivesBackTheMetaAndTheMessage) {
  Meta meta;
  meta.exclude_socket = "x\ny\"";
  meta.broadcast_type = "presence";
  std::string message = "{\"text\":\"two\\nlines\"}";
  std::string wire = wrap(meta, message);
  auto unwrapped = unwrap(wire);
  ASSERT_TRUE(unwrapped) << unwrapped.error().message();
  EXPECT_EQ(unwrapped->meta.exclude_socket, meta.exclude_socket);
  EXPECT_EQ(unwrapped->meta.broadcast_type, "presence");
  EXPECT_EQ(unwrapped->message, message);
}

TEST(Envelope, UnwrapIgnoresMetaKeysItDoesNotKnow) {
  // The message is a view into the payload: the payload must outlive it.
  const std::string wire = envelope_prefix(R"({"broadcast_type":"t","later":{"x":1}})") + "5";
  auto unwrapped = unwrap(wire);
  ASSERT_TRUE(unwrapped);
  EXPECT_EQ(unwrapped->meta.broadcast_type, "t");
  EXPECT_EQ(unwrapped->message, "5");
}

TEST(Envelope, UnwrapRefusesBrokenEnvelopes) {
  EXPECT_FALSE(unwrap("{\"a\":1}"));
  std::string unended = envelope_prefix(R"({"exclude_socket":"s"})");
  unended.resize(unended.size() - 4);
  EXPECT_FALSE(unwrap(unended + "1"));                                // no end of meta
  EXPECT_FALSE(unwrap(std::string(kEnvelopeMark) + "\t\tx\t    1"));  // not a digit
  EXPECT_FALSE(unwrap(envelope_prefix("{oops}") + "1"));
  EXPECT_EQ(unwrap(envelope_prefix("[1]") + "1").error(), Error::meta_not_object);
  EXPECT_EQ(unwrap(envelope_prefix(R"({"exclude_socket":2})") + "1").error(),
            Error::exclude_socket_not_string);
  EXPECT_EQ(unwrap(envelope_prefix(R"({"broadcast_type":false})") + "1").error(),
            Error::broadcast_type_not_string);
}

}  // namespace
}  // namespace cablecast::broadcast
