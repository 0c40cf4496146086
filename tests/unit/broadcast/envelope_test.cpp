#include "broadcast/envelope.hpp"

#include <gtest/gtest.h>

namespace cablecast::broadcast {
namespace {

Publication publication(std::string message, Meta meta = {}) {
  return Publication{"s", std::move(message), std::move(meta)};
}

TEST(Envelope, APublicationWithoutDeliveryMetaTravelsAsItsMessageAlone) {
  EXPECT_EQ(to_wire(publication(R"({"a":1})")), R"({"a":1})");
  Meta transient;
  transient.transient = true;
  EXPECT_EQ(to_wire(publication("1", transient)), "1") << "Rails nodes keep understanding it";
}

TEST(Envelope, MetaThatChangesDeliveryTravelsInAnEnvelopeNoJsonCanBeTakenFor) {
  Meta meta;
  meta.exclude_socket = "sid-1";
  std::string wire = to_wire(publication(R"({"a":1})", meta));
  EXPECT_TRUE(is_wrapped(wire));
  EXPECT_EQ(wire, "\x1E{\"exclude_socket\":\"sid-1\"}\n{\"a\":1}");
  EXPECT_FALSE(is_wrapped(R"({"a":1})"));
  EXPECT_FALSE(is_wrapped(""));
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
  auto unwrapped = unwrap("\x1E{\"broadcast_type\":\"t\",\"later\":{\"x\":1}}\n5");
  ASSERT_TRUE(unwrapped);
  EXPECT_EQ(unwrapped->meta.broadcast_type, "t");
  EXPECT_EQ(unwrapped->message, "5");
}

TEST(Envelope, UnwrapRefusesBrokenEnvelopes) {
  EXPECT_FALSE(unwrap("{\"a\":1}"));
  EXPECT_FALSE(unwrap("\x1E{\"exclude_socket\":\"s\"}"));  // no end of meta
  EXPECT_FALSE(unwrap("\x1E{oops}\n1"));
  EXPECT_EQ(unwrap("\x1E[1]\n1").error(), Error::meta_not_object);
  EXPECT_EQ(unwrap("\x1E{\"exclude_socket\":2}\n1").error(), Error::exclude_socket_not_string);
  EXPECT_EQ(unwrap("\x1E{\"broadcast_type\":false}\n1").error(), Error::broadcast_type_not_string);
}

}  // namespace
}  // namespace cablecast::broadcast
