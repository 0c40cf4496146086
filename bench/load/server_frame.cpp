#include "server_frame.hpp"

#include <cstring>

namespace cablecast::bench {
namespace {

using Type = ServerFrame::Type;

Type type_named(std::string_view type) {
  if (type == "ping") return Type::ping;
  if (type == "welcome") return Type::welcome;
  if (type == "confirm_subscription") return Type::confirm;
  if (type == "reject_subscription") return Type::reject;
  if (type == "disconnect") return Type::disconnect;
  if (type == "confirm_history") return Type::confirm_history;
  if (type == "reject_history") return Type::reject_history;
  return Type::other;
}

// Reads the benchmark's own fields of a {"message":{…}} object; other keys are ignored.
bool read_message_fields(simdjson::dom::object message, ServerFrame& out) {
  for (auto [key, value] : message) {
    if (key == "action") {
      if (value.get_string().get(out.action)) return false;
    } else if (key == "seq") {
      if (value.get_int64().get(out.seq)) return false;
    } else if (key == "slot") {
      if (value.get_int64().get(out.slot)) return false;
    } else if (key == "t") {
      if (value.get_int64().get(out.sent_ns)) return false;
    }
  }
  return true;
}

}  // namespace

ServerFrame ServerFrameReader::read(std::string_view text) {
  // The DOM parser, not On Demand: the library dispatches it at run time to the CPU's best
  // kernel (AVX2 ...), while On Demand would be compiled for the generic target here.
  const std::size_t capacity = text.size() + simdjson::SIMDJSON_PADDING;
  if (padded_.size() < capacity) padded_.resize(capacity);
  std::memcpy(padded_.data(), text.data(), text.size());

  ServerFrame out;
  simdjson::dom::element doc;
  if (parser_.parse(padded_.data(), text.size(), false).get(doc)) return out;
  simdjson::dom::object object;
  if (doc.get_object().get(object)) return out;
  bool has_message_object = false;
  std::string_view type;
  for (auto [key, value] : object) {
    if (key == "type") {
      if (value.get_string().get(type)) return ServerFrame{};
    } else if (key == "message" && value.is_object()) {
      if (!read_message_fields(value.get_object().value_unsafe(), out)) return ServerFrame{};
      has_message_object = true;
    } else if (key == "offset") {
      if (value.get_int64().get(out.offset)) return ServerFrame{};
    } else if (key == "epoch") {
      if (value.get_string().get(out.epoch)) return ServerFrame{};
    } else if (key == "stream_id") {
      if (value.get_string().get(out.stream_id)) return ServerFrame{};
    } else if (key == "sid") {
      if (value.get_string().get(out.sid)) return ServerFrame{};
    } else if (key == "restored") {
      if (value.get_bool().get(out.restored)) return ServerFrame{};
    }
  }
  if (!type.empty()) {
    out.type = type_named(type);
  } else {
    out.type = has_message_object ? Type::message : Type::other;
  }
  return out;
}

}  // namespace cablecast::bench
